"""Standard programs with known optima, run on every installed backend/solver pair.

The pairs come from :func:`optml.backends.available`, so a backend registered later (Pyomo,
plug-ins) is tested here without editing this file. Every reference value is computed
independently of optml: closed forms, numpy linear algebra, scipy, or brute-force enumeration.
"""

from __future__ import annotations

import itertools
import time
import warnings

import numpy as np
import pytest
import scipy.optimize as so

import optml as om
import optml.backends as ob
from optml.exceptions import SolverAccuracyWarning, SolverNotAvailableError
from optml.program.certify import lagrangian_bound
from optml.program.reductions import invert_chain, reduce_for
from optml.program.settings import SolveSettings

PAIRS = [(r["backend"], r["solver"], tuple(r["classes"])) for r in ob.available() if not r["kinds"]]


def pairs(cls: str):
    """pytest parameters: every installed (backend, solver) that supports ``cls``."""
    out = [pytest.param(b, s, id=f"{b}-{s}") for b, s, classes in PAIRS if cls in classes]
    if not out:
        reason = f"no installed backend/solver supports {cls} programs"
        out = [pytest.param(None, None, marks=pytest.mark.skip(reason=reason), id=f"no-{cls}")]
    return out


def rtol(solver: str) -> float:
    # first-order solvers (SCS, OSQP) stop at ~1e-6 relative accuracy by design
    return 2e-5 if solver in ("scs", "osqp") else 1e-6


def check_solution(p, res, expected, tol):
    """Optimal, verified, objective = reference, and ``evaluate`` agrees with the solver."""
    assert res.status == "optimal", res.summary()
    assert res.verified, res.summary()
    scale = max(1.0, abs(expected))
    assert abs(res.objective - expected) <= tol * scale, (res.objective, expected)
    obj, viol = p.evaluate(res.values)
    assert abs(obj - res.objective) <= 1e-6 * scale
    assert viol <= 1e-5
    assert res.gap <= 1e-4
    sign = 1.0 if p.sense == "min" else -1.0  # the bound is below a minimum, above a maximum
    assert sign * (res.bound - res.objective) <= 1e-6 * scale


def raw_bound(backend, solver, p):
    """The certified bound before any clamping (user sense), straight from the backend."""
    canon = p.canonical()
    b = ob.get_backend(backend)
    work, chain = reduce_for(canon, b.solvers[solver])  # what the solve path hands the backend
    raw = invert_chain(b.solve(work, solver, SolveSettings(time_limit=GUARD)), chain)
    assert raw.status == "optimal", raw.message
    if raw.y is not None:
        lag, kkt = lagrangian_bound(canon, raw.x, raw.y, raw.cone_duals)
        assert kkt <= 1e-5
        return canon.sense * lag
    assert raw.bound is not None, "backend returned neither duals nor a bound"
    return canon.sense * raw.bound


#: every standard program is tiny: a solver still busy after this is failing, not slow
GUARD = 10.0


def solve(p, backend, solver, **kw):
    """Solve; a SolverAccuracyWarning must agree with ``res.verified``."""
    kw.setdefault("time_limit", GUARD)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SolverAccuracyWarning)
        res = p.solve(backend=backend, solver=solver, **kw)
    warned = any(issubclass(w.category, SolverAccuracyWarning) for w in caught)
    assert warned == (not res.verified), res.summary()
    return res


# ----------------------------------------------------------------------------- programs
def lp_program(seed=0):
    """Random LP with rows of every kind (==, >=, <=, ranged) and bounds; scipy reference."""
    rng = np.random.default_rng(seed)
    n = 8
    x0 = rng.uniform(0.2, 1.0, n)  # feasible by construction
    A = rng.normal(size=(6, n))
    ax = A @ x0
    c = rng.normal(size=n)
    p = om.Program("lp")
    x = p.var("x", shape=n, lb=0.0, ub=2.0)
    p.add(A[:2] @ x == ax[:2], name="eq")
    p.add(A[2:4] @ x >= ax[2:4] - 0.5, name="ge")
    p.add(A[4:] @ x <= ax[4:] + 0.5, name="le")
    p.add(om.sum(x) <= n, name="total")
    p.minimize(c @ x)
    ref = so.linprog(
        c,
        A_ub=np.vstack([-A[2:4], A[4:], np.ones((1, n))]),
        b_ub=np.concatenate([-(ax[2:4] - 0.5), ax[4:] + 0.5, [n]]),
        A_eq=A[:2],
        b_eq=ax[:2],
        bounds=[(0, 2)] * n,
        method="highs",
    )
    assert ref.status == 0
    return p, ref.fun


