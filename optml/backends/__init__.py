"""Backends: one adapter module each, registered in :mod:`optml.backends.registry`.

A backend reads a canonical form (already reduced for the solver by the solve path) and hands
back a :class:`RawSolution`; selection, reductions and certificates live in :mod:`optml.solve`.
Special-purpose solvers (:class:`SpecialSolver`) are registered in the same registry.
"""

from optml.backends.base import (
    ALL_CLASSES,
    Backend,
    RawAnswer,
    RawSolution,
    SolverSpec,
    SpecialSolver,
)
from optml.backends.registry import (
    PREFERENCE,
    available,
    backends,
    builtin_backend_names,
    declare_special,
    get_backend,
    get_special,
    is_special,
    register,
    register_special,
    select,
    special_solvers,
)

__all__ = [
    "ALL_CLASSES",
    "Backend",
    "PREFERENCE",
    "RawAnswer",
    "RawSolution",
    "SolverSpec",
    "SpecialSolver",
    "available",
    "backends",
    "builtin_backend_names",
    "declare_special",
    "get_backend",
    "get_special",
    "is_special",
    "register",
    "register_special",
    "select",
    "special_solvers",
]
