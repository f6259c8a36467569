"""bench.compare on one program across solvers, and the MPS/LP export read back by HiGHS."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bench_testmodels as tm  # noqa: E402

from optml import bench, data  # noqa: E402
from optml.exceptions import SolverNotAvailableError  # noqa: E402


@pytest.mark.slow  # 3-6 s (the default suite is kept under 10 min)
def test_compare_one_program_on_several_solvers(tmp_path):
    pytest.importorskip("pyscipopt")
    ds = data.load("hald")
    df = bench.compare(
        tm.LADModel(2.0),
        ds,
        solvers=["highs", "scip"],
        backends=["highs", "pyomo"],
        time_limit=10,
        out=tmp_path,
    )
    rows = df.to_dict("records")
    by = {(r["backend"], r["solver"]): r for r in rows}
    assert set(by) == {("highs", "highs"), ("highs", "scip"), ("pyomo", "highs"), ("pyomo", "scip")}
    assert by[("highs", "scip")]["status"] == "unavailable"
    want = tm.lad_linprog(ds.X, ds.y, 2.0)
    hashes = set()
    for pair in [("highs", "highs"), ("pyomo", "highs"), ("pyomo", "scip")]:
        r = by[pair]
        assert r["status"] == "optimal" and r["verified"], r
        assert r["objective"] == pytest.approx(want, rel=1e-6)
        assert r["model"] == "LADModel" and json.loads(r["params"]) == {"scale": 2.0}
        assert (r["n"], r["p"]) == (13, 4)
        hashes.add(r["program_hash"])
    assert len(hashes) == 1
    s = bench.summarize(df)  # the unavailable pair is left out
    assert sorted(s["solver"]) == ["highs", "highs", "scip"] and (s["solved"] == 1).all()
    # another data set is another instance, even under the same names
    other = bench.compare(
        tm.LADModel(2.0),
        (ds.X[:10], ds.y[:10]),
        solvers=["highs"],
        backends=["highs"],
        time_limit=10,
        out=tmp_path,
    )
    assert other["instance"].iloc[0] not in set(df["instance"])
    assert other["objective"].iloc[0] == pytest.approx(
        tm.lad_linprog(ds.X[:10], ds.y[:10], 2.0), rel=1e-6
    )


def test_compare_unknown_solver_lists_installed():
    ds = data.load("hald")
    with pytest.raises(SolverNotAvailableError, match=r"installed solvers: \[.*'highs'"):
        bench.compare(tm.LADModel(), ds, solvers=["highs", "gurobii"])
    with pytest.raises(TypeError, match="Dataset"):
        bench.compare(tm.LADModel(), ds.X, solvers=["highs"])


SUITE = {
    "models": [
        {"name": "bench_testmodels:lad", "params": {"scale": [1.0, 3.0]}},
        {"name": "bench_testmodels:knapsack", "params": {"items": 9}},
    ],
    "data": [{"name": "hald"}],
    "solvers": [{"backend": "highs"}, {"backend": "pyomo"}],
}


@pytest.mark.parametrize("fmt", ["mps", "lp"])
def test_export_files_read_back_by_highs(tmp_path, fmt):
    pytest.importorskip("optml.program.io", reason="Program.write is not there yet")
    highspy = pytest.importorskip("highspy")
    manifest = bench.export_instances(SUITE, tmp_path, fmt=fmt, allow_plugins=True)
    assert len(manifest) == 3  # one file per instance, not per solver
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest
    ds = data.load("hald")
    want = [
        tm.lad_linprog(ds.X, ds.y, 1.0),
        tm.lad_linprog(ds.X, ds.y, 3.0),
        tm.knapsack_brute(ds.X, ds.y, 9),
    ]
    for m, w in zip(manifest, want, strict=True):
        assert m["file"].endswith("." + fmt) and (m["n"], m["p"]) == (13, 4)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        assert h.readModel(str(tmp_path / m["file"])) == highspy.HighsStatus.kOk
        h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        assert h.getInfo().objective_function_value == pytest.approx(w, rel=1e-6)
        assert m["problem_class"] == ("MILP" if "knapsack" in m["model"] else "LP")
        assert m["variables"] == h.getNumCol()
    assert np.isfinite(want).all()


def test_export_cli(tmp_path, capsys):
    pytest.importorskip("optml.program.io", reason="Program.write is not there yet")
    from optml.cli import main

    rc = main(
        [
            "export",
            "bench_testmodels:knapsack",
            "--data",
            "hald",
            "--items",
            "7",
            "--format",
            "lp",
            "-o",
            str(tmp_path),
        ]
    )
    assert rc == 0, capsys.readouterr().err
    (m,) = json.loads((tmp_path / "manifest.json").read_text())
    assert m["params"] == {"items": 7} and (tmp_path / m["file"]).exists()
    assert main(["export", "nosuchmodel", "-o", str(tmp_path)]) == 2
    assert "unknown model" in capsys.readouterr().err


@pytest.mark.slow  # about 9 s: imports the regression estimators and solves twice
def test_export_best_subset_miqp_read_back_by_scip(tmp_path):
    """The issue's command: best subset as MPS; SCIP on the file finds the estimator's optimum."""
    pytest.importorskip("optml.program.io", reason="Program.write is not there yet")
    scip = pytest.importorskip("pyscipopt")
    from optml.cli import main
    from optml.regression import BestSubsetRegression

    assert (
        main(
            [
                "export",
                "best-subset",
                "--data",
                "hald",
                "--k",
                "2",
                "--format",
                "mps",
                "-o",
                str(tmp_path),
            ]
        )
        == 0
    )
    (m,) = json.loads((tmp_path / "manifest.json").read_text())
    assert m["problem_class"] == "MIQP"
    model = scip.Model()
    model.hideOutput()
    model.readProblem(str(tmp_path / m["file"]))
    model.optimize()
    assert model.getStatus() == "optimal"
    ds = data.load("hald")
    est = BestSubsetRegression(k=2).fit(ds.X, ds.y)
    assert est.result_.status == "optimal"
    assert model.getObjVal() == pytest.approx(est.result_.objective, rel=1e-6)
