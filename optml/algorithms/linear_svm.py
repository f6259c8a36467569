r"""The linear soft margin SVM by smoothed-hinge Newton continuation with an exact active-set
finish, registered as the special solver ``"svm-newton"``; certified by a dual feasible point.

It solves :class:`~optml.formulations.classification.SVMProblem` (kind ``"svm"``, L2 penalty),
libsvm's primal with the intercept unpenalised, exactly the program general solvers receive
(:func:`~optml.formulations.classification.soft_margin_svm`):

.. math:: P(w, b) = \tfrac12\|w\|_2^2 + C\sum_i (1 - s_i(x_i^\top w + b))_+ .

Algorithm (for :math:`p \ll n`, where one Newton step costs :math:`O(np + |Q|p^2)`):

1. Newton's method on the Huberised hinge :math:`\phi_h(t) = 0\ (t\le 0),\ t^2/2h\
   (0<t\le h),\ t - h/2\ (t>h)` for :math:`h = 1, 10^{-1}, 10^{-2}, \dots`, each stage warm
   started from the last (the smoothed problems' minimisers converge to a hinge minimiser as
   :math:`h \to 0`; Chapelle 2007).
2. After each stage, an exact finish: the samples in the quadratic zone :math:`0 < 1 - u_i <
   h` are taken as the free support vectors :math:`F`, those beyond it as bounded
   (:math:`\alpha_i = C`) or inactive (:math:`\alpha_i = 0`), and the KKT system
   :math:`w = Z_F^\top\alpha_F + C Z_L^\top\mathbf 1`, :math:`z_i^\top w + s_i b = 1\ (i\in F)`,
   :math:`s_F^\top\alpha_F + C s_L^\top\mathbf 1 = 0` (:math:`z_i = s_i x_i`) is solved by
   least squares. Once the partition is right this is the exact optimum.

Certificate. Every :math:`\alpha \in [0, C]^n` gives the dual value
:math:`D(\alpha) = \mathbf 1^\top\alpha - \tfrac12\|Z^\top\alpha\|^2 - B\,|s^\top\alpha|`,
a lower bound on :math:`\min_{w,\ |b|\le B} P` (the Lagrangian of the hinge's epigraph form
minimised over :math:`w` and over :math:`|b| \le B`), and :math:`B = \max_i\|x_i\|\sqrt{2U}
+ 1` with :math:`U` any primal value bounds :math:`|b|` at some optimum, so :math:`D(\alpha)
\le P^\star`. The candidates :math:`\alpha` are the smoothed stage's :math:`C\phi_h'(1-u_i)`
(which satisfy :math:`Z^\top\alpha = w` and :math:`s^\top\alpha = 0` at the smoothed optimum)
and the finish's :math:`\alpha` clipped to :math:`[0, C]`, each rebalanced (the larger class
scaled down) so that :math:`s^\top\alpha = 0` up to round-off. The relative gap
:math:`(P - D)/\max(1, |P|)` is at most ``gap_tol`` (:math:`10^{-6}`) for ``optimal``; at a
time limit the best primal point and best bound seen are returned (always finite).

References
----------
Chapelle (2007), Training a support vector machine in the primal. Neural Computation 19(5).
Hsieh, Chang, Lin, Keerthi and Sundararajan (2008), A dual coordinate descent method for
large-scale linear SVM. ICML (the dual and its bound).
"""

from __future__ import annotations

import logging
import time
from functools import partial

import numpy as np

from optml.algorithms._line_search import armijo, newton_direction
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.classification import SVMProblem, svm_objective
from optml.program.result import relative_gap

logger = logging.getLogger("optml")

__all__ = ["LinearSVMNewtonSolver", "svm_dual_bound", "svm_newton"]

#: relative duality gap for ``optimal``
GAP_TOL = 1e-6


def _balance(alpha, s):
    """Scale the class with the larger sum of ``alpha`` down so that ``s' alpha = 0``."""
    a = alpha.copy()
    sp, sn = a[s > 0].sum(), a[s < 0].sum()
    if sp > sn and sp > 0:
        a[s > 0] *= sn / sp
    elif sn > sp and sn > 0:
        a[s < 0] *= sp / sn
    return a


def svm_dual_bound(Z, s, alpha, C, b_bound) -> float:
    r"""The certified lower bound :math:`D(\alpha)` of the module docstring for any
    ``alpha`` (clipped to :math:`[0, C]` and rebalanced first); ``Z = s[:, None] * X``."""
    a = _balance(np.clip(alpha, 0.0, C), s)
    v = Z.T @ a
    return float(a.sum() - 0.5 * (v @ v) - b_bound * abs(float(s @ a)))


