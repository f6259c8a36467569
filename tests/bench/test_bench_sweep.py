"""A tiny suite across several solvers, and solvers that crash, hang, exhaust memory or raise.

One sweep (module fixture) serves most tests: it mixes well-behaved tasks with misbehaving
ones, so it also shows that a bad task does not stop the others.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the test models and the plug-in live next to this file
    sys.path.insert(0, str(HERE))

import bench_testmodels as tm  # noqa: E402

from optml import bench, data  # noqa: E402

GOOD = [("highs", "highs"), ("cvxpy", "clarabel"), ("pyomo", "highs")]
MIP = [("highs", "highs"), ("pyomo", "scip")]
BAD = ["segv", "sleepy", "hog", "raiser"]


def _suite():
    return {
        "name": "tiny",
        "time_limit": 5,
        "threads": 1,
        "models": [
            {"name": "bench_testmodels:lad", "params": {"scale": [1.0, 2.0]}},
            {"name": "bench_testmodels:knapsack", "params": {"items": 8}},
        ],
        "data": [{"name": "hald"}],
        "solvers": [{"backend": b, "solver": s} for b, s in GOOD]
        + [{"backend": "pyomo", "solver": "scip"}],
    }


def _bad_suite():
    return {
        "name": "misbehaving",
        "time_limit": 2,
        "margin": 3,
        "memory_limit_mb": 400,
        "plugins": ["bench_testplugins"],
        "models": [{"name": "bench_testmodels:lad"}],
        "data": [{"name": "hald"}],
        "solvers": [{"backend": "misbehave", "solver": s} for s in BAD]
        + [{"backend": "highs", "solver": "highs"}],
    }


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    pytest.importorskip("pyscipopt", reason="the MILP rows use SCIP")
    out = tmp_path_factory.mktemp("sweep")
    rows = bench.run_suite(_suite(), out, workers=2, progress=False, allow_plugins=True)
    return out, rows


def _by(rows):
    return {(r["model"], r["params"], r["backend"], r["solver"]): r for r in rows}


@pytest.mark.slow  # 3-6 s (the default suite is kept under 10 min)
def test_expected_rows(sweep):
    out, rows = sweep
    tasks = bench.expand(_suite())
    assert len(tasks) == 3 * 4
    assert sorted(r["key"] for r in rows) == sorted(t.key for t in tasks)
    assert len({r["key"] for r in rows}) == len(rows)  # no duplicates
    ds = data.load("hald")
    by = _by(rows)
    for scale in (1.0, 2.0):
        want = tm.lad_linprog(ds.X, ds.y, scale)
        params = json.dumps({"scale": scale})
        hashes = set()
        for b, s in [*GOOD, ("pyomo", "scip")]:
            r = by[("bench_testmodels:lad", params, b, s)]
            assert r["status"] == "optimal", r
            assert r["verified"] is True
            assert r["objective"] == pytest.approx(want, rel=1e-6, abs=1e-6)
            assert r["objective_check"] == pytest.approx(want, rel=1e-6, abs=1e-6)
            assert r["max_violation"] <= 1e-6
            assert (r["n"], r["p"], r["problem_class"]) == (13, 4, "LP")
            assert r["solver_version"], r
            assert r["threads"] == 1 and r["time_limit"] == 5
            assert r["solve_time"] >= 0 and r["wall_time"] >= r["solve_time"] * 0.5
            assert r["build_time"] >= 0 and r["peak_memory_mb"] > 10
            hashes.add(r["program_hash"])
        assert len(hashes) == 1  # every solver got the same program
    want = tm.knapsack_brute(ds.X, ds.y, 8)
    nope = by[("bench_testmodels:knapsack", json.dumps({"items": 8}), "cvxpy", "clarabel")]
    assert nope["status"] == "unavailable" and "MILP" in nope["message"]
    for b, s in [*MIP, ("pyomo", "highs")]:
        r = by[("bench_testmodels:knapsack", json.dumps({"items": 8}), b, s)]
        assert r["status"] == "optimal" and r["verified"] is True, r
        assert r["objective"] == pytest.approx(want, rel=1e-6)
        assert r["problem_class"] == "MILP" and r["mip_gap"] == pytest.approx(1e-4)


@pytest.mark.slow  # 5-7 s: the default suite keeps under 10 minutes
def test_misbehaving_solvers_are_recorded(tmp_path):
    """Segfault, hang, memory exhaustion and an exception: each recorded, the sweep goes on."""
    rows = bench.run_suite(_bad_suite(), tmp_path, workers=2, progress=False, allow_plugins=True)
    assert len(rows) == 5
    by = {r["solver"]: r for r in rows}
    seg = by["segv"]
    assert seg["status"] == "crashed" and "SIGSEGV" in seg["message"]
    assert "Segmentation fault" in seg["message"] and "bench_testplugins" in seg["message"]
    slp = by["sleepy"]
    assert slp["status"] == "killed" and "hard limit" in slp["message"]
    assert 5.0 <= slp["task_time"] < 60  # killed at time limit + margin = 5 s
    hog = by["hog"]
    assert hog["status"] in ("out_of_memory", "crashed"), hog
    assert hog["status"] == "out_of_memory" and hog["peak_memory_mb"] >= 400
    err = by["raiser"]
    assert err["status"] == "error" and "always fails" in err["message"]
    for r in (seg, slp, hog, err):  # what was known before the solve is kept
        assert r["n"] == 13 and r["program_hash"] and r["problem_class"] == "LP"
        assert r["objective"] is None or math.isnan(r["objective"])
    good = by["highs"]
    assert good["status"] == "optimal" and good["verified"]
    ds = data.load("hald")
    assert good["objective"] == pytest.approx(tm.lad_linprog(ds.X, ds.y), rel=1e-6)
    s = {(r["backend"], r["solver"]): r for r in bench.summarize(rows).to_dict("records")}
    assert s[("misbehave", "segv")]["failed"] == 1 and s[("misbehave", "segv")]["solved"] == 0
    assert s[("highs", "highs")]["solved"] == 1 and s[("highs", "highs")]["failed"] == 0


def test_store_meta_and_rows_on_disk(sweep):
    out, rows = sweep
    store = bench.Store(Path(out) / "results.sqlite")
    meta = store.meta()
    for k in ("platform", "cpu_model", "cpus", "memory_total_mb", "python", "numpy", "highspy"):
        assert k in meta, k
    assert meta["runs"][-1]["workers"] == 2 and meta["runs"][-1]["tasks"] == 12
    assert store.rows() == rows
    assert set(rows[0]) == set(bench.COLUMNS)


def test_warm_up_is_excluded(sweep):
    """Each worker warms a solver path up once; the first task's times do not include it."""
    _, rows = sweep
    ok = [r for r in rows if r["status"] == "optimal"]
    warm = [r for r in ok if r["warm_up_time"] > 0]
    assert warm, "no task recorded a warm-up"
    paths = {
        (r["worker_pid"], r["backend"], r["solver"], r["problem_class"][:2] == "MI") for r in ok
    }
    assert len(warm) <= len(paths)  # at most once per worker and path
    for r in ok:
        # the solve's wall time never contains the warm-up: it is measured after it
        assert r["wall_time"] < r["task_time"] - r["warm_up_time"] + 1e-6


