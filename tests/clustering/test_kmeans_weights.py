"""KMeans(sample_weight=...): a point of weight w counts as w copies, on every method.

Ground truth: weighted brute force over every partition (tiny instances), the fit on the data
with points repeated (integer weights), and scikit-learn's KMeans on the same weights.
"""

import numpy as np
import pytest

from optml.clustering import KMeans
from optml.formulations.clustering import KMeansProblem


def _partitions(n, k):
    """Every partition of range(n) into exactly k non-empty clusters (restricted growth)."""

    def rec(i, lab, used):
        if n - i < k - used:
            return
        if i == n:
            if used == k:
                yield np.array(lab)
            return
        for j in range(min(used + 1, k)):
            yield from rec(i + 1, [*lab, j], max(used, j + 1))

    yield from rec(0, [], 0)


def _cost(X, labels, w):
    tot = 0.0
    for j in np.unique(labels):
        m = labels == j
        c = np.average(X[m], axis=0, weights=w[m])
        tot += float(w[m] @ ((X[m] - c) ** 2).sum(axis=1))
    return tot


def _brute(X, k, w, lo=1, hi=None, must=(), cannot=()):
    best = np.inf
    for lab in _partitions(X.shape[0], k):
        size = np.bincount(lab, minlength=k)
        if size.min() < lo or (hi is not None and size.max() > hi):
            continue
        if any(lab[a] != lab[b] for a, b in must) or any(lab[a] == lab[b] for a, b in cannot):
            continue
        best = min(best, _cost(X, lab, w))
    return best


def _same_partition(a, b):
    """Labels equal up to a permutation of the cluster names."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def _instance(seed, n=7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) + np.repeat(rng.normal(scale=3, size=(3, 2)), 3, axis=0)[:n]
    w = rng.integers(1, 4, n).astype(float)
    return X, w


def _check_certified(km, opt, rel=1e-9):
    # rel: the certified objective is the program's value at the solver's point; a general
    # solver's centres meet the quadratic rows to its feasibility tolerance only (1e-6)
    r = km.result_
    assert r.status == "optimal"
    assert km.inertia_ == pytest.approx(opt, rel=1e-4)
    assert r.objective == pytest.approx(km.inertia_, rel=rel)
    assert r.bound <= opt * (1 + 1e-9) + 1e-9


@pytest.mark.parametrize("method", ["colgen", "sdp"])
def test_weighted_equals_brute_force_and_repeated_points(method):
    """Integer weights: the weighted fit has the weighted brute-force optimum, and the same
    objective and partition as the fit on the points repeated w times."""
    X, w = _instance(1, n=6)
    k = 3
    opt = _brute(X, k, w)
    km = KMeans(k, method=method, random_state=0, n_init=5).fit(X, sample_weight=w)
    _check_certified(km, opt)
    assert _cost(X, km.labels_, w) == pytest.approx(opt, rel=1e-4)
    R = np.repeat(X, w.astype(int), axis=0)
    kr = KMeans(k, method=method, random_state=0, n_init=5).fit(R)
    assert kr.inertia_ == pytest.approx(km.inertia_, rel=1e-4)
    assert _same_partition(np.repeat(km.labels_, w.astype(int)), kr.labels_)
    # clusters are numbered by their centres, not by row order: the same labels exactly
    np.testing.assert_array_equal(np.repeat(km.labels_, w.astype(int)), kr.labels_)
    np.testing.assert_allclose(km.cluster_centers_, kr.cluster_centers_, atol=1e-9)


def test_enumerate_weighted_brute_force():
    X, w = _instance(1)
    opt = _brute(X, 3, w)
    km = KMeans(3, method="enumerate").fit(X, sample_weight=w)
    _check_certified(km, opt)
    assert _cost(X, km.labels_, w) == pytest.approx(opt, rel=1e-4)


def test_fractional_weights_brute_force_colgen_with_links():
    """Non-integer weights with must-link and cannot-link pairs (branch and price)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(8, 2))
    w = rng.uniform(0.2, 3.0, 8)
    must, cannot = [(0, 1)], [(2, 3)]
    opt = _brute(X, 3, w, must=must, cannot=cannot)
    km = KMeans(3, method="colgen", random_state=0, n_init=5)
    km.fit(X, sample_weight=w, must_link=must, cannot_link=cannot)
    _check_certified(km, opt)
    assert km.labels_[0] == km.labels_[1] and km.labels_[2] != km.labels_[3]


