r"""Optimal regression trees, and trees with a leaf budget, by dynamic programming with bounds.

Registered as the special solver ``"tree-dp-regression"`` for structured problems of kind
``"ort"`` (:class:`~optml.formulations.tree_regression.RegressionTreeProblem`; its default
solver). The same search, with the misclassification loss, solves the classification trees of
kind ``"oct"`` that carry a leaf budget (``max_leaf_nodes``): ``"tree-dp"`` hands those to
:func:`solve_budget`.

The search is the one of STreeD (Van der Linden, de Weerdt and Demirović, NeurIPS 2023) for a
separable loss with a node budget, as MurTree (Demirović et al., JMLR 2022) does for
misclassifications. Every row of the binarised data carries a vector of sufficient statistics
:math:`m_p` (for squared loss :math:`(w, wy, wy^2, \text{size})`, for classification the
weighted class counts and the size), so the statistics of any leaf are a sum, and the loss of
a leaf :math:`\ell(m) = m_{wy^2} - m_{wy}^2 / m_w` (the weighted sum of squared errors around
the leaf mean) or :math:`\sum_k m_k - \max_k m_k` (errors of the majority class). The optimal
tree on a row set :math:`S` at depth :math:`d` with at most :math:`B` leaves is

.. math::

    T(S, d, B) = \min\Bigl(\ell(S),\ \min_{f}\ \min_{b=1}^{B-1}
    \alpha + T(S \cap \{x_f = 1\}, d-1, b) + T(S \cap \{x_f = 0\}, d-1, B-b)\Bigr),

with :math:`B` capped at :math:`2^d` (no budget). Subtrees of depth at most two are solved in
closed form from the frequency tables :math:`\sum_{p \in S} x_{pf} x_{pg} m_p` (one matrix
product per statistic, vectorised over every (root, child) pair), with the budgets 1--4
handled explicitly. Results are cached by (row set, level, budget); a search runs below an
upper bound and prunes a split when the lower bounds of its children (cache, or the loss no
tree avoids: that of identical rows) reach it.

A finished search proves its tree optimal (bound = objective). At the time limit the best tree
so far (the given one, e.g. CART's, or one found at the root) is returned with the lower bound
proved at the root from the cached bounds.
"""

from __future__ import annotations

import time

import numpy as np

from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special

__all__ = ["BudgetTreeDP", "error_loss", "kmeans_bound", "solve_budget", "sse_loss"]

EPS = 1e-9
#: most solved nodes kept per (level, budget) for the monotone bounds
_MONO_MAX = 4096
#: a leaf in the nested trees (``None`` is a failed search)
LEAF = ("leaf",)


class _Timeout(Exception):
    pass


def sse_loss(A: np.ndarray) -> np.ndarray:
    """Weighted sum of squared errors around the mean from statistics ``(w, wy, wy^2, ...)``
    stacked on the first axis."""
    W, S1, S2 = A[0], A[1], A[2]
    pos = W > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        v = S2 - np.where(pos, S1 * S1 / np.where(pos, W, 1.0), 0.0)
    return np.maximum(v, 0.0)


def error_loss(K: int):
    """Misclassifications of the majority class from ``K`` class counts (then the size)."""

    def loss(A):
        c = A[:K]
        return c.sum(axis=0) - c.max(axis=0)

    return loss


