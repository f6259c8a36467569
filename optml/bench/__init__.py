"""Solver comparison: the same ML instance on every solver, fairly, at scale.

>>> from optml import bench                                   # doctest: +SKIP
>>> df = bench.compare(BestSubsetRegression(k=5), data.load("diabetes"),
...                    solvers=["scip", "gurobi"], backends=["pyomo", "cvxpy"], time_limit=60)
>>> bench.summarize(df); bench.performance_profile(df)

Every task runs in its own process with a hard wall-clock limit; crashes, hangs and memory
exhaustion are recorded as statuses. The program is built once and the same pickled object is
handed to every solver.
"""

from __future__ import annotations

import json
import pickle
import tempfile
from pathlib import Path

from optml.bench.report import performance_profile, profile_data, summarize, to_markdown
from optml.bench.runner import Store, machine_info, run_suite, run_task, run_tasks
from optml.bench.suite import MODELS, SuiteError, Task, expand, load_suite, make_data, resolve_model


def _xy(data):
    if hasattr(data, "X") and hasattr(data, "y"):
        return data.X, data.y, getattr(data, "name", "data")
    if isinstance(data, tuple | list) and len(data) >= 2:
        return data[0], data[1], "data"
    raise TypeError(
        f"data must be an optml Dataset or a tuple (X, y[, ...]), got {type(data).__name__}"
    )


def compare(
    model, data, solvers=None, backends=None, time_limit: float = 60, repeats: int = 1,
    workers: int = 1, threads: int = 1, out=None, progress: bool = False, plugins=(),
    margin: float = 10.0,
):  # fmt: skip
    """Solve the same program, built once from ``model`` and ``data``, on many solvers.

    Parameters
    ----------
    model : estimator with ``build_program(X, y)``, or a callable ``(X, y) -> Program``
    data : optml Dataset or ``(X, y, ...)``
    solvers, backends : lists of names; their cross product is tried. A pair that does not
        exist for the program's class is recorded with status ``unavailable``.

    Returns a pandas DataFrame (a list of dicts without pandas), one row per task.
    """
    from optml.backends import available, select
    from optml.exceptions import SolverNotAvailableError

    X, y, name = _xy(data)
    for mod in plugins:
        __import__(mod)
    program = model.build_program(X, y) if hasattr(model, "build_program") else model(X, y)
    pclass = program.problem_class
    known = {r["solver"] for r in available()}
    solvers = list(solvers or [None])
    for s in solvers:
        if s is not None and s not in known and not _known_anywhere(s):
            raise SolverNotAvailableError(
                f"unknown solver {s!r}; installed solvers: {sorted(known)}"
            )
    backends = list(backends or ["auto"])
    tmp = Path(tempfile.mkdtemp(prefix="optml-compare-"))
    payload = tmp / "program.pkl"
    with open(payload, "wb") as fh:
        pickle.dump({"program": program, "n": int(X.shape[0]),
                     "p": int(X.shape[1]) if getattr(X, "ndim", 1) > 1 else 1}, fh)  # fmt: skip
    params = model.get_params() if hasattr(model, "get_params") else {}
    params = json.loads(json.dumps(params, default=str))
    label = (
        type(model).__name__
        if hasattr(model, "build_program")
        else getattr(model, "__name__", "program")
    )
    tasks, skipped = [], []
    for b in backends:
        for s in solvers:
            try:
                bb, ss = select(pclass, b, s)
            except SolverNotAvailableError as exc:
                skipped.append({"backend": b, "solver": s, "status": "unavailable",
                                "message": str(exc)})  # fmt: skip
                continue
            for r in range(int(repeats)):
                tasks.append(Task(model=label, params=params, data=name, data_params={},
                                  seed=None, backend=bb.name, solver=ss, time_limit=float(time_limit),
                                  repeat=r, threads=threads, plugins=list(plugins), margin=margin,
                                  payload=str(payload)))  # fmt: skip
    # the same pair reached through "auto" and by name is one task
    uniq = {t.key: t for t in tasks}
    store = Store(Path(out or tmp) / "results.sqlite")
    run_tasks(
        list(uniq.values()), store, workers=workers, resume=out is not None, progress=progress
    )
    rows = store.rows()
    blank = dict.fromkeys(rows[0]) if rows else {}
    for s in skipped:
        rows.append({**blank, **s, "model": label, "data": name})
    try:
        import pandas as pd

        return pd.DataFrame(rows)
    except ImportError:  # pragma: no cover
        return rows


def _known_anywhere(solver: str) -> bool:
    from optml.backends import get_backend

    for b in ("highs", "cvxpy", "pyomo"):
        try:
            if solver in get_backend(b).solvers:
                return True
        except Exception:
            continue
    return False


def export_instances(suite, out, fmt: str = "mps") -> list[dict]:
    """Write every program of a suite as ``.mps``/``.lp`` with a ``manifest.json``."""
    if fmt not in ("mps", "lp"):
        raise ValueError(f"format must be 'mps' or 'lp', got {fmt!r}")
    spec = load_suite(suite)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seen, manifest = set(), []
    for t in expand(spec):
        if t.instance in seen:
            continue
        seen.add(t.instance)
        X, y = make_data(t.data, t.data_params, t.seed)
        est = resolve_model(t.model)(**t.params)
        program = est.build_program(X, y)
        fname = f"{t.model}_{t.key[:10]}.{fmt}"
        program.write(str(out / fname))
        manifest.append({"file": fname, "model": t.model, "params": t.params, "data": t.data,
                         "data_params": t.data_params, "seed": t.seed, "n": int(X.shape[0]),
                         "p": int(X.shape[1]), "problem_class": program.problem_class})  # fmt: skip
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return manifest


__all__ = [
    "MODELS",
    "Store",
    "SuiteError",
    "Task",
    "compare",
    "expand",
    "export_instances",
    "load_suite",
    "machine_info",
    "performance_profile",
    "profile_data",
    "run_suite",
    "run_task",
    "run_tasks",
    "summarize",
    "to_markdown",
]
