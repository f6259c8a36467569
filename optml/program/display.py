r"""Human-readable views of a program and a result: a text summary, LaTeX of the model as
written, and the rich views a Jupyter notebook shows (HTML, LaTeX, Markdown).

The LaTeX is read from the expression tree, not from the lowered matrices, so a constraint
reads as it was written: ``a^\top x \le 10``, not ``a_x^\top x + -10 \le 0``. Data have no names
in an array-based program, so each coefficient block gets a symbol from its constraint's name
(:math:`a_{\text{budget}}` for a row, :math:`A_{\text{link}}` for a matrix, :math:`b_{\text{link}}`
for a right-hand side that varies by row); identities, multiples of the identity, sums and
constants are written out. :func:`name_data` gives a constraint's data the symbols of the
textbook (``name_data(p, "budget", coef="a", rhs="B")``).
"""

from __future__ import annotations

import html as _html
import math

import numpy as np

from optml.program.atoms import NonlinearExpr
from optml.program.constraints import LinearConstraint
from optml.program.expr import Expression

_SENSE_TEX = {"<=": r"\le", ">=": r"\ge", "==": "="}
_MAX_ROWS_REPR = 30  # constraint blocks shown in a notebook before "... more"


# ------------------------------------------------------------------------------ numbers
def fmt_num(v: float, digits: int = 4) -> str:
    r"""A number for reading in LaTeX: integers without a decimal point, otherwise ``digits``
    significant digits, powers of ten as :math:`1.5 \cdot 10^{-6}`, :math:`\infty`."""
    v = float(v) + 0.0  # no "-0"
    if math.isnan(v):
        return r"\mathrm{NaN}"
    if math.isinf(v):
        return r"\infty" if v > 0 else r"-\infty"
    if v == round(v) and abs(v) < 1e6:
        return str(int(round(v)))
    s = f"{v:.{digits}g}"
    if "e" in s:
        m, e = s.split("e")
        if m in ("1", "-1"):
            return rf"{m[:-1]}10^{{{int(e)}}}"
        return rf"{m} \cdot 10^{{{int(e)}}}"
    return s


def _txt(v: float) -> str:
    v = float(v) + 0.0  # no "-0"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.6g}"


def _values_text(vals: np.ndarray) -> str:
    """A right-hand side (or bound) array for the text summary."""
    vals = np.asarray(vals, dtype=float).ravel()
    if vals.size == 0:
        return "-"
    if np.all(vals == vals[0]):
        return _txt(vals[0])
    if vals.size <= 4:
        return "[" + ", ".join(_txt(v) for v in vals) + "]"
    return f"{_txt(vals.min())}..{_txt(vals.max())} ({vals.size} values)"


# ------------------------------------------------------------------------------ summary
def summary(p) -> str:
    canon = p.canonical()
    nint = int(canon.integer.sum())
    lines = [
        f"Program {p.name!r}: {p.problem_class}",
        f"  variables   {p.num_variables} in {len(p.variables)} blocks "
        f"({canon.n} columns after lowering, {nint} integer)",
    ]
    for name, v in p.variables.items():
        kind = f"{v.domain:<10} {_interval_text(v)}"
        if _is_parameter(v):
            kind = f"parameter = {_values_text(v.lb)}"
        lines.append(f"    {name:<12} shape {str(v.shape):<10} {kind}")
    lines.append(
        f"  constraints {len(p.constraints)} blocks, {canon.m} rows, {canon.A.nnz} nonzeros"
        + (f", {len(canon.soc)} SOC" if canon.soc else "")
        + (f", {len(canon.exp)} exp-cone blocks" if canon.exp else "")
        + (f", {len(canon.psd)} PSD" if canon.psd else "")
        + (f", {len(p.indicators)} indicators" if p.indicators else "")
        + (f", {len(p.sos1)} SOS1" if p.sos1 else "")
    )
    for c in p.constraints[:20]:
        kind = "linear" if isinstance(c, LinearConstraint) else "convex"
        rhs = _values_text(-_affine_of(c).const)
        lines.append(f"    {str(c.name):<12} {kind:<7} shape {str(c.shape):<8} {c.sense} {rhs}")
    if len(p.constraints) > 20:
        lines.append(f"    ... {len(p.constraints) - 20} more")
    for ind in p.indicators:
        rhs = _values_text(-ind.con.expr.const)
        lines.append(
            f"    {str(ind.name):<12} indicator shape {str(ind.con.shape):<8} "
            f"(z = {ind.active}) => {ind.con.sense} {rhs}"
        )
    obj = "none" if p.objective is None else _describe(p.objective)
    for fam in getattr(p, "lazy", []):
        lines.append(f"  lazy        {fam.name}: rows found by a separation routine when violated")
    lines.append(f"  objective   {p.sense}imize {obj}")
    return "\n".join(lines)