def qp_program(seed=0):
    """Equality-constrained convex QP (maximised, to test the sense): KKT solved by numpy."""
    rng = np.random.default_rng(seed)
    n, m = 6, 2
    M = rng.normal(size=(n, n))
    Q = M @ M.T + 0.5 * np.eye(n)
    g = rng.normal(size=n)
    E = rng.normal(size=(m, n))
    f = rng.normal(size=m)
    p = om.Program("qp")
    x = p.var("x", shape=n)
    p.add(E @ x == f)
    p.maximize(-0.5 * om.quad_form(x, Q) - g @ x)
    K = np.block([[Q, E.T], [E, np.zeros((m, m))]])
    sol = np.linalg.solve(K, np.concatenate([-g, f]))[:n]
    return p, float(-(0.5 * sol @ Q @ sol + g @ sol))


def box_ls_program(seed=0):
    """Bounded least squares (QP with active bounds); reference scipy's lsq_linear."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 5))
    y = X @ np.array([2.0, -1.5, 0.3, 0.0, 1.0]) + 0.1 * rng.normal(size=40)
    p = om.Program("bls")
    w = p.var("w", shape=5, lb=-1.0, ub=1.0)
    p.minimize(0.5 * om.sum_squares(X @ w - y))
    ref = so.lsq_linear(X, y, bounds=(-1.0, 1.0), tol=1e-12, lsmr_tol="auto")
    return p, 0.5 * float(np.sum((X @ ref.x - y) ** 2))


def socp_program(seed=0):
    """Distance from a point to a hyperplane: min ||x - x0||_2 s.t. a'x = beta."""
    rng = np.random.default_rng(seed)
    n = 5
    a, x0 = rng.normal(size=n), rng.normal(size=n)
    beta = float(a @ x0 + 3.0)
    p = om.Program("socp")
    x = p.var("x", shape=n)
    p.add(a @ x == beta)
    p.minimize(om.norm2(x - x0))
    return p, abs(a @ x0 - beta) / np.linalg.norm(a)


def exp_program(seed=0):
    """L2-regularised logistic regression; reference scipy L-BFGS on the smooth objective."""
    rng = np.random.default_rng(seed)
    n, d, lam = 40, 3, 0.5
    X = rng.normal(size=(n, d))
    s = np.where(X @ np.array([1.0, -2.0, 0.5]) + 0.5 * rng.normal(size=n) > 0, 1.0, -1.0)
    p = om.Program("logreg")
    w = p.var("w", shape=d)
    p.minimize(om.sum(om.logistic(-s * (X @ w))) + 0.5 * lam * om.sum_squares(w))

    def f(v):
        z = -s * (X @ v)
        return np.logaddexp(0, z).sum() + 0.5 * lam * v @ v, (
            X.T @ (-s / (1 + np.exp(-z))) + lam * v
        )

    ref = so.minimize(f, np.zeros(d), jac=True, method="BFGS", options={"gtol": 1e-11})
    return p, float(ref.fun)


def sdp_program(seed=0):
    """min <C, Z> s.t. trace(Z) = 1, Z PSD: the smallest eigenvalue of C."""
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(4, 4))
    C = B + B.T
    p = om.Program("sdp")
    Z = p.var("Z", shape=(4, 4), psd=True)
    p.add(om.sum(Z * np.eye(4)) == 1)
    p.minimize(om.sum(Z * C))
    return p, float(np.linalg.eigvalsh(C).min())


def milp_program(seed):
    """6 binaries + 2 integers in [-2, 2], 3 random rows, maximised; brute-force reference."""
    rng = np.random.default_rng(seed)
    A = rng.integers(-3, 6, size=(3, 8)).astype(float)
    b = rng.integers(2, 8, size=3).astype(float)  # z = 0 is feasible
    c = rng.normal(size=8)
    p = om.Program("milp")
    z = p.var("z", shape=6, domain="binary")
    k = p.var("k", shape=2, lb=-2, ub=2, domain="integer")
    p.add(A[:, :6] @ z + A[:, 6:] @ k <= b)
    p.maximize(c[:6] @ z + c[6:] @ k)
    pts = np.array(
        [
            list(zz) + list(kk)
            for zz in itertools.product([0, 1], repeat=6)
            for kk in itertools.product(range(-2, 3), repeat=2)
        ],
        dtype=float,
    )
    feas = (pts @ A.T <= b + 1e-9).all(axis=1)
    return p, float((pts[feas] @ c).max())


