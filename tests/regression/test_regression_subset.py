"""Best subset and least trimmed squares against brute-force enumeration; paths; time limits;
the same estimator through cvxpy and Pyomo."""

import itertools

import numpy as np
import pytest
from scipy.optimize import lsq_linear

from optml.regression import BestSubsetRegression, LeastTrimmedSquares, best_subset_path

pytest.importorskip("pyscipopt", reason="best subset / LTS are MIQPs and need SCIP")

TIGHT = 1e-9  # mip_gap for the enumeration tests


def _data(n=25, p=6, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1] += 0.6 * X[:, 0]  # some correlation
    beta = np.zeros(p)
    beta[[0, 2, 3]] = [1.5, -1.0, 0.8]
    y = X @ beta + noise * rng.standard_normal(n) + 0.5
    return X, y


def brute_subset(X, y, k, alpha=0.0, lb=None, ub=None, groups=None, pairs=(), fit_intercept=True):
    """min RSS + alpha ||b||^2 over supports of size <= k (closed under groups, pairs
    excluded), bounded least squares on each: the reference the MIQP must reproduce."""
    n, p = X.shape
    Xc = X - X.mean(0) if fit_intercept else X
    yc = y - y.mean() if fit_intercept else y
    lo = np.full(p, -np.inf) if lb is None else np.broadcast_to(lb, (p,))
    hi = np.full(p, np.inf) if ub is None else np.broadcast_to(ub, (p,))
    units = [list(g) for g in (groups or [])]
    grouped = {j for g in units for j in g}
    units += [[j] for j in range(p) if j not in grouped]
    best = (np.inf, None)
    for r in range(len(units) + 1):
        for combo in itertools.combinations(units, r):
            S = sorted(j for u in combo for j in u)
            if len(S) > k or any(i in S and j in S for i, j in pairs):
                continue
            if not S:
                f = yc @ yc
                b = np.zeros(0)
            else:
                A = np.vstack([Xc[:, S], np.sqrt(alpha) * np.eye(len(S))])
                rhs = np.concatenate([yc, np.zeros(len(S))])
                b = lsq_linear(A, rhs, bounds=(lo[S], hi[S]), method="bvls", tol=1e-13).x
                f = ((yc - Xc[:, S] @ b) ** 2).sum() + alpha * b @ b
            if f < best[0]:
                best = (f, S)
    return best


CASES = [
    ("bigm", 0.0),
    ("sos1", 0.0),
    ("bigm", 0.5),
    ("sos1", 0.5),
    ("perspective", 0.5),
    ("perspective", 0.0),
]


@pytest.mark.parametrize("formulation,alpha", CASES)
@pytest.mark.parametrize("seed,k", [(0, 2), (1, 3)])
def test_best_subset_equals_enumeration(formulation, alpha, seed, k):
    X, y = _data(seed=seed)
    f_ref, S_ref = brute_subset(X, y, k, alpha)
    m = BestSubsetRegression(k=k, alpha=alpha, formulation=formulation, mip_gap=TIGHT).fit(X, y)
    assert m.result_.status == "optimal"
    assert m.objective_ == pytest.approx(f_ref, rel=1e-6)
    assert sorted(np.flatnonzero(m.support_)) == S_ref
    assert m.bigm_source_ == "ellipsoid"
    # the program's objective is RSS + alpha ||b||^2 itself (no hidden offset, also for the
    # shifted perspective form), and the certificate applies to the returned model
    assert m.result_.objective == pytest.approx(m.objective_, rel=1e-6)
    assert m.result_.bound <= m.objective_ * (1 + 1e-9) and m.result_.gap <= 1e-6
    # the reported objective is the objective of the returned model on the raw data
    r = y - X @ m.coef_ - m.intercept_
    assert (r @ r + alpha * m.coef_ @ m.coef_) == pytest.approx(m.objective_, rel=1e-9)


def test_best_subset_without_warm_start_or_intercept():
    X, y = _data(seed=2)
    f_ref, S_ref = brute_subset(X, y, 2, fit_intercept=False)
    m = BestSubsetRegression(k=2, heuristic="none", fit_intercept=False, mip_gap=TIGHT).fit(X, y)
    assert m.objective_ == pytest.approx(f_ref, rel=1e-6)
    assert m.intercept_ == 0.0 and m.warm_start_method_ == "zero"


def test_sos1_time_limit_holds_on_many_features():
    """SCIP's SOS1 bound-tightening presolve ignores the time limit (17 s past a 10 s limit at
    p = 500); the Pyomo/SCIP route switches it off, so the solve stops near the limit."""
    import time

    from optml.backends import available

    if not any(r["backend"] == "pyomo" and r["solver"] == "scip" for r in available()):
        pytest.skip("SCIP through Pyomo is not installed")
    from optml.data import make_sparse_regression

    X, y, _ = make_sparse_regression(n=1000, p=500, k=10, rho=0.35, snr=3.0, random_state=0)
    t0 = time.perf_counter()
    m = BestSubsetRegression(k=10, formulation="sos1", time_limit=2.0).fit(X, y)
    assert m.result_.solve_time <= 2.0 + 1.5
    assert time.perf_counter() - t0 <= 2.0 + 1.5 + m.heuristic_time_ + 2.0
    # one clock: the heuristics' time counts, the solver gets what is left (with little left
    # it may return no point of its own: the heuristic's point, still a time_limit result)
    assert m.result_.status in ("time_limit", "optimal") and m.result_.has_solution
    assert m.objective_ <= m.warm_start_objective_ * (1 + 1e-9)
    assert m.support_.sum() <= 10


