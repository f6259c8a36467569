r"""Optimal classification trees of depth 1-3 on continuous features by branch and bound over
threshold intervals (the approach of Quant-BnB, Mazumder, Meng and Wang, ICML 2022).

Registered as the special solver ``"quant-bnb"`` for structured problems of kind
``"oct_continuous"`` (:class:`~optml.formulations.tree_continuous.ContinuousTreeProblem`: the
raw feature matrix, the weighted class of every sample, the depth, :math:`\alpha`). Every
threshold between two distinct values of a feature is a candidate; none is enumerated into a
program.

With :math:`S` a set of samples and :math:`d` the depth left,

.. math::

    \mathrm{opt}(S, d) = \min\Big(\mathrm{leaf}(S),\ \mathrm{opt}(S, d-1),\
    \min_{j,\,t}\ \alpha + \mathrm{opt}(S^{\le}_{jt}, d-1) + \mathrm{opt}(S^{>}_{jt}, d-1)\Big),

with :math:`S^{\le}_{jt} = \{i \in S : x_{ij} \le t\}` and :math:`S^{>}_{jt}` its complement
in :math:`S`. The optimum is monotone: :math:`A \subseteq B \Rightarrow \mathrm{opt}(A, d) \le
\mathrm{opt}(B, d)` (a tree costs at least as much on more samples; the weights and
:math:`\alpha` are non-negative).

- **Intervals and their bound.** For a root feature :math:`j` the thresholds between two
  evaluated cut points :math:`a < b` form an interval. Every threshold :math:`t \in (a, b)`
  sends :math:`S^{\le}_{ja} \subseteq S^{\le}_{jt}` left and :math:`S^{>}_{jb} \subseteq
  S^{>}_{jt}` right (the samples in between may go either way), so by monotonicity

  .. math:: \min_{a < t < b} \mathrm{cost}(j, t) \ \ge\ \alpha + L_j(a) + R_j(b),

  with :math:`L_j(a) \le \mathrm{opt}(S^{\le}_{ja}, d-1)` and :math:`R_j(b) \le
  \mathrm{opt}(S^{>}_{jb}, d-1)` the values (or proven lower bounds) at the cut points.
- **Pruning and splitting.** An interval whose bound reaches the incumbent is pruned; the
  others are split at ``q - 1`` quantiles of their thresholds, which are evaluated, until every
  interval is pruned or empty. The incumbent is the best tree evaluated at a cut point.
- **Subproblems.** Depth-1 subproblems on many sample sets are solved exactly at once: per
  feature, cumulative class counts along the feature's sorted order (one vectorised pass,
  :math:`O(npK)` per set) give the errors of every threshold. Depth-2 subproblems are the same
  interval search with depth-1 children. A subproblem is solved below a cutoff (the
  incumbent minus the sibling's bound): it returns its optimum, or a proven bound at least
  the cutoff.

When every interval is closed, the incumbent is optimal (bound = objective). At the time
limit the incumbent is returned with the bound
:math:`\min(\text{incumbent}, \min_{\text{open intervals}} \alpha + L_j(a) + R_j(b))`
of the root search (0 for features not reached). ``min_samples_leaf > 1`` breaks
monotonicity and is refused.
"""

from __future__ import annotations

import time

import numpy as np

from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special

__all__ = ["QuantBnB", "solve_continuous_tree"]

EPS = 1e-9
#: new cut points per open interval and round
SPLITS = 8
#: largest (sets x features x samples x classes) count tensor built at once
CHUNK = 60000


class _Timeout(Exception):
    pass


