r"""Least squares, ridge, lasso and elastic net with scikit-learn's objectives, as QPs.

All four solve, after centring (the intercept drops out and is recovered afterwards),

.. math::

    \min_w\ s\,\|y_c - X_c w\|_2^2 + \lambda_1\|w\|_1 + \lambda_2\|w\|_2^2
    \quad\text{s.t.}\quad l \le w \le u

in the n-independent Gram form of :func:`optml.formulations.regression.least_squares_program`.
A fit builds the structured problem
:class:`~optml.formulations.regression.LeastSquaresProblem` and solves it on the one solve
path (:func:`optml.solve.solve`): by default (no solver chosen) with optml's certified
active-set method, the special solver ``"active-set"`` (:mod:`optml.algorithms.active_set`;
for a sparse lasso on a growing working set of features, :mod:`optml.algorithms.working_set`),
which falls back to the program on a general solver when it cannot certify; naming a
``backend`` or ``solver`` hands the same program to that solver.
"""

from __future__ import annotations

import numpy as np

from optml._validation import check_choice
from optml.exceptions import SolveError
from optml.formulations.regression import LeastSquaresProblem, coef_bounds
from optml.regression._common import (
    LinearProgramRegressor,
    check_bool,
    check_fraction,
    check_nonneg,
)

_METHODS = ("auto", "active_set", "program")
_ACTIVE_SET = "active-set"


