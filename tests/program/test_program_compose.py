"""Atoms that compose (DCP rules): optima against cvxpy on the same expressions, numpy
evaluation of nested atoms, and the DCP errors against cvxpy's own verdict."""

import numpy as np
import pytest

import optml as om
from optml.exceptions import ModelingError
from optml.program.atoms import max as om_max
from optml.program.atoms import maximum, minimum
from optml.program.atoms import min as om_min

cp = pytest.importorskip("cvxpy")

RNG = np.random.default_rng(7)
A = RNG.normal(size=(12, 3))
B = RNG.normal(size=12)
C = RNG.normal(size=3)
P_MIXED = np.array([[2.0, -1.0, 0.0], [-1.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
P_POS = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 1.0]])


def _cp_quad_form_nested(x):
    """cvxpy accepts the composition as DCP but has no graph implementation for it: the
    reference writes the epigraph variable t >= arg by hand (and the value at a point)."""
    arg = cp.pos(x - C) + cp.abs(x[0])
    value = cp.quad_form(arg, P_POS) + cp.norm1(x + 1)
    assert value.is_dcp()
    t = cp.Variable(3)
    return cp.quad_form(t, P_POS) + cp.norm1(x + 1), [t >= arg], value


def _cases():
    """(name, optml builder, cvxpy builder, sense); builders take the variable x (3,)."""
    n, d = 40, 3
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, d))
    s = np.where(X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.normal(size=n) > 0, 1.0, -1.0)
    eps = 0.2
    return [
        (
            "robust hinge (pos of a convex sum)",
            lambda x: om.sum(om.pos(1 - s * (X @ x) + eps * om.norm1(x))) + om.sum_squares(x),
            lambda x: (
                cp.sum(cp.pos(1 - cp.multiply(s, X @ x) + eps * cp.norm1(x))) + cp.sum_squares(x)
            ),
            "min",
        ),
        (
            "robust hinge, L2 and L-inf dual norms",
            lambda x: (
                om.sum(om.pos(1 - s * (X @ x) + eps * om.norm2(x) + 0.1 * om.norm_inf(x)))
                + 0.5 * om.norm1(x)
            ),
            lambda x: (
                cp.sum(cp.pos(1 - cp.multiply(s, X @ x) + eps * cp.norm2(x) + 0.1 * cp.norm_inf(x)))
                + 0.5 * cp.norm1(x)
            ),
            "min",
        ),
        (
            "max of maximum of convex pieces",
            lambda x: (
                om_max(maximum(om.abs(x - 1), 0.5 * om.norm2(x + 2), 0.3))
                + om.sum_squares(om.pos(x))
                + om.norm2(om.abs(x) + 1)
            ),
            lambda x: (
                cp.max(cp.maximum(cp.abs(x - 1), 0.5 * cp.norm2(x + 2), 0.3))
                + cp.sum_squares(cp.pos(x))
                + cp.norm2(cp.abs(x) + 1)
            ),
            "min",
        ),
        (
            "abs and norms of nonnegative convex, nested pos",
            lambda x: (
                om.sum(om.abs(om.pos(A @ x - B) + 0.5))
                + om.norm_inf(om.pos(A @ x + B))
                + om.pos(om.pos(om.pos(x[0] - 1) - 0.5) + om.norm1(x) - 2)
            ),
            lambda x: (
                cp.sum(cp.abs(cp.pos(A @ x - B) + 0.5))
                + cp.norm_inf(cp.pos(A @ x + B))
                + cp.pos(cp.pos(cp.pos(x[0] - 1) - 0.5) + cp.norm1(x) - 2)
            ),
            "min",
        ),
        (
            "huber and squared hinge of nonnegative convex",
            lambda x: (
                om.sum(om.huber(om.pos(A @ x - B), M=0.5))
                + om.sum_squares(om.pos(1 - A @ x) + om.abs(x[1]))
                + om.norm1(x)
            ),
            lambda x: (
                cp.sum(cp.huber(cp.pos(A @ x - B), M=0.5))
                + cp.sum_squares(cp.pos(1 - A @ x) + cp.abs(x[1]))
                + cp.norm1(x)
            ),
            "min",
        ),
        (
            "quad_form (P >= 0) of a nonnegative convex argument",
            lambda x: om.quad_form(om.pos(x - C) + om.abs(x[0]), P_POS) + om.norm1(x + 1),
            _cp_quad_form_nested,
            "min",
        ),
        (
            "logistic of a convex argument",
            lambda x: om.sum(om.logistic(om.abs(A @ x - B) - 1)) + om.sum_squares(x),
            lambda x: cp.sum(cp.logistic(cp.abs(A @ x - B) - 1)) + cp.sum_squares(x),
            "min",
        ),
        (
            "maximise a concave min of pieces",
            lambda x: om_min(minimum(3 - om.abs(x - C), 2 - x, A[:3] @ x + 1)) - om.norm2(x),
            lambda x: cp.min(cp.minimum(3 - cp.abs(x - C), 2 - x, A[:3] @ x + 1)) - cp.norm2(x),
            "max",
        ),
    ]


