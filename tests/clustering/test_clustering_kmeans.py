"""KMeans: certified MSSC against brute-force enumeration of all partitions."""

import itertools

import numpy as np
import pytest

from optml.clustering import KMeans
from optml.exceptions import SolveError
from optml.formulations.clustering import peng_wei_sdp


def brute(X, k, must=(), cannot=(), lo=1, hi=None):
    n = X.shape[0]
    hi = n if hi is None else hi
    best = np.inf
    for lab in itertools.product(range(k), repeat=n):
        lab = np.array(lab)
        if lab[0] != 0:
            continue
        sizes = np.bincount(lab, minlength=k)
        if sizes.min() < lo or sizes.max() > hi:
            continue
        if any(lab[a] != lab[b] for a, b in must) or any(lab[a] == lab[b] for a, b in cannot):
            continue
        cost = sum(((X[lab == j] - X[lab == j].mean(0)) ** 2).sum() for j in range(k))
        best = min(best, cost)
    return best


def cost_of(X, lab):
    return sum(((X[lab == j] - X[lab == j].mean(0)) ** 2).sum() for j in np.unique(lab))


@pytest.mark.parametrize(
    "seed, k, method",
    [(s, k, "enumerate") for s in range(3) for k in (2, 3)] + [(0, 2, "colgen"), (1, 3, "colgen")],
)
def test_kmeans_equals_enumeration(seed, k, method):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(9, 2))
    km = KMeans(k, method=method, random_state=seed, n_init=10).fit(X)
    opt = brute(X, k)
    assert km.result_.status == "optimal"
    assert km.inertia_ == pytest.approx(opt, rel=1e-4, abs=1e-9)
    assert km.result_.bound <= opt + 1e-7
    assert cost_of(X, km.labels_) == pytest.approx(km.inertia_)
    assert len(np.unique(km.labels_)) == k


@pytest.mark.parametrize("method", ["enumerate", "colgen"])
def test_kmeans_links_and_sizes_change_the_optimum(method):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(8, 2))
    free = brute(X, 2)
    km0 = KMeans(2, method=method, random_state=0).fit(X)
    lab = km0.labels_
    a = int(np.flatnonzero(lab == 0)[0])
    b = int(np.flatnonzero(lab == 1)[0])
    # must-link two points the free optimum separates
    km = KMeans(2, method=method, random_state=0).fit(X, must_link=[(a, b)])
    opt = brute(X, 2, must=[(a, b)])
    assert opt > free + 1e-9
    assert km.labels_[a] == km.labels_[b]
    assert km.inertia_ == pytest.approx(opt, rel=1e-4)
    # cannot-link two points the free optimum joins
    c = int(np.flatnonzero(lab == lab[a])[1])
    km = KMeans(2, method=method, random_state=0).fit(X, cannot_link=[(a, c)])
    opt = brute(X, 2, cannot=[(a, c)])
    assert km.labels_[a] != km.labels_[c]
    assert km.inertia_ == pytest.approx(opt, rel=1e-4)
    # sizes
    km = KMeans(2, method=method, min_size=4, max_size=4, random_state=0).fit(X)
    opt = brute(X, 2, lo=4, hi=4)
    assert (np.bincount(km.labels_) == 4).all()
    assert km.inertia_ == pytest.approx(opt, rel=1e-4)
    assert km.result_.bound <= opt + 1e-7


def test_kmeans_colgen_larger_instance_matches_enumeration_mip():
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(size=(6, 2)), rng.normal(size=(6, 2)) + 2.5])
    a = KMeans(3, method="colgen", random_state=0).fit(X)
    b = KMeans(3, method="enumerate").fit(X)
    assert a.result_.status == b.result_.status == "optimal"
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-4)


def test_peng_wei_sdp_bound_below_optimum():
    pytest.importorskip("cvxpy")
    for seed in range(2):
        X = np.random.default_rng(seed).normal(size=(8, 2))
        res = peng_wei_sdp(X, 2).solve(backend="cvxpy", solver="clarabel")
        assert res.status == "optimal"
        assert res.objective <= brute(X, 2) * (1 + 1e-6) + 1e-6


