"""The Huber special solver "huber-newton": scikit-learn's HuberRegressor objective, the SOCP
of a general solver, certificates valid (the dual bound below every optimum), finite gap at a
time limit."""

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.linear_model import HuberRegressor

from optml.algorithms.huber_newton import huber_dual_bound, huber_newton
from optml.formulations.regression import HuberProblem, huber_objective
from optml.regression import HuberRegression
from optml.solve import SolveSettings, solve


def _data(n, p, seed, n_out=10):
    X, y = make_regression(n, p, noise=2.0, random_state=seed)
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, n_out, replace=False)
    y[idx] += rng.normal(0, 100, n_out)
    return X, y


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("alpha,fit_intercept", [(0.0, True), (1e-4, True), (1.0, False)])
def test_agrees_with_general_socp(seed, alpha, fit_intercept):
    X, y = _data(60, 4, seed)
    res = solve(HuberProblem(X, y, 1.35, alpha, fit_intercept))
    assert res.solver == "huber-newton" and res.status == "optimal" and res.verified
    assert res.gap <= 1e-6 and res.bound <= res.objective
    ref = solve(HuberProblem(X, y, 1.35, alpha, fit_intercept).program, "cvxpy", "clarabel")
    assert ref.status == "optimal"
    scale = max(1.0, abs(ref.objective))
    assert res.objective <= ref.objective + 1e-6 * scale
    assert res.bound <= ref.objective + 1e-7 * scale


@pytest.mark.parametrize("alpha", [0.0, 1e-4, 0.5])
def test_matches_sklearn_huber_regressor(alpha):
    X, y = _data(300, 5, 11, n_out=30)
    m = HuberRegression(alpha=alpha).fit(X, y)
    sk = HuberRegressor(alpha=alpha, epsilon=1.35, max_iter=5000, tol=1e-10).fit(X, y)
    f_sk = huber_objective(X, y, sk.coef_, sk.intercept_, sk.scale_, 1.35, alpha)
    assert m.result_.solver == "huber-newton"
    assert m.objective_ <= f_sk + 1e-7 * abs(f_sk)
    assert m.objective_ == pytest.approx(f_sk, rel=1e-6)
    np.testing.assert_allclose(m.coef_, sk.coef_, rtol=1e-3, atol=1e-3)
    assert m.scale_ == pytest.approx(sk.scale_, rel=1e-3)
    # the program formed afterwards checks the same point
    assert m.program_.evaluate(m.result_.values)[0] == pytest.approx(m.objective_, rel=1e-9)


def test_dual_bound_valid_at_any_point():
    X, y = _data(50, 3, 4)
    ref = solve(HuberProblem(X, y, 1.35, 1e-3).program, "cvxpy", "clarabel")
    rng = np.random.default_rng(0)
    for _ in range(20):
        w = rng.normal(size=3) * 30
        b, sigma = rng.normal() * 5, rng.uniform(0.1, 20)
        assert huber_dual_bound(X, y, w, b, sigma, 1.35, 1e-3) <= ref.objective + 1e-6


def test_time_limit_gives_finite_gap():
    X, y = _data(2000, 10, 2, n_out=100)
    w, b, sigma, info = huber_newton(X, y, 1.35, 0.0, deadline=0.0)
    assert info["timed_out"] and sigma > 0
    res = solve(HuberProblem(X, y, 1.35, 0.0), settings=SolveSettings(time_limit=1e-6))
    assert res.status in ("time_limit", "optimal") and np.isfinite(res.gap)


def test_general_route_stays_selectable():
    X, y = _data(40, 3, 5)
    a = HuberRegression().fit(X, y)
    b = HuberRegression(solver="clarabel").fit(X, y)
    assert b.result_.solver == "clarabel"
    assert a.objective_ == pytest.approx(b.objective_, rel=1e-5)
