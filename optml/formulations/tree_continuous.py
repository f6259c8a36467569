r"""The optimal classification tree on raw continuous features (kind ``"oct_continuous"``).

:class:`ContinuousTreeProblem` holds the raw feature matrix, the class of every sample with its
weight, the depth and the split penalty :math:`\alpha`. It minimises

.. math::

    \sum_i \omega_i\, \mathbb 1[\hat y(x_i) \ne y_i] + \alpha \cdot \#\text{splits}

over every tree of depth at most ``depth`` with axis-aligned splits :math:`x_j \le t` at any
threshold :math:`t` (the midpoints between consecutive distinct values of each feature are
all the distinct splits). Its default solver is ``"quant-bnb"``
(:mod:`optml.algorithms.tree_quant_bnb`), which never enumerates the thresholds. General
solvers receive :meth:`ContinuousTreeProblem.build_program`: the FlowOCT program of
:class:`~optml.formulations.tree_problem.TreeProblem` with one column per midpoint (large: it
is what a MIP solver would need for the same instance).

A point is ``{"feature": (N,), "threshold": (N,), "leaf_class": (2^depth,)}`` in heap order
(``N = 2^depth - 1`` internal nodes; feature ``p`` = no split, the node's samples all go
left); :meth:`ContinuousTreeProblem.evaluate` routes the samples with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from optml.formulations.tree_data import reached_nodes
from optml.program.structured import StructuredProblem

__all__ = ["ContinuousTreeProblem", "route_continuous"]


def route_continuous(X, feature, threshold, depth: int) -> np.ndarray:
    """Heap leaf (``0..2^depth - 1``) of every row of ``X`` (feature ``p`` = pass left)."""
    X = np.asarray(X, dtype=np.float64)
    n, p = X.shape
    node = np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    Xp = np.hstack([X, np.full((n, 1), -np.inf)])  # the no-split column always goes left
    thr = np.where(np.asarray(feature) == p, 0.0, np.asarray(threshold, dtype=float))
    for _ in range(int(depth)):
        f = np.asarray(feature)[node]
        go_left = Xp[rows, f] <= thr[node]
        node = np.where(go_left, 2 * node + 1, 2 * node + 2)
    return node - (2 ** int(depth) - 1)


@dataclass
class ContinuousTreeProblem(StructuredProblem):
    """One optimal-tree instance on continuous features (kind ``"oct_continuous"``).

    Parameters
    ----------
    X : ndarray (n, p)
        Raw features.
    y : ndarray (n,) of int
        Class index of every sample (``0..n_classes-1``).
    weights : ndarray (n,)
        Objective weight of every sample (sample weight times class weight), > 0.
    n_classes : int
    depth : int
        Maximum depth (>= 1).
    alpha : float
        Penalty per split.
    min_samples_leaf : int
        Only 1 is solved by ``"quant-bnb"`` (a larger minimum breaks the monotonicity its
        bounds rest on); the program takes any.
    initial : (feature, threshold) or None
        A known tree in heap order (e.g. CART's): the incumbent to beat.
    """

    kind: ClassVar[str] = "oct_continuous"
    default_solver: ClassVar[str | None] = "quant-bnb"

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    n_classes: int
    depth: int
    alpha: float = 0.0
    min_samples_leaf: int = 1
    initial: tuple | None = None

    def __post_init__(self):
        self.X = np.asarray(self.X, dtype=np.float64)
        self.y = np.asarray(self.y, dtype=np.int64)
        self.weights = np.asarray(self.weights, dtype=np.float64)
        n = self.X.shape[0]
        if self.X.ndim != 2 or self.y.shape != (n,) or self.weights.shape != (n,):
            raise ValueError(
                f"X must be (n, p) with y and weights of length n; got X {self.X.shape}, "
                f"y {self.y.shape}, weights {self.weights.shape}"
            )
        if int(self.depth) < 1:
            raise ValueError(f"depth must be >= 1, got {self.depth!r}")
        if (self.weights < 0).any() or not np.all(np.isfinite(self.weights)):
            raise ValueError("weights must be finite and >= 0")

    @property
    def n_internal(self) -> int:
        return 2 ** int(self.depth) - 1

    @property
    def class_weights(self) -> np.ndarray:
        """(n, K): the weight of every sample in its class's column."""
        W = np.zeros((self.X.shape[0], int(self.n_classes)))
        W[np.arange(self.X.shape[0]), self.y] = self.weights
        return W

    # ------------------------------------------------------------------ points, checks
    def labels_for(self, feature, threshold) -> np.ndarray:
        """The best class of every heap leaf for the given splits (first majority)."""
        leaf = route_continuous(self.X, feature, threshold, self.depth)
        cnt = np.zeros((2 ** int(self.depth), int(self.n_classes)))
        np.add.at(cnt, (leaf, self.y), self.weights)
        return np.argmax(cnt, axis=1)

    def objective_of(self, feature, threshold, leaf_class) -> float:
        p = self.X.shape[1]
        feature = np.asarray(feature, dtype=np.int64)
        leaf = route_continuous(self.X, feature, threshold, self.depth)
        wrong = np.asarray(leaf_class)[leaf] != self.y
        splits = sum(1 for n in reached_nodes(feature, int(self.depth), p) if feature[n] != p)
        return float(self.weights[wrong].sum() + float(self.alpha) * splits)

    def evaluate(self, values) -> tuple[float, float]:
        """``(objective, largest violation)``: the weighted errors plus ``alpha`` per reached
        split of the tree, and how far the features and classes are from valid indices."""
        p = self.X.shape[1]
        f = np.asarray(values["feature"], dtype=float).ravel()
        c = np.asarray(values["leaf_class"], dtype=float).ravel()
        t = np.asarray(values["threshold"], dtype=float).ravel()
        viol = max(
            float(np.abs(f - np.round(f)).max(initial=0.0)),
            float(np.abs(c - np.round(c)).max(initial=0.0)),
            float(np.maximum(0, -f).max(initial=0.0) + np.maximum(0, f - p).max(initial=0.0)),
            float(np.maximum(0, c - (self.n_classes - 1)).max(initial=0.0)),
            0.0 if f.size == self.n_internal else np.inf,
            0.0 if np.all(np.isfinite(t)) else np.inf,
        )
        fi = np.clip(np.round(f), 0, p).astype(np.int64)
        ci = np.clip(np.round(c), 0, self.n_classes - 1).astype(np.int64)
        return self.objective_of(fi, t, ci), viol

    # -------------------------------------------------------------- the program (large)
    def tree_problem(self):
        """The same instance binarised at every midpoint: a
        :class:`~optml.formulations.tree_problem.TreeProblem` (one column per threshold)."""
        tp = self.__dict__.get("_tree_problem")
        if tp is None:
            from optml.data import binarize
            from optml.formulations.tree_data import aggregate
            from optml.formulations.tree_problem import TreeProblem

            Xb, th = binarize(self.X, thresholds="all")
            data = aggregate(Xb, self.y, int(self.n_classes), self.weights)
            tp = TreeProblem(
                data,
                int(self.depth),
                alpha=float(self.alpha),
                min_samples_leaf=int(self.min_samples_leaf),
            )
            self.__dict__["_tree_problem"] = tp
            self.__dict__["_columns"] = (np.asarray(th.features), np.asarray(th.values))
        return tp

    def build_program(self):
        return self.tree_problem().program

    def complete_values(self, values: dict) -> dict:
        """The answer written into the program's variables as well (splits, classes, flows)."""
        tp = self.tree_problem()
        feats, vals = self.__dict__["_columns"]
        p = self.X.shape[1]
        F = tp.data.n_columns
        node_col = np.full(self.n_internal, F, dtype=np.int64)
        for n, (f, t) in enumerate(zip(values["feature"], values["threshold"], strict=True)):
            f = int(round(float(f)))
            if f == p:
                continue
            cols = np.flatnonzero(feats == f)
            k = int(np.searchsorted(vals[cols], float(t), side="right")) - 1
            node_col[n] = cols[max(k, 0)]  # the largest midpoint <= t: the same samples go left
        out = dict(values)
        out.update(tp.values_of(node_col, np.asarray(values["leaf_class"], dtype=np.int64)))
        return out
