"""Running tasks under hard limits; rows stored on disk as each task ends.

Isolation model
---------------
Tasks run in *worker processes* (:mod:`optml.bench.worker`), never in the caller's process. A
worker is started once (paying the Python start and the numpy/scipy/solver imports once) and
then runs tasks **one at a time**, each with its own wall-clock and memory limit enforced from
outside by a supervising thread:

* the worker dies (segfault, abort, ``os._exit``): the task is recorded ``crashed`` (or
  ``out_of_memory`` when its last words say so) and a fresh worker replaces it;
* no answer within ``time_limit + margin`` seconds: the worker's whole process group is
  killed, the task is recorded ``killed``, a fresh worker replaces it;
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
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from optml.bench.store import COLUMNS, Store
from optml.bench.suite import Task, expand, load_suite

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")  # fmt: skip
#: seconds a new worker may take to start (interpreter, imports) before it counts as crashed
STARTUP_TIMEOUT = 300.0
#: seconds allowed for a task's data, program build and warm-up (before the solve's limit)
DEFAULT_SETUP_LIMIT = 300.0
#: tasks a worker runs before it is replaced (0: never)
DEFAULT_MAX_TASKS = 200
_OOM_WORDS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "out of memory")


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
    for pkg in ("optml-models", "numpy", "scipy", "cvxpy", "pyomo", "highspy", "pyscipopt",
                "clarabel", "osqp", "scs", "gurobipy", "cplex", "xpress", "dask",
                "distributed"):  # fmt: skip
        try:
            info[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return info


# --------------------------------------------------------------------------- workers
def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MB (Linux; 0 elsewhere)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total / 1024.0


def worker_path(extra=()) -> list[str]:
    """Folders a worker needs on ``PYTHONPATH`` so it can import what the caller can: the
    caller's own additions to ``sys.path`` (not the interpreter's), the working directory and
    ``extra`` (e.g. the suite file's folder)."""
    base = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    out = []
    for p in [*extra, os.getcwd(), *sys.path]:
        p = os.path.realpath(p or os.getcwd())
        if not os.path.isdir(p) or any(p == b or p.startswith(b + os.sep) for b in base):
            continue
        if p not in out:
            out.append(p)
    return out


class WorkerProcess:
    """One long-lived worker process and the pipes to it."""

    def __init__(self, threads: int = 1, pythonpath=(), preload=(), max_tasks: int = 0):
        self.config = (int(threads or 1), tuple(pythonpath), tuple(sorted(preload)))
        self.max_tasks = int(max_tasks or 0)
        self.tasks_run = 0
        env = dict(os.environ)
        for var in _THREAD_VARS:
            env[var] = str(self.config[0])
        if pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(
                [*pythonpath, *filter(None, [env.get("PYTHONPATH")])]
            )
        env["OPTML_BENCH_PRELOAD"] = ",".join(self.config[2])
        env["OPTML_BENCH_THREADS"] = str(self.config[0])
        rfd, wfd = os.pipe()
        self.log = tempfile.TemporaryFile(prefix="optml-bench-worker-", suffix=".log")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "optml.bench.worker", "--serve", str(wfd),
                 str(self.max_tasks)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.log,
                pass_fds=(wfd,), env=env, start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(wfd)
        self._rfd = rfd
        self._buf = b""
        self.ready = False

    # -- low level
    def _read_line(self, deadline: float, poll=None, poll_every: float = 0.05):
        """Next line from the worker; ``("line", text)``, ``("eof", None)``, ``("timeout",
        None)`` or whatever ``poll()`` returns when it returns something."""
        while b"\n" not in self._buf:
            now = time.monotonic()
            if now >= deadline:
                return "timeout", None
            wait = deadline - now if poll is None else min(deadline - now, poll_every)
            ready, _, _ = select.select([self._rfd], [], [], max(wait, 0.0))
            if ready:
                chunk = os.read(self._rfd, 1 << 16)
                if not chunk:
                    return "eof", None
                self._buf += chunk
            elif poll is not None:
                got = poll()
                if got is not None:
                    return got
        line, self._buf = self._buf.split(b"\n", 1)
        return "line", line.decode()

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT):
        kind, text = self._read_line(time.monotonic() + timeout)
        self.ready = kind == "line"
        return kind, text

    def log_tail(self, start: int = 0, size: int = 600) -> str:
        try:
            self.log.flush()
            end = self.log.seek(0, os.SEEK_END)
            self.log.seek(max(start, end - size))
            return self.log.read().decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""

    def log_offset(self) -> int:
        try:
            return self.log.seek(0, os.SEEK_END)
        except (OSError, ValueError):
            return 0

    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def exhausted(self) -> bool:
        return bool(self.max_tasks) and self.tasks_run >= self.max_tasks

    def kill(self) -> None:
        """Kill the worker's whole process group (solver subprocesses included)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        self.close()

    def close(self) -> None:
        for f in (self.proc.stdin,):
            try:
                f.close()
            except (OSError, ValueError, BrokenPipeError):
                pass
        if self._rfd is not None:
            try:
                os.close(self._rfd)
            except OSError:
                pass
            self._rfd = None
        try:
            self.log.close()
        except OSError:  # pragma: no cover
            pass

    # -- one task
    def run(self, task: dict, limit: float, memory_limit_mb=None, stop=None,
            setup_limit: float | None = None) -> dict:  # fmt: skip
        """Send one task and supervise it; returns the worker's row or a failure row.

        ``setup_limit`` bounds the data, build and warm-up phase; ``limit`` the solve, from
        the moment the worker says it starts."""
        offset = self.log_offset()
        t0 = time.monotonic()
        try:
            self.proc.stdin.write((json.dumps(task, default=str) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._died(offset, t0)
        self.tasks_run += 1
        state = {"peak": 0.0}

        def poll():
            if stop is not None and stop.is_set():
                return "stopped", None
            if memory_limit_mb:
                rss = _rss_mb(self.proc.pid)
                state["peak"] = max(state["peak"], rss)
                if rss > memory_limit_mb:
                    return "memory", rss
            return None

        every = 0.02 if memory_limit_mb else 0.25
        partial: dict = {}
        deadline = t0 + (setup_limit if setup_limit is not None else limit)
        while True:
            kind, text = self._read_line(deadline, poll=poll, poll_every=every)
            if kind != "line":
                break
            row = json.loads(text)
            if "partial" in row:  # sizes, class, hash: known before the solve
                partial.update(row["partial"])
                if partial.get("phase") == "solve":  # built and warm: the hard limit starts
                    deadline = time.monotonic() + limit
                continue
            row["task_time"] = time.monotonic() - t0
            partial.pop("phase", None)
            return {**partial, **row}
        elapsed = time.monotonic() - t0
        solving = partial.pop("phase", None) == "solve"
        if kind == "eof":
            return {**partial, **self._died(offset, t0)}
        self.kill()
        if kind == "stopped":
            return {"status": "stopped", "task_time": elapsed}
        if kind == "memory":
            return {**partial, "status": "out_of_memory", "task_time": elapsed,
                    "peak_memory_mb": max(state["peak"], text),
                    "message": f"resident memory {text:.0f} MB passed the limit of "
                               f"{memory_limit_mb} MB; worker killed"}  # fmt: skip
        if not solving:
            msg = (f"data, build and warm-up took more than the setup limit of "
                   f"{setup_limit:.3g} s; worker killed")  # fmt: skip
        else:
            msg = (f"no answer within the hard limit of {limit:.3g} s (time limit + margin); "
                   f"worker killed")  # fmt: skip
        return {**partial, "status": "killed", "task_time": elapsed,
                "peak_memory_mb": state["peak"] or None, "message": msg}  # fmt: skip

    def _died(self, offset: int, t0: float) -> dict:
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - closed its pipe but lives on
            rc = None
        elapsed = time.monotonic() - t0
        tail = self.log_tail(offset)
        self.kill()
        if rc is not None and rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            status = "out_of_memory" if -rc == signal.SIGKILL and _oom_killed() else "crashed"
            msg = f"worker died with {name}"
        else:
            status = "out_of_memory" if any(w in tail for w in _OOM_WORDS) else "crashed"
            msg = f"worker exited with code {rc}"
        if tail:
            msg += ": " + tail[-400:]
        return {"status": status, "task_time": elapsed, "message": msg}


def _oom_killed() -> bool:  # the kernel's OOM killer leaves no trace we can read portably
    return False


class WorkerPool:
    """Idle worker processes, handed to one supervising thread at a time."""

    def __init__(self, max_tasks_per_worker: int = DEFAULT_MAX_TASKS):
        self.max_tasks = int(max_tasks_per_worker or 0)
        self._idle: list[WorkerProcess] = []
        self._busy: set[WorkerProcess] = set()
        self._lock = threading.Lock()
        self.started = 0

    def acquire(self, threads=1, pythonpath=(), preload=()):
        """An idle worker with this configuration, or a new one (``(worker, error_row)``)."""
        config = (int(threads or 1), tuple(pythonpath), tuple(sorted(preload)))
        with self._lock:
            for w in self._idle:
                if w.config == config:
                    self._idle.remove(w)
                    self._busy.add(w)
                    return w, None
            stale = self._idle.pop(0) if self._idle else None
        if stale is not None:
            stale.kill()
        w = WorkerProcess(threads, pythonpath, preload, self.max_tasks)
        with self._lock:
            self._busy.add(w)
            self.started += 1
        kind, text = w.wait_ready()
        if kind != "line":
            tail = w.log_tail()
            w.kill()
            with self._lock:
                self._busy.discard(w)
            why = "did not start in time" if kind == "timeout" else "died while starting"
            return None, {"status": "crashed", "message": f"worker {why}: {tail[-500:]}"}
        return w, None

    def release(self, w: WorkerProcess) -> None:
        with self._lock:
            self._busy.discard(w)
            if w.alive() and w.ready and w._rfd is not None and not w.exhausted:
                self._idle.append(w)
                return
        w.kill()

    def kill_busy(self) -> None:
        with self._lock:
            busy = list(self._busy)
        for w in busy:
            try:
                os.killpg(w.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        with self._lock:
            workers = self._idle + list(self._busy)
            self._idle, self._busy = [], set()
        for w in workers:
            w.kill()


_LOCAL_POOL: WorkerPool | None = None
_LOCAL_LOCK = threading.Lock()


def _local_pool() -> WorkerPool:
    """The pool of this process (used where no pool is passed, e.g. on a Dask worker)."""
    global _LOCAL_POOL
    with _LOCAL_LOCK:
        if _LOCAL_POOL is None:
            import atexit

            _LOCAL_POOL = WorkerPool()
            atexit.register(_LOCAL_POOL.close)
        return _LOCAL_POOL


def _base_row(task: dict) -> dict:
    row = {k: task.get(k) for k in ("key", "instance", "model", "data", "seed", "repeat",
                                     "backend", "solver", "threads", "time_limit",
                                     "mip_gap")}  # fmt: skip
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
    w, failed = pool.acquire(task.get("threads") or 1, task.get("pythonpath") or (),
                             task.get("preload") or ())  # fmt: skip
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
    if row.get("status") not in ("optimal", "time_limit", "infeasible", "unbounded", "error"):
        row["backend"], row["solver"] = backend, solver  # keep the names the suite asked for
    row.setdefault("task_time", time.monotonic() - t0)
    row["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return {c: row.get(c) for c in COLUMNS}


# --------------------------------------------------------------------------- sweeps
def _task_dicts(tasks: list[Task], pythonpath=()) -> list[dict]:
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
        out.append(d)
    return out


#: modules a worker imports before its first task when the sweep uses that backend
_BACKEND_MODULES = {
    "highs": ("optml.backends.highs", "highspy"),
    "cvxpy": ("optml.backends.cvxpy_backend", "cvxpy"),
    "pyomo": ("optml.backends.pyomo_backend", "pyomo.environ"),
}


def run_tasks(
    tasks: list[Task], store: Store, workers: int = 1, scheduler=None, resume: bool = False,
    progress: bool = True, max_tasks_per_worker: int = DEFAULT_MAX_TASKS, pythonpath=None,
    settings: dict | None = None,
) -> list[dict]:  # fmt: skip
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
    """
    done = store.done_keys()
    if done and not resume:
        raise FileExistsError(
            f"{store.path} already holds {len(done)} results; pass resume=True (--resume) to "
            f"continue that sweep, or choose another output folder"
        )
    todo = [t for t in tasks if t.key not in done]
    info = machine_info()
    store.set_meta(info)
    store.log_run(
        {"tasks": len(tasks), "to_run": len(todo), "workers": workers,
         "scheduler": scheduler, "max_tasks_per_worker": max_tasks_per_worker,
         **(settings or {})}, info,
    )  # fmt: skip
    dicts = _task_dicts(todo, worker_path() if pythonpath is None else pythonpath)
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
        cluster = LocalCluster(n_workers=max(1, int(workers)), threads_per_worker=1,
                               processes=True, dashboard_address=None)  # fmt: skip
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futs = [client.submit(run_task, d, pure=False, key=f"optml-bench-{d['key']}")
                for d in dicts]  # fmt: skip
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
    """A one-line progress bar with ETA on stderr."""

    def __init__(self, total, enabled=True):
        self.total, self.done, self.t0 = total, 0, time.perf_counter()
        self.enabled = enabled and total > 0
        self.failed = 0

    def step(self, row=None):
        self.done += 1
        if row and row.get("status") in ("crashed", "killed", "out_of_memory", "error"):
            self.failed += 1
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
        if self.enabled:
            sys.stderr.write("\n")


def run_suite(
    suite, out, workers: int = 1, scheduler=None, resume: bool = False, progress: bool = True,
    max_tasks_per_worker: int = DEFAULT_MAX_TASKS,
):  # fmt: skip
    """Run a suite (path, TOML text or dict) into ``out/results.sqlite``; return all rows.

    The solvers are checked before any work: an unknown solver or backend raises
    :class:`~optml.bench.suite.SuiteError` listing the installed ones.
    """
    from optml.bench.suite import check_solvers

    spec = load_suite(suite)
    extra = []
    if not isinstance(suite, dict) and Path(str(suite)).is_file():
        extra.append(str(Path(str(suite)).resolve().parent))
    path = worker_path(extra)
    check_solvers(spec, path)
    store = Store(Path(out) / "results.sqlite")
    run_tasks(expand(spec), store, workers=workers, scheduler=scheduler, resume=resume,
              progress=progress, max_tasks_per_worker=max_tasks_per_worker, pythonpath=path,
              settings={"suite": spec.get("name")})  # fmt: skip
    return store.rows()
