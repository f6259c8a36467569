"""Kernel SupportVectorRegression: scikit-learn's SVR (predictions, support vectors, dual
objective), a general QP solve of the same dual, certificates, finite gap at a limit."""

import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.svm import SVR

from optml.formulations.regression import KernelSVRProblem
from optml.regression import SupportVectorRegression
from optml.solve import SolveSettings, solve


def _data(n, seed):
    X, y = make_friedman1(n, 5, noise=0.5, random_state=seed)
    return X, y


def _svr_dual(K, y, beta, asum, eps):
    return float(y @ beta - eps * asum - 0.5 * beta @ K @ beta)


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("kernel,C", [("rbf", 1.0), ("rbf", 10.0), ("poly", 0.5)])
def test_agrees_with_sklearn_svr(seed, kernel, C):
    X, y = _data(120, seed)
    kw = dict(kernel=kernel, C=C, epsilon=0.2, degree=2, coef0=1.0)
    m = SupportVectorRegression(**kw).fit(X, y)
    sk = SVR(tol=1e-8, **kw).fit(X, y)
    res = m.result_
    assert res.solver == "smo" and res.status == "optimal" and res.verified
    assert res.gap <= 1e-6 and res.bound >= res.objective  # a maximisation
    np.testing.assert_allclose(m.predict(X), sk.predict(X), atol=2e-3)
    assert set(m.support_) == set(sk.support_)
    # sklearn's dual point is no better than ours, and below our bound
    K = m.problem_.columns.block(np.arange(y.size))
    beta = np.zeros(y.size)
    beta[sk.support_] = sk.dual_coef_.ravel()
    d_sk = _svr_dual(K, y, beta, np.abs(beta).sum(), 0.2)
    assert d_sk <= res.bound + 1e-9 and d_sk <= res.objective + 1e-6 * abs(res.objective)


def test_agrees_with_general_qp_on_the_same_dual():
    X, y = _data(50, 3)
    res = solve(KernelSVRProblem(X, y, C=2.0, epsilon=0.1, kernel="rbf", gamma=0.5))
    ref = solve(
        KernelSVRProblem(X, y, C=2.0, epsilon=0.1, kernel="rbf", gamma=0.5).program,
        backend="cvxpy",
        solver="clarabel",
    )
    assert ref.status == "optimal"
    tol = 1e-6 * max(1.0, abs(ref.objective))
    assert abs(res.objective - ref.objective) <= 2 * tol
    assert res.bound >= ref.objective - tol


def test_general_route_selectable():
    X, y = _data(60, 4)
    a = SupportVectorRegression(kernel="rbf", C=3.0).fit(X, y)
    b = SupportVectorRegression(kernel="rbf", C=3.0, solver="clarabel").fit(X, y)
    assert b.result_.solver == "clarabel"
    assert a.result_.objective == pytest.approx(b.result_.objective, rel=1e-5)
    np.testing.assert_allclose(a.predict(X), b.predict(X), atol=1e-3)


def test_sigmoid_and_linear_kernels():
    X, y = _data(80, 5)
    m = SupportVectorRegression(kernel="sigmoid", gamma=0.05, coef0=0.0, C=1.0).fit(X, y)
    sk = SVR(kernel="sigmoid", gamma=0.05, coef0=0.0, C=1.0).fit(X, y)
    assert m.result_.status in ("feasible", "optimal")
    np.testing.assert_allclose(m.predict(X), sk.predict(X), atol=1e-2)
    lin = SupportVectorRegression(kernel="linear").fit(X, y)  # the primal program
    assert lin.coef_.shape == (5,) and lin.result_.status == "optimal"


def test_time_limit_gives_finite_gap():
    X, y = _data(1500, 0)
    res = solve(
        KernelSVRProblem(X, y, C=100.0, epsilon=0.01, kernel="rbf", gamma=1.0),
        settings=SolveSettings(time_limit=1e-3),
    )
    assert res.status in ("time_limit", "optimal")
    assert np.isfinite(res.gap) and res.bound >= res.objective


def test_bad_parameters():
    X, y = _data(20, 0)
    with pytest.raises(ValueError, match="kernel"):
        SupportVectorRegression(kernel="cubic").fit(X, y)
    with pytest.raises(ValueError, match="fit_intercept"):
        SupportVectorRegression(kernel="rbf", fit_intercept=False).fit(X, y)
    with pytest.raises(ValueError, match="gamma"):
        SupportVectorRegression(kernel="rbf", gamma=-1.0).fit(X, y)
