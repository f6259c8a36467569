"""The linear SVM special solver "svm-newton": against a general QP solve of the same program
and scikit-learn's libsvm, certificates valid, finite gap at a time limit."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.svm import SVC

from optml.algorithms.linear_svm import svm_dual_bound, svm_newton
from optml.classification import SoftMarginSVM
from optml.formulations.classification import SVMProblem, svm_objective
from optml.solve import SolveSettings, solve


def _data(n, p, seed, flip=0.1):
    X, y = make_classification(
        n,
        p,
        n_informative=max(2, p // 2),
        n_redundant=0,
        flip_y=flip,
        class_sep=0.5,
        random_state=seed,
    )
    return X, np.where(y == 1, 1.0, -1.0)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("C", [0.1, 10.0])
def test_agrees_with_general_qp(seed, C):
    X, s = _data(120, 6, seed)
    problem = SVMProblem(X, s, C=C)
    res = solve(problem)  # the kind's default: svm-newton
    assert res.solver == "svm-newton" and res.status == "optimal" and res.verified
    assert res.bound <= res.objective + 1e-9 and res.gap <= 1e-6
    ref = solve(SVMProblem(X, s, C=C).program, backend="cvxpy", solver="clarabel")
    assert ref.status == "optimal"
    assert res.objective <= ref.objective + 1e-6 * max(1.0, abs(ref.objective))
    # the bound is a bound on the general solver's optimum too
    assert res.bound <= ref.objective + 1e-7 * max(1.0, abs(ref.objective))


def test_same_as_libsvm():
    X, s = _data(400, 8, 7)
    clf = SoftMarginSVM(C=1.0).fit(X, s)
    assert clf.result_.solver == "svm-newton" and clf.result_.gap <= 1e-6
    ref = SVC(kernel="linear", C=1.0, tol=1e-8).fit(X, s)
    f_ref = svm_objective(X, s, ref.coef_.ravel(), float(ref.intercept_[0]), 1.0)
    assert clf.result_.objective <= f_ref + 1e-6 * f_ref
    np.testing.assert_allclose(clf.coef_.ravel(), ref.coef_.ravel(), atol=2e-3)


def test_dual_bound_is_a_lower_bound_for_any_alpha():
    X, s = _data(60, 4, 3)
    ref = solve(SVMProblem(X, s, C=1.0).program, backend="cvxpy", solver="clarabel")
    rng = np.random.default_rng(0)
    Z = s[:, None] * X
    for _ in range(20):
        a = rng.uniform(-0.5, 1.5, size=60)  # clipped and rebalanced inside
        assert svm_dual_bound(Z, s, a, 1.0, 1e3) <= ref.objective + 1e-7


def test_time_limit_gives_finite_gap():
    X, s = _data(3000, 20, 1)
    w, b, P, D, info = svm_newton(X, s, 1.0, deadline=0.0)  # already expired
    assert info["timed_out"] and np.isfinite(D) and D <= P
    res = solve(SVMProblem(X, s), solver="svm-newton", settings=SolveSettings(time_limit=1e-6))
    assert res.status in ("time_limit", "optimal") and np.isfinite(res.gap)
    assert res.bound <= res.objective


def test_general_route_stays_selectable():
    X, s = _data(80, 3, 5)
    a = SoftMarginSVM(C=1.0).fit(X, s)
    b = SoftMarginSVM(C=1.0, solver="clarabel").fit(X, s)
    c = SoftMarginSVM(C=1.0, solver="smo").fit(X, s)
    assert b.result_.solver == "clarabel" and c.result_.solver == "smo"
    for other in (b, c):
        assert abs(a.result_.objective - other.result_.objective) <= 1e-5 * a.result_.objective


def test_build_problem_is_the_fitted_instance():
    X, s = _data(90, 4, 8)
    problem = SoftMarginSVM(C=2.0).build_problem(X, s)
    assert isinstance(problem, SVMProblem) and problem.C == 2.0
    res = solve(problem, solver="svm-newton")
    fit = SoftMarginSVM(C=2.0).fit(X, s)
    assert res.objective == pytest.approx(fit.result_.objective, rel=1e-9)
    with pytest.raises(ValueError, match="two classes"):
        SoftMarginSVM().build_problem(X, np.arange(90) % 3)