def _newton_stage(A, reg, C, h, th, deadline, max_iter=50, tol=1e-10):
    """Newton on 1/2 th'diag(reg)th + C sum phi_h(1 - A th); returns (th, timed_out)."""

    def fval(t):
        r = 1.0 - A @ t
        phi = np.where(r <= 0, 0.0, np.where(r <= h, r * r / (2 * h), r - h / 2))
        return 0.5 * (reg * t) @ t + C * phi.sum()

    fv = fval(th)
    mu = 0.0  # Levenberg-Marquardt damping: the Hessian is singular off the quadratic zone
    for _ in range(max_iter):
        if deadline is not None and time.perf_counter() > deadline:
            return th, True
        r = 1.0 - A @ th
        d = np.where(r <= 0, 0.0, np.where(r <= h, r / h, 1.0))
        g = reg * th - C * (A.T @ d)
        if np.abs(g).max() <= tol * max(1.0, C * A.shape[0] ** 0.5):
            break
        Aq = A[(r > 0) & (r <= h)]
        H = (C / h) * (Aq.T @ Aq)
        H[np.diag_indices_from(H)] += reg
        scale = max(1.0, float(np.abs(H).max(initial=0.0)))
        improved = False
        for _try in range(30):
            Hd = H.copy()
            Hd[np.diag_indices_from(Hd)] += 1e-12 * scale + mu
            step = newton_direction(Hd, g)
            new, fn, lr = armijo(fval, th, fv, step, g, min_lr=1e-4)
            if fn < fv:
                improved = True
                mu = mu * 0.1 if lr == 1.0 else mu
                break
            mu = max(10.0 * mu, 1e-8 * scale)
        if not improved:
            break
        done = fv - fn <= 1e-15 * max(1.0, abs(fv))
        th, fv = new, fn
        if done:
            break
    return th, False


def _kkt_solve(Z, s, C, F, L):
    r"""Solve the KKT system for the partition (free ``F`` indices, bounded mask ``L``),
    ``w`` eliminated: :math:`[Z_FZ_F^\top, s_F; s_F^\top, 0][\alpha_F; b] = [1 - Z_Fg_w;
    -g_b]` with :math:`g_w = CZ_L^\top\mathbf 1`, :math:`g_b = Cs_L^\top\mathbf 1`, then
    :math:`w = g_w + Z_F^\top\alpha_F` (least squares where the system is singular)."""
    gw = C * Z[L].sum(axis=0)
    gb = C * s[L].sum()
    k = F.size
    ZF = Z[F]
    M = np.zeros((k + 1, k + 1))
    M[:k, :k] = ZF @ ZF.T
    M[:k, k] = s[F]
    M[k, :k] = s[F]
    rhs = np.concatenate([1.0 - ZF @ gw, [-gb]])
    sol = np.linalg.lstsq(M, rhs, rcond=None)[0]
    aF, b = sol[:k], float(sol[k])
    return gw + ZF.T @ aF, b, aF


def _keep_best(best, w, b, P, D):
    """``best`` (``[w, b, objective, bound]`` or None) with ``(w, b)`` of objective ``P`` when
    it is better, and the larger of the two bounds."""
    if best is None:
        return [w, b, P, D]
    if P < best[2]:
        best[:3] = [w, b, P]
    best[3] = max(best[3], D)
    return best


def _finish(X, Z, s, C, r, h, b_bound, rounds=6):
    """The exact KKT solve on the partition read off the smoothed point, then a few
    primal-dual active-set corrections (a sample leaves the free set when its multiplier
    leaves :math:`[0, C]`, and joins it when its margin crosses 1). Returns the best primal
    point of the rounds and the best bound, ``(w, b, P, D, rounds)``, or None."""
    p = Z.shape[1]
    free = (r > 0) & (r < h)
    L = r >= h
    best = None
    k = 0
    for k in range(1, rounds + 1):  # noqa: B007
        F = np.flatnonzero(free)
        # generically at most p + 1 free support vectors: a larger zone is not yet the
        # partition of an optimum, and its (k+1)-square system costs k^3
        if F.size == 0 or F.size > min(2 * (p + 1) + 50, 1500):
            break
        try:
            w, b, aF = _kkt_solve(Z, s, C, F, L)
        except np.linalg.LinAlgError:
            break
        alpha = np.where(L, C, 0.0)
        alpha[F] = aF
        P = svm_objective(X, s, w, b, C)
        best = _keep_best(best, w, b, P, svm_dual_bound(Z, s, alpha, C, b_bound))
        if relative_gap(best[2], best[3]) <= 1e-12:
            break
        u = Z @ w + s * b
        lo, hi = aF < 0.0, aF > C
        to_free = (L & (u > 1.0)) | (~L & ~free & (u < 1.0))
        if not (lo.any() or hi.any() or to_free.any()):
            break
        free[F[lo | hi]] = False
        L[F[hi]] = True
        L[to_free] = False
        free[to_free] = True
    return None if best is None else (*best, k)


def _ls_svm_start(A, C, reg):
    r"""The start of the continuation: the least-squares SVM (every sample on the quadratic
    piece of phi_1), :math:`(C A^\top A + \mathrm{diag}(reg))\,\theta = C A^\top 1`."""
    G = C * (A.T @ A)
    G[np.diag_indices_from(G)] += reg + 1e-10 * max(1.0, float(np.abs(G).max()))
    return np.linalg.solve(G, C * A.sum(axis=0))


