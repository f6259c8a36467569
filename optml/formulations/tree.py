r"""Optimal classification trees of fixed depth as mixed-integer linear programs.

All formulations here work on *binarised* data: column :math:`f` of the 0/1 matrix
:math:`x \in \{0,1\}^{P\times F}` is :math:`\mathbb 1[x_{j(f)} \le t_f]` for a feature
:math:`j(f)` and a threshold :math:`t_f` (see :func:`optml.data.binarize`). A sample goes to the
*left* child of node :math:`n` when the column chosen at :math:`n` is 1. One extra column
:math:`f = F` ("no split") is 1 for every sample: choosing it at a node sends every sample left,
so the node is skipped and its left child takes its place (this is how shallower trees and the
penalty :math:`\alpha` are modelled without big-M rows).

Identical binarised rows are merged into *patterns* :math:`p` with weighted class counts
:math:`c_{pk}` (:func:`aggregate`); every sample of a pattern follows the same path, so the
programs are written per pattern, which is both smaller and (for the flow formulation)
tighter than one copy per sample.

Nodes are numbered in heap order: internal nodes :math:`n = 0..2^d-2`, children
:math:`2n+1` (left) and :math:`2n+2` (right); leaf :math:`l = 0..2^d-1` is heap node
:math:`2^d-1+l`. Split variables :math:`b_{nf}` exist only for the allowed pairs
(:func:`split_mask`).

Formulations
------------
``flow`` -- :func:`flow_oct`, the big-M-free flow formulation of Aghaei, Gómez and Vayanos
(2021), per pattern:

.. math::

    \min\ \sum_{p,k} c_{pk} - \sum_{p,l,k} c_{pk} s_{plk} + \alpha \sum_{n,f<F} b_{nf}
    \quad\text{s.t.}\quad
    \sum_f b_{nf} = 1,\ \sum_k w_{lk} = 1,\
    z_{p,0} = 1,\ z_{p,n} = z_{p,2n+1} + z_{p,2n+2},

    z_{p,2n+1} \le \sum_f x_{pf} b_{nf},\quad z_{p,2n+2} \le \sum_f (1-x_{pf}) b_{nf},\quad
    s_{plk} \le w_{lk},\quad \sum_k s_{plk} \le z_{p,l},

with :math:`b, w` binary and :math:`z, s \in [0,1]`.

``oct`` -- :func:`oct_binary`, Bertsimas and Dunn (2017) OCT on binarised splits (as in
Verwer and Zhang, 2019): binary assignments :math:`z_{pl}`, leaf counts and big-M leaf errors

.. math::

    z_{pl} \le \sum_f x_{pf} b_{nf}\ (n \in A_L(l)),\quad
    z_{pl} \le \sum_f (1-x_{pf}) b_{nf}\ (n \in A_R(l)),\quad \sum_l z_{pl} = 1,

    E_l \ge \sum_{p,k'} c_{pk'} z_{pl} - \sum_p c_{pk} z_{pl} - M (1 - w_{lk}).

``pairs`` -- :func:`optml.formulations.tree_pairs.split_pairs`, an extended formulation for
depth :math:`\le 4` (at depth 4 the costs are optimal depth-2 subtrees): a binary
:math:`r_f` picks the root split and continuous :math:`u^L_{fg}, u^R_{fg}` pick the children's
splits, with costs :math:`C^L_{fg}, C^R_{fg}` (the errors of the best leaf labels, plus
:math:`\alpha` per split) computed from the data:

.. math::

    \min \sum_{f,g} C^L_{fg} u^L_{fg} + C^R_{fg} u^R_{fg} + \alpha \sum_{f<F} r_f
    \quad\text{s.t.}\quad \sum_f r_f = 1,\ \sum_g u^L_{fg} = r_f,\ \sum_g u^R_{fg} = r_f.

Its constraint matrix is a tree of choices, so the LP relaxation is integral and the MIP is
certified at the root node; it has :math:`O(F^2)` columns, so it suits a moderate number of
thresholds.

References
----------
Bertsimas, D. and Dunn, J. (2017). Optimal classification trees. *Machine Learning* 106.
Verwer, S. and Zhang, Y. (2019). Learning optimal classification trees using a binary linear
program formulation. *AAAI*.
Aghaei, S., Gómez, A. and Vayanos, P. (2021). Strong optimal classification trees.
arXiv:2103.15965 (*Operations Research*, 2024).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from optml.formulations.tree_data import (  # noqa: F401  (re-exported)
    TreeData,
    TreeFormulation,
    aggregate,
    leaf_ancestors,
    n_internal,
    node_depth,
    reached_nodes,
    route,
    split_mask,
)
from optml.program import Program

FORMULATIONS = ("flow", "oct", "pairs")


def _pairs(mask):
    pn, pc = np.nonzero(mask)
    return pn.astype(np.int64), pc.astype(np.int64)


def _split_vars(p: Program, mask: np.ndarray, alpha: float):
    pn, pc = _pairs(mask)
    F = mask.shape[1] - 1
    b = p.var("b", shape=pn.size, domain="binary", latex="b")
    N = mask.shape[0]
    one = sp.csr_matrix((np.ones(pn.size), (pn, np.arange(pn.size))), shape=(N, pn.size))
    p.add(one @ b == 1, name="one_split")
    real = (pc < F).astype(float)
    return b, pn, pc, alpha * (real @ b)


def _node_cap(Xd, pn, pc, n, b, left: bool, js=None):
    """Expression (P,) = sum_f x_pf b_nf (left) or sum_f (1 - x_pf) b_nf (right), over the
    split variables ``js`` of node ``n`` (default: all of them)."""
    if js is None:
        js = np.flatnonzero(pn == n)
    cols = Xd[:, pc[js]] if left else 1.0 - Xd[:, pc[js]]
    sel = sp.csr_matrix((np.ones(js.size), (np.arange(js.size), js)), shape=(js.size, b.size))
    return sp.csr_matrix(cols) @ (sel @ b)


def threshold_chains(Xd: np.ndarray, col_feature) -> list[np.ndarray]:
    r"""Groups of columns whose 0/1 patterns are nested (the thresholds of one feature:
    :math:`\mathbb 1[x_j \le t]` grows with :math:`t`), each ordered from the smallest set
    to the largest. A feature whose columns are not nested is left out."""
    if col_feature is None:
        return []
    F = Xd.shape[1] - 1
    cf = np.asarray(col_feature).reshape(-1)
    if cf.size != F:
        raise ValueError(f"col_feature has {cf.size} entries; the data have {F} columns")
    X = Xd[:, :F]
    sizes = X.sum(axis=0)
    chains = []
    for j in np.unique(cf):
        cols = np.flatnonzero(cf == j)
        if cols.size < 2:
            continue
        cols = cols[np.argsort(sizes[cols], kind="stable")]
        if np.all(np.diff(X[:, cols], axis=1) >= 0):
            chains.append(cols)
    return chains


def _chain_caps(p, Xd, pn, pc, n, b, chains):
    r"""Left and right capacities of node ``n`` through suffix sums along each chain.

    For a chain :math:`f_1, \dots, f_m` of nested columns, pattern :math:`p` has
    :math:`x_{pf_i} = 1` exactly for :math:`i \ge r_p`, so
    :math:`\sum_i x_{pf_i} b_{nf_i} = U_{r_p}` and
    :math:`\sum_i (1 - x_{pf_i}) b_{nf_i} = U_1 - U_{r_p}` with
    :math:`U_i = b_{nf_i} + U_{i+1}` (:math:`U_{m+1} = 0`): one nonzero per (pattern, chain)
    instead of one per (pattern, column), and the same LP relaxation. Returns the two
    expressions and the layout of ``u`` (the split-variable index of each entry, and where
    each chain starts) for warm starts."""
    js = np.flatnonzero(pn == n)
    bidx = np.full(Xd.shape[1], -1)
    bidx[pc[js]] = js
    P = Xd.shape[0]
    order, starts, rows_l, cols_l, rows_r, cols_r, vals_r = [], [], [], [], [], [], []
    used = np.zeros(b.size, dtype=bool)
    off = 0
    for chain in chains:
        cols = chain[bidx[chain] >= 0]
        if cols.size < 2:
            continue
        m = cols.size
        block = Xd[:, cols] > 0.5
        has = block[:, -1]
        r = np.argmax(block, axis=1)
        pp = np.flatnonzero(has)
        rows_l.append(pp)
        cols_l.append(off + r[pp])
        rows_r += [np.arange(P), pp]
        cols_r += [np.full(P, off), off + r[pp]]
        vals_r += [np.ones(P), -np.ones(pp.size)]
        order.append(bidx[cols])
        starts.append(off)
        used[bidx[cols]] = True
        off += m
    if off == 0:
        return None
    order = np.concatenate(order)
    u = p.var(f"u{n}", shape=off, lb=0, ub=1, latex=f"U^{{({n})}}")
    last = np.zeros(off, dtype=bool)
    last[np.array(starts[1:] + [off]) - 1] = True
    i = np.arange(off)
    nxt = i[~last]
    D = sp.csr_matrix(
        (np.r_[np.ones(off), -np.ones(nxt.size)], (np.r_[i, nxt], np.r_[i, nxt + 1])),
        shape=(off, off),
    )
    B = sp.csr_matrix((np.ones(off), (i, order)), shape=(off, b.size))
    p.add(D @ u - B @ b == 0, name=f"suffix_{n}")
    Lm = sp.csr_matrix(
        (np.ones(sum(a.size for a in rows_l)), (np.concatenate(rows_l), np.concatenate(cols_l))),
        shape=(P, off),
    )
    Rm = sp.csr_matrix(
        (np.concatenate(vals_r), (np.concatenate(rows_r), np.concatenate(cols_r))), shape=(P, off)
    )
    Rm.sum_duplicates()
    Rm.eliminate_zeros()
    left, right = Lm @ u, Rm @ u
    rest = js[~used[js]]
    if rest.size:
        left = left + _node_cap(Xd, pn, pc, n, b, True, rest)
        right = right + _node_cap(Xd, pn, pc, n, b, False, rest)
    return left, right, (order, np.array(starts))


def _min_leaf_rows(p, mask, depth, occupancy, pn, pc, b, m):
    """sum_p size_p z_pl >= m (1 - sum of no-split at the leaf's right-ancestors)."""
    F = mask.shape[1] - 1
    _, anc_r = leaf_ancestors(depth)
    for leaf, ar in enumerate(anc_r):
        js = [int(np.flatnonzero((pn == n) & (pc == F))[0]) for n in ar]
        rhs = m
        if js:
            sel = np.zeros(b.size)
            sel[js] = 1.0
            rhs = m - m * (sel @ b)
        p.add(occupancy(leaf) >= rhs, name=f"min_leaf_{leaf}")


def _max_leaves_row(p, b, pc, F, max_leaves):
    """At most ``max_leaves`` leaves: at most ``max_leaves - 1`` real splits (a node no sample
    reaches never needs one, so the row cuts off no tree of the budget)."""
    real = (np.asarray(pc) < F).astype(float)
    p.add(real @ b <= int(max_leaves) - 1, name="max_leaves")


def _parity_rows(p, data, depth, z_leaf, w, positive, bound):
    """Statistical parity: |rate_0 - rate_1| <= bound, rates of predicting ``positive``."""
    P, L = data.n_patterns, 2**depth
    q = p.var("q", shape=(P, L), lb=0, ub=1, latex="q")
    wl = w[:, positive]
    p.add(q <= z_leaf, name="q_le_z")
    p.add(q - np.ones((P, 1)) @ wl.reshape(1, L) <= 0, name="q_le_w")
    p.add(q - z_leaf - np.ones((P, 1)) @ wl.reshape(1, L) >= -1, name="q_ge")
    g = data.groups
    n0 = data.sizes[g == 0].sum()
    n1 = data.sizes[g == 1].sum()
    coef = np.where(g == 0, data.sizes / max(n0, 1), -data.sizes / max(n1, 1))
    diff = (coef @ q).sum()
    p.add(diff <= bound, name="parity_hi")
    p.add(diff >= -bound, name="parity_lo")
    return q


# ----------------------------------------------------------------------------- FlowOCT
def flow_oct(
    data: TreeData,
    depth: int,
    mask: np.ndarray,
    alpha: float = 0.0,
    min_samples_leaf: int = 1,
    parity: tuple[int, float] | None = None,
    root_bound: np.ndarray | None = None,
    name: str = "flow_oct",
    col_feature: np.ndarray | None = None,
    max_leaves: int | None = None,
) -> TreeFormulation:
    r"""FlowOCT (Aghaei, Gómez and Vayanos, 2021) over patterns; see the module docstring.

    Parameters
    ----------
    data : TreeData
    depth : int
    mask : ndarray (2^d - 1, F + 1) of bool
        Allowed (node, column) pairs (:func:`split_mask`).
    alpha : float
        Penalty per split.
    min_samples_leaf : int
        Every non-empty leaf of the pruned tree holds at least this many samples.
    parity : (positive_class, bound), optional
        Limit on the difference of the rates of predicting ``positive_class`` between the
        groups ``data.groups == 0`` and ``== 1``.
    root_bound : ndarray (F + 1,), optional
        :math:`V_f`, a lower bound on the objective of any tree with root column ``f``
        (:func:`optml.formulations.tree_pairs.root_values`); adds the cut
        :math:`\text{obj} \ge \sum_f V_f b_{0f}`.
    col_feature : ndarray (F,), optional
        The feature of each column. The thresholds of one feature form a chain of nested
        columns; their capacity rows are then written through suffix sums
        (:func:`_chain_caps`): the same LP relaxation with one nonzero per (pattern, feature)
        instead of one per (pattern, threshold), which is what keeps thousands of thresholds
        buildable.
    max_leaves : int, optional
        At most this many leaves: :math:`\sum_{n, f<F} b_{nf} \le L - 1`.
    """
    P, K, L = data.n_patterns, data.n_classes, 2**depth
    N = n_internal(depth)
    Xd = data.Xd
    p = Program(name)
    b, pn, pc, penalty = _split_vars(p, mask, alpha)
    w = p.var("w", shape=(L, K), domain="binary", latex="w")
    p.add(w.sum(axis=1) == 1, name="one_class")
    V = 2 * N  # flow into every node but the root: heap nodes 1..2N
    z = p.var("z", shape=(P, V), lb=0, ub=1, latex="z")

    def zc(node):  # flow column of heap node (root: constant 1)
        return z[:, node - 1]

    chains = threshold_chains(Xd, col_feature)
    layout = {}
    for n in range(N):
        zin = np.ones(P) if n == 0 else zc(n)
        p.add(zc(2 * n + 1) + zc(2 * n + 2) == zin, name=f"conserve_{n}")
        caps = _chain_caps(p, Xd, pn, pc, n, b, chains) if chains else None
        if caps is None:
            left = _node_cap(Xd, pn, pc, n, b, True)
            right = _node_cap(Xd, pn, pc, n, b, False)
        else:
            left, right, layout[n] = caps
        p.add(zc(2 * n + 1) <= left, name=f"left_{n}")
        p.add(zc(2 * n + 2) <= right, name=f"right_{n}")
    z_leaf = z[:, N - 1 :]  # heap nodes N..2N are the leaves
    # correct flow s_plk for classes present in pattern p
    pp, kk = np.nonzero(data.counts > 0)
    ns = pp.size * L
    s = p.var("s", shape=ns, lb=0, ub=1, latex="s")
    ll = np.repeat(np.arange(L), pp.size)
    sp_ = np.tile(pp, L)
    sk = np.tile(kk, L)
    Sw = sp.csr_matrix((np.ones(ns), (np.arange(ns), ll * K + sk)), shape=(ns, L * K))
    p.add(s - Sw @ w.flatten() <= 0, name="s_le_w")
    Sz = sp.csr_matrix((np.ones(ns), (sp_ * L + ll, np.arange(ns))), shape=(P * L, ns))
    p.add(Sz @ s - z_leaf.flatten() <= 0, name="s_le_z")
    gain = data.counts[sp_, sk]
    extra = {"alpha": alpha, "suffix_layout": layout}
    if min_samples_leaf > 1:
        _min_leaf_rows(
            p, mask, depth, lambda leaf: data.sizes @ z_leaf[:, leaf], pn, pc, b, min_samples_leaf
        )
    if parity is not None:
        _parity_rows(p, data, depth, z_leaf, w, parity[0], parity[1])
    if max_leaves is not None:
        _max_leaves_row(p, b, pc, data.n_columns, max_leaves)
    obj = float(data.counts.sum()) - gain @ s + penalty
    if root_bound is not None:
        _root_cut(p, obj, root_bound, pn, pc, b)
    p.minimize(obj)
    return TreeFormulation("flow", p, depth, mask, data, pn, pc, extra, starter=_start_flow)


def _root_cut(p, obj, root_bound, pn, pc, b):
    js = np.flatnonzero(pn == 0)
    v = root_bound[pc[js]]
    bad = ~np.isfinite(v)
    if bad.any():  # a root column with no valid tree below it
        p.add(b[js[bad]] == 0, name="root_infeasible")
    coef = np.zeros(b.size)
    coef[js[~bad]] = v[~bad]
    p.add(obj - coef @ b >= 0, name="root_cut")


def _start_flow(form: TreeFormulation, node_col, leaf_class) -> dict:
    d, depth = form.data, form.depth
    P, L, N = d.n_patterns, 2**depth, n_internal(depth)
    Xd = d.Xd
    z = np.zeros((P, 2 * N))
    node = np.zeros(P, dtype=np.int64)
    for _ in range(depth):
        go_left = Xd[np.arange(P), node_col[node]] > 0.5
        node = np.where(go_left, 2 * node + 1, 2 * node + 2)
        z[np.arange(P), node - 1] = 1.0
    leaf = node - N
    w = np.zeros((L, d.n_classes))
    w[np.arange(L), leaf_class] = 1.0
    pp, kk = np.nonzero(d.counts > 0)
    ll = np.repeat(np.arange(L), pp.size)
    s = ((np.tile(leaf[pp], L) == ll) & (leaf_class[ll] == np.tile(kk, L))).astype(float)
    out = {"b": _b_start(form, node_col), "w": w, "z": z, "s": s}
    for n, (order, starts) in form.extra.get("suffix_layout", {}).items():
        out[f"u{n}"] = _suffix_start(out["b"][order], starts)
    if "q" in form.program.variables:
        out["q"] = _q_start(form, leaf, leaf_class)
    return out


def _suffix_start(bvals, starts):
    """U_i = sum_{k >= i} b_k within each chain (chains start at ``starts``)."""
    out = np.empty_like(bvals)
    ends = np.r_[starts[1:], bvals.size]
    for a, e in zip(starts, ends, strict=True):
        out[a:e] = np.cumsum(bvals[a:e][::-1])[::-1]
    return out


def _b_start(form, node_col):
    b = np.zeros(form.pair_node.size)
    for n, c in enumerate(node_col):
        j = np.flatnonzero((form.pair_node == n) & (form.pair_col == c))
        if j.size == 0:
            raise ValueError(f"start tree uses column {c} at node {n}, which is not allowed")
        b[j[0]] = 1.0
    return b


def _q_start(form, leaf, leaf_class):
    pos = form.extra["positive"]
    L = 2**form.depth
    q = np.zeros((leaf.size, L))
    q[np.arange(leaf.size), leaf] = (leaf_class[leaf] == pos).astype(float)
    return q


# ------------------------------------------------------------------------- OCT (binary)
def oct_binary(
    data: TreeData,
    depth: int,
    mask: np.ndarray,
    alpha: float = 0.0,
    min_samples_leaf: int = 1,
    parity: tuple[int, float] | None = None,
    name: str = "oct",
    max_leaves: int | None = None,
) -> TreeFormulation:
    r"""Bertsimas--Dunn (2017) OCT with binarised splits; see the module docstring.

    Parameters are those of :func:`flow_oct`.
    """
    P, K, L = data.n_patterns, data.n_classes, 2**depth
    Xd = data.Xd
    p = Program(name)
    b, pn, pc, penalty = _split_vars(p, mask, alpha)
    w = p.var("w", shape=(L, K), domain="binary", latex="c")
    p.add(w.sum(axis=1) == 1, name="one_class")
    z = p.var("z", shape=(P, L), domain="binary", latex="z")
    p.add(z.sum(axis=1) == 1, name="one_leaf")
    anc_l, anc_r = leaf_ancestors(depth)
    for leaf in range(L):
        for n in anc_l[leaf]:
            p.add(z[:, leaf] <= _node_cap(Xd, pn, pc, n, b, True), name=f"left_{leaf}_{n}")
        for n in anc_r[leaf]:
            p.add(z[:, leaf] <= _node_cap(Xd, pn, pc, n, b, False), name=f"right_{leaf}_{n}")
    M = float(data.counts.sum())
    E = p.var("E", shape=L, lb=0, latex="L")
    tot = data.counts.sum(axis=1)
    for k in range(K):  # E_l >= N_l - N_lk - M (1 - w_lk)
        nk = (tot - data.counts[:, k]) @ z
        p.add(E - nk - M * w[:, k] >= -M, name=f"leaf_err_{k}")
    if min_samples_leaf > 1:
        _min_leaf_rows(
            p, mask, depth, lambda leaf: data.sizes @ z[:, leaf], pn, pc, b, min_samples_leaf
        )
    if parity is not None:
        _parity_rows(p, data, depth, z, w, parity[0], parity[1])
    if max_leaves is not None:
        _max_leaves_row(p, b, pc, data.n_columns, max_leaves)
    p.minimize(E.sum() + penalty)
    return TreeFormulation(
        "oct", p, depth, mask, data, pn, pc, {"alpha": alpha}, starter=_start_oct
    )


def _start_oct(form: TreeFormulation, node_col, leaf_class) -> dict:
    d, L = form.data, 2**form.depth
    leaf = route(d.Xd, node_col, form.depth)
    z = np.zeros((d.n_patterns, L))
    z[np.arange(d.n_patterns), leaf] = 1.0
    w = np.zeros((L, d.n_classes))
    w[np.arange(L), leaf_class] = 1.0
    tot = d.counts.sum(axis=1)
    E = np.array([(tot - d.counts[:, leaf_class[lf]])[leaf == lf].sum() for lf in range(L)])
    out = {"b": _b_start(form, node_col), "w": w, "z": z, "E": E}
    if "q" in form.program.variables:
        out["q"] = _q_start(form, leaf, leaf_class)
    return out


def boundary_columns(X, y, features, values) -> np.ndarray:
    """Columns needed at the last split level (parents of leaves), by the boundary argument.

    A threshold whose two neighbouring bins (between neighbouring candidate thresholds of the
    same feature) hold samples of one and the same class only can be moved to the edge of
    that pure run of bins without raising the errors of a node whose children are leaves
    (errors are then additive and equal for every sample of the run). Valid for the
    misclassification objective with any sample weights, without minimum leaf sizes or
    parity limits. Returns a boolean mask over the columns.
    """
    X = np.asarray(X, dtype=float)
    _, code = np.unique(np.asarray(y), return_inverse=True)
    code = code.reshape(-1).astype(np.int64)
    keep = np.ones(len(features), dtype=bool)
    for j in np.unique(features):
        cols = np.flatnonzero(features == j)
        t = values[cols]
        order = np.argsort(t)
        cols, t = cols[order], t[order]
        bins = np.searchsorted(t, X[:, j], side="left")  # bin r: t[r-1] < x <= t[r]
        nb = t.size + 1
        lo = np.full(nb, np.iinfo(np.int64).max)
        hi = np.full(nb, -1)
        np.minimum.at(lo, bins, code)
        np.maximum.at(hi, bins, code)
        # -2 empty, -1 mixed, else the single class of the bin
        lab = np.where(hi < 0, -2, np.where(lo == hi, lo, -1))
        same = (lab[:-1] >= 0) & (lab[:-1] == lab[1:])  # threshold r separates bins r and r+1
        keep[cols[same]] = False
    return keep
