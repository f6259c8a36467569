"""SVM and logistic teaching against brute-force enumeration (each multiset retrained or its
optimality conditions recomputed with numpy), and the teaching dimension of 1-D thresholds."""

import itertools

import numpy as np
import pytest
from scipy.special import expit
from sklearn.svm import SVC

from optml.exceptions import SolveError
from optml.formulations.teaching import threshold_hypotheses
from optml.teaching import TeachingSet, teaching_dimension


def _multisets(n, K):
    for c in itertools.product(range(K + 1), repeat=n):
        c = np.array(c)
        if c.sum():
            yield c


def _svc(X, s, c, C):
    Xs, ss = np.repeat(X, c, axis=0), np.repeat(s, c)
    if np.unique(ss).size < 2:
        return None
    m = SVC(kernel="linear", C=C, tol=1e-10).fit(Xs, ss)
    return m.coef_.ravel(), float(m.intercept_[0])


def _hinge_sum(X, s, c, w, b):
    return float(np.sum(c * np.maximum(0.0, 1.0 - s * (X @ w + b))))


def _svm_teaches_exactly(X, s, c, C, w0, b0):
    """(w0, b0) is the unique SVM optimum on the multiset c: scikit-learn's w (unique) is w0
    and b0 is the strict minimiser of the hinge sum with w = w0."""
    fit = _svc(X, s, c, C)
    if fit is None or np.abs(fit[0] - w0).max() > 1e-5:
        return False
    f0 = _hinge_sum(X, s, c, w0, b0)
    h = 1e-3
    return min(_hinge_sum(X, s, c, w0, b0 + h), _hinge_sum(X, s, c, w0, b0 - h)) > f0 + 1e-7


def _svm_pool(seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(8, 2)).astype(float)
    w = np.array([1.0, 0.0]) if seed % 2 else np.array([0.5, 0.5])
    b = 0.0 if seed % 3 else 0.5
    s = np.where(X @ w + b >= 0, 1, -1)
    s[rng.random(8) < 0.15] *= -1
    return X, s, w, b


SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "seed, C",
    [(1, 1.0), (4, 0.5), (0, 1.0)]  # taught by 3, by 2, not teachable
    + [
        pytest.param(sd, c, marks=SLOW)
        for sd in (0, 1, 3, 4, 5)
        for c in (0.5, 1.0)
        if (sd, c) not in ((1, 1.0), (4, 0.5), (0, 1.0))
    ],
)
def test_svm_exact_teaching_equals_brute_force(seed, C):
    X, s, w, b = _svm_pool(seed)
    best = min(
        (c.sum() for c in _multisets(8, 1) if _svm_teaches_exactly(X, s, c, C, w, b)),
        default=None,
    )
    ts = TeachingSet(learner="svm", C=C)
    if best is None:
        with pytest.raises(SolveError, match="cannot be taught"):
            ts.fit(X, s, target_coef=w, target_intercept=b)
        return
    ts.fit(X, s, target_coef=w, target_intercept=b)
    assert ts.result_.status == "optimal" and ts.result_.verified
    assert ts.n_examples_ == best
    chk = ts.verify()
    assert chk.passed, chk


@pytest.mark.parametrize("seed", [1, pytest.param(4, marks=SLOW)])
def test_svm_multiset_teaching_equals_brute_force(seed):
    X, s, w, b = _svm_pool(seed)
    X, s = X[:6], s[:6]
    best = min(
        (c.sum() for c in _multisets(6, 2) if _svm_teaches_exactly(X, s, c, 0.5, w, b)),
        default=None,
    )
    ts = TeachingSet(learner="svm", C=0.5, max_copies=2)
    if best is None:
        with pytest.raises(SolveError):
            ts.fit(X, s, w, b)
    else:
        assert ts.fit(X, s, w, b).n_examples_ == best
        assert ts.verify().passed


def _optimal_b_interval(X, s, c, w):
    # minimisers of the hinge sum in b at fixed w: among its breakpoints
    bp = np.sort(s - X @ w)
    vals = np.array([_hinge_sum(X, s, c, w, b) for b in bp])
    on = bp[vals <= vals.min() + 1e-9]
    return on.min(), on.max()


@pytest.mark.parametrize(
    "seed", [1, 2, 5, 6] + [pytest.param(sd, marks=SLOW) for sd in (0, 3, 4, 7)]
)
def test_svm_tolerance_box_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(7, 2))
    s = np.where(X[:, 0] + 0.3 * rng.normal(size=7) > 0, 1, -1)
    s[:2] = [1, -1]
    w0 = np.round(_svc(X[:4], s[:4], np.ones(4, int), 1.0)[0], 1)
    b0, tol = 0.0, 0.3

    def ok(c):
        fit = _svc(X, s, c, 1.0)
        if fit is None or np.abs(fit[0] - w0).max() > tol:
            return False
        lo, hi = _optimal_b_interval(X, s, c, fit[0])
        return lo <= b0 + tol and hi >= b0 - tol

    best = min((c.sum() for c in _multisets(7, 1) if ok(c)), default=None)
    ts = TeachingSet(learner="svm", C=1.0, tolerance=tol)
    if best is None:
        with pytest.raises(SolveError):
            ts.fit(X, s, w0, b0)
        return
    ts.fit(X, s, w0, b0)
    assert ts.program_.sos1  # complementarity as SOS1 pairs
    assert ts.n_examples_ == best
    assert ts.verify().passed


