"""Clustering on the one solve path: special solvers by name, settings reach every internal
solve, and every result is the certificate factory's numpy check."""

import warnings

import numpy as np
import pytest

import optml.algorithms.branch_and_price as bnp
import optml.algorithms.kmeans_sdp as pw
import optml.backends as backends
import optml.solve
from optml.clustering import KMeans, KMedoids
from optml.exceptions import SolverAccuracyWarning
from optml.formulations.clustering import KMeansProblem
from optml.program.settings import SolveSettings


def cost_of(X, lab):
    return sum(((X[lab == j] - X[lab == j].mean(0)) ** 2).sum() for j in np.unique(lab))


def data(seed=0, n=14):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(size=(n // 2, 2)), rng.normal(size=(n - n // 2, 2)) + 3.0])


def recorder(monkeypatch, module, name="solve_program"):
    """Wrap ``module.name`` and record the settings of every call."""
    seen = []
    inner = getattr(module, name)

    def wrapped(target, backend="auto", solver=None, settings=None):
        seen.append((backend, solver, settings))
        return inner(target, backend=backend, solver=solver, settings=settings)

    monkeypatch.setattr(module, name, wrapped)
    return seen


def test_special_solvers_listed_and_selectable():
    rows = {r["solver"]: r for r in backends.available(refresh=True) if r["backend"] == "optml"}
    assert rows["branch-and-price"]["kinds"] == ["kmeans"]
    assert rows["peng-wei"]["kinds"] == ["kmeans"]
    X = data()
    km = KMeans(2, method="colgen", solver="branch-and-price", random_state=0).fit(X)
    assert (km.result_.solver, km.result_.backend) == ("branch-and-price", "optml")
    problem = KMeansProblem(X, 2, random_state=0)
    res = optml.solve.solve(problem, solver="branch-and-price")
    assert res.status == "optimal" and res.verified
    assert res.objective == pytest.approx(km.inertia_, rel=1e-9)
    assert "_program" not in problem.__dict__  # the special solver never built the MIQCP


def test_branch_and_price_result_is_numpy_checked():
    X = data(1)
    km = KMeans(2, method="colgen", random_state=0).fit(X)
    res = km.result_
    assert res.status == "optimal" and res.verified
    assert res.objective_check == pytest.approx(cost_of(X, km.labels_), rel=1e-12)
    assert res.objective == res.objective_check == pytest.approx(km.inertia_, rel=1e-12)
    assert res.max_violation <= 1e-9
    assert res.bound <= res.objective and res.gap <= 1e-4
    # the numpy check is the program's: the compact MIQCP, formed on first access
    obj, viol = km.program_.evaluate(res.values)
    assert obj == pytest.approx(res.objective, rel=1e-12) and viol <= 1e-9
    assert km.program_.problem_class == "MISOCP"


def test_kmeans_problem_check_catches_a_bad_point():
    X = data(2, n=8)
    problem = KMeansProblem(X, 2, must_link=[(0, 1)], cannot_link=[(0, 7)], max_size=5)
    lab = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    good = problem.point(lab)
    assert problem.evaluate(good)[1] <= 1e-12
    bad = dict(good, d=good["d"] * 0.5)  # claims half the cost
    assert problem.evaluate(bad)[1] > 1e-3
    assert problem.evaluate(bad) == pytest.approx(problem.program.evaluate(bad))


def test_kmeans_general_solver_on_the_same_problem():
    pytest.importorskip("pyscipopt")
    X = data(3, n=6)
    a = KMeans(2, method="colgen", random_state=0).fit(X)
    b = KMeans(2, method="colgen", solver="scip", time_limit=60).fit(X)
    assert b.result_.solver == "scip" and b.result_.status == "optimal"
    assert b.inertia_ == pytest.approx(a.inertia_, rel=1e-4)


def test_branch_and_price_sub_solves_get_the_estimators_settings(monkeypatch):
    seen = recorder(monkeypatch, bnp)
    X = data(4, n=20)
    km = KMeans(
        2,
        method="colgen",
        random_state=0,
        backend="highs",
        time_limit=60,
        mip_gap=1e-3,
        solver_options={"threads": 1, "seed": 5, "presolve": "off"},
    ).fit(X)
    assert km.result_.status == "optimal"
    assert seen
    for backend, solver, s in seen:
        assert isinstance(s, SolveSettings)
        assert backend == "highs" and solver is None
        assert s.time_limit is not None and s.time_limit <= 60
        assert s.threads == 1 and s.seed == 5
        # the user's raw options reach every sub-solve; the plane's master LPs add HiGHS's
        # interior point method without crossover
        assert s.options["presolve"] == "off"
        assert s.options in ({"presolve": "off"}, {"presolve": "off", **bnp.PLANE_LP_OPTIONS})
    assert any(len(s.options) > 1 for _, _, s in seen)
    # LPs keep the setting; a master MILP (run only when the root leaves a gap: not here, the
    # plane's exact pricing closes it) runs at a tenth of the target gap
    gaps = sorted({round(s.mip_gap, 12) for _, _, s in seen})
    assert 1e-3 in gaps and set(gaps) <= {1e-4, 1e-3}
    settings = SolveSettings(time_limit=60, mip_gap=1e-3, threads=1, seed=5).started()
    settings.options["presolve"] = "off"
    bp = bnp.BranchAndPrice(KMeansProblem(X, 2, random_state=0), settings)
    bp._add_labels(km.labels_)
    seen.clear()
    bp._master_milp((), ())
    assert [round(s.mip_gap, 12) for _, _, s in seen] == [1e-4]
    assert bp.ub == pytest.approx(km.inertia_, rel=1e-9)


def test_raw_option_reaches_highs(monkeypatch):
    from optml.backends.registry import get_backend

    b = get_backend("highs")
    got = []
    inner = type(b).solve

    def wrapped(self, canon, solver, settings):
        got.append(settings)
        return inner(self, canon, solver, settings)

    monkeypatch.setattr(type(b), "solve", wrapped)
    KMeans(2, method="colgen", random_state=0, solver_options={"presolve": "off"}).fit(data())
    assert got and all(s.options.get("presolve") == "off" for s in got)


def test_mip_gap_above_the_table_is_a_verified_optimum():
    from sklearn.datasets import load_iris

    X = load_iris().data
    with warnings.catch_warnings():
        warnings.simplefilter("error", SolverAccuracyWarning)
        km = KMeans(3, method="colgen", random_state=0, mip_gap=0.05).fit(X)
    assert km.result_.status == "optimal" and km.result_.verified
    assert km.result_.gap <= 0.05


def test_enumerate_and_kmedoids_solve_with_the_estimators_settings(monkeypatch):
    seen = recorder(monkeypatch, optml.solve, name="solve")
    X = data(5, n=8)
    opts = {"threads": 1, "presolve": "off"}
    KMeans(2, method="enumerate", time_limit=30, solver_options=opts).fit(X)
    KMedoids(2, time_limit=30, mip_gap=1e-3, solver_options=opts).fit(X)
    assert len(seen) == 2
    for _, _, s in seen:
        assert s.time_limit == 30 and s.threads == 1 and s.options == {"presolve": "off"}
    assert seen[1][2].mip_gap == 1e-3


def test_peng_wei_is_a_special_solver_with_the_estimators_settings(monkeypatch):
    pytest.importorskip("cvxpy")
    seen = recorder(monkeypatch, pw)
    X = data(6, n=9)
    km = KMeans(2, method="sdp_bound", random_state=0, time_limit=60, solver_options={"seed": 3})
    km.fit(X)
    assert km.result_.solver == "peng-wei" and km.result_.backend == "optml"
    assert km.result_.objective_check == pytest.approx(cost_of(X, km.labels_), rel=1e-12)
    assert km.result_.bound <= km.inertia_
    assert len(seen) == 1
    s = seen[0][2]
    assert s.time_limit is not None and s.time_limit <= 60 and s.seed == 3


def test_peng_wei_refuses_weighted_problems():
    # its SDP bound is unweighted: accepting a weighted problem would certify a wrong bound
    X = data(4, n=8)
    plain = KMeansProblem(X, 2, random_state=0)
    weighted = KMeansProblem(X, 2, random_state=0, sample_weight=np.arange(1.0, 9.0))
    assert pw.PengWeiSolver().accepts(plain)
    assert not pw.PengWeiSolver().accepts(weighted)
