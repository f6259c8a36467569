r"""Least squares, ridge, lasso and elastic net with scikit-learn's objectives, as QPs.

All four solve, after centring (the intercept drops out and is recovered afterwards),

.. math::

    \min_w\ s\,\|y_c - X_c w\|_2^2 + \lambda_1\|w\|_1 + \lambda_2\|w\|_2^2
    \quad\text{s.t.}\quad l \le w \le u

in the n-independent Gram form of :func:`optml.formulations.regression.least_squares_program`.
"""

from __future__ import annotations

import numpy as np

from optml.formulations.regression import coef_bounds, gram_data, least_squares_program
from optml.regression._common import (
    LinearProgramRegressor,
    check_bool,
    check_fraction,
    check_nonneg,
)


class _PenalizedLeastSquares(LinearProgramRegressor):
    """Shared fit for the least-squares family; subclasses give ``_weights(n)``."""

    def _weights(self, n: int) -> tuple[float, float, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_params(self) -> None:
        check_bool("fit_intercept", self.fit_intercept)
        check_bool("positive", self.positive)

    def _build(self, X, y):
        gram = gram_data(X, y, self.fit_intercept)
        lo, hi = coef_bounds(X.shape[1], self.positive, self.coef_bounds)
        n = X.shape[0]
        scale, l1, l2 = self._weights(n)
        # solvers' tolerances are absolute: give the program an O(1) Hessian. Lasso and
        # elastic net already carry scikit-learn's 1/(2n); least squares and ridge are
        # divided by 2n here (same minimiser), and objective_ is reported on sklearn's scale.
        factor = 2.0 * n if scale == 1.0 else 1.0
        # HiGHS's QP stops early on a Hessian-only program (no rows, KKT residual ~1e-5):
        # without an l1 term the factor form ||Rw - z||^2 (p equality rows) is used instead
        form = "gram" if l1 > 0 else "factor"
        prog = least_squares_program(
            gram, scale=scale / factor, l1=l1 / factor, l2=l2 / factor, lb=lo, ub=hi,
            form=form, name=type(self).__name__,
        )  # fmt: skip
        return prog, {"gram": gram, "factor": factor}

    def _unpack(self, res, ctx) -> None:
        gram = ctx["gram"]
        self.coef_ = np.asarray(res.values["coef"], dtype=float).copy()
        self.intercept_ = gram.intercept(self.coef_) if self.fit_intercept else 0.0
        self.objective_ = float(res.objective) * ctx["factor"]


_COMMON_DOC = """
    fit_intercept : bool, default True
        Centre ``X`` and ``y`` (as scikit-learn does); the intercept is
        :math:`\\bar y - \\bar x^\\top w`.
    positive : bool, default False
        Constrain the coefficients to be >= 0.
    coef_bounds : (lower, upper), optional
        Bounds on the coefficients: numbers or arrays of shape ``(n_features,)``, None for no
        bound on that side.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Solver settings (see :class:`optml.Program.solve`); the default is HiGHS's QP solver.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    objective_ : float
        Optimal value of the objective above (on the un-centred data, at ``intercept_``).
        For least squares and ridge the program minimises this objective divided by
        :math:`2n` (same minimiser, solver tolerances suited to an O(1) Hessian).
    program_ : optml.Program
        The program that was solved (``build_program(X, y)`` rebuilds it).
    result_ : optml.Result
        Status, objective, certified bound and gap, times.
"""


class LeastSquares(_PenalizedLeastSquares):
    __doc__ = (
        r"""Ordinary least squares, :math:`\min_{w,b}\ \|y - Xw - b\|_2^2`, as a QP.

    Same objective as :class:`sklearn.linear_model.LinearRegression` (Gauss 1809, Legendre
    1805); optional sign constraints or bounds make it a constrained least-squares problem.

    Parameters
    ----------"""
        + _COMMON_DOC
        + r"""
    Examples
    --------
    >>> import numpy as np
    >>> from optml.regression import LeastSquares
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = 2 * X.ravel() + 1
    >>> m = LeastSquares().fit(X, y)
    >>> round(float(m.coef_[0]), 6), round(float(m.intercept_), 6)
    (2.0, 1.0)
    """
    )

    def __init__(
        self, *, fit_intercept=True, positive=False, coef_bounds=None, backend="auto",
        solver=None, time_limit=None, mip_gap=None, verbose=False, solver_options=None,
    ):  # fmt: skip
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.coef_bounds = coef_bounds
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _weights(self, n):
        return 1.0, 0.0, 0.0


class Ridge(_PenalizedLeastSquares):
    __doc__ = (
        r"""Ridge regression (Hoerl and Kennard 1970) with scikit-learn's objective.

    .. math:: \min_{w,b}\ \|y - Xw - b\|_2^2 + \alpha\|w\|_2^2

    Parameters
    ----------
    alpha : float, default 1.0
        Penalty weight, >= 0."""
        + _COMMON_DOC
    )

    def __init__(
        self, alpha=1.0, *, fit_intercept=True, positive=False, coef_bounds=None,
        backend="auto", solver=None, time_limit=None, mip_gap=None, verbose=False,
        solver_options=None,
    ):  # fmt: skip
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
        super()._check_params()
        check_nonneg("alpha", self.alpha)

    def _weights(self, n):
        return 1.0, 0.0, float(self.alpha)


class Lasso(_PenalizedLeastSquares):
    __doc__ = (
        r"""The lasso (Tibshirani 1996) with scikit-learn's objective.

    .. math:: \min_{w,b}\ \frac{1}{2n}\|y - Xw - b\|_2^2 + \alpha\|w\|_1

    Parameters
    ----------
    alpha : float, default 1.0
        Penalty weight, >= 0."""
        + _COMMON_DOC
    )

    def __init__(
        self, alpha=1.0, *, fit_intercept=True, positive=False, coef_bounds=None,
        backend="auto", solver=None, time_limit=None, mip_gap=None, verbose=False,
        solver_options=None,
    ):  # fmt: skip
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
        super()._check_params()
        check_nonneg("alpha", self.alpha)

    def _weights(self, n):
        return 0.5 / n, float(self.alpha), 0.0


class ElasticNet(_PenalizedLeastSquares):
    __doc__ = (
        r"""The elastic net (Zou and Hastie 2005) with scikit-learn's objective.

    .. math::

        \min_{w,b}\ \frac{1}{2n}\|y - Xw - b\|_2^2 + \alpha\rho\|w\|_1
        + \frac{\alpha(1-\rho)}{2}\|w\|_2^2

    Parameters
    ----------
    alpha : float, default 1.0
        Penalty weight, >= 0.
    l1_ratio : float, default 0.5
        The mixing :math:`\rho \in [0, 1]`."""
        + _COMMON_DOC
    )

    def __init__(
        self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, positive=False,
        coef_bounds=None, backend="auto", solver=None, time_limit=None, mip_gap=None,
        verbose=False, solver_options=None,
    ):  # fmt: skip
        self.alpha = alpha
        self.l1_ratio = l1_ratio
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
        super()._check_params()
        check_nonneg("alpha", self.alpha)
        check_fraction("l1_ratio", self.l1_ratio, closed=True)

    def _weights(self, n):
        a, r = float(self.alpha), float(self.l1_ratio)
        return 0.5 / n, a * r, 0.5 * a * (1.0 - r)
