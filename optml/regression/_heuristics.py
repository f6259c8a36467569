"""Incumbents for best subset (moved to :mod:`optml.algorithms.best_subset_heuristics`, where
the special solvers use them too); kept as an alias for existing imports."""

from optml.algorithms.best_subset_heuristics import SubsetProblem

__all__ = ["SubsetProblem"]
