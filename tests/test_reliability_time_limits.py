"""Time limits hold on estimator routes, heuristics included (issue 17: R12)."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from optml.clustering import KMedoids
from optml.clustering._kmedoids import _heuristic, _lagrangian_bound


def _limit_ok(elapsed, limit):
    return elapsed <= limit * 1.1 + 1.0


def test_R12_kmedoids_time_limit_returns_medoids_with_a_bound():
    """Before: SolveError ("no solution") after 9 s with time_limit=5 (HiGHS's presolve of
    the 324k-column p-median MILP ignores the clock)."""
    from sklearn.preprocessing import StandardScaler

    from optml.data import load

    X = StandardScaler().fit_transform(load("breast_cancer").X)
    t0 = time.perf_counter()
    km = KMedoids(5, time_limit=2).fit(X)
    elapsed = time.perf_counter() - t0
    assert _limit_ok(elapsed, 2), elapsed
    r = km.result_
    assert r.status in ("time_limit", "optimal") and r.has_solution
    assert np.isfinite(r.bound) and r.bound <= r.objective
    assert 0 <= r.gap < 0.05  # the Lagrangian bound is close
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(axis=2))
    assert km.inertia_ == pytest.approx(D[:, km.medoid_indices_].min(axis=1).sum())
    assert r.objective == pytest.approx(km.inertia_)


@pytest.mark.parametrize("seed", range(6))
def test_R12_kmedoids_heuristic_and_bound_against_enumeration(seed):
    rng = np.random.default_rng(seed)
    n, k = 11, 3
    X = rng.normal(size=(n, 2)) + (rng.integers(0, 3, n)[:, None] * 2.0)
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(axis=2))
    best = min(D[:, list(S)].min(axis=1).sum() for S in itertools.combinations(range(n), k))
    med = _heuristic(D, k)
    cost = D[:, med].min(axis=1).sum()
    lb = _lagrangian_bound(D, k, cost)
    assert len(set(med.tolist())) == k
    assert lb <= best + 1e-9 <= cost + 2e-9  # a valid bound, a feasible medoid set
    # the estimator's certified answer agrees with enumeration
    km = KMedoids(k, mip_gap=0.0).fit(X)
    assert km.inertia_ == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("depth", [2, 3])
def test_R12_tree_with_all_thresholds_holds_its_time_limit(depth):
    """Before: 31 s (depth 3: 59 s) with time_limit=2 on standardised breast cancer: about
    15 000 thresholds made a FlowOCT of 14 million nonzeros, and HiGHS's presolve ran for
    seconds past the clock. Now the thresholds of a feature share suffix sums (about 0.2 % of
    the nonzeros), and a solve whose clock ran out in the build does not start the solver."""
    from sklearn.preprocessing import StandardScaler

    from optml.classification import OptimalClassificationTree
    from optml.data import load

    data = load("breast_cancer")
    X = StandardScaler().fit_transform(data.X)
    t0 = time.perf_counter()
    clf = OptimalClassificationTree(max_depth=depth, time_limit=2).fit(X, data.y)
    elapsed = time.perf_counter() - t0
    assert _limit_ok(elapsed, 2), elapsed
    r = clf.result_
    assert r.status in ("time_limit", "optimal") and r.has_solution
    assert np.isfinite(r.bound) and 0 <= r.bound <= r.objective + 1e-9
    assert clf.score(X, data.y) >= 0.9  # at least CART's tree
