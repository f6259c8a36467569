"""Readers of fitted models for :func:`optml.nn.embed`: what a model computes, as an affine
expression of leaf binaries / transformed inputs, plus the link to its probabilities.

Supported here: scikit-learn linear models and linear-kernel SVMs, decision trees, random
forests, gradient boosting (``GradientBoosting*``, ``HistGradientBoosting*``), XGBoost and
LightGBM tree ensembles (from their dumped trees), and scikit-learn ``Pipeline`` with scalers and
degree-2 ``PolynomialFeatures`` before any of them. Networks stay in :mod:`optml.nn._embed`.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field

import numpy as np

from optml.formulations.relu import expression_bounds
from optml.program import as_expression, hstack

TREE_KINDS = ("tree", "forest", "boosting", "hist_boosting", "xgboost", "lightgbm")


@dataclass(eq=False)
class Score:
    """The model's raw output as an affine expression of the program's variables."""

    expr: object
    what: str  # "decision" (regression value / classifier scores) or "proba" (tree classifiers)
    logit_scale: float | None = None  # binary model with p(class 1) = sigmoid(scale * score)
    n_binaries: int = 0
    variables: list = field(default_factory=list)
    exact: bool = True
    relaxation_gap: float = 0.0
    notes: list = field(default_factory=list)
    bounds: object = None


def model_kind(model) -> str:
    from optml.nn._network import ReLUNetwork

    if isinstance(model, ReLUNetwork):
        return "relu"
    name = type(model).__name__
    mod = type(model).__module__
    if hasattr(model, "steps") and name == "Pipeline":
        return "pipeline"
    if mod.startswith("xgboost"):
        return "xgboost"
    if mod.startswith("lightgbm"):
        return "lightgbm"
    if name.startswith("HistGradientBoosting") and hasattr(model, "_predictors"):
        return "hist_boosting"
    if name.startswith("GradientBoosting") and hasattr(model, "estimators_"):
        return "boosting"
    if hasattr(model, "estimators_") and name.startswith(("RandomForest", "ExtraTrees")):
        return "forest"
    if hasattr(model, "tree_"):
        return "tree"
    if hasattr(model, "coefs_") and hasattr(model, "intercepts_"):
        return "mlp"
    if hasattr(model, "support_vectors_") and getattr(model, "kernel", "linear") != "linear":
        raise TypeError(
            f"embed does not know how to write a {name} with kernel={model.kernel!r} as "
            "constraints: its "
            "decision function sum_i a_i K(s_i, x) + b is nonlinear in x (an rbf kernel is a sum "
            "of exponentials, which no solver optml drives accepts as an equality); refit with "
            "kernel='linear' or use LinearSVC / LinearSVR"
        )
    try:
        has_coef = hasattr(model, "coef_")
    except Exception:  # noqa: BLE001 - a property that raises means "no linear form"
        has_coef = False
    if has_coef:
        return "linear"
    raise TypeError(
        f"embed does not know how to write a {name} as constraints; supported: linear models "
        "with coef_ (LinearRegression, Ridge, Lasso, LogisticRegression, LinearSVC, SVC/SVR "
        "with kernel='linear', ...), DecisionTree*, RandomForest*/ExtraTrees*, "
        "GradientBoosting*, HistGradientBoosting*, XGBoost and LightGBM models, Pipeline "
        "(scalers, PolynomialFeatures(degree<=2)) ending in one of them, ReLU MLP*, "
        "ReLUNetwork, and optml estimators with coef_ (is the model fitted?)"
    )


def is_classifier(model) -> bool:
    return hasattr(model, "classes_")


def final_estimator(model):
    return model.steps[-1][1] if model_kind(model) == "pipeline" else model


# ------------------------------------------------------------------------- reference values
def reference(model, output: str, x: np.ndarray, n_out: int) -> np.ndarray:
    """The model's own answer at ``x`` for ``output`` (what ``out`` stands for)."""
    with _one_thread():
        return _reference(model, output, x, n_out)


