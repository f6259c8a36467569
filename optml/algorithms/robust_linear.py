r"""Robust linear SVM and logistic regression by smoothed Newton continuation with an exact
finish on the worst-case perturbation's sign pattern, registered as the special solver
``"robust-newton"``; certified by the Lagrangian dual of the robust counterpart.

It solves :class:`~optml.formulations.robust_linear.RobustLinearProblem` (kind
``"robust_linear"``), exactly the program general solvers receive
(:func:`~optml.formulations.robust.robust_linear_classifier` with the L2 regulariser):

.. math:: P(w, b) = \tfrac12\|w\|_2^2 + C\sum_i \ell(r_i),\qquad
    r_i = o - s_i(x_i^\top w + b) + \epsilon\|w\|_q,

with :math:`\ell(r) = (r)_+,\ o = 1` (hinge) or :math:`\ell(r) = \log(1 + e^r),\ o = 0`
(logistic), and :math:`q` the dual norm of the perturbation ball (L1 for an L-inf ball, L-inf
for an L1 ball, L2 for L2).

Algorithm

1. Newton's method on a smoothed objective: the hinge Huberised with width :math:`h` (as in
   ``svm-newton``) and the norm replaced by Nesterov's smoothing
   :math:`g_\mu(w) = \max_{\|u\|_p\le 1} u^\top w - \tfrac\mu2\|u\|^2` (gradient
   :math:`\Pi_{B_p}(w/\mu)`, piecewise-linear), for :math:`h, \mu = 1, 10^{-1}, \dots`, each
   stage warm started from the last. The smoothed objective is convex (a nondecreasing convex
   loss of a convex argument) and twice differentiable almost everywhere.
2. After each stage, an exact finish where the norm is polyhedral (:math:`q = 1` or
   :math:`\infty`): the smoothed point gives the sign pattern of the worst-case perturbation
   (for :math:`q = 1` the support :math:`S` and signs :math:`\sigma` of :math:`w`; for
   :math:`q = \infty` the set :math:`T` of coordinates at the maximum and their signs). On that
   pattern :math:`\|w\|_q = c^\top u` for :math:`w = Mu` (:math:`M` with orthonormal columns),
   so the problem is a *nominal* SVM / logistic regression on the moved features
   :math:`\tilde z_i = M^\top z_i - \epsilon c` (:math:`z_i = s_i x_i`): the hinge's KKT
   system on the read-off active set (``svm-newton``'s exact finish, with a few active-set
   corrections), or Newton on the smooth logistic loss to machine precision.

Certificate. For any :math:`\alpha \in [0, C]^n`, with :math:`v = Z^\top\alpha`,
:math:`A = \mathbf 1^\top\alpha`,

.. math:: D(\alpha) = o\,\mathbf 1^\top\alpha + C\sum_i H(\alpha_i / C)
    - \tfrac12\operatorname{dist}_2\big(v, \{u : \|u\|_p \le \epsilon A\}\big)^2
    - B\,|s^\top\alpha|

(:math:`H = 0` for the hinge, the binary entropy for the logistic loss) is the Lagrangian dual
value: :math:`\ell(r) = \max_{a \in [0, 1]} a r + H(a)`, and
:math:`\min_w \tfrac12\|w\|^2 + \epsilon A\|w\|_q - v^\top w = -\tfrac12
\operatorname{dist}(v, B_p(\epsilon A))^2` (the conjugate of a sum is the infimal
convolution of the conjugates). :math:`B = U/C + \max_i\|x_i\|\sqrt{2U} + 1` with :math:`U`
any primal value bounds :math:`|b|` at every optimum (each loss term is at most :math:`U/C`),
so :math:`D(\alpha) \le P^\star`. The candidates are the smoothed stage's
:math:`C\ell'(r_i)` and the finish's multipliers, clipped to :math:`[0, C]` and rebalanced so
that :math:`s^\top\alpha = 0`. ``optimal`` needs the relative gap :math:`(P - D)/\max(1, |P|)`
at most ``gap_tol`` (:math:`10^{-6}`); otherwise the best point and bound are returned with
status ``time_limit`` or ``error`` (an automatic choice then solves the program instead).

References
----------
Bertsimas, Dunn, Pawlowski and Zhuo (2019), Robust classification. INFORMS Journal on
Optimization 1(1). Xu, Caramanis and Mannor (2009), Robustness and regularization of support
vector machines. JMLR 10. Chapelle (2007), Training a support vector machine in the primal.
Nesterov (2005), Smooth minimization of non-smooth functions. Math. Programming 103.
"""