@pytest.mark.parametrize(
    "method", [pytest.param("colgen", marks=pytest.mark.slow), "enumerate"]
)  # colgen: 2-6 s (sizes price by a knapsack bound, slower to converge)
def test_weights_with_sizes_count_rows(method):
    """min_size / max_size count points (rows), not weights."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(7, 2))
    w = rng.integers(1, 6, 7).astype(float)
    opt = _brute(X, 2, w, lo=3, hi=4)
    km = KMeans(2, method=method, min_size=3, max_size=4, random_state=0, n_init=5)
    km.fit(X, sample_weight=w)
    _check_certified(km, opt)
    size = np.bincount(km.labels_)
    assert size.min() >= 3 and size.max() <= 4


def test_zero_weights_equal_removed_points():
    """Zero-weight points count as no copy: the fit equals the fit without them, and they take
    their nearest centre's label; the inertia does not count them."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(9, 2))
    w = rng.integers(1, 3, 9).astype(float)
    w[[2, 6]] = 0.0
    keep = w > 0
    km = KMeans(2, method="enumerate").fit(X, sample_weight=w)
    ref = KMeans(2, method="enumerate").fit(X[keep], sample_weight=w[keep])
    assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
    assert km.inertia_ == pytest.approx(_brute(X[keep], 2, w[keep]), rel=1e-4)
    np.testing.assert_array_equal(km.labels_[keep], ref.labels_)
    np.testing.assert_array_equal(km.labels_, km.predict(X))
    assert km.score(X, sample_weight=w) == pytest.approx(-km.inertia_, rel=1e-9)


def test_score_and_predict_weighted():
    X, w = _instance(2, n=8)
    km = KMeans(2, method="enumerate").fit(X, sample_weight=w)
    d2 = ((X[:, None] - km.cluster_centers_[None]) ** 2).sum(axis=2).min(axis=1)
    assert km.score(X, sample_weight=w) == pytest.approx(-float(w @ d2))
    assert km.score(X) == pytest.approx(-float(d2.sum()))
    assert km.score(X, sample_weight=w) == pytest.approx(-km.inertia_, rel=1e-9)
    for j in range(2):  # centres are weighted means
        m = km.labels_ == j
        np.testing.assert_allclose(km.cluster_centers_[j], np.average(X[m], 0, weights=w[m]))


def test_unit_weights_equal_unweighted():
    X, _ = _instance(4, n=8)
    a = KMeans(3, method="enumerate").fit(X)
    b = KMeans(3, method="enumerate").fit(X, sample_weight=np.ones(8))
    assert a.inertia_ == pytest.approx(b.inertia_)
    np.testing.assert_array_equal(a.labels_, b.labels_)


def test_problem_program_and_evaluate_are_weighted():
    """The compact MIQCP (general solvers' program) and the numpy re-check weigh the points."""
    X, w = _instance(6, n=6)
    lab = np.array([0, 0, 1, 1, 1, 0])
    prob = KMeansProblem(X, 2, sample_weight=w)
    pt = prob.point(lab)
    obj, viol = prob.evaluate(pt)
    assert obj == pytest.approx(_cost(X, lab, w))
    assert viol <= 1e-9
    pobj, pviol = prob.program.evaluate(pt)
    assert pobj == pytest.approx(obj)
    assert pviol <= 1e-7


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
    ],
)
def test_bad_weights_raise(weights, match):
    X, _ = _instance(0, n=6)
    with pytest.raises(ValueError, match=match):
        KMeans(2).fit(X, sample_weight=weights)


def test_refusals_name_the_way_out():
    X, w = _instance(0, n=6)
    with pytest.raises(ValueError, match="sdp_bound.*sample_weight.*'sdp', 'colgen'"):
        KMeans(2, method="sdp_bound").fit(X, sample_weight=w)
    z = w.copy()
    z[1] = 0.0
    with pytest.raises(ValueError, match="weight.*0.*linked"):
        KMeans(2, method="colgen").fit(X, sample_weight=z, cannot_link=[(1, 2)])
    with pytest.raises(ValueError, match="min_size / max_size"):
        KMeans(2, method="colgen", min_size=2).fit(X, sample_weight=z)
    z = np.zeros(6)
    z[0] = 1.0
    with pytest.raises(ValueError, match="fewer than n_clusters"):
        KMeans(2).fit(X, sample_weight=z)
    # a zero-weight point must-linked to a positive one is fine (its group weighs > 0)
    z = w.copy()
    z[1] = 0.0
    km = KMeans(2, method="colgen", random_state=0, n_init=3)
    km.fit(X, sample_weight=z, must_link=[(0, 1)])
    assert km.labels_[0] == km.labels_[1]
    assert km.inertia_ == pytest.approx(_brute(X, 2, z, must=[(0, 1)]), rel=1e-4)


