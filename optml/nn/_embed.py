r"""``embed(program, model, x, out)``: a fitted model's prediction as constraints.

Supported: scikit-learn linear models (anything with ``coef_``/``intercept_``: LinearRegression,
Ridge, Lasso, LogisticRegression (decision function), LinearSVC, …) and optml estimators with
``coef_``; DecisionTreeRegressor / DecisionTreeClassifier (``predict_proba``);
RandomForestRegressor / RandomForestClassifier (the average of the trees, one binary per leaf of
every tree); MLPRegressor / MLPClassifier with ReLU (the outputs are the logits for a
classifier) and :class:`~optml.nn.ReLUNetwork`. The formulations are in
:mod:`optml.formulations.embed` and :mod:`optml.formulations.relu`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optml.nn._network import ReLUNetwork


@dataclass(eq=False)
class EmbedCheck:
    """``ok`` when ``out`` equals the model's own prediction at the solution's ``x``."""

    ok: bool
    max_error: float
    x: np.ndarray
    out: np.ndarray
    predicted: np.ndarray

    def __bool__(self) -> bool:
        return self.ok


@dataclass(eq=False)
class Embedding:
    """A model embedded in a program: what was added, and the check after a solve."""

    model: object
    kind: str
    x: object
    out: object
    variables: list = field(default_factory=list)
    n_binaries: int = 0
    bounds: object = None

    def predict(self, x) -> np.ndarray:
        """The model's own prediction at ``x`` (the quantity ``out`` stands for)."""
        return _predict(self.model, self.kind, np.asarray(x, dtype=float).ravel())

    def check(self, result, tol: float = 1e-6) -> EmbedCheck:
        """Compare ``out`` in ``result`` with the model's prediction at ``result``'s ``x``.

        The tolerance is relative to ``max(1, |prediction|)``. Returns an :class:`EmbedCheck`
        (truthy when they agree).
        """
        values = result.values if hasattr(result, "values") else result
        if not values:
            raise ValueError("the result has no solution to check (status not optimal?)")
        xv = np.atleast_1d(np.asarray(self.x.value(values), dtype=float)).ravel()
        ov = np.atleast_1d(np.asarray(self.out.value(values), dtype=float)).ravel()
        pred = np.atleast_1d(self.predict(xv)).ravel()
        err = float(np.abs(pred - ov).max(initial=0.0))
        ok = err <= tol * max(1.0, float(np.abs(pred).max(initial=0.0)))
        return EmbedCheck(ok=ok, max_error=err, x=xv, out=ov, predicted=pred)


def _kind(model) -> str:
    if isinstance(model, ReLUNetwork):
        return "relu"
    name = type(model).__name__
    if hasattr(model, "estimators_") and name.startswith("RandomForest"):
        return "forest"
    if hasattr(model, "tree_"):
        return "tree"
    if hasattr(model, "coefs_") and hasattr(model, "intercepts_"):
        return "mlp"
    if hasattr(model, "coef_"):
        return "linear"
    raise TypeError(
        f"embed does not know how to write a {name} as constraints; supported: linear models "
        "with coef_, DecisionTree*/RandomForest* (scikit-learn), ReLU MLP*, ReLUNetwork, and "
        "optml estimators with coef_ (is the model fitted?)"
    )


def _is_classifier(model) -> bool:
    return hasattr(model, "classes_") and hasattr(model, "predict_proba")


def _tree_arrays(est):
    t = est.tree_
    v = np.asarray(t.value, dtype=float)  # (n_nodes, n_outputs, n_classes)
    if _is_classifier(est):
        if v.shape[1] != 1:
            raise ValueError("multi-output classification trees are not supported")
        v = v[:, 0, :]
        v = v / np.maximum(v.sum(axis=1, keepdims=True), 1e-300)
    else:
        v = v[:, :, 0]
    return (t.children_left, t.children_right, t.feature, t.threshold, v)


def _linear(model):
    C = np.atleast_2d(np.asarray(model.coef_, dtype=float))
    d = np.asarray(getattr(model, "intercept_", 0.0), dtype=float).ravel()
    return C, np.broadcast_to(d, (C.shape[0],)) if d.size in (1, C.shape[0]) else d


def _predict(model, kind, x):
    X = x.reshape(1, -1)
    if kind == "relu":
        return model.forward(x)
    if kind == "mlp":
        if _is_classifier(model):
            return ReLUNetwork.from_sklearn(model).forward(x)
        return np.atleast_1d(model.predict(X)[0])
    if kind == "linear":
        C, d = _linear(model)
        return C @ x + d
    if _is_classifier(model):  # tree or forest
        p = model.predict_proba(X)[0]
        return p
    return np.atleast_1d(model.predict(X)[0])


