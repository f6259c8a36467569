"""The Pyomo backend against the HiGHS backend, brute-force enumeration and closed forms."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import optml as om
from optml.exceptions import SolverNotAvailableError

pytest.importorskip("pyomo")

HAS_SCIP = True
try:
    import pyscipopt  # noqa: F401
except ImportError:  # pragma: no cover
    HAS_SCIP = False

SOLVERS = [
    "highs",
    pytest.param("scip", marks=pytest.mark.skipif(not HAS_SCIP, reason="pyscipopt missing")),
]
needs_scip = pytest.mark.skipif(not HAS_SCIP, reason="pyscipopt (SCIP) is not installed")


def _lp(seed, maximize=False):
    """A feasible bounded LP with ranged, equality, free and negative-bounded columns."""
    rng = np.random.default_rng(seed)
    n, m = 8, 6
    p = om.Program("lp")
    x = p.var("x", n, lb=-2.0, ub=3.0)
    f = p.var("f", 2)  # free
    g = p.var("g", 2, lb=None, ub=-0.5)  # only an upper bound
    A = rng.normal(size=(m, n))
    x0 = rng.uniform(-1, 1, n)
    r = A @ x0
    p.add(A @ x <= r + 1.0, name="upper")
    p.add(A[:2] @ x >= r[:2] - 1.0, name="lower")  # together with "upper": ranged rows
    p.add(f - x[:2] == 0.25, name="link")
    p.add(g >= -4.0 + 0.1 * x[2:4], name="gbox")
    c = rng.normal(size=n)
    obj = c @ x + np.array([0.3, -0.2]) @ f + np.array([1.0, 2.0]) @ g + 7.5
    (p.maximize(-obj) if maximize else p.minimize(obj))
    return p


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_lp_agrees_with_highs_backend(solver, maximize, seed):
    p = _lp(seed, maximize)
    ref = p.solve(backend="highs")
    res = p.solve(backend="pyomo", solver=solver)
    assert ref.status == res.status == "optimal"
    assert res.backend == "pyomo" and res.solver == solver
    assert res.objective == pytest.approx(ref.objective, rel=1e-7, abs=1e-7)
    assert res.objective_check == pytest.approx(res.objective, rel=1e-7, abs=1e-7)
    assert res.max_violation <= 1e-6
    # the bound certifies the optimum: duals (HiGHS) or SCIP's dual bound
    assert res.bound == pytest.approx(ref.objective, rel=1e-6, abs=1e-6)
    assert res.verified


def test_lp_duals_certify_through_lagrangian():
    """HiGHS duals through Pyomo are in optml's sign convention: the Lagrangian bound is tight."""
    p = _lp(3)
    res = p.solve(backend="pyomo", solver="highs")
    y = res.raw["results"].solution_loader.get_duals()
    assert len(y) > 0
    assert res.kkt_residual <= 1e-7
    assert res.gap <= 1e-7


def _qp(seed):
    rng = np.random.default_rng(seed)
    n, d = 30, 5
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    p = om.Program("qp")
    b = p.var("b", d, lb=-0.5, ub=0.5)
    p.add(om.sum(b) <= 0.3, name="budget")
    p.minimize(om.sum_squares(y - X @ b) / (2 * n) + 0.1 * b[0])
    p._test_X = X
    return p


@pytest.mark.parametrize("solver", SOLVERS)
def test_qp_agrees_with_highs_backend(solver):
    p = _qp(0)
    ref = p.solve(backend="highs")
    res = p.solve(backend="pyomo", solver=solver)
    assert res.status == ref.status == "optimal"
    # both solvers stop at feasibility / optimality tolerances of about 1e-7 absolute
    assert res.objective == pytest.approx(ref.objective, rel=1e-6, abs=1e-6)
    # strong convexity: f(b) - f* >= lam_min/2 ||b - b*||^2 bounds how far apart the points are
    X, n = p._test_X, p._test_X.shape[0]
    lam = np.linalg.eigvalsh(X.T @ X / n).min()
    excess = abs(res.objective_check - ref.objective_check) + 1e-7
    assert np.sum((res.values["b"] - ref.values["b"]) ** 2) <= 2 * excess / lam
    assert res.bound <= res.objective + 1e-9
    assert res.gap <= 1e-4
    assert res.verified


