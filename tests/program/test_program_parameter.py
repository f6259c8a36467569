"""Parameters: a 50-point sweep lowers the program once, each answer equals the program
rebuilt with that value, and the parameter's reduced cost is the derivative of the optimum."""

from __future__ import annotations

import numpy as np
import pytest

import optml as om
import optml.program.canonical as canonical
from optml.exceptions import ModelingError
from optml.program.parameter import Parameter, add_parameter, sweep

rng = np.random.default_rng(0)
X = rng.standard_normal((60, 6))
Y = X @ np.array([2.0, -1.0, 0.0, 0.5, 0.0, 1.5]) + 0.3 * rng.standard_normal(60)


@pytest.fixture
def lowerings(monkeypatch):
    count = {"n": 0}
    real = canonical.lower

    def counting(*args, **kwargs):
        count["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(canonical, "lower", counting)
    return count


def constrained_lasso(t_value=None):
    p = om.Program("lasso_budget")
    w = p.var("w", 6)
    b = p.var("b")
    t = add_parameter(p, "t", value=1.0) if t_value is None else t_value
    p.add(om.norm1(w) <= t, name="budget")
    p.minimize(om.sum_squares(Y - X @ w - b) / 120)
    return p, t


def test_sweep_of_50_values_lowers_once(lowerings):
    p, t = constrained_lasso()
    values = np.linspace(0.1, 5.0, 50)
    results = sweep(p, t, values)
    assert lowerings["n"] == 1
    assert all(r.status == "optimal" and r.verified for r in results)
    objs = np.array([r.objective for r in results])
    assert np.all(np.diff(objs) <= 1e-9)  # a looser budget never costs more
    # each answer is the program rebuilt with the value as a constant
    for k in (0, 17, 49):
        q, _ = constrained_lasso(t_value=float(values[k]))
        assert results[k].objective == pytest.approx(q.solve().objective, rel=1e-7, abs=1e-9)
        assert np.abs(results[k]["w"]).sum() <= values[k] + 1e-7
    assert lowerings["n"] == 4  # the three rebuilt programs, nothing more


def test_value_change_is_used_by_the_next_solve(lowerings):
    p, t = constrained_lasso()
    r1 = p.solve()
    t.value = 0.5
    r2 = p.solve()
    assert lowerings["n"] == 1
    assert np.abs(r2["w"]).sum() == pytest.approx(0.5, abs=1e-7)
    assert r2.objective > r1.objective
    assert float(r2["t"]) == 0.5


def test_reduced_cost_of_a_parameter_is_the_derivative():
    p, t = constrained_lasso()
    t.value = 1.0
    r = p.solve()
    eps = 1e-4
    t.value = 1.0 + eps
    up = p.solve().objective
    t.value = 1.0 - eps
    down = p.solve().objective
    assert float(r.reduced_costs["t"]) == pytest.approx((up - down) / (2 * eps), rel=1e-4)
    assert float(r.reduced_costs["t"]) == pytest.approx(float(r.duals["budget"]), rel=1e-6)


def transport(demand=None):
    cost = np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 1.5]])
    p = om.Program("transport")
    x = p.var("x", (2, 3), lb=0)
    d = add_parameter(p, "demand", shape=3, value=[1.0, 1.0, 1.0]) if demand is None else demand
    p.add(x.sum(axis=1) <= np.array([2.0, 2.0]), name="supply")
    p.add(x.sum(axis=0) >= d, name="meet")
    p.minimize(cost.ravel() @ x.reshape(6))
    return p, d


def test_vector_parameter_as_right_hand_side_of_an_lp(lowerings):
    p, d = transport()
    demands = [np.array(v) for v in ([1.0, 1, 1], [2.0, 0, 1], [0.5, 1.0, 1.5])]
    outs = sweep(p, d, demands)
    assert lowerings["n"] == 1
    for dem, r in zip(demands, outs, strict=True):
        q, _ = transport(demand=dem)
        ref = q.solve()
        assert r.objective == pytest.approx(ref.objective, abs=1e-9)
    # the parameter's reduced costs are the duals of the rows it enters, and derivatives
    r = outs[2]
    np.testing.assert_allclose(r.reduced_costs["demand"], r.duals["meet"], atol=1e-9)
    for j in range(3):
        e = np.zeros(3)
        e[j] = 1e-3
        up = transport(demand=demands[2] + e)[0].solve().objective
        assert (up - r.objective) / 1e-3 == pytest.approx(r.duals["meet"][j], abs=1e-6)


def test_programs_with_indicators_lower_again_and_stay_right(lowerings):
    p = om.Program()
    x = p.var("x", lb=0, ub=10)
    z = p.var("z", domain="binary")
    lo = add_parameter(p, "lo", value=2.0)
    p.add_indicator(z, x >= lo, name="on")
    p.add(x >= 0.5 * z, name="c")
    p.minimize(x + 10 * (1 - z))
    assert p.solve().objective == pytest.approx(2.0)
    lo.value = 3.0
    assert p.solve().objective == pytest.approx(3.0)
    assert lowerings["n"] == 2


def test_refusals():
    p, t = constrained_lasso()
    with pytest.raises(ModelingError, match=r"t.value"):
        t.ub = 3.0
    with pytest.raises(ModelingError, match="finite"):
        t.value = np.nan
    with pytest.raises(ModelingError, match="does not fit"):
        t.value = [1.0, 2.0]
    with pytest.raises(ModelingError, match="already has"):
        add_parameter(p, "w", value=1.0)
    with pytest.raises(ModelingError, match="product"):
        t * p.variables["w"]
    other = Parameter("q", value=1.0)
    with pytest.raises(ModelingError, match="parameter of this program"):
        sweep(p, other, [1.0])


def test_display_shows_parameters():
    p, t = constrained_lasso()
    t.value = 2.5
    assert "parameter = 2.5" in p.summary()
    tex = p.to_latex()
    assert r"\min_{w, b}" in tex and "t = 2.5" in tex
    assert r"\left\| w \right\|_1 \le t" in tex  # the parameter reads as a right-hand side
