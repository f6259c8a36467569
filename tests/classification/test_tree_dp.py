"""The "tree-dp" solver (dynamic programming with bounds) against brute-force enumeration of
every tree on tiny random binary data, and against HiGHS on the same TreeProblem's program."""

import time

import numpy as np
import pytest

from optml.algorithms.tree_dp import TreeDP, from_heap, to_heap
from optml.formulations.tree_data import aggregate, split_mask
from optml.formulations.tree_problem import TreeProblem
from optml.program.settings import SolveSettings
from optml.solve import solve


def brute(Xb, y, w, depth, alpha=0.0, m=1, level_masks=None):
    """Best objective over every tree of depth <= depth on binary columns (plain recursion).

    A node is a leaf (>= m samples), a split on an allowed column, or (as the programs'
    "no split" column does) passes its samples to a subtree one level down."""
    K = int(y.max()) + 1
    F = Xb.shape[1]
    LM = np.ones((depth, F), dtype=bool) if level_masks is None else level_masks

    def rec(idx, lv):
        cnt = np.bincount(y[idx], weights=w[idx], minlength=K)
        best = cnt.sum() - cnt.max() if idx.size >= m else np.inf
        if lv == depth:
            return best
        best = min(best, rec(idx, lv + 1))
        for f in np.flatnonzero(LM[lv]):
            left = Xb[idx, f] > 0.5
            best = min(best, alpha + rec(idx[left], lv + 1) + rec(idx[~left], lv + 1))
        return best

    return rec(np.arange(y.size), 0)


def instance(seed, n=12, F=4, K=2):
    rng = np.random.default_rng(seed)
    Xb = (rng.random((n, F)) < 0.5).astype(float)
    y = (Xb[:, 0] + Xb[:, 1] + rng.random(n) > 1.4).astype(int) if K == 2 else rng.integers(0, K, n)
    flip = rng.random(n) < 0.2
    y[flip] = (y[flip] + 1) % K
    y[:K] = np.arange(K)
    return Xb, y


def problem(Xb, y, depth, w=None, alpha=0.0, m=1, level_masks=None):
    K = int(y.max()) + 1
    data = aggregate(Xb, y, K, w)
    mask = split_mask(
        depth, Xb.shape[1], None if level_masks is None else dict(enumerate(level_masks))
    )
    return TreeProblem(data, depth, mask, alpha=alpha, min_samples_leaf=m)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_matches_enumeration(seed, depth):
    Xb, y = instance(seed, K=2 + seed % 2)
    want = brute(Xb, y, np.ones(y.size), depth)
    res = solve(problem(Xb, y, depth))
    assert res.solver == "tree-dp"
    assert res.status == "optimal" and res.verified
    assert res.objective == pytest.approx(want)
    assert res.bound == pytest.approx(want)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("depth", [2, 3])
def test_alpha_weights_min_leaf(seed, depth):
    Xb, y = instance(20 + seed, n=14)
    rng = np.random.default_rng(seed)
    w = rng.choice([1.0, 2.5, 0.7], size=y.size)  # non-integer weights: float64 tables
    for alpha, m in [(0.6, 1), (0.0, 2), (1.5, 3)]:
        want = brute(Xb, y, w, depth, alpha=alpha, m=m)
        res = solve(problem(Xb, y, depth, w=w, alpha=alpha, m=m))
        assert res.status == "optimal", (alpha, m)
        assert res.objective == pytest.approx(want), (alpha, m)
        assert res.bound == pytest.approx(want), (alpha, m)
        assert res.max_violation <= 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_level_masks_not_nested(seed):
    """Forbidden columns per depth that are not nested: the pass-through option matters."""
    Xb, y = instance(40 + seed, n=14, F=4)
    rng = np.random.default_rng(seed)
    LM = rng.random((3, 4)) < 0.6
    LM[:, 0] = [False, True, False]  # column 0 allowed only at depth 1
    want = brute(Xb, y, np.ones(y.size), 3, alpha=0.3, level_masks=LM)
    pr = problem(Xb, y, 3, alpha=0.3, level_masks=LM)
    res = solve(pr)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(want)
    assert res.bound == pytest.approx(want)


@pytest.mark.parametrize("seed", range(3))
def test_same_program_as_highs(seed):
    """The DP's point is feasible in the FlowOCT program general solvers receive, and HiGHS
    certifies the same optimum on it."""
    Xb, y = instance(60 + seed, n=12, F=3)
    pr = problem(Xb, y, 2, alpha=0.25, m=2)
    dp = solve(pr)
    check, viol = pr.program.evaluate(dp.values)
    assert viol <= 1e-9
    assert check == pytest.approx(dp.objective)
    mip = solve(pr, solver="highs")
    assert mip.status == "optimal"
    assert mip.objective == pytest.approx(dp.objective, abs=1e-6)


