r"""Lowering of a :class:`~optml.program.Program` to one canonical, solver-neutral form.

The canonical form is

.. math::

    \min_x\ \tfrac12 x^\top P x + q^\top x + c_0 \quad\text{s.t.}\quad
    r_l \le A x \le r_u,\ l \le x \le u,\ G_k x + h_k \in \mathcal K_k,\
    x_j \in \mathbb Z\ (j \in I),

with second-order cones :math:`\{(t, v): \|v\|_2 \le t\}`, exponential-cone triples
:math:`\{(a, b, c): b e^{a/b} \le c\}`, PSD blocks (a symmetric matrix of columns), and SOS1
records. Backends read only this form. A maximisation is stored as the minimisation of the
negated objective (``sense = -1``).

Atoms are lowered by epigraphs, except quadratic atoms in the objective, which become ``P``.
A ``sum_squares(A x + c)`` with many more rows than columns is reduced by a thin QR factorisation
to ``||R x + Q^T c||^2 + const`` (the n-independent Gram form) when ``quad="auto"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from optml.exceptions import ModelingError
from optml.program.atoms import Atom, NonlinearExpr
from optml.program.constraints import ConvexConstraint, LinearConstraint
from optml.program.expr import Expression, Variable, as_expression, hstack


@dataclass
class CanonicalForm:
    """Matrices of a program, ready for any backend. See the module docstring."""

    n: int
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray  # bool per column
    A: sp.csr_matrix
    row_lb: np.ndarray
    row_ub: np.ndarray
    q: np.ndarray
    P: sp.csc_matrix  # symmetric; objective 0.5 x'Px
    c0: float
    sense: int  # +1 minimise, -1 maximise (user objective = sense * canonical objective)
    soc: list = field(default_factory=list)  # list of (G csr (d x n), h (d,))
    exp: list = field(default_factory=list)  # list of (G csr (3k x n), h) rows (a1,b1,c1,a2,...)
    psd: list = field(default_factory=list)  # list of (k x k) int arrays of column indices
    sos1: list = field(default_factory=list)  # list of (cols, weights)
    blocks: dict = field(default_factory=dict)  # name -> (start, shape) for user variables
    row_blocks: list = field(default_factory=list)  # (constraint name, start, stop)
    x0: np.ndarray | None = None  # warm start of one solve (NaN where unknown); never cached
    # a solve's lazy rows in column space: x -> (A, lb, ub) of violated rows, or None; set by
    # the solve path for backends that enforce lazy constraints inside the solver
    lazy: object = None

    @property
    def m(self) -> int:
        return self.A.shape[0]

    @property
    def has_quadratic(self) -> bool:
        return self.P.nnz > 0 and np.abs(self.P.data).max() > 0

    @property
    def is_mip(self) -> bool:
        return bool(self.integer.any()) or bool(self.sos1)

    @property
    def problem_class(self) -> str:
        if self.psd:
            base = "SDP"
        elif self.exp:
            base = "EXP"
        elif self.soc:
            base = "SOCP"
        elif self.has_quadratic:
            base = "QP"
        else:
            base = "LP"
        return ("MI" + base) if self.is_mip else base

    def split(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Map a column vector back to named user variables."""
        return {k: x[s : s + int(np.prod(sh))].reshape(sh) for k, (s, sh) in self.blocks.items()}

    def objective_value(self, x: np.ndarray) -> float:
        """User objective of column vector ``x`` (canonical form, numpy)."""
        v = 0.5 * x @ (self.P @ x) + self.q @ x + self.c0
        return float(self.sense * v)


