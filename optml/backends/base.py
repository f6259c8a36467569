"""What every backend provides, and what it hands back.

A backend lowers a :class:`~optml.program.canonical.CanonicalForm` for one modelling layer or
solver API and returns a :class:`RawSolution` in the canonical (minimisation) sense. It declares
per solver what it supports (:class:`SolverSpec`); the solve path applies the reductions a solver
needs before the backend sees the form. Everything solver-neutral (reductions, mapping back to
names, the numpy check, the certificate) happens in :mod:`optml.solve`.

A special-purpose solver (:class:`SpecialSolver`) is an algorithm for one structured problem
kind (:class:`~optml.program.structured.StructuredProblem`): it receives the problem's data,
not a canonical form, and answers with a :class:`RawAnswer` that the same certificate factory
checks.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass, field

import numpy as np

ALL_CLASSES = ("LP", "QP", "SOCP", "EXP", "SDP", "MILP", "MIQP", "MISOCP", "MIEXP", "MISDP")


@dataclass
class SolverSpec:
    """One solver reachable through a backend."""

    name: str  # as the user knows it: "highs", "scip", "clarabel", ...
    classes: tuple[str, ...]
    module: str | None = None  # python module that must be importable
    executable: str | None = None  # or a program on PATH
    extra: str | None = None  # pip extra that installs it
    native_sos1: bool = False  # else SOS1 sets are rewritten with binaries (SOS1ToBigM)
    separable_quadratic: bool = False  # wants a diagonal P (SeparableQuadratic)
    warm_start: bool = True  # takes starting values
    duals: bool = True  # returns row duals of convex programs (for optml's certificate)
    time_limit: bool = True  # honours a time limit
    threads: bool = True  # takes a thread count
    seed: bool = False  # takes a random seed
    lazy_callbacks: bool = False  # enforces lazy constraints inside its branch and bound

    def is_available(self) -> bool:
        if self.module is not None:
            try:
                if importlib.util.find_spec(self.module) is None:
                    return False
            except (ImportError, ValueError):
                return False
        if self.executable is not None and shutil.which(self.executable) is None:
            return False
        return True


@dataclass
class RawSolution:
    """A backend's answer in the canonical (minimisation) sense.

    ``y`` and ``cone_duals`` follow the sign convention of :mod:`optml.program.certify`.
    ``objective`` and ``bound`` are on the canonical objective (``None``: not reported).
    """

    status: str
    x: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    y: np.ndarray | None = None
    cone_duals: list = field(default_factory=list)
    solve_time: float = 0.0
    message: str = ""
    solver_version: str = ""
    raw: object = None
    lazy_rows: object = None  # (A, lb, ub) of the lazy rows a solver added through callbacks
    options: dict | None = None  # the options handed to the solver, by the solver's own names


class Backend:
    """Base class; subclasses set ``name`` and ``solvers`` and implement :meth:`solve`."""

    name: str = ""
    solvers: dict[str, SolverSpec] = {}
    module: str = ""

    def is_available(self) -> bool:
        try:
            return importlib.util.find_spec(self.module) is not None
        except (ImportError, ValueError):
            return False

    def supports(self, solver: str, problem_class: str) -> bool:
        spec = self.solvers.get(solver)
        return spec is not None and problem_class in spec.classes

    def solve(self, canon, solver: str, settings) -> RawSolution:
        """Solve ``canon`` (already reduced for ``solver``) under ``settings``
        (:class:`~optml.program.settings.SolveSettings`; its ``remaining()`` is the time left).
        """
        raise NotImplementedError


@dataclass
class RawAnswer:
    """A special-purpose solver's answer, in the program's own units and sense.

    ``values`` by variable name of the problem's program; ``bound`` a proven bound on the
    optimum (None: none proven); ``status`` the solver's claim, checked by the certificate
    factory; ``stats`` counts (iterations, nodes, rounds, columns, ...) for the result.
    """

    status: str
    values: dict | None = None
    objective: float | None = None
    bound: float | None = None
    message: str = ""
    stats: dict = field(default_factory=dict)
    objective_check: float | None = None  # given when the solver checks on raw data itself
    max_violation: float | None = None
    kkt_residual: float = float("nan")
    build_time: float = 0.0
    solve_time: float = 0.0


class SpecialSolver:
    """A special-purpose algorithm registered as a solver (see the module docstring).

    Subclasses set ``name`` (as the user names it in ``solver=``), ``kinds`` (the structured
    problem kinds it accepts), ``problem_class`` (the class of their programs, for listings),
    ``description`` and ``reference``, and implement :meth:`solve`.
    """

    name: str = ""
    kinds: tuple[str, ...] = ()
    problem_class: str = ""
    description: str = ""
    reference: str = ""
    #: its problems are combinatorial: ``optimal`` is held to the user's ``mip_gap`` (at least
    #: the table's gap), as for a mixed-integer solver
    is_mip: bool = False
    #: a gap tolerance of its own (None: the solve path's table)
    gap_tol: float | None = None

    def gap_tolerance(self, settings) -> float:
        """The gap within which its ``optimal`` is accepted under ``settings``."""
        from optml.solve.certificate import gap_tolerance

        return gap_tolerance(self.is_mip, settings.mip_gap, self.gap_tol)

    def is_available(self) -> bool:
        return True

    def accepts(self, problem) -> bool:
        return getattr(problem, "kind", None) in self.kinds

    def solve(self, problem, settings) -> RawAnswer:  # pragma: no cover - abstract
        raise NotImplementedError
