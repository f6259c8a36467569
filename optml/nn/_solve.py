"""Settings and solves shared by the network functions (one clock, the caller's options).

Every solve made by :mod:`optml.nn` — bound tightening, verification, maximisation, training —
goes through :func:`optml.solve.solve` with settings derived from the caller's: the time left
on one clock, the caller's gap, threads, seed, verbosity and raw solver options.
"""

from __future__ import annotations

from optml.program.settings import SolveSettings


def call_settings(
    settings: SolveSettings | None = None,
    *,
    time_limit=None,
    mip_gap=None,
    verbose=False,
    solver_options=None,
) -> SolveSettings:
    """The settings of one public call, clock started (``settings`` wins when given)."""
    if settings is None:
        settings = SolveSettings.from_params(
            time_limit=time_limit,
            mip_gap=mip_gap,
            verbose=verbose,
            solver_options=solver_options,
        )
    return settings.started()


def solve_inside(program, backend, solver, settings: SolveSettings, **changes):
    """Solve ``program`` on the solve path with ``settings.for_internal(**changes)``."""
    from optml.solve import solve

    return solve(program, backend=backend, solver=solver, settings=settings.for_internal(**changes))
