"""BinarizedNeuralNetwork: ternary weights, sign activations, trained by one MILP."""

from __future__ import annotations

import numbers
import time
import warnings

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator, encode_classes
from optml._validation import check_bool, check_choice, check_int

#: gap between "active" (pre-activation >= 0) and "inactive" (<= -delta) on the first layer
_DELTA = 1e-3
#: relative gap of the heuristic start's output-layer MILPs: they need a feasible point only
_HEURISTIC_GAP = 0.5


def _check_sizes(h, name="hidden_layer_sizes"):
    if isinstance(h, numbers.Integral):
        h = (h,)
    try:
        h = tuple(h)
    except TypeError:
        raise TypeError(f"{name} must be a tuple of positive integers, got {h!r}") from None
    if not h:
        raise ValueError(f"{name} must be a non-empty tuple of positive integers, got {h!r}")
    return tuple(check_int(f"{name}[{i}]", v, minimum=1) for i, v in enumerate(h))


def _deprecated_gap(est) -> float:
    """``gap_`` of the MILP-trained networks: ``result_.gap``, with a FutureWarning."""
    res = est.result_  # AttributeError before fit, as for any fitted attribute
    warnings.warn(
        f"{type(est).__name__}.gap_ is deprecated and will be removed in the next release; "
        "use result_.gap",
        FutureWarning,
        stacklevel=3,
    )
    return res.gap


