"""The closed catalogue of convex atoms, and non-linear expressions built from them.

Each atom knows its numpy evaluator and its LaTeX; :mod:`optml.program.canonical` knows how to
lower it to linear rows, a quadratic objective, or cones. A :class:`NonlinearExpr` is
``affine + sum_i W_i @ atom_i`` with sparse weight matrices ``W_i``; it is convex when every
``W_i >= 0`` and concave when every ``W_i <= 0``.

Atoms compose by the disciplined convex programming (DCP) rules that cvxpy uses: an atom's
argument is affine, or a convex :class:`NonlinearExpr` when the atom is nondecreasing
(``pos``, ``logistic``, ``max``/``maximum``), or a convex expression known to be nonnegative
when the atom is nondecreasing on the nonnegative orthant (``abs``, the norms, ``sum_squares``,
``huber``). Anything else raises a :class:`~optml.exceptions.ModelingError` naming the rule.
The lowering replaces a nested argument by the affine epigraph of its atoms (``t >= f``),
which is exact because the outer atom is monotone there.
"""

from __future__ import annotations

import builtins

import numpy as np
import scipy.sparse as sp

from optml.exceptions import ModelingError
from optml.program.expr import Expression, _is_numeric, _shape_str, _size, as_expression

# kind -> (elementwise?, quadratic?)
ATOMS = {
    "sum_squares": (False, True),
    "quad_form": (False, True),
    "norm1": (False, False),
    "norm2": (False, False),
    "norm_inf": (False, False),
    "abs": (True, False),
    "pos": (True, False),
    "huber": (True, True),
    "logistic": (True, False),
    "max": (False, False),  # max over k stacked candidates, for each of m entries
}

#: atoms nondecreasing in their argument: they accept a convex argument
INCREASING = frozenset({"pos", "logistic", "max"})
#: atoms nondecreasing where their argument is nonnegative: they accept a convex nonnegative one
INCREASING_ON_NONNEG = frozenset(
    {"abs", "norm1", "norm2", "norm_inf", "sum_squares", "huber", "quad_form_nonneg"}
)


class Atom:
    """One convex function applied to an affine argument."""

    def __init__(self, kind: str, arg: Expression | NonlinearExpr, **params):
        self.kind = kind
        self.arg = arg  # affine, or (composition) a convex NonlinearExpr the DCP rules allow
        self.params = params
        self.elementwise = ATOMS[kind][0]
        self.shape = arg.shape if self.elementwise else tuple(params.get("shape", ()))

    @property
    def nested(self) -> bool:
        """True when the argument is itself a non-linear (convex) expression."""
        return isinstance(self.arg, NonlinearExpr)

    @property
    def nonneg(self) -> bool:
        """True when every value of the atom is >= 0 (all but ``max`` of a signed argument)."""
        if self.kind != "max":
            return True
        return isinstance(self.arg, NonlinearExpr) and self.arg.is_nonneg()

    @property
    def variables(self) -> list:
        return self.arg.variables

    @property
    def size(self) -> int:
        return _size(self.shape)

    def numpy(self, point) -> np.ndarray:
        """Values of the atom (flattened) at a point."""
        v = np.atleast_1d(np.asarray(self.arg.value(point), dtype=float)).ravel()
        k = self.kind
        if k == "sum_squares":
            return np.array([v @ v])
        if k == "quad_form":
            return np.array([v @ (self.params["P"] @ v)])
        if k == "norm1":
            return np.array([np.abs(v).sum()])
        if k == "norm2":
            return np.array([np.linalg.norm(v)])
        if k == "norm_inf":
            return np.array([np.abs(v).max() if v.size else 0.0])
        if k == "abs":
            return np.abs(v)
        if k == "pos":
            return np.maximum(v, 0.0)
        if k == "huber":
            M = self.params["M"]
            a = np.abs(v)
            return np.where(a <= M, v**2, 2 * M * a - M**2)
        if k == "logistic":
            return np.logaddexp(0.0, v)
        if k == "max":
            return v.reshape(self.params["k"], -1).max(axis=0)
        raise AssertionError(k)

    def latex(self, arg_tex: str) -> str:
        k = self.kind
        return {
            "sum_squares": rf"\left\| {arg_tex} \right\|_2^2",
            "quad_form": rf"\left({arg_tex}\right)^\top P \left({arg_tex}\right)",
            "norm1": rf"\left\| {arg_tex} \right\|_1",
            "norm2": rf"\left\| {arg_tex} \right\|_2",
            "norm_inf": rf"\left\| {arg_tex} \right\|_\infty",
            "abs": rf"\left| {arg_tex} \right|",
            "pos": rf"\left( {arg_tex} \right)_+",
            "huber": rf"\phi_{{M}}\left( {arg_tex} \right)",
            "logistic": rf"\log\left(1 + e^{{{arg_tex}}}\right)",
            "max": rf"\max\left( {arg_tex} \right)",
        }[k]


