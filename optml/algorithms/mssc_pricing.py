r"""Pricing for MSSC column generation, with a *certified* lower bound on the reduced cost.

Given duals :math:`\pi` (per item) and :math:`\mu`, the reduced cost of a cluster :math:`S` is
:math:`c_S - \pi(S) - \mu`. Because :math:`c_S = \min_c \sum_{i\in S} w_i\lVert m_i - c\rVert^2
+ \text{(scatter inside items)}`,

.. math::

    \min_S\ c_S - \pi(S) = \min_{c \in \mathbb R^d}\ \min_S \sum_{i\in S} q_i(c),\qquad
    q_i(c) = w_i \lVert c - m_i \rVert^2 + s_i - \pi_i ,

a d-dimensional problem over the centre :math:`c` (it lies in the data's bounding box). We bound it
by branch and bound over boxes: on a box, items with :math:`q_i \le 0` everywhere contribute their
exact (convex) quadratic minimised over the box, undecided items their box minimum, and the rest
nothing. Any lower bound :math:`\ell` gives the valid MSSC bound
:math:`\sum_i \pi_i + k\mu + k(\ell - \mu)` (a Lagrangian bound; du Merle et al. 2000).
"""

from __future__ import annotations

import itertools
import time

import numpy as np


class Items:
    """Weighted items of one node: means ``M``, weights ``w``, scatter ``s``, conflicts, sizes.

    ``cnt`` is each item's size in the units of ``size_lo`` / ``size_hi`` (its number of
    points; ``w`` when None, as for unweighted points where an item weighs its size)."""

    def __init__(self, M, w, s, conflicts=(), size_lo=1.0, size_hi=np.inf, cnt=None):
        self.M, self.w, self.s = M, w, s
        self.cnt = w if cnt is None else np.asarray(cnt, dtype=float)
        self.m, self.d = M.shape
        self.conflicts = [tuple(c) for c in conflicts]
        self.size_lo, self.size_hi = float(size_lo), float(size_hi)
        self.sized = size_lo > 1 or np.isfinite(size_hi)
        self.msq = (M * M).sum(axis=1)
        self.comps = self._components()
        self.in_conflict = np.zeros(self.m, bool)
        for a, b in self.conflicts:
            self.in_conflict[[a, b]] = True

    def _components(self):
        """Connected components of the conflict graph with their independent sets (0/1 rows)."""
        if not self.conflicts:
            return []
        adj = {}
        for a, b in self.conflicts:
            adj.setdefault(a, set()).add(b)
            adj.setdefault(b, set()).add(a)
        seen, comps = set(), []
        for v in adj:
            if v in seen:
                continue
            stack, comp = [v], []
            seen.add(v)
            while stack:
                u = stack.pop()
                comp.append(u)
                for x in adj[u] - seen:
                    seen.add(x)
                    stack.append(x)
            comp = sorted(comp)
            if len(comp) > 14:
                comps.append((np.array(comp), None))  # too big: relax (still valid)
                continue
            pos = {u: j for j, u in enumerate(comp)}
            sets = []
            for bits in itertools.product((0, 1), repeat=len(comp)):
                if all(
                    not (bits[pos[a]] and bits[pos[b]])
                    for a, b in self.conflicts
                    if a in pos and b in pos
                ):
                    sets.append(bits)
            comps.append((np.array(comp), np.array(sets, dtype=float).T))
        return comps

    def q(self, C, a):
        """``q[s, i]`` at centres ``C`` (s x d) with ``a = s - pi``."""
        d2 = self.msq[None, :] - 2 * C @ self.M.T + (C * C).sum(axis=1)[:, None]
        return self.w * np.maximum(d2, 0) + a

    def select(self, qrow) -> np.ndarray:
        """A feasible item set with small ``sum q`` (exact when unconstrained)."""
        if not self.sized and not self.conflicts:
            S = qrow < 0
            if not S.any():
                S[int(qrow.argmin())] = True
            return S
        order = np.argsort(qrow / self.cnt)
        S = np.zeros(self.m, bool)
        tot = 0.0
        for i in order:
            if qrow[i] >= 0 and tot >= self.size_lo:
                break
            if tot + self.cnt[i] > self.size_hi:
                continue
            if self.conflicts and any(S[b] for a, b in self.conflicts if a == i) | any(
                S[a] for a, b in self.conflicts if b == i
            ):
                continue
            S[i] = True
            tot += self.cnt[i]
        if tot < self.size_lo or not S.any():
            return None
        return S