def _reference(model, output: str, x: np.ndarray, n_out: int) -> np.ndarray:
    X = np.asarray(x, dtype=float).reshape(1, -1)
    kind = model_kind(final_estimator(model))
    if output == "class":
        label = model.predict(X)[0]
        classes = list(model.classes_)
        onehot = np.zeros(len(classes))
        onehot[classes.index(label)] = 1.0
        return onehot
    if output in ("proba", "log_proba"):
        P = np.asarray(model.predict_proba(X), dtype=float)[0]
        if n_out == 1 and P.size == 2:
            P = P[1:]
        if output == "log_proba":
            with np.errstate(divide="ignore"):
                return np.log(P)
        return P
    if kind in ("mlp", "relu") and is_classifier(final_estimator(model)):
        from optml.nn._network import ReLUNetwork

        Z = model[:-1].transform(X) if model_kind(model) == "pipeline" else X
        return ReLUNetwork.from_sklearn(final_estimator(model)).forward(Z[0])  # the logits
    if kind == "xgboost":
        return np.atleast_1d(np.asarray(model.predict(X, output_margin=True), float).ravel())
    if kind == "lightgbm":
        return np.atleast_1d(np.asarray(model.predict(X, raw_score=True), float).ravel())
    if is_classifier(model) and hasattr(model, "decision_function"):
        return np.atleast_1d(np.asarray(model.decision_function(X), dtype=float).ravel())
    if hasattr(model, "predict"):
        return np.atleast_1d(np.asarray(model.predict(X), dtype=float).ravel())
    C, d = linear_form(model)  # an optml-style object with coef_ only
    return C @ X[0] + d


# ------------------------------------------------------------------------------- linear
def linear_form(model):
    C = np.atleast_2d(np.asarray(model.coef_, dtype=float))
    d = np.asarray(getattr(model, "intercept_", 0.0), dtype=float).ravel()
    d = np.broadcast_to(d, (C.shape[0],)).copy() if d.size in (1, C.shape[0]) else d
    x_mean = getattr(model, "_x_mean", None)  # PLS: predict centres x first
    if x_mean is not None and np.size(x_mean) == C.shape[1]:
        d = d - C @ np.asarray(x_mean, dtype=float)
    return C, d


def _check_linear(model, C, d):
    """The linear form must reproduce the model's own output (a model whose ``coef_`` does not
    tell the whole story is refused rather than embedded wrong)."""
    if not (hasattr(model, "predict") or hasattr(model, "decision_function")):
        return
    P = np.random.default_rng(0).uniform(-1.0, 1.0, (2, C.shape[1]))
    try:
        ref = _raw_rows(model, P, "linear").reshape(2, -1)
    except Exception:  # noqa: BLE001 - a model that cannot predict on probes: nothing to compare
        return
    mine = P @ C.T + d
    if ref.shape != mine.shape or not np.allclose(ref, mine, rtol=1e-7, atol=1e-8):
        raise ValueError(
            f"embed read coef_/intercept_ of a {type(model).__name__} but they do not reproduce "
            "its own prediction (a transformation inside the model?); it is not supported"
        )


def _linear_score(model, xe) -> Score:
    C, d = linear_form(model)
    name = type(model).__name__
    if hasattr(model, "support_vectors_") and len(getattr(model, "classes_", [])) > 2:
        if getattr(model, "decision_function_shape", "ovr") != "ovo":
            raise ValueError(
                f"a multi-class {name} reports one-vs-rest scores made from one-vs-one votes "
                "(a nonlinear count); embed writes its one-vs-one decision values: refit with "
                "decision_function_shape='ovo'"
            )
    _check_linear(model, C, d)
    scale = None
    if name == "LogisticRegression" and C.shape[0] == 1:
        scale = 1.0
    return Score(expr=C @ xe + d, what="decision", logit_scale=scale)


# -------------------------------------------------------------------------------- trees
def _eval_tree(tree, x, left_strict=False):
    left, right, feature, threshold, values = tree
    i = 0
    while left[i] >= 0:
        v, t = x[int(feature[i])], threshold[i]
        go_left = v < t if left_strict else v <= t
        i = int(left[i]) if go_left else int(right[i])
    return np.asarray(values, dtype=float).reshape(len(left), -1)[i]


def _sk_tree(est, proba=False):
    from optml.nn._embed import _tree_arrays

    if proba:
        return _tree_arrays(est)
    t = est.tree_
    v = np.asarray(t.value, dtype=float)[:, :, 0]
    return (t.children_left, t.children_right, t.feature, t.threshold, v)


