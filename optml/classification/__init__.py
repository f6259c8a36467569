"""Classification estimators solved as mathematical programs."""

from optml.classification._tree import OptimalClassificationTree

__all__ = ["OptimalClassificationTree"]
