"""Progress bars on the regularisation paths: tqdm, quiet unless asked or on a terminal."""

import numpy as np
import pytest

from optml.regression import best_subset_path, lasso_path


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 5))
    y = X[:, 0] - 2 * X[:, 2] + 0.3 * rng.standard_normal(40)
    return X, y


@pytest.mark.parametrize("method", ["active_set", "program"])
def test_lasso_path_progress_bar_only_when_asked(data, capsys, method):
    X, y = data
    quiet = lasso_path(X, y, n_alphas=6, method=method)
    assert capsys.readouterr().err == ""  # captured stderr is not a terminal: no bar
    shown = lasso_path(X, y, n_alphas=6, method=method, progress=True)
    err = capsys.readouterr().err
    assert "lasso_path" in err and "/6 " in err
    for a, b in zip(quiet, shown, strict=True):
        np.testing.assert_array_equal(a, b)
    lasso_path(X, y, n_alphas=6, method=method, progress=False)
    assert capsys.readouterr().err == ""


def test_best_subset_path_progress_bar(data, capsys):
    X, y = data
    out = best_subset_path(X, y, k_max=3, progress=True)
    err = capsys.readouterr().err
    assert "best_subset_path" in err and "/3 " in err
    assert list(out["k"]) == [1, 2, 3]
    assert set(out["statuses"]) == {"optimal"}
    best_subset_path(X, y, k_max=2)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("bad", ["yes", 1, 0.5])
def test_progress_must_be_none_or_bool(data, bad):
    X, y = data
    with pytest.raises(TypeError, match="progress must be None"):
        lasso_path(X, y, n_alphas=3, progress=bad)
    with pytest.raises(TypeError, match="progress must be None"):
        best_subset_path(X, y, k_max=1, progress=bad)
