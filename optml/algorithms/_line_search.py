"""The damped Newton step shared by the smooth solvers (logistic, smoothed hinge, Huber).

A Newton direction from the (regularised) Hessian, by least squares where the system is
singular, and Armijo backtracking on the objective (Nocedal and Wright 2006, ch. 3).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["armijo", "newton_direction", "solve_or_lstsq"]


def solve_or_lstsq(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``H^{-1} g``, by least squares when ``H`` is singular."""
    try:
        return np.linalg.solve(H, g)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(H, g, rcond=None)[0]


def newton_direction(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The Newton step ``-H^{-1} g`` (least squares when ``H`` is singular)."""
    return -solve_or_lstsq(H, g)


def armijo(
    f: Callable[[np.ndarray], float],
    th: np.ndarray,
    fv: float,
    step: np.ndarray,
    g: np.ndarray,
    *,
    lr: float = 1.0,
    min_lr: float = 1e-12,
) -> tuple[np.ndarray, float, float]:
    """Backtrack from ``lr`` by halving until ``f(th + lr step) <= fv + 1e-4 lr g'step`` or
    ``lr < min_lr``; returns ``(th + lr step, its value, lr)``."""
    dec = g @ step
    while True:
        new = th + lr * step
        fn = f(new)
        if fn <= fv + 1e-4 * lr * dec or lr < min_lr:
            return new, fn, lr
        lr *= 0.5
