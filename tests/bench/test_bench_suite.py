"""Suite files: expansion, and errors that name the key and the line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from optml import bench  # noqa: E402
from optml.bench import SuiteError  # noqa: E402

GOOD = """\
name = "s"
time_limit = 3
repeats = 2

[[solvers]]
backend = "highs"
solver = "highs"

[[solvers]]
backend = "cvxpy"
solver = "clarabel"

[[models]]
name = "bench_testmodels:lad"
params = { scale = [1.0, 2.0, 3.0] }

[[data]]
name = "make_sparse_regression"
params = { n = 30, p = [5, 6] }
seeds = [0, 1]
"""


def _write(tmp_path, text):
    f = tmp_path / "suite.toml"
    f.write_text(text)
    return f


def test_expand_is_the_cross_product(tmp_path):
    tasks = bench.expand(_write(tmp_path, GOOD))
    assert len(tasks) == 3 * 2 * 2 * 2 * 2  # params x data grid x seeds x solvers x repeats
    assert len({t.key for t in tasks}) == len(tasks)
    assert len({t.instance for t in tasks}) == 3 * 2 * 2
    again = bench.expand(GOOD)  # TOML text works too, with the same keys
    assert [t.key for t in again] == [t.key for t in tasks]
    t = tasks[0]
    assert (t.time_limit, t.threads, t.margin, t.backend, t.solver) == (
        3.0,
        1,
        10.0,
        "highs",
        "highs",
    )


@pytest.mark.parametrize(
    "old, new, key, line",
    [
        ("repeats = 2", "repeats = 0", "repeats", 3),
        ("repeats = 2", 'repeats = "2"', "repeats", 3),
        ("time_limit = 3", "time_limt = 3", "time_limt", 2),
        ("seeds = [0, 1]", 'seeds = [0, "a"]', "seeds", 20),
        ("params = { scale = [1.0, 2.0, 3.0] }", "params = 5", "params", 15),
        ('solver = "clarabel"', 'solver = "clarabel"\nthreads = 2', "threads", 12),
        ('name = "make_sparse_regression"', 'nam = "make_sparse_regression"', "nam", 18),
    ],
)
def test_malformed_suite_names_key_and_line(tmp_path, old, new, key, line):
    assert old in GOOD
    f = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(SuiteError) as e:
        bench.load_suite(f)
    msg = str(e.value)
    assert repr(key) in msg or f"{key}" in msg, msg
    assert f"(line {line})" in msg, msg
    assert e.value.line == line and str(f) in msg


def test_toml_syntax_error_gives_the_line(tmp_path):
    f = _write(tmp_path, GOOD.replace('solver = "highs"', 'solver = "highs'))
    with pytest.raises(SuiteError, match=r"not valid TOML.*line 7"):
        bench.load_suite(f)


def test_missing_section_and_dict_suites():
    with pytest.raises(SuiteError, match=r"\[\[solvers\]\]"):
        bench.load_suite({"models": [{"name": "lasso"}], "data": [{"name": "hald"}]})
    with pytest.raises(SuiteError, match="mip_gap"):
        bench.load_suite(
            {
                "models": [{"name": "lasso"}],
                "data": [{"name": "hald"}],
                "solvers": [{"solver": "highs"}],
                "mip_gap": 2,
            }
        )
    with pytest.raises(FileNotFoundError):
        bench.load_suite("no/such/suite.toml")


def test_unknown_solver_lists_installed_ones(tmp_path):
    f = _write(tmp_path, GOOD.replace('solver = "clarabel"', 'solver = "cplexx"'))
    with pytest.raises(SuiteError) as e:
        bench.check_solvers(bench.load_suite(f), allow_plugins=True)
    msg = str(e.value)
    assert "unknown solver 'cplexx'" in msg and "installed solvers:" in msg
    assert "'highs'" in msg and "'clarabel'" in msg and "(line 11)" in msg
    f = _write(tmp_path, GOOD.replace('backend = "cvxpy"', 'backend = "jump"'))
    with pytest.raises(SuiteError, match=r"unknown backend 'jump'.*'cvxpy'.*line 10"):
        bench.check_solvers(bench.load_suite(f), allow_plugins=True)
    f = _write(tmp_path, GOOD.replace("bench_testmodels:lad", "lassso"))
    with pytest.raises(SuiteError, match=r"unknown model 'lassso'.*line 14"):
        bench.check_solvers(bench.load_suite(f), allow_plugins=True)


def test_run_suite_refuses_unknown_solver_before_any_work(tmp_path):
    f = _write(tmp_path, GOOD.replace('solver = "clarabel"', 'solver = "nosuch"'))
    with pytest.raises(SuiteError, match="installed solvers"):
        bench.run_suite(f, tmp_path / "out", progress=False, allow_plugins=True)
    assert not (tmp_path / "out" / "results.sqlite").exists()


def test_cli_reports_suite_errors(tmp_path, capsys):
    from optml.cli import main

    f = _write(tmp_path, GOOD.replace("repeats = 2", "repeats = -1"))
    assert main(["bench", str(f), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "repeats" in err and "line 3" in err
