"""PLS regression against scikit-learn; sparse PLS against enumeration of the supports."""

import itertools

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression as SkPLS

from optml.decomposition import PLSRegression, SparsePLS

ATTRS = (
    "x_weights_",
    "y_weights_",
    "x_loadings_",
    "y_loadings_",
    "x_scores_",
    "y_scores_",
    "x_rotations_",
    "y_rotations_",
    "coef_",
    "intercept_",
)


def _data(n=40, p=6, q=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[:, 1] += X[:, 0]  # correlated features
    Y = X @ rng.normal(size=(p, q)) + 0.5 * rng.normal(size=(n, q))
    return X, Y


@pytest.mark.parametrize("q", [1, 2])
@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_pls_matches_sklearn(q, scale, seed):
    X, Y = _data(q=q, seed=seed)
    y = Y[:, 0] if q == 1 else Y
    sk = SkPLS(3, scale=scale, tol=1e-15, max_iter=100000).fit(X, y)
    m = PLSRegression(3, scale=scale).fit(X, y)
    for a in ATTRS:
        np.testing.assert_allclose(getattr(m, a), getattr(sk, a), atol=1e-6, err_msg=a)
    np.testing.assert_allclose(m.predict(X), sk.predict(X), atol=1e-6)
    np.testing.assert_allclose(m.transform(X), sk.transform(X), atol=1e-6)
    assert m.predict(X).shape == sk.predict(X).shape
    for r in m.results_:
        assert r.status == "optimal" and r.verified and r.bound >= r.objective - 1e-9


def test_component_is_the_max_covariance():
    # each component's objective is the squared covariance ||Y_h' X_h u||^2 of its deflated
    # data, and no unit vector does better (random directions)
    X, Y = _data(seed=3)
    m = PLSRegression(2, scale=False).fit(X, Y)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    u = m.x_weights_[:, 0]
    assert m.results_[0].objective == pytest.approx(np.sum((Yc.T @ Xc @ u) ** 2), rel=1e-10)
    rng = np.random.default_rng(0)
    V = rng.normal(size=(500, X.shape[1]))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    assert np.max(np.sum((V @ Xc.T @ Yc) ** 2, axis=1)) <= m.results_[0].objective + 1e-9


def _best_sparse(S, k):
    best = -np.inf
    for sup in itertools.combinations(range(S.shape[0]), k):
        best = max(best, np.linalg.eigvalsh(S[np.ix_(sup, sup)])[-1])
    return best


@pytest.mark.parametrize("k", [1, 2, 3])
def test_sparse_pls_against_enumeration(k):
    X, Y = _data(30, 7, 2, seed=4)
    m = SparsePLS(n_components=2, n_nonzero=k).fit(X, Y)
    Xk = (X - X.mean(0)) / X.std(0, ddof=1)
    Yk = (Y - Y.mean(0)) / Y.std(0, ddof=1)
    for h in range(2):
        M = Xk.T @ Yk
        best = _best_sparse(M @ M.T, k)
        r = m.results_[h]
        assert r.status == "optimal" and r.verified
        assert r.objective == pytest.approx(best, rel=1e-8)
        assert r.bound >= best - 1e-8 * best
        assert np.count_nonzero(m.x_weights_[:, h]) <= k
        # deflate as the estimator does, with the weights it found
        t = Xk @ m.x_weights_[:, h]
        Xk = Xk - np.outer(t, Xk.T @ t / (t @ t))
        Yk = Yk - np.outer(t, Yk.T @ t / (t @ t))
    assert np.isfinite(m.predict(X)).all()


def test_sparse_pls_with_every_feature_is_pls():
    X, Y = _data(seed=5)
    a = SparsePLS(2, n_nonzero=X.shape[1]).fit(X, Y)
    b = PLSRegression(2).fit(X, Y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-10)


def test_program_and_bad_input():
    X, Y = _data()
    m = PLSRegression(1).fit(X, Y)
    val, viol = m.program_.evaluate(m.result_.values)
    assert val == pytest.approx(m.result_.objective, rel=1e-10) and viol <= 1e-9
    with pytest.raises(ValueError, match="n_components"):
        PLSRegression(10).fit(X[:5], Y[:5])
    with pytest.raises(ValueError, match="samples"):
        PLSRegression(1).fit(X, Y[:-1])
    with pytest.raises(ValueError, match="n_nonzero"):
        SparsePLS(n_nonzero=0).fit(X, Y)
