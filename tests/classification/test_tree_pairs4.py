"""The depth-4 ``pairs`` program (top two levels as an LP over columns whose costs are exact
optimal depth-2 subtrees) against plain recursion over every tree on tiny random binary
data, against ``tree-dp``, and with its pricing stopped by the clock."""

import time

import numpy as np
import pytest

from optml.classification import OptimalClassificationTree
from optml.classification import _tree_build as tb
from optml.formulations import tree_pairs as fp
from optml.formulations.tree_data import aggregate, route, split_mask
from optml.formulations.tree_problem import TreeProblem
from optml.solve import solve


def brute(Xb, y, w, depth, alpha=0.0, m=1, level_masks=None):
    """Best objective over every tree of depth <= depth (plain recursion): a node is a leaf
    (>= m samples), a split on an allowed column, or passes its samples one level down."""
    K = int(y.max()) + 1
    LM = np.ones((depth, Xb.shape[1]), dtype=bool) if level_masks is None else level_masks

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


def instance(seed, n=16, F=3, K=2, weighted=False):
    rng = np.random.default_rng(seed)
    Xb = (rng.random((n, F)) < 0.5).astype(float)
    y = (Xb[:, 0] + Xb[:, 1] + rng.random(n) > 1.4).astype(int) if K == 2 else rng.integers(0, K, n)
    flip = rng.random(n) < 0.25
    y[flip] = (y[flip] + 1) % K
    y[:K] = np.arange(K)
    w = rng.uniform(0.5, 2.0, n) if weighted else np.ones(n)
    return Xb, y, w


def solve4(Xb, y, w, alpha=0.0, m=1, levels=None):
    data = aggregate(Xb, y, int(y.max()) + 1, w)
    mask = split_mask(4, Xb.shape[1], levels)
    form = fp.split_pairs(data, 4, mask, alpha=alpha, min_samples_leaf=m)
    res = solve(form.program, solver="highs")
    return form, res


SLOW = pytest.mark.slow  # the default suite keeps two cases (its budget is tight)
CASES = [  # (seed, F, K, alpha, m, weighted, last-level mask)
    pytest.param((0, 3, 2, 0.0, 1, False, False), marks=SLOW),
    pytest.param((1, 3, 2, 0.7, 1, False, False), marks=SLOW),
    pytest.param((2, 3, 2, 0.0, 3, False, False), marks=SLOW),
    (3, 3, 3, 0.4, 2, False, False),
    pytest.param((4, 3, 2, 0.3, 1, True, False), marks=SLOW),
    (5, 4, 3, 0.0, 1, True, True),
    pytest.param((6, 4, 2, 0.5, 2, False, True), marks=SLOW),
]


@pytest.mark.parametrize("case", CASES)
def test_depth4_matches_enumeration(case):
    seed, F, K, alpha, m, weighted, cut = case
    Xb, y, w = instance(seed, F=F, K=K, weighted=weighted)
    levels = {3: np.arange(F) != 1} if cut else None  # a different column set at depth 3
    LM = np.ones((4, F), dtype=bool)
    if cut:
        LM[3] = levels[3]
    form, res = solve4(Xb, y, w, alpha, m, levels)
    want = brute(Xb, y, w, 4, alpha, m, LM)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(want, abs=1e-9)
    assert res.bound == pytest.approx(want, abs=1e-6)
    assert not form.extra["partial"]  # every column left in the program has its exact cost
    node_col, labels = form.decode(res.values)
    assert form.objective_of(node_col, labels) == pytest.approx(want, abs=1e-9)
    # the tree read back obeys the leaf size and the level masks
    leaf = route(form.data.Xd, node_col, 4)
    sizes = np.bincount(leaf, weights=form.data.sizes, minlength=16)
    assert np.all((sizes == 0) | (sizes >= m))
    for n, c in enumerate(node_col):
        lv = int(np.floor(np.log2(n + 1)))
        assert c == F or LM[lv, c]
    # the dynamic programming agrees on the same instance
    dp = solve(TreeProblem(form.data, 4, form.mask, alpha=alpha, min_samples_leaf=m))
    assert dp.objective == pytest.approx(want, abs=1e-9)


def test_cells_are_exact_subtrees():
    """Each priced cell's value is the optimal depth-2 tree on the cell's rows, and the
    table is symmetric: value[a, b, f, g] = value[b, a, g, f]."""
    Xb, y, w = instance(7, n=20, F=3, K=3, weighted=True)
    data = aggregate(Xb, y, 3, w)
    cells = fp.price_cells(
        data, split_mask(4, 3), alpha=0.2, min_samples_leaf=2, stop_when_proven=False
    )
    assert cells.complete and cells.priced.all()
    Xd = data.Xd > 0.5
    for f, g, a, b in [(0, 1, 1, 0), (2, 0, 0, 0), (1, 3, 1, 1), (3, 3, 1, 1), (0, 0, 1, 0)]:
        sel = (Xd[:, f] == a) & (Xd[:, g] == b)
        want = _brute_patterns(data.X[sel], data.counts[sel], data.sizes[sel], 2, 0.2, 2)
        if not sel.any():
            want = 0.0  # an empty cell costs nothing
        assert cells.value[a, b, f, g] == pytest.approx(want, abs=1e-9)
        assert cells.value[b, a, g, f] == cells.value[a, b, f, g]


