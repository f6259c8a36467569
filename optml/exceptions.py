"""optml's own exceptions. All derive from :class:`OptmlError`."""


class OptmlError(Exception):
    """Base class of every error optml raises on its own account."""


class SolverNotAvailableError(OptmlError, ValueError):
    """The requested backend or solver is unknown, not installed, or cannot take the program."""


class UnsupportedProblemError(OptmlError, ValueError):
    """The program is of a class (or shape) that no installed solver / this solver can handle."""


class ModelingError(OptmlError, ValueError):
    """An expression or constraint that cannot be built (shape mismatch, non-convexity, ...)."""


class SolveError(OptmlError, RuntimeError):
    """A solve produced no usable answer (infeasible where a model needs a solution, solver crash)."""


class SolverAccuracyWarning(UserWarning):
    """A solver returned a point that fails optml's independent numpy check."""
