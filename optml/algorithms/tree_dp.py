r"""Optimal classification trees by dynamic programming with bounds (MurTree / STreeD style).

Registered as the special solver ``"tree-dp"`` for structured problems of kind ``"oct"``
(:class:`~optml.formulations.tree_problem.TreeProblem`; its default solver).

The optimal tree of depth :math:`d` on a set :math:`S` of (binarised, merged) rows is a leaf, or
a split :math:`f` with optimal trees of depth :math:`d-1` on :math:`S \cap \{x_f = 1\}` and
:math:`S \cap \{x_f = 0\}`, plus :math:`\alpha`. The search follows Demirović et al. (MurTree,
JMLR 2022) and Van der Linden, de Weerdt and Demirović (STreeD, NeurIPS 2023):

- **Depth-2 subtrees in closed form.** For a set :math:`S` the frequency counts
  :math:`FQ_{fgk} = \sum_{p \in S} x_{pf} x_{pg} c_{pk}` (one matrix product) give the class
  counts of all four leaves of every (root, child) pair, so every depth-2 tree is scored at
  once, vectorised. Columns constant on :math:`S` and duplicate columns are dropped first.
- **Cache by row set.** Results are stored by (set of rows, depth level): the optimum, or a
  lower bound when a search below an upper bound failed.
- **Bounds.** A search runs below an upper bound (the incumbent minus the sibling's lower
  bound) and prunes a split when the lower bounds of its children reach it. Lower bounds come
  from the cache, from identical rows with different labels (errors no tree avoids), and from
  the similarity bound :math:`\mathrm{opt}(S) \ge \mathrm{opt}(S') - w(S' \setminus S)` against
  the previous siblings.
- **Incumbent.** The best of a given tree (CART's), the leaf, and a greedy tree built from
  optimal depth-2 subtrees, improved by the search.

A finished search proves its tree optimal (bound = objective). At the time limit the best tree
so far is returned with the lower bound the search proved at the root: for every root split the
children's cached bounds (optimum, failed-search bound, or the identical-rows bound).
"""

from __future__ import annotations

import time

import numpy as np

from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.tree_data import reached_nodes, route

__all__ = ["TreeDP", "solve_tree"]

EPS = 1e-9


class _Timeout(Exception):
    pass


def _err(cnt: np.ndarray, K: int) -> np.ndarray:
    """Errors of the best label, counts stacked on the first axis (classes, then sizes)."""
    if K == 2:
        return np.minimum(cnt[0], cnt[1])
    c = cnt[:K]
    return c.sum(axis=0) - c.max(axis=0)


