"""Logistic regression against scikit-learn; sparse logistic regression against enumeration."""

import itertools

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression as SkLogistic

import optml
from optml.algorithms.newton import dual_bound, objective
from optml.classification import LogisticRegression, SparseLogisticRegression


def _has(backend, solver):
    return any(r["backend"] == backend and r["solver"] == solver for r in optml.solvers())


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(200, 6, n_informative=4, random_state=0)
    return X, y


@pytest.mark.parametrize("C", [0.05, 1.0, 30.0])
def test_l2_coefficients_match_sklearn(data, C):
    X, y = data
    sk = SkLogistic(C=C, tol=1e-10, max_iter=100000).fit(X, y)
    m = LogisticRegression(C=C).fit(X, y)
    assert m.result_.status == "optimal" and m.result_.gap <= 1e-8
    np.testing.assert_allclose(m.coef_, sk.coef_, atol=1e-4)
    np.testing.assert_allclose(m.intercept_, sk.intercept_, atol=1e-4)
    np.testing.assert_allclose(m.predict_proba(X), sk.predict_proba(X), atol=1e-5)


def test_dual_bound_is_below_objective_everywhere(data):
    X, y = data
    s = 2.0 * y - 1
    rng = np.random.default_rng(0)
    for pen in ("l2", "l1"):
        for _ in range(20):
            w = rng.standard_normal(X.shape[1])
            b = rng.standard_normal()
            w2 = rng.standard_normal(X.shape[1])
            assert dual_bound(X, s, w, b, 1.0, pen) <= objective(X, s, w2, 0.3, 1.0, pen) + 1e-9


def test_l1_is_certified_and_sparse_like_sklearn(data):
    X, y = data
    m = LogisticRegression(C=0.05, penalty="l1").fit(X, y)
    assert m.result_.status == "optimal" and m.result_.gap <= 1e-6
    sk = SkLogistic(C=0.05, l1_ratio=1.0, solver="saga", tol=1e-12, max_iter=200000).fit(X, y)
    s = 2.0 * y - 1
    f_sk = objective(X, s, sk.coef_.ravel(), sk.intercept_[0], 0.05, "l1")
    assert m.result_.objective <= f_sk + 1e-6
    np.testing.assert_allclose(m.coef_, sk.coef_, atol=1e-3)


def test_unpenalised_and_separable():
    X, y = make_classification(
        200, 3, n_informative=2, n_redundant=0, random_state=2, flip_y=0.2, class_sep=0.5
    )
    m = LogisticRegression(penalty=None).fit(X, y)
    sk0 = SkLogistic(C=np.inf, tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(m.coef_, sk0.coef_, atol=1e-4)
    Xs = np.array([[0.0], [1.0], [2.0], [3.0]])
    with pytest.raises(ValueError, match="separable"):
        LogisticRegression(penalty=None).fit(Xs, [0, 0, 1, 1])


@pytest.mark.skipif(not _has("cvxpy", "clarabel"), reason="cvxpy/clarabel not installed")
def test_conic_program_agrees_with_newton(data):
    X, y = data
    X = X[:80]
    y = y[:80]
    a = LogisticRegression(C=2.0, method="conic").fit(X, y)
    b = LogisticRegression(C=2.0, method="smooth").fit(X, y)
    assert a.program_.problem_class == "EXP"
    assert a.result_.status == "optimal" and a.result_.gap <= 1e-6
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-4)
    assert a.result_.objective == pytest.approx(b.result_.objective, rel=1e-6)


def _brute(X, s, k, C, penalty):
    est = SparseLogisticRegression(k=k, C=C, penalty=penalty)
    return min(
        est._refit(X, s, np.array(sup))[2] for sup in itertools.combinations(range(X.shape[1]), k)
    )


@pytest.mark.parametrize("seed,penalty", [(0, "l2"), (1, "l2"), (2, "l1")])
def test_sparse_logistic_matches_enumeration(seed, penalty):
    X, y = make_classification(40, 5, n_informative=2, n_redundant=1, random_state=seed, flip_y=0.1)
    s = 2.0 * y - 1
    m = SparseLogisticRegression(k=2, C=1.0, penalty=penalty).fit(X, y)
    best = _brute(X, s, 2, 1.0, penalty)
    r = m.result_
    assert r.status == "optimal"
    assert r.bound <= best * (1 + 1e-7) + 1e-7  # the MILP bound is a valid lower bound
    assert r.objective == pytest.approx(best, rel=1e-4)
    assert np.count_nonzero(m.coef_) <= 2
    # program_ is the exact MIEXP (the MILP rounds are its relaxations): it checks the answer
    assert m.program_.problem_class == "MIEXP"
    obj, viol = m.program_.evaluate(r.values)
    assert obj == pytest.approx(r.objective, rel=1e-9) and viol <= 1e-9


def test_sparse_logistic_exp_cone_form_needs_a_miexp_solver(data):
    X, y = data
    m = SparseLogisticRegression(k=2, formulation="exp-cone")
    prog = m.build_program(X[:30], y[:30])
    assert prog.problem_class == "MIEXP"
    if not any("MIEXP" in r["classes"] for r in optml.solvers()):
        with pytest.raises(optml.SolverNotAvailableError):
            m.fit(X[:30], y[:30])


def test_sparse_logistic_outer_approximation_is_a_registered_solver(monkeypatch):
    from optml.backends import available

    # 10 supports would be enumerated (test_sparse_logistic_enum.py): test the MILP rounds
    monkeypatch.setattr("optml.algorithms.sparse_logistic_oa.ENUMERATE_MAX", 0)

    rows = [r for r in available() if r["solver"] == "sparse-logistic-oa"]
    assert rows and rows[0]["kinds"] == ["sparse_logistic"]
    X, y = make_classification(40, 5, n_informative=2, n_redundant=1, random_state=3)
    s = 2.0 * y - 1
    best = _brute(X, s, 2, 1.0, "l2")
    named = SparseLogisticRegression(k=2, solver="sparse-logistic-oa").fit(X, y)
    default = SparseLogisticRegression(k=2).fit(X, y)
    for m in (named, default):
        assert m.result_.solver == "sparse-logistic-oa" and m.result_.backend == "optml"
        assert m.result_.status == "optimal" and m.result_.verified
        assert m.result_.objective == pytest.approx(best, rel=1e-4)
        assert m.result_.stats["rounds"] >= 1