def svm_newton(X, s, C, deadline=None, gap_tol=GAP_TOL, verbose=False):
    """Run the method of the module docstring. Returns ``(w, b, objective, bound, info)``."""
    n, p = X.shape
    Z = s[:, None] * X
    A = np.hstack([Z, s[:, None]])
    reg = np.ones(p + 1)
    reg[-1] = 0.0
    th = _ls_svm_start(A, C, reg)
    xnorm = float(np.sqrt((X * X).sum(axis=1)).max(initial=0.0))
    best_P, best_th, best_D = np.inf, th, -np.inf
    h, stages, finishes, timed_out = 1.0, 0, 0, False
    while True:
        th, timed_out = _newton_stage(A, reg, C, h, th, deadline)
        stages += 1
        r = 1.0 - A @ th
        P = svm_objective(X, s, th[:p], th[p], C)
        if P < best_P:
            best_P, best_th = P, th.copy()
        B = xnorm * np.sqrt(2.0 * best_P) + 1.0
        alpha = C * np.where(r <= 0, 0.0, np.where(r <= h, r / h, 1.0))
        best_D = max(best_D, svm_dual_bound(Z, s, alpha, C, B))
        if not timed_out and relative_gap(best_P, best_D) > gap_tol:
            fin = _finish(X, Z, s, C, r, h, B)
            if fin is not None:
                finishes += fin[4]
                if fin[2] < best_P:
                    best_P, best_th = fin[2], np.append(fin[0], fin[1])
                best_D = max(best_D, fin[3])
        gap = relative_gap(best_P, best_D)
        if verbose:
            logger.info(
                "svm-newton: h = %.1e, objective %.10g, bound %.10g, gap %.2e",
                h,
                best_P,
                best_D,
                gap,
            )
        if gap <= gap_tol or timed_out or h < 1e-12:
            break
        if deadline is not None and time.perf_counter() > deadline:
            timed_out = True
            break
        th = best_th.copy() if P > best_P else th
        h *= 0.1
    info = {"stages": stages, "finishes": finishes, "timed_out": timed_out, "h": h}
    return best_th[:p], float(best_th[p]), best_P, best_D, info


def solve_continuation(solver, settings, run, summary: str) -> RawAnswer:
    """The answer of a smoothed Newton continuation with exact finishes (this module's and
    :mod:`optml.algorithms.robust_linear`'s solvers).

    ``run(deadline=..., gap_tol=solver.gap_tol, verbose=...)`` (from the started settings, BLAS
    limited to ``settings.threads``) returns ``(w, b, objective, bound, info)`` with ``info`` holding ``stages``, ``finishes``,
    ``timed_out`` and ``h``; ``summary`` is the message, formatted with ``info``. A gap above
    ``solver.gap_tol`` without running out of time (smoothing exhausted, round-off) is an
    ``"error"`` with the best point, so that an automatic choice solves the program instead.
    """
    from threadpoolctl import threadpool_limits

    from optml.solve import special_settings_check

    special_settings_check(settings, solver.name)
    settings = settings.started()
    t0 = time.perf_counter()
    with threadpool_limits(settings.threads or 1):
        w, b, obj, bound, info = run(
            deadline=settings.deadline, gap_tol=solver.gap_tol, verbose=settings.verbose
        )
    gap = relative_gap(obj, bound)
    status = (
        "optimal" if gap <= solver.gap_tol else ("time_limit" if info["timed_out"] else "error")
    )
    msg = summary.format(**info)
    if status != "optimal":
        why = "time limit" if info["timed_out"] else "smoothing exhausted"
        msg += f"; stopped at gap {gap:.2e} ({why})"
    return RawAnswer(
        status=status,
        values={"w": w, "b": np.array(b)},
        objective=obj,
        bound=bound if np.isfinite(bound) else None,
        message=msg,
        stats={k: info[k] for k in ("stages", "finishes")},
        solve_time=time.perf_counter() - t0,
    )


class LinearSVMNewtonSolver(SpecialSolver):
    """Smoothed-hinge Newton continuation with an exact finish (see the module docstring)."""

    name = "svm-newton"
    kinds = ("svm",)
    problem_class = "QP"
    description = (
        "L2 soft margin SVM: Newton on the Huberised hinge for h -> 0 with an exact active-set "
        "finish; bound from a dual feasible point"
    )
    reference = "Chapelle (2007); Hsieh et al. (2008) for the dual"
    gap_tol = GAP_TOL

    def accepts(self, problem) -> bool:
        return super().accepts(problem) and getattr(problem, "penalty", None) == "l2"

    def solve(self, problem: SVMProblem, settings) -> RawAnswer:
        return solve_continuation(
            self,
            settings,
            partial(svm_newton, problem.X, problem.s, problem.C),
            "smoothed-hinge Newton: {stages} stages (last h = {h:.0e}), {finishes} exact "
            "finishes; bound = dual value of a feasible dual point",
        )


register_special(LinearSVMNewtonSolver(), module=__name__)
