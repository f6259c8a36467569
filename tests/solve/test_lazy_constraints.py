"""Lazy constraint families: the re-solve loop and SCIP's constraint handler against brute
force on the travelling salesman problem (subtour elimination)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import optml as om
from optml.backends import available
from optml.exceptions import ModelingError
from optml.formulations.tsp import components, tour_from_edges, tour_length, tsp_program

PAIRS = {(r["backend"], r["solver"]) for r in available() if not r["kinds"]}
ROUTES = [
    pytest.param("highs", "highs", "loop", id="highs-loop"),
    pytest.param("pyomo", "scip", "callbacks", id="scip-callbacks"),
    pytest.param("cvxpy", "scip", "loop", id="cvxpy-scip-loop"),
]


def cities(n, seed):
    P = np.random.default_rng(seed).uniform(size=(n, 2))
    return np.linalg.norm(P[:, None] - P[None], axis=2)


def brute(D):
    n = len(D)
    return min(tour_length(D, (0, *perm)) for perm in itertools.permutations(range(1, n)))


@pytest.mark.parametrize("backend,solver,route", ROUTES)
def test_tsp_seven_cities_equals_brute_force(backend, solver, route):
    if (backend, solver) not in PAIRS:
        pytest.skip(f"{backend}/{solver} not installed")
    for seed in range(3):
        D = cities(7, seed)
        p = tsp_program(D)
        res = p.solve(backend=backend, solver=solver, time_limit=60)
        assert res.status == "optimal" and res.verified, res.summary()
        assert res.objective == pytest.approx(brute(D), rel=1e-9)
        assert res.bound <= res.objective + 1e-9 and res.gap <= 1e-6
        order = tour_from_edges(7, res.values["x"])
        assert sorted(order) == list(range(7))  # one tour through every city
        assert tour_length(D, order) == pytest.approx(res.objective)
        assert res.stats["route"] == route and res.stats["cuts"] >= 0
        assert res.max_violation <= 1e-9  # the separator finds nothing at the final point


def test_lazy_equals_the_written_out_model():
    D = cities(6, 11)
    full = tsp_program(D, lazy=False).solve()
    lazy = tsp_program(D).solve()
    assert full.objective == pytest.approx(lazy.objective, rel=1e-9) == pytest.approx(brute(D))


def test_loop_counts_rounds_and_cuts():
    D = cities(25, 4)
    res = tsp_program(D).solve(solver="highs")
    assert res.status == "optimal" and res.verified
    assert res.stats["rounds"] >= 1
    assert (res.stats["rounds"] == 1) == (res.stats["cuts"] == 0)  # each cut round re-solves
    assert len(components(25, res.values["x"])) == 1


def test_evaluate_checks_the_lazy_family():
    D = cities(6, 0)
    p = tsp_program(D)
    two_triangles = np.zeros(15)
    i, j = np.triu_indices(6, 1)
    for a, b in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)]:
        two_triangles[np.flatnonzero((i == a) & (j == b))] = 1
    obj, viol = p.evaluate({"x": two_triangles})  # degrees are 2, but two subtours
    assert viol == pytest.approx(2.0)


def test_separator_mistakes_are_clear():
    p = om.Program("bad")
    x = p.var("x", 2, lb=0, ub=1)
    p.maximize(om.sum(x))
    p.add_lazy(lambda v: [om.norm2(x) <= 1])
    with pytest.raises(ModelingError, match="linear constraints"):
        p.solve()
    with pytest.raises(TypeError, match="add_lazy takes a function"):
        p.add_lazy("not a function")


def test_separator_returning_satisfied_rows_ends_the_loop():
    p = om.Program("box")
    x = p.var("x", 2, lb=0, ub=1)
    p.maximize(om.sum(x))
    p.add_lazy(lambda v: [x[0] <= 0.5] if v["x"][0] > 0.5 else [x[0] <= 2.0])
    res = p.solve(solver="highs")
    assert res.status == "optimal" and res.objective == pytest.approx(1.5)
    assert res.stats["rounds"] == 2 and res.stats["cuts"] == 1