def _is_parameter(v) -> bool:
    from optml.program.parameter import Parameter

    return isinstance(v, Parameter)


def _split_parameters(e: Expression):
    """``(decision part, parameter part or None)`` of an affine expression (no constant)."""
    par = {k: t for k, t in e.terms.items() if _is_parameter(t[0])}
    if not par:
        return e, None
    dec = {k: t for k, t in e.terms.items() if k not in par}
    return Expression(e.shape, dec, 0.0), Expression(e.shape, par, 0.0)


def _affine_of(c) -> Expression:
    return c.expr if isinstance(c, LinearConstraint) else c.f.affine


def _interval_text(v) -> str:
    lo, hi = np.asarray(v.lb), np.asarray(v.ub)
    if lo.size == 0:
        return "-"
    if np.all(lo == lo[0]) and np.all(hi == hi[0]):
        if math.isinf(lo[0]) and math.isinf(hi[0]):
            return "free"
        left = "(" if math.isinf(lo[0]) else "["
        right = ")" if math.isinf(hi[0]) else "]"
        return f"{left}{_txt(lo[0])}, {_txt(hi[0])}{right}"
    return f"lb {_values_text(lo)}, ub {_values_text(hi)}"


def _describe(e) -> str:
    if isinstance(e, NonlinearExpr):
        kinds = sorted({a.kind for a, _ in e.terms})
        return f"{e.curvature} function with atoms {kinds}"
    return "affine function"


# ------------------------------------------------------------------------------- LaTeX
def name_data(program, constraint: str, coef: str | dict | None = None, rhs: str | None = None):
    r"""Give the data of constraint ``constraint`` textbook symbols in :func:`to_latex`.

    ``coef``: the symbol of its coefficients (one variable), or ``{variable name: symbol}``;
    ``rhs``: the symbol of a right-hand side that varies by row. Symbols are LaTeX
    (``r"\mathbf{a}"``). Kept in ``program.metadata["latex_data"]``; the mathematics is
    unchanged.
    """
    names = {c.name for c in program.constraints} | {i.name for i in program.indicators}
    if constraint != "objective" and constraint not in names:
        raise ValueError(
            f"program {program.name!r} has no constraint named {constraint!r}; "
            f"constraints: {sorted(str(n) for n in names)}"
        )
    entry = program.metadata.setdefault("latex_data", {}).setdefault(constraint, {})
    if isinstance(coef, dict):
        entry.update(coef)
    elif coef is not None:
        entry["*"] = coef
    if rhs is not None:
        entry["rhs"] = rhs


def _tex_name(n: str) -> str:
    return n.replace("_", r"\_") if len(n) > 1 else n


def _label(ctx: str) -> str:
    return rf"\text{{{_tex_name(ctx)}}}" if len(ctx) > 1 else ctx


def _index(v, flat: int) -> str:
    idx = np.unravel_index(int(flat), v.shape) if v.shape else ()
    return ",".join(str(int(i)) for i in idx) if idx else "0"