def heuristic_columns(items: Items, a, mu, starts, tol, n_iter=10, max_cols=60):
    """Descent ``c <- centroid(S(c))`` from many centres.

    Returns the columns with reduced cost < -tol and the smallest ``sum q`` seen.
    """
    C = starts.copy()
    found = {}
    best = np.inf
    fast = not items.sized and not items.conflicts
    w, M = items.w, items.M
    for _ in range(n_iter):
        Q = items.q(C, a)
        if fast:
            S = Q < 0
            empty = ~S.any(axis=1)
            S[empty, Q[empty].argmin(axis=1)] = True
            rows = np.arange(C.shape[0])
        else:
            sel = [items.select(Q[r]) for r in range(C.shape[0])]
            rows = np.array([r for r, x in enumerate(sel) if x is not None], dtype=int)
            if rows.size == 0:
                break
            S = np.array([sel[r] for r in rows])
        Sw = S * w
        W = Sw.sum(axis=1)
        cen = (Sw @ M) / W[:, None]
        # sum_{i in S} w_i ||M_i - cen||^2 + a_i
        val = Sw @ items.msq - W * (cen * cen).sum(axis=1) + S.astype(float) @ a
        best = min(best, float(val.min()))
        for r in np.flatnonzero(val - mu < -tol):
            key = S[r].tobytes()
            if key not in found or found[key][0] > val[r]:
                found[key] = (float(val[r]), S[r].copy())
        newC = C.copy()
        newC[rows] = cen
        if np.allclose(newC, C):
            break
        C = newC
    cols = sorted(found.values(), key=lambda t: t[0])[:max_cols]
    return [S for _, S in cols], best


def _box_bounds(items: Items, lo, hi, a):
    """Lower bound of ``min_{c in box} min_S sum_{i in S} q_i(c)`` for each box (rows of lo/hi)."""
    M, w = items.M, items.w
    below = np.maximum(lo[:, None, :] - M[None], 0) + np.maximum(M[None] - hi[:, None, :], 0)
    l = w * (below**2).sum(axis=2) + a  # noqa: E741
    if items.sized:
        return _knapsack_bound(l, items.cnt, items.size_lo, items.size_hi)
    far = np.maximum(np.abs(M[None] - lo[:, None, :]), np.abs(hi[:, None, :] - M[None]))
    u = w * (far**2).sum(axis=2) + a
    act = (u <= 0) & ~items.in_conflict
    und = (l < 0) & ~act & ~items.in_conflict
    # min(0, q) is concave in q, so on [l, u] it lies above its chord s*q + t: the bound is the
    # exact box minimum of one isotropic quadratic (active items + chords of undecided ones)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(und, -l / (u - l), 0.0)
        shift = np.where(und, l * u / (u - l), 0.0)
    alpha = np.where(act, 1.0, slope)
    lin = np.zeros(lo.shape[0])
    combos = _combos(items)
    if not items.comps:
        quad = _quad_min(items, alpha, shift.sum(axis=1), lo, hi, a)
    elif combos is None:  # big conflict components: their items count by their box minimum
        quad = _quad_min(items, alpha, shift.sum(axis=1), lo, hi, a)
        for comp, sets in items.comps:
            lc = np.minimum(l[:, comp], 0.0)
            lin = lin + (lc.sum(axis=1) if sets is None else (lc @ sets).min(axis=1))
    else:  # every choice of independent sets: the chord quadratic of the chosen items
        ci = np.flatnonzero(items.in_conflict)
        with np.errstate(invalid="ignore", divide="ignore"):
            cs = np.where(
                u[:, ci] <= 0, 1.0, np.where(l[:, ci] < 0, -l[:, ci] / (u[:, ci] - l[:, ci]), 0.0)
            )
            ct = np.where(
                (u[:, ci] > 0) & (l[:, ci] < 0), l[:, ci] * u[:, ci] / (u[:, ci] - l[:, ci]), 0.0
            )
        quad = np.full(lo.shape[0], np.inf)
        base_t = shift.sum(axis=1)
        for mask in combos:
            al = alpha.copy()
            al[:, ci] = cs * mask
            quad = np.minimum(
                quad, _quad_min(items, al, base_t + (ct * mask).sum(axis=1), lo, hi, a)
            )
    bound = quad + lin
    none = ~(act.any(axis=1) | (l < 0).any(axis=1))
    return np.where(none, l.min(axis=1), bound)


def _quad_min(items, alpha, const, lo, hi, a):
    """Box minimum of sum_i alpha_i q_i(c) + const (an isotropic quadratic in c), per row."""
    w, M = items.w, items.M
    W = alpha @ w
    S1 = alpha @ (w[:, None] * M)
    S0 = alpha @ (a + w * items.msq) + const
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = S1 / W[:, None]
        cstar = np.clip(mean, lo, hi)
        quad = W * ((cstar - mean) ** 2).sum(axis=1) + S0 - (S1 * S1).sum(axis=1) / W
    return np.where(W > 0, quad, S0)