def _knapsack(seed):
    rng = np.random.default_rng(seed)
    n = 8
    w, v = rng.integers(1, 10, n).astype(float), rng.integers(1, 10, n).astype(float)
    cap = float(w.sum() // 2)
    p = om.Program("knap")
    x = p.var("x", n, domain="binary")
    k = p.var("k", lb=0, ub=3, domain="integer")
    p.add(w @ x + 2 * k <= cap, name="cap")
    p.maximize(v @ x + 1.5 * k - 0.25)
    best = max(
        v @ np.array(z) + 1.5 * kk - 0.25
        for z in itertools.product([0, 1], repeat=n)
        for kk in range(4)
        if w @ np.array(z) + 2 * kk <= cap
    )
    return p, best


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_milp_equals_enumeration(solver, seed):
    p, best = _knapsack(seed)
    res = p.solve(backend="pyomo", solver=solver, mip_gap=0.0)
    ref = p.solve(backend="highs", mip_gap=0.0)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, abs=1e-6)
    assert ref.objective == pytest.approx(best, abs=1e-6)
    assert res.bound == pytest.approx(best, abs=1e-4 * max(1, abs(best)))
    assert res.verified


def _best_subset(X, y, k, M):
    n, d = X.shape
    p = om.Program("best_subset")
    b = p.var("b", d, lb=-M, ub=M)
    z = p.var("z", d, domain="binary")
    p.add(b <= M * z, name="on")
    p.add(b >= -M * z, name="on2")
    p.add(om.sum(z) <= k, name="card")
    p.minimize(om.sum_squares(y - X @ b))
    return p


def _enumerate_subsets(X, y, k):
    best, coefs = np.inf, None
    d = X.shape[1]
    for r in range(k + 1):
        for S in itertools.combinations(range(d), r):
            bS = np.zeros(d)
            if S:
                bS[list(S)] = np.linalg.lstsq(X[:, S], y, rcond=None)[0]
            rss = float(np.sum((y - X @ bS) ** 2))
            if rss < best:
                best, coefs = rss, bS
    return best, coefs


@needs_scip
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_miqp_best_subset_equals_enumeration(seed):
    rng = np.random.default_rng(seed)
    n, d, k = 25, 6, 2
    X = rng.normal(size=(n, d))
    y = X[:, :3] @ np.array([2.0, -1.0, 0.5]) + 0.3 * rng.normal(size=n)
    best, coefs = _enumerate_subsets(X, y, k)
    # big-M above every least-squares coefficient of every support of size <= k
    M = 4.0 * max(
        np.abs(np.linalg.lstsq(X[:, S], y, rcond=None)[0]).max()
        for r in range(1, k + 1)
        for S in itertools.combinations(range(d), r)
    )
    p = _best_subset(X, y, k, M)
    assert p.problem_class == "MIQP"
    res = p.solve(backend="pyomo", solver="scip", mip_gap=1e-8)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-6)
    assert res.bound == pytest.approx(best, rel=1e-5)
    np.testing.assert_allclose(res.values["b"], coefs, atol=1e-4)
    assert res.verified
    if seed == 0:  # auto routes MIQP to SCIP through the registry (pyomo first in the order)
        auto = p.solve(mip_gap=1e-8)
        assert (auto.backend, auto.solver) == ("pyomo", "scip")
        assert auto.objective == pytest.approx(best, rel=1e-6)


@needs_scip
def test_sos1_native_on_scip_equals_enumeration():
    rng = np.random.default_rng(4)
    d = 6
    c = rng.normal(size=d)
    a = rng.uniform(0.5, 2, d)
    p = om.Program("sos")
    x = p.var("x", d, lb=0.0, ub=2.0)
    p.add(a @ x <= 3.0, name="cap")
    p.add_sos1(x)
    p.minimize(c @ x + 0.5 * om.sum_squares(x))
    res = p.solve(backend="pyomo", solver="scip", mip_gap=1e-9)
    model = res.raw["model"]
    assert hasattr(model, "sos1") and len(model.sos1) == 1  # native, no big-M binaries
    assert not np.any(p.canonical().integer)
    # enumerate: one nonzero j, minimise c_j x + x^2/2 on [0, min(2, 3/a_j)]
    best = 0.0
    for j in range(d):
        xj = np.clip(-c[j], 0.0, min(2.0, 3.0 / a[j]))
        best = min(best, c[j] * xj + 0.5 * xj**2)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, abs=1e-6)
    assert np.count_nonzero(np.abs(res.values["x"]) > 1e-7) <= 1