class _Lowering:
    def __init__(self, quad: str):
        self.quad = quad
        self.vars: list[Variable] = []
        self.rows: list[tuple[Expression, np.ndarray, np.ndarray, str | None]] = []
        self.soc: list[Expression] = []
        self.soc_batches: list[tuple[Expression, int]] = []  # (rows of k cones, dimension)
        self.exp: list[Expression] = []
        self.quads: list[tuple[Variable, np.ndarray | sp.spmatrix]] = []
        self.lin = as_expression(0.0)
        self.naux = 0

    def aux(self, shape, lb=None, ub=None) -> Variable:
        v = Variable(f"_aux{self.naux}", shape, lb=lb, ub=ub)
        self.naux += 1
        self.vars.append(v)
        return v

    def row(self, e: Expression, sense: str, name=None):
        e = e.flatten() if e.shape else e.reshape(1)
        c = -e.const
        lo = c if sense in (">=", "==") else np.full(e.size, -np.inf)
        hi = c if sense in ("<=", "==") else np.full(e.size, np.inf)
        self.rows.append((Expression(e.shape, e.terms, 0.0), lo, hi, name))

    def equal_aux(self, e: Expression) -> Variable:
        """A variable equal to ``e``; ``e`` itself if it is exactly a whole variable."""
        if len(e.terms) == 1 and not e.const.any():
            ((v, a),) = e.terms.values()
            if a.shape == (v.size, v.size) and (a != sp.identity(v.size)).nnz == 0:
                return v
        r = self.aux(e.size)
        self.row(r - e.flatten(), "==")
        return r

    # ------------------------------------------------------------ epigraphs
    def affine_atom(self, atom: Atom) -> Atom:
        """The atom itself if its argument is affine; else the same atom of an affine ``u``
        with ``u >= arg`` (the argument's epigraph rows). Exact for the compositions the DCP
        rules allow: the atom is nondecreasing in its argument where the argument lives."""
        if not isinstance(atom.arg, NonlinearExpr):
            return atom
        u = self.convex_to_affine(atom.arg, objective=False)
        return Atom(atom.kind, u.reshape(atom.arg.shape), **atom.params)

    def epigraph(self, atom: Atom) -> Expression:
        """Return ``t`` (shape of the atom's values, flattened) with ``t >= atom(arg)``."""
        atom = self.affine_atom(atom)
        e, k = atom.arg, atom.kind
        n = atom.size
        if k == "max":
            kk = atom.params["k"]
            t = self.aux(n)
            stack = sp.kron(np.ones((kk, 1)), sp.identity(n), format="csr")
            self.row(t._left(stack, (kk * n,)) - e.flatten(), ">=")
            return t
        if k in ("abs", "norm1", "norm_inf", "pos"):
            ef = e.flatten()
            if k == "norm_inf":
                t = self.aux(1)
                self.row(t - ef, ">=")
                self.row(t + ef, ">=")
                return t
            # |e| <= s already implies s >= 0: a bound there would only make the active set
            # degenerate where e = 0 (two rows and a bound on one column, a singular KKT)
            s = self.aux(ef.size, lb=0.0 if k == "pos" else None)
            self.row(s - ef, ">=")
            if k != "pos":
                self.row(s + ef, ">=")
            return s.sum().reshape(1) if k == "norm1" else s
        if k == "norm2":
            t = self.aux(1, lb=0.0)
            self.soc.append(hstack([t, e.flatten()]))
            return t
        if k in ("sum_squares", "quad_form"):
            v = e.flatten()
            if k == "quad_form":
                w, U = np.linalg.eigh(atom.params["P"])
                keep = w > 1e-12 * max(1.0, w.max(initial=0))
                v = (U[:, keep] * np.sqrt(w[keep])).T @ v
            t = self.aux(1, lb=0.0)
            self.soc.append(hstack([t + 1.0, 2.0 * v, t - 1.0]))
            return t
        if k == "huber":
            M = atom.params["M"]
            s, a = self.huber_split(e.flatten())
            t = self.aux(n)
            u = t - 2 * M * a  # s_i^2 <= u_i: n cones of dimension 3, lowered in one batch
            self.soc_batches.append((_interleave(u + 1.0, 2.0 * s, u - 1.0), 3))
            return t
        if k == "logistic":
            ef = e.flatten()
            t, u, w = self.aux(n), self.aux(n, lb=0.0), self.aux(n, lb=0.0)
            self.row(u + w - 1.0, "<=")
            one = as_expression(np.ones(n))
            self.exp.append(_interleave(-t, one, u))
            self.exp.append(_interleave(ef - t, one, w))
            return t
        raise AssertionError(k)

    def huber_split(self, e: Expression) -> tuple[Variable, Variable]:
        r"""Huber's split :math:`e = s + n`, :math:`a \ge |n|`: then
        :math:`\operatorname{huber}_M(e) = \min s^2 + 2 M a` (one lowering for the epigraph
        and the objective forms). Returns ``(s, a)``."""
        n = e.size
        s, nn, a = self.aux(n), self.aux(n), self.aux(n, lb=0.0)
        self.row(s + nn - e, "==")
        self.row(a - nn, ">=")
        self.row(a + nn, ">=")
        return s, a

    def convex_to_affine(self, f: NonlinearExpr, objective: bool) -> Expression:
        """Affine expression equal (at the optimum) to the convex ``f``; quadratics in ``P``."""
        out = f.affine
        for atom, W in f.terms:
            if not W.nnz:
                continue
            if objective and f.size == 1 and atom.kind in ("sum_squares", "quad_form", "huber"):
                atom = self.affine_atom(atom)
                w = W.toarray().ravel()
                out = out + self.objective_quadratic(atom, w)
                continue
            t = self.epigraph(atom)
            if W.shape[0] > t.size and _terms_per_row(t) > 1:
                # a scalar atom broadcast to many rows (eps * ||w||_1 inside n hinges): one
                # auxiliary column instead of repeating the epigraph's sum in every row
                t = self.equal_aux(t)
            out = out + _apply(W, t, f.shape)
        return out

    def objective_quadratic(self, atom: Atom, w: np.ndarray) -> Expression:
        e = atom.arg.flatten()
        if atom.kind == "huber":
            M = atom.params["M"]
            s, a = self.huber_split(e)
            self.quads.append((s, sp.diags(2.0 * w)))
            return (2.0 * M * w) @ a
        w = float(w[0])
        if atom.kind == "quad_form":
            r = self.equal_aux(e)
            self.quads.append((r, 2.0 * w * atom.params["P"]))
            return as_expression(0.0)
        # sum_squares: QR (Gram) reduction when many more rows than columns
        const = 0.0
        cols = sum(v.size for v in e.variables)
        if self.quad in ("auto", "qr") and e.size > 2 * cols and cols <= 2000:
            dense = np.hstack([a.toarray() for _, a in e.terms.values()]) if e.terms else None
            if dense is not None and (self.quad == "qr" or e.size * cols <= 5e7):
                Q, R = np.linalg.qr(dense, mode="reduced")
                qc = Q.T @ e.const
                const = float(e.const @ e.const - qc @ qc)
                blocks, start = {}, 0
                for key, (v, _) in e.terms.items():
                    blocks[key] = (v, sp.csr_matrix(R[:, start : start + v.size]))
                    start += v.size
                e = Expression((R.shape[0],), blocks, qc)
        r = self.equal_aux(e)
        self.quads.append((r, sp.identity(r.size) * 2.0 * w))
        return as_expression(w * const)


