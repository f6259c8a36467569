"""Fit-time plumbing of :class:`OptimalClassificationTree`: candidate splits, CART warm start,
the choice of formulation, and reading the tree back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optml.classification._tree_structure import TreeStructure, from_heap
from optml.formulations import tree as ft
from optml.formulations import tree_pairs as fp

_MAX_NNZ = 4e7  # largest flow / OCT split-capacity matrix built at all
_SLOW_NNZ = 5e6  # ... without a time limit
_PAIRS_WORK = 3e9  # largest (roots x children x grandchild columns x patterns) for "auto"
_DP_COLUMNS = 1500  # most threshold columns for the dynamic programming (F x F count tables)


@dataclass(frozen=True)
class TreeSpec:
    """The estimator's parameters the fit-time helpers need (explicit, not the estimator)."""

    max_depth: int
    min_samples_leaf: int
    alpha: float
    formulation: str
    thresholds: object
    initial_tree: str | None
    parity_bound: float | None
    forbidden_features: dict | None
    max_features_per_split: int | None
    has_time_limit: bool
    max_leaf_nodes: int | None = None


@dataclass
class Prep:
    X: np.ndarray
    y: np.ndarray  # class indices
    w: np.ndarray  # objective weight of each sample
    groups: np.ndarray | None
    classes: np.ndarray
    col_feature: np.ndarray
    col_value: np.ndarray
    form: ft.TreeFormulation
    cart_tree: tuple | None  # (node_col, leaf_class) in the formulation's columns
    cart_objective: float | None
    start_values: dict | None
    problem: object = None  # the TreeProblem when the dynamic programming route is taken


def _midpoint(u, t):
    """Candidate threshold (as :func:`optml.data.binarize` computes it) equivalent to ``t``."""
    r = int(np.searchsorted(u, t, side="right")) - 1
    if r < 0 or r >= u.size - 1:
        return None
    m = (u[r] + u[r + 1]) / 2.0
    return m if u[r] < m < u[r + 1] else u[r]


