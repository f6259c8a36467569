"""The program layer (IR): solver-neutral, array-based, inspectable.

Imports numpy and scipy.sparse only; never a solver or modelling package.
"""

from optml.program.atoms import (
    Atom,
    NonlinearExpr,
    abs,
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
    sum_squares,
)
from optml.program.canonical import CanonicalForm, lower
from optml.program.certify import lagrangian_bound
from optml.program.constraints import Constraint, ConvexConstraint, LinearConstraint
from optml.program.expr import Expression, Variable, as_expression, hstack, sum, vstack
from optml.program.model import Program
from optml.program.result import STATUSES, Result, relative_gap

__all__ = [
    "Atom",
    "CanonicalForm",
    "Constraint",
    "ConvexConstraint",
    "Expression",
    "LinearConstraint",
    "NonlinearExpr",
    "Program",
    "Result",
    "STATUSES",
    "Variable",
    "abs",
    "as_expression",
    "hstack",
    "huber",
    "lagrangian_bound",
    "logistic",
    "lower",
    "max",
    "maximum",
    "min",
    "minimum",
    "norm1",
    "norm2",
    "norm_inf",
    "pos",
    "quad_form",
    "relative_gap",
    "sum",
    "sum_squares",
    "vstack",
]
