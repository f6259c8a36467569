r"""The round loop shared by the outer-approximation solvers of convex MINLPs.

Each round builds the relaxation MILP from the cuts gathered so far, solves it on the solve
path (the caller's backend / solver, the time left of one clock), raises the lower bound to the
MILP's bound, lets the caller refit the support the MILP chose exactly (which may improve the
incumbent) and, unless the gap is closed or the time is out, lets the caller add cuts at the
new points (Kelley 1960; Duran & Grossmann 1986).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optml.backends.base import RawAnswer
from optml.backends.registry import is_special
from optml.program import Program, relative_gap
from optml.solve import solve_program

__all__ = ["OARounds", "outer_approximation"]


@dataclass
class OARounds:
    """What the loop ends with: the best MILP bound (``-inf`` when none), the rounds run, the
    status for the answer and the name of the sub-solver used (``""`` when none ran)."""

    lower: float
    rounds: int
    status: str
    sub_name: str

    def answer(self, values: dict, objective: float, t0: float) -> RawAnswer:
        """The solver's answer: the incumbent ``values`` of exact ``objective`` (the best
        refit), the best MILP bound, the rounds run; ``t0`` is the solve's start."""
        return RawAnswer(
            status=self.status,
            values=values,
            objective=objective,
            bound=self.lower if np.isfinite(self.lower) else None,
            message=f"outer approximation: {self.rounds} MILP rounds{self.sub_name}; objective "
            "= exact objective of the refitted support, bound = MILP bound",
            stats={"rounds": self.rounds},
            solve_time=time.perf_counter() - t0,
        )


def outer_approximation(
    build: Callable[[], Program],
    refit: Callable[[object], float],
    add_cuts: Callable[[object], None],
    *,
    upper: float,
    problem,
    settings,
    target: float,
) -> OARounds:
    """Run the rounds until ``relative_gap(upper, lower) <= target``, the clock runs out or
    ``problem.max_rounds`` rounds are done.

    ``build()`` gives the relaxation MILP of the current cuts; ``refit(result)`` fits the
    support of the MILP's answer exactly, keeps the incumbent up to date and returns the
    incumbent's objective; ``add_cuts(result)`` adds cuts at the MILP's and the refit's points.
    ``problem`` supplies ``sub_solver``, ``sub_backend`` and ``max_rounds``.
    """
    sub = problem.sub_solver
    solver = None if sub is None or is_special(sub) else sub
    lower, rounds, last = -np.inf, 0, None
    for rounds in range(1, int(problem.max_rounds) + 1):  # noqa: B007
        res = solve_program(
            build(), backend=problem.sub_backend, solver=solver, settings=settings.for_internal()
        )
        last = res
        if np.isfinite(res.bound):
            lower = max(lower, res.bound)
        if not res.has_solution:
            break  # out of time (or the solver failed) inside a round: keep what we have
        upper = refit(res)
        if relative_gap(upper, lower) <= target or settings.expired():
            break
        add_cuts(res)
    if relative_gap(upper, lower) <= target:
        status = "optimal"
    elif (
        last is not None
        and not last.has_solution
        and last.status not in ("time_limit", "interrupted")
    ):
        status = "error"
    else:
        status = "time_limit"
    sub_name = "" if last is None else f" ({last.backend}/{last.solver})"
    return OARounds(lower=lower, rounds=rounds, status=status, sub_name=sub_name)
