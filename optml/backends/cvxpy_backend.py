r"""The cvxpy backend: a canonical form handed to cvxpy as one vectorised problem.

The whole program becomes one cvxpy vector variable :math:`x \in \mathbb R^n` (integer and
binary columns marked by index, bounds through cvxpy's ``bounds=`` attribute) and a handful of
vectorised constraints, never one cvxpy object per scalar:

.. math::

    \min_x\ \tfrac12 x^\top P x + q^\top x + c_0 \quad\text{s.t.}\quad
    A_{E} x = b_E,\ A_{L} x \ge r_{l,L},\ A_{U} x \le r_{u,U},\
    (G^t_j x + h^t_j,\ G^X_j x + h^X_j) \in \mathcal Q,\
    (G^a x + h^a, G^b x + h^b, G^c x + h^c) \in \mathcal K_{\exp},\
    \operatorname{sym}(X_k) \succeq 0 .

Second-order cones of equal dimension are grouped into one ``cp.SOC(t, X, axis=1)``, all
exponential-cone triples into one ``cp.constraints.ExpCone``. A diagonal ``P`` becomes
``sum_squares(multiply(sqrt(d), x[J]))`` (much faster for cvxpy than ``quad_form``).

Duals are returned in optml's convention (:mod:`optml.program.certify`): ``y_i > 0`` when the
lower row bound is active, ``y_i < 0`` for the upper; cone duals ``lam`` in the dual cone with
:math:`L = f - \lambda^\top(Gx + h)`, in the order SOC blocks, exponential blocks, PSD blocks.

Reached solvers: Clarabel, SCS, OSQP, ECOS, HiGHS, SCIP, and Gurobi, CPLEX, Xpress, MOSEK when
installed. A MIP solve that stops at its time limit (which cvxpy reports as
``optimal_inaccurate``, SCIP's own word being a time limit) is reported as ``time_limit`` with the incumbent, the
solver's dual bound and the gap.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from optml.backends.base import Backend, RawSolution, SolverSpec
from optml.backends.registry import register
from optml.program.result import relative_gap

_CONVEX = ("LP", "QP", "SOCP", "EXP", "SDP")
_MI_COMMERCIAL = ("LP", "QP", "SOCP", "MILP", "MIQP", "MISOCP")

#: optml solver name -> cvxpy's solver name
CVXPY_NAMES = {
    "clarabel": "CLARABEL",
    "scs": "SCS",
    "osqp": "OSQP",
    "ecos": "ECOS",
    "highs": "HIGHS",
    "scip": "SCIP",
    "gurobi": "GUROBI",
    "cplex": "CPLEX",
    "xpress": "XPRESS",
    "mosek": "MOSEK",
}
_LICENSED = ("gurobi", "cplex", "xpress", "mosek")
# cvxpy's SCIP duals are documented as unreliable (and absent with cones): use SCIP's dual bound
_NO_DUALS = ("scip",)

#: each solver's own name of its time limit, as cvxpy passes it (None: it has none)
_TIME_OPTION = {
    "clarabel": "time_limit",
    "scs": "time_limit_secs",
    "osqp": "time_limit",
    "ecos": None,
    "highs": "time_limit",
    "gurobi": "TimeLimit",
    "xpress": "maxtime",
}

_STATUS = {
    "optimal": "optimal",
    "optimal_inaccurate": "optimal",
    "infeasible": "infeasible",
    "infeasible_inaccurate": "infeasible",
    "unbounded": "unbounded",
    "unbounded_inaccurate": "unbounded",
    "infeasible_or_unbounded": "infeasible_or_unbounded",
    "user_limit": "time_limit",
    "solver_error": "error",
}


@dataclass
class CvxpyModel:
    """A canonical form lowered to cvxpy, with the handles needed to read duals back."""

    problem: object
    x: object
    row_cons: list = field(default_factory=list)  # (constraint, row indices, sign, kind)
    soc_cons: list = field(default_factory=list)  # (constraint, block ids, dim)
    exp_con: object = None
    exp_sizes: list = field(default_factory=list)
    psd_cons: list = field(default_factory=list)
    build_time: float = 0.0


def _is_diagonal(P: sp.spmatrix) -> bool:
    C = P.tocoo()
    return bool(np.all(C.row == C.col))


def _vstack_csr(mats, n: int) -> sp.csr_matrix:
    """Stack CSR matrices with ``n`` columns by concatenating their arrays (fast for many)."""
    mats = [M if isinstance(M, sp.csr_matrix) else sp.csr_matrix(M) for M in mats]
    indptr = [np.zeros(1, dtype=np.int64)]
    off = 0
    for M in mats:
        indptr.append(M.indptr[1:].astype(np.int64) + off)
        off += M.nnz
    data = np.concatenate([M.data for M in mats]) if mats else np.zeros(0)
    indices = np.concatenate([M.indices for M in mats]) if mats else np.zeros(0, np.int64)
    rows = sum(M.shape[0] for M in mats)
    return sp.csr_matrix((data, indices, np.concatenate(indptr)), shape=(rows, n))


def build(canon) -> CvxpyModel:
    """Lower a :class:`~optml.program.canonical.CanonicalForm` (without SOS1) to cvxpy.

    Returns a :class:`CvxpyModel`; ``model.problem`` is a ``cvxpy.Problem`` ready to solve.
    """
    import cvxpy as cp

    t0 = time.perf_counter()
    n = canon.n
    kw = {}
    if canon.integer.any():
        ints = np.flatnonzero(canon.integer)
        binary = (canon.lb[ints] == 0) & (canon.ub[ints] == 1)
        if binary.any():
            kw["boolean"] = (ints[binary],)
        if (~binary).any():
            kw["integer"] = (ints[~binary],)
    lb, ub = np.asarray(canon.lb, float), np.asarray(canon.ub, float)
    if np.isfinite(lb).any() or np.isfinite(ub).any():
        kw["bounds"] = [lb.copy(), ub.copy()]
    x = cp.Variable(n, name="x", **kw)
    model = CvxpyModel(problem=None, x=x)
    cons = []

    # ---------------------------------------------------------------- affine rows
    A = canon.A.tocsr()
    rl, ru = np.asarray(canon.row_lb, float), np.asarray(canon.row_ub, float)
    fl, fu = np.isfinite(rl), np.isfinite(ru)
    eq = fl & fu & (rl == ru)
    for mask, kind in ((eq, "=="), (fl & ~eq, ">="), (fu & ~eq, "<=")):
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            continue
        Ar = A[rows]
        if kind == "==":
            c = Ar @ x == rl[rows]
            sign = -1.0  # cvxpy's equality dual is minus optml's y
        elif kind == ">=":
            c = Ar @ x >= rl[rows]
            sign = 1.0
        else:
            c = Ar @ x <= ru[rows]
            sign = -1.0
        cons.append(c)
        model.row_cons.append((c, rows, sign, kind))

    # ---------------------------------------------------------------- second-order cones
    if canon.soc:
        # one stacked matrix, then row-index arithmetic: no per-block scipy calls
        dims = np.array([G.shape[0] for G, _ in canon.soc])
        starts = np.concatenate([[0], np.cumsum(dims)[:-1]])
        Gall = _vstack_csr([G for G, _ in canon.soc], n)
        hall = np.concatenate([np.asarray(h, float).ravel() for _, h in canon.soc])
        for d in np.unique(dims):
            ids = np.flatnonzero(dims == d)
            first = starts[ids]
            Gt, ht = Gall[first], hall[first]
            if d == 1:
                c = Gt @ x + ht >= 0
            else:
                rest = (first[:, None] + np.arange(1, d)[None, :]).ravel()
                X = cp.reshape(Gall[rest] @ x + hall[rest], (ids.size, int(d) - 1), order="C")
                c = cp.SOC(Gt @ x + ht, X, axis=1)
            cons.append(c)
            model.soc_cons.append((c, ids, int(d)))

    # ---------------------------------------------------------------- exponential cones
    if canon.exp:
        G = sp.vstack([sp.csr_matrix(g) for g, _ in canon.exp]).tocsr()
        h = np.concatenate([np.asarray(hh, float) for _, hh in canon.exp])
        parts = [G[i::3] @ x + h[i::3] for i in range(3)]
        model.exp_con = cp.constraints.ExpCone(*parts)
        model.exp_sizes = [g.shape[0] for g, _ in canon.exp]
        cons.append(model.exp_con)

    # ---------------------------------------------------------------- PSD blocks
    for cols in canon.psd:
        cols = np.asarray(cols)
        k = cols.shape[0]
        M = cp.reshape(x[cols.ravel()], (k, k), order="C")
        S = (M + M.T) / 2
        c = S >> 0
        cons.append(c)
        model.psd_cons.append(c)
        iu = np.triu_indices(k, 1)
        if iu[0].size:
            cons.append(x[cols[iu]] == x[cols.T[iu]])

    # ---------------------------------------------------------------- objective
    obj = 0.0
    P = sp.csc_matrix(canon.P)
    if P.nnz and np.abs(P.data).max() > 0:
        if _is_diagonal(P):
            d = P.diagonal()
            J = np.flatnonzero(d)
            if (d[J] > 0).all():
                obj = 0.5 * cp.sum_squares(cp.multiply(np.sqrt(d[J]), x[J]))
            else:  # not convex; let cvxpy say so
                obj = 0.5 * (d[J] @ cp.square(x[J]))
        else:
            J = np.unique(P.tocoo().row)
            PJ = P[J][:, J]
            obj = 0.5 * cp.quad_form(x[J], cp.psd_wrap(PJ))
    q = np.asarray(canon.q, float)
    if np.any(q):
        obj = obj + q @ x
    obj = obj + float(canon.c0)
    model.problem = cp.Problem(cp.Minimize(obj), cons)
    model.build_time = time.perf_counter() - t0
    return model


def _duals(model: CvxpyModel, canon):
    """Row duals ``y`` and cone duals in optml's convention, or ``(None, [])``."""
    y = np.zeros(canon.m)
    for c, rows, sign, kind in model.row_cons:
        dv = c.dual_value
        if dv is None:
            return None, []
        dv = np.asarray(dv, float).ravel()
        if kind != "==":  # inequality multipliers are >= 0; solvers leave round-off of either sign
            dv = np.maximum(dv, 0.0)
        y[rows] += sign * dv
    soc = [None] * len(canon.soc)
    for c, ids, d in model.soc_cons:
        dv = c.dual_value
        if dv is None:
            return y, []
        if d == 1:
            t = np.asarray(dv, float).ravel()
            for i, j in enumerate(ids):
                soc[j] = t[i : i + 1]
        else:
            t = np.asarray(dv[0], float).ravel()
            X = np.asarray(dv[1], float).reshape(len(ids), d - 1)
            for i, j in enumerate(ids):
                soc[j] = np.concatenate([[t[i]], X[i]])
    cone = list(soc)
    if model.exp_con is not None:
        dv = model.exp_con.dual_value
        if dv is None:
            return y, []
        a, b, c = (np.asarray(v, float).ravel() for v in dv)
        inter = np.column_stack([a, b, c]).ravel()
        start = 0
        for size in model.exp_sizes:
            cone.append(inter[start : start + size])
            start += size
    for c in model.psd_cons:
        dv = c.dual_value
        if dv is None:
            return y, cone
        cone.append(np.asarray(dv, float))
    return y, cone


