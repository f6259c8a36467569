"""The benchmark worker: a long-lived process that runs tasks one at a time.

Started by :mod:`optml.bench.runner` as ``python -m optml.bench.worker --serve RESULT_FD
MAX_TASKS``. It reads one task (a JSON object) per line on stdin, runs it, and writes one
result row (a JSON object) per line to the file descriptor ``RESULT_FD``; solver logs on
stdout and stderr never mix with the results. It exits after ``MAX_TASKS`` tasks, on end of
input, or when its parent goes away.

For each task it builds the data and the program, warms the solver path up on a tiny program
of the same kind the first time this process meets that path (so imports and lazy
initialisation are not timed, and the time spent is recorded as ``warm_up_time``), solves,
checks the answer with numpy, and measures the task's own peak resident memory.

The supervisor (not this process) enforces the hard limits: a task that crashes this process,
hangs past its wall-clock limit or exceeds its memory limit is recorded as such, and the
process is replaced.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import pickle
import platform
import sys
import threading
import time

_WARMED: dict[tuple, float] = {}


def program_hash(program) -> str:
    """A short hash of the lowered program (matrices, bounds, integrality, objective).

    Every solver of one instance must see the same hash: the evidence that they were handed
    the same mathematical object.
    """
    import numpy as np
    import scipy.sparse as sp

    canon = program.canonical()
    h = hashlib.sha1()
    for name in ("A", "row_lb", "row_ub", "P", "q", "lb", "ub", "integer", "sense"):
        v = getattr(canon, name, None)
        if v is None:
            continue
        if sp.issparse(v):
            v = v.tocsr()
            for part in (v.indptr, v.indices, v.data):
                h.update(np.ascontiguousarray(part).tobytes())
            h.update(str(v.shape).encode())
        elif isinstance(v, np.ndarray):
            h.update(np.ascontiguousarray(v).tobytes())
        else:
            h.update(repr(v).encode())
    h.update(repr(getattr(canon, "soc", None) and len(canon.soc)).encode())
    h.update(program.problem_class.encode())
    return h.hexdigest()[:16]


def _warm_up(backend: str, solver: str | None, problem_class: str, options: dict) -> float:
    """Solve a tiny program of the same kind on the same path once per process; returns the
    seconds spent (0 when this path is already warm). Failures are ignored."""
    integer = problem_class.startswith("MI")
    quad = "QP" in problem_class
    key = (backend, solver, integer, quad, json.dumps(options, sort_keys=True, default=str))
    if key in _WARMED:
        return 0.0
    t0 = time.perf_counter()
    import numpy as np

    import optml as om

    p = om.Program("warm_up")
    x = p.var("x", 2, lb=0, ub=1, domain="binary" if integer else "continuous")
    p.add(om.sum(x) <= 1)
    if quad:
        p.minimize(om.sum_squares(x - 0.3))
    else:
        p.minimize(-np.array([1.0, 2.0]) @ x)
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p.solve(backend=backend, solver=solver, time_limit=10, **options)
    except Exception:
        pass
    _WARMED[key] = time.perf_counter() - t0
    return _WARMED[key]


def _reset_peak() -> bool:
    """Reset this process's peak resident memory (Linux ``clear_refs``); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_mb(reset_ok: bool) -> float:
    if reset_ok:
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            pass
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (1024.0 * 1024.0) if sys.platform == "darwin" else kb / 1024.0


