"""Issue 25 defects: help, validation before any work, exit status, per-family summaries,
the automatic solver's name, the progress bar off a terminal, profile tick labels, and
``compare`` on the network estimators."""

from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from optml import bench  # noqa: E402
from optml.bench import SuiteError  # noqa: E402
from optml.cli import main  # noqa: E402


@pytest.mark.parametrize(
    "argv", [["bench", "--help"], ["bench", "-h"], ["export", "--help"], ["export", "-h"]]
)
def test_help_of_subcommands(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: optml {argv[0]}")
    assert "--out" in out


def _suite(models, data=None, solvers=None):
    return {
        "time_limit": 5,
        "models": models,
        "data": data or [{"name": "hald"}],
        "solvers": solvers or [{"backend": "highs"}],
    }


def test_model_parameter_typo_is_refused_before_any_work(tmp_path):
    spec = _suite([{"name": "lasso", "params": {"alpah": [0.1, 1.0]}}])
    with pytest.raises(SuiteError, match=r"no parameter 'alpah' \(did you mean 'alpha'\?\)"):
        bench.run_suite(spec, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written, nothing run
    try:
        bench.check_solvers(spec)
    except SuiteError as exc:
        assert "valid parameters: [" in str(exc) and "'fit_intercept'" in str(exc)


def test_suite_file_typo_names_the_line_and_cli_exits_2(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(
        'time_limit = 5\n[[solvers]]\nbackend = "highs"\n[[models]]\nname = "lad"\n'
        'params = { fit_intercep = true }\n[[data]]\nname = "hald"\n'
    )
    assert main(["bench", str(f), "--out", str(tmp_path / "o"), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert "no parameter 'fit_intercep'" in err and "(line 6)" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "data, match",
    [
        ({"name": "nosuchdata"}, r"unknown data 'nosuchdata'.*'hald'.*make_sparse_regression"),
        ({"name": "hald", "params": {"n": 3}}, "bundled set and takes no params"),
        (
            {"name": "make_sparse_regression", "params": {"nn": 30}},
            r"no parameter 'nn' \(did you mean 'n'\?\)",
        ),
        ({"name": "make_sparse_regression", "params": {"random_state": 1}}, "seeds"),
    ],
)
def test_data_errors_are_refused_before_any_work(tmp_path, data, match):
    with pytest.raises(SuiteError, match=match):
        bench.run_suite(_suite([{"name": "lad"}], data=[data]), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_plugin_model_parameter_typo_is_checked_in_the_probe_process(tmp_path, monkeypatch):
    monkeypatch.chdir(HERE)
    spec = _suite([{"name": "bench_testmodels:lad", "params": {"scael": 2.0}}])
    with pytest.raises(SuiteError, match=r"no parameter 'scael'.*valid parameters: \['scale'\]"):
        bench.run_suite(spec, tmp_path / "out", allow_plugins=True)
    assert not (tmp_path / "out").exists()


def _toml(path: Path, body: str) -> Path:
    path.write_text(body)
    return path


def test_exit_status_1_when_a_task_could_not_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(HERE)
    suite = _toml(
        tmp_path / "s.toml",
        'time_limit = 5\n[[solvers]]\nbackend = "highs"\n'
        '[[models]]\nname = "bench_testmodels:broken"\n'
        '[[models]]\nname = "bench_testmodels:lad"\n[[data]]\nname = "hald"\n',
    )
    out = tmp_path / "o"
    rc = main(["bench", str(suite), "--out", str(out), "--allow-plugins", "--no-plots"])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "1 task(s) could not run" in err and "broken model" in err
    rows = {r["model"]: r for r in bench.Store(out / "results.sqlite").rows()}
    assert rows["bench_testmodels:broken"]["status"] == "error"
    assert rows["bench_testmodels:broken"]["stage"] == "setup"
    good = rows["bench_testmodels:lad"]
    assert good["status"] == "optimal" and good["stage"] == "solve"
    # backend given, solver left to the automatic choice: the row names what it chose
    assert good["solver"] == "highs" and good["requested"] == "highs/auto"
    assert json.loads(good["options"])["threads"] == 1


def test_solver_errors_are_results_exit_0(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(HERE)
    suite = _toml(
        tmp_path / "s.toml",
        'time_limit = 5\nplugins = ["bench_testplugins"]\n'
        '[[solvers]]\nbackend = "misbehave"\nsolver = "raiser"\n'
        '[[models]]\nname = "bench_testmodels:lad"\n[[data]]\nname = "hald"\n',
    )
    out = tmp_path / "o"
    rc = main(["bench", str(suite), "--out", str(out), "--allow-plugins", "--no-plots"])
    assert rc == 0, capsys.readouterr().err
    (row,) = bench.Store(out / "results.sqlite").rows()
    assert row["status"] == "error" and row["stage"] == "solve"
    assert "raiser solver always fails" in row["message"]


def _row(model, pclass, inst, solver, t, p=10):
    return {
        "instance": inst,
        "model": model,
        "problem_class": pclass,
        "backend": "b",
        "solver": solver,
        "status": "optimal",
        "verified": True,
        "wall_time": t,
        "time_limit": 10.0,
        "gap": 0.0,
        "p": p,
    }


ROWS = [
    _row("lad", "LP", "l1", "A", 1.0),
    _row("lad", "LP", "l1", "B", 2.0),
    _row("lasso", "QP", "q1", "A", 8.0, p=20),
    _row("lasso", "QP", "q1", "B", 4.0, p=20),
    {**_row("lasso", None, "q2", "A", math.nan), "status": "error", "verified": False},
]


def test_summaries_are_per_model_family_and_class():
    s = bench.summarize(ROWS).to_dict("records")
    got = {(r["model"], r["problem_class"], r["solver"]): r for r in s}
    assert set(got) == {
        ("lad", "LP", "A"),
        ("lad", "LP", "B"),
        ("lasso", "QP", "A"),
        ("lasso", "QP", "B"),
    }
    # never averaged across families: A's LP time is 1 s, not a mean with the QP's 8 s
    assert got[("lad", "LP", "A")]["sgm_time"] == pytest.approx(1.0)
    assert got[("lasso", "QP", "A")]["failed"] == 1  # the failed task belongs to its family
    assert got[("lasso", "QP", "B")]["fastest"] == 1 and got[("lad", "LP", "B")]["fastest"] == 0
    assert set(bench.families(ROWS)) == {"lad (LP)", "lasso (QP)"}


def test_plots_have_one_panel_per_family_and_readable_ticks(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = bench.time_vs_size(ROWS)
    assert [a.get_title() for a in fig.axes if a.get_visible()] == ["lad (LP)", "lasso (QP)"]
    rows = []
    for i in range(6):  # ratios spread from 1 to 5000: many candidate ticks
        rows += [
            _row("m", "LP", f"i{i}", "A", 0.001),
            _row("m", "LP", f"i{i}", "B", 0.001 * 10 ** (i * 0.7)),
        ]
    fig = bench.performance_profile(rows)
    fig.canvas.draw()
    ax = fig.axes[0]
    boxes = [
        t.get_window_extent() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()
    ]
    assert len(boxes) >= 3
    for a, b in zip(boxes, boxes[1:], strict=False):
        assert a.x1 < b.x0, "tick labels overlap"
    plt.close("all")


def test_progress_bar_is_silent_off_a_terminal(monkeypatch):
    from optml.bench.runner import _Progress

    buf = io.StringIO()  # not a terminal
    monkeypatch.setattr(sys, "stderr", buf)
    bar = _Progress(5)
    for _ in range(5):
        bar.step({"status": "optimal"})
    bar.close()
    assert "\r" not in buf.getvalue()


@pytest.mark.slow  # 3-6 s (the default suite is kept under 10 min)
def test_compare_on_network_estimators(tmp_path):
    from optml.nn import BinarizedNeuralNetwork, MIPNetworkClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2))
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    for model in (
        MIPNetworkClassifier(hidden_layer_sizes=(2,)),
        BinarizedNeuralNetwork(hidden_layer_sizes=(2,)),
    ):
        df = bench.compare(model, (X, y), solvers=["highs"], backends=["highs"], time_limit=20)
        (r,) = df.to_dict("records")
        assert r["problem_class"] == "MILP", r
        assert r["status"] in ("optimal", "time_limit"), r
        assert r["model"] == type(model).__name__ and r["stage"] == "solve"
