r"""The solve path: one orchestrator for every solve optml makes.

.. code-block:: text

    solve(target, backend, solver, settings)
      ├─ Program ──────────────► select (class, backend, solver)  → SolverSpec
      │                          lower (cached) → start vector (this solve only)
      │                          reductions the solver needs (SOS1 → big-M, separable P, …)
      │                          backend adapter → RawSolution → invert reductions
      │                          certificate factory → Result
      └─ StructuredProblem ────► special solver for its kind (named, or the kind's default)
                                 → RawAnswer → certificate factory → Result
                                 (an automatic choice that gives up falls back to the
                                  problem's Program on a general solver, same clock)

Everything a user can ask of a solver travels in one
:class:`~optml.program.settings.SolveSettings`; every answer is certified by
:mod:`optml.solve.certificate`.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from optml.exceptions import ModelingError, SolverNotAvailableError
from optml.program.model import Program
from optml.program.reductions import invert_chain, reduce_for
from optml.program.result import Result
from optml.program.settings import SolveSettings
from optml.program.structured import StructuredProblem
from optml.solve.certificate import (
    TOLERANCES,
    certify_answer,
    certify_program,
    make_result,
)

logger = logging.getLogger("optml")


def __getattr__(name):
    # sensitivity helpers, imported on first use
    if name in ("fixed_lp_duals", "solve_fixed", "fixed_program"):
        from optml.solve import sensitivity

        return getattr(sensitivity, name)
    raise AttributeError(f"module 'optml.solve' has no attribute {name!r}")


__all__ = [
    "TOLERANCES",
    "fixed_lp_duals",
    "fixed_program",
    "solve_fixed",
    "SolveSettings",
    "StructuredProblem",
    "certify_answer",
    "certify_program",
    "make_result",
    "solve",
    "solve_program",
    "solve_structured",
]


def solve(
    target,
    backend: str = "auto",
    solver: str | None = None,
    settings: SolveSettings | None = None,
) -> Result:
    """Solve a :class:`~optml.program.Program` or a structured problem, and certify it.

    Parameters
    ----------
    target : Program or StructuredProblem
        What to solve. A structured problem goes to a special-purpose solver for its kind when
        one is named (``solver="active-set"``) or is the kind's default under
        ``backend="auto", solver=None``; otherwise its program goes to a general solver.
    backend, solver : str
        As everywhere in optml (``optml solvers`` lists them).
    settings : SolveSettings, optional
        Time limit, gap, threads, seed, verbosity, warm start, raw options.
    """
    settings = SolveSettings() if settings is None else settings
    if isinstance(target, StructuredProblem):
        return solve_structured(target, backend, solver, settings)
    if isinstance(target, Program):
        return solve_program(target, backend, solver, settings)
    raise TypeError(f"solve() takes a Program or a StructuredProblem, got {type(target).__name__}")


def solve_program(
    program: Program,
    backend: str = "auto",
    solver: str | None = None,
    settings: SolveSettings | None = None,
) -> Result:
    """Solve a program with a general solver (see the module docstring)."""
    from optml.backends.registry import select

    settings = (SolveSettings() if settings is None else settings).started()
    t0 = time.perf_counter()
    canon = program.canonical()
    if canon.n == 0:
        from optml.exceptions import ModelingError

        raise ModelingError(
            f"program {program.name!r} has no variables: add some with program.var(...)"
        )
    x0 = program.start_vector(canon, settings.warm_start)
    build = time.perf_counter() - t0
    b, s = select(canon.problem_class, backend, solver, canon=canon)
    spec = b.solvers[s]
    work = dataclasses.replace(canon, x0=x0)  # per solve: the cached lowering stays as it was
    t1 = time.perf_counter()
    stats = {}
    if program.lazy:
        from optml.solve.lazy import solve_lazy

        raw, final, stats = solve_lazy(program, work, b, s, settings)
        chain = []
    elif (settings.expired() and _large(canon)) or _presolve_overruns(canon, s, settings, x0):
        # building and lowering used the whole limit: a solver would overrun it (HiGHS spends
        # seconds in presolve on a large MILP before it reads its clock), so return the start;
        # a small program still gets the solver's minimum time (its setup costs little)
        final, chain = canon, []
        raw = _not_started(x0, spec)
    else:
        final = canon
        work, chain = reduce_for(work, spec)
        raw = invert_chain(b.solve(work, s, settings), chain)
    wall = time.perf_counter() - t1
    res = certify_program(
        program,
        final,  # with every lazy cut generated: its bound is a bound of the full problem
        raw,
        mip_gap=settings.mip_gap,
        solver=s,
        backend=b.name,
        build_time=build,
        solve_time=wall if program.lazy else (raw.solve_time or wall),
        start=_full_start(program, settings.warm_start),
        deadline=_certificate_deadline(settings),
    )
    res.stats.update(stats)
    if raw.options is not None:
        res.stats["solver_options"] = raw.options
    if chain:
        res.stats.setdefault("reductions", [red.name for red, _ in chain])
    return res


def _certificate_deadline(settings):
    """When the certificate's optional work (the KKT polish) must stop: the solve's deadline
    plus a share of the allowance every route has (10 % of the limit + 1 s), so that a
    solver stopped at its limit still gets a polished bound when the polish is quick."""
    if settings.deadline is None:
        return None
    return settings.deadline + 0.05 * (settings.time_limit or 0.0) + 0.5


def _full_start(program, warm_start):
    """The solve's starting values when they give every variable of ``program``, else None."""
    merged = dict(program.warm_start)
    merged.update(program.check_start(warm_start))
    if not merged or set(program.variables) - set(merged):
        return None
    if any(fam.violation(program, merged) > 1e-6 for fam in program.lazy):
        return None  # a start the lazy constraints cut off is no incumbent
    return merged