class NonlinearExpr:
    """``affine + sum_i W_i @ atom_i``: an array of convex (or concave) functions."""

    __array_ufunc__ = None
    __array_priority__ = 200

    def __init__(self, shape, affine: Expression | None, terms: list[tuple[Atom, sp.csr_matrix]]):
        self.shape = tuple(shape)
        self.affine = affine if affine is not None else as_expression(np.zeros(self.shape))
        self.terms = terms

    @property
    def size(self) -> int:
        return _size(self.shape)

    @property
    def curvature(self) -> str:
        signs = set()
        for _, W in self.terms:
            if W.nnz:
                if W.data.min() < 0:
                    signs.add("concave")
                if W.data.max() > 0:
                    signs.add("convex")
        if not signs:
            return "affine"
        return signs.pop() if len(signs) == 1 else "unknown"

    def is_quadratic(self) -> bool:
        return all(ATOMS[a.kind][1] and not a.nested for a, _ in self.terms)

    def is_nonneg(self) -> bool:
        """True when the expression is known to be >= 0 everywhere (sign analysis, as cvxpy):
        a nonnegative constant plus nonnegative weights of nonnegative atoms."""
        aff = self.affine
        if not aff.is_constant() or (aff.const < 0).any():
            return False
        return all(W.nnz == 0 or (W.data >= 0).all() for _, W in self.terms) and all(
            a.nonneg for a, W in self.terms if W.nnz
        )

    @property
    def variables(self) -> list:
        """The variables the expression uses, nested atoms' arguments included."""
        seen: dict[int, object] = {v.id: v for v in self.affine.variables}
        for a, _ in self.terms:
            for v in a.variables:
                seen.setdefault(v.id, v)
        return list(seen.values())

    def value(self, point):
        out = np.asarray(self.affine.value(point), dtype=float).ravel().copy()
        for a, W in self.terms:
            out = out + W @ a.numpy(point)
        return out.reshape(self.shape) if self.shape else out[0]

    def __repr__(self) -> str:
        kinds = ", ".join(a.kind for a, _ in self.terms)
        return f"NonlinearExpr(shape={self.shape}, atoms=[{kinds}], {self.curvature})"

    # ---------------------------------------------------------------- algebra
    def _apply(self, M, shape) -> NonlinearExpr:
        M = sp.csr_matrix(M)
        return NonlinearExpr(
            shape, self.affine._left(M, shape), [(a, (M @ W).tocsr()) for a, W in self.terms]
        )

    def flatten(self) -> NonlinearExpr:
        return self.reshape(self.size)

    def reshape(self, *shape) -> NonlinearExpr:
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        new = np.empty(self.shape).reshape(shape).shape
        return NonlinearExpr(new, self.affine.reshape(new), [(a, W) for a, W in self.terms])

    def sum(self, axis=None) -> NonlinearExpr:
        if axis is not None:
            raise ModelingError("sum(axis=...) of a non-linear expression is not supported")
        return self._apply(np.ones((1, self.size)), ())

    def __getitem__(self, key) -> NonlinearExpr:
        idx = np.asarray(np.arange(self.size).reshape(self.shape)[key])
        rows = idx.ravel()
        M = sp.csr_matrix(
            (np.ones(rows.size), (np.arange(rows.size), rows)), (rows.size, self.size)
        )
        return self._apply(M, idx.shape)

    def __add__(self, other):
        if isinstance(other, NonlinearExpr):
            shape = _bshape(self.shape, other.shape, "+")
            a, b = self._broadcast(shape), other._broadcast(shape)
            return NonlinearExpr(shape, a.affine + b.affine, a.terms + b.terms)
        o = as_expression(other)
        if o is NotImplemented:
            return NotImplemented
        shape = _bshape(self.shape, o.shape, "+")
        a = self._broadcast(shape)
        return NonlinearExpr(shape, a.affine + o, a.terms)

    __radd__ = __add__

    def __neg__(self) -> NonlinearExpr:
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        if isinstance(other, Expression) and other.is_constant():
            other = other.const.reshape(other.shape)
        if not _is_numeric(other):
            if isinstance(other, Expression | NonlinearExpr):
                raise ModelingError("product of a non-linear and a variable expression")
            return NotImplemented
        c = np.asarray(other, dtype=float)
        shape = _bshape(self.shape, c.shape, "*")
        e = self._broadcast(shape)
        D = sp.diags(np.broadcast_to(c, shape).ravel())
        return e._apply(D, shape)

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self * (1.0 / np.asarray(other, dtype=float))

    def __rmatmul__(self, other):
        A = np.asarray(other, dtype=float)
        if self.ndim_ != 1 or A.shape[-1] != self.size:
            raise ModelingError(
                f"matmul shapes do not align: array {A.shape} @ expression {self.shape}"
            )
        return self._apply(A.reshape(-1, self.size), () if A.ndim == 1 else (A.shape[0],))

    @property
    def ndim_(self) -> int:
        return len(self.shape)

    def _broadcast(self, shape) -> NonlinearExpr:
        if tuple(shape) == self.shape:
            return self
        idx = np.broadcast_to(np.arange(self.size).reshape(self.shape), shape).ravel()
        M = sp.csr_matrix((np.ones(idx.size), (np.arange(idx.size), idx)), (idx.size, self.size))
        return self._apply(M, tuple(shape))

    # ------------------------------------------------------------ constraints
    def __le__(self, other):
        from optml.program.constraints import make_constraint

        return make_constraint(self, "<=", other)

    def __ge__(self, other):
        from optml.program.constraints import make_constraint

        return make_constraint(self, ">=", other)

    def __eq__(self, other):  # type: ignore[override]
        raise ModelingError(
            "an equality with a non-linear function is not convex; use <= or >= instead"
        )

    __hash__ = object.__hash__


