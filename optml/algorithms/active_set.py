r"""A certified active-set solver for penalised least squares in the Gram form.

Solves

.. math::

    \min_w\ f(w) = \tfrac12 w^\top H w - b^\top w + \lambda\|w\|_1
    \quad\text{s.t.}\quad l \le w \le u

with :math:`H \succeq 0` small (:math:`p \times p`), which is what the lasso, the elastic net,
ridge and least squares become after :func:`optml.formulations.regression.gram_data`.

The method is the primal-dual active-set method (Hintermüller, Ito and Kunisch 2002; for the
lasso, Fan, Jiao and Lu 2014), i.e. a semismooth Newton method on the proximal fixed point
:math:`w = \operatorname{prox}(w - D^{-1}\nabla q(w))` with :math:`D = \operatorname{diag} H`.
Each iteration predicts, for every coordinate, whether it sits at zero, at a bound, or is free
with a sign, and solves the KKT system of the free coordinates exactly (one Cholesky
factorisation). When the prediction repeats, the KKT conditions are checked on all
coordinates; the point is then optimal up to rounding. Warm starts (a previous point on a
regularisation path) usually converge in one or two iterations.

The answer is certified independently of how it was found (:func:`dual_bound`): a Lagrangian
lower bound from the subgradient and bound multipliers read off the gradient, minimised in
closed form over the quadratic, and (for :math:`\lambda > 0`) the scaled-residual dual of the
lasso. The objective is re-evaluated on the raw data with numpy.

Registered as the special solver ``"active-set"`` (:class:`ActiveSetSolver`) for
:class:`~optml.formulations.regression.LeastSquaresProblem` (kind ``"least_squares"``), the
default solver of the least-squares family (``LeastSquares``, ``Ridge``, ``Lasso``,
``ElasticNet``). A sparse lasso is solved on a growing working set of features
(:mod:`optml.algorithms.working_set`) where that applies, else with the full Gram matrix.

References
----------
Hintermüller, Ito and Kunisch (2002), The primal-dual active set strategy as a semismooth
Newton method. SIAM J. Optim. 13(3).
Fan, Jiao and Lu (2014), A primal dual active set algorithm with continuation for compressed
sensing. IEEE Trans. Signal Process. 62(23).
"""

from __future__ import annotations

import contextlib
import logging
import time

import numpy as np
import scipy.linalg as sla
from scipy.linalg import lapack

from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.regression import raw_check
from optml.program.result import relative_gap

logger = logging.getLogger("optml")

#: relative gap (and raw-data agreement) at which the solver calls its answer optimal
CERT_GAP = 1e-9


def objective(H, b, lam, w) -> float:
    r""":math:`\tfrac12 w^\top H w - b^\top w + \lambda\|w\|_1`."""
    return float(0.5 * w @ (H @ w) - b @ w + lam * np.abs(w).sum())


def _box(p, lo, hi):
    """``(lo, hi)`` as arrays, or ``(None, None)`` when no side is finite (the fast path)."""
    lo_f = lo is not None and bool(np.isfinite(lo).any())
    hi_f = hi is not None and bool(np.isfinite(hi).any())
    if not (lo_f or hi_f):
        return None, None
    lo = np.full(p, -np.inf) if lo is None else np.asarray(lo, dtype=float)
    hi = np.full(p, np.inf) if hi is None else np.asarray(hi, dtype=float)
    return lo, hi


def _kkt_residual(w, g, lam, lo, hi) -> float:
    """Largest violation of the optimality conditions at ``w`` (gradient ``g`` of the quadratic).

    The residual of coordinate j is the distance of :math:`-g_j` from the normal cone of the
    box plus the l1 subdifferential at :math:`w_j` (:func:`kkt_violations`).
    """
    return float(max(kkt_violations(w, g, lam, lo, hi).max(initial=0.0), 0.0))


