"""Silent wrong models and bare errors (the modelling-layer issue's traps and the reliability
issue's R1, R3, R4, R6, R14 cases): each is refused or modelled exactly, with a clear message."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest

import optml as om
from optml.exceptions import ModelingError


def prog():
    p = om.Program("t")
    x = p.var("x", 3, lb=0, ub=1)
    return p, x


# ----------------------------------------------------------------------------- silent traps
def test_chained_comparison_is_refused():
    p, x = prog()
    with pytest.raises(ModelingError, match="chained comparison"):
        p.add(0 <= x <= 1)
    assert p.constraints == []


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda x: abs(x), "om.abs"),
        (lambda x: np.abs(x), "om.abs"),
        (lambda x: x < 1, "use <="),
        (lambda x: x > 1, "use >="),
        (lambda x: x * x, "sum_squares"),
        (lambda x: x**2, "sum_squares"),
        (lambda x: np.square(x), "sum_squares"),
        (lambda x: np.exp(x), "numpy's exp"),
    ],
)
def test_mistakes_get_targeted_messages(make, match):
    _, x = prog()
    with pytest.raises((TypeError, ModelingError), match=match):
        make(x)


def test_numpy_operators_still_build_expressions():
    p, x = prog()
    A = np.arange(6.0).reshape(2, 3)
    assert (A @ x).shape == (2,) and (np.float64(2.0) * x).shape == (3,)
    c = np.zeros(2) <= A @ x  # numpy on the left: the constraint A @ x >= 0
    p.add(c, name="lo")
    p.maximize(-om.sum(x))
    assert p.solve().objective == pytest.approx(0.0)


def test_r4_bounds_changed_after_a_solve_are_used():
    p, x = prog()
    p.maximize(om.sum(x))
    assert p.solve().objective == pytest.approx(3.0)
    x.ub = [2.0, 2.0, 2.0]
    assert p.solve().objective == pytest.approx(6.0)
    with pytest.raises(ValueError, match="read-only"):
        x.ub[0] = 5.0  # in place would bypass the program: refused
    x.lb = 1.5
    assert p.solve().objective == pytest.approx(6.0)
    with pytest.raises(ModelingError, match="lower bound"):
        x.lb = 3.0


def test_removed_constraint_is_not_enforced():
    p, x = prog()
    c = p.add(om.sum(x) <= 1, name="cap")
    p.maximize(om.sum(x))
    assert p.solve().objective == pytest.approx(1.0)
    p.constraints.remove(c)
    assert p.solve().objective == pytest.approx(3.0)
    c2 = p.add(om.sum(x) <= 2, name="cap2")
    assert p.solve().objective == pytest.approx(2.0)
    p.remove(c2)
    assert p.solve().objective == pytest.approx(3.0)
    p.objective = -om.sum(x)  # assigning the objective is seen too
    assert p.solve().objective == pytest.approx(-0.0)


def test_program_pickles_with_its_tracking():
    p, x = prog()
    p.add(om.sum(x) <= 1, name="cap")
    p.maximize(om.sum(x))
    q = pickle.loads(pickle.dumps(p))
    q.constraints.clear()
    assert q.solve().objective == pytest.approx(3.0)
    assert p.solve().objective == pytest.approx(1.0)


def test_r3_binary_bounds_outside_zero_one_are_refused():
    p = om.Program("b")
    with pytest.raises(ModelingError, match="domain='integer'"):
        p.var("z", 3, domain="binary", lb=-5, ub=5)
    z = p.var("z", 3, domain="binary", ub=[1, 0, 1])  # fixing inside [0, 1] is fine
    p.maximize(om.sum(z))
    assert p.solve().objective == pytest.approx(2.0)


# ----------------------------------------------------------------------------- R1: NaN, inf
def set_partitioning_with_nan():
    items = 8
    cols = [s for r in range(1, items + 1) for s in itertools.combinations(range(items), r)]
    P = np.zeros((items, len(cols)))
    for j, s in enumerate(cols):
        P[list(s), j] = 1
    cost = np.array([len(s) ** 1.5 for s in cols])
    cost[P[0] > 0] = np.nan
    p = om.Program("partition")
    z = p.var("z", len(cols), domain="binary")
    p.add(P @ z == 1, name="cover")
    p.minimize(cost @ z)
    return p


@pytest.mark.parametrize("backend", ["highs", "pyomo"])
def test_r1_nan_cost_is_refused_before_the_solver(backend):
    """A NaN cost made HiGHS loop past its time limit; now no solver sees it."""
    with pytest.raises(ModelingError, match="objective has a NaN"):
        set_partitioning_with_nan().solve(backend=backend, solver="highs", time_limit=2)


def test_r1_nan_or_inf_coefficient_names_the_constraint():
    p, x = prog()
    p.add(np.array([np.nan, 1, 1]) @ x <= 1, name="cap")
    with pytest.raises(ModelingError, match="constraint 'cap'"):
        p.solve()
    p2, x2 = prog()
    p2.add(np.array([np.inf, 1, 1]) @ x2 <= 1, name="budget")
    with pytest.raises(ModelingError, match="'budget'"):
        p2.solve()


# ----------------------------------------------------------------------------- R6
@pytest.mark.parametrize(
    "backend,solver", [("highs", "highs"), ("pyomo", "highs"), ("pyomo", "scip")]
)
def test_r6_unbounded_milp_is_not_called_infeasible(backend, solver):
    pairs = {(r["backend"], r["solver"]) for r in om.backends.available()}
    if (backend, solver) not in pairs:
        pytest.skip(f"{backend}/{solver} not installed")
    p = om.Program("u")
    x = p.var("x", 2, domain="integer")
    p.add(x[0] - x[1] <= 1)
    p.maximize(x[0] + x[1])
    assert p.solve(backend=backend, solver=solver).status in (
        "unbounded",
        "infeasible_or_unbounded",
    )


# ----------------------------------------------------------------------------- R14
def test_r14_clear_errors():
    p, x = prog()
    p.add(x[0] <= 1, name="a")
    with pytest.raises(ModelingError, match="already has a constraint named 'a'"):
        p.add(x[1] <= 1, name="a")
    other = om.Program("other").var("y", 3)
    with pytest.raises(ModelingError, match="belongs to another Program"):
        p.minimize(om.sum(other))
    with pytest.raises(ModelingError, match="no variables"):
        om.Program("empty").solve()
    p.minimize(om.sum(x))
    with pytest.raises(ValueError, match="warm start for 'x' has 2 entries"):
        p.solve(warm_start={"x": [1, 2]})


# ----------------------------------------------------------------------------- duals
def knapsack_lp(cap):
    w, v = np.array([4.0, 3, 2, 5, 1]), np.array([5.0, 4, 3, 6, 1])
    p = om.Program("knap")
    x = p.var("x", shape=5, lb=0, ub=1)
    p.add(w @ x <= cap, name="capacity")
    p.maximize(v @ x)
    return p


@pytest.mark.parametrize(
    "backend,solver", [("highs", "highs"), ("cvxpy", "clarabel"), ("pyomo", "highs")]
)
def test_duals_by_name_are_the_objectives_rate_of_change(backend, solver):
    res = knapsack_lp(8.0).solve(backend=backend, solver=solver)
    up = knapsack_lp(8.01).solve(backend=backend, solver=solver)
    rate = (up.objective - res.objective) / 0.01
    assert res.duals["capacity"] == pytest.approx(rate, rel=1e-5)
    assert res.duals["capacity"].shape == ()
    assert set(res.reduced_costs) == {"x"} and res.reduced_costs["x"].shape == (5,)


def test_highs_route_returns_its_solver_object():
    import highspy

    res = knapsack_lp(8.0).solve(solver="highs")
    assert isinstance(res.raw, highspy.Highs)
