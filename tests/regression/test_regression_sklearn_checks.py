"""scikit-learn's own estimator checks on every regression estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from optml.regression import (
    BestSubsetRegression,
    ElasticNet,
    HuberRegression,
    Lasso,
    LeastAbsoluteDeviation,
    LeastSquares,
    LeastTrimmedSquares,
    QuantileRegression,
    Ridge,
    SupportVectorRegression,
)

CONVEX = [
    LeastSquares(),
    Ridge(),
    Lasso(alpha=0.01),
    ElasticNet(alpha=0.01),
    LeastAbsoluteDeviation(),
    QuantileRegression(alpha=0.0),
    SupportVectorRegression(C=10.0),
]


@parametrize_with_checks(CONVEX)
def test_sklearn_checks_convex(estimator, check):
    check(estimator)


@parametrize_with_checks([HuberRegression()])
def test_sklearn_checks_huber(estimator, check):
    check(estimator)


# time limits: some checks fit tie-heavy targets (y = arange(n) % 3) on which certifying LTS
# takes minutes; a time-limited fit returns its incumbent, which is all the checks need
MIP = [
    BestSubsetRegression(k=1, time_limit=5.0),
    LeastTrimmedSquares(n_starts=2, time_limit=2.0),
]


@pytest.mark.slow  # ~90 MIQP fits (about 2 min on 2 cores): run with -m slow
@parametrize_with_checks(MIP)
def test_sklearn_checks_mip(estimator, check):
    pytest.importorskip("pyscipopt", reason="the MIQP estimators need SCIP")
    check(estimator)
