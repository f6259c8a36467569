"""``optml report DIR``: the self-contained HTML page, Markdown/CSV summaries, Parquet."""

from __future__ import annotations

import csv
import json
import math
import re

import pytest

from optml import bench
from optml.bench.runner import machine_info
from optml.cli import main


def _row(inst, model, pclass, solver, t, obj, status="optimal"):
    tr = {"sense": "min", "source": "highs-log", "points": [[0.0, None, 0.0], [t, obj, obj]]}
    return {
        "key": f"{inst}-{solver}",
        "instance": json.dumps({"model": model, "params": {}, "data": inst, "seed": None}),
        "model": model,
        "data": inst,
        "backend": "b",
        "solver": solver,
        "status": status,
        "verified": status == "optimal",
        "objective": obj,
        "bound": obj,
        "gap": 0.0,
        "wall_time": t,
        "solve_time": t,
        "time_limit": 60.0,
        "problem_class": pclass,
        "p": 10,
        "stage": "solve",
        "trace": json.dumps(tr),
    }


@pytest.fixture
def folder(tmp_path):
    store = bench.Store(tmp_path / "results.sqlite")
    store.set_meta(machine_info())
    store.log_run({"suite": "unit"}, machine_info())
    for r in [
        _row("i1", "lad", "LP", "A", 1.0, 5.0),
        _row("i1", "lad", "LP", "B", 4.0, 5.0),
        _row("i2", "knap", "MILP", "A", 30.0, 7.0),
        _row("i2", "knap", "MILP", "B", 20.0, 7.0),
        {
            **_row("i3", "knap", "MILP", "A", 0, 0),
            "status": "error",
            "stage": "setup",
            "trace": None,
            "problem_class": None,
            "message": "ValueError: bad data",
        },
    ]:
        store.add(r)
    return tmp_path


@pytest.mark.slow  # 3-6 s (the default suite is kept under 10 min)
def test_report_writes_one_self_contained_page(folder, capsys):
    pytest.importorskip("matplotlib")
    assert main(["report", str(folder), "--shift", "10"]) == 0
    page = (folder / "report.html").read_text()
    imgs = re.findall(r'<img alt="plot" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    # per family: profile, time vs size, gap vs time; per instance with a trace: one
    assert len(imgs) == 2 * 3 + 2
    assert all(len(i) > 1000 for i in imgs)
    assert not re.search(r'(src|href)="(https?:|//|file:)', page)  # nothing outside the page
    assert "lad (LP)" in page and "knap (MILP)" in page
    assert "shift of 10 s" in page
    assert "1 task(s) could not run" in page and "ValueError: bad data" in page
    assert "highspy" in page and "cpu_model" in page  # machine and solver versions
    # the summary tables use the shift: knap A solved i2 in 30 s, failed i3 (at its 60 s
    # limit, in its model's family although it never got a class); B ran i2 only
    summ = list(csv.DictReader(open(folder / "summary.csv")))
    knap = {r["solver"]: float(r["sgm_time"]) for r in summ if r["model"] == "knap"}
    assert knap["A"] == pytest.approx(math.sqrt((30 + 10) * (60 + 10)) - 10)
    assert knap["B"] == pytest.approx(20.0)
    md = (folder / "summary.md").read_text()
    assert md.startswith("| model | problem_class | backend | solver")
    assert len(list(csv.DictReader(open(folder / "results.csv")))) == 5


def test_report_parquet_export(folder):
    pq = pytest.importorskip("pyarrow.parquet")
    assert main(["report", str(folder), "--no-plots"]) == 0
    table = pq.read_table(folder / "results.parquet")
    assert table.num_rows == 5
    objs = sorted(o for o in table.column("objective").to_pylist() if o is not None)
    assert objs[-1] == 7.0
    assert "<img" not in (folder / "report.html").read_text()


def test_report_shift_changes_profile_ratios():
    rows = [
        _row("i1", "m", "LP", "A", 1.0, 1.0),
        _row("i1", "m", "LP", "B", 2.0, 1.0),
    ]
    assert bench.performance_ratios(rows)["b/B"] == [2.0]
    assert bench.performance_ratios(rows, shift=10)["b/B"] == [pytest.approx(12 / 11)]
    assert math.isinf(
        bench.performance_ratios(rows + [_row("i2", "m", "LP", "A", 1.0, 1.0)])["b/B"][1]
    )


def test_report_of_a_missing_folder_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "no results store" in capsys.readouterr().err
