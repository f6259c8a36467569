r"""The ``pairs`` extended formulation of optimal trees (depth 1 to 3) and its cost tables.

A binary :math:`r_f` picks the root split; continuous :math:`u^L_{fg}, u^R_{fg}` pick the
children's splits, with costs computed from the data (errors of the best leaf labels plus
:math:`\alpha` per split; at depth 3 the best splits of the third level are chosen in closed
form inside the costs):

.. math::

    \min \sum_{f,g} C^L_{fg} u^L_{fg} + C^R_{fg} u^R_{fg} + \alpha \sum_{f<F} r_f
    \quad\text{s.t.}\quad \sum_f r_f = 1,\ \sum_g u^L_{fg} = r_f,\ \sum_g u^R_{fg} = r_f.

The constraint matrix is a tree of choices, so the LP relaxation is integral. The tables are
dynamic programming over the last level (as in DL8.5 / MurTree / STreeD) written as an LP over
the top levels. See :mod:`optml.formulations.tree` for the data layout.
"""

from __future__ import annotations

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
) -> TreeFormulation:
    r"""Extended formulation over the splits of the top two levels (depth 1, 2 or 3).

    See the module docstring. For depth 3 the splits of the third level (parents of leaves)
    are chosen in closed form inside the costs: :math:`C^L_{fg}` is the cost of the best
    depth-1 subtrees under both children of node 1 given the path. Leaf labels are not
    variables: each leaf takes its weighted majority class (the first one on ties), which is
    optimal for the misclassification objective; side constraints that couple leaves
    (parity) need ``flow`` or ``oct``. Work and memory grow as :math:`O(F^2)` columns (plus
    :math:`O(F^3 P K)` arithmetic for depth 3). When a side has more than ``max_columns``
    (root, child) pairs, each root keeps only its cheapest children (ties included): the
    optimum is unchanged, but constraints added later through the program see fewer choices.
    """
    if depth not in (1, 2, 3):
        raise ValueError(f"the 'pairs' formulation handles depth 1 to 3, got depth {depth}")
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
    costs, kids_all, grand = [], [], []
    for side, node in (("L", 1), ("R", 2)):
        kids = np.flatnonzero(mask[node])
        real_g = (kids < F).astype(float)
        sub = (Xr if side == "L" else 1.0 - Xr).T  # (R, P) patterns reaching the child
        if depth == 2:
            cost = node_costs(sub, Xd[:, kids], real_g, C, S, alpha, m)
            best_h = None
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
    feasible_root = np.isfinite(costs[0]).any(1) & np.isfinite(costs[1]).any(1)
    r = p.var("r", shape=roots.size, domain="binary", latex="r")
    if (~feasible_root).any():
        p.add(r[np.flatnonzero(~feasible_root)] == 0, name="infeasible_roots")
    p.add(r.sum() == 1, name="one_root")
    obj = alpha * (real_r @ r)
    extra = {"roots": roots, "kids": kids_all, "alpha": alpha, "grand": grand}
    for side, cost in zip(("L", "R"), costs, strict=True):
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
    leaf = route(d.Xd, node_col, form.depth)
    cnt = np.zeros((2**form.depth, d.n_classes))
    np.add.at(cnt, leaf, d.counts)
    return node_col, np.argmax(cnt, axis=1)


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
