r"""Robust and margin-based linear regression: LAD, quantile, Huber (joint scale), linear SVR."""

from __future__ import annotations

import numpy as np

from optml._data_checks import CheckedRegressorData
from optml._validation import check_bool, check_fraction, check_nonneg
from optml.formulations.regression import (
    HuberProblem,
    coef_bounds,
    huber_objective,
    huber_program,
    quantile_program,
    svr_program,
)
from optml.regression._common import LinearProgramRegressor

_SOLVER_DOC = """backend, solver, time_limit, mip_gap, verbose, solver_options
        Solver settings (see :meth:`optml.Program.solve`)."""


class QuantileRegression(CheckedRegressorData, LinearProgramRegressor):
    (
        r"""Quantile regression (Koenker and Bassett 1978) as a linear program.

    .. math::

        \min_{w,b}\ \frac1n\sum_i \rho_q(y_i - x_i^\top w - b) + \alpha\|w\|_1,\qquad
        \rho_q(r) = \max(q r, (q - 1) r),

    the objective of :class:`sklearn.linear_model.QuantileRegressor`.

    Parameters
    ----------
    quantile : float in (0, 1), default 0.5
    alpha : float, default 1.0
        l1 penalty weight (scikit-learn's default), >= 0.
    fit_intercept : bool, default True
    positive : bool, default False
    coef_bounds : (lower, upper), optional
    """
        + _SOLVER_DOC
        + r"""

    Attributes
    ----------
    coef_, intercept_, objective_, program_, result_
    """
    )

    def __init__(
        self,
        quantile=0.5,
        *,
        alpha=1.0,
        fit_intercept=True,
        positive=False,
        coef_bounds=None,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.quantile = quantile
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.coef_bounds = coef_bounds
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check_params(self):
        check_fraction("quantile", self.quantile)
        check_nonneg("alpha", self.alpha)
        check_bool("fit_intercept", self.fit_intercept)
        check_bool("positive", self.positive)

    def _build(self, X, y, settings=None):
        lo, hi = coef_bounds(X.shape[1], self.positive, self.coef_bounds)
        prog = quantile_program(
            X,
            y,
            float(self.quantile),
            float(self.alpha),
            self.fit_intercept,
            lo,
            hi,
            name=type(self).__name__,
        )
        return prog, {}

    def _unpack(self, res, ctx):
        self.coef_ = np.asarray(res.values["coef"], float).copy()
        self.intercept_ = float(res.values["intercept"]) if self.fit_intercept else 0.0
        self.objective_ = float(res.objective)

    def _fit_program_context(self, X, y, settings):
        return {}


class LeastAbsoluteDeviation(QuantileRegression):
    (
        r"""Least absolute deviations, :math:`\min_{w,b} \frac1n\sum_i |y_i - x_i^\top w - b|
    + \alpha\|w\|_1`, as a linear program (Boscovich 1757; Charnes, Cooper and Ferguson 1955).

    The median regression: :class:`QuantileRegression` with ``quantile=0.5`` and the objective
    halved. ``objective_`` is the mean absolute residual plus the penalty,
    ``result_.model_objective``; the program (and ``result_.objective``/``bound``/``gap``) is
    half of it, the pinball loss at ``q = 1/2``.

    Parameters
    ----------
    alpha : float, default 0.0
        l1 penalty weight, >= 0.
    fit_intercept : bool, default True
    positive : bool, default False
    coef_bounds : (lower, upper), optional
    """
        + _SOLVER_DOC
    )

    def __init__(
        self,
        *,
        alpha=0.0,
        fit_intercept=True,
        positive=False,
        coef_bounds=None,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.coef_bounds = coef_bounds
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    @property
    def quantile(self):  # read-only: LAD is the median regression
        return 0.5

    def _check_params(self):
        check_nonneg("alpha", self.alpha)
        check_bool("fit_intercept", self.fit_intercept)
        check_bool("positive", self.positive)

    def _build(self, X, y, settings=None):
        lo, hi = coef_bounds(X.shape[1], self.positive, self.coef_bounds)
        prog = quantile_program(
            X,
            y,
            0.5,
            0.5 * float(self.alpha),
            self.fit_intercept,
            lo,
            hi,
            name="least_absolute_deviation",
        )
        return prog, {}

    def _unpack(self, res, ctx):
        super()._unpack(res, ctx)
        res.set_model_units(2.0)  # the program is half the mean absolute residual
        self.objective_ = float(res.model_objective)


class HuberRegression(CheckedRegressorData, LinearProgramRegressor):
    (
        r"""Huber regression with scikit-learn's ``HuberRegressor`` objective (joint scale).

    .. math::

        \min_{w, b, \sigma > 0}\ n\sigma + \sum_i \sigma H_\epsilon\Bigl(\frac{y_i - x_i^\top w
        - b}{\sigma}\Bigr) + \alpha\|w\|_2^2

    (Huber 1964; Owen 2007), jointly convex. By default (``backend="auto"``, ``solver=None``)
    optml's special solver ``"huber-newton"`` solves it (:mod:`optml.algorithms.huber_newton`:
    damped Newton on the joint objective, certified by a feasible point of the dual of the
    second-order-cone program, relative gap <= 1e-6); a general solver (``solver="clarabel"``,
    ``backend="cvxpy"``, ...) receives that second-order-cone program
    (:func:`optml.formulations.regression.huber_program`). Either way the answer carries a
    certified bound rather than L-BFGS's stopping rule.

    Parameters
    ----------
    epsilon : float, default 1.35
        Threshold in units of the scale, > 0 (scikit-learn asks >= 1).
    alpha : float, default 1e-4
        Squared l2 penalty on ``w`` (not on the intercept), >= 0.
    fit_intercept : bool, default True
    """
        + _SOLVER_DOC
        + r"""

    Attributes
    ----------
    coef_, intercept_ : the fitted model.
    scale_ : float, the estimated :math:`\sigma`.
    outliers_ : ndarray of bool, samples with :math:`|r_i| > \epsilon\sigma`.
    objective_, program_, result_
    problem_ : HuberProblem, the structured problem (``program_`` is formed from it on
        first access after a fit by ``"huber-newton"``).
    """
    )

    def __init__(
        self,
        epsilon=1.35,
        *,
        alpha=1e-4,
        fit_intercept=True,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.epsilon = epsilon
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check_params(self):
        check_nonneg("epsilon", self.epsilon, allow_zero=False)
        check_nonneg("alpha", self.alpha)
        check_bool("fit_intercept", self.fit_intercept)

    def _build(self, X, y, settings=None):
        prog = huber_program(X, y, float(self.epsilon), float(self.alpha), self.fit_intercept)
        return prog, {"X": X, "y": y}

    def _problem(self, X, y) -> HuberProblem:
        return HuberProblem(X, y, float(self.epsilon), float(self.alpha), bool(self.fit_intercept))

    def build_problem(self, X, y) -> HuberProblem:
        """The structured problem ``fit(X, y)`` solves: what ``"huber-newton"`` takes; its
        ``.program`` is what general solvers take (:func:`huber_program`)."""
        self._check_params()
        X, y = self._validate_fit(X, y)
        return self._problem(X, y)

    def fit(self, X, y):
        """Fit on the solve path (see the class docstring); sets ``coef_``, ``intercept_``,
        ``scale_``, ``outliers_``, ``objective_``, ``problem_``, ``result_``."""
        self._check_params()
        self._check_common_params()
        X, y = self._validate_fit(X, y)
        self.__dict__.pop("program_", None)
        self.__dict__.pop("problem_", None)
        settings = self._settings().started()
        problem = self._problem(X, y)
        # raw solver options are meant for a general solver: then the program goes to it
        structured = self.solver == "huber-newton" or not settings.options
        res = self._solve(problem if structured else problem.program, settings=settings)
        self._unpack(res, {"X": X, "y": y})
        return self

    def _fit_program_context(self, X, y, settings):
        return {"X": X, "y": y}

    def _unpack(self, res, ctx):
        self.coef_ = np.asarray(res.values["coef"], float).copy()
        self.intercept_ = float(res.values["intercept"]) if self.fit_intercept else 0.0
        self.scale_ = float(res.values["scale"])
        X, y = ctx["X"], ctx["y"]
        r = y - X @ self.coef_ - self.intercept_
        self.outliers_ = np.abs(r) > self.epsilon * self.scale_
        self.objective_ = huber_objective(
            X, y, self.coef_, self.intercept_, self.scale_, float(self.epsilon), float(self.alpha)
        )


class SupportVectorRegression(CheckedRegressorData, LinearProgramRegressor):
    (
        r"""Linear epsilon-insensitive support vector regression (Vapnik 1995), primal QP.

    .. math::

        \min_{w,b}\ \tfrac12\|w\|_2^2 + C\sum_i \max(0, |y_i - x_i^\top w - b| - \epsilon)

    the objective of :class:`sklearn.svm.SVR` with ``kernel="linear"``.

    Parameters
    ----------
    C : float, default 1.0
        Loss weight, > 0.
    epsilon : float, default 0.1
        Half-width of the insensitive tube, >= 0.
    kernel : {"linear"}, default "linear"
        Only the linear kernel (the primal program); other kernels raise ValueError.
    fit_intercept : bool, default True
    """
        + _SOLVER_DOC
    )

    def __init__(
        self,
        *,
        C=1.0,
        epsilon=0.1,
        kernel="linear",
        fit_intercept=True,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.C = C
        self.epsilon = epsilon
        self.kernel = kernel
        self.fit_intercept = fit_intercept
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check_params(self):
        check_nonneg("C", self.C, allow_zero=False)
        check_nonneg("epsilon", self.epsilon)
        check_bool("fit_intercept", self.fit_intercept)
        if self.kernel != "linear":
            raise ValueError(
                f"kernel={self.kernel!r} is not supported: SupportVectorRegression solves the "
                "primal program of the linear kernel; use kernel='linear' (or sklearn.svm.SVR)"
            )

    def _build(self, X, y, settings=None):
        prog = svr_program(X, y, float(self.C), float(self.epsilon), self.fit_intercept)
        return prog, {}

    def _fit_program_context(self, X, y, settings):
        return {}

    def _unpack(self, res, ctx):
        self.coef_ = np.asarray(res.values["coef"], float).copy()
        self.intercept_ = float(res.values["intercept"]) if self.fit_intercept else 0.0
        self.objective_ = float(res.objective)