def run(task: dict, report=None, state: dict | None = None) -> dict:
    """Run one task in this process and return its result row (raises on errors).

    ``report(fields)``, when given, receives what is known before the solve (sizes, class,
    program hash), so that a crash during the solve still leaves them in the row.
    ``state["stage"]`` says how far the task got: ``"setup"`` (plugins, data, model, build,
    warm-up) until the solve starts, then ``"solve"``."""

    state = {} if state is None else state
    state["stage"] = "setup"

    from optml.bench.suite import make_data, resolve_model

    for mod in task.get("plugins") or []:
        importlib.import_module(mod)
    reset_ok = _reset_peak()
    t0 = time.perf_counter()
    special = task["backend"] == "optml"  # one of optml's own algorithms: the structured problem
    problem = None
    if task.get("payload"):  # the very program object built once by bench.compare
        with open(task["payload"], "rb") as fh:
            blob = pickle.load(fh)
        program, n, p = blob["program"], blob["n"], blob["p"]
        problem = blob.get("problem")
        data_time, model_time = 0.0, float(blob.get("build_time", 0.0))  # built by compare
    else:
        X, y = make_data(task["data"], task["data_params"], task["seed"], task.get("suite_dir"))
        n, p = int(X.shape[0]), int(X.shape[1]) if X.ndim > 1 else 1
        data_time = time.perf_counter() - t0
        t0 = time.perf_counter()
        target = resolve_model(task["model"])
        if special:
            problem = target(**task["params"]).build_problem(X, y)
            program = problem.program
        elif hasattr(target, "build_program"):
            program = target(**task["params"]).build_program(X, y)
        else:  # a function (X, y, **params) -> Program
            program = target(X, y, **task["params"])
        model_time = time.perf_counter() - t0
    t0 = time.perf_counter()
    program.canonical()  # the lowering is part of the build (cached for the solve)
    lower_time = time.perf_counter() - t0
    pclass = program.problem_class
    options = dict(task.get("options") or {})
    if task.get("threads"):
        options["threads"] = int(task["threads"])
    mip_gap = task.get("mip_gap")
    if mip_gap is None and pclass.startswith("MI"):
        mip_gap = 1e-4
    phash = program_hash(program)
    names = _resolved(task, pclass, special)
    if report is not None:
        report(
            {
                **names,
                "n": n,
                "p": p,
                "problem_class": pclass,
                "program_hash": phash,
                "build_time": model_time + lower_time,
                "mip_gap": mip_gap,
                "worker_pid": os.getpid(),
            }
        )
    warm = 0.0 if special else _warm_up(task["backend"], task["solver"], pclass, options)
    if report is not None:  # the hard limit of the solve starts now
        report({"warm_up_time": warm, "phase": "solve"})
    state["stage"] = "solve"
    traces = task.get("traces", True)
    log_path, keep_log = _log_path(task) if traces else (None, False)
    t0 = time.perf_counter()
    try:
        res, caught = _solve(task, program, problem, special, mip_gap, options, traces, log_path)
    except BaseException:
        if log_path and not keep_log:
            _unlink(log_path)
        raise
    wall = time.perf_counter() - t0
    used = {"time_limit": task["time_limit"], "mip_gap": mip_gap, "verbose": bool(traces)}
    used.update(options)
    native = (getattr(res, "stats", None) or {}).get("solver_options")
    if native:  # the solver's own option names and values, where the backend reports them
        used["solver_options"] = native
    extra = {"options": json.dumps(used, sort_keys=True, default=str)}
    if traces:
        extra.update(_trace_fields(res, program, log_path, keep_log, task))
    message = res.message
    for w in caught:
        text = f"{type(w.message).__name__}: {w.message}"
        if str(w.message) not in message:
            message = f"{message}; {text}".strip("; ")
    return {
        "status": res.status,
        "objective": res.objective,
        "bound": res.bound,
        "gap": res.gap,
        "build_time": model_time + lower_time + res.build_time,
        "solve_time": res.solve_time,
        "wall_time": wall,
        "data_time": data_time,
        "warm_up_time": warm,
        "objective_check": res.objective_check,
        "max_violation": res.max_violation,
        "verified": bool(res.verified),
        "problem_class": pclass,
        "program_hash": phash,
        "backend": res.backend,
        "solver": res.solver,
        "solver_version": res.solver_version,
        "n": n,
        "p": p,
        "mip_gap": mip_gap,
        "peak_memory_mb": _peak_mb(reset_ok),
        "message": message[:1000],
        **extra,
    }


def _solve(task, program, problem, special, mip_gap, options, traces, log_path):
    """The measured solve (solver log on fd 1 to ``log_path``); ``(result, warnings)``."""
    import warnings

    with warnings.catch_warnings(record=True) as caught, _stdout_to(log_path):
        warnings.simplefilter("always")
        if special:
            from optml.program.settings import SolveSettings
            from optml.solve import solve

            settings = SolveSettings.from_params(
                time_limit=task["time_limit"],
                mip_gap=mip_gap,
                verbose=bool(traces),
                solver_options=options,
            )
            res = solve(problem, solver=task["solver"], settings=settings)
        else:
            res = program.solve(
                backend=task["backend"],
                solver=task["solver"],
                time_limit=task["time_limit"],
                mip_gap=mip_gap,
                verbose=bool(traces),
                **options,
            )
    return res, caught


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _log_path(task: dict):
    """Where this task's solver log goes: ``LOG_DIR/<key>.log`` (kept), or a temporary file
    (read for the trace, then removed) when the sweep keeps no logs or the folder cannot be
    written."""
    import tempfile

    folder = task.get("log_dir")
    if folder:
        try:
            os.makedirs(folder, exist_ok=True)
            return os.path.join(folder, f"{task.get('key', 'task')}.log"), True
        except OSError:
            pass
    fd, path = tempfile.mkstemp(prefix="optml-bench-", suffix=".log")
    os.close(fd)
    return path, False


