"""OptimalClassificationTree against brute-force enumeration of every tree on tiny data."""

import itertools

import numpy as np
import pytest

from optml.classification import OptimalClassificationTree
from optml.program.result import relative_gap

FORMS = ["flow", "flow-plain", "oct", "pairs"]


def _splits(X, feats):
    out = []
    for j in feats:
        u = np.unique(X[:, j])
        out += [(j, (a + b) / 2) for a, b in itertools.pairwise(u)]
    return out


def brute(X, y, w, depth, alpha=0.0, m=1, forbidden=None, lv=0):
    """Best objective over all trees of depth <= depth, by exhaustive recursion (numpy only)."""
    K = int(y.max()) + 1

    def rec(idx, d, lv):
        cnt = np.bincount(y[idx], weights=w[idx], minlength=K)
        best = cnt.sum() - cnt.max() if idx.size >= m else np.inf
        if d == 0:
            return best
        bad = (forbidden or {}).get(lv, [])
        for j, t in _splits(X, [j for j in range(X.shape[1]) if j not in bad]):
            left = X[idx, j] <= t
            val = alpha + rec(idx[left], d - 1, lv + 1) + rec(idx[~left], d - 1, lv + 1)
            best = min(best, val)
        return best

    return rec(np.arange(y.size), depth, lv)


def tiny(seed, n=14, p=3, K=2, levels=4):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, levels, size=(n, p)).astype(float)  # repeated values and ties
    y = (X[:, 0] + X[:, 1] > levels - 1).astype(int) if K == 2 else rng.integers(0, K, n)
    flip = rng.random(n) < 0.25  # label noise
    y[flip] = (y[flip] + 1) % K
    if np.unique(y).size < K:
        y[:K] = np.arange(K)
    return X, y


@pytest.mark.parametrize(
    "seed", [0, 1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)]
)
@pytest.mark.parametrize("depth", [1, 2])
def test_matches_enumeration(seed, depth):
    X, y = tiny(seed, K=2 + seed % 2)
    want = brute(X, y, np.ones(y.size), depth)
    for f in FORMS:
        clf = OptimalClassificationTree(max_depth=depth, formulation=f).fit(X, y)
        assert clf.result_.status == "optimal", f
        assert clf.objective_ == pytest.approx(want), f
        assert (clf.predict(X) != y).sum() == pytest.approx(want), f
        assert clf.result_.bound == pytest.approx(want, abs=1e-6), f


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_alpha_weights_min_leaf(seed):
    X, y = tiny(10 + seed, n=12)
    cw = {0: 1.0, 1: 2.5}
    w = np.where(y == 1, 2.5, 1.0)
    for alpha, m in [(0.6, 1), (1.5, 2)]:
        want = brute(X, y, w, 2, alpha=alpha, m=m)
        for f in ["flow", "oct", "pairs"]:
            clf = OptimalClassificationTree(
                max_depth=2, alpha=alpha, min_samples_leaf=m, class_weight=cw, formulation=f
            ).fit(X, y)
            assert clf.objective_ == pytest.approx(want), (f, alpha, m)
            assert clf.result_.objective == pytest.approx(want, abs=1e-6), (f, alpha, m)
            leaves = clf.tree_.n_node_samples[clf.tree_.children_left == -1]
            assert leaves.min() >= m


def test_forbidden_features():
    X, y = tiny(21, n=16)
    forb = {0: [0], 1: [1]}
    want = brute(X, y, np.ones(y.size), 2, forbidden=forb)
    assert want > brute(X, y, np.ones(y.size), 2) - 1e-9
    for f in FORMS:
        clf = OptimalClassificationTree(max_depth=2, forbidden_features=forb, formulation=f)
        clf.fit(X, y)
        assert clf.objective_ == pytest.approx(want), f
        t = clf.tree_
        for i in range(t.node_count):
            if t.children_left[i] != -1:
                assert t.feature[i] not in forb[int(t.depth[i])]


def test_depth3_formulations_agree():
    X, y = tiny(5, n=10, p=2, K=3)
    want = brute(X, y, np.ones(y.size), 3)
    for f in FORMS:
        clf = OptimalClassificationTree(max_depth=3, formulation=f).fit(X, y)
        assert clf.objective_ == pytest.approx(want), f


def _parity_brute(X, y, g, bound):
    """Depth-1 trees with every labelling of the leaves; positive class 1."""
    best = np.inf
    n0, n1 = (g == 0).sum(), (g == 1).sum()
    cands = [None, *_splits(X, range(X.shape[1]))]
    for s in cands:
        left = np.ones(y.size, bool) if s is None else X[:, s[0]] <= s[1]
        for a, b in itertools.product([0, 1], repeat=2):
            pred = np.where(left, a, b)
            gap = pred[g == 0].sum() / n0 - pred[g == 1].sum() / n1
            if abs(gap) <= bound + 1e-9:
                best = min(best, (pred != y).sum())
    return best


@pytest.mark.parametrize("bound", [0.0, 0.2])
def test_parity_limit(bound):
    rng = np.random.default_rng(3)
    X, y = tiny(3, n=16)
    g = (X[:, 0] >= 2).astype(int)
    if np.unique(g).size < 2:
        g[:2] = [0, 1]
    g = rng.permutation(g) if bound > 0 else g
    want = _parity_brute(X, y, g, bound)
    for f in ["flow", "flow-plain", "oct"]:
        clf = OptimalClassificationTree(max_depth=1, parity_bound=bound, formulation=f)
        clf.fit(X, y, groups=g)
        pred = clf.predict(X)
        gap = pred[g == 0].mean() - pred[g == 1].mean()
        assert abs(gap) <= bound + 1e-6
        assert clf.objective_ == pytest.approx(want), f


def test_mip_assignment_equals_tree_prediction():
    X, y = tiny(7, n=12, K=3)
    for f in ["flow", "oct"]:
        clf = OptimalClassificationTree(max_depth=2, formulation=f, initial_tree=None).fit(X, y)
        prep = clf._prepare(X, y)
        v = clf.result_.values
        L = 4
        zl = v["z"][:, -L:] if f == "flow" else v["z"]
        leaf = np.argmax(zl, axis=1)[prep.form.data.inverse]
        cls = np.argmax(v["w"], axis=1)[leaf]
        np.testing.assert_array_equal(clf.classes_[cls], clf.predict(X))
        assert (clf.predict(X) != y).sum() == pytest.approx(clf.result_.objective)


def test_never_worse_than_cart():
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).round(1)
    y = (X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=60) > 0).astype(int)
    cart = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    cart_err = (cart.predict(X) != y).sum()
    for f in ["flow-plain"]:  # weak bound: the time limit is what ends the solve
        clf = OptimalClassificationTree(max_depth=3, formulation=f, time_limit=1.0).fit(X, y)
        assert (clf.predict(X) != y).sum() <= cart_err
        assert clf.objective_ <= clf.cart_objective_ <= cart_err
        # the solver's bound as certified (none when it proved none: never filled in afterwards)
        b = clf.result_.bound
        assert np.isnan(b) or b <= clf.objective_ + 1e-6
        assert clf.result_.gap == relative_gap(clf.result_.objective, b)
        assert clf.result_.status in ("optimal", "time_limit")
