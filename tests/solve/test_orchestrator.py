"""The one solve path: settings, reductions, certificates, special-purpose solvers."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import optml as om
from optml.backends import (
    Backend,
    RawAnswer,
    SolverSpec,
    SpecialSolver,
    available,
    get_backend,
    register,
    register_special,
)
from optml.backends import registry as reg
from optml.exceptions import SolverAccuracyWarning, SolverNotAvailableError
from optml.program.reductions import SeparableQuadratic, SOS1ToBigM, invert_chain, reduce_for
from optml.program.settings import SolveSettings
from optml.program.structured import StructuredProblem
from optml.solve import TOLERANCES, certify_program, make_result, solve


def knapsack(w=(4.0, 3, 2, 5, 1), v=(5.0, 4, 3, 6, 1), cap=8.0):
    w, v = np.asarray(w), np.asarray(v)
    p = om.Program("knapsack")
    x = p.var("x", shape=w.size, domain="binary")
    p.add(w @ x <= cap, name="capacity")
    p.maximize(v @ x)
    return p


def brute_knapsack(w, v, cap):
    best = -np.inf
    for bits in itertools.product([0, 1], repeat=len(w)):
        z = np.array(bits, float)
        if z @ w <= cap:
            best = max(best, z @ v)
    return best


# ----------------------------------------------------------------------------- layering
def test_program_layer_imports_no_backend():
    code = (
        "import sys, optml.program as p\n"
        "bad = [m for m in sys.modules if m.startswith(('optml.backends', 'optml.solve',"
        " 'cvxpy', 'pyomo', 'highspy'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- settings
class Recorder(Backend):
    """A plug-in backend that records the settings it receives and answers with HiGHS."""

    name = "recorder"
    module = "optml"
    solvers = {"rec": SolverSpec("rec", ("LP", "MILP"), seed=True)}
    seen: list = []

    def is_available(self) -> bool:
        return True

    def solve(self, canon, solver, settings):
        self.seen.append((canon, settings))
        return get_backend("highs").solve(canon, "highs", settings.replace(options={}))


@pytest.fixture
def recorder():
    rec = Recorder()
    rec.seen = []
    register(rec)
    yield rec
    reg._REGISTRY.pop(rec.name, None)
    reg._AVAILABLE = None


def test_settings_reach_the_backend(recorder):
    p = knapsack()
    res = p.solve(
        backend="recorder", time_limit=3, mip_gap=0.01, threads=1, seed=5, some_raw_option=7
    )
    assert res.status == "optimal" and res.verified and res.backend == "recorder"
    _, s = recorder.seen[-1]
    assert s.threads == 1 and s.seed == 5 and s.mip_gap == 0.01
    assert s.options == {"some_raw_option": 7}  # threads/seed are settings, not raw options
    assert s.deadline is not None and 0 < s.remaining() <= 3


def test_settings_validate():
    with pytest.raises(ValueError, match="time_limit"):
        SolveSettings(time_limit=-1)
    with pytest.raises(ValueError, match="mip_gap"):
        SolveSettings(mip_gap=1.5)
    with pytest.raises(TypeError, match="threads"):
        SolveSettings.from_params(solver_options={"threads": "two"})
    with pytest.raises(TypeError, match="solver_options"):
        SolveSettings.from_params(solver_options=[("threads", 1)])


def test_one_clock_for_internal_solves():
    s = SolveSettings(time_limit=1.0).started()
    time.sleep(0.3)
    inner = s.for_internal(mip_gap=0.5)
    assert inner.time_limit <= 0.71 and inner.mip_gap == 0.5 and inner.deadline == s.deadline
    assert SolveSettings().remaining() is None and not SolveSettings().expired()


def test_highs_takes_threads_seed_and_raw_options():
    p = knapsack()
    res = p.solve(solver="highs", threads=1, seed=3, presolve="off")
    assert res.status == "optimal" and res.objective == pytest.approx(10.0)


def test_warm_start_travels_with_the_solve():
    p = knapsack()
    res = p.solve(warm_start={"x": [1, 1, 0, 0, 0]})
    assert res.objective == pytest.approx(10.0)
    assert p.canonical().x0 is None and p.warm_start == {}
    with pytest.raises(ValueError, match="'x' has 3 entries"):
        p.solve(warm_start={"x": [1, 0, 1]})


# ----------------------------------------------------------------------------- reductions
def sos1_program():
    p = om.Program("sos")
    x = p.var("x", shape=4, lb=0, ub=3)
    p.add_sos1(x)
    p.maximize(np.array([1.0, 2.0, 1.5, 0.5]) @ x - 0.1 * om.sum(x))
    return p


def test_reductions_chosen_from_capabilities():
    p = sos1_program()
    canon = p.canonical()
    plain = SolverSpec("s", ("MILP",))
    native = SolverSpec("s", ("MILP",), native_sos1=True)
    work, chain = reduce_for(canon, plain)
    assert [r.name for r, _ in chain] == ["sos1_to_bigm"] and work.n == canon.n + 4
    assert not work.sos1 and canon.sos1  # the original form is left as it was
    assert reduce_for(canon, native)[1] == []
    res = p.solve(solver="highs")  # HiGHS has no SOS1: the reduction runs, the answer maps back
    assert res.values["x"].shape == (4,) and res.objective == pytest.approx(3 * 1.9)
    assert res.stats.get("reductions") == ["sos1_to_bigm"]


def test_separable_quadratic_round_trip():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 3))
    p = om.Program("ls")
    b = p.var("b", shape=3)
    p.minimize(om.quad_form(b, A.T @ A) - (A.T @ np.ones(6)) @ b)
    canon = p.canonical()
    spec = SolverSpec("s", ("QP",), separable_quadratic=True)
    work, chain = reduce_for(canon, spec)
    assert [r.name for r, _ in chain] == ["separable_quadratic"] and work.n > canon.n
    P = work.P.tocoo()
    assert np.all(P.row == P.col)  # diagonal
    sol = np.linalg.solve(A.T @ A, A.T @ np.ones(6))
    raw = om.backends.RawSolution(status="optimal", x=np.r_[sol, np.zeros(work.n - 3)])
    assert invert_chain(raw, chain).x.shape == (3,)
    assert isinstance(SOS1ToBigM(), type(chain[0][0]).__mro__[1])
    assert SeparableQuadratic().needed(canon, spec)


# ----------------------------------------------------------------------------- certificates
def test_gap_comes_from_the_checked_objective():
    """R7's pattern: a solver claims an objective below the point's true value and a bound
    equal to its claim. The result reports the point's value; the gap is not zero."""
    rng = np.random.default_rng(1)
    A, y = rng.normal(size=(30, 4)), rng.normal(size=30)
    p = om.Program("ls")
    b = p.var("b", shape=4)
    p.minimize(om.sum_squares(A @ b - y))
    canon = p.canonical()
    x = np.linalg.lstsq(A, y, rcond=None)[0] + 1e-2  # a point off the optimum
    true = float(np.sum((A @ x - y) ** 2))
    raw = om.backends.RawSolution(status="optimal", x=np.r_[x, np.zeros(canon.n - 4)])
    raw.objective = raw.bound = true - 0.5  # optimistic claims, as canonical values
    with pytest.warns(SolverAccuracyWarning, match="fails optml's check"):
        res = certify_program(p, canon, raw, mip_gap=None, solver="fake", backend="fake")
    assert res.objective == pytest.approx(true, rel=1e-12)
    assert not res.verified and res.solver_objective == pytest.approx(true - 0.5)


