"""Every course notebook (docs/course/*.py, jupytext percent format) runs as a script.

Each runs in a subprocess with a temporary working directory (where its figures go) and the
Agg backend; the scripts assert their own results (two solvers agree, the certificate holds,
the hand-written program matches the estimator), so a run that exits 0 is a passing lesson.
Budget: all of them together within about 3 minutes on 2 cores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[1] / "docs" / "course"
SCRIPTS = sorted(p for p in COURSE.glob("[0-9]*.py"))
START = {"env": {"PYTHONHASHSEED": "0"}, "timeout": 240}
#: started in the background right after collection (tests/conftest.py)
SCRIPT_GROUP = {"param": "script", "start": START, "requires": ("matplotlib", "pyscipopt")}


def test_course_has_one_notebook_per_section():
    assert len(SCRIPTS) >= 6, [p.name for p in SCRIPTS]
    index = (COURSE / "index.md").read_text(encoding="utf-8")
    for script in SCRIPTS:
        page = COURSE / (script.stem.split("_", 1)[1] + ".md")
        assert page.is_file(), f"no docs page shows {script.name}: add {page.name}"
        assert f"<!-- course: {script.name} -->" in page.read_text(encoding="utf-8")
        assert page.name in index, f"docs/course/index.md does not link {page.name}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_course_notebook_runs(script, script_runs):
    pytest.importorskip("matplotlib")
    pytest.importorskip("pyscipopt")  # every lesson solves on SCIP as its second solver
    # every lesson in the background (tests/conftest.py), each in its own temporary directory
    script_runs.start([script], **START)
    proc, tmp_path = script_runs.result(script)
    assert proc.returncode == 0, (
        f"{script.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    figures = list(tmp_path.glob("*.png"))
    assert figures, f"{script.name} saved no figure"
    assert all(f.stat().st_size > 1000 for f in figures)


def test_percent_to_markdown_renders_cells():
    sys.path.insert(0, str(COURSE))
    try:
        from _render import percent_to_markdown
    finally:
        sys.path.pop(0)
    src = "# ---\n# jupyter: {}\n# ---\n\n# %% [markdown]\n# # Title\n#\n# text\n\n# %%\nx = 1\n"
    assert percent_to_markdown(src) == "# Title\n\ntext\n\n```python\nx = 1\n```\n"
