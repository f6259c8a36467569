"""``python -m optml`` behaves like the ``optml`` console script."""

import subprocess
import sys

from optml.cli import main


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "optml", *args], capture_output=True, text=True, timeout=120
    )


def test_python_m_optml_solvers_matches_cli(capsys):
    proc = _run("solvers")
    assert proc.returncode == 0, proc.stderr
    assert main(["solvers"]) == 0
    assert proc.stdout == capsys.readouterr().out
    assert "highs" in proc.stdout


def test_python_m_optml_help_and_bad_command():
    proc = _run("--help")
    assert proc.returncode == 0
    for command in ("demo", "solvers", "bench", "export", "report"):
        assert command in proc.stdout
    bad = _run("no-such-command")
    assert bad.returncode == 2
    assert "invalid choice" in bad.stderr
