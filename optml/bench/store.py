"""The result store: one SQLite file, rows written one by one as tasks end.

Tables
------
``results``
    One row per finished task, columns :data:`COLUMNS` (the row schema in docs/bench.md);
    ``key`` is unique, so a resumed sweep can never hold a task twice.
``meta``
    ``key -> JSON value``: the machine info of the latest run (platform, CPU, memory, load,
    package versions) and ``runs``, the list of every run on this store with its settings.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from pathlib import Path

#: the row schema, in order
COLUMNS = [
    "key",
    "instance",
    "model",
    "params",
    "data",
    "data_params",
    "seed",
    "repeat",
    "n",
    "p",
    "backend",
    "solver",
    "solver_version",
    "requested",
    "options",
    "threads",
    "time_limit",
    "mip_gap",
    "status",
    "objective",
    "bound",
    "gap",
    "build_time",
    "solve_time",
    "wall_time",
    "warm_up_time",
    "task_time",
    "peak_memory_mb",
    "objective_check",
    "max_violation",
    "verified",
    "problem_class",
    "program_hash",
    "primal_dual_integral",
    "trace",
    "log_file",
    "stage",
    "worker_pid",
    "finished_at",
    "message",
]

_FLOATS = {
    "objective",
    "bound",
    "gap",
    "build_time",
    "solve_time",
    "wall_time",
    "warm_up_time",
    "task_time",
    "peak_memory_mb",
    "objective_check",
    "max_violation",
    "time_limit",
    "mip_gap",
    "primal_dual_integral",
}


class StoreError(RuntimeError):
    """The results file cannot be used: not a store of optml (another program's SQLite file,
    a corrupted file) or a place that cannot be written. Nothing was written to it."""


class Store:
    """A SQLite file of result rows (table ``results``) and machine info (table ``meta``).

    Opening a store writes nothing: an existing file is checked read-only first (an SQLite
    file of another program, or a corrupted one, raises :class:`StoreError` and stays as it
    was); the tables are created, or an older store's new columns added, at the first write.
    """

    def __init__(self, path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ready = False
        self._has_results = False
        if self.path.exists():
            self._inspect()

    def _inspect(self) -> None:
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a results file")
        if self.path.stat().st_size == 0:
            return
        try:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=60)
            try:
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
                cols = (
                    [r[1] for r in con.execute("PRAGMA table_info(results)")]
                    if "results" in tables
                    else []
                )
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a readable optml results store ({exc}); it was left as "
                "it is: move it away, or choose another output folder (--out)"
            ) from None
        user = sorted(t for t in tables if not t.startswith("sqlite_"))
        if user and ("key" not in cols or not set(user) <= {"results", "meta", "results_key"}):
            raise StoreError(
                f"{self.path} is an SQLite file of another program (tables {user}); optml "
                "left it untouched: choose another output folder (--out)"
            )
        self._has_results = "key" in cols

    def _connect(self):
        return sqlite3.connect(self.path, timeout=60)

    def _ensure(self) -> None:
        """Create the tables (or add an older store's missing columns) before a write."""
        if self._ready:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                have = [r[1] for r in con.execute("PRAGMA table_info(results)")]
                if not have:
                    cols = ", ".join(f'"{c}"' for c in COLUMNS)
                    con.execute(f"CREATE TABLE results ({cols})")
                else:  # a store written by an older version: add the new columns
                    for c in COLUMNS:
                        if c not in have:
                            con.execute(f'ALTER TABLE results ADD COLUMN "{c}"')
                con.execute("CREATE UNIQUE INDEX IF NOT EXISTS results_key ON results(key)")
                con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        except (OSError, sqlite3.OperationalError) as exc:
            raise StoreError(
                f"cannot write the results store {self.path} ({exc}); choose an output folder "
                "you can write to (--out)"
            ) from None
        self._ready = self._has_results = True

    def done_keys(self, skip_statuses=()) -> set[str]:
        """Keys of the tasks already recorded (except those with ``skip_statuses``)."""
        if not self._has_results:
            return set()
        with self._connect() as con:
            return {
                k
                for k, st in con.execute("SELECT key, status FROM results")
                if st not in skip_statuses
            }

    def add(self, row: dict) -> None:
        """Write one row and commit it (a row with a known key replaces the old one)."""
        self._ensure()
        with self._lock, self._connect() as con:
            cols = ", ".join(f'"{c}"' for c in COLUMNS)
            marks = ", ".join("?" for _ in COLUMNS)
            con.execute(
                f"INSERT OR REPLACE INTO results ({cols}) VALUES ({marks})",
                [_plain(row.get(c)) for c in COLUMNS],
            )

    def set_meta(self, info: dict) -> None:
        self._ensure()
        with self._lock, self._connect() as con:
            for k, v in info.items():
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, json.dumps(v)))

    def meta(self) -> dict:
        if not self._has_results:
            return {}
        with self._connect() as con:
            return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM meta")}

    def log_run(self, settings: dict, machine: dict) -> None:
        """Append this run (start time, settings, machine) to ``meta['runs']``."""
        runs = self.meta().get("runs", [])
        runs.append(
            {
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                **settings,
                "machine": {
                    k: machine.get(k) for k in ("node", "cpu_model", "cpus", "load_average")
                },
            }
        )
        self.set_meta({"runs": runs})

    def rows(self) -> list[dict]:
        """All rows, in the order they were written; floats as floats (NaN for missing)."""
        if not self._has_results:
            return []
        with self._connect() as con:
            cur = con.execute("SELECT * FROM results ORDER BY rowid")
            names = [d[0] for d in cur.description]
            out = []
            for r in cur.fetchall():
                row = dict(zip(names, r, strict=True))
                for c in _FLOATS & row.keys():
                    if row[c] is None and c not in ("time_limit", "mip_gap"):
                        row[c] = math.nan
                if row.get("verified") is not None:
                    row["verified"] = bool(row["verified"])
                out.append(row)
            return out


def _plain(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float):
        return None if math.isnan(v) else v  # SQLite keeps +-inf
    if isinstance(v, int | str) or v is None:
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return json.dumps(v, default=str)
