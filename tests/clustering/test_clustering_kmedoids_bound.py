"""KMedoids at the MILP's time limit: the incumbent with the best proven bound (the larger of
the MILP's and the Lagrangian bound of the p-median), and the heuristic that the Lagrangian
bound certifies (no MILP when the user named no solver).

Ground truth: brute force over every medoid set on tiny instances.
"""

import itertools

import numpy as np
import pytest

from optml.clustering import KMedoids
from optml.clustering import _kmedoids as km_module
from optml.program.result import relative_gap
from optml.solve.certificate import make_result


def _dist(X):
    return np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))


def _brute(C, k):
    """min over medoid sets of sum_i C[i, medoid(i)] (C: the weighted costs)."""
    return min(C[:, list(m)].min(axis=1).sum() for m in itertools.combinations(range(len(C)), k))


def _instance(seed, n=11, spread=1.0):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=spread, size=(n, 2)) + 2.0 * rng.integers(0, 3, n)[:, None]


def _stuck_milp(monkeypatch, bound=None, calls=None, point=None):
    """The MILP solve stops at its time limit holding only its warm start (or ``point``),
    with ``bound`` (None: no bound, as when HiGHS cannot start; 0: its root not reached)."""

    def fake(self, prog, warm_start=None, **kw):
        if calls is not None:
            calls.append(kw)
        values = warm_start if point is None else point(prog)
        check, viol = prog.evaluate(values)
        return make_result(
            status="time_limit",
            sense=1,
            values=values,
            objective_check=check,
            max_violation=viol,
            bound=bound,
            solver="highs",
            backend="highs",
            problem_class="MILP",
            message="Time limit reached",
        )

    monkeypatch.setattr(KMedoids, "_solve", fake)


def _check(r, opt, mip_gap=1e-4):
    assert r.verified, r.message
    assert r.objective >= opt * (1 - 1e-12)
    assert 0 < r.bound <= opt * (1 + 1e-9)
    assert r.gap == pytest.approx(relative_gap(r.objective, r.bound), abs=1e-15)
    assert (r.status == "optimal") == (r.gap <= mip_gap)
    assert r.status in ("optimal", "time_limit")


@pytest.mark.parametrize("bound", [None, 0.0])
@pytest.mark.parametrize("seed", range(3))
def test_time_limit_keeps_the_lagrangian_bound(monkeypatch, seed, bound):
    """Before: the MILP's warm start came back with bound NaN (gap inf) or 0 (gap 1)."""
    calls = []
    _stuck_milp(monkeypatch, bound=bound, calls=calls)
    X = _instance(seed, spread=1.5)
    k = 2 + seed % 2
    opt = _brute(_dist(X), k)
    m = KMedoids(k, solver="highs", time_limit=20).fit(X)
    assert len(calls) == 1  # a named solver gets the MILP
    r = m.result_
    _check(r, opt)
    assert r.solver == "highs" and r.stats["lagrangian_bound"] <= opt * (1 + 1e-9)
    assert m.inertia_ == pytest.approx(r.objective, rel=1e-12)


def test_time_limit_keeps_the_better_milp_point_and_bound(monkeypatch):
    """The MILP's own incumbent (here the optimum) and its bound, when better, are kept."""
    X = _instance(4, spread=1.5)
    k = 3
    D = _dist(X)
    best = min(itertools.combinations(range(len(X)), k), key=lambda m: D[:, list(m)].min(1).sum())
    opt = D[:, list(best)].min(axis=1).sum()

    def point(prog):
        return km_module._point(D, np.array(best))

    _stuck_milp(monkeypatch, bound=opt * (1 - 1e-6), point=point)
    r = KMedoids(k, solver="highs", time_limit=20).fit(X).result_
    assert r.objective == pytest.approx(opt, rel=1e-12)
    assert r.bound >= opt * (1 - 1e-6) - 1e-12  # at least the MILP's bound
    _check(r, opt)
    assert r.status == "optimal"


def test_weighted_time_limit_bound_below_the_weighted_optimum(monkeypatch):
    _stuck_milp(monkeypatch, bound=None)
    X = _instance(7, n=10, spread=1.5)
    s = np.random.default_rng(7).uniform(0.2, 3.0, len(X))
    opt = _brute(s[:, None] * _dist(X), 3)
    m = KMedoids(3, backend="highs", time_limit=20).fit(X, sample_weight=s)
    _check(m.result_, opt)
    assert m.inertia_ == pytest.approx(m.result_.objective, rel=1e-12)