def _with_start(problem, res, settings):
    """The settings of a fallback solve: the special solver's incumbent as its warm start
    (unless the user gave one), so the general solver never starts from nothing."""
    if settings.warm_start is not None or not res.has_solution:
        return settings
    program = problem.program
    values = problem.complete_values(dict(res.values))
    start = {k: v for k, v in values.items() if k in program.variables}
    try:
        program.check_start(start)
    except (ValueError, TypeError, ModelingError):
        return settings
    return settings.replace(warm_start=start) if start else settings


#: nonzeros from which a solver's setup (presolve, factorisation) may take longer than the
#: 10 % + 1 s a time limit allows past itself (HiGHS: about 0.6 us a nonzero in presolve)
LARGE_NONZEROS = 500_000


def _large(canon) -> bool:
    nnz = canon.A.nnz + (canon.P.nnz if canon.has_quadratic else 0)
    return nnz >= LARGE_NONZEROS


#: nonzeros a second HiGHS's MIP presolve gets through (it reads no clock): a cautious guess
HIGHS_PRESOLVE_RATE = 1e5


def _presolve_overruns(canon, solver, settings, x0) -> bool:
    """Whether HiGHS's MIP presolve, which does not look at the clock, would likely outlast
    the time left (1.6-4.4 s on a 0.26M-nonzero tree MILP), when a complete start can be
    returned instead."""
    left = settings.remaining()
    if solver != "highs" or not canon.is_mip or left is None:
        return False
    if x0 is None or not np.all(np.isfinite(x0)):
        return False
    return left < canon.A.nnz / HIGHS_PRESOLVE_RATE


def _not_started(x0, spec):
    """The answer of a solve the clock stopped before the solver ran: the warm start (when it
    is complete) as the incumbent, no bound."""
    from optml.backends.base import RawSolution

    complete = x0 is not None and bool(np.all(np.isfinite(x0)))
    return RawSolution(
        status="time_limit",
        x=np.array(x0, dtype=float) if complete else None,
        message="the time left is shorter than the solver needs to start (building the model "
        "used it, or HiGHS's presolve, which reads no clock, would outlast it)",
    )


def solve_structured(
    problem: StructuredProblem,
    backend: str = "auto",
    solver: str | None = None,
    settings: SolveSettings | None = None,
) -> Result:
    """Solve a structured problem (see the module docstring)."""
    from optml.backends.registry import get_special, is_special

    settings = (SolveSettings() if settings is None else settings).started()
    named = is_special(solver)
    if named and backend not in ("auto", "optml"):
        raise SolverNotAvailableError(
            f"{solver!r} is optml's own algorithm; it takes backend='auto', not {backend!r}"
        )
    name = solver if named else None
    if name is None and solver is None and backend == "auto":
        name = problem.default_solver
    if name is None:
        return solve_program(problem.program, backend, solver, settings)
    sp = get_special(name)
    if not sp.accepts(problem):
        raise SolverNotAvailableError(
            f"solver {name!r} solves {list(sp.kinds)} problems, not {problem.kind!r}"
        )
    answer = sp.solve(problem, settings)
    res = certify_answer(
        problem,
        answer,
        solver=sp,
        gap_tol=sp.gap_tolerance(settings),
    )
    gave_up = res.status == "error" or (res.status == "optimal" and not res.verified)
    if not gave_up or named:
        return res
    # an automatic choice that gave up: the same problem as a program, on the same clock
    logger.info("%s: %s; solving the program instead", sp.name, res.message)
    if settings.expired():
        return res
    fallback = solve_program(problem.program, backend, None, _with_start(problem, res, settings))
    fallback.message = f"{sp.name} gave up ({res.message}); " + fallback.message
    fallback.build_time += res.build_time + res.solve_time
    return fallback


def special_settings_check(settings: SolveSettings, solver_name: str) -> None:
    """Raw options mean nothing to optml's own algorithms: refuse them with a clear error."""
    if settings.options:
        raise ValueError(
            f"solver {solver_name!r} (optml's own algorithm) takes no raw solver options; got "
            f"{sorted(settings.options)}. Use time_limit, mip_gap, verbose, and the "
            "solver_options keys 'threads' and 'seed'"
        )