def kkt_violations(w, g, lam, lo, hi) -> np.ndarray:
    """Each coordinate's violation of the optimality conditions (see :func:`_kkt_residual`);
    ``lo``/``hi`` None when there is no box."""
    if lo is None:
        # |g_j + lam sign(w_j)| off zero; |g_j| - lam at zero
        return np.abs(g + lam * np.sign(w)) - lam * (w == 0.0)
    # the subdifferential of lam|x| + box at w_j is [a, b]; residual = dist(-g_j, [a, b])
    a = np.where(w > 0, lam, -lam)
    b = np.where(w < 0, -lam, lam)
    a = np.where(w == lo, -np.inf, a)  # at a lower bound the cone adds (-inf, 0]
    b = np.where(w == hi, np.inf, b)  # at an upper bound it adds [0, inf)
    m = -g
    r = np.maximum(np.maximum(a - m, m - b), 0.0)
    # a free coordinate solved outside its box is infeasible, whatever its gradient
    return np.maximum(r, np.maximum(lo - w, w - hi))


#: iterations of a cold start with a penalty before the continuation in lambda takes over
COLD_MAX_ITER = 12


def solve(H, b, lam=0.0, lo=None, hi=None, w0=None, max_iter=50, tol=1e-9, continuation=True):
    r"""Primal-dual active-set iterations; returns ``(w, info)``.

    ``info["converged"]`` is False when the KKT conditions do not hold (to ``tol`` relative to
    :math:`\max(1, \lambda, \|b\|_\infty)`) within ``max_iter`` iterations, or a reduced
    Hessian was singular; the caller then falls back to a QP solver.
    """
    p = b.shape[0]
    lo, hi = _box(p, lo, hi)
    d = np.diag(H).copy()
    dead = d <= 1e-12 * max(float(d.max(initial=0.0)), 1e-300)
    if dead.any():
        # a feature constant in the data has a zero row and column in H: its coefficient only
        # pays the penalty and sits at the point of its box nearest 0
        w = np.zeros(p) if lo is None else np.clip(0.0, lo, hi)
        live = ~dead
        if live.any():
            w0l = None if w0 is None else np.asarray(w0, float)[live]
            w[live], info = solve(
                H[np.ix_(live, live)],
                b[live],
                lam,
                None if lo is None else lo[live],
                None if hi is None else hi[live],
                w0=w0l,
                max_iter=max_iter,
                tol=tol,
                continuation=continuation,
            )
            info["grad"] = H @ w - b
            return w, info
        return w, {"converged": True, "iterations": 0, "kkt": 0.0, "reason": ""}
    t = lam / d
    mt = -t
    invd = 1.0 / d
    if w0 is None:
        w = np.zeros(p)
    else:
        w = np.asarray(w0, dtype=float)
        if lo is not None:
            w = np.minimum(np.maximum(w, lo), hi)
    w_start = w
    g = H @ w - b
    scale = tol * max(1.0, lam, float(np.abs(b).max(initial=0.0)))
    res = np.inf
    seen = set()
    # from a cold start with a penalty, a prediction that has not settled in a few iterations
    # usually wanders (n close to p: many free coordinates, an ill-conditioned H) without
    # repeating exactly; the continuation below is then the faster way (n = 400, p = 300:
    # 50 wandering iterations were 40 of 92 ms)
    cold = continuation and lam > 0 and w0 is None
    for it in range(1, (min(max_iter, COLD_MAX_ITER) if cold else max_iter) + 1):
        # one prox step per coordinate (step 1/H_jj) predicts zero / bound / free with a sign
        v = w - g * invd
        s = v - np.minimum(np.maximum(v, mt), t) if lam else v
        wn = np.zeros(p)
        if lo is not None:
            s = np.minimum(np.maximum(s, lo), hi)
            fixed = ((s == lo) | (s == hi)) & (s != 0.0)
            free = (s != 0.0) & ~fixed
            wn[fixed] = s[fixed]
        else:
            fixed = None
            free = s != 0.0
        key = (np.sign(s) + 3 * free).astype(np.int8).tobytes()
        if key in seen:  # the prediction cycles: switch to the monotone method
            break
        seen.add(key)
        F = free.nonzero()[0]
        if F.size:
            rhs = b[F] - lam * np.sign(s[F]) if lam else b[F]
            if fixed is not None and fixed.any():
                rhs = rhs - H[np.ix_(F, fixed)] @ wn[fixed]
            HF = H if F.size == p else H.take(F, axis=0).take(F, axis=1)
            c, info = lapack.dpotrf(HF, lower=0, clean=0)
            if info != 0:
                break  # a singular reduced Hessian: the monotone method keeps sets smaller
            x, info = lapack.dpotrs(c, rhs, lower=0)
            wn[F] = x
        w = wn
        S = (w != 0.0).nonzero()[0]
        # rows of the symmetric H on the support: less memory traffic than H @ w when p is large
        g = (H[S].T @ w[S] if 4 * S.size < p else H @ w) - b
        res = _kkt_residual(w, g, lam, lo, hi)
        if res <= scale:
            return w, {"converged": True, "iterations": it, "kkt": res, "reason": "", "grad": g}
    if continuation and lam > 0 and w0 is None:
        # from a cold start, penalties decreasing from lambda_max keep the free sets small
        wc, info = solve_continuation(H, b, lam, lo, hi, max_iter=max_iter, tol=tol)
        if info["converged"]:
            info["iterations"] += it
            return wc, info
    w, info = primal_active_set(H, b, lam, lo, hi, w0=w_start, tol=tol)
    info["iterations"] += it
    return w, info