def _printable(opts: dict) -> dict:
    """The solver options as plain values (for the record of what a solve was given)."""
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in opts.items()}


def _solver_options(solver: str, time_limit, mip_gap, verbose, settings) -> dict:
    """Translate optml's settings into the solver's own names (as cvxpy passes them)."""
    opts = dict(settings.options)
    threads = settings.threads
    seed = settings.seed
    if solver == "scip":
        params = {"display/verblevel": 4 if verbose else 0}
        if time_limit is not None:
            params["limits/time"] = float(time_limit)
        if mip_gap is not None:
            params["limits/gap"] = float(mip_gap)
        if threads is not None:
            params["parallel/maxnthreads"] = int(threads)
        if seed is not None:
            params["randomization/randomseedshift"] = int(seed)
        params.update(opts.pop("scip_params", {}))
        opts["scip_params"] = params
    elif solver == "highs":
        if time_limit is not None:
            opts.setdefault("time_limit", float(time_limit))
        if mip_gap is not None:
            opts.setdefault("mip_rel_gap", float(mip_gap))
        if threads is not None:
            opts.setdefault("threads", int(threads))
        if seed is not None:
            opts.setdefault("random_seed", int(seed))
    elif solver == "clarabel":
        if time_limit is not None:
            opts.setdefault("time_limit", float(time_limit))
        if threads is not None:
            opts.setdefault("max_threads", int(threads))
    elif solver == "scs":
        if time_limit is not None:
            opts.setdefault("time_limit_secs", float(time_limit))
        # cvxpy's default (1e-5) fails optml's 1e-6 feasibility check on easy programs
        opts.setdefault("eps_abs", 1e-6)
        opts.setdefault("eps_rel", 1e-6)
    elif solver == "osqp":
        if time_limit is not None:
            opts.setdefault("time_limit", float(time_limit))
    elif solver == "gurobi":
        if time_limit is not None:
            opts.setdefault("TimeLimit", float(time_limit))
        if mip_gap is not None:
            opts.setdefault("MIPGap", float(mip_gap))
        if threads is not None:
            opts.setdefault("Threads", int(threads))
        if seed is not None:
            opts.setdefault("Seed", int(seed))
    elif solver == "cplex":
        params = dict(opts.pop("cplex_params", {}))
        if time_limit is not None:
            params.setdefault("timelimit", float(time_limit))
        if mip_gap is not None:
            params.setdefault("mip.tolerances.mipgap", float(mip_gap))
        if threads is not None:
            params.setdefault("threads", int(threads))
        opts["cplex_params"] = params
    elif solver == "xpress":
        if time_limit is not None:
            opts.setdefault("maxtime", -int(np.ceil(time_limit)))  # negative: stop regardless
        if mip_gap is not None:
            opts.setdefault("miprelstop", float(mip_gap))
        if threads is not None:
            opts.setdefault("threads", int(threads))
    elif solver == "mosek":
        params = dict(opts.pop("mosek_params", {}))
        if time_limit is not None:
            params.setdefault("MSK_DPAR_OPTIMIZER_MAX_TIME", float(time_limit))
        if mip_gap is not None:
            params.setdefault("MSK_DPAR_MIO_TOL_REL_GAP", float(mip_gap))
        if threads is not None:
            params.setdefault("MSK_IPAR_NUM_THREADS", int(threads))
        opts["mosek_params"] = params
    # ecos: no time limit option (max_iters only)
    return opts


