"""Cluster sizes in the SDP branch and bound: diagonal bounds, their safe bound, brute force."""

import numpy as np
import pytest
from test_kmeans_weights import _brute, _cost

from optml.algorithms.sdp_admm import PengWeiADMM, polish_dual, solve_node
from optml.algorithms.sdp_bnb import SDPBranchAndBound
from optml.clustering import KMeans
from optml.formulations.clustering import KMeansProblem
from optml.solve import SolveSettings


def _unbalanced(seed):
    """Seven points near the origin, three far away: the free optimum splits 7 / 3."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(7, 2)), rng.normal(size=(3, 2)) + 6.0])
    return X - X.mean(axis=0)


@pytest.mark.parametrize("seed", range(3))
def test_size_bounds_raise_the_root_bound_and_stay_safe(seed):
    """With sizes 5 / 5 the free optimum (7 / 3) is cut off: the relaxation without the
    diagonal bounds stays at or below the free optimum, with them it climbs to (at most) the
    constrained optimum, from the ADMM's multipliers and after the dual polishing."""
    X = _unbalanced(seed)
    n, k = X.shape[0], 2
    free = _brute(X, k, np.ones(n))
    con = _brute(X, k, np.ones(n), lo=5, hi=5)
    assert con > 1.5 * free  # the instance: the sizes matter
    G, s, c0 = X @ X.T, np.ones(n), float((X**2).sum())
    rng = np.random.default_rng(0)
    plain = PengWeiADMM(G, s, k, scale=np.trace(G))
    b0, _ = solve_node(plain, c0, con, np.inf, None, rng, max_iter=2000, cut_rounds=10)
    assert b0 <= free * (1 + 1e-9)
    sized = PengWeiADMM(G, s, k, scale=np.trace(G), diag=(s / 5, s / 5))
    b1, _ = solve_node(sized, c0, con, np.inf, None, rng, max_iter=2000, cut_rounds=10)
    assert con * (1 - 1e-3) <= b1 <= con * (1 + 1e-9)
    # a few iterations only, then the polishing: still below the constrained optimum
    early = PengWeiADMM(G, s, k, scale=np.trace(G), diag=(s / 6, s / 4))
    for _ in range(15):
        early.step()
    own = c0 + early.scale * early.bound()
    pol, evals = polish_dual(early, max_evals=20)
    pol = c0 + early.scale * pol
    con46 = _brute(X, k, np.ones(n), lo=4, hi=6)
    assert evals > 0
    assert own - 1e-9 * con46 <= pol <= con46 * (1 + 1e-9)


@pytest.mark.parametrize(
    "seed, lo, hi, weighted",
    [(0, 2, 4, False), (1, 3, 3, False), (2, 1, 4, True), (3, 3, None, False), (4, 3, 3, True)],
)
def test_sdp_with_sizes_equals_brute_force(seed, lo, hi, weighted):
    """KMeans(method="sdp", min_size, max_size): the brute-force optimum under the sizes
    (sizes count points; with sample_weight the relaxation leaves them to the branching)."""
    rng = np.random.default_rng(seed)
    n, k = 9, 3
    X = rng.normal(size=(n, 3)) + np.repeat(rng.normal(scale=2, size=(3, 3)), 3, axis=0)
    w = rng.integers(1, 4, n).astype(float) if weighted else None
    ww = np.ones(n) if w is None else w
    opt = _brute(X, k, ww, lo=lo, hi=hi)
    km = KMeans(k, method="sdp", min_size=lo, max_size=hi, random_state=0, n_init=3)
    km.fit(X, sample_weight=w)
    r = km.result_
    assert r.solver == "sdp-bnb"
    assert r.status == "optimal"
    assert km.inertia_ == pytest.approx(opt, rel=1e-6)
    assert _cost(X, km.labels_, ww) == pytest.approx(km.inertia_)
    size = np.bincount(km.labels_, minlength=k)
    assert size.min() >= lo and (hi is None or size.max() <= hi)
    assert r.bound <= opt * (1 + 1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_deep_branching_enforces_sizes(seed):
    """Nodes stopped after a few ADMM iterations force deep trees: the leaves (every item
    alone) and the incumbents must meet the sizes, the bound stays below the optimum."""
    import optml.algorithms.sdp_bnb as bnb

    rng = np.random.default_rng(30 + seed)
    n, k = 8, 2
    X = rng.uniform(size=(n, 2))
    opt = _brute(X, k, np.ones(n), lo=3, hi=5)
    orig = bnb.solve_node

    def short(*a, **kw):
        kw.update(max_iter=6, check_every=2, sep_every=2, polish=0)
        return orig(*a, **kw)

    prob = KMeansProblem(X, k, min_size=3, max_size=5, n_init=1, random_state=0)
    bnb.solve_node = short
    try:
        bb = SDPBranchAndBound(prob, SolveSettings().started())
        labels, ub, bound, status = bb.solve()
    finally:
        bnb.solve_node = orig
    assert status == "optimal"
    assert ub == pytest.approx(opt, rel=1e-4)
    size = np.bincount(labels, minlength=k)
    assert size.min() >= 3 and size.max() <= 5
    assert bound <= opt * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_sized_assignment_equals_brute_force(seed):
    """The transportation LP's assignment to fixed centres is the cheapest assignment under
    the sizes (all 3^8 assignments enumerated); constrained Lloyd keeps the sizes."""
    import itertools

    from optml.algorithms.mssc_heuristics import constrained_lloyd, sized_assignment

    rng = np.random.default_rng(seed)
    m, k, lo, hi = 8, 3, 2, 3
    M = rng.normal(size=(m, 2))
    w = rng.uniform(0.5, 2.0, m) if seed % 2 else np.ones(m)
    C = rng.normal(size=(k, 2))
    D = w[:, None] * ((M[:, None, :] - C[None]) ** 2).sum(axis=2)
    best = min(
        D[np.arange(m), lab].sum()
        for lab in map(np.array, itertools.product(range(k), repeat=m))
        if lo <= np.bincount(lab, minlength=k).min() and np.bincount(lab, minlength=k).max() <= hi
    )
    lab = sized_assignment(M, w, C, lo, hi, np.ones(m))
    size = np.bincount(lab, minlength=k)
    assert size.min() >= lo and size.max() <= hi
    assert D[np.arange(m), lab].sum() == pytest.approx(best, rel=1e-9)
    lab2 = constrained_lloyd(M, w, C, lo, hi, np.ones(m))
    size2 = np.bincount(lab2, minlength=k)
    assert size2.min() >= lo and size2.max() <= hi


def test_time_limit_holds_with_sizes():
    """At the limit: an incumbent within the sizes, its bound below it, limit + 10 % + 1 s."""
    import time

    from sklearn.datasets import make_blobs

    X = make_blobs(300, centers=4, cluster_std=1.5, random_state=2)[0]
    t = time.perf_counter()
    km = KMeans(4, method="sdp", min_size=70, max_size=80, time_limit=1.5, random_state=0)
    km.fit(X)
    elapsed = time.perf_counter() - t
    assert elapsed <= 1.5 * 1.1 + 1.0
    r = km.result_
    assert r.status in ("time_limit", "optimal")
    size = np.bincount(km.labels_, minlength=4)
    assert size.min() >= 70 and size.max() <= 80
    assert r.bound <= r.objective * (1 + 1e-9)
    assert _cost(X, km.labels_, np.ones(300)) == pytest.approx(km.inertia_)
