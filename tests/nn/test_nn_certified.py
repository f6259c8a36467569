"""Certified training (Wong and Kolter 2018): the dual-network bound against the exact MILP
minimum and sampled points, its exactness without unstable units, its hand-written gradient
against finite differences, and training that raises the fraction of certified points."""

from __future__ import annotations

import numpy as np
import pytest

from optml.adversarial import CertifiedMLPClassifier, dual_margin_bounds
from optml.nn import ReLUNetwork, verify_robustness
from optml.nn._certified import dual_layer_bounds, robust_loss


def _net(sizes, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    W = [rng.normal(size=(sizes[k + 1], sizes[k])) * scale for k in range(len(sizes) - 1)]
    b = [rng.normal(size=sizes[k + 1]) * 0.5 for k in range(len(sizes) - 1)]
    return ReLUNetwork(W, b)


def _score_net(net, y, j):
    """The network whose single output is ``f_y - f_j``."""
    W, b = list(net.weights), list(net.biases)
    W[-1] = (W[-1][y] - W[-1][j])[None, :]
    b[-1] = np.array([b[-1][y] - b[-1][j]])
    return ReLUNetwork(W, b)


def _ball_samples(rng, x0, eps, norm, n):
    d = x0.size
    if norm == "inf":
        D = rng.uniform(-1, 1, size=(n, d))
        D[: n // 2] = np.sign(D[: n // 2])  # vertices, where the minima of a piecewise
        # linear function over a box tend to be
    elif norm == "1":
        D = rng.laplace(size=(n, d))
        D /= np.abs(D).sum(axis=1, keepdims=True)
        D *= rng.uniform(0, 1, size=(n, 1)) ** (1.0 / d)
        D[: d * 2] = np.vstack([np.eye(d), -np.eye(d)])  # the vertices
    else:
        D = rng.normal(size=(n, d))
        D /= np.linalg.norm(D, axis=1, keepdims=True)
    return x0 + eps * D


# ------------------------------------------------------------------ validity of the bound
@pytest.mark.parametrize("sizes, seed", [((3, 5, 4, 3), 0), ((4, 6, 3), 1), ((2, 4, 4, 4, 3), 2)])
def test_bound_never_above_exact_milp_minimum(sizes, seed):
    net = _net(sizes, seed)
    rng = np.random.default_rng(seed + 10)
    X = rng.uniform(-0.5, 0.5, size=(2, sizes[0]))
    y = rng.integers(0, sizes[-1], size=2)
    eps = 0.3
    J = dual_margin_bounds(net, X, y, eps, "inf", lb=-1.0, ub=1.0)
    n_unstable = sum(int(((L < 0) & (U > 0)).sum()) for L, U in dual_layer_bounds(net, X, eps))
    assert n_unstable > 0  # else the test would not exercise the relaxation
    gaps = []
    for i in range(2):
        assert J[i, y[i]] == 0.0
        lo, hi = np.maximum(X[i] - eps, -1.0), np.minimum(X[i] + eps, 1.0)
        for j in range(sizes[-1]):
            if j == y[i]:
                continue
            opt = _score_net(net, y[i], j).minimize(lo, hi)
            assert opt.result.status == "optimal"
            # opt.value is the exact minimum to 1e-6 (a forward pass at the MILP's point)
            assert J[i, j] <= opt.value + 1e-6 * (1 + abs(opt.value)), (i, j, J[i, j], opt.value)
            gaps.append(opt.value - J[i, j])
    assert max(gaps) > 1e-3  # the relaxation is not exact here: the test can fail


def test_bound_below_exact_l1_margin():
    net = _net((3, 6, 3), 4)
    x0 = np.array([0.2, -0.1, 0.4])
    eps = 0.5
    lab = int(net.predict(x0))
    J = dual_margin_bounds(net, x0[None], [lab], eps, "1")
    r = verify_robustness(net, x0, lab, eps, norm="1", mode="margin")
    assert r.decided_by == "milp" and r.result.status == "optimal"
    # margin_bound = max_j max_x f_j - f_y (exact in margin mode); J_j <= min_x f_y - f_j
    assert np.delete(J[0], lab).min() <= -r.margin_bound + 1e-6
    assert np.delete(J[0], lab).min() < -r.margin_bound - 1e-3  # not exact: it can fail


@pytest.mark.parametrize("norm", ["inf", "1", "2"])
def test_bound_never_above_sampled_points(norm):
    rng = np.random.default_rng(5)
    net = _net((5, 8, 6, 4), 3)
    X = rng.normal(size=(4, 5))
    y = rng.integers(0, 4, size=4)
    eps = 0.4
    J = dual_margin_bounds(net, X, y, eps, norm)
    for i in range(4):
        Z = _ball_samples(rng, X[i], eps, norm, 4000)
        F = net.forward(Z)
        worst = (F[:, [y[i]]] - F).min(axis=0)
        assert (J[i] <= worst + 1e-9).all(), (J[i], worst)


def test_layer_bounds_contain_sampled_preactivations():
    rng = np.random.default_rng(6)
    net = _net((4, 7, 5, 3), 7)
    x0 = rng.normal(size=4)
    (L1, U1), (L2, U2) = dual_layer_bounds(net, x0, 0.3)
    Z = _ball_samples(rng, x0, 0.3, "inf", 3000)
    for z in Z[:500]:
        a1, a2, _ = net.pre_activations(z)
        assert (L1[0] - 1e-9 <= a1).all() and (a1 <= U1[0] + 1e-9).all()
        assert (L2[0] - 1e-9 <= a2).all() and (a2 <= U2[0] + 1e-9).all()


@pytest.mark.parametrize("norm", ["inf", "1", "2"])
def test_bound_is_exact_without_unstable_units(norm):
    net = _net((3, 5, 4, 3), 8)
    x0 = np.array([0.3, -0.2, 0.1])
    eps = 1e-3
    bnds = dual_layer_bounds(net, x0, eps, norm)
    assert all(((L >= 0) | (U <= 0)).all() for L, U in bnds)
    # the network is affine on the ball: f(x) = A x + c with the active units of x0
    a = net.pre_activations(x0)
    A = net.weights[0]
    for k in range(1, len(net.weights)):
        A = net.weights[k] @ (A * (a[k - 1] > 0)[:, None])
    f0 = net.forward(x0)
    J = dual_margin_bounds(net, x0[None], [1], eps, norm)[0]
    q = {"inf": 1, "1": np.inf, "2": 2}[norm]
    for j in (0, 2):
        g = A[1] - A[j]
        exact = f0[1] - f0[j] - eps * np.linalg.norm(g, ord=q)
        assert J[j] == pytest.approx(exact, abs=1e-10)
    if norm == "inf":  # and the MILP agrees
        opt = _score_net(net, 1, 0).minimize(x0 - eps, x0 + eps)
        assert J[0] == pytest.approx(opt.value, abs=1e-7)


# ------------------------------------------------------------------------------ gradient
@pytest.mark.parametrize("norm", ["inf", "1", "2"])
@pytest.mark.parametrize("kappa", [0.0, 0.4])
def test_gradient_matches_finite_differences(norm, kappa):
    net = _net((4, 6, 5, 3), 0)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, 4))
    y = rng.integers(0, 3, size=5)
    box = {"lb": -1.0, "ub": 1.0} if norm == "inf" else {}
    eps = 0.3
    n_unstable = sum(int(((L < 0) & (U > 0)).sum()) for L, U in dual_layer_bounds(net, X, eps))
    assert n_unstable >= 5

    def loss():
        return robust_loss(net, X, y, eps, norm, kappa=kappa, **box)[0]

    _, gW, gb = robust_loss(net, X, y, eps, norm, kappa=kappa, **box)
    h = 1e-6
    for params, grads in ((net.weights, gW), (net.biases, gb)):
        for P, G in zip(params, grads, strict=True):
            fd = np.zeros_like(P)
            for idx in np.ndindex(P.shape):
                old = P[idx]
                P[idx] = old + h
                up = loss()
                P[idx] = old - h
                down = loss()
                P[idx] = old
                fd[idx] = (up - down) / (2 * h)
            np.testing.assert_allclose(G, fd, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------ training
def _moons(n, seed):
    from sklearn.datasets import make_moons

    return make_moons(n, noise=0.15, random_state=seed)


def test_certified_training_certifies_more_points_than_nominal():
    X, y = _moons(200, 1)
    Xt, yt = _moons(200, 2)
    eps = 0.2
    kw = dict(hidden_layer_sizes=(16, 16), epsilon=eps, epochs=40, batch_size=32, random_state=0)
    nominal = CertifiedMLPClassifier(kappa=1.0, **kw).fit(X, y)
    robust = CertifiedMLPClassifier(kappa=0.0, **kw).fit(X, y)
    assert np.isnan(nominal.certified_curve_).all()
    c_nom = nominal.certify(Xt, yt).mean()
    c_rob = robust.certify(Xt, yt).mean()
    assert c_rob >= c_nom + 0.05, (c_nom, c_rob)
    assert robust.score(Xt, yt) >= 0.8


def test_certified_points_are_verified_by_milp():
    X, y = _moons(120, 3)
    est = CertifiedMLPClassifier((8,), epsilon=0.1, epochs=30, random_state=0).fit(X, y)
    net = est.to_network()
    np.testing.assert_array_equal(net.predict(X), est.predict(X))
    cert = est.certify(X[:12], y[:12])
    assert cert.any()
    for x, lab, c in zip(X[:12], y[:12], cert, strict=True):
        r = verify_robustness(net, x, lab, 0.1)
        if c:  # the bound's proof and the MILP's verdict agree
            assert r.robust is True
        assert r.robust is not None


def test_estimator_basics_and_time_limit():
    X, y = _moons(100, 0)
    y = np.where(y == 1, "b", "a")
    est = CertifiedMLPClassifier((6,), epsilon=0.05, epochs=5, random_state=0).fit(X, y)
    P = est.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert set(est.predict(X)) <= {"a", "b"}
    assert est.n_iter_ == 5 and len(est.loss_curve_) == 5
    J = est.margin_bounds(X, y)
    assert J.shape == (100, 2)
    slow = CertifiedMLPClassifier((6,), epochs=10**6, time_limit=0.3).fit(X, y)
    assert slow.stopped_by_time_ and slow.fit_time_ < 0.3 * 1.1 + 1.0


def test_bad_input():
    X, y = _moons(20, 0)
    with pytest.raises(ValueError, match="norm"):
        CertifiedMLPClassifier(norm="3").fit(X, y)
    with pytest.raises(ValueError, match="epsilon"):
        CertifiedMLPClassifier(epsilon=-0.1).fit(X, y)
    with pytest.raises(ValueError, match="kappa"):
        CertifiedMLPClassifier(kappa=1.5).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        CertifiedMLPClassifier(hidden_layer_sizes=(0,)).fit(X, y)
    with pytest.raises(TypeError, match="hidden_layer_sizes"):
        CertifiedMLPClassifier(hidden_layer_sizes="a").fit(X, y)
    with pytest.raises(ValueError, match="class"):
        CertifiedMLPClassifier().fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="lb > ub"):
        CertifiedMLPClassifier(lb=1.0, ub=0.0).fit(X, y)
    net = _net((2, 3, 2), 0)
    with pytest.raises(TypeError, match="ReLUNetwork"):
        dual_margin_bounds("net", X, y, 0.1)
    with pytest.raises(ValueError, match="2 features"):
        dual_margin_bounds(net, np.zeros((3, 5)), [0, 1, 0], 0.1)
    with pytest.raises(ValueError, match="rows"):
        dual_margin_bounds(net, X, y[:5], 0.1)
    with pytest.raises(ValueError, match="output indices"):
        dual_margin_bounds(net, X, y + 5, 0.1)
    with pytest.raises(ValueError, match="output indices"):
        dual_margin_bounds(_net((2, 3, 1), 0), X, np.full(20, 2), 0.1)


def test_single_output_network_reads_as_two_scores():
    net = _net((3, 5, 1), 9)
    two = ReLUNetwork(
        net.weights[:-1] + [np.vstack([np.zeros((1, 5)), net.weights[-1]])],
        net.biases[:-1] + [np.concatenate([[0.0], net.biases[-1]])],
    )
    X = np.random.default_rng(0).normal(size=(4, 3))
    y = np.array([0, 1, 1, 0])
    np.testing.assert_array_equal(
        dual_margin_bounds(net, X, y, 0.2), dual_margin_bounds(two, X, y, 0.2)
    )


def test_formula_entry():
    import inspect

    from optml.formulations.latex import FORMULAS, formula_latex

    f = FORMULAS["CertifiedMLPClassifier"]
    params = set(inspect.signature(CertifiedMLPClassifier.__init__).parameters)
    assert set(f.params) <= params
    assert f.latex.count("{") == f.latex.count("}") and f.latex.startswith(r"\min")
    tex = formula_latex(CertifiedMLPClassifier(epsilon=0.05, kappa=0.5), values=True)
    assert tex.endswith(r"(\epsilon = 0.05,\ \kappa = 0.5)")