def primal_active_set(H, b, lam=0.0, lo=None, hi=None, w0=None, max_iter=None, tol=1e-9):
    r"""Monotone primal active-set method (in the manner of Lawson and Hanson's NNLS and of
    Osborne, Presnell and Turlach's lasso algorithm); returns ``(w, info)``.

    The iterate stays feasible and sign-consistent, and the objective never increases: on the
    working set :math:`W` (free coordinates with fixed signs :math:`\sigma`) the minimiser of
    the quadratic on that face is computed, and the step towards it stops where a coordinate
    would change sign or leave its box (that coordinate then leaves :math:`W`). When the face
    is solved, the coordinate whose one-sided directional derivative is most negative enters
    :math:`W`. Slower than :func:`solve` from a cold start (one coordinate at a time) but it
    does not cycle; :func:`solve` falls back to it.
    """
    p = b.shape[0]
    lo = np.full(p, -np.inf) if lo is None else lo
    hi = np.full(p, np.inf) if hi is None else hi
    w = np.zeros(p) if w0 is None else np.asarray(w0, dtype=float).copy()
    w = np.minimum(np.maximum(w, lo), hi)
    # the working set: coordinates strictly inside their box and off zero
    sigma = np.sign(w)
    W = (w != 0.0) & (w > lo) & (w < hi)
    scale = tol * max(1.0, lam, float(np.abs(b).max(initial=0.0)))
    max_iter = 20 * p + 100 if max_iter is None else max_iter
    g = H @ w - b
    # Cholesky factor R'R = H[order][:, order] of the working set, extended by one row and
    # column when a coordinate enters (O(k^2)) and recomputed after one leaves
    order = list(W.nonzero()[0])
    R = None
    for it in range(1, max_iter + 1):
        if order:
            F = np.asarray(order)
            if R is None:
                R, info = lapack.dpotrf(H[np.ix_(F, F)], lower=0, clean=1)
                if info != 0:
                    return w, {
                        "converged": False,
                        "iterations": it,
                        "kkt": np.inf,
                        "reason": "singular reduced Hessian",
                        "grad": g,
                    }
            # minimiser of the quadratic on the face {w_j = const for j not in W}
            # coordinates held away from zero (at a nonzero bound) couple into the face
            K = (~W & (w != 0.0)).nonzero()[0]
            rhs = b[F] - lam * sigma[F]
            if K.size:
                rhs = rhs - H[np.ix_(F, K)] @ w[K]
            target = sla.solve_triangular(
                R,
                sla.solve_triangular(R, rhs, trans="T", check_finite=False),
                check_finite=False,
            )
            cur = w[F]
            # the face's range for each free coordinate: its box within its sign's orthant
            flo = np.where(sigma[F] > 0, np.maximum(lo[F], 0.0), lo[F])
            fhi = np.where(sigma[F] < 0, np.minimum(hi[F], 0.0), hi[F])
            step = 1.0
            block = -1
            d = target - cur
            with np.errstate(divide="ignore", invalid="ignore"):
                t_lo = np.where(target < flo, (flo - cur) / d, np.inf)
                t_hi = np.where(target > fhi, (fhi - cur) / d, np.inf)
            tt = np.minimum(t_lo, t_hi)
            if tt.size and tt.min() < 1.0:
                block = int(np.argmin(tt))
                step = max(float(tt[block]), 0.0)
            w[F] = cur + step * d
            if block >= 0:
                j = F[block]
                w[j] = flo[block] if t_lo[block] <= t_hi[block] else fhi[block]
                W[j] = False
                # others that reached their face boundary (round-off) leave too
                wf = w[F]
                at_lo = np.isfinite(flo) & (
                    np.abs(wf - flo) <= 1e-15 * np.maximum(1.0, np.abs(flo))
                )
                at_hi = np.isfinite(fhi) & (
                    np.abs(wf - fhi) <= 1e-15 * np.maximum(1.0, np.abs(fhi))
                )
                w[F[at_lo]] = flo[at_lo]
                w[F[at_hi & ~at_lo]] = fhi[at_hi & ~at_lo]
                W[F[at_lo | at_hi]] = False
                sigma = np.where(W, sigma, np.sign(w))
                order = [i for i in order if W[i]]
                R = None
                continue
        S = (w != 0.0).nonzero()[0]
        g = H[S].T @ w[S] - b  # w is zero off S (rows of the symmetric H: a contiguous gather)
        # the face is solved: the most negative one-sided directional derivative enters
        up = g + np.where(w >= 0, lam, -lam)  # derivative moving up
        dn = -g + np.where(w <= 0, lam, -lam)  # moving down
        up = np.where(W | (w >= hi), np.inf, up)
        dn = np.where(W | (w <= lo), np.inf, dn)
        j_up, j_dn = int(np.argmin(up)), int(np.argmin(dn))
        best = min(up[j_up], dn[j_dn])
        if best >= -scale:
            res = _kkt_residual(w, g, lam, lo, hi)
            return w, {
                "converged": res <= scale,
                "iterations": it,
                "kkt": res,
                "reason": "" if res <= scale else "KKT check failed",
                "grad": g,
            }
        j, direction = (j_up, 1.0) if up[j_up] <= dn[j_dn] else (j_dn, -1.0)
        W[j] = True
        sigma[j] = direction if w[j] == 0.0 else np.sign(w[j])
        if R is not None and order:
            r = sla.solve_triangular(R, H[order, j], trans="T", check_finite=False)
            d2 = H[j, j] - r @ r
            if d2 <= 1e-13 * H[j, j]:  # (nearly) dependent on the working set: refactor
                R = None
            else:
                k = len(order)
                R2 = np.zeros((k + 1, k + 1))
                R2[:k, :k] = R
                R2[:k, k] = r
                R2[k, k] = np.sqrt(d2)
                R = R2
        else:
            R = None
        order.append(j)
    res = _kkt_residual(w, g, lam, lo, hi)
    return w, {
        "converged": False,
        "iterations": max_iter,
        "kkt": res,
        "reason": "active set did not settle",
        "grad": g,
    }


