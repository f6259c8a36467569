"""Unit tests of the program layer: expressions, atoms, lowering, evaluate, certificate."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

import optml as om
from optml.exceptions import ModelingError, SolverNotAvailableError
from optml.program import lagrangian_bound

rng = np.random.default_rng(0)


def point_for(p):
    return {n: rng.standard_normal(v.shape) for n, v in p.variables.items()}


# ------------------------------------------------------------------ algebra vs numpy
@pytest.mark.parametrize(
    "build, ref",
    [
        (lambda x, X, A, B: A @ x + 1.0, lambda x, X, A, B: A @ x + 1.0),
        (lambda x, X, A, B: x @ B, lambda x, X, A, B: x @ B),
        (lambda x, X, A, B: X @ B[:, :2], lambda x, X, A, B: X @ B[:, :2]),
        (lambda x, X, A, B: X.T, lambda x, X, A, B: X.T),
        (lambda x, X, A, B: X.sum(axis=0) - X[1], lambda x, X, A, B: X.sum(0) - X[1]),
        (lambda x, X, A, B: X.sum(axis=1) * 2, lambda x, X, A, B: X.sum(1) * 2),
        (lambda x, X, A, B: X - x[:1], lambda x, X, A, B: X - x[:1]),
        (lambda x, X, A, B: 3 - x[::2] / 2, lambda x, X, A, B: 3 - x[::2] / 2),
        (lambda x, X, A, B: np.arange(4.0) * x, lambda x, X, A, B: np.arange(4.0) * x),
        (lambda x, X, A, B: om.sum(x) + X[2, 3], lambda x, X, A, B: x.sum() + X[2, 3]),
        (lambda x, X, A, B: sp.csr_matrix(A) @ x, lambda x, X, A, B: A @ x),
        (lambda x, X, A, B: om.hstack([x, X[0], 5.0]), lambda x, X, A, B: np.r_[x, X[0], 5.0]),
        (lambda x, X, A, B: om.vstack([X[0], x]), lambda x, X, A, B: np.vstack([X[0], x])),
        (lambda x, X, A, B: X.reshape(2, 6)[1], lambda x, X, A, B: X.reshape(2, 6)[1]),
    ],
)
def test_affine_algebra_matches_numpy(build, ref):
    p = om.Program()
    x = p.var("x", 4)
    X = p.var("X", (3, 4))
    A = rng.standard_normal((4, 4))
    B = rng.standard_normal((4, 3))
    e = build(x, X, A, B)
    pt = point_for(p)
    expect = ref(pt["x"], pt["X"], A, B)
    got = e.value(pt)
    assert np.shape(got) == np.shape(expect)
    np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-12)


def test_transpose_matmul():
    p = om.Program()
    X = p.var("X", (3, 4))
    A = rng.standard_normal((3, 2))
    pt = point_for(p)
    np.testing.assert_allclose((A.T @ X).value(pt), A.T @ pt["X"], atol=1e-12)


def test_shape_errors_name_both_shapes():
    p = om.Program()
    x = p.var("x", 4)
    with pytest.raises(ModelingError, match=r"\(3,\).*\(4,\)|\(4,\).*\(3,\)"):
        _ = x + np.ones(3)
    with pytest.raises(ModelingError, match="do not align"):
        _ = np.ones((2, 3)) @ x
    with pytest.raises(ModelingError, match="not affine"):
        _ = x * x
    with pytest.raises(ModelingError, match="NaN or inf"):
        _ = x + np.array([1, np.nan, 0, 0])


def test_variable_validation():
    p = om.Program()
    p.var("x", 2)
    with pytest.raises(ModelingError, match="already exists"):
        p.var("x", 3)
    with pytest.raises(ModelingError, match="lower bound"):
        p.var("y", 2, lb=[0, 2], ub=1)
    with pytest.raises(ModelingError, match="domain"):
        p.var("z", 2, domain="real")
    q = om.Program()
    w = q.var("w", 2)
    with pytest.raises(ModelingError, match="does not belong"):
        p.add(w >= 0)
    with pytest.raises(ModelingError, match="scalar"):
        p.minimize(p.variables["x"])


def test_atoms_evaluate_with_numpy():
    p = om.Program()
    x = p.var("x", 5)
    P = rng.standard_normal((5, 5))
    P = P @ P.T
    pt = point_for(p)
    v = pt["x"]
    cases = [
        (om.sum_squares(x - 1), ((v - 1) ** 2).sum()),
        (om.quad_form(x, P), v @ P @ v),
        (om.norm1(x), np.abs(v).sum()),
        (om.norm2(x), np.linalg.norm(v)),
        (om.norm_inf(x), np.abs(v).max()),
        (om.sum(om.abs(x)), np.abs(v).sum()),
        (np.arange(5.0) @ om.pos(x), np.arange(5.0) @ np.maximum(v, 0)),
        (om.sum(om.huber(x, 0.5)), np.where(np.abs(v) <= 0.5, v**2, np.abs(v) - 0.25).sum()),
        (om.sum(om.logistic(x)), np.logaddexp(0, v).sum()),
        (
            2 * om.norm1(x) + x[0] - om.sum_squares(x) * 0.5,
            2 * np.abs(v).sum() + v[0] - 0.5 * v @ v,
        ),
    ]
    for e, ref in cases:
        assert np.isclose(e.value(pt), ref, rtol=1e-12)


def test_convexity_is_checked():
    p = om.Program()
    x = p.var("x", 3)
    with pytest.raises(ModelingError, match="not convex"):
        p.add(om.norm2(x) >= 1)
    p.maximize(om.sum_squares(x))
    with pytest.raises(ModelingError, match="not convex"):
        p.canonical()
    with pytest.raises(ModelingError, match="positive semidefinite"):
        om.quad_form(x, -np.eye(3))


@pytest.mark.parametrize(
    "make, cls",
    [
        (lambda p, x: p.minimize(om.sum(x)), "LP"),
        (lambda p, x: p.minimize(om.sum_squares(x)), "QP"),
        (lambda p, x: p.minimize(om.norm2(x)), "SOCP"),
        (lambda p, x: p.minimize(om.sum(om.logistic(x))), "EXP"),
        (lambda p, x: (p.var("z", 3, domain="binary"), p.minimize(om.sum(x))), "MILP"),
        (
            lambda p, x: (
                p.var("z", 3, domain="integer", lb=0, ub=2),
                p.minimize(om.sum_squares(x)),
            ),
            "MIQP",
        ),
        (lambda p, x: (p.add_sos1(x), p.minimize(om.sum(x))), "MILP"),
        (lambda p, x: (p.var("Z", (2, 2), psd=True), p.minimize(om.sum(x))), "SDP"),
    ],
)
def test_problem_class_is_derived(make, cls):
    p = om.Program()
    x = p.var("x", 3, lb=-1, ub=1)
    make(p, x)
    assert p.problem_class == cls


# --------------------------------------------------------------------- solving
def test_knapsack_equals_enumeration():
    for seed in range(5):
        r = np.random.default_rng(seed)
        w, v = r.integers(1, 10, 8).astype(float), r.integers(1, 10, 8).astype(float)
        cap = w.sum() / 2
        p = om.Program("knapsack")
        x = p.var("x", 8, domain="binary")
        p.add(w @ x <= cap, name="capacity")
        p.maximize(v @ x)
        res = p.solve(backend="highs")
        best = max(
            v @ np.array(z) for z in itertools.product([0, 1], repeat=8) if w @ np.array(z) <= cap
        )
        assert res.status == "optimal" and res.verified
        assert res.objective == pytest.approx(best)
        assert res.objective_check == pytest.approx(best)
        assert res.bound == pytest.approx(best, rel=1e-6)
        obj, viol = p.evaluate(res.values)
        assert obj == pytest.approx(best) and viol <= 1e-9


def test_least_squares_with_bounds_certificate_and_scipy():
    from scipy.optimize import lsq_linear

    X = rng.standard_normal((60, 5))
    y = rng.standard_normal(60)
    p = om.Program()
    b = p.var("b", 5, lb=-0.1, ub=0.1)
    p.minimize(om.sum_squares(X @ b - y))
    res = p.solve(backend="highs")
    ref = lsq_linear(X, y, bounds=(-0.1, 0.1), tol=1e-12)
    assert res.verified
    assert res.objective == pytest.approx(2 * ref.cost, rel=1e-7)
    assert res.bound <= res.objective + 1e-9
    assert res.gap < 1e-6


def test_lagrangian_bound_is_a_bound_for_any_duals():
    # LP: min c'x, Ax >= b, 0 <= x <= 5; random duals give bounds <= optimum
    A = rng.uniform(0, 1, (6, 4))
    b = rng.uniform(0, 1, 6)
    c = rng.uniform(0.5, 1, 4)
    p = om.Program()
    x = p.var("x", 4, lb=0, ub=5)
    p.add(A @ x >= b)
    p.minimize(c @ x)
    res = p.solve(backend="highs")
    canon = p.canonical()
    for _ in range(20):
        y = rng.uniform(0, 1, 6)
        bound, _ = lagrangian_bound(canon, rng.uniform(0, 5, 4), y)
        assert bound <= res.objective + 1e-9


def test_indicator_and_sos1_against_enumeration():
    r = np.random.default_rng(3)
    c = r.standard_normal(5)
    p = om.Program()
    x = p.var("x", 5, lb=-1, ub=1)
    z = p.var("z", 5, domain="binary")
    p.add_indicator(z, x <= 0, active=0)  # z_i = 0 => x_i <= 0
    p.add(om.sum(z) <= 2)
    p.add_sos1(x, index=[0, 1])
    p.minimize(-c @ x)
    res = p.solve(backend="highs")
    best = np.inf
    for zz in itertools.product([0, 1], repeat=5):
        if sum(zz) > 2:
            continue
        for nz in ([0], [1]):  # SOS1 on x0, x1: one of them is zero
            xs = np.where(np.array(zz) == 1, np.sign(c), np.minimum(np.sign(c), 0))
            xs[nz] = 0
            best = min(best, -c @ xs)
    assert res.status == "optimal" and res.verified
    assert res.objective == pytest.approx(best)


def test_infeasible_and_unbounded_are_statuses():
    p = om.Program()
    x = p.var("x", 2, lb=0)
    p.add(om.sum(x) <= -1)
    p.minimize(om.sum(x))
    assert p.solve(backend="highs").status == "infeasible"
    q = om.Program()
    y = q.var("y", 2)
    q.minimize(y[0] - y[1])
    assert q.solve(backend="highs").status in ("unbounded", "infeasible")


def test_unsuitable_and_unknown_solvers_are_refused():
    p = om.Program()
    x = p.var("x", 3, domain="integer", lb=0, ub=3)
    p.minimize(om.sum_squares(x - 1.5))
    assert p.problem_class == "MIQP"
    with pytest.raises(SolverNotAvailableError, match="cannot solve MIQP"):
        p.solve(solver="highs")
    with pytest.raises(SolverNotAvailableError, match="unknown solver 'nope'"):
        p.solve(solver="nope")
    with pytest.raises(SolverNotAvailableError, match="unknown backend"):
        p.solve(backend="nope")
    with pytest.raises(ValueError, match="time_limit"):
        p.solve(time_limit=-1)


def test_time_limit_returns_incumbent_and_gap():
    # a market-split style MILP that HiGHS cannot close in a fraction of a second
    r = np.random.default_rng(7)
    m, n = 4, 40
    A = r.integers(0, 100, (m, n)).astype(float)
    b = np.floor(A.sum(axis=1) / 2)
    p = om.Program("market_split")
    x = p.var("x", n, domain="binary")
    s = p.var("s", m, lb=0)
    t = p.var("t", m, lb=0)
    p.add(A @ x + s - t == b)
    p.minimize(om.sum(s) + om.sum(t))
    import time

    t0 = time.perf_counter()
    res = p.solve(backend="highs", time_limit=0.5)
    wall = time.perf_counter() - t0
    assert wall < 0.5 + 3.0
    if res.status == "time_limit":
        assert res.has_solution and np.isfinite(res.gap)
        assert res.bound <= res.objective + 1e-9
    else:  # solved within the limit: must then be certified
        assert res.status == "optimal" and res.verified


def test_warm_start_and_fix():
    p = om.Program()
    x = p.var("x", 3, domain="binary")
    p.maximize(np.array([1.0, 2.0, 3.0]) @ x)
    p.add(om.sum(x) <= 2)
    p.fix(x[2], 0)
    res = p.solve(backend="highs", warm_start={"x": [1, 1, 0]})
    assert res.objective == pytest.approx(3.0)


def test_summary_and_latex_mention_the_parts():
    p = om.Program("lasso")
    b = p.var("beta", 3, latex=r"\beta")
    X = rng.standard_normal((10, 3))
    y = rng.standard_normal(10)
    p.minimize(om.sum_squares(y - X @ b) + 0.1 * om.norm1(b))
    text = p.summary()
    assert "QP" in text and "beta" in text
    tex = p.to_latex()
    assert r"\beta" in tex and r"\|_1" in tex and r"\min" in tex


def test_qr_reduction_keeps_the_objective():
    X = rng.standard_normal((500, 4))
    y = X @ np.array([1.0, -2.0, 0.0, 0.5]) + rng.standard_normal(500)
    p = om.Program()
    b = p.var("b", 4)
    p.minimize(om.sum_squares(y - X @ b))
    canon = p.canonical()
    assert canon.m < 20  # n-independent after the QR reduction
    res = p.solve(backend="highs")
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(res.values["b"], beta, atol=1e-6)
    assert res.objective == pytest.approx(((y - X @ beta) ** 2).sum(), rel=1e-9)
