r"""Optimal classification trees: certified-optimal fixed-depth trees solved as MILPs.

:class:`OptimalClassificationTree` finds, among all trees of depth at most ``max_depth`` with
splits from the candidate thresholds, one minimising

.. math::

    \sum_i \omega_i \mathbb 1[\hat y(x_i) \ne y_i] + \alpha \cdot \#\text{splits}

(weighted training errors plus a penalty per split), and proves it with the solver's bound.
The programs are in :mod:`optml.formulations.tree` (and :mod:`optml.formulations.tree_octh`
for hyperplane splits).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator, encode_classes
from optml._data_checks import FLOAT32_MAX, SOLVER_MAX, check_frame, check_scale
from optml._validation import check_choice, check_int, check_nonneg
from optml.classification import _tree_build as tb
from optml.classification import _tree_octh as th
from optml.classification._tree_structure import LEAF, TreeStructure, export_text
from optml.exceptions import SolveError
from optml.formulations import tree_pairs as fp
from optml.solve.certificate import gap_tolerance, make_result

_FORMULATIONS = ("auto", "flow", "flow-plain", "oct", "pairs")
_UNSET = "deprecated"


class OptimalClassificationTree(ClassifierMixin, ProgramEstimator):
    r"""Optimal classification tree of bounded depth (OCT / FlowOCT / OCT-H), certified.

    Parameters
    ----------
    max_depth : int, default 2
        Depth of the tree (a split at the root is depth 1).
    min_samples_leaf : int, default 1
        Every leaf holds at least this many training samples.
    alpha : float, default 0.0
        Penalty per split, in units of (weighted) misclassifications.
    hyperplanes : bool, default False
        OCT-H: splits ``w @ x <= b`` on features scaled to [0, 1] (Bertsimas and Dunn, 2017).
    max_features_per_split : int or None, default None
        OCT-H only: at most this many features per hyperplane.
    formulation : {"auto", "flow", "flow-plain", "oct", "pairs"}, default "auto"
        ``"flow"``: FlowOCT (Aghaei, Gómez and Vayanos, 2021) over merged rows, plus (depth
        <= 3, when the tables are small) the cut
        :math:`\text{objective} \ge \sum_f V_f b_{0f}` with :math:`V_f` the best objective
        of a tree with root split :math:`f`; ``"flow-plain"``: without that cut; ``"oct"``:
        Bertsimas--Dunn big-M OCT on binarised splits; ``"pairs"``: the extended formulation
        over the splits of the top two levels (depth <= 4, integral LP relaxation; at depth 4
        each column's cost is the optimum of its depth-2 subtrees, priced exactly). ``"auto"``
        (when the dynamic programming does not apply, e.g. a general solver is named) uses
        ``"pairs"`` when it applies (depth <= 4, no parity limit or leaf budget) and its cost
        tables are small, else ``"flow"``. Ignored (OCT-H) when ``hyperplanes=True``.
    thresholds : "all" or int, default "all"
        Candidate split thresholds per feature: ``"all"`` midpoints between consecutive
        distinct values (optimal over every axis-aligned tree), or an int ``q``: at most
        ``q - 1`` quantile thresholds per feature (the thresholds CART uses are added, so the
        warm start stays feasible).
    initial_tree : {"cart", None}, default "cart"
        Start from scikit-learn's ``DecisionTreeClassifier`` of the same depth; the fit never
        returns a tree worse than it on the training objective (when CART meets the side
        constraints).
    warm_start : {"cart", None}, optional
        Deprecated spelling of ``initial_tree`` (FutureWarning; removed in the next release).
    class_weight : dict, "balanced" or None, default None
        Weights of the classes in the objective (cost-sensitive errors).
    parity_bound : float or None, default None
        Statistical parity: the rates of predicting the positive class (the last of
        ``classes_``) in the two groups given to ``fit(groups=...)`` differ by at most this.
    forbidden_features : dict or None, default None
        ``{depth: [feature indices]}``: features that may not be split on at that depth
        (0 = root).
    max_leaf_nodes : int or None, default None
        At most this many leaves (>= 2): a leaf budget in the dynamic programming, the row
        :math:`\sum_{n,f<F} b_{nf} \le L - 1` in the ``"flow"``/``"oct"`` programs (``"auto"``
        then uses ``"flow"``; ``"pairs"`` and ``hyperplanes=True`` do not take it).
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters (see :class:`optml._base.ProgramEstimator`).

    Attributes
    ----------
    classes_ : ndarray
    tree_ : TreeStructure
        The fitted tree (feature, threshold in original units, children, class counts, leaf
        class), see :meth:`export_text`.
    result_ : optml.Result
        Status, objective (training objective), bound, gap, times.
    program_ : optml.Program
    formulation_ : str
        The formulation used.
    objective_ : float
        Training objective of ``tree_`` (weighted errors + alpha * splits), with numpy.
    cart_objective_ : float or None
        Training objective of the CART warm start.
    source_ : {"mip", "cart"}
        Where ``tree_`` comes from (``"cart"`` when the solve ended without a better tree).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from optml.classification import OptimalClassificationTree
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = OptimalClassificationTree(max_depth=2, thresholds=8).fit(X, y)
    >>> clf.result_.status
    'optimal'
    """

    def __init__(
        self,
        max_depth: int = 2,
        min_samples_leaf: int = 1,
        alpha: float = 0.0,
        hyperplanes: bool = False,
        max_features_per_split: int | None = None,
        formulation: str = "auto",
        thresholds: str | int = "all",
        initial_tree: str | None = "cart",
        warm_start=_UNSET,
        class_weight=None,
        parity_bound: float | None = None,
        forbidden_features: dict | None = None,
        max_leaf_nodes: int | None = None,
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
        self.hyperplanes = hyperplanes
        self.max_features_per_split = max_features_per_split
        self.formulation = formulation
        self.thresholds = thresholds
        self.initial_tree = initial_tree
        self.warm_start = warm_start
        self.class_weight = class_weight
        self.parity_bound = parity_bound
        self.forbidden_features = forbidden_features
        self.max_leaf_nodes = max_leaf_nodes
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    # ----------------------------------------------------------------- validation
    def _initial_tree(self):
        """``initial_tree``, or the deprecated ``warm_start`` spelling (FutureWarning)."""
        if isinstance(self.warm_start, str) and self.warm_start == _UNSET:
            init = self.initial_tree
        else:
            warnings.warn(
                "OptimalClassificationTree(warm_start=...) is deprecated and will be removed in "
                "the next release; use initial_tree='cart' or initial_tree=None",
                FutureWarning,
                stacklevel=3,
            )
            init = self.warm_start
            init = {True: "cart", False: None}.get(init, init) if isinstance(init, bool) else init
        if init not in ("cart", None):
            name = "initial_tree" if self.warm_start == _UNSET else "warm_start"
            raise ValueError(f'{name} must be "cart" or None, got {init!r}')
        return init

    def _spec(self) -> tb.TreeSpec:
        return tb.TreeSpec(
            max_depth=int(self.max_depth),
            min_samples_leaf=int(self.min_samples_leaf),
            alpha=float(self.alpha),
            formulation=self.formulation,
            thresholds=self.thresholds,
            initial_tree=self._initial_tree(),
            parity_bound=None if self.parity_bound is None else float(self.parity_bound),
            forbidden_features=self.forbidden_features,
            max_features_per_split=self.max_features_per_split,
            has_time_limit=self.time_limit is not None,
            max_leaf_nodes=self.max_leaf_nodes,
        )

    def _check_params(self):
        check_int("max_depth", self.max_depth, minimum=1)
        check_int("min_samples_leaf", self.min_samples_leaf, minimum=1)
        check_nonneg("alpha", self.alpha)
        check_choice("formulation", self.formulation, _FORMULATIONS)
        t = self.thresholds
        if not (
            t == "all"
            if isinstance(t, str)
            else isinstance(t, numbers.Integral) and not isinstance(t, bool) and t >= 2
        ):
            raise ValueError(f'thresholds must be "all" or an integer >= 2, got {t!r}')
        pb = self.parity_bound
        if pb is not None and (not isinstance(pb, numbers.Real) or not 0 <= pb <= 1):
            raise ValueError(f"parity_bound must be a number in [0, 1] or None, got {pb!r}")
        k = self.max_features_per_split
        if k is not None and (not isinstance(k, numbers.Integral) or k < 1):
            raise ValueError(f"max_features_per_split must be an integer >= 1 or None, got {k!r}")
        if k is not None and not self.hyperplanes:
            raise ValueError("max_features_per_split applies to hyperplanes=True only")
        from optml.regression._tree import check_max_leaf_nodes

        check_max_leaf_nodes(self.max_leaf_nodes)
        if self.max_leaf_nodes is not None and (self.hyperplanes or self.formulation == "pairs"):
            raise ValueError(
                "max_leaf_nodes is not available with hyperplanes=True or formulation='pairs'; "
                "use formulation='auto', 'flow' or 'oct'"
            )
        ff = self.forbidden_features
        if ff is not None and not isinstance(ff, dict):
            raise TypeError(f"forbidden_features must be a dict {{depth: [features]}}, got {ff!r}")
        self._check_common_params()

    def _validate(self, X, y, sample_weight, groups, reset=True):
        check_frame(self, X)
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64)
        # the warm-start CART copies X to float32; thresholds and hyperplanes are coefficients
        check_scale(self, X, limit=FLOAT32_MAX if not self.hyperplanes else SOLVER_MAX)
        classes, yi = encode_classes(self, y)
        n = X.shape[0]
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if sw.shape != (n,) or not np.all(np.isfinite(sw)) or (sw < 0).any():
            raise ValueError(f"sample_weight must be {n} finite numbers >= 0")
        cw = self._class_weights(classes, yi)
        if self.parity_bound is not None:
            if groups is None:
                raise ValueError("parity_bound needs the protected groups: fit(X, y, groups=g)")
            g = np.asarray(groups).ravel()
            if g.shape != (n,) or not np.isin(g, [0, 1]).all() or np.unique(g).size != 2:
                raise ValueError(
                    "groups must be a 0/1 array with one entry per sample and both groups present"
                )
            groups = g.astype(np.int64)
        else:
            groups = None
        w = sw * cw[yi]
        keep = w > 0  # zero-weight samples do not count: drop them (also from the thresholds)
        if not keep.any():
            raise ValueError("all samples have zero weight; give some sample_weight > 0")
        if not keep.all():
            X, yi, w = X[keep], yi[keep], w[keep]
            groups = None if groups is None else groups[keep]
        return X, yi, classes, w, groups

    def _class_weights(self, classes, yi):
        cw = self.class_weight
        K = classes.size
        if cw is None:
            return np.ones(K)
        if isinstance(cw, str) and cw == "balanced":
            cnt = np.bincount(yi, minlength=K)
            return yi.size / (K * cnt)
        if isinstance(cw, dict):
            return np.array([float(cw.get(c, 1.0)) for c in classes])
        raise ValueError(f'class_weight must be None, "balanced" or a dict, got {cw!r}')

    # -------------------------------------------------------------------- building
    def _prepare(self, X, y, sample_weight=None, groups=None, reset=True, settings=None, dp=False):
        """Validate, binarise, run CART, and build the formulation."""
        self._check_params()
        spec = self._spec()
        X, yi, classes, w, groups = self._validate(X, y, sample_weight, groups, reset)
        if self.hyperplanes:
            if groups is not None:
                raise ValueError("parity_bound is not available with hyperplanes=True")
            if self.forbidden_features:
                raise ValueError("forbidden_features is not available with hyperplanes=True")
            return th.prepare(spec, X, yi, classes, w)
        if settings is None:
            settings = self._settings(mip=True)
        return tb.prepare(
            spec, X, yi, classes, w, groups, settings, self.backend, self.solver, dp=dp
        )

    def _dp_route(self) -> bool:
        """Solve by the dynamic programming ``"tree-dp"``: named as the solver, or the default
        (``formulation="auto"``, ``backend="auto"``, ``solver=None``), without parity limits
        or hyperplane splits."""
        if self.hyperplanes or self.parity_bound is not None:
            return False
        if self.solver == "tree-dp":
            return True
        return self.solver is None and self.backend == "auto" and self.formulation == "auto"

    def build_program(self, X, y, sample_weight=None, groups=None):
        """The :class:`~optml.Program` that :meth:`fit` would solve (to inspect or extend);
        on the dynamic programming route, the FlowOCT program general solvers receive."""
        prep = self._prepare(X, y, sample_weight, groups, dp=self._dp_route())
        if self.hyperplanes:
            return prep.program
        return prep.problem.program if prep.problem is not None else prep.form.program

    def build_problem(self, X, y, sample_weight=None):
        """The :class:`~optml.formulations.tree_problem.TreeProblem` of this fit (kind
        ``"oct"``): solved by ``"tree-dp"`` or, through its FlowOCT program (``"oct"`` with
        ``formulation="oct"``), by a general solver (what ``optml.bench`` compares)."""
        if self.hyperplanes or self.parity_bound is not None:
            raise ValueError("build_problem: hyperplanes and parity_bound need the programs")
        prep = self._prepare(X, y, sample_weight, None, dp=True)
        if prep.problem is None:
            raise ValueError(
                f"build_problem: {prep.col_feature.size} candidate thresholds are more than the "
                f"dynamic programming takes ({tb._DP_COLUMNS}); pass thresholds=q"
            )
        return prep.problem

    def _fit_octh(self, prep, settings):
        self.formulation_ = "oct-h"
        try:
            res = self._solve(prep.program, mip=True, settings=settings)
            tree = th.decode(res.values, prep)
            obj = th.objective(tree, prep)
        except SolveError:
            if prep.cart is None:
                raise
            tree, obj = None, None
        self.source_ = "mip"
        if prep.cart is not None and (obj is None or prep.cart_objective < obj - 1e-9):
            tree, obj, self.source_ = prep.cart, prep.cart_objective, "cart"
        self.cart_objective_ = prep.cart_objective
        return tree, obj

    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the tree by solving the MILP; see the class docstring.

        Parameters
        ----------
        X : array-like (n_samples, n_features)
        y : array-like (n_samples,)
        sample_weight : array-like (n_samples,), optional
        groups : array-like (n_samples,) of 0/1, optional
            Protected groups for ``parity_bound``.
        """
        self._check_common_params()
        settings = self._settings(mip=True).started()  # one clock: CART, starts and the MIP
        from optml.classification import _tree_quant

        # (a leaf budget is not a quant-bnb option: max_leaf_nodes fits take the routes below)
        if self.max_leaf_nodes is None and _tree_quant.applies(self, X):
            return _tree_quant.fit(self, X, y, sample_weight, groups, settings)
        prep = self._prepare(X, y, sample_weight, groups, settings=settings, dp=self._dp_route())
        self.classes_ = prep.classes
        if self.hyperplanes:
            self.tree_, self.objective_ = self._fit_octh(prep, settings)
            return self
        if prep.problem is not None:
            return self._fit_dp(prep, settings)
        form = prep.form
        self.formulation_ = form.extra.get("name", form.kind)
        start = prep.start_values
        partial = form.extra.get("partial", False)  # depth-4 pairs: lower-bound columns left
        if partial:
            start = fp.priced_start(form)
        try:
            res = self._solve(form.program, warm_start=start, mip=True, settings=settings)
            tree = None
            if not partial or fp.priced_only(form, res.values):
                tree = tb.decode(form, res.values)
        except SolveError:
            if prep.cart_tree is None and not partial:
                raise
            tree = None
        if partial and tree is None:
            tree = self._pairs_partial(form)
        self.cart_objective_ = None if prep.cart_tree is None else prep.cart_objective
        self.source_ = "mip"
        obj = None if tree is None else tb.objective(prep, tree)
        if prep.cart_tree is not None and (obj is None or prep.cart_objective < obj - 1e-9):
            tree, obj, self.source_ = prep.cart_tree, prep.cart_objective, "cart"
            self._result_from_cart(form, prep.cart_tree)
        elif not np.isfinite(self.result_.bound):
            self._recertify(form, self.result_.values, "no bound proved: 0 is the trivial one")
        self.objective_ = obj
        self.tree_ = tb.structure(prep, tree)
        return self

    def _fit_dp(self, prep, settings):
        """The dynamic programming route: the TreeProblem to ``"tree-dp"`` (CART's tree as
        its incumbent), or its FlowOCT program to the general solver named."""
        problem = prep.problem
        res = self._solve(problem, mip=True, settings=settings)
        tree = tb.decode(prep.form, res.values)
        self.formulation_ = "dp" if res.solver == "tree-dp" else problem.formulation
        self.cart_objective_ = None if prep.cart_tree is None else prep.cart_objective
        self.source_ = "mip"
        self.objective_ = tb.objective(prep, tree)
        if prep.cart_tree is not None and prep.cart_objective < self.objective_ - 1e-9:
            # only when a general solver stopped early without CART's start
            tree, self.objective_, self.source_ = prep.cart_tree, prep.cart_objective, "cart"
        self.tree_ = tb.structure(prep, tree)
        return self

    def _pairs_partial(self, form):
        """Depth-4 ``pairs`` whose pricing stopped at the time limit, and the program's
        optimum uses a column with a lower-bound cost: the best tree among the exactly priced
        columns, certified with the program's bound (the program is a relaxation)."""
        values = fp.priced_start(form)
        if values is None:
            raise SolveError("OptimalClassificationTree: no priced tree at the time limit")
        cells = form.extra["cells"]
        self._recertify(
            form,
            values,
            f"time limit: depth-2 subtrees priced for {cells.stats['first_columns']} of "
            f"{cells.stats['of']} first columns; the other columns carry lower bounds",
            status="time_limit",
        )
        return tb.decode(form, values)

    def _result_from_cart(self, form, cart_tree):
        """When the CART start beats the solver's point (the solve ended early), the result is
        CART's point in the program's variables, certified by the same factory with the
        solver's bound (0 when it proved none: errors and split penalties are >= 0)."""
        try:
            values = form.start(*cart_tree)
        except ValueError:
            return
        self._recertify(form, values, "the CART start is the best tree found")

    def _recertify(self, form, values, note, status=None):
        """The result for ``values`` from the certificate factory, with the solver's bound or
        0 when it proved none (errors and split penalties are >= 0); ``status`` the solver's
        unless given."""
        first = self.result_
        check, viol = form.program.evaluate(values)
        bound = first.bound if np.isfinite(first.bound) else 0.0
        self.result_ = make_result(
            status=first.status if status is None else status,
            sense=1,
            values=values,
            objective_check=check,
            max_violation=viol,
            bound=max(bound, 0.0),
            gap_tol=gap_tolerance(True, self._settings(mip=True).mip_gap),
            solver=first.solver,
            backend=first.backend,
            problem_class=first.problem_class,
            build_time=first.build_time,
            solve_time=first.solve_time,
            message=_join(first.message, note),
            solver_version=first.solver_version,
            stats=first.stats,
        )

    # ------------------------------------------------------------------ predicting
    def _check_X(self, X):
        check_is_fitted(self, "tree_")
        return validate_data(self, X, reset=False, dtype=np.float64)

    def apply(self, X) -> np.ndarray:
        """Index (in ``tree_``) of the leaf each sample ends in."""
        X = self._check_X(X)
        return self.tree_.apply(X)

    def predict(self, X) -> np.ndarray:
        leaf = self.apply(X)
        return self.classes_[self.tree_.leaf_class[leaf]]

    def predict_proba(self, X) -> np.ndarray:
        """Weighted training class frequencies of the leaf (of its parent if it is empty)."""
        leaf = self.apply(X)
        return self._leaf_proba()[leaf]

    def _leaf_proba(self):
        t = self.tree_
        parent = np.full(t.node_count, -1)
        for i in range(t.node_count):
            if t.children_left[i] != LEAF:
                parent[t.children_left[i]] = parent[t.children_right[i]] = i
        out = np.zeros_like(t.value)
        for i in range(t.node_count):
            j = i
            while t.value[j].sum() <= 0 and parent[j] >= 0:
                j = parent[j]
            tot = t.value[j].sum()
            out[i] = t.value[j] / tot if tot > 0 else 1.0 / t.value.shape[1]
        return out

    def export_text(self, feature_names=None, decimals: int = 2, show_weights: bool = False):
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
        return export_text(self.tree_, self.classes_, feature_names, decimals, show_weights)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


def _join(a: str, b: str) -> str:
    return (a + "; " + b).strip("; ")


__all__ = ["OptimalClassificationTree", "TreeStructure"]
