"""HiGHS straight through highspy: CSC matrices handed to ``passModel``, no modelling layer.

Solves LP, convex QP and MILP. HiGHS has no MIQP, cones or SOS1 (SOS1 sets are written with
binaries and big-M rows from the variable bounds).
"""

from __future__ import annotations

import functools
import time

import numpy as np
import scipy.sparse as sp

from optml.backends.base import Backend, RawSolution, SolverSpec
from optml.backends.registry import register

#: raw options for an LP solved by the interior point method without crossover: the solution
#: lies near the centre of the optimal face (for degenerate LPs, duals that vary smoothly instead
#: of jumping between vertices; the branch and price's master LPs in the plane use it)
INTERIOR_NO_CROSSOVER = {"solver": "ipm", "run_crossover": "off"}

_STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "time_limit",
    "kSolutionLimit": "time_limit",
    "kInterrupt": "interrupted",
    "kObjectiveBound": "time_limit",
    "kObjectiveTarget": "time_limit",
}


def new_highs(verbose: bool = False):
    """A ``highspy.Highs`` instance, silent unless ``verbose``."""
    import highspy

    global _BANNER_DONE
    if not _BANNER_DONE and not verbose:  # the first Highs() prints a banner to fd 1
        import os
        import sys

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER_DONE = True
    else:
        h = highspy.Highs()
    h.setOptionValue("output_flag", bool(verbose))
    return h


_BANNER_DONE = False


def set_options(h, options: dict) -> None:
    """Set HiGHS options by their own names; a name HiGHS does not know, or a value it
    refuses, raises ValueError naming it (HiGHS itself only returns an error status)."""
    import highspy

    for k, v in options.items():
        if h.setOptionValue(k, v) == highspy.HighsStatus.kError:
            raise ValueError(_option_error(h, k, v))


def check_options(options: dict) -> None:
    """:func:`set_options` on a scratch HiGHS object (for routes that pass the options on,
    e.g. Pyomo's HiGHS interface, which ignores HiGHS's error status)."""
    if options:
        set_options(new_highs(False), options)


