"""optml: machine learning models as mathematical programs.

A model is written once as a solver-neutral :class:`Program` and solved through cvxpy, Pyomo
or HiGHS directly. Heavy modules (cvxpy, pyomo, highspy, sklearn, pandas) are imported lazily.
"""

from __future__ import annotations

import importlib

from optml.exceptions import (
    ModelingError,
    OptmlError,
    SolveError,
    SolverAccuracyWarning,
    SolverNotAvailableError,
    UnsupportedProblemError,
)
from optml.program import (
    Program,
    Result,
    abs,
    hstack,
    huber,
    logistic,
    norm1,
    norm2,
    norm_inf,
    pos,
    quad_form,
    sum,
    sum_squares,
    vstack,
)

__version__ = "0.1.0"

_SUBMODULES = {
    "data",
    "backends",
    "formulations",
    "regression",
    "classification",
    "tree",
    "clustering",
    "decomposition",
    "nn",
    "bench",
    "cli",
}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"optml.{name}")
    raise AttributeError(f"module 'optml' has no attribute {name!r}")


def solvers():
    """Installed (backend, solver) pairs and the problem classes each supports."""
    from optml.backends import available

    return available()


__all__ = [
    "Program",
    "Result",
    "OptmlError",
    "ModelingError",
    "SolveError",
    "SolverAccuracyWarning",
    "SolverNotAvailableError",
    "UnsupportedProblemError",
    "abs",
    "huber",
    "logistic",
    "norm1",
    "norm2",
    "norm_inf",
    "pos",
    "quad_form",
    "sum",
    "sum_squares",
    "hstack",
    "vstack",
    "solvers",
]