@pytest.mark.parametrize("seed", [0, 1])
def test_triples_equal_pairs_pricing(seed):
    """The two pricing methods (per triple, per pair and third column) agree everywhere,
    with a different column set at depths 2 and 3."""
    rng = np.random.default_rng(seed)
    Xb, y, w = instance(10 + seed, n=30, F=5, K=3, weighted=seed == 1)
    data = aggregate(Xb, y, 3, w)
    mask = split_mask(4, 5, {2: rng.random(5) < 0.7, 3: rng.random(5) < 0.7})
    kw = dict(alpha=0.3 * seed, min_samples_leaf=1 + seed)
    a = fp.price_cells(data, mask, method="pairs", stop_when_proven=False, **kw)
    b = fp.price_cells(data, mask, method="triples", stop_when_proven=False, **kw)
    assert a.stats.get("method") != b.stats.get("method") == "triples"
    np.testing.assert_allclose(a.value, b.value, atol=1e-9)


def _brute_patterns(X, cnt, sizes, depth, alpha, m):
    def rec(idx, d):
        c = cnt[idx].sum(axis=0)
        best = c.sum() - c.max() if sizes[idx].sum() >= m else np.inf
        if d == 0:
            return best
        best = min(best, rec(idx, d - 1))
        for f in range(X.shape[1]):
            left = X[idx, f] > 0.5
            best = min(best, alpha + rec(idx[left], d - 1) + rec(idx[~left], d - 1))
        return best

    return rec(np.arange(X.shape[0]), depth)


def test_estimator_depth4_pairs_certified_and_equal_to_dp():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 + 0.4 * rng.normal(size=60) > 0.3).astype(int)
    kw = dict(max_depth=4, thresholds=3, initial_tree=None, alpha=0.5)
    clf = OptimalClassificationTree(formulation="pairs", **kw).fit(X, y)
    r = clf.result_
    assert clf.formulation_ == "pairs" and r.status == "optimal"
    assert r.bound == pytest.approx(r.objective, abs=1e-6)
    assert clf.objective_ == pytest.approx(r.objective, abs=1e-9)
    dp = OptimalClassificationTree(**kw).fit(X, y)  # the default route: tree-dp
    assert dp.result_.status == "optimal"
    assert clf.objective_ == pytest.approx(dp.objective_, abs=1e-9)
    # a general solver named: "auto" takes the depth-4 pairs program (small tables)
    mip = OptimalClassificationTree(solver="highs", **kw).fit(X, y)
    assert mip.formulation_ == "pairs" and mip.result_.status == "optimal"
    assert mip.objective_ == pytest.approx(dp.objective_, abs=1e-9)
    with pytest.raises(ValueError, match="max_depth <= 4"):
        OptimalClassificationTree(formulation="pairs", max_depth=5, thresholds=3).fit(X, y)


def test_pricing_stopped_by_the_clock(monkeypatch):
    """Pricing stopped at once: "no split" and the known tree's root are priced anyway; the
    program (lower bounds on the other columns) is a relaxation, so its bound is valid, and
    the tree returned has its true objective."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=80) > 0).astype(int)
    kw = dict(max_depth=4, thresholds=4, formulation="pairs")
    full = OptimalClassificationTree(**kw).fit(X, y)
    assert full.result_.status == "optimal"
    monkeypatch.setattr(tb, "_pricing_deadline", lambda settings, mask: 0.0)
    t0 = time.perf_counter()
    part = OptimalClassificationTree(**kw, time_limit=5.0).fit(X, y)
    assert time.perf_counter() - t0 <= 5.0 * 1.1 + 1.0
    cells = part.program_  # the program solved
    r = part.result_
    assert r.status == "time_limit" and "lower bounds" in r.message
    assert r.bound <= full.objective_ + 1e-9 <= part.objective_ + 1e-9
    assert part.objective_ == pytest.approx(r.objective, abs=1e-9)
    assert part.objective_ <= part.cart_objective_ + 1e-9
    assert cells.variables["uL"].size == full.program_.variables["uL"].size


@pytest.mark.slow
def test_time_limit_breast_cancer_depth4():
    """A real short limit on 120+ columns: the fit returns within limit x 1.1 + 1 s with a
    tree no worse than CART's and a bound below it."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    t0 = time.perf_counter()
    clf = OptimalClassificationTree(
        max_depth=4, formulation="pairs", thresholds=5, time_limit=3.0
    ).fit(X, y)
    assert time.perf_counter() - t0 <= 3.0 * 1.1 + 1.0
    r = clf.result_
    assert r.status in ("optimal", "time_limit")
    assert r.bound <= clf.objective_ + 1e-9 <= clf.cart_objective_ + 1e-9


def test_too_many_columns_refused(monkeypatch):
    Xb, y, w = instance(0, F=4)
    data = aggregate(Xb, y, 2, w)
    monkeypatch.setattr(fp, "_TRIPLES_BYTES", 0.0)
    monkeypatch.setattr(fp, "_PAIRS_BYTES", 1e3)
    with pytest.raises(ValueError, match="thresholds=q"):
        fp.price_cells(data, split_mask(4, 4))
