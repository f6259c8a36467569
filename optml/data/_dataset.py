"""The :class:`Dataset` container returned by every loader in :mod:`optml.data`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

TASKS = ("regression", "classification", "clustering")


@dataclass(eq=False)
class Dataset:
    """A small, numeric data set: a feature matrix, a target and their names.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64
        Features, every entry finite.
    y : ndarray of shape (n_samples,) or None
        Target. Regression: float64 values. Classification: integer class codes
        ``0 .. n_classes - 1`` indexing :attr:`target_names`. Clustering: reference group
        labels (integer codes) when the data set has them, else ``None``.
    feature_names : list of str
        One name per column of ``X``.
    target_names : list of str
        Class (or reference group) names for classification and clustering, indexed by the
        codes in ``y``; for regression a one-element list holding the target's name.
    task : {"regression", "classification", "clustering"}
        What the target is for.
    description : str
        A short human-readable description.
    name : str
        The data set's name (the one :func:`optml.data.load` accepts, or the file / frame it
        came from).
    target_name : str
        Name of the target column (``"target"`` when the source gives none).
    source : str
        Where the data come from (reference).
    license : str
        Terms under which the data are distributed.

    Examples
    --------
    >>> from optml import data
    >>> ds = data.load("iris")
    >>> ds.X.shape, ds.y.shape, ds.task
    ((150, 4), (150,), 'classification')
    >>> ds.feature_names[0], ds.target_names
    ('sepal length (cm)', ['setosa', 'versicolor', 'virginica'])
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    target_names: list[str]
    task: str
    description: str = ""
    name: str = ""
    target_name: str = "target"
    source: str = ""
    license: str = ""
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        X = np.asarray(self.X)
        if X.ndim != 2:
            raise ValueError(f"Dataset.X must be 2-D, got an array of shape {X.shape}.")
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        if self.task not in TASKS:
            raise ValueError(f"Dataset.task must be one of {TASKS}, got {self.task!r}.")
        if len(self.feature_names) != self.X.shape[1]:
            raise ValueError(
                f"Dataset has {self.X.shape[1]} columns but {len(self.feature_names)} "
                "feature names."
            )
        self.feature_names = [str(f) for f in self.feature_names]
        self.target_names = [str(t) for t in self.target_names]
        if self.y is not None:
            self.y = np.asarray(self.y)
            if self.y.shape != (self.X.shape[0],):
                raise ValueError(
                    f"Dataset.y must have shape ({self.X.shape[0]},), got {self.y.shape}."
                )

    @property
    def n_samples(self) -> int:
        """Number of rows of ``X``."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of columns of ``X``."""
        return int(self.X.shape[1])

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, task={self.task!r}, n_samples={self.n_samples}, "
            f"n_features={self.n_features})"
        )

    def to_frame(self):
        """Return the data as a :class:`pandas.DataFrame` (features, then the target).

        Classification and clustering targets become a categorical column whose categories
        are :attr:`target_names` in code order, so ``from_frame(ds.to_frame(),
        target=ds.target_name)`` gives back the same ``X``, ``y`` and names.
        Requires pandas.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is installed in tests
            raise ImportError(
                "Dataset.to_frame needs pandas: pip install pandas (or optml-models[pandas])."
            ) from exc
        frame = pd.DataFrame(self.X, columns=list(self.feature_names))
        if self.y is not None:
            if self.target_name in frame.columns:
                raise ValueError(
                    f"The target name {self.target_name!r} is also a feature name; rename one."
                )
            if self.task == "regression":
                frame[self.target_name] = self.y
            else:
                codes = np.asarray(self.y, dtype=np.int64)
                frame[self.target_name] = pd.Categorical.from_codes(
                    codes, categories=list(self.target_names)
                )
        return frame
