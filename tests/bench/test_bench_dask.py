"""Dask LocalCluster with 2 workers gives the same rows as the local process pool."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from optml import bench  # noqa: E402

SUITE = {
    "name": "dask",
    "time_limit": 5,
    "margin": 3,
    "plugins": ["bench_testplugins"],
    "models": [
        {"name": "bench_testmodels:lad", "params": {"scale": 2.0}},
        {"name": "bench_testmodels:knapsack", "params": {"items": 6}},
    ],
    "data": [{"name": "hald"}],
    "solvers": [
        {"backend": "highs", "solver": "highs"},
        {"backend": "misbehave", "solver": "segv"},
    ],
}


@pytest.mark.slow  # 11 s: starts a local dask cluster
def test_dask_local_cluster_matches_process_pool(tmp_path):
    pytest.importorskip("dask.distributed", reason='needs pip install "optml-models[dist]"')
    local = bench.run_suite(
        SUITE, tmp_path / "local", workers=2, progress=False, allow_plugins=True
    )
    dask = bench.run_suite(
        SUITE, tmp_path / "dask", workers=2, scheduler="local", progress=False, allow_plugins=True
    )
    assert len(local) == len(dask) == 4

    def table(rows):
        def obj(v):
            return None if v is None or math.isnan(v) else round(v, 6)

        return {r["key"]: (r["status"], obj(r["objective"]), r["program_hash"]) for r in rows}

    assert table(local) == table(dask)
    assert sum(r["status"] == "crashed" for r in dask) == 2
    assert sum(r["status"] == "optimal" for r in dask) == 2


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_real_dask_scheduler_and_worker_processes(tmp_path):
    """`dask scheduler` and `dask worker` started as processes on localhost, as on a
    cluster: the suite runs through the address, rows as the local pool gives them."""
    import os
    import shutil
    import signal
    import subprocess
    import time

    distributed = pytest.importorskip("dask.distributed")
    import bench_testmodels as tm

    from optml import data

    dask_cli = shutil.which("dask") or str(Path(sys.executable).parent / "dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), *filter(None, [env.get("PYTHONPATH")])])
    logs = [open(tmp_path / f"{n}.log", "w") for n in ("scheduler", "worker")]
    procs = [
        subprocess.Popen(
            [dask_cli, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=logs[0],
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while True:  # the scheduler answers
            try:
                with distributed.Client(address, timeout=2) as c:
                    c.scheduler_info()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        procs.append(
            subprocess.Popen(
                [
                    dask_cli,
                    "worker",
                    address,
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                ],
                stdout=logs[1],
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                cwd=str(HERE),
            )
        )
        with distributed.Client(address, timeout=10) as c:
            c.wait_for_workers(2, timeout=120)
        rows = bench.run_suite(
            SUITE, tmp_path / "out", scheduler=address, progress=False, allow_plugins=True
        )
    finally:
        for p in reversed(procs):  # the processes this test started, and their children
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        for f in logs:
            f.close()
    assert len(rows) == 4
    by = {(r["model"], r["solver"]): r for r in rows}
    ds = data.load("hald")
    lad = by[("bench_testmodels:lad", "highs")]
    assert lad["status"] == "optimal" and lad["objective"] == pytest.approx(
        tm.lad_linprog(ds.X, ds.y, 2.0), rel=1e-6
    )
    knap = by[("bench_testmodels:knapsack", "highs")]
    assert knap["objective"] == pytest.approx(tm.knapsack_brute(ds.X, ds.y, 6), rel=1e-9)
    assert {
        by[(m, "segv")]["status"] for m in ("bench_testmodels:lad", "bench_testmodels:knapsack")
    } == {"crashed"}
    # the rows came from bench workers under the Dask worker processes, not from this one
    assert all(r["worker_pid"] != os.getpid() for r in rows)
    store = bench.Store(tmp_path / "out" / "results.sqlite")
    assert store.meta()["runs"][-1]["scheduler"] == address
