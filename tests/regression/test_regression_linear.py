"""Least squares, ridge, lasso, elastic net: parity with scikit-learn on the same objective."""

import numpy as np
import pytest
import sklearn.linear_model as skl

from optml.formulations.regression import gram_data, least_squares_program
from optml.regression import ElasticNet, Lasso, LeastSquares, Ridge


def _data(n=120, p=8, seed=0, shift=3.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + shift
    w = rng.standard_normal(p)
    w[::3] = 0.0
    y = X @ w + 0.5 * rng.standard_normal(n) + 2.0
    return X, y


def lasso_obj(X, y, w, b, alpha):
    return ((y - X @ w - b) ** 2).sum() / (2 * len(y)) + alpha * np.abs(w).sum()


def enet_obj(X, y, w, b, alpha, r):
    return lasso_obj(X, y, w, b, alpha * r) + 0.5 * alpha * (1 - r) * w @ w


def ridge_obj(X, y, w, b, alpha):
    return ((y - X @ w - b) ** 2).sum() + alpha * w @ w


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(b))


@pytest.mark.parametrize("alpha", [0.001, 0.05, 0.5])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_lasso_matches_sklearn(alpha, fit_intercept):
    X, y = _data()
    m = Lasso(alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    s = skl.Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-12, max_iter=200000).fit(X, y)
    f_m = lasso_obj(X, y, m.coef_, m.intercept_, alpha)
    f_s = lasso_obj(X, y, s.coef_, s.intercept_, alpha)
    assert _rel(f_m, f_s) <= 1e-6
    assert _rel(m.objective_, f_m) <= 1e-9  # the program's objective is sklearn's objective
    np.testing.assert_allclose(m.coef_, s.coef_, atol=1e-5)
    assert m.intercept_ == pytest.approx(s.intercept_, abs=1e-4)
    assert m.result_.status == "optimal" and m.result_.gap <= 1e-6 and m.result_.verified


@pytest.mark.parametrize("alpha", [0.01, 1.0, 100.0])
def test_ridge_matches_sklearn(alpha):
    X, y = _data(seed=1)
    m = Ridge(alpha=alpha).fit(X, y)
    s = skl.Ridge(alpha=alpha).fit(X, y)
    assert (
        _rel(
            ridge_obj(X, y, m.coef_, m.intercept_, alpha),
            ridge_obj(X, y, s.coef_, s.intercept_, alpha),
        )
        <= 1e-6
    )
    np.testing.assert_allclose(m.coef_, s.coef_, atol=1e-6)
    assert m.intercept_ == pytest.approx(s.intercept_, abs=1e-5)


@pytest.mark.parametrize("l1_ratio", [0.0, 0.3, 1.0])
def test_elasticnet_matches_sklearn(l1_ratio):
    X, y = _data(seed=2)
    alpha = 0.05
    m = ElasticNet(alpha=alpha, l1_ratio=l1_ratio).fit(X, y)
    s = skl.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=200000).fit(X, y)
    f_m = enet_obj(X, y, m.coef_, m.intercept_, alpha, l1_ratio)
    f_s = enet_obj(X, y, s.coef_, s.intercept_, alpha, l1_ratio)
    assert _rel(f_m, f_s) <= 1e-6
    np.testing.assert_allclose(m.coef_, s.coef_, atol=1e-5)


def test_least_squares_and_positive_match_sklearn():
    X, y = _data(seed=3)
    m = LeastSquares().fit(X, y)
    s = skl.LinearRegression().fit(X, y)
    np.testing.assert_allclose(m.coef_, s.coef_, atol=1e-6)
    m = LeastSquares(positive=True).fit(X, y)
    s = skl.LinearRegression(positive=True).fit(X, y)
    np.testing.assert_allclose(m.coef_, s.coef_, atol=1e-5)
    assert (m.coef_ >= -1e-9).all()
    m = Lasso(alpha=0.02, positive=True).fit(X, y)
    s = skl.Lasso(alpha=0.02, positive=True, tol=1e-12, max_iter=200000).fit(X, y)
    np.testing.assert_allclose(m.coef_, s.coef_, atol=1e-5)


