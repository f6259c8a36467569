r"""Pyomo backend: the canonical form as a Pyomo model, solved by any solver Pyomo reaches.

The model is built from the CSR arrays of the canonical form without walking expression trees
and without ``quicksum``: one ``LinearExpression`` per row, made from a CSR slice with plain
lists, and the quadratic objective as one sum of ``c_{ij} x_i x_j`` over the upper triangle of
``P``:

.. math::

    \min_x\ \sum_{i} \tfrac12 P_{ii} x_i^2 + \sum_{i<j} P_{ij} x_i x_j + q^\top x + c_0
    \quad\text{s.t.}\quad r_l \le A x \le r_u,\ l \le x \le u .

Second-order cones :math:`\|v\|_2 \le t` (SCIP only) become ``w = G x + h`` (linear rows) and
:math:`\sum_{i\ge1} w_i^2 \le w_0^2,\ w_0 \ge 0`. Exponential and PSD cones are not supported.

Solvers and routes:

* ``highs``: ``pyomo.contrib.solver`` HiGHS (persistent; LP, QP, MILP; row duals).
  (``appsi_highs`` refuses quadratic objectives, and the contrib interface ends ``unknown`` on
  MIQP, so MIQP is not offered.)
* ``scip``: ``scip_direct`` (pyscipopt): LP, QP, SOCP, MILP, MIQP, MISOCP, native SOS1. SCIP
  gives no row duals here; its dual bound is returned instead. The log is off unless
  ``verbose`` (``display/verblevel 0``) and SCIP runs without holding Python's lock, so Pyomo's
  output capture cannot dead-lock.
* ``cbc``, ``glpk`` (executables on PATH), ``gurobi``, ``cplex``, ``xpress`` (direct Python
  interfaces) through Pyomo's classic ``SolverFactory``.
"""

from __future__ import annotations

import logging
import math
import operator
import time

import numpy as np
import scipy.sparse as sp

from optml.backends.base import Backend, RawSolution, SolverSpec
from optml.backends.registry import register
from optml.exceptions import UnsupportedProblemError

logger = logging.getLogger("optml")

_LIN = ("LP", "MILP")
_QP = ("LP", "QP", "MILP", "MIQP")

#: classic SolverFactory routes: solver -> (factory name, option names)
_LEGACY = {
    "cbc": ("cbc", {"time": "sec", "gap": "ratio", "threads": "threads"}),
    "glpk": ("glpk", {"time": "tmlim", "gap": "mipgap", "threads": None}),
    "gurobi": ("gurobi_direct", {"time": "TimeLimit", "gap": "MIPGap", "threads": "Threads"}),
    "cplex": ("cplex_direct", {"time": "timelimit", "gap": "mipgap", "threads": "threads"}),
    "xpress": ("xpress_direct", {"time": "maxtime", "gap": "miprelstop", "threads": "threads"}),
}
_WARMSTART = ("cbc", "gurobi", "cplex", "xpress")


# ----------------------------------------------------------------------------- model building
def to_pyomo(canon, native_sos1: bool = False, soc: bool = False, separable: bool = False):
    """See :func:`_to_pyomo`; runs with Python's cyclic garbage collector paused."""
    from pyomo.common.gc_manager import PauseGC

    with PauseGC():  # millions of small objects: the collector would rescan them all
        return _to_pyomo(canon, native_sos1, soc, separable)


