r"""Optimal regression trees: certified-optimal fixed-depth trees under squared loss.

:class:`OptimalRegressionTree` finds, among all trees of depth at most ``max_depth`` (and at
most ``max_leaf_nodes`` leaves) with splits from the candidate thresholds, one minimising

.. math::

    \sum_i \omega_i (y_i - \hat y(x_i))^2 + \alpha \cdot \#\text{splits}

with :math:`\hat y` the weighted mean of the leaf, and proves it: by the dynamic programming
``"tree-dp-regression"`` (the default) or, for a general solver, by the MIQP of
:mod:`optml.formulations.tree_regression`.
"""

from __future__ import annotations

import numbers
from types import SimpleNamespace

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator
from optml._data_checks import FLOAT32_MAX, check_frame, check_scale
from optml._validation import check_int, check_nonneg
from optml.classification import _tree_build as tb
from optml.classification._tree_structure import TreeStructure, export_text, from_heap
from optml.exceptions import SolveError
from optml.formulations.tree_data import split_mask
from optml.formulations.tree_regression import RegressionTreeProblem, regression_data

__all__ = ["OptimalRegressionTree"]

#: most threshold columns for the dynamic programming at depth <= 2 (one closed-form solve,
#: its F x F tables built in chunks)
_DP_COLUMNS_SHALLOW = 6000


