"""The instance library (``optml export --library``): files, metadata per instance, and a
sample read back by HiGHS giving the recorded best known objective."""

from __future__ import annotations

import json

import pytest

from optml.bench.library import FAMILIES, export_library, library_suites
from optml.cli import main

MINI = {
    "mini": {
        "models": [
            {"name": "lad"},
            {"name": "optml.bench.instances:lad_best_subset", "params": {"k": 2}},
        ],
        "data": [
            {"name": "stackloss"},
            {"name": "make_sparse_regression", "params": {"n": 40, "p": 6, "k": 2}, "seeds": [0]},
        ],
    }
}


@pytest.mark.slow  # four solves in worker processes (about 6 s alone, 17 s on a shared machine)
def test_library_sample_read_back_by_highs_gives_the_recorded_objective(tmp_path):
    highspy = pytest.importorskip("highspy")
    recs = export_library(tmp_path, grid=MINI, solve=20)
    assert len(recs) == 4 and {r["problem_class"] for r in recs} == {"LP", "MILP"}
    solu = (tmp_path / "library.solu").read_text().splitlines()
    assert len(solu) == 4 and all(line.startswith("=opt=") for line in solu)
    for r in recs:
        meta = json.loads((tmp_path / "mini" / (r["name"].split("/")[1] + ".json")).read_text())
        assert meta["best_known_status"] == "optimal" and meta["variables"] > 0
        assert meta["model"] == r["model"] and meta["sense"] == "min"
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", 1e-9)
        assert h.readModel(str(tmp_path / meta["file"])) == highspy.HighsStatus.kOk
        h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        got = h.getInfo().objective_function_value
        assert got == pytest.approx(meta["best_known_objective"], rel=1e-6, abs=1e-7)
        assert meta["best_known_bound"] <= meta["best_known_objective"] + 1e-6


def test_library_families_and_conic_ones_are_listed(tmp_path, capsys):
    assert set(library_suites()) == set(FAMILIES)
    assert {"regression_lp", "trees", "kmeans", "relu_verification"} <= set(FAMILIES)
    rc = main(["export", "--library", "--families", "sparse_pca", "-o", str(tmp_path)])
    assert rc == 0
    recs = json.loads((tmp_path / "library.json").read_text())
    assert len(recs) == 4  # n_nonzero 2 and 3, on hald and longley
    for r in recs:  # an SDP has no MPS form: written as CBF
        assert r["file"].endswith(".cbf") and r["problem_class"] == "SDP" and not r["skipped"]
        assert (tmp_path / r["file"]).read_text().startswith("VER\n3\n")
        assert r["best_known_objective"] is None
    assert (tmp_path / "library.solu").read_text().startswith("=unkn=")
    with pytest.raises(ValueError, match="unknown library families"):
        library_suites(["nope"])