def solve_continuation(H, b, lam, lo=None, hi=None, steps=24, max_iter=50, tol=1e-9):
    r""":func:`solve` along penalties decreasing geometrically from :math:`\|b\|_\infty` to
    ``lam``, each warm-started from the last (Fan, Jiao and Lu's continuation). Keeps the free
    sets small, which matters when :math:`H` is singular (more features than samples)."""
    lam_max = float(np.abs(b).max(initial=0.0))
    w = None
    total = 0
    if lam > 0 and lam_max > lam:
        for lk in lam_max * (lam / lam_max) ** (np.arange(1, steps) / steps):
            w, info = solve(H, b, lk, lo, hi, w0=w, max_iter=max_iter, tol=tol, continuation=False)
            total += info["iterations"]
            if not info["converged"]:
                return w, info
    w, info = solve(H, b, lam, lo, hi, w0=w, max_iter=max_iter, tol=tol, continuation=False)
    info["iterations"] += total
    return w, info


def dual_bound(H, b, lam, lo, hi, w, chol=None) -> float:
    r"""A lower bound on :math:`\min f`, valid for any ``w`` (rigorous up to rounding).

    Multipliers are read off the gradient :math:`g = Hw - b`: a subgradient
    :math:`z = \mathrm{clip}(-g, -\lambda, \lambda)` of the l1 term (so
    :math:`\lambda\|x\|_1 \ge z^\top x`) and, on coordinates at a bound, the part of
    :math:`-(g+z)` of the right sign as a bound multiplier. The Lagrangian is a quadratic
    whose minimum is computed exactly with the Cholesky factor ``chol`` of :math:`H`
    (``scipy.linalg.cho_factor`` form; :math:`H \succ 0`). Returns ``-inf`` without it.
    """
    g = H @ w - b
    z = np.where(w != 0, lam * np.sign(w), np.clip(-g, -lam, lam))
    # bound multipliers: mu_lo >= 0 on lower bounds, mu_hi >= 0 on upper bounds
    r = g + z  # gradient of q(w) + z'w at w; the multipliers absorb what they can
    mu_lo = np.where(np.isfinite(lo) & (r > 0), r, 0.0)
    mu_hi = np.where(np.isfinite(hi) & (r < 0), -r, 0.0)
    best = -np.inf
    if chol is not None:
        # L(x) = q(x) + z'x - mu_lo'(x - lo) + mu_hi'(x - hi); grad = Hx - b + z - mu_lo + mu_hi
        lin = -b + z - mu_lo + mu_hi
        const = float(mu_lo[mu_lo > 0] @ lo[mu_lo > 0] - mu_hi[mu_hi > 0] @ hi[mu_hi > 0])
        x = sla.cho_solve(chol, -lin, check_finite=False)
        best = max(best, float(0.5 * lin @ x) + const)
    return best