def kmeans_bound(mu, W, k: int, max_points: int = 1000) -> float:
    """Optimal weighted 1-D ``k``-means cost of the points ``mu`` (weights ``W``): a lower bound
    on the squared loss of any partition of them into at most ``k`` groups, so of any tree with
    at most ``k`` leaves whose rows are these points (STreeD's "k-means" bound). Exact dynamic
    programming over contiguous groups of the sorted points, ``O(k n^2)``; 0 (the trivial
    bound) above ``max_points`` points."""
    keep = W > 0
    mu, W = np.asarray(mu, dtype=float)[keep], np.asarray(W, dtype=float)[keep]
    n = mu.size
    if n <= k or n > max_points:
        return 0.0
    o = np.argsort(mu, kind="stable")
    mu, W = mu[o], W[o]
    P0 = np.r_[0.0, np.cumsum(W)]
    P1 = np.r_[0.0, np.cumsum(W * mu)]
    P2 = np.r_[0.0, np.cumsum(W * mu * mu)]
    w = P0[None, :] - P0[:, None]  # group (i, j]: rows i, columns j
    s1 = P1[None, :] - P1[:, None]
    s2 = P2[None, :] - P2[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        C = np.where(w > 0, s2 - s1 * s1 / np.where(w > 0, w, 1.0), np.inf)
    C = np.maximum(C, 0.0)
    C[np.tril_indices(n + 1)] = np.inf
    D = C[0].copy()  # one group: points 0..j-1
    D[0] = 0.0
    for _ in range(k - 1):
        D = np.minimum(D, np.min(D[:, None] + C, axis=0))
        D[0] = 0.0
    return max(float(D[n]), 0.0)


class BudgetTreeDP:
    """The search state for one instance (see the module docstring).

    Parameters
    ----------
    X : ndarray (P, F) of 0/1
    stats : ndarray (P, K')
        Sufficient statistics per row; the last column is the number of samples.
    loss : callable
        Loss of a leaf from statistics stacked on the first axis.
    imp : ndarray (P,)
        Loss of each row on its own (no tree splits a row): lower bounds.
    depth, level_masks, alpha, min_samples_leaf, max_leaves, deadline
    """

    def __init__(
        self,
        X,
        stats,
        loss,
        imp,
        depth,
        level_masks,
        alpha=0.0,
        min_samples_leaf=1,
        max_leaves=None,
        deadline=None,
    ):
        self.Xb = np.asarray(X) > 0.5
        self.P, self.F = self.Xb.shape
        self.M = np.asarray(stats, dtype=np.float64)
        self.Xd = self.Xb.astype(np.float64)
        self.loss = loss
        self.imp = np.asarray(imp, dtype=np.float64)
        self.D = int(depth)
        self.LM = np.asarray(level_masks, dtype=bool).reshape(self.D, self.F)
        self.alpha = float(alpha)
        self.m = max(int(min_samples_leaf), 1)
        self.B = 2**self.D if max_leaves is None else min(int(max_leaves), 2**self.D)
        self.deadline = deadline
        self.nested = all((self.LM[lv] >= self.LM[lv + 1]).all() for lv in range(self.D - 1))
        # squared loss: the tables need (w, wy) only (and the size for a minimum leaf size):
        # the losses of a partition of S sum to sum_S wy^2 - sum_parts (wy)^2 / w
        self.sse = loss is sse_loss
        if self.sse:
            ch = [0, 1] + ([self.M.shape[1] - 1] if self.m > 1 else [])
        else:
            ch = list(range(self.M.shape[1]))
        self.Mt = np.ascontiguousarray(self.M[:, ch])
        wpos = self.M[:, 0][self.M[:, 0] > 0]
        self.wfloor = 0.5 * float(wpos.min()) if wpos.size else 1.0
        self.opt: dict = {}
        self.lbc: dict = {}
        # monotone bounds (a tree costs at least as much on a superset of rows; not with a
        # minimum leaf size) from the nodes with three or more levels below them
        self.mono = self.m == 1
        self.subsets: dict = {}
        self.stats = {"depth2_solves": 0, "searches": 0, "cache_hits": 0, "pruned": 0}
        self.incumbent = None
        # ties and pruning up to round-off, relative to the loss of the whole data as one leaf
        root = float(self.loss(self.M.sum(axis=0)[:, None])[0])
        self.eps = EPS * root if np.isfinite(root) and root > 0 else EPS

    # ------------------------------------------------------------------------- helpers
    def _check_time(self):
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _Timeout

    def _cost(self, T):
        """Loss of statistics stacked on the first axis, inf below the minimum leaf size."""
        v = self.loss(T)
        if self.m > 1:
            v = np.where(T[-1] < self.m - self.eps, np.inf, v)
        return v

    def _pcost(self, T):
        """The part of the loss of table statistics (channels of ``Mt`` on the first axis)
        that depends on the partition: for squared loss ``-(wy)^2 / w`` (the loss of a
        partition of S is ``sum_S wy^2`` plus the parts' values), else the loss itself."""
        if not self.sse:
            return self._cost(T)
        # an empty part has w = 0 and wy = 0 up to round-off: w is floored at half the
        # least positive row weight (no nonempty part weighs less), which maps it to 0
        out = np.negative(T[1])
        out *= T[1]
        out /= np.maximum(T[0], self.wfloor)
        if self.m > 1:
            out[T[-1] < self.m - self.eps] = np.inf
        return out

    def leaf(self, S):
        return self._leaf_of(self.M[S].sum(axis=0))

    def _leaf_of(self, T):
        """Loss of one leaf from its summed statistics (scalar arithmetic for squared
        loss)."""
        if not self.sse:
            return float(self._cost(T[:, None])[0])
        if self.m > 1 and T[-1] < self.m - self.eps:
            return np.inf
        W, S1 = float(T[0]), float(T[1])
        return max(float(T[2]) - (S1 * S1 / W if W > 0 else 0.0), 0.0)

    def _key(self, S, level, B):
        return (np.packbits(S).tobytes(), level, B)

    def _cap(self, level, B):
        return min(B, 2 ** (self.D - level))

    def lower(self, S, level, B):
        """The best lower bound known for (S, level, B) without searching (the optimum with a
        larger budget is a lower bound too)."""
        B = self._cap(level, B)
        k = np.packbits(S).tobytes()
        hit = self.opt.get((k, level, B))
        if hit is not None:
            return hit[0]
        lb = max(self.lbc.get((k, level, B), 0.0), float(self.imp @ S))
        full = 2 ** (self.D - level)
        if B < full:
            hit = self.opt.get((k, level, full))
            if hit is not None:
                lb = max(lb, hit[0])
        sub = self.subsets.get((level, B)) if self.mono else None
        if sub is not None:
            n = sub[2]
            kb = np.frombuffer(k, dtype=np.uint8)
            inside = ~np.any(sub[0][:n] & ~kb, axis=1)
            if inside.any():
                lb = max(lb, float(sub[1][:n][inside].max()))
        return lb

    def _remember(self, S, level, B, value):
        """Keep a proven lower bound (or optimum) of a node with >= 3 levels below it for
        the monotone bound of :meth:`lower`."""
        if not self.mono or self.D - level < 3 or value <= 0:
            return
        bits = np.packbits(S)
        sub = self.subsets.get((level, B))
        if sub is None:
            sub = self.subsets[(level, B)] = [np.empty((64, bits.size), np.uint8), np.empty(64), 0]
        n = sub[2]
        if n >= _MONO_MAX:
            return
        if n == sub[1].size:  # grow the buffers
            sub[0] = np.concatenate([sub[0], np.empty_like(sub[0])])
            sub[1] = np.concatenate([sub[1], np.empty_like(sub[1])])
        sub[0][n], sub[1][n] = bits, float(value)
        sub[2] = n + 1

    # ------------------------------------------------------------- depth <= 2, closed form
    def _columns(self, idx, level, d):
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

    def small(self, S, level, d, B, pre=None):
        """Optimal tree of depth ``d`` (<= 2) with at most ``B`` leaves on ``S``; ``pre``:
        its tables ``(cols, a0, a1, T, D1, FQ)`` computed by the parent (:meth:`_shared3`)."""
        self.stats["depth2_solves"] += 1
        a, inf = self.alpha, np.inf
        idx = np.flatnonzero(S)
        full = self.M[idx].sum(axis=0)
        best, tree = self._leaf_of(full), LEAF
        if d == 0 or B <= 1 or idx.size <= 1 or best <= float(self.imp[idx].sum()) + self.eps:
            return best, tree
        # the loss of a partition of S: const plus the partial costs of its parts
        const = float(full[2]) if self.sse else 0.0
        a = a + const  # added once to every split's value below
        if pre is None:
            cols, a0, a1 = self._columns(idx, level, d)
            if cols.size == 0:
                return best, tree
            Ac = self.Xd[idx][:, cols]
            Wc = self.Mt[idx]
            T = Wc.sum(axis=0)
            D1 = (Ac.T @ Wc).T  # (K', u) statistics of x_f = 1
            FQall = None
        else:
            cols, a0, a1, T, D1, FQall = pre
        R1 = T[:, None] - D1
        pc = self._pcost
        e1 = pc(D1) + pc(R1)
        stump_ok = a0 | (a1 if (d == 2 and not self.nested) else False)
        c1 = np.where(stump_ok, e1, inf)
        j = int(np.argmin(c1))
        if a + float(c1[j]) < best - self.eps:
            best = a + float(c1[j])
            tree = (int(cols[j]), LEAF, LEAF) if a0[j] else ("pass", (int(cols[j]), LEAF, LEAF))
        r = np.flatnonzero(a0)
        a = self.alpha  # below: partial costs of the children, const added at the end
        if d == 1 or B <= 2 or r.size == 0 or not a1.any():
            return best, tree
        # children's best splits for every root column, in chunks of roots (bounded memory)
        bad = ~a1[None, :]
        if FQall is None:
            AW = [Ac * Wc[:, k : k + 1] for k in range(Wc.shape[1])]
        step = max(1, int(2e6 // max(1, cols.size * T.size)))
        sL, sR = np.empty(r.size), np.empty(r.size)
        gL, gR = np.empty(r.size, dtype=np.int64), np.empty(r.size, dtype=np.int64)
        for s0 in range(0, r.size, step):
            rc = r[s0 : s0 + step]
            if FQall is None:
                Ar = Ac[:, rc]
                FQ = np.stack([Ar.T @ aw for aw in AW])
            else:
                FQ = FQall[:, s0 : s0 + step]
            Dr, Rr = D1[:, rc], R1[:, rc]
            LR = Dr[:, :, None] - FQ
            RL = D1[:, None, :] - FQ
            RR = Rr[:, :, None] - RL
            eL = pc(FQ) + pc(LR)
            eL[:, bad[0]] = inf
            eR = pc(RL) + pc(RR)
            eR[:, bad[0]] = inf
            ar = np.arange(rc.size)
            gl, gr = np.argmin(eL, axis=1), np.argmin(eR, axis=1)
            gL[s0 : s0 + rc.size], gR[s0 : s0 + rc.size] = gl, gr
            sL[s0 : s0 + rc.size] = a + eL[ar, gl]
            sR[s0 : s0 + rc.size] = a + eR[ar, gr]
        leafL, leafR = pc(D1[:, r]), pc(R1[:, r])
        if B >= 4:
            tot = a + const + np.minimum(leafL, sL) + np.minimum(leafR, sR)
            useL, useR = sL < leafL - self.eps, sR < leafR - self.eps
        else:  # three leaves: one child splits at most
            oL, oR = a + const + sL + leafR, a + const + leafL + sR
            tot = np.minimum(oL, oR)
            useL, useR = oL <= oR, oL > oR
        i = int(np.argmin(tot))
        if tot[i] < best - self.eps:
            best = float(tot[i])
            kl = (int(cols[gL[i]]), LEAF, LEAF) if useL[i] else LEAF
            kr = (int(cols[gR[i]]), LEAF, LEAF) if useR[i] else LEAF
            tree = (int(cols[r[i]]), kl, kr)
        return best, tree

    # ------------------------------------------------------------------ the search
    def _budgets(self, d, B):
        c = 2 ** (d - 1)
        if B >= 2 * c:
            return [(c, c)]
        return [(bl, B - bl) for bl in range(max(1, B - c), min(B - 1, c) + 1)]

    def _shared3(self, S, level):
        """For a node three levels above the bottom: ``tables(f) -> (left, right)``, the
        depth-2 tables of its children under split ``f`` from the node's own tables (the
        smaller child by a matrix product, the other by subtraction); None when the tables
        would be large."""
        idx = np.flatnonzero(S)
        cols, a0, a1 = self._columns(idx, level + 1, 2)
        r = np.flatnonzero(a0)
        if cols.size == 0 or r.size == 0 or cols.size * r.size > 160_000:
            return None
        Ac = self.Xd[idx][:, cols]
        Wc = self.Mt[idx]
        Xi = self.Xb[idx]

        def tables(A, Wm):
            T = Wm.sum(axis=0)
            D1 = (A.T @ Wm).T
            Ar = A[:, r]
            FQ = np.stack([Ar.T @ (A * Wm[:, k : k + 1]) for k in range(Wm.shape[1])])
            return T, D1, FQ

        full = tables(Ac, Wc)

        def split(f):
            sel = Xi[:, f]
            small_left = 2 * int(sel.sum()) <= idx.size
            rows = sel if small_left else ~sel
            part = tables(Ac[rows], Wc[rows])
            rest = tuple(x - y for x, y in zip(full, part, strict=True))
            lt, rt = (part, rest) if small_left else (rest, part)
            return (cols, a0, a1, *lt), (cols, a0, a1, *rt)

        return split

    def search(self, S, level, B, ub, pre=None):
        """Optimal tree on ``S`` at ``level`` with at most ``B`` leaves if its cost is below
        ``ub``: ``(cost, tree)``; else ``(lower bound >= ub, None)``. ``pre``: the depth-2
        tables of ``S`` when its parent computed them."""
        B = self._cap(level, B)
        key = self._key(S, level, B)
        hit = self.opt.get(key)
        if hit is not None:
            self.stats["cache_hits"] += 1
            return hit if hit[0] < ub - self.eps else (hit[0], None)
        lb = self.lower(S, level, B)
        if lb >= ub - self.eps:
            self.stats["pruned"] += 1
            return lb, None
        d = self.D - level
        if d <= 2 or B <= 2:
            if d > 2:  # a stump (or a leaf) at any depth: the depth-2 form with budget <= 2
                res = self._shallow(S, level, B)
            else:
                if pre is not None and d == 2:
                    pre = pre.get()
                res = self.small(S, level, d, B, pre if d == 2 else None)
            self.opt[key] = res
            return res if res[0] < ub - self.eps else (res[0], None)
        self._check_time()
        self.stats["searches"] += 1
        best, tree = self.leaf(S), LEAF
        node_lb = best
        found = best < ub - self.eps
        if not found:
            best, tree = ub, None
        a = self.alpha
        shared = self._shared3(S, level) if d == 3 else None
        for f in self._order(S, level):
            col = self.Xb[:, f]
            SL, SR = S & col, S & ~col
            preL = preR = None
            if shared is not None:
                preL, preR = _Lazy(shared, f, 0), _Lazy(shared, f, 1)
            for bl, br in self._budgets(d, B):
                self._check_time()
                lbL, lbR = self.lower(SL, level + 1, bl), self.lower(SR, level + 1, br)
                if a + lbL + lbR >= best - self.eps:
                    self.stats["pruned"] += 1
                    node_lb = min(node_lb, a + lbL + lbR)
                    continue
                cL, tL = self.search(SL, level + 1, bl, best - a - lbR, preL)
                if tL is None:
                    node_lb = min(node_lb, a + cL + lbR)
                    continue
                cR, tR = self.search(SR, level + 1, br, best - a - cL, preR)
                if tR is None:
                    node_lb = min(node_lb, a + cL + cR)
                    continue
                best, tree, found = a + cL + cR, (int(f), tL, tR), True
                if level == 0:
                    self.incumbent = (best, tree)
                node_lb = min(node_lb, best)
        if not self.nested:
            c, t = self.search(S, level + 1, B, best)
            if t is not None:
                best, tree, found = c, ("pass", t), True
            node_lb = min(node_lb, c)
        if found:
            self.opt[key] = (best, tree)
            self._remember(S, level, B, best)
            return best, tree
        lb = max(lb, node_lb, ub)
        self.lbc[key] = lb
        self._remember(S, level, B, lb)
        return lb, None

    def _shallow(self, S, level, B):
        """At most two leaves at a node deeper than two levels from the bottom."""
        return self.small(S, level, 1, B) if self.nested else self._stump_pass(S, level, B)

    def _stump_pass(self, S, level, B):
        best, tree = self.small(S, level, 1, B)
        for lv in range(level + 1, self.D):
            c, t = self.small(S, lv, 1, B)
            if c < best - self.eps:
                best, tree = c, t
                for _ in range(lv - level):
                    tree = ("pass", tree)
        return best, tree

    def _order(self, S, level):
        """Allowed splitting columns of S, best depth-1 split first."""
        idx = np.flatnonzero(S)
        Ab = self.Xb[idx]
        ns = Ab.sum(axis=0)
        D1 = (self.Xd[idx].T @ self.M[idx]).T
        R1 = self.M[idx].sum(axis=0)[:, None] - D1
        ok = self.LM[level] & (ns > 0) & (ns < idx.size)
        if self.m > 1:
            ok &= (D1[-1] >= self.m - self.eps) & (R1[-1] >= self.m - self.eps)
        cols = np.flatnonzero(ok)
        if cols.size == 0:
            return cols
        sig = np.packbits(Ab[:, cols], axis=0).T
        _, first = np.unique(sig, axis=0, return_index=True)
        cols = cols[np.sort(first)]
        score = self._cost(D1[:, cols]) + self._cost(R1[:, cols])
        return cols[np.argsort(score, kind="stable")]

    # ------------------------------------------------------------------- incumbents
    def tree_cost(self, tree, S):
        if tree is LEAF or tree[0] == "leaf":
            return self.leaf(S)
        if tree[0] == "pass":
            return self.tree_cost(tree[1], S)
        col = self.Xb[:, tree[0]]
        return self.alpha + self.tree_cost(tree[1], S & col) + self.tree_cost(tree[2], S & ~col)

    def root_bound(self, S):
        """A lower bound at the root from what the search has proved (used at a time limit)."""
        best = self.lower(S, 0, self.B)
        if self.D <= 2:
            return best
        low = self.leaf(S)
        for f in np.flatnonzero(self.LM[0]):
            col = self.Xb[:, f]
            for bl, br in self._budgets(self.D, self.B):
                low = min(
                    low, self.alpha + self.lower(S & col, 1, bl) + self.lower(S & ~col, 1, br)
                )
        if not self.nested:
            low = min(low, self.lower(S, 1, self.B))
        return max(best, low)


class _Lazy:
    """The children's tables of one split, computed on first use (shared by both sides)."""

    def __init__(self, shared, f, side):
        self.shared, self.f, self.side = shared, f, side

    def get(self):
        memo = getattr(self.shared, "memo", None)
        if memo is None or memo[0] != self.f:
            memo = (self.f, self.shared(self.f))
            self.shared.memo = memo
        return memo[1][self.side]


def n_leaves(tree) -> int:
    if tree[0] == "leaf":
        return 1
    if tree[0] == "pass":
        return n_leaves(tree[1])
    return n_leaves(tree[1]) + n_leaves(tree[2])


def to_heap(tree, depth: int, no_split: int) -> np.ndarray:
    """Split column of every internal node in heap order (``no_split``: samples go left)."""
    N = 2**depth - 1
    node_col = np.full(N, no_split, dtype=np.int64)

    def put(t, n):
        if n >= N or t[0] == "leaf":
            return
        if t[0] == "pass":
            put(t[1], 2 * n + 1)
        else:
            node_col[n] = t[0]
            put(t[1], 2 * n + 1)
            put(t[2], 2 * n + 2)

    put(tree, 0)
    return node_col


def from_heap(node_col, depth: int, no_split: int):
    N = 2**depth - 1

    def get(n):
        if n >= N:
            return LEAF
        c = int(node_col[n])
        if c == no_split:
            sub = get(2 * n + 1)
            return LEAF if sub[0] == "leaf" else ("pass", sub)
        return (c, get(2 * n + 1), get(2 * n + 2))

    return get(0)


def _allowed(tree, LM, level):
    if tree[0] == "leaf":
        return True
    if tree[0] == "pass":
        return _allowed(tree[1], LM, level + 1)
    return (
        bool(LM[level, tree[0]])
        and _allowed(tree[1], LM, level + 1)
        and _allowed(tree[2], LM, level + 1)
    )


def solve_budget(
    X,
    stats,
    loss,
    imp,
    depth,
    level_masks,
    alpha=0.0,
    min_samples_leaf=1,
    max_leaves=None,
    initial=None,
    deadline=None,
    global_bound=0.0,
):
    """Run the search. ``initial``: a heap-order ``node_col`` (column ``F`` = no split), an
    incumbent; ``global_bound``: a lower bound known beforehand (kept at a time limit).
    Returns ``(node_col or None, objective, bound, finished, stats)``."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        threadpool_limits = None
    dp = BudgetTreeDP(
        X, stats, loss, imp, depth, level_masks, alpha, min_samples_leaf, max_leaves, deadline
    )
    ctx = threadpool_limits(1, user_api="blas") if threadpool_limits else _Null()
    with ctx:
        S = np.ones(dp.P, dtype=bool)
        best, tree = dp.leaf(S), LEAF
        if initial is not None:
            t0 = from_heap(initial, dp.D, dp.F)
            if _allowed(t0, dp.LM, 0) and n_leaves(t0) <= dp.B:
                c0 = dp.tree_cost(t0, S)
                if c0 < best - dp.eps:
                    best, tree = c0, t0
        finished = False
        if best <= float(global_bound) + dp.eps:  # the bound proves it
            return to_heap(tree, dp.D, dp.F), float(best), float(best), True, dp.stats
        try:
            # below the incumbent plus round-off: a failed search proves the incumbent optimal
            c, t = dp.search(S, 0, dp.B, best + dp.eps)
            if t is not None and c < best:
                best, tree = c, t
            finished = True
            bound = best
        except _Timeout:
            if dp.incumbent is not None and dp.incumbent[0] < best - dp.eps:
                best, tree = dp.incumbent
            bound = min(max(dp.root_bound(S), float(global_bound)), best)
    if not np.isfinite(best):
        return None, np.inf, bound, finished, dp.stats
    return to_heap(tree, dp.D, dp.F), float(best), float(bound), finished, dp.stats


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def budget_answer(problem, node_col, obj, bound, finished, stats, wall) -> RawAnswer:
    """The RawAnswer of a budgeted search on a tree problem (``values_of(node_col)``)."""
    stats = dict(stats, finished=finished)
    if node_col is None:
        status = "infeasible" if finished else "time_limit"
        msg = "no tree meets min_samples_leaf" if finished else "time limit before any tree"
        return RawAnswer(status=status, message=msg, stats=stats, solve_time=wall)
    return RawAnswer(
        status="optimal" if finished else "time_limit",
        values=problem.values_of(node_col),
        objective=obj,
        bound=max(bound, 0.0),
        message="" if finished else "time limit: best tree so far, bound from the search",
        stats=stats,
        solve_time=wall,
    )


class RegressionTreeDPSolver(SpecialSolver):
    """The registered solver ``"tree-dp-regression"`` (kind ``"ort"``)."""

    name = "tree-dp-regression"
    kinds = ("ort",)
    problem_class = "MIQP"
    description = (
        "optimal regression trees (squared loss, optional leaf budget) by dynamic "
        "programming over binary splits with bounds and caching (depth-2 subtrees in closed "
        "form from moment tables), numpy"
    )
    reference = (
        "Van der Linden, de Weerdt and Demirović (2023), STreeD, NeurIPS; Demirović et al. "
        "(2022), MurTree, JMLR 23"
    )
    is_mip = True

    def solve(self, problem, settings) -> RawAnswer:
        from optml.solve import special_settings_check

        special_settings_check(settings, self.name)
        settings = settings.started()
        t0 = time.perf_counter()
        stats, imp = problem.moments()
        # under a time limit, before the search (kept if the clock stops it): the within-row
        # loss plus the 1-D k-means cost of the row means with as many groups as the tree
        # has leaves (at most 1000 rows: O(leaves x rows^2))
        lb0 = float(imp.sum())
        if settings.deadline is not None:
            W = stats[:, 0]
            mu = np.where(W > 0, stats[:, 1] / np.where(W > 0, W, 1.0), 0.0)
            leaves = 2 ** int(problem.depth)
            if problem.max_leaves is not None:
                leaves = min(leaves, int(problem.max_leaves))
            lb0 += kmeans_bound(mu, W, leaves)
        node_col, obj, bound, finished, st = solve_budget(
            problem.data.X,
            stats,
            sse_loss,
            imp,
            problem.depth,
            problem.level_masks,
            problem.alpha,
            problem.min_samples_leaf,
            problem.max_leaves,
            problem.initial,
            settings.deadline,
            global_bound=lb0,
        )
        if node_col is not None and finished:
            # the DP's sums are exact up to round-off: the bound is the tree's own loss
            exact = problem.objective_of(node_col)
            scale = max(float(sse_loss(stats.sum(axis=0)[:, None])[0]), abs(exact))
            if abs(obj - exact) <= 1e-7 * scale:
                obj = bound = min(obj, exact)
        return budget_answer(problem, node_col, obj, bound, finished, st, time.perf_counter() - t0)


register_special(RegressionTreeDPSolver(), module=__name__)