def test_weights_not_overwritten():
    X, w = _instance(0, n=6)
    w0 = w.copy()
    w[3] = 0.0
    w1 = w.copy()
    KMeans(2, method="enumerate").fit(X, sample_weight=w)
    np.testing.assert_array_equal(w, w1)
    assert not np.array_equal(w0, w1)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_miqcp_on_scip_weighted_brute_force(seed):
    """The general-solver route (compact MIQCP on SCIP) with weights."""
    pytest.importorskip("pyscipopt")
    rng = np.random.default_rng(30 + seed)
    X = rng.normal(size=(6, 2))
    w = rng.integers(1, 4, 6).astype(float)
    km = KMeans(2, method="colgen", solver="scip").fit(X, sample_weight=w)
    _check_certified(km, _brute(X, 2, w), rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["colgen", "sdp"])
@pytest.mark.parametrize("seed", range(3))
def test_weighted_repeated_random(method, seed):
    """More random tiny instances, each method: weighted = brute force = repeated points."""
    X, w = _instance(100 + seed, n=8)
    k = 2 + seed % 2
    opt = _brute(X, k, w)
    km = KMeans(k, method=method, random_state=seed, n_init=5).fit(X, sample_weight=w)
    _check_certified(km, opt)
    R = np.repeat(X, w.astype(int), axis=0)
    kr = KMeans(k, method=method, random_state=seed, n_init=5).fit(R)
    assert kr.inertia_ == pytest.approx(opt, rel=1e-4)
    np.testing.assert_array_equal(np.repeat(km.labels_, w.astype(int)), kr.labels_)


@pytest.mark.slow
@pytest.mark.parametrize(("method", "dim"), [("colgen", 2), ("sdp", 5)])
def test_against_sklearn_weighted_blobs(method, dim):
    """optml's certified weighted objective is at most scikit-learn's best of many inits
    (column generation in the plane, the SDP in 5 dimensions: where each is meant to run)."""
    from sklearn.cluster import KMeans as SKMeans
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(60, centers=3, n_features=dim, cluster_std=2.0, random_state=2)
    w = np.random.default_rng(2).uniform(0.1, 5.0, X.shape[0])
    sk = SKMeans(3, n_init=50, random_state=0).fit(X, sample_weight=w)
    sk_obj = -sk.score(X, sample_weight=w)
    km = KMeans(3, method=method, random_state=0, n_init=20).fit(X, sample_weight=w)
    assert km.result_.status == "optimal"
    assert km.inertia_ <= sk_obj * (1 + 1e-6)
    assert km.result_.bound <= km.inertia_ * (1 + 1e-9)
    assert km.score(X, sample_weight=w) == pytest.approx(-km.inertia_, rel=1e-9)


@pytest.mark.slow  # about 10-25 s: several certified fits on the checks' 16-point data
def test_sklearn_sample_weight_checks():
    """scikit-learn's sample-weight checks on KMeans (the full set runs with -m slow)."""
    from sklearn.utils import estimator_checks as ec

    est = KMeans(n_clusters=2, random_state=0, time_limit=20)
    ec.check_sample_weights_shape("KMeans", est)
    ec.check_sample_weights_not_overwritten("KMeans", est)
    ec.check_sample_weights_list("KMeans", est)
    ec.check_all_zero_sample_weights_error("KMeans", est)
    ec.check_sample_weights_not_an_array("KMeans", est)
    ec.check_sample_weights_pandas_series("KMeans", est)
    ec.check_sample_weight_equivalence_on_dense_data("KMeans", est)


def test_more_clusters_than_distinct_points():
    """Repeated points with k above the number of distinct points: the optimum is 0 (copies
    split); the heuristics' re-seeding of empty clusters used to crash here (scikit-learn's
    check_sample_weights_shape data with the default n_clusters=8)."""
    X = np.repeat(np.array([[1.0, 3.0], [2.0, 1.0], [3.0, 3.0], [4.0, 1.0]]), 4, axis=0)
    km = KMeans(8, method="colgen", random_state=0, n_init=3).fit(X, sample_weight=np.ones(16))
    assert km.result_.status == "optimal"
    assert km.inertia_ == pytest.approx(0.0, abs=1e-12)
    assert len(np.unique(km.labels_)) == 8
