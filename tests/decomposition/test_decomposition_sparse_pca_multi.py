"""Sparse PCA with several components (projection deflation), each certified against
enumeration of the supports on its deflated covariance."""

import itertools

import numpy as np
import pytest

from optml.decomposition import SparsePCA


def _data(n=40, p=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[:, 1] += 0.9 * X[:, 0]
    X[:, 3] += 0.7 * X[:, 2] - 0.5 * X[:, 4]
    return X


def _cov(X):
    Xc = X - X.mean(0)
    return Xc.T @ Xc / (X.shape[0] - 1)


def _best(S, k):
    return max(
        np.linalg.eigvalsh(S[np.ix_(sup, sup)])[-1]
        for sup in itertools.combinations(range(S.shape[0]), k)
    )


@pytest.mark.parametrize("k,seed", [(1, 0), (2, 1), (3, 2)])
def test_each_component_against_enumeration(k, seed):
    X = _data(seed=seed)
    m = SparsePCA(n_nonzero=k, n_components=3).fit(X)
    assert m.components_.shape == (3, X.shape[1]) and len(m.results_) == 3
    S = _cov(X)
    for h in range(3):
        best = _best(S, k)
        r = m.results_[h]
        assert r.status == "optimal" and r.verified
        assert r.objective == pytest.approx(best, rel=1e-8)
        assert r.bound >= best * (1 - 1e-8)
        v = m.components_[h]
        assert np.count_nonzero(v) <= k and np.linalg.norm(v) == pytest.approx(1.0)
        assert v @ S @ v == pytest.approx(best, rel=1e-8)
        assert m.explained_variance_[h] == pytest.approx(best, rel=1e-8)
        assert set(m.supports_[h]) == set(np.flatnonzero(v))
        P = np.eye(len(v)) - np.outer(v, v)
        S = P @ S @ P  # projection deflation (Mackey 2009)


def test_all_features_gives_pca():
    X = _data(seed=3)
    m = SparsePCA(n_nonzero=X.shape[1], n_components=3).fit(X)
    w, V = np.linalg.eigh(_cov(X))
    np.testing.assert_allclose(m.explained_variance_, w[::-1][:3], rtol=1e-8)
    np.testing.assert_allclose(np.abs(m.components_ @ V[:, ::-1][:, :3]), np.eye(3), atol=1e-6)
    assert m.transform(X).shape == (X.shape[0], 3)


def test_one_component_unchanged_and_bad_input():
    X = _data(seed=4)
    a = SparsePCA(n_nonzero=2).fit(X)
    assert a.components_.shape == (1, X.shape[1]) and len(a.results_) == 1
    with pytest.raises(ValueError, match="n_components"):
        SparsePCA(n_components=0).fit(X)
