"""The fitted tree of :class:`~optml.classification.OptimalClassificationTree`: a readable structure.

A :class:`TreeStructure` holds one entry per node of the pruned tree in arrays, like
scikit-learn's ``tree_`` (``children_left``, ``children_right``, ``feature``, ``threshold``,
``value``), plus the hyperplane of each split for OCT-H (``weights``, ``bias``): a sample goes
left when ``x[feature] <= threshold`` (axis-aligned) or ``weights @ x <= bias`` (hyperplane).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LEAF = -1


@dataclass
class TreeStructure:
    """Pruned binary tree. Node 0 is the root; ``children_left[i] == -1`` marks a leaf.

    Attributes
    ----------
    children_left, children_right : ndarray of int
    feature : ndarray of int
        Feature of an axis-aligned split (``-1`` at leaves and hyperplane splits).
    threshold : ndarray of float
        Threshold in the original units (``x[feature] <= threshold`` goes left).
    weights : ndarray (n_nodes, n_features) or None
        Hyperplane splits (OCT-H): ``weights[i] @ x <= bias[i]`` goes left.
    bias : ndarray or None
    value : ndarray (n_nodes, n_classes)
        Weighted training class counts reaching each node.
    n_node_samples : ndarray of int
    leaf_class : ndarray of int
        Index into ``classes_`` of the prediction at each node (leaves; internal nodes carry
        the majority for reference).
    depth : ndarray of int
    """

    children_left: np.ndarray
    children_right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    n_node_samples: np.ndarray
    leaf_class: np.ndarray
    depth: np.ndarray
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    heap_id: list = field(default_factory=list)

    @property
    def node_count(self) -> int:
        return int(self.children_left.size)

    @property
    def n_leaves(self) -> int:
        return int((self.children_left == LEAF).sum())

    @property
    def n_splits(self) -> int:
        return self.node_count - self.n_leaves

    @property
    def max_depth(self) -> int:
        return int(self.depth.max(initial=0))

    def goes_left(self, node: int, X: np.ndarray) -> np.ndarray:
        if self.weights is not None and self.feature[node] == LEAF:
            return X @ self.weights[node] <= self.bias[node]
        return X[:, self.feature[node]] <= self.threshold[node]

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Node index of the leaf each row of ``X`` ends in."""
        node = np.zeros(X.shape[0], dtype=np.int64)
        for _ in range(self.max_depth + 1):
            for i in np.unique(node):
                if self.children_left[i] == LEAF:
                    continue
                rows = np.flatnonzero(node == i)
                left = self.goes_left(i, X[rows])
                node[rows] = np.where(left, self.children_left[i], self.children_right[i])
        return node

    def to_list(self) -> list[dict]:
        """One dict per node: children, split, counts, prediction."""
        out = []
        for i in range(self.node_count):
            d = {
                "node": i,
                "depth": int(self.depth[i]),
                "n_samples": int(self.n_node_samples[i]),
                "value": self.value[i].tolist(),
            }
            if self.children_left[i] == LEAF:
                d["class"] = int(self.leaf_class[i])
            else:
                d.update(left=int(self.children_left[i]), right=int(self.children_right[i]))
                if self.feature[i] != LEAF:
                    d.update(feature=int(self.feature[i]), threshold=float(self.threshold[i]))
                else:
                    d.update(weights=self.weights[i].tolist(), bias=float(self.bias[i]))
            out.append(d)
        return out

    def __repr__(self) -> str:
        return (
            f"TreeStructure(node_count={self.node_count}, n_leaves={self.n_leaves}, "
            f"max_depth={self.max_depth})"
        )


