"""Shared pieces of the regression estimators: validation, prediction, parameter checks."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, check_X_y, validate_data

from optml._base import ProgramEstimator
from optml._validation import check_bool, check_fraction, check_nonneg  # noqa: F401 (re-export)


class LinearProgramRegressor(RegressorMixin, ProgramEstimator):
    """Base of the linear regressors: ``predict = X @ coef_ + intercept_``.

    Subclasses implement ``_build(X, y, settings=None)`` (returning ``(program, context)``;
    ``settings`` are the fit's, clock started, for heuristics to stop in time),
    ``_unpack(res, context)`` (setting ``coef_``/``intercept_``) and may set ``_mip = True``.
    """

    _mip = False

    def _validate_fit(self, X, y, ensure_all_finite=True):
        from optml._data_checks import check_frame

        check_frame(self, X)  # overflow is found in each model's own statistics
        X, y = validate_data(
            self,
            X,
            y,
            y_numeric=True,
            dtype=np.float64,
            multi_output=False,
            ensure_all_finite=ensure_all_finite,
        )
        if X.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples, got n_samples = {X.shape[0]}; "
                "pass more rows"
            )
        return X, np.asarray(y, dtype=np.float64).ravel()

    def build_program(self, X, y, intercept_variable: bool = False):
        r"""The :class:`optml.Program` that ``fit(X, y)`` solves (centred data, if any).

        Change it (add a side constraint, fix a coefficient) and solve it yourself with
        ``program.solve(...)``, or hand it back with :meth:`fit_program` to set ``coef_``,
        ``intercept_`` and the certificate. The coefficients are the variable ``coef``.

        ``intercept_variable=True`` makes sure the intercept is a variable of the program,
        ``intercept`` (in the data's units), so that a constraint can refer to it. Programs
        with an intercept already have it; the least-squares family (which fits on centred
        data, where the intercept drops out) then gets the exact term
        :math:`s\,n(\bar y - \bar x^\top w - b)^2` (zero at the optimum, same minimiser);
        an estimator that cannot say so raises ``ValueError``.
        """
        self._check_params()
        X, y = check_X_y(X, y, y_numeric=True, dtype=np.float64)
        y = np.asarray(y, float).ravel()
        prog, ctx = self._build(X, y)
        if intercept_variable and "intercept" not in prog.variables:
            self._add_intercept_variable(prog, ctx, X, y)
        return prog

    def _add_intercept_variable(self, prog, ctx, X, y) -> None:
        """Add the variable ``intercept`` to a program built without one (see
        :meth:`build_program`); estimators whose program can take it override this."""
        if not getattr(self, "fit_intercept", True):
            raise ValueError(
                f"{type(self).__name__}(fit_intercept=False) has no intercept; set "
                "fit_intercept=True for a program with an intercept variable"
            )
        raise ValueError(
            f"{type(self).__name__}'s program cannot take an intercept variable (it fits on "
            "centred data); constrain the coefficients instead"
        )

    def fit_program(self, program, X, y):
        r"""Fit by solving ``program``: one built by ``build_program(X, y)`` and changed by
        the user (a side constraint, a fixed coefficient, a bound on the intercept).

        Sets ``coef_`` (the variable ``coef``), ``intercept_`` (the variable ``intercept``
        where the program has one, else the estimator's own rule: the centred fit's
        :math:`\bar y - \bar x^\top w`), ``objective_``, ``program_`` and ``result_``, as
        :meth:`fit` does, and ``predict`` uses them. ``X``, ``y`` must be the data the program
        was built from. One clock: ``time_limit`` covers the solve. Raises
        :class:`~optml.exceptions.SolveError` when no point comes back (e.g. the added
        constraints make the program infeasible).
        """
        from optml.program.model import Program

        if not isinstance(program, Program):
            raise TypeError(
                f"fit_program takes the optml.Program of build_program(X, y), got "
                f"{type(program).__name__}"
            )
        self._check_params()
        self._check_common_params()
        X, y = self._validate_fit(X, y)
        coef = program.variables.get("coef")
        if coef is None or coef.size != X.shape[1]:
            raise ValueError(
                f"the program must have the variable 'coef' with one entry per feature "
                f"({X.shape[1]}); got "
                + ("no 'coef'" if coef is None else f"'coef' of shape {coef.shape}")
                + ": build it with build_program(X, y) on the same data"
            )
        mip = program.canonical().is_mip
        settings = self._settings(mip=mip).started()
        ctx = self._fit_program_context(X, y, settings)
        self.__dict__.pop("problem_", None)
        res = self._solve(program, mip=mip, settings=settings)
        self._unpack(res, ctx)
        self.program_ = program
        return self

    def _fit_program_context(self, X, y, settings) -> dict:
        """What :meth:`_unpack` needs besides the solution (by default the context of
        ``_build``, which may rebuild the program; estimators override it when cheaper)."""
        return self._build(X, y, settings=settings)[1]

    def fit(self, X, y):
        """Fit by solving the program; sets ``coef_``, ``intercept_``, ``program_``, ``result_``.

        One clock for the fit: ``time_limit`` covers the heuristics of ``_build`` (a warm
        start) and the solve, which gets the time left."""
        self._check_params()
        self._check_common_params()
        X, y = self._validate_fit(X, y)
        settings = self._settings(mip=self._mip).started()
        prog, ctx = self._build(X, y, settings=settings)
        res = self._solve(prog, warm_start=ctx.get("warm_start"), mip=self._mip, settings=settings)
        self._unpack(res, ctx)
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_

    # hooks
    def _check_params(self) -> None:  # pragma: no cover - overridden
        pass

    def _build(self, X, y, settings=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def _unpack(self, res, ctx) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
