"""The special best-subset solvers ("l0-bnb", "best-subset-oa") against brute-force enumeration
of every support on tiny random instances (alpha = 0 and alpha > 0, correlated columns, signs,
side constraints); time limits; registry listing and selection by name."""

import itertools
import time

import numpy as np
import pytest
from scipy.optimize import lsq_linear

from optml.backends import available
from optml.formulations.regression import gram_data
from optml.formulations.subset import BestSubsetProblem
from optml.regression import BestSubsetRegression, best_subset_path
from optml.solve import SolveSettings, solve

SPECIAL = ["l0-bnb", "best-subset-oa"]
TIGHT = 1e-9


def _data(n=30, p=8, seed=0, rho=0.0, noise=1.0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.sqrt(1 - rho) * Z + np.sqrt(rho) * rng.standard_normal((n, 1))  # equicorrelated
    beta = np.zeros(p)
    beta[rng.choice(p, 3, replace=False)] = rng.choice([-1.5, -0.7, 0.8, 1.2], 3)
    y = X @ beta + noise * rng.standard_normal(n) + 0.3
    return X, y


def brute(X, y, k, alpha, lb=None, ub=None, groups=None, pairs=()):
    """min over supports |S| <= k (closed under groups, pairs excluded) of the bounded ridge
    least squares on S, centred: every support enumerated."""
    n, p = X.shape
    Xc, yc = X - X.mean(0), y - y.mean()
    lo = np.full(p, -np.inf) if lb is None else np.broadcast_to(lb, (p,))
    hi = np.full(p, np.inf) if ub is None else np.broadcast_to(ub, (p,))
    units = [list(g) for g in (groups or [])]
    grouped = {j for g in units for j in g}
    units += [[j] for j in range(p) if j not in grouped]
    best = (float(yc @ yc), [])
    for r in range(1, len(units) + 1):
        for combo in itertools.combinations(units, r):
            S = sorted(j for u in combo for j in u)
            if len(S) > k or any(i in S and j in S for i, j in pairs):
                continue
            A = np.vstack([Xc[:, S], np.sqrt(alpha) * np.eye(len(S))])
            rhs = np.concatenate([yc, np.zeros(len(S))])
            b = lsq_linear(A, rhs, bounds=(lo[S], hi[S]), method="bvls", tol=1e-13).x
            f = float(((yc - Xc[:, S] @ b) ** 2).sum() + alpha * b @ b)
            if f < best[0] - 1e-12 * abs(best[0]):
                best = (f, S)
    return best


@pytest.mark.parametrize("solver", SPECIAL)
@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize("seed,k,rho", [(0, 2, 0.0), (1, 3, 0.6), (2, 4, 0.85), (3, 3, 0.3)])
def test_special_solver_equals_enumeration(solver, alpha, seed, k, rho):
    X, y = _data(p=9 if seed % 2 else 8, seed=seed, rho=rho)
    f_ref, S_ref = brute(X, y, k, alpha)
    m = BestSubsetRegression(k=k, alpha=alpha, solver=solver, mip_gap=TIGHT).fit(X, y)
    r = m.result_
    assert r.backend == "optml" and r.solver == solver
    assert r.status == "optimal" and r.verified
    assert m.objective_ == pytest.approx(f_ref, rel=1e-7)
    assert r.objective == pytest.approx(f_ref, rel=1e-7)
    assert r.bound <= f_ref * (1 + 1e-7) and r.gap <= 1e-6
    assert sorted(np.flatnonzero(m.support_)) == S_ref
    res = y - X @ m.coef_ - m.intercept_
    assert res @ res + alpha * m.coef_ @ m.coef_ == pytest.approx(m.objective_, rel=1e-9)


@pytest.mark.parametrize("solver", SPECIAL)
def test_special_solver_with_signs_equals_enumeration(solver):
    X, y = _data(p=8, seed=5, rho=0.5)
    f_ref, S_ref = brute(X, y, 3, 0.2, lb=0.0)
    m = BestSubsetRegression(k=3, alpha=0.2, positive=True, solver=solver, mip_gap=TIGHT)
    m.fit(X, y)
    assert m.result_.status == "optimal"
    assert m.objective_ == pytest.approx(f_ref, rel=1e-7)
    assert (m.coef_ >= 0).all()


def test_oa_side_constraints_equal_enumeration():
    X, y = _data(n=30, p=7, seed=3)
    X[:, 4] = X[:, 0] + 0.05 * np.random.default_rng(9).standard_normal(30)
    groups = [[1, 2]]
    m = BestSubsetRegression(k=3, alpha=0.1, groups=groups, max_correlation=0.9, mip_gap=TIGHT)
    m.fit(X, y)
    assert m.method_ == "oa"  # the default with side constraints
    Xc = X - X.mean(0)
    C = np.corrcoef(Xc.T)
    pairs = [(i, j) for i in range(7) for j in range(i + 1, 7) if abs(C[i, j]) > 0.9]
    f_ref, S_ref = brute(X, y, 3, 0.1, groups=groups, pairs=pairs)
    assert m.result_.status == "optimal"
    assert m.objective_ == pytest.approx(f_ref, rel=1e-7)
    assert sorted(np.flatnonzero(m.support_)) == S_ref


def test_default_method_and_fallback():
    X, y = _data(p=8, seed=4)
    m = BestSubsetRegression(k=3).fit(X, y)
    assert m.method_ == "bnb" and m.result_.solver == "l0-bnb"
    assert m.bigm_ is None and m.bigm_source_ == "none"
    # more features than samples and alpha = 0: no ridge part, the special methods do not
    # apply; "auto" answers with the MIQP on the same clock, a named one says why
    pytest.importorskip("pyscipopt")
    rng = np.random.default_rng(0)
    Xw = rng.standard_normal((8, 12))
    yw = Xw[:, 0] - Xw[:, 3] + 0.1 * rng.standard_normal(8)
    m = BestSubsetRegression(k=2).fit(Xw, yw)
    assert m.method_ == "mip" and m.result_.status == "optimal"
    f_ref, _ = brute(Xw, yw, 2, 0.0)
    assert m.objective_ == pytest.approx(f_ref, rel=1e-6)
    from optml.exceptions import SolveError

    with pytest.raises(SolveError, match="alpha > 0"):
        BestSubsetRegression(k=2, method="bnb").fit(Xw, yw)


def test_methods_agree_and_mip_is_selectable():
    pytest.importorskip("pyscipopt")
    X, y = _data(p=9, seed=6, rho=0.4)
    objs = {}
    for method in ("bnb", "oa", "mip"):
        m = BestSubsetRegression(k=3, alpha=0.3, method=method, mip_gap=TIGHT).fit(X, y)
        assert m.method_ == method and m.result_.status == "optimal"
        objs[method] = m.objective_
    assert objs["bnb"] == pytest.approx(objs["mip"], rel=1e-7)
    assert objs["oa"] == pytest.approx(objs["mip"], rel=1e-7)


@pytest.mark.parametrize("master", [("highs", "highs"), ("pyomo", "scip")])
def test_oa_master_routes(master):
    backend, solver = master
    if not any(r["backend"] == backend and r["solver"] == solver for r in available()):
        pytest.skip(f"{backend}/{solver} not installed")
    X, y = _data(n=40, p=10, seed=7, rho=0.7)
    f_ref, S_ref = brute(X, y, 4, 0.0)
    problem = BestSubsetProblem(gram_data(X, y, True), 4, alpha=0.0)
    problem.sub_backend, problem.sub_solver = backend, solver
    r = solve(problem, solver="best-subset-oa", settings=SolveSettings(mip_gap=TIGHT))
    assert r.status == "optimal" and r.objective == pytest.approx(f_ref, rel=1e-7)
    assert sorted(np.flatnonzero(r.values["support"] > 0.5)) == S_ref


def test_build_problem_solved_by_each_solver():
    X, y = _data(p=8, seed=9, rho=0.5)
    problem = BestSubsetRegression(k=3, alpha=0.2).build_problem(X, y)
    assert problem.kind == "best_subset" and problem.objective(problem.start) >= 0
    f_ref = brute(X, y, 3, 0.2)[0]
    for name in SPECIAL:
        r = solve(problem, solver=name, settings=SolveSettings(mip_gap=TIGHT))
        assert r.status == "optimal" and r.objective == pytest.approx(f_ref, rel=1e-7)
        # the answer checked against the MIQP general solvers receive: same objective
        values = problem.start_values(r.values["coef"])
        assert problem.program.evaluate(values)[0] == pytest.approx(r.objective, rel=1e-9)


def test_listed_and_selectable_by_name():
    rows = {r["solver"]: r for r in available(refresh=True)}
    for name in SPECIAL:
        assert name in rows and rows[name]["backend"] == "optml"
        assert "best_subset" in rows[name]["kinds"]
    X, y = _data()
    for name in SPECIAL:
        problem = BestSubsetProblem(gram_data(X, y, True), 2, alpha=0.1)
        assert solve(problem, solver=name).solver == name


@pytest.mark.parametrize("solver", SPECIAL)
def test_time_limit_holds(solver):
    from optml.data import make_sparse_regression

    # p = n: no perspective shift, a weak relaxation: the search runs into the limit
    X, y, _ = make_sparse_regression(n=300, p=300, k=10, rho=0.5, snr=1.0, random_state=0)
    limit = 2.0
    t0 = time.perf_counter()
    m = BestSubsetRegression(k=10, alpha=0.3, solver=solver, time_limit=limit).fit(X, y)
    elapsed = time.perf_counter() - t0
    assert elapsed <= limit * 1.1 + 1.0
    r = m.result_
    assert r.status in ("time_limit", "optimal") and r.has_solution
    assert r.bound <= r.objective * (1 + 1e-9)
    assert m.support_.sum() <= 10


def test_path_uses_the_special_solver():
    X, y = _data(p=8, seed=8)
    out = best_subset_path(X, y, k_max=4, alpha=0.1, mip_gap=TIGHT)
    for k, f in zip(out["k"], out["objectives"], strict=True):
        assert f == pytest.approx(brute(X, y, int(k), 0.1)[0], rel=1e-7)
    assert all(m.method_ == "bnb" for m in out["models"])