def _solve_both(build_om, build_cp, sense, constraints=None):
    p = om.Program("compose")
    x = p.var("x", 3, lb=-5, ub=5)
    f = build_om(x)
    (p.minimize if sense == "min" else p.maximize)(f)
    for con in (constraints or (lambda x, lib: []))(x, om):
        p.add(con)
    r = p.solve()
    xc = cp.Variable(3)
    cons = [xc >= -5, xc <= 5] + list((constraints or (lambda x, lib: []))(xc, cp))
    f = build_cp(xc)
    if isinstance(f, tuple):
        f, extra, _ = f
        cons += extra
    obj = (cp.Minimize if sense == "min" else cp.Maximize)(f)
    ref = cp.Problem(obj, cons)
    ref.solve()
    return p, r, ref


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0])
def test_compositions_match_cvxpy(case):
    _, build_om, build_cp, sense = case
    p, r, ref = _solve_both(build_om, build_cp, sense)
    assert r.status == "optimal" and r.verified
    assert ref.status == "optimal"
    assert r.objective == pytest.approx(ref.value, rel=1e-4, abs=1e-5)
    # the numpy value of the nested expression at optml's point is the certified objective,
    # and cvxpy's expression at that point agrees (an independent evaluation of the atoms)
    obj, viol = p.evaluate(r.values)
    assert obj == pytest.approx(r.objective, rel=1e-9, abs=1e-9)
    assert viol <= 1e-6
    xc = cp.Variable(3)
    xc.value = np.asarray(r.values["x"], float)
    f = build_cp(xc)
    f = f[2] if isinstance(f, tuple) else f
    assert f.value == pytest.approx(obj, rel=1e-9, abs=1e-9)


def test_composed_constraint_matches_cvxpy():
    def cons(x, lib):
        if lib is om:
            return [om_max(om.abs(x) + 0.3 * om.norm2(x)) <= 1, om.pos(om.norm1(x) - 1) <= 0.5]
        return [cp.max(cp.abs(x) + 0.3 * cp.norm2(x)) <= 1, cp.pos(cp.norm1(x) - 1) <= 0.5]

    p, r, ref = _solve_both(lambda x: C @ x, lambda x: C @ x, "min", cons)
    assert r.status == "optimal" and r.verified
    assert r.objective == pytest.approx(ref.value, rel=1e-4, abs=1e-5)
    assert p.evaluate(r.values)[1] <= 1e-6