def gram_dual_bound(G, c, yy, n, lam, l2, lo, hi, w) -> float:
    r"""Scaled-residual dual bound for :math:`\frac{1}{2n}\|y - Xw\|^2 + \lambda\|w\|_1 +
    \frac{l_2}{2}\|w\|^2` over a box, from Gram data only (see :func:`residual_dual`)."""
    if lam <= 0:
        return -np.inf
    Gw = G @ w
    v = (c - Gw) / n - l2 * w  # X_aug' r_aug / n
    rr = max(yy - 2.0 * c @ w + w @ Gw, 0.0) + n * l2 * float(w @ w)
    return residual_dual(v, rr, yy - c @ w, n, lam, lo, hi)


def residual_dual(v, rr, yr, n, lam, lo, hi) -> float:
    r"""The lasso's scaled-residual dual bound, from the residual's statistics.

    For :math:`\frac{1}{2n}\|y - Xw\|^2 + \lambda\|w\|_1 + \frac{l_2}{2}\|w\|^2` over a
    box, with the residual :math:`r = y - Xw` augmented by :math:`-\sqrt{n l_2}\,w` for the
    ridge part: ``v`` :math:`= X_{aug}^\top r_{aug} / n`, ``rr`` :math:`= \|r_{aug}\|^2`,
    ``yr`` :math:`= r^\top y`. The point :math:`\theta = s r_{aug} / n` is dual feasible for a
    scale :math:`s \in [0, 1]` that keeps :math:`h^*(X_{aug}^\top\theta)` finite, and
    :math:`D(\theta) = \theta^\top y - \frac n2\|\theta\|^2 - h^*(X_{aug}^\top\theta)`,
    which is returned: a lower bound on the full objective above (a caller that drops the
    constant :math:`\|y\|^2 / 2n` from its objective subtracts it here too).
    """
    if lam <= 0:
        return -np.inf
    lo, hi = _box(v.shape[0], lo, hi)
    # h(x) = lam|x| + box; h*(s v) is finite iff no unbounded side has slope > lam
    if lo is None:
        vmax = float(np.abs(v).max(initial=0.0))
        s = 1.0 if vmax <= lam else lam / vmax
        return s * yr / n - s * s * rr / (2.0 * n)  # h*(s v) = 0
    bad = (np.isinf(hi) & (v > lam)) | (np.isinf(lo) & (v < -lam))
    s = float(lam / np.abs(v[bad]).max()) if bad.any() else 1.0
    tv = s * v
    # h*(t) = sum_j max over {0 (if in box), lo_j, hi_j} of t_j x - lam |x|
    hs = np.where((lo <= 0) & (hi >= 0), 0.0, -np.inf)
    for e in (lo, hi):
        fin = np.isfinite(e) & (e != 0.0)
        hs[fin] = np.maximum(hs[fin], tv[fin] * e[fin] - lam * np.abs(e[fin]))
    return s * yr / n - s * s * rr / (2.0 * n) - float(hs.sum())


