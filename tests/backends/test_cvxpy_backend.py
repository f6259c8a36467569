"""The cvxpy backend: vectorised lowering, dual signs, cone blocks, statuses, options, errors."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import optml as om
import optml.backends as ob
from optml.exceptions import SolverAccuracyWarning
from optml.program.certify import lagrangian_bound
from optml.program.settings import SolveSettings
from optml.solve import certify_program

cp = pytest.importorskip("cvxpy")
from optml.backends.cvxpy_backend import (  # noqa: E402
    CvxpyBackend,
    _solver_options,
    build,
)

BACKEND = CvxpyBackend()
SOLVERS = {r["solver"] for r in ob.available() if r["backend"] == "cvxpy"}


def needs(solver):
    return pytest.mark.skipif(solver not in SOLVERS, reason=f"{solver} not installed for cvxpy")


def raw_solve(canon, solver="clarabel", **options):
    return BACKEND.solve(canon, solver, SolveSettings(options=options))


# ----------------------------------------------------------------------------- lowering
def test_build_is_vectorised():
    """A program with a thousand rows and cones is a handful of cvxpy constraints."""
    rng = np.random.default_rng(0)
    p = om.Program("big")
    x = p.var("x", shape=300, lb=-1, ub=1)
    A = sp.random(1000, 300, density=0.05, random_state=0, format="csr")
    p.add(A @ x <= 1.0)
    p.add(A[:10] @ x == 0.0)
    p.add(om.sum(om.huber(x[:100] - rng.normal(size=100), 1.0)) <= 50)  # 100 SOC blocks
    p.add(om.norm2(x[100:]) <= 3)
    p.minimize(rng.normal(size=300) @ x)
    canon = p.canonical()
    assert len(canon.soc) > 100
    model = build(canon)
    assert len(model.problem.constraints) <= 6
    assert len(model.problem.variables()) == 1


def _random_point(canon, rng):
    lo = np.where(np.isfinite(canon.lb), canon.lb, -3)
    hi = np.where(np.isfinite(canon.ub), canon.ub, 3)
    return rng.uniform(lo, hi)


@pytest.mark.parametrize("kind", ["diagonal", "dense", "linear"])
def test_objective_matches_canonical_form(kind):
    rng = np.random.default_rng(1)
    p = om.Program("obj")
    w = p.var("w", shape=4)
    X = rng.normal(size=(3, 4))
    if kind == "diagonal":
        p.minimize(om.sum_squares(w - 1) * 2.5 + np.arange(4) @ w + 7)
    elif kind == "dense":
        M = rng.normal(size=(4, 4))
        p.minimize(om.quad_form(w, M @ M.T) + X[0] @ w - 3)
    else:
        p.minimize(X[1] @ w + 2)
    canon = p.canonical()
    model = build(canon)
    for _ in range(3):
        v = _random_point(canon, rng)
        model.x.value = v
        assert model.problem.objective.value == pytest.approx(canon.objective_value(v), rel=1e-10)


def test_constraints_match_canonical_rows():
    """At a random point cvxpy's violations are exactly the canonical rows' violations."""
    rng = np.random.default_rng(2)
    p = om.Program("rows")
    x = p.var("x", shape=5, lb=-2, ub=2)
    A = rng.normal(size=(6, 5))
    p.add(A[:2] @ x == 0.1)
    p.add(A[2:4] @ x >= -0.3)
    p.add(A[4:] @ x <= 0.2)
    p.minimize(om.sum(x))
    canon = p.canonical()
    model = build(canon)
    v = _random_point(canon, rng)
    model.x.value = v
    Ax = canon.A @ v
    expect = np.maximum(canon.row_lb - Ax, 0) + np.maximum(Ax - canon.row_ub, 0)
    got = np.zeros(canon.m)
    for c, rows, _, _ in model.row_cons:
        got[rows] += np.asarray(c.violation()).ravel()
    np.testing.assert_allclose(got, expect, atol=1e-12)


# ----------------------------------------------------------------------------- duals
def _sensitivity_lp():
    rng = np.random.default_rng(3)
    n = 6
    A = rng.normal(size=(5, n))
    x0 = rng.uniform(0.3, 0.7, n)
    ax = A @ x0
    p = om.Program("sens")
    x = p.var("x", shape=n, lb=0, ub=1)
    p.add(A[:1] @ x == ax[:1])
    p.add(A[1:3] @ x >= ax[1:3] - 0.05)
    p.add(A[3:] @ x <= ax[3:] + 0.05)
    p.minimize(rng.normal(size=n) @ x)
    return p


@needs("clarabel")
def test_row_duals_are_objective_sensitivities():
    """y_i = d(optimum)/d(active bound of row i): the sign convention of optml's certificate."""
    canon = _sensitivity_lp().canonical()
    base = raw_solve(canon)
    assert base.status == "optimal"
    y = base.y
    assert np.abs(y).max() > 1e-3  # something is active
    h = 1e-5
    for i in range(canon.m):
        lo, hi = canon.row_lb.copy(), canon.row_ub.copy()
        if y[i] > 1e-6:
            lo[i] += h
            hi[i] = max(hi[i], lo[i])
        elif y[i] < -1e-6:
            hi[i] += h
            lo[i] = min(lo[i], hi[i])
        else:
            continue
        pert = raw_solve(dataclasses.replace(canon, row_lb=lo, row_ub=hi))
        slope = (pert.objective - base.objective) / h
        assert slope == pytest.approx(y[i], rel=1e-3, abs=1e-4)


