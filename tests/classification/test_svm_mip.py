"""Kernel SVM against libsvm; SparseSVM and RampLossSVM against enumeration."""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_moons
from sklearn.svm import SVC

import optml
from optml.classification import KernelSVM, RampLossSVM, SoftMarginSVM, SparseSVM
from optml.classification._sparse import ramp_objective
from optml.formulations.classification import soft_margin_svm, svm_objective


def _has_class(pclass):
    return any(pclass in r["classes"] for r in optml.solvers())


@pytest.mark.parametrize("kernel,C", [("rbf", 1.0), ("rbf", 10.0), ("poly", 0.5)])
def test_kernel_svm_agrees_with_libsvm_on_held_out(kernel, C):
    X, y = make_moons(260, noise=0.3, random_state=1)
    Xt, yt, Xh = X[:180], y[:180], X[180:]
    m = KernelSVM(C=C, kernel=kernel, coef0=1.0).fit(Xt, yt)
    sk = SVC(C=C, kernel=kernel, coef0=1.0, tol=1e-8).fit(Xt, yt)
    assert m.result_.status == "optimal" and m.result_.gap <= 1e-6
    np.testing.assert_array_equal(m.predict(Xh), sk.predict(Xh))
    np.testing.assert_allclose(m.decision_function(Xh), sk.decision_function(Xh), atol=1e-3)
    assert m.intercept_[0] == pytest.approx(sk.intercept_[0], abs=1e-3)
    assert set(m.support_) == set(sk.support_)


def test_kernel_svm_callable_and_linear_match_linear_svm():
    X, y = make_classification(80, 3, n_redundant=0, random_state=0)
    a = KernelSVM(C=1.0, kernel=lambda A, B: A @ B.T).fit(X, y)
    b = SoftMarginSVM(C=1.0).fit(X, y)
    w = a.dual_coef_ @ a.support_vectors_
    np.testing.assert_allclose(w, b.coef_, atol=1e-4)
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X), atol=1e-4)


def test_kernel_not_psd_is_refused():
    X, _ = make_moons(20, random_state=0)
    with pytest.raises(ValueError, match="positive semidefinite"):
        KernelSVM(kernel=lambda A, B: -(A @ B.T)).fit(X, np.arange(20) % 2)


def _lp_svm(X, s, C, penalty):
    res = soft_margin_svm(X, s, C=C, penalty=penalty).solve(backend="highs")
    assert res.status == "optimal"
    return res.objective


@pytest.mark.parametrize("seed,bigm", [(0, "lp"), (1, "objective"), (2, "lp")])
def test_sparse_svm_matches_enumeration(seed, bigm):
    X, y = make_classification(
        40, 6, n_informative=2, n_redundant=2, random_state=seed, flip_y=0.05
    )
    s = 2.0 * y - 1
    k, C = 2, 0.5
    m = SparseSVM(C=C, k=k, bigm=bigm).fit(X, y)
    best = min(_lp_svm(X[:, list(S)], s, C, "l1") for S in itertools.combinations(range(6), k))
    assert m.result_.status == "optimal"
    assert m.result_.objective == pytest.approx(best, rel=1e-4, abs=1e-6)
    assert np.count_nonzero(m.coef_) <= k
    f = svm_objective(X, s, m.coef_.ravel(), m.intercept_[0], C, "l1")
    assert f == pytest.approx(best, rel=1e-4, abs=1e-6)
    assert m.program_.problem_class == "MILP"


@pytest.mark.parametrize("k", [4, 6])
def test_sparse_svm_with_a_budget_that_does_not_bind_is_the_soft_margin_svm(k):
    X, y = make_classification(40, 4, n_informative=2, n_redundant=1, random_state=5, flip_y=0.1)
    s = 2.0 * y - 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # k = 6 > 4 features
        m = SparseSVM(C=0.5, k=k).fit(X, y)
    best = _lp_svm(X, s, 0.5, "l1")
    assert m.result_.status == "optimal" and m.program_.problem_class == "MILP"
    assert m.result_.objective == pytest.approx(best, rel=1e-6, abs=1e-8)
    f = svm_objective(X, s, m.coef_.ravel(), m.intercept_[0], 0.5, "l1")
    assert f == pytest.approx(best, rel=1e-6, abs=1e-8)


@pytest.mark.skipif(not _has_class("MIQP"), reason="no MIQP solver (pip install pyscipopt)")
def test_sparse_svm_l2_matches_enumeration():
    X, y = make_classification(30, 5, n_informative=2, n_redundant=1, random_state=3)
    s = 2.0 * y - 1
    m = SparseSVM(C=1.0, k=2, penalty="l2").fit(X, y)
    best = min(_lp_svm(X[:, list(S)], s, 1.0, "l2") for S in itertools.combinations(range(5), 2))
    assert m.program_.problem_class == "MIQP"
    assert m.result_.objective == pytest.approx(best, rel=1e-4, abs=1e-6)


def _ramp_brute(X, s, C, penalty):
    """min over outlier sets O of (soft margin SVM on the rest) + 2C|O| = the ramp optimum."""
    n = len(s)
    best = np.inf
    for r in range(n + 1):
        for O in itertools.combinations(range(n), r):
            keep = np.setdiff1d(np.arange(n), O)
            val = 2 * C * r
            if np.unique(s[keep]).size == 2:  # one class left: w = 0 and a large b cost 0
                val += _lp_svm(X[keep], s[keep], C, penalty)
            best = min(best, val)
    return best


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_ramp_loss_matches_enumeration(penalty):
    if penalty == "l2" and not _has_class("MIQP"):
        pytest.skip("no MIQP solver (pip install pyscipopt)")
    rng = np.random.default_rng(4)
    X = rng.standard_normal((7, 2))
    s = np.where(X[:, 0] + 0.3 * rng.standard_normal(7) > 0, 1.0, -1.0)
    s[0] = -s[0]  # a flipped label
    C = 1.5
    m = RampLossSVM(C=C, penalty=penalty).fit(X, s)
    best = _ramp_brute(X, s, C, penalty)
    assert m.result_.status == "optimal"
    assert m.result_.objective == pytest.approx(best, rel=1e-4, abs=1e-6)
    w, b = m.coef_.ravel(), m.intercept_[0]
    # classes_ = [-1, 1], so coef_ is for s = +1
    assert ramp_objective(X, s, w, b, C, penalty) == pytest.approx(best, rel=1e-4, abs=1e-6)


def test_ramp_loss_resists_flipped_labels_better_than_hinge():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((24, 2))
    y = (X[:, 0] > 0).astype(int)
    # four far-away points with flipped labels (label noise with leverage)
    Xo = np.column_stack([rng.uniform(4, 6, 4), rng.standard_normal(4)])
    Xn = np.vstack([X, Xo])
    yn = np.append(y, np.zeros(4, int))
    Xt = rng.standard_normal((1000, 2))
    yt = (Xt[:, 0] > 0).astype(int)
    hinge = SoftMarginSVM(C=1.0, penalty="l1").fit(Xn, yn)
    ramp = RampLossSVM(C=1.0, penalty="l1").fit(Xn, yn)
    assert ramp.result_.status == "optimal"
    assert ramp.score(Xt, yt) > hinge.score(Xt, yt) + 0.02
    assert ramp.outliers_[24:].all()
