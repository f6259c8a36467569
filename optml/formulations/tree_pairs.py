r"""The ``pairs`` extended formulation of optimal trees (depth 1 to 4) and its cost tables.

A binary :math:`r_f` picks the root split; continuous :math:`u^L_{fg}, u^R_{fg}` pick the
children's splits, with costs computed from the data (errors of the best leaf labels plus
:math:`\alpha` per split; at depth 3 the best splits of the third level are chosen in closed
form inside the costs):

.. math::

    \min \sum_{f,g} C^L_{fg} u^L_{fg} + C^R_{fg} u^R_{fg} + \alpha \sum_{f<F} r_f
    \quad\text{s.t.}\quad \sum_f r_f = 1,\ \sum_g u^L_{fg} = r_f,\ \sum_g u^R_{fg} = r_f.

The constraint matrix is a tree of choices, so the LP relaxation is integral. The tables are
dynamic programming over the last level (as in DL8.5 / MurTree / STreeD) written as an LP over
the top levels. At depth 4 the cost of a column :math:`(f, g)` is :math:`\alpha` per split
plus the optimal depth-2 subtrees of the two cells :math:`\{x_f = a, x_g = 1\}` and
:math:`\{x_f = a, x_g = 0\}` (:func:`price_cells`: every cell at once from fourth-order
counts); when the clock stops the pricing, unpriced columns cost a lower bound and the
program is a relaxation (:func:`priced_only`, :func:`priced_start`). See
:mod:`optml.formulations.tree` for the data layout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optml.formulations.tree_data import TreeData, TreeFormulation, n_internal, route
from optml.program import Program


def _leaf_err(cnt: np.ndarray) -> np.ndarray:
    """Errors of the best label of leaves with class counts ``cnt`` (..., K)."""
    return cnt.sum(axis=-1) - cnt.max(axis=-1)


def _leafparent(cnt_node, cnt_a, size_node, size_a, real_g, alpha, m):
    """Costs (Q, G) of nodes whose children are leaves, from left-leaf counts and sizes."""
    cost = _leaf_err(cnt_a) + _leaf_err(cnt_node[:, None, :] - cnt_a) + alpha * real_g[None, :]
    size_b = size_node[:, None] - size_a
    bad = (size_a < m - 1e-9) | ((size_b < m - 1e-9) & (real_g[None, :] > 0))
    bad &= (size_node >= 0.5)[:, None]
    return np.where(bad, np.inf, cost)


def node_costs(subs, Xg, real_g, C, S, alpha: float, m: int) -> np.ndarray:
    """Cost of a node whose children are leaves, for every subset and every split.

    ``subs`` (Q, P) are 0/1 indicators of the patterns reaching the node, ``Xg`` (P, G) the
    candidate columns. Returns (Q, G): errors of the two leaves with their best labels plus
    ``alpha`` per real split; ``inf`` where a leaf of a non-empty node would hold fewer than
    ``m`` samples. An empty node costs ``alpha`` per real split (0 without a split).
    """
    K = C.shape[1]
    cnt_a = np.stack([(subs * C[:, k]) @ Xg for k in range(K)], axis=-1)  # (Q, G, K)
    return _leafparent(subs @ C, cnt_a, subs @ S, (subs * S) @ Xg, real_g, alpha, m)


def _child_costs(sub, Xg, real_g, X3, real3, X4, real4, C, S, alpha, m):
    """Depth-3 helper: for a child reached by ``sub`` (P,), the cost of each split g (G,)
    with the best splits of both grandchildren, and those best grandchild columns."""
    K = C.shape[1]
    W = np.column_stack([sub[:, None] * C, sub * S])  # (P, K + 1): counts and sizes
    node_g = Xg.T @ W  # (G, K + 1) reaching grandchild 3 (x_g = 1)
    node_tot = W.sum(axis=0)
    out = []
    for Xh, real_h, left in ((X3, real3, True), (X4, real4, False)):
        T = np.stack([(Xg * W[:, k : k + 1]).T @ Xh for k in range(K + 1)], axis=-1)
        if left:
            nodes = node_g
        else:  # grandchild 4 holds sub & (1 - x_g)
            T = (W.T @ Xh).T[None, :, :] - T
            nodes = node_tot[None, :] - node_g
        cost = _leafparent(nodes[:, :K], T[..., :K], nodes[:, K], T[..., K], real_h, alpha, m)
        out.append(cost)
    j3, j4 = np.argmin(out[0], axis=1), np.argmin(out[1], axis=1)
    G = Xg.shape[1]
    total = alpha * real_g + out[0][np.arange(G), j3] + out[1][np.arange(G), j4]
    return total, j3, j4


def root_values(
    data: TreeData, depth: int, mask: np.ndarray, alpha: float = 0.0, min_samples_leaf: int = 1
) -> tuple[np.ndarray, np.ndarray] | None:
    r"""Best objective of a tree of depth 1..3 given its root column, and the best tree.

    Returns ``(V, node_col)``: ``V`` over the ``F + 1`` columns (inf where the root column is
    not allowed or has no valid tree) and the splits of an optimal tree (heap order), or None
    for depth > 3. ``V`` gives the valid inequality
    :math:`\text{objective} \ge \sum_f V_f b_{0f}` in :func:`flow_oct`; side constraints
    (parity) only raise the true values, so the cut stays valid.
    """
    if depth > 3:
        return None
    form = split_pairs(data, depth, mask, alpha, min_samples_leaf, max_columns=10**12)
    F = data.n_columns
    out = np.full(F + 1, np.inf)
    roots = form.extra["roots"]
    if depth == 1:
        coef = _objective_coefs(form.program, "r")
        out[roots] = coef
        best = np.zeros(coef.size)
        best[int(np.argmin(coef))] = 1.0
        return out, form.decode({"r": best})[0]
    base = alpha * (roots < F)
    values = {}
    pick = {}
    for side in ("L", "R"):
        c = _objective_coefs(form.program, f"u{side}")
        fi, _ = form.extra[f"pairs{side}"]
        best = np.full(roots.size, np.inf)
        np.minimum.at(best, fi, c)
        base = base + best
        pick[side] = (c, fi)
    out[roots] = base
    i = int(np.argmin(base))
    values["r"] = np.eye(roots.size)[i]
    for side, (c, fi) in pick.items():
        js = np.flatnonzero(fi == i)
        u = np.zeros(c.size)
        u[js[np.argmin(c[js])]] = 1.0
        values[f"u{side}"] = u
    return out, form.decode(values)[0]


def _objective_coefs(p: Program, name: str) -> np.ndarray:
    v = p.variables[name]
    for var, a in p.objective.terms.values():
        if var is v:
            return np.asarray(a.todense()).ravel()
    return np.zeros(v.size)


def split_pairs(
    data: TreeData,
    depth: int,
    mask: np.ndarray,
    alpha: float = 0.0,
    min_samples_leaf: int = 1,
    max_columns: int = 200_000,
    name: str = "split_pairs",
    deadline: float | None = None,
    first=(),
) -> TreeFormulation:
    r"""Extended formulation over the splits of the top two levels (depth 1 to 4).

    See the module docstring. For depth 3 the splits of the third level (parents of leaves)
    are chosen in closed form inside the costs: :math:`C^L_{fg}` is the cost of the best
    depth-1 subtrees under both children of node 1 given the path. For depth 4 they are the
    optimal depth-2 subtrees of the cells (:func:`price_cells`; ``deadline`` stops the
    pricing, the ``first`` (root, child) pairs, e.g. a known tree's, are priced before it
    starts). Leaf labels are not
    variables: each leaf takes its weighted majority class (the first one on ties), which is
    optimal for the misclassification objective; side constraints that couple leaves
    (parity) need ``flow`` or ``oct``. Work and memory grow as :math:`O(F^2)` columns (plus
    :math:`O(F^3 P K)` arithmetic for depth 3). When a side has more than ``max_columns``
    (root, child) pairs, each root keeps only its cheapest children (ties included): the
    optimum is unchanged, but constraints added later through the program see fewer choices.
    """
    if depth not in (1, 2, 3, 4):
        raise ValueError(f"the 'pairs' formulation handles depth 1 to 4, got depth {depth}")
    Xd, C, S = data.Xd, data.counts, data.sizes
    F = data.n_columns
    m = max(int(min_samples_leaf), 1)
    p = Program(name)
    roots = np.flatnonzero(mask[0])
    real_r = (roots < F).astype(float)
    if depth == 1:
        cost = node_costs(np.ones((1, data.n_patterns)), Xd[:, roots], real_r, C, S, alpha, m)[0]
        keep = np.flatnonzero(np.isfinite(cost))
        r = p.var("r", shape=keep.size, domain="binary", latex="r")
        p.add(r.sum() == 1, name="one_root")
        p.minimize(cost[keep] @ r)
        return TreeFormulation(
            "pairs",
            p,
            1,
            mask,
            data,
            extra={"roots": roots[keep]},
            decoder=decode_pairs,
            starter=start_pairs,
        )
    Xr = Xd[:, roots]
    costs, kids_all, grand, exact = [], [], [], []
    cells = price_cells(data, mask, alpha, m, deadline, first) if depth == 4 else None
    for side, node in (("L", 1), ("R", 2)):
        kids = np.flatnonzero(mask[node])
        real_g = (kids < F).astype(float)
        sub = (Xr if side == "L" else 1.0 - Xr).T  # (R, P) patterns reaching the child
        best_h = None
        if depth == 4:  # both grandchildren's optimal depth-2 subtrees (priced cells)
            cost, ok = _top_costs(cells, roots, kids, side, alpha, F)
            exact.append(ok)
        elif depth == 2:
            cost = node_costs(sub, Xd[:, kids], real_g, C, S, alpha, m)
        else:
            h3, h4 = np.flatnonzero(mask[2 * node + 1]), np.flatnonzero(mask[2 * node + 2])
            cost = np.empty((roots.size, kids.size))
            best_h = np.zeros((2, roots.size, kids.size), dtype=np.int64)
            for i in range(roots.size):
                cost[i], j3, j4 = _child_costs(
                    sub[i],
                    Xd[:, kids],
                    real_g,
                    Xd[:, h3],
                    (h3 < F).astype(float),
                    Xd[:, h4],
                    (h4 < F).astype(float),
                    C,
                    S,
                    alpha,
                    m,
                )
                best_h[0, i], best_h[1, i] = h3[j3], h4[j4]
        costs.append(cost)
        kids_all.append(kids)
        grand.append(best_h)
    partial = False
    if depth == 4:  # unpriced columns that cannot beat the best priced tree are left out
        keep = _screen(costs, exact, alpha * real_r)
        costs = [np.where(kp, c, np.inf) for c, kp in zip(costs, keep, strict=True)]
        partial = any(bool((kp & ~ok).any()) for kp, ok in zip(keep, exact, strict=True))
    feasible_root = np.isfinite(costs[0]).any(1) & np.isfinite(costs[1]).any(1)
    r = p.var("r", shape=roots.size, domain="binary", latex="r")
    if (~feasible_root).any():
        p.add(r[np.flatnonzero(~feasible_root)] == 0, name="infeasible_roots")
    p.add(r.sum() == 1, name="one_root")
    obj = alpha * (real_r @ r)
    extra = {"roots": roots, "kids": kids_all, "alpha": alpha, "grand": grand, "cells": cells}
    extra["partial"] = partial  # the program holds columns with lower-bound costs
    for k, (side, cost) in enumerate(zip(("L", "R"), costs, strict=True)):
        if cost.size > max_columns:  # keep each root's cheapest children: the optimum stays
            top = max(1, max_columns // roots.size)
            cut = np.sort(cost, axis=1)[:, min(top, cost.shape[1]) - 1]
            cost = np.where(cost <= cut[:, None], cost, np.inf)
        fi, gi = np.nonzero(np.isfinite(cost))
        u = p.var(f"u{side}", shape=fi.size, lb=0, ub=1, latex=f"u^{side}")
        A = sp.csr_matrix((np.ones(fi.size), (fi, np.arange(fi.size))), shape=(roots.size, fi.size))
        p.add(A @ u - r == 0, name=f"child_{side}")
        obj = obj + cost[fi, gi] @ u
        extra[f"pairs{side}"] = (fi, gi)
        if depth == 4:  # which columns carry an exact cost (the others a lower bound)
            extra[f"exact{side}"] = exact[k][fi, gi]
    p.minimize(obj)
    return TreeFormulation(
        "pairs", p, depth, mask, data, extra=extra, decoder=decode_pairs, starter=start_pairs
    )


def decode_pairs(form, values):
    F, d = form.no_split, form.data
    roots = form.extra["roots"]
    r = np.asarray(values["r"]).ravel()
    fi = int(np.argmax(r))
    if form.depth == 1:
        node_col = np.array([roots[fi]])
    else:
        node_col = np.full(n_internal(form.depth), F, dtype=np.int64)
        node_col[0] = roots[fi]
        for k, (side, node) in enumerate((("L", 1), ("R", 2))):
            ff, gg = form.extra[f"pairs{side}"]
            u = np.asarray(values[f"u{side}"]).ravel()
            js = np.flatnonzero(ff == fi)
            g = gg[js[np.argmax(u[js])]]
            node_col[node] = form.extra["kids"][k][g]
            if form.depth == 3:
                node_col[2 * node + 1] = form.extra["grand"][k][0, fi, g]
                node_col[2 * node + 2] = form.extra["grand"][k][1, fi, g]
            elif form.depth == 4:
                _decode_cells(form.extra["cells"], node_col, node, roots[fi], node_col[node])
    leaf = route(d.Xd, node_col, form.depth)
    cnt = np.zeros((2**form.depth, d.n_classes))
    np.add.at(cnt, leaf, d.counts)
    return node_col, np.argmax(cnt, axis=1)


def _top_costs(cells, roots, kids, side, alpha, F):
    """Costs (roots x kids) of one side's columns at depth 4 (exact where priced, else the
    lower bound), and which are priced."""
    a, ix = (1 if side == "L" else 0), np.ix_(roots, kids)
    ok = cells.priced[ix]
    val = cells.value[a, 1][ix] + cells.value[a, 0][ix]
    low = cells.lower[a, 1][ix] + cells.lower[a, 0][ix]
    return alpha * (kids < F)[None, :] + np.where(ok, val, low), ok


def _screen(costs, exact, root_cost, tol=1e-9):
    """Columns worth keeping: the priced ones, and the unpriced ones whose lower bound could
    still beat the best priced tree (reduced-cost screening of column generation: a column
    dropped here cannot be in a better tree)."""
    best_ex = [np.where(ok, c, np.inf).min(axis=1) for c, ok in zip(costs, exact, strict=True)]
    best = [c.min(axis=1) for c in costs]
    inc = float(np.min(root_cost + best_ex[0] + best_ex[1])) if root_cost.size else np.inf
    keep = []
    for k, (c, ok) in enumerate(zip(costs, exact, strict=True)):
        other = best[1 - k][:, None]
        keep.append(ok | (root_cost[:, None] + c + other < inc - tol))
    return keep


def _chosen(form, values):
    """Root index and, per side, the chosen column index of a solution."""
    fi = int(np.argmax(np.asarray(values["r"]).ravel()))
    out = []
    for side in ("L", "R"):
        ff, _ = form.extra[f"pairs{side}"]
        u = np.asarray(values[f"u{side}"]).ravel()
        js = np.flatnonzero(ff == fi)
        out.append(int(js[np.argmax(u[js])]) if js.size else -1)
    return fi, out


def priced_only(form, values) -> bool:
    """Whether a solution of a depth-4 ``pairs`` program uses exactly priced columns only
    (then its objective is the true objective of its tree)."""
    if form.depth != 4:
        return True
    _, js = _chosen(form, values)
    return all(j >= 0 and form.extra[f"exact{s}"][j] for s, j in zip("LR", js, strict=True))


def priced_start(form):
    """The best tree among the exactly priced columns of a depth-4 ``pairs`` program, as
    program values (None if no root has priced columns on both sides)."""
    roots = form.extra["roots"]
    tot = form.extra["alpha"] * (roots < form.no_split)
    pick = {}
    for side in ("L", "R"):
        ff, _ = form.extra[f"pairs{side}"]
        c = np.where(form.extra[f"exact{side}"], _objective_coefs(form.program, f"u{side}"), np.inf)
        best = np.full(roots.size, np.inf)
        np.minimum.at(best, ff, c)
        tot = tot + best
        pick[side] = (ff, c)
    i = int(np.argmin(tot))
    if not np.isfinite(tot[i]):
        return None
    values = {"r": np.eye(roots.size)[i]}
    for side, (ff, c) in pick.items():
        js = np.flatnonzero(ff == i)
        u = np.zeros(ff.size)
        u[js[np.argmin(c[js])]] = 1.0
        values[f"u{side}"] = u
    return values


def _decode_cells(cells, node_col, node, f, g):
    """Levels 2-3 of a depth-4 tree below child ``node`` (root column ``f``, its column
    ``g``): the priced optimal subtrees of the cells ``x_f = a, x_g = 1`` and ``x_g = 0``."""
    a = 1 if node == 1 else 0
    for b, n in ((1, 2 * node + 1), (0, 2 * node + 2)):
        h = cells.h[a, b, f, g]
        if h < 0:
            raise ValueError("the solution uses a column whose subtrees were not priced")
        node_col[n] = h
        node_col[2 * n + 1] = cells.l_left[a, b, f, g]
        node_col[2 * n + 2] = cells.l_right[a, b, f, g]


def start_pairs(form, node_col, leaf_class):
    roots = form.extra["roots"]
    fi = np.flatnonzero(roots == node_col[0])
    if fi.size == 0:
        raise ValueError("start tree's root split is not allowed")
    r = np.zeros(np.asarray(form.program.variables["r"].shape).prod().astype(int))
    if form.depth == 1:
        keep_roots = roots
        r[int(np.flatnonzero(keep_roots == node_col[0])[0])] = 1.0
        return {"r": r}
    r[fi[0]] = 1.0
    out = {"r": r}
    for k, (side, node) in enumerate((("L", 1), ("R", 2))):
        ff, gg = form.extra[f"pairs{side}"]
        kids = form.extra["kids"][k]
        u = np.zeros(ff.size)
        js = np.flatnonzero((ff == fi[0]) & (kids[gg] == node_col[node]))
        if js.size == 0:
            raise ValueError("start tree's child split is not allowed")
        u[js[0]] = 1.0
        out[f"u{side}"] = u
    return out


# ----------------------------------------------------------------------------- depth 4
def _err_first(cnt: np.ndarray, K: int) -> np.ndarray:
    """Errors of the best label, class counts on the first axis (sizes after them ignored)."""
    if K == 2:
        return np.minimum(cnt[0], cnt[1])
    c = cnt[:K]
    return c.sum(axis=0) - c.max(axis=0)


def _level_row(mask: np.ndarray, level: int) -> np.ndarray:
    """The allowed columns of one level; the rows of a level must agree."""
    rows = mask[2**level - 1 : 2 ** (level + 1) - 1]
    if not (rows == rows[0]).all():
        raise ValueError(
            f"the depth-4 'pairs' formulation needs one set of allowed columns per depth; the "
            f"nodes of depth {level} differ (build the mask with split_mask)"
        )
    return rows[0]


def _best2_cells(FQ, K, m, alpha, real_h, real_l):
    """Optimal depth-2 subtrees of a batch of cells from their count tables.

    ``FQ`` (K', B, H, L): weighted class counts (then sizes when ``m > 1``) of the rows of
    each of the B cells with ``x_h = 1, x_l = 1``, for the subtree-root columns ``h`` and the
    leaf-parent columns ``l``; column 0 of both is the "no split" column (all ones), so
    ``FQ[:, :, :, 0]`` holds the ``x_h = 1`` counts and ``FQ[:, :, 0, 0]`` the cell's totals.
    Returns ``(value, h, l_left, l_right)`` per cell (indices into H and L): errors of the
    four leaves plus ``alpha`` per real split, ``inf`` when ``min_samples_leaf`` cannot be
    met. Ties go to the lowest index, so to "no split" first. Errors are summed in the
    tables' dtype (exact for integer counts) and ``alpha`` added in float64.
    """
    D1h = FQ[:, :, :, :1]  # x_h = 1
    A = D1h - FQ  # x_h = 1, x_l = 0
    RL = FQ[:, :, :1, :] - FQ  # x_h = 0, x_l = 1
    RR = FQ[:, :, :1, :1] - D1h - RL  # x_h = 0, x_l = 0
    eL = _err_first(FQ, K) + _err_first(A, K)
    eR = _err_first(RL, K) + _err_first(RR, K)
    sL, sR = eL, eR  # the scores the minima are taken over
    if alpha:
        pen = (alpha * real_l).astype(FQ.dtype)
        sL, sR = eL + pen, eR + pen
    if m > 1:  # a non-empty leaf parent: each leaf with samples holds >= m of them
        s, lim, rl = K, m - 1e-9, real_l > 0
        badL = (D1h[s] >= 0.5) & ((FQ[s] < lim) | ((A[s] < lim) & rl))
        badR = (FQ[s][:, :1, :1] - D1h[s] >= 0.5) & ((RL[s] < lim) | ((RR[s] < lim) & rl))
        sL[badL] = np.inf
        sR[badR] = np.inf
    jL = np.argmin(sL, axis=2)
    jR = np.argmin(sR, axis=2)

    def pick(e, sc, j):  # exact: the errors (exact in the dtype) plus alpha in float64
        v = np.take_along_axis(e, j[..., None], 2)[..., 0].astype(np.float64) + alpha * real_l[j]
        ok = np.isfinite(np.take_along_axis(sc, j[..., None], 2)[..., 0])
        return np.where(ok, v, np.inf)

    vL, vR = pick(eL, sL, jL), pick(eR, sR, jR)
    tot = alpha * real_h[None, :] + vL + vR
    h = np.argmin(tot, axis=1)
    b = np.arange(tot.shape[0])
    return tot[b, h], h, jL[b, h], jR[b, h]


_PAIRS4_FLOPS = 1e11  # most pricing arithmetic for formulation="auto" to take depth-4 pairs
_TRIPLES_BYTES = 3e8  # largest table of leaf-parent optima (errors + split index) kept
_PAIRS_BYTES = 2e9  # largest count tables of the per-pair pricing


@dataclass
class Cells:
    """Optimal depth-2 subtrees of the cells :math:`\\{x_f = a, x_g = b\\}` (a, b in {0, 1}).

    ``value[a, b, f, g]`` is the cost of the optimal depth-2 subtree (levels 2-3 of a depth-4
    tree) on the rows with ``x_f = a`` and ``x_g = b``; ``nan`` where not priced (the clock
    stopped the pricing), where ``lower`` holds a lower bound instead (the errors of
    identical rows with different labels). ``h``, ``l_left``, ``l_right`` are its splits
    (column ids). ``priced[f, g]`` marks the priced pairs; ``complete`` whether all are.
    """

    value: np.ndarray
    lower: np.ndarray
    h: np.ndarray
    l_left: np.ndarray
    l_right: np.ndarray
    priced: np.ndarray
    complete: bool
    stats: dict


def pairs4_fits(data: TreeData, mask: np.ndarray) -> bool:
    """Whether the depth-4 pricing is moderate: the per-triple table fits
    (``_TRIPLES_BYTES``) and its products, about :math:`P U^3 L / 9` multiply-adds (rows on
    the smaller sides, unordered triples), stay below ``_PAIRS4_FLOPS`` (breast cancer's 120
    columns: 1.4e10). ``formulation="auto"`` takes depth-4 ``pairs`` only then."""
    nU = np.union1d(np.flatnonzero(mask[0] | mask[1] | mask[2]), np.flatnonzero(mask[3])).size
    nL = int(mask[7].sum())
    table = 8.0 * nU**3 * 6
    return table <= _TRIPLES_BYTES and data.n_patterns * float(nU) ** 3 * nL / 9 <= _PAIRS4_FLOPS


def price_cells(
    data: TreeData,
    mask: np.ndarray,
    alpha: float = 0.0,
    min_samples_leaf: int = 1,
    deadline: float | None = None,
    first=(),
    batch: int = 16,
    method: str = "auto",
    stop_when_proven: bool = True,
) -> Cells:
    r"""Exact optimal depth-2 subtrees of every cell :math:`\{x_f = a, x_g = b\}`.

    For each first column :math:`f` (the "no split" column first, then by the objective of
    the best depth-3 tree with root :math:`f`, best first), one matrix product over the rows
    on the smaller side of :math:`x_f` gives the third-order counts
    :math:`\sum_p x_{pg} x_{ph} x_{pl} c_{pk}` for every later :math:`g` and every
    (:math:`h`, :math:`l`) allowed at depths 2 and 3; the four cells of :math:`(f, g)`
    follow by inclusion-exclusion from these and the second-order counts of all rows, and
    :func:`_best2_cells` scores every depth-2 subtree of a batch of cells at once. Pairs are
    unordered (``value[a, b, f, g] = value[b, a, g, f]``), so each is priced once. The clock
    (``deadline``, a :func:`time.perf_counter` value) is read after each first column; at
    the deadline the pricing stops with the pairs so far (``complete=False``). Before it
    starts, the pair ("no split", "no split") (the best depth-2 tree) and the pairs in
    ``first`` (e.g. a known tree's (root, child) pairs) are priced directly, whatever the
    clock says, so the program always holds a tree of exact cost.

    With ``stop_when_proven`` the pricing also stops once no unpriced column can beat the
    best priced tree by its lower bound (the relaxation's optimum is then a priced tree: the
    column-generation stopping rule); ``complete`` is then False but the optimum is known.

    ``method="triples"`` (the default when its table of :math:`8 U^3` entries takes at most
    ``_TRIPLES_BYTES``) scores each leaf-parent cell :math:`\{x_f=a, x_g=b, x_h=c\}` once
    per unordered triple instead of once per (pair, third column): about 3x less work.
    """
    nU = np.union1d(np.flatnonzero(mask[0] | mask[1] | mask[2]), np.flatnonzero(mask[3])).size
    if method == "auto":
        method = "triples" if 8 * nU**3 * 6 <= _TRIPLES_BYTES else "pairs"
    nH, nL = int(mask[3].sum()), int(mask[7].sum())
    if method == "pairs" and 4.0 * (data.n_patterns + 3 * nU) * nH * nL > _PAIRS_BYTES:
        raise ValueError(
            f"the depth-4 'pairs' formulation would hold about "
            f"{4.0 * (data.n_patterns + 3 * nU) * nH * nL / 1e9:.1f} GB of count tables "
            f"({data.n_patterns} distinct rows, {data.n_columns} candidate thresholds); pass "
            "thresholds=q (quantile bins, e.g. 5) or use the default dynamic programming"
        )
    if method == "triples":
        m = max(int(min_samples_leaf), 1)
        return _price_triples(data, mask, alpha, m, deadline, first, stop_when_proven)
    t_start = time.perf_counter()
    m = max(int(min_samples_leaf), 1)
    st = _setup(data, mask, alpha, m, first)
    F, K, Kp, Xd, Xd_t, W_t = st.F, st.K, st.Kp, st.Xd, st.Xd_t, st.W_t
    H, L, real_h, real_l = st.H, st.L, st.real_h, st.real_l
    value, hh, ll, lr, priced = st.value, st.hh, st.ll, st.lr, st.priced
    nH, nL = H.size, L.size
    P = Xd.shape[0]
    top = np.flatnonzero(mask[0] | mask[1] | mask[2])
    top = np.r_[F, top[top < F]]
    done = np.zeros(top.size, dtype=bool)
    order = [0]
    complete = True
    n_f = 0
    Z = Full = None
    while order:
        i = order.pop(0)
        f = int(top[i])
        if _late(deadline):
            complete = False
            break
        if Z is None:
            Z = (Xd_t[:, H][:, :, None] * Xd_t[:, None, L]).reshape(P, nH * nL)
            # second-order counts of all rows: Full[k, g] = sum_p x_pg x_ph x_pl W_pk
            Full = np.stack([(Xd_t[:, top] * W_t[:, k : k + 1]).T @ Z for k in range(Kp)])
        todo = np.flatnonzero(~done)  # this column and those after it
        done[i] = True
        gs = top[todo]
        x = Xd[:, f] > 0.5
        s = 1 if 2 * int(x.sum()) <= P else 0
        rows = x if s == 1 else ~x
        Xs, Ws, Zs = Xd_t[rows], W_t[rows], Z[rows]
        G2 = Ws.T @ Zs  # (K', HL): the small side of x_f
        # one product for all classes: rows (class, g), columns (h, l)
        XW = (Xs[:, gs][:, None, :] * Ws[:, :, None]).reshape(Xs.shape[0], Kp * gs.size)
        G = (XW.T @ Zs).reshape(Kp, gs.size, nH * nL)
        Ft = Full[:, 0]  # top[0] is the all-ones column
        late = False
        for j0 in range(0, gs.size, batch):
            if _late(deadline):  # this column's pairs stay unpriced
                late = True
                break
            sl = slice(j0, j0 + batch)
            g, Gb, Fg = gs[sl], G[:, sl], Full[:, todo[sl]]
            G2b = G2[:, None, :] - Gb
            cells = (
                ((s, 1), Gb),
                ((s, 0), G2b),
                ((1 - s, 1), Fg - Gb),
                ((1 - s, 0), (Ft - G2)[:, None, :] - Fg + Gb),
            )
            for (a, b), tab in cells:
                FQ = tab.reshape(Kp, -1, nH, nL)
                v, h, jl, jr = _best2_cells(FQ, K, m, alpha, real_h, real_l)
                value[a, b, f, g] = value[b, a, g, f] = v
                hh[a, b, f, g] = hh[b, a, g, f] = H[h]
                ll[a, b, f, g] = ll[b, a, g, f] = L[jl]
                lr[a, b, f, g] = lr[b, a, g, f] = L[jr]
        if late:
            complete = False
            break
        priced[f, gs] = priced[gs, f] = True
        n_f += 1
        if stop_when_proven and _proven(st, mask, alpha):
            complete = False
            break
        if i == 0:  # after "no split": the best depth-3 tree per root column, best first
            rest = np.arange(1, top.size)
            g = top[rest]
            d3 = alpha + value[1, 1, F, g] + value[1, 0, F, g]
            order = list(rest[np.argsort(d3, kind="stable")])
    stats = {"first_columns": n_f, "of": int(top.size), "pricing_s": time.perf_counter() - t_start}
    return Cells(value, st.lower, hh, ll, lr, priced, complete, dict(stats, method="pairs"))


def _proven(st, mask, alpha) -> bool:
    """Whether no unpriced column can beat the best priced tree any more (the relaxation's
    optimum is a priced tree): the pricing may stop, the optimum is known."""
    if st.priced.all():
        return False
    F = st.F
    roots = np.flatnonzero(mask[0])
    cells = Cells(st.value, st.lower, st.hh, st.ll, st.lr, st.priced, False, {})
    sides = (("L", 1), ("R", 2))
    pairs = [_top_costs(cells, roots, np.flatnonzero(mask[n]), s, alpha, F) for s, n in sides]
    costs, exact = [c for c, _ in pairs], [ok for _, ok in pairs]
    keep = _screen(costs, exact, alpha * (roots < F))
    return not any(bool((kp & ~ok).any()) for kp, ok in zip(keep, exact, strict=True))


def _late(deadline) -> bool:
    return deadline is not None and time.perf_counter() > deadline


@dataclass
class _Setup:
    F: int
    K: int
    Kp: int
    dt: type
    Xd: np.ndarray
    Xd_t: np.ndarray
    W_t: np.ndarray
    H: np.ndarray  # subtree-root columns, "no split" first
    L: np.ndarray  # leaf-parent columns, "no split" first
    real_h: np.ndarray
    real_l: np.ndarray
    value: np.ndarray
    hh: np.ndarray
    ll: np.ndarray
    lr: np.ndarray
    priced: np.ndarray
    lower: np.ndarray


def _setup(data, mask, alpha, m, first) -> _Setup:
    """What both pricing methods share: count dtype, columns of depths 2 and 3, the result
    tables, the lower bounds of unpriced cells, and the directly priced pairs ("no split",
    "no split") and ``first``."""
    F, K = data.n_columns, data.n_classes
    Xd = data.Xd
    W = np.column_stack([data.counts, data.sizes]) if m > 1 else data.counts
    exact32 = bool(np.all(W == np.round(W)) and W.sum() < 2**24)
    dt = np.float32 if exact32 else np.float64
    lv2, lv3 = _level_row(mask, 2), _level_row(mask, 3)
    H = np.r_[F, np.flatnonzero(lv2[:F])]  # "no split" first: ties go to it
    L = np.r_[F, np.flatnonzero(lv3[:F])]
    shape = (2, 2, F + 1, F + 1)
    # lower bounds: errors of identical rows with different labels in each cell
    imp = data.counts.sum(axis=1) - data.counts.max(axis=1)
    M = (Xd * imp[:, None]).T @ Xd  # (F+1, F+1): x_f = 1, x_g = 1
    d1 = np.diag(M)
    lower = np.empty(shape)
    lower[1, 1] = M
    lower[1, 0] = d1[:, None] - M
    lower[0, 1] = d1[None, :] - M
    lower[0, 0] = imp.sum() - d1[:, None] - d1[None, :] + M
    st = _Setup(
        F,
        K,
        W.shape[1],
        dt,
        Xd,
        Xd.astype(dt),
        W.astype(dt),
        H,
        L,
        (H < F).astype(float),
        (L < F).astype(float),
        np.full(shape, np.nan),
        *(np.full(shape, -1, dtype=np.int64) for _ in range(3)),
        np.zeros((F + 1, F + 1), dtype=bool),
        np.maximum(lower, 0.0),
    )
    for f, g in [(F, F), *first]:
        _price_pair(st, int(f), int(g), alpha, m)
    return st


def _price_pair(st: _Setup, f: int, g: int, alpha: float, m: int) -> None:
    """Price the four cells of one pair directly (one small product per cell)."""
    if st.priced[f, g]:
        return
    xf, xg = st.Xd[:, f] > 0.5, st.Xd[:, g] > 0.5
    nH, nL = st.H.size, st.L.size
    for a in (0, 1):
        for b in (0, 1):
            rows = (xf == bool(a)) & (xg == bool(b))
            Xr = st.Xd_t[rows]
            Zr = (Xr[:, st.H][:, :, None] * Xr[:, None, st.L]).reshape(Xr.shape[0], nH * nL)
            FQ = (st.W_t[rows].T @ Zr).reshape(st.Kp, 1, nH, nL)
            v, h, jl, jr = _best2_cells(FQ, st.K, m, alpha, st.real_h, st.real_l)
            st.value[a, b, f, g] = st.value[b, a, g, f] = v[0]
            st.hh[a, b, f, g] = st.hh[b, a, g, f] = st.H[h[0]]
            st.ll[a, b, f, g] = st.ll[b, a, g, f] = st.L[jl[0]]
            st.lr[a, b, f, g] = st.lr[b, a, g, f] = st.L[jr[0]]
    st.priced[f, g] = st.priced[g, f] = True


def _leafparent_min(X, K, m, alpha, real_l, pen):
    """Best leaf-parent split of a batch of cells: ``X`` (K', B, L) counts of each cell with
    ``x_l = 1`` (column 0 of L is "no split", so ``X[:, :, 0]`` are the cell's totals).
    Returns the errors of the best split (``inf`` when ``min_samples_leaf`` cannot be met),
    in the dtype of ``X``, and its index in L (ties: the lowest index, "no split" first)."""
    R = X[:, :, :1] - X  # x_l = 0
    e = _err_first(X, K) + _err_first(R, K)
    sc = e + pen if alpha else e
    if m > 1:
        s, lim = K, m - 1e-9
        bad = (X[s][:, :1] >= 0.5) & ((X[s] < lim) | ((R[s] < lim) & (real_l > 0)))
        sc = np.where(bad, np.inf, sc)
    j = np.argmin(sc, axis=1)
    b = np.arange(X.shape[1])
    return np.where(np.isfinite(sc[b, j]), e[b, j], np.inf), j


def _price_triples(data, mask, alpha, m, deadline, first, stop_when_proven=True, batch=2048):
    r""":func:`price_cells` by triples: the best leaf-parent split of each cell
    :math:`\{x_f = a, x_g = b, x_h = c\}` is computed once per unordered triple (it serves
    the pairs (f, g), (f, h) and (g, h)) and kept in a table of ``8 U^3`` entries."""
    t_start = time.perf_counter()
    st = _setup(data, mask, alpha, m, first)
    F, K, Kp, dt, Xd, Xd_t, W_t = st.F, st.K, st.Kp, st.dt, st.Xd, st.Xd_t, st.W_t
    value, hh, ll, lr, priced = st.value, st.hh, st.ll, st.lr, st.priced
    top = np.flatnonzero(mask[0] | mask[1] | mask[2])
    top = top[top < F]
    Hc = st.H[1:]
    # U: the columns of the pairs and of the subtree roots, "no split" (all ones) first
    U = np.r_[F, np.union1d(top, Hc)]
    nU = U.size
    uidx = np.full(F + 1, -1)
    uidx[U] = np.arange(nU)
    H = np.r_[0, uidx[Hc]]  # subtree-root columns as U indices, "no split" first
    real_h = st.real_h
    L, real_l = st.L, st.real_l
    pen = (alpha * real_l).astype(dt)
    P = Xd.shape[0]
    XL = Xd_t[:, L]
    perms = ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))
    done = np.zeros(nU, dtype=bool)
    in_top = np.isin(U, np.r_[F, top])
    complete = not _late(deadline)
    n_f = 0
    order = [0] if complete else []
    if complete:
        # best leaf-parent split of every cell (a, b, c, f, g, h): errors and index in L
        Berr = np.full((2, 2, 2, nU, nU, nU), np.inf, dtype=dt)
        Bl = np.zeros((2, 2, 2, nU, nU, nU), dtype=np.int16 if L.size < 2**15 else np.int64)
        # second-order counts of all rows for every unordered pair of U: A2[k, pair, l]
        gi, hi = np.triu_indices(nU)
        pid = np.zeros((nU, nU), dtype=np.int64)
        pid[gi, hi] = pid[hi, gi] = np.arange(gi.size)
        XU = Xd_t[:, U]
        A2 = np.empty((Kp, gi.size, L.size), dtype=dt)
        for j0 in range(0, gi.size, batch):
            sl = slice(j0, j0 + batch)
            Q = XU[:, gi[sl]] * XU[:, hi[sl]]
            for k in range(Kp):
                A2[k, sl] = (Q * W_t[:, k : k + 1]).T @ XL
    while order:
        i = order.pop(0)
        if _late(deadline):
            complete = False
            break
        f = int(U[i])
        done[i] = True
        R = np.r_[i, np.flatnonzero(~done)]  # this column and the unprocessed ones
        Rp = R if i == 0 else np.r_[0, R]  # with "no split" (all ones) for the margins
        x = Xd[:, f] > 0.5
        s = 1 if 2 * int(x.sum()) <= P else 0
        rows = x if s == 1 else ~x
        # corner counts on the small side of x_f for the pairs of Rp: T[k, pair, l]
        a_, b_ = np.triu_indices(Rp.size)
        ga, hb = Rp[a_], Rp[b_]
        tid = np.zeros((Rp.size, Rp.size), dtype=np.int64)
        tid[a_, b_] = tid[b_, a_] = np.arange(a_.size)
        T = np.zeros((Kp, a_.size, L.size), dtype=dt)
        if rows.any():
            Xs, Ws, XLs = XU[rows], W_t[rows], XL[rows]
            for j0 in range(0, a_.size, batch):
                sl = slice(j0, j0 + batch)
                Q = Xs[:, ga[sl]] * Xs[:, hb[sl]]
                QW = (Q[:, None, :] * Ws[:, :, None]).reshape(Q.shape[0], -1)
                T[:, sl] = (QW.T @ XLs).reshape(Kp, -1, L.size)
        # the triples (f, g, h), g <= h in R, and their 8 cells
        pos = {int(r): q for q, r in enumerate(Rp)}
        ri = np.array([pos[int(r)] for r in R])
        c_, d_ = np.triu_indices(R.size)
        g_, h_ = R[c_], R[d_]  # U indices
        tg, th = ri[c_], ri[d_]  # Rp positions
        zF = pos[0]
        late = False
        for j0 in range(0, c_.size, batch):
            if _late(deadline):  # this column's pairs stay unpriced
                late = True
                break
            sl = slice(j0, j0 + batch)
            G, Hh = g_[sl], h_[sl]
            t11 = T[:, tid[tg[sl], th[sl]]]
            t1F = T[:, tid[tg[sl], zF]]
            tF1 = T[:, tid[th[sl], zF]]
            tFF = T[:, tid[zF, zF]][:, None, :]
            a11 = A2[:, pid[G, Hh]]
            a1F = A2[:, pid[G, 0]]
            aF1 = A2[:, pid[Hh, 0]]
            aFF = A2[:, pid[0, 0]][:, None, :]
            corner = {
                (1, 1): t11,
                (1, 0): t1F - t11,
                (0, 1): tF1 - t11,
                (0, 0): tFF - t1F - tF1 + t11,
            }
            allr = {
                (1, 1): a11,
                (1, 0): a1F - a11,
                (0, 1): aF1 - a11,
                (0, 0): aFF - a1F - aF1 + a11,
            }
            idx = (np.full(G.size, i), G, Hh)
            for (b, c), cs in corner.items():
                for a, X in ((s, cs), (1 - s, allr[(b, c)] - cs)):
                    if a == s and not rows.any():  # an empty cell: no split, no errors
                        e, j = np.zeros(X.shape[1], dtype=dt), np.zeros(X.shape[1], dtype=int)
                    else:
                        e, j = _leafparent_min(X, K, m, alpha, real_l, pen)
                    sg = (a, b, c)
                    for p in perms:
                        key = (sg[p[0]], sg[p[1]], sg[p[2]])
                        ix = (idx[p[0]], idx[p[1]], idx[p[2]])
                        Berr[key][ix] = e
                        Bl[key][ix] = j
        if late:
            complete = False
            break
        # the pairs (f, g), g in R and in top: optimal depth-2 subtrees of their 4 cells
        Gs = R[in_top[R]]
        for a in (0, 1):
            for b in (0, 1):
                eL = Berr[a, b, 1][i][np.ix_(Gs, H)].astype(np.float64)
                eR = Berr[a, b, 0][i][np.ix_(Gs, H)].astype(np.float64)
                jL = Bl[a, b, 1][i][np.ix_(Gs, H)]
                jR = Bl[a, b, 0][i][np.ix_(Gs, H)]
                tot = alpha * real_h[None, :] + eL + alpha * real_l[jL] + eR + alpha * real_l[jR]
                hb_ = np.argmin(tot, axis=1)
                q = np.arange(Gs.size)
                g = U[Gs]
                value[a, b, f, g] = value[b, a, g, f] = tot[q, hb_]
                hh[a, b, f, g] = hh[b, a, g, f] = U[H[hb_]]
                ll[a, b, f, g] = ll[b, a, g, f] = L[jL[q, hb_]]
                lr[a, b, f, g] = lr[b, a, g, f] = L[jR[q, hb_]]
        priced[f, U[Gs]] = priced[U[Gs], f] = True
        n_f += 1
        if stop_when_proven and _proven(st, mask, alpha):
            complete = False
            break
        if i == 0:  # after "no split": the best depth-3 tree per root column, best first
            rest = np.flatnonzero(in_top)[1:]
            g = U[rest]
            d3 = alpha + value[1, 1, F, g] + value[1, 0, F, g]
            order = list(rest[np.argsort(d3, kind="stable")])
    return Cells(
        value,
        st.lower,
        hh,
        ll,
        lr,
        priced,
        complete,
        {
            "first_columns": n_f,
            "of": int(in_top.sum()),
            "pricing_s": time.perf_counter() - t_start,
            "method": "triples",
        },
    )