def test_threads_are_fixed_in_the_worker(tmp_path):
    """The thread count reaches the worker's environment (BLAS) and the row."""
    from optml.bench.runner import WorkerPool, run_task

    pool = WorkerPool()
    try:
        t = bench.expand(
            {
                "threads": 3,
                "time_limit": 5,
                "models": [{"name": "bench_testmodels:lad"}],
                "data": [{"name": "hald"}],
                "solvers": [{"backend": "highs", "solver": "highs"}],
            }
        )[0]
        d = {**t.__dict__, "key": t.key, "instance": t.instance, "pythonpath": [str(HERE)]}
        row = run_task(d, pool)
        assert row["status"] == "optimal" and row["threads"] == 3
        (w,) = pool._idle
        env = Path(f"/proc/{w.proc.pid}/environ")
        if env.exists():
            text = env.read_bytes().decode(errors="replace")
            assert "OMP_NUM_THREADS=3" in text and "OPENBLAS_NUM_THREADS=3" in text
    finally:
        pool.close()


@pytest.mark.slow  # 3-6 s (the default suite is kept under 10 min)
def test_fresh_process_per_task(tmp_path):
    """max_tasks_per_worker=1: every task gets its own process."""
    suite = {
        "time_limit": 5,
        "models": [{"name": "bench_testmodels:lad", "params": {"scale": [1.0, 3.0]}}],
        "data": [{"name": "hald"}],
        "solvers": [{"backend": "highs", "solver": "highs"}],
    }
    rows = bench.run_suite(
        suite, tmp_path, workers=1, progress=False, allow_plugins=True, max_tasks_per_worker=1
    )
    assert [r["status"] for r in rows] == ["optimal"] * 2
    assert len({r["worker_pid"] for r in rows}) == 2
    assert all(r["warm_up_time"] > 0 for r in rows)
    objs = sorted(r["objective"] for r in rows)
    np.testing.assert_allclose(objs[1], 3 * objs[0], rtol=1e-6)