def embed(
    program,
    model,
    x,
    out,
    *,
    name: str | None = None,
    bounds: str = "interval",
    formulation: str = "bigm",
    backend: str = "auto",
    solver: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    verbose: bool = False,
    solver_options: dict | None = None,
) -> Embedding:
    r"""Add ``out == model(x)`` to ``program`` as linear / mixed-integer constraints.

    Parameters
    ----------
    program : optml.Program
    model : fitted model
        See the module docstring. For a classifier, ``out`` is the decision function of a
        linear model, the class probabilities (``predict_proba``) of a tree or forest, and the
        logits of a ReLU MLP.
    x : Expression of shape (n_features,)
        The model's input; trees and networks need finite bounds on it (from the variables'
        ``lb``/``ub``), from which big-M values and neuron bounds are derived.
    out : Expression
        One entry per model output.
    bounds : {"interval", "lp", "milp"}
        Neuron bounds for a network.
    formulation : {"bigm", "partition"}
        ReLU formulation for a network.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Settings of the bound-tightening solves of a network (``bounds="lp"``/``"milp"``):
        ``time_limit`` covers them all (one clock), ``solver_options`` reach every one
        (``threads``/``seed`` as settings, other keys raw). Unused otherwise.

    Returns
    -------
    Embedding
        With :meth:`Embedding.check`, which compares ``out`` with the model's own prediction
        at a solution.

    Examples
    --------
    >>> import numpy as np, optml as om
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from optml.nn import embed
    >>> X = np.linspace(0, 1, 20).reshape(-1, 1); y = (X[:, 0] - 0.3) ** 2
    >>> tree = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y)
    >>> p = om.Program(); x = p.var("x", shape=1, lb=0, ub=1); out = p.var("out", shape=1)
    >>> emb = embed(p, tree, x, out)
    >>> p.minimize(out[0]); res = p.solve()
    >>> bool(emb.check(res))
    True
    """
    from optml.formulations.embed import add_linear, add_trees
    from optml.formulations.relu import add_relu_network, expression_bounds
    from optml.program import as_expression

    kind = _kind(model)
    xe = as_expression(x).flatten()
    oe = as_expression(out).flatten()
    name = name or f"embed{len(program.constraints)}"
    n_in = getattr(model, "n_features_in_", None)
    if kind == "relu":
        n_in = model.n_inputs
    if n_in is not None and xe.size != n_in:
        raise ValueError(f"the model takes {n_in} features but x has {xe.size} entries")
    emb = Embedding(model=model, kind=kind, x=xe, out=oe)
    if kind == "linear":
        C, d = _linear(model)
        if C.shape[0] != oe.size:
            raise ValueError(f"the model has {C.shape[0]} outputs but out has {oe.size} entries")
        add_linear(program, xe, oe, C, d, name=name)
        return emb
    if kind in ("tree", "forest"):
        ests = [model] if kind == "tree" else list(model.estimators_)
        trees = [_tree_arrays(e) for e in ests]
        zs = add_trees(program, xe, oe, trees, name=name)
        emb.variables = zs
        emb.n_binaries = int(sum(z.size for z in zs))
        return emb
    net = model if kind == "relu" else ReLUNetwork.from_sklearn(model)
    if net.n_outputs != oe.size:
        raise ValueError(f"the network has {net.n_outputs} outputs but out has {oe.size} entries")
    lo, hi = expression_bounds(xe)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise ValueError(
            "embedding a network needs finite bounds on every input: give x finite lb and ub"
        )
    from optml.nn._bounds import compute_bounds
    from optml.nn._solve import call_settings

    bnd = compute_bounds(
        net.weights,
        net.biases,
        lo,
        hi,
        method=bounds,
        formulation=formulation,
        backend=backend,
        solver=solver,
        settings=call_settings(
            time_limit=time_limit,
            mip_gap=mip_gap,
            verbose=verbose,
            solver_options=solver_options,
        ),
    )
    enc = add_relu_network(
        program,
        net.weights,
        net.biases,
        xe,
        bnd.bounds,
        input_bounds=(lo, hi),
        formulation=formulation,
        name=name,
    )
    program.add(oe == enc.output, name=f"{name}_out")
    emb.variables = [la.z for la in enc.layers if la.z is not None]
    emb.n_binaries = enc.n_binaries
    emb.bounds = bnd
    return emb
