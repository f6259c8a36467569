"""Running tasks under hard limits; rows stored on disk as each task ends.

Isolation model
---------------
Tasks run in *worker processes* (:mod:`optml.bench.worker`), never in the caller's process. A
worker is started once (paying the Python start and the numpy/scipy/solver imports once) and
then runs tasks **one at a time**, each with its own wall-clock and memory limit enforced from
outside by a supervising thread:

* the worker dies (segfault, abort, ``os._exit``): the task is recorded ``crashed`` (or
  ``out_of_memory`` when its last words say so) and a fresh worker replaces it;
* no answer within ``time_limit + margin`` seconds of the solve's start (data, build and
  warm-up have their own ``setup_limit``): the worker's whole process group is killed, the
  task is recorded ``killed``, a fresh worker replaces it;
* its resident memory (with its child processes) passes ``memory_limit_mb``: killed and
  recorded ``out_of_memory``, replaced.

``max_tasks_per_worker=1`` gives a brand-new process for every task (the strictest isolation,
at the price of the interpreter start and imports per task); the default recycles a worker
after 200 tasks. Local parallelism is a thread pool whose threads each supervise one worker; on
a cluster the same supervising function runs on Dask workers (a ``LocalCluster`` or any
scheduler address), each Dask worker process keeping its own pool of bench workers.

Rows go to a SQLite store as they arrive, so an interrupted sweep loses nothing and
``resume=True`` skips the finished tasks.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from optml.bench.pool import (  # noqa: F401  (re-exported)
    DEFAULT_MAX_TASKS,
    DEFAULT_SETUP_LIMIT,
    STARTUP_TIMEOUT,
    WorkerPool,
    WorkerProcess,
    _local_pool,
    worker_path,
)
from optml.bench.store import COLUMNS, Store
from optml.bench.suite import Task, expand, load_suite


# --------------------------------------------------------------------------- machine info
def machine_info() -> dict:
    """Platform, CPU, memory, load and package versions: the fairness record of a sweep."""
    import importlib.metadata as md

    info = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "node": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    try:
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        pass
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    info["memory_total_mb"] = int(line.split()[1]) // 1024
                    break
    except OSError:  # pragma: no cover - not Linux
        info["cpu_model"] = platform.processor()
    for pkg in (
        "optml-models",
        "numpy",
        "scipy",
        "cvxpy",
        "pyomo",
        "highspy",
        "pyscipopt",
        "clarabel",
        "osqp",
        "scs",
        "gurobipy",
        "cplex",
        "xpress",
        "dask",
        "distributed",
    ):
        try:
            info[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return info


def _base_row(task: dict) -> dict:
    row = {
        k: task.get(k)
        for k in (
            "key",
            "instance",
            "model",
            "data",
            "seed",
            "repeat",
            "backend",
            "solver",
            "threads",
            "time_limit",
            "mip_gap",
        )
    }
    row["params"] = json.dumps(task.get("params", {}), sort_keys=True, default=str)
    row["data_params"] = json.dumps(task.get("data_params", {}), sort_keys=True, default=str)
    return row


def run_task(task: dict, pool: WorkerPool | None = None, stop=None) -> dict | None:
    """Run one task (a dict from :class:`~optml.bench.suite.Task` plus ``key`` and
    ``instance``) in a worker process under its hard limits; return the row.

    A crash, hang or memory exhaustion is a status, never an exception. Returns ``None`` when
    ``stop`` (a :class:`threading.Event`) was set meanwhile: the task did not finish and
    must not be recorded.
    """
    pool = pool or _local_pool()
    limit = float(task["time_limit"]) + float(task.get("margin", 10.0))
    t0 = time.monotonic()
    w, failed = pool.acquire(
        task.get("threads") or 1, task.get("pythonpath") or (), task.get("preload") or ()
    )
    if failed is not None:
        out = failed
    else:
        try:
            setup = float(task.get("setup_limit") or DEFAULT_SETUP_LIMIT)
            out = w.run(task, limit, task.get("memory_limit_mb"), stop, setup)
        finally:
            pool.release(w)
    if out.get("status") == "stopped" or (stop is not None and stop.is_set()):
        return None
    row = _base_row(task)
    backend, solver = row["backend"], row["solver"]
    row.update(out)
    from optml.program.result import STATUSES

    if row.get("status") not in STATUSES:
        # a crash or kill: the names resolved before the solve, else those the suite asked for
        row["backend"] = out.get("backend") or backend
        row["solver"] = out.get("solver") or solver
    if row.get("solver") is None:
        row["solver"] = "auto"  # not resolved (the task failed before its program existed)
    row["requested"] = f"{task.get('backend') or 'auto'}/{task.get('solver') or 'auto'}"
    if not row.get("log_file") and task.get("log_dir") and task.get("key"):
        log = Path(task["log_dir"]) / f"{task['key']}.log"
        if log.is_file():  # a crash or kill during the solve: what the solver said last
            from optml.bench.traces import cap_log

            cap_log(log)
            row["log_file"] = os.path.relpath(log, Path(task["log_dir"]).parent)
    row.setdefault("task_time", time.monotonic() - t0)
    row["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return {c: row.get(c) for c in COLUMNS}


# --------------------------------------------------------------------------- sweeps
def _task_dicts(
    tasks: list[Task], pythonpath=(), log_dir=None, traces=True, suite_dir=None
) -> list[dict]:
    preload = set()
    for t in tasks:
        preload.update(t.plugins)
        preload.update(_BACKEND_MODULES.get(t.backend, ()))
        if t.solver == "scip":
            preload.add("pyscipopt")
    out = []
    for t in tasks:
        d = asdict(t)
        d["key"], d["instance"] = t.key, t.instance
        d["pythonpath"], d["preload"] = list(pythonpath), sorted(preload)
        d["log_dir"], d["traces"] = (str(log_dir) if log_dir else None), bool(traces)
        d["suite_dir"] = str(suite_dir) if suite_dir else None  # relative data files
        out.append(d)
    return out


#: modules a worker imports before its first task when the sweep uses that backend
_BACKEND_MODULES = {
    "highs": ("optml.backends.highs", "highspy"),
    "cvxpy": ("optml.backends.cvxpy_backend", "cvxpy"),
    "pyomo": ("optml.backends.pyomo_backend", "pyomo.environ"),
}


def run_tasks(
    tasks: list[Task],
    store: Store,
    workers: int = 1,
    scheduler=None,
    resume: bool = False,
    progress: bool = True,
    max_tasks_per_worker: int = DEFAULT_MAX_TASKS,
    pythonpath=None,
    settings: dict | None = None,
    retry=(),
    traces: bool = True,
    log_dir="default",
    suite_dir=None,
) -> list[dict]:
    """Run tasks (skipping finished ones when ``resume``) and store each row as it ends.

    Parameters
    ----------
    workers : int
        Tasks run at once (worker processes locally; Dask workers of a ``LocalCluster``).
    scheduler : None, "local" or str
        ``None``: local thread pool; ``"local"``: a Dask ``LocalCluster`` of ``workers``
        processes; any other string: the address of a Dask scheduler.
    max_tasks_per_worker : int
        Tasks a worker process runs before it is replaced; 1 gives a fresh process per task.
    retry : tuple of str
        With ``resume``, stored tasks with these statuses (e.g. ``("killed", "crashed")``)
        run again; their new rows replace the old ones.
    traces : bool
        Record each task's incumbent and bound over time (its solver log, read by
        :mod:`optml.bench.traces`) and keep the log; ``False`` runs the solvers silent.
    log_dir : path or None
        Folder of the per-task solver logs (default: ``logs/`` next to the store); ``None``
        keeps no log files (the traces are still read).
    """
    done = store.done_keys(skip_statuses=retry)
    if done and not resume:
        raise FileExistsError(
            f"{store.path} already holds {len(done)} results; pass resume=True (--resume) to "
            f"continue that sweep, or choose another output folder"
        )
    sweep = _sweep_settings(tasks)
    if store.done_keys():
        _check_same_settings(store, sweep)
    todo = [t for t in tasks if t.key not in done]
    if scheduler is not None and scheduler != "local":
        _check_scheduler(scheduler)
    store.set_meta({"sweep_settings": sweep})
    info = machine_info()
    store.set_meta(info)
    store.log_run(
        {
            "tasks": len(tasks),
            "to_run": len(todo),
            "workers": workers,
            "scheduler": scheduler,
            "max_tasks_per_worker": max_tasks_per_worker,
            "traces": bool(traces),
            **(settings or {}),
        },
        info,
    )
    if log_dir == "default":
        log_dir = Path(store.path).resolve().parent / "logs"
    dicts = _task_dicts(
        todo, worker_path() if pythonpath is None else pythonpath, log_dir, traces, suite_dir
    )
    bar = _Progress(len(dicts), enabled=progress)
    rows: list[dict] = []
    try:
        if scheduler is not None:
            _run_dask(dicts, store, workers, scheduler, bar, rows)
        else:
            _run_local(dicts, store, workers, max_tasks_per_worker, bar, rows)
    finally:
        bar.close()
    return rows


#: settings of a sweep that change what a row measures: a resumed sweep must keep them
_SWEEP_KEYS = ("time_limit", "threads", "mip_gap")


def _sweep_settings(tasks: list[Task]) -> dict:
    return {
        k: sorted({getattr(t, k) for t in tasks}, key=lambda v: (v is None, v)) for k in _SWEEP_KEYS
    }


def _check_same_settings(store: Store, sweep: dict) -> None:
    """Refuse to resume a store written with other sweep settings (its rows would be merged
    with the new ones as if they were repeats)."""
    from optml.bench.suite import SuiteError

    old = store.meta().get("sweep_settings")
    if old is None:  # a store of an older version: read the settings off its rows
        rows = store.rows()
        old = {
            k: sorted({r.get(k) for r in rows}, key=lambda v: (v is None, v))
            for k in ("time_limit", "threads")
        }
    differ = {
        k: (old[k], sweep[k])
        for k in _SWEEP_KEYS
        if k in old and [_num(v) for v in old[k]] != [_num(v) for v in sweep[k]]
    }
    if differ:
        what = "; ".join(f"{k}: stored {a} -> now {b}" for k, (a, b) in differ.items())
        raise SuiteError(
            f"{store.path} holds a sweep run with other settings ({what}); resuming would mix "
            "rows of both settings as repeats. Restore the settings, or write the new sweep to "
            "another output folder (--out)"
        )


def _num(v):
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


def _check_scheduler(address: str, timeout: float = 10.0) -> None:
    """A clear error for a Dask scheduler address that is malformed or does not answer."""
    import socket
    from urllib.parse import urlparse

    u = urlparse(address if "://" in address else f"tcp://{address}")
    try:
        host, port = u.hostname, u.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise ConnectionError(
            f"--scheduler {address!r} is not a Dask scheduler address: use 'tcp://HOST:PORT' "
            "(e.g. tcp://10.0.0.5:8786), or 'local' for a LocalCluster on this machine"
        )
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise ConnectionError(
            f"no Dask scheduler answers at {address!r} ({exc}); start one with "
            f"'dask scheduler' on {host} (port {port}), check the address, or use "
            "--scheduler local"
        ) from None


def _run_local(dicts, store, workers, max_tasks, bar, rows):
    pool = WorkerPool(max_tasks)
    stop = threading.Event()
    ex = ThreadPoolExecutor(max_workers=max(1, int(workers)), thread_name_prefix="optml-bench")
    futs = []
    try:
        futs = [ex.submit(run_task, d, pool, stop) for d in dicts]
        for f in as_completed(futs):
            row = f.result()
            if row is None:
                continue
            store.add(row)
            rows.append(row)
            bar.step(row)
    except BaseException:
        stop.set()  # interrupted: running tasks are killed and not recorded
        for f in futs:
            f.cancel()
        pool.kill_busy()
        raise
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
        pool.close()


def _run_dask(dicts, store, workers, scheduler, bar, rows):
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError as exc:
        raise ImportError(
            'a Dask scheduler needs dask.distributed: pip install "optml-models[dist]"'
        ) from exc
    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=max(1, int(workers)),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futs = [
            client.submit(run_task, d, pure=False, key=f"optml-bench-{d['key']}") for d in dicts
        ]
        for f in dask_completed(futs):
            row = f.result()
            store.add(row)
            rows.append(row)
            bar.step(row)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class _Progress:
    """A progress bar with ETA and failure count on stderr: tqdm with ``disable=None``, which
    turns itself off when stderr is not a terminal (no carriage returns in CI logs). Without
    tqdm, a plain one-line bar, likewise only on a terminal."""

    def __init__(self, total, enabled=True):
        self.total, self.done, self.t0 = total, 0, time.perf_counter()
        self.failed = 0
        self.bar = None
        self.enabled = bool(enabled) and total > 0 and _isatty(sys.stderr)
        if enabled and total > 0:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self.bar = tqdm(
                total=total, disable=None, unit="task", file=sys.stderr, dynamic_ncols=True
            )
            self.enabled = False  # tqdm draws (or, off a terminal, stays silent)

    def step(self, row=None):
        self.done += 1
        if row and row.get("status") in ("crashed", "killed", "out_of_memory", "error"):
            self.failed += 1
        if self.bar is not None:
            if self.failed:
                self.bar.set_postfix(failed=self.failed, refresh=False)
            self.bar.update(1)
            return
        if not self.enabled:
            return
        el = time.perf_counter() - self.t0
        eta = el / self.done * (self.total - self.done)
        width = 30
        fill = int(width * self.done / self.total)
        bad = f", {self.failed} failed" if self.failed else ""
        sys.stderr.write(
            f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total}{bad} "
            f"elapsed {el:6.1f} s, ETA {eta:6.1f} s "
        )
        sys.stderr.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            sys.stderr.write("\n")


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def run_suite(
    suite,
    out,
    workers: int = 1,
    scheduler=None,
    resume: bool = False,
    progress: bool = True,
    max_tasks_per_worker: int = DEFAULT_MAX_TASKS,
    retry=(),
    allow_plugins: bool = False,
    traces: bool = True,
):
    """Run a suite (path, TOML text or dict) into ``out/results.sqlite``; return all rows.

    The whole suite is validated before anything is imported; the solvers are checked
    before any work (an unknown solver or backend raises
    :class:`~optml.bench.suite.SuiteError` listing the installed ones). A suite's own code
    (``plugins``, ``"module:attr"`` models outside optml) runs only with
    ``allow_plugins=True`` (``--allow-plugins``), and then only in worker processes; only
    then does the suite file's folder go on the workers' import path.
    """
    from optml.bench.suite import check_solvers

    spec = load_suite(suite)
    extra = []
    if allow_plugins and not isinstance(suite, dict) and Path(str(suite)).is_file():
        extra.append(str(Path(str(suite)).resolve().parent))
    path = worker_path(extra)
    if not allow_plugins and not isinstance(suite, dict) and Path(str(suite)).is_file():
        folder = os.path.realpath(Path(str(suite)).resolve().parent)
        path = [p for p in path if os.path.realpath(p) != folder]
    check_solvers(spec, path, allow_plugins=allow_plugins)
    store = Store(Path(out) / "results.sqlite")
    run_tasks(
        expand(spec),
        store,
        workers=workers,
        scheduler=scheduler,
        resume=resume,
        progress=progress,
        max_tasks_per_worker=max_tasks_per_worker,
        pythonpath=path,
        settings={"suite": spec.get("name")},
        retry=retry,
        traces=traces,
        suite_dir=Path(spec.path).resolve().parent if spec.path else None,
    )
    return store.rows()
