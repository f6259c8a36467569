"""The least-squares family on the one solve path: the structured problem, the special solver
"active-set" (listed, selectable, falling back when it gives up), settings reaching every
solver, and the units of ``result_``."""

import pickle

import numpy as np
import pytest

import optml.solve as solve_mod
from optml.algorithms import active_set as _active_set
from optml.backends import available
from optml.exceptions import SolveError
from optml.formulations.regression import LeastSquaresProblem, coef_bounds
from optml.program.settings import SolveSettings
from optml.regression import ElasticNet, Lasso, LeastSquares, Ridge


def _data(n=120, p=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 1.5
    y = X @ rng.standard_normal(p) + 0.3 * rng.standard_normal(n) + 2.0
    return X, y


def _problem(X, y, s, l1=0.0, l2=0.0, bounds=None, fit_intercept=True, form=None):
    lo, hi = coef_bounds(X.shape[1], False, bounds)
    return LeastSquaresProblem(
        X=X, y=y, fit_intercept=fit_intercept, s=s, l1=l1, l2=l2, lo=lo, hi=hi, form=form
    )


PROBLEMS = [
    dict(s=0.5 / 120, l1=0.05),
    dict(s=0.5 / 120, l1=0.05, l2=0.02, bounds=(-0.2, 0.5)),
    dict(s=1 / 240, l2=0.01),  # ridge: the factor form
    dict(s=1 / 240, form="gram"),
    dict(s=1 / 240, fit_intercept=False),
]


@pytest.mark.parametrize("kw", PROBLEMS)
def test_problem_evaluate_equals_the_program(kw):
    X, y = _data()
    prob = _problem(X, y, **kw)
    assert prob.kind == "least_squares" and prob.default_solver == "active-set"
    rng = np.random.default_rng(1)
    for _ in range(3):
        w = rng.standard_normal(X.shape[1])
        got = prob.evaluate({"coef": w})
        ref = prob.build_program().evaluate({"coef": w})
        assert got[0] == pytest.approx(ref[0], rel=1e-9, abs=1e-12)
        assert got[1] == pytest.approx(ref[1], abs=1e-12)


def test_active_set_is_listed_and_selectable():
    rows = [r for r in available() if r["solver"] == "active-set"]
    assert rows and rows[0]["backend"] == "optml" and rows[0]["kinds"] == ["least_squares"]
    X, y = _data()
    prob = _problem(X, y, s=0.5 / 120, l1=0.05)
    auto = solve_mod.solve(prob)
    named = solve_mod.solve(_problem(X, y, s=0.5 / 120, l1=0.05), solver="active-set")
    highs = solve_mod.solve(_problem(X, y, s=0.5 / 120, l1=0.05), solver="highs")
    assert auto.solver == named.solver == "active-set" and auto.backend == "optml"
    assert named.verified and named.gap <= 1e-9
    assert "_program" not in vars(prob)  # the special solver never built the program
    assert highs.backend == "highs"
    assert named.objective == pytest.approx(highs.objective, rel=1e-7)
    # on an estimator: solver="active-set" and method="active_set" are the same solve
    a = Lasso(alpha=0.05, solver="active-set").fit(X, y)
    b = Lasso(alpha=0.05, method="active_set").fit(X, y)
    assert a.result_.solver == b.result_.solver == "active-set"
    np.testing.assert_array_equal(a.coef_, b.coef_)
    with pytest.raises(ValueError, match="method='active_set'"):
        Lasso(alpha=0.05, method="active_set", solver="highs").fit(X, y)
    with pytest.raises(ValueError, match="method='program'"):
        Lasso(alpha=0.05, method="program", solver="active-set").fit(X, y)


def _broken(H, b, lam=0.0, lo=None, hi=None, w0=None, **kw):
    return np.zeros(b.shape[0]), {"converged": False, "iterations": 1, "kkt": 1.0, "reason": "x"}


def test_gives_up_falls_back_unless_named(monkeypatch):
    X, y = _data(seed=2)
    ref = Ridge(alpha=1.0).fit(X, y)
    monkeypatch.setattr(_active_set, "solve", _broken)
    m = Ridge(alpha=1.0).fit(X, y)  # automatic: the program on a general solver
    assert m.result_.backend == "highs" and m.result_.verified
    assert "active-set gave up" in m.result_.message
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-6)
    assert m.objective_ == pytest.approx(ref.objective_, rel=1e-7)
    for est in (Ridge(alpha=1.0, solver="active-set"), Ridge(alpha=1.0, method="active_set")):
        with pytest.raises(SolveError, match="error"):
            est.fit(X, y)
        assert est.result_.solver == "active-set" and est.result_.status == "error"