class _Symbols:
    """Symbols of one block of data (a constraint, the objective, an atom's argument)."""

    row_letter = "a"

    def __init__(self, p, ctx: str | None, user: dict | None = None, row_letter: str = "a"):
        self.p, self.ctx, self.user = p, ctx, user or {}
        self.row_letter = row_letter

    def coef(self, var_name: str, letter: str, multi: bool) -> str:
        if var_name in self.user:
            return self.user[var_name]
        if "*" in self.user and not multi:
            return self.user["*"]
        vtex = self.p.latex_names.get(var_name, _tex_name(var_name))
        if self.ctx is None:
            sub = vtex if multi else ""
        else:
            sub = _label(self.ctx) + (("," + vtex) if multi else "")
        return f"{letter}_{{{sub}}}" if sub else letter

    def rhs(self, letter: str = "b") -> str:
        if "rhs" in self.user:
            return self.user["rhs"]
        return f"{letter}_{{{_label(self.ctx)}}}" if self.ctx else letter


def _vname(p, v) -> str:
    return p.latex_names.get(v.name, _tex_name(v.name))


def _linear_terms(p, e: Expression, sym: _Symbols) -> list[tuple[int, str]]:
    """``(sign, LaTeX)`` of each variable's term of an affine expression."""
    out = []
    multi = len(e.terms) > 1
    for v, a in e.terms.values():
        name = _vname(p, v)
        a = a.tocsr()
        if a.nnz == 0:
            continue
        rows, cols = a.shape
        if rows == cols and a.nnz == rows and (abs(a - a.T)).nnz == 0:
            d = a.diagonal()
            if np.all(d == d[0]) and np.count_nonzero(d) == rows:
                out.append(_scaled(d[0], name))
                continue
        if rows == 1:
            r = a.toarray().ravel()
            if cols == 1:
                out.append(_scaled(r[0], name))
                continue
            if np.all(r == r[0]):
                out.append(_scaled(r[0], rf"\mathbf{{1}}^\top {name}"))
                continue
            nz = np.flatnonzero(r)
            if nz.size == 1:  # one entry of the block: x_{j}
                out.append(_scaled(r[nz[0]], rf"{name}_{{{_index(v, nz[0])}}}"))
                continue
            out.append((1, rf"{sym.coef(v.name, sym.row_letter, multi)}^\top {name}"))
            continue
        dense_ones = a.nnz == a.shape[0] * a.shape[1] and np.all(a.data == a.data[0])
        if cols == 1 and dense_ones:
            out.append(_scaled(a.data[0], rf"\mathbf{{1}} {name}"))
            continue
        if cols == 1:  # a vector times a scalar variable
            out.append((1, rf"{sym.coef(v.name, sym.row_letter, multi)}\, {name}"))
            continue
        out.append((1, rf"{sym.coef(v.name, 'A', multi)} {name}"))
    return out


def _scaled(c: float, term: str) -> tuple[int, str]:
    sign = -1 if c < 0 else 1
    c = abs(float(c))
    return (sign, term if c == 1 else rf"{fmt_num(c)}\, {term}")


def _join(terms: list[tuple[int, str]]) -> str:
    if not terms:
        return "0"
    out = ""
    for k, (sign, t) in enumerate(terms):
        if k == 0:
            out = ("-" if sign < 0 else "") + t
        else:
            out += (" - " if sign < 0 else " + ") + t
    return out


def _const_term(c: np.ndarray, sym: _Symbols, letter: str = "c") -> list[tuple[int, str]]:
    c = np.asarray(c, dtype=float).ravel()
    if c.size == 0 or not np.any(c != 0):
        return []
    if np.all(c == c[0]):
        return [(-1 if c[0] < 0 else 1, fmt_num(abs(c[0])))]
    return [(1, sym.rhs(letter))]


def _aff_tex(p, e: Expression, sym: _Symbols, with_const: bool = True) -> str:
    terms = _linear_terms(p, e, sym)
    if with_const:
        terms += _const_term(e.const, sym)
    return _join(terms)


