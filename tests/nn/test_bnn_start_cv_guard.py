"""Issue 27: the binarized network's gradient start (the baseline's network, several MLP seeds)
and the cross-validated guard that decides whether a MILP phase replaces it."""

import functools
import time
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import optml.algorithms.nn_train as nt
from optml.algorithms.nn_train import (
    PHASES,
    _mlp_output_layer,
    bnn_gradient_start,
    capped_mlp,
    cv_verdict,
    stratified_folds,
    ternarised_network,
)
from optml.formulations.bnn import BNNTrainingProblem, bnn_forward, fitted_points
from optml.nn import BinarizedNeuralNetwork
from optml.program.settings import SolveSettings


def _blobs(n=24, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    X = rng.normal(size=(n, 3)) + 1.5 * np.eye(3)[y % 3]
    return np.round(X, 2), y


def test_stratified_folds_deal_every_class_evenly():
    y = np.array([0] * 7 + [1] * 5 + [2] * 2)
    fold = stratified_folds(y, 3, seed=4)
    assert fold.shape == y.shape and set(fold) <= {0, 1, 2}
    for c in np.unique(y):
        counts = np.bincount(fold[y == c], minlength=3)
        assert counts.max() - counts.min() <= 1 and counts.sum() == (y == c).sum()
    sizes = np.bincount(fold, minlength=3)
    assert sizes.max() - sizes.min() <= 1  # classes dealt on from where the last one stopped
    np.testing.assert_array_equal(fold, stratified_folds(y, 3, seed=4))


def test_cv_verdict_needs_strictly_more_held_out_points():
    s, f, d, m = PHASES
    assert cv_verdict({}) is None
    assert cv_verdict({s: 80, d: 80, m: 80}) == s  # ties: the gradient start stays
    assert cv_verdict({s: 80, d: 81, m: 79}) == d
    assert cv_verdict({s: 80, d: 79, m: 82}) == m
    assert cv_verdict({f: 60, d: 70}) == d  # no start: the first phase that ran


def test_capped_mlp_is_the_plain_fit_when_time_allows():
    X, y = _blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = MLPClassifier((4,), activation="tanh", max_iter=40, random_state=3).fit(X, y)
    far = time.perf_counter() + 1e6
    got = capped_mlp(X, y, (4,), "tanh", far, seed=3, max_iter=40)
    assert got.n_iter_ == plain.n_iter_
    for a, b in zip(got.coefs_ + got.intercepts_, plain.coefs_ + plain.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)
    capped = capped_mlp(X, y, (4,), "tanh", time.perf_counter(), seed=3, max_iter=40)
    assert capped.n_iter_ <= 10  # no time: the probe's epochs only


def test_output_layer_of_an_mlp_that_missed_classes():
    X, y = _blobs(18, 3)
    keep = y != 1  # the MLP sees classes 0 and 2 of 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((3,), activation="tanh", max_iter=30, random_state=0)
        mlp.fit(X[keep], y[keep])
    W, b = _mlp_output_layer(mlp, 4)
    assert W.shape == (3, 4) and b.shape == (4,)
    H = np.tanh(X @ mlp.coefs_[0] + mlp.intercepts_[0])
    S = H @ W + b
    np.testing.assert_array_equal(S.argmax(axis=1), mlp.predict(X))
    assert (S[:, [1, 3]].max(axis=1) < S[:, [0, 2]].max(axis=1)).all()  # unseen classes lose


# ~2 s alone (5 s on a heavily loaded machine): three small repair MILPs
def test_start_is_the_best_candidate_and_fits(monkeypatch):
    # short MLP fits: the selection and the repair are under test, not adam's convergence
    monkeypatch.setattr(nt, "capped_mlp", functools.partial(capped_mlp, max_iter=30))
    X, y = _blobs(15, 3, seed=1)
    prob = BNNTrainingProblem(X, y, 3, (2,), "max_margin", delta=1e-3, n_starts=3)
    settings = SolveSettings(time_limit=20).started()
    info = {}
    Ws, errors = bnn_gradient_start(prob, settings, None, None, info)
    cands = info["start_candidates"]
    assert 1 <= len(cands) <= 3 and [c["seed"] for c in cands] == list(range(len(cands)))
    keys = [(c["errors"], c["ternarised_errors"], i) for i, c in enumerate(cands)]
    chosen = cands[int(np.argmin([k[0] * 10**6 + k[1] * 10**3 + k[2] for k in keys]))]
    assert info["start_seed"] == chosen["seed"] and errors == chosen["errors"]
    assert errors <= chosen["ternarised_errors"]  # the repair never misfits more
    if len(cands) < 3:  # stopped early: only when nothing better was possible
        assert min(c["ternarised_errors"] for c in cands) == 0
    # the start's hidden layer is the ternarised MLP of its seed (the baseline's network)
    mlp = capped_mlp(X, y, (2,), "tanh", None, seed=chosen["seed"], max_iter=30)
    tern, _ = ternarised_network(prob, mlp)
    np.testing.assert_array_equal(Ws[0], tern[0])
    h, _, S, ok = bnn_forward(X, Ws, prob.delta)
    assert ok and int((~fitted_points(S, y)).sum()) == errors


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(validation_folds=1), "validation_folds"),
        (dict(validation_folds=3, validation_fraction=0.2), "pass one"),
        (dict(n_starts=0), "n_starts"),
    ],
)
def test_bad_guard_parameters(kw, match):
    X, y = _blobs(12)
    with pytest.raises(ValueError, match=match):
        BinarizedNeuralNetwork((2,), **kw).fit(X, y)


def _small_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(n_class=3, return_X_y=True)
    idx = np.random.default_rng(1).permutation(len(y))[:30]
    return X[idx] / 16.0, y[idx]


@pytest.mark.slow  # ~10 s: the guard runs the phases on three folds, then on every point
def test_cv_guard_verdict_objective_and_clock():
    X, y = _small_digits()
    t = time.perf_counter()
    b = BinarizedNeuralNetwork((6,), objective="max_margin", validation_folds=3, time_limit=10).fit(
        X, y
    )
    assert time.perf_counter() - t <= 10 * 1.1 + 1
    st = b.result_.stats
    correct = st["validation_correct"]
    keep = st["validation_keeps"]
    assert st["validation_folds"] >= 1 and st["validation_points"] <= len(y)
    # the kept phase has the most held-out points right; every earlier phase strictly fewer
    assert correct[keep] == max(correct.values())
    assert all(
        correct[lab] < correct[keep] for lab in PHASES[: PHASES.index(keep)] if lab in correct
    )
    assert st["answer_after"] == keep or PHASES.index(st["answer_after"]) > PHASES.index(keep)
    # the answer fits every training point and is never worse than the start (max margin)
    assert b.score(X, y) == 1.0 and b.train_errors_ == 0
    assert b.result_.objective >= b.start_objective_ - 1e-9
    assert b.improvement_ >= -1e-9 and st["improvement_over_start"] == pytest.approx(b.improvement_)
    assert st["start_seed"] in [c["seed"] for c in st["start_candidates"]]
