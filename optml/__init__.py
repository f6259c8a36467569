"""optml: machine learning models as mathematical programs.

A model is written once as a solver-neutral :class:`Program` and solved through cvxpy, Pyomo
or HiGHS directly. Everything is imported lazily — numpy and scipy.sparse when the program layer
is first used, cvxpy / pyomo / highspy / scikit-learn only by the code that needs them — so
``import optml`` costs almost nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from optml.exceptions import (
    ModelingError,
    OptmlError,
    SolveError,
    SolverAccuracyWarning,
    SolverNotAvailableError,
    UnsupportedProblemError,
)

__version__ = "0.1.0"

_SUBMODULES = {
    "data",
    "backends",
    "formulations",
    "program",
    "regression",
    "classification",
    "clustering",
    "decomposition",
    "nn",
    "bayesnet",
    "teaching",
    "bench",
    "cli",
    "adversarial",
}

_PROGRAM_NAMES = {
    "Program",
    "Result",
    "abs",
    "huber",
    "logistic",
    "max",
    "maximum",
    "min",
    "minimum",
    "norm1",
    "norm2",
    "norm_inf",
    "pos",
    "quad_form",
    "sum",
    "sum_squares",
    "hstack",
    "vstack",
}

if TYPE_CHECKING:  # pragma: no cover
    from optml.program import (  # noqa: F401
        Program,
        Result,
        abs,
        hstack,
        huber,
        logistic,
        max,
        maximum,
        min,
        minimum,
        norm1,
        norm2,
        norm_inf,
        pos,
        quad_form,
        sum,
        sum_squares,
        vstack,
    )


def __getattr__(name: str):
    if name in _PROGRAM_NAMES:
        value = getattr(importlib.import_module("optml.program"), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"optml.{name}")
    raise AttributeError(f"module 'optml' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _PROGRAM_NAMES | _SUBMODULES)


def solvers() -> list[dict]:
    """Installed (backend, solver) pairs and the problem classes each supports."""
    from optml.backends import available

    return available()


__all__ = [
    "ModelingError",
    "OptmlError",
    "Program",
    "Result",
    "SolveError",
    "SolverAccuracyWarning",
    "SolverNotAvailableError",
    "UnsupportedProblemError",
    "abs",
    "hstack",
    "huber",
    "logistic",
    "max",
    "maximum",
    "min",
    "minimum",
    "norm1",
    "norm2",
    "norm_inf",
    "pos",
    "quad_form",
    "solvers",
    "sum",
    "sum_squares",
    "vstack",
]
