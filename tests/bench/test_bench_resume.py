"""Kill ``optml bench`` (``kill -9``) in the middle of a 48-task sweep on 2 workers, rerun it
with ``--resume``: every task is in the store exactly once, and the rows written before the
kill are kept as they were."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from optml import bench  # noqa: E402

SUITE = """\
name = "resume"
time_limit = 10
plugins = ["bench_testplugins"]

[[solvers]]
backend = "misbehave"
solver = "slow"

[[models]]
name = "bench_testmodels:lad"
params = { scale = [SCALES] }

[[data]]
name = "hald"
"""


N_TASKS = 48
SUITE = SUITE.replace("SCALES", ", ".join(f"{1 + i / 10:.1f}" for i in range(N_TASKS)))


def _rows(db):
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute("SELECT key, finished_at, worker_pid FROM results").fetchall()
    except sqlite3.OperationalError:
        return []


def _cli(suite, out, *extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    env["OPTML_TEST_SLOW"] = "0.15"
    cmd = [
        sys.executable,
        "-m",
        "optml.cli",
        "bench",
        str(suite),
        "--out",
        str(out),
        "--no-progress",
        "--no-plots",
        "--allow-plugins",
        "--workers",
        "2",
        *extra,
    ]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its reaper counts as gone
        with open(f"/proc/{pid}/status") as fh:
            return "zombie" not in fh.read()
    except OSError:
        return True


@pytest.mark.slow  # 13.6 s (a worker killed mid-sweep, then the resume); over the default suite's 10 s rule
def test_kill_then_resume_leaves_no_duplicate_or_missing_rows(tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE)
    out = tmp_path / "out"
    db = out / "results.sqlite"
    expected = {t.key for t in bench.expand(suite)}
    assert len(expected) == N_TASKS
    proc = _cli(suite, out)
    deadline = time.monotonic() + 120
    while len(_rows(db)) < 12:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sweep did not start"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # kill -9 of the runner, both workers busy
    proc.wait()
    before = _rows(db)
    assert 12 <= len(before) < N_TASKS, "the kill came too late to test anything"
    # the orphaned workers notice and go away
    workers = {pid for _, _, pid in before}
    assert len(workers) == 2
    deadline = time.monotonic() + 15
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "orphaned worker still running"
    p = _cli(suite, out, "--resume")
    o, err = p.communicate(timeout=300)
    assert p.returncode == 0, err.decode()
    after = _rows(db)
    keys = [k for k, _, _ in after]
    assert len(keys) == len(set(keys)) == N_TASKS
    assert set(keys) == expected
    assert set(before) <= set(after)  # rows written before the kill were not redone
    rows = bench.Store(db).rows()
    assert all(r["status"] == "optimal" for r in rows)
    assert len(bench.Store(db).meta()["runs"]) == 2
    assert (out / "summary.md").exists() and (out / "results.csv").exists()
    assert b"misbehave" in o


@pytest.mark.slow  # 9 s; the kill -9 resume test covers resuming in the default suite
def test_resume_api_skips_finished_tasks_and_retries_failed_ones(tmp_path):
    suite = {
        "time_limit": 5,
        "plugins": ["bench_testplugins"],
        "models": [{"name": "bench_testmodels:lad", "params": {"scale": [1.0]}}],
        "data": [{"name": "hald"}],
        "solvers": [
            {"backend": "highs", "solver": "highs"},
            {"backend": "misbehave", "solver": "segv"},
        ],
    }
    first = {
        r["solver"]: r for r in bench.run_suite(suite, tmp_path, progress=False, allow_plugins=True)
    }
    assert first["segv"]["status"] == "crashed" and first["highs"]["status"] == "optimal"
    with pytest.raises(FileExistsError, match="resume"):
        bench.run_suite(suite, tmp_path, progress=False, allow_plugins=True)
    time.sleep(1.1)  # finished_at has a resolution of one second
    suite["models"][0]["params"]["scale"].append(2.0)
    rows = bench.run_suite(
        suite, tmp_path, progress=False, allow_plugins=True, resume=True, retry=("crashed",)
    )
    assert len(rows) == 4 and len({r["key"] for r in rows}) == 4
    old = [r for r in rows if r["params"] == '{"scale": 1.0}']
    again = {r["solver"]: r for r in old}
    assert again["highs"]["finished_at"] == first["highs"]["finished_at"]  # kept
    assert again["segv"]["finished_at"] > first["segv"]["finished_at"]  # run again
    assert again["segv"]["status"] == "crashed"
