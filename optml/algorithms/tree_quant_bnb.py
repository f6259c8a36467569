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
SPLITS = 2
#: children of a depth-3 node are solved below the incumbent minus the sibling's bound plus
#: this (inf: exactly, which gives their neighbours stronger bounds)
SLACK = np.inf
#: the root of a depth >= 3 search first bounds the middle cut of every feature, its children
#: solved below this fraction of the incumbent (a nonzero bound early)
COARSE = 0.25
#: earlier children a node keeps for similarity bounds
REFS = 64
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
        "sg2",
        "cums2",
        "validf",
    )

    def __init__(self, X, W, idx, dt=np.float64):
        self.idx = idx
        self.m = m = idx.size
        Xl = X[idx]
        self.order = np.argsort(Xl, axis=0, kind="stable").T  # (p, m)
        self.vals = np.take_along_axis(Xl.T, self.order, axis=1)  # (p, m) sorted values
        self.valid = self.vals[:, 1:] > self.vals[:, :-1]  # (p, m-1): cut after position i
        self.ncut = self.valid.sum(axis=1)
        pos = np.empty(self.order.shape, dtype=np.int16 if m < 2**15 else np.int32)
        rows = np.arange(self.order.shape[0])[:, None]
        pos[rows, self.order] = np.arange(m)[None, :]
        self.pos = pos.T  # (m, p): position of each sample in each feature's order
        self.W = W[idx]  # (m, K)
        self.dt = dt
        self.Wo = self.W[self.order].astype(dt)  # (p, m, K)
        self.cum = np.cumsum(self.Wo, axis=1)  # (p, m, K)
        self.wt = self.Wo.sum(axis=2)  # (p, m) weight of each sample, in each order
        self.cumt = np.cumsum(self.wt, axis=1)
        self.penalty = np.where(self.valid, 0.0, np.inf).astype(dt)  # K > 2 classes
        self.validf = self.valid.astype(dt)
        if self.Wo.shape[2] == 2:
            # twice the signed weight (class 1 - class 0), and its cumulative sums
            self.sg2 = 2 * (self.Wo[:, :, 1] - self.Wo[:, :, 0])
            self.cums2 = np.cumsum(self.sg2, axis=1)
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
        self.stats = {
            "depth1_sets": 0,
            "subproblems": 0,
            "cut_points": 0,
            "rounds": 0,
            "cache_hits": 0,
            "similarity_prunes": 0,
        }
        self.root = None  # the root search's state, for the bound at a time limit
        self.last = None  # the bounds of the last depth-2 search (for a similar set)
        self.slack = SLACK
        # counts in float32 where that is exact (integer weights summing below 2**22: sums of
        # twice the weights stay exact)
        exact32 = np.all(self.W == np.round(self.W)) and self.W.sum() < 2**22
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
            self._check_time()
            cs = cuts[s : s + step]
            M = PJ[js[s : s + step]] <= cs[:, None, None]  # (b, p, m): the left child
            r = ar[: cs.size]
            if K == 2:
                self._two_classes(loc, M, js[s : s + step], cs, out, slice(s, s + step), r)
                continue
            G = M.astype(loc.dt)
            CL = np.cumsum(G[..., None] * loc.Wo[None], axis=2)
            for side, C in enumerate((CL, loc.cum[None] - CL)):
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

    def _two_classes(self, loc, M, js, cs, out, sl, r):
        """Two classes: with ``n`` the weight of a part and ``D`` its class-1 minus class-0
        weight, its errors are ``(n - |D|) / 2``. A split of a child (balance ``D``) into
        parts ``a`` and ``D - a`` has ``|a| + |D - a| = max(|D|, |2a - D|)``: one signed
        cumulative sum per cut (of twice the weights, ``2a``) scores every split of every
        feature of both children."""
        m = loc.m
        a2 = np.cumsum(np.multiply(M, loc.sg2[None], dtype=loc.dt), axis=2)  # (b, p, m)
        nl = loc.cumt[js, cs].astype(np.float64)  # weight of the left child
        ntot = float(loc.cumt[0, -1])
        for side in (0, 1):
            C = a2 if side == 0 else np.subtract(loc.cums2[None], a2, out=a2)
            n = nl if side == 0 else ntot - nl
            D = 0.5 * C[:, :1, -1:]  # (b, 1, 1): the whole child
            e = np.subtract(C[:, :, :-1], D)
            np.abs(e, out=e)
            e *= loc.validf[None]  # invalid cuts at 0 (never above |D|)
            e = e.reshape(e.shape[0], -1)
            k = np.argmax(e, axis=1)
            absD = np.abs(D[:, 0, 0].astype(np.float64))
            best = 0.5 * (n - np.maximum(e[r, k].astype(np.float64), absD)) + self.alpha
            lf = 0.5 * (n - absD)
            split = best < lf - EPS
            o = 3 * side
            out[o][sl] = np.where(split, best, lf)
            out[o + 1][sl] = np.where(split, k // (m - 1), -1)
            out[o + 2][sl] = k % (m - 1)

    # ------------------------------------------------------------------ depth >= 1
    def solve(self, idx, d, cutoff=np.inf, root=False, init=None, warm=None):
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
        search = _Search(self, loc, d, cutoff, leaf, root, init, warm)
        out = search.run()
        self.last = search.export() if d == 2 else None
        return out

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

    __slots__ = ("V", "done", "known", "L", "R", "cw", "cand", "lbt", "dirty", "first")

    def __init__(self, loc, j):
        self.V = np.flatnonzero(loc.valid[j])
        nv = self.V.size
        self.done = np.zeros(nv, dtype=bool)  # evaluated (or closed)
        self.known = np.zeros(nv, dtype=bool)  # L and R hold bounds (evaluated or imported)
        self.L = np.zeros(nv)
        self.R = np.zeros(nv)
        self.cw = loc.cum[j].sum(axis=1).astype(np.float64)[self.V]  # weight up to the cut
        self.cand = np.ones(nv, dtype=bool)  # neither evaluated nor closed
        self.lbt = None
        self.dirty = True  # bounds to recompute
        self.first = None  # a cut with coarse bounds only, evaluated first

    def step(self, alpha, inc, q):
        """Close the candidate cuts whose bound reaches ``inc``; return the least bound
        closed and up to ``q - 1`` new cuts in every run of candidates between cuts with
        bounds (evenly spaced), as indices into ``V`` (None when none is left)."""
        if self.dirty:
            self.lbt = self.bounds(alpha)
            self.dirty = False
        r = np.flatnonzero(self.cand)
        if r.size == 0:
            return np.inf, None
        lb = self.lbt[r]
        ok = lb < inc - EPS
        closed = np.inf
        if not ok.all():
            closed = float(lb[~ok].min())
            self.cand[r[~ok]] = False
            r = r[ok]
            if r.size == 0:
                return closed, None
        first, self.first = self.first, None
        if r.size <= q - 1:
            return closed, r
        known = self.known
        if first is not None:  # the runs as if its coarse bounds were not known; it goes too
            known = known.copy()
            known[first] = False
        seg = np.cumsum(known)[r]  # runs: the same number of cuts with bounds before
        brk = np.flatnonzero(seg[1:] != seg[:-1]) + 1
        if brk.size == 0:
            starts, size = np.zeros(1, np.int64), np.array([r.size])
        else:
            starts = np.concatenate(([0], brk))
            size = np.diff(np.concatenate((starts, [r.size])))
        if q == 2:
            pick = starts + size // 2
        else:
            frac = np.arange(1, q) / q
            pick = (starts[:, None] + (frac[None, :] * size[:, None]).astype(np.int64)).ravel()
            pick = np.unique(pick)
        new = r[pick]
        if first is not None and self.cand[first]:
            new = np.union1d(new, [first])
        return closed, new

    def bounds(self, alpha):
        """A lower bound on the cost of every cut (exact where both sides are), from the
        evaluated cuts: monotonicity (a superset costs more) and similarity (moving samples
        of weight w changes a side's optimum by at most w)."""
        if not self.known.any():
            return np.full(self.V.size, alpha)
        # unknown cuts count as 0: every term they add is <= 0, below the floor of 0
        Lm = np.where(self.known, self.L, 0.0)
        Rm = np.where(self.known, self.R, 0.0)
        cw = self.cw
        # left of t: L(t) >= L(a); R(t) >= R(a) - (cw[t] - cw[a])
        La = np.maximum.accumulate(Lm)
        Ra = np.maximum.accumulate(Rm + cw) - cw
        # right of t: R(t) >= R(b); L(t) >= L(b) - (cw[b] - cw[t])
        Rb = np.maximum.accumulate(Rm[::-1])[::-1]
        Lb = np.maximum.accumulate((Lm - cw)[::-1])[::-1] + cw
        return alpha + np.maximum(La, Lb) + np.maximum(Rb, Ra)


class _Search:
    """The cut-point search at one node (depth ``d >= 2``) on the set ``loc``."""

    def __init__(self, bnb, loc, d, cutoff, leaf, root, init=None, warm=None):
        self.b = bnb
        self.loc = loc
        self.d = d
        self.inc = min(leaf, cutoff)
        self.best = (leaf, None)
        self.closed_lb = np.inf  # least bound of a closed cut that is not the incumbent
        self.feats = {int(j): _Feature(loc, j) for j in np.flatnonzero(loc.ncut > 0)}
        self.coarse = {}  # (feature, cut) -> the children found by _coarse
        self.active = list(self.feats)
        if warm is not None:
            self._import(*warm)
        if init is not None:  # a starting tree (a similar set's)
            c0 = bnb.evaluate(loc.idx, init)
            if c0 < self.best[0] - EPS:
                self.best = (c0, init)
                self.inc = min(self.inc, c0)
        if d >= 3:  # earlier children, for similarity bounds and starting trees
            R = REFS
            self.wloc = loc.W.sum(axis=1)
            self.refs = {
                "M": np.zeros((R, loc.m)),
                "w": np.zeros(R),
                "lb": np.zeros(R),
                "cost": np.zeros(R),
                "tree": [None] * R,
                "state": [None] * R,
                "n": 0,
                "next": 0,
            }
        if root:
            bnb.root = self

    def export(self):
        """The bounds at every cut with bounds, by threshold value (for a similar set)."""
        out = {}
        vals = self.loc.vals
        for j, F in self.feats.items():
            k = np.flatnonzero(F.known)
            if k.size:
                pos = F.V[k]
                tau = 0.5 * (vals[j, pos] + vals[j, pos + 1])
                out[j] = (tau, F.L[k].copy(), F.R[k].copy())
        return out

    def _import(self, state, w_out):
        """Bounds from a search on another set ``S'``: at a threshold ``t``, the optimum on
        ``S`` on one side is at least that on ``S'`` minus the weight ``w_out`` of
        ``S' \\ S``."""
        vals = self.loc.vals
        for j, (tau, Lk, Rk) in state.items():
            F = self.feats.get(j)
            if F is None:
                continue
            Lk, Rk = Lk - w_out, Rk - w_out
            keep = (Lk > EPS) | (Rk > EPS)
            if not keep.any():
                continue
            pos = np.searchsorted(vals[j], tau[keep], side="right") - 1
            r = np.searchsorted(F.V, pos)
            ok = (r < F.V.size) & (F.V[np.minimum(r, F.V.size - 1)] == pos)
            r = r[ok]
            np.maximum.at(F.L, r, np.maximum(Lk[keep][ok], 0.0))
            np.maximum.at(F.R, r, np.maximum(Rk[keep][ok], 0.0))
            F.known[r] = True
            F.dirty = True

    def _update(self, cost, tree):
        if cost < self.best[0] - EPS:
            self.best = (cost, tree)
            self.inc = min(self.inc, cost)

    def bound(self):
        """The least bound over every cut not closed, and the incumbent."""
        lb = min(self.best[0], self.closed_lb)
        for F in self.feats.values():
            if F.cand.any():
                lb = min(lb, float(F.bounds(self.b.alpha)[F.cand].min()))
        return lb

    def run(self):
        b, loc, d = self.b, self.loc, self.d
        if b.alpha > 0:  # the root may pass its samples on (a shallower tree)
            lbp, cp, tp = b.solve(loc.idx, d - 1, self.inc)
            self._update(cp, tp)
            self.closed_lb = min(self.closed_lb, lbp)
        if b.root is self and d >= 3 and COARSE > 0:
            self._coarse()
        while True:
            b._check_time()
            todo = []
            for j in list(self.active):
                closed, new = self.feats[j].step(b.alpha, self.inc, b.q)
                if closed < self.closed_lb:
                    self.closed_lb = closed
                if new is None:
                    self.active.remove(j)
                else:
                    todo.append((j, new))
            if not todo:
                break
            b.stats["rounds"] += 1
            if d == 2:
                self._eval_depth1(todo)
            else:
                self._eval_deep(todo)
        lb = min(self.best[0], self.closed_lb)
        return lb, self.best[0], self.best[1]

    def _coarse(self):
        """Before any cut is evaluated exactly: bounds at the middle cut of every feature,
        its children solved below a low cutoff (a quarter of the incumbent: the search
        proves ``lb >= cutoff`` or finds the optimum, cheaply), so that every feature's cuts
        have a bound (nonzero where one exists) after a short time. Those cuts are evaluated
        exactly in the first round."""
        b, loc = self.b, self.loc
        a = b.alpha
        low = COARSE * self.inc
        for j, F in self.feats.items():
            b._check_time()
            r = F.V.size // 2
            i = int(F.V[r])
            lm = loc.pos[:, j] <= i
            lbl, cl, tl = b.solve(loc.idx[lm], self.d - 1, low)
            lbr, cr, tr = b.solve(loc.idx[~lm], self.d - 1, low)
            F.L[r], F.R[r] = max(F.L[r], lbl), max(F.R[r], lbr)
            F.known[r] = True
            F.dirty = True
            F.first = r
            self.coarse[(j, r)] = ((lbl, cl, tl), (lbr, cr, tr))
            if np.isfinite(cl) and np.isfinite(cr):
                self._update(a + cl + cr, (j, loc.threshold(j, i), tl, tr))
        b.last = None

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
            F.L[new], F.R[new], F.done[new], F.known[new] = cl[sl], cr[sl], True, True
            F.cand[new] = False
            F.dirty = True
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
                if F.dirty:
                    F.lbt, F.dirty = F.bounds(a), False
                if F.lbt[r] >= self.inc - EPS:  # closed by an earlier cut of this round
                    continue
                # what the evaluated cuts already imply for each side
                ll, rl = self._side_bounds(F, r)
                i = int(F.V[r])
                b.stats["cut_points"] += 1
                lm = loc.pos[:, j] <= i  # the left child (local mask)
                small_left = 2 * int(lm.sum()) <= loc.m
                first, second = (lm, ~lm) if small_left else (~lm, lm)
                k1, k2 = (ll, rl) if small_left else (rl, ll)
                slack = b.slack
                pre = self.coarse.pop((j, r), None)
                if pre is not None and not small_left:
                    pre = pre[::-1]
                if pre is not None and pre[0][0] >= pre[0][1] - EPS:  # solved exactly
                    lb1, c1, t1 = pre[0]
                else:
                    lb1, c1, t1 = self._child(first, self.inc - a - k2 + slack, k1)
                if a + lb1 + k2 >= self.inc - EPS and slack == 0:
                    lb2, c2, t2 = k2, np.inf, None
                elif pre is not None and pre[1][0] >= pre[1][1] - EPS:
                    lb2, c2, t2 = pre[1]
                else:
                    lb2, c2, t2 = self._child(second, self.inc - a - min(lb1, c1) + slack, k2)
                (lbl, cl, tl), (lbr, cr, tr) = (
                    ((lb1, c1, t1), (lb2, c2, t2)) if small_left else ((lb2, c2, t2), (lb1, c1, t1))
                )
                F.L[r], F.R[r] = max(F.L[r], lbl), max(F.R[r], lbr)
                F.done[r] = F.known[r] = True
                F.cand[r] = False
                F.dirty = True
                if lbl >= cl - EPS and lbr >= cr - EPS:  # both exact
                    self._update(a + cl + cr, (j, loc.threshold(j, i), tl, tr))
                else:  # a bound at least the incumbent then
                    self.closed_lb = min(self.closed_lb, a + lbl + lbr)

    def _child(self, mask, cutoff, known):
        """The child on the local samples ``mask`` solved below ``cutoff``: ``(lb, cost,
        tree)``. Earlier children of this node bound it first (similarity: removing samples
        of weight w lowers an optimum by at most w) and give a starting tree."""
        b, loc = self.b, self.loc
        R = self.refs
        x = mask.astype(np.float64)
        wS = float(self.wloc @ x)
        lb, init, warm = known, None, None
        if R["n"]:
            n = R["n"]
            inter = R["M"][:n] @ x
            out_ref = R["w"][:n] - inter  # weight of a reference not in S
            out_s = wS - inter  # weight of S not in the reference
            lb = max(lb, float(np.max(R["lb"][:n] - out_ref)))
            same = np.flatnonzero((out_ref <= EPS) & (out_s <= EPS))
            if same.size:
                k = int(same[0])
                b.stats["cache_hits"] += 1
                lbk, ck, tk = R["lb"][k], R["cost"][k], R["tree"][k]
                if lbk >= ck - EPS or lbk >= cutoff - EPS:
                    return max(lbk, known), ck, tk
            if lb >= cutoff - EPS:
                b.stats["similarity_prunes"] += 1
                return lb, np.inf, None
            ex = np.flatnonzero(R["lb"][:n] >= R["cost"][:n] - EPS)
            if ex.size:
                k = int(ex[np.argmin((out_ref + out_s)[ex])])
                init = R["tree"][k]
            k = int(np.argmin(out_ref + out_s))
            if R["state"][k] is not None:
                warm = (R["state"][k], float(out_ref[k]))
        idx = loc.idx[mask]
        lbc, cost, tree = b.solve(idx, self.d - 1, cutoff, init=init, warm=warm)
        lbc = max(lbc, known) if lbc < cost - EPS else lbc
        # keep it as a reference (a ring of the last ones)
        k = R["next"] % R["M"].shape[0]
        R["M"][k] = self.wloc * x
        R["w"][k] = wS
        R["lb"][k], R["cost"][k] = lbc, cost
        R["tree"][k] = tree
        R["state"][k] = b.last
        R["next"] += 1
        R["n"] = min(R["n"] + 1, R["M"].shape[0])
        return max(lbc, lb), cost, tree

    @staticmethod
    def _side_bounds(F, r):
        """Lower bounds on the left and right optimum at cut ``r`` from the evaluated cuts."""
        d = F.known
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