class _Local:
    """A sample set with its samples sorted per feature (local indices ``0..m-1``)."""

    __slots__ = (
        "idx",
        "m",
        "order",
        "pos",
        "vals",
        "valid",
        "W",
        "Wo",
        "ncut",
        "cum",
        "dt",
        "wt",
        "cumt",
        "penalty",
        "_pj",
    )

    def __init__(self, X, W, idx, dt=np.float64):
        self.idx = idx
        self.m = m = idx.size
        Xl = X[idx]
        self.order = np.argsort(Xl, axis=0, kind="stable").T  # (p, m)
        self.vals = np.take_along_axis(Xl.T, self.order, axis=1)  # (p, m) sorted values
        self.valid = self.vals[:, 1:] > self.vals[:, :-1]  # (p, m-1): cut after position i
        self.ncut = self.valid.sum(axis=1)
        pos = np.empty_like(self.order)
        rows = np.arange(self.order.shape[0])[:, None]
        pos[rows, self.order] = np.arange(m)[None, :]
        self.pos = pos.T  # (m, p): position of each sample in each feature's order
        self.W = W[idx]  # (m, K)
        self.dt = dt
        self.Wo = self.W[self.order].astype(dt)  # (p, m, K)
        self.cum = np.cumsum(self.Wo, axis=1)  # (p, m, K)
        self.wt = self.Wo.sum(axis=2)  # (p, m) weight of each sample, in each order
        self.cumt = np.cumsum(self.wt, axis=1)
        self.penalty = np.where(self.valid, 0.0, np.inf).astype(dt)
        self._pj = None

    def pos_by_feature(self):
        """(p_j, p_g, m): the position in feature j's order of the sample at position r of
        feature g's order."""
        if self._pj is None:
            self._pj = np.ascontiguousarray(self.pos[self.order].transpose(2, 0, 1))
        return self._pj

    def threshold(self, j, i):
        return 0.5 * (self.vals[j, i] + self.vals[j, i + 1])


def _errors(C, K):
    """Errors of the best label; classes on the last axis."""
    if K == 2:
        return np.minimum(C[..., 0], C[..., 1])
    return C.sum(axis=-1) - C.max(axis=-1)