def test_coef_bounds_against_scipy():
    from scipy.optimize import lsq_linear

    X, y = _data(seed=4)
    lo, hi = -0.2, 0.3
    m = LeastSquares(coef_bounds=(lo, hi), fit_intercept=False).fit(X, y)
    ref = lsq_linear(X, y, bounds=(lo, hi), tol=1e-12, method="bvls")
    assert _rel(((y - X @ m.coef_) ** 2).sum(), ((y - X @ ref.x) ** 2).sum()) <= 1e-7
    np.testing.assert_allclose(m.coef_, ref.x, atol=1e-5)
    assert m.coef_.min() >= lo - 1e-9 and m.coef_.max() <= hi + 1e-9
    # array bounds, one side only
    ub = np.full(X.shape[1], np.inf)
    ub[0] = -0.1
    m = Ridge(alpha=1.0, coef_bounds=(None, ub)).fit(X, y)
    assert m.coef_[0] <= -0.1 + 1e-9


def test_gram_form_is_n_independent_and_matches_factor_form():
    X, y = _data(n=3000, p=6, seed=5)
    g = gram_data(X, y)
    prog = least_squares_program(g, scale=0.5 / len(y), l1=0.01)
    canon = prog.canonical()
    assert canon.n < 3 * X.shape[1] + 2  # p coefficients + p l1 epigraph columns, no n
    f1 = prog.solve().objective
    prog2 = least_squares_program(g, scale=0.5 / len(y), l1=0.01, form="factor")
    f2 = prog2.solve().objective
    assert _rel(f1, f2) <= 1e-7
    # and both equal the objective on the raw, un-centred data
    w = prog.solve().values["coef"]
    assert _rel(f1, lasso_obj(X, y, w, g.intercept(w), 0.01)) <= 1e-9


def test_gram_data_large_means_are_centred_explicitly():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((200, 3)) * 0.1 + 1e5  # huge means: X'X - n m m' would cancel
    y = X @ np.array([1.0, 2.0, 3.0]) + 0.01 * rng.standard_normal(200)
    g = gram_data(X, y)
    Xc = X - X.mean(axis=0)
    np.testing.assert_allclose(g.G, Xc.T @ Xc, rtol=1e-9)
    m = LeastSquares().fit(X, y)
    s = skl.LinearRegression().fit(X, y)
    np.testing.assert_allclose(m.coef_, s.coef_, rtol=1e-5)


def test_build_program_is_what_fit_solves():
    X, y = _data(seed=7)
    est = Lasso(alpha=0.1)
    prog = est.build_program(X, y)
    assert not hasattr(est, "coef_")  # building does not fit
    res = prog.solve()
    est.fit(X, y)
    assert res.objective == pytest.approx(est.result_.objective, rel=1e-9)
    # an OR user can add a side constraint and solve again
    w = prog.variables["coef"]
    prog.add(w.sum() <= 0.5, name="budget")
    res2 = prog.solve()
    assert res2.values["coef"].sum() <= 0.5 + 1e-7
    assert res2.objective >= res.objective - 1e-9


@pytest.mark.parametrize("backend,solver", [("cvxpy", "clarabel"), ("pyomo", "highs")])
def test_same_coefficients_through_other_backends(backend, solver):
    from optml.backends import available

    if not any(r["backend"] == backend and r["solver"] == solver for r in available()):
        pytest.skip(f"{backend}/{solver} is not installed")
    X, y = _data(seed=8)
    ref = Lasso(alpha=0.05).fit(X, y)
    m = Lasso(alpha=0.05, backend=backend, solver=solver).fit(X, y)
    assert m.result_.backend == backend
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-5)
    assert m.objective_ == pytest.approx(ref.objective_, rel=1e-6)
    r = Ridge(alpha=2.0, backend=backend, solver=solver).fit(X, y)
    np.testing.assert_allclose(r.coef_, Ridge(alpha=2.0).fit(X, y).coef_, atol=1e-5)
