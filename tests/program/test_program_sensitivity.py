"""Duals of a MILP from its fixed program, checked against finite differences of the optimum."""

from __future__ import annotations

import numpy as np
import pytest

import optml as om
from optml.exceptions import ModelingError
from optml.solve.sensitivity import fixed_lp_duals, fixed_program, solve_fixed

EPS = 1e-3


def facility(seed=0, m=6, n=12, demand_rhs=None, cap_rhs=None):
    """Capacitated facility location: open sites (binary), ship (continuous); ``cap_rhs`` is
    the right-hand side of ``ship.sum(1) - cap * open <= cap_rhs`` (0 in the model)."""
    rng = np.random.default_rng(seed)
    S, C = rng.uniform(size=(m, 2)), rng.uniform(size=(n, 2))
    f = rng.uniform(2, 6, size=m)
    cost = np.linalg.norm(S[:, None] - C[None], axis=2)
    d0 = rng.integers(1, 5, size=n).astype(float)
    d = d0 if demand_rhs is None else demand_rhs
    cap = np.full(m, 0.4 * d0.sum())
    rhs = np.zeros(m) if cap_rhs is None else cap_rhs
    p = om.Program("cfl")
    y = p.var("open", m, domain="binary")
    x = p.var("ship", (m, n), lb=0)
    p.add(x.sum(axis=0) >= d, name="demand")
    p.add(x.sum(axis=1) - cap * y <= rhs, name="capacity")
    p.minimize(f @ y + om.sum(om.hstack([cost.ravel() @ x.flatten()])))
    return p, d, rhs


def _fixed_objective(p, res):
    r = fixed_program(p, res).solve()
    if r.status == "infeasible":  # a closed site's capacity below zero
        return np.inf
    assert r.status == "optimal"
    return r.objective


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fixed_lp_duals_match_finite_differences(seed):
    p, d, rhs = facility(seed)
    res = p.solve()
    assert res.status == "optimal" and res.problem_class == "MILP"
    fixed = solve_fixed(p, res)
    assert fixed.problem_class == "LP" and fixed.verified
    assert fixed.objective == pytest.approx(res.objective, rel=1e-9, abs=1e-9)
    duals = fixed.duals
    assert duals["demand"].shape == d.shape and duals["capacity"].shape == rhs.shape
    # the rows' right-hand sides moved one at a time, the integer decisions kept: the optimum
    # is convex in the right-hand side, so a dual lies between its one-sided derivatives
    for name, base in (("demand", d), ("capacity", rhs)):
        for j in range(0, base.size, max(1, base.size // 4)):
            objs = []
            for step in (-EPS, EPS):
                b = base.copy()
                b[j] += step
                kw = {"demand_rhs": b} if name == "demand" else {"demand_rhs": d, "cap_rhs": b}
                q, *_ = facility(seed, **kw)
                objs.append(_fixed_objective(q, res))
            assert np.isfinite(objs[1])  # more right-hand side keeps it feasible
            # the left derivative is -inf where less right-hand side is infeasible
            left = (fixed.objective - objs[0]) / EPS
            right = (objs[1] - fixed.objective) / EPS
            assert left - 1e-5 <= duals[name][j] <= right + 1e-5, (name, j, left, right)


def test_reduced_costs_of_fixed_integers_are_derivatives():
    p, *_ = facility(3)
    res = p.solve()
    fixed = solve_fixed(p, res)
    rc = fixed.reduced_costs["open"]
    y = np.round(res.values["open"])
    j = int(np.flatnonzero(y > 0.5)[0])  # an open site: its fixed value 1 lowered a little
    q = fixed_program(p, res)
    v = q.variables["open"]
    lb = np.array(v.lb)
    lb[j] -= EPS
    ub = np.array(v.ub)
    ub[j] -= EPS
    v.lb, v.ub = lb, ub
    r2 = q.solve()  # the site's capacity shrinks a little: still feasible
    assert r2.status == "optimal"
    assert (fixed.objective - r2.objective) / EPS == pytest.approx(rc[j], abs=1e-4)


def test_maximisation_sign_convention():
    # max 3a + 2b + 4z  s.t. a + b <= 4 + z (budget), a <= 3, z binary, a, b >= 0
    p = om.Program("mx")
    a = p.var("a", lb=0, ub=3)
    b = p.var("b", lb=0)
    z = p.var("z", domain="binary")
    p.add(a + b - z <= 4, name="budget")
    p.maximize(3 * a + 2 * b + 4 * z)
    res = p.solve()
    assert res.objective == pytest.approx(3 * 3 + 2 * 2 + 4)
    duals = fixed_lp_duals(p, res)
    # one more unit of budget buys one more b: +2
    assert float(duals["budget"]) == pytest.approx(2.0)


def test_indicator_and_sos1_become_constraints_and_bounds():
    p = om.Program("ind")
    x = p.var("x", 3, lb=0, ub=10)
    z = p.var("z", 3, domain="binary")
    for i in range(3):
        p.add_indicator(z[i], x[i] >= 2, name=f"min_run{i}")
    p.add(z.sum() <= 2, name="two")
    p.add(om.sum(x) >= 5, name="need")
    p.add_sos1(x)
    p.minimize(np.array([1.0, 2.0, 3.0]) @ x + np.array([4.0, 1.0, 1.0]) @ z)
    res = p.solve()
    assert res.status == "optimal"
    q = fixed_program(p, res)
    assert not q.indicators and not q.sos1 and q.problem_class == "LP"
    on = np.flatnonzero(np.round(res.values["z"]) > 0.5)
    names = {c.name for c in q.constraints}
    assert {f"min_run{i}" for i in on} <= names
    fr = q.solve()
    assert fr.objective == pytest.approx(res.objective, abs=1e-7)
    assert "need" in fr.duals
    # the program itself is unchanged
    assert p.problem_class == "MILP" and len(p.indicators) == 3 and len(p.sos1) == 1


def test_refusals():
    p, *_ = facility(0)
    with pytest.raises(ValueError, match="no solution"):
        fixed_program(p, om.Result(status="infeasible"))
    p.add_lazy(lambda values: [], name="nothing")
    res = om.Result(status="optimal", values={k: np.zeros(v.shape) for k, v in p.variables.items()})
    with pytest.raises(ModelingError, match="lazy"):
        fixed_program(p, res)