class QuantBnB:
    """The search for one instance (see the module docstring).

    Parameters
    ----------
    X : ndarray (n, p)
        Raw features.
    W : ndarray (n, K)
        Weighted one-hot class of every sample (the objective's weights).
    alpha : float
        Penalty per split.
    deadline : float or None
        ``time.perf_counter()`` value at which the search stops.
    splits : int
        New cut points per open interval and round.
    """

    def __init__(self, X, W, alpha=0.0, deadline=None, splits=SPLITS):
        self.X = np.asarray(X, dtype=np.float64)
        self.W = np.asarray(W, dtype=np.float64)
        self.n, self.p = self.X.shape
        self.K = self.W.shape[1]
        self.alpha = float(alpha)
        self.deadline = deadline
        self.q = max(int(splits), 2)
        self.stats = {"depth1_sets": 0, "subproblems": 0, "cut_points": 0, "rounds": 0}
        self.root = None  # the root search's state, for the bound at a time limit
        # counts in float32 where that is exact (integer weights summing below 2**24)
        exact32 = np.all(self.W == np.round(self.W)) and self.W.sum() < 2**24
        self.dt = np.float32 if exact32 else np.float64

    def _check_time(self):
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _Timeout

    # ------------------------------------------------------------------ depth 0 and 1
    def leaf(self, W):
        return float(W.sum() - W.sum(axis=0).max()) if W.size else 0.0

    def depth1(self, loc, masks):
        """Optimal depth-<=1 trees on the subsets ``masks`` (B, m) of ``loc``: ``(cost (B,),
        feature (B,), cut position (B,))``; feature -1 marks a leaf."""
        B, m, K, p = masks.shape[0], loc.m, self.K, self.p
        self.stats["depth1_sets"] += B
        cost = np.empty(B)
        feat = np.full(B, -1, dtype=np.int64)
        cut = np.zeros(B, dtype=np.int64)
        if m <= 1 or B == 0:
            for b in range(B):
                cost[b] = self.leaf(loc.W[masks[b]])
            return cost, feat, cut
        step = max(1, CHUNK // max(p * m * K, 1))
        a = self.alpha
        inf = np.inf
        for s in range(0, B, step):
            M = masks[s : s + step]  # (b, m)
            G = M[:, loc.order]  # (b, p, m)
            C = np.cumsum(G[..., None] * loc.Wo[None], axis=2)  # (b, p, m, K)
            T = C[:, 0, -1, :]  # (b, K) totals
            L = C[:, :, :-1, :]
            e = _errors(L, K) + _errors(T[:, None, None, :] - L, K)  # (b, p, m-1)
            e = np.where(loc.valid[None], e, inf).reshape(e.shape[0], -1)
            k = np.argmin(e, axis=1)
            best = e[np.arange(e.shape[0]), k] + a
            lf = T.sum(axis=1) - T.max(axis=1)
            split = best < lf - EPS
            cost[s : s + step] = np.where(split, best, lf)
            feat[s : s + step] = np.where(split, k // (m - 1), -1)
            cut[s : s + step] = k % (m - 1)
        return cost, feat, cut

    def split_children(self, loc, js, cuts):
        """Optimal depth-<=1 trees on both sides of the cuts (feature ``js[c]``, after
        position ``cuts[c]`` of its order): one cumulative count per cut (left side) gives
        the right side by subtraction. Returns ``(cost, feature, position)`` of the left
        children, then of the right ones; feature -1 marks a leaf."""
        B, m, K, p = cuts.size, loc.m, self.K, self.p
        self.stats["depth1_sets"] += 2 * B
        out = [np.empty(B), np.full(B, -1, np.int64), np.zeros(B, np.int64)]
        out += [np.empty(B), np.full(B, -1, np.int64), np.zeros(B, np.int64)]
        PJ = loc.pos_by_feature()  # (p_j, p_g, m): position in j's order, samples in g's
        step = max(1, CHUNK // max(p * m * K, 1))
        a = self.alpha
        pen = loc.penalty[None]  # (1, p, m-1): 0 at valid cuts, inf elsewhere
        ar = np.arange(min(step, B))
        for s in range(0, B, step):
            cs = cuts[s : s + step]
            G = (PJ[js[s : s + step]] <= cs[:, None, None]).astype(loc.dt)  # (b, p, m)
            r = ar[: cs.size]
            if K == 2:
                c1 = np.cumsum(G * loc.Wo[None, :, :, 1], axis=2)
                ct = np.cumsum(G * loc.wt[None], axis=2)
                sides = ((c1, ct), (loc.cum[None, :, :, 1] - c1, loc.cumt[None] - ct))
            else:
                CL = np.cumsum(G[..., None] * loc.Wo[None], axis=2)
                sides = (CL, loc.cum[None] - CL)
            for side, C in enumerate(sides):
                if K == 2:
                    c1, ct = C
                    T1, Tt = c1[:, :1, -1:], ct[:, :1, -1:]
                    l1, lt = c1[:, :, :-1], ct[:, :, :-1]
                    e = np.minimum(l1, lt - l1)
                    e += np.minimum(T1 - l1, (Tt - T1) - (lt - l1))
                    T = np.stack([Tt[:, 0, 0] - T1[:, 0, 0], T1[:, 0, 0]], axis=1)
                else:
                    T = C[:, 0, -1, :]
                    L = C[:, :, :-1, :]
                    e = _errors(L, K) + _errors(T[:, None, None, :] - L, K)
                e += pen
                e = e.reshape(e.shape[0], -1)
                k = np.argmin(e, axis=1)
                best = e[r, k].astype(np.float64) + a
                lf = (T.sum(axis=1) - T.max(axis=1)).astype(np.float64)
                split = best < lf - EPS
                o = 3 * side
                out[o][s : s + step] = np.where(split, best, lf)
                out[o + 1][s : s + step] = np.where(split, k // (m - 1), -1)
                out[o + 2][s : s + step] = k % (m - 1)
        return out

    # ------------------------------------------------------------------ depth >= 1
    def solve(self, idx, d, cutoff=np.inf, root=False):
        """Optimal tree of depth ``d`` on the samples ``idx`` if it costs less than
        ``cutoff``: ``(lb, cost, tree)`` with ``lb == cost`` then; else ``lb >= cutoff``
        proven (``cost``/``tree`` the best found, possibly ``inf``/None)."""
        W = self.W[idx]
        leaf = self.leaf(W)
        if d == 0 or idx.size <= 1:
            return leaf, leaf, None
        self.stats["subproblems"] += 1
        loc = _Local(self.X, self.W, idx, self.dt)
        if d == 1:
            c, f, i = self.depth1(loc, np.ones((1, loc.m), dtype=bool))
            tree = None if f[0] < 0 else (int(f[0]), loc.threshold(f[0], i[0]), None, None)
            return float(c[0]), float(c[0]), tree
        return _Search(self, loc, d, cutoff, leaf, root).run()

    def evaluate(self, idx, tree):
        """Cost of a tree (splits only; majority labels) on the samples ``idx``."""
        if tree is None:
            return self.leaf(self.W[idx])
        j, t, left, right = tree
        go = self.X[idx, j] <= t
        return self.alpha + self.evaluate(idx[go], left) + self.evaluate(idx[~go], right)


class _Feature:
    """The cut points of one splitting feature at one node: the valid cut positions ``V``
    (a cut after position ``V[r]`` of the feature's order), which are evaluated, and lower
    bounds ``L``/``R`` on the optimum of the left/right set at the evaluated ones."""

    __slots__ = ("V", "done", "L", "R", "cw", "open")

    def __init__(self, loc, j):
        self.V = np.flatnonzero(loc.valid[j])
        nv = self.V.size
        self.done = np.zeros(nv, dtype=bool)
        self.L = np.zeros(nv)
        self.R = np.zeros(nv)
        self.cw = loc.cum[j].sum(axis=1).astype(np.float64)[self.V]  # weight up to the cut
        self.open = np.ones(nv, dtype=bool)

    def bounds(self, alpha):
        """A lower bound on the cost of every cut (exact where both sides are), from the
        evaluated cuts: monotonicity (a superset costs more) and similarity (moving samples
        of weight w changes a side's optimum by at most w)."""
        ninf = -np.inf
        d = self.done
        Lm = np.where(d, self.L, ninf)
        Rm = np.where(d, self.R, ninf)
        cw = self.cw
        # left of t: L(t) >= L(a); R(t) >= R(a) - (cw[t] - cw[a])
        La = np.maximum(np.maximum.accumulate(Lm), 0.0)
        Ra = np.maximum.accumulate(Rm + cw) - cw
        # right of t: R(t) >= R(b); L(t) >= L(b) - (cw[b] - cw[t])
        Rb = np.maximum(np.maximum.accumulate(Rm[::-1])[::-1], 0.0)
        Lb = np.maximum.accumulate((Lm - cw)[::-1])[::-1] + cw
        return alpha + np.maximum(La, Lb) + np.maximum(Rb, Ra)


class _Search:
    """The cut-point search at one node (depth ``d >= 2``) on the set ``loc``."""

    def __init__(self, bnb, loc, d, cutoff, leaf, root):
        self.b = bnb
        self.loc = loc
        self.d = d
        self.inc = min(leaf, cutoff)
        self.best = (leaf, None)
        self.closed_lb = np.inf  # least bound of a closed cut that is not the incumbent
        self.feats = {int(j): _Feature(loc, j) for j in np.flatnonzero(loc.ncut > 0)}
        if root:
            bnb.root = self

    def _update(self, cost, tree):
        if cost < self.best[0] - EPS:
            self.best = (cost, tree)
            self.inc = min(self.inc, cost)

    def bound(self):
        """The least bound over every cut not closed, and the incumbent."""
        lb = min(self.best[0], self.closed_lb)
        for F in self.feats.values():
            lbt = F.bounds(self.b.alpha)
            op = F.open & ~F.done
            if op.any():
                lb = min(lb, float(lbt[op].min()))
        return lb

    def run(self):
        b, loc, d = self.b, self.loc, self.d
        if b.alpha > 0:  # the root may pass its samples on (a shallower tree)
            lbp, cp, tp = b.solve(loc.idx, d - 1, self.inc)
            self._update(cp, tp)
            self.closed_lb = min(self.closed_lb, lbp)
        while True:
            b._check_time()
            todo = []
            for j in list(self.feats):
                F = self.feats[j]
                lbt = F.bounds(b.alpha)
                viable = F.open & ~F.done & (lbt < self.inc - EPS)
                closing = F.open & ~F.done & ~viable
                if closing.any():
                    self.closed_lb = min(self.closed_lb, float(lbt[closing].min()))
                F.open &= ~closing
                if not viable.any():
                    del self.feats[j]
                    continue
                todo.append((j, self._new_cuts(F, viable)))
            if not todo:
                break
            b.stats["rounds"] += 1
            if d == 2:
                self._eval_depth1(todo)
            else:
                self._eval_deep(todo)
        lb = min(self.best[0], self.closed_lb)
        return lb, self.best[0], self.best[1]

    def _new_cuts(self, F, viable):
        """Up to ``q - 1`` viable cuts in every run of viable cuts between evaluated ones
        (evenly spaced), as indices into ``F.V``."""
        r = np.flatnonzero(viable)
        seg = np.cumsum(F.done)[r]  # runs: the same number of evaluated cuts before them
        starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
        size = np.diff(np.r_[starts, r.size])
        q = self.b.q
        frac = np.arange(1, q) / q  # (q-1,)
        pick = starts[:, None] + np.floor(frac[None, :] * size[:, None]).astype(np.int64)
        pick = pick.ravel()
        return np.unique(r[pick])

    def _eval_depth1(self, todo):
        """Depth-2 node: both children of every new cut (all features) solved at once."""
        b, loc = self.b, self.loc
        js = np.concatenate([np.full(new.size, j) for j, new in todo])
        rs = np.concatenate([new for _, new in todo])
        pos = np.concatenate([self.feats[j].V[new] for j, new in todo])
        cl, fl, il, cr, fr, ir = b.split_children(loc, js, pos)
        b.stats["cut_points"] += rs.size
        s = 0
        for j, new in todo:
            F = self.feats[j]
            sl = slice(s, s + new.size)
            F.L[new], F.R[new], F.done[new] = cl[sl], cr[sl], True
            s += new.size
        tot = b.alpha + cl + cr
        k = int(np.argmin(tot))
        if tot[k] < self.best[0] - EPS:
            tl = None if fl[k] < 0 else (int(fl[k]), loc.threshold(fl[k], il[k]), None, None)
            tr = None if fr[k] < 0 else (int(fr[k]), loc.threshold(fr[k], ir[k]), None, None)
            self._update(float(tot[k]), (int(js[k]), loc.threshold(js[k], pos[k]), tl, tr))

    def _eval_deep(self, todo):
        """Depth >= 3 node: the children of each new cut solved below cutoffs (the
        incumbent minus the bound known for the sibling)."""
        b, loc = self.b, self.loc
        a = b.alpha
        for j, new in todo:
            F = self.feats[j]
            for r in new:
                b._check_time()
                lbt = F.bounds(a)
                if lbt[r] >= self.inc - EPS:  # closed by an earlier cut of this round
                    continue
                # what the evaluated cuts already imply for each side
                ll, rl = self._side_bounds(F, r)
                i = int(F.V[r])
                b.stats["cut_points"] += 1
                li = np.sort(loc.idx[loc.order[j, : i + 1]])
                ri = np.sort(loc.idx[loc.order[j, i + 1 :]])
                small_left = li.size <= ri.size
                first, second = (li, ri) if small_left else (ri, li)
                k1, k2 = (ll, rl) if small_left else (rl, ll)
                lb1, c1, t1 = b.solve(first, self.d - 1, self.inc - a - k2)
                lb1 = max(lb1, k1)
                if a + lb1 + k2 >= self.inc - EPS:
                    lb2, c2, t2 = k2, np.inf, None
                else:
                    lb2, c2, t2 = b.solve(second, self.d - 1, self.inc - a - lb1)
                    lb2 = max(lb2, k2)
                (lbl, cl, tl), (lbr, cr, tr) = (
                    ((lb1, c1, t1), (lb2, c2, t2)) if small_left else ((lb2, c2, t2), (lb1, c1, t1))
                )
                F.L[r], F.R[r], F.done[r] = lbl, lbr, True
                if lbl >= cl - EPS and lbr >= cr - EPS:  # both exact
                    self._update(a + cl + cr, (j, loc.threshold(j, i), tl, tr))
                else:  # a bound at least the incumbent then
                    self.closed_lb = min(self.closed_lb, a + lbl + lbr)

    @staticmethod
    def _side_bounds(F, r):
        """Lower bounds on the left and right optimum at cut ``r`` from the evaluated cuts."""
        d = F.done.copy()
        d[r] = False
        cw = F.cw
        left, right = d[:r], d[r + 1 :]
        ll = rl = 0.0
        if left.any():
            ll = max(ll, float(F.L[:r][left].max()))
            rl = max(rl, float((F.R[:r][left] + cw[:r][left]).max() - cw[r]))
        if right.any():
            rl = max(rl, float(F.R[r + 1 :][right].max()))
            ll = max(ll, float((F.L[r + 1 :][right] - cw[r + 1 :][right]).max() + cw[r]))
        return ll, rl


# ---------------------------------------------------------------------- the solver
def _snap(X, tree):
    """The tree with every threshold moved to the midpoint between the training values
    around it (the same samples go left)."""
    if tree is None:
        return None
    j, t, left, right = tree
    x = X[:, j]
    lo, hi = x[x <= t], x[x > t]
    if lo.size and hi.size:
        t = 0.5 * (lo.max() + hi.min())
    return (j, float(t), _snap(X, left), _snap(X, right))


def _to_heap(tree, depth, p):
    N = 2**depth - 1
    feature = np.full(N, p, dtype=np.int64)
    threshold = np.zeros(N)

    def put(t, n):
        if n >= N or t is None:
            return
        feature[n], threshold[n] = t[0], t[1]
        put(t[2], 2 * n + 1)
        put(t[3], 2 * n + 2)

    put(tree, 0)
    return feature, threshold


def _from_heap(feature, threshold, p, n=0):
    N = feature.size
    if n >= N or feature[n] == p:
        # a pass-through node: its samples all go left
        return None if n >= N else _from_heap(feature, threshold, p, 2 * n + 1)
    return (
        int(feature[n]),
        float(threshold[n]),
        _from_heap(feature, threshold, p, 2 * n + 1),
        _from_heap(feature, threshold, p, 2 * n + 2),
    )


def solve_continuous_tree(problem, deadline=None, splits=SPLITS):
    """Run the search on a
    :class:`~optml.formulations.tree_continuous.ContinuousTreeProblem`.

    Returns ``(feature, threshold, objective, bound, finished, stats)`` (heap order; feature
    ``p`` = no split). BLAS runs on one thread (the counts are small)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return _solve(problem, deadline, splits)
    with threadpool_limits(1, user_api="blas"):
        return _solve(problem, deadline, splits)


def _solve(problem, deadline, splits):
    X = problem.X
    p = X.shape[1]
    d = int(problem.depth)
    bnb = QuantBnB(X, problem.class_weights, problem.alpha, deadline, splits)
    idx = np.arange(X.shape[0])
    best, tree = bnb.leaf(bnb.W), None
    if problem.initial is not None:
        t0 = _from_heap(*map(np.asarray, problem.initial), p)
        c0 = bnb.evaluate(idx, t0)
        if c0 < best - EPS:
            best, tree = c0, t0
    finished = False
    try:
        # trees strictly better than the incumbent (a tolerance above it, to find one
        # equal to it as well)
        lb, c, t = bnb.solve(idx, d, best + 1e-7, root=True)
        if c < best - EPS:
            best, tree = c, t
        bound, finished = min(lb, best), True
    except _Timeout:
        root = bnb.root
        bound = 0.0
        if root is not None:
            if root.best[0] < best - EPS:
                best, tree = root.best
            bound = min(root.bound(), best)
    tree = _snap(X, tree)
    feature, threshold = _to_heap(tree, d, p)
    stats = dict(bnb.stats, finished=finished)
    return feature, threshold, float(best), float(max(bound, 0.0)), finished, stats


class QuantBnBSolver(SpecialSolver):
    """The registered solver ``"quant-bnb"`` (kind ``"oct_continuous"``)."""

    name = "quant-bnb"
    kinds = ("oct_continuous",)
    problem_class = "MILP"
    description = (
        "optimal classification trees on continuous features (every threshold) by branch "
        "and bound over threshold intervals with monotone and similarity bounds, numpy"
    )
    reference = (
        "Mazumder, Meng and Wang (2022), Quant-BnB: A Scalable Branch-and-Bound Method for "
        "Optimal Decision Trees with Continuous Features, ICML"
    )
    is_mip = True

    def solve(self, problem, settings) -> RawAnswer:
        from optml.solve import special_settings_check

        special_settings_check(settings, self.name)
        if int(problem.min_samples_leaf) > 1:
            raise ValueError(
                "solver 'quant-bnb' solves min_samples_leaf=1 only (a minimum leaf size breaks "
                "the monotone bounds it prunes with); use thresholds=q with the default "
                "solver 'tree-dp', or a general solver on the program"
            )
        settings = settings.started()
        t0 = time.perf_counter()
        feature, threshold, obj, bound, finished, stats = solve_continuous_tree(
            problem, settings.deadline
        )
        wall = time.perf_counter() - t0
        leaf_class = problem.labels_for(feature, threshold)
        values = {"feature": feature, "threshold": threshold, "leaf_class": leaf_class}
        return RawAnswer(
            status="optimal" if finished else "time_limit",
            values=values,
            objective=obj,
            bound=bound,
            message="" if finished else "time limit: best tree so far, bound from the search",
            stats=stats,
            solve_time=wall,
        )


register_special(QuantBnBSolver(), module=__name__)
