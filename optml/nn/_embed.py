r"""``embed(program, model, x, out)``: a fitted model's prediction as constraints.

Supported: scikit-learn linear models (anything with ``coef_``/``intercept_``: LinearRegression,
Ridge, Lasso, LogisticRegression, LinearSVC, LinearSVR, SVC/SVR with ``kernel="linear"``, …) and
optml estimators with ``coef_``; DecisionTreeRegressor / DecisionTreeClassifier
(``predict_proba``); RandomForest* / ExtraTrees* (the average of the trees, one binary per leaf
of every tree); GradientBoosting* and HistGradientBoosting* (the raw prediction: initial value
plus the learning rate times the sum of the leaf values); XGBoost and LightGBM tree ensembles
(read from their dumped trees); scikit-learn ``Pipeline`` of StandardScaler / MinMaxScaler /
MaxAbsScaler / OneHotEncoder / ColumnTransformer / PolynomialFeatures(degree 2, McCormick
relaxation on request) ending in any of
these; MLPRegressor / MLPClassifier with ReLU (the outputs are the logits for a classifier) and
:class:`~optml.nn.ReLUNetwork`. ``output=`` chooses what ``out`` stands for: the decision
function, the class (one-hot binaries of the argmax / sign), the probability of a binary
logistic-link model (piecewise linear, with a proven error bound) or its log-probability (exact
hypograph, exponential cone). The formulations are in :mod:`optml.formulations.embed`,
:mod:`optml.formulations.embed_nonlinear` and :mod:`optml.formulations.relu`.
"""

from __future__ import annotations

import logging
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
    """A model embedded in a program: what was added, and the check after a solve.

    ``output`` is what ``out`` stands for ("decision", "proba", "log_proba", "class");
    ``exact`` is False where a part is a relaxation (McCormick products of polynomial
    features); ``error_bound`` is the proven approximation error of a piecewise-linear
    probability (0 otherwise); ``notes`` say which approximations were made.
    """

    model: object
    kind: str
    x: object
    out: object
    variables: list = field(default_factory=list)
    n_binaries: int = 0
    bounds: object = None
    output: str = "decision"
    exact: bool = True
    error_bound: float = 0.0
    relaxation_gap: float = 0.0
    notes: list = field(default_factory=list)

    def predict(self, x) -> np.ndarray:
        """The model's own answer at ``x`` (the quantity ``out`` stands for)."""
        x = np.asarray(x, dtype=float).ravel()
        if self.kind in ("relu", "mlp"):
            return _predict(self.model, self.kind, x)
        from optml.nn._embed_models import reference

        return reference(self.model, self.output, x, self.out.size)

    def check(self, result, tol: float = 1e-6) -> EmbedCheck:
        """Compare ``out`` in ``result`` with the model's prediction at ``result``'s ``x``.

        The tolerance is ``tol * max(1, |prediction|) + error_bound``. Returns an
        :class:`EmbedCheck` (truthy when they agree).
        """
        values = result.values if hasattr(result, "values") else result
        if not values:
            raise ValueError("the result has no solution to check (status not optimal?)")
        xv = np.atleast_1d(np.asarray(self.x.value(values), dtype=float)).ravel()
        ov = np.atleast_1d(np.asarray(self.out.value(values), dtype=float)).ravel()
        pred = np.atleast_1d(self.predict(xv)).ravel()
        err = float(np.abs(pred - ov).max(initial=0.0))
        ok = err <= tol * max(1.0, float(np.abs(pred).max(initial=0.0))) + self.error_bound
        return EmbedCheck(ok=ok, max_error=err, x=xv, out=ov, predicted=pred)

    def summary(self) -> str:
        """One line: model, output, binaries, exactness."""
        name = type(self.model).__name__
        s = f"{name} ({self.kind}) -> {self.output}: {self.n_binaries} binaries"
        s += ", exact" if self.exact and self.error_bound == 0 else ""
        if self.error_bound:
            s += f", piecewise-linear error <= {self.error_bound:.2g}"
        if not self.exact:
            s += f", RELAXATION (gap <= {self.relaxation_gap:.3g})"
        return s


