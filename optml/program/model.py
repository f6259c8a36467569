"""The :class:`Program`: a solver-neutral mathematical program built from named variable blocks."""

from __future__ import annotations

from typing import Any

import numpy as np

from optml.exceptions import ModelingError
from optml.program.atoms import NonlinearExpr
from optml.program.constraints import Constraint, ConvexConstraint, LinearConstraint
from optml.program.expr import Expression, Variable, as_expression


class Indicator:
    """``z == active  =>  constraint``, lowered to big-M rows from the variables' bounds."""

    def __init__(self, z: Expression, con: LinearConstraint, active: int, M=None, name=None):
        self.z, self.con, self.active, self.M, self.name = z, con, active, M, name

    def _bigm(self, e: Expression) -> np.ndarray:
        if self.M is not None:
            return np.broadcast_to(np.asarray(self.M, dtype=float), (e.size,))
        hi = e.const.copy()
        for v, a in e.terms.values():
            a = a.tocsr()
            pos, neg = a.maximum(0), a.minimum(0)
            with np.errstate(invalid="ignore"):
                hi = hi + _safe_mul(pos, v.ub) + _safe_mul(neg, v.lb)
        if not np.isfinite(hi).all():
            raise ModelingError(
                f"indicator {self.name or ''}: cannot derive big-M because a variable in the "
                f"constraint is unbounded; give finite lb/ub or pass M="
            )
        return np.maximum(hi, 0.0)

    def bigm_rows(self):
        e = self.con.expr.flatten()
        z = self.z.flatten() if self.z.size > 1 else self.z.reshape(1)
        off = (1 - z) if self.active else z  # 0 when the indicator is on
        out = []
        if self.con.sense in ("<=", "=="):
            out.append((e - self._bigm(e) * off, "<="))
        if self.con.sense in (">=", "=="):
            out.append((-e - self._bigm(-e) * off, "<="))
        return out

    def violation(self, point) -> float:
        zv = np.atleast_1d(self.z.value(point)).ravel()
        on = np.abs(zv - self.active) < 0.5
        v = np.atleast_1d(self.con.expr.value(point)).ravel()
        if self.con.sense == "<=":
            r = np.maximum(v, 0)
        elif self.con.sense == ">=":
            r = np.maximum(-v, 0)
        else:
            r = np.abs(v)
        r = np.broadcast_to(r, np.broadcast_shapes(r.shape, on.shape))
        return float(np.where(on, r, 0.0).max(initial=0.0))


def _safe_mul(a, bound):
    b = np.where(np.isfinite(bound), bound, 0.0)
    out = a @ b
    inf_cols = ~np.isfinite(bound)
    if inf_cols.any():
        touched = np.asarray(abs(a[:, inf_cols]).sum(axis=1)).ravel() > 0
        out = np.where(touched, np.inf, out)
    return out


class SOS1:
    """At most one nonzero among the entries of a variable (optionally a slice)."""

    def __init__(self, var: Variable, index=None, weights=None):
        self.var = var
        self.index = np.arange(var.size) if index is None else np.asarray(index).ravel()
        self.weights = (
            np.arange(1, self.index.size + 1, dtype=float)
            if weights is None
            else (np.asarray(weights, dtype=float))
        )

    def columns(self):
        return self.var, self.index, self.weights

    def violation(self, point) -> float:
        x = np.asarray(point[self.var.name], dtype=float).ravel()[self.index]
        a = np.sort(np.abs(x))[::-1]
        return float(a[1:].sum()) if a.size > 1 else 0.0


