"""Running tasks: one process each, hard limits, rows stored on disk as each task ends.

Local parallelism is a thread pool whose threads each supervise one worker process; on a
cluster the same supervising function runs on Dask workers (``LocalCluster`` or a scheduler
address). Rows go to a SQLite store as they arrive, so an interrupted sweep loses nothing and
``resume=True`` skips the finished tasks.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from optml.bench.suite import Task, expand, load_suite

COLUMNS = [
    "key", "instance", "model", "params", "data", "data_params", "seed", "repeat", "n", "p",
    "backend", "solver", "solver_version", "threads", "time_limit", "status", "objective",
    "bound", "gap", "build_time", "solve_time", "wall_time", "peak_memory_mb",
    "objective_check", "max_violation", "verified", "problem_class", "message",
]  # fmt: skip

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def machine_info() -> dict:
    import importlib.metadata as md

    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    for pkg in ("optml-models", "numpy", "scipy", "cvxpy", "pyomo", "highspy", "pyscipopt"):
        try:
            info[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return info


def run_task(task: dict, workdir: str | None = None) -> dict:
    """Run one task in a fresh process with a wall-clock (and optional memory) limit.

    Returns the row; a crash, hang or memory exhaustion is a status, never an exception.
    """
    workdir = workdir or tempfile.mkdtemp(prefix="optml-bench-")
    tpath = Path(workdir) / f"{task['key']}.task.json"
    opath = Path(workdir) / f"{task['key']}.out.json"
    tpath.write_text(json.dumps(task, default=str))
    env = dict(os.environ)
    for var in _THREAD_VARS:
        env[var] = str(task.get("threads") or 1)
    mem = task.get("memory_limit_mb")

    def limits():  # runs in the child before exec
        if mem:
            b = int(mem) * 1024 * 1024
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (b, b))

    limit = float(task["time_limit"]) + float(task.get("margin", 10.0))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "optml.bench.worker", str(tpath), str(opath)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=limits if mem else None,
    )  # fmt: skip
    try:
        _, err = proc.communicate(timeout=limit)
        rc = proc.returncode
        status = None
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        rc, status = proc.returncode, "killed"
    elapsed = time.perf_counter() - t0
    row = {k: task.get(k) for k in ("key", "model", "data", "seed", "repeat", "backend",
                                     "solver", "threads", "time_limit")}  # fmt: skip
    row["instance"] = task["instance"]
    row["params"] = json.dumps(task.get("params", {}), sort_keys=True, default=str)
    row["data_params"] = json.dumps(task.get("data_params", {}), sort_keys=True, default=str)
    if status == "killed":
        row.update(
            status="killed",
            wall_time=elapsed,
            message=f"no answer within the hard limit of {limit:.0f} s; process killed",
        )
    elif opath.exists():
        row.update(json.loads(opath.read_text()))
    elif rc is not None and rc < 0:
        name = signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else str(-rc)
        row.update(status="crashed", wall_time=elapsed, message=f"worker died with {name}")
    else:
        tail = (err or b"").decode(errors="replace")[-400:]
        oom = "MemoryError" in tail or "Cannot allocate" in tail
        row.update(status="out_of_memory" if oom else "crashed", wall_time=elapsed,
                   message=f"worker exited with code {rc}: {tail}")  # fmt: skip
    for p in (tpath, opath):
        p.unlink(missing_ok=True)
    return {c: row.get(c) for c in COLUMNS}


class Store:
    """A SQLite file of result rows (one table ``results``) and machine info (``meta``)."""

    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as con:
            cols = ", ".join(f'"{c}"' for c in COLUMNS)
            con.execute(f"CREATE TABLE IF NOT EXISTS results ({cols})")
            con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")

    def _connect(self):
        return sqlite3.connect(self.path, timeout=30)

    def done_keys(self) -> set[str]:
        with self._connect() as con:
            return {r[0] for r in con.execute("SELECT key FROM results")}

    def add(self, row: dict) -> None:
        with self._lock, self._connect() as con:
            marks = ", ".join("?" for _ in COLUMNS)
            con.execute(
                f"INSERT INTO results VALUES ({marks})", [_plain(row.get(c)) for c in COLUMNS]
            )

    def set_meta(self, info: dict) -> None:
        with self._lock, self._connect() as con:
            for k, v in info.items():
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, json.dumps(v)))

    def rows(self) -> list[dict]:
        with self._connect() as con:
            cur = con.execute("SELECT * FROM results")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _plain(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float | int | str) or v is None:
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return json.dumps(v, default=str)


def run_tasks(
    tasks: list[Task], store: Store, workers: int = 1, scheduler=None, resume: bool = False,
    progress: bool = True,
) -> list[dict]:  # fmt: skip
    """Run tasks (skipping finished ones when ``resume``) and store each row as it ends."""
    done = store.done_keys()
    if done and not resume:
        raise FileExistsError(
            f"{store.path} already holds {len(done)} results; pass resume=True (--resume) to "
            f"continue that sweep, or choose another output folder"
        )
    todo = [t for t in tasks if t.key not in done]
    store.set_meta(machine_info())
    dicts = []
    for t in todo:
        d = asdict(t)
        d["key"], d["instance"] = t.key, t.instance
        dicts.append(d)
    bar = _Progress(len(dicts), enabled=progress)
    rows = []
    if scheduler is not None:
        rows = _run_dask(dicts, store, workers, scheduler, bar)
    else:
        with ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
            futs = [pool.submit(run_task, d) for d in dicts]
            for f in as_completed(futs):
                row = f.result()
                store.add(row)
                rows.append(row)
                bar.step()
    bar.close()
    return rows


def _run_dask(dicts, store, workers, scheduler, bar):
    from dask.distributed import Client, LocalCluster
    from dask.distributed import as_completed as dask_completed

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=max(1, int(workers)), threads_per_worker=1,
                               processes=True, dashboard_address=None)  # fmt: skip
        client = Client(cluster)
    else:
        client = Client(scheduler)
    rows = []
    try:
        futs = [client.submit(run_task, d, pure=False) for d in dicts]
        for f in dask_completed(futs):
            row = f.result()
            store.add(row)
            rows.append(row)
            bar.step()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return rows


class _Progress:
    def __init__(self, total, enabled=True):
        self.total, self.done, self.t0 = total, 0, time.perf_counter()
        self.enabled = enabled and total > 0

    def step(self):
        self.done += 1
        if not self.enabled:
            return
        el = time.perf_counter() - self.t0
        eta = el / self.done * (self.total - self.done)
        width = 30
        fill = int(width * self.done / self.total)
        sys.stderr.write(
            f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} "
            f"elapsed {el:5.1f} s, ETA {eta:5.1f} s"
        )
        sys.stderr.flush()

    def close(self):
        if self.enabled:
            sys.stderr.write("\n")


def run_suite(
    suite, out, workers: int = 1, scheduler=None, resume: bool = False, progress: bool = True
):
    """Run a suite (path, TOML text or dict) into ``out/results.sqlite``; return the rows."""
    spec = load_suite(suite)
    store = Store(Path(out) / "results.sqlite")
    run_tasks(expand(spec), store, workers=workers, scheduler=scheduler, resume=resume,
              progress=progress)  # fmt: skip
    return store.rows()