def _terms_per_row(e: Expression) -> float:
    return sum(a.nnz for _, a in e.terms.values()) / max(e.size, 1)


def _apply(W, t: Expression, shape) -> Expression:
    return t._left(W, shape)


def _interleave(a: Expression, b: Expression, c: Expression) -> Expression:
    n = a.size
    out = hstack([a.flatten(), b.flatten(), c.flatten()])  # a1..an b1..bn c1..cn
    perm = np.arange(3 * n).reshape(3, n).T.ravel()  # a1 b1 c1 a2 ...
    return out[perm]


def _split_blocks(G: sp.csr_matrix, h: np.ndarray, d: int) -> list:
    """Cut the rows of ``G`` (and ``h``) into consecutive ``(d x n)`` blocks, without copies of G."""
    G = sp.csr_matrix(G)
    ip, n = G.indptr, G.shape[1]
    out = []
    for j in range(G.shape[0] // d):
        a, b = ip[j * d], ip[(j + 1) * d]
        Gj = sp.csr_matrix(
            (G.data[a:b], G.indices[a:b], ip[j * d : (j + 1) * d + 1] - a), shape=(d, n)
        )
        out.append((Gj, np.array(h[j * d : (j + 1) * d], dtype=float)))
    return out


def _matrix(e: Expression, offsets: dict[int, int], n: int) -> sp.csr_matrix:
    rows, cols, vals = [], [], []
    for key, (_, a) in e.terms.items():
        c = a.tocoo()
        rows.append(c.row)
        cols.append(c.col + offsets[key])
        vals.append(c.data)
    if not rows:
        return sp.csr_matrix((e.size, n))
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(e.size, n)
    )


