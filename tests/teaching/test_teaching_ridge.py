"""Ridge / least-squares teaching against brute-force enumeration of every (multi)set of a
small pool; the chosen set retrained with scikit-learn returns the target."""

import itertools

import numpy as np
import pytest

from optml.exceptions import SolveError
from optml.teaching import TeachingSet


def _normal_residual(X, y, c, w, b, alpha, fit_intercept):
    # written out here, independently of optml: half the gradient of
    # sum_i c_i (y_i - x_i w - b)^2 + alpha |w|^2 at (w, b), sign flipped
    r = y - X @ w - b
    g_w = (c * r) @ X - alpha * w
    return np.r_[g_w, np.sum(c * r)] if fit_intercept else g_w


def _brute(X, y, w, b, alpha, tol, K=1, cost=None, fit_intercept=True):
    n = X.shape[0]
    cost = np.ones(n) if cost is None else cost
    best, arg = np.inf, None
    scale = max(1.0, np.abs(X).max() * np.abs(y - X @ w - b).max() * n)
    for c in itertools.product(range(K + 1), repeat=n):
        c = np.array(c, float)
        if c.sum() == 0 or cost @ c >= best:
            continue
        g = _normal_residual(X, y, c, w, b, alpha, fit_intercept)
        if np.abs(g).max() > (tol if tol > 0 else 1e-9 * scale):
            continue
        if alpha == 0:
            A = np.hstack([X, np.ones((n, 1))]) if fit_intercept else X
            if np.linalg.matrix_rank(A[c > 0]) < A.shape[1]:
                continue
        best, arg = cost @ c, c
    return best, arg


def _ridge_fit(X, y, alpha):
    # the exact ridge fit with intercept (centred normal equations)
    xm, ym = X.mean(0), y.mean()
    Xc = X - xm
    w = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T @ (y - ym))
    return w, ym - xm @ w


def _integer_pool(seed, n=8, p=2):
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(n, p)).astype(float)
    y = rng.integers(-3, 4, size=n).astype(float)
    return rng, X, y


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha", [1.0, 2.0])
def test_exact_ridge_teaching_equals_brute_force(seed, alpha):
    rng, X, y = _integer_pool(seed)
    S0 = rng.choice(8, size=4, replace=False)
    w, b = _ridge_fit(X[S0], y[S0], alpha)
    ts = TeachingSet(learner="ridge", alpha=alpha).fit(X, y, target_coef=w, target_intercept=b)
    best, _ = _brute(X, y, w, b, alpha, 0.0)
    assert ts.result_.status == "optimal" and ts.result_.verified
    assert ts.n_examples_ == best
    assert ts.result_.bound == pytest.approx(best, abs=1e-6)
    chk = ts.verify()
    assert chk.passed, chk
    assert chk.distance < 1e-8


@pytest.mark.parametrize("seed", range(3))
def test_multiset_ridge_teaching_equals_brute_force(seed):
    # counts up to 2: pool of 7, 3^7 multisets
    rng, X, y = _integer_pool(seed + 10, n=7)
    c0 = np.zeros(7)
    c0[rng.choice(7, size=3, replace=False)] = [1, 2, 2]
    w, b = _ridge_fit(np.repeat(X, c0.astype(int), axis=0), np.repeat(y, c0.astype(int)), 1.0)
    ts = TeachingSet(alpha=1.0, max_copies=2).fit(X, y, target_coef=w, target_intercept=b)
    best, _ = _brute(X, y, w, b, 1.0, 0.0, K=2)
    assert ts.n_examples_ == best <= 5
    assert ts.counts_.max() <= 2
    assert ts.verify().passed


@pytest.mark.parametrize("seed", range(3))
def test_tolerance_and_costs_equal_brute_force(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(9, 2))
    y = X @ np.array([1.0, -0.5]) + 0.3 * rng.normal(size=9)
    w, b = np.array([0.8, -0.4]), 0.1
    cost = rng.integers(1, 5, size=9).astype(float)
    tol = 0.4
    ts = TeachingSet(alpha=0.5, tolerance=tol, cost=cost).fit(X, y, w, b)
    best, _ = _brute(X, y, w, b, 0.5, tol, cost=cost)
    assert ts.cost_ == pytest.approx(best, abs=1e-6)
    chk = ts.verify()
    assert chk.residual <= tol + 1e-7
    assert chk.passed, chk  # within the proven bound |g|_2 / lambda_min(H)