class Program:
    """A mathematical program over named variable blocks.

    Examples
    --------
    >>> import numpy as np, optml as om
    >>> p = om.Program("knapsack")
    >>> x = p.var("x", shape=3, domain="binary")
    >>> _ = p.add(np.array([4.0, 3.0, 2.0]) @ x <= 5, name="capacity")
    >>> p.maximize(np.array([5.0, 4.0, 3.0]) @ x)
    >>> p.problem_class
    'MILP'
    """

    def __init__(self, name: str = "program"):
        self.name = name
        self._canon_cache = None
        self.variables: dict[str, Variable] = {}
        # lists that tell the program when they change (remove a constraint, and the next
        # solve lowers the program again)
        self.constraints: list[Constraint] = _Tracked(self)
        self.indicators: list[Indicator] = _Tracked(self)
        self.sos1: list[SOS1] = _Tracked(self)
        self._objective: Expression | NonlinearExpr | None = None
        self._sense = "min"
        self.warm_start: dict[str, np.ndarray] = {}
        self.latex_names: dict[str, str] = {}
        #: what a formulation attaches for the estimator that unpacks the solution (handles of
        #: layers, class blocks, ...); not part of the mathematics
        self.metadata: dict[str, Any] = {}
        #: lazy constraint families (:meth:`add_lazy`)
        self.lazy: list = []

    # ------------------------------------------------------------- state that the lowering reads
    @property
    def objective(self):
        return self._objective

    @objective.setter
    def objective(self, expr) -> None:
        self._objective = expr
        self._touch()

    @property
    def sense(self) -> str:
        return self._sense

    @sense.setter
    def sense(self, value: str) -> None:
        if value not in ("min", "max"):
            raise ModelingError(f"sense must be 'min' or 'max', got {value!r}")
        self._sense = value
        self._touch()

    def remove(self, constraint) -> None:
        """Remove a constraint (or indicator, or SOS1 set); the next solve lowers anew."""
        for box in (self.constraints, self.indicators, self.sos1):
            for k, c in enumerate(box):
                if c is constraint:
                    del box[k]
                    return
        raise ModelingError(f"{constraint!r} is not a constraint of program {self.name!r}")

    # ---------------------------------------------------------------- building
    def var(
        self,
        name: str,
        shape=(),
        lb=None,
        ub=None,
        domain: str = "continuous",
        psd: bool = False,
        latex: str | None = None,
    ) -> Variable:
        """Add a block of variables. ``domain`` is "continuous", "binary" or "integer".

        ``psd=True`` makes a symmetric positive semidefinite ``(k, k)`` matrix variable.
        """
        if not isinstance(name, str) or not name:
            raise ModelingError(f"variable name must be a non-empty string, got {name!r}")
        if name in self.variables:
            raise ModelingError(f"variable {name!r} already exists in program {self.name!r}")
        v = Variable(name, shape, lb=lb, ub=ub, domain=domain)
        v._owner = self
        if psd:
            if len(v.shape) != 2 or v.shape[0] != v.shape[1]:
                raise ModelingError(f"psd variable {name!r} must be square, got shape {v.shape}")
            v.psd = True
        self.variables[name] = v
        if latex:
            self.latex_names[name] = latex
        self._touch()
        return v

    def add(self, constraint, name: str | None = None):
        """Add a constraint (or a list of them); returns it."""
        if isinstance(constraint, list | tuple):
            return [
                self.add(c, name=None if name is None else f"{name}[{i}]")
                for i, c in enumerate(constraint)
            ]
        if isinstance(constraint, bool | np.bool_):
            raise ModelingError(
                "got a plain boolean instead of a constraint: compare an optml expression, "
                "not two numbers (is a variable missing?)"
            )
        if not isinstance(constraint, LinearConstraint | ConvexConstraint):
            raise TypeError(
                f"add() takes a constraint built with <=, >= or == on expressions, got "
                f"{type(constraint).__name__}"
            )
        taken = {c.name for c in self.constraints}
        if name is not None:
            if name in taken:
                raise ModelingError(
                    f"program {self.name!r} already has a constraint named {name!r}; give "
                    "each constraint its own name (duals and exports are keyed by name)"
                )
            constraint.name = name
        elif constraint.name is None or constraint.name in taken:
            k = len(self.constraints)
            while f"c{k}" in taken:
                k += 1
            constraint.name = f"c{k}"
        self._check_owned(constraint)
        self.constraints.append(constraint)
        self._touch()
        return constraint

    def add_lazy(self, separator, name: str | None = None):
        """Add a lazy constraint family: ``separator(values) -> list of constraints``.

        ``values`` maps variable names to arrays (a candidate point); the separator returns
        linear constraints of this program's variables that the point violates, or an empty
        list when it satisfies the whole family. The solve path enforces the family by solver
        callbacks where the solver has them and by a re-solve loop elsewhere; the reported
        bound is valid for the full problem and the final point is checked by the separator
        (:mod:`optml.program.lazy`). Returns the :class:`~optml.program.lazy.LazyFamily`.
        """
        from optml.program.lazy import LazyFamily

        if not callable(separator):
            raise TypeError(
                f"add_lazy takes a function values -> list of constraints, got "
                f"{type(separator).__name__}"
            )
        fam = LazyFamily(separator, name or f"lazy{len(self.lazy)}")
        self.lazy.append(fam)
        return fam

    def add_indicator(self, z, constraint: LinearConstraint, active: int = 1, M=None, name=None):
        """``z == active`` implies ``constraint`` (big-M from variable bounds, or ``M=``).

        ``z`` is a binary expression (one entry, or one per row of the constraint).
        """
        z = as_expression(z)
        if not isinstance(constraint, LinearConstraint):
            raise TypeError("add_indicator takes a linear constraint")
        for v in z.variables:
            if v.domain != "binary":
                raise ModelingError(f"indicator variable {v.name!r} must be binary")
        if z.size not in (1, constraint.expr.size):
            raise ModelingError(
                f"indicator has {z.size} entries, constraint has {constraint.expr.size}"
            )
        ind = Indicator(z, constraint, int(active), M, name or f"ind{len(self.indicators)}")
        self.indicators.append(ind)
        self._touch()
        return ind

    def add_sos1(self, var: Variable, index=None, weights=None) -> SOS1:
        """At most one entry of ``var`` (or of ``var`` at ``index``) is nonzero."""
        if not isinstance(var, Variable) or var.name not in self.variables:
            raise ModelingError("add_sos1 takes a variable of this program")
        s = SOS1(var, index, weights)
        self.sos1.append(s)
        self._touch()
        return s

    def minimize(self, expr) -> None:
        self._set_objective(expr, "min")

    def maximize(self, expr) -> None:
        self._set_objective(expr, "max")

    def _set_objective(self, expr, sense):
        if not isinstance(expr, NonlinearExpr):
            e = as_expression(expr)
            if e is NotImplemented:
                raise TypeError(f"objective must be an expression, got {type(expr).__name__}")
            expr = e
        if expr.size != 1:
            raise ModelingError(
                f"objective must be scalar, got shape {expr.shape}; wrap it in om.sum(...)"
            )
        self._check_vars(
            [expr]
            if not isinstance(expr, NonlinearExpr)
            else [expr.affine] + [a.arg for a, _ in expr.terms],
            "objective",
        )
        self._objective = expr
        self.sense = sense

    def set_warm_start(self, values: dict[str, Any]) -> None:
        """Give default starting values (variable name -> array) for later solves.

        Values given to :meth:`solve` (``warm_start=``) take precedence for that solve. Starting
        values are never part of the lowered program: they travel with each solve.
        """
        self.warm_start.update(self.check_start(values))

    def check_start(self, values: dict[str, Any] | None) -> dict[str, np.ndarray]:
        """Starting values checked against the variables: known names, right sizes, no NaN."""
        out = {}
        for k, v in (values or {}).items():
            if k not in self.variables:
                raise ModelingError(
                    f"warm start for unknown variable {k!r}; variables: {sorted(self.variables)}"
                )
            var = self.variables[k]
            a = np.asarray(v, dtype=float)
            if a.size != var.size:
                raise ValueError(
                    f"warm start for {k!r} has {a.size} entries (shape {a.shape}), but the "
                    f"variable has shape {var.shape}; give one value per entry"
                )
            out[k] = a.reshape(var.shape)
        return out

    def start_vector(self, canon, values: dict[str, Any] | None = None):
        """The column vector of starting values for ``canon`` (NaN where none), or None.

        Merges the program's default starting values (:meth:`set_warm_start`) with
        ``values`` given for one solve.
        """
        merged = dict(self.warm_start)
        merged.update(self.check_start(values))
        if not merged:
            return None
        x0 = np.full(canon.n, np.nan)
        for k, val in merged.items():
            s, sh = canon.blocks[k]
            x0[s : s + int(np.prod(sh))] = np.asarray(val, dtype=float).ravel()
        return x0

    def fix(self, var: Variable, value) -> LinearConstraint:
        """Fix a variable (or slice) to a value by an equality constraint."""
        return self.add(var == value, name=f"fix_{getattr(var, 'name', 'expr')}")

    def _touch(self):
        self._canon_cache = None

    def _check_vars(self, exprs, where: str) -> None:
        for e in exprs:
            for v in e.variables:
                if self.variables.get(v.name) is not v:
                    raise ModelingError(
                        f"the {where} uses variable {v.name!r}, which belongs to another "
                        f"Program; create variables with this program's var()"
                    )

    def _check_owned(self, con):
        exprs = (
            [con.expr]
            if isinstance(con, LinearConstraint)
            else [con.f.affine] + [a.arg for a, _ in con.f.terms]
        )
        for e in exprs:
            for v in e.variables:
                if self.variables.get(v.name) is not v:
                    raise ModelingError(
                        f"variable {v.name!r} does not belong to program {self.name!r}"
                    )

    # ---------------------------------------------------------------- analysis
    def canonical(self, quad: str = "auto"):
        """The lowered :class:`~optml.program.canonical.CanonicalForm` (cached)."""
        from optml.program.canonical import lower

        key = quad
        if self._canon_cache is None or self._canon_cache[0] != key:
            canon = lower(self, quad=quad)
            self._canon_cache = (key, canon)
        return self._canon_cache[1]

    @property
    def problem_class(self) -> str:
        """LP, QP, SOCP, EXP, SDP, or MI + one of them: derived from the lowered form."""
        return self.canonical().problem_class

    @property
    def num_variables(self) -> int:
        return sum(v.size for v in self.variables.values())

    def evaluate(self, point: dict[str, Any]) -> tuple[float, float]:
        """``(objective, largest violation)`` at ``point``, with numpy alone.

        The violation covers constraints, indicators, SOS1 sets, bounds and integrality.
        """
        missing = [k for k in self.variables if k not in point]
        if missing:
            raise ValueError(f"point has no value for variables {missing}")
        obj = 0.0 if self.objective is None else float(np.asarray(self.objective.value(point)))
        viol = 0.0
        for c in self.constraints:
            viol = max(viol, c.violation(point))
        for ind in self.indicators:
            viol = max(viol, ind.violation(point))
        for s in self.sos1:
            viol = max(viol, s.violation(point))
        for fam in self.lazy:  # the separators check the families they stand for
            viol = max(viol, fam.violation(self, point))
        for name, v in self.variables.items():
            x = np.asarray(point[name], dtype=float).ravel()
            if x.size != v.size:
                raise ValueError(f"value of {name!r} has {x.size} entries, expected {v.size}")
            viol = max(viol, float(np.maximum(v.lb - x, 0).max(initial=0)))
            viol = max(viol, float(np.maximum(x - v.ub, 0).max(initial=0)))
            if v.is_integer:
                viol = max(viol, float(np.abs(x - np.round(x)).max(initial=0)))
            if getattr(v, "psd", False):
                M = x.reshape(v.shape)
                viol = max(viol, float(np.abs(M - M.T).max(initial=0)))
                viol = max(viol, float(max(0.0, -np.linalg.eigvalsh((M + M.T) / 2).min())))
        return obj, viol

    # ----------------------------------------------------------------- solving
    def solve(
        self,
        backend: str = "auto",
        solver: str | None = None,
        time_limit: float | None = None,
        mip_gap: float | None = None,
        verbose: bool = False,
        warm_start: dict[str, Any] | None = None,
        **solver_options,
    ):
        """Solve with the chosen backend / solver and check the answer with numpy.

        A convenience for :func:`optml.solve.solve` with
        :class:`~optml.program.settings.SolveSettings` built from these arguments (``threads``
        and ``seed`` in ``solver_options`` are settings; every other key is a raw option of the
        solver). Returns a :class:`~optml.program.result.Result`; an infeasible or
        time-limited solve is a status, not an exception. An unknown, uninstalled or
        unsuitable solver raises :class:`~optml.exceptions.SolverNotAvailableError` before
        any work.
        """
        from optml.program.settings import SolveSettings
        from optml.solve import solve

        settings = SolveSettings.from_params(
            time_limit=time_limit,
            mip_gap=mip_gap,
            verbose=verbose,
            solver_options=solver_options,
            warm_start=warm_start,
        )
        return solve(self, backend=backend, solver=solver, settings=settings)

    # ----------------------------------------------------------------- display
    def summary(self) -> str:
        from optml.program.display import summary

        return summary(self)

    def to_latex(self) -> str:
        from optml.program.display import to_latex

        return to_latex(self)

    def write(self, path: str) -> dict:
        """Write the lowered program as ``.mps`` or ``.lp`` (chosen by the extension).

        Returns the map from the names in the file to the program's names (names are made
        readable by every tool: see :func:`optml.program.io.name_map`)."""
        from optml.program.io import write

        return write(self, path)

    def __repr__(self) -> str:
        return (
            f"Program({self.name!r}, {len(self.variables)} variable blocks, "
            f"{len(self.constraints)} constraints)"
        )

    # ----------------------------------------------------------------- notebooks
    def _repr_html_(self) -> str:
        """A notebook shows the program's blocks and its LaTeX (optml.program.display)."""
        from optml.program.display import program_html

        return program_html(self)

    def _repr_latex_(self) -> str:
        from optml.program.display import program_latex

        return program_latex(self)


class _Tracked(list):
    """A list that marks its program's lowering stale when it changes."""

    def __init__(self, owner, items=()):
        super().__init__(items)
        self._owner = owner

    def __reduce_ex__(self, protocol):
        return (_Tracked, (self._owner, list(self)))

    def _wrap(name):
        def method(self, *args, **kwargs):
            out = getattr(list, name)(self, *args, **kwargs)
            self._owner._touch()
            return out

        method.__name__ = name
        return method

    for _name in (
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "clear",
        "sort",
        "reverse",
        "__setitem__",
        "__delitem__",
        "__iadd__",
        "__imul__",
    ):
        locals()[_name] = _wrap(_name)
    del _name, _wrap