class _interruptible_highs:
    """While cvxpy runs HiGHS, run it in highspy's solver thread so that Ctrl-C stops it
    within a fraction of a second with its incumbent (``flag`` gets an entry when it did)."""

    def __init__(self, solver: str, flag: list):
        self.active = solver == "highs"
        self.flag = flag

    def __enter__(self):
        if self.active:
            import highspy

            from optml.backends.highs import run_interruptible

            flag = self.flag

            def run(h):
                if run_interruptible(h):
                    flag.append(True)
                return highspy.HighsStatus.kOk

            self.saved = highspy.Highs.run
            highspy.Highs.run = run
        return self

    def __exit__(self, *exc):
        if self.active:
            import highspy

            highspy.Highs.run = self.saved
        return False


def _mip_stats(solver: str, stats) -> tuple[float | None, float | None, str | None]:
    """``(primal, dual bound, raw status)`` from the solver's own statistics, when exposed."""
    extra = getattr(stats, "extra_stats", None)
    if extra is None:
        return None, None, None
    try:
        if solver == "scip":
            m = extra["model"]
            return float(m.getPrimalbound()), float(m.getDualbound()), str(extra["scip_status"])
        if solver == "highs":
            return float(extra.objective_function_value), float(extra.mip_dual_bound), None
        if solver == "gurobi":
            st = {2: "optimal", 9: "timelimit", 13: "suboptimal"}.get(
                extra.Status, str(extra.Status)
            )
            return float(extra.ObjVal), float(extra.ObjBound), st
        if solver == "cplex":
            sol = extra.solution
            return float(sol.get_objective_value()), float(sol.MIP.get_best_objective()), None
    except Exception:  # statistics are a bonus; never fail a solve on them
        return None, None, None
    return None, None, None