@pytest.mark.parametrize("solver", ["clarabel", "scs"])
def test_mixed_cones_against_handwritten_cvxpy(solver):
    """SOC blocks of several dimensions, exp blocks, and rows together; duals certify it."""
    if solver not in SOLVERS:
        pytest.skip(f"{solver} not installed")
    rng = np.random.default_rng(4)
    n, d = 25, 4
    X = rng.normal(size=(n, d))
    s = np.where(rng.normal(size=n) > 0, 1.0, -1.0)
    r = rng.normal(size=n)
    p = om.Program("mixed")
    w = p.var("w", shape=d)
    p.add(om.sum(om.huber(X @ w - r, 0.5)) <= 30)  # n SOC blocks of dimension 3
    p.add(om.norm2(w) <= 2)  # one SOC block of dimension d + 1
    p.add(w[0] >= -0.1)
    p.minimize(om.sum(om.logistic(-s * (X @ w))) + om.norm1(w))
    res = p.solve(backend="cvxpy", solver=solver)
    wc = cp.Variable(d)
    ref = cp.Problem(
        cp.Minimize(cp.sum(cp.logistic(-cp.multiply(s, X @ wc))) + cp.norm1(wc)),
        [cp.sum(cp.huber(X @ wc - r, 0.5)) <= 30, cp.norm2(wc) <= 2, wc[0] >= -0.1],
    )
    ref.solve(solver="CLARABEL")
    tol = 1e-5 if solver == "scs" else 1e-7
    assert res.status == "optimal" and res.verified, res.summary()
    assert res.objective == pytest.approx(ref.value, rel=tol)
    canon = p.canonical()
    raw = raw_solve(canon, solver)
    lag, kkt = lagrangian_bound(canon, raw.x, raw.y, raw.cone_duals)
    assert kkt <= 1e-5
    assert lag == pytest.approx(ref.value, rel=10 * tol)


@needs("clarabel")
def test_sdp_certificate_with_psd_duals():
    """Max-cut SDP relaxation: the PSD duals give a bound equal to the optimum."""
    rng = np.random.default_rng(5)
    k = 5
    W = np.triu(rng.uniform(0, 1, (k, k)), 1)
    W = W + W.T
    Lap = np.diag(W.sum(1)) - W
    p = om.Program("maxcut")
    Z = p.var("Z", shape=(k, k), psd=True)
    for i in range(k):
        p.add(Z[i, i] == 1)
    p.maximize(om.sum(Z * Lap) / 4)
    res = p.solve(backend="cvxpy", solver="clarabel")
    assert res.status == "optimal" and res.verified, res.summary()
    Zc = cp.Variable((k, k), PSD=True)
    ref = cp.Problem(cp.Maximize(cp.trace(Lap @ Zc) / 4), [cp.diag(Zc) == 1])
    ref.solve(solver="SCS", eps=1e-9)
    assert res.objective == pytest.approx(ref.value, rel=1e-6)
    canon = p.canonical()
    raw = raw_solve(canon)
    lag, kkt = lagrangian_bound(canon, raw.x, raw.y, raw.cone_duals)
    assert kkt <= 1e-6
    assert -lag == pytest.approx(ref.value, rel=1e-6)  # canonical form minimises -objective
    # without the PSD duals the certificate must fail, not silently pass
    lag0, kkt0 = lagrangian_bound(canon, raw.x, raw.y, [])
    assert kkt0 > 1e-3 or -lag0 > ref.value * (1 + 1e-4)


