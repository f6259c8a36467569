"""Solver comparison: the same ML instance on every solver, fairly, at scale.

>>> from optml import bench, data                                      # doctest: +SKIP
>>> from optml.regression import BestSubsetRegression                  # doctest: +SKIP
>>> df = bench.compare(BestSubsetRegression(k=5), data.load("diabetes"),
...                    solvers=["scip", "highs"], backends=["pyomo", "cvxpy"], time_limit=60)
>>> bench.summarize(df); bench.performance_profile(df)                 # doctest: +SKIP

Every task runs in a worker process under a hard wall-clock (and optional memory) limit;
crashes, hangs and memory exhaustion are recorded as statuses and the sweep goes on. The
program is built once and the same pickled object is handed to every solver. Suites (TOML) run
with :func:`run_suite` or ``optml bench``; see docs/bench.md.
"""

from __future__ import annotations

import json
import pickle
import shutil
import tempfile
import time
from pathlib import Path

from optml.bench.report import (
    families,
    gap_vs_time,
    inconsistent_instances,
    not_run,
    performance_profile,
    performance_ratios,
    profile_data,
    shifted_geometric_mean,
    summarize,
    time_vs_size,
    to_markdown,
    trace_plot,
)
from optml.bench.runner import (
    WorkerPool,
    machine_info,
    run_suite,
    run_task,
    run_tasks,
)
from optml.bench.store import COLUMNS, Store
from optml.bench.suite import (
    MODELS,
    SuiteError,
    Task,
    build_instance,
    check_solvers,
    expand,
    load_suite,
    make_data,
    resolve_model,
)


def _xy(data):
    if hasattr(data, "X") and hasattr(data, "y"):
        return data.X, data.y, getattr(data, "name", None) or "data"
    if isinstance(data, tuple | list) and len(data) >= 2:
        return data[0], data[1], "data"
    raise TypeError(
        f"data must be an optml Dataset or a tuple (X, y[, ...]), got {type(data).__name__}"
    )


def _installed_solvers() -> list[str]:
    from optml.backends import available

    # general solvers of every backend, plug-ins included (registering one refreshes the list)
    return sorted({r["solver"] for r in available() if not r["kinds"]})


