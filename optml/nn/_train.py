"""MIPNetworkClassifier: a one-hidden-layer ReLU network trained to global optimality by MILP."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator, encode_classes
from optml._validation import check_bool, check_choice, check_positive
from optml.nn._bnn import _check_sizes, _deprecated_gap


class MIPNetworkClassifier(ClassifierMixin, ProgramEstimator):
    r"""A tiny ReLU network with bounded weights, trained to global optimality by MILP.

    After Thorbjarnarson and Yorke-Smith (2021), "On training neural networks with mixed
    integer programming". One hidden layer of ReLU units; every weight and bias lies in
    ``[-weight_bound, weight_bound]``. The loss is the hinge loss (Crammer–Singer for more than
    two classes) or the zero-one loss (points with a class margin below ``margin`` count as
    errors). For two classes the MILP is exact over all such networks (positive homogeneity of
    ReLU lets the output weights be :math:`\pm B`); for more classes the output weights are
    restricted to :math:`\{-B, 0, B\}`. Formulation:
    :func:`optml.formulations.bnn.relu_training_program`.

    Parameters
    ----------
    hidden_layer_sizes : tuple of one int, default=(3,)
    loss : {"hinge", "zero_one"}, default="hinge"
    weight_bound : float > 0, default=1.0
    margin : float > 0, default=1e-3
        Zero-one loss: the class score must win by at least this much to count as correct
        (keeps the MILP's verdict and the numpy prediction the same despite round-off).
    heuristic_start : bool, default=True
        Start the MILP from a scikit-learn ReLU MLP mapped into the weight box (positive
        homogeneity), its output layer re-optimised by a small MILP (the special solver
        ``relu-mip``); the answer is never worse than that start.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Solver settings of the training MILP; one clock for the start and the MILP; a time
        limit returns the incumbent with its gap (``result_.gap``).

    Attributes
    ----------
    coefs_, intercepts_ : lists of ndarray
        scikit-learn's MLP convention (``coefs_[0]`` of shape (n_features, n_hidden)).
    loss_ : float
        Training loss (sum over points) of the returned network, recomputed with numpy.
    start_objective_, improvement_ : float or None
        The gradient start's loss and how much lower the answer's is.
    classes_, n_features_in_, program_, result_
    """

    def __init__(
        self,
        hidden_layer_sizes=(3,),
        loss="hinge",
        weight_bound=1.0,
        margin=1e-3,
        heuristic_start=True,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.loss = loss
        self.weight_bound = weight_bound
        self.margin = margin
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
        check_choice("loss", self.loss, ("hinge", "zero_one"))
        check_positive("weight_bound", self.weight_bound)
        check_positive("margin", self.margin)
        sizes = _check_sizes(self.hidden_layer_sizes)
        if len(sizes) != 1:
            raise ValueError(
                f"MIPNetworkClassifier trains one hidden layer, got hidden_layer_sizes={sizes}; "
                "pass a single size such as (3,)"
            )
        return X, y_idx, sizes[0]

    def build_problem(self, X, y):
        """The training instance for ``(X, y)`` as a
        :class:`~optml.formulations.bnn.ReLUTrainingProblem` (sets ``classes_``,
        ``n_features_in_``); its ``program`` is :meth:`build_program`'s."""
        from optml.backends.registry import is_special
        from optml.formulations.bnn import ReLUTrainingProblem

        X, y_idx, H = self._validate(X, y)
        return ReLUTrainingProblem(
            np.asarray(X, dtype=float),
            y_idx,
            int(self.classes_.size),
            H,
            self.loss,
            float(self.weight_bound),
            float(self.margin),
            heuristic_start=bool(self.heuristic_start),
            sub_backend=self.backend,
            sub_solver=None if is_special(self.solver) else self.solver,
        )

    def build_program(self, X, y):
        """The training MILP for ``(X, y)`` (sets ``classes_`` and ``n_features_in_``).

        Returns the :class:`~optml.program.Program`; ``program.metadata["parts"]`` holds the
        handles ``fit`` reads the network from (see
        :func:`optml.formulations.bnn.relu_training_program`), ``metadata["y_idx"]`` the
        classes as indices into ``classes_``.
        """
        return self.build_problem(X, y).program

    def fit(self, X, y):
        """Train on the solve path: the special solver ``"relu-mip"`` (gradient start, then
        the training MILP on the estimator's ``backend``/``solver``), one clock for both."""
        from optml.backends.registry import is_special

        check_bool("heuristic_start", self.heuristic_start)
        problem = self.build_problem(X, y)
        prog = problem.program
        parts = prog.metadata["parts"]
        settings = self._settings(mip=True).started()
        name = self.solver if is_special(self.solver) else "relu-mip"
        res = self._solve(problem, settings=settings, backend="auto", solver=name)
        v = res.values
        B = float(self.weight_bound)
        W = np.clip(v["W"], -B, B)
        b = np.clip(np.atleast_1d(v["b"]), -B, B)
        if self.classes_.size == 2:
            out = B * np.where(v["sign"] > 0.5, 1.0, -1.0).reshape(-1, 1)
        else:
            tp, tn = parts["t"]
            out = B * np.rint(v[tp.name] - v[tn.name]).T  # (H, K)
        c = np.clip(np.atleast_1d(v["c"]), -B, B)
        self.coefs_ = [W.T.copy(), out]
        self.intercepts_ = [b, c]
        Xv = np.asarray(validate_data(self, X, reset=False), dtype=float)
        self.loss_ = self._loss_value(Xv, prog.metadata["y_idx"])
        self.start_objective_ = res.stats.get("start_objective")
        self.improvement_ = (
            None if self.start_objective_ is None else self.start_objective_ - res.objective
        )
        return self

    @property
    def gap_(self) -> float:
        """Deprecated: ``result_.gap``."""
        return _deprecated_gap(self)

    def _loss_value(self, X, y_idx) -> float:
        F = self.decision_function(X).reshape(X.shape[0], -1)
        if F.shape[1] == 1:
            yf = np.where(y_idx == 1, 1.0, -1.0) * F[:, 0]
            return float(
                np.maximum(0, 1 - yf).sum()
                if self.loss == "hinge"
                else (yf < self.margin - 1e-9).sum()
            )
        fy = F[np.arange(len(F)), y_idx]
        G = F - fy[:, None]
        G[np.arange(len(F)), y_idx] = -np.inf
        worst = G.max(axis=1)
        if self.loss == "hinge":
            return float(np.maximum(0, 1 + worst).sum())
        return float((-worst < self.margin - 1e-9).sum())

    def to_network(self):
        """The trained network as a :class:`~optml.nn.ReLUNetwork` (to verify or embed it)."""
        from optml.nn._network import ReLUNetwork

        check_is_fitted(self, "coefs_")
        return ReLUNetwork([c.T for c in self.coefs_], self.intercepts_, classes=self.classes_)

    def decision_function(self, X):
        check_is_fitted(self, "coefs_")
        X = np.asarray(validate_data(self, X, reset=False), dtype=float)
        h = np.maximum(X @ self.coefs_[0] + self.intercepts_[0], 0.0)
        F = h @ self.coefs_[1] + self.intercepts_[1]
        return F[:, 0] if F.shape[1] == 1 else F

    def predict(self, X):
        F = self.decision_function(X)
        idx = (F > 0).astype(int) if F.ndim == 1 else F.argmax(axis=1)
        return self.classes_[idx]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags
