"""Array-based affine expressions over named variable blocks.

An :class:`Expression` of shape ``s`` stands for ``sum_v A_v @ vec(v) + c`` where each ``A_v`` is a
sparse matrix with ``prod(s)`` rows and ``v.size`` columns, and ``vec`` flattens in C order. No
Python object is made per scalar: every operation is a sparse-matrix operation.
"""

from __future__ import annotations

import builtins
import itertools
import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from optml.exceptions import ModelingError

_DOMAINS = ("continuous", "binary", "integer")
_var_ids = itertools.count()


def _size(shape: tuple[int, ...]) -> int:
    return int(math.prod(shape))


def _shape_str(shape: tuple[int, ...]) -> str:
    return "scalar ()" if shape == () else str(shape)


def _broadcast_rows(shape: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray:
    """Row index map that broadcasts an array of ``shape`` to ``out`` (C order)."""
    idx = np.arange(_size(shape)).reshape(shape)
    return np.broadcast_to(idx, out).ravel()


#: numpy ufunc -> (operator with the expression on the left, operator with it on the right)
_UFUNC_OPERATORS = {
    "add": ("__add__", "__radd__"),
    "subtract": ("__sub__", "__rsub__"),
    "multiply": ("__mul__", "__rmul__"),
    "matmul": ("__matmul__", "__rmatmul__"),
    "divide": ("__truediv__", None),
    "true_divide": ("__truediv__", None),
    "less_equal": ("__le__", "__ge__"),
    "greater_equal": ("__ge__", "__le__"),
    "equal": ("__eq__", "__eq__"),
}


def _ufunc_message(name: str) -> str:
    hint = {
        "absolute": "use om.abs(x) (elementwise) or om.norm1(x)",
        "fabs": "use om.abs(x)",
        "square": "use om.sum_squares(x) or om.quad_form(x, P)",
        "power": "use om.sum_squares(x) or om.quad_form(x, P)",
        "maximum": "use om.pos(x) for max(x, 0)",
        "less": "strict inequalities are not supported: use <=",
        "greater": "strict inequalities are not supported: use >=",
        "sqrt": "use om.norm2(x) for a Euclidean norm",
        "exp": "use om.logistic for log(1 + exp(x))",
        "log": "use om.logistic for log(1 + exp(x))",
    }.get(
        name,
        "write it with optml's atoms (om.abs, om.pos, om.norm1, om.norm2, om.sum_squares, "
        "om.quad_form, om.huber, om.logistic)",
    )
    return f"numpy's {name} cannot take an optml expression; {hint}"


class Expression:
    """An affine expression: a block-sparse linear map of variables plus a constant array.

    Built by operators (``+ - * @``, indexing, ``sum``) on variables and numpy arrays.
    Comparisons with ``<=``, ``>=`` and ``==`` give constraints.
    """

    __array_priority__ = 100

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """numpy's operators on an array and an expression are the expression's own (e.g.
        ``A @ x``, ``c * x``, ``b <= A @ x``); any other numpy function gets a clear error."""
        ops = _UFUNC_OPERATORS.get(ufunc.__name__)
        if method == "__call__" and ops is not None and len(inputs) == 2 and not kwargs:
            a, b = inputs
            if a is self:
                out = getattr(self, ops[0])(b)
            elif ops[1] is not None:
                out = getattr(self, ops[1])(a)
            else:
                out = NotImplemented
            if out is not NotImplemented:
                return out
        raise TypeError(_ufunc_message(ufunc.__name__))

    def __init__(self, shape, terms: dict | None = None, const=None):
        self.shape = tuple(int(s) for s in shape)
        m = _size(self.shape)
        # terms: var id -> (Variable, csr matrix m x var.size)
        self.terms: dict[int, tuple[Variable, sp.csr_matrix]] = terms or {}
        if const is None:
            const = np.zeros(m)
        self.const = (
            np.broadcast_to(np.asarray(const, dtype=float), (m,)).copy()
            if np.ndim(const) == 0
            else np.asarray(const, dtype=float).reshape(m)
        )

    # ------------------------------------------------------------------ basics
    @property
    def size(self) -> int:
        return _size(self.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    # no __len__: numpy and scipy.sparse must see an expression as one object, not a sequence,
    # so that ``sparse_matrix @ expr`` reaches our __rmatmul__.

    @property
    def variables(self) -> list[Variable]:
        return [v for v, _ in self.terms.values()]

    def is_constant(self) -> bool:
        return all(a.nnz == 0 for _, a in self.terms.values())

    def value(self, point: dict[str, Any]) -> np.ndarray:
        """Evaluate with numpy at ``point`` (variable name -> array)."""
        out = self.const.copy()
        for v, a in self.terms.values():
            if v.name not in point:
                raise KeyError(f"no value for variable {v.name!r} in the point")
            x = np.asarray(point[v.name], dtype=float).reshape(-1)
            if x.size != v.size:
                raise ValueError(
                    f"value of {v.name!r} has {x.size} entries, expected {v.size} (shape {v.shape})"
                )
            out = out + a @ x
        return out.reshape(self.shape) if self.shape else out[0]

    def __repr__(self) -> str:
        names = ", ".join(v.name for v in self.variables) or "constant"
        return f"Expression(shape={self.shape}, vars=[{names}])"

    # ---------------------------------------------------------- row operations
    def _rows(self, rows: np.ndarray, shape) -> Expression:
        terms = {k: (v, a[rows]) for k, (v, a) in self.terms.items()}
        return Expression(shape, terms, self.const[rows])

    def _left(self, M, shape) -> Expression:
        """Apply a (sparse) linear operator M on the flattened rows."""
        M = sp.csr_matrix(M)
        terms = {k: (v, (M @ a).tocsr()) for k, (v, a) in self.terms.items()}
        return Expression(shape, terms, M @ self.const)

    def broadcast_to(self, shape) -> Expression:
        shape = tuple(shape)
        if shape == self.shape:
            return self
        try:
            np.broadcast_shapes(self.shape, shape)
        except ValueError:
            raise ModelingError(
                f"cannot broadcast expression of shape {_shape_str(self.shape)} to "
                f"{_shape_str(shape)}"
            ) from None
        return self._rows(_broadcast_rows(self.shape, shape), shape)

    def __getitem__(self, key) -> Expression:
        idx = np.arange(self.size).reshape(self.shape)[key]
        return self._rows(np.asarray(idx).ravel(), np.shape(idx))

    def reshape(self, *shape) -> Expression:
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        new = np.empty(self.shape).reshape(shape).shape
        return Expression(new, dict(self.terms), self.const)

    def flatten(self) -> Expression:
        return self.reshape(self.size)

    @property
    def T(self) -> Expression:
        if self.ndim < 2:
            return self
        idx = np.arange(self.size).reshape(self.shape).T
        return self._rows(idx.ravel(), idx.shape)

    def sum(self, axis: int | None = None) -> Expression:
        if axis is None:
            return self._left(sp.csr_matrix(np.ones((1, self.size))), ())
        if self.ndim != 2 or axis not in (0, 1, -1):
            raise ModelingError(f"sum(axis={axis}) supports 2-D expressions, got {self.shape}")
        r, c = self.shape
        if axis == 0:
            M = sp.kron(sp.csr_matrix(np.ones((1, r))), sp.identity(c))
            return self._left(M, (c,))
        M = sp.kron(sp.identity(r), sp.csr_matrix(np.ones((1, c))))
        return self._left(M, (r,))

    # ------------------------------------------------------------- arithmetic
    def __add__(self, other) -> Expression:
        other = as_expression(other)
        if other is NotImplemented:
            return NotImplemented
        try:
            shape = np.broadcast_shapes(self.shape, other.shape)
        except ValueError:
            raise ModelingError(
                f"shapes do not match in '+': {_shape_str(self.shape)} and "
                f"{_shape_str(other.shape)}"
            ) from None
        a, b = self.broadcast_to(shape), other.broadcast_to(shape)
        terms = dict(a.terms)
        for k, (v, m) in b.terms.items():
            terms[k] = (v, (terms[k][1] + m).tocsr()) if k in terms else (v, m)
        return Expression(shape, terms, a.const + b.const)

    __radd__ = __add__

    def __neg__(self) -> Expression:
        return Expression(self.shape, {k: (v, -a) for k, (v, a) in self.terms.items()}, -self.const)

    def __sub__(self, other) -> Expression:
        other = as_expression(other)
        if other is NotImplemented:
            return NotImplemented
        return self + (-other)

    def __rsub__(self, other) -> Expression:
        return (-self) + other

    def __mul__(self, other) -> Expression:
        if isinstance(other, Expression):
            if other.is_constant():
                other = other.const.reshape(other.shape)
            elif self.is_constant():
                return other * self.const.reshape(self.shape)
            else:
                raise ModelingError(
                    "product of two variable expressions is not affine: write a convex "
                    "quadratic with om.sum_squares(x) or om.quad_form(x, P), or model the "
                    "product with auxiliary variables and constraints"
                )
        if not _is_numeric(other):
            return NotImplemented
        c = np.asarray(other, dtype=float)
        try:
            shape = np.broadcast_shapes(self.shape, c.shape)
        except ValueError:
            raise ModelingError(
                f"shapes do not match in '*': {_shape_str(self.shape)} and {_shape_str(c.shape)}"
            ) from None
        e = self.broadcast_to(shape)
        w = np.broadcast_to(c, shape).ravel()
        D = sp.diags(w)
        return Expression(
            shape, {k: (v, (D @ a).tocsr()) for k, (v, a) in e.terms.items()}, w * e.const
        )

    __rmul__ = __mul__

    def __pow__(self, other):
        raise TypeError(
            "powers of an optml expression are not affine: use om.sum_squares(x) or "
            "om.quad_form(x, P) for convex quadratics"
        )

    def __abs__(self):
        raise TypeError("abs() of an optml expression: use om.abs(x) (elementwise) or om.norm1(x)")

    def __lt__(self, other):
        raise TypeError("strict inequalities (<) are not supported in optml: use <=")

    def __gt__(self, other):
        raise TypeError("strict inequalities (>) are not supported in optml: use >=")

    def __truediv__(self, other) -> Expression:
        if not _is_numeric(other):
            return NotImplemented
        return self * (1.0 / np.asarray(other, dtype=float))

    def __matmul__(self, other) -> Expression:
        if isinstance(other, Expression):
            if other.is_constant():
                other = other.const.reshape(other.shape)
            else:
                raise ModelingError("matmul of two variable expressions is not affine")
        if not (_is_numeric(other) or sp.issparse(other)):
            return NotImplemented
        B = other if sp.issparse(other) else np.asarray(other, dtype=float)
        if self.ndim == 0 or B.ndim == 0:
            raise ModelingError("matmul with a scalar: use '*'")
        k = self.shape[-1]
        if B.shape[0] != k:
            raise ModelingError(
                f"matmul shapes do not align: expression {self.shape} @ array {B.shape} "
                f"({k} != {B.shape[0]})"
            )
        Bs = sp.csr_matrix(B.reshape(-1, 1) if B.ndim == 1 else B)
        if self.ndim == 1:  # (k,) @ (k, c) -> (c,)
            shape = () if B.ndim == 1 else (B.shape[1],)
            return self._left(Bs.T, shape)
        r = self.shape[0]  # (r, k) @ (k, c) -> (r, c)
        M = sp.kron(sp.identity(r), Bs.T)
        shape = (r,) if B.ndim == 1 else (r, B.shape[1])
        return self._left(M, shape)

    def __rmatmul__(self, other) -> Expression:
        if not (_is_numeric(other) or sp.issparse(other)):
            return NotImplemented
        A = other if sp.issparse(other) else np.asarray(other, dtype=float)
        if self.ndim == 0 or A.ndim == 0:
            raise ModelingError("matmul with a scalar: use '*'")
        k = self.shape[0]
        if A.shape[-1] != k:
            raise ModelingError(
                f"matmul shapes do not align: array {A.shape} @ expression {self.shape} "
                f"({A.shape[-1]} != {k})"
            )
        As = sp.csr_matrix(A.reshape(1, -1) if A.ndim == 1 else A)
        if self.ndim == 1:  # (m, k) @ (k,) -> (m,)
            return self._left(As, () if A.ndim == 1 else (A.shape[0],))
        c = self.shape[1]  # (m, k) @ (k, c) -> (m, c)
        M = sp.kron(As, sp.identity(c))
        return self._left(M, (c,) if A.ndim == 1 else (A.shape[0], c))

    # ------------------------------------------------------------ constraints
    def __le__(self, other):
        from optml.program.constraints import make_constraint

        return make_constraint(self, "<=", other)

    def __ge__(self, other):
        from optml.program.constraints import make_constraint

        return make_constraint(self, ">=", other)

    def __eq__(self, other):  # type: ignore[override]
        from optml.program.constraints import make_constraint

        return make_constraint(self, "==", other)

    __hash__ = object.__hash__


class Variable(Expression):
    """A named block of decision variables with a shape, bounds and a domain.

    Create through :meth:`optml.Program.var`.
    """

    def __init__(self, name: str, shape=(), lb=None, ub=None, domain: str = "continuous"):
        if domain not in _DOMAINS:
            raise ModelingError(f"domain must be one of {_DOMAINS}, got {domain!r}")
        shape = (int(shape),) if np.ndim(shape) == 0 and shape != () else tuple(shape)
        if any(s < 0 for s in shape):
            raise ModelingError(f"variable {name!r}: negative dimension in shape {shape}")
        self.name = name
        self.domain = domain
        self.id = next(_var_ids)
        self._owner = None  # the Program, told when a bound changes (its lowering is stale)
        m = _size(shape)
        self.shape = shape
        if domain == "binary":
            lb = 0.0 if lb is None else lb
            ub = 1.0 if ub is None else ub
        self._lb = _bound_array(lb, shape, -np.inf, name, "lb")
        self._ub = _bound_array(ub, shape, np.inf, name, "ub")
        self._check_bounds(self._lb, self._ub)
        super().__init__(shape, {self.id: (self, sp.identity(m, format="csr"))}, np.zeros(m))

    def _check_bounds(self, lb, ub) -> None:
        bad = np.flatnonzero(lb > ub)
        if bad.size:
            i = bad[0]
            raise ModelingError(
                f"variable {self.name!r}: lower bound {lb[i]} > upper bound {ub[i]} at "
                f"flat index {i}; pass lb <= ub"
            )
        if self.domain == "binary" and ((lb < 0) | (ub > 1)).any():
            raise ModelingError(
                f"variable {self.name!r} is binary, so its bounds must lie in [0, 1]; got lb "
                f"down to {lb.min():g} and ub up to {ub.max():g}. Use domain='integer' for "
                "other integer ranges"
            )
        for b in (lb, ub):
            b.flags.writeable = False  # change bounds by assignment, so the program knows

    @property
    def lb(self) -> np.ndarray:
        """Lower bounds (flat, read-only; assign ``x.lb = ...`` to change them)."""
        return self._lb

    @lb.setter
    def lb(self, value) -> None:
        new = _bound_array(value, self.shape, -np.inf, self.name, "lb")
        self._check_bounds(new, self._ub)
        self._lb = new
        self._changed()

    @property
    def ub(self) -> np.ndarray:
        """Upper bounds (flat, read-only; assign ``x.ub = ...`` to change them)."""
        return self._ub

    @ub.setter
    def ub(self, value) -> None:
        new = _bound_array(value, self.shape, np.inf, self.name, "ub")
        self._check_bounds(self._lb, new)
        self._ub = new
        self._changed()

    def _changed(self) -> None:
        owner = self._owner
        if owner is not None:
            owner._touch()

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_lb"], state["_ub"] = np.array(self._lb), np.array(self._ub)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        for b in (self._lb, self._ub):
            b.flags.writeable = False

    @property
    def is_integer(self) -> bool:
        return self.domain != "continuous"

    def __repr__(self) -> str:
        return f"Variable({self.name!r}, shape={self.shape}, domain={self.domain!r})"

    __hash__ = object.__hash__


def _bound_array(b, shape, default, name, which) -> np.ndarray:
    m = _size(shape)
    if b is None:
        return np.full(m, default)
    arr = np.asarray(b, dtype=float)
    if np.isnan(arr).any():
        raise ModelingError(f"variable {name!r}: {which} contains NaN")
    try:
        return np.broadcast_to(arr, shape).reshape(m).copy()
    except ValueError:
        raise ModelingError(
            f"variable {name!r}: {which} of shape {arr.shape} does not fit shape {shape}"
        ) from None


def _is_numeric(x) -> bool:
    if isinstance(x, bool | int | float | np.number):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "biuf"
    if isinstance(x, list | tuple):
        try:
            return np.asarray(x).dtype.kind in "biuf"
        except Exception:
            return False
    return False


def as_expression(x) -> Expression:
    """Turn a number, array or expression into an :class:`Expression` (NotImplemented if not)."""
    if isinstance(x, Expression):
        return x
    if sp.issparse(x):
        x = x.toarray()
    if _is_numeric(x):
        arr = np.asarray(x, dtype=float)
        if not np.isfinite(arr).all():
            raise ModelingError("constant contains NaN or inf; pass finite numbers")
        return Expression(arr.shape, {}, arr.ravel())
    return NotImplemented


def sum(expr, axis: int | None = None):  # noqa: A001 - mirrors numpy / cvxpy naming
    """Sum of the entries of an expression (or along an axis of a 2-D one)."""
    if isinstance(expr, Expression) or hasattr(expr, "sum"):
        if not isinstance(expr, np.ndarray):
            return expr.sum() if axis is None else expr.sum(axis=axis)
    if isinstance(expr, list | tuple):
        out = 0
        for e in expr:
            out = out + e
        return out
    return builtins.sum(np.asarray(expr).ravel())


def hstack(exprs) -> Expression:
    """Concatenate 1-D expressions (or numbers) into one vector."""
    parts = [as_expression(e).flatten() for e in exprs]
    n = builtins.sum(p.size for p in parts)
    out = Expression((n,))
    start = 0
    for p in parts:
        P = sp.csr_matrix(
            (np.ones(p.size), (np.arange(start, start + p.size), np.arange(p.size))),
            shape=(n, p.size),
        )
        out = out + p._left(P, (n,))
        start += p.size
    return out


def vstack(exprs) -> Expression:
    """Stack expressions of equal shape (s,) or (r, s) row-wise."""
    parts = [as_expression(e) for e in exprs]
    parts = [p.reshape(1, p.size) if p.ndim <= 1 else p for p in parts]
    cols = {p.shape[1] for p in parts}
    if len(cols) != 1:
        raise ModelingError(f"vstack needs equal column counts, got {sorted(cols)}")
    c = cols.pop()
    r = builtins.sum(p.shape[0] for p in parts)
    return hstack([p.flatten() for p in parts]).reshape(r, c)
