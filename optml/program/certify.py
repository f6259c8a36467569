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

import time

import numpy as np

#: sparse matrix-vector work per second assumed when an iterative step is given an
#: iteration limit that fits the time left (conservative for scipy on one core)
_NNZ_PER_SECOND = 5e7


def lagrangian_bound(
    canon, x, y, cone_duals=(), polish: bool = True, deadline: float | None = None
) -> tuple[float, float]:
    """Return ``(bound, kkt_residual)`` for the canonical (minimisation) problem.

    ``bound`` is on the canonical objective (multiply by ``canon.sense`` for the user's).
    The bound is valid for *any* linearisation point and any sign-consistent duals, so when
    the stationarity residual of the solver's point is not negligible (an LP/QP solver that
    stopped on its own tolerances), the point and duals are first polished on the active set
    (:func:`polish_kkt`) and the better certificate is returned. ``deadline`` (a
    ``time.perf_counter()`` value): past it the polish is not started, and before it the
    polish's iterative steps get iteration limits that fit the time left.
    """
    bound, resid = _lagrangian_bound(canon, x, y, cone_duals)
    cones = canon.soc or canon.exp or getattr(canon, "psd", None)
    if (
        polish
        and y is not None
        and resid > 1e-9
        and not cones
        and not _close(canon, x, bound, resid)
        and (deadline is None or time.perf_counter() < deadline)
    ):
        # polishing holds the active rows and bounds: it has no meaning with cone blocks
        polished = polish_kkt(canon, x, y, deadline=deadline)
        if polished is not None:
            b2, r2 = _lagrangian_bound(canon, *polished)
            if r2 < resid and np.isfinite(b2):
                return b2, r2
    return bound, resid


def _close(canon, x, bound, resid) -> bool:
    """Whether the unpolished certificate is already sharp: a small stationarity residual and
    a bound within 1e-7 (relative) of the point's objective, a thousand times inside the
    convex gap tolerance. Polishing then adds nothing but time (a singular KKT system falls
    back to a dense least-squares solve: about 1 s on robust SVMs of 570 samples)."""
    if not (np.isfinite(bound) and resid <= 1e-6):
        return False
    x = np.asarray(x, dtype=float)
    f = 0.5 * x @ (canon.P @ x) + canon.q @ x + canon.c0
    return 0.0 <= f - bound <= 1e-7 * max(1.0, abs(f))


def _iterations(deadline, nnz, default):
    """Iterations of a sparse iterative method that fit before ``deadline``."""
    if deadline is None:
        return default
    left = max(deadline - time.perf_counter(), 0.0)
    return int(min(default, max(10, left * _NNZ_PER_SECOND / max(nnz, 1))))


def polish_kkt(canon, x, y, tol: float = 1e-7, deadline: float | None = None):
    """Exactly stationary ``(x, y)`` on the solver's active set, or None.

    Rows with a nonzero dual (and equality rows) are held at the bound their dual points to,
    columns at a bound stay there; the equality-constrained QP's KKT system is solved with a
    sparse LU. Only used to compute a certificate, never returned as the solution. With a
    ``deadline`` the iterative fallbacks stop in time and nothing is started past it (None).
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = canon.n
    if n + canon.m > 50000:
        return None
    scale_y = max(1.0, np.abs(y).max(initial=0.0))
    eq = canon.row_lb == canon.row_ub
    act = eq | (np.abs(y) > tol * scale_y)
    rows = np.flatnonzero(act)
    b = np.where(y[rows] > 0, canon.row_lb[rows], canon.row_ub[rows])
    b = np.where(eq[rows], canon.row_lb[rows], b)
    if not np.isfinite(b).all():
        return None
    at_lb = np.isfinite(canon.lb) & (np.abs(x - canon.lb) <= tol * np.maximum(1, np.abs(x)))
    at_ub = np.isfinite(canon.ub) & (np.abs(x - canon.ub) <= tol * np.maximum(1, np.abs(x)))
    fixed = at_lb | at_ub
    N = np.flatnonzero(~fixed)
    B = np.flatnonzero(fixed)
    xB = np.where(at_lb, canon.lb, canon.ub)[B]
    P = canon.P.tocsc()
    A = canon.A.tocsr()[rows]
    AN, AB = A[:, N], A[:, B]
    K = sp.bmat([[P[N][:, N], -AN.T], [AN, None]], format="csc")
    rhs = np.concatenate([-(canon.q[N] + P[N][:, B] @ xB), b - AB @ xB])
    try:
        sol = splu(K).solve(rhs)
    except (RuntimeError, ValueError):  # singular: degenerate active set (redundant rows)
        if K.shape[0] > 3000:
            from scipy.sparse.linalg import lsqr

            its = _iterations(deadline, 2 * K.nnz, 20 * K.shape[0])
            sol = lsqr(K, rhs, atol=1e-14, btol=1e-14, iter_lim=its)[0]
        else:
            sol = np.linalg.lstsq(K.toarray(), rhs, rcond=None)[0]
    if not np.isfinite(sol).all():
        return None
    if deadline is not None and time.perf_counter() >= deadline:
        return None
    x2 = x.copy()
    x2[N] = sol[: N.size]
    x2[B] = xB
    # duals for the polished point, with the sign each active row's bound requires
    from scipy.optimize import lsq_linear

    g = (P @ x2 + canon.q)[N]
    lo = np.where(eq[rows], -np.inf, np.where(y[rows] > 0, 0.0, -np.inf))
    hi = np.where(eq[rows], np.inf, np.where(y[rows] > 0, np.inf, 0.0))
    M = AN.T
    if M.shape[0] * M.shape[1] <= (4_000_000 if deadline is None else 250_000):
        fit = lsq_linear(M.toarray(), g, bounds=(lo, hi), method="bvls", tol=1e-14)
    else:
        its = _iterations(deadline, 20 * M.nnz, 100 * M.shape[1])
        fit = lsq_linear(
            M, g, bounds=(lo, hi), method="trf", tol=1e-12, lsmr_tol="auto", max_iter=its
        )
    y2 = np.zeros_like(y)
    y2[rows] = fit.x
    return x2, y2


def _lagrangian_bound(canon, x, y, cone_duals=()) -> tuple[float, float]:
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