def _fit_cart(est, X, y, w):
    from sklearn.tree import DecisionTreeClassifier

    cart = DecisionTreeClassifier(
        max_depth=est.max_depth,
        min_samples_leaf=est.min_samples_leaf,
        max_leaf_nodes=getattr(est, "max_leaf_nodes", None),
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


def _columns(est, X, y, cart_splits):
    from optml.data import binarize

    _, th = binarize(X, thresholds=est.thresholds)
    feats, vals = list(th.features), list(th.values)
    have = set(zip(feats, vals, strict=True))
    cart_cols = []
    for h, j, t in cart_splits:
        m = _midpoint(np.unique(X[:, j]), t)
        if m is None:
            cart_cols.append((h, None))
            continue
        if (j, m) not in have:
            feats.append(j)
            vals.append(m)
            have.add((j, m))
        cart_cols.append((h, (j, m)))
    feats, vals = np.asarray(feats, dtype=np.int64), np.asarray(vals, dtype=float)
    order = np.lexsort((vals, feats))
    feats, vals = feats[order], vals[order]
    index = {(int(f), float(v)): c for c, (f, v) in enumerate(zip(feats, vals, strict=True))}
    cart_heap = [
        (h, None if fv is None else index[(int(fv[0]), float(fv[1]))]) for h, fv in cart_cols
    ]
    return feats, vals, cart_heap


def _mask(est, X, y, feats, vals, cart_heap, groups):
    d, F = est.max_depth, feats.size
    level = {}
    ff = est.forbidden_features or {}
    p = X.shape[1]
    for lv, js in ff.items():
        if not isinstance(lv, (int, np.integer)) or not 0 <= lv < d:
            raise ValueError(
                f"forbidden_features: depth keys must be integers in [0, {d}), got {lv!r}"
            )
        js = np.asarray(list(js))
        if js.size and (js.dtype.kind not in "iu" or js.min() < 0 or js.max() >= p):
            raise ValueError(
                f"forbidden_features[{lv}] must list feature indices in [0, {p}), got {js.tolist()}"
            )
    for lv in range(d):
        bad = [int(j) for j in ff.get(lv, [])]
        level[lv] = ~np.isin(feats, bad)
    if est.min_samples_leaf == 1 and groups is None:
        keep = ft.boundary_columns(X, y, feats, vals)
        for h, c in cart_heap:
            if c is not None and ft.node_depth(h) == d - 1:
                keep[c] = True
        level[d - 1] = level[d - 1] & keep
    return ft.split_mask(d, F, level)


def _choose(est, data, mask, groups):
    f = est.formulation
    if f != "auto":
        return f
    if groups is not None or est.max_depth > 4 or est.max_leaf_nodes is not None:
        return "flow"
    if est.max_depth == 4:  # columns priced by optimal depth-2 subtrees, when moderate
        return "pairs" if fp.pairs4_fits(data, mask) else "flow"
    return "pairs" if _pairs_work(est.max_depth, data, mask) <= ft_pairs_limit() else "flow"


def _cap_nonzeros(kind, data, mask, feats, built: bool) -> float:
    """Nonzeros of the split-capacity rows: one per (pattern, node, column) for 'oct'; for
    'flow' as built (``built``), whose thresholds of one feature share suffix sums, one per
    (pattern, node, feature) plus three per (node, column). Without a time limit the dense
    count measures what matters, how hard the program is to certify (the suffix sums leave
    the LP relaxation as it was)."""
    P = data.n_patterns
    if kind != "flow" or not built:
        return float(P * mask.sum())
    nodes = mask.shape[0]
    return float(P * nodes * (np.unique(feats).size + 1) + 3 * mask.sum())


def _pairs_work(depth, data, mask) -> float:
    """Arithmetic of the 'pairs' cost tables (inf beyond depth 3)."""
    P = data.n_patterns
    if depth > 3:
        return np.inf
    if depth == 3:
        return float(mask[0].sum() * mask[1].sum() * mask[3].sum() * P)
    return float(mask[0].sum() * (mask[1].sum() if depth == 2 else 1) * P)


def ft_pairs_limit() -> float:
    return _PAIRS_WORK


def prepare(
    est: TreeSpec, X, y, classes, w, groups, settings=None, backend="auto", solver=None, dp=False
) -> Prep:
    """Candidate columns, CART start, formulation; ``settings``/``backend``/``solver`` are
    those of the fit (the parity start solves a small MIP with them, on the fit's clock).

    ``dp=True`` (no parity limit): when the columns fit the dynamic programming's tables,
    build a :class:`~optml.formulations.tree_problem.TreeProblem` (``prep.problem``) instead
    of a program; its program is built only if a general solver needs it."""
    K = classes.size
    cart_splits = _fit_cart(est, X, y, w) if est.initial_tree == "cart" else []
    feats, vals, cart_heap = _columns(est, X, y, cart_splits)
    Xb = (X[:, feats] <= vals[None, :]).astype(float)
    mask = _mask(est, X, y, feats, vals, cart_heap, groups)
    data = ft.aggregate(Xb, y, K, w, groups)
    if dp and groups is None and feats.size <= _DP_COLUMNS:
        return _prepare_dp(est, X, y, w, classes, feats, vals, cart_heap, mask, data)
    kind = _choose(est, data, mask, groups)
    pos = K - 1
    parity = None if groups is None else (pos, float(est.parity_bound))
    args = dict(alpha=float(est.alpha), min_samples_leaf=int(est.min_samples_leaf))
    leaves = {} if est.max_leaf_nodes is None else {"max_leaves": int(est.max_leaf_nodes)}
    if kind == "pairs":
        if parity is not None:
            raise ValueError("formulation='pairs' cannot take parity_bound; use 'flow' or 'oct'")
        if est.max_depth > 4:
            raise ValueError(
                f"formulation='pairs' handles max_depth <= 4, got {est.max_depth}; use 'flow'"
            )
        if est.max_depth == 4:  # the pricing reads the clock; CART's top pairs priced first
            top = {h: c for h, c in cart_heap if h < 3 and c is not None}
            F = data.n_columns
            pairs = [(top[0], top.get(n, F)) for n in (1, 2)] if 0 in top else []
            args = dict(args, deadline=_pricing_deadline(settings, mask), first=pairs)
        form = _build(fp.split_pairs, data, est.max_depth, mask, args)
    elif (nnz := _cap_nonzeros(kind, data, mask, feats, est.has_time_limit)) > (
        _MAX_NNZ if est.has_time_limit else _SLOW_NNZ
    ):
        raise ValueError(
            f"the {kind!r} program would have about {nnz:.2g} nonzeros ({data.n_patterns} "
            f"distinct rows x {int(mask.sum())} (node, threshold) pairs; {feats.size} candidate "
            f"thresholds): too large for the 'pairs' tables and too slow to certify as a MIP. "
            "Pass thresholds=q (quantile bins, e.g. 8)"
            + ("" if est.has_time_limit else ", or a time_limit to accept a gap")
        )
    elif kind == "oct":
        form = _build(ft.oct_binary, data, est.max_depth, mask, dict(args, parity=parity, **leaves))
    else:
        extra = dict(args, parity=parity)
        best = None
        if (
            kind == "flow"
            and not leaves
            and _pairs_work(est.max_depth, data, mask) <= ft_pairs_limit()
        ):
            extra["root_bound"], best = _build(fp.root_values, data, est.max_depth, mask, args)
        extra["col_feature"] = feats  # thresholds of a feature: suffix-sum capacity rows
        form = _build(ft.flow_oct, data, est.max_depth, mask, dict(extra, **leaves))
        form.extra["best_unconstrained"] = best
    form.extra["name"] = kind
    form.extra["positive"] = pos
    form.extra["alpha"] = float(est.alpha)
    prep = Prep(X, y, w, groups, classes, feats, vals, form, None, None, None)
    if cart_splits:
        _cart_start(prep, cart_heap, mask, parity)
    if parity is not None and prep.start_values is None:
        _parity_start(prep, cart_heap, mask, args, parity, settings, backend, solver)
    best = form.extra.get("best_unconstrained")
    if best is not None:  # the root cut's optimal unconstrained tree, if it meets the limits
        labels = best_labels(form, ft.route(form.data.Xd, best, form.depth))
        ok = (
            parity is None
            or abs(_parity_gap(form, ft.route(form.data.Xd, best, form.depth), labels))
            <= parity[1] + 1e-9
        )
        obj = form.objective_of(best, labels)
        if ok and (prep.start_values is None or obj < prep.cart_objective - 1e-9):
            try:
                prep.start_values = form.start(best, labels)
            except ValueError:
                pass
    return prep


def _prepare_dp(est, X, y, w, classes, feats, vals, cart_heap, mask, data) -> Prep:
    from optml.formulations.tree_problem import TreeProblem

    problem = TreeProblem(
        data,
        est.max_depth,
        mask,
        alpha=float(est.alpha),
        min_samples_leaf=int(est.min_samples_leaf),
        formulation="oct" if est.formulation == "oct" else "flow",
        max_leaves=est.max_leaf_nodes,
    )
    form = problem.shell
    form.extra["name"] = "dp"
    prep = Prep(X, y, w, None, classes, feats, vals, form, None, None, None, problem)
    if cart_heap:
        _cart_start(prep, cart_heap, mask, None)
        problem.initial = prep.cart_tree
    return prep


def _pricing_deadline(settings, mask):
    """When the depth-4 ``pairs`` pricing stops: the fit's deadline less what building and
    solving the program take (0.5 s plus 40 us per nonzero: the lowering, and HiGHS's MIP
    presolve, which reads no clock; at most 40 % of the limit)."""
    if settings is None or settings.deadline is None:
        return None
    limit = float(settings.time_limit) if settings.time_limit is not None else 0.0
    nnz = 2.0 * mask[0].sum() * (mask[1].sum() + mask[2].sum())
    return settings.deadline - min(0.4 * limit, 0.5 + 4e-5 * nnz)


def _build(fn, data, depth, mask, args):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return fn(data, depth, mask, **args)
    with threadpool_limits(1, user_api="blas"):  # small matmuls: threads only contend
        return fn(data, depth, mask, **args)


def _cart_start(prep, cart_heap, mask, parity):
    form = prep.form
    d, F = form.depth, form.no_split
    node_col = np.full(ft.n_internal(d), F, dtype=np.int64)
    for h, c in cart_heap:
        if c is None or not mask[h, c]:
            return  # CART uses a split the program does not allow: no warm start
        node_col[h] = c
    leaf = ft.route(form.data.Xd, node_col, d)
    labels = best_labels(form, leaf)
    if parity is not None and abs(_parity_gap(form, leaf, labels)) > parity[1] + 1e-9:
        return
    prep.cart_tree = (node_col, labels)
    prep.cart_objective = form.objective_of(node_col, labels)
    try:
        prep.start_values = form.start(node_col, labels)
    except ValueError:
        prep.start_values = None


def _parity_start(prep, cart_heap, mask, args, parity, settings, backend, solver):
    """A feasible start under a parity limit: CART's splits, labels chosen by a small MIP
    (solved with the fit's settings, at most a tenth of the time left, 10 s without a limit)."""
    from optml.program.settings import SolveSettings
    from optml.solve import solve_program

    form = prep.form
    d, F = form.depth, form.no_split
    node_col = np.full(ft.n_internal(d), F, dtype=np.int64)
    for h, c in cart_heap:
        if c is None or not mask[h, c]:
            return
        node_col[h] = c
    fixed = np.zeros_like(mask)
    fixed[np.arange(node_col.size), node_col] = True
    sub = ft.flow_oct(form.data, d, fixed, parity=parity, **args)
    settings = (SolveSettings() if settings is None else settings).started()
    left = settings.remaining()
    inner = settings.for_internal()
    inner = inner.replace(time_limit=10.0 if left is None else max(0.05, 0.1 * left), deadline=None)
    res = solve_program(sub.program, backend, solver, inner)
    if not res.has_solution:
        return
    _, labels = sub.decode(res.values)
    try:
        prep.start_values = form.start(node_col, labels)
    except ValueError:
        pass


def best_labels(form, leaf):
    L = 2**form.depth
    cnt = np.zeros((L, form.data.n_classes))
    np.add.at(cnt, leaf, form.data.counts)
    return np.argmax(cnt, axis=1)


def _parity_gap(form, leaf, labels):
    d = form.data
    yhat = (labels[leaf] == form.extra["positive"]).astype(float)
    g = d.groups
    r0 = (d.sizes * yhat)[g == 0].sum() / d.sizes[g == 0].sum()
    r1 = (d.sizes * yhat)[g == 1].sum() / d.sizes[g == 1].sum()
    return r0 - r1


def decode(form, values):
    node_col, labels = form.decode(values)
    if form.data.groups is None:  # ties: take the first majority class (objective unchanged)
        leaf = ft.route(form.data.Xd, node_col, form.depth)
        cnt = np.zeros((2**form.depth, form.data.n_classes))
        np.add.at(cnt, leaf, form.data.counts)
        tie = cnt[np.arange(cnt.shape[0]), labels] >= cnt.max(axis=1) - 1e-9
        labels = np.where(tie, np.argmax(cnt, axis=1), labels)
    return node_col, labels


def objective(prep, tree) -> float:
    return prep.form.objective_of(*tree)


def structure(prep, tree) -> TreeStructure:
    form = prep.form
    node_col, labels = tree
    leaf = ft.route(form.data.Xd, node_col, form.depth)[form.data.inverse]
    onehot = np.zeros((prep.y.size, prep.classes.size))
    onehot[np.arange(prep.y.size), prep.y] = prep.w
    ts = from_heap(
        form.depth,
        node_col,
        labels,
        form.no_split,
        prep.col_feature,
        prep.col_value,
        prep.X,
        leaf,
        onehot,
        prep.classes.size,
    )
    internal = ts.children_left != -1
    ts.leaf_class[internal] = np.argmax(ts.value[internal], axis=1)
    return ts
