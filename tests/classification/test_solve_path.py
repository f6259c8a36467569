"""Classification on the one solve path: special solvers by name, settings reaching every
internal solve, one Program for one-vs-rest, certified results (no overwritten bounds)."""

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_classification

import optml
import optml.solve as osolve
from optml.classification import (
    KernelSVM,
    LogisticRegression,
    OptimalClassificationTree,
    SoftMarginSVM,
    SparseLogisticRegression,
)
from optml.program import Program
from optml.program.result import relative_gap


def test_special_solvers_listed_and_selectable():
    names = {r["solver"] for r in optml.backends.available(refresh=True) if r["backend"] == "optml"}
    assert {"newton", "svm-working-set"} <= names
    X, y = make_classification(150, 4, random_state=0)
    m = LogisticRegression(solver="newton").fit(X, y)
    assert m.result_.solver == "newton" and m.result_.backend == "optml" and m.result_.verified
    s = SoftMarginSVM(solver="svm-working-set").fit(X, y)
    assert s.result_.solver == "svm-working-set" and s.result_.verified
    assert s.program_.problem_class == "QP"  # formed on access from problem_


def _record(monkeypatch):
    seen = []
    real_program = osolve.solve_program

    def spy_program(program, backend="auto", solver=None, settings=None):
        seen.append(settings)
        return real_program(program, backend, solver, settings)

    real_structured = osolve.solve_structured

    def spy_structured(problem, backend="auto", solver=None, settings=None):
        seen.append(settings)
        return real_structured(problem, backend, solver, settings)

    monkeypatch.setattr(osolve, "solve_program", spy_program)
    monkeypatch.setattr(osolve, "solve_structured", spy_structured)
    return seen


@pytest.mark.parametrize(
    "make",
    [
        lambda o: LogisticRegression(method="conic", time_limit=30, solver_options=o),
        lambda o: SoftMarginSVM(method="full", time_limit=30, solver_options=o),
        lambda o: SoftMarginSVM(method="working_set", time_limit=30, solver_options=o),
        lambda o: KernelSVM(time_limit=30, solver_options=o),
        lambda o: SparseLogisticRegression(k=1, max_rounds=2, time_limit=30, solver_options=o),
        lambda o: OptimalClassificationTree(max_depth=1, time_limit=30, solver_options=o),
    ],
)
def test_settings_reach_every_solve(monkeypatch, make):
    seen = _record(monkeypatch)
    X, y = make_classification(60, 3, n_informative=2, n_redundant=0, random_state=1)
    est = make({"threads": 1})
    if isinstance(est, LogisticRegression):
        pytest.importorskip("cvxpy")
    est.fit(X, y)
    assert seen, "no solve went through the solve path"
    for st in seen:
        assert st.threads == 1
        assert st.time_limit is not None and st.time_limit <= 30


def test_raw_option_reaches_the_solver(monkeypatch):
    seen = _record(monkeypatch)
    X, y = make_classification(60, 3, n_informative=2, n_redundant=0, random_state=1)
    SoftMarginSVM(method="full", solver_options={"presolve": "off"}).fit(X, y)
    assert seen and all(st.options == {"presolve": "off"} for st in seen)


def test_newton_refuses_raw_options():
    X, y = make_classification(60, 3, n_informative=2, n_redundant=0, random_state=1)
    with pytest.raises(ValueError, match="raw solver options"):
        LogisticRegression(solver_options={"presolve": "off"}).fit(X, y)


# LogisticRegression's three-class program is the multinomial one (no blocks): see
# tests/classification/test_logistic_multinomial.py
@pytest.mark.parametrize("est", [SoftMarginSVM(method="full")])
def test_build_program_one_program_for_three_classes(est):
    X, y = load_iris(return_X_y=True)
    prog = est.build_program(X, y)
    assert isinstance(prog, Program)
    assert len(prog.metadata["blocks"]) == 3
    if isinstance(est, SoftMarginSVM):
        res = prog.solve()
        fit = SoftMarginSVM(method="full").fit(X, y)
        for k, vals in enumerate(est.unpack_blocks(prog, res.values)):
            np.testing.assert_allclose(vals["w"].ravel(), fit.coef_[k], atol=1e-5)


def test_tree_warm_start_spelling_is_deprecated():
    X, y = make_classification(40, 3, n_informative=2, n_redundant=0, random_state=0)
    with pytest.warns(FutureWarning, match="initial_tree"):
        a = OptimalClassificationTree(max_depth=1, warm_start=None).fit(X, y)
    b = OptimalClassificationTree(max_depth=1, initial_tree=None).fit(X, y)
    assert a.objective_ == b.objective_


@pytest.mark.parametrize("kw", [{}, {"formulation": "flow", "time_limit": 0.05}])
def test_tree_result_is_consistent(kw):
    X, y = make_classification(80, 4, random_state=2)
    clf = OptimalClassificationTree(max_depth=2, thresholds=6, **kw).fit(X, y)
    r = clf.result_
    assert r.gap == relative_gap(r.objective, r.bound)
    if clf.source_ == "mip" or r.has_solution:
        assert r.objective == pytest.approx(clf.objective_, abs=1e-6)


def test_logistic_unpenalised_is_certified():
    X, y = make_classification(
        200, 3, n_informative=2, n_redundant=0, random_state=2, flip_y=0.2, class_sep=0.5
    )
    r = LogisticRegression(penalty=None).fit(X, y).result_
    assert r.status == "optimal" and r.verified and r.gap <= 1e-8
