"""Runs one benchmark task in its own process: ``python -m optml.bench.worker TASK.json OUT.json``.

The parent sets the thread environment variables and resource limits; this process builds the
data and the program, warms the solver path up on a tiny program (so imports are not timed),
solves, checks the answer with numpy, and writes one JSON row.
"""

from __future__ import annotations

import importlib
import json
import pickle
import platform
import resource
import sys
import time


def _warm_up(backend: str, solver: str | None, problem_class: str, options: dict) -> None:
    """Solve a tiny program of the same class on the same path; failures are ignored."""
    import numpy as np

    import optml as om

    p = om.Program("warm_up")
    x = p.var(
        "x", 2, lb=0, ub=1, domain="binary" if problem_class.startswith("MI") else "continuous"
    )
    p.add(om.sum(x) <= 1)
    if "QP" in problem_class:
        p.minimize(om.sum_squares(x - 0.3))
    else:
        p.minimize(-np.array([1.0, 2.0]) @ x)
    try:
        p.solve(backend=backend, solver=solver, time_limit=10, **options)
    except Exception:
        pass


def run(task: dict) -> dict:
    from optml.bench.suite import make_data, resolve_model

    for mod in task.get("plugins") or []:
        importlib.import_module(mod)
    t0 = time.perf_counter()
    if task.get("payload"):  # the very program object built once by bench.compare
        with open(task["payload"], "rb") as fh:
            blob = pickle.load(fh)
        program, n, p = blob["program"], blob["n"], blob["p"]
        data_time = model_time = 0.0
    else:
        X, y = make_data(task["data"], task["data_params"], task["seed"])
        n, p = int(X.shape[0]), int(X.shape[1]) if X.ndim > 1 else 1
        est = resolve_model(task["model"])(**task["params"])
        data_time = time.perf_counter() - t0
        t0 = time.perf_counter()
        program = est.build_program(X, y) if hasattr(est, "build_program") else est(X, y)
        model_time = time.perf_counter() - t0
    pclass = program.problem_class
    options = {}
    if task.get("threads"):
        options["threads"] = int(task["threads"])
    _warm_up(task["backend"], task["solver"], pclass, options)  # same options: HiGHS fixes threads
    t0 = time.perf_counter()
    res = program.solve(
        backend=task["backend"], solver=task["solver"], time_limit=task["time_limit"], **options
    )
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB -> MB on Linux
    return {
        "status": res.status,
        "objective": res.objective,
        "bound": res.bound,
        "gap": res.gap,
        "build_time": res.build_time + model_time,
        "solve_time": res.solve_time,
        "wall_time": wall,
        "data_time": data_time,
        "objective_check": res.objective_check,
        "max_violation": res.max_violation,
        "verified": bool(res.verified),
        "problem_class": pclass,
        "backend": res.backend,
        "solver": res.solver,
        "solver_version": res.solver_version,
        "n": n,
        "p": p,
        "peak_memory_mb": peak,
        "message": res.message[:500],
        "python": platform.python_version(),
    }


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    task_path, out_path = argv
    with open(task_path) as fh:
        task = json.load(fh)
    try:
        row = run(task)
    except MemoryError:
        row = {"status": "out_of_memory", "message": "MemoryError in the worker"}
    except Exception as exc:  # recorded, the sweep goes on
        row = {"status": "error", "message": f"{type(exc).__name__}: {exc}"[:500]}
    with open(out_path, "w") as fh:
        json.dump(row, fh, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
