"""Backends: one module each, registered here; selection, and the solver-neutral post-processing.

Automatic choice (``backend="auto"``, ``solver=None``) takes the first installed pair in
:data:`PREFERENCE` for the program's class. Naming only a solver picks the first backend in that
order that reaches it.
"""

from __future__ import annotations

import importlib
import time
import warnings

import numpy as np

from optml.backends.base import ALL_CLASSES, Backend, RawSolution, SolverSpec
from optml.exceptions import SolverAccuracyWarning, SolverNotAvailableError
from optml.program.certify import lagrangian_bound
from optml.program.result import Result, relative_gap

_BACKEND_MODULES = {
    "highs": "optml.backends.highs",
    "cvxpy": "optml.backends.cvxpy_backend",
    "pyomo": "optml.backends.pyomo_backend",
}
_REGISTRY: dict[str, Backend] = {}

#: documented auto-selection order: problem class -> [(backend, solver), ...]
PREFERENCE: dict[str, list[tuple[str, str]]] = {
    "LP": [("highs", "highs"), ("cvxpy", "clarabel"), ("pyomo", "highs")],
    "QP": [
        ("highs", "highs"),
        ("cvxpy", "clarabel"),
        ("cvxpy", "osqp"),
        ("pyomo", "highs"),
        ("pyomo", "scip"),
    ],
    "SOCP": [("cvxpy", "clarabel"), ("cvxpy", "scs"), ("cvxpy", "ecos"), ("pyomo", "scip")],
    "EXP": [("cvxpy", "clarabel"), ("cvxpy", "scs"), ("cvxpy", "ecos")],
    "SDP": [("cvxpy", "scs"), ("cvxpy", "clarabel")],
    "MILP": [("highs", "highs"), ("pyomo", "scip"), ("cvxpy", "scip"), ("cvxpy", "gurobi")],
    "MIQP": [("pyomo", "scip"), ("cvxpy", "scip"), ("pyomo", "gurobi"), ("cvxpy", "gurobi")],
    "MISOCP": [("pyomo", "scip"), ("cvxpy", "scip"), ("cvxpy", "gurobi")],
    "MIEXP": [],
    "MISDP": [],
}

#: tolerances of the numpy check
FEAS_TOL = 1e-6
GAP_TOL = 1e-4


def register(backend: Backend) -> None:
    """Register a backend instance (plug-ins call this)."""
    global _AVAILABLE
    _REGISTRY[backend.name] = backend
    _AVAILABLE = None


def get_backend(name: str) -> Backend:
    if name not in _REGISTRY:
        if name not in _BACKEND_MODULES:
            raise SolverNotAvailableError(
                f"unknown backend {name!r}; known backends: {sorted(_BACKEND_MODULES)} or 'auto'"
            )
        try:
            importlib.import_module(_BACKEND_MODULES[name])
        except ImportError as exc:
            raise SolverNotAvailableError(f"backend {name!r} cannot be loaded: {exc}") from exc
    return _REGISTRY[name]


def _all_backends() -> list[Backend]:
    out = []
    for name in _BACKEND_MODULES:
        try:
            out.append(get_backend(name))
        except SolverNotAvailableError:
            continue
    out += [b for name, b in _REGISTRY.items() if name not in _BACKEND_MODULES]  # plug-ins
    return out


def available(refresh: bool = False) -> list[dict]:
    """Installed (backend, solver) pairs with the problem classes each supports.

    Looked up once per process (module discovery costs milliseconds per solve); pass
    ``refresh=True`` after installing a solver or registering a plug-in.
    """
    global _AVAILABLE
    if _AVAILABLE is None or refresh:
        _AVAILABLE = _find_available()
    return [dict(r, classes=list(r["classes"])) for r in _AVAILABLE]


_AVAILABLE: list[dict] | None = None


def _find_available() -> list[dict]:
    rows = []
    for b in _all_backends():
        if not b.is_available():
            continue
        for s, spec in b.solvers.items():
            if spec.is_available():
                rows.append({"backend": b.name, "solver": s, "classes": list(spec.classes)})
    return rows


