"""Benchmark suites: a TOML file (or dict) of models, data and solvers, expanded to tasks.

A suite file::

    name = "best-subset"
    time_limit = 30          # seconds per solve
    repeats = 1
    threads = 1
    plugins = []             # modules imported in each worker (e.g. to register a backend)

    [[solvers]]              # backend/solver pairs; every model runs on each
    backend = "pyomo"
    solver = "scip"

    [[models]]
    name = "best_subset"                  # a name from MODELS, or "package.module:Class"
    params = { k = [5, 10] }              # lists form a grid (cross product)

    [[data]]
    name = "make_sparse_regression"       # a generator from optml.data, or a bundled set name
    params = { n = 200, p = [20, 40] }
    seeds = [0, 1]

The cross product models x params grid x data x params grid x seeds x solvers x repeats gives
the tasks. Errors name the key (and, for TOML syntax errors, the line).
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: short model names -> "module:Class"
MODELS = {
    "least_squares": "optml.regression:LeastSquares",
    "lasso": "optml.regression:Lasso",
    "ridge": "optml.regression:Ridge",
    "elastic_net": "optml.regression:ElasticNet",
    "best_subset": "optml.regression:BestSubsetRegression",
    "lad": "optml.regression:LeastAbsoluteDeviation",
    "quantile": "optml.regression:QuantileRegression",
    "soft_margin_svm": "optml.classification:SoftMarginSVM",
    "sparse_svm": "optml.classification:SparseSVM",
    "logistic": "optml.classification:LogisticRegression",
    "optimal_tree": "optml.classification:OptimalClassificationTree",
    "kmedoids": "optml.clustering:KMedoids",
}

_TOP_KEYS = {"name", "time_limit", "repeats", "threads", "plugins", "solvers", "models", "data",
             "memory_limit_mb", "margin"}  # fmt: skip


class SuiteError(ValueError):
    """A malformed suite: the message names the key (and line where known)."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


@dataclass
class Task:
    """One solve: a model with parameters on one data set, one backend/solver, one repeat."""

    model: str
    params: dict
    data: str
    data_params: dict
    seed: int | None
    backend: str
    solver: str | None
    time_limit: float
    repeat: int = 0
    threads: int = 1
    plugins: list = field(default_factory=list)
    memory_limit_mb: int | None = None
    margin: float = 10.0
    payload: str | None = None  # pickled (estimator, X, y) for bench.compare

    @property
    def key(self) -> str:
        """Stable identity of the task (used by ``--resume``)."""
        d = asdict(self)
        for k in ("plugins", "margin", "payload"):
            d.pop(k)
        return hashlib.sha1(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @property
    def instance(self) -> str:
        """Identity of the instance regardless of the solver (for profiles)."""
        d = {k: getattr(self, k) for k in ("model", "params", "data", "data_params", "seed")}
        return json.dumps(d, sort_keys=True, default=str)


def resolve_model(name: str):
    """The estimator class (or program builder) for a suite model name."""
    target = MODELS.get(name, name)
    if ":" not in target:
        raise SuiteError(
            f"unknown model {name!r}: use one of {sorted(MODELS)} or 'package.module:Class'"
        )
    mod, attr = target.split(":", 1)
    try:
        return getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError) as exc:
        raise SuiteError(f"model {name!r} ({target}) cannot be imported: {exc}") from None


def make_data(name: str, params: dict, seed: int | None):
    """``(X, y)`` for a bundled data set name or an ``optml.data`` generator."""
    from optml import data

    if name in data.list_datasets():
        if params:
            raise SuiteError(f"data {name!r} is a bundled set and takes no params, got {params}")
        ds = data.load(name)
        return ds.X, ds.y
    gen = getattr(data, name, None)
    if gen is None or not name.startswith("make_"):
        raise SuiteError(
            f"unknown data {name!r}: a bundled set {data.list_datasets()} or a generator "
            f"optml.data.make_*"
        )
    out = gen(**params, random_state=seed)
    return out[0], out[1]


