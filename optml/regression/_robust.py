r"""Robust and margin-based linear regression: LAD, quantile, Huber (joint scale), linear SVR."""

from __future__ import annotations

import numpy as np

from optml._data_checks import CheckedRegressorData
from optml._validation import check_bool, check_fraction, check_nonneg
from optml.formulations.classification import kernel_matrix
from optml.formulations.regression import (
    HuberProblem,
    KernelSVRProblem,
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
        r"""Epsilon-insensitive support vector regression (Vapnik 1995), scikit-learn's ``SVR``.

    With ``kernel="linear"`` the primal QP

    .. math::

        \min_{w,b}\ \tfrac12\|w\|_2^2 + C\sum_i \max(0, |y_i - x_i^\top w - b| - \epsilon)

    (:func:`optml.formulations.regression.svr_program`), solved by a general solver. With
    ``kernel="rbf"``, ``"poly"`` or ``"sigmoid"`` (or a callable) the dual QP libsvm solves

    .. math::

        \max_{\alpha,\alpha^*}\ y^\top(\alpha-\alpha^*) - \epsilon\mathbf 1^\top(\alpha+\alpha^*)
        - \tfrac12(\alpha-\alpha^*)^\top K(\alpha-\alpha^*)\quad\text{s.t.}\quad
        \mathbf 1^\top(\alpha-\alpha^*) = 0,\ 0\le\alpha,\alpha^*\le C

    (:func:`optml.formulations.regression.svr_dual_program`), by default with optml's special
    solver ``"smo"`` (:mod:`optml.algorithms.smo`: SMO with second-order working-set
    selection, certified by the primal value in function space; relative gap <= 1e-6), or by
    a general solver (``solver="clarabel"``, ...) on the program with a factor of :math:`K`.
    The prediction is :math:`f(x) = \sum_i (\alpha_i - \alpha_i^*) K(x_i, x) + b`. The
    sigmoid kernel's matrix is not positive semidefinite in general: SMO then returns a KKT
    point with status ``feasible`` and no bound (as libsvm, nothing is proven).

    Parameters
    ----------
    C : float, default 1.0
        Loss weight, > 0.
    epsilon : float, default 0.1
        Half-width of the insensitive tube, >= 0.
    kernel : {"linear", "rbf", "poly", "sigmoid"} or callable, default "linear"
    gamma : "scale", "auto" or float, default "scale"
        As in SVR: ``"scale"`` is ``1 / (p * X.var())``, ``"auto"`` is ``1 / p``.
    degree : int, default 3
    coef0 : float, default 0.0
    fit_intercept : bool, default True
        Only ``True`` with a non-linear kernel (the dual's equality constraint is the
        intercept's).
    """
        + _SOLVER_DOC
        + r"""

    Attributes
    ----------
    coef_ : ndarray (linear kernel only), intercept_ : float
    support_, support_vectors_, dual_coef_ (1, n_SV) : the expansion (non-linear kernels)
    objective_, program_, result_, problem_
    """
    )

    def __init__(
        self,
        *,
        C=1.0,
        epsilon=0.1,
        kernel="linear",
        gamma="scale",
        degree=3,
        coef0=0.0,
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
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.fit_intercept = fit_intercept
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check_params(self):
        import numbers

        check_nonneg("C", self.C, allow_zero=False)
        check_nonneg("epsilon", self.epsilon)
        check_bool("fit_intercept", self.fit_intercept)
        if not callable(self.kernel) and self.kernel not in _SVR_KERNELS:
            raise ValueError(
                f"kernel must be one of {_SVR_KERNELS} or a callable, got {self.kernel!r}"
            )
        if not (isinstance(self.gamma, str) and self.gamma in ("scale", "auto")):
            if isinstance(self.gamma, str) or not (
                isinstance(self.gamma, numbers.Real) and np.isfinite(self.gamma) and self.gamma > 0
            ):
                raise ValueError(
                    f"gamma must be 'scale', 'auto' or a positive number, got {self.gamma!r}"
                )
        if not isinstance(self.degree, numbers.Integral) or self.degree < 1:
            raise ValueError(f"degree must be a positive integer, got {self.degree!r}")
        if not (isinstance(self.coef0, numbers.Real) and np.isfinite(self.coef0)):
            raise ValueError(f"coef0 must be a finite number, got {self.coef0!r}")
        if self._kernelised() and not self.fit_intercept:
            raise ValueError(
                "fit_intercept=False is only supported with kernel='linear': the kernel SVR "
                "dual's equality constraint comes from the intercept; use fit_intercept=True"
            )

    def _kernelised(self) -> bool:
        return callable(self.kernel) or self.kernel != "linear"

    def _gamma(self, X) -> float:
        if self.gamma == "scale":
            v = X.var()
            return 1.0 / (X.shape[1] * v) if v > 0 else 1.0
        if self.gamma == "auto":
            return 1.0 / X.shape[1]
        return float(self.gamma)

    def _problem(self, X, y) -> KernelSVRProblem:
        self._gamma_ = self._gamma(X)
        return KernelSVRProblem(
            X,
            y,
            C=float(self.C),
            epsilon=float(self.epsilon),
            kernel=self.kernel,
            gamma=self._gamma_,
            degree=int(self.degree),
            coef0=float(self.coef0),
        )

    def build_problem(self, X, y) -> KernelSVRProblem:
        """The structured problem ``fit(X, y)`` solves for a non-linear kernel (what ``"smo"``
        takes; its ``.program`` is what general solvers take)."""
        self._check_params()
        if not self._kernelised():
            raise ValueError("build_problem is for a non-linear kernel; use build_program")
        X, y = self._validate_fit(X, y)
        return self._problem(X, y)

    def _build(self, X, y, settings=None):
        if self._kernelised():
            return self._problem(X, y).program, {}
        prog = svr_program(X, y, float(self.C), float(self.epsilon), self.fit_intercept)
        return prog, {}

    def _fit_program_context(self, X, y, settings):
        return {}

    def fit(self, X, y):
        """Fit (see the class docstring); sets ``coef_`` (linear kernel) or the support
        vector expansion, ``intercept_``, ``objective_``, ``result_``."""
        self._check_params()
        if not self._kernelised():
            for att in ("support_", "support_vectors_", "dual_coef_"):
                self.__dict__.pop(att, None)
            return super().fit(X, y)
        self._check_common_params()
        X, y = self._validate_fit(X, y)
        self.__dict__.pop("program_", None)
        self.__dict__.pop("problem_", None)
        self.__dict__.pop("coef_", None)
        settings = self._settings().started()
        problem = self._problem(X, y)
        res = self._solve(problem, settings=settings)
        C = float(self.C)
        a = np.clip(np.asarray(res.values["alpha"], float), 0.0, C)
        a_s = np.clip(np.asarray(res.values["alpha_star"], float), 0.0, C)
        beta = a - a_s
        beta[np.abs(beta) < 1e-8 * C] = 0.0
        b = res.stats.get("intercept")
        if b is None:  # a general solver: the intercept from the KKT conditions
            b = _svr_intercept(problem.kernel_dot(beta), y, a, a_s, C, float(self.epsilon))
        sv = np.flatnonzero(beta)
        self.support_ = sv
        self.support_vectors_ = X[sv]
        self.dual_coef_ = beta[sv][None, :]
        self.intercept_ = float(b)
        self.objective_ = float(res.objective)
        return self

    def predict(self, X):
        if not self._kernelised():
            return super().predict(X)
        from sklearn.utils.validation import check_is_fitted, validate_data

        check_is_fitted(self, "dual_coef_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        K = kernel_matrix(
            X, self.support_vectors_, self.kernel, self._gamma_, int(self.degree), float(self.coef0)
        )
        return K @ self.dual_coef_.ravel() + self.intercept_

    def _unpack(self, res, ctx):
        self.coef_ = np.asarray(res.values["coef"], float).copy()
        self.intercept_ = float(res.values["intercept"]) if self.fit_intercept else 0.0
        self.objective_ = float(res.objective)


_SVR_KERNELS = ("linear", "rbf", "poly", "sigmoid")


def _svr_intercept(f, y, a, a_s, C, eps) -> float:
    r"""libsvm's intercept: the mean over free multipliers of :math:`y_i - f_i \mp \epsilon`,
    else the middle of the interval the bound ones allow."""
    tol = 1e-6 * C
    free_a = (a > tol) & (a < C - tol)
    free_s = (a_s > tol) & (a_s < C - tol)
    vals = np.concatenate([(y - f - eps)[free_a], (y - f + eps)[free_s]])
    if vals.size:
        return float(vals.mean())
    from optml.formulations.classification import best_intercept

    n = y.size
    r = y - f
    return best_intercept(
        np.concatenate([r - eps, -r - eps]),
        np.concatenate([np.ones(n), -np.ones(n)]),
        np.full(2 * n, C),
    )
