"""The special solver ``robust-newton`` (robust linear SVM / logistic regression) against
cvxpy/Clarabel on the same objective, for every perturbation norm, on clean and label-noise
data; its bound must be a true lower bound (never above the reference optimum)."""

import time

import numpy as np
import pytest

from optml.algorithms.robust_linear import robust_dual_bound, robust_newton
from optml.classification import RobustLogisticRegression, RobustSVM
from optml.formulations.robust_linear import RobustLinearProblem, robust_objective
from optml.solve import SolveSettings, solve

cp = pytest.importorskip("cvxpy")


def _data(n, d, seed, flip):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) @ (np.eye(d) + 0.4 * rng.normal(size=(d, d)))  # correlated
    s = np.where(X @ rng.normal(size=d) + 0.5 * rng.normal(size=n) > 0, 1.0, -1.0)
    s[rng.random(n) < flip] *= -1
    return X, s


def _reference(X, s, C, eps, norm, loss):
    w, b = cp.Variable(X.shape[1]), cp.Variable()
    q = {"inf": 1, "1": "inf", "2": 2}[norm]
    r = -cp.multiply(s, X @ w + b) + eps * cp.norm(w, q)
    ell = cp.pos(1 + r) if loss == "hinge" else cp.logistic(r)
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(w) + C * cp.sum(ell)))
    prob.solve(solver="CLARABEL")
    return prob.value


@pytest.mark.parametrize("loss", ["hinge", "logistic"])
@pytest.mark.parametrize("norm", ["inf", "1", "2"])
@pytest.mark.parametrize("flip", [0.0, 0.2])
def test_robust_newton_matches_clarabel_and_its_bound_is_valid(loss, norm, flip):
    for seed, (n, d, C, eps) in enumerate([(50, 4, 1.0, 0.1), (80, 7, 3.0, 0.3)]):
        X, s = _data(n, d, seed + 10 * int(flip > 0), flip)
        w, b, P, D, _ = robust_newton(X, s, C, eps, norm, loss)
        ref = _reference(X, s, C, eps, norm, loss)
        tol = 1e-6 * max(1.0, abs(ref))
        assert P == pytest.approx(robust_objective(X, s, w, b, loss=loss, C=C, eps=eps, norm=norm))
        assert P <= ref + 2 * tol  # the optimum, to the reference's accuracy
        assert D <= ref + tol  # a lower bound: never above the optimum
        assert (P - D) / max(1.0, abs(P)) <= 1e-6


def test_dual_bound_is_a_lower_bound_for_any_multipliers():
    X, s = _data(40, 3, 5, 0.1)
    Z = s[:, None] * X
    rng = np.random.default_rng(0)
    for norm in ("inf", "1", "2"):
        for loss in ("hinge", "logistic"):
            ref = _reference(X, s, 1.0, 0.2, norm, loss)
            for _ in range(5):
                a = rng.random(40)
                assert robust_dual_bound(Z, s, a, 1.0, 0.2, norm, 1e3, loss) <= ref + 1e-7


def test_estimators_default_to_robust_newton_and_agree_with_the_program():
    X, s = _data(70, 5, 3, 0.1)
    y = (s > 0).astype(int)
    for cls in (RobustSVM, RobustLogisticRegression):
        fast = cls(C=1.0, eps=0.15, norm="inf").fit(X, y)
        assert fast.result_.solver == "robust-newton"
        assert fast.result_.status == "optimal" and fast.result_.verified
        prog = cls(C=1.0, eps=0.15, norm="inf", solver="clarabel").fit(X, y)
        assert prog.result_.solver != "robust-newton"
        assert fast.result_.objective == pytest.approx(prog.result_.objective, rel=1e-6)
        # the program of the special route is the same program
        assert fast.program_.evaluate(fast.result_.values)[0] == pytest.approx(
            fast.result_.objective
        )
    # an L1 penalty or label flips go to the program
    assert RobustSVM(eps=0.1, penalty="l1").fit(X, y).result_.solver != "robust-newton"


def test_time_limit_returns_a_point_with_its_bound():
    X, s = _data(3000, 30, 7, 0.2)
    problem = RobustLinearProblem(X, s, loss="hinge", C=10.0, eps=0.3, norm="2")
    t = time.perf_counter()
    res = solve(problem, solver="robust-newton", settings=SolveSettings(time_limit=0.05))
    assert time.perf_counter() - t <= 0.05 * 1.1 + 1.0
    assert res.status in ("time_limit", "optimal") and res.has_solution
    if res.bound is not None:
        assert res.bound <= res.objective + 1e-9


def test_one_class_and_bad_problem():
    X, _ = _data(10, 2, 0, 0.0)
    w, b, P, D, _ = robust_newton(X, np.ones(10), 1.0, 0.1, "inf", "hinge")
    assert P == 0.0 and D == 0.0
    with pytest.raises(ValueError, match="loss"):
        RobustLinearProblem(X, np.ones(10), loss="squared")
    with pytest.raises(ValueError, match="labels"):
        RobustLinearProblem(X, np.arange(10.0))
