"""Every script in examples/ runs to completion on its bundled data."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
#: started in the background right after collection (tests/conftest.py)
SCRIPT_GROUP = {"param": "script"}


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, script_runs):
    # every example in the background (tests/conftest.py), each in its own temporary
    # directory: examples must not depend on the working directory or write into the repo
    script_runs.start([script])  # (already started after collection, in a full run)
    proc, _ = script_runs.result(script)
    assert proc.returncode == 0, (
        f"{script.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    assert proc.stdout.strip(), f"{script.name} printed nothing"


def test_readme_quick_start_has_two_commands_and_ci_runs_the_second():
    text = (ROOT / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("```", 2)[1]
    lines = [ln for ln in block.splitlines()[1:] if ln.strip()]
    assert len(lines) == 2
    assert "optml demo" in lines[0]
    assert "pytest" in lines[1]
    assert "README.md" in (ROOT / ".ci" / "run").read_text()
