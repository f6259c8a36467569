"""The SDP branch and bound's cut separation, warm starts and branching against brute force."""

import itertools
import time

import numpy as np
import pytest

from optml.algorithms.sdp_admm import PengWeiADMM, separate, solve_node
from optml.algorithms.sdp_bnb import SDPBranchAndBound, _merge_state
from optml.formulations.clustering import KMeansProblem
from optml.solve import SolveSettings


def _partitions(n, k):
    for lab in itertools.product(range(k), repeat=n):
        lab = np.array(lab)
        if (
            lab[0] == 0
            and len(np.unique(lab)) == k
            and all(lab[i] <= lab[:i].max() + 1 for i in range(1, n))
        ):
            yield lab


def _cost(X, lab, w):
    tot = 0.0
    for j in np.unique(lab):
        S, ws = X[lab == j], w[lab == j]
        tot += float((ws * ((S - ws @ S / ws.sum()) ** 2).sum(axis=1)).sum())
    return tot


def _brute(X, k, w, must=(), cannot=()):
    return min(
        _cost(X, lab, w)
        for lab in _partitions(len(X), k)
        if all(lab[a] == lab[b] for a, b in must) and all(lab[a] != lab[b] for a, b in cannot)
    )


def _zhat(lab, s):
    r = np.sqrt(s)
    Z = np.zeros((len(s), len(s)))
    for j in np.unique(lab):
        v = np.where(lab == j, r, 0.0)
        Z += np.outer(v, v) / (v @ v)
    return Z


@pytest.mark.parametrize("seed", range(4))
def test_separation_finds_every_violated_inequality(seed):
    """With room for all of them, the separation returns exactly the violated pair and
    triangle inequalities of a naive scan, most violated first."""
    rng = np.random.default_rng(seed)
    m = 12
    s = rng.uniform(0.5, 2.0, m) if seed % 2 else np.ones(m)
    A = rng.uniform(-0.05, 1.0, (m, m))
    X = (A + A.T) / 2 * np.outer(np.sqrt(s), np.sqrt(s))
    cannot = np.zeros((m, m), bool)
    cannot[0, 1] = cannot[1, 0] = True
    tol = 1e-4
    got = separate(X, s, cannot, 10**6, 10**6, rng, tol=tol)
    Zt = X / np.outer(np.sqrt(s), np.sqrt(s))
    thr = tol * np.diag(Zt).mean()
    pairs = {
        (a, b, -1)
        for a in range(m)
        for b in range(m)
        if a != b and not cannot[a, b] and Zt[a, b] - Zt[a, a] > thr
    }
    tri = {
        (a, b, c)
        for a in range(m)
        for b in range(m)
        for c in range(b + 1, m)
        if a not in (b, c) and Zt[a, b] + Zt[a, c] - Zt[a, a] - Zt[b, c] > thr
    }
    assert set(got) == pairs | tri
    assert len(got) == len(set(got))
    viol = [
        Zt[a, b] - Zt[a, a] if c < 0 else Zt[a, b] + Zt[a, c] - Zt[a, a] - Zt[b, c]
        for a, b, c in got[len(pairs) :]
    ]
    assert all(np.diff(viol) <= 1e-6)  # ranked in single precision
    # every inequality holds on every partition matrix
    for lab in _partitions(6, 3):
        Zp = _zhat(lab, np.ones(6))
        assert separate(Zp, np.ones(6), np.zeros((6, 6), bool), 100, 100, rng) == []


@pytest.mark.parametrize("seed", range(3))
def test_merged_warm_start_is_exact_on_partition_matrices(seed):
    """The must-link child's warm start maps the parent's partition matrix that joins a and b
    to the merged partition matrix, and renumbers the cuts."""
    rng = np.random.default_rng(seed)
    m, k = 7, 3
    s = rng.uniform(0.5, 2.0, m)
    lab = np.array([0, 0, 1, 1, 2, 2, 0])
    Z = _zhat(lab, s)
    adm = PengWeiADMM(np.eye(m), s, k, state={"X": Z, "U": Z, "Lam": 0 * Z, "rho": 1.0})
    adm.set_cuts([(0, 1, -1), (2, 0, 6), (3, 4, 5), (1, 0, 6)])
    adm.gam = np.array([1.0, 2.0, 3.0, 4.0])
    state, triples = _merge_state(adm, 0, 6)
    lab2 = np.array([0, 0, 1, 1, 2, 2])
    s2 = np.r_[s[0] + s[6], s[1:6]]
    assert np.allclose(state["X"], _zhat(lab2, s2))
    # (2, 0, 6) and (1, 0, 6) collapse; the others keep their multipliers
    assert triples == [(0, 1, -1), (3, 4, 5)]
    assert np.allclose(state["gam"], [1.0, 3.0])


@pytest.mark.parametrize(
    "seed", [0, 2, pytest.param(1, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)]
)
def test_branching_with_cuts_and_warm_starts_equals_brute_force(seed):
    """Nodes stopped after a few ADMM iterations force deep must-link / cannot-link trees
    (warm-started children, cuts carried over): the optimum and a bound below it."""
    import optml.algorithms.sdp_bnb as bnb

    rng = np.random.default_rng(10 + seed)
    n, k = 9, 3 + seed % 2
    X = rng.uniform(size=(n, 2))
    w = np.ones(n)
    opt = _brute(X, k, w)
    orig = bnb.solve_node

    def short(*a, **kw):
        kw.update(max_iter=6, check_every=2, sep_every=2, polish=0)
        return orig(*a, **kw)

    bnb.solve_node = short
    try:
        bb = SDPBranchAndBound(
            KMeansProblem(X, k, n_init=1, random_state=0), SolveSettings().started()
        )
        labels, ub, bound, status = bb.solve()
    finally:
        bnb.solve_node = orig
    assert status == "optimal"
    assert ub == pytest.approx(opt, rel=1e-4)
    assert _cost(X, labels, w) == pytest.approx(ub)
    assert bound <= opt * (1 + 1e-9)
    assert bb.nodes > 1


