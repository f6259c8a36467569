"""Capacitated k-medoids with per-point demands (Mulvey & Beck 1984) against brute force."""

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from optml.clustering import KMedoids


def _brute_any(D, w, k, Q):
    """Every medoid set and every single-source assignment that respects the capacities
    (the MILP's model: a medoid's own demand counts where it is assigned)."""
    n = D.shape[0]
    best = np.inf
    for med in itertools.combinations(range(n), k):
        med = np.array(med)
        for lab in itertools.product(range(k), repeat=n):
            lab = np.array(lab)
            load = np.bincount(lab, weights=w, minlength=k)
            if np.all(load <= Q + 1e-9):
                best = min(best, D[np.arange(n), med[lab]].sum())
    return best


@pytest.mark.parametrize("seed", range(4))
def test_demands_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, k = 7, 2
    X = rng.normal(size=(n, 2))
    w = rng.integers(1, 5, n).astype(float)
    Q = float(np.ceil(w.sum() / k * 1.15))
    if w.max() > Q:
        Q = w.max()
    m = KMedoids(k, capacity=Q).fit(X, demand=w)
    D = cdist(X, X)
    best = _brute_any(D, w, k, Q)
    res = m.result_
    assert res.status == "optimal" and res.verified
    assert res.objective == pytest.approx(best, rel=1e-7, abs=1e-9)
    assert res.bound <= best + 1e-7
    load = np.bincount(m.labels_, weights=w, minlength=k)
    assert np.all(load <= Q + 1e-9)
    assert m.inertia_ == pytest.approx(best, rel=1e-7, abs=1e-9)


def test_demands_change_the_optimum():
    # one heavy point: with counts the capacity is loose, with demands it binds
    X = np.array([[0.0, 0], [0.1, 0], [0.2, 0], [0.3, 0], [5, 0], [5.1, 0]])
    w = np.array([1.0, 1, 1, 6, 1, 1])
    by_count = KMedoids(2, capacity=6).fit(X)
    by_demand = KMedoids(2, capacity=7).fit(X, demand=w)
    load = np.bincount(by_demand.labels_, weights=w, minlength=2)
    assert np.all(load <= 7)
    assert by_demand.inertia_ > by_count.inertia_ + 1e-6
    D = cdist(X, X)
    assert by_demand.inertia_ == pytest.approx(_brute_any(D, w, 2, 7.0), rel=1e-7)


def test_demand_without_capacity_changes_nothing_and_bad_input():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(8, 2))
    a = KMedoids(2).fit(X)
    b = KMedoids(2).fit(X, demand=np.arange(1.0, 9.0))
    np.testing.assert_array_equal(a.medoid_indices_, b.medoid_indices_)
    with pytest.raises(ValueError, match="one entry per sample"):
        KMedoids(2, capacity=10).fit(X, demand=np.ones(3))
    with pytest.raises(ValueError, match="nonnegative"):
        KMedoids(2, capacity=10).fit(X, demand=-np.ones(8))
    with pytest.raises(ValueError, match="total demand"):
        KMedoids(2, capacity=10).fit(X, demand=np.full(8, 3.0))
    with pytest.raises(ValueError, match="exceeds capacity"):
        KMedoids(2, capacity=10).fit(X, demand=np.r_[11.0, np.ones(7)])
