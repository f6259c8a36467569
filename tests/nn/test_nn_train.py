"""BinarizedNeuralNetwork and MIPNetworkClassifier: exactness against enumeration / feasible nets."""

import itertools

import numpy as np
import pytest

from optml.exceptions import SolveError
from optml.nn import BinarizedNeuralNetwork, MIPNetworkClassifier


def _bnn_forward(W1, b1, W2, b2, X):
    H = np.where(X @ W1.T + b1 >= 0, 1.0, -1.0)
    return H @ W2.T + b2


def test_bnn_matches_enumeration_on_tiny_instance():
    # integer inputs: pre-activations are integers, so the MILP's gap (-delta, 0) is empty
    X = np.array([[0, 0], [2, 0], [0, 2], [1, 1], [2, 2]], dtype=float)
    y = np.array([0, 1, 0, 1, 1])
    best = np.inf
    T = (-1, 0, 1)
    for w1 in itertools.product(T, repeat=3):  # 1 hidden neuron: 2 weights + bias
        W1, b1 = np.array([w1[:2]], float), np.array([w1[2]], float)
        H = np.where(X @ W1.T + b1 >= 0, 1.0, -1.0)
        for w2 in itertools.product(T, repeat=4):  # 2 classes x (1 weight + bias)
            W2 = np.array([[w2[0]], [w2[1]]], float)
            b2 = np.array([w2[2], w2[3]], float)
            S = H @ W2.T + b2
            if np.all(S[np.arange(5), y] - S[np.arange(5), 1 - y] >= 1):
                best = min(best, np.count_nonzero(w1) + np.count_nonzero(w2))
    assert np.isfinite(best)
    bnn = BinarizedNeuralNetwork(hidden_layer_sizes=(1,), heuristic_start=False).fit(X, y)
    assert bnn.result_.status == "optimal"
    assert bnn.n_nonzero_weights_ == best == pytest.approx(bnn.result_.objective)
    np.testing.assert_array_equal(bnn.predict(X), y)


@pytest.mark.parametrize("objective", ["min_weight", "max_margin"])
def test_bnn_fits_separable_data_exactly(objective):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-1.0, 0.3, (8, 2)), rng.normal(1.0, 0.3, (8, 2))])
    y = np.repeat(["a", "b"], 8)
    bnn = BinarizedNeuralNetwork(hidden_layer_sizes=(2,), objective=objective).fit(X, y)
    assert bnn.result_.status == "optimal"
    np.testing.assert_array_equal(bnn.predict(X), y)
    for W in bnn.coefs_ + bnn.intercepts_:
        assert set(np.unique(W)) <= {-1, 0, 1}
    assert bnn.train_errors_ == 0


def test_bnn_unfittable_data():
    X = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 1])
    with pytest.raises(SolveError, match="fits every training point"):
        BinarizedNeuralNetwork(hidden_layer_sizes=(1,), n_starts=1).fit(X, y)
    bnn = BinarizedNeuralNetwork(hidden_layer_sizes=(1,), allow_errors=True, n_starts=1).fit(X, y)
    assert bnn.train_errors_ == 1
    assert (bnn.predict(X) == y).sum() == 2


def _blobs(n, seed=0):
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n, 2, centers=2, random_state=seed, cluster_std=2.0)
    return (X - X.mean(0)) / X.std(0), y


def _hinge(F, y):
    return np.maximum(0, 1 - np.where(y == 1, 1.0, -1.0) * F).sum()


def test_mip_network_is_globally_optimal_hinge():
    from sklearn.neural_network import MLPClassifier

    X, y = _blobs(12)
    B = 1.0
    m = MIPNetworkClassifier((2,), loss="hinge", weight_bound=B).fit(X, y)
    assert m.result_.status == "optimal" and m.result_.verified
    assert m.loss_ == pytest.approx(m.result_.objective, abs=1e-6)
    for W in m.coefs_ + m.intercepts_:
        assert np.abs(W).max() <= B + 1e-9
    # no feasible network does better: random ones, and sklearn's MLP of the same shape
    rng = np.random.default_rng(0)
    for _ in range(3000):
        W1, b1 = rng.uniform(-B, B, (2, 2)), rng.uniform(-B, B, 2)
        v, c = rng.uniform(-B, B, 2), rng.uniform(-B, B)
        F = np.maximum(X @ W1 + b1, 0) @ v + c
        assert _hinge(F, y) >= m.loss_ - 1e-6
    mlp = MLPClassifier((2,), max_iter=2000, random_state=0).fit(X, y)
    (W1, W2), (b1, b2) = mlp.coefs_, mlp.intercepts_
    s1 = max(np.abs(W1).max(), np.abs(b1).max()) / B
    s2 = max(np.abs(W2).max(), np.abs(b2).max()) / B
    F = (np.maximum(X @ (W1 / s1) + b1 / s1, 0) @ (W2 / s2) + b2 / s2)[:, 0]
    assert _hinge(F, y) >= m.loss_ - 1e-6  # the projected sklearn net is feasible, not better


def test_mip_network_zero_one_and_multiclass():
    X, y = _blobs(14, seed=1)
    hinge = MIPNetworkClassifier((2,), loss="hinge").fit(X, y)
    z1 = MIPNetworkClassifier((2,), loss="zero_one").fit(X, y)
    assert z1.result_.status == "optimal"
    assert z1.loss_ == pytest.approx(z1.result_.objective)
    errors_hinge = (hinge.decision_function(X) * np.where(y == 1, 1, -1) < 1e-3).sum()
    assert z1.loss_ <= errors_hinge
    assert (z1.predict(X) != y).sum() <= z1.loss_
    from sklearn.datasets import load_iris

    Xi, yi = load_iris(return_X_y=True)
    idx = np.r_[0:4, 50:54, 100:104]
    Xi = (Xi[idx] - Xi[idx].mean(0)) / Xi[idx].std(0)
    mc = MIPNetworkClassifier((2,), loss="zero_one", time_limit=30).fit(Xi, yi[idx])
    assert mc.coefs_[1].shape == (2, 3)
    assert (mc.predict(Xi) != yi[idx]).sum() <= mc.loss_
    net = mc.to_network()
    np.testing.assert_array_equal(net.predict(Xi), mc.predict(Xi))


def test_time_limit_returns_incumbent_and_gap():
    X, y = _blobs(40, seed=2)
    m = MIPNetworkClassifier((3,), loss="hinge", time_limit=1.0).fit(X, y)
    assert m.result_.status in ("time_limit", "optimal")
    if m.result_.status == "time_limit":
        assert m.result_.gap > 0 and np.isfinite(m.loss_)


def test_bad_parameters():
    X, y = _blobs(10)
    with pytest.raises(ValueError, match="loss"):
        MIPNetworkClassifier(loss="log").fit(X, y)
    with pytest.raises(ValueError, match="weight_bound"):
        MIPNetworkClassifier(weight_bound=-1).fit(X, y)
    with pytest.raises(ValueError, match="one hidden layer"):
        MIPNetworkClassifier(hidden_layer_sizes=(2, 2)).fit(X, y)
    with pytest.raises(ValueError, match="objective"):
        BinarizedNeuralNetwork(objective="min_loss").fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        BinarizedNeuralNetwork(hidden_layer_sizes=(0,)).fit(X, y)
    with pytest.raises(ValueError, match="2 classes"):
        BinarizedNeuralNetwork().fit(X, np.zeros(10))
