"""What every backend provides, and what it hands back.

A backend lowers a :class:`~optml.program.canonical.CanonicalForm` for one modelling layer or
solver API and returns a :class:`RawSolution` in the canonical (minimisation) sense. Everything
solver-neutral (mapping back to names, the numpy check, the certificate) happens in
:func:`optml.backends.solve_program`.
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
    native_sos1: bool = False

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

    def solve(self, canon, solver: str, time_limit, mip_gap, verbose, options) -> RawSolution:
        raise NotImplementedError