def test_bound_beyond_the_objective_is_discarded():
    with pytest.warns(SolverAccuracyWarning, match="discarded"):
        res = make_result(
            status="optimal",
            sense=1,
            values={"x": np.zeros(1)},
            objective_check=1.0,
            max_violation=0.0,
            bound=1.5,
        )
    assert np.isnan(res.bound) and res.gap == np.inf and not res.verified
    ok = make_result(
        status="optimal",
        sense=-1,
        values={"x": np.zeros(1)},
        objective_check=2.0,
        max_violation=0.0,
        bound=2.0 - 1e-12,
    )  # round-off below a maximum is clipped
    assert ok.verified and ok.gap == 0.0 and ok.bound == 2.0
    assert TOLERANCES["feasibility"] == 1e-6


def test_no_point_optimal_is_an_error():
    res = make_result(status="optimal", sense=1, values=None)
    assert res.status == "error" and "no point" in res.message


# ----------------------------------------------------------------------------- special solvers
@dataclasses.dataclass
class Knapsack(StructuredProblem):
    kind = "toy_knapsack"
    sense = -1
    default_solver = "toy-enumeration"
    w: np.ndarray
    v: np.ndarray
    cap: float

    def build_program(self):
        return knapsack(self.w, self.v, self.cap)

    def evaluate(self, values):  # a numpy check on the raw data, same units as the program
        x = np.asarray(values["x"], float)
        viol = max(0.0, float(x @ self.w - self.cap), float(np.abs(x - np.round(x)).max()))
        return float(x @ self.v), viol


