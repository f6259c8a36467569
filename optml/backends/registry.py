"""The registry of backends and solvers, and the documented automatic choice.

Automatic choice (``backend="auto"``, ``solver=None``) takes the first installed pair in
:data:`PREFERENCE` for the program's class. Naming only a solver picks the first backend in that
order that reaches it.
"""

from __future__ import annotations

import importlib

from optml.backends.base import Backend, SpecialSolver
from optml.exceptions import SolverNotAvailableError

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


def register(backend: Backend) -> None:
    """Register a backend instance (plug-ins call this)."""
    global _AVAILABLE
    _REGISTRY[backend.name] = backend
    _AVAILABLE = None


#: special-purpose solvers: name -> module that registers it on import (looked up lazily)
_SPECIAL_MODULES: dict[str, str] = {
    "active-set": "optml.algorithms.active_set",
    "newton": "optml.algorithms.newton",
    "svm-working-set": "optml.algorithms.svm_working_set",
    "svm-newton": "optml.algorithms.linear_svm",
    "smo": "optml.algorithms.smo",
    "huber-newton": "optml.algorithms.huber_newton",
    "branch-and-price": "optml.algorithms.branch_and_price",
    "peng-wei": "optml.algorithms.kmeans_sdp",
    "sdp-bnb": "optml.algorithms.sdp_bnb",
    "pca-bnb": "optml.algorithms.pca_bnb",
    "sparse-pca-sdp": "optml.algorithms.sparse_pca_sdp",
    "tree-dp": "optml.algorithms.tree_dp",
    "quant-bnb": "optml.algorithms.tree_quant_bnb",
    "tree-dp-regression": "optml.algorithms.tree_dp_regression",
    "best-subset-oa": "optml.algorithms.best_subset_oa",
    "l0-bnb": "optml.algorithms.l0_bnb",
    "sparse-logistic-oa": "optml.algorithms.sparse_logistic_oa",
    "bnn-hybrid": "optml.algorithms.nn_train",
    "bnn-mip": "optml.algorithms.nn_train",
    "relu-mip": "optml.algorithms.nn_train",
    "sparse-multinomial-oa": "optml.algorithms.sparse_multinomial_oa",
    "robust-tree-search": "optml.algorithms.robust_tree_search",
    "robust-newton": "optml.algorithms.robust_linear",
}
_SPECIAL: dict[str, SpecialSolver] = {}


def register_special(solver: SpecialSolver, module: str | None = None) -> None:
    """Register a special-purpose solver (an algorithm for one structured problem kind).

    ``module``, when given, is recorded so the solver is found again by name in a fresh
    process (the registry imports it on first use).
    """
    global _AVAILABLE
    if solver.name in {s for b in _REGISTRY.values() for s in b.solvers}:
        raise ValueError(f"special solver name {solver.name!r} clashes with a general solver")
    _SPECIAL[solver.name] = solver
    if module is not None:
        _SPECIAL_MODULES.setdefault(solver.name, module)
    _AVAILABLE = None


def declare_special(name: str, module: str) -> None:
    """Declare that importing ``module`` registers the special solver ``name``."""
    _SPECIAL_MODULES[name] = module


def get_special(name: str) -> SpecialSolver:
    """The special-purpose solver called ``name`` (imported on first use)."""
    if name not in _SPECIAL and name in _SPECIAL_MODULES:
        importlib.import_module(_SPECIAL_MODULES[name])
    if name not in _SPECIAL:
        raise SolverNotAvailableError(
            f"unknown special-purpose solver {name!r}; known: {sorted(_SPECIAL_MODULES)}"
        )
    return _SPECIAL[name]


def special_solvers() -> list[SpecialSolver]:
    """Every registered special-purpose solver (importing the declared modules), by name:
    the same order whatever was imported before."""
    for name in list(_SPECIAL_MODULES):
        try:
            get_special(name)
        except (SolverNotAvailableError, ImportError):
            continue
    return [_SPECIAL[k] for k in sorted(_SPECIAL)]


def is_special(name: str | None) -> bool:
    return name is not None and (name in _SPECIAL or name in _SPECIAL_MODULES)


