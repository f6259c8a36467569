"""Issue 27: the combinatorial lower bound of minimum-weight binarized networks (against
enumeration over every ternary network) and the hybrid's validation guard."""

import itertools
import time

import numpy as np
import pytest

from optml.algorithms.nn_train import (
    PHASES,
    GuardedBNNProblem,
    chosen_phase,
    keep_phase,
    min_weight_lower_bound,
    smallest_cover_size,
    stratified_holdout,
)
from optml.nn import BinarizedNeuralNetwork
from optml.program.settings import SolveSettings

T = (-1.0, 0.0, 1.0)


def _min_weight_enumerated(X, y, n_hidden, delta=1e-3):
    """Fewest nonzero weights over every ternary network (2 classes) fitting every point."""
    N, p = X.shape
    Xa = np.hstack([X, np.ones((N, 1))])
    outs = np.array(list(itertools.product(T, repeat=2 * (n_hidden + 1)))).reshape(
        -1, 2, n_hidden + 1
    )
    out_nz = np.count_nonzero(outs.reshape(len(outs), -1), axis=1)
    best = np.inf
    for w1 in itertools.product(T, repeat=n_hidden * (p + 1)):
        W1 = np.array(w1).reshape(n_hidden, p + 1)
        A = Xa @ W1.T
        if ((A < 0) & (A > -delta)).any():
            continue
        H = np.hstack([np.where(A >= 0, 1.0, -1.0), np.ones((N, 1))])
        S = np.einsum("nh,okh->okn", H, outs)
        diff = S[:, y, np.arange(N)] - S[:, 1 - y, np.arange(N)]
        ok = (diff >= 1).all(axis=1)
        if ok.any():
            best = min(best, np.count_nonzero(W1) + out_nz[ok].min())
    return best


@pytest.mark.parametrize("n_hidden", [1, 2])
def test_min_weight_lower_bound_never_above_enumerated_optimum(n_hidden):
    seen = 0
    for seed in range(10 if n_hidden == 1 else 5):
        rng = np.random.default_rng(seed)
        X = np.round(rng.uniform(-1, 1, (5, 2)), 1)  # rounding: equal coordinates likely
        y = rng.integers(0, 2, 5)
        y[:2] = [0, 1]
        best = _min_weight_enumerated(X, y, n_hidden)
        prob = GuardedBNNProblem(X, y, 2, (n_hidden,), "min_weight", delta=1e-3)
        bound, parts = min_weight_lower_bound(prob, SolveSettings(time_limit=5).started())
        assert bound >= 2  # one output weight and one first-layer weight at least
        if np.isfinite(best):
            seen += 1
            assert bound <= best, (seed, bound, best, parts)
    assert seen >= 1


def test_smallest_cover_size_matches_enumeration():
    rng = np.random.default_rng(0)
    for _ in range(40):
        R = rng.random((6, 5)) < rng.uniform(0.15, 0.5)
        R[~R.any(axis=1), 0] = True  # every row coverable
        brute = next(
            k
            for k in range(1, 6)
            if any(R[:, list(c)].any(axis=1).all() for c in itertools.combinations(range(5), k))
        )
        assert smallest_cover_size(R, 3) == min(brute, 4)


def test_certificate_reports_the_combinatorial_bound():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.2]])
    y = np.array([0, 1, 1, 1, 0])
    best = _min_weight_enumerated(X, y, 2)
    b = BinarizedNeuralNetwork(
        (2,), objective="min_weight", mip_gap=0.0, heuristic_start=False
    ).fit(X, y)
    r = b.result_
    comb = r.stats["combinatorial_bound"]
    assert comb <= best
    assert comb <= r.bound + 1e-9 <= r.objective + 1e-9
    assert r.status == "optimal" and r.objective == pytest.approx(best)


def test_stratified_holdout():
    y = np.repeat(np.arange(4), [1, 2, 5, 10])
    m = stratified_holdout(y, 0.2, seed=3)
    assert [int(m[y == c].sum()) for c in range(4)] == [0, 1, 1, 2]
    for c in range(4):
        assert not m[y == c].all()


def test_keep_phase_and_chosen_phase():
    s, f, d, m = PHASES
    assert keep_phase({}) is None
    assert keep_phase({s: 0.8, d: 0.9, m: 0.7}) == d  # the MILP generalised worse: dropped
    assert keep_phase({s: 0.8, d: 0.7, m: 0.8}) == m  # not worse than the start: kept
    assert keep_phase({s: 0.8, d: 0.7, m: 0.79}) == s
    assert keep_phase({f: 0.5, m: 0.6}) == m  # no start: judged against the first phase
    snaps = {s: 1, d: 2, m: 3}
    assert chosen_phase(snaps, s) == s and chosen_phase(snaps, None) == m
    assert chosen_phase({d: 2, m: 3}, s) == d  # the start failed on the full data
    assert chosen_phase({}, s) is None


def _small_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(n_class=3, return_X_y=True)
    idx = np.random.default_rng(0).permutation(len(y))[:30]
    return X[idx] / 16.0, y[idx]


@pytest.mark.slow  # timing-dependent phases: ~10 s, needs a machine that is not overloaded
def test_validation_guard_keeps_a_phase_that_does_not_generalise_worse():
    X, y = _small_digits()
    t = time.perf_counter()
    b = BinarizedNeuralNetwork(
        (6,), objective="max_margin", validation_fraction=0.25, time_limit=10
    ).fit(X, y)
    assert time.perf_counter() - t <= 10 * 1.1 + 1
    st = b.result_.stats
    accs = st["validation_accuracy"]
    assert st["validation_points"] == stratified_holdout(y, 0.25).sum() == 7
    assert st["validation_keeps"] in PHASES
    first = next(lab for lab in PHASES if lab in accs)
    assert accs[st["validation_keeps"]] >= accs[first]
    # the answer is a point of the training program: every training point fitted
    assert b.score(X, y) == 1.0 and b.train_errors_ == 0
    # never better on the objective than the best network found (maximised margins)
    assert b.result_.objective <= st["best_objective_found"] + 1e-9
    assert b.result_.bound >= b.result_.objective - 1e-6


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, True, "0.2"])
def test_validation_fraction_rejected(bad):
    X, y = _small_digits()
    with pytest.raises(ValueError, match="validation_fraction"):
        BinarizedNeuralNetwork((2,), validation_fraction=bad).fit(X, y)
