"""The cheap verdicts of adversarial training: CROWN / interval margin bounds hold on sampled
points of the box, the batched attack's counterexamples are real, and the screened verdicts
(bounds, attack, the MILP with the tighter bounds) agree with verify_robustness."""

import numpy as np
import pytest

from optml.nn import ReLUNetwork, verify_robustness
from optml.nn._adversarial import (
    _boxes,
    decide_exactly,
    layer_bounds,
    margin_upper_bounds,
    pgd_attack,
    screen_robustness,
    verified_accuracy,
)


def _net(sizes, seed):
    rng = np.random.default_rng(seed)
    W = [rng.normal(size=(b, a)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    b = [0.3 * rng.normal(size=s) for s in sizes[1:]]
    return ReLUNetwork(W, b)


@pytest.mark.parametrize("sizes", [(4, 8, 3), (5, 8, 6, 4)])
def test_bounds_hold_on_samples_and_beat_intervals(sizes):
    net = _net(sizes, 1)
    rng = np.random.default_rng(2)
    X = rng.random((12, sizes[0]))
    y = rng.integers(0, sizes[-1], 12)
    lo, hi = _boxes(X, 0.15, 0.0, 1.0)
    up = margin_upper_bounds(net, lo, hi, y)
    hid = layer_bounds(net, lo, hi)
    for i in range(12):
        S = lo[i] + rng.random((3000, sizes[0])) * (hi[i] - lo[i])
        F = net.forward(S)
        mg = F - F[:, [y[i]]]
        mg[:, y[i]] = -np.inf
        assert np.all(mg.max(axis=0) <= up[i] + 1e-9)
        H = S
        for k, (L, U) in enumerate(hid):
            Z = H @ net.weights[k].T + net.biases[k]
            assert np.all(Z >= L[i] - 1e-9) and np.all(Z <= U[i] + 1e-9)
            H = np.maximum(Z, 0)
    # never looser than interval arithmetic on the margins
    from optml.nn._verify import _ball_bounds, _margin_ia

    for i in range(12):
        ia = _ball_bounds(net, lo[i], hi[i], "inf", X[i], 0.15)
        ub = _margin_ia(net, ia, int(y[i]), lo[i], hi[i])
        ub[y[i]] = -np.inf
        assert np.all(up[i] <= ub + 1e-9)


def test_attack_counterexamples_are_real_and_in_the_box():
    net = _net((6, 10, 4), 3)
    rng = np.random.default_rng(4)
    X = rng.random((30, 6))
    y = np.argmax(net.forward(X), axis=1)
    lo, hi = _boxes(X, 0.2, 0.0, 1.0)
    xa, m = pgd_attack(net, X, y, lo, hi, steps=20)
    assert np.all((xa >= lo - 1e-12) & (xa <= hi + 1e-12))
    F = net.forward(xa)
    assert np.allclose(m, np.max(np.where(np.eye(4)[y] > 0, -np.inf, F), axis=1) - F[range(30), y])
    assert (m > 0).sum() > 0


@pytest.mark.parametrize("eps", [0.05, 0.15])
def test_screened_verdicts_agree_with_verify_robustness(eps):
    net = _net((5, 8, 6, 3), 5)
    rng = np.random.default_rng(6)
    X = rng.random((16, 5))
    y = np.argmax(net.forward(X), axis=1)
    y[:2] = (y[:2] + 1) % 3  # two wrong labels: their own counterexamples
    v, cex, how = screen_robustness(net, X, y, eps, lb=0.0, ub=1.0)
    acc, verdicts, cex2 = verified_accuracy(net, X, y, eps, lb=0.0, ub=1.0, time_limit=20)
    for i in range(16):
        ref = verify_robustness(net, X[i], y[i], eps, lb=0.0, ub=1.0, time_limit=20).robust
        assert verdicts[i] == ref
        if v[i] is not None:
            assert v[i] == ref
        if verdicts[i] is False:
            z = cex2[i]
            assert np.abs(z - X[i]).max() <= eps + 1e-9 and np.argmax(net.forward(z)) != y[i]
        got, z, _ = decide_exactly(net, X[i], y[i], eps, 0.0, 1.0, time_limit=20)
        assert got == ref
    assert acc == pytest.approx(np.mean([r is True for r in verdicts]))
    assert {"bounds", "attack", "clean prediction"} & set(how)
