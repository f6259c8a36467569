"""``python -m optml`` behaves like the ``optml`` console script."""

import subprocess
import sys

import pytest


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "optml", *args], capture_output=True, text=True, timeout=120
    )


def test_python_m_optml_solvers_matches_cli():
    # both in fresh processes: in this one, modules other tests imported may have registered
    # more special solvers
    proc = _run("solvers")
    assert proc.returncode == 0, proc.stderr
    cli = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from optml.cli import main; sys.exit(main(['solvers']))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    assert proc.stdout == cli.stdout
    assert "highs" in proc.stdout


def test_main_module_calls_the_cli(monkeypatch):
    import runpy

    seen = []
    monkeypatch.setattr("optml.cli.main", lambda argv=None: seen.append(argv) or 0)
    with pytest.raises(SystemExit) as stop:
        runpy.run_module("optml", run_name="__main__")
    assert stop.value.code == 0 and seen == [None]


def test_python_m_optml_help_and_bad_command():
    proc = _run("--help")
    assert proc.returncode == 0
    for command in ("demo", "solvers", "bench", "export", "report"):
        assert command in proc.stdout
    bad = _run("no-such-command")
    assert bad.returncode == 2
    assert "invalid choice" in bad.stderr