def test_kmeans_iris_certified():
    from sklearn.datasets import load_iris

    X = load_iris().data
    km = KMeans(3, method="colgen", random_state=0).fit(X)
    assert km.inertia_ == pytest.approx(78.8514, abs=1e-3)
    assert km.result_.status == "optimal"
    assert km.result_.gap <= 1e-4
    assert km.result_.bound <= km.inertia_


@pytest.mark.parametrize(
    "kw, X, err",
    [
        ({"n_clusters": 5}, np.zeros((3, 2)), "larger than n_samples"),
        ({"n_clusters": 0}, np.zeros((3, 2)), "n_clusters must be an integer"),
        ({"n_clusters": 2}, np.zeros((0, 2)), "0 sample"),
        ({"n_clusters": 2}, np.array([[0.0, np.nan], [1.0, 1.0]]), "NaN"),
        ({"n_clusters": 2, "method": "lloyd"}, np.zeros((3, 2)), "method must be"),
    ],
)
def test_kmeans_bad_input(kw, X, err):
    with pytest.raises(ValueError, match=err):
        KMeans(**kw).fit(X)


def test_kmeans_contradictory_links():
    X = np.random.default_rng(0).normal(size=(6, 2))
    km = KMeans(2)
    with pytest.raises(SolveError, match="must-linked .* also cannot-linked"):
        km.fit(X, must_link=[(0, 1), (1, 2)], cannot_link=[(0, 2)])
    assert km.result_.status == "infeasible"


def test_kmeans_predict_and_transform():
    X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    km = KMeans(2).fit(X)
    assert (km.predict(X) == km.labels_).all()
    assert km.transform(X).shape == (4, 2)


def test_kmeans_sdp_bound_method_bound_below_certified_optimum():
    pytest.importorskip("cvxpy")
    X = np.random.default_rng(4).normal(size=(9, 2))
    km = KMeans(3, method="sdp_bound", random_state=0).fit(X)
    opt = brute(X, 3)
    assert km.result_.bound <= opt + 1e-7
    assert km.inertia_ >= opt - 1e-9
    assert km.result_.problem_class == "SDP"


@pytest.mark.parametrize("seed", range(3))
def test_kmeans_sdp_method_is_exact(seed):
    """method='sdp' is the SDP branch and bound: the brute-force optimum, with links."""
    rng = np.random.default_rng(20 + seed)
    X = rng.normal(size=(9, 5))
    must, cannot = ([(0, 1)], [(2, 3)]) if seed == 2 else ([], [])
    km = KMeans(3, method="sdp", random_state=0, n_init=5)
    km.fit(X, must_link=must, cannot_link=cannot)
    opt = brute(X, 3, must=must, cannot=cannot)
    assert km.result_.solver == "sdp-bnb"
    assert km.result_.status == "optimal"
    assert km.inertia_ == pytest.approx(opt, rel=1e-4)
    assert km.result_.bound <= opt + 1e-9
    assert cost_of(X, km.labels_) == pytest.approx(km.inertia_)


@pytest.mark.slow  # 5-7 s: the default suite keeps under 10 minutes
def test_kmeans_auto_picks_by_dimension():
    rng = np.random.default_rng(0)
    X5 = np.vstack([rng.normal(size=(10, 6)) + c for c in (0.0, 6.0)])
    X2 = np.vstack([rng.normal(size=(10, 2)) + c for c in (0.0, 6.0)])
    assert KMeans(2, random_state=0, n_init=3).fit(X5).method_ == "sdp"
    assert KMeans(2, random_state=0, n_init=3).fit(X2).method_ == "colgen"
    assert KMeans(2, random_state=0, n_init=3).fit(X5[:8]).method_ == "enumerate"
    # sizes on unweighted points: the SDP (its diagonal bounded), in the plane too
    assert KMeans(2, random_state=0, n_init=3, min_size=5).fit(X5).method_ == "sdp"
    assert KMeans(2, random_state=0, n_init=3, min_size=5).fit(X2).method_ == "sdp"
    # sizes on weighted points: the branch and price
    w = np.linspace(1.0, 2.0, X2.shape[0])
    km = KMeans(2, random_state=0, n_init=3, min_size=5).fit(X2, sample_weight=w)
    assert km.method_ == "colgen"
