"""Dimension reduction with certificates: :class:`SparsePCA` and :class:`PCA` (as an SDP)."""

from optml.decomposition._pca import PCA, SparsePCA
from optml.decomposition._pls import PLSRegression, SparsePLS

__all__ = ["PCA", "PLSRegression", "SparsePCA", "SparsePLS"]
