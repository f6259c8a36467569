"""The SMO special solver "smo": kernel SVM against libsvm (support vectors, decision values)
and against a general QP solve of the same dual; certificates valid; finite gap at a limit."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_moons
from sklearn.svm import SVC

from optml.algorithms.smo import smo
from optml.classification import KernelSVM
from optml.formulations.classification import KernelColumns, KernelSVMProblem, best_intercept
from optml.solve import SolveSettings, solve


def _data(n, seed):
    X, y = make_classification(
        n, 6, n_informative=4, n_redundant=0, flip_y=0.1, class_sep=0.6, random_state=seed
    )
    return X, np.where(y == 1, 1.0, -1.0)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kernel,C", [("rbf", 1.0), ("rbf", 20.0), ("poly", 0.5)])
def test_same_support_vectors_as_libsvm(seed, kernel, C):
    X, s = _data(150, seed)
    m = KernelSVM(C=C, kernel=kernel, coef0=1.0, degree=2).fit(X, s)
    sk = SVC(C=C, kernel=kernel, coef0=1.0, degree=2, tol=1e-10).fit(X, s)
    res = m.result_
    assert res.solver == "smo" and res.status == "optimal" and res.verified
    assert res.gap <= 1e-6 and res.bound >= res.objective  # a maximisation
    assert set(m.support_) == set(sk.support_)
    np.testing.assert_allclose(m.decision_function(X), sk.decision_function(X), atol=2e-3)


@pytest.mark.parametrize("seed", range(2))
def test_agrees_with_general_qp_on_the_same_dual(seed):
    X, s = _data(60, seed)
    problem = KernelSVMProblem(X, s, C=2.0, kernel="rbf", gamma=0.3)
    res = solve(problem)
    ref = solve(
        KernelSVMProblem(X, s, C=2.0, kernel="rbf", gamma=0.3).program,
        backend="cvxpy",
        solver="clarabel",
    )
    assert ref.status == "optimal"
    tol = 1e-6 * max(1.0, abs(ref.objective))
    assert abs(res.objective - ref.objective) <= 2 * tol
    assert res.bound >= ref.objective - tol  # the bound bounds the general optimum


def test_general_route_selectable_and_same_objective():
    X, y = make_moons(80, noise=0.25, random_state=0)
    a = KernelSVM(C=1.0).fit(X, y)
    b = KernelSVM(C=1.0, solver="clarabel").fit(X, y)
    assert a.result_.solver == "smo" and b.result_.solver == "clarabel"
    assert a.result_.objective == pytest.approx(b.result_.objective, rel=1e-5)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_best_intercept_is_a_minimiser():
    rng = np.random.default_rng(1)
    a = rng.normal(size=40)
    sig = np.where(rng.random(40) < 0.5, 1.0, -1.0)
    c = rng.uniform(0.5, 2.0, size=40)

    def h(b):
        return float((c * np.maximum(a - sig * b, 0.0)).sum())

    b = best_intercept(a, sig, c)
    grid = np.linspace(-4, 4, 4001)
    assert h(b) <= min(h(t) for t in grid) + 1e-12


def test_time_limit_gives_finite_gap():
    X, s = _data(1500, 0)
    res = solve(
        KernelSVMProblem(X, s, C=10.0, kernel="rbf", gamma=1.0),
        settings=SolveSettings(time_limit=1e-3),
    )
    assert res.status in ("time_limit", "optimal")
    assert np.isfinite(res.gap) and res.bound >= res.objective


def test_shrinking_gives_the_same_answer():
    X, s = _data(300, 4)
    cols = KernelColumns(X, "rbf", gamma=0.5)
    kd = cols.diag()
    a1, i1 = smo(cols, kd, -np.ones(300), s, 1.0, 300, eps=1e-8, shrinking=True)
    a2, i2 = smo(cols, kd, -np.ones(300), s, 1.0, 300, eps=1e-8, shrinking=False)
    np.testing.assert_allclose(a1, a2, atol=1e-5)


def test_sigmoid_kernel_has_no_bound():
    # the sigmoid kernel's matrix is indefinite here: SMO returns libsvm's KKT point, no bound
    X, s = _data(80, 2)
    problem = KernelSVMProblem(X, s, C=1.0, kernel="sigmoid", gamma=0.5, coef0=-1.0)
    assert not problem.kernel_is_psd()
    res = solve(problem)
    assert res.status == "feasible" and not np.isfinite(res.gap)
    sk = SVC(kernel="sigmoid", gamma=0.5, coef0=-1.0, tol=1e-6).fit(X, s)
    # both are KKT points of a nonconvex problem, not necessarily the same one
    a = res.values["alpha"]
    f = problem.columns.block(np.arange(80)) @ (a * s) + res.stats["intercept"]
    assert np.mean(np.sign(f) == sk.predict(X)) >= 0.9