def export_text(
    tree: TreeStructure, classes, feature_names=None, decimals: int = 2, show_weights: bool = False
) -> str:
    """Text rendering in the style of :func:`sklearn.tree.export_text` (``classes=None``: a
    regression tree, whose ``value[:, 0]`` is printed at the leaves)."""
    nf = None if tree.weights is None else tree.weights.shape[1]
    lines: list[str] = []

    def fname(j):
        return feature_names[j] if feature_names is not None else f"feature_{j}"

    def cond(i, left):
        if tree.feature[i] != LEAF:
            op = "<=" if left else "> "
            return f"{fname(tree.feature[i])} {op} {tree.threshold[i]:.{decimals}f}"
        terms = " + ".join(
            f"{tree.weights[i, j]:.{decimals}f}*{fname(j)}"
            for j in range(nf)
            if abs(tree.weights[i, j]) > 0
        )
        return f"{terms or '0'} {'<=' if left else '> '} {tree.bias[i]:.{decimals}f}"

    def rec(i, indent):
        pre = "|   " * indent + "|--- "
        if tree.children_left[i] == LEAF and classes is None:  # a regression tree
            lines.append(pre + f"value: {tree.value[i, 0]:.{decimals}f}")
            return
        if tree.children_left[i] == LEAF:
            txt = f"class: {classes[tree.leaf_class[i]]}"
            if show_weights:
                txt = f"weights: {np.round(tree.value[i], decimals).tolist()} " + txt
            lines.append(pre + txt)
            return
        lines.append(pre + cond(i, True))
        rec(tree.children_left[i], indent + 1)
        lines.append(pre + cond(i, False))
        rec(tree.children_right[i], indent + 1)

    rec(0, 0)
    return "\n".join(lines) + "\n"


def from_heap(
    depth,
    node_col,
    leaf_class,
    no_split,
    col_feature,
    col_threshold,
    X,
    leaf_of_sample,
    counts_per_sample,
    n_classes,
) -> TreeStructure:
    """Pruned :class:`TreeStructure` from a full heap-ordered tree over binary columns.

    ``node_col[n] == no_split`` makes node ``n`` a pass-through (all its samples go to its
    left child, which takes its place). ``leaf_of_sample`` is the heap leaf of
    each training sample (for the counts); ``counts_per_sample`` (n, K) the weighted one-hot
    labels.
    """
    n_int = 2**depth - 1
    cl, cr, feat, thr, lab, dep, heap = [], [], [], [], [], [], []
    members: list[np.ndarray] = []
    node_of_sample = leaf_of_sample + n_int  # heap node id

    def under(h):  # samples whose heap leaf is in the subtree of heap node h
        lo, hi = h, h
        while lo < n_int:
            lo, hi = 2 * lo + 1, 2 * hi + 2
        return (node_of_sample >= lo) & (node_of_sample <= hi)

    def add(h, d):
        if h < n_int and node_col[h] == no_split:  # a pass-through: its samples all go left
            return add(2 * h + 1, d)
        i = len(cl)
        cl.append(LEAF), cr.append(LEAF), feat.append(LEAF), thr.append(np.nan)
        dep.append(d), heap.append(h), lab.append(0)
        members.append(under(h))
        if h < n_int:
            c = node_col[h]
            feat[i], thr[i] = int(col_feature[c]), float(col_threshold[c])
            left = add(2 * h + 1, d + 1)
            right = add(2 * h + 2, d + 1)
            cl[i], cr[i] = left, right
        else:
            lab[i] = int(leaf_class[h - n_int])
        return i

    add(0, 0)
    members_arr = np.array(members)
    value = members_arr.astype(float) @ counts_per_sample
    return TreeStructure(
        children_left=np.array(cl, dtype=np.int64),
        children_right=np.array(cr, dtype=np.int64),
        feature=np.array(feat, dtype=np.int64),
        threshold=np.array(thr, dtype=float),
        value=value,
        n_node_samples=members_arr.sum(axis=1).astype(np.int64),
        leaf_class=np.array(lab, dtype=np.int64),
        depth=np.array(dep, dtype=np.int64),
        heap_id=heap,
    )
