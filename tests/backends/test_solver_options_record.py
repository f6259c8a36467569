"""Every general solve records the options it handed the solver, by the solver's own names
(``result.stats["solver_options"]``): what benchmarkers report next to a figure."""

import importlib.util

import numpy as np
import pytest

import optml as om


def _milp():
    p = om.Program("tiny")
    x = p.var("x", shape=3, domain="binary")
    p.add(np.array([2.0, 3.0, 4.0]) @ x <= 5, name="cap")
    p.maximize(np.array([3.0, 4.0, 5.0]) @ x)
    return p


ROUTES = [
    ("highs", "highs", "time_limit", "mip_rel_gap"),
    ("cvxpy", "highs", "time_limit", "mip_rel_gap"),
    ("pyomo", "highs", "time_limit", "mip_rel_gap"),
    ("pyomo", "scip", "limits/time", "limits/gap"),
]


@pytest.mark.parametrize(("backend", "solver", "time_name", "gap_name"), ROUTES)
def test_solver_options_are_recorded(backend, solver, time_name, gap_name):
    if solver == "scip" and importlib.util.find_spec("pyscipopt") is None:
        pytest.skip("pyscipopt is not installed")
    res = _milp().solve(backend=backend, solver=solver, time_limit=30, mip_gap=1e-6)
    assert res.status == "optimal"
    used = res.stats["solver_options"]
    assert 0 < used[time_name] <= 30  # the time left on the clock, by the solver's name
    assert used[gap_name] == pytest.approx(1e-6)


def test_raw_options_given_by_the_user_are_recorded():
    res = _milp().solve(backend="highs", presolve="off")
    assert res.stats["solver_options"]["presolve"] == "off"
