r"""Robust optimal classification trees of depth 1 or 2 against L-inf feature perturbations
(Vos and Verwer, AAAI 2022), on the one solve path.

The estimator builds a :class:`~optml.formulations.robust_tree.RobustTreeProblem` (kind
``"robust_tree"``): it minimises the samples not robustly correct (see that module). Its default
solver is the exact search ``"robust-tree-search"``
(:mod:`optml.algorithms.robust_tree_search`); ``solver="highs"`` or ``"scip"`` solves the MILP
of the same objective (:meth:`RobustTreeProblem.build_program`). Either answer is certified by
the certificate factory: the tree read from the answer is re-evaluated by the numpy leaf-box
evaluator. Thresholds: one per interval between consecutive breakpoints
:math:`x_{ij} \pm \epsilon_j` (every reach pattern); with ``max_thresholds`` a feature keeps an
evenly spaced subset of them (the answer is then optimal over that subset, and
``thresholds_`` says so).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator, encode_classes
from optml.classification._tree_structure import TreeStructure
from optml.formulations.robust_tree import (
    RobustTreeProblem,
    candidate_thresholds,
    robust_errors,
)


class RobustOptimalTree(ClassifierMixin, ProgramEstimator):
    r"""Depth-1 or depth-2 classification tree, optimal for the worst case over an L-inf ball.

    Maximises the number of training samples that every point of their ball
    :math:`\{x : |x_j - x_{ij}| \le \epsilon_j\}` classifies correctly (Vos and Verwer 2022),
    i.e. minimises the robust errors, over the threshold candidates between the breakpoints
    :math:`x_{ij} \pm \epsilon_j`.

    Parameters
    ----------
    max_depth : {1, 2}, default 2
    eps : float or array of shape (n_features,), default 0.1
        Perturbation radius per feature (in the units of ``X``).
    max_thresholds : int or None, default 32
        Breakpoints kept per feature (evenly spaced subset); None keeps all (exact over all
        trees).
    backend, solver : str
        ``solver=None`` runs the exact search ``"robust-tree-search"``; ``"highs"``/``"scip"``
        solve the MILP of the same objective.
    time_limit : float or None
        Seconds; at the limit the incumbent is returned with its bound and gap.
    mip_gap, verbose, solver_options
        As for every optml estimator.

    Attributes
    ----------
    classes_, tree_ (a :class:`~optml.classification._tree_structure.TreeStructure`),
    problem_, result_ (the certified :class:`~optml.program.Result`; objective = robust errors),
    robust_correct_ : int
        Training samples robustly correct (``n`` minus the objective).
    bound_ : int
        Proven upper bound on the robustly correct samples over the candidate thresholds.
    gap_ : float
        ``(bound_ - robust_correct_) / max(bound_, 1)``.
    status_ : str
        The result's status ("optimal", "time_limit", ...).
    thresholds_ : str
        "all breakpoints" or "subset of breakpoints" (optimality is over that set).
    """

    def __init__(
        self,
        max_depth=2,
        *,
        eps=0.1,
        max_thresholds=32,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.max_depth = max_depth
        self.eps = eps
        self.max_thresholds = max_thresholds
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check(self, p):
        if self.max_depth not in (1, 2):
            raise ValueError(f"max_depth must be 1 or 2, got {self.max_depth!r}")
        e = np.broadcast_to(np.asarray(self.eps, dtype=float), (p,)).copy()
        if not np.isfinite(e).all() or (e < 0).any():
            raise ValueError(f"eps must be finite and >= 0 (per feature), got {self.eps!r}")
        mt = self.max_thresholds
        if mt is not None and (not isinstance(mt, int | np.integer) or mt < 2):
            raise ValueError(f"max_thresholds must be an int >= 2 or None, got {mt!r}")
        return e

    def _problem(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        classes, yi = encode_classes(self, y)
        self.classes_ = classes
        p = X.shape[1]
        e = self._check(p)
        T = [candidate_thresholds(X[:, j], e[j], self.max_thresholds) for j in range(p)]
        full = all(
            T[j].size == np.unique(np.concatenate([X[:, j] - e[j], X[:, j] + e[j]])).size - 1
            for j in range(p)
        )
        self.thresholds_ = "all breakpoints" if full else "subset of breakpoints"
        return RobustTreeProblem(X, e, yi, classes.size, int(self.max_depth), T)

    def build_program(self, X, y):
        """The MILP of the robust objective for ``(X, y)`` (what ``solver="highs"`` solves)."""
        return self._problem(X, y).program

    def fit(self, X, y):
        problem = self._problem(X, y)
        res = self._solve(problem, mip=True)
        n = problem.X.shape[0]
        splits, leaf_class = problem.decode(res.values)
        self.tree_ = _structure(_candidate(problem, splits, leaf_class), problem.n_classes)
        # the objective re-checked by the leaf-box evaluator (numpy) on the pruned tree
        self.robust_errors_ = robust_errors(self.tree_, problem.X, problem.y, problem.eps)
        self.robust_correct_ = int(n - self.robust_errors_)
        bound = res.bound if np.isfinite(res.bound) else 0.0
        self.bound_ = int(n - np.ceil(bound - 1e-6))
        self.gap_ = (self.bound_ - self.robust_correct_) / max(self.bound_, 1)
        self.status_ = res.status
        self.fit_time_ = res.solve_time + res.build_time
        return self

    def _route(self, X):
        t = self.tree_
        node = np.zeros(X.shape[0], int)
        for _ in range(3):
            inner = t.children_left[node] >= 0
            if not inner.any():
                break
            f = t.feature[node[inner]]
            go_left = X[inner, f] <= t.threshold[node[inner]]
            node[inner] = np.where(
                go_left, t.children_left[node[inner]], t.children_right[node[inner]]
            )
        return node

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.classes_[self.tree_.leaf_class[self._route(X)]]


def _candidate(problem, splits, leaf_class):
    """The pruned tree (nested tuple) of a full tree; a node with split "none" sends every
    sample to its left child, so it is replaced by that child."""
    leaf_class = [int(c) for c in leaf_class]

    def sub(v, leaves):  # leaves: heap-order leaf indices under node v (left half first)
        sj = problem.split_of(int(splits[v]))
        half = len(leaves) // 2
        if half == 1:
            kids = [("leaf", leaf_class[leaves[0]]), ("leaf", leaf_class[leaves[1]])]
        else:
            kids = [sub(2 * v + 1, leaves[:half]), sub(2 * v + 2, leaves[half:])]
        if sj is None:
            return kids[0]
        if kids[0] == kids[1] and kids[0][0] == "leaf":
            return kids[0]
        j, t = sj
        if half == 1:
            return ("split", j, t, kids[0][1], kids[1][1])
        return ("root", j, t, kids[0], kids[1])

    return sub(0, list(range(problem.n_leaves)))


def _structure(cand, K) -> TreeStructure:
    """A sklearn-like structure of the winning candidate (node 0 the root)."""
    left, right, feat, thr, cls = [], [], [], [], []

    def add(c):
        i = len(left)
        left.append(-1)
        right.append(-1)
        feat.append(-1)
        thr.append(-2.0)
        cls.append(0)
        if c[0] == "leaf":
            cls[i] = c[1]
            return i
        if c[0] == "split":
            _, j, t, a, b = c
            feat[i], thr[i] = j, t
            left[i] = add(("leaf", a))
            right[i] = add(("leaf", b))
            return i
        _, j, t, cl, cr = c
        feat[i], thr[i] = j, t
        left[i] = add(cl)
        right[i] = add(cr)
        return i

    add(cand)
    m = len(left)
    depth = np.zeros(m, int)
    for i in range(m):
        for ch in (left[i], right[i]):
            if ch >= 0:
                depth[ch] = depth[i] + 1
    return TreeStructure(
        children_left=np.array(left),
        children_right=np.array(right),
        feature=np.array(feat),
        threshold=np.array(thr, float),
        value=np.zeros((m, K)),
        n_node_samples=np.zeros(m, int),
        leaf_class=np.array(cls),
        depth=depth,
    )