def _hgb_tree(predictor):
    nodes = predictor.nodes
    leaf = nodes["is_leaf"].astype(bool)
    if np.any(nodes["is_categorical"][~leaf]):
        raise ValueError(
            "a HistGradientBoosting model with categorical splits (bitsets) is not supported; "
            "refit with numeric features (categorical_features=None)"
        )
    left = np.where(leaf, -1, nodes["left"].astype(np.int64))
    right = np.where(leaf, -1, nodes["right"].astype(np.int64))
    return (
        left,
        right,
        nodes["feature_idx"].astype(int),
        nodes["num_threshold"].astype(float),
        nodes["value"].astype(float).reshape(-1, 1),
    )


def _xgb_trees(model):
    booster = model.get_booster() if hasattr(model, "get_booster") else model
    names = booster.feature_names
    index = {n: j for j, n in enumerate(names)} if names else {}
    trees = []
    for dump in booster.get_dump(dump_format="json"):
        root = json.loads(dump)
        nodes = {}

        def walk(nd, nodes=nodes):
            nodes[int(nd["nodeid"])] = nd
            for ch in nd.get("children", []):
                walk(ch)

        walk(root)
        n = max(nodes) + 1
        left = -np.ones(n, dtype=int)
        right = -np.ones(n, dtype=int)
        feat = np.zeros(n, dtype=int)
        thr = np.zeros(n)
        val = np.zeros((n, 1))
        for i, nd in nodes.items():
            if "leaf" in nd:
                val[i, 0] = float(nd["leaf"])
                continue
            if "categories" in nd or nd.get("split_type") == "categorical":
                raise ValueError(
                    "XGBoost categorical splits are not supported; use numeric features"
                )
            sname = nd["split"]
            feat[i] = index[sname] if sname in index else int(str(sname).lstrip("f"))
            thr[i] = float(nd["split_condition"])
            left[i], right[i] = int(nd["yes"]), int(nd["no"])
        trees.append((left, right, feat, thr, val))
    k = len(getattr(model, "classes_", [])) if is_classifier(model) else 1
    k = k if k > 2 else 1
    try:
        cfg = json.loads(booster.save_config())
        par = int(cfg["learner"]["gradient_booster"]["gbtree_model_param"]["num_parallel_tree"])
        objective = cfg["learner"]["objective"]["name"]
    except (KeyError, ValueError, TypeError):
        par, objective = 1, ""
    groups = [[t for i, t in enumerate(trees) if (i // par) % k == c] for c in range(k)]
    scale = 1.0 if objective == "binary:logistic" else None
    return groups, scale


def _lgbm_trees(model):
    booster = model.booster_ if hasattr(model, "booster_") else model
    dump = booster.dump_model()
    k = int(dump.get("num_class", 1))
    trees = []
    for info in dump["tree_info"]:
        rows = []

        def walk(nd, rows=rows):
            i = len(rows)
            rows.append(None)
            if "leaf_value" in nd or "split_feature" not in nd:
                rows[i] = (-1, -1, 0, 0.0, float(nd.get("leaf_value", 0.0)))
                return i
            if nd.get("decision_type", "<=") != "<=":
                raise ValueError(
                    "LightGBM categorical splits are not supported; use numeric features"
                )
            if nd.get("missing_type") == "Zero":
                raise ValueError(
                    "a LightGBM model with zero_as_missing sends x == 0 the default way; refit "
                    "with zero_as_missing=False"
                )
            lc = walk(nd["left_child"])
            rc = walk(nd["right_child"])
            rows[i] = (lc, rc, int(nd["split_feature"]), float(nd["threshold"]), 0.0)
            return i

        walk(info["tree_structure"])
        a = np.array(rows, dtype=object)
        trees.append(
            (
                a[:, 0].astype(int),
                a[:, 1].astype(int),
                a[:, 2].astype(int),
                a[:, 3].astype(float),
                a[:, 4].astype(float).reshape(-1, 1),
            )
        )
    groups = [[t for i, t in enumerate(trees) if i % k == c] for c in range(k)]
    objective = str(dump.get("objective", ""))
    scale = None
    if objective.startswith("binary"):
        scale = 1.0
        for part in objective.split():
            if part.startswith("sigmoid:"):
                scale = float(part.split(":")[1])
    return groups, scale


def _ensemble(model, kind):
    """(groups of trees per output, weight, offset or None, left_strict, logit_scale)."""
    if kind == "boosting":
        init = model.init_
        if not (isinstance(init, str) or type(init).__name__.startswith("Dummy")):
            raise TypeError(
                "a GradientBoosting model with a fitted init estimator is not supported; refit "
                "with init=None or 'zero'"
            )
        groups = [
            [_sk_tree(e) for e in model.estimators_[:, c]]
            for c in range(model.estimators_.shape[1])
        ]
        scale = None
        if is_classifier(model) and len(model.classes_) == 2:
            scale = 2.0 if getattr(model, "loss", "log_loss") == "exponential" else 1.0
        return groups, float(model.learning_rate), None, False, scale
    if kind == "hist_boosting":
        K = len(model._predictors[0])
        groups = [[_hgb_tree(it[c]) for it in model._predictors] for c in range(K)]
        offset = np.asarray(model._baseline_prediction, dtype=float).ravel()
        scale = 1.0 if is_classifier(model) and len(model.classes_) == 2 else None
        return groups, 1.0, offset, False, scale
    if kind == "xgboost":
        groups, scale = _xgb_trees(model)
        return groups, 1.0, None, True, scale
    groups, scale = _lgbm_trees(model)
    return groups, 1.0, None, False, scale


_CALIBRATED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _fingerprint(groups, weight, offset):
    parts = [float(weight), None if offset is None else tuple(np.ravel(offset))]
    for g in groups:
        for t in g:
            parts.append((len(t[0]), float(np.sum(t[3])), float(np.sum(t[4])), int(np.sum(t[2]))))
    return hash(tuple(parts))


def _calibrate(model, groups, weight, offset, strict, lo, hi, kind):
    """The constant of ``raw = c + weight * sum(trees)`` from the model's own raw output at three
    probe points (the others check that the trees were read right); cached per fitted model."""
    key = _fingerprint(groups, weight, offset)
    try:
        hit = _CALIBRATED.get(model)
    except TypeError:  # not weak-referenceable
        hit = None
    if hit is not None and hit[0] == key:
        return hit[1]
    c = _calibrate_now(model, groups, weight, offset, strict, lo, hi, kind)
    try:
        _CALIBRATED[model] = (key, c)
    except TypeError:
        pass
    return c


def _calibrate_now(model, groups, weight, offset, strict, lo, hi, kind):
    rng = np.random.default_rng(0)
    flo = np.where(np.isfinite(lo), lo, -1.0)
    fhi = np.where(np.isfinite(hi), hi, 1.0)
    P = rng.uniform(flo, fhi, (3, len(lo)))
    raw = _raw_rows(model, P, kind).reshape(3, -1)
    cs = []
    for x, r in zip(P, raw, strict=True):
        sums = np.array([sum(_eval_tree(t, _cast(x, kind), strict)[0] for t in g) for g in groups])
        cs.append(r - weight * sums)
    cs = np.array(cs)
    c = cs[0] if offset is None else np.asarray(offset, float).ravel()
    err = np.abs(cs - c).max()
    if err > 1e-5 * max(1.0, np.abs(cs).max()):
        raise ValueError(
            f"embed read the trees of a {type(model).__name__} but they do not reproduce its raw "
            f"prediction (off by {err:.3g}); options such as early stopping with a best "
            "iteration, dart boosting, random-forest mode or an init model are not supported"
        )
    return c


def _one_thread():
    """Predictions on a handful of rows: one thread (an OpenMP pool on a busy machine costs
    hundreds of milliseconds per call for nothing)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


def _raw_rows(model, X, kind):
    with _one_thread():
        return _raw_rows_now(model, X, kind)


def _raw_rows_now(model, X, kind):
    if kind == "xgboost":
        return np.asarray(model.predict(X, output_margin=True), float)
    if kind == "lightgbm":
        return np.asarray(model.predict(X, raw_score=True), float)
    if is_classifier(model):
        return np.asarray(model.decision_function(X), float)
    return np.asarray(model.predict(X), float)


def _cast(x, kind):
    if kind in ("boosting", "tree", "forest", "xgboost"):
        return x.astype(np.float32).astype(float)
    return x


def _tree_score(program, model, kind, xe, name) -> Score:
    from optml.formulations.embed import tree_sum

    lo, hi = expression_bounds(xe)
    if kind in ("tree", "forest"):
        ests = [model] if kind == "tree" else list(model.estimators_)
        proba = is_classifier(model)
        trees = [_sk_tree(e, proba=proba) for e in ests]
        n_out = np.asarray(trees[0][4]).reshape(len(trees[0][0]), -1).shape[1]
        expr, zs, _ = tree_sum(program, xe, trees, n_out, name=name)
        return Score(
            expr=expr,
            what="proba" if proba else "decision",
            variables=zs,
            n_binaries=int(sum(z.size for z in zs)),
        )
    groups, weight, offset, strict, scale = _ensemble(model, kind)
    c = _calibrate(model, groups, weight, offset, strict, lo, hi, kind)
    parts, zs = [], []
    for k, g in enumerate(groups):
        e, z, _ = tree_sum(
            program,
            xe,
            g,
            1,
            weights=weight,
            offset=c[k],
            name=f"{name}_c{k}" if len(groups) > 1 else name,
            left_strict=strict,
        )
        parts.append(e)
        zs += z
    expr = parts[0] if len(parts) == 1 else hstack(parts)
    return Score(
        expr=expr,
        what="decision",
        logit_scale=scale,
        variables=zs,
        n_binaries=int(sum(z.size for z in zs)),
    )


# ---------------------------------------------------------------------------- pipelines
def _transform(program, step, xe, name, polynomial, notes):
    """``(expression, exact, relaxation_gap, variables)`` of one pipeline step."""
    sname = type(step).__name__
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return xe, True, 0.0, []
    if sname == "StandardScaler":
        mean = np.zeros(xe.size) if step.mean_ is None else np.asarray(step.mean_, float)
        scale = np.ones(xe.size) if step.scale_ is None else np.asarray(step.scale_, float)
        return np.diag(1.0 / scale) @ xe - mean / scale, True, 0.0, []
    if sname == "MinMaxScaler":
        if getattr(step, "clip", False):
            raise ValueError("MinMaxScaler(clip=True) is not supported; refit with clip=False")
        return (
            np.diag(np.asarray(step.scale_, float)) @ xe + np.asarray(step.min_, float),
            True,
            0.0,
            [],
        )
    if sname == "MaxAbsScaler":
        return np.diag(1.0 / np.asarray(step.scale_, float)) @ xe, True, 0.0, []
    if sname == "PolynomialFeatures":
        from optml.formulations.embed_nonlinear import product_envelope

        P = np.asarray(step.powers_, dtype=int)
        if P.sum(axis=1).max(initial=0) > 2:
            raise ValueError("PolynomialFeatures of degree > 2 is not supported by embed")
        cols, gap, vars_ = [], 0.0, []
        for r, row in enumerate(P):
            idx = np.flatnonzero(row)
            if row.sum() == 0:
                cols.append(as_expression(np.ones(1)))
            elif row.sum() == 1:
                cols.append(xe[int(idx[0])].reshape(1))
            else:
                if polynomial != "mccormick":
                    raise ValueError(
                        "PolynomialFeatures makes products x_i x_j, which a Program cannot state "
                        "exactly (it holds linear, convex-cone and integer constraints; no "
                        "nonconvex quadratic equalities); pass polynomial='mccormick' for the "
                        "McCormick relaxation (Embedding.exact is then False) or use "
                        "interaction-free features"
                    )
                i, j = (int(idx[0]), int(idx[0])) if len(idx) == 1 else (int(idx[0]), int(idx[1]))
                w, g = product_envelope(program, xe[i], xe[j], name=f"{name}_poly{r}")
                cols.append(w)
                vars_.append(w)
                gap = max(gap, g)
        if gap > 0:
            notes.append(f"PolynomialFeatures products relaxed by McCormick (gap <= {gap:.3g})")
        return hstack(cols), gap == 0.0, gap, vars_
    if sname == "OneHotEncoder":
        return _one_hot(program, step, xe, name)
    if sname == "ColumnTransformer":
        return _column_transformer(program, step, xe, name, polynomial, notes)
    raise TypeError(
        f"embed does not know the pipeline step {sname}; supported: StandardScaler, "
        "MinMaxScaler, MaxAbsScaler, PolynomialFeatures(degree<=2), OneHotEncoder (numeric "
        "categories), ColumnTransformer of these, 'passthrough'"
    )


def _one_hot(program, step, xe, name):
    r"""Exact: binaries :math:`b_{fk}`, :math:`\sum_k b_{fk} = 1`,
    :math:`x_f = \sum_k c_{fk} b_{fk}` (``x_f`` takes one of the fitted categories); the
    features are the ``b`` less the dropped category."""
    if getattr(step, "_infrequent_enabled", False):
        raise ValueError("OneHotEncoder with infrequent categories is not supported")
    drop = getattr(step, "drop_idx_", None)
    cols, vars_ = [], []
    for f, cats in enumerate(step.categories_):
        try:
            c = np.asarray(cats, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                "OneHotEncoder categories must be numbers to be values of a program's "
                f"variable; column {f} has {list(cats)[:3]}..., encode them as integers"
            ) from None
        b = program.var(f"{name}_cat{f}", shape=len(c), domain="binary")
        program.add(b.sum() == 1, name=f"{name}_cat{f}_one")
        program.add(xe[f] == c @ b, name=f"{name}_cat{f}_value")
        vars_.append(b)
        d = None if drop is None or drop[f] is None else int(drop[f])
        keep = [k for k in range(len(c)) if k != d]
        cols.append(np.eye(len(c))[keep] @ b)
    return hstack(cols), True, 0.0, vars_


def _columns(spec, n):
    idx = np.arange(n)
    if isinstance(spec, slice):
        return idx[spec]
    a = np.asarray(spec)
    if a.dtype == bool:
        return idx[a]
    if a.dtype.kind in "iu":
        return idx[a.ravel()]
    raise ValueError(
        "ColumnTransformer columns must be integer positions, slices or masks (a model fitted "
        "on a DataFrame names them: refit on an array)"
    )


def _column_transformer(program, ct, xe, name, polynomial, notes):
    parts, exact, gap, vars_ = [], True, 0.0, []
    for tname, trans, spec in ct.transformers_:
        cols = _columns(spec, xe.size)
        if (isinstance(trans, str) and trans == "drop") or cols.size == 0:
            continue
        sub = np.eye(xe.size)[cols] @ xe
        if isinstance(trans, str) and trans == "passthrough":
            parts.append(sub)
            continue
        e, ok, g, v = _transform(program, trans, sub, f"{name}_{tname}", polynomial, notes)
        parts.append(e.flatten())
        exact, gap, vars_ = exact and ok, max(gap, g), vars_ + v
    return hstack(parts), exact, gap, vars_


def score(program, model, xe, name, *, polynomial="refuse", network=None) -> Score:
    """The raw output of ``model`` at the affine input ``xe``; ``network(net_model, xe, name)``
    embeds a ReLU network and returns ``(expr, n_binaries, variables, bounds)``."""
    kind = model_kind(model)
    if kind == "pipeline":
        exact, gap, notes, extra = True, 0.0, [], []
        for sname, step in model.steps[:-1]:
            xe, ok, g, v = _transform(program, step, xe, f"{name}_{sname}", polynomial, notes)
            exact, gap = exact and ok, max(gap, g)
            extra += v
        inner = score(
            program, model.steps[-1][1], xe.flatten(), name, polynomial=polynomial, network=network
        )
        inner.exact = inner.exact and exact
        inner.relaxation_gap = max(inner.relaxation_gap, gap)
        inner.variables = extra + list(inner.variables)
        inner.n_binaries += int(sum(v.size for v in extra if v.is_integer))
        inner.notes = notes + inner.notes
        return inner
    if kind == "linear":
        return _linear_score(model, xe)
    if kind in TREE_KINDS:
        return _tree_score(program, model, kind, xe, name)
    expr, nb, variables, bnd = network(model, xe, name)
    return Score(expr=expr, what="decision", n_binaries=nb, variables=variables, bounds=bnd)
