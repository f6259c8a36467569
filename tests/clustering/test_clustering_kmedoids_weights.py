"""KMedoids(sample_weight=...): a point of weight s counts as s copies.

Ground truth: weighted brute force over every medoid set (and every capacity-feasible
assignment with a capacity) on tiny random instances, and the fit on the data with points
repeated (integer weights) or removed (zero weights).
"""

import itertools

import numpy as np
import pytest

from optml.clustering import KMedoids
from optml.clustering import _kmedoids as km_module


def _dist(X):
    return np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))


def _brute(D, k, s, cap=None, demand=None, candidates=None):
    """The weighted p-median optimum: min over medoid sets (from ``candidates``) of
    sum_i s_i D[i, medoid(i)], with every capacity-feasible assignment when ``cap`` is set."""
    n = D.shape[0]
    cand = range(n) if candidates is None else candidates
    load = np.ones(n) if demand is None else demand
    best = np.inf
    for med in itertools.combinations(cand, k):
        med = np.array(med)
        if cap is None:
            best = min(best, float(s @ D[:, med].min(axis=1)))
            continue
        for lab in itertools.product(range(k), repeat=n):
            lab = np.array(lab)
            if np.bincount(lab, weights=load, minlength=k).max() > cap + 1e-12:
                continue
            best = min(best, float(s @ D[np.arange(n), med[lab]]))
    return best


def _instance(seed, n=8):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) + np.repeat(rng.normal(scale=3, size=(3, 2)), 3, axis=0)[:n]
    return X, rng.uniform(0.1, 4.0, n)


def _weighted_cost(m, D, s):
    return float(s @ D[:, m.medoid_indices_].min(axis=1))


@pytest.mark.parametrize(("seed", "k"), [(0, 2), (1, 3), (2, 4)])
def test_weighted_equals_brute_force(seed, k):
    X, s = _instance(seed)
    D = _dist(X)
    opt = _brute(D, k, s)
    m = KMedoids(k).fit(X, sample_weight=s)
    r = m.result_
    assert r.status == "optimal"
    assert m.inertia_ == pytest.approx(opt, rel=1e-6)
    assert _weighted_cost(m, D, s) == pytest.approx(m.inertia_, rel=1e-12)
    assert r.objective == pytest.approx(m.inertia_, rel=1e-9)
    assert r.bound <= opt * (1 + 1e-9) + 1e-9


def test_weights_move_the_medoid():
    """Three points on a line: unweighted the middle one is the medoid; a heavy end point
    pulls the medoid onto itself."""
    X = np.array([[0.0], [1.0], [2.5]])
    assert KMedoids(1).fit(X).medoid_indices_.tolist() == [1]
    m = KMedoids(1).fit(X, sample_weight=[1.0, 1.0, 5.0])
    assert m.medoid_indices_.tolist() == [2]
    assert m.inertia_ == pytest.approx(2.5 + 1.5)


def test_integer_weights_equal_repeated_points():
    X, _ = _instance(3, n=7)
    s = np.random.default_rng(3).integers(1, 4, 7).astype(float)
    k = 3
    m = KMedoids(k).fit(X, sample_weight=s)
    R = np.repeat(X, s.astype(int), axis=0)
    r = KMedoids(k).fit(R)
    assert m.inertia_ == pytest.approx(r.inertia_, rel=1e-9)
    assert m.inertia_ == pytest.approx(_brute(_dist(X), k, s), rel=1e-9)
    np.testing.assert_array_equal(m.cluster_centers_, r.cluster_centers_)
    np.testing.assert_array_equal(np.repeat(m.labels_, s.astype(int)), r.labels_)
    np.testing.assert_array_equal(m.predict(X), r.predict(X))


def test_zero_weights_equal_removed_points():
    """A zero-weight point counts as no copy: not a candidate medoid (here it sits at the best
    medoid of the positive points), not in the objective, labelled by its nearest medoid."""
    X = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [9.0, 9.0]])
    X = np.vstack([X, [[9.0, 10.0], [8.0, 9.0]]])
    s = np.array([0.0, 1, 1, 1, 1, 0.0, 2, 1])  # the two natural centres weigh 0
    keep = s > 0
    m = KMedoids(2).fit(X, sample_weight=s)
    ref = KMedoids(2).fit(X[keep], sample_weight=s[keep])
    D = _dist(X)
    opt = _brute(D, 2, s, candidates=np.flatnonzero(keep))
    assert m.inertia_ == pytest.approx(ref.inertia_, rel=1e-12)
    assert m.inertia_ == pytest.approx(opt, rel=1e-9)
    assert opt > _brute(D, 2, s) + 1e-6  # the zero-weight centres would have been better
    assert keep[m.medoid_indices_].all()
    np.testing.assert_array_equal(X[m.medoid_indices_], ref.cluster_centers_)
    np.testing.assert_array_equal(m.labels_[keep], ref.labels_)
    np.testing.assert_array_equal(m.labels_, m.predict(X))
    assert m.result_.status == "optimal"
    assert m.result_.objective == pytest.approx(m.inertia_, rel=1e-9)
    assert m.program_.canonical().A.shape[1] == 6 * 6 + 6  # positive-weight rows only


