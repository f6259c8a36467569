"""Shared test fixtures.

``script_runs`` runs a group of scripts (the examples, the course lessons) as subprocesses.
A test module declares its group as ``SCRIPT_GROUP`` (the scripts, the name of the test
parameter that holds a script, and the arguments of :meth:`ScriptRuns.start`); right after
collection, the scripts whose tests were selected start in the background, one at a time, so
that they run on the second core while pytest runs the in-process tests on the first (the
machine the suite runs on has two cores). Each script gets its own temporary working
directory; every test of the group then reads its own finished run (and starts its script
itself when it was not started yet).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

#: background scripts at a time: pytest's own process keeps the other core
WORKERS = 1


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


_RUNS: list[ScriptRuns] = []  # the session's one ScriptRuns, created on first use


def _session_runs() -> ScriptRuns:
    if not _RUNS:
        _RUNS.append(ScriptRuns())
    return _RUNS[0]


def pytest_collection_finish(session):
    """Start the declared script groups of the selected tests in the background."""
    if session.config.option.collectonly:
        return
    selected: dict = {}
    for item in session.items:
        group = getattr(getattr(item, "module", None), "SCRIPT_GROUP", None)
        callspec = getattr(item, "callspec", None)
        if group is None or callspec is None or group["param"] not in callspec.params:
            continue
        if any(_missing(name) for name in group.get("requires", ())):
            continue  # the tests skip themselves
        selected.setdefault(id(group), (group, []))[1].append(callspec.params[group["param"]])
    for group, scripts in selected.values():
        _session_runs().start(scripts, **group.get("start", {}))


def _missing(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


def pytest_sessionfinish(session):
    """Remove the scripts' directories; scripts not started yet (a run stopped early) are
    cancelled."""
    if _RUNS:
        _RUNS.pop().close()


@pytest.fixture(scope="session")
def script_runs():
    return _session_runs()