def _logistic_gradient(X, s, c, w, b, C):
    m = s * (X @ w + b)
    p = expit(-m)
    return np.r_[w - C * (c * s * p) @ X, -C * np.sum(c * s * p)]


@pytest.mark.parametrize("tol", [0.05, 0.3])
@pytest.mark.parametrize("seed", range(3))
def test_logistic_teaching_equals_brute_force(seed, tol):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(7, 2))
    s = np.where(X @ [1.0, 1.0] + 0.5 * rng.normal(size=7) > 0, 1, -1)
    s[:2] = [1, -1]
    c0 = np.array([1, 2, 1, 0, 0, 0, 0])
    m = LogisticRegression(C=1.0, tol=1e-12, solver="newton-cholesky").fit(
        np.repeat(X, c0, axis=0), np.repeat(s, c0)
    )
    w0 = np.round(m.coef_.ravel(), 2)
    b0 = round(float(m.intercept_[0]), 2)
    best = min(
        (
            c.sum()
            for c in _multisets(7, 2)
            if np.abs(_logistic_gradient(X, s, c, w0, b0, 1.0)).max() <= tol
            and np.unique(s[c > 0]).size == 2  # else no minimiser (b runs off)
        ),
        default=None,
    )
    ts = TeachingSet(learner="logistic", C=1.0, tolerance=tol, max_copies=2)
    if best is None:
        with pytest.raises(SolveError):
            ts.fit(X, s, w0, b0)
        return
    ts.fit(X, s, w0, b0)
    assert ts.n_examples_ == best
    chk = ts.verify()
    assert chk.residual <= tol + 1e-7
    assert chk.passed, chk


def test_logistic_labels_any_two_classes():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(6, 1))
    y = np.array(["no", "yes", "yes", "no", "yes", "no"])
    ts = TeachingSet(learner="logistic", tolerance=10.0).fit(X, y, [0.0], 0.0)
    Xs, ys = ts.teaching_set()
    assert set(ys) <= {"no", "yes"} and len(Xs) == ts.n_examples_


@pytest.mark.parametrize("m", [2, 3, 5, 7])
def test_threshold_teaching_dimension_is_two(m):
    H = threshold_hypotheses(np.arange(m, dtype=float))
    td = teaching_dimension(H)
    assert td["dimension"] == 2
    # brute force: each target's smallest subset on which no other threshold agrees with it
    for t in range(H.shape[0]):
        best = next(
            k
            for k in range(m + 1)
            for S in itertools.combinations(range(m), k)
            if all((H[h, list(S)] != H[t, list(S)]).any() for h in range(H.shape[0]) if h != t)
        )
        assert len(td["sets"][t]) == best
        assert td["results"][t].verified
    # the extreme thresholds need one example, the inner ones two
    assert len(td["sets"][0]) == len(td["sets"][m]) == 1


def test_svm_learner_teaches_a_threshold_with_two_examples():
    x = np.arange(7, dtype=float).reshape(-1, 1)
    s = np.where(x.ravel() >= 4, 1, -1)
    # the threshold 3.5 with margin points 3 and 4: w = 2, b = -7
    ts = TeachingSet(learner="svm", C=10.0).fit(x, s, target_coef=[2.0], target_intercept=-7.0)
    assert ts.n_examples_ == 2
    assert set(ts.support_) == {3, 4}
    assert ts.verify().passed


def test_svm_box_native_sos1_in_scip_agrees_with_big_m():
    pytest.importorskip("pyscipopt")
    pytest.importorskip("pyomo")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 2))
    s = np.where(X[:, 0] + 0.3 * rng.normal(size=7) > 0, 1, -1)
    s[:2] = [1, -1]
    w0 = np.round(_svc(X[:4], s[:4], np.ones(4, int), 1.0)[0], 1)
    big_m = TeachingSet(learner="svm", tolerance=0.3).fit(X, s, w0, 0.0)
    native = TeachingSet(learner="svm", tolerance=0.3, backend="pyomo", solver="scip")
    native.fit(X, s, w0, 0.0)
    assert "sos1_to_bigm" in big_m.result_.stats.get("reductions", [])
    assert "sos1_to_bigm" not in native.result_.stats.get("reductions", [])
    assert native.n_examples_ == big_m.n_examples_
    assert native.result_.status == "optimal" and native.verify().passed
