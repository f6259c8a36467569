"""SparsePCA against enumeration of all supports; PCA-as-SDP against the eigendecomposition."""

import itertools

import numpy as np
import pytest

from optml.decomposition import PCA, SparsePCA


def best_support(S, k):
    return max(
        np.linalg.eigvalsh(S[np.ix_(c, c)])[-1]
        for c in map(list, itertools.combinations(range(S.shape[0]), k))
    )


def data(seed, n=40, p=8):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, p)) @ rng.normal(size=(p, p))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_sparse_pca_exact_equals_enumeration(seed, k):
    X = data(seed, p=9)
    m = SparsePCA(n_nonzero=k).fit(X)
    S = np.cov(X.T)
    assert m.result_.status == "optimal"
    assert m.explained_variance_[0] == pytest.approx(best_support(S, k), rel=1e-9)
    assert (m.components_ != 0).sum() <= k
    assert np.linalg.norm(m.components_) == pytest.approx(1.0)
    v = m.components_[0]
    assert v @ S @ v == pytest.approx(m.explained_variance_[0])


def test_sparse_pca_sdp_bound_is_valid():
    pytest.importorskip("cvxpy")
    X = data(5, p=6)
    S = np.cov(X.T)
    m = SparsePCA(n_nonzero=2, method="sdp").fit(X)
    opt = best_support(S, 2)
    assert m.result_.bound >= opt * (1 - 1e-5)
    assert m.explained_variance_[0] <= opt * (1 + 1e-9)


def test_pca_sdp_agrees_with_eigh():
    pytest.importorskip("cvxpy")
    X = data(1, p=5)
    m = PCA(n_components=2).fit(X)
    w, V = np.linalg.eigh(np.cov(X.T))
    assert m.explained_variance_ == pytest.approx(w[::-1][:2], rel=1e-4)
    assert np.abs(m.components_ @ V[:, ::-1][:, :2]).diagonal() == pytest.approx(1, abs=1e-3)


@pytest.mark.parametrize(
    "kw, err",
    [
        ({"n_nonzero": 0}, "n_nonzero"),
        ({"n_nonzero": 99}, "n_nonzero"),
        ({"method": "x"}, "method"),
    ],
)
def test_sparse_pca_bad_input(kw, err):
    with pytest.raises(ValueError, match=err):
        SparsePCA(**kw).fit(data(0, p=4))
    with pytest.raises(ValueError, match="NaN"):
        SparsePCA().fit(np.array([[np.nan, 1.0], [1.0, 2.0]]))


def test_pca_components_sorted_like_sklearn():
    """R8: the Fantope SDP's eigenvalues are all ~1 on the subspace; the components come back
    ordered by explained variance, as scikit-learn's."""
    pytest.importorskip("cvxpy")
    from sklearn.decomposition import PCA as SKPCA
    from sklearn.preprocessing import StandardScaler

    from optml.data import load

    X = StandardScaler().fit_transform(load("iris").X)
    ours = PCA(n_components=3).fit(X)
    ref = SKPCA(n_components=3).fit(X)
    assert ours.explained_variance_ == pytest.approx(ref.explained_variance_, rel=1e-4)
    assert (np.diff(ours.explained_variance_) < 0).all()
    cos = np.abs((ours.components_ * ref.components_).sum(axis=1))
    assert cos == pytest.approx(1, abs=1e-3)