def test_nested_values_are_numpy():
    p = om.Program()
    x = p.var("x", 3)
    v = np.array([0.5, -2.0, 1.5])
    f = om.pos(1 - A @ x + 0.2 * om.norm1(x))
    want = np.maximum(1 - A @ v + 0.2 * np.abs(v).sum(), 0)
    assert np.allclose(f.value({"x": v}), want)
    g = maximum(om.abs(x), 1.0, 0.5 * om.norm2(x))
    assert np.allclose(
        g.value({"x": v}), np.maximum(np.maximum(np.abs(v), 1.0), 0.5 * np.linalg.norm(v))
    )
    assert om_max(x).value({"x": v}) == pytest.approx(1.5)
    assert om_min(x).value({"x": v}) == pytest.approx(-2.0)
    assert f.curvature == "convex" and (-om_min(x)).curvature == "convex"
    assert {u.name for u in f.variables} == {"x"}


def _dcp_errors():
    return [
        ("abs of concave", lambda x: om.abs(1 - om.norm1(x)), lambda x: cp.abs(1 - cp.norm1(x))),
        ("pos of concave", lambda x: om.pos(-om.norm2(x)), lambda x: cp.pos(-cp.norm2(x))),
        (
            "norm of signed convex",
            lambda x: om.norm1(om.abs(x) - 1),
            lambda x: cp.norm1(cp.abs(x) - 1),
        ),
        (
            "huber of signed convex",
            lambda x: om.huber(om.norm1(x) - 1),
            lambda x: cp.huber(cp.norm1(x) - 1),
        ),
        ("max of concave", lambda x: om_max(-om.abs(x)), lambda x: cp.max(-cp.abs(x))),
        (
            "logistic of concave",
            lambda x: om.logistic(-om.norm2(x)),
            lambda x: cp.logistic(-cp.norm2(x)),
        ),
        (
            "pos of mixed",
            lambda x: om.pos(om.norm1(x) - om.norm2(x)),
            lambda x: cp.pos(cp.norm1(x) - cp.norm2(x)),
        ),
        (
            "quad_form of convex",
            lambda x: om.quad_form(om.pos(x), P_MIXED),
            lambda x: cp.quad_form(cp.pos(x), P_MIXED),
        ),
    ]


@pytest.mark.parametrize("case", _dcp_errors(), ids=lambda c: c[0])
def test_non_dcp_compositions_raise_like_cvxpy(case):
    _, build_om, build_cp = case
    xc = cp.Variable(3)
    try:
        ref_ok = build_cp(xc).is_dcp()
    except Exception:  # cvxpy refuses the construction itself
        ref_ok = False
    assert not ref_ok
    p = om.Program()
    x = p.var("x", 3)
    with pytest.raises(ModelingError, match="DCP|affine argument"):
        build_om(x)


def test_wrong_sense_of_nested_objective_raises():
    p = om.Program()
    x = p.var("x", 3, lb=-1, ub=1)
    p.maximize(om.pos(1 - A @ x + om.norm1(x)).sum())
    with pytest.raises(ModelingError, match="not convex"):
        p.canonical()
    q = om.Program()
    y = q.var("y", 3)
    q.add(om_min(y) - om.norm1(om.pos(y)) >= om.pos(y[0]))  # concave >= convex: fine
    q.add(om_min(y) >= 1 + om.norm1(y))
    with pytest.raises(ModelingError, match="not convex"):
        q.add(om.pos(om.norm1(y) - 1) >= 1)  # convex >= constant is not convex


def test_maximum_bad_input():
    p = om.Program()
    x = p.var("x", 3)
    with pytest.raises(ModelingError, match="at least two"):
        maximum(x)
    with pytest.raises(ModelingError, match="shapes do not match"):
        maximum(x, np.ones(4))
    with pytest.raises(ModelingError, match="got str"):
        om.pos("x")


def test_atoms_are_exported():
    assert om.maximum is maximum and om.max is om_max and om.min is om_min
    assert om.minimum is minimum


def test_to_latex_of_composition():
    p = om.Program()
    w = p.var("w", 3)
    p.minimize(om.sum(om.pos(1 - A @ w + 0.1 * om.norm1(w))))
    tex = p.to_latex()
    assert r"\left\| w \right\|_1" in tex
