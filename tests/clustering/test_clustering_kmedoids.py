"""KMedoids: the p-median MILP against enumeration of all medoid sets."""

import itertools

import numpy as np
import pytest

from optml.clustering import KMedoids


def brute(D, k, cap=None):
    n = D.shape[0]
    best = np.inf
    for med in itertools.combinations(range(n), k):
        med = list(med)
        if cap is None:
            best = min(best, D[:, med].min(axis=1).sum())
            continue
        for lab in itertools.product(range(k), repeat=n):  # tiny n only
            lab = np.array(lab)
            if np.bincount(lab, minlength=k).max() > cap:
                continue
            best = min(best, D[np.arange(n), np.array(med)[lab]].sum())
    return best


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [2, 3, 4])
def test_kmedoids_equals_enumeration(seed, k):
    X = np.random.default_rng(seed).normal(size=(14, 2))
    m = KMedoids(k).fit(X)
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    assert m.result_.status == "optimal"
    assert m.inertia_ == pytest.approx(brute(D, k), rel=1e-6)
    assert len(m.medoid_indices_) == k
    assert m.result_.bound <= m.inertia_ + 1e-6


def test_kmedoids_metrics_agree():
    X = np.random.default_rng(1).normal(size=(10, 3))
    D = np.abs(X[:, None] - X[None]).sum(-1)
    a = KMedoids(3, metric="precomputed").fit(D)
    b = KMedoids(3, metric="manhattan").fit(X)
    c = KMedoids(3, metric=lambda u, v: np.abs(u - v).sum()).fit(X)
    assert a.inertia_ == pytest.approx(brute(D, 3))
    assert b.inertia_ == pytest.approx(a.inertia_) and c.inertia_ == pytest.approx(a.inertia_)
    assert (a.predict(D) == a.labels_).all()


def test_kmedoids_capacity_holds_and_changes_optimum():
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(size=(6, 2)) * 0.2, rng.normal(size=(2, 2)) * 0.2 + 5])
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    free = KMedoids(2).fit(X)
    capd = KMedoids(2, capacity=4).fit(X)
    assert np.bincount(capd.labels_).max() <= 4
    assert capd.inertia_ == pytest.approx(brute(D, 2, cap=4), rel=1e-6)
    assert capd.inertia_ > free.inertia_ + 1e-6


@pytest.mark.parametrize(
    "kw, X, err",
    [
        ({"n_clusters": 4}, np.zeros((3, 2)), "larger than n_samples"),
        ({"n_clusters": 0}, np.zeros((3, 2)), "n_clusters must be an integer"),
        ({"n_clusters": 2}, np.zeros((0, 2)), "0 sample"),
        ({"n_clusters": 2}, np.array([[0.0, np.nan], [1.0, 1.0]]), "NaN"),
        ({"n_clusters": 2, "capacity": 1}, np.zeros((3, 2)), "no assignment fits"),
        ({"n_clusters": 2, "metric": "cosine"}, np.zeros((3, 2)), "metric must be"),
        ({"n_clusters": 2, "metric": "precomputed"}, np.zeros((3, 2)), "square"),
    ],
)
def test_kmedoids_bad_input(kw, X, err):
    with pytest.raises(ValueError, match=err):
        KMedoids(**kw).fit(X)