def certify(H, b, lam, lo, hi, w, gram=None, l2=0.0, want=1e-9, grad=None):
    r"""``(f(w), lower bound on min f)`` for :math:`f = \tfrac12 w^\top Hw - b^\top w +
    \lambda\|w\|_1` on the box.

    With ``gram`` (the :class:`~optml.formulations.regression.GramData` that ``H`` and ``b``
    come from, :math:`H = G/n + l_2 I`, :math:`b = c/n`) and :math:`\lambda > 0` the lasso's
    scaled-residual dual is tried first; when it leaves a relative gap above ``want`` the
    Lagrangian bound of :func:`dual_bound` is computed on the coordinates with :math:`H_{jj}
    > 0` (a constant feature only pays its penalty, at the box point nearest 0). ``grad``
    (:math:`Hw - b`, if known) saves a product.
    """
    g = H @ w - b if grad is None else grad
    bw = float(b @ w)
    obj = 0.5 * float(w @ g) - 0.5 * bw + lam * float(np.abs(w).sum())
    bound = -np.inf
    if gram is not None and lam > 0:
        n, yy = gram.n, gram.yy
        const = yy / (2.0 * n)
        if _box(w.shape[0], lo, hi)[0] is None:
            # the dual point theta = s r / n, with X'r / n = -g: in closed form from g and w
            gmax = float(np.abs(g).max(initial=0.0))
            sc = 1.0 if gmax <= lam else lam / gmax
            rr = n * (float(w @ g) - bw) + yy
            bound = sc * (yy - n * bw) / n - sc * sc * rr / (2.0 * n) - const
        else:
            bound = gram_dual_bound(gram.G, gram.c, yy, n, lam, l2, lo, hi, w) - const
        if abs(obj - bound) <= want * max(1.0, abs(obj + const)):
            return obj, min(bound, obj)
    d = np.diag(H)
    live = d > 1e-12 * max(float(d.max(initial=0.0)), 1e-300)
    Hl = H if live.all() else H[np.ix_(live, live)]
    c, info = lapack.dpotrf(Hl, lower=0, clean=0)
    if info == 0:
        lo, hi = _box(w.shape[0], lo, hi)
        lo = np.full(w.shape, -np.inf) if lo is None else lo
        hi = np.full(w.shape, np.inf) if hi is None else hi
        dead_pen = float(lam * np.abs(np.clip(0.0, lo[~live], hi[~live])).sum())
        lag = dual_bound(Hl, b[live], lam, lo[live], hi[live], w[live], (c, False)) + dead_pen
        bound = max(bound, lag)
    return obj, (min(bound, obj) if np.isfinite(bound) else bound)


def solve_gram(X, y, gram, s, l1, l2, lo, hi, start=None, settings=None) -> RawAnswer:
    r"""Solve :func:`optml.formulations.regression.least_squares_program`'s QP,
    :math:`\min_{l \le w \le u} s\|y_c - X_c w\|^2 + l_1\|w\|_1 + l_2\|w\|^2`, from its Gram
    data, and certify it: ``status`` is "optimal" only when the dual bound leaves a relative
    gap of at most :data:`CERT_GAP`, the objective re-evaluated on the raw ``X``, ``y`` (when
    given) agrees to 1e-8 and the box is kept; else "error" (the point and bound still come
    back). ``start`` (a ``time.perf_counter()`` value) marks the start of the Gram step,
    reported as the build time.
    """
    t0 = time.perf_counter() if start is None else start
    n, p = gram.n, gram.p
    if settings is not None and settings.expired():
        return RawAnswer(status="time_limit", message="active set: time limit before the start")
    H = (2.0 * s) * gram.G
    if l2:
        H = H + (2.0 * l2) * np.eye(p)
    b = (2.0 * s) * gram.c
    const = s * gram.yy
    t1 = time.perf_counter()
    if p > n and l1 > 0:
        # more features than samples: a cold start predicts more free coefficients than the
        # rank allows; the continuation from lambda_max keeps the free sets small
        w, info = solve_continuation(H, b, l1, lo, hi)
        if not info["converged"]:
            w, info = solve(H, b, l1, lo, hi)
    else:
        w, info = solve(H, b, l1, lo, hi)  # its cold start falls back to the continuation itself
    t2 = time.perf_counter()
    scaled = abs(2.0 * s * n - 1.0) < 1e-12  # H = G/n + 2 l2 I, b = c/n: the lasso's dual applies
    obj, bound = certify(
        H, b, l1, lo, hi, w, gram if scaled else None, 2.0 * l2, grad=info.get("grad")
    )
    obj, bound = obj + const, bound + const
    gap = relative_gap(obj, bound)
    if X is not None:
        check, viol = raw_check(X, y, gram, w, s, l1, l2, lo, hi)
    else:
        check, viol = obj, _box_violation(w, lo, hi)
    ok = bool(
        info["converged"]
        and gap <= CERT_GAP
        and viol <= 1e-9
        and abs(check - obj) <= 1e-8 * max(1.0, abs(obj))
    )
    why = info["reason"] or (f"certified gap {gap:.2e}" if gap > CERT_GAP else "numpy check")
    msg = (
        f"active set: {info['iterations']} iterations, KKT residual {info['kkt']:.1e}; bound "
        "= dual value of a feasible dual point"
    )
    return RawAnswer(
        status="optimal" if ok else "error",
        values={"coef": w},
        objective=obj,
        bound=float(bound) if np.isfinite(bound) else None,
        message=msg if ok else f"active set not certified ({why})",
        stats={"iterations": int(info["iterations"]), "route": "gram"},
        objective_check=check,
        max_violation=viol,
        kkt_residual=float(info["kkt"]),
        build_time=t1 - t0,
        solve_time=t2 - t1,
    )


