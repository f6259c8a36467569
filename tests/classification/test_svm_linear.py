"""Linear SVMs against libsvm and against each other."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.svm import SVC

from optml.classification import HardMarginSVM, SoftMarginSVM
from optml.exceptions import SolveError
from optml.formulations.classification import svm_objective


def _data(n, p, noise, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = rng.standard_normal(p)
    y = (X @ w + noise * rng.standard_normal(n) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("n,method", [(120, "full"), (150, "working_set"), (700, "auto")])
def test_primal_objective_at_most_libsvm(n, method):
    X, y = _data(n, 5, 0.7, n)
    s = 2.0 * y - 1
    C = 0.8
    svc = SVC(kernel="linear", C=C, tol=1e-6).fit(X, y)
    ref = svm_objective(X, s, svc.coef_.ravel(), svc.intercept_[0], C)
    m = SoftMarginSVM(C=C, method=method).fit(X, y)
    assert m.result_.status == "optimal"
    assert m.result_.gap <= 1e-6
    ours = svm_objective(X, s, m.coef_.ravel(), m.intercept_[0], C)
    assert ours <= ref * (1 + 1e-5)
    assert np.isclose(ours, m.result_.objective, rtol=1e-9)
    # and libsvm is close to optimal, so both found the same hyperplane
    assert ref <= ours * (1 + 1e-3)
    np.testing.assert_allclose(m.coef_, svc.coef_, atol=5e-3 * np.abs(svc.coef_).max())


def test_working_set_equals_full_program():
    X, y = _data(300, 4, 1.0, 3)
    a = SoftMarginSVM(C=2.0, method="full").fit(X, y)
    b = SoftMarginSVM(C=2.0, method="working_set").fit(X, y)
    assert np.isclose(a.result_.objective, b.result_.objective, rtol=1e-6)
    assert b.result_.bound <= a.result_.objective * (1 + 1e-7)
    assert "working set" in b.result_.message


def test_l1_svm_is_an_lp_and_sparse():
    X, y = make_classification(150, 20, n_informative=3, n_redundant=0, random_state=0)
    m = SoftMarginSVM(C=0.1, penalty="l1").fit(X, y)
    assert m.program_.problem_class == "LP"
    assert m.result_.status == "optimal" and m.result_.verified
    assert np.sum(np.abs(m.coef_) > 1e-8) < 20
    # optimality: no random perturbation of the solution does better
    s = 2.0 * y - 1
    f0 = svm_objective(X, s, m.coef_.ravel(), m.intercept_[0], 0.1, "l1")
    rng = np.random.default_rng(0)
    for _ in range(50):
        dw = 1e-3 * rng.standard_normal(20)
        db = 1e-3 * rng.standard_normal()
        f = svm_objective(X, s, m.coef_.ravel() + dw, m.intercept_[0] + db, 0.1, "l1")
        assert f >= f0 - 1e-9


def test_hard_margin_separable_and_not():
    X = np.array([[0.0, 0.0], [1.0, 0.5], [3.0, 0.0], [4.0, 1.0]])
    y = np.array(["a", "a", "b", "b"])
    m = HardMarginSVM().fit(X, y)
    assert list(m.predict(X)) == list(y)
    # every sample satisfies the margin constraint, some with equality
    s = np.where(y == "b", 1.0, -1.0)
    r = s * (X @ m.coef_.ravel() + m.intercept_[0])
    assert r.min() == pytest.approx(1.0, abs=1e-6)
    Xn = np.vstack([X, [[0.5, 0.25]]])  # on the segment between two "a"s
    yn = np.append(y, "b")
    with pytest.raises(SolveError, match="SoftMarginSVM"):
        HardMarginSVM().fit(Xn, yn)


def test_hard_margin_agrees_with_large_C_libsvm():
    X, y = _data(60, 3, 0.0, 5)
    m = HardMarginSVM().fit(X, y)
    svc = SVC(kernel="linear", C=1e6, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(m.coef_, svc.coef_, rtol=1e-3, atol=1e-3)