class TreeDP:
    """The search state for one instance (see the module docstring).

    Parameters
    ----------
    X : ndarray (P, F) of 0/1
    counts : ndarray (P, K)
        Weighted class counts per row.
    sizes : ndarray (P,)
        Number of samples per row (for ``min_samples_leaf``).
    depth : int
    level_masks : ndarray (depth, F) of bool
        Columns allowed at each depth.
    alpha : float
    min_samples_leaf : int
    deadline : float or None
        ``time.perf_counter()`` value at which the search stops.
    """

    def __init__(
        self, X, counts, sizes, depth, level_masks, alpha=0.0, min_samples_leaf=1, deadline=None
    ):
        self.Xb = np.asarray(X) > 0.5
        self.P, self.F = self.Xb.shape
        self.C = np.asarray(counts, dtype=np.float64)
        self.K = self.C.shape[1]
        self.sizes = np.asarray(sizes, dtype=np.float64)
        self.m = max(int(min_samples_leaf), 1)
        # count columns: classes, then sizes (for the minimum leaf size)
        self.W = np.column_stack([self.C, self.sizes])
        # counts for the matrix products: only the columns used, in float32 when that is
        # exact (integer weights with sums below 2**24), else float64
        W = self.W if self.m > 1 else self.C
        exact32 = np.all(W == np.round(W)) and W.sum() < 2**24
        self.dt = np.float32 if exact32 else np.float64
        self.Wd = W.astype(self.dt)
        self.Xd = self.Xb.astype(self.dt)
        self.D = int(depth)
        self.LM = np.asarray(level_masks, dtype=bool).reshape(self.D, self.F)
        self.alpha = float(alpha)
        self.deadline = deadline
        self.imp = self.C.sum(axis=1) - self.C.max(axis=1)  # errors no tree avoids
        self.tot = self.C.sum(axis=1)
        self.nested = all((self.LM[lv] >= self.LM[lv + 1]).all() for lv in range(self.D - 1))
        self.opt: dict = {}
        self.lbc: dict = {}
        self.stats = {"depth2_solves": 0, "searches": 0, "cache_hits": 0, "pruned": 0}
        self.incumbent = None

    # ------------------------------------------------------------------------- helpers
    def _check_time(self):
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _Timeout

    @staticmethod
    def _key(S, level):
        return (np.packbits(S).tobytes(), level)

    def _leaf(self, S):
        cnt = self.C[S].sum(axis=0)
        size = self.sizes[S].sum()
        if size < self.m - EPS and self.m > 1:
            return np.inf, (None, int(np.argmax(cnt)))
        return float(cnt.sum() - cnt.max()), (None, int(np.argmax(cnt)))

    def lower(self, S, level):
        """The best lower bound known for (S, level) without searching."""
        key = self._key(S, level)
        hit = self.opt.get(key)
        if hit is not None:
            return hit[0]
        return max(self.lbc.get(key, 0.0), float(self.imp @ S))

    # -------------------------------------------------------------- depth <= 2, exact
    def _columns(self, idx, level, d):
        """Columns that split the rows ``idx`` and are allowed at ``level`` (``a0``: roots of
        a depth-``d`` subtree) or, for ``d == 2``, at ``level + 1`` (``a1``); duplicate splits
        of these rows with the same permissions dropped. Returns ``(cols, a0, a1)``."""
        Ab = self.Xb[idx]
        ns = Ab.sum(axis=0)
        useful = (ns > 0) & (ns < idx.size)
        allow0 = self.LM[level] & useful
        allow1 = self.LM[level + 1] & useful if d >= 2 else np.zeros(self.F, dtype=bool)
        cols = np.flatnonzero(allow0 | allow1)
        if cols.size > 1:
            sig = np.packbits(Ab[:, cols], axis=0).T
            seen, keep = set(), []
            for j, row in enumerate(sig):
                c = cols[j]
                k = (row.tobytes(), bool(allow0[c]), bool(allow1[c]))
                if k not in seen:
                    seen.add(k)
                    keep.append(j)
            cols = cols[keep]
        return cols, allow0[cols], allow1[cols]

    def _tables(self, Ac, Wc, rows=None):
        """Count tables of a row set: totals ``T`` (K'), ``D1`` (K', u) with ``x_f = 1`` and
        ``FQ`` (K', R, u) with ``x_f = 1, x_g = 1`` for the root columns ``rows`` (all by
        default), in the tables' dtype (float32 only where exact)."""
        Ar = Ac if rows is None else Ac[:, rows]
        T = Wc.sum(axis=0)
        D1 = (Ac.T @ Wc).T
        FQ = np.stack([Ar.T @ (Ac * Wc[:, k : k + 1]) for k in range(Wc.shape[1])])
        return T, D1, FQ

    def _leaf_t(self, T):
        c = T[: self.K]
        k = int(np.argmax(c))
        if self.m > 1 and T[self.K] < self.m - EPS:
            return np.inf, (None, k)
        return float(c.sum() - c[k]), (None, k)

    def small(self, S, level, d):
        """Optimal tree of depth ``d`` (1 or 2) at ``level`` on rows ``S``: (cost, tree)."""
        idx = np.flatnonzero(S)
        if idx.size <= 1:
            return self._leaf(S)
        cols, a0, a1 = self._columns(idx, level, d)
        Wc = self.Wd[idx]
        if cols.size == 0:
            return self._leaf_t(Wc.sum(axis=0))
        r = np.flatnonzero(a0)
        T, D1, FQr = self._tables(self.Xd[idx][:, cols], Wc, r if d == 2 else r[:0])
        return self._best2(S, T, D1, FQr, cols, a0, a1, r, d)

    def _best2(self, S, T, D1, FQr, cols, a0, a1, r, d):
        """Optimal depth-``d`` (1 or 2) tree on ``S`` from its count tables (``FQr``: rows of
        the root columns ``r``). Errors are summed in the tables' dtype (exact), ``alpha``
        added in float64. The tree is returned lazily: ``("lazy", S, f, gL, gR)``."""
        self.stats["depth2_solves"] += 1
        K, m, a, inf = self.K, self.m, self.alpha, np.inf
        best, tree = self._leaf_t(T)
        if cols.size == 0 or best <= float(self.imp @ S) + EPS:
            return best, tree
        R1 = T[:, None] - D1
        e1 = _err(D1, K) + _err(R1, K)  # a split with two leaves, per column
        if m > 1:
            e1 = np.where((D1[K] < m - EPS) | (R1[K] < m - EPS), inf, e1)
        if d == 1 or not self.nested:
            c1 = np.where(a0 if d == 1 else a1, e1, inf)
            j = int(np.argmin(c1))
            if a + float(c1[j]) < best - EPS:
                best = a + float(c1[j])
                tree = (
                    ("lazy", S, int(cols[j]), -2, -2)
                    if d == 1
                    else ("pass", ("lazy", S, int(cols[j]), -2, -2))
                )
            if d == 1:
                return best, tree
        if r.size == 0:
            return best, tree
        Dr, Rr = D1[:, r], R1[:, r]  # (K', R) left and right of the root
        LR = Dr[:, :, None] - FQr
        RL = D1[:, None, :] - FQr
        RR = Rr[:, :, None] - RL
        eL = _err(FQr, K) + _err(LR, K)
        eR = _err(RL, K) + _err(RR, K)
        bad = ~a1[None, :]
        if m > 1:
            eL = np.where(bad | (FQr[K] < m - EPS) | (LR[K] < m - EPS), inf, eL)
            eR = np.where(bad | (RL[K] < m - EPS) | (RR[K] < m - EPS), inf, eR)
        elif not a1.all():
            eL = np.where(bad, inf, eL)
            eR = np.where(bad, inf, eR)
        gL, gR = np.argmin(eL, axis=1), np.argmin(eR, axis=1)
        ar = np.arange(r.size)
        sL = a + eL[ar, gL].astype(np.float64)
        sR = a + eR[ar, gR].astype(np.float64)
        leafL = _err(Dr, K).astype(np.float64)
        leafR = _err(Rr, K).astype(np.float64)
        tot = a + np.minimum(leafL, sL) + np.minimum(leafR, sR)
        if m > 1:
            tot = np.where((Dr[K] < m - EPS) | (Rr[K] < m - EPS), inf, tot)
        i = int(np.argmin(tot))
        if tot[i] < best - EPS:
            best = float(tot[i])
            kl = int(cols[gL[i]]) if sL[i] < leafL[i] - EPS else -1
            kr = int(cols[gR[i]]) if sR[i] < leafR[i] - EPS else -1
            tree = ("lazy", S, int(cols[r[i]]), kl, kr)
        return best, tree

    def _stump(self, S, f):
        col = self.Xb[:, f]
        return (f, self._leaf(S & col)[1], self._leaf(S & ~col)[1])

    def expand(self, tree):
        """The tree with its lazy depth-1/2 parts written out (leaf classes computed)."""
        if tree is None or tree[0] is None:
            return tree
        if tree[0] == "pass":
            return ("pass", self.expand(tree[1]))
        if tree[0] == "lazy":
            _, S, f, gl, gr = tree
            if gl == -2:  # a depth-1 tree
                return self._stump(S, f)
            col = self.Xb[:, f]
            kids = [
                self._stump(Sc, g) if g >= 0 else self._leaf(Sc)[1]
                for Sc, g in ((S & col, gl), (S & ~col, gr))
            ]
            return (f, kids[0], kids[1])
        return (tree[0], self.expand(tree[1]), self.expand(tree[2]))

    # ------------------------------------------------------------------ the search
    def search(self, S, level, ub):
        """Optimal tree on ``S`` at ``level`` if its cost is below ``ub``: ``(cost, tree)``;
        else ``(lower bound >= ub, None)``."""
        key = self._key(S, level)
        hit = self.opt.get(key)
        if hit is not None:
            self.stats["cache_hits"] += 1
            return hit if hit[0] < ub - EPS else (hit[0], None)
        lb = max(self.lbc.get(key, 0.0), float(self.imp @ S))
        if lb >= ub - EPS:
            self.stats["pruned"] += 1
            return lb, None
        d = self.D - level
        if d <= 2:
            res = self.small(S, level, d)
            self.opt[key] = res
            return res if res[0] < ub - EPS else (res[0], None)
        self._check_time()
        self.stats["searches"] += 1
        best, tree = self._leaf(S)
        node_lb = best
        if best >= ub - EPS:
            best, tree = ub, None
        if tree is not None and best <= lb + EPS:
            self.opt[key] = (best, tree)
            return best, tree
        order = self._order(S, level)
        a = self.alpha
        child = self._children3(S, level) if d == 3 else None
        refs = _Refs(self.tot)  # previous children with known bounds (similarity bound)
        for f in order:
            self._check_time()
            col = self.Xb[:, f]
            SL, SR = S & col, S & ~col
            lbL, lbR = self._bound(SL, level + 1, refs), self._bound(SR, level + 1, refs)
            if a + lbL + lbR >= best - EPS:
                self.stats["pruned"] += 1
                node_lb = min(node_lb, a + lbL + lbR)
                continue
            if child is None:
                cL, tL = self.search(SL, level + 1, best - a - lbR)
            else:
                cL, tL = child(f, 0, SL, best - a - lbR)
            refs.add(SL, cL)
            if tL is None:
                node_lb = min(node_lb, a + cL + lbR)
                continue
            if child is None:
                cR, tR = self.search(SR, level + 1, best - a - cL)
            else:
                cR, tR = child(f, 1, SR, best - a - cL)
            refs.add(SR, cR)
            if tR is None:
                node_lb = min(node_lb, a + cL + cR)
                continue
            best, tree = a + cL + cR, (int(f), tL, tR)
            if level == 0:  # kept if the clock stops the search
                self.incumbent = (best, tree)
            node_lb = min(node_lb, best)
            if best <= lb + EPS:
                break
        if not self.nested and best > lb + EPS:
            c, t = self.search(S, level + 1, best)
            if t is not None:
                best, tree = c, ("pass", t)
            node_lb = min(node_lb, c)
        if tree is not None:
            self.opt[key] = (best, tree)
            return best, tree
        lb = max(lb, node_lb, ub)
        self.lbc[key] = lb
        return lb, None

    def _children3(self, S, level):
        """For a depth-3 node: ``child(f, side, Sc, ub)`` solves its depth-2 children exactly
        from the node's count tables (the smaller side by a matrix product, the other by
        subtraction), with the cache."""
        idx = np.flatnonzero(S)
        cols, a0, a1 = self._columns(idx, level + 1, 2)
        r = np.flatnonzero(a0)
        allroots = r.size == cols.size
        Ac = self.Xd[idx][:, cols]
        Wc = self.Wd[idx]
        full = self._tables(Ac, Wc) if cols.size else None
        Xi = self.Xb[idx]
        memo = {}

        def child(f, side, Sc, ub):
            key = self._key(Sc, level + 1)
            hit = self.opt.get(key)
            if hit is None:
                if full is None:
                    hit = self._leaf(Sc)
                else:
                    if f not in memo:
                        memo.clear()
                        sel = Xi[:, f]
                        small_left = 2 * int(sel.sum()) <= idx.size
                        rows = sel if small_left else ~sel
                        part = self._tables(Ac[rows], Wc[rows])
                        rest = tuple(x - y for x, y in zip(full, part, strict=True))
                        memo[f] = (part, rest) if small_left else (rest, part)
                    T, D1, FQ = memo[f][side]
                    FQr = FQ if allroots else FQ[:, r, :]
                    hit = self._best2(Sc, T, D1, FQr, cols, a0, a1, r, 2)
                self.opt[key] = hit
            else:
                self.stats["cache_hits"] += 1
            return hit if hit[0] < ub - EPS else (hit[0], None)

        return child

    def _bound(self, S, level, refs):
        """Cached bound, or the similarity bound against earlier children (see _Refs)."""
        return max(self.lower(S, level), refs.bound(S))

    def _order(self, S, level):
        """Allowed splitting columns of S, best depth-1 split first (size limits kept)."""
        idx = np.flatnonzero(S)
        Ab = self.Xb[idx]
        D1 = (self.Xd[idx].T @ self.Wd[idx]).T.astype(np.float64)  # (K', F)
        R1 = self.Wd[idx].sum(axis=0).astype(np.float64)[:, None] - D1
        ns = Ab.sum(axis=0)
        ok = self.LM[level] & (ns > 0) & (ns < idx.size)
        if self.m > 1:
            ok &= (D1[self.K] >= self.m - EPS) & (R1[self.K] >= self.m - EPS)
        cols = np.flatnonzero(ok)
        if cols.size == 0:
            return cols
        # drop duplicate splits of S
        sig = np.packbits(Ab[:, cols], axis=0).T
        _, first = np.unique(sig, axis=0, return_index=True)
        cols = cols[np.sort(first)]
        score = _err(D1[:, cols], self.K) + _err(R1[:, cols], self.K)
        return cols[np.argsort(score, kind="stable")]

    # ------------------------------------------------------------------- incumbents
    def greedy(self, S, level):
        """A good tree fast: optimal depth-2 subtrees stacked from the top (not cached)."""
        d = self.D - level
        if d <= 2:
            return self.small(S, level, d)
        c, t = self.small(S, level, 2)
        t = self.expand(t)
        if t[0] is None or t[0] == "pass":
            return c, t

        def grow(tr, Sx, lv):
            if lv == level + 2 or tr[0] is None or tr[0] == "pass":
                return self.greedy(Sx, lv)
            col = self.Xb[:, tr[0]]
            cl, tl = grow(tr[1], Sx & col, lv + 1)
            cr, tr_ = grow(tr[2], Sx & ~col, lv + 1)
            return self.alpha + cl + cr, (tr[0], tl, tr_)

        return grow(t, S, level)

    def tree_cost(self, tree, S):
        if tree[0] is None:
            return self._leaf(S)[0]
        if tree[0] == "pass":
            return self.tree_cost(tree[1], S)
        col = self.Xb[:, tree[0]]
        return self.alpha + self.tree_cost(tree[1], S & col) + self.tree_cost(tree[2], S & ~col)

    def root_bound(self, S):
        """A lower bound at the root from what the search has proved (used at a time limit)."""
        key = self._key(S, 0)
        if key in self.opt:
            return self.opt[key][0]
        best = self._leaf(S)[0]
        if self.D <= 2:
            return max(float(self.imp @ S), self.lbc.get(key, 0.0))
        for f in np.flatnonzero(self.LM[0]):
            col = self.Xb[:, f]
            best = min(best, self.alpha + self.lower(S & col, 1) + self.lower(S & ~col, 1))
        if not self.nested:
            best = min(best, self.lower(S, 1))
        return max(best, float(self.imp @ S), self.lbc.get(key, 0.0))