@pytest.mark.parametrize("formulation", ["bigm", "sos1"])
def test_side_constraints_equal_enumeration(formulation):
    X, y = _data(n=30, p=6, seed=3)
    X[:, 4] = X[:, 0] + 0.05 * np.random.default_rng(9).standard_normal(30)  # |corr| ~ 1
    groups = [[2, 3]]
    C = np.corrcoef(X, rowvar=False)
    pairs = [(i, j) for i in range(6) for j in range(i + 1, 6) if abs(C[i, j]) > 0.9]
    assert (0, 4) in pairs
    lb = np.full(6, -np.inf)
    lb[5] = 0.0  # a sign constraint
    ub = np.full(6, 1.2)  # and bounds
    f_ref, S_ref = brute_subset(X, y, 3, lb=lb, ub=ub, groups=groups, pairs=pairs)
    m = BestSubsetRegression(
        k=3,
        formulation=formulation,
        groups=groups,
        max_correlation=0.9,
        coef_bounds=(lb, ub),
        mip_gap=TIGHT,
    ).fit(X, y)
    assert m.objective_ == pytest.approx(f_ref, rel=1e-6)
    S = set(np.flatnonzero(m.support_))
    assert not {0, 4} <= S and ({2, 3} <= S or not S & {2, 3})
    assert m.coef_.max() <= 1.2 + 1e-7 and m.coef_[5] >= -1e-9


def test_best_subset_path_equals_enumeration_for_each_k():
    X, y = _data(seed=4)
    path = best_subset_path(X, y, k_max=4, mip_gap=TIGHT)
    for k, f in zip(path["k"], path["objectives"], strict=True):
        assert f == pytest.approx(brute_subset(X, y, int(k))[0], rel=1e-6)
    assert np.all(np.diff(path["objectives"]) <= 1e-9)  # more features never hurt
    assert path["coefs"].shape == (4, X.shape[1])
    assert all(s == "optimal" for s in path["statuses"])


def test_time_limit_returns_incumbent_and_gap():
    from optml.data import make_sparse_regression

    X, y, _ = make_sparse_regression(
        n=120, p=100, k=12, rho=0.9, snr=0.5, design="equicorrelated", random_state=1
    )
    m = BestSubsetRegression(k=12, formulation="bigm", time_limit=3.0).fit(X, y)
    assert m.result_.status == "time_limit"
    assert np.isfinite(m.result_.gap) and m.result_.gap > 1e-4
    assert m.support_.sum() <= 12 and np.isfinite(m.objective_)
    assert m.objective_ <= m.warm_start_objective_ * (1 + 1e-9)
    assert np.isfinite(m.result_.gap)
    # the returned model is at least the incumbent, within the certified bound
    assert m.result_.bound <= m.objective_ * (1 + 1e-9)


@pytest.mark.parametrize("formulation", ["bigm", "sos1"])
def test_lts_equals_enumeration(formulation):
    rng = np.random.default_rng(5)
    n, p = 11, 2
    X = rng.standard_normal((n, p))
    y = X @ np.array([1.0, -1.0]) + 0.2 * rng.standard_normal(n) + 3.0
    y[[0, 4]] += 8.0
    m = LeastTrimmedSquares(formulation=formulation, mip_gap=TIGHT).fit(X, y)
    h = m.h_
    assert h == (n + p + 1 + 1) // 2
    A = np.column_stack([X, np.ones(n)])
    best = np.inf
    for H in itertools.combinations(range(n), h):
        H = list(H)
        th = np.linalg.lstsq(A[H], y[H], rcond=None)[0]
        best = min(best, float(((y[H] - A[H] @ th) ** 2).sum()))
    assert m.result_.status == "optimal"
    assert m.objective_ == pytest.approx(best, rel=1e-6, abs=1e-9)
    assert not m.inlier_mask_[[0, 4]].any()
    assert m.inlier_mask_.sum() == h


def test_same_coefficients_through_cvxpy_and_pyomo():
    from optml.backends import available

    have = {(r["backend"], r["solver"]) for r in available()}
    X, y = _data(seed=6)
    fits = {}
    for backend in ("cvxpy", "pyomo"):
        if (backend, "scip") not in have:
            pytest.skip(f"backend {backend} with SCIP is not installed")
        fits[backend] = BestSubsetRegression(
            k=3, backend=backend, solver="scip", mip_gap=TIGHT
        ).fit(X, y)
    np.testing.assert_allclose(fits["cvxpy"].coef_, fits["pyomo"].coef_, atol=1e-6)
    assert fits["cvxpy"].result_.backend == "cvxpy" and fits["pyomo"].result_.backend == "pyomo"
