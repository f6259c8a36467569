r"""An exact primal active-set solve of the penalised node relaxation on a small working set.

The problem (see :mod:`optml.algorithms.best_subset_l0`) is

.. math::

    \min_{lo \le u \le hi}\ f(u) = u^\top A u - 2c^\top u + \sum_{j \notin F_1} \psi(u_j)
    + \sum_{j \in F_1} \bar\alpha u_j^2,

with :math:`\psi` the reverse Huber penalty (linear :math:`2\sqrt{\bar\alpha\lambda_0}|u|` up to
:math:`\tau = \sqrt{\lambda_0/\bar\alpha}`, :math:`\bar\alpha u^2 + \lambda_0` beyond; or the
linear :math:`(\bar\alpha M + \lambda_0/M)|u|` when the bound :math:`M \le \tau`). It is convex
and piecewise quadratic, and :math:`\psi` is continuously differentiable except at zero, so the
classical primal active-set method for quadratic programs applies: coordinates are *held* (at
zero or at a bound) or *free*; on the free ones the stationarity conditions of the quadratic
that :math:`f` equals near the point are solved (one Cholesky factorisation); the step towards
that Newton point is cut at the first free coordinate that reaches zero or its bound (which is
then held) and otherwise minimised exactly along the line (:math:`f` is convex and piecewise
quadratic on it, its pieces change where :math:`|u_j|` crosses :math:`\tau`); at the Newton
point the held coordinates are checked by their optimality conditions and the most violated one
is released. Each step lowers :math:`f`, so the method ends at the exact minimiser after
finitely many pattern changes. Unlike a first-order method its work does not grow with the
condition number of :math:`A` (nearly collinear columns, as in ALAMO's basis functions), but
each step costs a factorisation of the free block, so it is used on small working sets.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla


class _Pieces:
    """The pieces of the penalty on a working set: per side (+, -) the bound, whether the
    linear piece covers [0, M] and its slope, and the thresholds of a zero coordinate."""

    def __init__(self, loW, hiW, fixed, a: float, lam: float):
        self.a, self.fixed = a, fixed
        self.tau = math.sqrt(lam / a) if a > 0 else math.inf
        self.k1 = math.sqrt(a * lam)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self.slope_p = np.where(hiW > 0, a * hiW + lam / hiW, np.inf)
            self.slope_m = np.where(loW < 0, -a * loW - lam / loW, np.inf)
        self.lin_p, self.lin_m = hiW <= self.tau, -loW <= self.tau
        # half right-derivatives of psi at zero: a zero stays zero iff -thr_m <= g <= thr_p
        self.thr_p = np.where(hiW <= 0, np.inf, np.where(self.lin_p, 0.5 * self.slope_p, self.k1))
        self.thr_m = np.where(loW >= 0, np.inf, np.where(self.lin_m, 0.5 * self.slope_m, self.k1))

    def half_derivative(self, idx, v, s):
        """``(psi'(v) / 2, quadratic piece?)`` for coordinates ``idx`` at values ``v`` on the
        sides ``s`` (the fixed-in ones: :math:`\\bar\\alpha v`)."""
        lin = np.where(s > 0, self.lin_p[idx], self.lin_m[idx])
        sl = np.where(s > 0, self.slope_p[idx], self.slope_m[idx])
        quad = self.fixed[idx] | (~lin & (np.abs(v) >= self.tau))
        with np.errstate(invalid="ignore"):  # inf * 0 on sides that are not taken
            half = np.where(quad, self.a * v, np.where(lin, 0.5 * sl * s, self.k1 * s))
        return half, quad


def _dphi(t, pc, F, xF, d, sF, lin_part):
    """Half the derivative of :math:`f(x + t d)` in ``t`` (``lin_part`` = d'Ax - c'd, d'Ad)."""
    h, _ = pc.half_derivative(F, xF + t * d, sF)
    return lin_part[0] + t * lin_part[1] + float(h @ d)


def _line_minimum(pc, F, xF, d, sF, lin_part, t_max):
    """The minimiser of the convex piecewise quadratic :math:`f(x + t d)` over
    :math:`[0, t_{max}]` (``None`` if ``d`` is not a descent direction)."""
    if math.isfinite(t_max) and _dphi(t_max, pc, F, xF, d, sF, lin_part) <= 0:
        return t_max
    t_hi = t_max if math.isfinite(t_max) else 1.0
    lo_t, lo_v = 0.0, _dphi(0.0, pc, F, xF, d, sF, lin_part)
    if lo_v >= 0:
        return None
    bp = []
    if math.isfinite(pc.tau):  # where |u_j| crosses tau the piece changes
        with np.errstate(divide="ignore", invalid="ignore"):
            both = np.concatenate([(pc.tau - xF) / d, (-pc.tau - xF) / d])
        bp = np.sort(both[(both > 0) & (both < t_hi)]).tolist()
    for b in [*bp, t_hi]:
        v = _dphi(b, pc, F, xF, d, sF, lin_part)
        if v >= 0:  # linear in t between breakpoints
            return lo_t + (b - lo_t) * (-lo_v) / (v - lo_v) if v > lo_v else b
        lo_t, lo_v = b, v
    return t_hi


def _release(pc, AW, cW, x, Ax, zero, atb):
    """The held coordinate that violates its optimality condition most and its violation."""
    m = len(cW)
    g = cW - Ax
    viol = np.zeros(m)
    vz = np.where(g > pc.thr_p, g - pc.thr_p, np.where(-g > pc.thr_m, -g - pc.thr_m, 0.0))
    viol[zero] = vz[zero]
    H = np.flatnonzero(atb)
    if H.size:
        s = np.sign(x[H])
        half, _ = pc.half_derivative(H, x[H], s)
        df = half - g[H]  # half the derivative of f in u_j: <= 0 at an upper bound, >= 0 at a lower
        viol[H] = np.where(s > 0, np.maximum(df, 0.0), np.maximum(-df, 0.0))
    j = int(np.argmax(viol))
    return j, float(viol[j]), g


def active_set_solve(AW, cW, u0, loW, hiW, fixed, a: float, lam: float, max_iter: int = 500):
    """The minimiser of the node relaxation on the working set (see the module docstring),
    from the start ``u0``; ``None`` where a free block is singular or ``max_iter`` pattern
    changes did not reach it (the caller then goes on with its first-order method)."""
    m = len(cW)
    pc = _Pieces(loW, hiW, fixed, a, lam)
    x = np.clip(np.asarray(u0, float), loW, hiW)
    sg = np.sign(x)
    zero = (x == 0) & ~fixed
    atb = ~zero & ((x >= hiW) | (x <= loW))
    Ax = AW @ x
    tolv = 1e-12 * (1.0 + float(np.max(np.abs(cW)))) if m else 0.0
    released_last = -1
    for _ in range(max_iter):
        F = np.flatnonzero(~zero & ~atb)
        H = np.flatnonzero(atb)
        xF = x[F]
        sF = np.where(fixed[F], np.sign(xF), sg[F])
        d = np.zeros(0)
        if F.size:
            half, quad = pc.half_derivative(F, xF, sF)
            rhs = cW[F] - np.where(quad, 0.0, half)
            if H.size:
                rhs = rhs - AW[F][:, H] @ x[H]
            K = AW[F][:, F]  # rows then columns: a new array, faster than np.ix_
            K[np.arange(F.size), np.arange(F.size)] += np.where(quad, a, 0.0)
            try:
                uN = sla.cho_solve(sla.cho_factor(K, check_finite=False), rhs, check_finite=False)
            except (np.linalg.LinAlgError, ValueError):
                return None
            if not np.isfinite(uN).all():
                return None
            d = uN - xF
        at_min = d.size == 0 or float(np.max(np.abs(d))) <= 1e-13 * (1.0 + float(np.max(np.abs(x))))
        if not at_min:
            # the hard stops: a free coordinate reaching zero (not fixed-in) or its bound
            with np.errstate(divide="ignore", invalid="ignore"):
                t0 = np.where(~fixed[F] & (sF * d < 0), np.abs(xF) / np.abs(d), np.inf)
                tb = np.where(d > 0, (hiW[F] - xF) / d, np.where(d < 0, (loW[F] - xF) / d, np.inf))
            t0 = np.where(np.isnan(t0), np.inf, t0)
            tb = np.where(np.isnan(tb), np.inf, np.maximum(tb, 0.0))
            stops = np.minimum(t0, tb)
            t_max = float(stops.min())
            Ad = AW[:, F] @ d
            lin_part = (float(d @ Ax[F]) - float(d @ cW[F]), float(d @ Ad[F]))
            t = _line_minimum(pc, F, xF, d, sF, lin_part, t_max)
            at_min = t is None  # not a descent direction: the pattern's minimiser up to round-off
        if at_min:
            # the minimiser on this pattern: release the most violated held coordinate
            j, v, g = _release(pc, AW, cW, x, Ax, zero, atb)
            if v <= tolv or j == released_last:
                return x
            if zero[j]:
                zero[j] = False
                sg[j] = 1.0 if g[j] > 0 else -1.0
            else:
                atb[j] = False
                sg[j] = np.sign(x[j])
            released_last = j
            continue
        released_last = -1
        x[F] = xF + t * d
        Ax = Ax + t * Ad
        if math.isfinite(t_max) and t >= t_max * (1 - 1e-12):
            for i in np.flatnonzero(stops <= t_max * (1 + 1e-12)):
                j = int(F[i])
                if t0[i] <= tb[i]:
                    x[j], zero[j] = 0.0, True
                else:
                    x[j], atb[j] = (hiW[j] if d[i] > 0 else loW[j]), True
            Ax = AW @ x
    return None