def _atom_terms(p, f: NonlinearExpr, ctx: str) -> list[tuple[int, str]]:
    out = []
    for k, (a, W) in enumerate(f.terms, start=1):
        if not W.nnz:
            continue
        arg = _atom_arg_tex(p, a.arg, f"{_label(ctx)},{k}" if ctx else str(k))
        w = W.toarray().ravel() if W.shape[0] == 1 else None
        if w is None and W.shape[1] == 1:  # one weight per row, all equal: a scalar weight
            col = W.toarray().ravel()
            w = col[:1] if col.size and np.all(col == col[0]) else None
        if a.elementwise:
            item = rf"\left({arg}\right)_i" if " " in arg else f"{arg}_i"
            if w is not None and w.size and not np.all(w == w[0]):
                out.append((1, r"\sum_i w_i\, " + a.latex(item)))
                continue
            inner = r"\sum_i " + a.latex(item)
        elif a.kind == "quad_form":
            sub = f"{_label(ctx)},{k}" if ctx else str(k)
            v = rf"\left({arg}\right)" if " " in arg else arg
            inner = rf"{v}^\top P_{{{sub}}} {v}"
        else:
            inner = a.latex(arg)
        if w is not None and w.size and np.all(w == w[0]):
            out.append(_scaled(w[0], inner))
        else:
            out.append((1, inner))
    return out


class _AtomSymbols(_Symbols):
    """An atom's data: ``A_{k}``, ``a_{k}``, ``b_{k}`` with the atom's number ``k``."""

    def __init__(self, p, sub: str):
        super().__init__(p, None)
        self.sub = sub

    def coef(self, var_name: str, letter: str, multi: bool) -> str:
        extra = ("," + self.p.latex_names.get(var_name, _tex_name(var_name))) if multi else ""
        return f"{letter}_{{{self.sub}{extra}}}"

    def rhs(self, letter: str = "b") -> str:
        return f"{letter}_{{{self.sub}}}"


def _atom_arg_tex(p, e: Expression, sub: str) -> str:
    """An atom's argument, its data numbered by the atom; a constant that varies by row is
    written as the textbook's residual ``A w - b``."""
    sym = _AtomSymbols(p, sub)
    nested = []
    if isinstance(e, NonlinearExpr):  # a composition: its own atoms, numbered sub,k
        nested = _atom_terms(p, e, sub)
        e = e.affine
    terms = _linear_terms(p, e, sym) + nested
    c = np.asarray(e.const, dtype=float).ravel()
    if c.size and np.any(c != 0):
        if np.all(c == c[0]):
            terms.append((-1 if c[0] < 0 else 1, fmt_num(abs(c[0]))))
        else:
            terms.append((-1, sym.rhs()))
    return _join(terms)


def _expr_tex(p, e, ctx: str, with_const: bool = True) -> str:
    """An objective or a constraint's left-hand side."""
    user = p.metadata.get("latex_data", {}).get(ctx, {}) if ctx else {}
    obj = ctx == "objective"
    sym = _Symbols(p, None if obj else ctx, user, row_letter="c" if obj else "a")
    if isinstance(e, NonlinearExpr):
        terms = _linear_terms(p, e.affine, sym)
        terms += _atom_terms(p, e, "" if ctx == "objective" else ctx)
        if with_const:
            terms += _const_term(e.affine.const, sym)
        return _join(terms)
    terms = _linear_terms(p, e, sym)
    if with_const:
        terms += _const_term(e.const, sym)
    return _join(terms)


def _rhs_tex(p, const: np.ndarray, ctx: str) -> str:
    r = -np.asarray(const, dtype=float).ravel()
    if r.size == 0 or np.all(r == r[0]):
        return fmt_num(r[0]) if r.size else "0"
    user = p.metadata.get("latex_data", {}).get(ctx, {})
    return _Symbols(p, ctx, user).rhs()


