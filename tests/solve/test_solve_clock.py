"""A solve whose clock ran out while the model was built returns at once (R12)."""

import time

import numpy as np
import pytest

import optml as om
from optml.program.settings import SolveSettings
from optml.solve import solve_program


def _knapsack():
    rng = np.random.default_rng(0)
    w, v = rng.uniform(1, 10, 40), rng.uniform(1, 10, 40)
    p = om.Program("knapsack")
    x = p.var("x", shape=40, domain="binary")
    p.add(w @ x <= 60, name="capacity")
    p.maximize(v @ x)
    return p


@pytest.fixture(autouse=True)
def _every_program_is_large(monkeypatch):
    # the rule is for programs whose setup alone may overrun the limit; make this one count
    monkeypatch.setattr("optml.solve.LARGE_NONZEROS", 0)


def _expired(**kw):
    return SolveSettings(time_limit=1.0, deadline=time.perf_counter() - 0.5, **kw)


def test_R12_expired_clock_returns_the_start_without_running_the_solver():
    p = _knapsack()
    start = {"x": np.zeros(40)}
    res = solve_program(p, backend="highs", settings=_expired(warm_start=start))
    assert res.solve_time < 0.1  # the solver never ran
    assert res.status == "time_limit"
    assert "shorter than the solver needs to start" in res.message
    np.testing.assert_array_equal(res.values["x"], np.zeros(40))
    assert res.objective == pytest.approx(0.0)
    assert res.gap == np.inf  # no bound was proved: never a zero gap


def test_R12_expired_clock_without_a_start_has_no_point():
    res = solve_program(_knapsack(), backend="highs", settings=_expired())
    assert res.status == "time_limit"
    assert res.solve_time < 0.1
    assert not res.values


def test_a_small_program_still_gets_the_solvers_minimum_time(monkeypatch):
    monkeypatch.setattr("optml.solve.LARGE_NONZEROS", 10**9)
    res = solve_program(_knapsack(), backend="highs", settings=_expired())
    assert "shorter than the solver needs to start" not in res.message  # the solver ran
    assert res.status in ("time_limit", "optimal")


def test_clock_with_time_left_solves_to_optimality():
    p = _knapsack()
    res = solve_program(p, backend="highs", settings=SolveSettings(time_limit=30).started())
    assert res.status == "optimal"


def test_highs_is_stopped_by_the_deadline_through_its_callbacks(monkeypatch):
    """HiGHS's own clock is given a limit far in the future; the deadline handed to its
    interrupt callbacks stops it and the status says time_limit (not interrupted)."""
    from optml.backends import highs as hb

    rng = np.random.default_rng(1)
    n = 300
    w, v = rng.uniform(1, 100, (5, n)), rng.uniform(1, 100, n)
    p = om.Program("multi_knapsack")
    x = p.var("x", shape=n, domain="binary")
    p.add(w @ x <= w.sum(axis=1) / 3, name="cap")
    p.maximize(v @ x)
    real = hb.run_interruptible
    seen = {}

    def short_deadline(h, deadline=None):
        h.setOptionValue("time_limit", 1e6)  # HiGHS alone would run on
        seen["deadline"] = deadline
        return real(h, time.perf_counter() + 0.2)

    monkeypatch.setattr(hb, "run_interruptible", short_deadline)
    t = time.perf_counter()
    res = solve_program(p, backend="highs", settings=SolveSettings(time_limit=60).started())
    assert time.perf_counter() - t < 10
    assert seen["deadline"] is not None
    assert res.status == "time_limit" and res.has_solution


def test_highs_presolve_that_would_outlast_the_time_left_is_not_started(monkeypatch):
    """HiGHS's MIP presolve reads no clock: with a complete start and less time left than it
    likely needs (nonzeros / rate), the start comes back without running HiGHS (R12)."""
    monkeypatch.setattr("optml.solve.LARGE_NONZEROS", 10**9)
    monkeypatch.setattr("optml.solve.HIGHS_PRESOLVE_RATE", 1.0)  # 41 nonzeros: 41 s
    start = {"x": np.zeros(40)}
    settings = SolveSettings(time_limit=5.0, warm_start=start).started()
    res = solve_program(_knapsack(), backend="highs", settings=settings)
    assert res.status == "time_limit" and res.solve_time < 0.1
    np.testing.assert_array_equal(res.values["x"], np.zeros(40))
    # without a start, HiGHS runs (it may find a point in the time left)
    res = solve_program(_knapsack(), backend="highs", settings=SolveSettings(time_limit=5.0))
    assert res.status == "optimal"