def test_heap_round_trip():
    Xb, y = instance(3, n=16, F=4)
    pr = problem(Xb, y, 3)
    res = solve(pr)
    node_col, leaf_class = pr.decode(res.values)
    assert pr.objective_of(node_col, leaf_class) == pytest.approx(res.objective)
    tree = from_heap(node_col, leaf_class, 3, 4)
    again = to_heap(tree, 3, 4, 2)
    assert pr.objective_of(*again) == pytest.approx(res.objective)


def test_time_limit_returns_tree_and_bound():
    """A deep search on noisy data stopped by the clock: a tree, a nonzero bound <= its
    objective (identical rows with different labels), within the time limit + 10 % + 1 s."""
    rng = np.random.default_rng(0)
    n, F = 4000, 40
    Xb = (rng.random((n, F)) < 0.5).astype(float)
    Xb[: n // 2] = Xb[rng.integers(0, 50, n // 2)]  # half the rows repeat: label conflicts
    y = ((Xb[:, :6].sum(axis=1) + rng.normal(0, 1.0, n)) > 3).astype(int)
    pr = problem(Xb, y, 5)
    t0 = time.perf_counter()
    res = solve(pr, settings=SolveSettings(time_limit=2.0))
    wall = time.perf_counter() - t0
    assert wall <= 2.0 * 1.1 + 1.0
    assert res.status in ("time_limit", "optimal")
    assert res.has_solution
    assert 0 < res.bound <= res.objective + 1e-9


def test_bad_mask_shape():
    Xb, y = instance(0)
    data = aggregate(Xb, y, 2)
    with pytest.raises(ValueError, match="mask must have shape"):
        TreeProblem(data, 2, np.ones((2, 5), dtype=bool))


def test_similarity_state_is_consistent():
    """Cached results are optima: re-solving any cached set from scratch gives the same."""
    Xb, y = instance(7, n=20, F=5)
    data = aggregate(Xb, y, 2)
    LM = np.ones((3, 5), dtype=bool)
    dp = TreeDP(data.X, data.counts, data.sizes, 3, LM)
    S = np.ones(data.n_patterns, dtype=bool)
    dp.search(S, 0, np.inf)
    for (key, level), (cost, _) in list(dp.opt.items())[:20]:
        Sx = np.unpackbits(np.frombuffer(key, dtype=np.uint8))[: data.n_patterns].astype(bool)
        fresh = TreeDP(data.X, data.counts, data.sizes, 3, LM)
        assert fresh.search(Sx, level, np.inf)[0] == pytest.approx(cost)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("depth", [2, 3])
def test_estimator_default_route(seed, depth):
    """OptimalClassificationTree's default route is tree-dp; it matches enumeration over
    every threshold, and tree_/predict agree with the certificate."""
    from optml.classification import OptimalClassificationTree
    from optml.data import binarize

    rng = np.random.default_rng(80 + seed)
    X = rng.integers(0, 4, size=(14, 3)).astype(float)
    y = (X[:, 0] + X[:, 1] + rng.random(14) > 3.5).astype(int)
    y[:2] = [0, 1]
    Xb, _ = binarize(X, thresholds="all")
    want = brute(Xb, y, np.ones(y.size), depth, alpha=0.5)
    clf = OptimalClassificationTree(max_depth=depth, alpha=0.5, initial_tree=None).fit(X, y)
    assert clf.formulation_ == "dp" and clf.result_.solver == "tree-dp"
    assert clf.result_.status == "optimal"
    assert clf.objective_ == pytest.approx(want)
    assert clf.result_.bound == pytest.approx(want)
    splits = (clf.tree_.children_left != -1).sum()
    assert (clf.predict(X) != y).sum() + 0.5 * splits == pytest.approx(want)
    assert clf.build_problem(X, y).kind == "oct"
    assert clf.build_program(X, y).problem_class == "MILP"


def test_estimator_time_limit():
    """The fit's clock covers CART, binarisation and the search: elapsed within the limit
    + 10 % + 1 s, with a tree and a valid certificate."""
    from optml.classification import OptimalClassificationTree

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 25))
    y = (X[:, :4].sum(axis=1) + rng.normal(0, 1.5, 3000) > 0).astype(int)
    t0 = time.perf_counter()
    clf = OptimalClassificationTree(max_depth=4, thresholds=9, time_limit=1.5).fit(X, y)
    wall = time.perf_counter() - t0
    assert wall <= 1.5 * 1.1 + 1.0
    r = clf.result_
    assert r.status in ("time_limit", "optimal") and r.has_solution
    assert 0 <= r.bound <= r.objective + 1e-9
    assert clf.objective_ == pytest.approx(r.objective)
    assert clf.objective_ <= clf.cart_objective_ + 1e-9
