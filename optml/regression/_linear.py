r"""Least squares, ridge, lasso and elastic net with scikit-learn's objectives, as QPs.

All four solve, after centring (the intercept drops out and is recovered afterwards),

.. math::

    \min_w\ s\,\|y_c - X_c w\|_2^2 + \lambda_1\|w\|_1 + \lambda_2\|w\|_2^2
    \quad\text{s.t.}\quad l \le w \le u

in the n-independent Gram form of :func:`optml.formulations.regression.least_squares_program`.
By default (no solver chosen) the program is solved by optml's certified active-set method
(:mod:`optml.regression._active_set`), for a sparse lasso on a growing working set of features
(:mod:`optml.regression._working_set`); naming a ``backend`` or ``solver`` hands the same
program to that solver.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.utils import assert_all_finite

from optml.exceptions import SolveError
from optml.formulations.regression import (
    coef_bounds,
    data_moments,
    gram_data,
    least_squares_program,
)
from optml.regression import _active_set, _working_set
from optml.regression._common import (
    LinearProgramRegressor,
    check_bool,
    check_fraction,
    check_nonneg,
)

_METHODS = ("auto", "active_set", "program")


class _PenalizedLeastSquares(LinearProgramRegressor):
    """Shared fit for the least-squares family; subclasses give ``_weights(n)``."""

    def _weights(self, n: int) -> tuple[float, float, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_params(self) -> None:
        check_bool("fit_intercept", self.fit_intercept)
        check_bool("positive", self.positive)
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}")

    def _program_weights(self, n):
        """``(s, l1, l2, factor)``: the program minimises the objective divided by ``factor``.

        Solvers' tolerances are absolute: the program gets an O(1) Hessian. Lasso and elastic
        net already carry scikit-learn's 1/(2n); least squares and ridge are divided by 2n
        here (same minimiser), and ``objective_`` is reported on scikit-learn's scale.
        """
        scale, l1, l2 = self._weights(n)
        factor = 2.0 * n if scale == 1.0 else 1.0
        return scale / factor, l1 / factor, l2 / factor, factor

    def _validate_fit(self, X, y):
        # NaN / inf are found in the statistics of the Gram step (one pass over X less)
        return super()._validate_fit(X, y, ensure_all_finite=False)

    def _not_finite(self, X, y):
        """The error for data whose Gram statistics are not finite: scikit-learn's messages for
        NaN / inf, else the values overflow float64."""
        name = type(self).__name__
        assert_all_finite(X, input_name="X", estimator_name=name)
        assert_all_finite(y, input_name="y", estimator_name=name)
        return ValueError(
            f"{name}: X'X or X'y overflows float64 (largest |X| = "
            f"{float(np.abs(X).max()):.3g}, largest |y| = {float(np.abs(y).max()):.3g}); "
            "rescale X and y, e.g. with sklearn.preprocessing.StandardScaler"
        )

    def _program_args(self, X, y, gram=None, moments=None):
        """``(gram, s, l1, l2, lo, hi)`` of the program, and the objective's ``factor``."""
        if gram is None:
            gram = gram_data(X, y, self.fit_intercept, check_finite=False, moments=moments)
            if not gram.finite():
                raise self._not_finite(X, y)
        lo, hi = coef_bounds(X.shape[1], self.positive, self.coef_bounds)
        s, l1, l2, factor = self._program_weights(X.shape[0])
        return (gram, s, l1, l2, lo, hi), factor

    def _fit_working_set(self, X, y, t0):
        """The lasso / elastic net on a growing working set (:mod:`._working_set`), where it
        applies: ``(True, moments)`` when it gave a certified fit (then stored), else
        ``(False, moments)`` for the fit with the full Gram matrix (``moments`` from
        :func:`data_moments`, None if not computed)."""
        n, p = X.shape
        s, l1, l2, factor = self._program_weights(n)
        lo, hi = coef_bounds(p, self.positive, self.coef_bounds)
        if not _working_set.applicable(n, p, s, l1, l2, lo, hi):
            return False, None
        with _working_set.one_blas_thread(X.size):
            with np.errstate(over="ignore", invalid="ignore"):
                mom = data_moments(X, y, self.fit_intercept)
            if mom is None:
                raise self._not_finite(X, y)
            res = _working_set.solve(X, y, mom, s, l1, l2, lo, hi, start=t0)
        if res is None or res.status != "optimal":
            if self.verbose:
                why = "given up" if res is None else res.message
                print(f"{type(self).__name__}: working set {why}; using the full Gram matrix")
            return False, mom
        if self.verbose:
            print(f"{type(self).__name__}: {res.message}")
        lazy = _working_set.LazyGram(X=X, y=y, fit_intercept=self.fit_intercept,
                                     x_mean=mom[0], y_mean=mom[1], c=mom[3])  # fmt: skip
        self._lazy_program_args = (lazy, s, l1, l2, lo, hi)
        self.result_ = res
        self._unpack(res, {"gram": lazy, "factor": factor})
        return True, mom

    def _build(self, X, y):
        args, factor = self._program_args(X, y)
        return self._make_program(*args), {"gram": args[0], "factor": factor, "args": args}

    def _make_program(self, gram, s, l1, l2, lo, hi, form=None):
        # HiGHS's QP stops early on a Hessian-only program (no rows, KKT residual ~1e-5):
        # without an l1 term the factor form ||Rw - z||^2 (p equality rows) is used instead
        form = form or ("gram" if l1 > 0 else "factor")
        return least_squares_program(
            gram, scale=s, l1=l1, l2=l2, lb=lo, ub=hi, form=form, name=type(self).__name__
        )

    def _use_active_set(self) -> bool:
        if self.method != "auto":
            return self.method == "active_set"
        return self.backend == "auto" and self.solver is None and not self.solver_options

    def fit(self, X, y):
        """Fit by solving the program; sets ``coef_``, ``intercept_``, ``program_``, ``result_``."""
        self._check_params()
        self._check_common_params()
        X, y = self._validate_fit(X, y)
        t0 = time.perf_counter()
        self.__dict__.pop("program_", None)
        self.__dict__.pop("_lazy_program_args", None)
        done, mom = self._fit_working_set(X, y, t0) if self._use_active_set() else (False, None)
        if done:
            return self
        args, factor = self._program_args(X, y, moments=mom)
        ctx = {"gram": args[0], "factor": factor, "args": args}
        if self._use_active_set():
            res = _active_set.solve_gram_program(X, y, *args, start=t0)
            if res.status == "optimal":
                if self.verbose:
                    print(f"{type(self).__name__}: {res.message}")
                self._lazy_program_args = args
                self.result_ = res
                self._unpack(res, ctx)
                return self
            msg = f"{type(self).__name__}: {res.message}; solving the program instead"
            if self.verbose:
                print(msg)
            elif self.method == "active_set":
                warnings.warn(msg, stacklevel=2)
        try:
            res = self._solve(self._make_program(*args))
        except SolveError:
            # HiGHS's QP solver sometimes ends the factor form (used without an l1 term) with
            # "Solve error" (primal infeasibilities ~1e-5 on the p factor rows); the Gram form
            # is the same QP
            if args[2] > 0:
                raise
            res = self._solve(self._make_program(*args, form="gram"))
        self._unpack(res, ctx)
        return self

    def _exact_program_args(self):
        """The lazy program's arguments with the full Gram data (formed now after a
        working-set fit, which then lets go of ``X``)."""
        args = self.__dict__["_lazy_program_args"]
        if isinstance(args[0], _working_set.LazyGram):
            args = (args[0].exact(), *args[1:])
            self.__dict__["_lazy_program_args"] = args
        return args

    def __getattr__(self, name):
        # ``program_`` of an active-set fit is built on first use (it is not needed to fit)
        if name == "program_" and "_lazy_program_args" in self.__dict__:
            prog = self._make_program(*self._exact_program_args())
            self.__dict__["program_"] = prog
            return prog
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getstate__(self):
        # a pickle carries the p x p Gram data rather than the n x p training data, whichever
        # is smaller (with p > n the data, and program_ is formed from them after loading)
        args = self.__dict__.get("_lazy_program_args")
        if args is not None and isinstance(args[0], _working_set.LazyGram):
            n, p = args[0].X.shape
            if p <= n:
                self._exact_program_args()
        return super().__getstate__()

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
    method : {"auto", "active_set", "program"}, default "auto"
        ``"program"``: the QP goes to the chosen backend and solver, and is certified by
        optml's Lagrangian bound. ``"active_set"``: optml's primal-dual active-set method on
        the same program (a Cholesky solve per iteration on the free coefficients), certified
        by a dual bound and re-evaluated on the raw data; a sparse lasso (and the elastic net
        with more features than samples) is solved on a growing working set of features,
        without the full Gram matrix, and certified on all features from the raw data. If it
        cannot certify, the program is solved instead. ``"auto"``: the active-set method
        unless ``backend``, ``solver`` or ``solver_options`` name a solver.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Solver settings (see :class:`optml.Program.solve`); with ``method="program"`` the
        default is HiGHS's QP solver.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    objective_ : float
        Optimal value of the objective above (on the un-centred data, at ``intercept_``).
        For least squares and ridge the program minimises this objective divided by
        :math:`2n` (same minimiser, solver tolerances suited to an O(1) Hessian).
    program_ : optml.Program
        The program that was solved (``build_program(X, y)`` rebuilds it; after an
        active-set fit it is built on first access; after a working-set fit the estimator
        holds a reference to ``X`` and ``y`` until then, or until it is pickled).
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
        self, *, fit_intercept=True, positive=False, coef_bounds=None, method="auto",
        backend="auto", solver=None, time_limit=None, mip_gap=None, verbose=False,
        solver_options=None,
    ):  # fmt: skip
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.coef_bounds = coef_bounds
        self.method = method
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
        method="auto", backend="auto", solver=None, time_limit=None, mip_gap=None, verbose=False,
        solver_options=None,
    ):  # fmt: skip
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.coef_bounds = coef_bounds
        self.method = method
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
        method="auto", backend="auto", solver=None, time_limit=None, mip_gap=None, verbose=False,
        solver_options=None,
    ):  # fmt: skip
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.coef_bounds = coef_bounds
        self.method = method
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
        coef_bounds=None, method="auto", backend="auto", solver=None, time_limit=None,
        mip_gap=None, verbose=False, solver_options=None,
    ):  # fmt: skip
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.coef_bounds = coef_bounds
        self.method = method
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
