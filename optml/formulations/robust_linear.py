r"""The robust linear classifier as a structured problem (kind ``"robust_linear"``), for
optml's own solver ``"robust-newton"`` (:mod:`optml.algorithms.robust_linear`).

One binary instance of the robust counterpart of :mod:`optml.formulations.robust` against
feature perturbations :math:`\|\delta_i\|_p \le \epsilon` with the L2 regulariser,

.. math:: \min_{w,b}\ \tfrac12\|w\|_2^2 + C\sum_i \ell\big(s_i(x_i^\top w + b) -
    \epsilon\|w\|_q\big),

:math:`\ell` the hinge or the logistic loss and :math:`q` the dual norm of :math:`p`. Its
program (:meth:`RobustLinearProblem.build_program`) is
:func:`~optml.formulations.robust.robust_linear_classifier`, what general solvers receive;
:meth:`RobustLinearProblem.evaluate` checks a point with numpy on the raw data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from optml.formulations.classification import _check_labels, _linear_values
from optml.formulations.robust import (
    check_norm,
    robust_linear_classifier,
    robust_loss_value,
)
from optml.program import Program
from optml.program.structured import StructuredProblem

__all__ = ["RobustLinearProblem", "robust_objective"]


def robust_objective(X, s, w, b, *, loss="hinge", C=1.0, eps=0.0, norm="inf") -> float:
    r"""numpy value of :math:`\tfrac12\|w\|^2 + C\sum_i\ell(s_i(x_i^\top w+b) -
    \epsilon\|w\|_q)` (the L2-regularised robust objective, no label flips)."""
    w = np.asarray(w, dtype=float).ravel()
    return float(0.5 * (w @ w) + C * robust_loss_value(w, b, X, s, loss=loss, eps=eps, norm=norm))


@dataclass
class RobustLinearProblem(StructuredProblem):
    """One binary robust linear classifier (labels ``s`` in {-1, +1}), kind
    ``"robust_linear"``: L2 regulariser, ``loss`` "hinge" or "logistic", perturbation ball of
    radius ``eps`` in the norm ``norm`` ("inf", "1", "2"). Default solver ``"robust-newton"``.
    """

    kind: ClassVar[str] = "robust_linear"
    default_solver: ClassVar[str | None] = "robust-newton"

    X: np.ndarray
    s: np.ndarray
    loss: str = "hinge"
    C: float = 1.0
    eps: float = 0.0
    norm: str = "inf"

    def __post_init__(self):
        X, s = _check_labels(self.X, self.s)
        if self.loss not in ("hinge", "logistic"):
            raise ValueError(f"loss must be 'hinge' or 'logistic', got {self.loss!r}")
        C, eps = float(self.C), float(self.eps)
        if not (np.isfinite(C) and C > 0):
            raise ValueError(f"C must be a positive number, got {self.C!r}")
        if not (np.isfinite(eps) and eps >= 0):
            raise ValueError(f"eps must be a number >= 0 (the perturbation radius), got {eps}")
        self.X, self.s, self.C, self.eps = X, s, C, eps
        self.norm = check_norm(self.norm)

    def build_program(self) -> Program:
        return robust_linear_classifier(
            self.X,
            self.s,
            loss=self.loss,
            C=self.C,
            eps=self.eps,
            norm=self.norm,
            gamma=0.0,
            penalty="l2",
        )

    def evaluate(self, values) -> tuple[float, float]:
        w, b = _linear_values(values)
        return (
            robust_objective(
                self.X, self.s, w, b, loss=self.loss, C=self.C, eps=self.eps, norm=self.norm
            ),
            0.0,
        )

    @property
    def problem_class(self) -> str:
        if self.loss == "logistic":
            return "EXP"
        return "SOCP" if self.norm == "2" and self.eps > 0 else "QP"
