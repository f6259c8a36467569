"""BinarizedNeuralNetwork: ternary weights, sign activations, trained by one MILP."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator, encode_classes
from optml._validation import check_bool, check_choice, check_int

#: gap between "active" (pre-activation >= 0) and "inactive" (<= -delta) on the first layer
_DELTA = 1e-3


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
        Start from gradient training: the gradient baseline's network (a scikit-learn MLP,
        tanh, of the same shape, every layer ternarised per unit), its output layer repaired
        by a small MILP (fewest changes that fit the hidden signs).
    n_starts : int >= 1, default=3
        Gradient-trained candidates of the start (MLP seeds 0, 1, ...): the start is the one
        with the fewest misfitted training points after, then before, its repair (the first
        seed on ties). Later seeds run only while one could be better and the start's share
        of ``time_limit`` allows.
    validation_fraction : float in (0, 1) or None, default=None
        The validation guard (an early stop judged on held-out points): this share of the
        training points (stratified by class) is held out while a first run of the phases on
        the rest (40 % of the time) scores each phase's network on it; the final run on every
        point then returns the network after the last phase whose held-out accuracy is not
        below the gradient start's, still a point of the training program (it fits every
        point), with the training MILP's bound. MILP training fits every training point and
        can overfit; the guard keeps a later phase only where it did not generalise worse.
        None: the best network on the objective.
    validation_folds : int >= 2 or None, default=None
        The cross-validated guard (instead of ``validation_fraction``): the training points are
        dealt into this many stratified folds; for each fold, the phases run on the other
        folds (half of the time left after the gradient start, shared by the folds) and the
        network after each phase is scored on the fold. The final run on every point stops
        after the first phase with the most held-out points right (pooled over the folds): a
        MILP phase replaces the gradient start only where it validated strictly better.
    method : {"hybrid", "mip"}, default="hybrid"
        ``"hybrid"`` (the special solver ``bnn-hybrid``, after Toro Icarte et al.): gradient
        start, a feasibility MILP (fewest misfitted points, stops at the first network that
        fits) when the start misfits points, the per-unit decomposition with the activations
        fixed, then the training MILP from the best network. ``"mip"`` (``bnn-mip``): the
        training MILP from the gradient start. Either returns a network never worse on the
        objective than its start, with the training MILP's bound. ``solver`` names the MILP
        solver of every sub-program (or one of the two special solvers directly).
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
    start_objective_ : float or None
        The gradient start's objective (None: no start); ``result_.stats`` has every phase's
        objective and time, the start's candidates (``start_candidates``: MLP seed, training
        points misfitted before and after the output layer's repair) and ``start_seed``.
    improvement_ : float or None
        How much better than the start the answer is, in the objective's direction (>= 0).
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
        n_starts=3,
        method="hybrid",
        validation_fraction=None,
        validation_folds=None,
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
        self.n_starts = n_starts
        self.method = method
        self.validation_fraction = validation_fraction
        self.validation_folds = validation_folds
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
        check_int("n_starts", self.n_starts, minimum=1)
        vf = self.validation_fraction
        if vf is not None and (
            isinstance(vf, bool) or not isinstance(vf, numbers.Real) or not 0.0 < float(vf) < 1.0
        ):
            raise ValueError(
                f"validation_fraction must be a float in (0, 1) or None, got {vf!r}; "
                "e.g. validation_fraction=0.2 holds out a fifth of the training points"
            )
        if self.validation_folds is not None:
            check_int("validation_folds", self.validation_folds, minimum=2)
            if vf is not None:
                raise ValueError(
                    "validation_fraction and validation_folds are two guards, pass one: got "
                    f"validation_fraction={vf!r} and validation_folds={self.validation_folds!r}"
                )
        return X, y_idx

    def build_problem(self, X, y):
        """The training instance for ``(X, y)`` as a
        :class:`~optml.formulations.bnn.BNNTrainingProblem` (sets ``classes_``,
        ``n_features_in_``); its ``program`` is :meth:`build_program`'s."""
        from optml.algorithms.nn_train import GuardedBNNProblem
        from optml.backends.registry import is_special

        X, y_idx = self._validate(X, y)
        sizes = _check_sizes(self.hidden_layer_sizes)
        self._delta = _DELTA * max(1.0, float(np.abs(X).max(initial=0.0)))
        return GuardedBNNProblem(
            np.asarray(X, dtype=float),
            y_idx,
            int(self.classes_.size),
            sizes,
            self.objective,
            bool(self.allow_errors),
            delta=self._delta,
            heuristic_start=bool(self.heuristic_start),
            n_starts=int(self.n_starts),
            sub_backend=self.backend,
            sub_solver=None if is_special(self.solver) else self.solver,
            validation_fraction=None
            if self.validation_fraction is None
            else float(self.validation_fraction),
            validation_folds=None if self.validation_folds is None else int(self.validation_folds),
        )

    def build_program(self, X, y):
        """The training MILP for ``(X, y)`` (sets ``classes_`` and ``n_features_in_``).

        Returns the :class:`~optml.program.Program`; ``program.metadata`` holds ``"parts"``
        (the handles ``fit`` reads the network from, see
        :func:`optml.formulations.bnn.binarized_network_program`) and ``"delta"``.
        """
        return self.build_problem(X, y).program

    def fit(self, X, y):
        """Train on the solve path (``method``: ``"bnn-hybrid"`` or ``"bnn-mip"``, their
        sub-programs on the estimator's ``backend``/``solver``). Raises SolveError when no
        network of this shape fits the data (and ``allow_errors`` is False) or when the time
        limit leaves no network.

        One clock: the gradient start, every phase and the MILP share ``time_limit``; all get
        the estimator's threads, seed and raw ``solver_options``.
        """
        from optml.backends.registry import is_special
        from optml.exceptions import SolveError

        check_choice("method", self.method, ("hybrid", "mip"))
        settings = self._settings(mip=True).started()
        problem = self.build_problem(X, y)
        name = self.solver if is_special(self.solver) else f"bnn-{self.method}"
        shape = f"hidden_layer_sizes={self.hidden_layer_sizes}"
        try:
            res = self._solve(problem, settings=settings, backend="auto", solver=name)
        except SolveError as err:
            r = self.result_
            if r.status == "infeasible":
                raise SolveError(
                    f"no binarized network with {shape} fits every training point ({r.message}); "
                    "pass allow_errors=True to fit as many points as possible, or use more "
                    "hidden units"
                ) from err
            if not self.allow_errors:
                raise SolveError(
                    f"no binarized network with {shape} that fits every training point was "
                    f"found within time_limit={self.time_limit} (status {r.status!r}); the data "
                    "may not be fittable by this shape: pass allow_errors=True (fits as many "
                    "points as possible), or more hidden units, or a larger time_limit"
                ) from err
            raise
        self.coefs_, self.intercepts_ = [], []
        for W in problem.weights_of(res.values):
            W = W.astype(int)  # (out, in + 1)
            self.coefs_.append(W[:, :-1].T.copy())
            self.intercepts_.append(W[:, -1].copy())
        self.n_nonzero_weights_ = int(
            sum(
                np.count_nonzero(c) + np.count_nonzero(b)
                for c, b in zip(self.coefs_, self.intercepts_, strict=True)
            )
        )
        e = problem.parts["errors"]
        self.train_errors_ = 0 if e is None else int(np.rint(res.values[e.name]).sum())
        st = res.stats
        self.start_objective_ = st.get("start_objective")
        self.improvement_ = (
            None
            if self.start_objective_ is None
            else problem.sense * (self.start_objective_ - res.objective)
        )
        return self

    @property
    def gap_(self) -> float:
        """Deprecated: ``result_.gap``."""
        return _deprecated_gap(self)

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
