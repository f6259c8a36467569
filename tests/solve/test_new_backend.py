"""The worked example of docs/architecture.md: a new backend is one adapter and one registry
entry. Here scipy's ``linprog`` becomes the backend "scipy" for LPs; the solve path does the
rest (selection, reductions, certificate)."""

from __future__ import annotations

import time

import numpy as np
import pytest

import optml as om
from optml.backends import Backend, RawSolution, SolverSpec, register
from optml.backends import registry as reg


# --- the adapter (what a new backend module contains) --------------------------------------
class ScipyBackend(Backend):
    name = "scipy"
    module = "scipy"
    solvers = {"linprog": SolverSpec("linprog", ("LP",), module="scipy", threads=False)}

    def solve(self, canon, solver, settings):
        from scipy.optimize import linprog

        A = canon.A.tocsr()
        lo, hi = canon.row_lb, canon.row_ub
        eq = lo == hi
        up, dn = np.isfinite(hi) & ~eq, np.isfinite(lo) & ~eq
        opts = dict(settings.options)
        if settings.remaining() is not None:
            opts["time_limit"] = settings.remaining()
        t0 = time.perf_counter()
        r = linprog(
            canon.q,
            A_ub=np.vstack([A[up].toarray(), -A[dn].toarray()]),
            b_ub=np.r_[hi[up], -lo[dn]],
            A_eq=A[eq].toarray() if eq.any() else None,
            b_eq=lo[eq] if eq.any() else None,
            bounds=list(zip(canon.lb, canon.ub, strict=True)),
            method="highs",
            options=opts,
        )
        status = {0: "optimal", 1: "time_limit", 2: "infeasible", 3: "unbounded"}.get(
            r.status, "error"
        )
        if r.x is None:
            return RawSolution(status=status, message=r.message)
        # duals in optml's convention: y_i > 0 when the lower row bound is active
        y = np.zeros(canon.m)
        mu = r.ineqlin.marginals  # <= 0 for A_ub x <= b_ub
        y[np.flatnonzero(up)] = mu[: up.sum()]
        y[np.flatnonzero(dn)] -= mu[up.sum() :]
        if eq.any():
            y[np.flatnonzero(eq)] = r.eqlin.marginals
        return RawSolution(
            status=status,
            x=r.x,
            objective=float(r.fun) + canon.c0,
            y=y,
            solve_time=time.perf_counter() - t0,
            message=r.message,
        )


# --- the registry entry --------------------------------------------------------------------
@pytest.fixture
def scipy_backend():
    register(ScipyBackend())
    yield
    reg._REGISTRY.pop("scipy", None)
    reg._AVAILABLE = None


def test_new_backend_solves_and_is_certified(scipy_backend):
    rng = np.random.default_rng(0)
    A = rng.uniform(1, 3, size=(6, 4))
    p = om.Program("diet")
    x = p.var("x", shape=4, lb=0)
    p.add(A @ x >= 1, name="needs")
    p.add(om.sum(x) <= 10, name="budget")
    p.minimize(np.array([3.0, 2.0, 4.0, 1.5]) @ x)
    res = p.solve(backend="scipy")
    ref = p.solve(solver="highs")
    assert res.backend == "scipy" and res.solver == "linprog"
    assert res.status == "optimal" and res.verified
    assert res.objective == pytest.approx(ref.objective, rel=1e-9)
    assert res.gap <= 1e-9  # optml's Lagrangian bound from the adapter's duals
    assert any(r["backend"] == "scipy" for r in om.backends.available())
    with pytest.raises(om.exceptions.SolverNotAvailableError, match="no installed solver for MILP"):
        x2 = p.var("z", domain="binary")
        p.add(x2 <= 1)
        p.solve(backend="scipy")