class CvxpyBackend(Backend):
    """cvxpy as a modelling layer over many solvers (see the module docstring)."""

    name = "cvxpy"
    module = "cvxpy"
    solvers = {
        "clarabel": SolverSpec("clarabel", _CONVEX, module="clarabel"),
        "scs": SolverSpec("scs", _CONVEX, module="scs"),
        "osqp": SolverSpec("osqp", ("LP", "QP"), module="osqp"),
        "ecos": SolverSpec("ecos", ("LP", "SOCP", "EXP"), module="ecos"),
        "scip": SolverSpec(
            "scip",
            ("LP", "QP", "SOCP", "MILP", "MIQP", "MISOCP"),
            module="pyscipopt",
            extra="scip",
            duals=False,
            seed=True,
        ),
        # last of the QP solvers, so a QP goes to HiGHS only when named or alone (measured:
        # cvxpy -> HiGHS once gave a wrong "optimal"; optml's certificate flags such an answer)
        "highs": SolverSpec("highs", ("LP", "QP", "MILP"), module="highspy", seed=True),
        "gurobi": SolverSpec(
            "gurobi", _MI_COMMERCIAL, module="gurobipy", extra="gurobi", seed=True
        ),
        "cplex": SolverSpec("cplex", _MI_COMMERCIAL, module="cplex", extra="cplex"),
        "xpress": SolverSpec("xpress", _MI_COMMERCIAL, module="xpress", extra="xpress"),
        "mosek": SolverSpec("mosek", _CONVEX + ("MILP", "MIQP", "MISOCP", "MIEXP"), module="mosek"),
    }

    def solve(self, canon, solver, settings) -> RawSolution:
        import cvxpy as cp

        time_limit, mip_gap, verbose = settings.remaining(), settings.mip_gap, settings.verbose

        t_start = time.perf_counter()
        version = _version(solver)
        cname = CVXPY_NAMES[solver]
        if cname not in cp.installed_solvers():
            return RawSolution(
                status="error",
                message=f"cvxpy does not see solver {cname!r} (installed in cvxpy: "
                f"{cp.installed_solvers()})",
                solver_version=version,
            )
        model = build(canon)
        if solver == "highs":
            _silence_highs_banner(verbose)
        remaining = time_limit
        if time_limit is not None:  # the build counts against the user's limit
            remaining = max(0.05, float(time_limit) - (time.perf_counter() - t_start))
        opts = _solver_options(solver, remaining, mip_gap, verbose, settings)
        warm = False
        if canon.x0 is not None and np.isfinite(canon.x0).any():
            x0 = np.where(np.isfinite(canon.x0), canon.x0, 0.0)
            model.x.value = np.clip(x0, canon.lb, canon.ub)
            warm = True
        prob = model.problem
        call = _Call(model, canon, solver, cname, opts, warm, remaining, settings)
        route = _route(canon, solver, remaining)
        if route == "child":
            raw = _run_in_child(call, settings, t_start, version)
        else:
            raw = call.run(version)
        raw.raw = {
            "problem": prob,
            "cvxpy_build_time": model.build_time,
            "compilation_time": getattr(prob, "compilation_time", None),
            "process": route,
            **(raw.raw or {}),
        }
        if raw.options is None:
            raw.options = _printable(opts)
        return raw


