"""One set of parameter checks for every estimator (scikit-learn's messages: what was expected,
what came, how to fix it).

Each check returns the value converted (``int``, ``float``, ``bool``) or raises ``TypeError``
(wrong type) / ``ValueError`` (wrong value) naming the parameter.
"""

from __future__ import annotations

import numbers

import numpy as np


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (not a bool) in ``[minimum, maximum]``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        lo = "-inf" if minimum is None else minimum
        hi = "inf" if maximum is None else maximum
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def check_nonneg(name: str, value, allow_zero: bool = True) -> float:
    """A finite real number >= 0 (or > 0), else a ValueError saying so."""
    ok = _is_real(value) and np.isfinite(value)
    if not ok or value < 0 or (not allow_zero and value == 0):
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {need}, got {value!r}")
    return float(value)


def check_positive(name: str, value, allow_none: bool = False, allow_zero: bool = False):
    """A finite positive number (or >= 0 with ``allow_zero``; None with ``allow_none``)."""
    if value is None and allow_none:
        return None
    ok = _is_real(value) and np.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        what = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{name} must be {what} number, got {value!r}")
    return float(value)


def check_fraction(name: str, value, closed: bool = False) -> float:
    """A number in (0, 1) (or [0, 1] when ``closed``)."""
    ok = _is_real(value) and np.isfinite(value)
    if not ok or not ((0 <= value <= 1) if closed else (0 < value < 1)):
        rng = "in [0, 1]" if closed else "strictly between 0 and 1"
        raise ValueError(f"{name} must be a number {rng}, got {value!r}")
    return float(value)


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(name: str, value, choices):
    """One of ``choices`` (compared with ``==``)."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value
