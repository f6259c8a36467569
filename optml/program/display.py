"""Human-readable views of a program: a text summary and LaTeX of the expression tree."""

from __future__ import annotations

import numpy as np

from optml.program.atoms import NonlinearExpr
from optml.program.constraints import LinearConstraint
from optml.program.expr import Expression

_SENSE_TEX = {"<=": r"\le", ">=": r"\ge", "==": "="}


def summary(p) -> str:
    canon = p.canonical()
    nint = int(canon.integer.sum())
    lines = [
        f"Program {p.name!r}: {p.problem_class}",
        f"  variables   {p.num_variables} in {len(p.variables)} blocks "
        f"({canon.n} columns after lowering, {nint} integer)",
    ]
    for name, v in p.variables.items():
        lb = _rng(v.lb)
        ub = _rng(v.ub)
        lines.append(f"    {name:<12} shape {str(v.shape):<10} {v.domain:<10} [{lb}, {ub}]")
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
        lines.append(f"    {str(c.name):<12} {kind:<7} shape {c.shape} {c.sense} 0")
    if len(p.constraints) > 20:
        lines.append(f"    ... {len(p.constraints) - 20} more")
    obj = "none" if p.objective is None else _describe(p.objective)
    for fam in getattr(p, "lazy", []):
        lines.append(f"  lazy        {fam.name}: rows found by a separation routine when violated")
    lines.append(f"  objective   {p.sense}imize {obj}")
    return "\n".join(lines)


def _rng(b):
    if b.size == 0:
        return "-"
    lo, hi = b.min(), b.max()
    return f"{lo:g}" if lo == hi else f"{lo:g}..{hi:g}"


def _describe(e) -> str:
    if isinstance(e, NonlinearExpr):
        kinds = sorted({a.kind for a, _ in e.terms})
        return f"{e.curvature} function with atoms {kinds}"
    return "affine function"


def _names(p, e: Expression) -> str:
    return ", ".join(p.latex_names.get(v.name, _tex_name(v.name)) for v in e.variables)


def _tex_name(n: str) -> str:
    return n.replace("_", r"\_") if len(n) > 1 else n


def _aff_tex(p, e: Expression) -> str:
    """Compact LaTeX of an affine expression: its linear terms by variable, plus a constant."""
    parts = []
    for v, a in e.terms.values():
        name = p.latex_names.get(v.name, _tex_name(v.name))
        if a.shape[0] == a.shape[1] and (a != a.T).nnz == 0 and a.nnz == a.shape[0]:
            d = a.diagonal()
            if np.allclose(d, 1):
                parts.append(name)
                continue
            if np.allclose(d, d[0]):
                parts.append(f"{d[0]:g} {name}")
                continue
        parts.append(f"A_{{{name}}} {name}" if e.size > 1 else f"a_{{{name}}}^\\top {name}")
    if np.any(e.const != 0):
        parts.append(f"{e.const[0]:g}" if e.size == 1 else "c")
    return " + ".join(parts) if parts else "0"


def _expr_tex(p, e) -> str:
    if isinstance(e, NonlinearExpr):
        out = []
        aff = _aff_tex(p, e.affine)
        if aff != "0":
            out.append(aff)
        for a, W in e.terms:
            w = W.toarray().ravel() if W.shape[0] == 1 else None
            inner = a.latex(_aff_tex(p, a.arg))
            if a.elementwise:
                arg = _aff_tex(p, a.arg)
                inner = r"\sum_i " + a.latex(f"({arg})_i")
            if w is not None and w.size and np.allclose(w, w[0]) and w[0] != 1:
                inner = f"{w[0]:g}\\, {inner}"
            elif w is not None and w.size > 1 and not np.allclose(w, w[0]):
                inner = rf"w^\top\!\cdot {inner}"
            out.append(inner)
        return " + ".join(out)
    return _aff_tex(p, e)


def to_latex(p) -> str:
    """LaTeX (an ``aligned`` block) of the program as written, read from the expression tree."""
    vars_tex = ", ".join(p.latex_names.get(n, _tex_name(n)) for n in p.variables)
    sense = r"\min" if p.sense == "min" else r"\max"
    obj = "0" if p.objective is None else _expr_tex(p, p.objective)
    lines = [rf"{sense}_{{{vars_tex}}} \quad & {obj} \\"]
    first = True
    for c in p.constraints:
        lhs = _expr_tex(p, c.expr if isinstance(c, LinearConstraint) else c.f)
        lab = r"\text{s.t.} \quad" if first else ""
        name = _tex_name(str(c.name))
        lines.append(rf"{lab} & {lhs} {_SENSE_TEX[c.sense]} 0 && \text{{({name})}} \\")
        first = False
    for ind in p.indicators:
        lines.append(
            rf"& {_aff_tex(p, ind.z)} = {ind.active} \Rightarrow "
            rf"{_aff_tex(p, ind.con.expr)} {_SENSE_TEX[ind.con.sense]} 0 \\"
        )
    for s in p.sos1:
        lines.append(rf"& \mathrm{{SOS1}}({_tex_name(s.var.name)}) \\")
    doms = []
    for n, v in p.variables.items():
        name = p.latex_names.get(n, _tex_name(n))
        if v.domain == "binary":
            doms.append(rf"{name} \in \{{0,1\}}^{{{_dims(v)}}}")
        elif v.domain == "integer":
            doms.append(rf"{name} \in \mathbb{{Z}}^{{{_dims(v)}}}")
        elif getattr(v, "psd", False):
            doms.append(rf"{name} \succeq 0")
        else:
            lo, hi = _rng(v.lb), _rng(v.ub)
            if lo != "-inf" or hi != "inf":
                inf = r"\infty"
                lo, hi = lo.replace("inf", inf), hi.replace("inf", inf)
                doms.append(rf"{lo} \le {name} \le {hi}")
    if doms:
        lines.append(r"& " + r",\quad ".join(doms))
    return "\\begin{aligned}\n" + "\n".join(lines) + "\n\\end{aligned}"


def _dims(v) -> str:
    return r"\times ".join(str(s) for s in v.shape) or "1"
