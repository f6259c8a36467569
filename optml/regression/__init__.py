"""Regression as mathematical programs: least squares to certified best subset.

* :class:`LeastSquares`, :class:`Ridge`, :class:`Lasso`, :class:`ElasticNet` -- scikit-learn's
  objectives, solved as QPs in the n-independent Gram form;
* :class:`LeastAbsoluteDeviation`, :class:`QuantileRegression` -- LPs;
  :class:`HuberRegression` -- scikit-learn's joint-scale Huber objective as an SOCP;
  :class:`SupportVectorRegression` -- the epsilon-insensitive primal QP;
* :class:`BestSubsetRegression` -- certified best subset (big-M from the data, SOS1,
  perspective), with "algorithmic regression" side constraints; :class:`LeastTrimmedSquares`;
* :func:`lasso_path`, :func:`best_subset_path` -- regularisation paths.

See ``docs/regression.md`` for the models in LaTeX and their references.
"""

from optml.regression._alamo import ALAMORegression
from optml.regression._linear import ElasticNet, Lasso, LeastSquares, Ridge
from optml.regression._path import lasso_path
from optml.regression._piecewise import PiecewiseLinearRegression
from optml.regression._robust import (
    HuberRegression,
    LeastAbsoluteDeviation,
    QuantileRegression,
    SupportVectorRegression,
)
from optml.regression._subset import BestSubsetRegression, best_subset_path
from optml.regression._tree import OptimalRegressionTree
from optml.regression._trimmed import LeastTrimmedSquares

__all__ = [
    "ALAMORegression",
    "BestSubsetRegression",
    "ElasticNet",
    "HuberRegression",
    "Lasso",
    "LeastAbsoluteDeviation",
    "LeastSquares",
    "LeastTrimmedSquares",
    "OptimalRegressionTree",
    "PiecewiseLinearRegression",
    "QuantileRegression",
    "Ridge",
    "SupportVectorRegression",
    "best_subset_path",
    "lasso_path",
]