class OptimalRegressionTree(RegressorMixin, ProgramEstimator):
    r"""Optimal regression tree of bounded depth (squared loss), certified.

    Parameters
    ----------
    max_depth : int, default 2
        Depth of the tree (a split at the root is depth 1).
    min_samples_leaf : int, default 1
        Every leaf holds at least this many training samples.
    alpha : float, default 0.0
        Penalty per split, in units of the (weighted) sum of squared errors.
    max_leaf_nodes : int or None, default None
        At most this many leaves (>= 2).
    thresholds : "all" or int, default "all"
        Candidate split thresholds per feature: ``"all"`` midpoints between consecutive
        distinct values (optimal over every axis-aligned tree), or an int ``q``: at most
        ``q - 1`` quantile thresholds per feature (CART's thresholds are added).
    initial_tree : {"cart", None}, default "cart"
        Start from scikit-learn's ``DecisionTreeRegressor`` of the same depth (an incumbent;
        the fit never returns a worse tree).
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters. ``solver=None`` with ``backend="auto"`` runs the dynamic
        programming ``"tree-dp-regression"``; a general solver (``solver="scip"``) receives the
        MIQP of the same instance.

    Attributes
    ----------
    tree_ : TreeStructure
        The fitted tree; ``value[i, 0]`` is the prediction (weighted mean) of node ``i``.
    result_ : optml.Result
        Status, objective (training objective), bound, gap, times.
    problem_ : RegressionTreeProblem
    objective_ : float
        Training objective of ``tree_`` (weighted SSE + alpha * splits), with numpy.
    cart_objective_ : float or None
        Training objective of the CART start (on the same objective).
    source_ : {"solver", "cart"}

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from optml.regression import OptimalRegressionTree
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = OptimalRegressionTree(max_depth=2, thresholds=8).fit(X, y)
    >>> reg.result_.status
    'optimal'
    """

    def __init__(
        self,
        max_depth: int = 2,
        min_samples_leaf: int = 1,
        alpha: float = 0.0,
        max_leaf_nodes: int | None = None,
        thresholds: str | int = "all",
        initial_tree: str | None = "cart",
        backend: str = "auto",
        solver: str | None = None,
        time_limit: float | None = None,
        mip_gap: float | None = None,
        verbose: bool = False,
        solver_options: dict | None = None,
    ):
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.alpha = alpha
        self.max_leaf_nodes = max_leaf_nodes
        self.thresholds = thresholds
        self.initial_tree = initial_tree
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    # ----------------------------------------------------------------- validation
    def _check_params(self):
        check_int("max_depth", self.max_depth, minimum=1)
        check_int("min_samples_leaf", self.min_samples_leaf, minimum=1)
        check_nonneg("alpha", self.alpha)
        check_max_leaf_nodes(self.max_leaf_nodes)
        t = self.thresholds
        if not (
            t == "all"
            if isinstance(t, str)
            else isinstance(t, numbers.Integral) and not isinstance(t, bool) and t >= 2
        ):
            raise ValueError(f'thresholds must be "all" or an integer >= 2, got {t!r}')
        if self.initial_tree not in ("cart", None):
            raise ValueError(f'initial_tree must be "cart" or None, got {self.initial_tree!r}')
        self._check_common_params()

    def _validate(self, X, y, sample_weight, reset=True):
        check_frame(self, X)
        y_arr = np.asarray(y)
        if y_arr.dtype.kind in "OUS":
            try:
                y_arr.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    "OptimalRegressionTree needs numeric targets y, got values of dtype "
                    f"{y_arr.dtype} (e.g. {y_arr.ravel()[:1].tolist()}); for class labels use "
                    "OptimalClassificationTree"
                ) from None
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64, y_numeric=True)
        check_scale(self, X, limit=FLOAT32_MAX)
        y = np.asarray(y, dtype=np.float64)
        n = X.shape[0]
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if w.shape != (n,) or not np.all(np.isfinite(w)) or (w < 0).any():
            raise ValueError(f"sample_weight must be {n} finite numbers >= 0")
        keep = w > 0
        if not keep.any():
            raise ValueError("all samples have zero weight; give some sample_weight > 0")
        if not keep.all():
            X, y, w = X[keep], y[keep], w[keep]
        return X, y, w

    # -------------------------------------------------------------------- building
    def _dp_route(self) -> bool:
        if self.solver == "tree-dp-regression":
            return True
        return self.solver is None and self.backend == "auto"

    def _prepare(self, X, y, sample_weight=None, reset=True):
        self._check_params()
        X, y, w = self._validate(X, y, sample_weight, reset)
        d = int(self.max_depth)
        cart = _fit_cart(self, X, y, w) if self.initial_tree == "cart" else []
        feats, vals, cart_heap = tb._columns(
            SimpleNamespace(thresholds=self.thresholds), X, y, cart
        )
        limit = _DP_COLUMNS_SHALLOW if d <= 2 else tb._DP_COLUMNS
        if self._dp_route() and feats.size > limit:
            raise ValueError(
                f"{feats.size} candidate thresholds are more than the dynamic programming takes "
                f"at depth {d} ({limit}); pass thresholds=q (quantile bins, e.g. 32)"
            )
        Xb = (X[:, feats] <= vals[None, :]).astype(float)
        data = regression_data(Xb)
        F = feats.size
        initial = None
        if cart_heap and all(c is not None for _, c in cart_heap):
            initial = np.full(2**d - 1, F, dtype=np.int64)
            for h, c in cart_heap:
                initial[h] = c
        elif cart_heap and not any(c is not None for _, c in cart_heap):
            initial = None
        problem = RegressionTreeProblem(
            data,
            y,
            w,
            d,
            split_mask(d, F),
            alpha=float(self.alpha),
            min_samples_leaf=int(self.min_samples_leaf),
            max_leaves=None if self.max_leaf_nodes is None else int(self.max_leaf_nodes),
            initial=initial,
        )
        return SimpleNamespace(X=X, y=y, w=w, feats=feats, vals=vals, problem=problem)

    def build_problem(self, X, y, sample_weight=None) -> RegressionTreeProblem:
        """The :class:`~optml.formulations.tree_regression.RegressionTreeProblem` of this fit
        (kind ``"ort"``): solved by ``"tree-dp-regression"`` or, through its MIQP, by a
        general solver (what ``optml.bench`` compares)."""
        return self._prepare(X, y, sample_weight).problem

    def build_program(self, X, y, sample_weight=None):
        """The MIQP (:func:`~optml.formulations.tree_regression.ort_miqp`) general solvers
        receive for this fit."""
        return self.build_problem(X, y, sample_weight).program

    def fit(self, X, y, sample_weight=None):
        """Fit the tree; see the class docstring."""
        self._check_common_params()
        settings = self._settings(mip=True).started()
        prep = self._prepare(X, y, sample_weight)
        problem = prep.problem
        cart_ok = problem.initial is not None and (
            problem.max_leaves is None or problem.n_splits(problem.initial) < problem.max_leaves
        )
        # a general solver starts from CART's tree (the dynamic programming takes it itself)
        start = problem.values_of(problem.initial) if cart_ok and not self._dp_route() else None
        try:
            res = self._solve(problem, warm_start=start, mip=True, settings=settings)
            node_col = problem.decode(res.values)
            self.objective_ = problem.objective_of(node_col)
        except SolveError:
            if not cart_ok:
                raise
            node_col, self.objective_ = None, np.inf
        self.source_ = "solver"
        self.cart_objective_ = None
        if problem.initial is not None:
            self.cart_objective_ = problem.objective_of(problem.initial)
            if cart_ok and self.cart_objective_ < self.objective_ - 1e-9 * max(1, self.objective_):
                # only when a general solver stopped early: CART's tree, certified by the same
                # factory with the solver's bound
                node_col, self.objective_, self.source_ = (
                    problem.initial,
                    self.cart_objective_,
                    "cart",
                )
                self._recertify(problem, node_col)
            elif not np.isfinite(self.result_.bound):
                self._recertify(problem, node_col, "no bound proved: 0 is the trivial one")
        elif not np.isfinite(self.result_.bound):
            self._recertify(problem, node_col, "no bound proved: 0 is the trivial one")
        self.tree_ = _structure(prep, problem, node_col)
        return self

    def _recertify(self, problem, node_col, note="the CART start is the best tree found"):
        from optml.solve.certificate import gap_tolerance, make_result

        first = self.result_
        values = problem.values_of(node_col)
        check, viol = problem.evaluate(values)
        bound = first.bound if np.isfinite(first.bound) else 0.0
        self.result_ = make_result(
            status=first.status,
            sense=1,
            values=values,
            objective_check=check,
            max_violation=viol,
            bound=max(min(bound, check), 0.0),
            gap_tol=gap_tolerance(True, self._settings(mip=True).mip_gap),
            solver=first.solver,
            backend=first.backend,
            problem_class=first.problem_class,
            build_time=first.build_time,
            solve_time=first.solve_time,
            message=(first.message + "; " + note).strip("; "),
            solver_version=first.solver_version,
            stats=first.stats,
        )

    # ------------------------------------------------------------------ predicting
    def apply(self, X) -> np.ndarray:
        """Index (in ``tree_``) of the leaf each sample ends in."""
        check_is_fitted(self, "tree_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.tree_.apply(X)

    def predict(self, X) -> np.ndarray:
        leaf = self.apply(X)
        return self.tree_.value[leaf, 0]

    def export_text(self, feature_names=None, decimals: int = 2) -> str:
        """The tree as text, in the style of :func:`sklearn.tree.export_text`."""
        check_is_fitted(self, "tree_")
        if feature_names is None:
            feature_names = getattr(self, "feature_names_in_", None)
        if feature_names is not None:
            feature_names = [str(f) for f in feature_names]
            if len(feature_names) != self.n_features_in_:
                raise ValueError(
                    f"feature_names has {len(feature_names)} names, expected {self.n_features_in_}"
                )
        return export_text(self.tree_, None, feature_names, decimals)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        # a depth-2 tree does not reach R^2 > 0.5 on every data set the checks use
        tags.regressor_tags.poor_score = True
        return tags


def check_max_leaf_nodes(L) -> None:
    """``max_leaf_nodes``: None or an integer >= 2 (as scikit-learn's trees)."""
    if L is None:
        return
    if not isinstance(L, numbers.Integral) or isinstance(L, bool) or L < 2:
        raise ValueError(
            f"max_leaf_nodes must be None or an integer >= 2 (a tree with one leaf has no "
            f"split; use a constant model), got {L!r}"
        )


def _fit_cart(est, X, y, w):
    from sklearn.tree import DecisionTreeRegressor

    cart = DecisionTreeRegressor(
        max_depth=est.max_depth,
        min_samples_leaf=est.min_samples_leaf,
        max_leaf_nodes=est.max_leaf_nodes,
        random_state=0,
    )
    cart.fit(X, y, sample_weight=w)
    t = cart.tree_
    splits = []

    def rec(i, h):
        if t.children_left[i] == -1:
            return
        splits.append((h, int(t.feature[i]), float(t.threshold[i])))
        rec(t.children_left[i], 2 * h + 1)
        rec(t.children_right[i], 2 * h + 2)

    rec(0, 0)
    return splits


def _structure(prep, problem, node_col) -> TreeStructure:
    d = int(problem.depth)
    leaf = problem.leaf_of_sample(node_col)
    stats = np.column_stack([prep.w, prep.w * prep.y])
    ts = from_heap(
        d,
        np.asarray(node_col),
        np.zeros(2**d, dtype=np.int64),
        problem.data.n_columns,
        prep.feats,
        prep.vals,
        prep.X,
        leaf,
        stats,
        2,
    )
    W, S = ts.value[:, 0], ts.value[:, 1]
    mean = np.where(W > 0, S / np.where(W > 0, W, 1.0), np.nan)
    # an empty leaf predicts its parent's mean
    parent = np.full(ts.node_count, -1)
    for i in range(ts.node_count):
        if ts.children_left[i] != -1:
            parent[ts.children_left[i]] = parent[ts.children_right[i]] = i
    for i in range(ts.node_count):
        j = i
        while not np.isfinite(mean[i]) and parent[j] >= 0:
            j = parent[j]
            mean[i] = mean[j]
    ts.value = np.nan_to_num(mean, nan=float(np.average(prep.y, weights=prep.w)))[:, None]
    return ts