def _interval_tex(v, name: str) -> str | None:
    r"""The domain of a variable block: ``x \in [0, 1]^{3}``, ``y \in \{0,1\}^{2}``,
    ``k \in \mathbb{Z}^{2} \cap [0, 9]^{2}``; None for a free continuous block."""
    dims = _dims(v)
    power = "" if dims == "1" else f"^{{{dims}}}"
    lo, hi = np.asarray(v.lb), np.asarray(v.ub)
    if getattr(v, "psd", False):
        return rf"{name} \succeq 0"
    free = lo.size == 0 or bool(np.all(np.isneginf(lo)) and np.all(np.isposinf(hi)))
    if v.domain == "binary":
        if np.all(lo == 0) and np.all(hi == 1):
            return rf"{name} \in \{{0,1\}}{power}"
        return rf"{name} \in \{{0,1\}}{power} \cap {_box_tex(lo, hi, name, power)}"
    if v.domain == "integer":
        if free:
            return rf"{name} \in \mathbb{{Z}}{power}"
        return rf"{name} \in \mathbb{{Z}}{power} \cap {_box_tex(lo, hi, name, power)}"
    if free:
        return None
    return rf"{name} \in {_box_tex(lo, hi, name, power)}"


def _box_tex(lo, hi, name: str, power: str) -> str:
    r"""The box ``[l, u]^n`` (open ends at infinity); bounds that vary by entry read
    ``[l_x, u_x]`` with their ranges."""
    if np.all(lo == lo[0]) and np.all(hi == hi[0]):
        left = "(" if math.isinf(lo[0]) else "["
        right = ")" if math.isinf(hi[0]) else "]"
        return rf"{left}{fmt_num(lo[0])}, {fmt_num(hi[0])}{right}{power}"
    parts = []
    if np.all(lo == lo[0]):
        lo_t = fmt_num(lo[0])
    else:
        lo_t = rf"l_{{{name}}}"
        parts.append(rf"l_{{{name}}} \in [{fmt_num(lo.min())}, {fmt_num(lo.max())}]{power}")
    if np.all(hi == hi[0]):
        hi_t = fmt_num(hi[0])
    else:
        hi_t = rf"u_{{{name}}}"
        parts.append(rf"u_{{{name}}} \in [{fmt_num(hi.min())}, {fmt_num(hi.max())}]{power}")
    left = "(" if np.all(np.isinf(lo)) else "["
    right = ")" if np.all(np.isinf(hi)) else "]"
    out = rf"{left}{lo_t}, {hi_t}{right}"
    return out + (r"\ \ (" + r",\ ".join(parts) + ")" if parts else "")