class Enumerate(SpecialSolver):
    name = "toy-enumeration"
    kinds = ("toy_knapsack",)
    problem_class = "MILP"
    description = "enumerates every subset (a test solver)"
    give_up = False

    def solve(self, problem, settings):
        if self.give_up:
            return RawAnswer(status="error", message="gave up on purpose")
        best, arg = -np.inf, None
        for bits in itertools.product([0.0, 1.0], repeat=len(problem.w)):
            z = np.array(bits)
            if z @ problem.w <= problem.cap and z @ problem.v > best:
                best, arg = z @ problem.v, z
        return RawAnswer(status="optimal", values={"x": arg}, objective=best, bound=best)


@pytest.fixture
def enumeration():
    sp = Enumerate()
    register_special(sp)
    yield sp
    reg._SPECIAL.pop(sp.name, None)
    reg._AVAILABLE = None


def test_special_solver_is_listed_and_chosen(enumeration):
    rows = [r for r in available() if r["solver"] == "toy-enumeration"]
    assert rows and rows[0]["kinds"] == ["toy_knapsack"] and rows[0]["backend"] == "optml"
    rng = np.random.default_rng(3)
    for _ in range(5):
        w, v = rng.integers(1, 9, 7).astype(float), rng.integers(1, 9, 7).astype(float)
        prob = Knapsack(w, v, float(w.sum() / 2))
        ref = brute_knapsack(w, v, prob.cap)
        by_default = solve(prob)
        by_name = solve(prob, solver="toy-enumeration")
        general = solve(prob, solver="highs")  # the same instance's program, general solver
        for res in (by_default, by_name, general):
            assert res.status == "optimal" and res.verified
            assert res.objective == pytest.approx(ref)
        assert by_default.backend == "optml" and general.backend == "highs"
        assert "_program" not in by_name.__dict__  # a special solve builds no program


def test_special_solver_that_gives_up_falls_back(enumeration):
    enumeration.give_up = True
    prob = Knapsack(np.array([4.0, 3, 2, 5, 1]), np.array([5.0, 4, 3, 6, 1]), 8.0)
    res = solve(prob)
    assert res.status == "optimal" and res.backend == "highs" and "gave up" in res.message
    named = solve(prob, solver="toy-enumeration")  # named: its own answer, no fallback
    assert named.status == "error"


def test_special_solver_is_not_a_general_one(enumeration):
    with pytest.raises(SolverNotAvailableError, match="special-purpose"):
        knapsack().solve(solver="toy-enumeration")


def test_cli_lists_special_solvers(enumeration, capsys):
    from optml.cli import main

    main(["solvers"])
    out = capsys.readouterr().out
    assert "Special-purpose solvers" in out and "toy-enumeration" in out


def test_solve_rejects_other_targets():
    with pytest.raises(TypeError, match="Program or a StructuredProblem"):
        solve("not a program")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert solve(knapsack()).verified


def test_bench_compares_a_special_solver_with_general_ones_on_one_instance():
    pytest.importorskip("pandas")
    from sklearn.datasets import make_regression

    from optml.bench import compare
    from optml.regression import Lasso

    X, y = make_regression(80, 6, noise=1.0, random_state=0)
    df = compare(Lasso(alpha=0.5), (X, y), solvers=["active-set", "highs"], time_limit=20)
    rows = {r.solver: r for r in df.itertuples()}
    assert rows["active-set"].backend == "optml" and rows["highs"].backend == "highs"
    assert all(r.status == "optimal" and r.verified for r in rows.values())
    assert rows["active-set"].objective == pytest.approx(rows["highs"].objective, rel=1e-6)
