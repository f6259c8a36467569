"""The SDP branch and bound ('sdp-bnb'): safe bounds and optima against brute force."""

import time

import numpy as np
import pytest

from optml.algorithms.sdp_admm import Cuts, PengWeiADMM, omega_min, project_omega, solve_node
from optml.formulations.clustering import KMeansProblem
from optml.solve import SolveSettings, solve


def partitions(n, k):
    """Every partition of range(n) into k non-empty clusters (labels, first-appearance order):
    the restricted growth strings with k values, generated directly."""

    def grow(prefix, top):
        i = len(prefix)
        if i == n:
            if top == k - 1:
                yield np.array(prefix)
            return
        if top + 1 + (n - i) < k:  # too few items left to open the missing clusters
            return
        for c in range(min(top + 2, k)):
            yield from grow(prefix + [c], max(top, c))

    yield from grow([0], 0)


def cost(X, lab, w=None):
    w = np.ones(len(X)) if w is None else w
    tot = 0.0
    for j in np.unique(lab):
        S, ws = X[lab == j], w[lab == j]
        c = ws @ S / ws.sum()
        tot += float((ws * ((S - c) ** 2).sum(axis=1)).sum())
    return tot


def brute(X, k, must=(), cannot=(), w=None):
    best = np.inf
    for lab in partitions(len(X), k):
        if any(lab[a] != lab[b] for a, b in must) or any(lab[a] == lab[b] for a, b in cannot):
            continue
        best = min(best, cost(X, lab, w))
    return best


def zhat(lab, s):
    """The scaled partition matrix of a labelling of weighted items."""
    r = np.sqrt(s)
    Z = np.zeros((len(s), len(s)))
    for j in np.unique(lab):
        v = np.where(lab == j, r, 0.0)
        Z += np.outer(v, v) / (v @ v)
    return Z


@pytest.mark.parametrize("seed", range(4))
def test_omega_min_is_below_every_partition_matrix(seed):
    rng = np.random.default_rng(seed)
    m, k = 7, 3
    s = rng.uniform(0.5, 3.0, m)
    u = np.sqrt(s) / np.linalg.norm(np.sqrt(s))
    Q = rng.normal(size=(m, m))
    Q = Q + Q.T
    lb = omega_min(Q, u, k)
    vals = [float((Q * zhat(lab, s)).sum()) for lab in partitions(m, k)]
    assert lb <= min(vals) + 1e-12
    # the projection lands in Omega: Z u = u, trace k, eigenvalues in [0, 1]
    X, _, _ = project_omega(Q, u, k)
    assert np.allclose(X @ u, u)
    assert np.trace(X) == pytest.approx(k)
    ev = np.linalg.eigvalsh(X)
    assert ev.min() > -1e-9 and ev.max() < 1 + 1e-9


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    # 40 iterations: slow (the default suite's budget); 5 and 400 here, and the polished
    # bound after 5 and 60 in test_clustering_sdp_polish.py
    "iters",
    [5, pytest.param(40, marks=pytest.mark.slow), 400],
)
def test_safe_bound_never_above_the_optimum(seed, iters):
    """Any ADMM iterate (a few steps, with or without cuts, weights, cannot-links) gives a bound
    at or below the brute-force optimum."""
    rng = np.random.default_rng(seed)
    n, k = 8, 2 + seed % 3
    X = rng.normal(size=(n, 3)) * rng.uniform(0.2, 3.0, 3)
    w = rng.uniform(0.5, 2.0, n) if seed % 2 else np.ones(n)
    cannot = [(0, 1)] if seed >= 3 else []
    opt = brute(X, k, cannot=cannot, w=w)
    M = X - w @ X / w.sum()
    F = np.sqrt(w)[:, None] * M
    G = F @ F.T
    offset = float((w * (M * M).sum(axis=1)).sum())
    adm = PengWeiADMM(G, w, k, cannot)
    lb, info = solve_node(adm, offset, opt, np.inf, None, rng, max_iter=iters, check_every=5)
    assert lb <= opt + 1e-9 * max(1.0, opt)
    if iters >= 400:  # the converged relaxation with cuts is close on these tiny sets
        assert lb >= opt - 0.35 * opt


