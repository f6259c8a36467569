"""Checks of the data an estimator receives, beyond scikit-learn's ``validate_data``.

* :func:`check_frame`: a pandas DataFrame with text or categorical columns gets a message
  naming them and saying how to encode them (scikit-learn's is "could not convert string to
  float").
* :func:`check_scale`: data whose scale overflows the statistics an estimator derives from
  them (Gram matrix, cluster costs, scaled features, solver coefficients) get a ``ValueError``
  naming the column(s) and suggesting to rescale, before any solve: such data otherwise end
  as a NaN cost, a solver's "Empty" model or a silent all-zero fit.
"""

from __future__ import annotations

import numpy as np

#: the largest matrix entry HiGHS accepts (``large_matrix_value``); larger ones are infinite
#: to LP/MIP solvers
SOLVER_MAX = 1e15
#: the largest float32 (scikit-learn's trees, used for warm starts, copy X to float32)
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: the largest objective coefficient HiGHS takes as finite (``infinite_cost``)
COST_MAX = 1e20


def check_frame(estimator, X) -> None:
    """Refuse a pandas DataFrame with non-numeric (text, categorical) columns, naming them."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "columns") or not hasattr(dtypes, "items"):
        return
    try:
        from pandas.api.types import is_bool_dtype, is_numeric_dtype
    except ImportError:  # pragma: no cover - a frame without pandas
        return
    bad = [
        (str(c), str(dt))
        for c, dt in dtypes.items()
        if not (is_numeric_dtype(dt) or is_bool_dtype(dt))
    ]
    if bad:
        cols = ", ".join(f"{c!r} ({dt})" for c, dt in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise ValueError(
            f"{type(estimator).__name__}: the DataFrame has non-numeric column(s) {cols}{more}; "
            "encode them first: optml.data.from_frame(df, target=...) one-hot encodes text and "
            "categorical columns (or use pandas.get_dummies / sklearn's OneHotEncoder), then fit "
            "on dataset.X"
        )


def _names(estimator, idx) -> str:
    feats = getattr(estimator, "feature_names_in_", None)
    idx = list(idx)
    if feats is not None and len(feats) > max(idx, default=-1):
        shown = [repr(str(feats[j])) for j in idx[:10]]
    else:
        shown = [f"X[:, {j}]" for j in idx[:10]]
    more = f" and {len(idx) - 10} more" if len(idx) > 10 else ""
    return ", ".join(shown) + more


def check_scale(
    estimator,
    X,
    y=None,
    *,
    limit: float | None = None,
    centre: bool = False,
    what: str = "sums of squares",
    stat_limit: float | None = None,
) -> None:
    """Refuse data whose derived statistics overflow float64 (or pass ``limit``).

    The statistic checked per column is ``n * sum_i x_ij**2`` (of the centred column with
    ``centre``): it bounds the Gram matrix, every cluster cost and every squared distance
    an estimator forms. With ``limit``, any ``|x_ij| > limit`` is refused too (the largest
    coefficient a solver takes: :data:`SOLVER_MAX`, or :data:`FLOAT32_MAX` for float32
    copies). With ``stat_limit``, the (centred) total sum of squares, which bounds every
    cluster cost, must not pass it (solvers take costs up to :data:`COST_MAX`). ``y``, when
    given, is checked the same way and named ``y``.

    Raises
    ------
    ValueError
        Naming the estimator, the column(s) and the largest magnitude, with the advice to
        rescale.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    n = max(1, X.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        A = X - X.mean(axis=0) if centre else X
        stat = n * (A * A).sum(axis=0)
        bad = ~np.isfinite(stat)
        if not bad.any() and not np.isfinite(stat.sum()):
            # each column alone is fine, together they overflow: name the largest ones
            order = np.argsort(-stat)
            cum = np.cumsum(stat[order])
            bad[order[: int(np.argmax(~np.isfinite(cum))) + 1]] = True
        if limit is not None:
            bad |= (np.abs(X) > limit).any(axis=0)
        ss = (A * A).sum(axis=0)
        costly = stat_limit is not None and not bad.any() and bool(ss.sum() > stat_limit)
        if costly:  # the columns that carry 90 % of the total
            order = np.argsort(-ss)
            cum = np.cumsum(ss[order])
            bad[order[: int(np.argmax(cum >= 0.9 * cum[-1])) + 1]] = True
    if bad.any() and costly:
        raise ValueError(
            f"{type(estimator).__name__}: column(s) {_names(estimator, np.flatnonzero(bad))} "
            f"make its {what} as large as {float(ss.sum()):.3g}, beyond what solvers take "
            f"({stat_limit:.3g}); rescale those columns (e.g. "
            "sklearn.preprocessing.StandardScaler, or divide them by a power of ten) and fit "
            "again"
        )
    if bad.any():
        idx = np.flatnonzero(bad)
        big = float(np.abs(X[:, idx]).max())
        why = (
            f"values up to {big:.3g} (the solvers take at most {limit:.3g})"
            if limit is not None and big > limit and np.isfinite(stat[idx]).all()
            else f"values up to {big:.3g}, which make its {what} overflow float64"
        )
        raise ValueError(
            f"{type(estimator).__name__}: column(s) {_names(estimator, idx)} hold {why}; "
            "rescale those columns (e.g. sklearn.preprocessing.StandardScaler, or divide them "
            "by a power of ten) and fit again"
        )
    if y is not None:
        yv = np.asarray(y, dtype=float).ravel()
        with np.errstate(over="ignore", invalid="ignore"):
            ys = yv.size * float((yv * yv).sum())
        big = float(np.abs(yv).max()) if yv.size else 0.0
        if not np.isfinite(ys) or (limit is not None and big > limit):
            raise ValueError(
                f"{type(estimator).__name__}: y holds values up to {big:.3g}, which overflow "
                f"its {what}; rescale y (e.g. divide it by a power of ten) and fit again"
            )


class CheckedClassifierData:
    """Mixin for :class:`~optml.classification._linear_base.LinearProgramClassifier`
    subclasses: :func:`check_frame` before scikit-learn's validation, :func:`check_scale`
    after it (with ``_scale_limit``, the largest coefficient its solvers take)."""

    _scale_limit: float | None = None

    def _validate_xy(self, X, y, reset=True):
        check_frame(self, X)
        X, classes, yi = super()._validate_xy(X, y, reset=reset)
        check_scale(self, X, limit=self._scale_limit)
        return X, classes, yi


class CheckedRegressorData:
    """Mixin for :class:`~optml.regression._common.LinearProgramRegressor` subclasses (see
    :class:`CheckedClassifierData`); ``y`` is checked too."""

    _scale_limit: float | None = SOLVER_MAX

    def _validate_fit(self, X, y, ensure_all_finite=True):
        check_frame(self, X)
        X, y = super()._validate_fit(X, y, ensure_all_finite=ensure_all_finite)
        check_scale(self, X, y, limit=self._scale_limit)
        return X, y
