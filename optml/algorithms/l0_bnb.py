r"""Best subset selection by a specialised branch and bound (after L0BnB, Hazimeh, Mazumder
and Saab 2022).

Registered as the special solver ``"l0-bnb"`` for structured problems of kind
``"best_subset"`` (:class:`~optml.formulations.subset.BestSubsetProblem`).

A node fixes some features in (:math:`F_1`) and some out (:math:`F_0`). Its bound is the
perspective relaxation with those fixings,

.. math::

    \min_{\beta,\ s}\ \beta^\top A\beta - 2c^\top\beta + y^\top y
    + \bar\alpha\sum_j \beta_j^2/s_j
    \quad\text{s.t.}\quad \sum_j s_j \le k,\ s_{F_1} = 1,\ s_{F_0} = 0,\ 0 \le s \le 1,

(:math:`A = X_c^\top X_c - \delta I \succeq 0`, :math:`\bar\alpha = \alpha + \delta`; with a box
:math:`lo \le \beta \le hi` the boxed version), solved through its Lagrangian dual over the
cardinality multiplier :math:`\lambda`
(:class:`~optml.algorithms.best_subset_l0.CardinalityLagrangian`): the penalised relaxation at
:math:`\lambda` by an active-set accelerated proximal gradient with Newton steps on the
pattern, warm-started from the parent's point, working set and multiplier, the features
outside the working set checked at once by their optimality condition. The number reported is
always the **dual bound** of the last point, a certified lower bound however inexact the
inner solve (:mod:`optml.algorithms.best_subset_bounds`). Each node also

* rounds its relaxation (the k largest :math:`s_j`) to a support and fits it (incumbents);
* screens: from its dual point, a feature whose entry (exit) lifts the bound above the
  incumbent is fixed out (in) for the whole subtree (Atamtürk and Gómez 2020 use the same
  reduced-cost argument for safe screening);
* branches on the most fractional :math:`s_j`, best bound first.

The penalised form (``problem.l0 > 0``: :math:`\lambda_0\|\beta\|_0` instead of the
cardinality, optionally with a box) runs the search of
:mod:`optml.algorithms.best_subset_l0` (penalised perspective relaxations by active-set
coordinate descent, their dual bounds and screening).

At large p (a lazy Gram matrix, or ``RESTRICT_MIN_P`` features and more) the node
relaxations run on a **global working set** of features whose Gram block is formed
(:class:`WorkingSet`): each node solves its relaxation on the block, prices its point on every
feature with one product (which gives the certified dual bound of the full problem and the
screening), and the features that would lower the bound enter the working set (column
generation); branching reaches features outside it, so the search stays exact.

The incumbent starts from the heuristics (discrete first-order method, forward selection,
swaps). The proven bound is the least bound of any open node or of a node pruned within the
gap tolerance; the clock is the settings' (one deadline for the whole fit).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time

import numpy as np

from optml.algorithms.best_subset_oa import start_phase
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.regression import LazyGram
from optml.program.result import relative_gap

logger = logging.getLogger("optml")


def blas_threads(threads=None):
    """BLAS threads for the small dense solves of the search: ``threads`` (the settings'), one
    by default (a thread pool on a busy machine costs far more than it gives: a 250 x 250
    solve took 0.36 s with two OpenBLAS threads on a loaded 2-core machine, 1 ms with one)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(int(threads or 1), user_api="blas")


def _fixings(bounds, beta, fin, fout, upper, margin):
    """Features to fix out / in at a node from its dual point ``beta`` (see the module
    docstring): ``(out, in)`` lists."""
    const, h = bounds.cut(beta)
    k = bounds.k
    h = h.copy()
    base_in = const + float(h[list(fin)].sum()) if fin else const
    h[list(fin)] = np.inf
    if fout:
        h[list(fout)] = np.inf
    r = k - len(fin)
    if r <= 0:
        free = np.flatnonzero(np.isfinite(h))
        return [int(j) for j in free], []  # full: nothing else can enter
    neg = np.flatnonzero(h < 0)
    order = neg[np.argsort(h[neg])]
    top = order[:r]
    base = base_in + float(h[top].sum())
    kth = h[top[-1]] if top.size == r else 0.0
    nxt = h[order[r]] if order.size > r else 0.0
    in_top = np.zeros(h.size, bool)
    in_top[top] = True
    free = np.isfinite(h)
    forced_in = np.where(in_top, base, base - min(kth, 0.0) + np.where(free, h, 0.0))
    forced_out = np.where(in_top, base - h + min(nxt, 0.0), base)
    out = np.flatnonzero(free & (forced_in > upper + margin))
    inn = np.flatnonzero(free & in_top & (forced_out > upper + margin))
    return [int(j) for j in out], [int(j) for j in inn]


class L0BranchAndBound(SpecialSolver):
    name = "l0-bnb"
    kinds = ("best_subset",)
    problem_class = "MIQP"
    is_mip = True
    description = (
        "best subset by branch and bound: perspective relaxations (Lagrangian over the "
        "cardinality multiplier, active-set proximal gradient and Newton), certified dual bound "
        "per node, safe screening"
    )
    reference = (
        "Hazimeh, Mazumder and Saab (2022), Sparse regression at scale: branch-and-bound "
        "rooted in first-order optimization, Math. Program. 196"
    )

    def solve(self, problem, settings) -> RawAnswer:
        from optml.solve import special_settings_check

        special_settings_check(settings, self.name)
        with blas_threads(settings.threads):
            return self._solve(problem, settings)

    def _solve(self, problem, settings) -> RawAnswer:
        t0 = time.perf_counter()
        settings = settings.started(t0)
        tol = self.gap_tolerance(settings)
        if getattr(problem, "l0", 0.0) > 0:
            if problem.groups or problem.exclusive_pairs:
                return RawAnswer(
                    status="error",
                    values=problem.values(problem.start),
                    objective=problem.objective(problem.start),
                    message=NO_GROUPS,
                    solve_time=time.perf_counter() - t0,
                )
            from optml.algorithms.best_subset_l0 import solve_penalised

            return RawAnswer(**solve_penalised(problem, settings, tol, t0))
        if _restricted_route(problem):
            return _solve_restricted(problem, settings, tol, t0)
        heur, bounds, inc, root, fixed = start_phase(problem, settings, screen=False)
        root_time = time.perf_counter() - t0
        if root is None:
            return _refused(problem, inc, VOID_RELAXATION, t0)
        if problem.groups or problem.exclusive_pairs:
            return _refused(problem, inc, NO_GROUPS, t0)
        k = problem.k
        counter = itertools.count()
        D0, beta0, s0, T0, lam0 = root
        lagr = bounds.lagrangian
        # node: (bound, tiebreak, fixed_in, fixed_out, T, s, beta, multiplier)
        heap = [(D0, next(counter), (), frozenset(), T0, s0, beta0, lam0)]
        pruned = np.inf  # least bound of a node pruned within the tolerance
        nodes = 0
        finished = True
        screened = 0

        def prunable(b):
            return relative_gap(inc.value, b) <= tol or b >= inc.value

        while heap:
            b, _, fin, fout, T, s, beta, lam = heapq.heappop(heap)
            if prunable(b):
                pruned = min(pruned, b)
                continue
            if settings.expired():
                heapq.heappush(heap, (b, next(counter), fin, fout, T, s, beta, lam))
                finished = False
                break
            nodes += 1
            if nodes > 1:  # the root's relaxation is already solved
                parent = b
                b, beta, s, T, lam = lagr.relaxation(
                    fin,
                    fout,
                    T0=T,
                    beta0=beta,
                    lam0=lam,
                    upper=inc.value,
                    prune_gap=tol,
                    deadline=settings.deadline,
                )
                if settings.expired():  # cut short: back with its parent's bound
                    heapq.heappush(heap, (parent, next(counter), fin, fout, T, s, beta, lam))
                    finished = False
                    break
                b = max(b, parent)  # the parent's bound holds for the child
                if prunable(b):
                    pruned = min(pruned, b)
                    continue
            # incumbent from the relaxation: the k largest s (fixed-in first)
            order = [T[i] for i in np.argsort(-s)]
            S = list(dict.fromkeys(list(fin) + [j for j in order if j not in fout]))[:k]
            inc.offer(*bounds.support_value(S))
            if prunable(b):
                pruned = min(pruned, b)
                continue
            margin = 1e-9 * max(1.0, abs(inc.value))
            out, inn = _fixings(bounds, beta, fin, fout, inc.value, margin)
            if out or inn:
                screened += len(out) + len(inn)
                fout = fout | frozenset(out)
                fin = tuple(sorted(set(fin) | set(inn)))
                if len(fin) > k:
                    pruned = min(pruned, inc.value)
                    continue
            if len(fin) == k or len(fin) + (problem.p - len(fin) - len(fout)) <= k:
                free = [j for j in range(problem.p) if j not in fout and j not in fin]
                inc.offer(*bounds.support_value(list(fin) + free[: k - len(fin)]))
                continue  # a leaf: its best support is evaluated exactly
            # branch on the most fractional s (free, in T)
            Tarr = np.asarray(T)
            free_T = np.array([j not in fin and j not in fout for j in T])
            if not free_T.any():
                continue
            i, integral = _branch_index(free_T, s)
            if integral and bounds.support_value(S)[1] <= b * (1 + 1e-9) + 1e-12:
                pruned = min(pruned, b)  # its rounding, evaluated above, is that good
                continue
            j = int(Tarr[i])
            heapq.heappush(
                heap, (b, next(counter), tuple(sorted(fin + (j,))), fout, T, s, beta, lam)
            )
            heapq.heappush(heap, (b, next(counter), fin, fout | {j}, T, s, beta, lam))
        stats = {
            "nodes": nodes,
            "open": len(heap),
            "delta": bounds.delta,
            "root_bound": D0,
            "screened": screened,
            "support_fits": bounds.fits,
            "relaxations": lagr.evals,
            "root_time": root_time,
        }
        return _answer(problem, inc, heap, pruned, finished, tol, t0, stats)


# ------------------------------------------------------------- large p: a global working set
#: the global working set route applies to a lazy Gram matrix (X'X not formed) and beyond
#: this many features
RESTRICT_MIN_P = 20000
#: the global working set's first size (features) and how many enter per growth
RESTRICT_SIZE = 1000
RESTRICT_ADD = 200
#: no growth beyond this many features (the bound stays certified, only weaker)
RESTRICT_MAX = 8000


def _restricted_route(problem) -> bool:
    """Whether the search runs its relaxations on a global working set (large p)."""
    if problem.groups or problem.exclusive_pairs:
        return False
    return isinstance(problem.gram.G, LazyGram) or problem.p >= RESTRICT_MIN_P


class WorkingSet:
    r"""The node relaxations of a large-p search on a **global working set** :math:`C` of
    features whose Gram block is formed (:math:`|C| \ll p`), grown by column generation.

    A node's relaxation is solved on :math:`C` (the features outside it fixed out: a
    restricted relaxation, :class:`~optml.algorithms.best_subset_l0.CardinalityLagrangian`
    on the block); its point :math:`\bar\beta` (zero outside :math:`C`) is then priced on
    **all** features with one product (:meth:`SubsetBounds.cut`), and the bound reported is
    the full problem's dual bound :math:`D(\bar\beta)` with the node's fixings, certified for
    any :math:`\bar\beta` (:mod:`optml.algorithms.best_subset_bounds`): restricting the
    relaxation can only weaken it, never invalidate it. Where the full bound falls below the
    restricted one, features outside :math:`C` with the most negative :math:`h_j` enter
    :math:`C` and the node is solved again (for this and every later node)."""

    def __init__(self, problem, bounds, C0):
        self.problem, self.full = problem, bounds
        self.p = problem.p
        self.C = np.zeros(0, dtype=int)
        self.G = np.zeros((0, 0))
        self._buf = np.zeros((0, 0))
        self.pos = np.full(self.p, -1, dtype=np.int64)
        self.grows = 0
        self.evals = 0  # Lagrangian evaluations of the blocks replaced by growth
        self.lagr = None
        self.grow(C0)

    @property
    def size(self) -> int:
        return int(self.C.size)

    def grow(self, new, force: bool = False) -> int:
        """Add the features ``new`` (those not in ``C`` yet, up to ``RESTRICT_MAX`` unless
        ``force``: fixed-in features always enter): ``C`` keeps its order (local indices stay
        valid), the block is extended."""
        from optml.algorithms.best_subset_bounds import SubsetBounds
        from optml.algorithms.best_subset_l0 import CardinalityLagrangian
        from optml.formulations.regression import GramData
        from optml.formulations.subset import BestSubsetProblem

        new = np.asarray([int(j) for j in dict.fromkeys(np.asarray(new, int).tolist())], int)
        new = new[self.pos[new] < 0] if new.size else new
        if not force:
            room = max(RESTRICT_MAX - self.size, 0) if self.size else max(new.size, 0)
            new = new[:room]
        if new.size == 0 and self.size:
            return 0
        m, q = self.size, int(new.size)
        Cn = np.concatenate([self.C, new])
        G = self.problem.gram.G
        B = G.block(new, Cn) if isinstance(G, LazyGram) else np.asarray(G)[np.ix_(new, Cn)]
        if m + q > self._buf.shape[0]:  # the block lives in a buffer grown by doubling
            cap = max(min(2 * self._buf.shape[0], RESTRICT_MAX), m + q, 64)
            buf = np.empty((cap, cap))
            buf[:m, :m] = self._buf[:m, :m]
            self._buf = buf
        buf = self._buf
        buf[m : m + q, : m + q] = B
        buf[:m, m : m + q] = B[:, :m].T
        Gn = buf[: m + q, : m + q]  # a view: rows strided by the capacity
        self.C, self.G = Cn, Gn
        self.pos[new] = np.arange(m, m + q)
        pr, gram = self.problem, self.problem.gram
        xm = np.asarray(gram.x_mean)
        sub = GramData(
            G=Gn,
            c=gram.c[Cn],
            yy=gram.yy,
            n=gram.n,
            x_mean=xm[Cn] if xm.ndim else xm,
            y_mean=gram.y_mean,
        )
        sp = BestSubsetProblem(sub, pr.k, alpha=pr.alpha, lb=pr.lb[Cn], ub=pr.ub[Cn])
        # no heuristics on the block (support fits go to the full problem): heur=None
        self.sub = SubsetBounds(sp, None, delta=self.full.delta)  # the full problem's split
        if self.lagr is not None:
            self.evals += self.lagr.evals
        self.lagr = CardinalityLagrangian(self.sub)
        self.grows += 1
        return q

    def relaxation(self, fin, fout, T, bT, lam, upper, prune_gap, deadline, rounds=6):
        """``(bound, beta_T, s, T, lam, (const, h))`` of a node (``fin``: fixed-in features,
        ``fout``: fixed-out mask over all features; ``T``, ``bT``: the parent's working set
        and point on it, global indices): the full dual bound of the best point met."""
        full = self.full
        fin = [int(j) for j in fin]
        if fin and np.any(self.pos[fin] < 0):
            self.grow(fin, force=True)
        best = None
        fout_idx = np.flatnonzero(fout)
        for _ in range(rounds):
            pos = self.pos
            Tl = pos[np.asarray(T, dtype=int)] if len(T) else np.zeros(0, int)
            ok = Tl >= 0
            beta0 = np.zeros(self.size)
            beta0[Tl[ok]] = np.asarray(bT, float)[ok]
            outl = np.flatnonzero(fout[self.C])
            Db, bC, s, Tloc, lam = self.lagr.relaxation(
                pos[fin].tolist(),
                outl.tolist(),
                T0=Tl[ok].tolist(),
                beta0=beta0,
                lam0=lam,
                upper=upper,
                prune_gap=prune_gap,
                deadline=deadline,
            )
            Tg = self.C[np.asarray(Tloc, dtype=int)]
            beta = np.zeros(self.p)
            beta[self.C] = bC
            const, h = full.cut(beta)  # one product with every feature
            D = full.dual_bound(const, h, fin, fout_idx)
            if best is None or D > best[0]:
                best = (D, beta[Tg], s, Tg, lam, (const, h))
            T, bT = Tg, beta[Tg]
            if upper is not None and D >= upper * (1.0 - prune_gap):
                break
            if deadline is not None and time.perf_counter() > deadline:
                break
            if D >= Db - 1e-6 * max(1.0, abs(Db)):
                break  # the features outside C do not lower the bound
            # price the features outside C: those violating their optimality condition in the
            # penalised relaxation at the multiplier (h_j + lam < 0) enter, most negative first
            hh = np.where((self.pos < 0) & ~fout & (h < -lam), h, np.inf)
            hh[fin] = np.inf
            cand = np.flatnonzero(np.isfinite(hh))
            if cand.size == 0:
                break
            add = cand[np.argsort(hh[cand])[:RESTRICT_ADD]]
            if self.grow(add) == 0:
                break  # at RESTRICT_MAX: the bound stays the (valid) full dual bound
        return best


def _fixings_mask(k, const, h, fin, fout, upper, margin):
    """:func:`_fixings` on a cut ``(const, h)`` with ``fout`` a mask: ``(out, in)`` index
    arrays."""
    h = h.copy()
    fin = np.asarray(list(fin), dtype=int)
    base_in = const + float(h[fin].sum()) if fin.size else const
    h[fin] = np.inf
    h[fout] = np.inf
    r = k - fin.size
    free = np.isfinite(h)
    if r <= 0:
        return np.flatnonzero(free), np.zeros(0, int)
    neg = np.flatnonzero(h < 0)
    if neg.size > r:
        part = np.argpartition(h[neg], r)
        order = neg[part[: r + 1]]
        order = order[np.argsort(h[order])]
    else:
        order = neg[np.argsort(h[neg])]
    top = order[:r]
    base = base_in + float(h[top].sum())
    kth = h[top[-1]] if top.size == r else 0.0
    nxt = h[order[r]] if order.size > r else 0.0
    in_top = np.zeros(h.size, bool)
    in_top[top] = True
    hf = np.where(free, h, 0.0)
    forced_in = np.where(in_top, base, base - min(kth, 0.0) + hf)
    forced_out = np.where(in_top, base - hf + min(nxt, 0.0), base)
    out = np.flatnonzero(free & (forced_in > upper + margin))
    inn = np.flatnonzero(free & in_top & (forced_out > upper + margin))
    return out, inn


def _branch_index(free_T, s) -> tuple[int, bool]:
    """``(i, integral)``: the free feature of the working set with the most fractional
    :math:`s_i` (the largest :math:`s_i` when the relaxation is integral there)."""
    frac = np.where(free_T, np.minimum(s, 1.0 - s), -1.0)
    i = int(np.argmax(frac))
    if frac[i] <= 1e-6:
        return int(np.argmax(np.where(free_T, s, -1.0))), True
    return i, False


def _answer(problem, inc, heap, pruned, finished, tol, t0, stats) -> RawAnswer:
    """The search's answer: the incumbent, the least bound of the open and pruned nodes."""
    open_min = min((nd[0] for nd in heap), default=np.inf)
    lower = max(0.0, min(pruned, open_min, inc.value))  # F is a sum of squares
    gap = relative_gap(inc.value, lower)
    status = "optimal" if gap <= tol or finished else "time_limit"
    if isinstance(problem.gram.G, LazyGram):  # X'X not formed: products with X_c
        stats["lazy_gram_products"] = problem.gram.G.products
    return RawAnswer(
        status=status,
        values=problem.values(inc.beta),
        objective=inc.value,
        bound=lower,
        message="" if finished else "time limit: open nodes remain",
        stats=stats,
        solve_time=time.perf_counter() - t0,
    )


VOID_RELAXATION = (
    "the branch and bound needs alpha > 0, a nonsingular X'X or a box M (alpha = 0 with more "
    "features than samples and no box leaves the perspective relaxation void); use the MIQP "
    "(method='mip')"
)
NO_GROUPS = "the branch and bound takes no groups or exclusive pairs; use the MIQP"


def _refused(problem, inc, message, t0) -> RawAnswer:
    """The incumbent with status ``"error"`` and why the branch and bound does not apply."""
    return RawAnswer(
        status="error",
        values=problem.values(inc.beta),
        objective=inc.value,
        message=message,
        solve_time=time.perf_counter() - t0,
    )


def _solve_restricted(problem, settings, tol, t0) -> RawAnswer:
    """The branch and bound of :class:`L0BranchAndBound` with its relaxations on a global
    working set (:class:`WorkingSet`): each node costs a relaxation on the working set's
    Gram block and one product with every feature (the pricing, which also gives the
    certified bound and the screening), instead of one such product per inner round."""
    from optml.algorithms.best_subset_bounds import SubsetBounds
    from optml.algorithms.best_subset_oa import Incumbent, heuristic_of

    heur = heuristic_of(problem)
    inc = Incumbent(problem, heur)
    bounds = SubsetBounds(problem, heur)
    p, k = problem.p, problem.k
    if not bounds.applicable:
        return _refused(problem, inc, VOID_RELAXATION, t0)
    # the first working set: the incumbent's support and the features whose cut at the
    # incumbent is most negative (those the relaxation wants first)
    _, h0 = bounds.cut(inc.beta)
    S0 = np.flatnonzero(inc.beta)
    m0 = min(RESTRICT_SIZE, p)
    top = np.argpartition(h0, m0 - 1)[:m0] if m0 < p else np.arange(p)
    ws = WorkingSet(problem, bounds, np.concatenate([S0, top[np.argsort(h0[top])]]))
    dead = np.zeros(p, bool)  # fixed out at the root (safe screening): the whole tree
    D0, bT0, s0, T0, lam0, cut0 = ws.relaxation(
        (), dead, S0, inc.beta[S0], None, None, 0.0, settings.deadline
    )
    root_time = time.perf_counter() - t0
    S = [int(T0[i]) for i in np.argsort(-s0)[:k]]
    inc.offer(*bounds.support_value(S))
    counter = itertools.count()

    def pack(mask):
        return np.packbits(mask)

    def unpack(bits):
        return np.unpackbits(bits, count=p).astype(bool)

    heap = [(D0, next(counter), (), pack(dead), T0, s0, bT0, lam0, cut0)]
    pruned = np.inf
    nodes = screened = 0
    finished = True
    root_screened = 0

    def prunable(b):
        return relative_gap(inc.value, b) <= tol or b >= inc.value

    while heap:
        b, _, fin, fbits, T, s, bT, lam, cut = heapq.heappop(heap)
        if prunable(b):
            pruned = min(pruned, b)
            continue
        if settings.expired():
            heapq.heappush(heap, (b, next(counter), fin, fbits, T, s, bT, lam, cut))
            finished = False
            break
        nodes += 1
        fout = unpack(fbits) | dead
        if nodes > 1:
            parent = b
            b, bT, s, T, lam, cut = ws.relaxation(
                fin, fout, T, bT, lam, inc.value, tol, settings.deadline
            )
            if settings.expired():  # cut short: back with its parent's bound
                heapq.heappush(heap, (parent, next(counter), fin, fbits, T, s, bT, lam, None))
                finished = False
                break
            b = max(b, parent)
            if prunable(b):
                pruned = min(pruned, b)
                continue
        # incumbent from the relaxation: the k largest s (fixed-in first)
        order = [int(T[i]) for i in np.argsort(-s)]
        S = list(dict.fromkeys(list(fin) + [j for j in order if not fout[j]]))[:k]
        inc.offer(*bounds.support_value(S))
        if prunable(b):
            pruned = min(pruned, b)
            continue
        margin = 1e-9 * max(1.0, abs(inc.value))
        if cut is None:
            beta = np.zeros(p)
            beta[T] = bT
            cut = bounds.cut(beta)
        out, inn = _fixings_mask(k, cut[0], cut[1], fin, fout, inc.value, margin)
        if out.size or inn.size:
            screened += int(out.size + inn.size)
            fout = fout.copy()
            fout[out] = True
            if nodes == 1:  # the root's fixings hold for the whole tree
                dead |= fout
                root_screened = int(dead.sum())
            fin = tuple(sorted(set(fin) | {int(j) for j in inn}))
            if len(fin) > k:
                pruned = min(pruned, inc.value)
                continue
        nfree = p - len(fin) - int(fout.sum())
        if len(fin) == k or len(fin) + nfree <= k:
            free = np.flatnonzero(~fout)
            free = [int(j) for j in free if int(j) not in set(fin)]
            inc.offer(*bounds.support_value(list(fin) + free[: k - len(fin)]))
            continue  # a leaf: its best support is evaluated exactly
        T = np.asarray(T, dtype=int)
        fin_set = set(fin)
        free_T = np.array([not fout[j] and int(j) not in fin_set for j in T], dtype=bool)
        if free_T.any():
            i, integral = _branch_index(free_T, s)
            if integral and bounds.support_value(S)[1] <= b * (1 + 1e-9) + 1e-12:
                pruned = min(pruned, b)  # its rounding, evaluated above, is that good
                continue
            j = int(T[i])
        else:  # every feature of the working set fixed: branch on the free feature whose
            # cut is most negative (the next the relaxation would take)
            hf = np.where(fout, np.inf, cut[1])
            hf[list(fin)] = np.inf
            j = int(np.argmin(hf))
            if not np.isfinite(hf[j]):
                continue  # nothing free: a leaf, evaluated above
        own = fout & ~dead
        heapq.heappush(
            heap, (b, next(counter), tuple(sorted(fin + (j,))), pack(own), T, s, bT, lam, None)
        )
        own2 = own.copy()
        own2[j] = True
        heapq.heappush(heap, (b, next(counter), fin, pack(own2), T, s, bT, lam, None))
    stats = {
        "nodes": nodes,
        "open": len(heap),
        "delta": bounds.delta,
        "root_bound": D0,
        "screened": screened,
        "screened_root": root_screened,
        "support_fits": bounds.fits,
        "relaxations": ws.evals + ws.lagr.evals,
        "root_time": root_time,
        "working_set": ws.size,
        "working_set_grows": ws.grows,
        "route": "global working set",
    }
    return _answer(problem, inc, heap, pruned, finished, tol, t0, stats)


register_special(L0BranchAndBound(), module=__name__)
