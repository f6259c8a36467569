"""Exact MSSC pricing in the plane (the disk-arrangement sweep) against enumeration of every
item set, and the branch and price that uses it against enumeration of every partition."""

import itertools
import time

import numpy as np
import pytest

from optml.algorithms.mssc_plane import plane_pricing
from optml.clustering import KMeans


def set_value(M, w, a, S):
    S = np.flatnonzero(S)
    c = (w[S] @ M[S]) / w[S].sum()
    return float(w[S] @ ((M[S] - c) ** 2).sum(axis=1) + a[S].sum())


def brute_pricing(M, w, a):
    m = len(w)
    return min(
        set_value(M, w, a, np.isin(np.arange(m), S))
        for r in range(1, m + 1)
        for S in itertools.combinations(range(m), r)
    )


def instance(rng, t):
    m = int(rng.integers(1, 11))
    d = int(rng.integers(1, 3))
    M = rng.normal(size=(m, d))
    if t % 4 == 0:  # coarse grid: repeated points, tangent and concentric circles
        M = np.round(M, 1)
    w = rng.uniform(0.3, 3.0, m) if t % 2 else np.ones(m)
    a = rng.normal(size=m) * rng.uniform(0.1, 3.0) - rng.uniform(0.0, 1.0)
    return M, w, a


@pytest.mark.parametrize("seed", range(4))
def test_plane_pricing_equals_enumeration(seed):
    rng = np.random.default_rng(seed)
    for t in range(60):
        M, w, a = instance(rng, t)
        lb, best, sets = plane_pricing(M, w, a)
        opt = brute_pricing(M, w, a)
        assert lb <= opt + 1e-12 * (1 + abs(opt))  # a valid lower bound
        assert best == pytest.approx(opt, rel=1e-9, abs=1e-9)  # and the exact minimum
        vals = [set_value(M, w, a, S) for S in sets]
        assert all(v < 0 for v in vals)
        assert len({S.tobytes() for S in sets}) == len(sets)
        if opt < 0:
            assert vals[0] == pytest.approx(opt, rel=1e-9, abs=1e-9)


def test_plane_pricing_no_helpful_item_and_bad_dimension():
    M = np.array([[0.0, 0.0], [1.0, 1.0]])
    lb, best, sets = plane_pricing(M, np.ones(2), np.array([2.0, 0.5]))
    assert lb == best == 0.5 and sets == []
    with pytest.raises(ValueError, match="1 or 2 dimensions"):
        plane_pricing(np.zeros((3, 3)), np.ones(3), -np.ones(3))


def test_plane_pricing_bound_is_valid_on_a_large_random_instance():
    # every subset cannot be enumerated; the sets found must be at or above the bound, and
    # the best centre-descent set (a local search over centres) cannot beat it
    rng = np.random.default_rng(3)
    M = rng.normal(size=(300, 2))
    a = -rng.uniform(0.0, 1.5, 300)
    w = np.ones(300)
    lb, best, sets = plane_pricing(M, w, a, max_cols=20)
    assert len(sets) == 20
    assert set_value(M, w, a, sets[0]) == pytest.approx(best, rel=1e-9)
    for S in sets:
        assert set_value(M, w, a, S) >= lb
    for c in rng.normal(size=(200, 2)):
        for _ in range(20):  # Lloyd-type descent of g(c) from random centres
            S = w * ((M - c) ** 2).sum(axis=1) + a < 0
            if not S.any():
                break
            c = (w[S] @ M[S]) / w[S].sum()
        if S.any():
            assert set_value(M, w, a, S) >= lb


def brute_partition(X, k, w, must=()):
    best = np.inf
    for lab in itertools.product(range(k), repeat=X.shape[0]):
        lab = np.array(lab)
        if lab[0] != 0 or len(np.unique(lab)) != k:
            continue
        if any(lab[i] != lab[j] for i, j in must):
            continue
        cost = 0.0
        for j in range(k):
            S = lab == j
            c = (w[S] @ X[S]) / w[S].sum()
            cost += w[S] @ ((X[S] - c) ** 2).sum(axis=1)
        best = min(best, cost)
    return best