def _to_pyomo(canon, native_sos1=False, soc=False, separable=False):
    """Build a Pyomo ``ConcreteModel`` of a canonical form (minimisation sense).

    Returns ``(model, cols, rows)``: ``cols`` the ``VarData`` of each column, ``rows`` the
    row index of the canonical form for each entry of ``model.rows`` (rows without bounds or
    without coefficients are left out).

    Parameters
    ----------
    canon : CanonicalForm
    native_sos1 : bool
        Write SOS1 sets as Pyomo ``SOSConstraint`` (otherwise the caller must have rewritten
        them with the solve path's ``SOS1ToBigM`` reduction).
    soc : bool
        Write second-order cones as quadratic constraints (else refuse them).
    """
    import pyomo.environ as pe
    from pyomo.core.expr.numeric_expr import (
        LinearExpression,
        MonomialTermExpression,
        ProductExpression,
        SumExpression,
    )
    from pyomo.core.expr.relational_expr import EqualityExpression, InequalityExpression

    if canon.exp or canon.psd:
        raise UnsupportedProblemError(
            "the pyomo backend has no exponential or PSD cones; use backend='cvxpy'"
        )
    if canon.soc and not soc:
        raise UnsupportedProblemError(
            "this solver takes no second-order cones through Pyomo; use solver='scip' or "
            "backend='cvxpy'"
        )
    if canon.sos1 and not native_sos1:
        raise UnsupportedProblemError("SOS1 sets must be rewritten with big-M first")
    n = canon.n
    M = pe.ConcreteModel(name="optml")
    lb = [None if not math.isfinite(v) else float(v) for v in canon.lb.tolist()]
    ub = [None if not math.isfinite(v) else float(v) for v in canon.ub.tolist()]
    integer = canon.integer.tolist()
    binary = [
        integer[j] and lb[j] is not None and ub[j] is not None and lb[j] >= 0 and ub[j] <= 1
        for j in range(n)
    ]
    dom = [pe.Binary if binary[j] else (pe.Integers if integer[j] else pe.Reals) for j in range(n)]
    M.x = pe.Var(range(n), domain=lambda _m, j: dom[j], bounds=lambda _m, j: (lb[j], ub[j]))
    cols = list(M.x.values())

    def linexpr(idx, vals):
        return LinearExpression(
            list(map(MonomialTermExpression, zip(vals, map(cols.__getitem__, idx), strict=True)))
        )

    A = canon.A.tocsr()
    indptr, indices, data = A.indptr.tolist(), A.indices.tolist(), A.data.tolist()
    rlb, rub = canon.row_lb.tolist(), canon.row_ub.tolist()
    exprs, kept = [], []
    add = exprs.append
    for i in range(canon.m):
        lo, hi = rlb[i], rub[i]
        s, e = indptr[i], indptr[i + 1]
        has_lo, has_hi = lo > -math.inf, hi < math.inf
        if not (has_lo or has_hi):
            continue
        if s == e:  # constant row: 0 in [lo, hi] or the program is infeasible
            if lo > 1e-9 or hi < -1e-9:
                raise _TriviallyInfeasible(f"row {i} has no coefficients and bounds [{lo}, {hi}]")
            continue
        body = linexpr(indices[s:e], data[s:e])
        if lo == hi:
            add(EqualityExpression((body, lo)))
        elif has_lo and has_hi:
            add((lo, body, hi))
        elif has_hi:
            add(InequalityExpression((body, hi), False))
        else:
            add(InequalityExpression((lo, body), False))
        kept.append(i)
    # one indexed Constraint over 0..k-1 (a ConstraintList pays a set update per row)
    M.rows = pe.Constraint(range(len(exprs)), rule=lambda _m, k: exprs[k])
    # objective: linear part, quadratic part over triu(P), constant
    q = canon.q
    nz = np.flatnonzero(q)
    args = list(linexpr(nz.tolist(), q[nz].tolist()).args) if nz.size else []
    if canon.has_quadratic:
        U = sp.triu(sp.csr_matrix(canon.P), format="coo")
        c = np.where(U.row == U.col, 0.5 * U.data, U.data)
        keep = c != 0
        if separable:  # t_j >= c_j x_j^2 for columns with a positive diagonal term only
            off = U.row[keep & (U.row != U.col)], U.col[keep & (U.row != U.col)]
            coupled = np.zeros(n, bool)
            coupled[off[0]] = coupled[off[1]] = True
            diag = keep & (U.row == U.col) & (c > 0) & ~coupled[U.row]
            keep &= ~diag
            dc, dj = c[diag].tolist(), U.row[diag].tolist()
            M.qt = pe.Var(range(int(diag.sum())), bounds=(0, None))
            M.qepi = pe.Constraint(
                range(int(diag.sum())),
                rule=lambda _m, k: InequalityExpression(
                    (
                        SumExpression(
                            [
                                ProductExpression(
                                    (MonomialTermExpression((dc[k], cols[dj[k]])), cols[dj[k]])
                                ),
                                MonomialTermExpression((-1.0, _m.qt[k])),
                            ]
                        ),
                        0.0,
                    ),
                    False,
                ),
            )
            args += list(M.qt.values())
        for ci, r, k in zip(
            c[keep].tolist(), U.row[keep].tolist(), U.col[keep].tolist(), strict=True
        ):
            args.append(ProductExpression((MonomialTermExpression((ci, cols[r])), cols[k])))
    if canon.c0:
        args.append(float(canon.c0))
    obj = SumExpression(args) if len(args) != 1 else args[0]
    M.obj = pe.Objective(expr=obj if args else 0.0, sense=pe.minimize)
    if canon.soc:
        M.soc = pe.ConstraintList()
        M.soc_w = pe.VarList()
        for G, h in canon.soc:
            G = sp.csr_matrix(G)
            w = [M.soc_w.add() for _ in range(G.shape[0])]
            w[0].setlb(0.0)
            gp, gi, gv = G.indptr.tolist(), G.indices.tolist(), G.data.tolist()
            for r in range(G.shape[0]):  # w_r - G_r x == h_r
                s, e = gp[r], gp[r + 1]
                terms = [
                    MonomialTermExpression((-v, cols[j]))
                    for v, j in zip(gv[s:e], gi[s:e], strict=True)
                ]
                terms.append(w[r])
                M.soc.add(EqualityExpression((LinearExpression(terms), float(h[r]))))
            sq = [ProductExpression((w[r], w[r])) for r in range(1, len(w))]
            sq.append(ProductExpression((MonomialTermExpression((-1.0, w[0])), w[0])))
            M.soc.add(InequalityExpression((SumExpression(sq), 0.0), False))
    if canon.sos1:
        M.sos1 = pe.SOSConstraint(
            range(len(canon.sos1)),
            rule=lambda _m, k: (
                [cols[j] for j in canon.sos1[k][0]],
                [float(w) for w in canon.sos1[k][1]],
            ),
            sos=1,
        )
    return M, cols, kept


