r"""Optimal regression trees (squared loss) on binarised splits: the MIQP and the structured
problem (kind ``"ort"``).

Data: column :math:`f` of the 0/1 matrix :math:`x \in \{0,1\}^{P\times F}` is
:math:`\mathbb 1[x_{j(f)} \le t_f]` (:func:`optml.data.binarize`), identical rows merged into
patterns :math:`p`; sample :math:`i` (target :math:`y_i`, weight :math:`w_i`) belongs to pattern
:math:`p(i)`. Trees are in heap order as in :mod:`optml.formulations.tree`, with the "no split"
column :math:`F` (all ones: samples pass left) for shallower trees.

The program (:func:`ort_miqp`): Bertsimas and Dunn's optimal regression tree (Dunn 2018,
Bertsimas and Dunn 2019) with constant leaves, on binarised splits, per pattern for the routing
and per sample for the residuals,

.. math::

    \min_{b,z,\beta,e}\ \sum_i w_i e_i^2 + \alpha \sum_{n,f<F} b_{nf}
    \quad\text{s.t.}\quad \sum_f b_{nf} = 1,\quad \sum_l z_{pl} = 1,

    z_{pl} \le \sum_f x_{pf} b_{nf}\ (n \in A_L(l)),\quad
    z_{pl} \le \sum_f (1 - x_{pf}) b_{nf}\ (n \in A_R(l)),

    e_i \ge y_i - \beta_l - M (1 - z_{p(i)l}),\quad
    e_i \ge \beta_l - y_i - M (1 - z_{p(i)l}),\quad
    \underline y \le \beta_l \le \overline y,\quad e \ge 0,

    \textstyle\sum_{n, f<F} b_{nf} \le L - 1 \quad (\texttt{max\_leaf\_nodes} = L),

with :math:`b, z` binary and :math:`M = \overline y - \underline y`. At a fixed tree the
optimal :math:`\beta_l` is the weighted mean of leaf :math:`l` and :math:`e_i = |y_i -
\beta_{l(i)}|`, so the objective is the weighted sum of squared errors of the tree plus the
split penalty: a convex MIQP (SCIP; HiGHS takes no quadratic objective with integers). The
leaf budget counts splits: a tree with at most :math:`L` leaves has at most :math:`L-1`
splits, and an unreached node never needs one.

The structured problem :class:`RegressionTreeProblem` carries the same instance to the dynamic
programming ``"tree-dp-regression"`` (:mod:`optml.algorithms.tree_dp_regression`), whose leaf
loss :math:`\sum w y^2 - (\sum w y)^2 / \sum w` is the same objective, and to general solvers
through :meth:`RegressionTreeProblem.build_program`.

References
----------
Bertsimas, D. and Dunn, J. (2019). *Machine Learning under a Modern Optimization Lens*,
Dynamic Ideas (ch. 8, optimal regression trees); Dunn, J. (2018). *Optimal trees for
prediction and prescription*, PhD thesis, MIT.
Van der Linden, J. G. M., de Weerdt, M. M. and Demirović, E. (2023). Necessary and sufficient
conditions for optimal decision trees using dynamic programming (STreeD). *NeurIPS*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

import optml.program as om
from optml.formulations.tree import _max_leaves_row, _min_leaf_rows, _node_cap, _split_vars
from optml.formulations.tree_data import (
    TreeData,
    TreeFormulation,
    aggregate,
    leaf_ancestors,
    n_internal,
    route,
    split_mask,
)
from optml.program.structured import StructuredProblem

__all__ = ["RegressionTreeProblem", "ort_miqp", "regression_data"]


def regression_data(Xb) -> TreeData:
    """Identical rows of the 0/1 matrix merged into patterns (``counts``: sample counts)."""
    Xb = np.asarray(Xb)
    return aggregate(Xb, np.zeros(Xb.shape[0], dtype=np.int64), 1)


def ort_miqp(
    data: TreeData,
    y,
    w,
    depth: int,
    mask: np.ndarray,
    alpha: float = 0.0,
    min_samples_leaf: int = 1,
    max_leaves: int | None = None,
    name: str = "ort",
) -> TreeFormulation:
    """The optimal regression tree MIQP of the module docstring."""
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    P, L, n = data.n_patterns, 2**depth, y.size
    Xd = data.Xd
    p = om.Program(name)
    b, pn, pc, penalty = _split_vars(p, mask, alpha)
    z = p.var("z", shape=(P, L), domain="binary", latex="z")
    p.add(z.sum(axis=1) == 1, name="one_leaf")
    anc_l, anc_r = leaf_ancestors(depth)
    for leaf in range(L):
        for nd in anc_l[leaf]:
            p.add(z[:, leaf] <= _node_cap(Xd, pn, pc, nd, b, True), name=f"left_{leaf}_{nd}")
        for nd in anc_r[leaf]:
            p.add(z[:, leaf] <= _node_cap(Xd, pn, pc, nd, b, False), name=f"right_{leaf}_{nd}")
    lo, hi = float(y.min()), float(y.max())
    M = hi - lo
    beta = p.var("beta", shape=L, lb=lo, ub=hi, latex=r"\beta")
    e = p.var("e", shape=n, lb=0, ub=M, latex="e")
    E = sp.csr_matrix((np.ones(n), (np.arange(n), data.inverse)), shape=(n, P))
    for leaf in range(L):
        pick = sp.csr_matrix((np.ones(n), (np.arange(n), np.full(n, leaf))), shape=(n, L))
        zi = E @ z[:, leaf]
        p.add(e + pick @ beta - M * zi >= y - M, name=f"resid_lo_{leaf}")
        p.add(e - pick @ beta - M * zi >= -y - M, name=f"resid_hi_{leaf}")
    if min_samples_leaf > 1:
        _min_leaf_rows(
            p, mask, depth, lambda lf: data.sizes @ z[:, lf], pn, pc, b, min_samples_leaf
        )
    if max_leaves is not None:
        _max_leaves_row(p, b, pc, data.n_columns, max_leaves)
    sw = sp.diags(np.sqrt(w))
    p.minimize(om.sum_squares(sw @ e) + penalty)
    form = TreeFormulation("ort", p, depth, mask, data, pn, pc, {"alpha": alpha, "name": "ort"})
    return form


@dataclass
class RegressionTreeProblem(StructuredProblem):
    """One optimal-regression-tree instance (kind ``"ort"``, default solver
    ``"tree-dp-regression"``).

    Parameters
    ----------
    data : TreeData
        Binarised patterns (:func:`regression_data`); ``data.inverse`` maps samples to them.
    y, w : ndarray (n,)
        Targets and weights of the samples.
    depth : int
    mask : ndarray (2^depth - 1, F + 1) of bool, optional
        Allowed (node, column) pairs, one mask per depth.
    alpha : float
        Penalty per split (units of the weighted sum of squared errors).
    min_samples_leaf : int
    max_leaves : int or None
        At most this many leaves.
    initial : ndarray (2^depth - 1,) or None
        A known tree's split columns (heap order, ``F`` = no split), e.g. CART's.
    """

    kind: ClassVar[str] = "ort"
    default_solver: ClassVar[str | None] = "tree-dp-regression"

    data: TreeData
    y: np.ndarray
    w: np.ndarray
    depth: int
    mask: np.ndarray | None = None
    alpha: float = 0.0
    min_samples_leaf: int = 1
    max_leaves: int | None = None
    initial: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        d = int(self.depth)
        if d < 1:
            raise ValueError(f"depth must be >= 1, got {self.depth!r}")
        F = self.data.n_columns
        self.y = np.asarray(self.y, dtype=float).ravel()
        self.w = np.asarray(self.w, dtype=float).ravel()
        if self.y.shape != self.data.inverse.shape or self.w.shape != self.y.shape:
            raise ValueError("y and w must have one entry per sample of data.inverse")
        if self.max_leaves is not None and int(self.max_leaves) < 1:
            raise ValueError(f"max_leaves must be >= 1 or None, got {self.max_leaves!r}")
        if self.mask is None:
            self.mask = split_mask(d, F)
        self.mask = np.asarray(self.mask, dtype=bool).copy()
        if self.mask.shape != (n_internal(d), F + 1):
            raise ValueError(
                f"mask must have shape {(n_internal(d), F + 1)}, got {self.mask.shape}"
            )
        self.mask[:, F] = True
        for lv in range(d):
            rows = self.mask[2**lv - 1 : 2 ** (lv + 1) - 1]
            if not (rows == rows[0]).all():
                raise ValueError(f"mask rows of depth {lv} differ; give one mask per depth")

    # ------------------------------------------------------------------------ layout
    @property
    def level_masks(self) -> np.ndarray:
        F = self.data.n_columns
        return np.array([self.mask[2**lv - 1, :F] for lv in range(int(self.depth))])

    @property
    def pairs(self):
        pn, pc = np.nonzero(self.mask)
        return pn.astype(np.int64), pc.astype(np.int64)

    def moments(self):
        """Per pattern ``(w, w y, w y^2, size)`` of the shifted targets, and the loss no tree
        avoids (the weighted squared deviations within each pattern). The shift is the
        midrange, which neither weights nor repeated rows change (a weighted mean would, by
        round-off, and then break ties between equally good trees differently)."""
        P = self.data.n_patterns
        inv = self.data.inverse
        yc = self.y - 0.5 * (float(self.y.min()) + float(self.y.max()))
        W = np.bincount(inv, weights=self.w, minlength=P)
        S1 = np.bincount(inv, weights=self.w * yc, minlength=P)
        S2 = np.bincount(inv, weights=self.w * yc * yc, minlength=P)
        stats = np.column_stack([W, S1, S2, self.data.sizes])
        mean = np.where(W > 0, S1 / np.where(W > 0, W, 1.0), 0.0)
        imp = np.bincount(inv, weights=self.w * (yc - mean[inv]) ** 2, minlength=P)
        return stats, imp

    def build_program(self) -> om.Program:
        form = ort_miqp(
            self.data,
            self.y,
            self.w,
            int(self.depth),
            self.mask,
            alpha=float(self.alpha),
            min_samples_leaf=int(self.min_samples_leaf),
            max_leaves=self.max_leaves,
        )
        self.__dict__["_form"] = form
        return form.program

    # ------------------------------------------------------------------ points, checks
    def leaf_of_sample(self, node_col) -> np.ndarray:
        return route(self.data.Xd, np.asarray(node_col), int(self.depth))[self.data.inverse]

    def leaf_values(self, node_col) -> np.ndarray:
        """Weighted mean target of every heap leaf (the overall mean for empty leaves)."""
        L = 2 ** int(self.depth)
        leaf = self.leaf_of_sample(node_col)
        W = np.bincount(leaf, weights=self.w, minlength=L)
        S = np.bincount(leaf, weights=self.w * self.y, minlength=L)
        mean = np.average(self.y, weights=self.w) if self.w.sum() > 0 else 0.0
        return np.where(W > 0, S / np.where(W > 0, W, 1.0), mean)

    def n_splits(self, node_col) -> int:
        return int((np.asarray(node_col) < self.data.n_columns).sum())

    def objective_of(self, node_col) -> float:
        """Weighted squared errors around the leaf means plus ``alpha`` per split (numpy,
        two passes)."""
        leaf = self.leaf_of_sample(node_col)
        beta = self.leaf_values(node_col)
        sse = float(self.w @ (self.y - beta[leaf]) ** 2)
        return sse + float(self.alpha) * self.n_splits(node_col)

    def values_of(self, node_col) -> dict:
        """The program's variables for a tree (a full feasible point when the tree is)."""
        node_col = np.asarray(node_col)
        pn, pc = self.pairs
        b = np.zeros(pn.size)
        for nd, c in enumerate(node_col):
            j = np.flatnonzero((pn == nd) & (pc == c))
            if j.size == 0:
                raise ValueError(f"tree uses column {c} at node {nd}, which is not allowed")
            b[j[0]] = 1.0
        L = 2 ** int(self.depth)
        pleaf = route(self.data.Xd, node_col, int(self.depth))
        z = np.zeros((self.data.n_patterns, L))
        z[np.arange(pleaf.size), pleaf] = 1.0
        beta = self.leaf_values(node_col)
        e = np.abs(self.y - beta[pleaf[self.data.inverse]])
        return {"b": b, "z": z, "beta": beta, "e": e}

    def decode(self, values) -> np.ndarray:
        """Split columns (heap order) read from ``b``."""
        pn, pc = self.pairs
        b = np.asarray(values["b"], dtype=float).ravel()
        N = n_internal(int(self.depth))
        node_col = np.full(N, self.data.n_columns, dtype=np.int64)
        best = np.full(N, -np.inf)
        for j in range(b.size):
            if b[j] > best[pn[j]]:
                best[pn[j]], node_col[pn[j]] = b[j], pc[j]
        return node_col

    def evaluate(self, values) -> tuple[float, float]:
        """``(objective, largest violation)`` with numpy, without the program: the program's
        objective at ``values`` (squared residuals of its leaf values ``beta`` and its split
        penalty) once the residuals take their least feasible value; the violation covers
        integrality and one-hot rows of ``b``, the leaf budget and the minimum leaf size."""
        pn, pc = self.pairs
        F = self.data.n_columns
        b = np.asarray(values["b"], dtype=float).ravel()
        N = n_internal(int(self.depth))
        node_col = self.decode(values)
        viol = max(
            float(np.abs(b - np.round(b)).max(initial=0.0)),
            float(np.abs(np.bincount(pn, weights=b, minlength=N) - 1).max()),
        )
        splits = float(b[pc < F].sum())
        if self.max_leaves is not None:
            viol = max(viol, splits - (int(self.max_leaves) - 1))
        leaf = self.leaf_of_sample(node_col)
        beta = np.asarray(values.get("beta", self.leaf_values(node_col)), dtype=float).ravel()
        lo, hi = float(self.y.min()), float(self.y.max())
        viol = max(viol, float((lo - beta).max(initial=0.0)), float((beta - hi).max(initial=0.0)))
        m = int(self.min_samples_leaf)
        if m > 1:
            L = 2 ** int(self.depth)
            size = np.bincount(leaf, minlength=L)
            _, anc_r = leaf_ancestors(int(self.depth))
            for lf, ar in enumerate(anc_r):
                rhs = m * (1 - sum(float(node_col[nd] == F) for nd in ar))
                viol = max(viol, rhs - size[lf])
        obj = float(self.w @ (self.y - beta[leaf]) ** 2) + float(self.alpha) * splits
        return obj, viol
