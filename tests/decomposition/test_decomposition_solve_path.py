"""Decomposition on the one solve path: special solvers by name, settings reach every internal
solve, and every result is the certificate factory's numpy check."""

import numpy as np
import pytest

import optml.algorithms.pca_bnb as bnb
import optml.algorithms.sparse_pca_sdp as spsdp
import optml.backends as backends
import optml.solve
from optml.decomposition import PCA, SparsePCA
from optml.formulations.decomposition import SparsePCAProblem


def data(seed, n=40, p=8):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, p)) @ rng.normal(size=(p, p))


def test_special_solvers_listed_and_selectable():
    rows = {r["solver"]: r for r in backends.available(refresh=True) if r["backend"] == "optml"}
    assert rows["pca-bnb"]["kinds"] == ["sparse_pca"]
    assert rows["sparse-pca-sdp"]["kinds"] == ["sparse_pca"]
    X = data(0)
    m = SparsePCA(n_nonzero=3, solver="pca-bnb").fit(X)
    assert (m.result_.solver, m.result_.backend) == ("pca-bnb", "optml")
    problem = SparsePCAProblem(np.cov(X.T), 3)
    res = optml.solve.solve(problem)  # the kind's default
    assert res.solver == "pca-bnb" and res.status == "optimal" and res.verified
    assert res.objective == pytest.approx(m.explained_variance_[0], rel=1e-12)
    assert "_program" not in problem.__dict__


def test_branch_and_bound_result_is_numpy_checked():
    X = data(1)
    m = SparsePCA(n_nonzero=3).fit(X)
    res, v = m.result_, m.components_[0]
    S = np.cov(X.T)
    assert res.verified and res.status == "optimal"
    assert res.objective_check == pytest.approx(v @ S @ v, rel=1e-12)
    assert res.max_violation <= 1e-9
    assert res.bound >= res.objective and res.gap <= 1e-6
    obj, viol = m.program_.evaluate(res.values)  # the SDP relaxation, formed on access
    assert obj == pytest.approx(res.objective) and viol <= 1e-9


def test_branch_and_bound_gets_the_clock_and_gap(monkeypatch):
    got = []
    inner = bnb.SparsePCABranchAndBound.solve

    def wrapped(self, problem, settings):
        got.append(settings)
        return inner(self, problem, settings)

    monkeypatch.setattr(bnb.SparsePCABranchAndBound, "solve", wrapped)
    m = SparsePCA(n_nonzero=2, time_limit=30, mip_gap=0.01).fit(data(2))
    (s,) = got
    assert s.time_limit == 30 and s.deadline is not None and s.mip_gap == 0.01
    assert m.result_.gap <= 0.01 and m.result_.verified


def test_branch_and_bound_time_limit_returns_the_incumbent_and_a_valid_bound():
    X = data(3, n=200, p=40)
    m = SparsePCA(n_nonzero=10, time_limit=0.2).fit(X)
    res = m.result_
    assert res.status in ("optimal", "time_limit") and res.has_solution
    assert res.bound >= res.objective
    assert (m.components_ != 0).sum() <= 10


def test_sdp_method_sub_solve_gets_the_estimators_settings(monkeypatch):
    pytest.importorskip("cvxpy")
    seen = []
    inner = spsdp.solve_program

    def wrapped(program, backend="auto", solver=None, settings=None):
        seen.append((backend, solver, settings))
        return inner(program, backend=backend, solver=solver, settings=settings)

    monkeypatch.setattr(spsdp, "solve_program", wrapped)
    X = data(5, p=6)
    m = SparsePCA(
        n_nonzero=2,
        method="sdp",
        backend="cvxpy",
        solver="clarabel",
        time_limit=60,
        solver_options={"threads": 1, "max_iter": 200},
    ).fit(X)
    assert m.result_.solver == "sparse-pca-sdp"
    ((backend, solver, s),) = seen
    assert (backend, solver) == ("cvxpy", "clarabel")
    assert s.time_limit is not None and s.time_limit <= 60
    assert s.threads == 1 and s.options == {"max_iter": 200}
    v = m.components_[0]
    assert m.result_.objective_check == pytest.approx(v @ np.cov(X.T) @ v, rel=1e-9)


def test_pca_solves_with_the_estimators_settings(monkeypatch):
    pytest.importorskip("cvxpy")
    seen = []
    inner = optml.solve.solve

    def wrapped(target, backend="auto", solver=None, settings=None):
        seen.append(settings)
        return inner(target, backend=backend, solver=solver, settings=settings)

    monkeypatch.setattr(optml.solve, "solve", wrapped)
    PCA(n_components=2, time_limit=60, solver_options={"threads": 1}).fit(data(6, p=5))
    (s,) = seen
    assert s.time_limit == 60 and s.threads == 1
