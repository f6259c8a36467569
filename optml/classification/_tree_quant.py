"""The continuous-feature route of :class:`OptimalClassificationTree`: every threshold, solved
by the special solver ``"quant-bnb"`` (:mod:`optml.algorithms.tree_quant_bnb`) on a
:class:`~optml.formulations.tree_continuous.ContinuousTreeProblem`, without binarising.

Taken with ``solver="quant-bnb"``, or by default (``formulation="auto"``, ``backend="auto"``,
``solver=None``) when ``thresholds="all"``, ``max_depth <= 3``, ``min_samples_leaf=1``, no
parity limit, hyperplanes or forbidden features, and the candidate thresholds are more than
the dynamic programming ``"tree-dp"`` takes.
"""

from __future__ import annotations

import numpy as np

from optml.classification import _tree_build as tb
from optml.classification._tree_structure import from_heap
from optml.formulations.tree_continuous import ContinuousTreeProblem, route_continuous

NAME = "quant-bnb"
MAX_DEPTH = 3  # the automatic choice; a named solver takes any depth


def _n_thresholds(X) -> int:
    try:
        A = np.asarray(X)
        if np.iscomplexobj(A):  # refused by the fit's input checks; no probe (cast warning)
            return 0
        A = A.astype(np.float64)
    except (TypeError, ValueError):
        return 0
    if A.ndim != 2 or not np.all(np.isfinite(A)):
        return 0
    S = np.sort(A, axis=0)
    return int((S[1:] > S[:-1]).sum())


def applies(est, X) -> bool:
    """Whether ``fit`` takes this route (see the module docstring)."""
    if est.solver == NAME:
        return True
    if est.solver is not None or est.backend != "auto" or est.formulation != "auto":
        return False
    if est.hyperplanes or est.parity_bound is not None or est.forbidden_features:
        return False
    t = est.thresholds
    if not (isinstance(t, str) and t == "all"):
        return False
    md, msl = est.max_depth, est.min_samples_leaf
    if not isinstance(md, (int, np.integer)) or not 1 <= md <= MAX_DEPTH or msl != 1:
        return False
    return _n_thresholds(X) > tb._DP_COLUMNS


def _refuse(est):
    bad = []
    if est.hyperplanes:
        bad.append("hyperplanes=True")
    if est.parity_bound is not None:
        bad.append("parity_bound")
    if est.forbidden_features:
        bad.append("forbidden_features")
    if est.min_samples_leaf != 1:
        bad.append(f"min_samples_leaf={est.min_samples_leaf}")
    if not (isinstance(est.thresholds, str) and est.thresholds == "all"):
        bad.append(f"thresholds={est.thresholds!r}")
    if est.backend not in ("auto", "optml"):
        bad.append(f"backend={est.backend!r}")
    if bad:
        raise ValueError(
            "solver='quant-bnb' fits axis-aligned trees over every threshold "
            "(thresholds='all', min_samples_leaf=1, no parity limit or forbidden features); "
            f"got {', '.join(bad)}. Use the default solver, or thresholds=q with 'tree-dp'"
        )


def fit(est, X, y, sample_weight, groups, settings):
    """Fit ``est`` on the continuous route; sets the usual fitted attributes."""
    est._check_params()
    _refuse(est)
    X, yi, classes, w, _ = est._validate(X, y, sample_weight, groups)
    est.classes_ = classes
    K = classes.size
    initial = None
    if est._initial_tree() == "cart":
        splits = tb._fit_cart(est, X, yi, w)
        N = 2 ** int(est.max_depth) - 1
        feature = np.full(N, X.shape[1], dtype=np.int64)
        threshold = np.zeros(N)
        for h, j, t in splits:
            feature[h], threshold[h] = j, t
        initial = (feature, threshold)
    problem = ContinuousTreeProblem(
        X, yi, w, K, int(est.max_depth), alpha=float(est.alpha), initial=initial
    )
    cart_obj = None
    if initial is not None:
        cart_obj = problem.objective_of(*initial, problem.labels_for(*initial))
    res = est._solve(problem, mip=True, settings=settings, backend="auto", solver=NAME)
    feature = np.asarray(res.values["feature"], dtype=np.int64)
    threshold = np.asarray(res.values["threshold"], dtype=float)
    labels = problem.labels_for(feature, threshold)
    est.formulation_ = NAME
    est.cart_objective_ = cart_obj
    est.source_ = "mip"
    est.objective_ = problem.objective_of(feature, threshold, labels)
    est.tree_ = structure(problem, feature, threshold, labels, classes.size)
    return est


def structure(problem, feature, threshold, labels, n_classes):
    """The fitted :class:`~optml.classification._tree_structure.TreeStructure`."""
    d = int(problem.depth)
    p = problem.X.shape[1]
    N = 2**d - 1
    leaf = route_continuous(problem.X, feature, threshold, d)
    onehot = np.zeros((problem.X.shape[0], n_classes))
    onehot[np.arange(problem.y.size), problem.y] = problem.weights
    # one "column" per node: its own (feature, threshold)
    node_col = np.where(feature == p, N, np.arange(N))
    ts = from_heap(d, node_col, labels, N, feature, threshold, problem.X, leaf, onehot, n_classes)
    internal = ts.children_left != -1
    ts.leaf_class[internal] = np.argmax(ts.value[internal], axis=1)
    return ts
