r"""Run a solver call in a forked child process that is killed at a deadline.

Some solvers do not look at their clock during set-up: SCS factorises its KKT system, and
Clarabel factorises a dense block per PSD cone in every iteration, before either reads its
``time_limit``; cvxpy's compilation of a large program reads no clock either. Such a call cannot
be stopped in-process. :func:`run_with_deadline` runs it in a child made by ``fork`` (the child
shares the parent's memory copy-on-write, so the program is not pickled; only the answer comes
back through a pipe), and kills the child at the deadline.

* **done**: the child sent the call's return value;
* **raised**: the call raised; the exception comes back and is re-raised by the caller;
* **killed**: the deadline came first (the child got ``SIGKILL``);
* **died**: the child ended without an answer (a crash in the solver's C code, the kernel's
  out-of-memory killer): the parent lives on.

Ctrl-C: the child ignores ``SIGINT`` (a terminal sends it to the whole process group); the
parent, waiting on the pipe, gets the ``KeyboardInterrupt``, kills the child and re-raises, so
callers handle it as they would for an in-process solve. The child also dies with its parent
(``PR_SET_PDEATHSIG`` on Linux), so a killed parent leaves no solver running.

Where ``fork`` does not exist (Windows; macOS offers it but it is unsafe with system
frameworks), :data:`AVAILABLE` is false and callers solve in-process.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import sys
import time
import warnings
from dataclasses import dataclass

logger = logging.getLogger("optml")

#: whether calls can run in a forked child (Linux; not Windows, not macOS)
AVAILABLE = sys.platform.startswith("linux")


@dataclass
class ChildOutcome:
    """What became of a call run by :func:`run_with_deadline`."""

    kind: str  # "done", "raised", "killed" or "died"
    value: object = None  # the return value ("done") or the exception ("raised")
    exitcode: int | None = None
    wall: float = 0.0  # seconds from the fork to the answer (or the kill)
    start_time: float = 0.0  # seconds the fork itself took in the parent


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (no orphaned solver)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # a bonus only
        pass


def _child(fn, fd: int, parent_pid: int) -> None:
    """In the forked child: run ``fn``, write the pickled outcome to ``fd``, exit at once."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
        _die_with_parent()
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            return
        try:
            msg = ("done", fn())
        except BaseException as exc:  # sent back to the parent, which re-raises it
            msg = ("raised", exc)
        try:
            data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an unpicklable value or exception: say what it was
            err = RuntimeError(f"the solver process could not send back {msg[0]!r}: {exc!r}")
            data = pickle.dumps(("raised", err))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    finally:
        for stream in (sys.stdout, sys.stderr):  # the child's own output (a solver's log)
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(0)  # no atexit handlers, no parent's buffers flushed twice


def _reap(pid: int, kill: bool) -> int | None:
    """Wait for the child (killing it first when asked); its exit code (negative: signal)."""
    if kill:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status)


def run_with_deadline(fn, kill_at: float | None) -> ChildOutcome:
    """Run ``fn()`` in a forked child; kill it at ``kill_at`` (a ``time.perf_counter()`` value,
    None: never).

    ``fn`` takes no arguments and is not pickled (the child is a fork); its return value must
    pickle. A ``KeyboardInterrupt`` in the parent kills the child and is re-raised. Plain
    ``os.fork`` (not :mod:`multiprocessing`), so that it also works inside daemonic worker
    processes (a ``multiprocessing.Pool``'s), which may not start processes of their own.
    """
    import select

    for stream in (sys.stdout, sys.stderr):  # or the child would hold a copy of the buffers
        try:
            stream.flush()
        except Exception:
            pass
    parent = os.getpid()
    r, w = os.pipe()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # Python 3.12+ warns on fork() in a process with threads; the one known deadlock
        # (Clarabel's thread pool) is avoided by the caller (single-threaded Clarabel)
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(r)
        _child(fn, w, parent)
    start_time = time.perf_counter() - t0
    os.close(w)
    chunks = []
    try:
        while True:
            timeout = None if kill_at is None else max(0.0, kill_at - time.perf_counter())
            ready, _, _ = select.select([r], [], [], timeout)
            if ready:
                chunk = os.read(r, 1 << 20)
                if chunk:
                    chunks.append(chunk)
                    continue
                break  # end of file: the child is done (or died)
            if kill_at is not None and time.perf_counter() >= kill_at:
                code = _reap(pid, kill=True)
                logger.info("solver process killed at the deadline (pid %s)", pid)
                return ChildOutcome("killed", None, code, time.perf_counter() - t0, start_time)
    except BaseException:  # Ctrl-C (or anything else) while waiting: no orphan solver
        _reap(pid, kill=True)
        raise
    finally:
        os.close(r)
    code = _reap(pid, kill=False)
    wall = time.perf_counter() - t0
    if chunks:
        try:
            kind, value = pickle.loads(b"".join(chunks))
        except Exception:  # cut short: the child died while writing
            return ChildOutcome("died", None, code, wall, start_time)
        return ChildOutcome(kind, value, code, wall, start_time)
    return ChildOutcome("died", None, code, wall, start_time)
