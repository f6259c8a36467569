"""The console script: solvers listing and the demo."""

import subprocess
import sys

from optml.cli import main


def test_solvers_lists_highs(capsys):
    assert main(["solvers"]) == 0
    out = capsys.readouterr().out
    assert "highs" in out and "MILP" in out


def test_import_is_light():
    code = "import sys, optml; print(all(m not in sys.modules for m in ('cvxpy', 'pyomo', 'highspy', 'sklearn')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_demo_quick_runs_every_section():
    proc = subprocess.run(
        [sys.executable, "-m", "optml.cli", "demo", "--quick"],
        capture_output=True,
        text=True,
        timeout=500,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "failed" not in proc.stdout
    for title in ("knapsack", "Lasso", "Best subset", "classification tree", "k-means", "ReLU"):
        assert title in proc.stdout