# ----------------------------------------------------------------------------- MIP paths
@needs("scip")
def test_sos1_through_cvxpy_matches_enumeration():
    rng = np.random.default_rng(6)
    c = rng.normal(size=5)
    u = rng.uniform(0.5, 2, 5)
    p = om.Program("sos")
    x = p.var("x", shape=5, lb=0, ub=u)
    p.add_sos1(x)
    p.maximize(c @ x)
    res = p.solve(backend="cvxpy", solver="scip")
    assert res.status == "optimal" and res.verified
    assert res.objective == pytest.approx(max(0.0, (c * u).max()), abs=1e-8)
    assert (np.abs(res.values["x"]) > 1e-7).sum() <= 1


@needs("scip")
def test_warm_start_is_accepted():
    rng = np.random.default_rng(7)
    v, wt = rng.uniform(1, 10, 8), rng.uniform(1, 5, 8)
    p = om.Program("knap")
    x = p.var("x", shape=8, domain="binary")
    p.add(wt @ x <= wt.sum() / 2)
    p.maximize(v @ x)
    res = p.solve(backend="cvxpy", solver="scip", warm_start={"x": np.zeros(8)})
    assert res.status == "optimal" and res.verified
    ref = p.solve(backend="highs")
    assert res.objective == pytest.approx(ref.objective, rel=1e-9)


# ----------------------------------------------------------------------------- options, errors
def test_solver_options_translated():
    def opts(solver, tl, gap, raw):
        return _solver_options(
            solver, tl, gap, False, SolveSettings.from_params(solver_options=raw)
        )

    o = opts("scip", 5.0, 0.01, {"threads": 1, "seed": 3})
    assert o["scip_params"]["limits/time"] == 5.0
    assert o["scip_params"]["limits/gap"] == 0.01
    assert o["scip_params"]["display/verblevel"] == 0
    assert o["scip_params"]["parallel/maxnthreads"] == 1
    assert o["scip_params"]["randomization/randomseedshift"] == 3
    o = opts("highs", 2.0, 0.1, {"threads": 2, "presolve": "off"})
    assert o == {"time_limit": 2.0, "mip_rel_gap": 0.1, "threads": 2, "presolve": "off"}
    assert opts("clarabel", 3.0, None, {})["time_limit"] == 3.0
    assert opts("scs", 3.0, None, {"eps_abs": 1e-3})["eps_abs"] == 1e-3
    assert opts("osqp", 3.0, None, {})["time_limit"] == 3.0
    assert opts("gurobi", 3.0, 0.2, {})["MIPGap"] == 0.2
    assert opts("cplex", 3.0, None, {})["cplex_params"]["timelimit"] == 3.0


def test_solver_error_becomes_status(monkeypatch):
    canon = _sensitivity_lp().canonical()

    def boom(self, *a, **k):
        raise cp.error.SolverError("Solver 'X' failed")

    from cvxpy.reductions.solvers.solving_chain import SolvingChain

    monkeypatch.setattr(SolvingChain, "solve_via_data", boom)
    raw = raw_solve(canon, "clarabel")
    assert raw.status == "error" and "failed" in raw.message and "licence" not in raw.message
    monkeypatch.setattr(cp, "installed_solvers", lambda: ["GUROBI"])
    raw = BACKEND.solve(canon, "gurobi", SolveSettings())
    assert raw.status == "error" and "size-limited gurobi licence" in raw.message


def test_solver_unseen_by_cvxpy_is_an_error(monkeypatch):
    monkeypatch.setattr(cp, "installed_solvers", lambda: ["CLARABEL"])
    raw = BACKEND.solve(_sensitivity_lp().canonical(), "scip", SolveSettings())
    assert raw.status == "error" and "does not see solver 'SCIP'" in raw.message


def test_scs_meets_optml_tolerance_by_default():
    if "scs" not in SOLVERS:
        pytest.skip("scs not installed")
    res = _sensitivity_lp().solve(backend="cvxpy", solver="scs")
    assert res.status == "optimal" and res.verified, res.summary()


