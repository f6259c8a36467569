"""User data in suites: CSV and Parquet files and ``module:function`` plug-ins, loaded in the
workers, their errors reported before the run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bench_testmodels as tm  # noqa: E402

from optml import bench  # noqa: E402
from optml.bench import SuiteError  # noqa: E402

DATA_MODULE = """
import os
import numpy as np

with open(os.path.join(os.path.dirname(__file__), "imported_by.txt"), "a") as fh:
    fh.write(f"{os.getpid()}\\n")


def load(n=15, p=3, random_state=None):
    rng = np.random.default_rng(random_state)
    X = rng.normal(size=(n, p))
    return X, X @ np.arange(1.0, p + 1) + rng.standard_t(2, size=n)
"""


def _xy(seed=0, n=14, p=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    return X, X @ np.array([1.0, -2.0, 0.5]) + rng.laplace(size=n)


@pytest.fixture
def folder(tmp_path):
    X, y = _xy()
    header = "a,b,c,target"
    np.savetxt(
        tmp_path / "train.csv",
        np.c_[y, X][:, [1, 2, 3, 0]],
        delimiter=",",
        header=header,
        comments="",
    )
    (tmp_path / "mydata.py").write_text(DATA_MODULE)
    return tmp_path


def _suite(folder: Path, data: list[dict], model: str = "bench_testmodels:lad") -> Path:
    lines = [
        'time_limit = 10\n[[solvers]]\nbackend = "highs"\n',
        f'[[models]]\nname = "{model}"\n',
    ]
    for d in data:
        lines.append("[[data]]\n" + "".join(f"{k} = {v}\n" for k, v in d.items()))
    f = folder / "suite.toml"
    f.write_text("".join(lines))
    return f


def test_csv_parquet_and_function_data_load_in_workers(folder, monkeypatch):
    monkeypatch.chdir(HERE)  # the workers import bench_testmodels from here
    data = [
        {"name": '"train.csv"', "params": '{ target = "target" }'},  # next to the suite
        {"name": '"mydata:load"', "params": "{ n = 15 }", "seeds": "[3]"},
    ]
    pa = None
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        pass
    X, y = _xy()
    if pa is not None:
        pq.write_table(
            pa.table({"y": y, "a": X[:, 0], "b": X[:, 1], "c": X[:, 2]}), folder / "train.parquet"
        )
        data.append({"name": '"train.parquet"', "params": "{ target = 0 }"})
    suite = _suite(folder, data)
    rows = bench.run_suite(suite, folder / "out", allow_plugins=True)
    by = {r["data"]: r for r in rows}
    assert all(r["status"] == "optimal" and r["verified"] for r in rows), rows
    want = tm.lad_linprog(X, y)
    assert by["train.csv"]["objective"] == pytest.approx(want, rel=1e-7)
    assert (by["train.csv"]["n"], by["train.csv"]["p"]) == (14, 3)
    if pa is not None:
        assert by["train.parquet"]["objective"] == pytest.approx(want, rel=1e-7)
    import importlib.util

    spec = importlib.util.spec_from_file_location("mydata_here", folder / "mydata.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # the test's own import, to recompute the optimum
    Xf, yf = mod.load(n=15, random_state=3)
    assert by["mydata:load"]["objective"] == pytest.approx(tm.lad_linprog(Xf, yf), rel=1e-7)
    # the data code ran in other processes (the probe and a worker), then here by the test
    pids = [int(x) for x in (folder / "imported_by.txt").read_text().split()]
    assert os.getpid() in pids[-1:] and os.getpid() not in pids[:-1] and len(pids) >= 3


def test_data_errors_before_the_run(folder, monkeypatch):
    monkeypatch.chdir(HERE)
    out = folder / "out"
    cases = [
        ([{"name": '"missing.csv"'}], False, "data file 'missing.csv' not found"),
        (
            [{"name": '"train.csv"', "params": '{ target = "y" }'}],
            False,
            r"target 'y' is not one of its columns \['a', 'b', 'c', 'target'\]",
        ),
        ([{"name": '"train.csv"', "params": "{ sep = 1 }"}], False, "only the parameter 'target'"),
        (
            [{"name": '"mydata:load"'}],
            False,
            r"would import and run code: .*data \['mydata:load'\]",
        ),
        (
            [{"name": '"mydata:load"', "params": "{ nn = 3 }"}],
            True,
            r"data\[0\]: .*no parameter 'nn' \(did you mean 'n'\?\)",
        ),
        ([{"name": '"mydata:nothere"'}], True, "cannot be imported"),
    ]
    for data, allow, match in cases:
        with pytest.raises(SuiteError, match=match):
            bench.run_suite(_suite(folder, data, "lad"), out, allow_plugins=allow)
        assert not out.exists()
        if not allow:  # refused without --allow-plugins: the data module was never imported
            assert not (folder / "imported_by.txt").exists()