def compare(
    model,
    data,
    solvers=None,
    backends=None,
    time_limit: float = 60,
    repeats: int = 1,
    workers: int = 1,
    threads: int = 1,
    out=None,
    progress: bool = False,
    plugins=(),
    margin: float = 10.0,
    mip_gap: float | None = None,
    memory_limit_mb: float | None = None,
    solver_options: dict | None = None,
):
    """Solve the same program, built once from ``model`` and ``data``, on many solvers.

    Parameters
    ----------
    model : estimator with ``build_program(X, y)``, or a callable ``(X, y) -> Program``
    data : optml Dataset or ``(X, y, ...)``
    solvers, backends : list of str, optional
        Their cross product is tried (``None``: the automatic choice). A pair that cannot
        solve the program's class is recorded with status ``unavailable``; an unknown or
        uninstalled solver raises :class:`~optml.exceptions.SolverNotAvailableError` listing
        the installed ones.
    time_limit : float
        Seconds per solve; the hard limit of each task is ``time_limit + margin``.
    repeats : int
        Solves per pair (the summaries average them).
    workers, threads : int
        Tasks run at once; threads given to each solver (and BLAS), recorded in the rows.
    out : path, optional
        Folder of the SQLite store; with ``out`` a second call resumes (skips finished
        tasks). Without it a temporary store is used and removed.
    mip_gap, memory_limit_mb, solver_options
        Relative MIP gap (default 1e-4 for MIPs), a resident memory limit per task, and
        options passed to every solver.

    Returns
    -------
    pandas.DataFrame (a list of dicts without pandas), one row per task; the columns are
    :data:`COLUMNS` (see docs/bench.md).
    """
    from optml.backends import get_special, is_special, select
    from optml.bench.worker import program_hash
    from optml.exceptions import SolverNotAvailableError

    X, y, name = _xy(data)
    for mod in plugins:
        __import__(mod)
    installed = _installed_solvers()
    solvers = [None] if not solvers else [None if s is None else s.lower() for s in solvers]
    special = [s for s in solvers if is_special(s)]
    for s in solvers:
        if s is not None and s not in installed and s not in special:
            raise SolverNotAvailableError(
                f"solver {s!r} is unknown or not installed; installed solvers: {installed}"
            )
    t0 = time.perf_counter()
    problem = None
    if special:
        # optml's own algorithms take the structured problem; general solvers its program
        if not hasattr(model, "build_problem"):
            raise SolverNotAvailableError(
                f"special-purpose solvers {special} need a model with build_problem(X, y); "
                f"{type(model).__name__} has none"
            )
        problem = model.build_problem(X, y)
        program = problem.program
    else:
        program = model.build_program(X, y) if hasattr(model, "build_program") else model(X, y)
    pclass = program.problem_class  # lowers the program (cached, and pickled with it)
    build_time = time.perf_counter() - t0
    backends = ["auto"] if not backends else list(backends)
    tmp = Path(tempfile.mkdtemp(prefix="optml-compare-"))
    try:
        payload = tmp / "program.pkl"
        n = int(X.shape[0])
        p = int(X.shape[1]) if getattr(X, "ndim", 1) > 1 else 1
        with open(payload, "wb") as fh:
            pickle.dump(
                {"program": program, "problem": problem, "n": n, "p": p, "build_time": build_time},
                fh,
            )
        params = model.get_params() if hasattr(model, "get_params") else {}
        params = json.loads(json.dumps(params, default=str))
        label = (
            type(model).__name__
            if hasattr(model, "build_program")
            else getattr(model, "__name__", "program")
        )
        # the program's hash is part of the instance: another data set is another instance
        dparams = {"program_hash": program_hash(program), "n": n, "p": p}
        tasks, skipped = {}, []
        for b in backends:
            for s in solvers:
                try:
                    if s in special:
                        if not get_special(s).accepts(problem):
                            raise SolverNotAvailableError(
                                f"solver {s!r} does not solve {problem.kind!r} problems"
                            )
                        bname, ss = "optml", s
                    else:
                        bb, ss = select(pclass, b, s)
                        bname = bb.name
                except SolverNotAvailableError as exc:
                    skipped.append(
                        {"backend": b, "solver": s, "status": "unavailable", "message": str(exc)}
                    )
                    continue
                for r in range(int(repeats)):
                    t = Task(
                        model=label,
                        params=params,
                        data=name,
                        data_params=dparams,
                        seed=None,
                        backend=bname,
                        solver=ss,
                        time_limit=float(time_limit),
                        repeat=r,
                        threads=threads,
                        mip_gap=mip_gap,
                        options=dict(solver_options or {}),
                        plugins=list(plugins),
                        memory_limit_mb=memory_limit_mb,
                        margin=margin,
                        payload=str(payload),
                    )
                    tasks[t.key] = t  # a pair reached through "auto" and by name is one task
        store = Store(Path(out or tmp) / "results.sqlite")
        run_tasks(
            list(tasks.values()),
            store,
            workers=workers,
            resume=True,
            progress=progress,
            settings={"compare": label},
            log_dir=Path(out) / "logs" if out else None,
        )
        rows = [r for r in store.rows() if r["key"] in tasks]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    blank = dict.fromkeys(COLUMNS)
    for s in skipped:
        rows.append(
            {
                **blank,
                **s,
                "model": label,
                "data": name,
                "problem_class": pclass,
                "time_limit": float(time_limit),
                "n": n,
                "p": p,
            }
        )
    try:
        import pandas as pd

        return pd.DataFrame(rows, columns=COLUMNS)
    except ImportError:  # pragma: no cover
        return rows