class _PenalizedLeastSquares(LinearProgramRegressor):
    """Shared fit for the least-squares family; subclasses give ``_weights(n)``."""

    def _weights(self, n: int) -> tuple[float, float, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_params(self) -> None:
        check_bool("fit_intercept", self.fit_intercept)
        check_bool("positive", self.positive)
        check_choice("method", self.method, _METHODS)

    def _program_weights(self, n):
        """``(s, l1, l2, factor)``: the program minimises the objective divided by ``factor``.

        Solvers' tolerances are absolute: the program gets an O(1) Hessian. Lasso and elastic
        net already carry scikit-learn's 1/(2n); least squares and ridge are divided by 2n
        here (same minimiser), and ``objective_`` is reported on scikit-learn's scale
        (``result_.model_objective``).
        """
        scale, l1, l2 = self._weights(n)
        factor = 2.0 * n if scale == 1.0 else 1.0
        return scale / factor, l1 / factor, l2 / factor, factor

    def _validate_fit(self, X, y):
        # NaN / inf are found in the statistics of the Gram step (one pass over X less)
        return super()._validate_fit(X, y, ensure_all_finite=False)

    def _problem(self, X, y) -> tuple[LeastSquaresProblem, float]:
        """The structured problem of ``(X, y)`` and the objective's ``factor``."""
        n, p = X.shape
        lo, hi = coef_bounds(p, self.positive, self.coef_bounds)
        s, l1, l2, factor = self._program_weights(n)
        prob = LeastSquaresProblem(
            X=X,
            y=y,
            fit_intercept=self.fit_intercept,
            s=s,
            l1=l1,
            l2=l2,
            lo=lo,
            hi=hi,
            name=type(self).__name__,
        )
        return prob, factor

    def build_problem(self, X, y) -> LeastSquaresProblem:
        """The structured problem ``fit(X, y)`` solves: what the special solver
        ``"active-set"`` takes; its ``.program`` is what general solvers take (the same
        instance, so ``optml.bench.compare`` can compare them)."""
        self._check_params()
        X, y = self._validate_fit(X, y)
        return self._problem(X, y)[0]

    def _build(self, X, y, settings=None):
        prob, factor = self._problem(X, y)
        return prob.build_program(), {"problem": prob, "factor": factor}

    def _fit_program_context(self, X, y, settings):
        prob, factor = self._problem(X, y)
        return {"problem": prob, "factor": factor}

    def _add_intercept_variable(self, prog, ctx, X, y) -> None:
        r"""The intercept :math:`b` as a variable of the centred (Gram-form) program: the
        un-centred loss is :math:`s\|y - Xw - b\|^2 = s\|y_c - X_c w\|^2 + s\,n(\bar y -
        \bar x^\top w - b)^2`, so adding the last term gives the same minimiser, with
        :math:`b = \bar y - \bar x^\top w` at the optimum unless a constraint says
        otherwise."""
        from optml.program.atoms import sum_squares

        if not self.fit_intercept:
            super()._add_intercept_variable(prog, ctx, X, y)
        prob = ctx["problem"]
        xm, ym = prob.moments[:2]
        w = prog.variables["coef"]
        b = prog.var("intercept", (), latex="b")
        n = X.shape[0]
        prog.minimize(prog.objective + (prob.s * n) * sum_squares(ym - xm @ w - b))
        prog.metadata["intercept_variable"] = True

    def _route(self, settings):
        """``(solve the structured problem?, solver name)`` from ``method``, ``backend``,
        ``solver`` and the raw solver options (see the ``method`` parameter)."""
        named = self.solver is not None or self.backend != "auto"
        if self.method == "active_set":
            if self.solver not in (None, _ACTIVE_SET) or self.backend not in ("auto", "optml"):
                raise ValueError(
                    f"method='active_set' is optml's solver 'active-set'; it cannot be combined "
                    f"with backend={self.backend!r}, solver={self.solver!r} (use "
                    "method='program' for another solver)"
                )
            return True, _ACTIVE_SET
        if self.method == "program":
            if self.solver == _ACTIVE_SET:
                raise ValueError(
                    "method='program' hands the program to a general solver; solver='active-set' "
                    "solves the structured problem (use method='auto' or 'active_set')"
                )
            return False, self.solver
        # "auto": raw options are meant for a general solver
        return bool(named or not settings.options), self.solver

    def fit(self, X, y):
        """Fit on the solve path; sets ``coef_``, ``intercept_``, ``objective_``, ``problem_``,
        ``result_`` (and ``program_``, built on first access when the active set solved it)."""
        self._check_params()
        self._check_common_params()
        X, y = self._validate_fit(X, y)
        self.__dict__.pop("program_", None)
        self.__dict__.pop("problem_", None)
        prob, factor = self._problem(X, y)
        settings = self._settings().started()
        structured, solver = self._route(settings)
        try:
            try:
                res = self._solve(
                    prob if structured else prob.program, settings=settings, solver=solver
                )
            except SolveError:
                # HiGHS's QP solver sometimes ends the factor form (used without an l1 term)
                # with "Solve error"; the Gram form is the same QP: a second program solve,
                # on the same clock (see optml.formulations.regression.least_squares_form)
                failed = getattr(self, "result_", None)
                if prob.l1 > 0 or failed is None or failed.backend == "optml":
                    raise
                res = self._solve(prob.with_form("gram").program, settings=settings)
        finally:
            prob.solved = True
            prob.release_data()  # with the Gram data formed, the fit keeps no reference to X
        self.problem_ = prob
        self._unpack(res, {"problem": prob, "factor": factor})
        return self

    def __getattr__(self, name):
        # ``program_`` of an active-set fit is built on first use (it is not needed to fit)
        if name == "program_" and "problem_" in self.__dict__:
            prog = self.__dict__["problem_"].program
            self.__dict__["program_"] = prog
            return prog
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _unpack(self, res, ctx) -> None:
        prob = ctx["problem"]
        self.coef_ = np.asarray(res.values["coef"], dtype=float).copy()
        if "intercept" in res.values:  # a program of build_program(intercept_variable=True)
            self.intercept_ = float(np.asarray(res.values["intercept"]).reshape(-1)[0])
        else:
            self.intercept_ = prob.intercept(self.coef_) if self.fit_intercept else 0.0
        # the program is the objective divided by ``factor``: scikit-learn's scale back
        res.set_model_units(ctx["factor"])
        self.objective_ = float(res.model_objective)


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
        The algorithm family; ``solver=`` names a solver within it. ``"active_set"`` is
        ``solver="active-set"``: optml's primal-dual active-set method on the structured
        problem (:class:`~optml.formulations.regression.LeastSquaresProblem`; a Cholesky
        solve per iteration on the free coefficients), certified by a dual bound and
        re-evaluated on the raw data; a sparse lasso (and the elastic net with more features
        than samples) is solved on a growing working set of features, without the full Gram
        matrix, and certified on all features from the raw data. Named, it does not fall
        back: a fit it cannot certify raises :class:`~optml.exceptions.SolveError`.
        ``"program"``: the QP goes to a general solver (``backend``/``solver``, HiGHS by
        default) and is certified by optml's Lagrangian bound. ``"auto"``: the solve path's
        choice, i.e. ``solver`` when one is named (``"active-set"`` included), else the
        active-set method, which hands the program to a general solver when it cannot
        certify; raw ``solver_options`` (other than ``threads``/``seed``) are meant for a
        general solver and select ``"program"``.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Solver settings (see :class:`optml.Program.solve`); ``solver_options={"threads": k}``
        limits the active set's BLAS threads.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    objective_ : float
        Optimal value of the objective above (on the un-centred data, at ``intercept_``),
        ``result_.model_objective``. For least squares and ridge the program minimises this
        objective divided by :math:`2n` (same minimiser, solver tolerances suited to an O(1)
        Hessian): ``result_.objective``/``bound``/``gap`` are in the program's units, and
        ``result_.model_objective``/``model_bound`` on scikit-learn's scale.
    problem_ : optml.formulations.regression.LeastSquaresProblem
        The structured problem that was solved (data and penalties).
    program_ : optml.Program
        The program of that problem (``build_program(X, y)`` rebuilds it; after an
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
        self,
        *,
        fit_intercept=True,
        positive=False,
        coef_bounds=None,
        method="auto",
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
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


class _AlphaLeastSquares(_PenalizedLeastSquares):
    """The least-squares estimators with one penalty weight ``alpha`` (ridge, lasso)."""

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        positive=False,
        coef_bounds=None,
        method="auto",
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


class Ridge(_AlphaLeastSquares):
    __doc__ = (
        r"""Ridge regression (Hoerl and Kennard 1970) with scikit-learn's objective.

    .. math:: \min_{w,b}\ \|y - Xw - b\|_2^2 + \alpha\|w\|_2^2

    Parameters
    ----------
    alpha : float, default 1.0
        Penalty weight, >= 0."""
        + _COMMON_DOC
    )

    def _weights(self, n):
        return 1.0, 0.0, float(self.alpha)


class Lasso(_AlphaLeastSquares):
    __doc__ = (
        r"""The lasso (Tibshirani 1996) with scikit-learn's objective.

    .. math:: \min_{w,b}\ \frac{1}{2n}\|y - Xw - b\|_2^2 + \alpha\|w\|_1

    Parameters
    ----------
    alpha : float, default 1.0
        Penalty weight, >= 0."""
        + _COMMON_DOC
    )

    def _weights(self, n):
        return 0.5 / n, float(self.alpha), 0.0


class ElasticNet(_AlphaLeastSquares):
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
        self,
        alpha=1.0,
        *,
        l1_ratio=0.5,
        fit_intercept=True,
        positive=False,
        coef_bounds=None,
        method="auto",
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
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
        check_fraction("l1_ratio", self.l1_ratio, closed=True)

    def _weights(self, n):
        a, r = float(self.alpha), float(self.l1_ratio)
        return 0.5 / n, a * r, 0.5 * a * (1.0 - r)