def to_latex(p, max_constraints: int | None = None) -> str:
    """LaTeX (an ``aligned`` block) of the program as written, read from the expression tree.

    Each constraint block reads ``lhs  sense  rhs``, its name on the right; variables'
    domains close the block as intervals (``x \\in [0, \\infty)^{3}``); lazy families are
    named. ``max_constraints`` shows at most that many constraint blocks (a notebook view).
    """
    decisions = [v for v in p.variables.values() if not _is_parameter(v)]
    vars_tex = ", ".join(_vname(p, v) for v in decisions)
    sense = r"\min" if p.sense == "min" else r"\max"
    obj = "0" if p.objective is None else _expr_tex(p, p.objective, "objective")
    lines = [rf"{sense}_{{{vars_tex}}} \quad & {obj} \\"]
    first = True
    shown = p.constraints if max_constraints is None else p.constraints[:max_constraints]
    for c in shown:
        ctx = str(c.name)
        if isinstance(c, LinearConstraint):
            dec, par = _split_parameters(c.expr)
            lhs = _expr_tex(p, dec, ctx, with_const=False)
            rhs = _rhs_tex(p, c.expr.const, ctx)
            if par is not None:  # parameters read as right-hand sides
                user = p.metadata.get("latex_data", {}).get(ctx, {})
                sym = _Symbols(p, ctx, user)
                rhs = _join(_linear_terms(p, -par, sym) + _const_term(-c.expr.const, sym, "b"))
        else:  # f(x) + (affine) <= 0 reads f(x) <= -(affine), as written
            lhs = _join(_atom_terms(p, c.f, ctx))
            user = p.metadata.get("latex_data", {}).get(ctx, {})
            neg = -c.f.affine
            terms = _linear_terms(p, neg, _Symbols(p, ctx, user))
            if terms:
                rhs = _join(terms + _const_term(neg.const, _Symbols(p, ctx, user), "b"))
            else:
                rhs = _rhs_tex(p, c.f.affine.const, ctx)
        lab = r"\text{s.t.} \quad" if first else ""
        lines.append(
            rf"{lab} & {lhs} {_SENSE_TEX[c.sense]} {rhs} && \text{{({_tex_name(ctx)})}} \\"
        )
        first = False
    if len(shown) < len(p.constraints):
        lines.append(rf"& \dots\ \text{{({len(p.constraints) - len(shown)} more blocks)}} \\")
    for ind in p.indicators:
        ctx = str(ind.name)
        z = _aff_tex(p, ind.z, _Symbols(p, ctx))
        lhs = _expr_tex(p, ind.con.expr, ctx, with_const=False)
        rhs = _rhs_tex(p, ind.con.expr.const, ctx)
        lab = r"\text{s.t.} \quad" if first else ""
        first = False
        lines.append(
            rf"{lab} & {z} = {ind.active} \Rightarrow {lhs} {_SENSE_TEX[ind.con.sense]} {rhs}"
            rf" && \text{{({_tex_name(ctx)})}} \\"
        )
    for s in p.sos1:
        lines.append(rf"& \mathrm{{SOS1}}({_vname(p, s.var)}) \\")
    for fam in getattr(p, "lazy", []):
        lines.append(
            rf"& \text{{lazy family {_tex_name(str(fam.name))}: rows added when violated}} \\"
        )
    doms = [d for d in (_interval_tex(v, _vname(p, v)) for v in decisions) if d]
    pars = _params(p)
    if doms:
        lines.append(r"& " + r",\quad ".join(doms) + (r" \\" if pars else ""))
    if pars:
        lines.append(r"& \text{parameters: } " + r",\quad ".join(pars))
    return "\\begin{aligned}\n" + "\n".join(lines) + "\n\\end{aligned}"


def _params(p) -> list[str]:
    """``t = 2.5`` for each parameter block (a range where its entries differ)."""
    out = []
    for v in p.variables.values():
        if not _is_parameter(v):
            continue
        val = np.asarray(v.lb)
        if val.size and np.all(val == val[0]):
            out.append(f"{_vname(p, v)} = {fmt_num(val[0])}")
        else:
            lo, hi = fmt_num(val.min()), fmt_num(val.max())
            out.append(rf"{_vname(p, v)} \in [{lo}, {hi}]^{{{_dims(v)}}}")
    return out


def _dims(v) -> str:
    return r"\times ".join(str(s) for s in v.shape) or "1"


# ----------------------------------------------------------------------------- Jupyter
def program_latex(p) -> str:
    """``$$ ... $$`` for ``Program._repr_latex_``."""
    return "$$\n" + to_latex(p, max_constraints=_MAX_ROWS_REPR) + "\n$$"