class _TriviallyInfeasible(Exception):
    pass


def _set_start(cols, x0) -> bool:
    if x0 is None:
        return False
    done = False
    for v, val in zip(cols, x0.tolist(), strict=True):
        if math.isfinite(val):
            v.set_value(val, skip_validation=True)
            done = True
    return done


# ----------------------------------------------------------------------------- SCIP
def _scip_direct_class():
    from pyomo.contrib.solver.solvers.scip.scip_direct import ScipDirect
    from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

    class _Unlocked:
        """Forward to a pyscipopt Model, but optimise without holding Python's lock."""

        def __init__(self, model):
            object.__setattr__(self, "_m", model)

        def optimize(self):
            self._m.optimizeNogil()

        def __getattr__(self, name):
            return getattr(self._m, name)

    class OptmlScipDirect(ScipDirect):
        """``scip_direct`` with a fast path for linear rows and no dead-lock on the log."""

        #: set before solve: (separation x -> (A, lb, ub) or None, columns in order)
        optml_lazy = None
        #: set before solve: (columns in order, a complete starting point)
        optml_start = None

        def _create_solver_model(self, model, config):
            scip_model, loader, has_obj = super()._create_solver_model(model, config)
            if self.optml_start is not None:
                self._add_start(scip_model, *self.optml_start)
            if self.optml_lazy is None:
                return _Unlocked(scip_model), loader, has_obj
            # lazy constraints call back into Python: optimise holding the lock (verbose logs
            # are not captured on this route, so the capture dead-lock cannot occur)
            sep, cols = self.optml_lazy
            vmap = self._pyomo_var_to_solver_var_map
            svars = [vmap[v] if v in vmap else self._add_var(v) for v in cols]
            self.optml_lazy_handler = _lazy_handler(scip_model, sep, svars)
            return scip_model, loader, has_obj

        def _add_start(self, scip_model, cols, x0):
            """A complete start as a solution of the original problem: SCIP checks it before
            presolve, so it is the incumbent from the first second (Pyomo's warm start is
            partial, and SCIP completes it only after presolve, too late under a short
            limit). A start SCIP rejects (infeasible, or cut off by a lazy family) is
            dropped."""
            vmap = self._pyomo_var_to_solver_var_map
            try:
                sol = scip_model.createSol()
                for v, val in zip(cols, x0, strict=True):
                    sv = vmap[v] if v in vmap else self._add_var(v)
                    scip_model.setSolVal(sol, sv, float(val))
                scip_model.addSol(sol, free=True)
            except Exception as exc:  # a pyscipopt without these calls: Pyomo's start only
                logger.debug("SCIP start not added: %s", exc)

        def _linear(self, body):
            from pyscipopt.scip import Expr, Term

            vmap = self._pyomo_var_to_solver_var_map
            terms = {}
            const = 0.0
            for a in body.args:
                if a.__class__ is MonomialTermExpression:
                    c, v = a.args
                elif a.__class__ in (int, float):
                    const += a
                    continue
                else:
                    c, v = 1.0, a
                sv = vmap[v] if v in vmap else self._add_var(v)
                t = Term(sv)
                terms[t] = terms.get(t, 0.0) + float(c)
            return Expr(terms), const

        def _add_constraint(self, con):
            body = con.body
            if body.__class__ is not LinearExpression or not all(
                a.__class__ is MonomialTermExpression for a in body.args
            ):
                return super()._add_constraint(con)
            expr, const = self._linear(body)
            lo, hi = con.lb, con.ub
            if con.equality:
                cons = expr == lo - const
            elif lo is not None and hi is not None:
                cons = (lo - const) <= (expr <= hi - const)
            elif hi is not None:
                cons = expr <= hi - const
            else:
                cons = expr >= lo - const
            self._pyomo_con_to_solver_con_map[con] = self._solver_model.addCons(cons)

    return OptmlScipDirect


