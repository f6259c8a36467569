"""Multinomial (softmax) logistic regression against scikit-learn; the shared feature budget
against enumeration of the supports."""

import itertools

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression as SkLogistic

from optml.algorithms.newton import multinomial_dual_bound
from optml.algorithms.sparse_multinomial_oa import multinomial_refit
from optml.classification import LogisticRegression, SparseLogisticRegression
from optml.formulations.logistic import (
    MultinomialLogisticProblem,
    chain_values,
    multinomial_logistic_regression,
    multinomial_objective,
)


def _data(n=120, p=4, K=4, seed=0, shift=0.8):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    X = rng.normal(size=(n, p))
    X[:, 0] += shift * y
    X[:, 1] -= shift * (y % 2)
    return X, y


@pytest.mark.parametrize("C", [0.05, 1.0, 20.0])
def test_multinomial_matches_sklearn(C):
    X, y = _data()
    sk = SkLogistic(C=C, tol=1e-12, max_iter=100000).fit(X, y)
    m = LogisticRegression(C=C).fit(X, y)
    assert m.result_.status == "optimal" and m.result_.verified and m.result_.gap <= 1e-8
    assert m.coef_.shape == (4, 4) and m.intercept_.shape == (4,)
    np.testing.assert_allclose(m.coef_, sk.coef_, atol=1e-4)
    np.testing.assert_allclose(m.intercept_, sk.intercept_, atol=1e-4)
    np.testing.assert_allclose(m.predict_proba(X), sk.predict_proba(X), atol=1e-5)
    f_sk = multinomial_objective(X, y, sk.coef_, sk.intercept_, C, "l2")
    assert m.result_.objective <= f_sk + 1e-9 * max(1.0, f_sk)
    assert m.result_.bound <= f_sk + 1e-9 * max(1.0, f_sk)
    np.testing.assert_array_equal(m.predict(X), sk.predict(X))


def test_iris_strings_conic_and_smooth_agree():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    smooth = LogisticRegression().fit(X, names)
    conic = LogisticRegression(method="conic").fit(X, names)
    sk = SkLogistic(tol=1e-12, max_iter=100000).fit(X, names)
    assert list(smooth.classes_) == list(sk.classes_)
    assert conic.result_.status == "optimal" and conic.result_.verified
    assert conic.result_.solver != "newton" and smooth.result_.solver == "newton"
    np.testing.assert_allclose(conic.coef_, smooth.coef_, atol=1e-3)
    np.testing.assert_allclose(smooth.coef_, sk.coef_, atol=1e-4)
    assert (
        abs(conic.result_.objective - smooth.result_.objective) <= 1e-6 * smooth.result_.objective
    )
    # the program's own numpy check gives the certified objective on both routes
    for m in (smooth, conic):
        val, viol = m.program_.evaluate(m.result_.values)
        assert abs(val - m.result_.objective) <= 1e-7 * max(1.0, val) and viol <= 1e-6


def test_l1_multinomial_no_worse_than_saga():
    X, y = _data(80, 5, 3, seed=2)
    C = 0.1
    m = LogisticRegression(C=C, penalty="l1").fit(X, y)
    assert m.result_.status == "optimal" and m.result_.gap <= 1e-6
    sk = SkLogistic(C=C, l1_ratio=1.0, solver="saga", tol=1e-10, max_iter=100000).fit(X, y)
    f_sk = multinomial_objective(X, y, sk.coef_, sk.intercept_, C, "l1")
    assert m.result_.objective <= f_sk + 1e-6
    assert m.result_.bound <= f_sk + 1e-9


def test_dual_bound_below_objective_everywhere():
    X, y = _data(60, 3, 3, seed=3)
    rng = np.random.default_rng(0)
    for pen in ("l2", "l1"):
        for _ in range(20):
            W, b = rng.normal(size=(3, 3)), rng.normal(size=3)
            W2, b2 = rng.normal(size=(3, 3)), rng.normal(size=3)
            lo = multinomial_dual_bound(X, y, 3, W, b, 0.7, pen)
            assert lo <= multinomial_objective(X, y, W2, b2, 0.7, pen) + 1e-9


def test_program_chain_is_the_softmax_loss():
    X, y = _data(30, 3, 4, seed=4)
    rng = np.random.default_rng(1)
    prog = multinomial_logistic_regression(X, y, 4, C=2.0)
    W, b = rng.normal(size=(4, 3)), rng.normal(size=4)
    val, viol = prog.evaluate({"W": W, "b": b, "r": chain_values(X, y, W, b)})
    assert viol <= 1e-12
    assert val == pytest.approx(multinomial_objective(X, y, W, b, 2.0, "l2"), rel=1e-12)
    prob = MultinomialLogisticProblem(X, y, 4, C=2.0)
    assert prob.evaluate({"W": W, "b": b})[0] == pytest.approx(val, rel=1e-12)


def test_build_and_fit_program_multinomial():
    X, y = _data(60, 3, 3, seed=5)
    est = LogisticRegression(C=0.5)
    prog = est.build_program(X, y)
    assert prog.variables["W"].shape == (3, 3)
    est.fit_program(prog, X, y)
    ref = LogisticRegression(C=0.5).fit(X, y)
    assert est.result_.status == "optimal"
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-3)
    with pytest.raises(ValueError, match="multinomial program"):
        LogisticRegression().fit_program(LogisticRegression().build_program(X, y % 2), X, y)


def test_binary_stays_binary():
    X, y = _data(60, 3, 2, seed=6)
    m = LogisticRegression().fit(X, y)
    assert m.coef_.shape == (1, 3) and m.intercept_.shape == (1,)


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_shared_budget_against_enumeration(penalty):
    X, y = _data(36, 5, 3, seed=7, shift=0.6)
    k, C = 2, 1.0
    m = SparseLogisticRegression(k=k, C=C, penalty=penalty, multi_class="multinomial").fit(X, y)
    res = m.result_
    best = min(
        multinomial_refit(X, y, 3, np.array(sup), C, penalty)[2]
        for sup in itertools.combinations(range(5), k)
    )
    assert res.status == "optimal" and res.verified
    assert res.objective <= best + 1e-6 * best
    assert res.bound <= best + 1e-9 * best
    assert m.coef_.shape == (3, 5)
    used = np.flatnonzero((np.abs(m.coef_) > 0).any(axis=0))
    assert len(used) <= k and set(used) == set(m.support_[0])
    val, viol = m.program_.evaluate(res.values)
    assert abs(val - res.objective) <= 1e-7 * val and viol <= 1e-6
    np.testing.assert_allclose(m.predict_proba(X).sum(axis=1), 1.0)


def test_shared_budget_bad_parameters():
    X, y = _data(30, 3, 3)
    with pytest.raises(ValueError, match="multi_class"):
        SparseLogisticRegression(multi_class="softmax").fit(X, y)
    with pytest.raises(ValueError, match="big-M"):
        SparseLogisticRegression(k=1, penalty=None, multi_class="multinomial").fit(X, y)
