"""Constraints as (function, set) pairs.

* :class:`LinearConstraint`: ``expr (<=|==|>=) 0`` for an affine ``expr`` (array-valued).
* :class:`ConvexConstraint`: ``f <= 0`` for a convex :class:`NonlinearExpr` ``f``.
"""

from __future__ import annotations

import numpy as np

from optml.exceptions import ModelingError
from optml.program.atoms import NonlinearExpr
from optml.program.expr import Expression, as_expression


class Constraint:
    name: str | None = None
    shape: tuple

    def __bool__(self):
        # Python turns ``0 <= x <= 1`` into ``(0 <= x) and (x <= 1)``, asking a constraint for
        # its truth value and keeping one side only: refuse instead of modelling half of it
        raise ModelingError(
            "a constraint has no truth value. A chained comparison such as `0 <= x <= 1` keeps "
            "only one of its two sides in Python: write two constraints, p.add(x >= 0) and "
            "p.add(x <= 1), or give bounds with p.var(..., lb=0, ub=1)"
        )

    def violation(self, point) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


class LinearConstraint(Constraint):
    """``expr sense 0`` with sense one of ``'<='``, ``'=='``, ``'>='``."""

    def __init__(self, expr: Expression, sense: str, name: str | None = None):
        self.expr = expr
        self.sense = sense
        self.name = name
        self.shape = expr.shape

    def violation(self, point) -> float:
        v = np.atleast_1d(self.expr.value(point))
        if self.sense == "<=":
            r = np.maximum(v, 0)
        elif self.sense == ">=":
            r = np.maximum(-v, 0)
        else:
            r = np.abs(v)
        return float(r.max(initial=0.0))

    def __repr__(self) -> str:
        return f"LinearConstraint({self.name!r}, shape={self.shape}, '{self.sense} 0')"


class ConvexConstraint(Constraint):
    """``f <= 0`` for a convex, array-valued ``f``."""

    def __init__(self, f: NonlinearExpr, name: str | None = None):
        if f.curvature not in ("convex", "affine"):
            raise ModelingError(
                f"constraint is not convex: need convex <= affine or affine >= convex, got "
                f"a {f.curvature} function on the left of '<= 0'"
            )
        self.f = f
        self.name = name
        self.shape = f.shape
        self.sense = "<="

    def violation(self, point) -> float:
        return float(np.maximum(np.atleast_1d(self.f.value(point)), 0).max(initial=0.0))

    def __repr__(self) -> str:
        return f"ConvexConstraint({self.name!r}, shape={self.shape})"


def make_constraint(lhs, sense: str, rhs):
    if isinstance(rhs, NonlinearExpr) or isinstance(lhs, NonlinearExpr):
        if sense == "<=":
            return ConvexConstraint(lhs - rhs)
        return ConvexConstraint(rhs - lhs)
    r = as_expression(rhs)
    if r is NotImplemented:
        raise ModelingError(f"cannot compare an expression with {type(rhs).__name__}")
    return LinearConstraint(lhs - r, sense)