def _option_error(h, name, value) -> str:
    import difflib

    import highspy

    status, _ = h.getOptionValue(name)
    if status == highspy.HighsStatus.kError:
        known = [n for n in dir(h.getOptions()) if not n.startswith("_")]
        close = difflib.get_close_matches(str(name), known, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        return (
            f"HiGHS has no option {name!r}{hint} (solver_options take HiGHS's own option "
            "names: https://ergo-code.github.io/HiGHS/stable/options/definitions/)"
        )
    return (
        f"HiGHS option {name!r} cannot take the value {value!r} ({type(value).__name__}); "
        "see https://ergo-code.github.io/HiGHS/stable/options/definitions/ for its type and "
        "range"
    )


def pass_canonical(h, canon) -> None:
    """Hand a canonical form to a Highs instance: CSC arrays in one ``passModel`` call.

    The array overloads of ``passModel`` read numpy buffers directly; filling a ``HighsLp``
    attribute by attribute converts every entry to a C++ vector element by element (about
    six times slower: 1.0 s against 0.16 s for five million nonzeros)."""
    n, m = canon.n, canon.m
    f64 = functools.partial(np.ascontiguousarray, dtype=np.float64)
    i32 = functools.partial(np.ascontiguousarray, dtype=np.int32)
    A = canon.A.tocsc()
    A.sort_indices()
    integrality = i32(np.asarray(canon.integer, dtype=bool))
    head = (n, m, int(A.nnz))
    cols = (f64(canon.q), f64(canon.lb), f64(canon.ub), f64(canon.row_lb), f64(canon.row_ub))
    a = (i32(A.indptr), i32(A.indices), f64(A.data))
    if canon.has_quadratic:
        Pl = sp.tril(canon.P, format="csc")
        Pl.sort_indices()
        q = (i32(Pl.indptr), i32(Pl.indices), f64(Pl.data))
        # (num_col, num_row, num_nz, q_num_nz, a_format, q_format, sense, offset, ...)
        status = h.passModel(
            *head,
            int(Pl.nnz),
            _COLWISE,
            _TRIANGULAR,
            _MINIMIZE,
            float(canon.c0),
            *cols,
            *a,
            *q,
            integrality,
        )
    else:
        # (num_col, num_row, num_nz, a_format, sense, offset, costs and bounds, A, integrality)
        status = h.passModel(*head, _COLWISE, _MINIMIZE, float(canon.c0), *cols, *a, integrality)
    if str(status).split(".")[-1] == "kError":
        raise ValueError(f"HiGHS refused the model ({n} columns, {m} rows): {status}")


#: HiGHS's enumeration values for the array overloads of passModel
_COLWISE, _TRIANGULAR, _MINIMIZE = 1, 1, 1


def run_interruptible(h, deadline: float | None = None) -> bool:
    """Run HiGHS so that Ctrl-C stops it within a fraction of a second with its incumbent
    (HiGHS alone ignores SIGINT until its time limit). HiGHS calls its Python interrupt
    callbacks while it runs; a SIGINT handler installed for the run asks them to stop, and
    Python runs that handler inside the next callback. Returns True when interrupted.

    Running HiGHS in highspy's solver thread instead cost 2-7 ms a solve (its thread
    scheduler is reset after each); this costs about 1 ms."""
    import signal
    import threading

    from highspy._core import _Highs

    if threading.current_thread() is not threading.main_thread():
        _Highs.run(h)  # signals reach the main thread only
        return False
    hit = []

    def on_sigint(signum, frame):
        hit.append(True)
        h.cancelSolve()

    def on_clock(event):  # HiGHS's own clock misses phases under load: the deadline stops it
        if time.perf_counter() > deadline:
            event.interrupt()

    h.HandleUserInterrupt = True
    if deadline is not None:
        for cb in (h.cbSimplexInterrupt, h.cbIpmInterrupt, h.cbMipInterrupt):
            cb += on_clock
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        _Highs.run(h)
    finally:
        signal.signal(signal.SIGINT, previous)
        h.HandleUserInterrupt = False
        if deadline is not None:
            for cb in (h.cbSimplexInterrupt, h.cbIpmInterrupt, h.cbMipInterrupt):
                cb -= on_clock
    return bool(hit)


class HighsBackend(Backend):
    name = "highs"
    module = "highspy"
    solvers = {"highs": SolverSpec("highs", ("LP", "QP", "MILP"), module="highspy", seed=True)}

    def solve(self, canon, solver, settings) -> RawSolution:
        import highspy

        h = new_highs(settings.verbose)
        used = {}
        time_limit = settings.remaining()
        if time_limit is not None:
            used["time_limit"] = max(1e-3, float(time_limit))
        if settings.mip_gap is not None:
            used["mip_rel_gap"] = float(settings.mip_gap)
        if settings.threads is not None:
            # HiGHS fixes its thread pool at the first run in a process: reset it to change it
            highspy.Highs.resetGlobalScheduler(True)
            used["threads"] = int(settings.threads)
        if settings.seed is not None:
            used["random_seed"] = int(settings.seed)
        for k, v in used.items():
            h.setOptionValue(k, v)
        set_options(h, settings.options)
        used.update(settings.options)
        pass_canonical(h, canon)
        if canon.x0 is not None and np.isfinite(canon.x0).any():
            # a partial start (auxiliary columns unknown): HiGHS completes it
            idx = np.flatnonzero(np.isfinite(canon.x0)).astype(np.int32)
            h.setSolution(int(idx.size), idx, canon.x0[idx].astype(np.float64))
        t0 = time.perf_counter()
        # a deadline a little past HiGHS's own limit: HiGHS stops itself when it reads its
        # clock; the callbacks stop it where it does not (presolve aside, which calls none)
        stop = None if time_limit is None else t0 + used["time_limit"] + 0.05
        interrupted = run_interruptible(h, stop)
        t = time.perf_counter() - t0
        ms = h.getModelStatus()
        key = str(ms).split(".")[-1]
        status = "interrupted" if interrupted else _STATUS.get(key, "error")
        message = h.modelStatusToString(ms)
        if status == "interrupted" and not interrupted:  # our deadline, not Ctrl-C
            status, message = "time_limit", "Time limit reached (optml's deadline)"
        info = h.getInfo()
        sol = h.getSolution()
        has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
        x = np.array(sol.col_value) if has_x else None
        if canon.is_mip:
            bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
            if status == "optimal" and bound is None:
                bound = float(info.objective_function_value)
            y = None
        else:
            bound = None
            # row duals only: optml's certificate recomputes the column (bound) duals
            y = np.array(sol.row_dual) if (has_x and sol.dual_valid) else None
        return RawSolution(
            status=status,
            x=x,
            objective=float(info.objective_function_value) if has_x else None,
            bound=bound,
            y=y,
            solve_time=t,
            message=message,
            solver_version=_version(),
            raw=h,
            options=used,
        )


@functools.lru_cache(maxsize=1)
def _version() -> str:  # importlib.metadata parses files: ~10 ms a call, so once per process
    try:
        from importlib.metadata import version

        return version("highspy")
    except Exception:  # pragma: no cover
        return ""


register(HighsBackend())