class _Refs:
    """The last ``size`` sets ``R`` with a known lower bound ``v`` at one level: the
    similarity bound :math:`\\mathrm{opt}(S) \\ge v - w(R \\setminus S)` for all of them with
    one matrix-vector product."""

    def __init__(self, tot, size=16):
        self.tot = tot
        self.M = np.zeros((size, tot.size))
        self.w = np.zeros(size)
        self.v = np.full(size, -np.inf)
        self.i = 0

    def add(self, S, v):
        j = self.i % self.M.shape[0]
        self.M[j] = self.tot * S
        self.w[j] = self.M[j].sum()
        self.v[j] = v
        self.i += 1

    def bound(self, S):
        if self.i == 0:
            return 0.0
        return float(np.max(self.v - self.w + self.M @ S.astype(np.float64)))


def to_heap(tree, depth: int, no_split: int, n_classes: int):
    """``(node_col, leaf_class)`` in heap order (``no_split`` = pass samples left)."""
    N = 2**depth - 1
    node_col = np.full(N, no_split, dtype=np.int64)
    leaf_class = np.zeros(2**depth, dtype=np.int64)

    def put(t, n):
        if n >= N:
            leaf_class[n - N] = t[1] if t[0] is None else 0
            return
        if t[0] is None:
            put(t, 2 * n + 1)
        elif t[0] == "pass":
            put(t[1], 2 * n + 1)
        else:
            node_col[n] = t[0]
            put(t[1], 2 * n + 1)
            put(t[2], 2 * n + 2)

    put(tree, 0)
    return node_col, leaf_class