def test_least_squares_needs_full_rank_lazy_cuts():
    # nine points on the target plane y = x1 - 2 x2 + 1, several collinear: every subset
    # meets the normal equations (zero residuals); the minimum is the smallest affinely
    # independent triple, found through the lazy full-rank family
    X = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [0, 1], [0, 2], [1, 1], [2, 2], [3, 3]], float)
    y = X @ np.array([1.0, -2.0]) + 1.0
    ts = TeachingSet(alpha=0.0).fit(X, y, target_coef=[1.0, -2.0], target_intercept=1.0)
    best, _ = _brute(X, y, np.array([1.0, -2.0]), 1.0, 0.0, 0.0)
    assert best == 3 and ts.n_examples_ == 3
    assert ts.result_.stats.get("cuts", 0) >= 1
    A = np.hstack([X, np.ones((9, 1))])[ts.support_]
    assert np.linalg.matrix_rank(A) == 3
    assert ts.verify().passed


def test_collinear_pool_cannot_teach_least_squares():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    y = X[:, 0].copy()
    ts = TeachingSet(alpha=0.0)
    with pytest.raises(SolveError, match="cannot be taught"):
        ts.fit(X, y, target_coef=[1.0, 0.0], target_intercept=0.0)
    assert ts.result_.status in ("infeasible", "infeasible_or_unbounded")


def test_unreachable_target_is_infeasible():
    _, X, y = _integer_pool(0)
    ts = TeachingSet(alpha=1.0)
    with pytest.raises(SolveError, match="cannot be taught"):
        ts.fit(X, y, target_coef=[100.0, -50.0], target_intercept=3.0)
    assert ts.result_.status in ("infeasible", "infeasible_or_unbounded")


def test_no_intercept_target():
    _, X, y = _integer_pool(3)
    S0 = [0, 2, 5]
    w = np.linalg.solve(X[S0].T @ X[S0] + np.eye(2), X[S0].T @ y[S0])
    ts = TeachingSet(alpha=1.0, fit_intercept=False).fit(X, y, target_coef=w)
    best, _ = _brute(X, y, w, 0.0, 1.0, 0.0, fit_intercept=False)
    assert ts.n_examples_ == best
    assert ts.verify().passed


@pytest.mark.parametrize(
    "params, args, exc, match",
    [
        ({"learner": "tree"}, {}, ValueError, "learner must be one of"),
        ({"alpha": -1.0}, {}, ValueError, "alpha must be >= 0"),
        ({"max_copies": 0}, {}, ValueError, "max_copies must be >= 1"),
        ({"cost": [1.0, 2.0]}, {}, ValueError, "cost must be"),
        ({}, {"target_coef": [1.0]}, ValueError, "target_coef must have 2 entries"),
        ({"fit_intercept": False}, {"target_intercept": 1.0}, ValueError, "fit_intercept=False"),
        ({"fit_intercept": "yes"}, {}, TypeError, "fit_intercept must be True or False"),
    ],
)
def test_bad_input(params, args, exc, match):
    _, X, y = _integer_pool(0)
    kw = {"target_coef": [0.0, 0.0], "target_intercept": 0.0} | args
    with pytest.raises(exc, match=match):
        TeachingSet(**params).fit(X, y, **kw)


def test_time_limit_and_certificate_units():
    _, X, y = _integer_pool(1)
    w, b = _ridge_fit(X[:3], y[:3], 1.0)
    ts = TeachingSet(alpha=1.0, time_limit=5).fit(X, y, w, b)
    obj, viol = ts.program_.evaluate(ts.result_.values)
    assert obj == pytest.approx(ts.result_.objective)
    assert viol <= 1e-6
    Xs, ys = ts.teaching_set()
    assert len(Xs) == ts.n_examples_ == len(ys)


def test_time_limit_holds_on_a_hard_exact_instance():
    # exact teaching on generic real data (n = 48, planted on 12): equality rows over
    # binaries; HiGHS has no incumbent at the limit: fit returns in time and says so
    import time

    rng = np.random.default_rng(0)
    n = 48
    Z = rng.normal(size=(n, 1))
    X = 0.7 * Z + 0.3 * rng.normal(size=(n, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=n)
    S = rng.choice(n, size=12, replace=False)
    w, b = _ridge_fit(X[S], y[S], 1.0)
    ts = TeachingSet(alpha=1.0, time_limit=1)
    t0 = time.perf_counter()
    try:
        ts.fit(X, y, w, b)
    except SolveError as exc:
        assert "time_limit" in str(exc)
    else:
        assert ts.verify().passed
    assert time.perf_counter() - t0 <= 1 * 1.1 + 1
    assert ts.result_.status in ("time_limit", "optimal")
