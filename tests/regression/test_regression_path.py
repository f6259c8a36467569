"""lasso_path against scikit-learn's lasso_path / enet_path on the same objective."""

import numpy as np
import pytest
from sklearn.linear_model import enet_path
from sklearn.linear_model import lasso_path as sk_lasso_path

from optml.regression import Lasso, lasso_path


def _data(n=150, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, :3] @ np.array([2.0, -1.0, 0.5]) + rng.standard_normal(n)
    return X, y


def _obj(X, y, w, a, r=1.0):
    n = len(y)
    return ((y - X @ w) ** 2).sum() / (2 * n) + a * r * np.abs(w).sum() + 0.5 * a * (1 - r) * w @ w


@pytest.mark.parametrize("screening", [True, False])
def test_lasso_path_matches_sklearn(screening):
    X, y = _data()
    alphas, coefs, gaps = lasso_path(X, y, n_alphas=20, screening=screening)
    assert np.all(np.diff(alphas) < 0) and coefs.shape == (12, 20)
    a2, c2, _ = sk_lasso_path(X, y, alphas=alphas, tol=1e-12, max_iter=100000)
    for i, a in enumerate(alphas):
        f, f2 = _obj(X, y, coefs[:, i], a), _obj(X, y, c2[:, i], a)
        assert abs(f - f2) <= 1e-6 * max(1.0, f2)
    np.testing.assert_allclose(coefs, c2, atol=1e-5)
    assert (gaps <= 1e-6).all()
    assert np.all(coefs[:, 0] == 0)  # alpha_max switches every feature off


def test_enet_path_and_intercept():
    X, y = _data(seed=1)
    alphas, coefs, _ = lasso_path(X, y, n_alphas=8, l1_ratio=0.5)
    _, c2, _ = enet_path(X, y, l1_ratio=0.5, alphas=alphas, tol=1e-12, max_iter=100000)
    for i, a in enumerate(alphas):
        assert _obj(X, y, coefs[:, i], a, 0.5) == pytest.approx(
            _obj(X, y, c2[:, i], a, 0.5), rel=1e-6
        )
    # fit_intercept=True is the path of Lasso(fit_intercept=True)
    y2 = y + 5.0
    alphas, coefs, _ = lasso_path(X, y2, alphas=[0.3, 0.05], fit_intercept=True)
    for i, a in enumerate(alphas):
        np.testing.assert_allclose(coefs[:, i], Lasso(alpha=a).fit(X, y2).coef_, atol=1e-6)


def test_positive_path():
    X, y = _data(seed=2)
    alphas, coefs, _ = lasso_path(X, y, n_alphas=6, positive=True)
    assert (coefs >= -1e-10).all()
    _, c2, _ = sk_lasso_path(X, y, alphas=alphas, positive=True, tol=1e-12, max_iter=100000)
    np.testing.assert_allclose(coefs, c2, atol=1e-5)