class BinarizedNeuralNetwork(ClassifierMixin, ProgramEstimator):
    r"""A binarized neural network (weights and biases in {-1, 0, 1}) trained by MILP.

    Toro Icarte, Illanes, Castro, Cire, McIlraith and Beck (2019), "Training binarized neural
    networks using MIP and CP". Hidden neurons output :math:`+1` when their pre-activation is
    :math:`\ge 0` and :math:`-1` otherwise; the class is the argmax of the output scores. The
    MILP fits every training point with a score margin of 1 and, among such networks,
    minimises the number of nonzero weights (``objective="min_weight"``) or maximises the
    neurons' margins (``objective="max_margin"``). The formulation is
    :func:`optml.formulations.bnn.binarized_network_program`.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(16,)
    objective : {"min_weight", "max_margin"}, default="min_weight"
    allow_errors : bool, default=False
        If False, training data that no network of this shape fits make ``fit`` raise; if
        True, the MILP first minimises the number of misfitted points.
    heuristic_start : bool, default=True
        With one hidden layer, start the MILP from a heuristic network: the ternarised first
        layer of a small scikit-learn MLP (tanh) and, for its hidden signs, the fewest ternary
        output weights that fit every point (a small MILP). Skipped when it finds nothing.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Solver settings (see :meth:`optml.Program.solve`). A time limit returns the incumbent
        with its gap (``result_.gap``).

    Attributes
    ----------
    coefs_ : list of ndarray, shapes (n_in, n_out)
        Ternary weights per layer (scikit-learn's MLP convention).
    intercepts_ : list of ndarray
    n_nonzero_weights_ : int
    train_errors_ : int
        Training points not fitted (0 unless ``allow_errors``).
    classes_, n_features_in_, program_, result_

    Examples
    --------
    >>> import numpy as np
    >>> from optml.nn import BinarizedNeuralNetwork
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]); y = [0, 1, 1, 1]
    >>> bnn = BinarizedNeuralNetwork(hidden_layer_sizes=(1,)).fit(X, y)
    >>> bnn.predict(X).tolist()
    [0, 1, 1, 1]
    """

    def __init__(
        self,
        hidden_layer_sizes=(16,),
        objective="min_weight",
        allow_errors=False,
        heuristic_start=True,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.objective = objective
        self.allow_errors = allow_errors
        self.heuristic_start = heuristic_start
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _validate(self, X, y):
        X, y = validate_data(self, X, y)
        self.classes_, y_idx = encode_classes(self, y)
        check_choice("objective", self.objective, ("min_weight", "max_margin"))
        check_bool("allow_errors", self.allow_errors)
        check_bool("heuristic_start", self.heuristic_start)
        return X, y_idx

    def build_program(self, X, y):
        """The training MILP for ``(X, y)`` (sets ``classes_`` and ``n_features_in_``).

        Returns the :class:`~optml.program.Program`; ``program.metadata`` holds ``"parts"``
        (the handles ``fit`` reads the network from, see
        :func:`optml.formulations.bnn.binarized_network_program`) and ``"delta"``.
        """
        X, y_idx = self._validate(X, y)
        from optml.formulations.bnn import binarized_network_program

        sizes = _check_sizes(self.hidden_layer_sizes)
        self._delta = _DELTA * max(1.0, float(np.abs(X).max(initial=0.0)))
        prog, _ = binarized_network_program(
            X,
            y_idx,
            self.classes_.size,
            sizes,
            self.objective,
            bool(self.allow_errors),
            delta=self._delta,
        )
        prog.metadata["delta"] = self._delta
        return prog

    def fit(self, X, y):
        """Train by MILP. Raises SolveError when no network of this shape fits the data
        (and ``allow_errors`` is False) or when the time limit leaves no incumbent.

        One clock: the heuristic start and the MILP share ``time_limit``; both get the
        estimator's threads, seed and raw ``solver_options``.
        """
        from optml.exceptions import SolveError

        settings = self._settings(mip=True).started()
        prog = self.build_program(X, y)
        parts = prog.metadata["parts"]
        start = None
        if self.heuristic_start:
            Xv, y_idx = self._validate(X, y)
            start = self._heuristic_start(Xv, y_idx, prog, parts, settings)
        try:
            res = self._solve(prog, warm_start=start, mip=True, settings=settings)
        except SolveError as err:
            if self.result_.status == "infeasible":
                raise SolveError(
                    f"no binarized network with hidden_layer_sizes={self.hidden_layer_sizes} "
                    "fits every training point; pass allow_errors=True or more neurons"
                ) from err
            raise
        vals = res.values
        self.coefs_, self.intercepts_ = [], []
        for wp, wn in parts["weights"]:
            W = np.rint(vals[wp.name] - vals[wn.name]).astype(int)  # (out, in + 1)
            self.coefs_.append(W[:, :-1].T.copy())
            self.intercepts_.append(W[:, -1].copy())
        self.n_nonzero_weights_ = int(
            sum(
                np.count_nonzero(c) + np.count_nonzero(b)
                for c, b in zip(self.coefs_, self.intercepts_, strict=True)
            )
        )
        e = parts["errors"]
        self.train_errors_ = 0 if e is None else int(np.rint(vals[e.name]).sum())
        return self

    @property
    def gap_(self) -> float:
        """Deprecated: ``result_.gap``."""
        return _deprecated_gap(self)

    def _heuristic_start(self, X, y_idx, prog, parts, settings):
        """A feasible starting point (dict of variable values) or None; see ``heuristic_start``.

        Its output-layer MILPs run with the fit's settings (clock, threads, options) and a
        budget of 15 % of ``time_limit``; they stop at gap :data:`_HEURISTIC_GAP` since only a
        feasible point is needed.
        """
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        from optml.exceptions import SolverAccuracyWarning
        from optml.formulations.bnn import output_layer_program
        from optml.solve import solve

        sizes = _check_sizes(self.hidden_layer_sizes)
        if len(sizes) != 1:
            return None
        N = X.shape[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mlp = MLPClassifier(sizes, activation="tanh", max_iter=300, random_state=0)
            mlp.fit(X, y_idx)
        W, b = mlp.coefs_[0].T, mlp.intercepts_[0]
        Xa = np.hstack([X, np.ones((N, 1))])
        budget = None
        if settings.time_limit is not None:
            budget = max(1.0, 0.15 * float(settings.time_limit))
            deadline = time.perf_counter() + budget
            if settings.deadline is not None:
                deadline = min(deadline, settings.deadline)
        for q in (0.3, 0.5, 0.7):
            tau = np.quantile(np.abs(W), q, axis=1, keepdims=True)
            W1 = np.hstack(
                [
                    np.sign(W) * (np.abs(W) > tau),
                    (np.sign(b) * (np.abs(b) > np.median(np.abs(b))))[:, None],
                ]
            )
            A = Xa @ W1.T
            if ((A < 0) & (A > -self._delta)).any():
                continue
            Hs = np.where(A >= 0, 1.0, -1.0)
            p2, (wp, wn) = output_layer_program(Hs, y_idx, self.classes_.size)
            sub = settings.for_internal(mip_gap=_HEURISTIC_GAP)
            if budget is not None:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                sub = sub.replace(time_limit=left, deadline=None)
            with warnings.catch_warnings():  # a loose gap is fine: only feasibility matters
                warnings.simplefilter("ignore", SolverAccuracyWarning)
                r2 = solve(p2, backend=self.backend, solver=self.solver, settings=sub)
            if not r2.has_solution or r2.max_violation > 1e-6:
                continue
            W2 = np.rint(r2.values[wp.name] - r2.values[wn.name])
            return self._start_values(prog, parts, W1, W2, A, Hs)
        return None

    def _start_values(self, prog, parts, W1, W2, A, Hs):
        (p1, n1), (p2, n2) = parts["weights"]
        N, h = Hs.shape
        v = {
            p1.name: (W1 > 0) * 1.0,
            n1.name: (W1 < 0) * 1.0,
            p2.name: (W2 > 0) * 1.0,
            n2.name: (W2 < 0) * 1.0,
            parts["u"][0].name: (Hs > 0) * 1.0,
        }
        c = W2[None, :, :h] * Hs[:, None, :]
        v["c2"] = c
        if parts["errors"] is not None:
            v[parts["errors"].name] = np.zeros(N)
        for m in parts["margins"]:
            marg = np.where(Hs > 0, A, -A - self._delta).min(axis=0)
            v[m.name] = np.clip(marg, 0.0, m.ub)
        missing = [k for k in prog.variables if k not in v]
        return None if missing else v

    def decision_function(self, X):
        """Class scores, shape (n_samples, n_classes); for two classes the 1-D difference
        ``score_1 - score_0`` (positive means ``classes_[1]``), as scikit-learn expects."""
        s = self.scores(X)
        return s[:, 1] - s[:, 0] if s.shape[1] == 2 else s

    def scores(self, X):
        """Output scores, shape (n_samples, n_classes)."""
        check_is_fitted(self, "coefs_")
        X = validate_data(self, X, reset=False)
        h = np.asarray(X, dtype=float)
        K = len(self.coefs_)
        for k, (W, b) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            a = h @ W + b
            if k == K - 1:
                return a
            # thresholds halfway into the gap the MILP leaves: immune to solver round-off
            thr = -self._delta / 2 if k == 0 else -0.5
            h = np.where(a >= thr, 1.0, -1.0)
        return h  # pragma: no cover

    def predict(self, X):
        s = self.scores(X)
        return self.classes_[np.argmax(s, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags
