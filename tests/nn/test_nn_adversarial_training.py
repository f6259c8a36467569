"""Adversarial training by MILP worst cases: every point added is a checked counterexample of
that round's network, the round's verdicts add up, and the reported verified accuracy is what
an independent verification of the final network finds."""

import numpy as np
import pytest

from optml.nn import ReLUNetwork, verify_robustness
from optml.nn._adversarial import adversarial_training, verified_accuracy


def test_adversarial_training_adds_checked_counterexamples():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    eps = 0.25
    res = adversarial_training(X, y, eps, hidden_layer_sizes=(6,), rounds=1, max_iter=400)
    h = res.history
    assert 1 <= len(h) <= 2
    for rec in h:
        assert rec["robust"] + rec["not_robust"] + rec["undecided"] == 20
        assert rec["verified_accuracy"] == pytest.approx(rec["robust"] / 20)
    assert res.X_adv.shape[0] == sum(r["added"] for r in h)
    # each counterexample lies in the ball of a training point with the same label
    for z, lab in zip(res.X_adv, res.y_adv, strict=True):
        d = np.abs(X - z).max(axis=1)
        assert ((d <= eps + 1e-9) & (y == lab)).any()
    # the last round's figure is reproduced by an independent verification
    net = ReLUNetwork.from_sklearn(res.model)
    acc, verdicts, _ = verified_accuracy(net, X, y, eps)
    assert acc == pytest.approx(h[-1]["verified_accuracy"])
    i = int(np.flatnonzero([v is True for v in verdicts])[0]) if any(verdicts) else None
    if i is not None:
        assert verify_robustness(net, X[i], y[i], eps, mode="margin").margin_bound < 0


def test_adversarial_training_bad_input():
    with pytest.raises(ValueError):
        adversarial_training(np.zeros((3, 2)), [0, 1], 0.1)
    with pytest.raises(ValueError):
        adversarial_training(np.zeros((2, 2)), [0, 1], -0.1)
