"""Dimension reduction with certificates: :class:`SparsePCA` and :class:`PCA` (as an SDP)."""

from optml.decomposition._pca import PCA, SparsePCA

__all__ = ["PCA", "SparsePCA"]