def _box_violation(w, lo, hi) -> float:
    viol = 0.0
    if lo is not None:
        viol = max(viol, float(np.max(lo - w, initial=0.0)))
    if hi is not None:
        viol = max(viol, float(np.max(w - hi, initial=0.0)))
    return viol


@contextlib.contextmanager
def _blas_threads(threads):
    """BLAS limited to ``threads`` (``solver_options={"threads": k}``) for the duration."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(threads), user_api="blas"):
        yield


class ActiveSetSolver(SpecialSolver):
    """optml's certified active-set method for penalised least squares (see the module
    docstring), registered as the solver ``"active-set"``.

    Settings: ``time_limit`` is checked between the rounds of a working set and before the
    full Gram solve (the remaining time of the one clock); ``threads`` limits BLAS;
    ``verbose`` logs the route and the certificate at INFO on the ``optml`` logger. Raw
    solver options mean nothing to it and are refused (:func:`optml.solve.special_settings_check`).
    The answer has status "optimal" only when its own certificate holds (gap <= 1e-9 from a
    feasible dual point, objective re-evaluated on the raw data), else "error": an automatic
    choice then falls back to the program on a general solver.
    """

    name = "active-set"
    kinds = ("least_squares",)
    problem_class = "QP"
    description = (
        "primal-dual active-set method on the Gram form of penalised least squares (a growing "
        "working set of features for a sparse lasso), certified by a dual bound"
    )
    reference = (
        "Hintermueller, Ito and Kunisch (2002); Fan, Jiao and Lu (2014); "
        "Massias, Gramfort and Salmon (2018)"
    )

    def solve(self, problem, settings) -> RawAnswer:
        from optml.algorithms import working_set
        from optml.solve import special_settings_check

        special_settings_check(settings, self.name)
        t0 = time.perf_counter()
        log = logger.info if settings.verbose else logger.debug
        s, l1, l2, lo, hi = problem.s, problem.l1, problem.l2, problem.lo, problem.hi
        n, p = problem.shape
        with _blas_threads(settings.threads):
            if problem.X is not None and working_set.applicable(n, p, s, l1, l2, lo, hi):
                blas = (
                    working_set.one_blas_thread(problem.X.size)
                    if settings.threads is None
                    else contextlib.nullcontext()
                )
                with blas:
                    mom = problem.moments
                    ans = working_set.solve(
                        problem.X, problem.y, mom, s, l1, l2, lo, hi, start=t0, settings=settings
                    )
                if ans is not None and ans.status == "optimal":
                    problem.record_check(ans.values["coef"], ans.objective_check, ans.max_violation)
                    log("%s: %s", problem.name, ans.message)
                    return ans
                why = "given up" if ans is None else ans.message
                log("%s: working set %s; using the full Gram matrix", problem.name, why)
            gram = problem.gram
            ans = solve_gram(
                problem.X, problem.y, gram, s, l1, l2, lo, hi, start=t0, settings=settings
            )
        if ans.values is not None and problem.X is not None:
            problem.record_check(ans.values["coef"], ans.objective_check, ans.max_violation)
        log("%s: %s", problem.name, ans.message)
        return ans


register_special(ActiveSetSolver(), module=__name__)