def test_raw_options_refused_by_the_active_set():
    X, y = _data()
    with pytest.raises(ValueError, match="takes no raw solver options"):
        Lasso(alpha=0.05, solver="active-set", solver_options={"presolve": "off"}).fit(X, y)


def _record(monkeypatch):
    """Record the settings that reach the general and the special solvers."""
    seen = []
    real_program = solve_mod.solve_program
    real_special = _active_set.ActiveSetSolver.solve

    def program(prog, backend="auto", solver=None, settings=None):
        seen.append(("program", settings))
        return real_program(prog, backend, solver, settings.replace(options={}))

    def special(self, problem, settings):
        seen.append(("active-set", settings))
        return real_special(self, problem, settings)

    monkeypatch.setattr(solve_mod, "solve_program", program)
    monkeypatch.setattr(_active_set.ActiveSetSolver, "solve", special)
    return seen


@pytest.mark.parametrize("make", [LeastSquares, Ridge, Lasso, ElasticNet])
def test_settings_reach_the_solver(make, monkeypatch):
    X, y = _data()
    seen = _record(monkeypatch)
    # threads and the time limit reach the active set
    make(time_limit=30.0, solver_options={"threads": 1}).fit(X, y)
    (route, st) = seen[-1]
    assert route == "active-set" and st.threads == 1 and st.time_limit == 30.0
    assert st.deadline is not None and st.remaining() <= 30.0
    # a raw option is meant for a general solver: it gets all of them
    seen.clear()
    m = make(time_limit=30.0, solver_options={"threads": 1, "presolve": "off"}).fit(X, y)
    (route, st) = seen[-1]
    assert route == "program" and st.threads == 1 and st.options == {"presolve": "off"}
    assert st.time_limit == 30.0 and m.result_.backend == "highs"


@pytest.mark.parametrize("make", [LeastSquares, lambda: Ridge(alpha=2.0)])
def test_least_squares_units(make):
    # the program is the objective / 2n; objective_ is scikit-learn's scale
    X, y = _data(n=300, p=6, seed=3)
    for kw in ({}, {"method": "program"}):
        m = make().set_params(**kw).fit(X, y)
        n = len(y)
        r = y - X @ m.coef_ - m.intercept_
        f = r @ r + getattr(m, "alpha", 0.0) * m.coef_ @ m.coef_
        assert m.objective_ == pytest.approx(f, rel=1e-9)
        assert m.result_.model_objective == m.objective_
        assert m.result_.objective * 2 * n == pytest.approx(m.objective_, rel=1e-12)
        assert m.result_.model_bound <= m.objective_ * (1 + 1e-9)
        assert m.program_.evaluate(m.result_.values)[0] == pytest.approx(
            m.result_.objective, rel=1e-9
        )


def test_lasso_units_agree():
    X, y = _data()
    m = Lasso(alpha=0.05).fit(X, y)
    assert m.result_.model_objective == m.result_.objective == m.objective_


def test_program_is_lazy_and_problem_pickles():
    X, y = _data(n=200, p=10)
    m = Lasso(alpha=0.05).fit(X, y)
    assert "program_" not in vars(m) and m.problem_.kind == "least_squares"
    built = Lasso(alpha=0.05).build_program(X, y)
    assert m.program_.num_variables == built.num_variables
    m2 = pickle.loads(pickle.dumps(Lasso(alpha=0.05).fit(X, y)))
    assert m2.problem_.X is None  # p <= n: the Gram data travel, not the data
    assert m2.program_.solve().objective == pytest.approx(m.result_.objective, rel=1e-8)


def test_settings_object_is_frozen_for_the_solver():
    # the estimator never mutates its parameters while fitting
    X, y = _data()
    m = Lasso(alpha=0.05, method="active_set")
    m.fit(X, y)
    assert m.solver is None and isinstance(m._settings(), SolveSettings)


def test_lasso_path_results_come_from_the_factory_and_settings_reach_the_solver(monkeypatch):
    from optml.regression import lasso_path

    X, y = _data(n=100, p=6)
    alphas, coefs, gaps, results = lasso_path(X, y, n_alphas=5, return_results=True)
    assert len(results) == 5
    for res in results:
        assert res.solver == "active-set" and res.backend == "optml" and res.verified
        assert np.isfinite(res.objective_check) and res.gap <= 1e-9
    np.testing.assert_array_equal(gaps, [r.gap for r in results])
    seen = _record(monkeypatch)
    lasso_path(
        X,
        y,
        n_alphas=3,
        method="program",
        time_limit=30.0,
        solver_options={"threads": 1, "made_up": 1},
    )
    routes = [r for r, _ in seen]
    assert routes and set(routes) == {"program"}
    for _, st in seen:
        assert st.threads == 1 and st.options == {"made_up": 1} and st.time_limit == 30.0
        assert st.deadline is not None