def _combos(items, limit=128):
    """0/1 masks over the conflict items, one per choice of an independent set per component."""
    if any(sets is None for _, sets in items.comps):
        return None
    ci = np.flatnonzero(items.in_conflict)
    pos = {int(v): j for j, v in enumerate(ci)}
    total = int(np.prod([sets.shape[1] for _, sets in items.comps]))
    if total > limit:
        return None
    out = []
    for choice in itertools.product(*[range(sets.shape[1]) for _, sets in items.comps]):
        mask = np.zeros(ci.size)
        for (comp, sets), j in zip(items.comps, choice, strict=True):
            for v, bit in zip(comp, sets[:, j], strict=True):
                mask[pos[int(v)]] = bit
        out.append(mask)
    return out


def _knapsack_bound(l, w, lo, hi):
    """min sum l_i t_i s.t. lo <= sum w_i t_i <= hi, 0 <= t <= 1 (fractional, per row)."""
    r = l / w
    order = np.argsort(r, axis=1)
    ls = np.take_along_axis(l, order, axis=1)
    ws = w[order]
    cw = np.cumsum(ws, axis=1)
    prev = cw - ws
    wneg = np.where(ls < 0, ws, 0).sum(axis=1)
    T = np.clip(wneg, lo, min(hi, w.sum()))[:, None]
    frac = np.clip((T - prev) / ws, 0, 1)
    return (ls * frac).sum(axis=1)


def exact_pricing(
    items: Items,
    a,
    mu,
    box_lo,
    box_hi,
    tol,
    deadline=None,
    max_boxes=400_000,
    batch=1024,
    find=True,
):
    r"""Branch and bound over centre boxes.

    Returns ``(bound, centres)``: ``bound`` is a certified lower bound on
    :math:`\min_S \sum_{i\in S} q_i` (valid even when stopped early); ``centres`` are box centres
    where a column of reduced cost below ``-tol`` was seen (then ``bound`` is not final).
    """
    target = mu - tol
    scale = np.maximum(box_hi - box_lo, 1e-12)
    boxes_lo, boxes_hi = [box_lo[None].copy()], [box_hi[None].copy()]
    parent = np.array([-np.inf])  # a box's bound is at least its parent's
    pruned = np.inf
    processed = 0
    found = []
    while boxes_lo:
        lo = np.concatenate(boxes_lo)
        hi = np.concatenate(boxes_hi)
        boxes_lo, boxes_hi = [], []
        keep_lo, keep_hi, keep_b = [], [], []
        for s in range(0, lo.shape[0], batch):
            if s and deadline is not None and time.perf_counter() > deadline:
                rest = min(
                    parent[s:].min(),
                    min((float(x.min()) for x in keep_b if x.size), default=np.inf),
                )
                return float(min(pruned, rest)), np.zeros((0, items.d))
            blo, bhi = lo[s : s + batch], hi[s : s + batch]
            b = _box_bounds(items, blo, bhi, a)
            processed += blo.shape[0]
            cen = (blo + bhi) / 2
            Q = items.q(cen, a)
            if not find:
                pass
            elif not items.sized and not items.conflicts:
                g = np.where(Q < 0, Q, 0).sum(axis=1)
                g = np.where((Q < 0).any(axis=1), g, Q.min(axis=1))
                bad = np.flatnonzero(g < target)
                if bad.size:
                    found.extend(cen[bad[np.argsort(g[bad])[:20]]])
            else:
                for r in np.flatnonzero(b < target)[:50]:
                    S = items.select(Q[r])
                    if S is not None and Q[r][S].sum() < target:
                        found.append(cen[r])
            ok = b >= target
            if ok.any():
                pruned = min(pruned, float(b[ok].min()))
            keep_lo.append(blo[~ok])
            keep_hi.append(bhi[~ok])
            keep_b.append(b[~ok])
        if found:
            return -np.inf, np.array(found)
        lo = np.concatenate(keep_lo)
        hi = np.concatenate(keep_hi)
        if lo.shape[0] == 0:
            break
        bl = np.concatenate(keep_b)
        if processed > max_boxes or (deadline is not None and time.perf_counter() > deadline):
            return float(min(pruned, bl.min())), np.zeros((0, items.d))
        # split every surviving box along its longest (relative) edge
        j = ((hi - lo) / scale).argmax(axis=1)
        mid = (lo[np.arange(lo.shape[0]), j] + hi[np.arange(lo.shape[0]), j]) / 2
        hi1 = hi.copy()
        hi1[np.arange(lo.shape[0]), j] = mid
        lo2 = lo.copy()
        lo2[np.arange(lo.shape[0]), j] = mid
        boxes_lo += [lo, lo2]
        boxes_hi += [hi1, hi]
        parent = np.concatenate([bl, bl])
    return float(pruned), np.zeros((0, items.d))
