"""Shared pieces of the regression estimators: validation, prediction, parameter checks."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, check_X_y, validate_data

from optml._base import ProgramEstimator


def check_nonneg(name: str, value, allow_zero: bool = True) -> float:
    """A finite real number >= 0 (or > 0), else a ValueError saying so."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if not ok or value < 0 or (not allow_zero and value == 0):
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {need}, got {value!r}")
    return float(value)


def check_fraction(name: str, value, closed: bool = False) -> float:
    """A number in (0, 1) (or [0, 1] when ``closed``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if not ok or not ((0 <= value <= 1) if closed else (0 < value < 1)):
        rng = "in [0, 1]" if closed else "strictly between 0 and 1"
        raise ValueError(f"{name} must be a number {rng}, got {value!r}")
    return float(value)


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


class LinearProgramRegressor(RegressorMixin, ProgramEstimator):
    """Base of the linear regressors: ``predict = X @ coef_ + intercept_``.

    Subclasses implement ``_build(X, y)`` (returning ``(program, context)``), ``_unpack(res,
    context)`` (setting ``coef_``/``intercept_``) and may set ``_mip = True``.
    """

    _mip = False

    def _validate_fit(self, X, y, ensure_all_finite=True):
        X, y = validate_data(
            self, X, y, y_numeric=True, dtype=np.float64, multi_output=False,
            ensure_all_finite=ensure_all_finite,
        )  # fmt: skip
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
        """Fit by solving the program; sets ``coef_``, ``intercept_``, ``program_``, ``result_``."""
        self._check_params()
        self._check_common_params()
        X, y = self._validate_fit(X, y)
        prog, ctx = self._build(X, y)
        res = self._solve(prog, warm_start=ctx.get("warm_start"), mip=self._mip)
        self._unpack(res, ctx)
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_

    # hooks
    def _check_params(self) -> None:  # pragma: no cover - overridden
        pass

    def _build(self, X, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _unpack(self, res, ctx) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
