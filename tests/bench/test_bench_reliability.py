"""Benchmark harness under hostile or careless use (issue 17: R10, R13, R14)."""

from __future__ import annotations

import hashlib
import math
import os
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the misbehaving plug-in lives next to this file
    sys.path.insert(0, str(HERE))

from optml import bench  # noqa: E402
from optml.bench import SuiteError  # noqa: E402
from optml.bench.store import StoreError  # noqa: E402


def _lasso_suite(time_limit=5, **extra):
    return {
        "name": "small",
        "time_limit": time_limit,
        "models": [{"name": "lasso", "params": {"alpha": 0.1}}],
        "data": [{"name": "diabetes"}],
        "solvers": [{"backend": "highs"}],
        **extra,
    }


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------ R10
@pytest.mark.slow  # 3-6 s (the default suite is kept under 10 min)
def test_R10_failed_rows_name_the_solver_that_ran(tmp_path):
    suite = {
        "name": "no solver named",
        "time_limit": 3,
        "margin": 3,
        "plugins": ["bench_testplugins"],
        "models": [{"name": "lasso", "params": {"alpha": 0.1}}],
        "data": [{"name": "diabetes"}],
        # no 'solver': the automatic choice of each backend
        "solvers": [{"backend": "highs"}, {"backend": "misbehave"}],
    }
    rows = bench.run_suite(suite, tmp_path, progress=False, allow_plugins=True)
    by = {r["backend"]: r for r in rows}
    assert by["highs"]["status"] == "optimal" and by["highs"]["solver"] == "highs"
    crashed = by["misbehave"]
    assert crashed["status"] == "crashed"
    assert crashed["solver"] == "segv"  # the solver the worker resolved, not None
    summary = bench.summarize(rows)
    recs = summary.to_dict("records") if hasattr(summary, "to_dict") else summary
    for r in recs:
        assert isinstance(r["solver"], str), r  # no phantom "highs | nan" row
    failed = {(r["backend"], r["solver"]): r["failed"] for r in recs}
    assert failed[("misbehave", "segv")] == 1 and failed[("highs", "highs")] == 0


def test_R10_resume_with_other_settings_is_refused(tmp_path):
    bench.run_suite(_lasso_suite(5), tmp_path, progress=False)
    db = tmp_path / "results.sqlite"
    before = len(bench.Store(db).rows())
    with pytest.raises(SuiteError, match=r"time_limit: stored \[5\.0\] -> now \[7\.0\]"):
        bench.run_suite(_lasso_suite(7), tmp_path, progress=False, resume=True)
    with pytest.raises(SuiteError, match=r"threads"):
        bench.run_suite(_lasso_suite(5, threads=2), tmp_path, progress=False, resume=True)
    assert len(bench.Store(db).rows()) == before
    # the same settings resume (nothing left to run)
    rows = bench.run_suite(_lasso_suite(5), tmp_path, progress=False, resume=True)
    assert len(rows) == before


# ------------------------------------------------------------------------------------ R13
def _marker_plugin(folder: Path, name: str) -> Path:
    marker = folder / f"{name}.ran"
    (folder / f"{name}.py").write_text(
        textwrap.dedent(
            f"""
            import os
            with open({str(marker)!r}, "a") as fh:
                fh.write(str(os.getpid()) + "\\n")
            from optml.regression import Lasso as Model
            """
        )
    )
    return marker


def _suite_file(folder: Path, body: str) -> Path:
    f = folder / "suite.toml"
    f.write_text(textwrap.dedent(body))
    return f


def test_R13_plugins_refused_without_the_flag_and_nothing_imported(tmp_path):
    marker = _marker_plugin(tmp_path, "r13_plugin_a")
    f = _suite_file(
        tmp_path,
        """
        name = "untrusted"
        time_limit = 5
        plugins = ["r13_plugin_a"]
        [[solvers]]
        backend = "highs"
        [[models]]
        name = "lasso"
        [[data]]
        name = "diabetes"
        """,
    )
    with pytest.raises(SuiteError, match=r"plugins \['r13_plugin_a'\].*--allow-plugins"):
        bench.run_suite(f, tmp_path / "out", progress=False)
    assert not marker.exists()
    assert "r13_plugin_a" not in sys.modules
    assert not (tmp_path / "out" / "results.sqlite").exists()


def test_R13_foreign_models_refused_without_the_flag(tmp_path):
    marker = _marker_plugin(tmp_path, "r13_plugin_b")
    f = _suite_file(
        tmp_path,
        """
        time_limit = 5
        [[solvers]]
        backend = "highs"
        [[models]]
        name = "r13_plugin_b:Model"
        [[data]]
        name = "diabetes"
        """,
    )
    with pytest.raises(SuiteError, match=r"models \['r13_plugin_b:Model'\]"):
        bench.run_suite(f, tmp_path / "out", progress=False)
    with pytest.raises(SuiteError, match="--allow-plugins"):
        bench.export_instances(f, tmp_path / "inst")
    assert not marker.exists()


def test_R13_plugins_run_only_in_worker_processes(tmp_path):
    marker = _marker_plugin(tmp_path, "r13_plugin_c")
    f = _suite_file(
        tmp_path,
        """
        time_limit = 5
        plugins = ["r13_plugin_c"]
        [[solvers]]
        backend = "highs"
        [[models]]
        name = "r13_plugin_c:Model"
        params = { alpha = 0.1 }
        [[data]]
        name = "diabetes"
        """,
    )
    rows = bench.run_suite(f, tmp_path / "out", progress=False, allow_plugins=True)
    assert rows[0]["status"] == "optimal"
    pids = {int(p) for p in marker.read_text().split()}
    assert pids and os.getpid() not in pids  # imported by the probe and the workers only
    assert "r13_plugin_c" not in sys.modules