class _stdout_to:
    """Send file descriptor 1 (where HiGHS, SCIP and most C solvers write their logs) to a
    file for the duration of the block; nothing when ``path`` is None. Standard error stays
    with the supervisor (crash reports)."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        if self.path is None:
            return self
        sys.stdout.flush()
        self.saved = os.dup(1)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.close(fd)
        return self

    def __exit__(self, *exc):
        if self.path is None:
            return False
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        os.dup2(self.saved, 1)
        os.close(self.saved)
        return False


def _trace_fields(res, program, log_path, keep_log, task) -> dict:
    """The trace (incumbent and bound over time), its primal-dual integral and the log file."""
    from optml.bench.traces import cap_log, make_trace, primal_dual_integral

    text = ""
    try:
        with open(log_path, errors="replace") as fh:
            text = fh.read(4 << 20)
    except OSError:
        pass
    sense = int(getattr(program.canonical(), "sense", 1) or 1)
    end = res.solve_time if res.solve_time and res.solve_time > 0 else None
    trace = make_trace(
        text, res.objective, res.bound, end, sense, getattr(res, "solver_objective", None)
    )
    out = {
        "trace": json.dumps(trace, separators=(",", ":")),
        "primal_dual_integral": primal_dual_integral(trace),
    }
    if keep_log:
        cap_log(log_path)
        folder = os.path.dirname(os.path.dirname(log_path))
        out["log_file"] = os.path.relpath(log_path, folder)
    else:
        _unlink(log_path)
    return out


def _resolved(task: dict, pclass: str, special: bool) -> dict:
    """The backend and solver that will solve this task (``solver`` omitted in the suite:
    the automatic choice for the program's class), so that a row of a task that then fails
    carries the same names as the rows that succeed."""
    if special:
        return {"backend": "optml", "solver": task["solver"]}
    try:
        from optml.backends import select

        b, name = select(pclass, task["backend"], task["solver"])
    except Exception:  # an unavailable pair: the solve reports it
        return {}
    return {"backend": b.name, "solver": name}


def run_safely(task: dict, report=None) -> dict:
    """:func:`run`, with any Python exception turned into a row (the sweep goes on)."""
    from optml.exceptions import SolverNotAvailableError

    state: dict = {}
    try:
        row = run(task, report, state)
    except SolverNotAvailableError as exc:  # this pair cannot solve this program's class
        row = {"status": "unavailable", "message": str(exc)[:1000]}
    except MemoryError:
        row = {"status": "out_of_memory", "message": "MemoryError in the worker"}
    except Exception as exc:
        row = {"status": "error", "message": f"{type(exc).__name__}: {exc}"[:1000]}
    row["stage"] = state.get("stage", "setup")
    row["worker_pid"] = os.getpid()
    return row


def _pin_highs_threads(threads: int) -> None:
    """Start HiGHS's process-wide thread scheduler with ``threads`` threads.

    HiGHS fixes its scheduler at its first run in a process; a later run asking for another
    thread count fails (model status "Not Set"). Starting it here, with the worker's count,
    means every HiGHS path in this process (direct, cvxpy, Pyomo, or inside a model's build)
    runs with that count."""
    try:
        import highspy
    except ImportError:
        return
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    h.run()


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(3)


def serve(result_fd: int, max_tasks: int) -> int:
    """Read tasks from stdin, write rows to ``result_fd``, one JSON line each."""
    import faulthandler

    faulthandler.enable(
        all_threads=False
    )  # a segfault leaves its Python traceback in the crash message
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    import numpy  # noqa: F401  (the imports every task needs, paid once per process)

    import optml.backends  # noqa: F401
    import optml.bench.suite  # noqa: F401

    _pin_highs_threads(int(os.environ.get("OPTML_BENCH_THREADS", "1")))
    for mod in filter(None, os.environ.get("OPTML_BENCH_PRELOAD", "").split(",")):
        try:
            importlib.import_module(mod)
        except Exception:  # an error shows again, with its message, in the task's row
            pass

    out = os.fdopen(result_fd, "w", buffering=1)
    out.write(json.dumps({"ready": os.getpid(), "python": platform.python_version()}) + "\n")
    done = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        task = json.loads(line)
        row = run_safely(
            task, lambda d: out.write(json.dumps({"partial": d}, default=float) + "\n")
        )
        out.write(json.dumps(row, default=float) + "\n")
        done += 1
        if max_tasks and done >= max_tasks:
            break
    out.close()
    return 0


def _extend_path() -> None:
    """Put the folders of OPTML_BENCH_PATH (a JSON list, written by the supervisor) on
    ``sys.path``: unlike PYTHONPATH it can hold folders whose names contain ``:``."""
    try:
        paths = json.loads(os.environ.get("OPTML_BENCH_PATH") or "[]")
    except ValueError:
        return
    for p in reversed([p for p in paths if isinstance(p, str)]):
        if p not in sys.path:
            sys.path.insert(0, p)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _extend_path()
    if len(argv) == 3 and argv[0] == "--serve":
        return serve(int(argv[1]), int(argv[2]))
    print("usage: python -m optml.bench.worker --serve RESULT_FD MAX_TASKS", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
