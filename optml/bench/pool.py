"""Worker processes and their pool: the isolation and the hard limits of optml.bench.

A :class:`WorkerProcess` is one long-lived ``python -m optml.bench.worker`` process with a
pipe for tasks (its stdin) and a separate pipe for rows; :meth:`WorkerProcess.run` sends one
task and supervises it from outside: wall-clock limit (setup, then solve), resident-memory
limit, death. A :class:`WorkerPool` hands idle workers to supervising threads and replaces the
ones that were killed, died or ran their quota of tasks.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time

_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
#: seconds a new worker may take to start (interpreter, imports) before it counts as crashed
STARTUP_TIMEOUT = 300.0
#: seconds allowed for a task's data, program build and warm-up (before the solve's limit)
DEFAULT_SETUP_LIMIT = 300.0
#: tasks a worker runs before it is replaced (0: never)
DEFAULT_MAX_TASKS = 200
_OOM_WORDS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "out of memory")


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
            # a folder whose name holds the separator (``a:b``) cannot go through PYTHONPATH:
            # the worker puts every folder of OPTML_BENCH_PATH (JSON) on sys.path itself
            plain = [p for p in pythonpath if os.pathsep not in p]
            env["PYTHONPATH"] = os.pathsep.join([*plain, *filter(None, [env.get("PYTHONPATH")])])
            env["OPTML_BENCH_PATH"] = json.dumps(list(pythonpath))
        else:
            env.pop("OPTML_BENCH_PATH", None)
        env["OPTML_BENCH_PRELOAD"] = ",".join(self.config[2])
        env["OPTML_BENCH_THREADS"] = str(self.config[0])
        rfd, wfd = os.pipe()
        self.log = tempfile.TemporaryFile(prefix="optml-bench-worker-", suffix=".log")
        try:  # the worker's writes always go to the end, wherever we read
            import fcntl

            fl = fcntl.fcntl(self.log.fileno(), fcntl.F_GETFL)
            fcntl.fcntl(self.log.fileno(), fcntl.F_SETFL, fl | os.O_APPEND)
        except (ImportError, OSError):  # pragma: no cover
            pass
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "optml.bench.worker",
                    "--serve",
                    str(wfd),
                    str(self.max_tasks),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self.log,
                pass_fds=(wfd,),
                env=env,
                start_new_session=True,
            )
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
    def run(
        self,
        task: dict,
        limit: float,
        memory_limit_mb=None,
        stop=None,
        setup_limit: float | None = None,
    ) -> dict:
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
        partial["stage"] = "solve" if solving else "setup"
        if kind == "eof":
            return {**partial, **self._died(offset, t0)}
        self.kill()
        if kind == "stopped":
            return {"status": "stopped", "task_time": elapsed}
        if kind == "memory":
            return {
                **partial,
                "status": "out_of_memory",
                "task_time": elapsed,
                "peak_memory_mb": max(state["peak"], text),
                "message": f"resident memory {text:.0f} MB passed the limit of "
                f"{memory_limit_mb} MB; worker killed",
            }
        if not solving:
            msg = (
                f"data, build and warm-up took more than the setup limit of "
                f"{setup_limit:.3g} s; worker killed"
            )
        else:
            msg = (
                f"no answer within the hard limit of {limit:.3g} s (time limit + margin); "
                f"worker killed"
            )
        return {
            **partial,
            "status": "killed",
            "task_time": elapsed,
            "peak_memory_mb": state["peak"] or None,
            "message": msg,
        }

    def _died(self, offset: int, t0: float) -> dict:
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - closed its pipe but lives on
            rc = None
        elapsed = time.monotonic() - t0
        tail = _last_words(self.log_tail(offset, size=8000))
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
            msg += ": " + tail
        return {"status": status, "task_time": elapsed, "message": msg}


def _oom_killed() -> bool:  # the kernel's OOM killer leaves no trace we can read portably
    return False


def _last_words(text: str, size: int = 800) -> str:
    """What a dead worker's stderr says: faulthandler's error and innermost frames (without
    its list of extension modules), or the end of the text."""
    if "Fatal Python error" in text:
        text = text[text.rindex("Fatal Python error") :]
        text = text.split("\nExtension modules:", 1)[0]
        lines = text.splitlines()
        head, frames = lines[:1], [ln.strip() for ln in lines[1:] if ln.strip().startswith("File")]
        return " | ".join(head + frames[:4])[:size]
    return text[-size:]


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
            return None, {
                "status": "crashed",
                "stage": "setup",
                "message": f"worker {why}: {tail[-500:]}",
            }
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