def test_cut_projection_keeps_the_dual_decomposition():
    rng = np.random.default_rng(0)
    m = 6
    s = np.ones(m)
    cuts = Cuts(s, [(0, 1, -1), (2, 3, 4), (1, 0, 5)])
    V = rng.normal(size=(m, m))
    V = V + V.T
    cannot = np.zeros((m, m), bool)
    U, gam = cuts.project(V, cannot, np.zeros(len(cuts)), inner=200)
    assert (gam >= 0).all() and (U >= 0).all()
    assert (cuts.Bs @ U.ravel()[cuts.support] <= 1e-6).all()
    # V - U = B^T gam - nu with nu >= 0
    nu = cuts.adjoint(gam) - (V - U)
    assert nu.min() >= -1e-12


@pytest.mark.parametrize(
    # seed 2 (k = 4, a cannot-link; 64 nodes, 3-9 s): slow for the default suite's budget;
    # seed 3 has a cannot-link (with a must-link), test_safe_bound... k = 4
    "seed",
    [0, 1, pytest.param(2, marks=pytest.mark.slow), 3, 4],
)
def test_sdp_bnb_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, k = 9, 2 + seed % 3
    X = rng.normal(size=(n, 4))
    must = [(0, 1)] if seed in (1, 3) else []
    cannot = [(2, 3)] if seed in (2, 3) else []
    opt = brute(X, k, must, cannot)
    prob = KMeansProblem(X, k, must, cannot, n_init=5, random_state=0)
    r = solve(prob, solver="sdp-bnb")
    assert r.status == "optimal"
    assert r.objective == pytest.approx(opt, rel=1e-4)
    assert r.bound <= opt + 1e-9 * opt
    lab = KMeansProblem.labels(r.values)
    assert all(lab[a] == lab[b] for a, b in must)
    assert all(lab[a] != lab[b] for a, b in cannot)


@pytest.mark.slow  # 3-6 s (the default suite is kept under 10 min)
def test_sdp_bnb_branches_when_the_root_is_not_tight():
    """Without cuts the Peng-Wei root leaves a gap on uniform points: must-link / cannot-link
    branching closes it, to the brute-force optimum."""
    from optml.algorithms.sdp_bnb import SDPBranchAndBound

    nodes = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        X = rng.uniform(size=(9, 4))
        opt = brute(X, 3)
        bb = SDPBranchAndBound(
            KMeansProblem(X, 3, n_init=1, random_state=0), SolveSettings().started(), cut_rounds=0
        )
        labels, ub, bound, status = bb.solve()
        assert status == "optimal"
        assert ub == pytest.approx(opt, rel=1e-4)
        assert cost(X, labels) == pytest.approx(ub)
        assert bound <= opt + 1e-9
        nodes.append(bb.nodes)
    assert max(nodes) > 1


def test_sdp_bnb_time_limit_returns_incumbent_and_bound():
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import StandardScaler

    X = StandardScaler().fit_transform(load_wine().data)
    t = time.perf_counter()
    r = solve(
        KMeansProblem(X, 3, n_init=5, random_state=0),
        solver="sdp-bnb",
        settings=SolveSettings(time_limit=1.0),
    )
    wall = time.perf_counter() - t
    assert wall <= 1.0 * 1.1 + 1.0
    assert r.status in ("time_limit", "optimal")
    assert r.has_solution and r.bound <= r.objective


@pytest.mark.slow
def test_sdp_bnb_iris_matches_branch_and_price():
    from sklearn.datasets import load_iris

    X = load_iris().data
    a = solve(KMeansProblem(X, 3, n_init=10, random_state=0), solver="sdp-bnb")
    b = solve(KMeansProblem(X, 3, n_init=10, random_state=0), solver="branch-and-price")
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, rel=1e-4)
    assert a.bound <= b.objective + 1e-9 and b.bound <= a.objective + 1e-9