def test_unit_weights_equal_unweighted_and_precomputed():
    X, s = _instance(4, n=9)
    a = KMedoids(3).fit(X)
    b = KMedoids(3).fit(X, sample_weight=np.ones(9))
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-12)
    np.testing.assert_array_equal(a.medoid_indices_, b.medoid_indices_)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    D = _dist(X)
    c = KMedoids(3).fit(X, sample_weight=s)
    p = KMedoids(3, metric="precomputed").fit(D, sample_weight=s)
    assert p.inertia_ == pytest.approx(c.inertia_, rel=1e-9)
    assert sorted(p.medoid_indices_) == sorted(c.medoid_indices_)
    assert p.program_.summary() == c.program_.summary()
    assert KMedoids(3).build_program(X, sample_weight=s).summary() == c.program_.summary()


@pytest.mark.parametrize("seed", range(3))
def test_heuristic_and_lagrangian_route_weighted(seed, monkeypatch):
    """The route taken when the MILP cannot start in the time left: the weighted heuristic's
    medoids, whose objective is their weighted cost, and a Lagrangian bound below the
    brute-force optimum."""
    monkeypatch.setattr(km_module, "_milp_seconds", lambda prog: np.inf)
    X, s = _instance(10 + seed, n=9)
    k = 2 + seed % 2
    D = _dist(X)
    opt = _brute(D, k, s)
    m = KMedoids(k, time_limit=5).fit(X, sample_weight=s)
    r = m.result_
    assert r.solver == "medoid-heuristic"
    assert r.status in ("optimal", "time_limit")
    assert r.objective == pytest.approx(_weighted_cost(m, D, s), rel=1e-12)
    assert m.inertia_ == pytest.approx(r.objective, rel=1e-12)
    assert r.objective >= opt * (1 - 1e-12)
    assert r.bound <= opt * (1 + 1e-9)
    assert r.bound > 0.5 * opt  # a bound, not a placeholder
    if r.status == "optimal":
        assert r.objective == pytest.approx(opt, rel=1e-4)


def test_heuristic_route_weighs_the_points(monkeypatch):
    """On the heuristic route too a heavy end point pulls the medoid onto itself."""
    monkeypatch.setattr(km_module, "_milp_seconds", lambda prog: np.inf)
    X = np.array([[0.0], [1.0], [2.5]])
    m = KMedoids(1, time_limit=5).fit(X, sample_weight=[1.0, 1.0, 5.0])
    assert m.result_.solver == "medoid-heuristic"
    assert m.medoid_indices_.tolist() == [2]
    assert m.result_.status == "optimal"  # the Lagrangian bound closes the gap here
    assert m.result_.objective == pytest.approx(4.0)


@pytest.mark.parametrize("seed", range(4))
def test_heuristic_and_bound_on_weighted_costs(seed):
    """The heuristic on the weighted costs s_i D_ij finds a medoid set no better than the
    optimum; the Lagrangian bound of the weighted p-median stays below it."""
    X, s = _instance(20 + seed, n=9)
    k = 2 + seed % 3
    C = s[:, None] * _dist(X)
    opt = _brute(_dist(X), k, s)
    med = km_module._heuristic(C, k)
    cost = float(C[:, med].min(axis=1).sum())
    assert len(set(med.tolist())) == k
    assert cost >= opt * (1 - 1e-12)
    bound = km_module._lagrangian_bound(C, k, cost)
    assert bound <= opt * (1 + 1e-9)


def test_capacity_counts_points_not_weights():
    """With a capacity and sample_weight, capacity counts points (or their demand); the
    weights weigh the objective only."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(6, 2))
    s = rng.integers(1, 5, 6).astype(float)
    D = _dist(X)
    m = KMedoids(2, capacity=4).fit(X, sample_weight=s)
    assert m.result_.status == "optimal"
    assert m.inertia_ == pytest.approx(_brute(D, 2, s, cap=4), rel=1e-6)
    assert np.bincount(m.labels_).max() <= 4
    demand = rng.integers(1, 4, 6).astype(float)
    cap = 0.6 * demand.sum()
    m = KMedoids(2, capacity=cap).fit(X, sample_weight=s, demand=demand)
    assert m.inertia_ == pytest.approx(_brute(D, 2, s, cap=cap, demand=demand), rel=1e-6)
    assert np.bincount(m.labels_, weights=demand).max() <= cap + 1e-9


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        (np.full(6, -1.0), ">= 0"),
        (np.r_[np.nan, np.ones(5)], "finite"),
        (np.r_[np.inf, np.ones(5)], "finite"),
        (np.ones(5), "shape"),
        (np.ones((6, 2)), "shape"),
        (np.zeros(6), "zero"),
        (["a"] * 6, "finite numbers"),
        (np.r_[1.0, np.zeros(5)], "fewer than n_clusters"),
    ],
)
def test_bad_weights_raise(weights, match):
    X, _ = _instance(0, n=6)
    with pytest.raises(ValueError, match=match):
        KMedoids(2).fit(X, sample_weight=weights)


def test_zero_weight_with_capacity_refused_and_weights_not_overwritten():
    X, s = _instance(0, n=6)
    s[2] = 0.0
    with pytest.raises(ValueError, match="capacity.*weight 0.*positive weight or drop it"):
        KMedoids(2, capacity=4).fit(X, sample_weight=s)
    s0 = s.copy()
    KMedoids(2).fit(X, sample_weight=s)
    np.testing.assert_array_equal(s, s0)