# ----------------------------------------------------------------------------- SOLVERS.md trap
@needs("highs")
@needs("clarabel")
def test_svm_primal_through_cvxpy_highs_is_never_a_wrong_verified_optimum():
    """SOLVERS.md: cvxpy -> HiGHS once returned "optimal" with w = 0 on this program.

    Whatever HiGHS returns now, optml must not pass a wrong answer off as verified optimal.
    """
    rng = np.random.default_rng(0)
    n, d = 400, 50
    X = rng.normal(size=(n, d))
    s = np.sign(X @ rng.normal(size=d) + 0.5 * rng.normal(size=n))
    p = om.Program("svm")
    w = p.var("w", shape=d)
    b = p.var("b")
    p.minimize(0.5 * om.sum_squares(w) + om.sum(om.pos(1 - s * (X @ w + b))))
    ref = p.solve(backend="cvxpy", solver="clarabel")
    assert ref.status == "optimal" and ref.verified
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        res = p.solve(backend="cvxpy", solver="highs")
    if res.status == "optimal" and res.verified:
        assert res.objective == pytest.approx(ref.objective, rel=1e-6)
    else:
        assert res.status in ("optimal", "error", "time_limit", "infeasible")
        assert not res.verified
    # the wrong answer of SOLVERS.md (w = 0, b = 0, objective n) must fail the certificate
    canon = p.canonical()
    raw = raw_solve(canon, "clarabel")
    assert canon.n == d + 1 + n  # w, b, then one hinge slack per sample
    bad = np.zeros(canon.n)
    slack_cols = np.arange(d + 1, canon.n)
    bad[slack_cols] = 1.0  # pos(1 - 0) = 1 for every sample: feasible, objective n
    fake = dataclasses.replace(raw, x=bad, objective=float(n))
    with pytest.warns(SolverAccuracyWarning, match="fails optml's check"):
        out = certify_program(p, canon, fake, solver="highs", backend="cvxpy")
    assert out.max_violation <= 1e-9 and out.objective_check == pytest.approx(n)
    assert not out.verified and out.gap > 0.5


@pytest.mark.parametrize("solver", ["clarabel", "scs"])
def test_convex_time_limit_is_a_status(solver):
    """A convex solve cut short returns status time_limit, its point, and no false optimum."""
    if solver not in SOLVERS:
        pytest.skip(f"{solver} not installed")
    rng = np.random.default_rng(8)
    n, d = 3000, 60
    X = rng.normal(size=(n, d))
    s = np.sign(X @ rng.normal(size=d) + rng.normal(size=n))
    p = om.Program("svm_big")
    w = p.var("w", shape=d)
    b = p.var("b")
    p.minimize(0.5 * om.sum_squares(w) + om.sum(om.pos(1 - s * (X @ w + b))))
    p.canonical()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = p.solve(backend="cvxpy", solver=solver, time_limit=0.05)
    assert res.status == "time_limit", res.summary()
    assert res.solve_time <= 1.0
    # an iterate is never passed off as optimal; its objective is the point's true value
    assert res.objective == pytest.approx(res.objective_check, rel=1e-12)
    if res.verified:  # verified here means: a feasible point whose value is right
        assert res.max_violation <= 1e-6


@pytest.mark.parametrize("solver", ["scip", "highs"])
def test_mip_time_limit_without_incumbent(solver):
    """No feasible point by the limit: status time_limit, no values (never a garbage point)."""
    if solver not in SOLVERS:
        pytest.skip(f"{solver} not installed")
    rng = np.random.default_rng(5)
    A = rng.integers(0, 100, size=(5, 50)).astype(float)
    p = om.Program("market_split_eq")
    x = p.var("x", shape=50, domain="binary")
    p.add(A @ x == np.floor(A.sum(axis=1) / 2))
    p.minimize(om.sum(x))
    res = p.solve(backend="cvxpy", solver=solver, time_limit=0.5)
    assert res.status == "time_limit", res.summary()
    assert not res.values and "without a feasible point" in res.message


@pytest.mark.parametrize("solver", ["clarabel", "scs", "osqp"])
def test_R17_conic_solvers_get_the_time_left_after_compiling(solver, monkeypatch):
    """Each solver's own time limit is the time left once cvxpy has compiled the program, and
    is recorded in ``stats["solver_options"]`` by the solver's name."""
    if solver not in SOLVERS:
        pytest.skip(f"{solver} not installed")
    import time

    from optml.backends.cvxpy_backend import _TIME_OPTION

    original = cp.Problem.get_problem_data

    def slow(self, *a, **k):
        time.sleep(0.5)
        return original(self, *a, **k)

    monkeypatch.setattr(cp.Problem, "get_problem_data", slow)
    res = _sensitivity_lp().solve(backend="cvxpy", solver=solver, time_limit=5)
    given = res.stats["solver_options"][_TIME_OPTION[solver]]
    assert res.status == "optimal" and res.raw["process"] == "process"
    assert 0 < given <= 4.5
