r"""Support vector ordinal regression (Chu & Keerthi 2005) as a quadratic program.

Ordered classes :math:`1 < 2 < \dots < r` (integer codes ``yi`` in ``0..r-1``), one direction
:math:`w` and thresholds :math:`b_1 \le \dots \le b_{r-1}`; a sample is predicted in class
:math:`1 + |\{j : x^\top w > b_j\}|`.

Explicit thresholds (SVOR-EXC): each threshold separates the two classes next to it,

.. math:: \min_{w, b}\ \tfrac12\|w\|_2^2 + C\sum_{j=1}^{r-1}\Big(
    \sum_{i: y_i = j} (1 + x_i^\top w - b_j)_+ + \sum_{i: y_i = j+1} (1 - x_i^\top w + b_j)_+
    \Big)\quad\text{s.t.}\quad b_{j-1} \le b_j.

Implicit thresholds (SVOR-IMC): each threshold separates all the classes below it from all
above,

.. math:: \min_{w, b}\ \tfrac12\|w\|_2^2 + C\sum_{j=1}^{r-1}\Big(
    \sum_{i: y_i \le j} (1 + x_i^\top w - b_j)_+ + \sum_{i: y_i > j} (1 - x_i^\top w + b_j)_+
    \Big)\quad\text{s.t.}\quad b_{j-1} \le b_j,

where the ordering constraints are inactive at an optimum (Chu & Keerthi 2005, Lemma 1) but
kept, as the explicit form needs them. Each hinge is an epigraph variable (``xi``, one per
sample and threshold that it enters): a QP for HiGHS, Clarabel, ...

Reference: W. Chu and S. S. Keerthi, *New approaches to support vector ordinal regression*,
ICML 2005 (and Neural Computation 19(3), 2007).
"""

from __future__ import annotations

import numpy as np

import optml.program as om
from optml.program import Program

__all__ = ["ordinal_objective", "ordinal_pairs", "svor"]


def ordinal_pairs(yi, n_classes: int, thresholds: str = "explicit"):
    """The hinge terms: ``(sample index, threshold index, side)`` arrays, side = +1 for a
    sample that must lie above the threshold, -1 below."""
    yi = np.asarray(yi, dtype=int).ravel()
    rows, thr, side = [], [], []
    for j in range(n_classes - 1):
        if thresholds == "explicit":
            below, above = np.flatnonzero(yi == j), np.flatnonzero(yi == j + 1)
        else:
            below, above = np.flatnonzero(yi <= j), np.flatnonzero(yi > j)
        rows += [below, above]
        thr += [np.full(below.size, j), np.full(above.size, j)]
        side += [-np.ones(below.size), np.ones(above.size)]
    return np.concatenate(rows), np.concatenate(thr).astype(int), np.concatenate(side)


def _check(X, yi, n_classes, C, thresholds):
    X = np.asarray(X, dtype=float)
    yi = np.asarray(yi).ravel()
    if X.ndim != 2 or yi.shape[0] != X.shape[0]:
        raise ValueError(f"X must be (n, p) and y (n,); got X {X.shape} and y {yi.shape}")
    if int(n_classes) < 2 or not np.isin(yi, np.arange(int(n_classes))).all():
        raise ValueError(f"labels must be integer codes 0..{int(n_classes) - 1} (>= 2 classes)")
    if not (np.isfinite(C) and C > 0):
        raise ValueError(f"C must be a positive number, got {C}")
    if thresholds not in ("explicit", "implicit"):
        raise ValueError(f"thresholds must be 'explicit' or 'implicit', got {thresholds!r}")
    return X, yi.astype(int), int(n_classes)


def ordinal_objective(X, yi, n_classes, w, b, C=1.0, thresholds="explicit") -> float:
    """The SVOR objective at ``(w, b)`` with numpy."""
    rows, thr, side = ordinal_pairs(yi, n_classes, thresholds)
    f = X @ np.asarray(w, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    h = np.maximum(0.0, 1.0 - side * (f[rows] - b[thr]))
    return float(0.5 * np.dot(w, w) + C * h.sum())


def svor(X, yi, n_classes: int, C: float = 1.0, thresholds: str = "explicit") -> Program:
    r"""Support vector ordinal regression, explicit or implicit thresholds, as a QP (module
    docstring): variables ``w`` (p,), ``b`` (r-1,) and the hinge epigraphs ``xi``."""
    X, yi, r = _check(X, yi, n_classes, C, thresholds)
    rows, thr, side = ordinal_pairs(yi, r, thresholds)
    p = X.shape[1]
    prog = Program(f"svor_{thresholds}")
    w = prog.var("w", p, latex="w")
    b = prog.var("b", r - 1, latex="b")
    xi = prog.var("xi", rows.size, lb=0.0, latex=r"\xi")
    B = np.zeros((rows.size, r - 1))
    B[np.arange(rows.size), thr] = 1.0
    margin = (side[:, None] * X[rows]) @ w - (side[:, None] * B) @ b
    prog.add(xi + margin >= 1.0, name="margin")
    if r > 2:
        D = np.zeros((r - 2, r - 1))
        D[np.arange(r - 2), np.arange(r - 2)] = 1.0
        D[np.arange(r - 2), np.arange(1, r - 1)] = -1.0
        prog.add(D @ b <= 0.0, name="ordered_thresholds")
    prog.minimize(0.5 * om.sum_squares(w) + float(C) * om.sum(xi))
    return prog