@pytest.mark.parametrize("seed", range(3))
def test_bound_from_warm_started_child_is_safe(seed):
    """A must-link child started from its parent's (merged) iterates and stopped after 3
    iterations still bounds the brute-force optimum under that must-link."""
    rng = np.random.default_rng(seed)
    n, k = 8, 3
    X = rng.normal(size=(n, 2))
    s = rng.uniform(0.5, 2.0, n)
    M = X - s @ X / s.sum()
    F = np.sqrt(s)[:, None] * M
    adm = PengWeiADMM(F @ F.T, s, k)
    solve_node(adm, 0.0, np.inf, np.inf, None, rng, max_iter=60, check_every=5, sep_every=10)
    state, triples = _merge_state(adm, 0, 1)
    s2 = np.r_[s[0] + s[1], s[2:]]
    M2 = np.vstack([(s[0] * M[0] + s[1] * M[1]) / s2[0], M[2:]])
    F2 = np.sqrt(s2)[:, None] * M2
    inner = s[0] * ((M[0] - M2[0]) ** 2).sum() + s[1] * ((M[1] - M2[0]) ** 2).sum()
    offset = float((s2 * (M2 * M2).sum(axis=1)).sum()) + inner
    from optml.algorithms.sdp_admm import Cuts

    child = PengWeiADMM(F2 @ F2.T, s2, k, cuts=Cuts(s2, triples), state=state)
    lb, _ = solve_node(child, offset, np.inf, np.inf, None, rng, max_iter=3, check_every=1)
    assert lb <= _brute(X, k, s, must=[(0, 1)]) * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_weighted_points_equal_brute_force(seed):
    """sample_weight (a point of weight w counts as w copies): the branch and bound's optimum
    and bound against weighted brute force, and integer weights against repeated points."""
    rng = np.random.default_rng(20 + seed)
    n, k = 8, 2 + seed % 2
    X = rng.normal(size=(n, 3))
    w = rng.integers(1, 4, n).astype(float)
    prob = KMeansProblem(X, k, n_init=3, random_state=0)
    prob.sample_weight = w
    bb = SDPBranchAndBound(prob, SolveSettings().started())
    labels, ub, bound, status = bb.solve()
    opt = _brute(X, k, w)
    assert status == "optimal"
    assert ub == pytest.approx(opt, rel=1e-4)
    assert _cost(X, labels, w) == pytest.approx(ub)
    assert bound <= opt * (1 + 1e-9)
    # the same optimum as the points repeated w times
    R = np.repeat(X, w.astype(int), axis=0)
    bb2 = SDPBranchAndBound(
        KMeansProblem(R, k, n_init=3, random_state=0), SolveSettings().started()
    )
    _, ub2, _, status2 = bb2.solve()
    assert status2 == "optimal"
    assert ub2 == pytest.approx(opt, rel=1e-4)


@pytest.mark.slow  # measured alone about 4 s; wall-clock sensitive on a loaded machine
def test_time_limit_on_a_larger_instance():
    """The restarts, the roundings, the separation and every ADMM step stay within the limit
    on an instance the SDP cannot close in time; the incumbent comes with its bound."""
    from optml.clustering import KMeans

    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(size=(100, 3)) * 1.5 + c for c in rng.normal(scale=3, size=(5, 3))])
    t = time.perf_counter()
    km = KMeans(5, method="sdp", time_limit=3.0, random_state=0, n_init=50).fit(X)
    wall = time.perf_counter() - t
    assert wall <= 3.0 * 1.1 + 1.0, wall
    r = km.result_
    assert r.status in ("time_limit", "optimal")
    assert r.bound <= r.objective * (1 + 1e-9)
    assert km.inertia_ == pytest.approx(r.objective, rel=1e-9)


@pytest.mark.parametrize("seed", range(2))
def test_root_started_at_the_incumbent_equals_brute_force(seed, monkeypatch):
    """The large-m root start (the incumbent's partition matrix, forced here at m = 9): the
    start is the scaled partition matrix, and the optimum and bound match brute force."""
    import optml.algorithms.sdp_bnb as bnb

    rng = np.random.default_rng(40 + seed)
    X = rng.normal(size=(9, 2))
    w = rng.uniform(0.5, 2.0, 9)
    prob = KMeansProblem(X, 3, n_init=2, random_state=0)
    prob.sample_weight = w
    bb = SDPBranchAndBound(prob, SolveSettings().started())
    lab = np.array([0, 0, 1, 1, 2, 2, 0, 1, 2])
    st = bb._partition_state(lab)
    assert np.allclose(st["X"], _zhat(lab, w))
    monkeypatch.setattr(bnb, "INCUMBENT_START_ABOVE", 0)
    labels, ub, bound, status = bb.solve()
    opt = _brute(X, 3, w)
    assert status == "optimal"
    assert ub == pytest.approx(opt, rel=1e-4)
    assert bound <= opt * (1 + 1e-9)
