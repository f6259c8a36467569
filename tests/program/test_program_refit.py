"""Modify and refit: est.fit_program(program, X, y) after build_program(X, y) and a user's
change; compared with fit (unchanged program) and with cvxpy on the constrained objective."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

import optml as om
from optml.exceptions import SolveError
from optml.regression import (
    HuberRegression,
    Lasso,
    LeastAbsoluteDeviation,
    LeastSquares,
    Ridge,
    SupportVectorRegression,
)

cp = pytest.importorskip("cvxpy")


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y


@pytest.mark.parametrize(
    "est",
    [Lasso(alpha=0.05), Ridge(alpha=0.3), LeastSquares()],
    ids=["lasso", "ridge", "ols"],
)
@pytest.mark.parametrize("intercept_variable", [False, True])
def test_unchanged_program_refits_like_fit(diabetes, est, intercept_variable):
    X, y = diabetes
    ref = type(est)(**est.get_params()).fit(X, y)
    prog = est.build_program(X, y, intercept_variable=intercept_variable)
    assert ("intercept" in prog.variables) == intercept_variable
    est.fit_program(prog, X, y)
    # diabetes' features are correlated (s1, s2, s3 nearly collinear): objectives 1e-7 apart
    # allow coefficients 1 % apart along the flat directions; the fits agree
    assert est.objective_ == pytest.approx(ref.objective_, rel=1e-6)
    np.testing.assert_allclose(est.predict(X), ref.predict(X), atol=2e-3 * y.std())
    assert est.result_.status == "optimal" and est.result_.verified
    assert est.program_ is prog
    np.testing.assert_allclose(est.predict(X[:5]), X[:5] @ est.coef_ + est.intercept_)


def _cvx_lasso(X, y, alpha, extra):
    n, p = X.shape
    w, b = cp.Variable(p), cp.Variable()
    obj = cp.sum_squares(y - X @ w - b) / (2 * n) + alpha * cp.norm1(w)
    cp.Problem(cp.Minimize(obj), extra(w, b)).solve(solver="CLARABEL")
    return w.value, float(b.value)


def test_lasso_with_monotone_coefficients_and_intercept_bound(diabetes):
    X, y = diabetes
    est = Lasso(alpha=0.05)
    prog = est.build_program(X, y, intercept_variable=True)
    w, b = prog.variables["coef"], prog.variables["intercept"]
    D = np.eye(10)[1:] - np.eye(10)[:-1]  # w[j+1] - w[j] >= 0
    prog.add(D @ w >= 0, name="monotone")
    prog.add(b >= 160.0, name="intercept_floor")  # the unconstrained intercept is about 152
    est.fit_program(prog, X, y)
    ref_w, ref_b = _cvx_lasso(X, y, 0.05, lambda w_, b_: [D @ w_ >= 0, b_ >= 160.0])
    assert np.all(np.diff(est.coef_) >= -1e-7)
    assert est.intercept_ == pytest.approx(160.0, abs=1e-6)
    np.testing.assert_allclose(est.coef_, ref_w, atol=1e-3 * np.abs(ref_w).max())
    assert est.intercept_ == pytest.approx(ref_b, abs=1e-4)
    assert est.result_.verified and est.result_.gap <= 1e-4
    # the duals of the user's constraints come back by name
    assert est.result_.duals["intercept_floor"] > 0 and est.result_.duals["monotone"].shape == (9,)


def test_lad_with_a_support_constraint(diabetes):
    X, y = diabetes
    est = LeastAbsoluteDeviation()
    prog = est.build_program(X, y, intercept_variable=True)  # LAD has one already
    w = prog.variables["coef"]
    prog.add(w[[0, 1, 4, 5, 6, 7]] == 0, name="support")
    est.fit_program(prog, X, y)
    n = X.shape[0]
    wv, bv = cp.Variable(10), cp.Variable()
    cons = [wv[[0, 1, 4, 5, 6, 7]] == 0]
    cp.Problem(cp.Minimize(cp.sum(cp.abs(y - X @ wv - bv)) / n), cons).solve(solver="CLARABEL")
    assert est.objective_ == pytest.approx(
        float(np.abs(y - X @ wv.value - bv.value).mean()), rel=1e-6
    )
    assert np.all(est.coef_[[0, 1, 4, 5, 6, 7]] == pytest.approx(0.0, abs=1e-9))


@pytest.mark.parametrize("cls", [HuberRegression, SupportVectorRegression])
def test_robust_regressors_refit(diabetes, cls):
    X, y = diabetes
    X, y = X[:120], y[:120] / 50.0
    ref = cls().fit(X, y)
    est = cls()
    est.fit_program(est.build_program(X, y), X, y)
    np.testing.assert_allclose(est.predict(X), ref.predict(X), atol=1e-4 * np.abs(y).max())


def test_infeasible_change_raises_with_result_kept(diabetes):
    X, y = diabetes
    est = Lasso(alpha=0.1)
    prog = est.build_program(X, y, intercept_variable=True)
    b = prog.variables["intercept"]
    prog.add(b >= 1.0, name="lo")
    prog.add(b <= 0.0, name="hi")
    with pytest.raises(SolveError, match="infeasible"):
        est.fit_program(prog, X, y)
    assert est.result_.status in ("infeasible", "infeasible_or_unbounded")


def test_refusals(diabetes):
    X, y = diabetes
    with pytest.raises(TypeError, match="optml.Program"):
        Lasso().fit_program("not a program", X, y)
    p = om.Program()
    p.var("beta", 10)
    with pytest.raises(ValueError, match="'coef'"):
        Lasso().fit_program(p, X, y)
    with pytest.raises(ValueError, match="fit_intercept=False"):
        Lasso(fit_intercept=False).build_program(X, y, intercept_variable=True)
    prog = Lasso().build_program(X[:, :5], y)
    with pytest.raises(ValueError, match="one entry per feature"):
        Lasso().fit_program(prog, X, y)


# ------------------------------------------------------------------------- classifiers
def test_svm_with_sign_constraints_matches_cvxpy():
    from optml.classification import SoftMarginSVM

    X, y = load_breast_cancer(return_X_y=True)
    X = (X[:150, :6] - X[:150, :6].mean(0)) / X[:150, :6].std(0)
    y = y[:150]
    clf = SoftMarginSVM(C=0.5, method="full")
    prog = clf.build_program(X, y)
    w = prog.variables["w"]
    prog.add(w >= 0, name="nonneg")
    clf.fit_program(prog, X, y)
    s = np.where(y == 1, 1.0, -1.0)
    wv, bv = cp.Variable(6), cp.Variable()
    obj = 0.5 * cp.sum_squares(wv) + 0.5 * cp.sum(cp.pos(1 - cp.multiply(s, X @ wv + bv)))
    cp.Problem(cp.Minimize(obj), [wv >= 0]).solve(solver="CLARABEL")
    np.testing.assert_allclose(clf.coef_.ravel(), wv.value, atol=1e-4)
    assert clf.intercept_[0] == pytest.approx(float(bv.value), abs=1e-4)
    assert clf.coef_.shape == (1, 6) and np.all(clf.coef_ >= -1e-8)
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert clf.result_.verified


def test_one_vs_rest_program_refits_like_fit():
    from optml.classification import SoftMarginSVM

    X, y = load_iris(return_X_y=True)
    ref = SoftMarginSVM(C=1.0, method="full").fit(X, y)
    clf = SoftMarginSVM(C=1.0, method="full")
    prog = clf.build_program(X, y)
    clf.fit_program(prog, X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(clf.intercept_, ref.intercept_, atol=1e-4)
    assert (clf.predict(X) == ref.predict(X)).mean() >= 0.99
    with pytest.raises(ValueError, match="binary block"):
        clf.fit_program(prog, X[y < 2], y[y < 2])
