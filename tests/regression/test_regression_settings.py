"""Every regression estimator hands its settings to every solve it makes (time limit as the
time left of one clock, threads, raw options), LAD's units, and the old spellings of best
subset (FutureWarning) and its k on data with fewer features (UserWarning)."""

import warnings

import numpy as np
import pytest

import optml.solve as solve_mod
from optml.backends import available
from optml.regression import (
    BestSubsetRegression,
    HuberRegression,
    LeastAbsoluteDeviation,
    LeastTrimmedSquares,
    QuantileRegression,
    SupportVectorRegression,
    best_subset_path,
)

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 4))
y = X @ np.array([1.0, -2.0, 0.0, 0.5]) + 0.1 * rng.standard_normal(40)

_HAS_MIQP = any(r["solver"] in ("scip", "gurobi") and "MIQP" in r["classes"] for r in available())


def _record(monkeypatch):
    """Record the settings reaching ``solve_program``; raw options are dropped before the
    real solver runs (they are made up)."""
    seen = []
    real = solve_mod.solve_program

    def program(prog, backend="auto", solver=None, settings=None):
        seen.append(settings)
        return real(prog, backend, solver, settings.replace(options={}))

    monkeypatch.setattr(solve_mod, "solve_program", program)
    return seen


OPTS = {"threads": 1, "made_up_option": 7}


def _check(seen, time_limit=30.0):
    assert seen, "no solve reached the solver"
    for st in seen:
        assert st.threads == 1 and st.options == {"made_up_option": 7}
        assert st.time_limit == time_limit and st.deadline is not None
        assert st.remaining() <= time_limit


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: QuantileRegression(quantile=0.3, alpha=0.01, **kw),
        lambda **kw: LeastAbsoluteDeviation(**kw),
        lambda **kw: HuberRegression(**kw),
        lambda **kw: SupportVectorRegression(**kw),
    ],
)
def test_settings_reach_the_solver_convex(make, monkeypatch):
    seen = _record(monkeypatch)
    make(time_limit=30.0, solver_options=dict(OPTS)).fit(X, y)
    _check(seen)


@pytest.mark.skipif(not _HAS_MIQP, reason="needs a MIQP solver (SCIP)")
@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: BestSubsetRegression(k=2, **kw),
        pytest.param(
            lambda **kw: LeastTrimmedSquares(n_starts=3, **kw), marks=pytest.mark.slow
        ),  # 8 s
    ],
)
def test_settings_reach_the_solver_mip(make, monkeypatch):
    seen = _record(monkeypatch)
    m = make(time_limit=8.0, mip_gap=1e-3, solver_options=dict(OPTS)).fit(X, y)
    _check(seen, time_limit=8.0)
    assert all(st.mip_gap == 1e-3 for st in seen)
    assert m.result_.has_solution


def test_one_clock_covers_the_heuristics(monkeypatch):
    # the MIQP gets the time left after the heuristics, not a fresh time limit
    if not _HAS_MIQP:
        pytest.skip("needs a MIQP solver (SCIP)")
    from optml.regression import _heuristics

    real = _heuristics.SubsetProblem.warm_start

    def slow(self, *a, **kw):
        import time

        time.sleep(0.3)
        return real(self, *a, **kw)

    monkeypatch.setattr(_heuristics.SubsetProblem, "warm_start", slow)
    seen = _record(monkeypatch)
    BestSubsetRegression(k=2, method="mip", time_limit=30.0).fit(X, y)
    assert seen[-1].remaining() <= 29.7


def test_lad_units():
    m = LeastAbsoluteDeviation().fit(X, y)
    r = y - X @ m.coef_ - m.intercept_
    assert m.objective_ == pytest.approx(np.abs(r).mean(), rel=1e-7)
    assert m.result_.model_objective == m.objective_
    assert m.result_.objective == pytest.approx(m.objective_ / 2, rel=1e-12)
    assert m.program_.evaluate(m.result_.values)[0] == pytest.approx(m.result_.objective, rel=1e-9)
    q = QuantileRegression(quantile=0.5, alpha=0.0).fit(X, y)
    assert q.objective_ == q.result_.objective  # the same units


@pytest.mark.skipif(not _HAS_MIQP, reason="needs a MIQP solver (SCIP)")
def test_best_subset_old_spellings_warn():
    with pytest.warns(FutureWarning, match="heuristic='none'"):
        m = BestSubsetRegression(k=2, warm_start=False).fit(X, y)
    assert m.warm_start_method_ == "zero"
    with pytest.warns(FutureWarning, match="heuristic='dfo'"):
        BestSubsetRegression(k=2, warm_start="dfo").fit(X, y)
    with pytest.warns(FutureWarning, match="result_.bound"):
        assert m.bound_ == m.result_.bound
    with pytest.warns(FutureWarning, match="result_.gap"):
        assert m.gap_ == m.result_.gap
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        new = BestSubsetRegression(k=2, heuristic="none").fit(X, y)
    assert new.warm_start_method_ == "zero"
    assert "bound_" not in vars(new) and "gap_" not in vars(new)


@pytest.mark.skipif(not _HAS_MIQP, reason="needs a MIQP solver (SCIP)")
def test_k_above_the_number_of_features_warns_and_uses_all():
    with pytest.warns(UserWarning, match="k=10 is greater than n_features=4"):
        m = BestSubsetRegression().fit(X, y)
    assert m.support_.sum() <= 4 and m.result_.has_solution
    with pytest.raises(ValueError, match="k_max = 7 is larger"):
        best_subset_path(X, y, k_max=7)


@pytest.mark.parametrize("formulation", ["bigm", "sos1", "perspective"])
def test_time_limit_without_a_point_keeps_the_heuristic(formulation, monkeypatch):
    # a solver stopped before it had a point of its own: the fit returns the heuristic's
    # point, certified by the factory against the program (every variable has a value)
    from optml.solve.certificate import make_result

    def no_point(prog, backend="auto", solver=None, settings=None):
        return make_result(
            status="time_limit", sense=1, values=None, solver="scip", backend="pyomo"
        )

    monkeypatch.setattr(solve_mod, "solve_program", no_point)
    m = BestSubsetRegression(k=2, formulation=formulation, alpha=0.1).fit(X, y)
    res = m.result_
    assert res.status == "time_limit" and res.has_solution and res.max_violation <= 1e-9
    assert res.objective == pytest.approx(m.warm_start_objective_, rel=1e-9)
    assert m.objective_ <= res.objective * (1 + 1e-12)
