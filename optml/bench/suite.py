"""Benchmark suites: a TOML file (or dict) of models, data and solvers, expanded to tasks.

A suite file::

    name = "best-subset"
    time_limit = 30          # seconds per solve (passed to the solver)
    margin = 10              # hard wall-clock limit of the solve = time_limit + margin
    setup_limit = 300        # seconds for data, program build and warm-up (before the solve)
    memory_limit_mb = 4000   # optional: resident memory limit of the worker process
    mip_gap = 1e-4           # relative gap for MIPs (default 1e-4)
    repeats = 1
    threads = 1
    plugins = []             # modules imported in each worker (e.g. to register a backend)

    [[solvers]]              # backend/solver pairs; every model runs on each
    backend = "pyomo"
    solver = "scip"
    options = {}             # solver options, passed as they are

    [[models]]
    name = "best_subset"                  # a name from MODELS, or "package.module:Class"
    params = { k = [5, 10] }              # lists form a grid (cross product)

    [[data]]
    name = "make_sparse_regression"       # a generator from optml.data, or a bundled set name
    params = { n = 200, p = [20, 40] }
    seeds = [0, 1]

The cross product models x params grid x data x params grid x seeds x solvers x repeats gives
the tasks. A model is an estimator class with ``build_program(X, y)`` (built as
``Class(**params)``) or a function ``f(X, y, **params) -> Program``. A parameter whose value
must itself be a list is written as a list of lists (``groups = [[[0, 1], [2, 3]]]``).

Errors name the key and, for a file, its line.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import sys
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
    "huber": "optml.regression:HuberRegression",
    "svr": "optml.regression:SupportVectorRegression",
    "trimmed": "optml.regression:LeastTrimmedSquares",
    "soft_margin_svm": "optml.classification:SoftMarginSVM",
    "sparse_svm": "optml.classification:SparseSVM",
    "logistic": "optml.classification:LogisticRegression",
    "optimal_tree": "optml.classification:OptimalClassificationTree",
    "kmedoids": "optml.clustering:KMedoids",
}

_TOP_KEYS = {
    "name": str,
    "time_limit": (int, float),
    "repeats": int,
    "threads": int,
    "plugins": list,
    "solvers": list,
    "models": list,
    "data": list,
    "memory_limit_mb": (int, float),
    "margin": (int, float),
    "setup_limit": (int, float),
    "mip_gap": (int, float),
}
_ENTRY_KEYS = {
    "models": {"name", "params"},
    "data": {"name", "params", "seeds"},
    "solvers": {"backend", "solver", "options"},
}


class SuiteError(ValueError):
    """A malformed suite: the message names the key (and its line for a file)."""

    def __init__(self, message: str, key: str | None = None, line: int | None = None):
        super().__init__(message)
        self.key = key
        self.line = line


class Suite(dict):
    """A parsed suite (a dict) that remembers its TOML text and file, for error lines."""

    text: str | None = None
    path: str | None = None


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
    mip_gap: float | None = None
    options: dict = field(default_factory=dict)
    plugins: list = field(default_factory=list)
    memory_limit_mb: float | None = None
    margin: float = 10.0
    setup_limit: float | None = None
    payload: str | None = None  # pickled program for bench.compare

    @property
    def key(self) -> str:
        """Stable identity of the task (used by ``--resume``)."""
        d = asdict(self)
        for k in ("plugins", "margin", "payload", "memory_limit_mb", "setup_limit"):
            d.pop(k)
        return hashlib.sha1(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @property
    def instance(self) -> str:
        """Identity of the instance regardless of the solver (for profiles)."""
        d = {k: getattr(self, k) for k in ("model", "params", "data", "data_params", "seed")}
        return json.dumps(d, sort_keys=True, default=str)


# --------------------------------------------------------------------------- models, data
def resolve_model(name: str):
    """The estimator class (or program builder) for a suite model name."""
    target = MODELS.get(name, name)
    if ":" not in target:
        raise SuiteError(
            f"unknown model {name!r}: use one of {sorted(MODELS)} or 'package.module:Class'",
            "name",
        )
    mod, attr = target.split(":", 1)
    try:
        return getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError) as exc:
        raise SuiteError(f"model {name!r} ({target}) cannot be imported: {exc}", "name") from None


#: file types a suite may name as data (a table: features and one target column)
DATA_FILES = (".csv", ".parquet")


def data_kind(name: str) -> str:
    """``"file"`` (a CSV or Parquet path), ``"code"`` (``"module:function"`` outside optml),
    or ``"optml"`` (a bundled set or an ``optml.data`` generator)."""
    if str(name).lower().endswith(DATA_FILES):
        return "file"
    if ":" in str(name):
        mod = str(name).split(":", 1)[0]
        return "optml" if mod == "optml" or mod.startswith("optml.") else "code"
    return "optml"


def data_path(name: str, base=None) -> Path:
    """The file a data name refers to: as written (absolute, or relative to the working
    directory), else relative to ``base`` (the suite file's folder)."""
    path = Path(name).expanduser()
    if path.is_absolute() or path.exists() or base is None:
        return path
    return Path(base) / path


def _parquet(path: Path):
    """``pyarrow.parquet``, or a SuiteError saying how to get it to read ``path``."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SuiteError(
            f"data {str(path)!r} is a Parquet file: reading it needs pyarrow "
            '(pip install pyarrow, or "optml-models[bench]")',
            "name",
        ) from None
    return pq


def _read_table(path: Path):
    """``(column names, 2-D float array)`` of a CSV (header row) or Parquet file."""
    import numpy as np

    if path.suffix.lower() == ".parquet":
        pq = _parquet(path)
        table = pq.read_table(path)
        cols = list(table.column_names)
        arr = np.column_stack([np.asarray(table.column(c).to_numpy(), dtype=float) for c in cols])
        return cols, arr
    import csv

    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        cols = [c.strip() for c in next(reader)]
        rows = [r for r in reader if r]
    try:
        arr = np.array(rows, dtype=float)
    except ValueError as exc:
        raise SuiteError(
            f"data {str(path)!r}: every value must be a number ({exc}); encode categories first",
            "name",
        ) from None
    return cols, arr.reshape(len(rows), len(cols))


def _table_columns(path: Path) -> list[str]:
    """The column names of a CSV or Parquet file, reading only its header or schema."""
    if path.suffix.lower() == ".parquet":
        pq = _parquet(path)
        return list(pq.read_schema(path).names)
    import csv

    with open(path, newline="") as fh:
        return [c.strip() for c in next(csv.reader(fh), [])]


def _target_index(cols: list[str], target, name: str) -> int:
    if target is None:
        return len(cols) - 1
    if isinstance(target, int) and not isinstance(target, bool):
        if -len(cols) <= target < len(cols):
            return target % len(cols)
    elif target in cols:
        return cols.index(target)
    raise SuiteError(f"data {name!r}: target {target!r} is not one of its columns {cols}", "params")


def load_table(name: str, params: dict, base=None):
    """``(X, y)`` of a CSV/Parquet file: every column but ``params["target"]`` (a name or an
    index; default the last column) as features."""
    extra = set(params) - {"target"}
    if extra:
        raise SuiteError(
            f"data {name!r} is a file and takes only the parameter 'target', got {sorted(extra)}",
            "params",
        )
    cols, arr = _read_table(data_path(name, base))
    j = _target_index(cols, params.get("target"), name)
    keep = [i for i in range(len(cols)) if i != j]
    return arr[:, keep], arr[:, j]


def resolve_data(name: str):
    """The function of a ``"module:function"`` data name."""
    mod, attr = name.split(":", 1)
    try:
        return getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError) as exc:
        raise SuiteError(f"data {name!r} cannot be imported: {exc}", "name") from None


def _call_data(fn, name: str, params: dict, seed):
    """``(X, y)`` from a data function: ``fn(**params[, random_state=seed])`` returning a
    Dataset (``.X``, ``.y``) or a tuple ``(X, y, ...)``."""
    import numpy as np

    kw = dict(params)
    names = param_names(fn, data_args=0)
    if seed is not None:
        if names is not None and "random_state" not in names:
            raise SuiteError(
                f"data {name!r} takes no random_state, but the suite gives seeds {seed!r}",
                "seeds",
            )
        kw["random_state"] = seed
    out = fn(**kw)
    if hasattr(out, "X") and hasattr(out, "y"):
        X, y = out.X, out.y
    elif isinstance(out, tuple | list) and len(out) >= 2:
        X, y = out[0], out[1]
    else:
        raise SuiteError(
            f"data {name!r} must return a Dataset or a tuple (X, y, ...), got {type(out).__name__}",
            "name",
        )
    return np.asarray(X, dtype=float), np.asarray(y)


def make_data(name: str, params: dict, seed: int | None, base=None):
    """``(X, y)`` for a bundled data set name, an ``optml.data`` generator, a CSV or Parquet
    file (``base``: the suite file's folder, for relative paths) or a ``"module:function"``
    data plug-in."""
    from optml import data

    kind = data_kind(name)
    if kind == "file":
        return load_table(name, params, base)
    if ":" in name:
        return _call_data(resolve_data(name), name, params, seed)
    if name in data.list_datasets():
        if params:
            raise SuiteError(f"data {name!r} is a bundled set and takes no params, got {params}")
        ds = data.load(name)
        return ds.X, ds.y
    gen = getattr(data, name, None)
    if gen is None or not name.startswith("make_"):
        raise SuiteError(
            f"unknown data {name!r}: a bundled set {data.list_datasets()} or a generator "
            f"optml.data.make_*",
            "name",
        )
    out = gen(**params, random_state=seed)
    return out[0], out[1]


def build_instance(model: str, params: dict, data: str, data_params: dict, seed, base=None):
    """``(program, X, y)`` of one instance: the data, then the model's program."""
    X, y = make_data(data, data_params, seed, base)
    target = resolve_model(model)
    if hasattr(target, "build_program"):
        program = target(**params).build_program(X, y)
    elif callable(target):  # a function (X, y, **params) -> Program
        program = target(X, y, **params)
    else:
        raise SuiteError(f"model {model!r} is neither an estimator class nor a function", "name")
    return program, X, y


def param_names(target, data_args: int = 2) -> list[str] | None:
    """The parameter names a model accepts: ``Class(**params)`` (its ``__init__``) or
    ``f(X, y, **params)`` (after the two data arguments); ``None`` when it takes any
    (``**kwargs``)."""
    import inspect

    is_class = isinstance(target, type)
    try:
        sig = inspect.signature(target.__init__ if is_class else target)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if is_class and params and params[0].name == "self":
        params = params[1:]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    if not is_class and data_args:  # X and y come first
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        drop = {p.name for p in positional[:data_args]}
        params = [p for p in params if p.name not in drop]
    return [p.name for p in params if p.kind is not p.VAR_POSITIONAL]


def check_params(what: str, target, keys, data_args: int = 2) -> None:
    """Raise :class:`SuiteError` for a parameter ``target`` does not take, listing the valid
    names (and the closest one)."""
    import difflib

    valid = param_names(target, data_args)
    if valid is None:
        return
    for k in keys:
        if k not in valid:
            close = difflib.get_close_matches(k, valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SuiteError(
                f"{what} has no parameter {k!r}{hint}; valid parameters: {sorted(valid)}",
                "params",
            )


def check_data_entry(name: str, params: dict, base=None, seeds=None) -> None:
    """Raise :class:`SuiteError` for an unknown data name or a parameter its generator does
    not take (nothing is generated or loaded; a file's header or schema is read)."""
    from optml import data

    kind = data_kind(name)
    if kind == "file":
        path = data_path(name, base)
        if not path.is_file():
            raise SuiteError(
                f"data file {name!r} not found (looked at {str(path)!r}; relative paths are "
                "taken from the working directory, then from the suite file's folder)",
                "name",
            )
        extra = set(params) - {"target"}
        if extra:
            raise SuiteError(
                f"data {name!r} is a file and takes only the parameter 'target', got "
                f"{sorted(extra)}",
                "params",
            )
        try:
            cols = _table_columns(path)
        except (OSError, ValueError) as exc:
            raise SuiteError(f"data file {name!r} cannot be read: {exc}", "name") from None
        if len(cols) < 2:
            raise SuiteError(
                f"data file {name!r} needs a header row and at least two columns (features "
                f"and a target), got {cols}",
                "name",
            )
        _target_index(cols, params.get("target"), name)
        return
    if ":" in name:  # optml's own "module:function" data (others are checked in the probe)
        fn = resolve_data(name)
        check_params(f"data {name!r}", fn, list(params), data_args=0)
        if any(s is not None for s in seeds or []):
            names = param_names(fn, data_args=0)
            if names is not None and "random_state" not in names:
                raise SuiteError(f"data {name!r} takes no random_state; drop 'seeds'", "seeds")
        return
    if name in data.list_datasets():
        if params:
            raise SuiteError(
                f"data {name!r} is a bundled set and takes no params, got {sorted(params)}",
                "params",
            )
        return
    gen = getattr(data, name, None)
    if gen is None or not name.startswith("make_"):
        gens = sorted(n for n in dir(data) if n.startswith("make_"))
        raise SuiteError(
            f"unknown data {name!r}: use a bundled set {data.list_datasets()} or a generator "
            f"{gens}",
            "name",
        )
    check_params(
        f"data generator {name!r}", gen, [k for k in params if k != "random_state"], data_args=0
    )
    if "random_state" in params:
        raise SuiteError(
            f"data {name!r}: give the random_state as 'seeds = [...]', not as a parameter",
            "params",
        )


def _grid_keys(entry: dict) -> list[str]:
    return list(entry.get("params", {}))


# --------------------------------------------------------------------------- parsing
def load_suite(source) -> Suite:
    """Parse and check a suite from a TOML path, TOML text or dict; raise :class:`SuiteError`
    naming the key (and line) of the first problem."""
    import tomllib

    if isinstance(source, Suite):
        return source
    suite = Suite()
    if isinstance(source, dict):
        suite.update(source)
    else:
        is_file = isinstance(source, Path) or (
            "\n" not in str(source) and Path(str(source)).is_file()
        )
        if not is_file and isinstance(source, str) and source.endswith(".toml"):
            raise FileNotFoundError(f"suite file {source!r} does not exist")
        text = Path(source).read_text() if is_file else str(source)
        suite.text, suite.path = text, str(source) if is_file else None
        try:
            suite.update(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise SuiteError(f"{_where(suite)}not valid TOML: {exc}") from None
    try:
        _validate(suite)
    except SuiteError as exc:
        raise _with_line(suite, exc) from None
    return suite


def _where(suite: Suite) -> str:
    return f"suite {suite.path}: " if suite.path else "suite: "


def _with_line(suite: Suite, exc: SuiteError) -> SuiteError:
    path = getattr(exc, "path", None) or ([exc.key] if exc.key else [])
    line = _locate(suite.text, path) if suite.text else None
    msg = f"{_where(suite)}{exc}" + (f" (line {line})" if line else "")
    return SuiteError(msg, exc.key, line)


def _err(message: str, *path) -> SuiteError:
    """An error about ``path`` (e.g. ``("models", 1, "params")``), naming its last key."""
    keys = [p for p in path if isinstance(p, str)]
    e = SuiteError(message, keys[-1] if keys else None)
    e.path = list(path)
    return e


def _locate(text: str, path: list) -> int | None:
    """Line (1-based) of ``path`` in TOML ``text``: a top-level key, ``[[table]]`` number
    ``i``, or a key inside it; the nearest enclosing line when the key is absent."""
    if not text or not path:
        return None
    lines = text.splitlines()

    def key_line(start, stop, key):
        for j in range(start, stop):
            s = lines[j].strip()
            if s.startswith(f"{key} ") or s.startswith(f"{key}=") or s.startswith(f'"{key}"'):
                return j
        return None

    headers = [j for j, ln in enumerate(lines) if ln.strip().startswith("[")]
    if not isinstance(path[0], str):
        return None
    table = path[0]
    if len(path) == 1 or not isinstance(path[1], int):  # a top-level key
        stop = headers[0] if headers else len(lines)
        j = key_line(0, stop, table)
        if j is None:
            hs = [h for h in headers if lines[h].strip().strip("[]").strip() == table]
            j = hs[0] if hs else None
        return None if j is None else j + 1
    idx = path[1]
    hs = [h for h in headers if lines[h].strip() == f"[[{table}]]"]
    if idx < len(hs):
        start = hs[idx]
        nxt = [h for h in headers if h > start]
        stop = nxt[0] if nxt else len(lines)
        j = key_line(start + 1, stop, path[2]) if len(path) > 2 else None
        return (start if j is None else j) + 1
    j = key_line(0, len(lines), table)  # inline: models = [{...}, ...]
    return None if j is None else j + 1


def _validate(spec: dict) -> None:
    for key in spec:
        if key not in _TOP_KEYS:
            raise _err(f"unknown key {key!r}; allowed keys: {sorted(_TOP_KEYS)}", key)
    for key in ("models", "data", "solvers"):
        if key not in spec:
            raise _err(f"the suite has no [[{key}]] entries (key {key!r} is required)", key)
        if not isinstance(spec[key], list) or not spec[key]:
            raise _err(f"key {key!r} must be a non-empty array of tables ([[{key}]])", key)
        for i, entry in enumerate(spec[key]):
            if not isinstance(entry, dict):
                raise _err(f"{key}[{i}] must be a table, got {entry!r}", key, i)
            for k in entry:
                if k not in _ENTRY_KEYS[key]:
                    raise _err(
                        f"unknown key {k!r} in {key}[{i}]; allowed: {sorted(_ENTRY_KEYS[key])}",
                        key,
                        i,
                        k,
                    )
    for key, kind in _TOP_KEYS.items():
        if key in spec and not isinstance(spec[key], kind) or isinstance(spec.get(key), bool):
            raise _err(f"key {key!r} must be of type {_kind(kind)}, got {spec[key]!r}", key)
    for key in ("time_limit", "repeats", "threads", "memory_limit_mb", "setup_limit"):
        if key in spec and spec[key] <= 0:
            raise _err(f"key {key!r} must be positive, got {spec[key]!r}", key)
    if "margin" in spec and spec["margin"] < 0:
        raise _err(f"key 'margin' must be >= 0 seconds, got {spec['margin']!r}", "margin")
    if "mip_gap" in spec and not 0 <= spec["mip_gap"] < 1:
        raise _err(f"key 'mip_gap' must be in [0, 1), got {spec['mip_gap']!r}", "mip_gap")
    if not all(isinstance(m, str) for m in spec.get("plugins", [])):
        raise _err(
            f"key 'plugins' must be a list of module names, got {spec['plugins']!r}", "plugins"
        )
    for key in ("models", "data"):
        for i, m in enumerate(spec[key]):
            if not isinstance(m.get("name"), str):
                raise _err(f"{key}[{i}] needs a string 'name'", key, i, "name")
            if not isinstance(m.get("params", {}), dict):
                raise _err(
                    f"{key}[{i}].params must be a table, got {m['params']!r}", key, i, "params"
                )
    for i, d in enumerate(spec["data"]):
        seeds = d.get("seeds", [None])
        if not isinstance(seeds, list) or not all(
            s is None or (isinstance(s, int) and not isinstance(s, bool)) for s in seeds
        ):
            raise _err(
                f"data[{i}].seeds must be a list of integers, got {seeds!r}", "data", i, "seeds"
            )
    for i, s in enumerate(spec["solvers"]):
        if not ({"backend", "solver"} & set(s)):
            raise _err(f"solvers[{i}] needs 'backend' and/or 'solver'", "solvers", i)
        for k in ("backend", "solver"):
            if k in s and not isinstance(s[k], str):
                raise _err(f"solvers[{i}].{k} must be a string, got {s[k]!r}", "solvers", i, k)
        if not isinstance(s.get("options", {}), dict):
            raise _err(f"solvers[{i}].options must be a table", "solvers", i, "options")
        for k, v in s.get("options", {}).items():
            if writes_files(k, v):
                raise _err(
                    f"solvers[{i}].options: option {k!r} = {v!r} may make the solver read or "
                    "write a file; a suite may not set such options (solver output goes to the "
                    "rows and the worker logs). Allowed despite their names: "
                    f"{sorted(SAFE_FILE_OPTIONS)}",
                    "solvers",
                    i,
                    "options",
                )


#: words in an option's name that mark a solver option able to read or write a file
#: (HiGHS ``solution_file``, ``write_model_file``, ``log_file``; SCIP ``visual/vbcfilename``;
#: Gurobi ``LogFile``, ``ResultFile``; CPLEX ``workdir``, ...)
_FILE_WORDS = ("file", "path", "dir", "write", "save", "dump", "read", "output", "log", "name")
#: options whose names hold such a word but that touch no file (the allow-list)
SAFE_FILE_OPTIONS = frozenset(
    {
        "output_flag",
        "log_to_console",
        "log_dev_level",
        "highs_analysis_level",
        "highs_debug_level",
        "display/verblevel",
        "display/freq",
        "outputflag",
        "logtoconsole",
        "verbose",
        "write_solution_style",
    }
)


def writes_files(name, value=None) -> bool:
    """Whether a solver option may read or write a file: its name holds a word of
    :data:`_FILE_WORDS` (and is not in :data:`SAFE_FILE_OPTIONS`), or its value looks like a
    path."""
    key = str(name).lower()
    if key in SAFE_FILE_OPTIONS:
        return False
    if any(w in key for w in _FILE_WORDS):
        return True
    return isinstance(value, str) and ("/" in value or "\\" in value)


def untrusted_code(spec) -> dict:
    """The code a suite would import: ``{"plugins": [...], "models": [...], "data": [...]}``
    (plugins, and ``"module:attr"`` models and data outside optml). Nothing is imported to
    find them."""
    plugins = list(spec.get("plugins", []))
    models = []
    for m in spec.get("models", []):
        target = MODELS.get(m.get("name"), m.get("name"))
        if isinstance(target, str) and ":" in target:
            mod = target.split(":", 1)[0]
            if mod != "optml" and not mod.startswith("optml."):
                models.append(m["name"])
        # a name without ":" and not in MODELS is refused by resolve_model, importing nothing
    data = [
        d["name"]
        for d in spec.get("data", [])
        if isinstance(d, dict) and isinstance(d.get("name"), str) and data_kind(d["name"]) == "code"
    ]
    return {"plugins": plugins, "models": models, "data": data}


def _kind(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def check_solvers(spec, pythonpath=None, allow_plugins: bool = False) -> None:
    """Check every backend/solver name and model of a validated suite; raise
    :class:`SuiteError` listing the installed solvers for an unknown one.

    A suite's own code (``plugins``, ``"module:attr"`` models and data outside optml) is
    refused unless ``allow_plugins``; even then it is never imported in this process: a
    short-lived worker process imports it (with ``pythonpath``, by default the folders a
    worker gets), checks the models' and data functions' parameters against their
    signatures, and reports the backends and solvers it registers, or the error it met.
    Data files (CSV, Parquet) are checked here: they exist, their header names the target.
    """
    suite = load_suite(spec)
    code = untrusted_code(suite)
    has_code = code["plugins"] or code["models"] or code["data"]
    if has_code and not allow_plugins:
        what = []
        if code["plugins"]:
            what.append(f"plugins {code['plugins']}")
        if code["models"]:
            what.append(f"models {code['models']}")
        if code["data"]:
            what.append(f"data {code['data']}")
        key = "plugins" if code["plugins"] else ("models" if code["models"] else "data")
        raise _with_line(
            suite,
            _err(
                f"the suite would import and run code: {' and '.join(what)}; code from a suite "
                "runs with your rights, so it is imported only when you trust it: pass "
                "--allow-plugins (allow_plugins=True); it then runs in the worker processes "
                "only",
                key,
            ),
        )
    for i, m in enumerate(suite["models"]):
        if m["name"] not in code["models"]:
            try:
                target = resolve_model(m["name"])  # optml's own estimators only
            except SuiteError as exc:
                raise _with_line(suite, _err(f"models[{i}]: {exc}", "models", i, "name")) from None
            try:
                check_params(f"model {m['name']!r}", target, _grid_keys(m))
            except SuiteError as exc:
                raise _with_line(
                    suite, _err(f"models[{i}]: {exc}", "models", i, "params")
                ) from None
    for i, d in enumerate(suite["data"]):
        if d["name"] in code.get("data", []):
            continue  # the suite's own data code: checked in the probe process
        base = Path(suite.path).resolve().parent if suite.path else None
        try:
            check_data_entry(d["name"], d.get("params", {}), base, d.get("seeds"))
        except SuiteError as exc:
            raise _with_line(
                suite, _err(f"data[{i}]: {exc}", "data", i, exc.key or "name")
            ) from None
    if has_code:
        if pythonpath is None:
            from optml.bench.pool import worker_path

            pythonpath = worker_path()
        found = _probe(
            {
                **code,
                "model_params": [
                    [i, m["name"], _grid_keys(m)]
                    for i, m in enumerate(suite["models"])
                    if m["name"] in code["models"]
                ],
                "data_params": [
                    [i, d["name"], _grid_keys(d), d.get("seeds")]
                    for i, d in enumerate(suite["data"])
                    if d["name"] in code["data"]
                ],
            },
            pythonpath,
        )
        if found.get("error"):
            where = found.get("where") or ["plugins"]
            raise _with_line(suite, _err(found["error"], *where)) from None
        backends, known, installed, special = (
            found["backends"],
            set(found["known"]),
            found["installed"],
            set(found["special"]),
        )
    else:
        backends, known, installed, special = _solver_names()
    _check_solver_entries(suite, backends, known, installed, special)


def _solver_names():
    from optml.backends import available, special_solvers
    from optml.backends import backends as all_backends

    loaded = all_backends()  # built-in ones and plug-ins registered by the plugins
    backends = sorted(b.name for b in loaded)
    installed = sorted({r["solver"] for r in available(refresh=True) if not r["kinds"]})
    known = {s for b in loaded for s in b.solvers}
    special = {sp.name for sp in special_solvers()}  # optml's own algorithms (backend "optml")
    known |= special
    installed = sorted(set(installed) | special)
    return backends, known, installed, special


def _probe(code: dict, pythonpath=()) -> dict:
    """Import a suite's plugins and models in a separate Python process; return the solver
    names it then knows, or ``{"error": message, "where": [key, ...]}``."""
    import os
    import subprocess

    env = dict(os.environ)
    env["OPTML_BENCH_PATH"] = json.dumps(list(pythonpath))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "optml.bench.suite", "--probe"],
            input=json.dumps(code),
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        return {"error": "importing the suite's plugins and models took over 300 s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        return {"error": "checking the suite's plugins failed in a worker: " + " | ".join(tail)}
    return json.loads(lines[-1])


def _probe_main() -> int:
    """``python -m optml.bench.suite --probe``: read ``{"plugins", "models"}`` (JSON) on stdin,
    import them, print the solver names known afterwards (JSON) on stdout."""
    import os

    for p in reversed(json.loads(os.environ.get("OPTML_BENCH_PATH") or "[]")):
        if p not in sys.path:
            sys.path.insert(0, p)
    code = json.loads(sys.stdin.read())
    out: dict = {}
    for mod in code.get("plugins", []):
        try:
            importlib.import_module(mod)
        except Exception as exc:
            out = {"error": f"plugin {mod!r} cannot be imported: {exc}", "where": ["plugins"]}
            break
    if not out:
        for name in code.get("models", []):
            try:
                resolve_model(name)
            except SuiteError as exc:
                out = {"error": f"model {name!r}: {exc}", "where": ["models"]}
                break
    if not out:
        for i, name, keys, seeds in code.get("data_params", []):
            try:
                check_data_entry(name, dict.fromkeys(keys), None, seeds)
            except SuiteError as exc:
                out = {"error": f"data[{i}]: {exc}", "where": ["data", i, exc.key or "name"]}
                break
    if not out:
        for i, name, keys in code.get("model_params", []):
            try:
                check_params(f"model {name!r}", resolve_model(name), keys)
            except SuiteError as exc:
                out = {"error": f"models[{i}]: {exc}", "where": ["models", i, "params"]}
                break
    if not out:
        backends, known, installed, special = _solver_names()
        out = {
            "backends": backends,
            "known": sorted(known),
            "installed": installed,
            "special": sorted(special),
        }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


def _check_solver_entries(suite, backends, known, installed, special) -> None:
    known = set(known) | set(installed)

    def fail(message, i, key):
        return _with_line(suite, _err(message, "solvers", i, key))

    for i, s in enumerate(suite["solvers"]):
        b, name = s.get("backend", "auto"), s.get("solver")
        if b != "auto" and b not in backends and not (b == "optml" and name in special):
            raise fail(
                f"solvers[{i}]: unknown backend {b!r}; known backends: {backends} or 'auto'",
                i,
                "backend",
            )
        if name is not None and name.lower() not in known:
            raise fail(
                f"solvers[{i}]: unknown solver {name!r}; installed solvers: {installed}",
                i,
                "solver",
            )
        if name is not None and name.lower() not in installed:
            raise fail(
                f"solvers[{i}]: solver {name!r} is not installed; installed solvers: {installed}",
                i,
                "solver",
            )


def _grid(params: dict) -> list[dict]:
    keys = list(params)
    values = [v if isinstance(v, list) else [v] for v in params.values()]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


def expand(spec) -> list[Task]:
    """All tasks of a suite, in a deterministic order."""
    spec = load_suite(spec)
    tl = float(spec.get("time_limit", 60))
    common = dict(
        time_limit=tl,
        threads=int(spec.get("threads", 1)),
        mip_gap=spec.get("mip_gap"),
        plugins=list(spec.get("plugins", [])),
        memory_limit_mb=spec.get("memory_limit_mb"),
        margin=float(spec.get("margin", 10.0)),
        setup_limit=spec.get("setup_limit"),
    )
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
                                        model=m["name"],
                                        params=mp,
                                        data=d["name"],
                                        data_params=dp,
                                        seed=seed,
                                        backend=_backend_of(s),
                                        solver=s.get("solver"),
                                        repeat=r,
                                        options=dict(s.get("options", {})),
                                        **common,
                                    )
                                )
    return tasks


def _backend_of(entry: dict) -> str:
    """A suite's solver entry's backend; optml's own algorithms run under backend "optml"."""
    from optml.backends import is_special

    return "optml" if is_special(entry.get("solver")) else entry.get("backend", "auto")


def task_from_dict(d: dict[str, Any]) -> Task:
    return Task(**{k: v for k, v in d.items() if k in Task.__dataclass_fields__})


if __name__ == "__main__":
    if sys.argv[1:] == ["--probe"]:
        sys.exit(_probe_main())
    sys.stderr.write("usage: python -m optml.bench.suite --probe (JSON on stdin)\n")
    sys.exit(2)