def _check_scip_options(options: dict) -> None:
    """A ValueError naming a SCIP parameter that does not exist (with close names)."""
    if not options:
        return
    import difflib

    import pyscipopt

    m = pyscipopt.Model()
    m.hideOutput()
    known = m.getParams()
    for k in options:
        if k not in known:
            # "tme_limit" -> "limits/time": match the parts of the names (limits first)
            last: dict = {}
            for name in known:
                last.setdefault(name.rsplit("/", 1)[-1], []).append(name)
            close = []
            for tail in str(k).replace("_", "/").split("/"):
                for hit in difflib.get_close_matches(tail, list(last), n=2, cutoff=0.75):
                    best = sorted(last[hit], key=lambda n: (not n.startswith("limits/"), len(n)))
                    if best[0] not in close:
                        close.append(best[0])
            close += [
                c for c in difflib.get_close_matches(str(k), list(known), n=3) if c not in close
            ]
            close = close[:4]
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ValueError(
                f"SCIP has no parameter {k!r}{hint} (solver_options take SCIP's own parameter "
                "names, e.g. 'limits/nodes': https://www.scipopt.org/doc/html/PARAMETERS.php)"
            )


def _stack_rows(rows, n):
    import scipy.sparse as sp

    if not rows:
        return sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0)
    return (
        sp.vstack([r for r, _, _ in rows]).tocsr(),
        np.array([lo for _, lo, _ in rows], dtype=float),
        np.array([hi for _, _, hi in rows], dtype=float),
    )


def _lazy_handler(scip_model, sep, svars):
    """A SCIP constraint handler that enforces optml's lazy constraint families: at every
    candidate solution it calls ``sep`` (column space) and adds the violated rows as
    constraints. Returns the handler (its ``rows`` hold every row added)."""
    from pyscipopt import SCIP_RESULT, Conshdlr, quicksum

    class LazyRows(Conshdlr):
        def __init__(self):
            self.rows = []

        def _x(self, sol):
            return np.array([self.model.getSolVal(sol, v) for v in svars])

        def conscheck(self, constraints, solution, *args):
            if sep(self._x(solution)) is None:
                return {"result": SCIP_RESULT.FEASIBLE}
            return {"result": SCIP_RESULT.INFEASIBLE}

        def _enforce(self):
            rows = sep(self._x(None))
            if rows is None:
                return {"result": SCIP_RESULT.FEASIBLE}
            A, lb, ub = rows
            A = A.tocsr()
            for i in range(A.shape[0]):
                lo, hi = A.indptr[i], A.indptr[i + 1]
                expr = quicksum(
                    float(c) * svars[j]
                    for j, c in zip(A.indices[lo:hi], A.data[lo:hi], strict=True)
                )
                if np.isfinite(lb[i]) and np.isfinite(ub[i]):
                    cons = float(lb[i]) <= (expr <= float(ub[i]))
                elif np.isfinite(ub[i]):
                    cons = expr <= float(ub[i])
                else:
                    cons = expr >= float(lb[i])
                self.model.addCons(cons, name=f"optml_lazy_{len(self.rows)}")
                self.rows.append((A[i], lb[i], ub[i]))
            return {"result": SCIP_RESULT.CONSADDED}

        def consenfolp(self, constraints, nusefulconss, solinfeasible):
            return self._enforce()

        def consenfops(self, constraints, nusefulconss, solinfeasible, objinfeasible):
            return self._enforce()

        def conslock(self, constraint, locktype, nlockspos, nlocksneg):
            pass

    handler = LazyRows()
    scip_model.includeConshdlr(
        handler,
        "optml_lazy",
        "optml's lazy constraint families",
        enfopriority=-1,
        chckpriority=-1,
        needscons=False,
    )
    # the rows are unknown to presolve: no reductions that assume all constraints are known
    scip_model.setParam("misc/allowstrongdualreds", False)
    scip_model.setParam("misc/allowweakdualreds", False)
    scip_model.setParam("presolving/maxrestarts", 0)
    return handler


