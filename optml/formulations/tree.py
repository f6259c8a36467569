r"""Optimal classification trees of fixed depth as mixed-integer linear programs.

All formulations here work on *binarised* data: column :math:`f` of the 0/1 matrix
:math:`x \in \{0,1\}^{P\times F}` is :math:`\mathbb 1[x_{j(f)} \le t_f]` for a feature
:math:`j(f)` and a threshold :math:`t_f` (see :func:`optml.data.binarize`). A sample goes to the
*left* child of node :math:`n` when the column chosen at :math:`n` is 1. One extra column
:math:`f = F` ("no split") is 1 for every sample: choosing it at a node sends every sample left,
so the node acts as a leaf of a shallower tree (this is how pruning and the penalty
:math:`\alpha` are modelled without big-M rows).

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

``pairs`` -- :func:`split_pairs`, an extended formulation for depth :math:`\le 2`: a binary
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

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from optml.program import Program

FORMULATIONS = ("flow", "oct", "pairs")


# ------------------------------------------------------------------------------------ data
@dataclass
class TreeData:
    """Binarised training data merged into patterns.

    Attributes
    ----------
    X : ndarray (P, F)
        0/1 pattern matrix (real threshold columns, no "no split" column).
    counts : ndarray (P, K)
        Weighted class counts of each pattern (the objective's weights).
    sizes : ndarray (P,)
        Number of training samples of each pattern (for minimum leaf sizes).
    groups : ndarray (P,) or None
        Protected group (0 or 1) of each pattern, when a parity limit is used.
    inverse : ndarray (n,)
        Pattern of each training sample.
    """

    X: np.ndarray
    counts: np.ndarray
    sizes: np.ndarray
    groups: np.ndarray | None
    inverse: np.ndarray

    @property
    def n_patterns(self) -> int:
        return self.X.shape[0]

    @property
    def n_columns(self) -> int:
        return self.X.shape[1]

    @property
    def n_classes(self) -> int:
        return self.counts.shape[1]

    @property
    def Xd(self) -> np.ndarray:
        """Pattern matrix with the "no split" column (all ones) appended."""
        return np.hstack([self.X, np.ones((self.X.shape[0], 1))])


def aggregate(Xb, y, n_classes: int, weights=None, groups=None) -> TreeData:
    """Merge identical rows of a binary matrix (and group) into weighted patterns.

    Parameters
    ----------
    Xb : ndarray (n, F) of 0/1
    y : ndarray (n,) of int in ``0..n_classes-1``
    weights : ndarray (n,), optional
        Sample weights (class weights folded in); default 1.
    groups : ndarray (n,) of 0/1, optional
        Protected group of each sample; patterns are split by group.
    """
    Xb = np.asarray(Xb)
    n = Xb.shape[0]
    y = np.asarray(y, dtype=np.int64)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    key = Xb.astype(np.uint8)
    if groups is not None:
        key = np.hstack([key, np.asarray(groups, dtype=np.uint8).reshape(-1, 1)])
    if key.shape[1] == 0:
        uniq, inv = np.zeros((1, 0), dtype=np.uint8), np.zeros(n, dtype=np.int64)
    else:
        uniq, inv = np.unique(key, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
    P = uniq.shape[0]
    counts = np.zeros((P, n_classes))
    np.add.at(counts, (inv, y), w)
    sizes = np.bincount(inv, minlength=P).astype(float)
    g = None
    if groups is not None:
        g = uniq[:, -1].astype(np.int64)
        uniq = uniq[:, :-1]
    return TreeData(uniq.astype(float), counts, sizes, g, inv)


# ---------------------------------------------------------------------------- tree shape
def n_internal(depth: int) -> int:
    return 2**depth - 1


def leaf_ancestors(depth: int) -> tuple[list[list[int]], list[list[int]]]:
    """For each leaf, the internal nodes it lies left of and right of."""
    left, right = [], []
    for leaf in range(2**depth):
        node = 2**depth - 1 + leaf
        al, ar = [], []
        while node > 0:
            parent = (node - 1) // 2
            (al if node == 2 * parent + 1 else ar).append(parent)
            node = parent
        left.append(al)
        right.append(ar)
    return left, right


def node_depth(n: int) -> int:
    return int(np.floor(np.log2(n + 1)))


def split_mask(depth: int, n_columns: int, level_columns=None) -> np.ndarray:
    """Allowed (internal node, column) pairs; the last column ("no split") is always allowed.

    ``level_columns`` maps a depth (0 = root) to a boolean mask over the ``n_columns`` real
    columns; missing depths allow every column.
    """
    N = n_internal(depth)
    mask = np.ones((N, n_columns + 1), dtype=bool)
    for n in range(N):
        lv = node_depth(n)
        if level_columns is not None and lv in level_columns:
            mask[n, :n_columns] = np.asarray(level_columns[lv], dtype=bool)
    return mask


def route(Xd: np.ndarray, node_col: np.ndarray, depth: int) -> np.ndarray:
    """Leaf index of every row of ``Xd`` (with the "no split" column) under the given splits."""
    node = np.zeros(Xd.shape[0], dtype=np.int64)
    rows = np.arange(Xd.shape[0])
    for _ in range(depth):
        go_left = Xd[rows, node_col[node]] > 0.5
        node = np.where(go_left, 2 * node + 1, 2 * node + 2)
    return node - (2**depth - 1)


# ----------------------------------------------------------------------- formulation object
@dataclass
class TreeFormulation:
    """A tree program with what is needed to read a tree back from its solution."""

    kind: str
    program: Program
    depth: int
    mask: np.ndarray  # (N, F+1) allowed pairs
    data: TreeData
    pair_node: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pair_col: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    extra: dict = field(default_factory=dict)

    @property
    def no_split(self) -> int:
        return self.data.n_columns

    def decode(self, values: dict) -> tuple[np.ndarray, np.ndarray]:
        """``(node_col, leaf_class)`` from a solution (``node_col[n] == F`` means no split)."""
        if self.kind == "pairs":
            return _decode_pairs(self, values)
        N = n_internal(self.depth)
        b = np.asarray(values["b"], dtype=float).ravel()
        node_col = np.full(N, self.no_split, dtype=np.int64)
        best = np.full(N, -np.inf)
        for j in range(b.size):
            n = self.pair_node[j]
            if b[j] > best[n]:
                best[n], node_col[n] = b[j], self.pair_col[j]
        leaf_class = np.argmax(np.asarray(values["w"]).reshape(2**self.depth, -1), axis=1)
        return node_col, leaf_class

    def start(self, node_col, leaf_class) -> dict[str, np.ndarray]:
        """A full feasible point of the program for a given tree (a warm start)."""
        return _START[self.kind](self, np.asarray(node_col), np.asarray(leaf_class))

    def objective_of(self, node_col, leaf_class) -> float:
        """Training objective (weighted errors + alpha * splits) of a tree, with numpy."""
        d = self.data
        leaf = route(d.Xd, np.asarray(node_col), self.depth)
        correct = d.counts[np.arange(d.n_patterns), np.asarray(leaf_class)[leaf]].sum()
        reached = _reached_nodes(np.asarray(node_col), self.depth, self.no_split)
        splits = sum(1 for n in reached if node_col[n] != self.no_split)
        return float(d.counts.sum() - correct + self.extra.get("alpha", 0.0) * splits)


def _reached_nodes(node_col, depth, no_split):
    """Internal nodes that can hold samples (not in the right subtree of a no-split node)."""
    out, stack = [], [0]
    while stack:
        n = stack.pop()
        if n >= n_internal(depth):
            continue
        out.append(n)
        if node_col[n] == no_split:
            stack.append(2 * n + 1)  # a pass-through: only the left child receives samples
        else:
            stack += [2 * n + 1, 2 * n + 2]
    return out


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


def _node_cap(Xd, pn, pc, n, b, left: bool):
    """Expression (P,) = sum_f x_pf b_nf (left) or sum_f (1 - x_pf) b_nf (right)."""
    js = np.flatnonzero(pn == n)
    cols = Xd[:, pc[js]] if left else 1.0 - Xd[:, pc[js]]
    sel = sp.csr_matrix((np.ones(js.size), (np.arange(js.size), js)), shape=(js.size, b.size))
    return sp.csr_matrix(cols) @ (sel @ b)


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
        (:func:`root_values`); adds the cut :math:`\text{obj} \ge \sum_f V_f b_{0f}`.
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

    for n in range(N):
        zin = np.ones(P) if n == 0 else zc(n)
        p.add(zc(2 * n + 1) + zc(2 * n + 2) == zin, name=f"conserve_{n}")
        p.add(zc(2 * n + 1) <= _node_cap(Xd, pn, pc, n, b, True), name=f"left_{n}")
        p.add(zc(2 * n + 2) <= _node_cap(Xd, pn, pc, n, b, False), name=f"right_{n}")
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
    extra = {"alpha": alpha}
    if min_samples_leaf > 1:
        _min_leaf_rows(p, mask, depth, lambda leaf: data.sizes @ z_leaf[:, leaf], pn, pc, b,
                       min_samples_leaf)  # fmt: skip
    if parity is not None:
        _parity_rows(p, data, depth, z_leaf, w, parity[0], parity[1])
    obj = float(data.counts.sum()) - gain @ s + penalty
    if root_bound is not None:
        _root_cut(p, obj, root_bound, pn, pc, b)
    p.minimize(obj)
    return TreeFormulation("flow", p, depth, mask, data, pn, pc, extra)


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
    if "q" in form.program.variables:
        out["q"] = _q_start(form, leaf, leaf_class)
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
        _min_leaf_rows(p, mask, depth, lambda leaf: data.sizes @ z[:, leaf], pn, pc, b,
                       min_samples_leaf)  # fmt: skip
    if parity is not None:
        _parity_rows(p, data, depth, z, w, parity[0], parity[1])
    p.minimize(E.sum() + penalty)
    return TreeFormulation("oct", p, depth, mask, data, pn, pc, {"alpha": alpha})


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


# ---------------------------------------------------------------- extended (split pairs)
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


def root_values(data: TreeData, depth: int, mask: np.ndarray, alpha: float = 0.0,
                min_samples_leaf: int = 1) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
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
        return TreeFormulation("pairs", p, 1, mask, data, extra={"roots": roots[keep]})
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
                    sub[i], Xd[:, kids], real_g, Xd[:, h3], (h3 < F).astype(float),
                    Xd[:, h4], (h4 < F).astype(float), C, S, alpha, m,
                )  # fmt: skip
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
    return TreeFormulation("pairs", p, depth, mask, data, extra=extra)


def _decode_pairs(form, values):
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


def _start_pairs(form, node_col, leaf_class):
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


_START = {"flow": _start_flow, "oct": _start_oct, "pairs": _start_pairs}


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
    y = np.asarray(y)
    keep = np.ones(len(features), dtype=bool)
    for j in np.unique(features):
        cols = np.flatnonzero(features == j)
        t = values[cols]
        order = np.argsort(t)
        cols, t = cols[order], t[order]
        bins = np.searchsorted(t, X[:, j], side="left")  # bin r: t[r-1] < x <= t[r]
        nb = t.size + 1
        lab = np.full(nb, -2, dtype=np.int64)  # -2 empty, -1 mixed, else the single class
        for r in range(nb):
            ys = np.unique(y[bins == r])
            lab[r] = -2 if ys.size == 0 else (ys[0] if ys.size == 1 else -1)
        for r in range(t.size):  # threshold r separates bins r and r+1
            if lab[r] >= 0 and lab[r] == lab[r + 1]:
                keep[cols[r]] = False
    return keep
