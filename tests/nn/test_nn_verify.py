"""verify_robustness / minimal_perturbation: soundness against attacks, counterexamples checked."""

import numpy as np
import pytest

from optml.nn import minimal_perturbation, verify_robustness


def _pgd(net, x0, label, eps, norm, lo, hi, rng, steps=40, restarts=5):
    """An independent projected-gradient attack (numpy, finite-difference free back-prop)."""
    best = -np.inf
    n_out = net.n_outputs
    for j in range(n_out):
        if j == label:
            continue
        for _ in range(restarts):
            x = np.clip(x0 + rng.uniform(-eps, eps, x0.size), lo, hi)
            for _ in range(steps):
                # gradient of f_j - f_label by back-propagation
                hs, masks = [x], []
                for k, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
                    a = W @ hs[-1] + b
                    if k < len(net.weights) - 1:
                        masks.append(a > 0)
                        hs.append(np.maximum(a, 0))
                g = net.weights[-1][j] - net.weights[-1][label]
                for k in range(len(net.weights) - 2, -1, -1):
                    g = (g * masks[k]) @ net.weights[k]
                if norm == "inf":
                    x = x + eps / 8 * np.sign(g)
                    x = np.clip(np.clip(x, x0 - eps, x0 + eps), lo, hi)
                else:
                    i = np.argmax(np.abs(g))
                    x = x.copy()
                    x[i] += np.sign(g[i]) * eps / 4
                    d = x - x0
                    if np.abs(d).sum() > eps:
                        d *= eps / np.abs(d).sum()
                    x = np.clip(x0 + d, lo, hi)
                f = net.forward(x)
                best = max(best, np.delete(f, label).max() - f[label])
    return best


def _random_attack(net, x0, label, eps, norm, lo, hi, rng, n=3000):
    if norm == "inf":
        D = rng.uniform(-eps, eps, (n, x0.size))
    else:
        D = rng.laplace(size=(n, x0.size))
        D *= eps * rng.random((n, 1)) / np.abs(D).sum(axis=1, keepdims=True)
    X = np.clip(x0 + D, lo, hi)
    F = net.forward(X)
    return (np.delete(F, label, axis=1).max(axis=1) - F[:, label]).max()


@pytest.mark.parametrize("norm,eps", [("inf", 0.03), ("inf", 0.08), ("1", 0.6)])
def test_verdicts_are_sound(digits_net, norm, eps):
    net, mlp, X, y = digits_net
    rng = np.random.default_rng(0)
    seen = set()
    for i in range(6):
        x0, label = X[i], y[i]
        r = verify_robustness(net, x0, label, eps, norm=norm, lb=0.0, ub=1.0)
        seen.add(r.robust)
        if r.robust:
            assert r.margin_bound < 0 or (r.decided_by == "milp" and r.margin_bound <= 0)
            assert _random_attack(net, x0, label, eps, norm, 0.0, 1.0, rng) < 0
            assert _pgd(net, x0, label, eps, norm, 0.0, 1.0, rng) < 0
        elif r.robust is False:
            xc = r.counterexample
            d = np.abs(xc - x0)
            assert (d.max() if norm == "inf" else d.sum()) <= eps * (1 + 1e-9) + 1e-9
            assert (xc >= 0).all() and (xc <= 1).all()
            assert mlp.predict(xc.reshape(1, -1))[0] != label  # sklearn agrees: misclassified
            assert r.margin > 0
    assert None not in seen


def test_milp_decides_after_attack_fails(digits_net):
    """Force the MILP path (no attack) and compare its verdicts with the attack path."""
    net, mlp, X, y = digits_net
    for i in range(4):
        a = verify_robustness(net, X[i], y[i], 0.06, lb=0, ub=1)
        b = verify_robustness(net, X[i], y[i], 0.06, lb=0, ub=1, attack_steps=0, bounds="lp")
        c = verify_robustness(net, X[i], y[i], 0.06, lb=0, ub=1, attack_steps=0, joint=False)
        assert a.robust == b.robust == c.robust
        if b.robust is False:
            assert b.decided_by in ("milp", "clean prediction")
            assert mlp.predict(b.counterexample.reshape(1, -1))[0] != y[i]


def test_margin_mode_equals_grid_on_two_inputs(random_net):
    net = random_net([2, 6, 6, 3], 11)
    x0 = np.array([0.1, -0.2])
    label = int(np.argmax(net.forward(x0)))
    eps = 0.3
    r = verify_robustness(net, x0, label, eps, mode="margin", attack_steps=0)
    g = np.linspace(-eps, eps, 241)
    G = x0 + np.array(np.meshgrid(g, g)).reshape(2, -1).T
    F = net.forward(G)
    grid = (np.delete(F, label, axis=1).max(axis=1) - F[:, label]).max()
    lip = 2 * net.lipschitz_bound("inf")
    if r.robust:
        assert grid <= r.margin_bound + 1e-7
        assert r.margin_bound <= grid + lip * (g[1] - g[0]) / 2 + 1e-7
    else:
        assert grid > -lip * (g[1] - g[0])


def test_margin_mode_does_not_depend_on_the_bounds(digits_net):
    net, _, X, y = digits_net
    for i in range(3):
        m = [
            verify_robustness(net, X[i], y[i], 0.08, lb=0, ub=1, mode="margin", bounds=b)
            for b in ("interval", "lp")
        ]
        assert m[0].robust == m[1].robust
        assert m[0].margin_bound == pytest.approx(m[1].margin_bound, rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("norm", ["inf", "1"])
def test_minimal_perturbation_is_the_threshold(digits_net, norm):
    net, mlp, X, y = digits_net
    x0, label = X[0], y[0]
    m = minimal_perturbation(net, x0, label, norm=norm, lb=0.0, ub=1.0)
    assert m.verified and m.result.status == "optimal"
    assert mlp.predict(m.counterexample.reshape(1, -1))[0] != label
    assert m.bound <= m.epsilon * (1 + 1e-6) + 1e-6
    assert verify_robustness(net, x0, label, 0.98 * m.epsilon, norm=norm, lb=0, ub=1).robust
    assert (
        verify_robustness(net, x0, label, 1.02 * m.epsilon, norm=norm, lb=0, ub=1).robust is False
    )


def test_misclassified_input_is_its_own_counterexample(digits_net):
    net, mlp, X, y = digits_net
    wrong = (y[0] + 1) % 10
    r = verify_robustness(net, X[0], wrong, 0.01, lb=0, ub=1)
    assert r.robust is False and r.decided_by == "clean prediction"
    np.testing.assert_array_equal(r.counterexample, X[0])


def test_bad_input(digits_net):
    net, _, X, y = digits_net
    with pytest.raises(ValueError, match="epsilon"):
        verify_robustness(net, X[0], y[0], -0.1)
    with pytest.raises(ValueError, match="lb > ub"):
        verify_robustness(net, X[0], y[0], 0.1, lb=1.0, ub=0.0)
    with pytest.raises(ValueError, match="norm"):
        verify_robustness(net, X[0], y[0], 0.1, norm="3")
    with pytest.raises(ValueError, match="classes"):
        verify_robustness(net, X[0], 42, 0.1)
    with pytest.raises(ValueError, match="entries"):
        verify_robustness(net, X[0][:5], y[0], 0.1)
    with pytest.raises(TypeError, match="ReLUNetwork"):
        verify_robustness("net", X[0], y[0], 0.1)