def lower(program, quad: str = "auto") -> CanonicalForm:
    """Lower ``program`` to a :class:`CanonicalForm`.

    Parameters
    ----------
    quad : {"auto", "qr", "aux"}
        How ``sum_squares`` in the objective becomes ``P``: ``"aux"`` adds one variable per
        row of the argument; ``"qr"``/``"auto"`` first reduce tall arguments by a thin QR.
    """
    if quad not in ("auto", "qr", "aux"):
        raise ValueError(f"quad must be 'auto', 'qr' or 'aux', got {quad!r}")
    L = _Lowering(quad)
    L.vars = list(program.variables.values())
    row_blocks_src = []
    for con in program.constraints:
        if isinstance(con, LinearConstraint):
            before = len(L.rows)
            L.row(con.expr, con.sense, con.name)
            row_blocks_src.append((con.name, before))
        elif isinstance(con, ConvexConstraint):
            aff = L.convex_to_affine(con.f, objective=False)
            L.row(aff, "<=", con.name)
        else:  # pragma: no cover
            raise TypeError(con)
    for ind in program.indicators:
        for e, sense in ind.bigm_rows():
            L.row(e, sense, ind.name)
    obj = program.objective
    sense = 1
    if obj is None:
        obj = as_expression(0.0)
    if program.sense == "max":
        sense = -1
        obj = -obj
    if isinstance(obj, NonlinearExpr):
        if obj.curvature not in ("convex", "affine"):
            word = "maximise a convex" if sense < 0 else "minimise a concave"
            raise ModelingError(f"objective is not convex: cannot {word} function")
        obj = L.convex_to_affine(obj, objective=True)
    # columns
    offsets, start = {}, 0
    for v in L.vars:
        offsets[v.id] = start
        start += v.size
    n = start
    lb = np.concatenate([v.lb for v in L.vars]) if L.vars else np.zeros(0)
    ub = np.concatenate([v.ub for v in L.vars]) if L.vars else np.zeros(0)
    integer = (
        np.concatenate([np.full(v.size, v.is_integer) for v in L.vars])
        if L.vars
        else (np.zeros(0, bool))
    )
    for v in L.vars:
        if v.id not in offsets:  # pragma: no cover
            raise ModelingError(f"variable {v.name!r} is not part of the program")
    _check_known(program, L, offsets)
    # rows
    mats = [_matrix(e, offsets, n) for e, _, _, _ in L.rows]
    A = sp.vstack(mats).tocsr() if mats else sp.csr_matrix((0, n))
    row_lb = np.concatenate([lo for _, lo, _, _ in L.rows]) if L.rows else np.zeros(0)
    row_ub = np.concatenate([hi for _, _, hi, _ in L.rows]) if L.rows else np.zeros(0)
    row_blocks, r = [], 0
    for e, _, _, name in L.rows:
        row_blocks.append((name, r, r + e.size))
        r += e.size
    # objective
    objf = obj.reshape(()) if obj.shape != () else obj
    q = np.asarray(_matrix(objf, offsets, n).todense()).ravel()
    c0 = float(objf.const[0])
    Pr, Pc, Pv = [], [], []
    for v, K in L.quads:
        K = sp.coo_matrix(K)
        Pr.append(K.row + offsets[v.id])
        Pc.append(K.col + offsets[v.id])
        Pv.append(K.data)
    P = (
        sp.csc_matrix((np.concatenate(Pv), (np.concatenate(Pr), np.concatenate(Pc))), (n, n))
        if Pv
        else sp.csc_matrix((n, n))
    )
    soc = [(_matrix(e, offsets, n), e.const.copy()) for e in L.soc]
    for e, d in L.soc_batches:
        soc += _split_blocks(_matrix(e, offsets, n), e.const, d)
    exp = [(_matrix(e, offsets, n), e.const.copy()) for e in L.exp]
    psd = []
    for v in program.variables.values():
        if getattr(v, "psd", False):
            k = v.shape[0]
            psd.append(offsets[v.id] + np.arange(k * k).reshape(k, k))
    sos1 = [(offsets[e_var.id] + idx, w) for e_var, idx, w in (s.columns() for s in program.sos1)]
    blocks = {v.name: (offsets[v.id], v.shape) for v in program.variables.values()}
    _check_finite(A, row_lb, row_ub, row_blocks, q, P, c0, soc, exp)
    return CanonicalForm(
        n=n,
        lb=lb,
        ub=ub,
        integer=integer.astype(bool),
        A=A,
        row_lb=row_lb,
        row_ub=row_ub,
        q=q,
        P=P,
        c0=c0,
        sense=sense,
        soc=soc,
        exp=exp,
        psd=psd,
        sos1=sos1,
        blocks=blocks,
        row_blocks=row_blocks,
    )


