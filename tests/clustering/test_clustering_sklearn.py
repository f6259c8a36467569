"""scikit-learn's estimator checks on KMeans, KMedoids and SparsePCA.

KMeans certifies every fit (branch and price on the checks' ~30-100 point data sets), which takes
about 5 minutes over all checks on 2 cores: those run with ``-m slow``.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from optml.clustering import KMeans, KMedoids
from optml.decomposition import PCA, SparsePCA


@parametrize_with_checks([SparsePCA(n_nonzero=1)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# about 16 s on 2 shared cores; tests/test_common.py runs the same checks on KMedoids() (the
# default n_clusters=8) in the default suite
@pytest.mark.slow
@parametrize_with_checks([KMedoids(n_clusters=2)])
def test_sklearn_compatible_kmedoids(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks([KMeans(n_clusters=2, random_state=0, time_limit=20)])
def test_sklearn_compatible_kmeans(estimator, check):
    check(estimator)


def test_pca_sklearn_clone_and_params():
    from sklearn.base import clone

    p = PCA(n_components=1)
    assert clone(p).get_params() == p.get_params()
