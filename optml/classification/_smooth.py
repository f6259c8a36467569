"""Moved to :mod:`optml.algorithms.newton` (the special solver ``"newton"``); kept as an alias
for one release."""

from optml.algorithms.newton import (  # noqa: F401
    dual_bound,
    huber_hinge_newton,
    l1_lbfgsb,
    newton,
    objective,
)