def miqp_program(seed):
    """Integer least squares with a side row: 5 integers in [-2, 2]; brute-force reference."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 5))
    y = X @ rng.uniform(-2, 2, 5) + 0.3 * rng.normal(size=12)
    p = om.Program("miqp")
    k = p.var("k", shape=5, lb=-2, ub=2, domain="integer")
    p.add(om.sum(k) >= 1)
    p.minimize(om.sum_squares(X @ k - y))
    pts = np.array(list(itertools.product(range(-2, 3), repeat=5)), dtype=float)
    pts = pts[pts.sum(axis=1) >= 1]
    return p, float((((pts @ X.T) - y) ** 2).sum(axis=1).min())


# ----------------------------------------------------------------------------- convex
CONVEX = {
    "LP": [lp_program],
    "QP": [qp_program, box_ls_program],
    "SOCP": [socp_program],
    "EXP": [exp_program],
    "SDP": [sdp_program],
}


def _convex_cases():
    out = []
    for cls, makers in CONVEX.items():
        for mk in makers:
            for prm in pairs(cls):
                b, s = prm.values
                out.append(pytest.param(mk, b, s, id=f"{mk.__name__}-{prm.id}", marks=prm.marks))
    return out


@pytest.mark.parametrize("make, backend, solver", _convex_cases())
def test_convex_standard_program(make, backend, solver):
    p, expected = make()
    res = solve(p, backend, solver)
    check_solution(p, res, expected, rtol(solver))
    assert res.backend == backend and res.solver == solver


@pytest.mark.parametrize("make, backend, solver", _convex_cases())
def test_convex_certificate_is_the_optimum(make, backend, solver):
    """The bound the backend certifies (not clamped to the objective) is the true optimum."""
    p, expected = make()
    bound = raw_bound(backend, solver, p)
    assert abs(bound - expected) <= 10 * rtol(solver) * max(1.0, abs(expected)), (bound, expected)


# ----------------------------------------------------------------------------- MIP
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("backend, solver", pairs("MILP"))
def test_milp_equals_enumeration(backend, solver, seed):
    p, expected = milp_program(seed)
    res = solve(p, backend, solver)
    check_solution(p, res, expected, 1e-6)
    assert res.problem_class == "MILP"
    assert res.bound >= res.objective - 1e-6 * max(1, abs(expected))  # maximisation


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("backend, solver", pairs("MIQP"))
def test_miqp_equals_enumeration(backend, solver, seed):
    p, expected = miqp_program(seed)
    res = solve(p, backend, solver)
    check_solution(p, res, expected, 1e-6)
    assert res.problem_class == "MIQP"


def misocp_program(seed):
    """min ||X k - y||_2 over 4 integers in [-2, 2]; brute-force reference."""
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(10, 4)), rng.normal(size=10)
    p = om.Program("misocp")
    k = p.var("k", shape=4, lb=-2, ub=2, domain="integer")
    t = p.var("t")
    p.add(om.norm2(X @ k - y) <= t)
    p.minimize(t)
    pts = np.array(list(itertools.product(range(-2, 3), repeat=4)), dtype=float)
    return p, float(np.sqrt(((pts @ X.T - y) ** 2).sum(axis=1)).min())


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("backend, solver", pairs("MISOCP"))
def test_misocp_equals_enumeration(backend, solver, seed):
    p, expected = misocp_program(seed)
    res = solve(p, backend, solver)
    check_solution(p, res, expected, 1e-6)
    assert res.problem_class == "MISOCP"


# ----------------------------------------------------------------------------- statuses
def infeasible_program(integer: bool):
    p = om.Program("infeasible")
    x = p.var("x", shape=3, lb=0, ub=1, domain="binary" if integer else "continuous")
    p.add(om.sum(x) >= 2.5)
    p.add(x[0] + x[1] <= 0.5)
    p.minimize(om.sum(x))
    return p


@pytest.mark.parametrize("backend, solver", pairs("LP"))
def test_infeasible_lp_is_a_status(backend, solver):
    res = p_solve_quiet(infeasible_program(False), backend, solver)
    assert res.status == "infeasible"
    assert not res.values


@pytest.mark.parametrize("backend, solver", pairs("MILP"))
def test_infeasible_milp_is_a_status(backend, solver):
    res = p_solve_quiet(infeasible_program(True), backend, solver)
    assert res.status == "infeasible"


@pytest.mark.parametrize("backend, solver", pairs("LP"))
def test_unbounded_lp_is_a_status(backend, solver):
    p = om.Program("unbounded")
    y = p.var("y", shape=2, lb=0)
    p.add(y[0] - y[1] <= 1)
    p.minimize(-y[0] - y[1])
    res = p_solve_quiet(p, backend, solver)
    assert res.status == "unbounded"


def p_solve_quiet(p, backend, solver, **kw):
    kw.setdefault("time_limit", GUARD)
    return p.solve(backend=backend, solver=solver, **kw)


def market_split(m=4, n=50, seed=5):
    """Cornuejols-Dawande market split with slacks: feasible, LP bound 0, very hard to close."""
    rng = np.random.default_rng(seed)
    A = rng.integers(0, 100, size=(m, n)).astype(float)
    d = np.floor(A.sum(axis=1) / 2)
    p = om.Program("market_split")
    x = p.var("x", shape=n, domain="binary")
    sp_ = p.var("s_plus", shape=m, lb=0)
    sm = p.var("s_minus", shape=m, lb=0)
    p.add(A @ x + sp_ - sm == d)
    p.minimize(om.sum(sp_) + om.sum(sm))
    return p


@pytest.mark.parametrize("backend, solver", pairs("MILP"))
def test_time_limit_returns_incumbent_and_gap(backend, solver):
    p = market_split()
    p.canonical()
    p_solve_quiet(milp_program(0)[0], backend, solver)  # warm imports, not timed
    t0 = time.perf_counter()
    res = p_solve_quiet(p, backend, solver, time_limit=1.0)
    wall = time.perf_counter() - t0
    assert res.status == "time_limit", res.summary()
    assert wall <= 1.0 + 1.5, f"took {wall:.2f} s for a 1 s limit"
    assert res.values and res.values["x"].shape == (50,)
    assert np.isfinite(res.bound) and np.isfinite(res.gap)
    assert res.bound <= res.objective + 1e-9
    obj, viol = p.evaluate(res.values)
    assert abs(obj - res.objective) <= 1e-6 * max(1, abs(obj)) and viol <= 1e-6


@pytest.mark.parametrize("backend, solver", pairs("MILP"))
def test_mip_gap_is_the_stopping_rule(backend, solver):
    """With mip_gap=5%, an "optimal" answer is verified, within 5% of the exact optimum."""
    rng = np.random.default_rng(2)
    w = rng.integers(20, 80, 60).astype(float)
    v = w + rng.integers(-5, 5, 60)
    p = om.Program("knapsack")
    x = p.var("x", shape=60, domain="binary")
    p.add(w @ x <= w.sum() / 3)
    p.maximize(v @ x)
    exact = solve(p, backend, solver, mip_gap=0.0)
    assert exact.status == "optimal" and exact.gap <= 1e-6, exact.summary()
    res = solve(p, backend, solver, mip_gap=0.05)
    assert res.status == "optimal" and res.verified, res.summary()
    assert res.gap <= 0.05 and res.objective >= 0.95 * exact.objective


# ----------------------------------------------------------------------------- refusals
def test_unsuitable_solver_is_refused_before_work():
    p, _ = miqp_program(0)
    with pytest.raises(SolverNotAvailableError, match=r"Solver 'highs' cannot solve MIQP programs"):
        p.solve(solver="highs")
    capable = sorted({s for _, s, c in PAIRS if "MIQP" in c})
    with pytest.raises(SolverNotAvailableError, match="installed solvers that can") as ei:
        p.solve(solver="highs")
    assert str(capable) in str(ei.value)


@pytest.mark.skipif(not any(s == "osqp" for _, s, _ in PAIRS), reason="osqp not installed")
def test_qp_only_solver_refuses_milp():
    p, _ = milp_program(0)
    with pytest.raises(SolverNotAvailableError, match="Solver 'osqp' cannot solve MILP"):
        p.solve(solver="osqp")


@pytest.mark.skipif(
    not any(b == "cvxpy" and s == "osqp" for b, s, _ in PAIRS), reason="cvxpy/osqp not installed"
)
def test_named_backend_and_unsuitable_solver_is_refused():
    p, _ = socp_program()
    with pytest.raises(SolverNotAvailableError, match="cannot solve SOCP programs"):
        p.solve(backend="cvxpy", solver="osqp")


def test_unknown_solver_lists_installed():
    p, _ = lp_program()
    with pytest.raises(SolverNotAvailableError, match="unknown solver 'foo'") as ei:
        p.solve(solver="foo")
    assert "installed solvers" in str(ei.value)
    for _, s, _ in PAIRS:
        assert repr(s) in str(ei.value)
