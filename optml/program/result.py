"""The result of a solve: status, objective, bound, gap, times, values, and optml's own checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

STATUSES = (
    "optimal",
    "time_limit",
    "infeasible",
    "unbounded",
    "infeasible_or_unbounded",
    "interrupted",
    "feasible",
    "error",
)


@dataclass
class Result:
    """What a solve returns.

    Attributes
    ----------
    status : {"optimal", "time_limit", "infeasible", "unbounded", "infeasible_or_unbounded", \
"interrupted", "feasible", "error"}
        ``infeasible_or_unbounded`` where the solver could not tell which (a MIP presolve
        often cannot); ``interrupted`` after Ctrl-C, with the incumbent kept; ``feasible``
        when a method that is not exact (a heuristic with a bound) finished with a point and a
        bound that do not meet, with no limit reached.
    objective : float
        Objective value of the returned point, recomputed with numpy (user's sense, the
        program's own units: what ``program.evaluate(values)`` returns).
    bound : float
        Best proven bound on the optimum (dual bound), in the same units. For a convex program
        it is computed by optml from the solver's duals (a Lagrangian bound), not taken on
        trust; a bound beyond the objective is discarded, never clipped.
    gap : float
        Relative gap ``|objective - bound| / max(1, |objective|)`` from the checked objective;
        ``inf`` without a bound.
    solver_objective : float
        The solver's own claim of the objective (``nan`` when it reported none).
    model_objective, model_bound : float
        Objective and bound in the units the estimator documents (e.g. scikit-learn's scale of
        a regression loss), where they differ from the program's; ``nan`` otherwise.
    stats : dict
        Counts of the solve (iterations, nodes, rounds, cuts, columns), where reported.
    duals : dict
        Constraint name -> dual values shaped like the constraint (convex programs solved by a
        solver that returns duals): the rate of change of the optimal objective with the
        constraint's right-hand side (``a @ x <= 8``: with 8). The sign follows the constraint
        as stored (``program.summary()`` shows it): Python evaluates ``expr >= v`` for a
        variable ``v`` as ``v <= expr``, so with variables on both sides the stored side and
        the dual's sign are those of the reflected form.
    reduced_costs : dict
        Variable name -> reduced costs (the objective's rate of change with an active bound).
    raw : object
        The solver's own object (a ``highspy.Highs``, a cvxpy problem, a Pyomo model).
    values : dict
        Variable name -> numpy array.
    objective_check, max_violation : float
        The objective recomputed with numpy from the expression tree, and the largest violation
        of any constraint, bound or integrality at the returned point.
    verified : bool
        True when the numpy check agrees with the solver (violation and objective within
        tolerance) and, for ``optimal``, the gap is within tolerance.
    """

    status: str
    objective: float = float("nan")
    bound: float = float("nan")
    gap: float = float("inf")
    values: dict[str, np.ndarray] = field(default_factory=dict)
    solver: str = ""
    backend: str = ""
    build_time: float = 0.0
    solve_time: float = 0.0
    problem_class: str = ""
    objective_check: float = float("nan")
    max_violation: float = float("nan")
    kkt_residual: float = float("nan")
    verified: bool = False
    solver_objective: float = float("nan")
    model_objective: float = float("nan")
    model_bound: float = float("nan")
    stats: dict = field(default_factory=dict)
    duals: dict = field(default_factory=dict)
    reduced_costs: dict = field(default_factory=dict)
    message: str = ""
    solver_version: str = ""
    raw: Any = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    def __getstate__(self):
        # the solver's raw object (a cvxpy / Pyomo model, a Highs instance) is often not
        # picklable; a pickled result keeps everything else
        state = dict(self.__dict__)
        state["raw"] = None
        return state

    def set_model_units(self, scale: float, offset: float = 0.0) -> Result:
        """Record objective and bound in the estimator's units: ``scale * value + offset``."""
        self.model_objective = float(scale * self.objective + offset)
        b = self.bound
        self.model_bound = float(scale * b + offset) if np.isfinite(b) else float("nan")
        return self

    @property
    def has_solution(self) -> bool:
        return bool(self.values)

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def summary(self) -> str:
        lines = [
            f"status        {self.status}" + ("" if self.verified else "  (NOT verified)"),
            f"solver        {self.backend}/{self.solver} {self.solver_version}".rstrip(),
            f"class         {self.problem_class}",
            f"objective     {self.objective:.10g}",
            f"bound         {self.bound:.10g}",
            f"gap           {self.gap:.3g}",
            f"numpy check   objective {self.objective_check:.10g}, "
            f"max violation {self.max_violation:.3g}",
            f"times         build {self.build_time:.3f} s, solve {self.solve_time:.3f} s",
        ]
        if self.message:
            lines.append(f"message       {self.message}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"Result(status={self.status!r}, objective={self.objective:.6g}, "
            f"bound={self.bound:.6g}, gap={self.gap:.3g}, solver='{self.backend}/{self.solver}', "
            f"solve_time={self.solve_time:.3f})"
        )

    # ----------------------------------------------------------------- notebooks
    def _repr_html_(self) -> str:
        """A notebook shows the certificate as a table (optml.program.display)."""
        from optml.program.display import result_html

        return result_html(self)

    def _repr_markdown_(self) -> str:
        from optml.program.display import result_markdown

        return result_markdown(self)


def relative_gap(objective: float, bound: float) -> float:
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    return float(abs(objective - bound) / max(1.0, abs(objective)))