# ----------------------------------------------------------------------------- HiGHS
def _highs_class():
    """Pyomo's persistent HiGHS interface with a fast path for plain linear rows.

    A row that is a ``LinearExpression`` of ``coefficient * variable`` terms with numeric
    coefficients (every row :func:`to_pyomo` writes) is registered with the same book-keeping
    as Pyomo's ``add_constraints`` and handed to HiGHS in one ``addRows`` call, without the
    expression walk and ``generate_standard_repn`` per row. Any other row takes Pyomo's path.
    If Pyomo's private attributes change, the stock interface is used.
    """
    from pyomo.contrib.solver.solvers.highs import Highs
    from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

    needed = (
        "_active_constraints",
        "_named_expressions",
        "_vars_referenced_by_con",
        "_referenced_variables",
        "_pyomo_var_to_solver_var_map",
        "_pyomo_con_to_solver_con_map",
        "_solver_con_to_pyomo_con_map",
        "_solver_model",
    )
    probe = Highs()
    if not all(hasattr(probe, a) for a in needed):  # pragma: no cover - Pyomo changed
        return Highs
    _MONO.add(MonomialTermExpression)

    class OptmlHighs(Highs):
        def _solve(self):
            # Pyomo runs HiGHS in the calling thread, where Ctrl-C waits for the time limit:
            # run it in highspy's solver thread instead, stopping within a fraction of a second
            from optml.backends.highs import run_interruptible

            h = self._solver_model
            self.optml_interrupted = False

            def run():
                self.optml_interrupted = run_interruptible(h)

            h.run = run
            try:
                return super()._solve()
            finally:
                del h.run

        def add_constraints(self, cons):
            fast, slow = [], []
            for con in cons:
                lo, body, hi = con.to_bounded_expression(evaluate_bounds=True)
                if (
                    body.__class__ is LinearExpression
                    and lo.__class__ in _NUM
                    and (hi.__class__ in _NUM)
                ):
                    args = body._args_
                    if set(map(type, args)) <= _MONO:
                        pairs = list(map(_ARGS, args))
                        coefs = list(map(_FIRST, pairs))
                        vs = list(map(_SECOND, pairs))
                        if set(map(type, coefs)) <= _NUMS:
                            fast.append((con, lo, hi, coefs, vs))
                            continue
                slow.append(con)
            seen = {}  # the distinct variables of the fast rows
            for f in fast:
                seen.update(zip(map(id, f[4]), f[4], strict=True))
            fixed = {i for i, v in seen.items() if v.fixed}
            if fixed:  # rows with fixed variables: Pyomo's path treats them as constants
                slow += [f[0] for f in fast if not fixed.isdisjoint(map(id, f[4]))]
                fast = [f for f in fast if fixed.isdisjoint(map(id, f[4]))]
                seen = {i: v for i, v in seen.items() if i not in fixed}
            if slow:
                super().add_constraints(slow)
            if fast:
                self._add_linear_rows(fast, seen)

        def _add_linear_rows(self, fast, seen):
            """Pyomo's book-keeping for the rows, then one ``addRows`` call.

            Left out: the per-variable index of referencing constraints, which Pyomo uses
            only to remove variables from a persistent model; optml solves once.
            """
            import highspy

            refs = self._referenced_variables
            new = [v for i, v in seen.items() if i not in refs]
            if new:
                self.add_variables(new)
            vmap = self._pyomo_var_to_solver_var_map
            n0 = len(self._pyomo_con_to_solver_con_map)
            starts, idx, vals, lbs, ubs = [], [], [], [], []
            inf = highspy.kHighsInf
            for k, (con, lo, hi, coefs, vs) in enumerate(fast):
                self._active_constraints[con] = con.expr
                self._named_expressions[con] = []
                self._vars_referenced_by_con[con] = vs
                starts.append(len(idx))
                idx.extend(map(vmap.__getitem__, map(id, vs)))
                vals.extend(coefs)
                lbs.append(-inf if lo is None else lo)
                ubs.append(inf if hi is None else hi)
                self._pyomo_con_to_solver_con_map[con] = n0 + k
                self._solver_con_to_pyomo_con_map[n0 + k] = con
            self._sol = None
            self._solver_model.addRows(
                len(lbs),
                np.array(lbs, dtype=np.double),
                np.array(ubs, dtype=np.double),
                len(idx),
                np.array(starts, dtype=np.int32),
                np.array(idx, dtype=np.int32),
                np.array(vals, dtype=np.double),
            )

    return OptmlHighs


