"""Tiny models for the bench tests, given to suites as ``bench_testmodels:<function>``.

Each is a function ``(X, y, **params) -> Program`` whose optimum the tests recompute
independently (scipy's linprog, or enumeration).
"""

from __future__ import annotations

import itertools

import numpy as np

import optml as om


def lad(X, y, scale: float = 1.0):
    """Least absolute deviations ``min sum |y - X b|`` as an LP (no intercept)."""
    n, p = X.shape
    prog = om.Program("lad")
    b = prog.var("b", p, lb=None)
    r = prog.var("r", n, lb=0)
    s = prog.var("s", n, lb=0)
    prog.add(X @ b + r - s == scale * y)
    prog.minimize(om.sum(r) + om.sum(s))
    return prog


def knapsack_data(X, y, items: int = 8):
    """Values ``|y|`` and weights ``1 + |X[:, 0]|`` of the first ``items`` samples."""
    v = np.abs(np.asarray(y, float)[:items])
    w = 1.0 + np.abs(np.asarray(X, float)[:items, 0])
    return v, w, 0.4 * w.sum()


def knapsack(X, y, items: int = 8):
    """A 0-1 knapsack MILP: ``max v'x  s.t.  w'x <= W``."""
    v, w, cap = knapsack_data(X, y, items)
    prog = om.Program("knapsack")
    x = prog.var("x", items, domain="binary")
    prog.add(w @ x <= cap)
    prog.maximize(v @ x)
    return prog


def knapsack_brute(X, y, items: int = 8) -> float:
    v, w, cap = knapsack_data(X, y, items)
    best = 0.0
    for bits in itertools.product((0, 1), repeat=items):
        x = np.array(bits, float)
        if w @ x <= cap + 1e-9:
            best = max(best, float(v @ x))
    return best


def lad_linprog(X, y, scale: float = 1.0) -> float:
    from scipy.optimize import linprog

    n, p = X.shape
    c = np.r_[np.zeros(p), np.ones(2 * n)]
    A = np.hstack([X, np.eye(n), -np.eye(n)])
    bounds = [(None, None)] * p + [(0, None)] * (2 * n)
    res = linprog(c, A_eq=A, b_eq=scale * np.asarray(y, float), bounds=bounds, method="highs")
    assert res.status == 0
    return float(res.fun)


class LADModel:
    """An estimator-like wrapper (``build_program`` and ``get_params``) for ``compare``."""

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def get_params(self, deep: bool = True) -> dict:
        return {"scale": self.scale}

    def build_program(self, X, y):
        return lad(X, y, self.scale)


def broken(X, y, scale: float = 1.0):
    """A model whose build fails in the worker (data-dependent): the task cannot run."""
    raise ValueError(f"broken model: cannot build on data of shape {X.shape}")


def knapsack_big(X, y, items: int = 30):
    """A 0-1 knapsack MILP large enough for a branch-and-bound log (a maximisation)."""
    rng = np.random.default_rng(items)
    v = rng.integers(10, 100, items).astype(float)
    w = v + rng.integers(-5, 6, items)  # strongly correlated: hard for its size
    prog = om.Program("knapsack_big")
    x = prog.var("x", items, domain="binary")
    prog.add(w @ x <= 0.5 * w.sum())
    prog.maximize(v @ x + 7.0)  # a constant the solvers never see
    return prog
