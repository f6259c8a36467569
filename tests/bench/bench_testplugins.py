"""A test backend whose solvers misbehave on purpose (imported by bench workers as a plugin).

Solvers of backend ``misbehave``:

* ``segv``: the process kills itself with SIGSEGV;
* ``sleepy``: sleeps far past any time limit;
* ``hog``: allocates resident memory without bound (64 MB per step);
* ``raiser``: raises an exception;
* ``slow``: sleeps ``OPTML_TEST_SLOW`` seconds (default 0.3), then solves with HiGHS.

Programs with at most 2 columns (the harness's warm-up) are solved by HiGHS: like a real
solver, these misbehave on the benchmark instance, not on a toy.
"""

from __future__ import annotations

import os
import signal
import time

from optml.backends import ALL_CLASSES, Backend, SolverSpec, get_backend, register


class Misbehave(Backend):
    name = "misbehave"
    module = "optml"
    solvers = {s: SolverSpec(s, ALL_CLASSES) for s in ("segv", "sleepy", "hog", "raiser", "slow")}

    def is_available(self) -> bool:
        return True

    def solve(self, canon, solver, settings):
        if canon.n <= 2:
            return get_backend("highs").solve(canon, "highs", settings)
        if solver == "segv":
            os.kill(os.getpid(), signal.SIGSEGV)
        if solver == "sleepy":
            time.sleep(3600)
        if solver == "hog":
            import mmap

            keep, flags = [], mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
            flags |= getattr(mmap, "MAP_POPULATE", 0)  # resident at once (Linux)
            while True:
                m = mmap.mmap(-1, 64 << 20, flags=flags)
                m[:: mmap.PAGESIZE] = b"x" * len(range(0, 64 << 20, mmap.PAGESIZE))  # touched
                keep.append(m)
        if solver == "raiser":
            raise RuntimeError("the raiser solver always fails")
        time.sleep(float(os.environ.get("OPTML_TEST_SLOW", "0.3")))
        return get_backend("highs").solve(canon, "highs", settings)


register(Misbehave())