@pytest.mark.parametrize("d, seed", [(1, 0), (1, 1), (2, 2), (2, 3)])
def test_colgen_in_the_plane_equals_enumeration_weighted_with_must_link(d, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(9, d)) + np.repeat(rng.normal(scale=3.0, size=(3, d)), 3, axis=0)
    w = rng.uniform(0.5, 2.0, 9)
    must = [(0, 4)]
    opt = brute_partition(X, 3, w, must)
    km = KMeans(3, method="colgen", random_state=seed, n_init=5)
    km.fit(X, sample_weight=w, must_link=must)
    res = km.result_
    assert res.status == "optimal" and res.verified
    assert km.inertia_ == pytest.approx(opt, rel=1e-4)
    assert res.bound <= opt * (1 + 1e-9) and res.gap <= 1e-4
    assert km.labels_[0] == km.labels_[4]


def test_colgen_in_the_plane_time_limit_returns_incumbent_and_bound():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(700, 2)) + c for c in ((0, 0), (2, 1), (1, 3), (4, 4))])
    t = time.perf_counter()
    km = KMeans(4, method="colgen", time_limit=6, random_state=0).fit(X)
    elapsed = time.perf_counter() - t
    res = km.result_
    assert elapsed <= 6 * 1.1 + 1
    assert res.status in ("time_limit", "optimal")
    assert np.isfinite(res.bound) and res.bound <= res.objective * (1 + 1e-9)
    assert len(np.unique(km.labels_)) == 4


def test_plane_pricing_with_conflicts_equals_enumeration():
    from types import SimpleNamespace

    from optml.algorithms.branch_and_price import BranchAndPrice
    from optml.algorithms.mssc_pricing import Items

    rng = np.random.default_rng(7)
    for t in range(40):
        m = int(rng.integers(3, 10))
        M = rng.normal(size=(m, 2))
        w = rng.uniform(0.5, 2.0, m)
        s = rng.uniform(0.0, 0.3, m) * (t % 2)  # must-link items carry inner scatter
        pairs = {
            tuple(sorted(rng.choice(m, 2, replace=False))) for _ in range(int(rng.integers(1, 4)))
        }
        items = Items(M, w, s, sorted(pairs))
        a = s - rng.uniform(0.0, 2.5, m)
        lb, sets = BranchAndPrice._plane_price(SimpleNamespace(deadline=None), items, a, 10)
        feasible = [
            np.isin(np.arange(m), S)
            for r in range(1, m + 1)
            for S in itertools.combinations(range(m), r)
            if not any(i in S and j in S for i, j in pairs)
        ]
        opt = min(set_value(M, w, a, S) for S in feasible)
        assert lb <= opt + 1e-9
        assert lb == pytest.approx(opt, rel=1e-7, abs=1e-7)  # exact within the sweep budget
        for S in sets:
            assert not any(S[i] and S[j] for i, j in pairs)


@pytest.mark.parametrize("seed", [0, 1])
def test_colgen_in_the_plane_with_cannot_link_equals_enumeration(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(9, 2)) + np.repeat(rng.normal(scale=2.0, size=(3, 2)), 3, axis=0)
    cannot = [(0, 1), (3, 5), (2, 6)]
    best = np.inf
    for lab in itertools.product(range(3), repeat=9):
        lab = np.array(lab)
        if lab[0] != 0 or len(np.unique(lab)) != 3 or any(lab[i] == lab[j] for i, j in cannot):
            continue
        best = min(best, sum(((X[lab == j] - X[lab == j].mean(0)) ** 2).sum() for j in range(3)))
    km = KMeans(3, method="colgen", random_state=seed, n_init=5).fit(X, cannot_link=cannot)
    res = km.result_
    assert res.status == "optimal" and res.verified
    assert km.inertia_ == pytest.approx(best, rel=1e-4)
    assert res.bound <= best * (1 + 1e-9)
    assert all(km.labels_[i] != km.labels_[j] for i, j in cannot)
