r"""Certified k-medoids: the p-median MILP and the capacitated p-median (Mulvey–Beck, 1984)."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClusterMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator
from optml._validation import check_int, check_positive
from optml.formulations.clustering import p_median


class KMedoids(ClusterMixin, ProgramEstimator):
    r"""k-medoids solved exactly as the p-median MILP (HiGHS by default).

    .. math::

        \min \sum_{i,j} D_{ij} x_{ij} \ \text{s.t.}\ \sum_j x_{ij} = 1,\ x_{ij} \le y_j,\
        \sum_j y_j = k,\ y \in \{0, 1\}^n,

    plus :math:`\sum_i x_{ij} \le Q y_j` (and binary :math:`x`) with ``capacity`` :math:`Q`.

    Parameters
    ----------
    n_clusters : int
    metric : "euclidean", "sqeuclidean", "manhattan", callable or "precomputed"
        A callable takes two points and returns their dissimilarity; "precomputed" takes a
        square dissimilarity matrix as ``X``.
    capacity : int or None
        Largest number of points a medoid may serve.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        As for every optml estimator (``mip_gap`` defaults to 1e-4).

    Attributes
    ----------
    medoid_indices_, labels_, cluster_centers_ (not with "precomputed"), inertia_,
    program_, result_
    """

    def __init__(
        self,
        n_clusters=8,
        metric="euclidean",
        capacity=None,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.n_clusters = n_clusters
        self.metric = metric
        self.capacity = capacity
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _dist(self, A, B):
        m = self.metric
        if callable(m):
            return np.array([[float(m(a, b)) for b in B] for a in A])
        diff = A[:, None, :] - B[None]
        if m == "euclidean":
            return np.sqrt((diff**2).sum(axis=2))
        if m == "sqeuclidean":
            return (diff**2).sum(axis=2)
        if m == "manhattan":
            return np.abs(diff).sum(axis=2)
        raise ValueError(
            f"metric must be 'euclidean', 'sqeuclidean', 'manhattan', 'precomputed' or a "
            f"callable, got {m!r}"
        )

    def _dissimilarity(self, X):
        if isinstance(self.metric, str) and self.metric == "precomputed":
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    f"metric='precomputed' needs a square dissimilarity matrix, got {X.shape}"
                )
            return X
        return self._dist(X, X)

    def build_program(self, X, y=None):
        """The (capacitated) p-median program for ``X``."""
        X = np.asarray(X, dtype=float)
        return p_median(self._dissimilarity(X), self.n_clusters, self.capacity)

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=1)
        n = X.shape[0]
        k = check_int("n_clusters", self.n_clusters, minimum=1)
        if k > n:
            raise ValueError(f"n_clusters={k} is larger than n_samples={n}; use at most {n}")
        cap = check_positive("capacity", self.capacity, allow_none=True)
        if cap is not None and cap * k < n:
            raise ValueError(
                f"capacity={self.capacity} x n_clusters={k} < n_samples={n}: no assignment "
                f"fits; raise capacity or n_clusters"
            )
        D = self._dissimilarity(X)
        if not np.isfinite(D).all():
            raise ValueError("the dissimilarities contain NaN or inf")
        prog = p_median(D, k, cap)
        res = self._solve(prog, mip=True)
        yv = res.values["y"] > 0.5
        med = np.flatnonzero(yv)
        xv = res.values["x"][:, med]
        self.medoid_indices_ = med
        self.labels_ = xv.argmax(axis=1)
        self.inertia_ = float(D[np.arange(n), med[self.labels_]].sum())
        if not (isinstance(self.metric, str) and self.metric == "precomputed"):
            self.cluster_centers_ = X[med]
        self._X_fit = X
        return self

    def predict(self, X):
        """Nearest medoid (for "precomputed", X holds dissimilarities to the training points)."""
        check_is_fitted(self, "medoid_indices_")
        if isinstance(self.metric, str) and self.metric == "precomputed":
            X = validate_data(self, X, dtype=np.float64, reset=False)
            return X[:, self.medoid_indices_].argmin(axis=1)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._dist(X, self.cluster_centers_).argmin(axis=1)