def test_capacity_never_uses_the_lagrangian_bound(monkeypatch):
    """The Lagrangian bound is the uncapacitated p-median's: with a capacity it would not be
    a bound, so the capacitated route keeps the MILP's own certificate."""

    def refuse(*a, **kw):
        raise AssertionError("the Lagrangian bound was used with a capacity")

    monkeypatch.setattr(km_module, "_lagrangian_bound", refuse)
    X = _instance(1, n=8)
    m = KMedoids(2, capacity=5).fit(X)
    assert m.result_.status == "optimal" and m.result_.solver == "highs"
    assert np.bincount(m.labels_).max() <= 5


def _lp_gap_instance():
    """8 normal points, k=3, whose p-median LP bound (= the Lagrangian dual) is 3 % below
    the optimum: no bound of the relaxation can certify any medoid set."""
    return np.random.default_rng(121).normal(size=(8, 2))


@pytest.mark.parametrize("seed", [*range(4), "lp-gap"])
def test_certified_heuristic_skips_the_milp(monkeypatch, seed):
    """With no solver named, a heuristic that the Lagrangian bound certifies is the answer;
    otherwise the MILP runs. Either way the brute-force optimum comes back."""
    calls = []
    inner = KMedoids._solve

    def spy(self, *a, **kw):
        calls.append(1)
        return inner(self, *a, **kw)

    monkeypatch.setattr(KMedoids, "_solve", spy)
    X = _lp_gap_instance() if seed == "lp-gap" else _instance(seed, spread=0.5 + 0.5 * seed)
    k = 3
    opt = _brute(_dist(X), k)
    r = KMedoids(k).fit(X).result_
    assert r.status == "optimal" and r.verified
    assert r.objective == pytest.approx(opt, rel=1e-9)
    assert r.bound <= opt * (1 + 1e-9) and r.gap <= 1e-4
    assert (r.solver == "medoid-heuristic") == (not calls)
    if seed == "lp-gap":
        assert calls == [1] and r.solver == "highs"
        assert km_module._lagrangian_bound(_dist(X), k, opt) < opt * (1 - 1e-2)
    elif seed == 0:  # well-separated clusters: the LP bound is tight
        assert not calls


@pytest.mark.parametrize(
    "kw", [{"solver": "highs"}, {"backend": "highs"}, {"solver_options": {"presolve": "off"}}]
)
def test_a_named_solver_gets_the_milp(monkeypatch, kw):
    """Benchmarks compare solvers, and a solver's own options are read only by a solve:
    then the MILP runs even when the heuristic is certified."""
    calls = []
    inner = KMedoids._solve

    def spy(self, *a, **k):
        calls.append(1)
        return inner(self, *a, **k)

    monkeypatch.setattr(KMedoids, "_solve", spy)
    X = _instance(0, spread=0.5)
    r = KMedoids(3, **kw).fit(X).result_
    assert calls == [1] and r.solver == "highs" and r.status == "optimal"
    assert r.objective == pytest.approx(_brute(_dist(X), 3), rel=1e-9)


def test_lagrangian_ascent_resumes_and_finds_medoid_sets():
    """Resuming from the state of a shorter ascent gives the one-call ascent's bound; the
    medoid sets met on the way (Beasley's Lagrangian heuristic) cost what they claim."""
    X = _instance(5, n=12, spread=2.0)
    D = _dist(X)
    k = 3
    opt = _brute(D, k)
    med = km_module._heuristic(D, k)
    cost = km_module._cost(D, med)
    one, part = {}, {}
    b1 = km_module._lagrangian_bound(D, k, cost, iters=60, state=one)
    km_module._lagrangian_bound(D, k, cost, iters=25, state=part)
    b2 = km_module._lagrangian_bound(D, k, cost, iters=60, state=part)
    assert b2 == b1 and part["it"] == one["it"]
    assert b1 <= opt * (1 + 1e-9)
    if "med" in one:
        assert one["upper"] == pytest.approx(km_module._cost(D, one["med"]), rel=1e-12)
        assert opt * (1 - 1e-12) <= one["upper"] < cost
    assert km_module._lagrangian_bound(D, k, cost) <= opt * (1 + 1e-9)  # no state: a bound
