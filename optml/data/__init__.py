"""Data for optml: bundled data sets, table adapters, synthetic generators, binarisation.

>>> from optml import data
>>> ds = data.load("breast_cancer")                     # a Dataset: X, y, names, task, ...
>>> X, y, beta = data.make_sparse_regression(n=200, p=20, k=5, random_state=0)
>>> Xb, thresholds = data.binarize(ds.X[:, :3], thresholds=4)

* :func:`load`, :func:`list_datasets` -- iris, wine, breast_cancer, diabetes, digits
  (scikit-learn's shipped files) and ruspini, hald, longley, stackloss (shipped with optml); no
  network, a few milliseconds each.
* :func:`from_frame`, :func:`from_csv` -- pandas / CSV tables to a :class:`Dataset`, with
  one-hot encoding of text columns and clear errors for missing values, dates, mixed types,
  ragged rows.
* :func:`make_sparse_regression`, :func:`make_classification_tree`,
  :func:`make_blobs_clustering` -- synthetic data with a known ground truth.
* :func:`binarize`, :class:`Thresholds` -- threshold encoding for optimal trees.
* :func:`load_network`, :func:`sample_network` -- classic discrete Bayesian networks (asia,
  sachs, child, alarm; bnlearn repository) and forward samples from them.

Estimators validate their input with scikit-learn's ``validate_data`` / ``check_X_y``;
this module only prepares data. It imports numpy alone (pandas lazily, scikit-learn only
as a fallback).
"""

from optml.data._bayesnets import (
    DiscreteNetwork,
    list_networks,
    load_network,
    parse_bif,
    sample_network,
)
from optml.data._binarize import Thresholds, binarize
from optml.data._bundled import list_datasets, load
from optml.data._dataset import Dataset
from optml.data._generators import (
    TreeSpec,
    make_blobs_clustering,
    make_classification_tree,
    make_sparse_regression,
    sparse_regression_beta,
)
from optml.data._tabular import from_csv, from_frame

__all__ = [
    "Dataset",
    "DiscreteNetwork",
    "Thresholds",
    "TreeSpec",
    "binarize",
    "from_csv",
    "from_frame",
    "list_datasets",
    "list_networks",
    "load",
    "load_network",
    "make_blobs_clustering",
    "make_classification_tree",
    "make_sparse_regression",
    "parse_bif",
    "sample_network",
    "sparse_regression_beta",
]