@pytest.mark.parametrize("solver", SOLVERS)
def test_sos1_linear_equals_enumeration(solver):
    """SOS1 native on SCIP, big-M binaries from the bounds on HiGHS: same optimum."""
    rng = np.random.default_rng(6)
    d = 6
    c = rng.normal(size=d) - 0.5
    a = rng.uniform(0.5, 2, d)
    p = om.Program("sos_lp")
    x = p.var("x", d, lb=0.0, ub=2.0)
    p.add(a @ x <= 3.0, name="cap")
    p.add_sos1(x)
    p.minimize(c @ x)
    best = min(0.0, min(c[j] * min(2.0, 3.0 / a[j]) for j in range(d)))
    res = p.solve(backend="pyomo", solver=solver, mip_gap=0.0)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, abs=1e-6)
    assert np.count_nonzero(np.abs(res.values["x"]) > 1e-7) <= 1


@needs_scip
def test_socp_on_scip():
    rng = np.random.default_rng(5)
    c = rng.normal(size=4)
    p = om.Program("socp")
    x = p.var("x", 4)
    p.add(om.norm2(x - 1.0) <= 2.0, name="ball")
    p.minimize(c @ x)
    res = p.solve(backend="pyomo", solver="scip")
    best = c.sum() - 2.0 * np.linalg.norm(c)  # min over the ball centred at 1, radius 2
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, abs=1e-5)
    assert res.max_violation <= 1e-5
    with pytest.raises(SolverNotAvailableError, match="cannot solve SOCP"):
        p.solve(backend="pyomo", solver="highs")


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("integer", [False, True])
def test_infeasible_is_a_status(solver, integer):
    p = om.Program("inf")
    x = p.var("x", 3, lb=0, ub=1, domain="integer" if integer else "continuous")
    p.add(om.sum(x) >= 5, name="too_much")
    p.minimize(om.sum(x))
    res = p.solve(backend="pyomo", solver=solver)
    assert res.status == "infeasible"
    assert not res.values


def test_unbounded_is_a_status():
    p = om.Program("unb")
    x = p.var("x", 2, lb=0)
    p.add(x[0] - x[1] <= 1)
    p.maximize(x[0] + x[1])
    res = p.solve(backend="pyomo", solver="highs")
    assert res.status in ("unbounded", "infeasible")  # HiGHS may say "infeasible or unbounded"
    assert res.status == p.solve(backend="highs").status


def test_refused_before_work():
    p = om.Program("miqp")
    x = p.var("x", 3, domain="binary")
    p.minimize(om.sum_squares(x - 0.3))
    with pytest.raises(SolverNotAvailableError, match="cannot solve MIQP"):
        p.solve(backend="pyomo", solver="highs")
    q = om.Program("exp")
    w = p.var  # noqa: F841
    v = q.var("v", 3)
    q.minimize(om.sum(om.logistic(v)))
    with pytest.raises(SolverNotAvailableError):
        q.solve(backend="pyomo")
    with pytest.raises(SolverNotAvailableError, match="unknown|does not know"):
        p.solve(backend="pyomo", solver="nosuchsolver")


@needs_scip
def test_warm_start_scip_milp():
    p, best = _knapsack(7)
    x0 = {"x": np.zeros(8), "k": np.array(0.0)}
    res = p.solve(backend="pyomo", solver="scip", warm_start=x0, mip_gap=0.0)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, abs=1e-6)
    res = p.solve(backend="pyomo", solver="highs", warm_start=x0, mip_gap=0.0)
    assert res.objective == pytest.approx(best, abs=1e-6)


