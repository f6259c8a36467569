"""Traces over time (incumbent and bound), read off HiGHS and SCIP logs, and Berthold's
primal and primal-dual integrals."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from optml import bench  # noqa: E402
from optml.bench import traces  # noqa: E402

HIGHS_LOG = """\
        Nodes      |    B&B Tree     |            Objective Bounds              |  Dynamic Constraints |       Work
Src  Proc. InQueue |  Leaves   Expl. | BestBound       BestSol              Gap |   Cuts   InLp Confl. | LpIters     Time

         0       0         0   0.00%   0               inf                  inf        0      0      0         0     0.0s
 R       0       0         0   0.00%   4965.509208     7049.388316       29.56%        0      0      0       166     0.1s
 B       4       0         2  50.00%   5018.294511     5202.646989        3.54%      179      9     14       660     0.3s
"""

SCIP_LOG = """\
 time | node  | left  |LP iter|LP it/n|mem/heur|mdpt |vars |cons |rows |cuts |sepa|confs|strbr|  dualbound   | primalbound  |  gap   | compl.
p 0.0s|     1 |     0 |   199 |     - |   locks|   0 | 262 | 142 | 142 |   0 |  0 |   0 |   0 | 0.000000e+00 | 6.181617e+03 |    Inf | unknown
  0.2s|     1 |     0 |   686 |     - |  6506k |   0 | 262 | 142 | 142 |   0 |  0 |   0 |   0 | 4.965509e+03 |      --      |  24.49%| unknown
"""


def test_readers_on_real_log_excerpts():
    assert traces.parse_highs(HIGHS_LOG) == [
        [0.0, None, 0.0],
        [0.1, 7049.388316, 4965.509208],
        [0.3, 5202.646989, 5018.294511],
    ]
    assert traces.parse_scip(SCIP_LOG) == [[0.0, 6181.617, 0.0], [0.2, None, 4965.509]]
    assert traces.parse_log(SCIP_LOG)[1] == "scip-log"
    assert traces.parse_log("nothing useful") == ([], None)


def test_log_values_are_mapped_to_program_units():
    pts = [[0.0, -10.0, -20.0], [1.0, -12.0, -13.0]]  # a maximisation handed over negated
    assert traces.to_program_units(pts, 12.0, -1) == [[0.0, 10.0, 20.0], [1.0, 12.0, 13.0]]
    # a constant the solver never saw (+7) on a maximisation it minimised negated
    assert traces.to_program_units(pts, 19.0, -1) == [[0.0, 17.0, 27.0], [1.0, 19.0, 20.0]]


def test_integrals_match_hand_computation():
    tr = {"sense": "min", "points": [[1.0, None, 0.0], [2.0, 10.0, 5.0], [4.0, 8.0, 8.0]]}
    # primal gap vs best known 8: 1 on [0, 2), |8 - 10| / 10 = 0.2 on [2, 4)
    assert traces.primal_integral(tr, 8.0) == pytest.approx(1 + 1 + 0.2 * 2)
    # primal-dual: 1 on [0, 2), |10 - 5| / 10 = 0.5 on [2, 4)
    assert traces.primal_dual_integral(json.dumps(tr)) == pytest.approx(2 + 0.5 * 2)
    assert traces.gap_fn(0.0, 0.0) == 0 and traces.gap_fn(-1.0, 1.0) == 1
    assert traces.primal_integral(tr, None) != traces.primal_integral(tr, None)  # nan


def test_cap_log_keeps_head_and_tail(tmp_path):
    f = tmp_path / "x.log"
    f.write_bytes(b"H" * 1000 + b"M" * 5000 + b"T" * 1000)
    traces.cap_log(f, cap=2000)
    data = f.read_bytes()
    assert data.startswith(b"H" * 1000) and data.endswith(b"T" * 1000)
    assert b"cut by optml bench" in data and len(data) < 2100


@pytest.mark.slow  # 3-6 s (the default suite is kept under 10 min)
def test_suite_rows_carry_traces_in_program_units(tmp_path, monkeypatch):
    pytest.importorskip("pyscipopt")
    monkeypatch.chdir(HERE)
    spec = {
        "time_limit": 20,
        "models": [{"name": "bench_testmodels:knapsack_big", "params": {"items": 40}}],
        "data": [{"name": "hald"}],
        "solvers": [{"backend": "highs"}, {"backend": "pyomo", "solver": "scip"}],
    }
    rows = bench.run_suite(spec, tmp_path, allow_plugins=True)
    by = {r["solver"]: r for r in rows}
    assert set(by) == {"highs", "scip"}
    for name, r in by.items():
        assert r["status"] == "optimal" and r["verified"], r
        tr = json.loads(r["trace"])
        assert tr["source"] == f"{name}-log" and tr["sense"] == "max"
        pts = tr["points"]
        assert len(pts) >= 2
        obj, tol = r["objective"], 1e-6 * abs(r["objective"])
        # a maximisation: no incumbent above the optimum, no bound below it (program units,
        # the +7 constant included), and time never goes back
        assert all(p[1] is None or p[1] <= obj + tol for p in pts), pts
        assert all(p[2] is None or p[2] >= obj - tol for p in pts), pts
        assert [p[0] for p in pts] == sorted(p[0] for p in pts)
        assert pts[-1][1] == pytest.approx(obj) and pts[-1][2] == pytest.approx(r["bound"])
        assert r["primal_dual_integral"] == pytest.approx(traces.primal_dual_integral(tr))
        log = tmp_path / r["log_file"]
        assert log.is_file() and log.stat().st_size > 0
    s = bench.summarize(rows).to_dict("records")
    assert all(0 <= x["primal_integral"] <= x["primal_dual_integral"] + 1e-9 for x in s), s


def test_traces_off_runs_silent(tmp_path, monkeypatch):
    monkeypatch.chdir(HERE)
    spec = {
        "time_limit": 5,
        "models": [{"name": "bench_testmodels:lad"}],
        "data": [{"name": "hald"}],
        "solvers": [{"backend": "highs"}],
    }
    (r,) = bench.run_suite(spec, tmp_path, allow_plugins=True, traces=False)
    assert r["status"] == "optimal" and r["trace"] is None and r["log_file"] is None
    assert json.loads(r["options"])["verbose"] is False
    assert not (tmp_path / "logs").exists()