def _bshape(a, b, op):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        raise ModelingError(
            f"shapes do not match in '{op}': {_shape_str(a)} and {_shape_str(b)}"
        ) from None


def _arg(x, name) -> Expression | NonlinearExpr:
    """An atom's argument: affine, or a non-linear expression the DCP rules allow for ``name``."""
    if isinstance(x, NonlinearExpr):
        return _nested_arg(x, name)
    e = as_expression(x)
    if e is NotImplemented:
        raise ModelingError(
            f"{name}() takes an affine expression, an array, or a convex optml expression, "
            f"got {type(x).__name__}"
        )
    return e


def _nested_arg(f: NonlinearExpr, key: str) -> Expression | NonlinearExpr:
    curv = f.curvature
    name = key.removesuffix("_nonneg")
    if curv == "affine":
        return f.affine
    if curv == "convex" and key in INCREASING:
        return f
    if curv == "convex" and key in INCREASING_ON_NONNEG and f.is_nonneg():
        return f
    if key in INCREASING:
        rule = f"{name} is convex and nondecreasing, so its argument must be affine or convex"
    elif key in INCREASING_ON_NONNEG:
        rule = (
            f"{name} is convex but not monotone, so its argument must be affine, or convex "
            "and known to be nonnegative (e.g. a nonnegative combination of atoms plus a "
            "nonnegative constant)"
        )
    else:
        rule = (
            f"{name} takes an affine argument only (a convex nonnegative one when P >= 0 entrywise)"
            if name == "quad_form"
            else f"{name} takes an affine argument only"
        )
    fix = {
        "concave": "a concave argument makes it neither convex nor concave",
        "convex": "this convex argument has no known sign",
        "unknown": "the argument mixes convex and concave terms, so its curvature is unknown",
    }[curv]
    raise ModelingError(
        f"{name}() of a {curv} expression is not DCP (disciplined convex): {rule}; {fix}. "
        "Rewrite it (e.g. split max(f, g) into separate constraints, or introduce an "
        "auxiliary variable t >= f) so that every composition follows the DCP rules"
    )


def _wrap(atom: Atom) -> NonlinearExpr:
    n = atom.size
    return NonlinearExpr(atom.shape, None, [(atom, sp.identity(n, format="csr"))])


def sum_squares(x) -> NonlinearExpr:
    r"""``\sum_i x_i^2`` (convex; quadratic for an affine ``x``; ``x`` may be convex and
    nonnegative)."""
    return _wrap(Atom("sum_squares", _arg(x, "sum_squares").flatten()))


def quad_form(x, P) -> NonlinearExpr:
    r"""``x^T P x`` for a symmetric positive semidefinite ``P`` (convex, quadratic)."""
    P = P.toarray() if sp.issparse(P) else np.asarray(P, dtype=float)
    # x'Px is nondecreasing on the nonnegative orthant when P >= 0 entrywise (cvxpy's rule)
    name = "quad_form_nonneg" if (P >= 0).all() else "quad_form"
    e = _arg(x, name).flatten()
    if P.shape != (e.size, e.size):
        raise ModelingError(f"quad_form: P has shape {P.shape}, expected {(e.size, e.size)}")
    if not np.allclose(P, P.T, atol=1e-10 * builtins.max(1.0, np.abs(P).max(initial=0))):
        raise ModelingError("quad_form: P must be symmetric; pass (P + P.T) / 2")
    if e.size and np.linalg.eigvalsh(P).min() < -1e-8 * builtins.max(1.0, np.abs(P).max()):
        raise ModelingError("quad_form: P is not positive semidefinite, so x'Px is not convex")
    return _wrap(Atom("quad_form", e, P=P))


