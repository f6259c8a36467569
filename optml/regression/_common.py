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

    def build_program(self, X, y):
        """The :class:`optml.Program` that ``fit(X, y)`` solves (centred data, if any).

        Change it (add a side constraint, fix a coefficient) and solve it yourself with
        ``program.solve(...)``.
        """
        self._check_params()
        X, y = check_X_y(X, y, y_numeric=True, dtype=np.float64)
        return self._build(X, np.asarray(y, float).ravel())[0]

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
