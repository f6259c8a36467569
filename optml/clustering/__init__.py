"""Clustering solved to certified optimality: :class:`KMeans` (MSSC) and :class:`KMedoids`."""

from optml.clustering._kmeans import KMeans
from optml.clustering._kmedoids import KMedoids

__all__ = ["KMeans", "KMedoids"]
