"""Shared test fixtures.

``script_runs`` runs a group of scripts (the examples, the course lessons) as subprocesses two
at a time, the first time any of them is asked for: the machine the suite runs on has two cores
and pytest uses one, so the group takes about half its serial time. Each script gets its own
temporary working directory; every test of the group then reads its own finished run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

WORKERS = 2


class ScriptRuns:
    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=WORKERS)
        self._runs = {}
        self._dirs = []

    def start(self, scripts, args=(), env=None, timeout=300):
        """Start every script not started yet (with these args); returns nothing."""
        for script in scripts:
            key = (Path(script), tuple(args))
            if key in self._runs:
                continue
            cwd = Path(tempfile.mkdtemp(prefix=f"optml_{Path(script).stem}_"))
            self._dirs.append(cwd)
            full_env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1", **(env or {}))
            cmd = [sys.executable, str(script), *args]
            fut = self._pool.submit(
                subprocess.run,
                cmd,
                cwd=cwd,
                env=full_env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            self._runs[key] = (fut, cwd)

    def result(self, script, args=()):
        """``(CompletedProcess, working directory)`` of a started script."""
        fut, cwd = self._runs[(Path(script), tuple(args))]
        return fut.result(), cwd

    def close(self):
        import shutil

        self._pool.shutdown(wait=True, cancel_futures=True)
        for d in self._dirs:
            shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def script_runs():
    runs = ScriptRuns()
    yield runs
    runs.close()
