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
:math:`\bar\alpha` is small). It is solved by active-set coordinate descent (cyclic exact
coordinate minimisation on a working set; features enter when their optimality condition
fails). Its bound is always the **dual bound** of the last point :math:`\bar\beta`
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

from optml.program.result import relative_gap

logger = logging.getLogger("optml")


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
        self.p = bounds.p

    @property
    def applicable(self) -> bool:
        return self.a > 0 or self.b.boxed

    def dual(self, beta, fin, fout_mask):
        """``(D, hl)``: the dual bound at ``beta`` with the fixings, and :math:`h + \\lambda_0`."""
        const, h = self.b.cut(beta)
        hl = h + self.lam
        free = ~fout_mask
        fin = np.asarray(fin, dtype=int)
        free[fin] = False
        D = const + float(hl[fin].sum()) + float(np.minimum(hl[free], 0.0).sum())
        return D, hl, free

    def primal(self, W, bW, fin_mask_W) -> float:
        """The relaxation's objective at ``beta`` (nonzero on ``W`` only)."""
        G, c = self.b.G, self.b.c
        AW = G[np.ix_(W, W)] - self.b.delta * np.eye(len(W))
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
        max_sweeps=300,
    ):
        """The node relaxation by active-set coordinate descent: ``(D, beta, W)`` with ``D``
        the dual bound of the last point (the best met), ``beta`` its point (dense), ``W`` the
        working set."""
        p, lam, a = self.p, self.lam, self.a
        G, c, delta = self.b.G, self.b.c, self.b.delta
        fin = sorted(int(j) for j in fin)
        fin_set = set(fin)
        W = list(dict.fromkeys(fin + [int(j) for j in W0 if not fout_mask[int(j)]]))
        if not W:
            score = c * c / np.maximum(self.b.dG, 1e-300)
            score[fout_mask] = -np.inf
            W = [int(j) for j in np.argsort(-score)[: min(10, p)] if np.isfinite(score[j])]
        beta = np.zeros(p)
        if beta0 is not None:
            beta[W] = np.asarray(beta0, float)[W]
        beta[fout_mask] = 0.0
        best = (-np.inf, beta.copy(), list(W))
        for _ in range(max_rounds):
            Wa = np.asarray(W, dtype=int)
            AW = G[np.ix_(Wa, Wa)]
            AW = AW - delta * np.eye(len(Wa))
            bW = beta[Wa].copy()
            g = c[Wa] - AW @ bW
            dW = self.d[Wa]
            loW, hiW = self.lo[Wa], self.hi[Wa]
            fixed = np.array([j in fin_set for j in W])
            scale = max(1.0, float(np.abs(bW).max(initial=0.0)))
            thr_p, thr_m = self._thresholds(loW, hiW)
            for sweep in range(max_sweeps):
                change = 0.0
                # the nonzeros, the fixed-in, and the zeros whose optimality condition fails
                viol = (bW == 0) & ((g > thr_p) | (-g > thr_m))
                idx = np.flatnonzero((bW != 0) | fixed | viol).tolist()
                for i in idx:
                    t = g[i] + dW[i] * bW[i]
                    u = _coord(t, dW[i], a, lam, loW[i], hiW[i], fixed[i])
                    diff = u - bW[i]
                    if diff != 0.0:
                        g -= AW[:, i] * diff
                        bW[i] = u
                        change = max(change, abs(diff))
                scale = max(scale, float(np.abs(bW).max(initial=0.0)))
                if change <= 1e-10 * scale:
                    break
                else:
                    if sweep % 4 == 3:  # Newton on the pattern of signs and regimes
                        bN = self._newton(AW, c[Wa], bW, loW, hiW, fixed)
                        if bN is not None:
                            g = c[Wa] - AW @ bN
                            bW = bN
                if sweep % 10 == 9 and deadline is not None and time.perf_counter() > deadline:
                    break
            beta[:] = 0.0
            beta[Wa] = bW
            D, hl, free = self.dual(beta, fin, fout_mask)
            if D > best[0]:
                best = (D, beta.copy(), list(W))
            P = self.primal(Wa, bW, fixed)
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
                break  # W is optimal for the node (up to the coordinate descent's accuracy)
            add = cand[np.argsort(hl[cand])[:50]]
            W = W + [int(j) for j in add]
        return best

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
            rhs = rhs - AW[np.ix_(F, B)] @ (sg[B] * M[B])
        K = AW[np.ix_(F, F)] + np.diag(np.where(quad, a, 0.0))
        try:
            uN = np.linalg.solve(K, rhs)
        except np.linalg.LinAlgError:
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

    def offer(S):
        nonlocal inc_beta, inc_val
        b, v = penalised_value(heur, lam, S)
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
    return dict(
        status=status,
        values=problem.values(inc_beta),
        objective=inc_val,
        bound=lower,
        message="" if finished else "time limit: open nodes remain",
        stats=stats,
        solve_time=time.perf_counter() - t0,
    )
