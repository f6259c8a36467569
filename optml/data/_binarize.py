r"""Threshold (binary) encoding of numeric features, as used by optimal-tree formulations.

Each binary column is an indicator :math:`b_{i,(j,t)} = \mathbb 1[x_{ij} \le t]` for a
feature ``j`` and a threshold ``t``. With ``thresholds="all"`` the thresholds of feature
``j`` are the midpoints between its consecutive distinct values, so every split a tree can
make on the data is one binary column (Verwer and Zhang, 2019; Aghaei, Gómez and Vayanos,
2021). An integer ``q`` keeps at most ``q - 1`` of those midpoints, placed at the
quantiles ``1/q, ..., (q-1)/q``.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence

import numpy as np


class Thresholds:
    r"""The (feature, threshold) pairs behind a binarised matrix.

    Column ``c`` of the binary matrix is :math:`\mathbb 1[x_{f_c} \le t_c]` with
    ``f_c = features[c]`` and ``t_c = values[c]``. :meth:`transform` applies the same
    encoding to new data; :attr:`names` gives readable column names such as
    ``"x3 <= 2.5"``, so a tree learnt on the binary columns can be printed and applied in
    the original units.

    Parameters
    ----------
    features : array-like of int
        Feature (column of the original ``X``) of each binary column.
    values : array-like of float
        Threshold of each binary column.
    n_features_in : int
        Number of columns of the original ``X``.
    feature_names : sequence of str, optional
        Names of the original columns (default ``x0, x1, ...``).
    """

    def __init__(
        self,
        features,
        values,
        n_features_in: int,
        feature_names: Sequence[str] | None = None,
    ) -> None:
        self.features = np.asarray(features, dtype=np.int64).reshape(-1)
        self.values = np.asarray(values, dtype=np.float64).reshape(-1)
        if self.features.shape != self.values.shape:
            raise ValueError("features and values must have the same length.")
        self.n_features_in = int(n_features_in)
        if self.features.size and (
            self.features.min() < 0 or self.features.max() >= self.n_features_in
        ):
            raise ValueError("a feature index is out of range for n_features_in.")
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(self.n_features_in)]
        self.feature_names = [str(f) for f in feature_names]
        if len(self.feature_names) != self.n_features_in:
            raise ValueError(
                f"{len(self.feature_names)} feature names for {self.n_features_in} features."
            )

    def __len__(self) -> int:
        return int(self.features.size)

    def __iter__(self) -> Iterator[tuple[int, float]]:
        return iter(zip(self.features.tolist(), self.values.tolist(), strict=True))

    def __getitem__(self, c: int) -> tuple[int, float]:
        return int(self.features[c]), float(self.values[c])

    def __repr__(self) -> str:
        return f"Thresholds({len(self)} thresholds on {self.n_features_in} features)"

    def to_list(self) -> list[tuple[int, float]]:
        """The ``(feature, threshold)`` pairs, one per binary column."""
        return list(self)

    @property
    def names(self) -> list[str]:
        """Readable name of each binary column, e.g. ``"petal length (cm) <= 2.45"``."""
        return [self.name(c) for c in range(len(self))]

    def name(self, c: int, negate: bool = False) -> str:
        """Name of binary column ``c``; ``negate=True`` gives the complement (``>``)."""
        f, t = self[c]
        return f"{self.feature_names[f]} {'>' if negate else '<='} {_fmt(t)}"

    def for_feature(self, j: int) -> np.ndarray:
        """Thresholds of original feature ``j``, in increasing order."""
        return self.values[self.features == j]

    def transform(self, X, dtype=np.float64) -> np.ndarray:
        """Binary matrix of ``X``: column ``c`` is ``X[:, features[c]] <= values[c]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)
        dtype : numpy dtype, default float64

        Returns
        -------
        ndarray of shape (n_samples, len(self))
        """
        X = _as_2d_finite(X, "X")
        if X.shape[1] != self.n_features_in:
            raise ValueError(
                f"X has {X.shape[1]} features, but these thresholds were built for "
                f"{self.n_features_in}."
            )
        return (X[:, self.features] <= self.values[None, :]).astype(dtype)


def _fmt(t: float) -> str:
    s = f"{t:.6g}"
    return s if float(s) == t else repr(float(t))


def _as_2d_finite(X, what: str) -> np.ndarray:
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):
        X = X.to_numpy()
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be numeric; could not convert it to floats: {exc}") from exc
    if A.ndim != 2:
        raise ValueError(
            f"{what} must be 2-D (n_samples, n_features), got shape {A.shape}; reshape a "
            "single feature with X.reshape(-1, 1)."
        )
    bad = ~np.isfinite(A)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"{what} has a non-finite value ({A[i, j]}) at row {i}, column {j}; remove or "
            "impute it first."
        )
    return A


def binarize(
    X,
    thresholds: str | int = "all",
    feature_names: Sequence[str] | None = None,
    dtype=np.float64,
) -> tuple[np.ndarray, Thresholds]:
    r"""Threshold encoding of the columns of ``X`` for optimal-tree formulations.

    For feature :math:`j` with sorted distinct values :math:`u_1 < \dots < u_m`, the
    candidate thresholds are the midpoints :math:`t_r = (u_r + u_{r+1})/2`,
    :math:`r = 1..m-1`, and each kept threshold gives the column
    :math:`\mathbb 1[x_j \le t_r]`. Constant columns give no thresholds. Columns are
    ordered by feature, then by increasing threshold.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Finite numeric data (a pandas DataFrame's column names are used as feature names).
    thresholds : "all" or int, default "all"
        ``"all"``: every midpoint. An integer ``q >= 2``: quantile bins -- for each level
        :math:`\ell/q`, :math:`\ell = 1..q-1`, the midpoint just above the
        :math:`\ell/q` quantile of the feature (duplicates removed), so at most ``q - 1``
        thresholds per feature, always a subset of the ``"all"`` thresholds.
    feature_names : sequence of str, optional
        Names used in :attr:`Thresholds.names` (default ``x0, x1, ...``).
    dtype : numpy dtype, default float64
        Dtype of the binary matrix (``np.uint8`` saves memory, but beware of overflow in
        integer arithmetic).

    Returns
    -------
    Xb : ndarray of shape (n_samples, n_thresholds)
    thresholds : Thresholds
        ``thresholds.transform(X)`` reproduces ``Xb``; ``thresholds.names`` labels its
        columns.

    Examples
    --------
    >>> import numpy as np
    >>> from optml import data
    >>> X = np.array([[1.0, 0.0], [2.0, 0.0], [4.0, 0.0]])
    >>> Xb, th = data.binarize(X)
    >>> Xb
    array([[1., 1.],
           [0., 1.],
           [0., 0.]])
    >>> th.names
    ['x0 <= 1.5', 'x0 <= 3']
    """
    if feature_names is None and hasattr(X, "columns"):
        feature_names = [str(c) for c in X.columns]
    A = _as_2d_finite(X, "X")
    if A.shape[0] == 0:
        raise ValueError("X has no rows; cannot derive thresholds from no data.")
    if isinstance(thresholds, str):
        if thresholds != "all":
            raise ValueError(f'thresholds must be "all" or an int >= 2, got {thresholds!r}.')
        q = None
    elif isinstance(thresholds, numbers.Integral) and not isinstance(thresholds, bool):
        q = int(thresholds)
        if q < 2:
            raise ValueError(f"thresholds (number of quantile bins) must be >= 2, got {q}.")
    else:
        raise TypeError(f'thresholds must be "all" or an int >= 2, got {thresholds!r}.')
    feats, vals = [], []
    for j in range(A.shape[1]):
        u = np.unique(A[:, j])
        if u.size < 2:
            continue
        mids = (u[:-1] + u[1:]) / 2.0
        # guard against rounding when two values are adjacent floats: keep u_r < t < u_{r+1}
        mids = np.where((mids > u[:-1]) & (mids < u[1:]), mids, u[:-1])
        if q is not None:
            levels = np.arange(1, q) / q
            qv = np.quantile(A[:, j], levels)
            # the largest distinct value <= the quantile, then the midpoint just above it
            r = np.searchsorted(u, qv, side="right") - 1
            r = np.unique(r[(r >= 0) & (r < u.size - 1)])
            mids = mids[r]
        feats.append(np.full(mids.size, j))
        vals.append(mids)
    features = np.concatenate(feats) if feats else np.empty(0, dtype=np.int64)
    values = np.concatenate(vals) if vals else np.empty(0)
    th = Thresholds(features, values, A.shape[1], feature_names)
    return th.transform(A, dtype=dtype), th
