"""``tree-dp-regression`` at depth 3-4 and its bounds on tiny random instances: the search
(squared-loss tables of (w, wy), monotone bounds from the nodes it has solved) against an
exhaustive recursion over every tree, and every bound it uses against the exact optimum."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from optml.algorithms.tree_dp_regression import BudgetTreeDP, solve_budget, sse_loss
from optml.formulations.tree_regression import RegressionTreeProblem, regression_data


def _instance(seed, n=14, F=4):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, F)) < 0.5).astype(float)
    y = np.round(rng.normal(size=n) + X[:, 0] - X[:, 1] * X[:, 2], 2)
    w = rng.integers(1, 3, size=n).astype(float)
    return X, y, w


def _exhaustive(Xb, y, w, depth, alpha):
    """The least alpha * splits + weighted SSE over every tree of depth <= depth (plain
    recursion over row sets, no bounds)."""
    P, F = Xb.shape

    def leaf(S):
        m = np.array(S)
        if m.size == 0:
            return 0.0
        mu = np.average(y[m], weights=w[m])
        return float(w[m] @ (y[m] - mu) ** 2)

    @functools.cache
    def opt(S, d):
        best = leaf(S)
        if d == 0 or len(S) <= 1:
            return best
        for f in range(F):
            L = tuple(i for i in S if Xb[i, f])
            R = tuple(i for i in S if not Xb[i, f])
            if L and R:
                best = min(best, alpha + opt(L, d - 1) + opt(R, d - 1))
        return best

    return opt(tuple(range(P)), depth), opt


def _dp(X, y, w, depth, alpha=0.0):
    prob = RegressionTreeProblem(regression_data(X), y, w, depth, alpha=alpha)
    stats, imp = prob.moments()
    return prob, stats, imp


@pytest.mark.parametrize("seed, depth, alpha", [(0, 3, 0.0), (1, 4, 0.0), (2, 4, 0.2)])
def test_regtree_depth4_matches_exhaustive_recursion(seed, depth, alpha):
    X, y, w = _instance(seed)
    want, _ = _exhaustive(X > 0.5, y, w, depth, alpha)
    prob, stats, imp = _dp(X, y, w, depth, alpha)
    node_col, obj, bound, finished, _ = solve_budget(
        prob.data.X, stats, sse_loss, imp, depth, prob.level_masks, alpha
    )
    assert finished
    assert obj == pytest.approx(want, rel=1e-9, abs=1e-9)
    assert bound == pytest.approx(want, rel=1e-9, abs=1e-9)
    assert prob.objective_of(node_col) == pytest.approx(want, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_regtree_bounds_never_above_the_optimum(seed):
    """After a search, every lower bound the search would use for a node (cache, identical
    rows, monotone bounds from solved subsets) is at most that node's optimum, for random
    row sets at every level; so is the partial-cost form of the squared loss exact."""
    X, y, w = _instance(seed + 10, n=12)
    depth = 4
    prob, stats, imp = _dp(X, y, w, depth)
    Xb = prob.data.X > 0.5
    dp = BudgetTreeDP(Xb, stats, sse_loss, imp, depth, prob.level_masks)
    S0 = np.ones(dp.P, dtype=bool)
    dp.search(S0, 0, dp.B, np.inf)
    rng = np.random.default_rng(seed)
    # the optimum of a pattern subset at the depth left below a level
    Xp, inv = Xb, prob.data.inverse
    yc, wc = prob.y, prob.w
    checked = 0
    for _ in range(40):
        S = rng.random(dp.P) < rng.uniform(0.3, 1.0)
        if not S.any():
            continue
        level = int(rng.integers(0, depth))
        rows = np.flatnonzero(S[inv])
        want, _ = _exhaustive(Xp[inv[rows]], yc[rows], wc[rows], depth - level, 0.0)
        assert dp.lower(S, level, dp.B) <= want + 1e-9 * max(1.0, want)
        checked += 1
    assert checked > 20
    assert dp.subsets, "the search kept no node for monotone bounds"
    # partial costs: a partition's loss is sum wy^2 plus the parts' -(wy)^2/w
    T = dp.Mt[S0].sum(axis=0)
    assert float(stats[:, 2].sum() + dp._pcost(T[:, None])[0]) == pytest.approx(
        dp.leaf(S0), rel=1e-12, abs=1e-12
    )
