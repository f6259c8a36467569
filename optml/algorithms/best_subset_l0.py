r"""The penalised form of best subset (L0L2, with an optional box): relaxations, dual bounds,
heuristics and the branch and bound run by ``"l0-bnb"`` when ``problem.l0 > 0``.

The model (:class:`~optml.formulations.subset.BestSubsetProblem` with ``l0`` = :math:`\lambda_0`)
on the centred Gram data:

.. math::

    \min_\beta\ \beta^\top (G + \alpha I)\beta - 2c^\top\beta + y^\top y
    + \lambda_0\|\beta\|_0 \quad\text{s.t.}\quad lo \le \beta \le hi

(:math:`lo = -M`, :math:`hi = M` for L0BnB's box :math:`|\beta_j| \le M`, a part of the model
the user states). With :math:`A = G - \delta I \succeq 0` and :math:`\bar\alpha = \alpha +
\delta` (:mod:`optml.algorithms.best_subset_bounds`), the perspective relaxation of a node
(:math:`F_1` fixed in, :math:`F_0` fixed out) eliminates :math:`s` coordinate by coordinate
(Hazimeh, Mazumder and Saab 2022):

.. math::

    \min_\beta\ \beta^\top A\beta - 2c^\top\beta + y^\top y + \sum_{j \notin F_0 \cup F_1}
    \psi(\beta_j) + \sum_{j \in F_1} (\bar\alpha\beta_j^2 + \lambda_0),\qquad
    \beta_{F_0} = 0,

with :math:`\psi(u) = \min\{\bar\alpha u^2/s + \lambda_0 s:\ s \in [0,1],\ |u| \le Ms\}`:
the reverse Huber penalty :math:`2\sqrt{\bar\alpha\lambda_0}|u|` for
:math:`|u| \le \tau = \sqrt{\lambda_0/\bar\alpha}` and :math:`\bar\alpha u^2 + \lambda_0` beyond,
or, when :math:`M \le \tau`, the linear penalty :math:`(\bar\alpha M + \lambda_0/M)|u|` (the
:math:`\lambda_0|u|/M` of the big-M relaxation: the box is what makes it strong when
:math:`\bar\alpha` is small). It is solved by an active-set method: on a working set (the
fixed-in features and the nonzeros of the parent's point) an accelerated proximal gradient
(FISTA with adaptive restart, the prox of :math:`\psi` in closed form) with Newton steps on
the pattern of signs and pieces, stopped by the duality gap on the working set; then every
feature outside it is checked at once by its optimality condition (one product with the
nonzeros' Gram rows) and the violators enter. (The cyclic coordinate descent it replaces
spent about 3x the CPU time per node, measured on the same nodes.) Its bound is always the **dual bound** of the last point :math:`\bar\beta`
(:math:`g = c - A\bar\beta`, :math:`h_j(g) = \min_{lo_j \le u \le hi_j} \bar\alpha u^2 - 2ug`),

.. math::

    D(\bar\beta) = y^\top y - \bar\beta^\top A\bar\beta + \sum_{j \in F_1} (h_j + \lambda_0)
    + \sum_{j \text{ free}} \min(0,\ h_j + \lambda_0),

a lower bound on every support with those fixings for *any* :math:`\bar\beta` (Fenchel
duality of :math:`\psi`; the same linearisation of :math:`\beta^\top A\beta` as the cuts of the
cardinality form), equal to the relaxation's value at its optimum. A free feature whose
forced entry lifts :math:`D` above the incumbent (:math:`D + \max(0, h_j + \lambda_0) > U`) is
fixed out; one whose exit does (:math:`D + \max(0, -h_j - \lambda_0) > U`) is fixed in: safe
screening from a dual point (Atamtürk and Gómez 2020); the root's fixings hold for the whole
tree and node relaxations work on the surviving features only.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import time

import numpy as np
import scipy.linalg as sla

from optml.algorithms.best_subset_activeset import active_set_solve
from optml.formulations.regression import LazyGram
from optml.program.result import relative_gap

logger = logging.getLogger("optml")

#: working sets up to this size whose first-order solve has not converged after
#: ``ACTIVE_SET_AFTER`` iterations are finished exactly by the active-set method
#: (:mod:`optml.algorithms.best_subset_activeset`): its work does not grow with the
#: condition number (FISTA's does), but each of its steps factors the free block
ACTIVE_SET_MAX = 200
ACTIVE_SET_AFTER = 40
#: a child node's working set: its parent's nonzeros and the ``max(NEAR_MIN, NEAR_FRACTION x
#: nonzeros)`` free zeros nearest to entering (make_sparse_regression at n = p = 1000, the
#: first 600 nodes: 11.0 -> 7.3 CPU s in the relaxations, the same bounds; 0.08 of them
#: gave 9.3 s, 0.4 gave 8.0 s, 0.8 gave 9.3 s)
NEAR_FRACTION = 0.2
NEAR_MIN = 10


# --------------------------------------------------------------------------- pieces
def psi(u, a: float, lam: float, lo, hi) -> np.ndarray:
    """The relaxed penalty :math:`\\psi(u_j)` (see the module docstring), elementwise."""
    u = np.asarray(u, float)
    au = np.abs(u)
    M = np.where(u > 0, hi, -lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = math.sqrt(lam / a) if a > 0 else np.inf
        lin = M <= tau
        slope = np.where(np.isfinite(M), a * M + lam / M, np.inf)
        rh = np.where(au <= tau, 2.0 * math.sqrt(a * lam) * au, a * au * au + lam)
        out = np.where(lin, slope * au, rh)
    return np.where(au == 0, 0.0, out)


def s_of(u, a: float, lam: float, lo, hi) -> np.ndarray:
    """The relaxed indicator :math:`s_j` at :math:`u_j` (the minimiser in :math:`\\psi`)."""
    u = np.asarray(u, float)
    au = np.abs(u)
    M = np.where(u > 0, hi, -lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.maximum(au * math.sqrt(a / lam) if a > 0 else 0.0, np.where(M > 0, au / M, 1.0))
    return np.where(au == 0, 0.0, np.clip(s, 0.0, 1.0))


def _coord(t: float, d: float, a: float, lam: float, lo: float, hi: float, fixed: bool) -> float:
    """:math:`\\arg\\min_u\\ d u^2 - 2tu + \\psi(u)` (or :math:`+\\bar\\alpha u^2` for a
    fixed-in feature) over :math:`lo \\le u \\le hi`."""
    if t == 0.0:
        return 0.0
    sign = 1.0 if t > 0 else -1.0
    M = hi if t > 0 else -lo
    t = abs(t)
    if M <= 0:
        return 0.0
    if fixed:
        q = d + a
        return sign * (min(t / q, M) if q > 0 else M)
    tau = math.sqrt(lam / a) if a > 0 else math.inf
    if M <= tau:  # linear penalty (a M + lam / M) |u|
        slope = 0.5 * (a * M + lam / M)
        if t <= slope:
            return 0.0
        return sign * (min((t - slope) / d, M) if d > 0 else M)
    k1 = math.sqrt(a * lam)
    if t <= k1:
        uA = 0.0
    else:
        uA = min((t - k1) / d, tau) if d > 0 else tau
    uB = min(max(t / (d + a), tau), M)
    qA = d * uA * uA - 2.0 * (t - k1) * uA
    qB = (d + a) * uB * uB - 2.0 * t * uB + lam
    return sign * (uA if qA <= qB else uB)


class PenalisedBounds:
    """Dual bounds, screening and the node relaxation of the penalised form, on top of a
    :class:`~optml.algorithms.best_subset_bounds.SubsetBounds` (its :math:`A`, :math:`h`)."""

    def __init__(self, bounds, l0: float):
        self.b = bounds
        self.lam = float(l0)
        self.a = bounds.aeff
        self.lo, self.hi = bounds.lo, bounds.hi
        self.d = np.maximum(bounds.dG - bounds.delta, 0.0)  # diag(A)
        self.last_cut = self.best_cut = None  # (const, h) at the last / best point of a solve
        self.p = bounds.p

    @property
    def applicable(self) -> bool:
        return self.a > 0 or self.b.boxed

    def dual(self, beta, fin, fout_mask):
        """``(D, hl)``: the dual bound at ``beta`` with the fixings, and :math:`h + \\lambda_0`."""
        const, h = self.b.cut(beta)
        self.last_cut = (const, h)
        hl = h + self.lam
        free = ~fout_mask
        fin = np.asarray(fin, dtype=int)
        free[fin] = False
        D = const + float(hl[fin].sum()) + float(np.minimum(hl[free], 0.0).sum())
        return D, hl, free

    def primal(self, W, bW, fin_mask_W, AW=None) -> float:
        """The relaxation's objective at ``beta`` (nonzero on ``W`` only)."""
        c = self.b.c
        if AW is None:
            AW = self._A_W(np.asarray(W, dtype=int))
        val = float(bW @ AW @ bW - 2.0 * c[W] @ bW + self.b.yy)
        lo, hi = self.lo[W], self.hi[W]
        pen = psi(bW, self.a, self.lam, lo, hi)
        pen = np.where(fin_mask_W, self.a * bW * bW + self.lam, pen)
        return val + float(pen.sum())

    def relaxation(
        self,
        fin,
        fout_mask,
        W0=(),
        beta0=None,
        upper=np.inf,
        prune_gap=0.0,
        deadline=None,
        tol=1e-7,
        max_rounds=60,
        max_iter=2000,
        keep=False,
    ):
        """The node relaxation by an active-set method: ``(D, beta, W)`` with ``D`` the dual
        bound of the last point (the best met), ``beta`` its point (dense), ``W`` the working
        set (``keep``: start from all of ``W0``, its zeros too, so that successive calls share
        the working set and its Gram block).

        On the working set ``W`` (the fixed-in features, the nonzeros of the warm start
        ``beta0`` and the features that entered) the relaxation is solved by an accelerated
        proximal gradient (FISTA with adaptive restart; the prox of :math:`\\psi` is in closed
        form) polished by Newton steps on the pattern of signs and pieces, stopped by the
        duality gap on ``W``; then every feature outside ``W`` is checked at once by its
        optimality condition :math:`h_j + \\lambda_0 \\ge 0` (one product with the nonzeros'
        Gram rows, :math:`O(p\\,|S|)`), and the violators enter. No product with the full
        :math:`p \\times p` matrix is formed."""
        p = self.p
        c = self.b.c
        fin = sorted(int(j) for j in fin)
        fin_set = set(fin)
        beta = np.zeros(p)
        if beta0 is not None:
            beta = np.asarray(beta0, float).copy()
            beta[fout_mask] = 0.0
        nz = [int(j) for j in W0 if not fout_mask[int(j)] and (keep or beta[int(j)] != 0.0)]
        W = list(dict.fromkeys(fin + nz))
        if not W:
            score = c * c / np.maximum(self.b.dG, 1e-300)
            score[fout_mask] = -np.inf
            W = [int(j) for j in np.argsort(-score)[: min(10, p)] if np.isfinite(score[j])]
        best = (-np.inf, beta.copy(), list(W))
        for _ in range(max_rounds):
            Wa = np.asarray(W, dtype=int)
            AW = self._A_W(Wa)
            fixed = np.fromiter((j in fin_set for j in W), bool, len(W))
            bW = self._solve_W(
                AW, c[Wa], beta[Wa], self.lo[Wa], self.hi[Wa], fixed, tol, max_iter, deadline
            )
            beta[:] = 0.0
            beta[Wa] = bW
            D, hl, free = self.dual(beta, fin, fout_mask)
            if D > best[0]:
                best = (D, beta.copy(), list(W))
                self.best_cut = self.last_cut  # the cut at the returned point
            P = self.primal(Wa, bW, fixed, AW)
            if P - D <= tol * max(1.0, abs(P)):
                break
            if D >= upper * (1.0 - prune_gap):
                break
            if deadline is not None and time.perf_counter() > deadline:
                break
            inW = np.zeros(p, bool)
            inW[Wa] = True
            cand = np.flatnonzero(free & ~inW & (hl < -1e-12 * max(1.0, abs(P))))
            if cand.size == 0:
                break  # W is optimal for the node (up to the inner solve's accuracy)
            add = cand[np.argsort(hl[cand])[: max(50, len(W))]]
            W = W + [int(j) for j in add]
        return best

    def _A_W(self, Wa):
        """:math:`A_{WW}` (kept for the last working set: the Lagrangian's evaluations at one
        node mostly share it; never written to by the callers)."""
        last = getattr(self, "_last_AW", None)
        m = len(Wa)
        if last is not None:
            W0, A0 = last
            m0 = len(W0)
            if m0 == m and np.array_equal(W0, Wa):
                return A0
            if 0 < m0 < m and np.array_equal(W0, Wa[:m0]):
                # the working set grew (features entered): only the new rows are read
                add = Wa[m0:]
                R = self._gram_block(add, Wa)
                if self.b.delta:
                    R[np.arange(m - m0), np.arange(m0, m)] -= self.b.delta
                AW = np.empty((m, m))
                AW[:m0, :m0] = A0
                AW[m0:, :] = R
                AW[:m0, m0:] = R[:, :m0].T
                self._last_AW = (Wa.copy(), AW)
                return AW
        AW = self._gram_block(Wa, Wa)
        if self.b.delta:
            AW[np.arange(m), np.arange(m)] -= self.b.delta
        self._last_AW = (Wa.copy(), AW)
        return AW

    def _gram_block(self, S, T):
        """``G[np.ix_(S, T)]`` (a new array): rows then columns for a dense ``G`` (four
        times faster than the open-mesh index at a few hundred features)."""
        G = self.b.G
        if isinstance(G, np.ndarray):
            return G[S][:, T]
        return np.array(G[np.ix_(S, T)], dtype=float)

    # ------------------------------------------------------------ the inner solve on W
    def _prox_data(self, loW, hiW, fixed):
        """Per-working-set constants of :meth:`_prox`: for each side (u > 0, u < 0) the
        bound, the linear piece's slope and whether the linear piece applies."""
        a, lam = self.a, self.lam
        tau = math.sqrt(lam / a) if a > 0 else math.inf
        out = []
        for M in (hiW, -loW):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                slope = a * M + lam / M
            slope = np.where(np.isnan(slope), np.inf, slope)
            out += [M, slope, M <= tau]
        return (*out, fixed, tau, 2.0 * math.sqrt(a * lam))

    def _prox(self, v, t, data):
        r"""The proximal map of :math:`t\psi` (of :math:`t\bar\alpha u^2` for a fixed-in
        feature) with the box, elementwise, in closed form."""
        Mp, sp, lp, Mm, sm, lm, fixed, tau, k2 = data
        pos = v > 0
        M = np.where(pos, Mp, Mm)
        av = np.abs(v)
        quad = np.minimum(av * (1.0 / (1.0 + 2.0 * t * self.a)), M)
        u_lin = np.minimum(np.maximum(av - t * np.where(pos, sp, sm), 0.0), M)
        st = av - t * k2
        u = np.where(st <= tau, np.maximum(st, 0.0), quad)
        u = np.where(np.where(pos, lp, lm), u_lin, u)
        u = np.where(fixed, quad, u)
        u = np.maximum(u, 0.0)
        return np.copysign(u, v)

    def _h(self, g, loW, hiW):
        """:math:`h_j(g_j)` on a slice (see :meth:`SubsetBounds.h`)."""
        a = self.a
        if a > 0:
            u = np.clip(g / a, loW, hiW)
            return a * u * u - 2.0 * u * g
        u = np.where(g > 0, hiW, loW)
        with np.errstate(invalid="ignore"):
            out = -2.0 * u * g
        return np.where(g == 0, 0.0, out)

    def _gap_W(self, AW, cW, u, Au, loW, hiW, fixed):
        """``(P, D)``: the relaxation's value on ``W`` at ``u`` and its dual bound there
        (both without :math:`y^\\top y`)."""
        lam = self.lam
        uAu = float(u @ Au)
        pen = psi(u, self.a, lam, loW, hiW)
        pen = np.where(fixed, self.a * u * u + lam, pen)
        P = uAu - 2.0 * float(cW @ u) + float(pen.sum())
        hl = self._h(cW - Au, loW, hiW) + lam
        D = -uAu + float(hl[fixed].sum()) + float(np.minimum(hl[~fixed], 0.0).sum())
        return P, D

    def _solve_W(self, AW, cW, u0, loW, hiW, fixed, tol, max_iter, deadline):
        """The relaxation on the working set: FISTA with adaptive restart (O'Donoghue and
        Candes 2015) and a backtracking step, a pattern Newton step every 20 iterations,
        stopped when the duality gap on ``W`` is below ``tol`` (relative)."""
        m = len(cW)
        if m == 0:
            return np.zeros(0)
        yy = float(self.b.yy)
        # step: 1 / (2 lambda_max(A_W)), by power iteration (backtracking guards it)
        v = np.full(m, 1.0 / math.sqrt(m)) + 1e-3 * np.cos(np.arange(m))
        lmax = 0.0
        for _ in range(15):
            w = AW @ v
            lmax = float(np.linalg.norm(w))
            if lmax <= 0:
                break
            v = w / lmax
        t = 1.0 / (2.0 * 1.2 * max(lmax, 1e-300))
        x = np.clip(np.asarray(u0, float), loW, hiW)
        Ax = AW @ x
        xp, Axp = x, Ax
        y, Ay = x, Ax
        theta = 1.0
        data = self._prox_data(loW, hiW, fixed)
        # a Newton step on the warm start's pattern first: at a child node the parent's
        # pattern is usually right but for the branched feature
        xN = self._newton(AW, cW, x, loW, hiW, fixed)
        if xN is not None:
            x = y = xp = xN
            Ax = Ay = Axp = AW @ xN
            P, D = self._gap_W(AW, cW, x, Ax, loW, hiW, fixed)
            if P - D <= tol * max(1.0, abs(yy + P)):
                return x
        check = 10
        exact = m <= ACTIVE_SET_MAX
        for it in range(max_iter):
            grad = 2.0 * (Ay - cW)
            fy = float(y @ Ay) - 2.0 * float(cW @ y)
            while True:
                xn = self._prox(y - t * grad, t, data)
                Axn = AW @ xn
                d = xn - y
                fx = float(xn @ Axn) - 2.0 * float(cW @ xn)
                if fx <= fy + float(grad @ d) + (0.5 / t) * float(d @ d) + 1e-12 * abs(fy):
                    break
                t *= 0.5
                if t < 1e-300:
                    break
            th2 = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * theta * theta))
            if float((y - xn) @ (xn - x)) > 0:  # restart the momentum
                th2 = 1.0
                mom = 0.0
            else:
                mom = (theta - 1.0) / th2
            xp, Axp, x, Ax = x, Ax, xn, Axn
            y = x + mom * (x - xp)
            Ay = Ax + mom * (Ax - Axp)
            theta = th2
            if it + 1 == check or it == max_iter - 1:
                check = min(2 * check, check + 40)
                P, D = self._gap_W(AW, cW, x, Ax, loW, hiW, fixed)
                if P - D <= tol * max(1.0, abs(yy + P)):
                    break
                if exact and it + 1 >= ACTIVE_SET_AFTER:
                    # slow convergence (an ill-conditioned A_W): finish by the exact method
                    xa = active_set_solve(AW, cW, x, loW, hiW, fixed, self.a, self.lam)
                    exact = xa is not None  # a singular free block: not again in this solve
                    if xa is not None:
                        Axa = AW @ xa
                        Pa, Da = self._gap_W(AW, cW, xa, Axa, loW, hiW, fixed)
                        if Pa <= P:
                            x, Ax, xp, Axp, y, Ay, theta = xa, Axa, xa, Axa, xa, Axa, 1.0
                        if Pa - Da <= tol * max(1.0, abs(yy + Pa)):
                            break
                xN = self._newton(AW, cW, x, loW, hiW, fixed)
                if xN is not None:
                    AxN = AW @ xN
                    PN, DN = self._gap_W(AW, cW, xN, AxN, loW, hiW, fixed)
                    x, Ax, xp, Axp, y, Ay, theta = xN, AxN, xN, AxN, xN, AxN, 1.0
                    if PN - DN <= tol * max(1.0, abs(yy + PN)):
                        break
                if deadline is not None and time.perf_counter() > deadline:
                    break
        return x

    def _thresholds(self, lo, hi):
        r"""``(thr_p, thr_m)``: a zero coordinate stays zero iff
        :math:`-thr_m \le g_j \le thr_p` (:math:`g = c - A\beta`)."""
        a, lam = self.a, self.lam
        tau = math.sqrt(lam / a) if a > 0 else math.inf
        k1 = math.sqrt(a * lam)
        out = []
        for M in (hi, -lo):
            with np.errstate(divide="ignore", invalid="ignore"):
                lin = 0.5 * (a * M + lam / M)
            out.append(np.where(M <= 0, np.inf, np.where(M <= tau, lin, k1)))
        return out

    def _q(self, AW, cW, u, loW, hiW, fixed) -> float:
        r"""The relaxation's objective on the working set (without :math:`y^\top y`)."""
        pen = psi(u, self.a, self.lam, loW, hiW)
        pen = np.where(fixed, self.a * u * u + (u != 0) * self.lam, pen)
        return float(u @ AW @ u - 2.0 * cW @ u + pen.sum())

    def _newton(self, AW, cW, bW, loW, hiW, fixed):
        r"""One Newton step on the pattern of ``bW`` (signs, and which piece of :math:`\psi`
        each nonzero is on): the stationarity conditions are then linear. The step is taken
        when it lowers the objective (else None)."""
        a, lam = self.a, self.lam
        nz = bW != 0
        if not nz.any():
            return None
        sg = np.sign(bW)
        M = np.where(sg > 0, hiW, -loW)
        atM = nz & (np.abs(bW) >= M * (1 - 1e-12))
        F = np.flatnonzero(nz & ~atM)
        if F.size == 0:
            return None
        tau = math.sqrt(lam / a) if a > 0 else math.inf
        k1 = math.sqrt(a * lam)
        MF, sF, uF = M[F], sg[F], np.abs(bW[F])
        lin = MF <= tau
        quad = fixed[F] | (~lin & (uF >= tau))
        shift = (
            np.where(
                fixed[F] | quad,
                0.0,
                np.where(lin, 0.5 * (a * MF + lam / np.where(lin, MF, 1.0)), k1),
            )
            * sF
        )
        B = np.flatnonzero(atM)
        rhs = cW[F] - shift
        if B.size:
            rhs = rhs - AW[F][:, B] @ (sg[B] * M[B])
        K = AW[F][:, F]
        K[np.arange(F.size), np.arange(F.size)] += np.where(quad, a, 0.0)
        try:  # K is positive definite where X_F has full column rank: Cholesky first
            uN = sla.cho_solve(sla.cho_factor(K, check_finite=False), rhs, check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            # singular (more nonzeros than samples, alpha = 0): the least-norm solution of
            # the stationarity equations, a minimiser on the pattern when they are consistent
            try:
                uN = np.linalg.lstsq(K, rhs, rcond=1e-12)[0]
            except np.linalg.LinAlgError:
                return None
        if not np.isfinite(uN).all():
            return None
        new = bW.copy()
        new[F] = np.clip(uN, loW[F], hiW[F])
        new[F] = np.where(np.sign(new[F]) == sF, new[F], 0.0)  # a sign change: stop at 0
        if self._q(AW, cW, new, loW, hiW, fixed) < self._q(AW, cW, bW, loW, hiW, fixed):
            return new
        return None

    def fixings(self, D, hl, free, upper, margin):
        """Free features whose entry (exit) lifts ``D`` above ``upper``: ``(out, in)`` masks."""
        out = free & (D + np.maximum(hl, 0.0) > upper + margin)
        inn = free & (D + np.maximum(-hl, 0.0) > upper + margin)
        return out, inn


# ------------------------------------------------------- the cardinality form's relaxation
class CardinalityLagrangian:
    r"""The perspective relaxation of the **cardinality** form (with the box where there is
    one) through its Lagrangian dual over the cardinality multiplier :math:`\lambda`:

    .. math::

        L(\lambda) = R_{\lambda}(F_1, F_0) - \lambda k,

    with :math:`R_\lambda` the penalised relaxation of :class:`PenalisedBounds` at
    :math:`\lambda_0 = \lambda` (the fixed-in features cost :math:`\lambda` each). The
    relaxation is convex, so :math:`\max_\lambda L(\lambda)` is its value; :math:`\lambda`
    is found by bisection in :math:`\log\lambda` on the sign of
    :math:`\sum_{j \notin F_1} s_j(\lambda) - (k - |F_1|)` (the derivative of :math:`L`), each
    evaluation warm-started from the last. The bound reported is the cardinality form's own
    dual bound :math:`D(\bar\beta)` (:meth:`SubsetBounds.dual_bound`: the k most negative
    :math:`h_j`) at the best point met, which is at least :math:`L(\lambda)` at that point
    and certified for any :math:`\bar\beta`. With a box the penalty of :math:`R_\lambda` holds
    the big-M term, so this is the boxed perspective relaxation; the column generation of
    :meth:`SubsetBounds.relaxation` ignores the box (its bound is valid but weaker there).
    """

    def __init__(self, bounds):
        self.b = bounds
        self.pb = PenalisedBounds(bounds, 1.0)
        self.k = bounds.k
        self.evals = 0

    def initial_lambda(self, beta, fin=(), fout=()) -> float:
        """A first multiplier from the cut at ``beta`` (the incumbent, or the parent's point):
        the (r+1)-th most negative :math:`-h_j` of the free features (r = k - |F_1|), the
        multiplier of the dual bound's own selection (its LP dual)."""
        _, h = self.b.cut(beta)
        h = h.copy()
        h[list(fin)] = 0.0
        h[list(fout)] = 0.0
        r = self.k - len(fin)
        neg = np.sort(h[h < 0])
        if neg.size == 0:
            return 1e-6 * max(float(self.b.yy), 1e-300)
        return float(-neg[min(r, neg.size - 1)]) if r >= 0 else float(-neg[0])

    def relaxation(
        self,
        fixed_in=(),
        fixed_out=(),
        T0=(),
        beta0=None,
        lam0=None,
        upper=None,
        prune_gap=0.0,
        deadline=None,
        tol=1e-7,
        max_evals=40,
    ):
        """``(bound, beta, s, T, lam)``: the certified dual bound, its point, the relaxed
        indicator on the working set ``T`` and the last multiplier."""
        b, pb = self.b, self.pb
        p = b.p
        fin = sorted(int(j) for j in fixed_in)
        fout = [int(j) for j in fixed_out]
        fmask = np.zeros(p, bool)
        if fout:
            fmask[fout] = True
        r = self.k - len(fin)
        beta = np.zeros(p) if beta0 is None else np.asarray(beta0, float).copy()
        beta[fmask] = 0.0
        lam = float(lam0) if lam0 else self.initial_lambda(beta, fin, fout)
        # bracket [lo, hi] on log(lam): sum s > r at lo, <= r at hi; Illinois regula falsi
        lo_x = hi_x = None
        lo_f = hi_f = 0.0
        side = 0
        W = [int(j) for j in T0]
        best = None
        for _ in range(max_evals):
            self.evals += 1
            pb.lam = lam
            pb.best_cut = None
            _, beta, W = pb.relaxation(fin, fmask, W0=W, beta0=beta, deadline=deadline, tol=tol)
            # the cut at that point (one product with the Gram matrix) is the relaxation's own
            const, h = pb.best_cut if pb.best_cut is not None else b.cut(beta)
            D = b.dual_bound(const, h, fin, fout)
            Wa = np.asarray(W, dtype=int)
            fixed = np.isin(Wa, fin)
            s = s_of(beta[Wa], pb.a, lam, pb.lo[Wa], pb.hi[Wa])
            s[fixed] = 1.0
            tot = float(s[~fixed].sum())
            if best is None or D > best[0]:
                best = (D, beta.copy(), s.copy(), [int(j) for j in W], lam)
            if upper is not None and D >= upper * (1.0 - prune_gap):
                break
            if deadline is not None and time.perf_counter() > deadline:
                break
            x, f = math.log(lam), tot - r
            if f <= 1e-9:
                # feasible for the relaxation: its value there bounds it from above
                P = pb.primal(Wa, beta[Wa], fixed, pb._A_W(Wa)) - lam * (len(fin) + tot)
                if P - best[0] <= tol * max(1.0, abs(P)):
                    break
                if (
                    upper is not None
                    and P < upper * (1.0 - prune_gap)
                    and (P - best[0] <= 0.1 * prune_gap * abs(P))
                ):
                    break  # cannot prune: close enough to branch on
                if side == -1 and lo_x is not None:
                    lo_f *= 0.5  # Illinois: the other end stayed twice
                hi_x, hi_f, side = x, f, -1
            else:
                if side == 1 and hi_x is not None:
                    hi_f *= 0.5
                lo_x, lo_f, side = x, f, 1
            if lo_x is None:
                lam = lam / 4.0
            elif hi_x is None:
                lam = lam * 4.0
            else:
                if hi_x - lo_x <= 1e-12:
                    break
                xn = (
                    hi_x - hi_f * (hi_x - lo_x) / (hi_f - lo_f)
                    if hi_f != lo_f
                    else 0.5 * (lo_x + hi_x)
                )
                w = hi_x - lo_x
                xn = min(max(xn, lo_x + 1e-3 * w), hi_x - 1e-3 * w)
                lam = math.exp(xn)
        return best


# ------------------------------------------------------------------------ heuristics
def penalised_value(heur, l0, S) -> tuple[np.ndarray, float]:
    """``(beta, f + l0 * nnz)`` of the best point on support ``S``."""
    b, f = heur.fit_support(sorted(int(j) for j in S))
    return b, f + l0 * int(np.count_nonzero(b))


def l0_heuristic(heur, l0: float, deadline=None, start=None) -> tuple[np.ndarray, float, str]:
    """An incumbent for the penalised form: forward selection while a feature's gain
    exceeds :math:`\\lambda_0`, backward elimination of features worth less than it, and
    1-swaps (no box), repeated until none helps. ``(beta, value, method)``."""

    def late():
        return deadline is not None and time.perf_counter() > deadline

    S: list[int] = []
    if start is not None:
        S = [int(j) for j in np.flatnonzero(start)]
    beta, val = penalised_value(heur, l0, S)
    for _ in range(10):
        improved = False
        while not late():  # forward
            _, _, gains = heur._add_gains(S)
            j = int(np.argmax(gains))
            if not np.isfinite(gains[j]) or gains[j] <= l0:
                break
            b2, v2 = penalised_value(heur, l0, S + [j])
            if v2 >= val - 1e-12 * max(1.0, abs(val)):
                break
            S, beta, val, improved = S + [j], b2, v2, True
        while S and not late():  # backward
            trials = [penalised_value(heur, l0, [i for i in S if i != j]) for j in S]
            i = int(np.argmin([v for _, v in trials]))
            if trials[i][1] >= val - 1e-12 * max(1.0, abs(val)):
                break
            S = [j for j in S if j != S[i]]
            beta, val = trials[i]
            improved = True
        if S and not heur.bounded and not late():
            b2 = heur.swaps(S, max_pass=2)
            S2 = [int(j) for j in np.flatnonzero(b2)]
            b2, v2 = penalised_value(heur, l0, S2)
            if v2 < val - 1e-12 * max(1.0, abs(val)):
                S, beta, val, improved = S2, b2, v2, True
        if not improved or late():
            break
    return beta, val, "forward-backward" + ("" if heur.bounded else "+swap")


# ------------------------------------------------------------------ branch and bound
def solve_penalised(problem, settings, tol, t0):
    """The branch and bound of ``"l0-bnb"`` for the penalised form: returns the keyword
    arguments of its :class:`~optml.backends.base.RawAnswer`."""
    from optml.algorithms.best_subset_bounds import SubsetBounds
    from optml.algorithms.best_subset_oa import heuristic_of

    lam = problem.l0
    heur = heuristic_of(problem)
    bounds = SubsetBounds(problem, heur)
    pb = PenalisedBounds(bounds, lam)
    p = problem.p
    # incumbent: the start (the estimator's heuristic), polished on its support
    start = np.asarray(problem.start, float)
    inc_beta, inc_val = start.copy(), problem.objective(start)
    b, v = penalised_value(heur, lam, np.flatnonzero(start))
    if v < inc_val:
        inc_beta, inc_val = b, v

    offered: set = set()  # supports already fitted (the roundings of many nodes agree)

    def offer(S):
        nonlocal inc_beta, inc_val
        key = tuple(sorted(int(j) for j in S))
        if key in offered:
            return False
        if len(offered) < 200_000:
            offered.add(key)
        b, v = penalised_value(heur, lam, key)
        if v < inc_val:
            inc_beta, inc_val = b, v
            return True
        return False

    if not pb.applicable:
        return dict(
            status="error",
            values=problem.values(inc_beta),
            objective=inc_val,
            message=(
                "the branch and bound needs alpha > 0, a nonsingular X'X or a box M (alpha = 0 "
                "with more features than samples and no box leaves the relaxation void); use "
                "the MIQP (method='mip')"
            ),
            solve_time=time.perf_counter() - t0,
        )

    def prunable(bd):
        return relative_gap(inc_val, bd) <= tol or bd >= inc_val

    dead = np.zeros(p, bool)  # fixed out at the root for the whole tree
    D0, beta0, W0 = pb.relaxation(
        (), dead, W0=np.flatnonzero(inc_beta), beta0=inc_beta, deadline=settings.deadline
    )
    root_D, root_hl = D0, pb.dual(beta0, (), dead)[1]
    screened_root = 0

    def rescreen():
        nonlocal screened_root
        margin = 1e-9 * max(1.0, abs(inc_val))
        out = ~dead & (root_D + np.maximum(root_hl, 0.0) > inc_val + margin)
        dead[out] = True
        screened_root = int(dead.sum())

    offer(np.flatnonzero(beta0))
    rescreen()
    counter = itertools.count()
    heap = [(D0, next(counter), (), frozenset(), W0, beta0[W0])]
    pruned = np.inf
    nodes = 0
    finished = True
    screened = 0
    last_inc = inc_val
    while heap:
        bd, _, fin, fout, W, bW = heapq.heappop(heap)
        if prunable(bd):
            pruned = min(pruned, bd)
            continue
        if settings.expired():
            heapq.heappush(heap, (bd, next(counter), fin, fout, W, bW))
            finished = False
            break
        nodes += 1
        fmask = dead.copy()
        if fout:
            fmask[list(fout)] = True
        if nodes > 1:
            beta_w = np.zeros(p)
            beta_w[W] = bW
            parent = bd
            bd, beta, W = pb.relaxation(
                fin,
                fmask,
                W0=W,
                beta0=beta_w,
                upper=inc_val,
                prune_gap=tol,
                deadline=settings.deadline,
                keep=True,
            )
            if settings.expired():  # cut short: the node goes back with its parent's bound
                heapq.heappush(heap, (parent, next(counter), fin, fout, W, beta[W]))
                finished = False
                break
            bd = max(bd, parent)  # the parent's bound holds for the child
        else:
            beta = beta0
        if prunable(bd):
            pruned = min(pruned, bd)
            continue
        Wa = np.asarray(W, dtype=int)
        s = s_of(beta[Wa], pb.a, lam, pb.lo[Wa], pb.hi[Wa])
        fin_set = set(fin)
        # roundings: the largest s (at most a few more features than the incumbent has)
        cap = 2 * int(np.count_nonzero(inc_beta)) + 10
        order = np.argsort(-s)
        top = [int(Wa[i]) for i in order[:cap] if s[i] > 0 and int(Wa[i]) not in fin_set]
        offer(sorted(fin_set | set(top)))
        offer(sorted(fin_set | {int(Wa[i]) for i in order[:cap] if s[i] >= 0.5}))
        if inc_val < last_inc:
            last_inc = inc_val
            rescreen()
            fmask |= dead
        if prunable(bd):
            pruned = min(pruned, bd)
            continue
        D, hl, free = pb.dual(beta, fin, fmask)
        margin = 1e-9 * max(1.0, abs(inc_val))
        out, inn = pb.fixings(D, hl, free, inc_val, margin)
        if out.any() or inn.any():
            screened += int(out.sum() + inn.sum())
            fout = fout | frozenset(int(j) for j in np.flatnonzero(out & ~dead))
            fin = tuple(sorted(set(fin) | {int(j) for j in np.flatnonzero(inn)}))
            fin_set = set(fin)
            fmask[out] = True
            free &= ~(out | inn)
        if not free.any():  # a leaf: every feature decided
            offer(list(fin))
            pruned = min(pruned, bd) if inc_val > bd else pruned
            continue
        # branch on the most fractional s among the free features of W
        freeW = np.array([free[j] and j not in fin_set for j in Wa])
        frac = np.where(freeW, np.minimum(s, 1.0 - s), -1.0)
        i = int(np.argmax(frac)) if frac.size else 0
        if frac.size == 0 or frac[i] <= 1e-6:
            # integral relaxation: its support was evaluated above; branch on a selected free
            # feature if the relaxation is not exact there, else the node is done
            ones = np.flatnonzero(freeW & (s > 0.5))
            if ones.size == 0:
                pruned = min(pruned, bd)
                continue
            i = int(ones[np.argmax(np.abs(beta[Wa[ones]]))])
        j = int(Wa[i])
        # the children's working set: the nonzeros and the free zeros nearest to entering
        # (least h_j + lambda_0): after one fixing these are the ones that enter, and
        # carrying them saves the children a second working-set round (a second
        # factorisation of the pattern)
        nzW = Wa[beta[Wa] != 0]
        zeros = np.flatnonzero(free & (beta == 0))
        near = max(NEAR_MIN, int(math.ceil(NEAR_FRACTION * nzW.size)))
        if zeros.size > near:
            zeros = zeros[np.argpartition(hl[zeros], near - 1)[:near]]
        Wa = np.concatenate([nzW, zeros]).astype(int)
        W = Wa.tolist()
        bW = beta[Wa]
        heapq.heappush(heap, (bd, next(counter), tuple(sorted(fin + (j,))), fout, W, bW))
        heapq.heappush(heap, (bd, next(counter), fin, fout | {j}, W, bW))
    open_min = min((nd[0] for nd in heap), default=np.inf)
    lower = max(0.0, min(pruned, open_min, inc_val))
    gap = relative_gap(inc_val, lower)
    status = "optimal" if gap <= tol or finished else "time_limit"
    stats = {
        "nodes": nodes,
        "open": len(heap),
        "delta": bounds.delta,
        "root_bound": root_D,
        "screened_root": screened_root,
        "screened": screened,
        "support_fits": bounds.fits,
        "l0": lam,
    }
    G = problem.gram.G
    if isinstance(G, LazyGram):  # X'X not formed: products with X_c
        stats["lazy_gram_products"] = G.products
    return dict(
        status=status,
        values=problem.values(inc_beta),
        objective=inc_val,
        bound=lower,
        message="" if finished else "time limit: open nodes remain",
        stats=stats,
        solve_time=time.perf_counter() - t0,
    )