def test_R13_suite_folder_on_the_import_path_only_with_the_flag(tmp_path, monkeypatch):
    from optml.bench import runner

    seen = []
    monkeypatch.setattr(runner, "run_tasks", lambda *a, **k: seen.append(k["pythonpath"]))
    folder = tmp_path / "downloaded"
    folder.mkdir()
    f = _suite_file(
        folder,
        """
        time_limit = 5
        [[solvers]]
        backend = "highs"
        [[models]]
        name = "lasso"
        [[data]]
        name = "diabetes"
        """,
    )
    monkeypatch.chdir(folder)  # even when it is the working directory
    bench.run_suite(f, tmp_path / "o1", progress=False)
    bench.run_suite(f, tmp_path / "o2", progress=False, allow_plugins=True)
    real = os.path.realpath(folder)
    assert real not in {os.path.realpath(p) for p in seen[0]}
    assert real in {os.path.realpath(p) for p in seen[1]}


@pytest.mark.parametrize(
    "option",
    [
        'solution_file = "/tmp/optml_r13_overwritten"',
        "write_solution_to_file = true",
        'log_file = "x.log"',
        'LogFile = "gurobi.log"',
        '"visual/vbcfilename" = "tree.vbc"',
        'some_option = "/etc/passwd"',
    ],
)
def test_R13_solver_options_that_write_files_are_refused(tmp_path, option):
    f = _suite_file(
        tmp_path,
        f"""
        time_limit = 5
        [[solvers]]
        backend = "highs"
        options = {{ {option} }}
        [[models]]
        name = "lasso"
        [[data]]
        name = "diabetes"
        """,
    )
    with pytest.raises(SuiteError, match=r"may make the solver read or write a file.*line 5"):
        bench.load_suite(f)
    assert not Path("/tmp/optml_r13_overwritten").exists()


def test_R13_harmless_options_pass():
    suite = _lasso_suite()
    suite["solvers"] = [
        {"backend": "highs", "options": {"presolve": "off", "output_flag": False}},
        {"backend": "pyomo", "solver": "scip", "options": {"display/verblevel": 0}},
    ]
    bench.load_suite(suite)


# ------------------------------------------------------------------------------------ R14
def test_R14_corrupted_store_is_refused_and_left_alone(tmp_path):
    db = tmp_path / "results.sqlite"
    db.write_bytes(b"this is not a database " * 100)
    before = _digest(db)
    with pytest.raises(StoreError, match=r"not a readable optml results store.*--out"):
        bench.run_suite(_lasso_suite(), tmp_path, progress=False)
    assert _digest(db) == before


def test_R14_foreign_sqlite_is_not_altered_before_refusal(tmp_path):
    db = tmp_path / "results.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    con.execute("INSERT INTO customers VALUES (1, 'Ada')")
    con.commit()
    con.close()
    before = _digest(db)
    with pytest.raises(StoreError, match=r"another program \(tables \['customers'\]\)"):
        bench.run_suite(_lasso_suite(), tmp_path, progress=False, resume=True)
    assert _digest(db) == before


def test_R14_store_of_a_finished_sweep_is_not_altered_before_refusal(tmp_path):
    bench.run_suite(_lasso_suite(), tmp_path, progress=False)
    db = tmp_path / "results.sqlite"
    before = _digest(db)
    with pytest.raises(FileExistsError, match="--resume"):
        bench.run_suite(_lasso_suite(), tmp_path, progress=False)
    assert _digest(db) == before


def test_R14_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(StoreError, match=r"cannot write the results store.*--out"):
        bench.run_suite(_lasso_suite(), blocker / "out", progress=False)
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            with pytest.raises(StoreError, match="cannot write"):
                bench.run_suite(_lasso_suite(), ro, progress=False)
        finally:
            ro.chmod(0o700)


def test_R14_cli_reports_store_problems_without_traceback(tmp_path, capsys):
    from optml.cli import main

    (tmp_path / "results.sqlite").write_bytes(b"garbage" * 50)
    f = tmp_path / "s.toml"
    f.write_text(
        'time_limit = 5\n[[solvers]]\nbackend = "highs"\n[[models]]\nname = "lasso"\n'
        '[[data]]\nname = "diabetes"\n'
    )
    rc = main(["bench", str(f), "--out", str(tmp_path), "--no-progress", "--no-plots"])
    err = capsys.readouterr().err
    assert rc == 2 and "not a readable optml results store" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "address, match",
    [("tcp://127.0.0.1:1", "no Dask scheduler answers"), ("nonsense", "not a Dask scheduler")],
)
def test_R14_bad_dask_address(tmp_path, address, match):
    with pytest.raises(ConnectionError, match=match):
        bench.run_suite(_lasso_suite(), tmp_path, progress=False, scheduler=address)


@pytest.mark.slow  # 3-6 s (the default suite is kept under 10 min)
def test_R14_suite_folder_with_colon(tmp_path):
    folder = tmp_path / "suites:v2"
    folder.mkdir()
    _marker_plugin(folder, "r14_colon_plugin")
    f = _suite_file(
        folder,
        """
        time_limit = 5
        plugins = ["r14_colon_plugin"]
        [[solvers]]
        backend = "highs"
        [[models]]
        name = "lasso"
        [[data]]
        name = "diabetes"
        """,
    )
    rows = bench.run_suite(f, tmp_path / "out", progress=False, allow_plugins=True)
    assert rows[0]["status"] == "optimal", rows[0]["message"]
    assert math.isfinite(rows[0]["objective"])