def _extra_hint(solver: str) -> str:
    for b in _all_backends():
        spec = b.solvers.get(solver)
        if spec and spec.extra:
            return f' (pip install "optml-models[{spec.extra}]")'
    return ""


def select(problem_class: str, backend: str = "auto", solver: str | None = None):
    """Return ``(Backend, solver)`` for a class, or raise a message naming what would work."""
    if backend is None:
        backend = "auto"
    if solver is not None:
        solver = solver.lower()
    avail = available()
    capable = sorted({r["solver"] for r in avail if problem_class in r["classes"]})
    if backend != "auto":
        b = get_backend(backend)
        if not b.is_available():
            raise SolverNotAvailableError(
                f"backend {backend!r} is not installed (pip install {b.module})"
            )
        if solver is None:
            cands = [s for bb, s in PREFERENCE.get(problem_class, []) if bb == backend]
            cands += [s for s in b.solvers if s not in cands]
            for s in cands:
                if b.supports(s, problem_class) and b.solvers[s].is_available():
                    return b, s
            raise SolverNotAvailableError(
                f"backend {backend!r} has no installed solver for {problem_class} programs; "
                f"installed solvers that can: {capable}"
            )
        _check_solver(b, solver, problem_class, capable)
        return b, solver
    if solver is None:
        for bname, s in PREFERENCE.get(problem_class, []):
            try:
                b = get_backend(bname)
            except SolverNotAvailableError:
                continue
            if b.is_available() and b.supports(s, problem_class) and b.solvers[s].is_available():
                return b, s
        raise SolverNotAvailableError(
            f"no installed solver can solve {problem_class} programs; "
            + ("for MIQP install SCIP: pip install \"optml-models[scip]\""
               if problem_class.startswith("MI") else f"installed: {_installed_names(avail)}")
        )  # fmt: skip
    known = {s for b in _all_backends() for s in b.solvers}
    if solver not in known:
        raise SolverNotAvailableError(
            f"unknown solver {solver!r}; installed solvers: {_installed_names(avail)}"
        )
    order = [bb for bb, s in PREFERENCE.get(problem_class, []) if s == solver]
    order += [b.name for b in _all_backends() if b.name not in order]
    for bname in order:
        b = get_backend(bname)
        if b.is_available() and b.supports(solver, problem_class):
            if b.solvers[solver].is_available():
                return b, solver
    if not any(r["solver"] == solver for r in avail):
        raise SolverNotAvailableError(
            f"solver {solver!r} is not installed{_extra_hint(solver)}; installed solvers: "
            f"{_installed_names(avail)}"
        )
    raise SolverNotAvailableError(
        f"Solver {solver!r} cannot solve {problem_class} programs; installed solvers that can: "
        f"{capable}" + (' (pip install "optml-models[scip]")' if problem_class == "MIQP"
                        and "scip" not in capable else "")
    )  # fmt: skip


def _check_solver(b: Backend, solver: str, problem_class: str, capable):
    if solver not in b.solvers:
        raise SolverNotAvailableError(
            f"backend {b.name!r} does not know solver {solver!r}; it knows {sorted(b.solvers)}"
        )
    if not b.solvers[solver].is_available():
        raise SolverNotAvailableError(
            f"solver {solver!r} is not installed for backend {b.name!r}{_extra_hint(solver)}"
        )
    if not b.supports(solver, problem_class):
        raise SolverNotAvailableError(
            f"Solver {solver!r} cannot solve {problem_class} programs through backend "
            f"{b.name!r}; installed solvers that can: {capable}"
            + (' (pip install "optml-models[scip]")' if problem_class == "MIQP"
               and "scip" not in capable else "")
        )  # fmt: skip


def _installed_names(avail) -> list[str]:
    return sorted({r["solver"] for r in avail})


