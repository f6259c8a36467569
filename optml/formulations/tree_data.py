"""The data and formulation objects shared by the tree programs (:mod:`optml.formulations.tree`,
:mod:`optml.formulations.tree_pairs`, :mod:`optml.formulations.tree_octh`): binarised data merged
into patterns, heap-order tree shape helpers, and :class:`TreeFormulation` (a program with what
reads a tree back from its solution). A module of its own, so the formulations import it and
not each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from optml.program import Program

__all__ = [
    "TreeData",
    "TreeFormulation",
    "aggregate",
    "leaf_ancestors",
    "n_internal",
    "node_depth",
    "reached_nodes",
    "route",
    "split_mask",
]


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
        # rows as single byte strings: the same order as np.unique(axis=0) (bytes compare as
        # uint8 do), about 100x faster on thousands of columns than its per-column fields
        key = np.ascontiguousarray(key)
        rows = key.view(np.dtype((np.void, key.shape[1]))).reshape(-1)
        _, first, inv = np.unique(rows, return_index=True, return_inverse=True)
        uniq, inv = key[first], inv.reshape(-1)
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
    #: ``decoder(form, values) -> (node_col, leaf_class)``; None: read ``b`` and ``w``
    decoder: Callable | None = None
    #: ``starter(form, node_col, leaf_class) -> values``: a feasible point for a given tree
    starter: Callable | None = None

    @property
    def no_split(self) -> int:
        return self.data.n_columns

    def decode(self, values: dict) -> tuple[np.ndarray, np.ndarray]:
        """``(node_col, leaf_class)`` from a solution (``node_col[n] == F`` means no split)."""
        if self.decoder is not None:
            return self.decoder(self, values)
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
        if self.starter is None:
            raise ValueError(f"the {self.kind!r} formulation has no start for a given tree")
        return self.starter(self, np.asarray(node_col), np.asarray(leaf_class))

    def objective_of(self, node_col, leaf_class) -> float:
        """Training objective (weighted errors + alpha * splits) of a tree, with numpy."""
        d = self.data
        leaf = route(d.Xd, np.asarray(node_col), self.depth)
        correct = d.counts[np.arange(d.n_patterns), np.asarray(leaf_class)[leaf]].sum()
        reached = reached_nodes(np.asarray(node_col), self.depth, self.no_split)
        splits = sum(1 for n in reached if node_col[n] != self.no_split)
        return float(d.counts.sum() - correct + self.extra.get("alpha", 0.0) * splits)


def reached_nodes(node_col, depth, no_split):
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
