"""Classification estimators solved as mathematical programs."""

from optml.classification._kernel import KernelSVM
from optml.classification._lda import FisherLDA
from optml.classification._logistic import LogisticRegression, SparseLogisticRegression
from optml.classification._ordinal import SupportVectorOrdinalRegression
from optml.classification._robust import RobustLogisticRegression, RobustSVM
from optml.classification._sparse import RampLossSVM, SparseSVM
from optml.classification._svm import HardMarginSVM, SoftMarginSVM
from optml.classification._tree import OptimalClassificationTree

__all__ = [
    "FisherLDA",
    "HardMarginSVM",
    "KernelSVM",
    "LogisticRegression",
    "OptimalClassificationTree",
    "RampLossSVM",
    "RobustLogisticRegression",
    "RobustSVM",
    "SoftMarginSVM",
    "SparseLogisticRegression",
    "SparseSVM",
    "SupportVectorOrdinalRegression",
]