class _Call:
    """One solver call through cvxpy, run in this process or in a forked child
    (:func:`_run_in_child`); its answer is a picklable :class:`RawSolution`."""

    def __init__(self, model, canon, solver, cname, opts, warm, remaining, settings):
        self.model, self.canon, self.solver, self.cname = model, canon, solver, cname
        self.opts, self.warm, self.settings = opts, warm, settings
        self.verbose, self.mip_gap = bool(settings.verbose), settings.mip_gap
        self.remaining = remaining
        self.forced = {}  # options a forked child must use (see _run_in_child)
        self.deadline = None if remaining is None else time.perf_counter() + float(remaining)

    def _refresh(self, opts: dict):
        """The solver's time limit set to the time left now (cvxpy's compilation of a large
        program takes seconds); returns it (None: no limit)."""
        if self.deadline is None:
            return None
        left = max(0.05, self.deadline - time.perf_counter())
        opts.update(_solver_options(self.solver, left, self.mip_gap, self.verbose, self.settings))
        opts.update(self.forced)
        return left

    def run(self, version: str) -> RawSolution:
        global _CLARABEL_POOL
        if self.solver == "clarabel" and not self.forced:
            _CLARABEL_POOL = True  # its threads now exist in this process
        raw = self._run(version)
        raw.options = _printable(self.opts)  # as handed to the solver (time limit refreshed)
        return raw

    def _run(self, version: str) -> RawSolution:
        import cvxpy as cp

        model, canon, solver, cname = self.model, self.canon, self.solver, self.cname
        opts, verbose, warm = self.opts, self.verbose, self.warm
        remaining, mip_gap = self.remaining, self.mip_gap
        is_mip = canon.is_mip
        prob = model.problem
        t0 = time.perf_counter()
        interrupted = []
        try:
            with warnings.catch_warnings(), _interruptible_highs(solver, interrupted):
                # optml reports inaccuracy itself (status, check)
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                # prob.solve in its three steps, so that the solver's time limit is the time
                # left after compiling (documented cvxpy API)
                data, chain, inv = prob.get_problem_data(cname, verbose=verbose, solver_opts=opts)
                remaining = self._refresh(opts)
                t0 = time.perf_counter()
                solution = chain.solve_via_data(prob, data, warm, verbose, opts)
                prob.unpack_results(solution, chain, inv)
        except (KeyboardInterrupt, ValueError) as exc:
            if isinstance(exc, ValueError) and not interrupted:
                raise
            # Ctrl-C: cvxpy cannot unpack an interrupted solve, so the incumbent is lost here
            return RawSolution(
                status="interrupted",
                solve_time=time.perf_counter() - t0,
                solver_version=version,
                message="interrupted (cvxpy keeps no incumbent on this route)",
            )
        except cp.error.SolverError as exc:
            spent = time.perf_counter() - t0
            if remaining is not None and spent >= 0.95 * float(remaining):
                # cvxpy raises when a solver stops at its limit without a point (SCIP on a MIP)
                return RawSolution(
                    status="time_limit",
                    solve_time=spent,
                    solver_version=version,
                    message=f"stopped at the time limit without a feasible point ({exc})",
                )
            msg = f"cvxpy/{solver}: {exc}"
            if solver in _LICENSED:
                msg += (
                    f" (cvxpy hides licence errors behind this message: a size-limited "
                    f"{solver} licence may be the cause; the program has {canon.n} variables "
                    f"and {canon.m} rows)"
                )
            return RawSolution(
                status="error",
                message=msg,
                solver_version=version,
                solve_time=time.perf_counter() - t0,
            )
        wall = time.perf_counter() - t0
        cstatus = prob.status
        status = "interrupted" if interrupted else _STATUS.get(cstatus, "error")
        xv = model.x.value
        x = None if xv is None else np.asarray(xv, float).ravel()
        if x is not None and not np.all(np.isfinite(x)):
            x = None
        stats = prob.solver_stats
        if solver == "highs" and x is not None:
            info = getattr(stats, "extra_stats", None)
            if getattr(info, "primal_solution_status", 2) != 2:  # 2: feasible point
                x = None  # cvxpy hands back HiGHS's column values even without a point
        solve_time = getattr(stats, "solve_time", None) or wall
        obj = float(canon.objective_value(x) * canon.sense) if x is not None else None
        message = cstatus
        bound = None
        y, cone = None, []
        if is_mip:
            primal, dual, raw_status = _mip_stats(solver, stats)
            if dual is not None and np.isfinite(dual) and obj is not None and primal is not None:
                # cvxpy keeps constants out of the solver's objective: shift by the difference
                # (if the solver's incumbent value exceeds ours the shift is conservative)
                bound = dual + (obj - primal) if np.isfinite(primal) else None
            if cstatus in ("optimal_inaccurate", "user_limit") and x is not None:
                # cvxpy's word for "stopped at a limit with an incumbent" (SCIP at its limit): call it
                # optimal only if the solver's own bound closes the gap
                tol = max(1e-4 if mip_gap is None else float(mip_gap), 1e-9)
                closed = bound is not None and relative_gap(obj, bound) <= tol
                status = "optimal" if closed else "time_limit"
            if x is None and raw_status == "timelimit":
                status = "time_limit"  # SCIP without an incumbent: cvxpy says solver_error
            if raw_status == "userinterrupt":
                status = "interrupted"  # SCIP caught Ctrl-C (cvxpy: solver_error)
            if status == "optimal" and bound is None and obj is not None:
                bound = obj  # proven by the solver; it exposes no statistics to read
            if raw_status:
                message = f"{cstatus} ({solver}: {raw_status})"
        else:
            if (
                cstatus == "optimal_inaccurate"
                and remaining is not None
                and solve_time >= 0.95 * float(remaining)
            ):
                status = "time_limit"  # e.g. SCS reports a timed-out run as "inaccurate"
            if cstatus == "infeasible_or_unbounded":
                message = "infeasible or unbounded: the solver could not tell which"
        if not is_mip and x is not None and status in ("optimal", "time_limit"):
            if solver not in _NO_DUALS:
                y, cone = _duals(model, canon)
            if y is None:  # no usable duals: fall back on the solver's own dual bound
                primal, dual, _ = _mip_stats(solver, stats)
                if dual is not None and primal is not None and np.isfinite(dual + primal):
                    bound = dual + (obj - primal)
        if status == "time_limit" and x is None:
            message = f"{cstatus}: stopped at the time limit without a feasible point"
        return RawSolution(
            status=status,
            x=x,
            objective=obj,
            bound=bound,
            y=y,
            cone_duals=cone,
            solve_time=solve_time,
            message=message if message != "optimal" else "",
            solver_version=version,
            raw={
                "compilation_time": getattr(prob, "compilation_time", None),
                "solver_wall_time": wall,
            },
        )


