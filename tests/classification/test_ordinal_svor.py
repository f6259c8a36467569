"""Support vector ordinal regression against a direct cvxpy solve of the same QP."""

import cvxpy as cp
import numpy as np
import pytest

from optml.classification import SupportVectorOrdinalRegression
from optml.formulations.ordinal import ordinal_objective


def _data(n=40, p=3, r=4, seed=0, noise=0.4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    f = X @ rng.normal(size=p) + noise * rng.normal(size=n)
    cuts = np.quantile(f, np.linspace(0, 1, r + 1)[1:-1])
    return X, np.digitize(f, cuts)


def _cvxpy(X, y, r, C, thresholds):
    """The SVOR QP written directly in cvxpy (Chu & Keerthi 2005, eqs. for EXC / IMC)."""
    p = X.shape[1]
    w, b = cp.Variable(p), cp.Variable(r - 1)
    f = X @ w
    loss = 0
    for j in range(r - 1):
        lo = (y == j) if thresholds == "explicit" else (y <= j)
        hi = (y == j + 1) if thresholds == "explicit" else (y > j)
        loss += cp.sum(cp.pos(1 + f[lo] - b[j])) + cp.sum(cp.pos(1 - f[hi] + b[j]))
    cons = [b[:-1] <= b[1:]] if r > 2 else []
    pr = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(w) + C * loss), cons)
    pr.solve(solver=cp.CLARABEL)
    return w.value, b.value, pr.value


@pytest.mark.parametrize("thresholds", ["explicit", "implicit"])
@pytest.mark.parametrize("seed,C", [(0, 1.0), (1, 0.1), (2, 10.0)])
def test_matches_direct_qp(thresholds, seed, C):
    X, y = _data(seed=seed)
    m = SupportVectorOrdinalRegression(C=C, thresholds=thresholds).fit(X, y)
    w, b, val = _cvxpy(X, y, 4, C, thresholds)
    res = m.result_
    assert res.status == "optimal" and res.verified
    assert res.objective == pytest.approx(val, rel=1e-5, abs=1e-6)
    assert res.bound <= val + 1e-6 * max(1.0, val)
    assert ordinal_objective(X, y, 4, m.coef_, m.thresholds_, C, thresholds) == pytest.approx(
        val, rel=1e-5, abs=1e-6
    )
    np.testing.assert_allclose(m.coef_, w, atol=1e-3)
    assert np.all(np.diff(m.thresholds_) >= -1e-9)


def test_ordered_labels_and_prediction_rule():
    X, y = _data(60, 2, 3, seed=3, noise=0.1)
    names = np.array(["low", "mid", "zhigh"])[y]  # sorted order is the label order
    m = SupportVectorOrdinalRegression(C=10.0).fit(X, names)
    assert list(m.classes_) == ["low", "mid", "zhigh"]
    f = m.latent_function(X)
    rank = np.searchsorted(np.sort(m.thresholds_), f, side="left")
    np.testing.assert_array_equal(m.predict(X), m.classes_[rank])
    assert m.score(X, names) > 0.9
    assert set(m.predict(X)) <= set(names)


def test_explicit_order_constraints_bind():
    # a thin middle class and a small C: without the ordering constraint the explicit
    # thresholds cross (b_1 > b_2); with it they meet, and the direct QP agrees
    rng = np.random.default_rng(4)
    X = np.r_[
        rng.normal(-1.5, 0.5, (15, 1)), rng.normal(0, 0.3, (2, 1)), rng.normal(1.5, 0.5, (15, 1))
    ]
    y = np.repeat([0, 1, 2], [15, 2, 15])
    w, b = cp.Variable(1), cp.Variable(2)
    f = X @ w
    loss = sum(
        cp.sum(cp.pos(1 + f[y == j] - b[j])) + cp.sum(cp.pos(1 - f[y == j + 1] + b[j]))
        for j in range(2)
    )
    cp.Problem(cp.Minimize(0.5 * cp.sum_squares(w) + 0.05 * loss)).solve(solver=cp.CLARABEL)
    assert b.value[0] > b.value[1] + 0.1  # unordered without the constraint
    m = SupportVectorOrdinalRegression(C=0.05).fit(X, y)
    _, _, val = _cvxpy(X, y, 3, 0.05, "explicit")
    assert m.result_.objective == pytest.approx(val, rel=1e-5)
    assert m.thresholds_[0] <= m.thresholds_[1] + 1e-7
    assert m.thresholds_[1] - m.thresholds_[0] <= 1e-5  # the constraint binds


def test_bad_input():
    X, y = _data()
    with pytest.raises(ValueError, match="thresholds"):
        SupportVectorOrdinalRegression(thresholds="both").fit(X, y)
    with pytest.raises(ValueError, match="C must be"):
        SupportVectorOrdinalRegression(C=0).fit(X, y)
    with pytest.raises(ValueError, match="class"):
        SupportVectorOrdinalRegression().fit(X, np.zeros(len(y)))
