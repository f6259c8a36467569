"""binarize / Thresholds: every split is one column, transform reproduces the matrix."""

from __future__ import annotations

import numpy as np
import pytest

from optml import data


def _random_X(seed=0, n=40):
    rng = np.random.default_rng(seed)
    return np.c_[
        rng.integers(0, 5, n),  # few distinct values
        rng.normal(size=n),  # all distinct
        np.full(n, 3.0),  # constant
        rng.choice([0.1, 0.2, 0.3], n),
    ]


def test_all_thresholds_are_the_midpoints_and_transform_reproduces():
    X = _random_X()
    Xb, th = data.binarize(X, thresholds="all")
    n_distinct = [np.unique(X[:, j]).size for j in range(X.shape[1])]
    assert Xb.shape == (40, sum(m - 1 for m in n_distinct)) and len(th) == Xb.shape[1]
    assert 2 not in th.features.tolist()  # constant column: no threshold
    for j in range(X.shape[1]):
        u = np.unique(X[:, j])
        np.testing.assert_allclose(th.for_feature(j), (u[:-1] + u[1:]) / 2)
    # brute force: column c is 1[x_f <= t] for each row
    for c, (f, t) in enumerate(th):
        assert all(Xb[i, c] == (1.0 if X[i, f] <= t else 0.0) for i in range(X.shape[0]))
    np.testing.assert_array_equal(th.transform(X), Xb)
    # on new data too, including values outside the training range
    Xnew = _random_X(seed=5, n=17) * 1.7 - 0.3
    np.testing.assert_array_equal(th.transform(Xnew), (Xnew[:, th.features] <= th.values) * 1.0)


def test_every_split_of_the_data_is_one_column():
    X = _random_X(seed=3)
    Xb, th = data.binarize(X)
    cols = {tuple(Xb[:, c]) for c in range(Xb.shape[1])}
    for j in range(X.shape[1]):
        u = np.unique(X[:, j])
        for v in u[:-1]:  # every non-trivial split "x_j <= v" of the sample
            assert tuple((X[:, j] <= v).astype(float)) in cols


@pytest.mark.parametrize("q", [2, 3, 4, 10, 100])
def test_quantile_thresholds_are_a_subset_of_all(q):
    X = _random_X(seed=1, n=200)
    _, th_all = data.binarize(X)
    Xb, th = data.binarize(X, thresholds=q)
    all_pairs = set(th_all.to_list())
    assert set(th.to_list()) <= all_pairs
    for j in range(X.shape[1]):
        t = th.for_feature(j)
        assert t.size <= min(q - 1, np.unique(X[:, j]).size - 1)
        assert (np.diff(t) > 0).all()
    np.testing.assert_array_equal(th.transform(X), Xb)


def test_quantile_thresholds_split_near_the_quantiles():
    x = np.arange(1000.0)[:, None]
    _, th = data.binarize(x, thresholds=4)
    np.testing.assert_allclose(th.values, [249.5, 499.5, 749.5])
    Xb, _ = data.binarize(x, thresholds=4)
    np.testing.assert_array_equal(Xb.sum(axis=0), [250, 500, 750])


def test_names_feature_names_dataframe_and_dtype():
    X = np.array([[1.0, 0.5], [2.0, 0.25], [4.0, 0.5]])
    Xb, th = data.binarize(X)
    assert th.names == ["x0 <= 1.5", "x0 <= 3", "x1 <= 0.375"]
    assert th.name(1, negate=True) == "x0 > 3"
    assert th[2] == (1, 0.375) and repr(th) == "Thresholds(3 thresholds on 2 features)"
    _, th = data.binarize(X, feature_names=["age", "dose"])
    assert th.names[-1] == "dose <= 0.375"
    pd = pytest.importorskip("pandas")
    Xb2, th2 = data.binarize(pd.DataFrame(X, columns=["a", "b"]), dtype=np.uint8)
    assert th2.names == ["a <= 1.5", "a <= 3", "b <= 0.375"]
    assert Xb2.dtype == np.uint8 and (Xb2 == Xb).all()
    ds = data.load("iris")
    _, th3 = data.binarize(ds.X, thresholds=3, feature_names=ds.feature_names)
    assert th3.names[0].startswith("sepal length (cm) <= ")


def test_close_values_keep_a_strict_threshold():
    a = 1.0
    b = np.nextafter(a, 2.0)
    Xb, th = data.binarize(np.array([[a], [b]]))
    assert Xb[:, 0].tolist() == [1.0, 0.0] and a <= th.values[0] < b


def test_all_constant_gives_no_columns():
    Xb, th = data.binarize(np.ones((5, 3)))
    assert Xb.shape == (5, 0) and len(th) == 0 and th.names == []
    assert th.transform(np.zeros((2, 3))).shape == (2, 0)


def test_bad_inputs():
    X = np.array([[1.0, 2.0], [np.nan, 1.0]])
    with pytest.raises(ValueError, match=r"non-finite value \(nan\) at row 1, column 0"):
        data.binarize(X)
    with pytest.raises(ValueError, match="must be 2-D"):
        data.binarize(np.arange(3.0))
    with pytest.raises(ValueError, match="no rows"):
        data.binarize(np.empty((0, 2)))
    with pytest.raises(ValueError, match=">= 2"):
        data.binarize(np.eye(3), thresholds=1)
    with pytest.raises(ValueError, match='"all"'):
        data.binarize(np.eye(3), thresholds="median")
    with pytest.raises(TypeError):
        data.binarize(np.eye(3), thresholds=2.5)
    with pytest.raises(ValueError, match="numeric"):
        data.binarize([["a", "b"]])
    _, th = data.binarize(np.eye(3))
    with pytest.raises(ValueError, match="X has 2 features, but these thresholds were built for 3"):
        th.transform(np.eye(2))