def backends() -> list[Backend]:
    """Every backend that can be loaded (built-in ones and registered plug-ins)."""
    return _all_backends()


def builtin_backend_names() -> list[str]:
    """Names of the backends that come with optml (plug-ins come on top)."""
    return list(_BACKEND_MODULES)


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
                rows.append(
                    {"backend": b.name, "solver": s, "classes": list(spec.classes), "kinds": []}
                )
    for sp in special_solvers():
        if sp.is_available():
            rows.append(
                {
                    "backend": "optml",
                    "solver": sp.name,
                    "classes": [sp.problem_class],
                    "kinds": list(sp.kinds),
                }
            )
    return rows


def _extra_hint(solver: str) -> str:
    for b in _all_backends():
        spec = b.solvers.get(solver)
        if spec and spec.extra:
            return f' (pip install "optml-models[{spec.extra}]")'
    return ""


#: small SDPs go to Clarabel first (interior point: accurate, and fast while the PSD blocks
#: are small); larger ones to SCS (first order). Measured by benchmarks/bench_sdp_choice.py:
#: Clarabel verified every instance it finished and took <= 6 s up to ~1000 entries.
SDP_CLARABEL_MAX_ENTRIES = 1000  # sum over PSD blocks of k(k+1)/2


def preference(problem_class: str, canon=None) -> list[tuple[str, str]]:
    """The automatic order for a class; for SDPs it depends on the size of the PSD blocks."""
    order = list(PREFERENCE.get(problem_class, []))
    if problem_class == "SDP" and canon is not None:
        entries = sum(len(b) * (len(b) + 1) // 2 for b in canon.psd)
        if entries <= SDP_CLARABEL_MAX_ENTRIES:
            order.sort(key=lambda bs: bs[1] != "clarabel")
    return order


def select(problem_class: str, backend: str = "auto", solver: str | None = None, canon=None):
    """Return ``(Backend, solver)`` for a class, or raise a message naming what would work.

    ``canon`` (optional) lets the automatic choice depend on the program's size
    (:func:`preference`)."""
    if backend is None:
        backend = "auto"
    if solver is not None:
        solver = solver.lower()
    avail = [r for r in available() if not r["kinds"]]  # general solvers only
    capable = sorted({r["solver"] for r in avail if problem_class in r["classes"]})
    if backend != "auto":
        b = get_backend(backend)
        if not b.is_available():
            raise SolverNotAvailableError(
                f"backend {backend!r} is not installed (pip install {b.module})"
            )
        if solver is None:
            cands = [s for bb, s in preference(problem_class, canon) if bb == backend]
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
        for bname, s in preference(problem_class, canon):
            try:
                b = get_backend(bname)
            except SolverNotAvailableError:
                continue
            if b.is_available() and b.supports(s, problem_class) and b.solvers[s].is_available():
                return b, s
        able = sorted(
            {
                s
                for b in _all_backends()
                for s, spec in b.solvers.items()
                if problem_class in spec.classes
            }
        )
        hint = (
            'install SCIP: pip install "optml-models[scip]"'
            if problem_class in ("MIQP", "MIQCP", "MISOCP") and "scip" in able
            else f"solvers optml drives that take them: {able or 'none'}"
        )
        raise SolverNotAvailableError(
            f"no installed solver can solve {problem_class} programs; {hint}; installed: "
            f"{_installed_names(avail)}"
        )
    known = {s for b in _all_backends() for s in b.solvers}
    if solver not in known and is_special(solver):
        sp = get_special(solver)
        raise SolverNotAvailableError(
            f"{solver!r} is a special-purpose solver for {list(sp.kinds)} problems; it cannot "
            f"solve a general {problem_class} program. Installed general solvers: "
            f"{_installed_names(avail)}"
        )
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
        f"{capable}"
        + (
            ' (pip install "optml-models[scip]")'
            if problem_class == "MIQP" and "scip" not in capable
            else ""
        )
    )


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
            + (
                ' (pip install "optml-models[scip]")'
                if problem_class == "MIQP" and "scip" not in capable
                else ""
            )
        )


def _installed_names(avail) -> list[str]:
    return sorted({r["solver"] for r in avail})
