r"""Robust classification trees against bounded feature perturbations (Vos and Verwer, "Robust
optimal classification trees against adversarial examples", AAAI 2022).

Each sample may move within :math:`\|\delta\|_\infty \le \epsilon` (per feature,
:math:`\epsilon_j`). A threshold test :math:`x_j \le t` sends a sample left, and an adversary
can send it to either side when :math:`|x_j - t| \le \epsilon_j` (exactly: left is reachable
when :math:`x_j - \epsilon_j \le t`, right when :math:`x_j + \epsilon_j > t`). A leaf is
reachable when its box meets the ball; a sample counts as correct only when every reachable
leaf predicts its label. The robust tree maximises the number of such samples:

.. math:: \max_{T}\ \sum_i \prod_{\ell \in \mathrm{reach}_T(x_i)} [\,c_\ell = y_i\,].

The numpy evaluator :func:`robust_errors` computes the objective of a given tree exactly (leaf
boxes against the ball). :class:`RobustTreeProblem` (kind ``"robust_tree"``) is one instance on
the solve path: it minimises the robust errors (``n`` minus the count above) over the full trees
of depth 1 or 2 with splits from candidate thresholds (:func:`candidate_thresholds`); its default
solver is the exact search ``"robust-tree-search"``
(:mod:`optml.algorithms.robust_tree_search`), and :meth:`RobustTreeProblem.build_program` is the
MILP of the same objective for general solvers (docs/adversarial.md writes it out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from optml.program import Program
from optml.program import sum as om_sum
from optml.program.structured import StructuredProblem


def leaf_boxes(children_left, children_right, feature, threshold, n_features):
    """``{leaf: (lower, upper)}``: ``lower`` open (``x_f > lower``), ``upper`` closed."""
    out = {}
    stack = [(0, np.full(n_features, -np.inf), np.full(n_features, np.inf))]
    while stack:
        node, lo, hi = stack.pop()
        left = int(children_left[node])
        if left < 0:
            out[node] = (lo, hi)
            continue
        f, t = int(feature[node]), float(threshold[node])
        hl = hi.copy()
        hl[f] = min(hl[f], t)
        lr = lo.copy()
        lr[f] = max(lr[f], t)
        stack.append((left, lo, hl))
        stack.append((int(children_right[node]), lr, hi))
    return out


def reach(X, eps, lower, upper) -> np.ndarray:
    """Samples whose ball meets the box ``lower < x <= upper`` (per feature radius ``eps``)."""
    X = np.asarray(X, float)
    e = np.broadcast_to(np.asarray(eps, float), (X.shape[1],))
    if (lower >= upper).any():  # an empty leaf
        return np.zeros(X.shape[0], bool)
    return ((X + e > lower) & (X - e <= upper)).all(axis=1)


def robust_errors(tree, X, y_idx, eps) -> int:
    """Samples not robustly correct for ``tree`` (a structure with ``children_left``,
    ``children_right``, ``feature``, ``threshold``, ``leaf_class``) under the L-inf ball."""
    X = np.asarray(X, float)
    ok = np.ones(X.shape[0], bool)
    boxes = leaf_boxes(
        tree.children_left, tree.children_right, tree.feature, tree.threshold, X.shape[1]
    )
    for leaf, (lo, hi) in boxes.items():
        r = reach(X, eps, lo, hi)
        ok &= ~r | (np.asarray(y_idx) == tree.leaf_class[leaf])
    return int((~ok).sum())


# --------------------------------------------------------------------------------------------
# candidate thresholds and the structured problem (kind "robust_tree")


def candidate_thresholds(x, e, cap=None) -> np.ndarray:
    """Midpoints between consecutive breakpoints ``x_i -+ e`` of one feature: one threshold per
    interval on which the reach pattern of every sample is constant (away from ties, so that
    float round-off cannot flip it). ``cap`` keeps an evenly spaced subset."""
    bp = np.unique(np.concatenate([x - e, x + e]))
    T = (bp[1:] + bp[:-1]) / 2
    if cap is not None and T.size > cap:
        T = T[np.unique(np.linspace(0, T.size - 1, cap).round().astype(int))]
    return T


#: leaves of the full tree of depth 1 and 2 (heap order) as paths ``[(node, side), ...]``
#: with side 0 = left, 1 = right
_PATHS = {
    1: [[(0, 0)], [(0, 1)]],
    2: [[(0, 0), (1, 0)], [(0, 0), (1, 1)], [(0, 1), (2, 0)], [(0, 1), (2, 1)]],
}


@dataclass
class RobustTreeProblem(StructuredProblem):
    r"""One robust-tree instance (kind ``"robust_tree"``, default solver
    ``"robust-tree-search"``): minimise the number of samples not robustly correct over the
    full trees of depth ``depth`` whose splits come from ``thresholds``.

    Parameters
    ----------
    X : ndarray (n, p)
    eps : ndarray (p,)
        Perturbation radius per feature.
    y : ndarray (n,) of int
        Class indices ``0 .. n_classes - 1``.
    n_classes : int
    depth : {1, 2}
    thresholds : list of p sorted arrays
        Candidate thresholds per feature (:func:`candidate_thresholds`).

    The program (:meth:`build_program`; docs/adversarial.md writes it out): a depth-1 subtree
    (a leaf ``c``, or a split ``(j, k)`` with leaf classes ``(a, b)``, ``a != b``) is chosen by
    binaries :math:`x_{d\kappa}` for each side ``d`` of the root (the whole tree at depth 1);
    the root split by binaries :math:`a_s` (``s = S``: none, every sample to the left).
    Whether a column passes sample ``i`` (every leaf its ball reaches predicts :math:`y_i`) is
    fixed by the data and is a prefix or suffix of the thresholds of one feature, so with the
    suffix sums :math:`V_{d,(a,b),j,k} = \sum_{k' \ge k} x_{d,(a,b),j,k'}` the pass indicator
    :math:`\pi_{di}` is a sum of :math:`O(pK)` terms; likewise the root's reach indicators
    :math:`\rho^L_i, \rho^R_i` with :math:`U_{jk} = \sum_{k' \ge k} a_{jk'}`. The error
    :math:`z_i \in [0, 1]` obeys :math:`z_i \ge \rho^d_i - \pi_{di}` per side (depth 1:
    :math:`z_i \ge 1 - \pi_i`). A side that splits on the root's feature past the root's
    threshold (its outer leaf empty) is excluded; such a tree classifies like the same tree with
    that side a leaf, which the program keeps.
    """

    kind: ClassVar[str] = "robust_tree"
    default_solver: ClassVar[str | None] = "robust-tree-search"

    X: np.ndarray
    eps: np.ndarray
    y: np.ndarray
    n_classes: int
    depth: int
    thresholds: list

    def __post_init__(self):
        self.X = np.asarray(self.X, dtype=float)
        n, p = self.X.shape
        self.eps = np.broadcast_to(np.asarray(self.eps, dtype=float), (p,)).copy()
        self.y = np.asarray(self.y, dtype=np.int64)
        if self.depth not in (1, 2):
            raise ValueError(f"depth must be 1 or 2, got {self.depth!r}")
        if len(self.thresholds) != p:
            raise ValueError(
                f"thresholds must give one array per feature ({p}), got {len(self.thresholds)}"
            )
        self.thresholds = [np.sort(np.asarray(t, dtype=float).ravel()) for t in self.thresholds]
        m = np.array([t.size for t in self.thresholds], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(m)])
        self.S = int(self.offsets[-1])  # candidate splits; index S = "none"
        self.n_nodes = 2**self.depth - 1
        self.n_leaves = 2**self.depth

    # ----------------------------------------------------------------------- layout
    def _kappa(self, shift):
        """(n, p) index of the first threshold >= x_ij + shift * eps_j, per feature."""
        n, p = self.X.shape
        out = np.empty((n, p), dtype=np.int64)
        for j, T in enumerate(self.thresholds):
            out[:, j] = np.searchsorted(T, self.X[:, j] + shift * self.eps[j], side="left")
        return out

    def _reach_mats(self):
        """Sparse ``(n, S)`` matrices with ``rho^L = ML @ U_v + a_{v,none}``, ``rho^R = MR @ U_v``."""
        n, p = self.X.shape
        m = np.diff(self.offsets)
        kl, kr = self._kappa(-1.0), self._kappa(1.0)
        rows, cols, vals = [], [], []
        i = np.arange(n)
        for j in range(p):
            ok = kl[:, j] < m[j]
            rows.append(i[ok])
            cols.append(self.offsets[j] + kl[ok, j])
            vals.append(np.ones(ok.sum()))
        ML = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, self.S)
        )
        rows, cols, vals = [], [], []
        for j in range(p):
            if m[j] == 0:
                continue
            rows.append(i)
            cols.append(np.full(n, self.offsets[j]))
            vals.append(np.ones(n))
            ok = kr[:, j] < m[j]
            rows.append(i[ok])
            cols.append(self.offsets[j] + kr[ok, j])
            vals.append(-np.ones(ok.sum()))
        if rows:
            MR = sp.csr_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                shape=(n, self.S),
            )
        else:
            MR = sp.csr_matrix((n, self.S))
        MR.sum_duplicates()
        return ML, MR

    def _suffix_rows(self):
        """Sparse ``(S, S)`` ``B`` with ``B @ U = a`` (``U_k - U_{k+1} = a_k`` within each
        feature, ``U_last = a_last``): the suffix sums as a bidiagonal system."""
        r, c, v = [np.arange(self.S)], [np.arange(self.S)], [np.ones(self.S)]
        nxt = np.arange(1, self.S + 1)
        inside = ~np.isin(nxt, self.offsets[1:])  # k + 1 still in the same feature
        r.append(np.flatnonzero(inside))
        c.append(nxt[inside])
        v.append(-np.ones(inside.sum()))
        return sp.csr_matrix(
            (np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(self.S, self.S)
        )

    def _suffix(self, av) -> np.ndarray:
        """``U_v`` of one node's split indicators ``av`` (length S), by reverse cumsums."""
        out = np.empty(self.S)
        for j in range(len(self.thresholds)):
            o, e = int(self.offsets[j]), int(self.offsets[j + 1])
            out[o:e] = np.cumsum(av[o:e][::-1])[::-1]
        return out

    # ---------------------------------------------------------------------- program
    @property
    def pairs(self) -> list[tuple[int, int]]:
        """Class pairs ``(a, b)``, ``a != b``, of a depth-1 subtree's leaves."""
        K = int(self.n_classes)
        return [(p, q) for p in range(K) for q in range(K) if p != q]

    @property
    def n_sides(self) -> int:
        """Depth-1 subtrees chosen: the whole tree (depth 1), or one per root side."""
        return 1 if self.depth == 1 else 2

    @property
    def side_width(self) -> int:
        """Columns of one side: ``K`` leaves, then ``S`` splits per class pair."""
        return int(self.n_classes) + len(self.pairs) * self.S

    def _suffix_at(self, kappa):
        """``(n, S)`` rows summing ``U_{j, kappa_ij}`` over features (no term at the end)."""
        n = self.X.shape[0]
        m = np.diff(self.offsets)
        ok = kappa < m[None, :]
        i, j = np.nonzero(ok)
        return sp.csr_matrix(
            (np.ones(i.size), (i, self.offsets[j] + kappa[i, j])), shape=(n, self.S)
        )

    def _prefix_before(self, kappa):
        """``(n, S)`` rows summing ``U_{j,0} - U_{j,kappa_ij}`` over features."""
        n, p = self.X.shape
        m = np.diff(self.offsets)
        has = np.flatnonzero(m > 0)
        i0 = np.repeat(np.arange(n), has.size)
        j0 = np.tile(has, n)
        ok = kappa < m[None, :]
        i1, j1 = np.nonzero(ok)
        M = sp.csr_matrix(
            (
                np.concatenate([np.ones(i0.size), -np.ones(i1.size)]),
                (
                    np.concatenate([i0, i1]),
                    np.concatenate([self.offsets[j0], self.offsets[j1] + kappa[i1, j1]]),
                ),
            ),
            shape=(n, self.S),
        )
        M.sum_duplicates()
        return M

    def _pass_rows(self):
        """``(n, K + Q S)`` on a side's ``x`` and ``(n, Q S)`` on its ``V``: the sum equals 1
        when the chosen depth-1 subtree passes sample ``i`` (every leaf its ball reaches
        predicts ``y_i``), else 0. A leaf ``c`` passes ``y_i = c``; a split ``(j, k)`` with
        classes ``(a, b)`` passes ``y_i = a`` iff the ball cannot go right
        (``k >= kappa^R_ij``), ``y_i = b`` iff it cannot go left (``k < kappa^L_ij``), and no
        other label (the ball reaches a side)."""
        n = self.X.shape[0]
        K, S = int(self.n_classes), self.S
        Px = sp.csr_matrix((np.ones(n), (np.arange(n), self.y)), shape=(n, self.side_width))
        suf = self._suffix_at(self._kappa(1.0))
        pre = self._prefix_before(self._kappa(-1.0))
        blocks = []
        for a, b in self.pairs:
            blocks.append(
                sp.diags((self.y == a).astype(float)) @ suf
                + sp.diags((self.y == b).astype(float)) @ pre
            )
        PV = sp.hstack(blocks, format="csr") if blocks else sp.csr_matrix((n, 0))
        del K, S
        return Px, PV

    def build_program(self) -> Program:
        r"""The MILP (docs/adversarial.md): a root split (depth 2) and one depth-1 subtree per
        side chosen among candidate columns; ``z_i >= rho^d_i - pass^d_i`` per side ``d``."""
        n, p = self.X.shape
        K, S, Q, W = int(self.n_classes), self.S, len(self.pairs), self.side_width
        D = self.n_sides
        prog = Program(f"robust_tree_depth{self.depth}")
        x = prog.var("x", D * W, domain="binary", latex="x")
        V = prog.var("V", D * Q * S, lb=0.0, ub=1.0, latex="V")
        z = prog.var("z", n, lb=0.0, ub=1.0, latex="z")

        def block(d, width, total):  # rows selecting side d of a flat variable
            return sp.csr_matrix(
                (np.ones(width), (np.arange(width), d * width + np.arange(width))),
                shape=(width, total),
            )

        prog.add(sp.kron(sp.eye(D), np.ones((1, W)), format="csr") @ x == 1, name="one_subtree")
        # V: suffix sums of each side's split columns within each feature, per class pair
        B = sp.kron(sp.eye(D * Q), self._suffix_rows(), format="csr")
        split_cols = sp.hstack([sp.csr_matrix((Q * S, K)), sp.eye(Q * S)], format="csr")
        prog.add(B @ V - sp.kron(sp.eye(D), split_cols, format="csr") @ x == 0, name="suffix")
        Px, PV = self._pass_rows()
        passes = [
            Px @ (block(d, W, D * W) @ x) + PV @ (block(d, Q * S, D * Q * S) @ V) for d in range(D)
        ]
        if self.depth == 1:
            prog.add(z + passes[0] >= 1, name="error")
        else:
            a = prog.var("a", S + 1, domain="binary", latex="a")
            U = prog.var("U", S, lb=0.0, ub=1.0, latex="U")
            prog.add(np.ones(S + 1) @ a == 1, name="one_root")
            Ia = sp.hstack([sp.eye(S), sp.csr_matrix((S, 1))], format="csr")
            prog.add(self._suffix_rows() @ U - Ia @ a == 0, name="root_suffix")
            ML, MR = self._reach_mats()
            none = sp.csr_matrix((np.ones(n), (np.arange(n), np.full(n, S))), shape=(n, S + 1))
            prog.add(z - ML @ U - none @ a + passes[0] >= 0, name="error_left")
            prog.add(z - MR @ U + passes[1] >= 0, name="error_right")
            if S:
                # a side splitting on the root's feature past the root's threshold (its outer
                # leaf empty) is excluded: sum_{k' >= k} (left), sum_{k' <= k} (right)
                a0 = Ia @ a
                sumq = sp.kron(np.ones((1, Q)), sp.eye(S), format="csr")
                prog.add(a0 + sumq @ (block(0, Q * S, D * Q * S) @ V) <= 1, name="left_inside")
                r, cc, vv = [], [], []
                for j in range(p):
                    o, e = int(self.offsets[j]), int(self.offsets[j + 1])
                    for k in range(o, e):
                        r.append(k), cc.append(o), vv.append(1.0)
                        if k + 1 < e:
                            r.append(k), cc.append(k + 1), vv.append(-1.0)
                P2 = sp.csr_matrix((vv, (r, cc)), shape=(S, S))
                prog.add(
                    a0 + P2 @ (sumq @ (block(1, Q * S, D * Q * S) @ V)) <= 1, name="right_inside"
                )
        prog.minimize(om_sum(z))
        return prog

    # ------------------------------------------------------------------ trees, points
    def index_of(self, j, t) -> int:
        """Candidate index of threshold ``t`` of feature ``j``."""
        T = self.thresholds[j]
        k = int(np.argmin(np.abs(T - t))) if T.size else 0
        if T.size == 0 or abs(T[k] - t) > 1e-9 * max(1.0, abs(t)):
            raise ValueError(f"threshold {t!r} of feature {j} is not a candidate")
        return int(self.offsets[j]) + k

    def split_of(self, s) -> tuple[int, float] | None:
        """``(feature, threshold)`` of candidate ``s``; None for "none"."""
        if s >= self.S:
            return None
        j = int(np.searchsorted(self.offsets, s, side="right") - 1)
        return j, float(self.thresholds[j][s - self.offsets[j]])

    def _column(self, s, a, b) -> int:
        """A side's column for split ``s`` (``S``: none) with leaf classes ``(a, b)``."""
        if s >= self.S or a == b:
            return int(a)  # every sample to the left leaf, or one class: a leaf
        return int(self.n_classes) + self.pairs.index((int(a), int(b))) * self.S + int(s)

    def _uncolumn(self, col) -> tuple[int, int, int]:
        K = int(self.n_classes)
        if col < K:
            return self.S, int(col), int(col)
        q, s = divmod(int(col) - K, self.S)
        a, b = self.pairs[q]
        return s, a, b

    def values_of(self, splits, leaf_class) -> dict:
        """The program's variables for a full tree: ``splits`` per internal node (candidate
        index, ``S`` = none), ``leaf_class`` per leaf (heap order)."""
        S, Q, W, D = self.S, len(self.pairs), self.side_width, self.n_sides
        splits = [int(v) for v in splits]
        leaf_class = [int(c) for c in leaf_class]
        x = np.zeros((D, W))
        side_nodes = [0] if self.depth == 1 else [1, 2]
        for d, v in enumerate(side_nodes):
            x[d, self._column(splits[v], leaf_class[2 * d], leaf_class[2 * d + 1])] = 1.0
        V = (
            np.concatenate(
                [
                    self._suffix(x[d, self.n_classes + q * S : self.n_classes + (q + 1) * S])
                    for d in range(D)
                    for q in range(Q)
                ]
            )
            if Q * S
            else np.zeros(0)
        )
        out = {"x": x.ravel(), "V": V}
        if self.depth == 2:
            a = np.zeros(S + 1)
            a[splits[0]] = 1.0
            out["a"] = a
            out["U"] = self._suffix(a[:S])
        out["z"] = (~self.correct(splits, leaf_class)).astype(float)
        return out

    def decode(self, values) -> tuple[np.ndarray, np.ndarray]:
        """``(splits, leaf_class)`` of the full tree read from ``a`` and ``x``."""
        x = np.asarray(values["x"], float).reshape(self.n_sides, self.side_width)
        cols = [self._uncolumn(int(c)) for c in x.argmax(axis=1)]
        if self.depth == 1:
            s, a, b = cols[0]
            return np.array([s]), np.array([a, b])
        root = int(np.argmax(np.asarray(values["a"], float)))
        (s1, a1, b1), (s2, a2, b2) = cols
        return np.array([root, s1, s2]), np.array([a1, b1, a2, b2])

    def leaf_reach(self, splits) -> np.ndarray:
        """(n, leaves) bool: which leaves each sample's ball reaches (exact, by leaf boxes)."""
        return np.column_stack([reach(self.X, self.eps, lo, hi) for lo, hi in self._boxes(splits)])

    def _boxes(self, splits):
        p = self.X.shape[1]
        out = []
        for path in _PATHS[self.depth]:
            lo, hi = np.full(p, -np.inf), np.full(p, np.inf)
            empty = False
            for v, side in path:
                sj = self.split_of(int(splits[v]))
                if sj is None:  # "none": every sample to the left
                    empty |= side == 1
                    continue
                j, t = sj
                if side == 0:
                    hi[j] = min(hi[j], t)
                else:
                    lo[j] = max(lo[j], t)
            if empty:
                lo, hi = np.full(p, np.inf), np.full(p, -np.inf)
            out.append((lo, hi))
        return out

    def correct(self, splits, leaf_class) -> np.ndarray:
        """(n,) bool: robustly correct samples of a tree."""
        R = self.leaf_reach(splits)
        ok = np.asarray(leaf_class)[None, :] == self.y[:, None]
        return (~R | ok).all(axis=1)

    def evaluate(self, values) -> tuple[float, float]:
        """``(errors, violation)``: the robust errors of the tree in ``a`` and ``x`` by the
        leaf-box evaluator (numpy, independent of the program's reach and pass sums), and the
        largest violation of integrality, one-hot rows and the inside-side rows."""
        x = np.asarray(values["x"], float).reshape(self.n_sides, self.side_width)
        parts = [x]
        if self.depth == 2:
            parts.append(np.asarray(values["a"], float)[None, :])
        viol = max(
            max(float(np.abs(v - np.round(v)).max(initial=0.0)) for v in parts),
            max(float(np.abs(v.sum(axis=1) - 1).max()) for v in parts),
        )
        splits, leaf_class = self.decode(values)
        if self.depth == 2:
            r = self.split_of(int(splits[0]))
            for v, far in ((1, lambda t, t0: t >= t0), (2, lambda t, t0: t <= t0)):
                ch = self.split_of(int(splits[v]))
                if r is not None and ch is not None and ch[0] == r[0] and far(ch[1], r[1]):
                    viol = max(viol, 1.0)
        return float((~self.correct(splits, leaf_class)).sum()), viol
