"""Robust optimal trees (Vos and Verwer 2022) against brute force over every depth-2 tree with
thresholds on a fine grid (breakpoints, midpoints, ends), leaf reachability from the boxes."""

import numpy as np
import pytest

from optml.adversarial import attack
from optml.classification import OptimalClassificationTree
from optml.classification._robust_tree import RobustOptimalTree
from optml.formulations.robust_tree import reach


def _grid(x, e):
    bp = np.unique(np.concatenate([x - e, x + e]))
    mid = (bp[1:] + bp[:-1]) / 2
    return np.unique(np.concatenate([bp, mid, [bp[0] - 1, bp[-1] + 1]]))


def _subtrees(X, e, K, grid, lo, hi):
    """Pass vectors (n,) of every depth-1 subtree inside the box (lo, hi]."""
    n, p = X.shape
    out = []
    for c in range(K):
        out.append(("leaf", c, reach(X, e, lo, hi)))
    for j in range(p):
        for t in grid[j]:
            hl, lr = hi.copy(), lo.copy()
            hl[j] = min(hl[j], t)
            lr[j] = max(lr[j], t)
            for a in range(K):
                for b in range(K):
                    if a != b:
                        out.append(
                            ("split", (j, t, a, b), reach(X, e, lo, hl), reach(X, e, lr, hi))
                        )
    return out


def _brute(X, y, e, K, depth):
    n, p = X.shape
    grid = [_grid(X[:, j], e[j]) for j in range(p)]
    inf = np.full(p, np.inf)

    def passes(sub, yy):
        if sub[0] == "leaf":
            return ~sub[2] | (yy == sub[1])
        _, (j, t, a, b), r1, r2 = sub
        return (~r1 | (yy == a)) & (~r2 | (yy == b))

    best = max(int(passes(s, y).sum()) for s in _subtrees(X, e, K, grid, -inf, inf))
    if depth == 1:
        return best
    for j in range(p):
        for t in grid[j]:
            hl, lr = inf.copy(), -inf.copy()
            hl[j] = t
            lr[j] = t
            PL = np.array([passes(s, y) for s in _subtrees(X, e, K, grid, -inf, hl)])
            PR = np.array([passes(s, y) for s in _subtrees(X, e, K, grid, lr, inf)])
            tot = (PL[:, None, :] & PR[None, :, :]).sum(axis=2)
            best = max(best, int(tot.max()))
    return best


@pytest.mark.parametrize(
    "seed,depth",
    [
        (0, 1),
        (1, 1),
        (2, 1),
        (0, 2),
        pytest.param(1, 2, marks=pytest.mark.slow),
        pytest.param(2, 2, marks=pytest.mark.slow),
    ],
)
def test_robust_tree_matches_brute_force(seed, depth):
    rng = np.random.default_rng(seed)
    n, p, K = 7, 2, 2 + (seed == 2)
    X = rng.normal(size=(n, p)).round(2)
    y = rng.integers(0, K, n)
    eps = np.array([0.3, 0.15])
    m = RobustOptimalTree(depth, eps=eps, max_thresholds=None).fit(X, y)
    assert m.status_ == "optimal" and m.thresholds_ == "all breakpoints"
    assert m.robust_correct_ == m.bound_ == _brute(X, y, eps, K, depth)


def test_robust_tree_l_inf_attack_agrees_with_its_objective():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=40) > 0).astype(int)
    eps = 0.2
    m = RobustOptimalTree(2, eps=eps, max_thresholds=None).fit(X, y)
    res = attack(m, X, y, eps, norm="inf")
    assert res.robust.sum() == m.robust_correct_
    nominal = OptimalClassificationTree(max_depth=2).fit(X, y)
    assert attack(nominal, X, y, eps).robust.sum() <= m.robust_correct_


def test_robust_tree_bad_input():
    X = np.zeros((4, 2))
    y = [0, 1, 0, 1]
    with pytest.raises(ValueError, match="max_depth"):
        RobustOptimalTree(3).fit(X, y)
    with pytest.raises(ValueError, match="eps"):
        RobustOptimalTree(eps=-1).fit(X, y)
