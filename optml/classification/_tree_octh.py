"""Fit-time plumbing of OCT-H (``hyperplanes=True``): scaling, program, reading the tree back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optml.classification._tree_structure import LEAF, TreeStructure
from optml.formulations import tree_data as ft
from optml.formulations.tree_octh import MU, oct_h


@dataclass
class PrepH:
    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    classes: np.ndarray
    lo: np.ndarray
    scale: np.ndarray
    data: ft.TreeData
    Xs: np.ndarray  # pattern rows, scaled
    program: object
    depth: int
    alpha: float
    cart: TreeStructure | None
    cart_objective: float | None


def prepare(est, X, y, classes, w) -> PrepH:
    """``est`` is the fit's :class:`~optml.classification._tree_build.TreeSpec`."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    scale = np.where(hi > lo, hi - lo, 1.0)
    Xs_all = (X - lo) / scale
    uniq, inv = np.unique(Xs_all, axis=0, return_inverse=True)
    K = classes.size
    counts = np.zeros((uniq.shape[0], K))
    np.add.at(counts, (inv.ravel(), y), w)
    sizes = np.bincount(inv.ravel(), minlength=uniq.shape[0]).astype(float)
    data = ft.TreeData(np.zeros((uniq.shape[0], 0)), counts, sizes, None, inv.ravel())
    prog = oct_h(
        uniq,
        data,
        est.max_depth,
        alpha=float(est.alpha),
        max_features=est.max_features_per_split,
        min_samples_leaf=int(est.min_samples_leaf),
    )
    prep = PrepH(
        X, y, w, classes, lo, scale, data, uniq, prog, est.max_depth, float(est.alpha), None, None
    )
    if est.initial_tree == "cart":
        from sklearn.tree import DecisionTreeClassifier

        c = DecisionTreeClassifier(
            max_depth=est.max_depth, min_samples_leaf=est.min_samples_leaf, random_state=0
        )
        c.fit(X, y, sample_weight=w)
        t = c.tree_
        ts = TreeStructure(
            children_left=t.children_left.astype(np.int64).copy(),
            children_right=t.children_right.astype(np.int64).copy(),
            feature=np.where(t.children_left == -1, LEAF, t.feature).astype(np.int64),
            threshold=t.threshold.astype(float).copy(),
            value=np.zeros((t.node_count, K)),
            n_node_samples=np.zeros(t.node_count, dtype=np.int64),
            leaf_class=np.zeros(t.node_count, dtype=np.int64),
            depth=_depths(t.children_left, t.children_right),
        )
        finish(ts, prep, relabel=True)
        prep.cart, prep.cart_objective = ts, objective(ts, prep)
    return prep


def _depths(cl, cr):
    dep = np.zeros(cl.size, dtype=np.int64)
    for i in range(cl.size):
        if cl[i] != -1:
            dep[cl[i]] = dep[cr[i]] = dep[i] + 1
    return dep


def finish(ts: TreeStructure, prep: PrepH, relabel: bool) -> TreeStructure:
    """Fill counts from the training data; ``relabel`` sets leaves to their majority class."""
    leaf = ts.apply(prep.X)
    K = prep.classes.size
    onehot = np.zeros((prep.y.size, K))
    onehot[np.arange(prep.y.size), prep.y] = prep.w
    member = np.zeros((ts.node_count, prep.y.size), dtype=bool)
    member[leaf, np.arange(prep.y.size)] = True
    for i in range(ts.node_count - 1, -1, -1):
        if ts.children_left[i] != LEAF:
            member[i] = member[ts.children_left[i]] | member[ts.children_right[i]]
    ts.value = member.astype(float) @ onehot
    ts.n_node_samples = member.sum(axis=1).astype(np.int64)
    internal = ts.children_left != LEAF
    ts.leaf_class[internal] = np.argmax(ts.value[internal], axis=1)
    if relabel:
        ts.leaf_class[~internal] = np.argmax(ts.value[~internal], axis=1)
    return ts


def objective(ts: TreeStructure, prep: PrepH) -> float:
    pred = ts.leaf_class[ts.apply(prep.X)]
    return float(prep.w[pred != prep.y].sum() + prep.alpha * ts.n_splits)


def decode(values, prep: PrepH) -> TreeStructure:
    """Hyperplane tree in the original units (a node with d=0 passes its samples right)."""
    N = ft.n_internal(prep.depth)
    a, b, d = values["a"], values["b"], values["d"]
    wlab = np.argmax(values["w"], axis=1)
    cl, cr, W, B, lab, dep = [], [], [], [], [], []
    p = prep.X.shape[1]

    def add(h, depth):
        if h < N and d[h] < 0.5:
            return add(2 * h + 2, depth)
        i = len(cl)
        cl.append(LEAF), cr.append(LEAF), dep.append(depth), lab.append(0)
        W.append(np.zeros(p)), B.append(0.0)
        if h < N:
            wv = a[h] / prep.scale
            wv = np.where(np.abs(wv) > 1e-12, wv, 0.0)
            bias = float(b[h] - MU / 2 + wv @ prep.lo)
            top = np.abs(wv).max(initial=0.0)
            top = top if top > 0 else 1.0  # show the largest weight as 1 (same half-spaces)
            W[i], B[i] = wv / top, bias / top
            left = add(2 * h + 1, depth + 1)
            right = add(2 * h + 2, depth + 1)
            cl[i], cr[i] = left, right
        else:
            lab[i] = int(wlab[h - N])
        return i

    add(0, 0)
    n = len(cl)
    ts = TreeStructure(
        children_left=np.array(cl, dtype=np.int64),
        children_right=np.array(cr, dtype=np.int64),
        feature=np.full(n, LEAF, dtype=np.int64),
        threshold=np.full(n, np.nan),
        value=np.zeros((n, prep.classes.size)),
        n_node_samples=np.zeros(n, dtype=np.int64),
        leaf_class=np.array(lab, dtype=np.int64),
        depth=np.array(dep, dtype=np.int64),
        weights=np.array(W),
        bias=np.array(B),
    )
    finish(ts, prep, relabel=False)
    leaves = ts.children_left == LEAF  # ties: the first majority class (objective unchanged)
    cnt = ts.value[leaves]
    tie = cnt[np.arange(cnt.shape[0]), ts.leaf_class[leaves]] >= cnt.max(axis=1) - 1e-9
    ts.leaf_class[leaves] = np.where(tie, np.argmax(cnt, axis=1), ts.leaf_class[leaves])
    return ts