from __future__ import annotations

import logging
import time
from functools import partial

import numpy as np

from optml.algorithms.linear_svm import (
    _balance,
    _keep_best,
    _kkt_solve,
    _ls_svm_start,
    solve_continuation,
)
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.robust import DUAL
from optml.formulations.robust_linear import RobustLinearProblem, robust_objective
from optml.program.result import relative_gap

logger = logging.getLogger("optml")

__all__ = ["RobustNewtonSolver", "robust_dual_bound", "robust_newton"]

#: relative duality gap for ``optimal``
GAP_TOL = 1e-6
#: the norm's smoothing width relative to the hinge's (a pattern read off a point smoothed
#: by mu keeps coefficients larger than mu)
MU_RATIO = 1.0
#: the smoothing widths' factor from one stage to the next
H_FACTOR = 0.03
#: the line search stops where the slope has shrunk to this fraction of the initial one
LS_TOL = 0.1


# ------------------------------------------------------------------ balls and projections
def _proj_l1(v, c):
    """Euclidean projection of ``v`` onto the L1 ball of radius ``c`` (Duchi et al. 2008)."""
    a = np.abs(v)
    if a.sum() <= c:
        return v.copy()
    if c <= 0:
        return np.zeros_like(v)
    srt = np.sort(a)[::-1]
    cs = np.cumsum(srt) - c
    k = np.flatnonzero(srt - cs / np.arange(1, a.size + 1) > 0)[-1]
    tau = cs[k] / (k + 1)
    return np.sign(v) * np.maximum(a - tau, 0.0)


def _proj(v, c, p):
    """Projection onto :math:`\\{u : \\|u\\|_p \\le c\\}` (``p`` in "inf", "1", "2")."""
    if p == "inf":
        return np.clip(v, -c, c)
    if p == "2":
        nv = float(np.linalg.norm(v))
        return v.copy() if nv <= c else (v * (c / nv) if nv > 0 else v.copy())
    return _proj_l1(v, c)


def _norm_q(w, q):
    if q == "1":
        return float(np.abs(w).sum())
    if q == "inf":
        return float(np.abs(w).max(initial=0.0))
    return float(np.linalg.norm(w))


def _smooth_norm_value(w, mu, p) -> float:
    """The value of :func:`_smooth_norm` alone."""
    u = _proj(w / mu, 1.0, p)
    return float(u @ w - 0.5 * mu * (u @ u))


def _smooth_norm(w, mu, p):
    r"""Nesterov's smoothing of the q-norm (:math:`q` dual to ``p``): value, gradient
    :math:`u = \Pi_{B_p}(w/\mu)` and Hessian :math:`J/\mu` (``J`` the projection's
    Jacobian)."""
    u = _proj(w / mu, 1.0, p)
    val = float(u @ w - 0.5 * mu * (u @ u))
    k = w.size
    if p == "inf":
        J = np.diag((np.abs(w) < mu).astype(float))
    elif p == "2":
        nz = float(np.linalg.norm(w)) / mu
        if nz <= 1.0:
            J = np.eye(k)
        else:
            e = w / np.linalg.norm(w)
            J = (np.eye(k) - np.outer(e, e)) / nz
    else:
        if np.abs(w).sum() / mu <= 1.0:
            J = np.eye(k)
        else:
            K = np.flatnonzero(u != 0)
            J = np.zeros((k, k))
            sg = np.sign(w[K])
            J[np.ix_(K, K)] = np.eye(K.size) - np.outer(sg, sg) / K.size
    return val, u, J / mu


