"""quant-bnb's early bound: at the root of a depth-3 search every feature's middle cut is
bounded first (its children solved below a quarter of the incumbent), so a time limit returns
a nonzero bound sooner. The bound never exceeds the optimum (brute force over every threshold
on tiny data), and the search's answers stay those of brute force."""

import time

import numpy as np
import pytest

from optml.algorithms.tree_quant_bnb import QuantBnB, _Local, _Search, solve_continuous_tree
from optml.formulations.tree_continuous import ContinuousTreeProblem


def _thresholds(x):
    u = np.unique(x)
    return (u[:-1] + u[1:]) / 2


def _leaf(W):
    return W.sum() - W.sum(axis=0).max() if W.size else 0.0


def _brute(X, W, d):
    if d == 0 or len(X) <= 1:
        return _leaf(W)
    best = _leaf(W)
    for j in range(X.shape[1]):
        for t in _thresholds(X[:, j]):
            g = X[:, j] <= t
            best = min(best, _brute(X[g], W[g], d - 1) + _brute(X[~g], W[~g], d - 1))
    return best


def _coarse_bound(X, W, inc):
    b = QuantBnB(X, W)
    idx = np.arange(X.shape[0])
    loc = _Local(b.X, b.W, idx, b.dt)
    s = _Search(b, loc, 3, inc, b.leaf(b.W), True)
    s._coarse()
    return s.bound(), s.best[0]


@pytest.mark.parametrize("seed", range(4))
def test_quant_coarse_bound_below_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    n = 10
    X = np.round(rng.normal(size=(n, 2)), 1)
    y = ((X[:, 0] > 0) ^ (rng.random(n) < 0.3)).astype(int)
    W = np.eye(2)[y] * rng.integers(1, 3, size=(n, 1))
    opt = _brute(X, W, 3)
    for inc in (np.inf, opt + 1.0, max(opt, 1.0)):
        lb, best = _coarse_bound(X, W, inc)
        assert lb <= opt + 1e-9
        assert best >= opt - 1e-9  # the incumbent is a real tree
    # the whole search (the coarse pass, then the cuts it bounded evaluated exactly)
    prob = ContinuousTreeProblem(X, y, W.sum(axis=1), 2, 3)
    _, _, obj, bound, finished, _ = solve_continuous_tree(prob)
    assert finished and obj == pytest.approx(opt) and bound == pytest.approx(opt)


@pytest.mark.parametrize("seed", range(3))
def test_quant_coarse_bound_below_certified_optimum(seed):
    """Larger noisy sets (children cut off below low incumbents): the coarse bound is at
    most the optimum the full search certifies (itself checked against brute force and
    tree-dp above and in test_tree_quantbnb.py)."""
    rng = np.random.default_rng(seed + 50)
    n = 40
    X = np.round(rng.normal(size=(n, 3)), 2)
    y = ((X[:, 0] + X[:, 1] > 0) ^ (rng.random(n) < 0.25)).astype(int)
    W = np.eye(2)[y]
    _, _, opt, bound, finished, _ = solve_continuous_tree(
        ContinuousTreeProblem(X, y, np.ones(n), 2, 3)
    )
    assert finished and bound == pytest.approx(opt)
    for inc in (0.5, 1.0, 2.0, opt, opt + 1.0, np.inf):
        lb, best = _coarse_bound(X, W, inc)
        assert lb <= opt + 1e-9, (inc, lb, opt)
        assert best >= opt - 1e-9


@pytest.mark.slow  # about 20 s of CPU: the optimum of raw breast cancer at depth 3
def test_quant_breast_cancer_depth3_bound_early_and_valid():
    from sklearn.datasets import load_breast_cancer

    from optml.classification import OptimalClassificationTree

    X, y = load_breast_cancer(return_X_y=True)
    W = np.eye(2)[y]
    full = OptimalClassificationTree(max_depth=3).fit(X, y)
    assert full.formulation_ == "quant-bnb" and full.result_.status == "optimal"
    opt = full.result_.objective
    # what a time limit returns once the coarse pass is over (independent of the load)
    lb, _ = _coarse_bound(X, W, full.cart_objective_)
    assert 0 < lb <= opt + 1e-9
    t0 = time.perf_counter()
    short = OptimalClassificationTree(max_depth=3, time_limit=10).fit(X, y)
    assert time.perf_counter() - t0 <= 10 * 1.1 + 1.0
    r = short.result_
    assert 0 <= r.bound <= opt + 1e-9 and r.objective >= opt - 1e-9
