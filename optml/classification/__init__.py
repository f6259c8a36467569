"""Classification estimators solved as mathematical programs."""

from optml.classification._logistic import LogisticRegression, SparseLogisticRegression
from optml.classification._svm import HardMarginSVM, SoftMarginSVM
from optml.classification._tree import OptimalClassificationTree

__all__ = [
    "HardMarginSVM",
    "LogisticRegression",
    "OptimalClassificationTree",
    "SoftMarginSVM",
    "SparseLogisticRegression",
]