def norm1(x) -> NonlinearExpr:
    r"""``\|x\|_1`` (convex)."""
    return _wrap(Atom("norm1", _arg(x, "norm1").flatten()))


def norm2(x) -> NonlinearExpr:
    r"""``\|x\|_2`` (convex, second-order cone)."""
    return _wrap(Atom("norm2", _arg(x, "norm2").flatten()))


def norm_inf(x) -> NonlinearExpr:
    r"""``\|x\|_\infty`` (convex)."""
    return _wrap(Atom("norm_inf", _arg(x, "norm_inf").flatten()))


def abs(x) -> NonlinearExpr:  # noqa: A001
    r"""Elementwise ``|x|`` (convex)."""
    return _wrap(Atom("abs", _arg(x, "abs")))


def pos(x) -> NonlinearExpr:
    r"""Elementwise ``\max(x, 0)``, the hinge (convex)."""
    return _wrap(Atom("pos", _arg(x, "pos")))


def huber(x, M: float = 1.0) -> NonlinearExpr:
    r"""Elementwise Huber function ``x^2`` if ``|x| <= M`` else ``2M|x| - M^2`` (convex)."""
    if not (np.isfinite(M) and M > 0):
        raise ModelingError(f"huber: M must be a positive number, got {M}")
    return _wrap(Atom("huber", _arg(x, "huber"), M=float(M)))


def logistic(x) -> NonlinearExpr:
    r"""Elementwise ``\log(1 + e^{x})`` (convex, exponential cone)."""
    return _wrap(Atom("logistic", _arg(x, "logistic")))


def _flat(x) -> Expression | NonlinearExpr:
    if isinstance(x, NonlinearExpr):
        return x.flatten()
    e = as_expression(x)
    if e is NotImplemented:
        raise ModelingError(
            f"max/maximum take affine or convex optml expressions or arrays, got {type(x).__name__}"
        )
    return e.flatten()


def _stack(parts: list) -> Expression | NonlinearExpr:
    """Stack flat parts of equal size m into one flat vector of size k*m (part j first)."""
    m = parts[0].size
    k = len(parts)
    out = None
    for j, part in enumerate(parts):
        P = sp.csr_matrix(
            (np.ones(m), (np.arange(j * m, (j + 1) * m), np.arange(m))), shape=(k * m, m)
        )
        piece = (
            part._apply(P, (k * m,)) if isinstance(part, NonlinearExpr) else part._left(P, (k * m,))
        )
        out = piece if out is None else out + piece
    return out


def max(x) -> NonlinearExpr:  # noqa: A001 - mirrors cvxpy's cp.max
    r"""Largest entry ``\max_i x_i`` of an affine or convex expression (convex)."""
    e = _flat(x)
    if e.size == 0:
        raise ModelingError("max() of an empty expression")
    arg = _arg(e, "max")
    return _wrap(Atom("max", arg, k=e.size, shape=()))


def maximum(*args) -> NonlinearExpr:
    r"""Elementwise ``\max(a, b, \dots)`` of affine or convex expressions and arrays (convex),
    broadcast to a common shape; ``maximum(x, 0)`` is ``pos(x)``."""
    if len(args) < 2:
        raise ModelingError("maximum() takes at least two expressions; use max(x) for one")
    shapes = [getattr(a, "shape", np.shape(a)) for a in args]
    shape = _bshape(shapes[0], shapes[1], "maximum")
    for sh in shapes[2:]:
        shape = _bshape(shape, sh, "maximum")
    parts = []
    for a in args:
        if isinstance(a, NonlinearExpr):
            parts.append(a._broadcast(shape).flatten())
        else:
            e = as_expression(a)
            if e is NotImplemented:
                raise ModelingError(
                    f"maximum() takes optml expressions or arrays, got {type(a).__name__}"
                )
            parts.append(e.broadcast_to(shape).flatten())
    arg = _arg(_stack(parts), "max")
    return _wrap(Atom("max", arg, k=len(parts), shape=shape))


def min(x) -> NonlinearExpr:  # noqa: A001 - mirrors cvxpy's cp.min
    r"""Smallest entry of an affine or concave expression (concave): ``-max(-x)``."""
    return -max(-_flat(x))


def minimum(*args) -> NonlinearExpr:
    r"""Elementwise minimum of affine or concave expressions (concave): ``-maximum(-a, ...)``."""
    return -maximum(*[-(a if not _is_numeric(a) else np.asarray(a, float)) for a in args])
