r"""The one certificate factory: every :class:`~optml.program.Result` is made here.

Whichever route produced an answer (a general solver through a backend, or a special-purpose
algorithm), the same steps turn it into a result:

1. the point is re-evaluated with numpy: objective and largest violation of every constraint,
   bound and integrality (:meth:`Program.evaluate`, or a structured problem's own numpy check);
2. the reported ``objective`` is that checked value, never the solver's claim (kept apart as
   ``solver_objective``);
3. the bound is independent of the point: a mixed-integer solver's dual bound, optml's
   Lagrangian bound from the duals of a convex program (:func:`~optml.program.lagrangian_bound`),
   or the bound a special-purpose algorithm proves. A bound that lies beyond the checked
   objective by more than round-off is discarded (it cannot be valid), never clipped into a
   zero gap;
4. ``gap = |objective - bound| / max(1, |objective|)``; ``verified`` is True when the numpy
   check agrees with the solver and, for ``optimal``, the gap is within tolerance.

The tolerances are one table, :data:`TOLERANCES`.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from optml.exceptions import SolverAccuracyWarning
from optml.program.certify import lagrangian_bound
from optml.program.result import Result, relative_gap

logger = logging.getLogger("optml")

#: every tolerance of the certificate, in one place
TOLERANCES = {
    # largest violation accepted, times the largest row coefficient (capped at 1e3)
    "feasibility": 1e-6,
    # |solver's objective - numpy objective| <= objective * max(1, |objective|) + 1e-7
    "objective": 1e-6,
    # a convex program (or a special solver without its own) counts optimal within this gap
    "gap": 1e-4,
    # the smallest gap a mixed-integer "optimal" is held to (with the user's mip_gap above it)
    "gap_mip_floor": 1e-6,
    # a Lagrangian bound counts only when the stationarity residual is below this
    "kkt": 1e-5,
    # a bound beyond the checked objective by more than this (relative) is not valid
    "bound_excess": 1e-6,
}


def gap_tolerance(is_mip: bool, mip_gap: float | None, own: float | None = None) -> float:
    """The gap within which an ``optimal`` claim is accepted."""
    if own is not None:
        return float(own)
    if is_mip:
        return max(TOLERANCES["gap"], float(mip_gap or 0.0), TOLERANCES["gap_mip_floor"])
    return TOLERANCES["gap"]


def make_result(
    *,
    status: str,
    sense: int,
    values: dict | None,
    objective_check: float = float("nan"),
    max_violation: float = float("nan"),
    solver_objective: float | None = None,
    bound: float | None = None,
    gap_tol: float = TOLERANCES["gap"],
    feas_scale: float = 1.0,
    solver: str = "",
    backend: str = "",
    problem_class: str = "",
    build_time: float = 0.0,
    solve_time: float = 0.0,
    message: str = "",
    solver_version: str = "",
    kkt_residual: float = float("nan"),
    stats: dict | None = None,
    raw=None,
) -> Result:
    """Build a certified :class:`Result` (see the module docstring).

    ``objective_check``/``max_violation`` are the numpy check of ``values``;
    ``solver_objective`` the solver's own claim (None: not reported); ``bound`` a proven bound
    in the user's sense (None: none); ``sense`` +1 for minimisation, -1 for maximisation.
    """
    res = Result(
        status=status,
        solver=solver,
        backend=backend,
        build_time=build_time,
        solve_time=solve_time,
        problem_class=problem_class,
        message=message,
        solver_version=solver_version,
        raw=raw,
        kkt_residual=kkt_residual,
        stats=dict(stats or {}),
    )
    if bound is not None and not abs(bound) < 1e19:  # solvers' "infinity" means no bound
        bound = None
    if not values:
        if res.status == "optimal":
            res.status = "error"
            res.message = _join(res.message, "solver said optimal but gave no point")
        if bound is not None and np.isfinite(bound):
            res.bound = float(bound)
        return res
    res.values = values
    res.objective_check = float(objective_check)
    res.max_violation = float(max_violation)
    res.solver_objective = float("nan") if solver_objective is None else float(solver_objective)
    res.objective = (
        res.objective_check if np.isfinite(res.objective_check) else res.solver_objective
    )
    why = []
    if bound is not None and np.isfinite(bound) and np.isfinite(res.objective):
        scale = max(1.0, abs(res.objective))
        excess = sense * (bound - res.objective)  # > 0: the bound claims more than the point
        if excess > TOLERANCES["bound_excess"] * scale:
            why.append(
                f"bound {bound:.10g} lies beyond the objective {res.objective:.10g} of the "
                "point: discarded"
            )
            bound = None
        elif excess > 0:
            bound = res.objective  # round-off
    if bound is not None and np.isfinite(bound):
        res.bound = float(bound)
    res.gap = relative_gap(res.objective, res.bound)
    scale = max(1.0, abs(res.objective_check)) if np.isfinite(res.objective_check) else 1.0
    obj_ok = not np.isfinite(res.solver_objective) or (
        abs(res.objective_check - res.solver_objective) <= TOLERANCES["objective"] * scale + 1e-7
    )
    feas_ok = bool(res.max_violation <= TOLERANCES["feasibility"] * max(1.0, feas_scale))
    gap_ok = res.status != "optimal" or res.gap <= max(gap_tol, TOLERANCES["gap_mip_floor"])
    res.verified = bool(obj_ok and feas_ok and gap_ok and not why)
    if not feas_ok:
        why.append(f"largest constraint violation {res.max_violation:.3g}")
    if not obj_ok:
        why.append(
            f"objective {res.solver_objective:.10g} but numpy gives {res.objective_check:.10g}"
        )
    if not gap_ok:
        why.append(
            f"reported optimal but the certified bound {res.bound:.10g} leaves gap {res.gap:.3g}"
        )
    if why:
        msg = f"{res.backend}/{res.solver}: answer fails optml's check: " + "; ".join(why)
        res.message = _join(res.message, msg)
        warnings.warn(msg, SolverAccuracyWarning, stacklevel=4)
    return res


def certify_program(
    program, canon, raw, *, mip_gap=None, start=None, deadline=None, **info
) -> Result:
    """The result of a general solver's :class:`~optml.backends.base.RawSolution` for
    ``program`` (lowered to ``canon``): names, numpy check, bound, gap.

    ``start`` (values of every variable of ``program``, the solve's warm start) is the
    incumbent when the solver returns no point of its own (a solver may stop at its time
    limit before it reads a start): checked by numpy like any other point. ``deadline`` (the
    solve's clock) bounds the certificate's KKT polish."""
    sense = canon.sense
    x = raw.x
    usable = (
        x is not None
        and raw.status not in ("infeasible", "unbounded", "infeasible_or_unbounded")
        and np.all(np.isfinite(np.asarray(x, dtype=float)))
    )
    bound = raw.bound
    if bound is not None and not abs(bound) < 1e19:
        bound = None
    kkt = float("nan")
    values = None
    check = viol = float("nan")
    if usable:
        x = np.asarray(x, dtype=float)
        values = canon.split(x)
        check, viol = program.evaluate(values)
        if not canon.is_mip and raw.y is not None:
            # optml's own certificate replaces whatever the solver claims
            lag, kkt = lagrangian_bound(canon, x, raw.y, raw.cone_duals, deadline=deadline)
            bound = lag if np.isfinite(lag) and kkt <= TOLERANCES["kkt"] else None
    message = raw.message
    if not usable and start is not None and raw.status in ("time_limit", "interrupted"):
        values = start
        check, viol = program.evaluate(values)
        message = f"{message}; the solver returned no point: the warm start is the incumbent"
    claim = None
    if usable and raw.objective is not None and raw.status == "optimal":
        claim = sense * raw.objective
    res = make_result(
        status=raw.status,
        sense=sense,
        values=values,
        objective_check=check,
        max_violation=viol,
        solver_objective=claim,
        bound=None if bound is None else sense * bound,
        gap_tol=gap_tolerance(canon.is_mip, mip_gap),
        feas_scale=_row_scale(canon),
        problem_class=canon.problem_class,
        message=message,
        solver_version=raw.solver_version,
        raw=raw.raw,
        kkt_residual=kkt,
        **info,
    )
    if usable and not canon.is_mip and raw.y is not None:
        res.duals, res.reduced_costs = _duals_by_name(program, canon, x, raw.y)
    return res


def _duals_by_name(program, canon, x, y):
    """Row duals by constraint name and reduced costs by variable name, in the user's sense:
    the rate of change of the optimal objective with the constraint's right-hand side (and
    with a variable's active bound)."""
    sense = canon.sense
    y = np.asarray(y, dtype=float)
    shapes = {c.name: c.shape for c in program.constraints}
    duals = {}
    for name, a, b in canon.row_blocks:
        if name is None or b > y.size:
            continue
        val = sense * y[a:b]
        shape = shapes.get(name)
        duals[name] = (
            val.reshape(shape) if shape is not None and val.size == int(np.prod(shape)) else val
        )
    r = canon.P @ x + canon.q - canon.A.T @ y
    reduced = {k: sense * v for k, v in canon.split(r).items()}
    return duals, reduced


def certify_answer(problem, answer, *, solver, gap_tol, **info) -> Result:
    """The result of a special-purpose solver's :class:`~optml.backends.base.RawAnswer`:
    the structured problem's own numpy check, the proven bound, the gap."""
    check = viol = float("nan")
    if answer.values:
        check, viol = problem.evaluate(answer.values)
    return make_result(
        status=answer.status,
        sense=problem.sense,
        values=answer.values,
        objective_check=check,
        max_violation=viol,
        solver_objective=answer.objective,
        bound=answer.bound,
        gap_tol=gap_tol,
        solver=solver.name,
        backend="optml",
        problem_class=solver.problem_class,
        build_time=answer.build_time,
        solve_time=answer.solve_time,
        message=answer.message,
        kkt_residual=answer.kkt_residual,
        stats=answer.stats,
        **info,
    )


def _row_scale(canon) -> float:
    if canon.A.nnz == 0:
        return 1.0
    return float(min(1e3, np.abs(canon.A.data).max()))


def _join(a: str, b: str) -> str:
    return (a + "; " + b).strip("; ")
