r"""Optimal teaching sets (Zhu 2015; Zhu, Singla, Zilles and Rafferty 2018).

The programs are in :mod:`optml.formulations.teaching`; this module validates, solves on the
one solve path and reads the answer back. :class:`TeachingSet` is not a scikit-learn
predictor (no ``predict``): see :mod:`optml.teaching`.
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass

import numpy as np

from optml._base import ProgramEstimator
from optml.exceptions import SolveError
from optml.formulations.teaching import logistic_teaching, ridge_teaching, svm_teaching
from optml.teaching import _learners

log = logging.getLogger("optml")


@dataclass
class TeachingCheck:
    """What :meth:`TeachingSet.verify` found by retraining the learner on the taught set.

    ``distance``: :math:`\\|\\hat\\theta - \\theta^*\\|_\\infty` of the retrained model
    (intercept included when fitted); ``allowed``: what the certificate promises (exact
    target: round-off; ridge with a tolerance: :math:`\\|g\\|_2/\\lambda_{\\min}(H)`, a proof;
    logistic with an intercept and a tolerance: twice the first-order estimate
    :math:`\\|g\\|_2/\\lambda_{\\min}(H(\\theta^*))`, an estimate; SVM: the box ``tolerance``
    on ``w`` -- its intercept may be one of several optimal ones); ``residual``: the
    optimality conditions' residual at the target, recomputed with numpy (None for the SVM).
    """

    coef: np.ndarray
    intercept: float
    distance: float
    coef_distance: float
    allowed: float
    residual: float | None
    passed: bool
    implementation: str
    note: str = ""


def solve_or_refuse(est, prog, refusal, **solve_kw):
    """Solve ``prog`` with the estimator's settings (``est._solve(prog, **solve_kw)``). An
    infeasible program is an answer of its own: :class:`SolveError` with the message
    ``refusal(status)``, ``result_`` kept; any other failure raises as it is."""
    infeasible = ("infeasible", "infeasible_or_unbounded")
    est.__dict__.pop("result_", None)
    try:
        res = est._solve(prog, **solve_kw)
    except SolveError:
        res = getattr(est, "result_", None)
        if res is None or res.status not in infeasible:
            raise
    if res.status in infeasible:
        raise SolveError(refusal(res.status))
    return res


def _check_bool(name, v):
    if not isinstance(v, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {v!r}")


class TeachingSet(ProgramEstimator):
    r"""The fewest (or cheapest) examples of a pool that make a learner return a target.

    .. math::

        \min_{c \in \{0..K\}^n} \kappa^\top c \quad\text{s.t.}\quad
        (w^*, b^*) = \arg\min_{w,b}\ \sum_i c_i \ell(w, b; x_i, y_i) + \Omega(w),
        \quad \mathbf 1^\top c \ge 1,

    made single-level through the learner's optimality conditions at the fixed target (a
    MILP; see :mod:`optml.formulations.teaching` and docs/teaching.md for when it is exact).

    Parameters
    ----------
    learner : {"ridge", "svm", "logistic"}, default "ridge"
        ``"ridge"``: :math:`\sum_i c_i (y_i - x_i^\top w - b)^2 + \alpha\|w\|^2`
        (``sklearn.linear_model.Ridge(alpha)``; ``alpha=0``: least squares, uniqueness by a
        lazy full-rank family). ``"svm"``: :math:`\tfrac12\|w\|^2 + C\sum_i c_i
        (1 - s_i(x_i^\top w + b))_+` (``sklearn.svm.SVC(kernel="linear", C=C)``).
        ``"logistic"``: :math:`\tfrac12\|w\|^2 + C\sum_i c_i \log(1 + e^{-s_i(x_i^\top w + b)})`
        (``sklearn.linear_model.LogisticRegression(C=C)``).
    alpha : float, default 1.0
        Ridge penalty (ridge only).
    C : float, default 1.0
        Inverse regularisation (SVM and logistic).
    fit_intercept : bool, default True
        Whether the learner fits an (unpenalised) intercept.
    tolerance : float, default 0.0
        0: the learner returns the target exactly. Ridge / logistic: the largest absolute
        residual of the optimality conditions at the target (normal equations; gradient);
        SVM: the largest distance of the learner's model from the target (a box, with the
        KKT complementarity as SOS1 pairs).
    cost : float or array of shape (n_pool,), optional
        Cost of each copy of each example (default 1: the fewest examples).
    max_copies : int, default 1
        How many times an example may be taught (1: a set; more: a multiset with integer
        counts).
    margin_tol : float, default 1e-9
        SVM, exact target: relative tolerance that puts an example on the margin.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters (:class:`optml._base.ProgramEstimator`); ``mip_gap``
        defaults to 0 (a certified minimum).

    Attributes
    ----------
    counts_ : ndarray of int, shape (n_pool,)
        Copies of each pool example in the teaching set.
    support_ : ndarray of int
        Indices of the examples taught.
    n_examples_ : int
        Size of the teaching (multi)set, ``counts_.sum()``.
    cost_ : float
        Its cost (the certified objective).
    program_, result_
        The MILP and its certificate (``result_.bound``, ``result_.gap``: a proven minimum
        when the gap is 0).

    Examples
    --------
    >>> import numpy as np
    >>> from optml.teaching import TeachingSet
    >>> X = np.array([[-2.0], [-1.0], [0.0], [1.0], [2.0]]); y = np.array([-2.0, -1, 0, 1, 2])
    >>> ts = TeachingSet(learner="ridge", alpha=0.0).fit(X, y, target_coef=[1.0])
    >>> int(ts.n_examples_), ts.verify().passed
    (2, True)
    """

    _default_mip_gap = 0.0

    def __init__(
        self,
        learner="ridge",
        alpha=1.0,
        C=1.0,
        fit_intercept=True,
        tolerance=0.0,
        cost=None,
        max_copies=1,
        margin_tol=1e-9,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.learner = learner
        self.alpha = alpha
        self.C = C
        self.fit_intercept = fit_intercept
        self.tolerance = tolerance
        self.cost = cost
        self.max_copies = max_copies
        self.margin_tol = margin_tol
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    # ------------------------------------------------------------------------------------
    def _check_params(self):
        if self.learner not in _learners.LEARNERS:
            raise ValueError(f"learner must be one of {_learners.LEARNERS}, got {self.learner!r}")
        _check_bool("fit_intercept", self.fit_intercept)
        for name in ("alpha", "C", "tolerance", "margin_tol"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real) or isinstance(v, bool) or not np.isfinite(v):
                raise TypeError(f"{name} must be a finite number, got {v!r}")
            if v < 0:
                raise ValueError(f"{name} must be >= 0, got {v}")
        if self.C <= 0:
            raise ValueError(f"C must be > 0, got {self.C}")

    def build_program(self, X_pool, y_pool, target_coef, target_intercept=0.0):
        """The teaching MILP for this pool and target (see the class docstring)."""
        self._check_params()
        X = np.asarray(X_pool, dtype=float)
        t, _ = _learners.encode_labels(self.learner, y_pool)
        common = dict(
            fit_intercept=bool(self.fit_intercept),
            tolerance=float(self.tolerance),
            cost=self.cost,
            max_copies=self.max_copies,
        )
        if self.learner == "ridge":
            return ridge_teaching(
                X, t, target_coef, target_intercept, alpha=float(self.alpha), **common
            )
        if self.learner == "svm":
            return svm_teaching(
                X,
                t,
                target_coef,
                target_intercept,
                C=float(self.C),
                margin_tol=float(self.margin_tol),
                **common,
            )
        return logistic_teaching(X, t, target_coef, target_intercept, C=float(self.C), **common)

    def fit(self, X_pool, y_pool, target_coef=None, target_intercept=0.0):
        """Find the teaching set of ``(target_coef, target_intercept)`` in the pool.

        Raises :class:`~optml.exceptions.SolveError` (with ``result_`` kept, status
        ``infeasible``) when no multiset of the pool makes the learner return the target.
        """
        prog = self.build_program(X_pool, y_pool, target_coef, target_intercept)
        self.X_pool_ = np.asarray(X_pool, dtype=float).reshape(len(X_pool), -1)
        self.t_pool_, self.classes_ = _learners.encode_labels(self.learner, y_pool)
        self.target_coef_, self.target_intercept_ = prog.metadata["target"]
        res = solve_or_refuse(
            self,
            prog,
            lambda status: (
                f"TeachingSet: the target cannot be taught to the {self.learner} learner from "
                f"this pool (status {status!r}): no multiset of at most {self.max_copies} "
                "copies per example satisfies its optimality conditions at the target"
                + ("" if self.tolerance else "; try tolerance > 0")
                + ", a larger max_copies or a larger pool"
            ),
            mip=True,
        )
        self.counts_ = np.round(np.asarray(res.values["count"], dtype=float)).astype(int)
        self.support_ = np.flatnonzero(self.counts_ > 0)
        self.n_examples_ = int(self.counts_.sum())
        self.cost_ = float(res.objective)
        if res.status != "optimal":
            log.warning(
                "TeachingSet: status %s, teaching set of cost %g with bound %g (gap %.3g): "
                "not proven minimal",
                res.status,
                res.objective,
                res.bound,
                res.gap,
            )
        return self

    def teaching_set(self):
        """``(X, y)`` of the teaching multiset (rows repeated by their counts)."""
        self._fitted()
        return (
            np.repeat(self.X_pool_, self.counts_, axis=0),
            np.repeat(self._labels(), self.counts_),
        )

    def _labels(self):
        if self.classes_ is None or self.learner == "ridge":
            return self.t_pool_
        return np.where(self.t_pool_ > 0, self.classes_[1], self.classes_[0])

    def _fitted(self):
        if not hasattr(self, "counts_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("TeachingSet is not fitted yet: call fit(X_pool, y_pool, ...)")

    def verify(self, atol=None) -> TeachingCheck:
        """Retrain the learner (scikit-learn) on the teaching set and compare with the target.

        ``atol`` overrides the distance the certificate allows (see :class:`TeachingCheck`).
        """
        self._fitted()
        kw = dict(alpha=float(self.alpha), C=float(self.C), fit_intercept=bool(self.fit_intercept))
        X, t, c = self.X_pool_, self.t_pool_, self.counts_
        w0, b0 = self.target_coef_, self.target_intercept_
        w, b, impl = _learners.retrain(self.learner, X, t, c, **kw)
        dw = float(np.abs(w - w0).max())
        dist = max(dw, abs(b - b0)) if self.fit_intercept else dw
        scale = max(1.0, float(np.abs(w0).max()), abs(b0))
        g = _learners.residual(self.learner, X, t, c, w0, b0, **kw)
        resid = None if g is None else float(np.abs(g).max())
        note = ""
        tau = float(self.tolerance)
        if atol is not None:
            allowed = float(atol)
        elif tau == 0.0:
            allowed = 1e-6 * scale
        elif self.learner == "svm":
            allowed = tau + 1e-6 * scale
            note = "SVM with a tolerance: w is unique, the intercept may be one of several optima"
        else:
            H = _learners.hessian(self.learner, X, t, c, w0, b0, **kw)
            lam = float(np.linalg.eigvalsh(H).min())
            allowed = np.linalg.norm(g) / lam if lam > 0 else np.inf
            if self.learner == "logistic" and self.fit_intercept:
                allowed *= 2.0
                note = "logistic with an intercept: allowed distance is an estimate"
            allowed += 1e-6 * scale
        measured = dw if (self.learner == "svm" and tau > 0) else dist
        return TeachingCheck(
            coef=w,
            intercept=b,
            distance=dist,
            coef_distance=dw,
            allowed=float(allowed),
            residual=resid,
            passed=bool(measured <= allowed),
            implementation=impl,
            note=note,
        )