# ------------------------------------------------------------------ losses
def _phi(r, loss, h):
    """Smoothed loss value, first and second derivative (elementwise)."""
    if loss == "logistic":
        sig = 0.5 * (1.0 + np.tanh(0.5 * r))
        return np.logaddexp(0.0, r), sig, sig * (1.0 - sig)
    val = np.where(r <= 0, 0.0, np.where(r <= h, r * r / (2 * h), r - h / 2))
    d1 = np.clip(r / h, 0.0, 1.0)
    d2 = ((r > 0) & (r < h)) / h
    return val, d1, d2.astype(float)


def _entropy(t):
    t = np.clip(t, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = -(np.where(t > 0, t * np.log(t), 0.0) + np.where(t < 1, (1 - t) * np.log1p(-t), 0.0))
    return e


def robust_dual_bound(Z, s, alpha, C, eps, norm, b_bound, loss="hinge") -> float:
    r"""The certified lower bound :math:`D(\alpha)` of the module docstring for any ``alpha``
    (clipped to :math:`[0, C]` and rebalanced first); ``Z = s[:, None] * X``, ``norm`` the
    perturbation ball's norm."""
    a = _balance(np.clip(alpha, 0.0, C), s)
    v = Z.T @ a
    A = float(a.sum())
    d = v - _proj(v, eps * A, norm)
    val = -0.5 * float(d @ d) - b_bound * abs(float(s @ a))
    if loss == "hinge":
        val += A
    else:
        val += C * float(_entropy(a / C).sum())
    return float(val)


# ------------------------------------------------------------------ Newton on the smoothing
def _newton_stage(A, s, C, eps, p, loss, off, h, mu, th, deadline, max_iter=60, tol=1e-11):
    """Newton on 1/2||w||^2 + C sum phi_h(off - A th + eps g_mu(w)) with an exact line
    search (the smoothed hinge's Newton step overshoots where samples enter the quadratic
    zone: a one-dimensional root search on the directional derivative, O(n) per trial,
    replaces backtracking); ``(th, timed_out)``."""
    k = A.shape[1] - 1
    reg = np.ones(k + 1)
    reg[-1] = 0.0
    ntol = tol * max(1.0, C * A.shape[0] ** 0.5)

    def along(a0, ad, w, dw, t, deriv):
        wt = w + t * dw
        r = a0 - t * ad
        if eps > 0:
            u = _proj(wt / mu, 1.0, p)
            r = r + eps * float(u @ wt - 0.5 * mu * (u @ u))
        if not deriv:
            if loss == "logistic":
                val = np.logaddexp(0.0, r).sum()
            else:
                rp = np.maximum(r, 0.0)
                q = np.minimum(rp, h)  # phi_h(r) = q^2/2h + (r_+ - q)
                val = (q @ q) / (2 * h) + (rp - q).sum()
            return 0.5 * (wt @ wt) + C * val
        d1 = _phi(r, loss, h)[1]
        slope = -ad + (eps * float(u @ dw) if eps > 0 else 0.0)
        return float(wt @ dw + C * (d1 @ slope))

    for _ in range(max_iter):
        if deadline is not None and time.perf_counter() > deadline:
            return th, True
        if eps > 0:
            g, u, Hg = _smooth_norm(th[:k], mu, p)
        else:
            u, Hg, g = np.zeros(k), np.zeros((k, k)), 0.0
        a0 = off - A @ th
        r = a0 + eps * g
        _, d1, d2 = _phi(r, loss, h)
        D = float(d1.sum())
        eu = np.append(eps * u, 0.0)
        grad = reg * th - C * (A.T @ d1) + C * D * eu
        if np.abs(grad).max() <= ntol:
            break
        act = d2 > 0
        R = A[act] - eu  # -(rho_i): the sign is squared away
        H = (R.T * (C * d2[act])) @ R
        H[np.diag_indices_from(H)] += reg
        if eps > 0 and D > 0:
            H[:k, :k] += (C * eps * D) * Hg
        scale = max(1.0, float(np.abs(H).max(initial=0.0)))
        H[np.diag_indices_from(H)] += 1e-10 * scale
        try:
            step = -np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(H, grad, rcond=None)[0]
        dec = float(grad @ step)
        if dec >= 0:
            step, dec = -grad, -float(grad @ grad)
        w, dw, ad = th[:k], step[:k], A @ step
        f0 = along(a0, ad, w, dw, 0.0, False)
        if -dec <= 1e-14 * max(1.0, abs(f0)):
            break  # the predicted decrease is round-off: converged
        # bracket the minimiser of the convex f(t), then Illinois' false position on f'
        lo, dlo, hi = 0.0, dec, 1.0
        dhi = along(a0, ad, w, dw, hi, True)
        while dhi < 0 and hi < 1e8:
            lo, dlo, hi = hi, dhi, 2.0 * hi
            dhi = along(a0, ad, w, dw, hi, True)
        t, side = hi, 0
        for _ls in range(40):
            if dhi <= 0 or abs(dhi) <= LS_TOL * abs(dec):
                t = hi
                break
            t = hi - dhi * (hi - lo) / (dhi - dlo) if dhi != dlo else 0.5 * (lo + hi)
            if not lo < t < hi:
                t = 0.5 * (lo + hi)
            dt = along(a0, ad, w, dw, t, True)
            if abs(dt) <= LS_TOL * abs(dec) or hi - lo <= 1e-14 * hi:
                break
            if dt < 0:
                lo, dlo = t, dt
                if side == -1:
                    dhi *= 0.5
                side = -1
            else:
                hi, dhi = t, dt
                if side == 1:
                    dlo *= 0.5
                side = 1
        fn = along(a0, ad, w, dw, t, False)
        if not fn < f0:
            break
        th = th + t * step
        if f0 - fn <= 1e-15 * max(1.0, abs(f0)):
            break
    return th, False


# ------------------------------------------------------------------ the exact finish
def _pattern(w, mu, p):
    """``(M, c)`` of the worst-case perturbation's sign pattern read off the smoothed point:
    ``w = M u`` with orthonormal columns and ``||w||_q = c' u`` on the pattern (None for the
    L2 ball, whose norm is not polyhedral)."""
    k = w.size
    if p == "inf":  # q = 1: support and signs
        S = np.flatnonzero(np.abs(w) > mu)
        M = np.zeros((k, S.size))
        M[S, np.arange(S.size)] = 1.0
        return M, np.sign(w[S])
    if p == "1":  # q = inf: the coordinates at the maximum
        u = _proj(w / mu, 1.0, "1")
        if np.abs(w).sum() / mu <= 1.0:
            return None
        T = np.flatnonzero(u != 0)
        rest = np.setdiff1d(np.arange(k), T)
        M = np.zeros((k, rest.size + 1))
        M[rest, np.arange(rest.size)] = 1.0
        M[T, -1] = np.sign(w[T]) / np.sqrt(T.size)
        c = np.zeros(rest.size + 1)
        c[-1] = 1.0 / np.sqrt(T.size)
        return M, c
    return None


def _logistic_reduced(Zt, s, C, u, b, deadline, max_iter=50):
    """Newton to machine precision on 1/2||u||^2 + C sum log(1 + exp(-(Zt u + s b)))."""
    A = np.hstack([Zt, s[:, None]])
    k = Zt.shape[1]
    reg = np.ones(k + 1)
    reg[-1] = 0.0
    th = np.append(u, b)

    def f(t):
        return 0.5 * (t[:k] @ t[:k]) + C * np.logaddexp(0.0, -(A @ t)).sum()

    fv = f(th)
    for _ in range(max_iter):
        if deadline is not None and time.perf_counter() > deadline:
            break
        r = -(A @ th)
        sig = 0.5 * (1.0 + np.tanh(0.5 * r))
        g = reg * th - C * (A.T @ sig)
        if np.abs(g).max() <= 1e-13 * max(1.0, C * A.shape[0] ** 0.5):
            break
        H = (A.T * (C * sig * (1 - sig))) @ A
        H[np.diag_indices_from(H)] += reg + 1e-14 * max(1.0, float(np.abs(H).max()))
        step = -np.linalg.solve(H, g)
        lr = 1.0
        while True:
            new = th + lr * step
            fn = f(new)
            if fn <= fv + 1e-4 * lr * (g @ step) or lr < 1e-10:
                break
            lr *= 0.5
        if fn > fv:
            break
        th, fv = new, fn
    r = -(A @ th)
    return th[:k], float(th[k]), C * 0.5 * (1.0 + np.tanh(0.5 * r))


def _finish(X, Z, s, C, eps, p, loss, th, r, h, mu, b_bound, deadline, rounds=25):
    """The exact solve on the read-off pattern (module docstring, step 2). Returns the best
    ``(w, b, P, D)`` over the rounds on the original problem, or None. ``r``: the smoothed
    stage's residuals."""
    k = X.shape[1]
    w0 = th[:k]
    pat = _pattern(w0, mu, p) if eps > 0 else (np.eye(k), np.zeros(k))
    if pat is None:
        return None
    M, c = pat
    Zt = Z @ M - eps * c[None, :]
    best = None

    def keep(w, b, alpha, P=None, D=None):
        nonlocal best
        if P is None:
            P = robust_objective(X, s, w, b, loss=loss, C=C, eps=eps, norm=p)
            D = robust_dual_bound(Z, s, alpha, C, eps, p, b_bound, loss)
        best = _keep_best(best, w, b, P, D)

    if loss == "logistic":
        u0 = M.T @ w0
        u, b, alpha = _logistic_reduced(Zt, s, C, u0, float(th[k]), deadline)
        keep(M @ u, b, alpha)
        return best
    # hinge: the KKT system of the nominal SVM on the moved features, active-set corrections;
    # the zone is read off the smoothed stage's own residuals (the smoothed norm lies below
    # the norm by about mu per coordinate: the exact residuals are shifted)
    got, M, c = _pdas(
        X, Z, s, C, eps, p, M, c, (r > 0) & (r < h), r >= h, b_bound, deadline, rounds
    )
    if got is not None:
        keep(*got[:2], None, *got[2:])
    return best


def _pdas(X, Z, s, C, eps, p, M, c, free, L, b_bound, deadline, rounds, stall_max=3):
    """A primal-dual active set on both partitions (the hinge loss): the samples (free, at
    ``C``, inactive) by the multipliers and margins of the KKT solve on the moved features,
    the sign pattern by the norm's subgradient conditions. Returns ``(best, M, c)`` with the
    best ``(w, b, P, D)`` (or None) and the last pattern."""
    best = None
    Zt = Z @ M - eps * c[None, :]
    free, L = free.copy(), L.copy()
    stall, single = 0, False
    for _ in range(rounds):
        if deadline is not None and time.perf_counter() > deadline:
            break
        F = np.flatnonzero(free)
        if F.size == 0 or F.size > min(2 * (M.shape[1] + 1) + 50, 1500):
            break
        try:
            u, b, aF = _kkt_solve(Zt, s, C, F, L)
        except np.linalg.LinAlgError:
            break
        alpha = np.where(L, C, 0.0)
        alpha[F] = aF
        w = M @ u
        P = robust_objective(X, s, w, b, loss="hinge", C=C, eps=eps, norm=p)
        D = robust_dual_bound(Z, s, alpha, C, eps, p, b_bound, "hinge")
        before = np.inf if best is None else relative_gap(best[2], best[3])
        if best is None or P < best[2]:
            best = [w, b, P, D if best is None else max(D, best[3])]
        else:
            best[3] = max(best[3], D)
        if relative_gap(best[2], best[3]) <= 1e-12:
            break
        worse = relative_gap(best[2], best[3]) >= before
        stall = stall + 1 if worse else 0
        if stall >= stall_max:
            break  # far from the optimum's active set: the active set wanders
        single = single or worse  # after an overshoot: one change at a time
        marg = Zt @ u + s * b
        lo, hi = aF < 0.0, aF > C
        to_free = (L & (marg > 1.0)) | (~L & ~free & (marg < 1.0))
        new = None
        if eps > 0 and not (single and (lo.any() or hi.any() or to_free.any())):
            ac = np.clip(alpha, 0.0, C)
            new = _update_pattern(w, Z.T @ ac, eps * float(ac.sum()), p, M, c)
        if not (lo.any() or hi.any() or to_free.any()) and new is None:
            break
        if single and (lo.any() or hi.any() or to_free.any()):
            # the most violated condition alone: a multiplier out of [0, C] or a margin
            vF = np.maximum(-aF, aF - C)
            vm = np.where(to_free, np.abs(marg - 1.0), 0.0)
            keep_lo, keep_hi, keep_tf = (np.zeros_like(x) for x in (lo, hi, to_free))
            if vF.max(initial=0.0) >= vm.max(initial=0.0):
                i = int(np.argmax(vF))
                keep_lo[i], keep_hi[i] = lo[i], hi[i]
            else:
                keep_tf[int(np.argmax(vm))] = True
            lo, hi, to_free = keep_lo, keep_hi, keep_tf
        free[F[lo | hi]] = False
        L[F[hi]] = True
        L[to_free] = False
        free[to_free] = True
        if new is not None:
            M, c = new
            Zt = Z @ M - eps * c[None, :]
    return best, M, c


def _update_pattern(w, v, rad, p, M, c):
    """The next sign pattern after an exact solve on ``(M, c)``, from the subgradient
    conditions of the norm (``v = Z'alpha``, ``rad = eps * sum(alpha)``): for q = 1 a zero
    coordinate with :math:`|v_j| > rad` enters with the sign of :math:`v_j`, a coordinate
    whose sign flipped or vanished leaves; for q = inf the coordinates that reach the maximum
    join the tied set. None when nothing changes."""
    k = w.size
    if p == "inf":
        S = np.flatnonzero(np.abs(M).sum(axis=1) != 0)
        sig = np.zeros(k)
        sig[S] = (M @ c)[S]
        stay = S[np.sign(w[S]) == sig[S]]
        out = np.setdiff1d(np.arange(k), S)
        enter = out[np.abs(v[out]) > rad * (1 + 1e-9)]
        S2 = np.union1d(stay, enter)
        if stay.size == S.size and enter.size == 0:
            return None
        sig[enter] = np.sign(v[enter])
        M2 = np.zeros((k, S2.size))
        M2[S2, np.arange(S2.size)] = 1.0
        return M2, sig[S2]
    if p == "1":
        t = np.abs(w).max(initial=0.0)
        if t == 0:
            return None
        T = np.flatnonzero(np.abs(w) >= t * (1 - 1e-9))
        # a tied coordinate leaves when its share of the subgradient is negative
        lam = np.sign(w[T]) * (v[T] - w[T])
        drop = lam < -1e-9 * max(rad, 1e-300)
        if drop.any() and not drop.all():
            T = T[~drop]
        rest = np.setdiff1d(np.arange(k), T)
        M2 = np.zeros((k, rest.size + 1))
        M2[rest, np.arange(rest.size)] = 1.0
        M2[T, -1] = np.sign(w[T]) / np.sqrt(T.size)
        c2 = np.zeros(rest.size + 1)
        c2[-1] = 1.0 / np.sqrt(T.size)
        if M2.shape == M.shape and np.allclose(M2, M):
            return None
        return M2, c2
    return None


def robust_newton(X, s, C, eps, norm, loss="hinge", deadline=None, gap_tol=GAP_TOL, verbose=False):
    """Run the method of the module docstring (``norm``: the perturbation ball's norm).
    Returns ``(w, b, objective, bound, info)``."""
    k = X.shape[1]
    p = norm
    if p not in DUAL:
        raise ValueError(f"norm must be 'inf', '1' or '2' (the perturbation ball's), got {p!r}")
    Z = s[:, None] * X
    A = np.hstack([Z, s[:, None]])
    off = 1.0 if loss == "hinge" else 0.0
    info = {"stages": 0, "finishes": 0, "timed_out": False, "h": None}
    if np.all(s == s[0]):  # one class: w = 0 and b far enough on its side has zero hinge
        b = float(s[0]) * (1.0 if loss == "hinge" else 0.0)
        P = robust_objective(X, s, np.zeros(k), b, loss=loss, C=C, eps=eps, norm=p)
        if loss == "hinge":
            return np.zeros(k), b, P, 0.0, info
        # the logistic loss only tends to 0 as |b| grows: the infimum 0 is the bound
        b = float(s[0]) * 30.0
        P = robust_objective(X, s, np.zeros(k), b, loss=loss, C=C, eps=eps, norm=p)
        return np.zeros(k), b, P, 0.0, info
    if loss == "hinge":  # the least-squares SVM start (every sample on phi_1's quadratic piece)
        reg = np.ones(k + 1)
        reg[-1] = 0.0
        th = _ls_svm_start(A, C, reg)
    else:
        th = np.zeros(k + 1)
    xnorm = float(np.sqrt((X * X).sum(axis=1)).max(initial=0.0))
    best_P, best_th, best_D = np.inf, th.copy(), -np.inf
    h, mu = 1.0, MU_RATIO
    while True:
        th, timed_out = _newton_stage(A, s, C, eps, p, loss, off, h, mu, th, deadline)
        info["stages"] += 1
        P = robust_objective(X, s, th[:k], th[k], loss=loss, C=C, eps=eps, norm=p)
        if P < best_P:
            best_P, best_th = P, th.copy()
        B = best_P / C + xnorm * np.sqrt(2.0 * best_P) + 1.0
        g = _smooth_norm(th[:k], mu, p)[0] if eps > 0 else 0.0
        r = off - A @ th + eps * g
        alpha = C * _phi(r, loss, h)[1]
        best_D = max(best_D, robust_dual_bound(Z, s, alpha, C, eps, p, B, loss))
        if not timed_out and relative_gap(best_P, best_D) > gap_tol:
            fin = _finish(X, Z, s, C, eps, p, loss, th, r, h, mu, B, deadline)
            if fin is not None:
                info["finishes"] += 1
                if fin[2] < best_P:
                    best_P, best_th = fin[2], np.append(fin[0], fin[1])
                best_D = max(best_D, fin[3])
        gap = relative_gap(best_P, best_D)
        if verbose:
            logger.info(
                "robust-newton: h = %.1e, mu = %.1e, objective %.10g, bound %.10g, gap %.2e",
                h,
                mu,
                best_P,
                best_D,
                gap,
            )
        info["h"] = h if loss == "hinge" else mu
        if gap <= gap_tol or timed_out or mu < 1e-13:
            info["timed_out"] = timed_out
            break
        if deadline is not None and time.perf_counter() > deadline:
            info["timed_out"] = True
            break
        # the next stage starts from this stage's point: a finish's point (off the smoothed
        # path when its pattern was not yet right) is a poor start for the smoothed Newton
        mu *= H_FACTOR
        if loss == "hinge":
            h *= H_FACTOR
    return best_th[:k], float(best_th[k]), best_P, best_D, info


class RobustNewtonSolver(SpecialSolver):
    """Smoothed Newton continuation with an exact finish (see the module docstring)."""

    name = "robust-newton"
    kinds = ("robust_linear",)
    problem_class = "QP"
    description = (
        "robust linear SVM / logistic regression (L1, L2, L-inf perturbations): Newton on the "
        "smoothed loss and norm, exact finish on the worst case's sign pattern; bound from the "
        "Lagrangian dual"
    )
    reference = "Bertsimas et al. (2019); Chapelle (2007); Nesterov (2005)"
    gap_tol = GAP_TOL

    def solve(self, problem: RobustLinearProblem, settings) -> RawAnswer:
        return solve_continuation(
            self,
            settings,
            partial(
                robust_newton,
                problem.X,
                problem.s,
                problem.C,
                problem.eps,
                problem.norm,
                loss=problem.loss,
            ),
            "robust Newton: {stages} smoothing stages, {finishes} exact finishes; bound = "
            "Lagrangian dual value of a feasible dual point",
        )


register_special(RobustNewtonSolver(), module=__name__)
