r"""Lazy constraint families on the solve path: solver callbacks, or a re-solve loop.

``Program.add_lazy`` records separation routines (:mod:`optml.program.lazy`). A program with
lazy families is solved in one of two ways, chosen from the solver's declared capability:

* **callbacks** (``SolverSpec.lazy_callbacks``, e.g. SCIP through Pyomo): the canonical form
  handed to the backend carries ``lazy``, a function ``x -> (A, lb, ub)`` of violated rows in
  column space; the backend calls it on every candidate integer point inside the solver's
  branch and bound (a SCIP constraint handler) and adds the rows as cuts;
* **a re-solve loop** everywhere else: solve the program with the cuts found so far,
  separate the point, add the violated rows, re-solve with the incumbent as a start, until the
  point satisfies every family or the time runs out.

Either way the answer goes through the same certificate factory, against the program holding
every cut generated: its bound is the bound of a relaxation of the full problem (valid), the
point is re-checked by the separation routines (:meth:`Program.evaluate`), and
``result.stats`` reports ``rounds``, ``cuts`` and the route.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
import scipy.sparse as sp

from optml.program.lazy import linear_rows, violated_rows
from optml.program.reductions import invert_chain, reduce_for

logger = logging.getLogger("optml")


class Separation:
    """Column-space separation for one solve: ``x -> (A, lb, ub)`` of violated rows or None.

    Counts calls and cuts; a separator that returns constraints the point satisfies is
    ignored for that point (so a loop cannot spin on them).
    """

    def __init__(self, program, canon):
        self.program, self.canon = program, canon
        self.calls = 0
        self.cuts = 0

    def __call__(self, x):
        x = np.asarray(x, dtype=float)[: self.canon.n]
        self.calls += 1
        values = self.canon.split(x)
        cons = []
        for fam in self.program.lazy:
            cons.extend(fam.separate(self.program, values))
        if not cons:
            return None
        A, lb, ub = linear_rows(cons, self.canon)
        keep = violated_rows(A, lb, ub, x)
        if not keep.any():
            return None
        self.cuts += int(keep.sum())
        return A[keep], lb[keep], ub[keep]


def with_rows(canon, A, lb, ub):
    """``canon`` with the rows ``lb <= A x <= ub`` added after its own (a new form)."""
    if A.shape[1] < canon.n:  # rows over the user's columns of a reduced form
        A = sp.csr_matrix((A.data, A.indices, A.indptr), shape=(A.shape[0], canon.n))
    return dataclasses.replace(
        canon,
        A=sp.vstack([canon.A, A]).tocsr(),
        row_lb=np.concatenate([canon.row_lb, lb]),
        row_ub=np.concatenate([canon.row_ub, ub]),
        row_blocks=list(canon.row_blocks) + [("lazy", canon.m, canon.m + A.shape[0])],
    )


def solve_with_callbacks(program, canon, backend, solver, spec, settings):
    """One solve; the backend calls the separation inside the solver. Returns
    ``(raw, canon with the cuts the solver added, stats)``."""
    sep = Separation(program, canon)
    work = dataclasses.replace(canon, lazy=sep)
    work, chain = reduce_for(work, spec)
    raw = invert_chain(backend.solve(work, solver, settings), chain)
    added = getattr(raw, "lazy_rows", None)
    final = canon if added is None or added[0].shape[0] == 0 else with_rows(canon, *added)
    return raw, final, {"route": "callbacks", "rounds": 1, "cuts": sep.cuts}


def solve_with_loop(program, canon, backend, solver, spec, settings):
    """The re-solve loop (see the module docstring). Returns ``(raw, final form, stats)``."""
    sep = Separation(program, canon)
    current = canon
    rounds = 0
    raw = None
    while True:
        rounds += 1
        work, chain = reduce_for(current, spec)
        raw = invert_chain(backend.solve(work, solver, settings), chain)
        if raw.x is None or raw.status in (
            "infeasible",
            "unbounded",
            "infeasible_or_unbounded",
            "error",
        ):
            break
        rows = sep(raw.x)
        if rows is None:
            break  # the point satisfies every family: optimal for the full problem too
        current = with_rows(current, *rows)
        logger.info(
            "lazy constraints, round %d: %d cuts added (%d in all)",
            rounds,
            rows[0].shape[0],
            sep.cuts,
        )
        if settings.expired():
            # out of time with a point that violates a family: no incumbent, the bound holds
            raw = dataclasses.replace(raw, status="time_limit", x=None, y=None, objective=None)
            break
        current = dataclasses.replace(current, x0=np.asarray(raw.x, dtype=float)[: canon.n])
    if raw.status == "time_limit" and raw.x is not None and sep(raw.x) is not None:
        raw = dataclasses.replace(raw, x=None, y=None, objective=None)  # not feasible for all
    return raw, current, {"route": "loop", "rounds": rounds, "cuts": sep.cuts}


def solve_lazy(program, canon, backend, solver, settings):
    """Choose callbacks or the loop from the solver's capability and solve."""
    spec = backend.solvers[solver]
    t0 = time.perf_counter()
    if spec.lazy_callbacks and canon.is_mip:
        raw, final, stats = solve_with_callbacks(program, canon, backend, solver, spec, settings)
    else:
        raw, final, stats = solve_with_loop(program, canon, backend, solver, spec, settings)
    stats["lazy_time"] = time.perf_counter() - t0
    return raw, final, stats