_NUM = (float, int, type(None))
_NUMS = {float, int}
_MONO: set = set()
_ARGS = operator.attrgetter("_args_")
_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)


def highs_instance(model):
    """Pyomo's persistent HiGHS interface (with the linear-row fast path) loaded with ``model``."""
    from pyomo.common.gc_manager import PauseGC

    opt = _highs_class()()
    with PauseGC():
        opt.set_instance(model)
    return opt


# ----------------------------------------------------------------------------- the backend
#: the solver's own name of the random seed (SolveSettings.seed)
_SEED_OPTION = {
    "highs": "random_seed",
    "scip": "randomization/randomseedshift",
    "gurobi": "Seed",
    "cplex": "randomseed",
}


class PyomoBackend(Backend):
    """Pyomo models built from the canonical arrays; see the module docstring."""

    name = "pyomo"
    module = "pyomo"
    solvers = {
        "highs": SolverSpec("highs", ("LP", "QP", "MILP"), module="highspy"),
        "scip": SolverSpec(
            "scip",
            ("LP", "QP", "SOCP", "MILP", "MIQP", "MISOCP"),
            module="pyscipopt",
            extra="scip",
            native_sos1=True,
            separable_quadratic=True,  # coupled quadratics as ||F'x||^2: SCIP proves on them
            duals=False,
            seed=True,
            lazy_callbacks=True,  # a constraint handler (see _lazy_handler)
        ),
        "cbc": SolverSpec("cbc", _LIN, executable="cbc"),
        "glpk": SolverSpec("glpk", _LIN, executable="glpsol"),
        "gurobi": SolverSpec("gurobi", _QP, module="gurobipy", extra="gurobi", native_sos1=True),
        "cplex": SolverSpec("cplex", _QP, module="cplex", extra="cplex", native_sos1=True),
        "xpress": SolverSpec("xpress", _QP, module="xpress", extra="xpress", native_sos1=True),
    }

    def solve(self, canon, solver, settings) -> RawSolution:
        spec = self.solvers[solver]
        time_limit, mip_gap, verbose = settings.remaining(), settings.mip_gap, settings.verbose
        threads, options = settings.threads, dict(settings.options)
        if settings.seed is not None and solver in _SEED_OPTION:
            options.setdefault(_SEED_OPTION[solver], int(settings.seed))
        t0 = time.perf_counter()
        try:
            model, cols, kept = to_pyomo(
                canon,
                native_sos1=spec.native_sos1,
                soc=solver == "scip",
                separable=solver == "scip",
            )
        except _TriviallyInfeasible as e:
            return RawSolution(status="infeasible", message=str(e))
        build = time.perf_counter() - t0
        if time_limit is not None:  # the translation counts against the user's limit
            time_limit = max(0.05, time_limit - build)
        if solver == "highs":
            raw = self._solve_highs(
                canon, model, cols, time_limit, mip_gap, verbose, threads, options
            )
        elif solver == "scip":
            raw = self._solve_scip(
                canon, model, cols, time_limit, mip_gap, verbose, threads, options
            )
        else:
            raw = self._solve_legacy(
                solver, canon, model, cols, time_limit, mip_gap, verbose, threads, options
            )
        if raw.y is not None:
            y = np.zeros(canon.m)
            y[kept] = raw.y
            raw.y = y
        raw.raw = {"model": model, "results": raw.raw, "pyomo_build_time": build}
        return raw

    # -------------------------------------------------------------- contrib (new) interfaces
    @staticmethod
    def _finish_contrib(res, canon, cols, t, duals=None, version="", known=None) -> RawSolution:
        from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

        tc = res.termination_condition
        has_x = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
        status = {
            TerminationCondition.convergenceCriteriaSatisfied: "optimal",
            TerminationCondition.maxTimeLimit: "time_limit",
            TerminationCondition.iterationLimit: "time_limit",
            TerminationCondition.objectiveLimit: "time_limit",
            TerminationCondition.interrupted: "interrupted",
            TerminationCondition.provenInfeasible: "infeasible",
            TerminationCondition.locallyInfeasible: "infeasible",
            TerminationCondition.infeasibleOrUnbounded: "infeasible_or_unbounded",
            TerminationCondition.unbounded: "unbounded",
        }.get(tc, "error")
        if status == "optimal" and not has_x:
            status = "error"
        x = None
        if has_x and status not in ("infeasible", "unbounded", "infeasible_or_unbounded"):
            seen = [v for v in cols if known(v)]  # the columns the solver saw
            vals = res.solution_loader.get_vars(seen)
            # a column in no row and not in the objective: any value in its bounds is optimal
            free = np.clip(0.0, canon.lb, canon.ub)
            x = np.array(
                [vals.get(v, f) for v, f in zip(cols, free.tolist(), strict=True)], dtype=float
            )
        bound = res.objective_bound
        bound = float(bound) if bound is not None and np.isfinite(bound) else None
        obj = res.incumbent_objective
        return RawSolution(
            status=status,
            x=x,
            objective=None if obj is None or x is None else float(obj),
            bound=bound,
            y=duals,
            solve_time=t,
            message=str(tc).split(".")[-1],
            solver_version=version,
            raw=res,
        )

    def _solve_highs(self, canon, model, cols, time_limit, mip_gap, verbose, threads, options):
        from optml.backends.highs import check_options

        check_options(options)  # Pyomo passes them on and ignores HiGHS's error status
        opts = {} if verbose else {"output_flag": False}
        opts.update(options)
        given = _given(opts, time_limit=time_limit, mip_rel_gap=mip_gap, threads=threads)
        t0 = time.perf_counter()
        opt = highs_instance(model)
        if canon.x0 is not None and np.isfinite(canon.x0).all():
            _highs_start(opt, cols, canon.x0)
        res = opt.solve(
            model,
            load_solutions=False,
            raise_exception_on_nonoptimal_result=False,
            tee=bool(verbose),
            time_limit=time_limit,
            rel_gap=mip_gap,
            threads=threads,
            solver_options=opts,
            auto_updates=_NO_UPDATES,
        )
        t = time.perf_counter() - t0
        duals = None
        if not canon.is_mip and res.solution_status.name in ("optimal", "feasible"):
            try:
                d = res.solution_loader.get_duals(list(model.rows.values()))
                duals = np.array([d[c] for c in model.rows.values()], dtype=float)
            except Exception:  # no dual solution (e.g. stopped early)
                duals = None
        ver = ".".join(map(str, opt.version()))
        vmap = opt._pyomo_var_to_solver_var_map  # keyed by id(var)
        raw = self._finish_contrib(res, canon, cols, t, duals, ver, lambda v: id(v) in vmap)
        raw.options = given
        if getattr(opt, "optml_interrupted", False):
            raw.status = "interrupted"
        return raw

    def _solve_scip(self, canon, model, cols, time_limit, mip_gap, verbose, threads, options):
        opt = _scip_direct_class()()
        if canon.lazy is not None:
            opt.optml_lazy = (canon.lazy, cols)
        if canon.x0 is not None and np.isfinite(canon.x0).all():
            opt.optml_start = (cols, np.asarray(canon.x0, dtype=float))
        opts = {"display/verblevel": 4 if verbose else 0}
        if canon.sos1:
            # the SOS1 handler's bound-tightening presolve does not look at the time limit: on
            # best subset with p = 500 it ran 17 s past a 10 s limit; without it the limit
            # holds, and p = 100 certified in 11.7 s instead of 15.6 s (SCIP 10, this machine)
            opts["constraints/SOS1/maxtightenbds"] = 0
        _check_scip_options(options)  # Pyomo raises a KeyError without the name
        opts.update(options)
        warm = False
        if canon.x0 is not None and canon.integer.any():
            xi = canon.x0[canon.integer]
            warm = bool(np.isfinite(xi).all()) and _set_start(cols, canon.x0)
        from pyomo.common.gc_manager import PauseGC

        t0 = time.perf_counter()
        with PauseGC():  # the translation makes many small objects
            res = opt.solve(
                model,
                load_solutions=False,
                raise_exception_on_nonoptimal_result=False,
                tee=bool(verbose),
                time_limit=time_limit,
                rel_gap=mip_gap,
                threads=threads,
                solver_options=opts,
                warmstart_discrete_vars=warm,
            )
        t = time.perf_counter() - t0
        ver = ".".join(map(str, opt.version()))
        vmap = opt._pyomo_var_to_solver_var_map  # a ComponentMap
        raw = self._finish_contrib(res, canon, cols, t, None, ver, vmap.__contains__)
        raw.options = _given(
            opts, **{"limits/time": time_limit, "limits/gap": mip_gap, "threads": threads}
        )
        # scip_direct models the objective as an epigraph variable, which may sit below the
        # objective by SCIP's feasibility tolerance: report the objective of the point instead
        raw.objective = None
        handler = getattr(opt, "optml_lazy_handler", None)
        if handler is not None:  # the rows SCIP added, for the certificate's final form
            raw.lazy_rows = _stack_rows(handler.rows, canon.n)
        return raw

    # -------------------------------------------------------------- classic SolverFactory
    def _solve_legacy(
        self, solver, canon, model, cols, time_limit, mip_gap, verbose, threads, options
    ):
        import pyomo.environ as pe
        from pyomo.opt import SolutionStatus, TerminationCondition

        factory, names = _LEGACY[solver]
        opt = pe.SolverFactory(factory)
        if time_limit is not None:
            opt.options[names["time"]] = float(time_limit)
        if mip_gap is not None and canon.is_mip:
            opt.options[names["gap"]] = float(mip_gap)
        if threads is not None and names["threads"]:
            opt.options[names["threads"]] = int(threads)
        for k, v in options.items():
            opt.options[k] = v
        if not canon.is_mip:
            model.dual = pe.Suffix(direction=pe.Suffix.IMPORT)
        kw = {}
        if solver in _WARMSTART and _set_start(cols, canon.x0):
            kw["warmstart"] = True
        t0 = time.perf_counter()
        try:
            res = opt.solve(model, load_solutions=False, tee=bool(verbose), **kw)
        except Exception as e:  # a solver crash is a status, not an exception
            return RawSolution(status="error", message=f"{factory}: {e}")
        t = time.perf_counter() - t0
        tc = res.solver.termination_condition
        tcs = TerminationCondition
        status = {
            tcs.optimal: "optimal",
            tcs.locallyOptimal: "optimal",
            tcs.globallyOptimal: "optimal",
            tcs.maxTimeLimit: "time_limit",
            tcs.maxIterations: "time_limit",
            tcs.maxEvaluations: "time_limit",
            tcs.userInterrupt: "interrupted",
            tcs.infeasible: "infeasible",
            tcs.infeasibleOrUnbounded: "infeasible_or_unbounded",
            tcs.unbounded: "unbounded",
        }.get(tc, "error")
        x = y = None
        if (
            len(res.solution)
            and res.solution(0).status
            in (
                SolutionStatus.optimal,
                SolutionStatus.feasible,
                SolutionStatus.stoppedByLimit,
                SolutionStatus.locallyOptimal,
                SolutionStatus.globallyOptimal,
            )
            and status not in ("infeasible", "unbounded", "infeasible_or_unbounded")
        ):
            model.solutions.load_from(res)
            x = np.array([np.nan if v.value is None else v.value for v in cols], dtype=float)
            if not canon.is_mip:
                y = np.array([model.dual.get(c, 0.0) for c in model.rows.values()], dtype=float)
        bound = None
        prob = res.problem(0) if len(res.problem) else None
        lower = getattr(prob, "lower_bound", None) if prob is not None else None
        if canon.is_mip and lower is not None and np.isfinite(float(lower)):
            bound = float(lower)
        return RawSolution(
            status=status,
            x=x,
            objective=None,
            bound=bound,
            y=y,
            solve_time=t,
            message=str(tc),
            raw=res,
            options={str(k): v for k, v in opt.options.items()},
        )


_NO_UPDATES = {
    "check_for_new_or_removed_constraints": False,
    "check_for_new_or_removed_vars": False,
    "check_for_new_or_removed_params": False,
    "check_for_new_objective": False,
    "update_constraints": False,
    "update_vars": False,
    "update_parameters": False,
    "update_named_expressions": False,
    "update_objective": False,
}


def _highs_start(opt, cols, x0) -> None:
    """Hand a full starting point to the HiGHS instance behind Pyomo's persistent interface."""
    try:
        import highspy

        h = opt._solver_model
        idx = [opt._pyomo_var_to_solver_var_map[id(v)] for v in cols]
        vals = np.empty(len(cols))
        vals[idx] = x0
        sol = highspy.HighsSolution()
        sol.col_value = vals.tolist()
        sol.value_valid = True
        h.setSolution(sol)
    except Exception:  # private API changed: solve without the start
        pass


def _given(options: dict, **settings) -> dict:
    """The options a solve handed the solver: ``options`` with the settings that are set."""
    out = {k: v for k, v in settings.items() if v is not None}
    out.update(options)
    return out


register(PyomoBackend())