def program_html(p) -> str:
    """``Program._repr_html_``: name, class and sizes, a table of the blocks, the model."""
    e = _html.escape
    try:
        cls = p.problem_class
        canon = p.canonical()
        size = f"{canon.n} columns, {canon.m} rows after lowering"
    except Exception as exc:  # a model under construction: show what is there
        cls, size = "?", f"not lowerable yet: {e(str(exc))}"
    rows = []
    for name, v in p.variables.items():
        if _is_parameter(v):
            rows.append(
                f"<tr><td>parameter</td><td><code>{e(name)}</code></td><td>{e(str(v.shape))}"
                f"</td><td>= {e(_values_text(v.lb))}</td></tr>"
            )
            continue
        rows.append(
            f"<tr><td>variable</td><td><code>{e(name)}</code></td><td>{e(str(v.shape))}</td>"
            f"<td>{e(v.domain)} {e(_interval_text(v))}</td></tr>"
        )
    for c in p.constraints[:_MAX_ROWS_REPR]:
        kind = "linear" if isinstance(c, LinearConstraint) else "convex"
        rhs = _values_text(-_affine_of(c).const)
        rows.append(
            f"<tr><td>{kind} constraint</td><td><code>{e(str(c.name))}</code></td>"
            f"<td>{e(str(c.shape))}</td><td>{e(c.sense)} {e(rhs)}</td></tr>"
        )
    if len(p.constraints) > _MAX_ROWS_REPR:
        rows.append(f"<tr><td colspan=4>... {len(p.constraints) - _MAX_ROWS_REPR} more</td></tr>")
    for ind in p.indicators:
        rows.append(
            f"<tr><td>indicator</td><td><code>{e(str(ind.name))}</code></td>"
            f"<td>{e(str(ind.con.shape))}</td><td>{e(ind.con.sense)} "
            f"{e(_values_text(-ind.con.expr.const))}</td></tr>"
        )
    for fam in getattr(p, "lazy", []):
        rows.append(
            f"<tr><td>lazy family</td><td><code>{e(str(fam.name))}</code></td><td></td>"
            "<td>rows added when violated</td></tr>"
        )
    try:
        tex = to_latex(p, max_constraints=_MAX_ROWS_REPR)
    except Exception:  # pragma: no cover - display never raises
        tex = ""
    return (
        f"<div><b>Program</b> <code>{e(p.name)}</code>: {e(cls)}, {e(size)}"
        "<table><thead><tr><th></th><th>name</th><th>shape</th><th>domain / sense</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
        + (f"<div>$$\n{e(tex)}\n$$</div>" if tex else "")
        + "</div>"
    )


_RESULT_ROWS = (
    ("status", "status"),
    ("objective", "objective"),
    ("bound", "bound"),
    ("gap", "gap"),
    ("numpy check", "objective_check"),
    ("max violation", "max_violation"),
)


def _result_rows(r) -> list[tuple[str, str]]:
    rows = [("status", r.status + ("" if r.verified else " (NOT verified)"))]
    for label, attr in _RESULT_ROWS[1:]:
        val = getattr(r, attr)
        digits = 3 if attr in ("gap", "max_violation") else 10
        rows.append((label, f"{val:.{digits}g}"))
    if not math.isnan(r.model_objective):
        rows.append(("model objective", f"{r.model_objective:.10g}"))
    rows.append(("solver", f"{r.backend}/{r.solver} {r.solver_version}".strip()))
    rows.append(("class", r.problem_class))
    rows.append(("times", f"build {r.build_time:.3f} s, solve {r.solve_time:.3f} s"))
    if r.duals:
        rows.append(("duals", ", ".join(sorted(map(str, r.duals)))))
    if r.stats:
        rows.append(("stats", ", ".join(f"{k}={v}" for k, v in r.stats.items())))
    if r.message:
        rows.append(("message", r.message))
    return rows


def result_html(r) -> str:
    """``Result._repr_html_``: the certificate as a table; the status in green when verified."""
    e = _html.escape
    color = "#1a7f37" if r.verified else "#b35900"
    body = "".join(
        f"<tr><td>{e(k)}</td><td>"
        + (f"<b style='color:{color}'>{e(v)}</b>" if k == "status" else e(v))
        + "</td></tr>"
        for k, v in _result_rows(r)
    )
    return f"<div><b>Result</b><table><tbody>{body}</tbody></table></div>"


def result_markdown(r) -> str:
    """``Result._repr_markdown_``: the certificate as a Markdown table."""
    lines = ["| | |", "|---|---|"]
    for k, v in _result_rows(r):
        v = v.replace("|", r"\|")
        lines.append(f"| {k} | {'**' + v + '**' if k == 'status' else v} |")
    return "\n".join(lines)
