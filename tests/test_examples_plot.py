"""A few cheap examples with ``--plot`` save the figure they announce, and only with ``--plot``.

tests/test_examples.py runs every example without ``--plot``; here two quick ones run with it
(a tree drawn next to CART, clusters from a generator), each checked for the PNG it prints.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHEAP = ["data_tour.py", "tree_breast_cancer.py"]


def _run(script, cwd, *args):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("script", CHEAP)
def test_example_plot_saves_png(script, tmp_path):
    pytest.importorskip("matplotlib")
    proc = _run(script, tmp_path, "--plot")
    assert proc.returncode == 0, f"{script}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    named = re.findall(r"saved (\S+\.png)", proc.stdout)
    assert named, f"{script} --plot printed no 'saved <file>.png' line"
    png = tmp_path / named[-1]
    assert png.is_file() and png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_example_offers_plot():
    missing = [
        p.name
        for p in sorted((ROOT / "examples").glob("*.py"))
        if "--plot" not in p.read_text(encoding="utf-8")
    ]
    assert not missing, f"examples without a --plot option: {missing}"


def test_no_figure_without_plot(tmp_path):
    proc = _run("data_tour.py", tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not list(tmp_path.glob("*.png"))
