"""The lazy Gram route of best subset (issue 19): X'X never formed, products with X_c.

Forced on small instances by a zero byte budget (``GRAM_LAZY_BYTES``), it must give the fit and
certificate of the formed-Gram route, and the optimum that enumeration finds.
"""

from itertools import combinations

import numpy as np
import pytest

import optml.formulations.regression as reg
from optml.data import make_sparse_regression
from optml.regression import BestSubsetRegression


@pytest.fixture
def lazy(monkeypatch):
    monkeypatch.setattr(reg, "GRAM_LAZY_BYTES", 0)


def _data(n, p, seed=0):
    X, y, _ = make_sparse_regression(n=n, p=p, k=3, rho=0.35, snr=3.0, random_state=seed)
    return X, y


def test_lazy_gram_matches_formed_gram():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((15, 9)) + 3.0
    y = rng.standard_normal(15)
    g = reg.gram_data(X, y)
    lg = reg.lazy_gram_data(X, y)
    L = lg.G
    assert isinstance(L, reg.LazyGram)
    np.testing.assert_allclose(lg.c, g.c, atol=1e-10)
    assert lg.yy == pytest.approx(g.yy)
    v = rng.standard_normal(9)
    np.testing.assert_allclose(L @ v, g.G @ v, atol=1e-9)
    np.testing.assert_allclose(v @ L, v @ g.G, atol=1e-9)
    assert v @ L @ v == pytest.approx(v @ g.G @ v)
    S, T = np.array([4, 1, 4]), np.array([0, 7])
    np.testing.assert_allclose(L[S], g.G[S], atol=1e-9)
    np.testing.assert_allclose(L[[2, 3]], g.G[[2, 3]], atol=1e-9)
    np.testing.assert_allclose(L[np.ix_(S, T)], g.G[np.ix_(S, T)], atol=1e-9)
    np.testing.assert_allclose(L.diagonal(), np.diag(g.G), atol=1e-9)
    np.testing.assert_allclose(L.eigvalsh(), np.linalg.eigvalsh(g.G), atol=1e-8)
    H = L.with_shift(0.5)
    Hf = g.G + 0.5 * np.eye(9)
    np.testing.assert_allclose(H[S], Hf[S], atol=1e-9)
    np.testing.assert_allclose(H[np.ix_(S, S)], Hf[np.ix_(S, S)], atol=1e-9)
    np.testing.assert_allclose(H @ v, Hf @ v, atol=1e-9)
    assert H.trace() == pytest.approx(np.trace(Hf))
    assert g.rss(v) == pytest.approx(lg.rss(v))
    with pytest.raises(TypeError, match="not formed"):
        np.asarray(L)
    with pytest.raises(ValueError, match="finite"):
        reg.lazy_gram_data(np.where(X > 4, np.nan, X), y)


@pytest.mark.parametrize(
    "n, p, kw",
    [
        # both slow since the lazy route runs the working-set search, tested against
        # enumeration by default in test_l0bnb_largep.py
        pytest.param(60, 12, dict(k=3), marks=pytest.mark.slow),  # alpha = 0, X'X nonsingular
        pytest.param(30, 40, dict(k=3, alpha=5.0), marks=pytest.mark.slow),  # p > n, ridge
        pytest.param(50, 30, dict(l0=2.0, alpha=0.1), marks=pytest.mark.slow),  # penalised
    ],
)
def test_lazy_route_same_fit_and_certificate(monkeypatch, n, p, kw):
    X, y = _data(n, p)
    ref = BestSubsetRegression(time_limit=20, **kw).fit(X, y)
    monkeypatch.setattr(reg, "GRAM_LAZY_BYTES", 0)
    m = BestSubsetRegression(time_limit=20, **kw).fit(X, y)
    assert m.result_.solver == ref.result_.solver == "l0-bnb"
    assert "lazy_gram_products" in m.result_.stats
    assert "lazy_gram_products" not in ref.result_.stats
    assert m.result_.status == ref.result_.status == "optimal"
    np.testing.assert_array_equal(m.support_, ref.support_)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-7, atol=1e-9)
    assert m.intercept_ == pytest.approx(ref.intercept_, rel=1e-8, abs=1e-9)
    assert m.result_.objective == pytest.approx(ref.result_.objective, rel=1e-9)
    assert m.result_.bound == pytest.approx(ref.result_.bound, rel=1e-6)
    assert m.result_.gap <= 1e-4


def test_lazy_route_against_enumeration(lazy):
    rng = np.random.default_rng(3)
    n, p, k, alpha = 25, 8, 3, 0.4
    X = rng.standard_normal((n, p))
    X[:, 1] += 0.8 * X[:, 0]  # correlated features
    y = X[:, [0, 2, 5]] @ np.array([1.0, -0.7, 0.5]) + 0.6 * rng.standard_normal(n)
    m = BestSubsetRegression(k=k, alpha=alpha, time_limit=20).fit(X, y)
    Xc, yc = X - X.mean(0), y - y.mean()
    best = np.inf
    for S in combinations(range(p), k):
        A = Xc[:, S]
        b = np.linalg.solve(A.T @ A + alpha * np.eye(k), A.T @ yc)
        best = min(best, float(np.sum((yc - A @ b) ** 2) + alpha * b @ b))
    assert m.result_.status == "optimal"
    assert m.result_.objective == pytest.approx(best, rel=1e-7)
    assert m.objective_ == pytest.approx(best, rel=1e-7)
    assert m.result_.bound <= best * (1 + 1e-9) + 1e-12
    assert m.result_.bound >= best * (1 - 1e-4)


def test_lazy_route_refuses_what_needs_the_matrix(lazy):
    X, y = _data(30, 12)
    with pytest.raises(ValueError, match="Gram matrix"):
        BestSubsetRegression(k=2, method="mip", time_limit=5).fit(X, y)
    with pytest.raises(ValueError, match="max_correlation"):
        BestSubsetRegression(k=2, max_correlation=0.9, time_limit=5).fit(X, y)
