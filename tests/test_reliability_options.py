"""A misspelled solver option is an error naming it, on every route (issue 17: R14)."""

from __future__ import annotations

import numpy as np
import pytest

import optml as om


def _program():
    p = om.Program("options")
    x = p.var("x", 2, lb=0, ub=3)
    p.add(x[0] + x[1] <= 2, name="cap")
    p.maximize(np.array([1.0, 2.0]) @ x)
    return p


ROUTES = [("highs", "highs"), ("pyomo", "highs"), ("pyomo", "scip")]


@pytest.mark.parametrize("backend, solver", ROUTES)
def test_R14_misspelled_solver_option_is_named(backend, solver):
    if solver == "scip":
        pytest.importorskip("pyscipopt")
    if backend == "pyomo":
        pytest.importorskip("pyomo")
    with pytest.raises(ValueError, match=r"no (option|parameter) 'tme_limit'"):
        _program().solve(backend=backend, solver=solver, tme_limit=1)


@pytest.mark.parametrize("backend, solver", ROUTES[:2])
def test_R14_highs_suggests_the_option_and_checks_values(backend, solver):
    if backend == "pyomo":
        pytest.importorskip("pyomo")
    with pytest.raises(ValueError, match=r"did you mean 'time_limit'"):
        _program().solve(backend=backend, solver=solver, tme_limit=1)
    with pytest.raises(ValueError, match=r"'presolve' cannot take the value True"):
        _program().solve(backend=backend, solver=solver, presolve=True)


def test_R14_scip_suggests_the_parameter():
    pytest.importorskip("pyscipopt")
    with pytest.raises(ValueError, match=r"did you mean .*'limits/time'"):
        _program().solve(backend="pyomo", solver="scip", tme_limit=1)


@pytest.mark.parametrize(
    "backend, solver, options",
    [
        ("highs", "highs", {"presolve": "off"}),
        ("pyomo", "highs", {"presolve": "off"}),
        ("pyomo", "scip", {"limits/nodes": 1000}),
    ],
)
def test_R14_valid_options_still_pass(backend, solver, options):
    if solver == "scip":
        pytest.importorskip("pyscipopt")
    res = _program().solve(backend=backend, solver=solver, **options)
    assert res.status == "optimal" and res.objective == pytest.approx(4.0)


def test_R14_estimator_with_misspelled_option():
    from optml.regression import LeastAbsoluteDeviation

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    y = X @ np.array([1.0, -1.0]) + 0.1 * rng.normal(size=20)
    with pytest.raises(ValueError, match="tme_limit"):
        LeastAbsoluteDeviation(solver_options={"tme_limit": 1}).fit(X, y)