#: where conic solves run: "auto" (:func:`_route`'s rule), "child" or "process" (always in this
#: process); a knob for tests and for users who want one or the other
PROCESS = "auto"
#: solvers run in a child process under :data:`PROCESS` "auto": the open-source ones cvxpy calls
#: in-process whose set-up (factorisation) reads no clock; not HiGHS or SCIP (they stop at
#: their deadline and on Ctrl-C with an incumbent), nor commercial solvers (licence tokens)
CHILD_SOLVERS = ("scs", "clarabel", "ecos", "osqp")
#: size from which such a solve runs in a child: the entries of its PSD blocks, k(k+1)/2 summed
#: (Clarabel factorises a dense block of their square every iteration; SCS an LDL with them),
#: or the nonzeros of its matrices (see docs/backends.md for the measurements behind them)
CHILD_PSD_ENTRIES = 500
CHILD_NONZEROS = 200_000


#: whether Clarabel has run in this process (its rayon thread pool exists; see _run_in_child)
_CLARABEL_POOL = False


def _route(canon, solver: str, remaining) -> str:
    """``"child"`` when the solve should run in a process killed at the deadline, else
    ``"process"`` (this process). The rule (``PROCESS = "auto"``): a time limit is set, the
    program is continuous, the solver is one of :data:`CHILD_SOLVERS`, ``fork`` exists, and the
    program is large enough that the solver's set-up may outlast the limit's allowance
    (:data:`CHILD_PSD_ENTRIES`, :data:`CHILD_NONZEROS`); below that, the fork's cost (about
    10 ms, measured) would be paid for nothing."""
    from optml.backends import _subprocess

    if PROCESS == "process" or not _subprocess.AVAILABLE:
        return "process"
    if solver not in CHILD_SOLVERS or canon.is_mip:
        return "process"
    if PROCESS == "child":
        return "child"
    if remaining is None:
        return "process"
    entries = sum(len(b) * (len(b) + 1) // 2 for b in canon.psd)
    nnz = canon.A.nnz + (canon.P.nnz if canon.has_quadratic else 0)
    nnz += sum(G.nnz if sp.issparse(G) else np.count_nonzero(G) for G, _ in canon.soc)
    big = entries >= CHILD_PSD_ENTRIES or nnz >= CHILD_NONZEROS
    return "child" if big else "process"


def _kill_grace(settings) -> float:
    """Seconds past the deadline the child may take to hand back the point it stopped at: half
    of the 10 % + 1 s a time limit allows (the other half is for the certificate)."""
    tl = settings.time_limit
    return 0.5 if tl is None else 0.5 + 0.05 * float(tl)


def _run_in_child(call: _Call, settings, t_start: float, version: str) -> RawSolution:
    """``call`` in a forked child killed at the deadline (plus :func:`_kill_grace`): a solver
    that overruns its own limit (set-up, factorisation) comes back ``time_limit`` without a
    point (the orchestrator then returns a complete warm start as the incumbent)."""
    from optml.backends._subprocess import run_with_deadline

    deadline = settings.deadline
    if deadline is None and call.remaining is not None:
        deadline = t_start + float(call.remaining)
    kill_at = None if deadline is None else deadline + _kill_grace(settings)
    if call.solver == "clarabel" and _CLARABEL_POOL:
        # Clarabel's factorisation runs on rayon's global thread pool; once Clarabel has run in
        # this process, a forked child inherits the pool without its threads and waits on it
        # forever: one thread in the child (measured: a 20x20 SDP hung until killed, 0.9 s
        # with max_threads=1)
        call.forced["max_threads"] = 1
        call.opts.update(call.forced)
    try:
        out = run_with_deadline(lambda: call.run(version), kill_at)
    except KeyboardInterrupt:
        return RawSolution(
            status="interrupted",
            solver_version=version,
            solve_time=time.perf_counter() - t_start,
            message="interrupted (the solver's process was stopped; cvxpy keeps no incumbent)",
        )
    info = {"fork_time": out.start_time, "child_wall_time": out.wall}
    if out.kind == "done":
        raw = out.value
        raw.raw = {**(raw.raw or {}), **info}
        return raw
    if out.kind == "raised":
        raise out.value
    if out.kind == "killed":
        return RawSolution(
            status="time_limit",
            solve_time=out.wall,
            solver_version=version,
            message=(
                f"{call.solver} has no time limit option"
                if _TIME_OPTION.get(call.solver, "") is None
                else f"{call.solver} did not stop at its time limit (its set-up reads no clock)"
            )
            + ": its process was stopped at the deadline without a point",
            raw=info,
        )
    return RawSolution(
        status="error",
        solve_time=out.wall,
        solver_version=version,
        message=f"{call.solver}'s process ended without an answer (exit code {out.exitcode}: "
        "a crash in the solver, or the system ran out of memory)",
        raw=info,
    )


def _silence_highs_banner(verbose: bool) -> None:
    """HiGHS prints a banner on the first ``Highs()`` of a process; let optml's helper eat it."""
    from optml.backends import highs as _highs

    if not _highs._BANNER_DONE and not verbose:
        _highs.new_highs(False)


def _version(solver: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    dist = {"scip": "pyscipopt", "highs": "highspy", "xpress": "xpress"}.get(solver, solver)
    out = []
    for d in ("cvxpy", dist):
        try:
            out.append(f"{d} {version(d)}")
        except PackageNotFoundError:
            pass
    return ", ".join(out)


register(CvxpyBackend())
