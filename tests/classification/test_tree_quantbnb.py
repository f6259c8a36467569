"""The continuous-feature tree solver "quant-bnb": against brute force over every threshold,
against "tree-dp" on every midpoint, time limits, refusals, and the automatic route."""

import time

import numpy as np
import pytest

from optml.algorithms.tree_quant_bnb import QuantBnB
from optml.classification import OptimalClassificationTree
from optml.formulations.tree_continuous import ContinuousTreeProblem
from optml.solve import solve


def _thresholds(x):
    u = np.unique(x)
    return (u[:-1] + u[1:]) / 2


def _leaf(W):
    return W.sum() - W.sum(axis=0).max() if W.size else 0.0


def brute(X, W, d, alpha):
    """Least cost over every tree of depth <= d and every threshold (recursion)."""
    if d == 0 or len(X) <= 1:
        return _leaf(W)
    best = _leaf(W)
    if alpha > 0:
        best = min(best, brute(X, W, d - 1, alpha))
    for j in range(X.shape[1]):
        for t in _thresholds(X[:, j]):
            g = X[:, j] <= t
            best = min(
                best, alpha + brute(X[g], W[g], d - 1, alpha) + brute(X[~g], W[~g], d - 1, alpha)
            )
    return best


def _data(seed, n, p, K, decimals=1, noise=0.3):
    """Continuous data with ties (rounded values) and label noise."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, p)), decimals)
    y = (X[:, 0] + 0.5 * X[:, -1] > 0).astype(int) % K
    flip = rng.random(n) < noise
    y[flip] = rng.integers(0, K, flip.sum())
    return X, y


@pytest.mark.parametrize("seed", range(8))
def test_quantbnb_matches_brute_force(seed):
    K = 2 + seed % 2
    X, y = _data(seed, n=14, p=3, K=K)
    w = np.random.default_rng(seed + 100).integers(1, 4, X.shape[0]).astype(float)
    alpha = [0.0, 0.5][seed % 2]
    for d in (1, 2):
        prob = ContinuousTreeProblem(X, y, w, K, d, alpha=alpha)
        res = solve(prob)
        ref = brute(X, prob.class_weights, d, alpha)
        assert res.status == "optimal" and res.verified
        assert res.objective == pytest.approx(ref, abs=1e-9)
        assert res.bound == pytest.approx(ref, abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_quantbnb_depth3_brute_force_and_small_splits(seed):
    X, y = _data(seed + 20, n=9, p=2, K=2)
    W = np.eye(2)[y]
    ref = brute(X, W, 3, 0.0)
    for q in (2, 3, 8):
        lb, cost, tree = QuantBnB(X, W, 0.0, splits=q).solve(np.arange(9), 3, root=True)
        assert lb == pytest.approx(ref) and cost == pytest.approx(ref)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_quantbnb_agrees_with_tree_dp_on_all_midpoints(depth):
    X, y = _data(7, n=40, p=4, K=2, decimals=2, noise=0.25)
    dp = OptimalClassificationTree(max_depth=depth, thresholds="all").fit(X, y)
    assert dp.formulation_ == "dp"
    qb = OptimalClassificationTree(max_depth=depth, solver="quant-bnb").fit(X, y)
    assert qb.formulation_ == "quant-bnb"
    assert qb.result_.status == "optimal" and qb.result_.verified
    assert qb.objective_ == pytest.approx(dp.objective_)
    assert qb.result_.objective == pytest.approx(dp.result_.objective)
    # a normal fitted tree: predictions match the objective, thresholds are midpoints
    assert (qb.predict(X) != y).sum() == pytest.approx(qb.objective_)
    t = qb.tree_
    for i in np.flatnonzero(t.children_left != -1):
        assert t.threshold[i] in set(_thresholds(X[:, t.feature[i]]))
    assert qb.result_.bound <= qb.result_.objective + 1e-9


def test_quantbnb_program_values_check():
    """The answer written into the every-threshold program's variables checks there too."""
    X, y = _data(3, n=20, p=2, K=2)
    qb = OptimalClassificationTree(max_depth=2, solver="quant-bnb").fit(X, y)
    obj, viol = qb.program_.evaluate(qb.result_.values)
    assert obj == pytest.approx(qb.objective_) and viol <= 1e-9


def test_quantbnb_auto_route_and_time_limit():
    rng = np.random.default_rng(0)
    n, p = 400, 6  # about 2400 thresholds: more than the dynamic programming takes
    X = rng.normal(size=(n, p))
    y = ((X[:, 0] * X[:, 1] > 0) ^ (rng.random(n) < 0.2)).astype(int)
    clf = OptimalClassificationTree(max_depth=2).fit(X, y)
    assert clf.formulation_ == "quant-bnb"
    assert clf.result_.status == "optimal" and clf.result_.verified
    assert clf.objective_ <= clf.cart_objective_ + 1e-9
    t0 = time.perf_counter()
    lim = OptimalClassificationTree(max_depth=3, time_limit=0.5).fit(X, y)
    elapsed = time.perf_counter() - t0
    assert elapsed <= 0.5 * 1.1 + 1.0
    r = lim.result_
    assert r.status in ("time_limit", "optimal")
    assert r.objective <= lim.cart_objective_ + 1e-9
    assert 0 <= r.bound <= r.objective + 1e-9
    if r.status == "time_limit":
        assert r.gap > 0


def test_quantbnb_refusals():
    X, y = _data(1, n=20, p=2, K=2)
    with pytest.raises(ValueError, match="min_samples_leaf"):
        OptimalClassificationTree(max_depth=2, min_samples_leaf=2, solver="quant-bnb").fit(X, y)
    with pytest.raises(ValueError, match="thresholds"):
        OptimalClassificationTree(max_depth=2, thresholds=4, solver="quant-bnb").fit(X, y)
    with pytest.raises(ValueError, match="min_samples_leaf"):
        solve(ContinuousTreeProblem(X, y, np.ones(20), 2, 2, min_samples_leaf=2))