def from_heap(node_col, leaf_class, depth: int, no_split: int):
    """The nested tree of a heap-order tree (unreached nodes dropped)."""
    N = 2**depth - 1

    def get(n):
        if n >= N:
            return (None, int(leaf_class[n - N]))
        c = int(node_col[n])
        if c == no_split:
            sub = get(2 * n + 1)
            return sub if sub[0] is None else ("pass", sub)
        return (c, get(2 * n + 1), get(2 * n + 2))

    return get(0)


def solve_tree(problem, deadline=None):
    """Run the search on a :class:`~optml.formulations.tree_problem.TreeProblem`.

    Returns ``(node_col, leaf_class, objective, bound, finished, stats)``. The matrix
    products are small: BLAS runs on one thread (threads only contend here).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return _solve_tree(problem, deadline)
    with threadpool_limits(1, user_api="blas"):
        return _solve_tree(problem, deadline)


#: share of a time limit kept for raising the lower bound when the search does not finish
PROBE_SHARE = 0.15


def _solve_tree(problem, deadline):
    data = problem.data
    now = time.perf_counter()
    # the main search stops early enough to leave time for bound probes
    main = None if deadline is None else now + (1 - PROBE_SHARE) * max(deadline - now, 0.0)
    dp = TreeDP(
        data.X,
        data.counts,
        data.sizes,
        problem.depth,
        problem.level_masks,
        problem.alpha,
        problem.min_samples_leaf,
        main,
    )
    S = np.ones(data.n_patterns, dtype=bool)
    F = data.n_columns
    best, tree = dp._leaf(S)
    finished = False
    try:
        if problem.initial is not None:
            t0 = from_heap(*problem.initial, problem.depth, F)
            c0 = dp.tree_cost(t0, S) if _allowed(t0, problem.level_masks, 0) else np.inf
            if c0 < best - EPS:
                best, tree = c0, t0
        cg, tg = dp.greedy(S, 0)
        if cg < best - EPS:
            best, tree = cg, tg
        c, t = dp.search(S, 0, best)
        if t is not None:
            best, tree = c, t
        finished = True
        bound = best
    except _Timeout:
        if dp.incumbent is not None and dp.incumbent[0] < best - EPS:
            best, tree = dp.incumbent
        bound = min(dp.root_bound(S), best)
        dp.deadline = deadline
        bound, found = _probe(dp, S, bound, best)
        if found is not None:
            (best, tree), bound, finished = found, found[0], True
        elif bound >= best - EPS:  # the probes proved the incumbent optimal
            bound, finished = best, True
    dp.stats["probes"] = dp.stats.get("probes", 0)
    if not np.isfinite(best):
        return None, None, np.inf, bound, finished, dp.stats
    node_col, leaf_class = to_heap(dp.expand(tree), problem.depth, F, data.n_classes)
    return node_col, leaf_class, float(best), float(bound), finished, dp.stats


def _probe(dp, S, lb, ub):
    """Raise the root's lower bound with searches below small targets ``theta`` (a failed
    search proves ``opt >= theta``; one that succeeds finds the optimum), until the clock
    stops. Returns ``(bound, optimal (cost, tree) or None)``."""
    w = dp.tot[dp.tot > 0]
    unit = float(w.min()) if w.size else 1.0
    step = max(unit, (ub - lb) / 16) if np.isfinite(ub) else unit
    try:
        while lb < ub - EPS:
            theta = min(ub, lb + step)
            dp.stats["probes"] = dp.stats.get("probes", 0) + 1
            c, t = dp.search(S, 0, theta)
            if t is not None:
                return c, (c, t)
            lb = max(lb, min(c, ub))
    except _Timeout:
        pass
    return min(lb, ub), None


def _allowed(tree, LM, level):
    if tree[0] is None:
        return True
    if tree[0] == "pass":
        return _allowed(tree[1], LM, level + 1)
    return (
        bool(LM[level, tree[0]])
        and _allowed(tree[1], LM, level + 1)
        and _allowed(tree[2], LM, level + 1)
    )


class TreeDPSolver(SpecialSolver):
    """The registered solver ``"tree-dp"`` (kind ``"oct"``)."""

    name = "tree-dp"
    kinds = ("oct",)
    problem_class = "MILP"
    description = (
        "optimal classification trees by dynamic programming over binary splits with bounds "
        "and caching (depth-2 subtrees in closed form), numpy"
    )
    reference = (
        "Demirović et al. (2022), MurTree, JMLR 23; Van der Linden, de Weerdt and "
        "Demirović (2023), STreeD, NeurIPS"
    )
    is_mip = True

    def solve(self, problem, settings) -> RawAnswer:
        from optml.solve import special_settings_check

        special_settings_check(settings, self.name)
        settings = settings.started()
        t0 = time.perf_counter()
        budget = getattr(problem, "max_leaves", None)
        if budget is not None and int(budget) < 2 ** int(problem.depth):
            return _solve_with_budget(problem, settings, t0)
        node_col, leaf_class, obj, bound, finished, stats = solve_tree(problem, settings.deadline)
        wall = time.perf_counter() - t0
        stats = dict(stats, finished=finished)
        if node_col is None:
            status = "infeasible" if finished else "time_limit"
            msg = (
                "no tree meets min_samples_leaf"
                if finished
                else "time limit before any feasible tree"
            )
            return RawAnswer(status=status, message=msg, stats=stats, solve_time=wall)
        values = problem.values_of(node_col, leaf_class)
        return RawAnswer(
            status="optimal" if finished else "time_limit",
            values=values,
            objective=obj,
            bound=max(bound, 0.0),
            message="" if finished else "time limit: best tree so far, bound from the search",
            stats=stats,
            solve_time=wall,
        )


def _solve_with_budget(problem, settings, t0) -> RawAnswer:
    """A leaf budget (``max_leaf_nodes``): the budgeted search of
    :mod:`optml.algorithms.tree_dp_regression` with the misclassification loss."""
    from optml.algorithms.tree_dp_regression import error_loss, solve_budget

    data = problem.data
    C = np.asarray(data.counts, dtype=np.float64)
    K = C.shape[1]
    # the optimum without the budget first (the fast search): a lower bound, and the answer
    # when its tree meets the budget; a third of the time left at most
    deadline = settings.deadline
    part = None if deadline is None else t0 + (deadline - t0) / 3
    nc0, lc0, obj0, bound0, fin0, _ = solve_tree(problem, part)
    if nc0 is not None and fin0:
        reached = reached_nodes(nc0, int(problem.depth), data.n_columns)
        splits = sum(1 for n in reached if nc0[n] != data.n_columns)
        if splits + 1 <= int(problem.max_leaves):
            return RawAnswer(
                status="optimal",
                values=problem.values_of(nc0, lc0),
                objective=obj0,
                bound=max(bound0, 0.0),
                message="the optimal tree without the leaf budget meets it",
                stats={"finished": True, "budget": int(problem.max_leaves)},
                solve_time=time.perf_counter() - t0,
            )
    node_col, obj, bound, finished, stats = solve_budget(
        data.X,
        np.column_stack([C, data.sizes]),
        error_loss(K),
        C.sum(axis=1) - C.max(axis=1),
        problem.depth,
        problem.level_masks,
        problem.alpha,
        problem.min_samples_leaf,
        problem.max_leaves,
        None if problem.initial is None else problem.initial[0],
        settings.deadline,
        global_bound=max(float(bound0), 0.0),
    )
    wall = time.perf_counter() - t0
    stats = dict(stats, finished=finished, budget=int(problem.max_leaves))
    if node_col is None:
        status = "infeasible" if finished else "time_limit"
        msg = "no tree meets min_samples_leaf" if finished else "time limit before any tree"
        return RawAnswer(status=status, message=msg, stats=stats, solve_time=wall)
    L = 2 ** int(problem.depth)
    leaf = route(data.Xd, node_col, int(problem.depth))
    cnt = np.zeros((L, K))
    np.add.at(cnt, leaf, C)
    leaf_class = np.argmax(cnt, axis=1)
    return RawAnswer(
        status="optimal" if finished else "time_limit",
        values=problem.values_of(node_col, leaf_class),
        objective=obj,
        bound=max(bound, 0.0),
        message="" if finished else "time limit: best tree so far, bound from the search",
        stats=stats,
        solve_time=wall,
    )


register_special(TreeDPSolver(), module=__name__)
