"""R2: Ctrl-C stops a solve within a second or two and keeps what was found.

Each case runs in a subprocess that warms its route up, prints READY, and starts a long
multi-knapsack MILP; the test sends SIGINT and reads the result the script prints.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

import optml as om

SCRIPT = r"""
import json, sys, time
import numpy as np
import optml as om
from optml._base import ProgramEstimator

backend, solver, mode = sys.argv[1], sys.argv[2], sys.argv[3]
rng = np.random.default_rng(0)
n, m = 60, 40
A = rng.integers(1, 50, size=(m, n)); c = rng.integers(1, 100, size=n)

def build():
    p = om.Program("mkp"); x = p.var("x", n, domain="binary")
    p.add(A @ x <= A.sum(1) / 2, name="cap"); p.maximize(c @ x)
    return p

warm = om.Program("w"); z = warm.var("z", 2, domain="binary"); warm.maximize(om.sum(z))
warm.solve(backend=backend, solver=solver)
print("READY", flush=True)
t0 = time.time()
if mode == "program":
    r = build().solve(backend=backend, solver=solver, time_limit=60)
    out = {"status": r.status, "has_x": r.has_solution, "obj": r.objective, "bound": r.bound}
else:
    class Est(ProgramEstimator):
        def __init__(self, backend="auto", solver=None, time_limit=60, mip_gap=None,
                     verbose=False, solver_options=None):
            self.backend, self.solver, self.time_limit = backend, solver, time_limit
            self.mip_gap, self.verbose, self.solver_options = mip_gap, verbose, solver_options
    est = Est(backend=backend, solver=solver)
    try:
        est._solve(build(), mip=True)
        out = {"raised": False}
    except KeyboardInterrupt as exc:
        r = est.result_
        out = {"raised": True, "status": r.status, "has_x": r.has_solution, "msg": str(exc)}
out["t"] = time.time() - t0
print("RESULT" + json.dumps(out), flush=True)
"""

PAIRS = {(r["backend"], r["solver"]) for r in om.backends.available() if not r["kinds"]}


def run_and_interrupt(script, *args, sleep=1.5, timeout=60):
    """Run ``script`` in a subprocess; once it prints READY wait ``sleep`` seconds, send
    SIGINT and return ``(the JSON it printed after RESULT, seconds from SIGINT to exit)``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "READY"
    time.sleep(sleep)
    t0 = time.time()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=timeout)
    waited = time.time() - t0
    lines = [ln for ln in out.splitlines() if ln.startswith("RESULT")]
    assert lines, err[-2000:]
    return json.loads(lines[-1][len("RESULT") :]), waited


def interrupt(backend, solver, mode):
    return run_and_interrupt(SCRIPT, backend, solver, mode)


@pytest.mark.parametrize(
    "backend,solver",
    [
        ("highs", "highs"),
        # 5 s each: a subprocess per route (run with -m slow)
        pytest.param("pyomo", "highs", marks=pytest.mark.slow),
        pytest.param("pyomo", "scip", marks=pytest.mark.slow),
    ],
)
def test_r2_interrupt_keeps_the_incumbent(backend, solver):
    if (backend, solver) not in PAIRS:
        pytest.skip(f"{backend}/{solver} not installed")
    r, waited = interrupt(backend, solver, "program")
    assert r["status"] == "interrupted", r
    assert r["has_x"] and r["bound"] >= r["obj"] - 1e-6  # a maximisation: bound above
    assert waited < 10.0  # stops promptly, not at the 60 s limit


@pytest.mark.slow  # 5 s
def test_r2_interrupt_on_cvxpy_highs_is_a_status():
    if ("cvxpy", "highs") not in PAIRS:
        pytest.skip("cvxpy/highs not installed")
    r, waited = interrupt("cvxpy", "highs", "program")
    assert r["status"] == "interrupted" and waited < 10.0


def test_r2_estimator_keeps_result_and_reraises():
    r, waited = interrupt("highs", "highs", "estimator")
    assert r["raised"] and r["status"] == "interrupted" and r["has_x"], r
    assert "result_ holds the incumbent" in r["msg"] and waited < 10.0


KMEANS_SCRIPT = r"""
import json, time
import numpy as np
from sklearn.datasets import make_blobs
from optml.clustering import KMeans

KMeans(2, method="sdp_bound", n_init=1).fit(np.random.default_rng(0).normal(size=(12, 2)))
X, _ = make_blobs(400, centers=4, n_features=5, cluster_std=3.0, random_state=0)
print("READY", flush=True)
t0 = time.time()
est = KMeans(4, method="sdp_bound", n_init=1, time_limit=100)
try:
    est.fit(X)
    out = {"raised": False, "status": est.result_.status}
except KeyboardInterrupt as exc:
    r = est.result_
    out = {"raised": True, "status": r.status, "has_x": r.has_solution, "msg": str(exc)}
out["t"] = time.time() - t0
print("RESULT" + json.dumps(out), flush=True)
"""


@pytest.mark.slow  # 11 s: a subprocess, a 400-point SDP
def test_r2_kmeans_sdp_bound_interrupt_reraises():
    # the Peng-Wei bound's SDP (SCS in a child process: a large program with a time limit)
    # interrupted: the clustering found so far is kept in result_
    # and fit re-raises (it used to report "feasible" and return)
    r, waited = run_and_interrupt(KMEANS_SCRIPT, sleep=3.0, timeout=120)
    assert r["raised"] and r["status"] == "interrupted" and r["has_x"], r
    assert waited < 10.0