def _kind(model) -> str:
    from optml.nn._embed_models import model_kind

    return model_kind(model)


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
    output: str | None = None,
    n_pieces: int = 64,
    polynomial: str = "refuse",
) -> Embedding:
    r"""Add ``out == model(x)`` to ``program`` as linear / mixed-integer constraints.

    Parameters
    ----------
    program : optml.Program
    model : fitted model
        See the module docstring. By default ``out`` is a regressor's prediction, the decision
        function of a linear, SVM or boosted classifier (one entry for a binary one), the
        class probabilities (``predict_proba``) of a tree or forest, and the logits of a ReLU
        MLP.
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
    output : {None, "decision", "proba", "log_proba", "class"}
        ``"class"``: ``out`` is the one-hot class (binaries; argmax of the scores, their sign
        for a binary model), compared with ``predict``. ``"proba"``: for a binary model with a
        logistic link (LogisticRegression, GradientBoosting/HistGradientBoosting classifiers,
        XGBoost ``binary:logistic``, LightGBM ``binary``) the probability by ``n_pieces``
        linear pieces (a MILP; ``Embedding.error_bound`` is a proven bound on its error);
        ``out`` has 1 entry (class 1) or 2. ``"log_proba"``: ``out <= log p`` through the
        exponential cone (exact where the program pushes ``out`` up; needs an EXP solver, so a
        model without binaries: linear ones). Tree and forest classifiers give ``"proba"``
        (leaf frequencies, exact) or ``"class"``.
    n_pieces : int
        Pieces of the probability on ``[-8, 8]`` (``output="proba"``; 64 gives an error below
        8e-4).
    polynomial : {"refuse", "mccormick"}
        ``PolynomialFeatures`` products ``x_i x_j`` cannot be stated exactly in a Program
        (no nonconvex quadratic equalities): refuse with a ValueError (default), or relax each
        product by its McCormick envelope (``Embedding.exact`` is then False and
        ``relaxation_gap`` bounds the error of each product).

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
    from optml.nn._embed_models import is_classifier, score
    from optml.program import as_expression

    kind = _kind(model)
    xe = as_expression(x).flatten()
    oe = as_expression(out).flatten()
    name = name or f"embed{len(program.constraints)}"
    n_in = model.n_inputs if kind == "relu" else getattr(model, "n_features_in_", None)
    if n_in is not None and xe.size != n_in:
        raise ValueError(f"the model takes {n_in} features but x has {xe.size} entries")
    if polynomial not in ("refuse", "mccormick"):
        raise ValueError(f"polynomial must be 'refuse' or 'mccormick', got {polynomial!r}")
    outputs = (None, "decision", "proba", "log_proba", "class")
    if output not in outputs:
        raise ValueError(f"output must be one of {outputs[1:]}, got {output!r}")

    def network(m, xin, nm):
        net = m if isinstance(m, ReLUNetwork) else ReLUNetwork.from_sklearn(m)
        return _network(
            program,
            net,
            xin,
            nm,
            bounds,
            formulation,
            backend,
            solver,
            time_limit,
            mip_gap,
            verbose,
            solver_options,
        )

    sc = score(program, model, xe, name, polynomial=polynomial, network=network)
    out_kind = output or ("proba" if sc.what == "proba" else "decision")
    emb = Embedding(
        model=model,
        kind=kind,
        x=xe,
        out=oe,
        variables=list(sc.variables),
        n_binaries=sc.n_binaries,
        bounds=sc.bounds,
        output=out_kind,
        exact=sc.exact,
        relaxation_gap=sc.relaxation_gap,
        notes=list(sc.notes),
    )
    _head(program, model, sc, oe, out_kind, emb, name, n_pieces, is_classifier(model))
    return emb


def _head(program, model, sc, oe, out_kind, emb, name, n_pieces, classifier):
    from optml.formulations.embed_nonlinear import (
        class_selection,
        log_sigmoid_hypograph,
        sigmoid_pwl,
    )

    e = sc.expr
    mname = type(model).__name__
    if out_kind == "class":
        if not classifier:
            raise ValueError(f"output='class' needs a classifier; {mname} has no classes_")
        n_cls = len(model.classes_)
        if oe.size != n_cls:
            raise ValueError(
                f"output='class' gives one-hot classes: out needs {n_cls} entries, has {oe.size}"
            )
        c = class_selection(program, e, name=f"{name}_class")
        program.add(oe == c, name=f"{name}_out")
        emb.variables.append(c)
        emb.n_binaries += c.size
        return
    if out_kind == "decision" or (out_kind == "proba" and sc.what == "proba"):
        if out_kind == "decision" and sc.what == "proba":
            raise ValueError(
                f"a {mname} gives class probabilities (leaf frequencies), not scores: use "
                "output='proba' or 'class'"
            )
        if e.size != oe.size:
            what = "network" if emb.kind in ("relu", "mlp") else "model"
            raise ValueError(f"the {what} has {e.size} outputs but out has {oe.size} entries")
        program.add(oe == e, name=f"{name}_out")
        return
    if sc.logit_scale is None or e.size != 1:
        raise ValueError(
            f"output={out_kind!r} needs a binary classifier with a logistic link "
            "(LogisticRegression, GradientBoosting/HistGradientBoosting classifiers, XGBoost "
            f"binary:logistic, LightGBM binary); {mname} is not one (multi-class softmax "
            "probabilities are not supported: use output='decision' or 'class')"
        )
    if oe.size not in (1, 2):
        raise ValueError(f"out gives p(class 1) (1 entry) or both probabilities (2); has {oe.size}")
    s = sc.logit_scale * e
    if out_kind == "log_proba":
        if oe.size == 2:
            log_sigmoid_hypograph(program, oe[0], -s, name=f"{name}_logp0")
            log_sigmoid_hypograph(program, oe[1], s, name=f"{name}_logp1")
        else:
            log_sigmoid_hypograph(program, oe, s, name=f"{name}_logp1")
        emb.notes.append("out <= log-probability (exponential cone): equal where maximised")
        if emb.n_binaries:
            logging.getLogger("optml").warning(
                "embed: the log-probability of a %s with %d leaf binaries makes a mixed-integer "
                "exponential-cone program (MIEXP), which few solvers take (none of HiGHS, "
                "SCIP through optml's adapters, Clarabel); output='proba' gives a MILP",
                mname,
                emb.n_binaries,
            )
        return
    p, err, nb = sigmoid_pwl(program, s, n_pieces=n_pieces, name=f"{name}_sigmoid")
    if oe.size == 2:
        program.add(oe[0] == 1 - p, name=f"{name}_p0")
        program.add(oe[1] == p, name=f"{name}_p1")
    else:
        program.add(oe == p, name=f"{name}_p1")
    emb.n_binaries += nb
    emb.error_bound = err
    emb.notes.append(f"probability by {nb}-piece linear interpolation, error <= {err:.2g}")


def _network(
    program,
    net,
    xe,
    name,
    bounds,
    formulation,
    backend,
    solver,
    time_limit,
    mip_gap,
    verbose,
    solver_options,
):
    from optml.formulations.relu import add_relu_network, expression_bounds
    from optml.nn._bounds import compute_bounds
    from optml.nn._solve import call_settings

    lo, hi = expression_bounds(xe)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise ValueError(
            "embedding a network needs finite bounds on every input: give x finite lb and ub"
        )
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
    zs = [la.z for la in enc.layers if la.z is not None]
    return enc.output, enc.n_binaries, zs, bnd