def export_instances(suite, out, fmt: str = "mps", allow_plugins: bool = False) -> list[dict]:
    """Write every distinct program of a suite as ``.mps``/``.lp`` (``.cbf`` with
    ``fmt="cbf"``) plus ``manifest.json``; programs with conic blocks, which have no MPS/LP
    form, are written as CBF (the format of the conic benchmark library CBLIB).

    A suite's own ``"module:attr"`` models are imported (in this process) only with
    ``allow_plugins=True``; see :func:`~optml.bench.runner.run_suite`.

    The manifest lists, per file, the model, its parameters, the data, seed, size and
    problem class, so that other tools can run the same instances. A program that has no
    form in any of them (SOS1 sets with conic blocks) gets ``"file": null`` and the reason
    under ``"skipped"``.
    """
    from optml.bench.cbf import write_cbf
    from optml.exceptions import UnsupportedProblemError

    if fmt not in ("mps", "lp", "cbf"):
        raise ValueError(f"format must be 'mps', 'lp' or 'cbf', got {fmt!r}")
    from optml.bench.suite import untrusted_code

    spec = load_suite(suite)
    code = untrusted_code(spec)
    if (code["models"] or code["data"]) and not allow_plugins:
        raise SuiteError(
            f"the suite's models {code['models']} and data {code['data']} are code from "
            "outside optml; it runs with your rights: pass --allow-plugins "
            "(allow_plugins=True) if you trust it"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    base = Path(spec.path).resolve().parent if getattr(spec, "path", None) else None
    seen, manifest = set(), []
    for t in expand(spec):
        if t.instance in seen:
            continue
        seen.add(t.instance)
        program, X, _ = build_instance(t.model, t.params, t.data, t.data_params, t.seed, base=base)
        stem = t.model.rsplit(":", 1)[-1]
        name = f"{stem}_{len(manifest):04d}"
        fname = f"{name}.{fmt}"
        skipped = None
        try:
            if fmt == "cbf":
                write_cbf(program, out / fname)
            else:
                program.write(str(out / fname))
        except UnsupportedProblemError as exc:  # conic blocks have no MPS/LP form: CBF
            fname, skipped = f"{name}.cbf", str(exc)
            try:
                write_cbf(program, out / fname)
                skipped = None
            except UnsupportedProblemError as exc2:
                fname, skipped = None, f"{exc}; {exc2}"
        canon = program.canonical()
        a = getattr(canon, "A", None)
        manifest.append(
            {
                "name": name,
                "file": fname,
                "skipped": skipped,
                "model": t.model,
                "params": t.params,
                "data": t.data,
                "data_params": t.data_params,
                "seed": t.seed,
                "instance": t.instance,
                "n": int(X.shape[0]),
                "p": int(X.shape[1]) if X.ndim > 1 else 1,
                "problem_class": program.problem_class,
                "sense": "max" if getattr(canon, "sense", 1) < 0 else "min",
                "variables": int(canon.n),
                "constraints": int(canon.m),
                "integer_variables": int(_count_true(getattr(canon, "integer", None))),
                "nonzeros": int(a.nnz) if hasattr(a, "nnz") else None,
            }
        )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return manifest


def _count_true(v) -> int:
    if v is None:
        return 0
    try:
        import numpy as np

        return int(np.count_nonzero(np.asarray(v)))
    except (TypeError, ValueError):
        return 0


__all__ = [
    "COLUMNS",
    "MODELS",
    "Store",
    "SuiteError",
    "Task",
    "WorkerPool",
    "build_instance",
    "check_solvers",
    "compare",
    "expand",
    "export_instances",
    "families",
    "not_run",
    "gap_vs_time",
    "inconsistent_instances",
    "load_suite",
    "machine_info",
    "make_data",
    "performance_profile",
    "performance_ratios",
    "profile_data",
    "resolve_model",
    "run_suite",
    "run_task",
    "run_tasks",
    "shifted_geometric_mean",
    "summarize",
    "time_vs_size",
    "to_markdown",
    "trace_plot",
]
