r"""Duals of a mixed-integer program: the *fixed* program at a solution.

A mixed-integer program has no duals of its own. What an operations researcher reads instead
(CPLEX's and Gurobi's "fixed model") are the duals of the continuous program left when every
integer decision is fixed at its value in the solution:

.. math::

    \min_x\ f(x) \quad\text{s.t.}\quad g(x) \le 0,\quad x_j = \hat x_j\ (j \in I),

an LP for a MILP (a QP or SOCP for an MIQP or MISOCP). Its duals are the rates of change of
the optimal objective with each right-hand side *while the integer decisions stay as they
are*; the reduced costs of the fixed integer variables are the rates of change with their
fixed values. Indicator constraints whose indicator is on at the solution become ordinary
constraints under the indicator's name (off: dropped); an SOS1 set keeps its zero entries at
zero.

.. code-block:: python

    res = p.solve()                           # a MILP
    fixed = solve_fixed(p, res)               # the fixed LP, certified like any solve
    fixed.duals["demand"]                     # by constraint name, shaped like the block
    fixed_lp_duals(p, res)                    # the same dict in one call

The fixed program is solved on the one solve path (:func:`optml.solve.solve`), so its answer
carries the usual certificate; its objective equals the MIP objective at ``res``.
"""

from __future__ import annotations

import copy

import numpy as np

from optml.exceptions import ModelingError

__all__ = ["fixed_lp_duals", "fixed_program", "solve_fixed"]


def fixed_program(program, result):
    """A copy of ``program`` with every integer variable fixed at its value in ``result``.

    The copy is continuous (LP, QP, SOCP, ...): integer and binary variables become continuous
    variables with ``lb = ub = round(value)``; indicators on at the solution become
    constraints named after the indicator (off: dropped); SOS1 sets fix their zero entries at
    zero. ``program`` itself is not changed.

    Raises
    ------
    ValueError
        ``result`` holds no point (an infeasible or failed solve).
    ModelingError
        The program has lazy constraint families (their rows on continuous variables are not
        known to the copy).
    """
    values = getattr(result, "values", None)
    if not values:
        status = getattr(result, "status", None)
        raise ValueError(
            f"the result holds no solution (status {status!r}); the fixed program needs the "
            "point of a solve that found one"
        )
    missing = [k for k in program.variables if k not in values]
    if missing:
        raise ValueError(
            f"the result has no values for variables {missing}: pass the result of solving "
            "this program"
        )
    if program.lazy:
        raise ModelingError(
            f"program {program.name!r} has lazy constraint families "
            f"{[f.name for f in program.lazy]}: the fixed program would miss their rows on "
            "continuous variables. Add the cuts that matter as constraints first"
        )
    fixed = copy.deepcopy(program)
    fixed.name = f"{program.name}_fixed"
    point = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    # indicators: on -> the constraint (under the indicator's name), off -> nothing
    indicators = list(fixed.indicators)
    fixed.indicators.clear()
    for ind in indicators:
        on = np.abs(np.atleast_1d(ind.z.value(point)).ravel() - ind.active) < 0.5
        if not on.any():
            continue
        e = ind.con.expr.flatten()
        if on.size > 1 and not on.all():
            e = e[np.flatnonzero(on)]
        fixed.add(_compare(e, ind.con.sense), name=_fresh(fixed, str(ind.name)))
    # SOS1: entries at zero stay at zero (the nonzero one is free)
    sos = list(fixed.sos1)
    fixed.sos1.clear()
    for s in sos:
        v = fixed.variables[s.var.name]
        x = np.asarray(point[v.name], dtype=float).ravel()
        zero = s.index[np.abs(x[s.index]) <= 1e-9 * max(1.0, float(np.abs(x).max(initial=0)))]
        lb, ub = np.array(v.lb), np.array(v.ub)
        lb[zero], ub[zero] = 0.0, 0.0
        _set_bounds(v, lb, ub)
    # integer decisions at their values
    for name, v in fixed.variables.items():
        if not v.is_integer:
            continue
        x = np.clip(np.round(np.asarray(point[name], dtype=float).ravel()), v.lb, v.ub)
        v.domain = "continuous"
        _set_bounds(v, x, x)
    fixed._touch()
    return fixed


def solve_fixed(program, result, backend: str = "auto", solver: str | None = None, **options):
    """Solve :func:`fixed_program` on the solve path; returns its certified
    :class:`~optml.program.Result`, with ``duals`` by constraint name and ``reduced_costs``
    by variable name (the fixed integer variables' reduced costs included).

    ``options`` are those of :meth:`optml.Program.solve` (``time_limit``, ``verbose``, raw
    solver options).
    """
    return fixed_program(program, result).solve(backend=backend, solver=solver, **options)


def fixed_lp_duals(program, result, backend: str = "auto", solver: str | None = None, **options):
    """The duals of the fixed program by constraint name (see the module docstring).

    Raises :class:`~optml.exceptions.SolveError` when the fixed program is not solved to a
    verified optimum or its solver returned no duals.
    """
    from optml.exceptions import SolveError

    res = solve_fixed(program, result, backend=backend, solver=solver, **options)
    if res.status != "optimal" or not res.duals:
        raise SolveError(
            f"the fixed program of {program.name!r} ended with status {res.status!r}"
            + ("" if res.duals else " and no duals")
            + f" ({res.backend}/{res.solver}: {res.message}); choose a solver that returns "
            "duals, e.g. backend='highs'"
        )
    return res.duals


def _compare(e, sense):
    if sense == "<=":
        return e <= 0
    if sense == ">=":
        return e >= 0
    return e == 0


def _fresh(program, name: str) -> str:
    taken = {c.name for c in program.constraints}
    if name not in taken:
        return name
    k = 1
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


def _set_bounds(v, lb, ub) -> None:
    # widen first so that no intermediate state has lb > ub
    v.ub = np.inf
    v.lb = np.reshape(lb, v.shape)
    v.ub = np.reshape(ub, v.shape)