_TIME_LIMIT_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np, optml as om
    verbose = sys.argv[1] == "1"
    rng = np.random.default_rng(0)
    n, d, k = 300, 40, 10
    X = rng.normal(size=(n, d))
    X[:, 1::2] = X[:, ::2] + 0.3 * rng.normal(size=(n, d // 2))   # correlated pairs: hard
    y = X @ rng.normal(size=d) + 2.0 * rng.normal(size=n)
    p = om.Program("bs")
    b = p.var("b", d, lb=-20, ub=20)
    z = p.var("z", d, domain="binary")
    p.add(b <= 20 * z); p.add(b >= -20 * z); p.add(om.sum(z) <= k)
    p.minimize(om.sum_squares(y - X @ b))
    t0 = time.perf_counter()
    # the empty model as a warm start: an incumbent exists however little SCIP does in 1 s
    # (without it, whether SCIP's own heuristics find one within the second depends on the load)
    start = {"b": np.zeros(d), "z": np.zeros(d)}
    r = p.solve(backend="pyomo", solver="scip", time_limit=1.0, verbose=verbose, warm_start=start)
    wall = time.perf_counter() - t0
    print("RESULT" + json.dumps({"status": r.status, "obj": r.objective, "bound": r.bound,
          "gap": r.gap, "wall": wall, "viol": r.max_violation,
          "scip_time": r.raw["results"].timing_info.scip_time,
          "has_x": "b" in r.values}))
    """
)


@needs_scip
@pytest.mark.parametrize("verbose", ["0", "1"])
def test_time_limit_returns_incumbent_without_hanging(verbose):
    """A 1 s limit on a hard MIQP: status time_limit, incumbent and gap, no dead-lock.

    Run in a subprocess so that a hang fails the test instead of freezing the suite; with
    ``verbose`` SCIP writes its log through Pyomo's output capture, the case that used to hang.
    """
    proc = subprocess.run(
        [sys.executable, "-c", _TIME_LIMIT_SCRIPT, verbose],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    r = json.loads(line[len("RESULT") :])
    assert r["status"] == "time_limit", r
    assert r["has_x"] and r["viol"] <= 1e-5
    assert np.isfinite(r["bound"]) and r["bound"] <= r["obj"] + 1e-6
    assert 0 < r["gap"] < np.inf
    assert r["scip_time"] <= 1.0 + 0.5  # SCIP itself stops at the limit
    # the whole call: the limit plus building, Pyomo's translation and presolve (generous: the
    # test machine may be shared)
    assert r["wall"] <= 1.0 + 20.0
    if verbose == "1":
        assert "SCIP" in proc.stdout or "SCIP" in proc.stderr  # the log was shown


@pytest.mark.parametrize("solver", SOLVERS)
def test_no_objective_constant_objective_and_unused_columns(solver):
    """A feasibility program, a constant objective, and a column in no row: still solved."""
    p = om.Program("feas")
    x = p.var("x", 3, lb=0, ub=1)
    u = p.var("u", 2, lb=-1, ub=5)  # appears nowhere: any value in its box is optimal
    p.add(om.sum(x) >= 1.5, name="need")
    res = p.solve(backend="pyomo", solver=solver)
    assert res.status == "optimal" and res.verified
    assert res.values["x"].sum() >= 1.5 - 1e-9
    assert np.all((res.values["u"] >= -1) & (res.values["u"] <= 5))
    p.minimize(3.0 + 0 * u[0])
    res = p.solve(backend="pyomo", solver=solver)
    assert res.objective == pytest.approx(3.0)
    assert res.verified


@needs_scip
def test_scip_quadratic_coupled_and_separable_terms():
    """SCIP gets separable epigraphs for diagonal terms and keeps coupled ones together."""
    rng = np.random.default_rng(8)
    Q = np.array([[2.0, 0.8], [0.8, 1.0]])
    p = om.Program("mixq")
    x = p.var("x", 5, lb=-2, ub=2)
    p.add(om.sum(x) >= 1.0, name="s")
    p.minimize(om.quad_form(x[:2], Q) + om.sum_squares(x[2:] - 0.5) + rng.normal(size=5) @ x)
    ref = p.solve(backend="highs")
    res = p.solve(backend="pyomo", solver="scip", mip_gap=1e-8)
    assert res.status == "optimal" and res.verified
    assert res.objective == pytest.approx(ref.objective, rel=1e-6, abs=1e-6)
    model = res.raw["model"]
    assert len(model.qepi) >= 3  # the three separable squares have their own epigraph


@needs_scip
def test_scip_gets_a_complete_start_before_presolve():
    """A complete warm start is SCIP's first solution: stopped at its first solution, SCIP
    returns the start (Pyomo's own start is partial and used only after presolve)."""
    rng = np.random.default_rng(0)
    n = 60
    w, v = rng.uniform(1, 10, n), rng.uniform(1, 10, n)
    p = om.Program("knapsack")
    x = p.var("x", shape=n, domain="binary")
    p.add(w @ x <= 100, name="cap")
    p.maximize(v @ x)
    start = (np.arange(n) < 5).astype(float)
    stop_at_first = {"limits/solutions": 1, "presolving/maxrounds": 0}
    r = p.solve(backend="pyomo", solver="scip", warm_start={"x": start}, **stop_at_first)
    np.testing.assert_allclose(r.values["x"], start)
    assert r.objective == pytest.approx(v @ start)
    r0 = p.solve(backend="pyomo", solver="scip", **stop_at_first)
    assert r0.objective != pytest.approx(v @ start)  # without it SCIP's first point differs