def _check_finite(A, row_lb, row_ub, row_blocks, q, P, c0, soc, exp) -> None:
    """Refuse NaN anywhere and inf in coefficients before any solver sees them (a NaN cost
    can make HiGHS loop past its time limit); the message names the constraint or objective."""
    if not np.isfinite(A.data).all():
        rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
        r = int(rows[~np.isfinite(A.data)][0])
        name = next((nm for nm, a, b in row_blocks if a <= r < b), None)
        raise ModelingError(
            f"constraint {name!r} has a NaN or infinite coefficient (row {r}); check the data "
            "that built it (missing values, overflow) and rescale"
        )
    for bound in (row_lb, row_ub):
        if np.isnan(bound).any():
            r = int(np.flatnonzero(np.isnan(bound))[0])
            name = next((nm for nm, a, b in row_blocks if a <= r < b), None)
            raise ModelingError(
                f"constraint {name!r} has a NaN right-hand side (row {r}); check its data"
            )
    if not (np.isfinite(q).all() and np.isfinite(P.data).all() and np.isfinite(c0)):
        raise ModelingError(
            "the objective has a NaN or infinite coefficient; check the data that built it "
            "(missing values, overflow) and rescale"
        )
    for kind, blocks in (("second-order cone", soc), ("exponential cone", exp)):
        for G, h in blocks:
            if not (np.isfinite(G.data).all() and np.isfinite(h).all()):
                raise ModelingError(
                    f"a {kind} constraint has a NaN or infinite coefficient; check its data"
                )


def _check_known(program, L, offsets):
    exprs = [e for e, *_ in L.rows] + L.soc + L.exp + [e for e, _ in L.soc_batches]
    for e in exprs:
        for key, (v, _) in e.terms.items():
            if key not in offsets:
                raise ModelingError(
                    f"variable {v.name!r} is used in a constraint but was created by another "
                    f"Program; create variables with this program's var()"
                )
