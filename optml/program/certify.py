r"""Independent certificates for convex programs, computed with numpy from the canonical form.

Given a primal point :math:`\hat x` and duals (``y`` for the rows, ``lam_k`` for each cone block)
with the convention

.. math::

    L(x, y, \lambda) = f(x) - \sum_i y_i (a_i^\top x - b_i(y)) - \sum_k \lambda_k^\top (G_k x + h_k),

where :math:`b_i(y)` is the lower row bound when :math:`y_i > 0` and the upper one when
:math:`y_i < 0`, and :math:`\lambda_k` lies in the dual cone, :math:`L \le f` on the feasible set.
Since :math:`L` is convex in :math:`x`, :math:`L(x) \ge L(\hat x) + r^\top (x - \hat x)` with
:math:`r = \nabla_x L(\hat x)`, so minimising that linear function over the variable box gives
a valid lower bound on the optimum. Entries of ``r`` on unbounded columns are the stationarity
(KKT) residual; they are reported and left out of the bound.
"""

from __future__ import annotations

import numpy as np


def lagrangian_bound(canon, x, y, cone_duals=()) -> tuple[float, float]:
    """Return ``(bound, kkt_residual)`` for the canonical (minimisation) problem.

    ``bound`` is on the canonical objective (multiply by ``canon.sense`` for the user's).
    """
    x = np.asarray(x, dtype=float)
    y = np.zeros(canon.m) if y is None else np.asarray(y, dtype=float)
    # round-off duals of the wrong sign (pointing at an infinite row bound) are zero
    wrong = ((y > 0) & ~np.isfinite(canon.row_lb)) | ((y < 0) & ~np.isfinite(canon.row_ub))
    tiny = np.abs(y) <= 1e-9 * max(1.0, np.abs(y).max(initial=0.0))
    y = np.where(wrong & tiny, 0.0, y)
    f = 0.5 * x @ (canon.P @ x) + canon.q @ x + canon.c0
    grad = canon.P @ x + canon.q - canon.A.T @ y
    Ax = canon.A @ x
    b = np.where(y > 0, canon.row_lb, np.where(y < 0, canon.row_ub, 0.0))
    # a dual on an infinite bound makes the bound worthless: it is dual infeasible
    if not np.isfinite(b[y != 0]).all():
        return float("-inf"), float("inf")
    L = f - y @ (Ax - b)
    blocks = list(canon.soc) + list(canon.exp)
    cone_duals = list(cone_duals)
    for (G, h), lam in zip(blocks, cone_duals, strict=False):
        lam = np.asarray(lam, dtype=float)
        L -= lam @ (G @ x + h)
        grad = grad - G.T @ lam
    # PSD blocks (duals after the SOC and exp ones): Lam in the PSD cone, L -= <Lam, X>.
    # X is symmetric on the feasible set, so only the symmetric part of the gradient counts.
    psd = list(getattr(canon, "psd", []))
    for k, cols in enumerate(psd):
        cols = np.asarray(cols)
        if len(blocks) + k < len(cone_duals):
            lam = np.asarray(cone_duals[len(blocks) + k], dtype=float).reshape(cols.shape)
            w, U = np.linalg.eigh((lam + lam.T) / 2)
            lam = (U * np.maximum(w, 0.0)) @ U.T  # project round-off into the cone
            L -= float(np.sum(lam * x[cols]))
            grad[cols] = grad[cols] - lam
        gs = grad[cols]
        grad[cols] = (gs + gs.T) / 2
    scale = max(1.0, np.abs(canon.q).max(initial=0.0), np.abs(y).max(initial=0.0))
    lo, hi = canon.lb, canon.ub
    step = np.where(grad > 0, lo - x, hi - x)  # minimise grad * (x' - x) over the box
    finite = np.isfinite(step)
    contrib = np.where(finite, grad * np.where(finite, step, 0.0), 0.0)
    resid = np.abs(grad[~finite]).max(initial=0.0) / scale
    return float(L + contrib.sum()), float(resid)