def load_suite(source) -> dict:
    """Parse a suite from a TOML path, TOML text or dict; raise :class:`SuiteError`."""
    import tomllib

    if isinstance(source, dict):
        spec = source
    else:
        text = Path(source).read_text() if Path(str(source)).exists() else str(source)
        try:
            spec = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SuiteError(f"suite file is not valid TOML: {exc}") from None
        try:
            _validate(spec)
        except SuiteError as exc:
            line = _line_of(text, exc.key)
            if line is None:
                raise
            raise SuiteError(f"{exc} (line {line})", exc.key) from None
        return spec
    _validate(spec)
    return spec


def _line_of(text: str, key: str | None) -> int | None:
    if not key:
        return None
    for i, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(key) or f" {key} " in f" {stripped} " or f"[{key}]" in stripped:
            return i
    return None


def _validate(spec: dict) -> None:
    unknown = set(spec) - _TOP_KEYS
    if unknown:
        raise SuiteError(
            f"unknown key(s) {sorted(unknown)} in suite; allowed: {sorted(_TOP_KEYS)}",
            sorted(unknown)[0],
        )
    for key in ("models", "data", "solvers"):
        if key not in spec:
            raise SuiteError(f"suite has no [[{key}]] entries (key {key!r} is required)")
        if not isinstance(spec[key], list) or not spec[key]:
            raise SuiteError(f"key {key!r} must be a non-empty array of tables ([[{key}]])", key)
    for i, m in enumerate(spec["models"]):
        if "name" not in m:
            raise SuiteError(f"models[{i}] has no 'name'", "models")
        _check_params(m.get("params", {}), f"models[{i}].params")
    for i, d in enumerate(spec["data"]):
        if "name" not in d:
            raise SuiteError(f"data[{i}] has no 'name'", "data")
        _check_params(d.get("params", {}), f"data[{i}].params")
        seeds = d.get("seeds", [None])
        if not isinstance(seeds, list) or not all(s is None or isinstance(s, int) for s in seeds):
            raise SuiteError(f"data[{i}].seeds must be a list of integers, got {seeds!r}", "seeds")
    for i, s in enumerate(spec["solvers"]):
        if not isinstance(s, dict) or not ({"backend", "solver"} & set(s)):
            raise SuiteError(f"solvers[{i}] needs 'backend' and/or 'solver'", "solvers")
    for key, kind in (("time_limit", (int, float)), ("repeats", int), ("threads", int)):
        if key in spec and (not isinstance(spec[key], kind) or spec[key] <= 0):
            raise SuiteError(f"key {key!r} must be a positive number, got {spec[key]!r}", key)


def _check_params(params, where):
    if not isinstance(params, dict):
        raise SuiteError(f"{where} must be a table, got {type(params).__name__}", "params")


def _grid(params: dict) -> list[dict]:
    keys = list(params)
    values = [v if isinstance(v, list) else [v] for v in params.values()]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


def expand(spec: dict) -> list[Task]:
    """All tasks of a suite, in a deterministic order."""
    spec = load_suite(spec) if not isinstance(spec, dict) else (_validate(spec) or spec)
    tl = float(spec.get("time_limit", 60))
    tasks = []
    for m in spec["models"]:
        for mp in _grid(m.get("params", {})):
            for d in spec["data"]:
                for dp in _grid(d.get("params", {})):
                    for seed in d.get("seeds", [None]):
                        for s in spec["solvers"]:
                            for r in range(int(spec.get("repeats", 1))):
                                tasks.append(
                                    Task(
                                        model=m["name"], params=mp, data=d["name"],
                                        data_params=dp, seed=seed,
                                        backend=s.get("backend", "auto"),
                                        solver=s.get("solver"), time_limit=tl, repeat=r,
                                        threads=int(spec.get("threads", 1)),
                                        plugins=list(spec.get("plugins", [])),
                                        memory_limit_mb=spec.get("memory_limit_mb"),
                                        margin=float(spec.get("margin", 10.0)),
                                    )
                                )  # fmt: skip
    return tasks


def task_from_dict(d: dict[str, Any]) -> Task:
    return Task(**d)