def solve_program(
    program, canon, backend="auto", solver=None, time_limit=None, mip_gap=None,
    verbose=False, build_time=0.0, options=None,
) -> Result:  # fmt: skip
    """Solve a lowered program and check the answer with numpy (see :class:`Result`)."""
    pclass = canon.problem_class
    if time_limit is not None and not (np.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit}")
    if mip_gap is not None and not (0 <= mip_gap < 1):
        raise ValueError(f"mip_gap must be in [0, 1), got {mip_gap}")
    b, s = select(pclass, backend, solver)
    t0 = time.perf_counter()
    raw = b.solve(canon, s, time_limit, mip_gap, verbose, dict(options or {}))
    wall = time.perf_counter() - t0
    res = Result(
        status=raw.status, solver=s, backend=b.name, build_time=build_time,
        solve_time=raw.solve_time or wall, problem_class=pclass, message=raw.message,
        solver_version=raw.solver_version, raw=raw.raw,
    )  # fmt: skip
    return finish(program, canon, raw, res, mip_gap=mip_gap)


def finish(program, canon, raw: RawSolution, res: Result, mip_gap=None) -> Result:
    """Map a raw solution to user values and attach optml's independent checks.

    A MIP counts as verified optimal when its gap is within ``mip_gap`` (the user's stopping
    rule), a convex program when it is within :data:`GAP_TOL`.
    """
    sense = canon.sense
    if raw.x is None or raw.status in ("infeasible", "unbounded") or not np.all(np.isfinite(raw.x)):
        if raw.status == "optimal":
            res.status = "error"
            res.message = (res.message + "; solver said optimal but gave no point").strip("; ")
        if raw.bound is not None and np.isfinite(raw.bound):
            res.bound = sense * raw.bound
        return res
    x = np.asarray(raw.x, dtype=float)
    res.values = canon.split(x)
    obj_canon = canon.objective_value(x) * sense  # canonical objective recomputed from matrices
    res.objective = sense * (raw.objective if raw.objective is not None else obj_canon)
    res.objective_check, res.max_violation = program.evaluate(res.values)
    if res.status != "optimal" and np.isfinite(res.objective_check):
        # an incumbent's epigraph variables need not be tight: report the point's true value
        res.objective = res.objective_check
    # bound: solver's MIP bound, or optml's Lagrangian bound from the duals of a convex program
    bound = raw.bound
    if bound is not None and not abs(bound) < 1e19:  # solvers' "infinity" means no bound
        bound = None
    if not canon.is_mip and raw.y is not None:
        # optml's own certificate replaces whatever the solver claims
        lag, res.kkt_residual = lagrangian_bound(canon, x, raw.y, raw.cone_duals)
        bound = lag if np.isfinite(lag) and res.kkt_residual <= 1e-5 else None
    if bound is not None and np.isfinite(bound):
        if not canon.is_mip and res.status == "optimal":
            bound = min(bound, obj_canon)  # a dual bound above the primal is round-off
        res.bound = sense * bound
    res.gap = relative_gap(res.objective, res.bound)
    scale = max(1.0, abs(res.objective_check))
    obj_ok = abs(res.objective_check - res.objective) <= 1e-6 * scale + 1e-7
    feas_ok = res.max_violation <= FEAS_TOL * max(1.0, _row_scale(canon))
    gap_tol = max(GAP_TOL, float(mip_gap or 0.0)) if canon.is_mip else GAP_TOL
    gap_ok = res.status != "optimal" or res.gap <= max(gap_tol, 1e-6)
    res.verified = bool(obj_ok and feas_ok and gap_ok)
    if not res.verified:
        why = []
        if not feas_ok:
            why.append(f"largest constraint violation {res.max_violation:.3g}")
        if not obj_ok:
            why.append(f"objective {res.objective:.10g} but numpy gives {res.objective_check:.10g}")
        if not gap_ok:
            why.append(
                f"reported optimal but the certified bound {res.bound:.10g} leaves gap "
                f"{res.gap:.3g}"
            )
        msg = f"{res.backend}/{res.solver}: answer fails optml's check: " + "; ".join(why)
        res.message = (res.message + "; " + msg).strip("; ")
        warnings.warn(msg, SolverAccuracyWarning, stacklevel=3)
    return res


def _row_scale(canon) -> float:
    if canon.A.nnz == 0:
        return 1.0
    return float(min(1e3, np.abs(canon.A.data).max()))


__all__ = [
    "ALL_CLASSES",
    "Backend",
    "PREFERENCE",
    "RawSolution",
    "SolverSpec",
    "available",
    "finish",
    "get_backend",
    "register",
    "select",
    "solve_program",
]
