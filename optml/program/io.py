r"""Export a lowered program as free-format MPS or CPLEX LP text (numpy only, no solver).

Both formats hold the canonical form of :mod:`optml.program.canonical` in the user's sense:

.. math::

    \min / \max\ \tfrac12 x^\top P x + q^\top x + c_0 \quad\text{s.t.}\quad
    r_l \le A x \le r_u,\ l \le x \le u,\ x_j \in \mathbb Z\ (j \in I),\ \text{SOS1 sets}.

Columns are named after the variable blocks (``x_3``, ``Z_1_2``; auxiliary columns of the
lowering ``aux_<column>``), rows after the constraint names (``cap``, or ``cap_4`` for row 4 of
a block, or of a list of constraints added under one name). Names are sanitised so that every
reader accepts them (letters, digits, ``_``, ``.``; no leading digit, no LP keyword, at most
255 characters, unique); :func:`name_map` maps them back to the program's names. Conic blocks (second-order, exponential, PSD) have no standard text form and raise
:class:`~optml.exceptions.UnsupportedProblemError`; write such programs through cvxpy instead.

MPS conventions (as read by HiGHS, CPLEX, Gurobi, SCIP): ``OBJSENSE MAX`` when the program
maximises; the objective constant :math:`c_0` is the *negated* right-hand side of the objective
row; ``QUADOBJ`` lists the lower triangle of :math:`P` (objective :math:`\tfrac12 x^\top P x`);
integer columns sit between ``INTORG``/``INTEND`` markers and always carry explicit bounds;
a two-sided row is a ``G`` row with a ``RANGES`` entry. In LP format the quadratic part is
``[ ... ] / 2`` with squares written ``x^2`` (SCIP reads no ``x ^ 2``), and a two-sided row
is written as two rows ``name_lo`` and ``name_hi``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from optml.exceptions import UnsupportedProblemError


def write(program, path) -> dict:
    """Write ``program`` to ``path``; the format follows the extension (``.mps`` or ``.lp``).

    Names in the file are sanitised so that every reader (HiGHS, SCIP, CPLEX, Gurobi) accepts
    them; the returned :func:`name_map` maps them back to the program's names.

    Parameters
    ----------
    program : Program
    path : str or os.PathLike
        Ends with ``.mps`` or ``.lp``.

    Raises
    ------
    ValueError
        For another extension.
    UnsupportedProblemError
        For programs with cone constraints.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".mps", ".lp"):
        raise ValueError(
            f"cannot tell the file format from {path.name!r}: use a name ending in .mps or .lp"
        )
    canon = program.canonical()
    lazy = [fam.name for fam in getattr(program, "lazy", [])]
    if lazy:
        import warnings

        warnings.warn(
            f"program {program.name!r} has lazy constraint families {lazy}: a file holds only "
            "the rows written so far, so the exported instance is a relaxation of the program",
            UserWarning,
            stacklevel=3,
        )
    text = (to_mps if ext == ".mps" else to_lp)(canon, getattr(program, "name", "program"))
    path.write_text(text)
    return name_map(canon)


# ---------------------------------------------------------------------------- names
#: longest name written (SCIP's MPS and LP readers and CPLEX stop at 255 characters)
MAX_NAME = 255
#: words an LP reader may take for a section keyword or a number when used as a name
_LP_WORDS = {
    "bin",
    "binaries",
    "binary",
    "bound",
    "bounds",
    "end",
    "free",
    "gen",
    "general",
    "generals",
    "inf",
    "infinity",
    "integer",
    "integers",
    "max",
    "maximise",
    "maximize",
    "maximum",
    "min",
    "minimise",
    "minimize",
    "minimum",
    "nan",
    "obj",
    "s.t.",
    "sc",
    "semi",
    "semi-continuous",
    "semis",
    "sos",
    "st",
    "subject",
    "such",
    "that",
    "to",
}
_BAD = re.compile(r"[^A-Za-z0-9_.]")


def _original(block: str, ix) -> str:
    return block if not ix else f"{block}[{', '.join(map(str, ix))}]"


def _columns(canon) -> tuple[list[str], list[str]]:
    """(file names, optml names) of the columns."""
    orig = [f"aux[{j}]" for j in range(canon.n)]
    names = [f"aux_{j}" for j in range(canon.n)]
    for block, (start, shape) in canon.blocks.items():
        base = _clean(block)
        size = int(np.prod(shape))
        if shape == ():
            names[start], orig[start] = base, block
            continue
        idx = np.array(np.unravel_index(np.arange(size), shape)).T
        for k, ix in enumerate(idx.tolist()):
            names[start + k] = base + "_" + "_".join(map(str, ix))
            orig[start + k] = _original(block, ix)
    return _unique(names), orig


def _rows(canon) -> tuple[list[str], list[str]]:
    """(file names, optml names) of the rows of ``A``."""
    orig = [f"row[{i}]" for i in range(canon.m)]
    names = [f"r{i}" for i in range(canon.m)]
    for name, start, stop in canon.row_blocks:
        base = _clean(name) if name else "r"
        label = name or "r"
        if stop - start == 1:
            names[start], orig[start] = base, label
        else:
            for i in range(start, stop):
                names[i] = f"{base}_{i - start}"
                orig[i] = f"{label}[{i - start}]"
    return _unique(names, reserved={"OBJ", "obj", "RNG", "RHS", "BND"}), orig


def column_names(canon) -> list[str]:
    """One name per column as written in files: ``block_i_j`` for user blocks, ``aux_<column>``
    for the lowering's auxiliary columns (sanitised, unique, at most 255 characters)."""
    return _columns(canon)[0]


def row_names(canon) -> list[str]:
    """One name per row of ``A`` as written in files, from the constraint names of the
    program (sanitised, unique, at most 255 characters)."""
    return _rows(canon)[0]


def name_map(program_or_canon) -> dict:
    """How the names in a written file map back to the program's names.

    Returns ``{"columns": {file name: "x[3]", ...}, "rows": {file name: "cap[0]", ...}}``;
    an LP file's two-sided row ``cap`` is written as ``cap_lo`` and ``cap_hi`` and both map
    to ``"cap"``.
    """
    canon = (
        program_or_canon.canonical() if hasattr(program_or_canon, "canonical") else program_or_canon
    )
    cn, co = _columns(canon)
    rn, ro = _rows(canon)
    rows = dict(zip(rn, ro, strict=True))
    lo, hi = canon.row_lb, canon.row_ub
    for i in np.flatnonzero(np.isfinite(lo) & np.isfinite(hi) & (lo != hi)).tolist():
        for suffix in ("_lo", "_hi"):
            rows[_ranged(rn, i, suffix)] = ro[i]
    columns = dict(zip(cn, co, strict=True))
    return {"columns": columns, "rows": rows}


def _clean(name: str) -> str:
    """A name every MPS/LP reader accepts: letters, digits, ``_`` and ``.``, starting with a
    letter or ``_``, not a keyword nor read as a number, at most :data:`MAX_NAME` characters
    (a longer name keeps its start and a hash of the whole)."""
    raw = str(name)
    s = _BAD.sub("_", raw.replace("]", ""))
    if (
        not s
        or not (s[0].isalpha() or s[0] == "_")
        or re.match(r"[eE]([0-9eE.]|$)", s)
        or s.lower() in _LP_WORDS
    ):
        s = "_" + s
    if len(s) > MAX_NAME - 20:  # room for the suffixes of rows, ranges and duplicates
        import hashlib

        s = s[: MAX_NAME - 40] + "_" + hashlib.sha1(raw.encode()).hexdigest()[:10]
    return s


def _unique(names: list[str], reserved=()) -> list[str]:
    seen, out = set(reserved), []
    for s in names:
        if len(s) > MAX_NAME - 10:
            s = _clean(s)
        t, k = s, 1
        while t in seen:
            t, k = f"{s}__{k}", k + 1
        seen.add(t)
        out.append(t)
    return out


def _ranged(rn: list[str], i: int, suffix: str) -> str:
    """The LP name of one side of the two-sided row ``i`` (unique among all row names)."""
    t, k, taken = rn[i] + suffix, 1, set(rn)
    while t in taken:
        t, k = f"{rn[i]}{suffix}__{k}", k + 1
    return t


def _num(v: float) -> str:
    return repr(float(v)) if v != int(v) or abs(v) >= 1e15 else str(int(v))


def _check(canon) -> None:
    kinds = [
        k
        for k, v in (("second-order", canon.soc), ("exponential", canon.exp), ("PSD", canon.psd))
        if v
    ]
    if kinds:
        raise UnsupportedProblemError(
            f"the program has {' and '.join(kinds)} cone constraints, which MPS/LP files cannot "
            "hold; solve it with backend='cvxpy' (or export it with cvxpy)"
        )


def _user_objective(canon):
    s = canon.sense
    return s * canon.q, (s * canon.P).tocsc(), s * canon.c0


def _is_binary(canon) -> np.ndarray:
    return canon.integer & (canon.lb >= 0) & (canon.ub <= 1) & (canon.lb > -1) & (canon.ub < 2)


# ---------------------------------------------------------------------------- MPS
def to_mps(canon, name: str = "program") -> str:
    """Free-format MPS text of a canonical form (see the module docstring)."""
    _check(canon)
    cn, rn = column_names(canon), row_names(canon)
    q, P, c0 = _user_objective(canon)
    out = [f"NAME {_clean(name)}"]
    if canon.sense < 0:
        out += ["OBJSENSE", "    MAX"]
    out.append("ROWS")
    out.append(" N  OBJ")
    lo, hi = canon.row_lb, canon.row_ub
    kind = np.where(
        lo == hi,
        "E",
        np.where(np.isinf(lo) & np.isinf(hi), "N", np.where(np.isinf(lo), "L", "G")),
    )
    keep = kind != "N"  # free rows constrain nothing: left out
    out += [f" {k}  {rn[i]}" for i, k in enumerate(kind.tolist()) if keep[i]]
    out.append("COLUMNS")
    A = canon.A.tocsc()
    A.sort_indices()
    indptr, rows, vals = A.indptr, A.indices.tolist(), A.data.tolist()
    keep_l = keep.tolist()
    integer = canon.integer.tolist()
    qv = q.tolist()
    in_int = False
    for j in range(canon.n):
        if integer[j] != in_int:
            out.append(f"    MARKER  'MARKER'  '{'INTORG' if integer[j] else 'INTEND'}'")
            in_int = integer[j]
        col = cn[j]
        wrote = False
        if qv[j] != 0:
            out.append(f"    {col}  OBJ  {_num(qv[j])}")
            wrote = True
        for k in range(indptr[j], indptr[j + 1]):
            if keep_l[rows[k]] and vals[k] != 0:
                out.append(f"    {col}  {rn[rows[k]]}  {_num(vals[k])}")
                wrote = True
        if not wrote:  # keep every column in the file
            out.append(f"    {col}  OBJ  0")
    if in_int:
        out.append("    MARKER  'MARKER'  'INTEND'")
    out.append("RHS")
    if c0 != 0:
        out.append(f"    RHS  OBJ  {_num(-c0)}")
    rhs = np.where(kind == "L", hi, lo)
    for i in np.flatnonzero(keep & (rhs != 0)).tolist():
        out.append(f"    RHS  {rn[i]}  {_num(rhs[i])}")
    ranged = np.flatnonzero((kind == "G") & np.isfinite(hi))
    if ranged.size:
        out.append("RANGES")
        out += [f"    RNG  {rn[i]}  {_num(hi[i] - lo[i])}" for i in ranged.tolist()]
    out.append("BOUNDS")
    out += _mps_bounds(canon, cn)
    if canon.sos1:
        out.append("SOS")
        for k, (cols, w) in enumerate(canon.sos1):
            out.append(f" S1 SOS  sos{k}  1")
            out += [
                f"    {cn[j]}  {_num(wt)}" for j, wt in zip(cols.tolist(), w.tolist(), strict=True)
            ]
    if P.nnz and np.abs(P.data).max() > 0:
        out.append("QUADOBJ")
        L = sp.tril(P, format="coo")
        order = np.lexsort((L.row, L.col))
        for r, c, v in zip(
            L.row[order].tolist(), L.col[order].tolist(), L.data[order].tolist(), strict=True
        ):
            if v != 0:
                out.append(f"    {cn[c]}  {cn[r]}  {_num(v)}")
    out.append("ENDATA")
    return "\n".join(out) + "\n"


def _mps_bounds(canon, cn) -> list[str]:
    out = []
    binary = _is_binary(canon)
    for j, (lb, ub, integer, b) in enumerate(
        zip(
            canon.lb.tolist(),
            canon.ub.tolist(),
            canon.integer.tolist(),
            binary.tolist(),
            strict=True,
        )
    ):
        c = cn[j]
        if b and lb == 0 and ub == 1:
            out.append(f" BV BND  {c}")
            continue
        if lb == ub:
            out.append(f" FX BND  {c}  {_num(lb)}")
            continue
        if math.isinf(lb) and math.isinf(ub):
            out.append(f" FR BND  {c}")
            continue
        if math.isinf(lb):
            out.append(f" MI BND  {c}")
        elif lb != 0 or integer:
            out.append(f" {'LI' if integer else 'LO'} BND  {c}  {_num(lb)}")
        if math.isfinite(ub):
            out.append(f" {'UI' if integer else 'UP'} BND  {c}  {_num(ub)}")
        elif integer:
            out.append(f" PL BND  {c}")
    return out


# ---------------------------------------------------------------------------- LP
def _terms(coefs, names, first: bool = True) -> list[str]:
    out = []
    for k, (v, nm) in enumerate(zip(coefs, names, strict=True)):
        sign = "-" if v < 0 else "+"
        a = abs(v)
        mag = "" if a == 1 else _num(a) + " "
        if k == 0 and first:
            out.append(("- " if v < 0 else "") + mag + nm)
        else:
            out.append(f"{sign} {mag}{nm}")
    return out


def _wrap(tokens: list[str], per_line: int = 8) -> str:
    lines = [" ".join(tokens[i : i + per_line]) for i in range(0, len(tokens), per_line)]
    return "\n   ".join(lines)


def to_lp(canon, name: str = "program") -> str:
    """CPLEX LP text of a canonical form (see the module docstring)."""
    _check(canon)
    cn, rn = column_names(canon), row_names(canon)
    q, P, c0 = _user_objective(canon)
    out = [f"\\ {name} (written by optml)", "Maximize" if canon.sense < 0 else "Minimize"]
    nz = np.flatnonzero(q)
    toks = _terms(q[nz].tolist(), [cn[j] for j in nz.tolist()])
    quad = bool(P.nnz and np.abs(P.data).max() > 0)
    if quad:
        U = sp.triu(P, format="coo")
        qt = []
        for r, c, v in zip(U.row.tolist(), U.col.tolist(), U.data.tolist(), strict=True):
            if v == 0:
                continue
            w = v if r == c else 2.0 * v  # [x'Px] / 2 with each off-diagonal pair once
            qt.append((w, f"{cn[r]}^2" if r == c else f"{cn[r]} * {cn[c]}"))
        inner = _terms([w for w, _ in qt], [t for _, t in qt])
        toks += (["+"] if toks else []) + ["["] + inner + ["] / 2"]
    if c0 != 0:
        if not toks and canon.n:
            toks = [f"0 {cn[0]}"]
        toks.append(f"{'-' if c0 < 0 else '+'} {_num(abs(c0))}")
    if not toks:
        toks = [f"0 {cn[0]}"] if canon.n else ["0"]
    out.append(" OBJ: " + _wrap(toks))
    out.append("Subject To")
    A = canon.A.tocsr()
    A.sort_indices()
    lo, hi = canon.row_lb.tolist(), canon.row_ub.tolist()
    for i in range(canon.m):
        s, e = A.indptr[i], A.indptr[i + 1]
        l, u = lo[i], hi[i]
        if math.isinf(l) and math.isinf(u):
            continue
        cols = A.indices[s:e].tolist()
        vals = A.data[s:e].tolist()
        body = _wrap(_terms(vals, [cn[j] for j in cols])) if cols else f"0 {cn[0]}"
        if l == u:
            out.append(f" {rn[i]}: {body} = {_num(l)}")
        elif math.isinf(l):
            out.append(f" {rn[i]}: {body} <= {_num(u)}")
        elif math.isinf(u):
            out.append(f" {rn[i]}: {body} >= {_num(l)}")
        else:
            out.append(f" {_ranged(rn, i, '_lo')}: {body} >= {_num(l)}")
            out.append(f" {_ranged(rn, i, '_hi')}: {body} <= {_num(u)}")
    out.append("Bounds")
    binary = _is_binary(canon) & (canon.lb == 0) & (canon.ub == 1)
    for j, (l, u) in enumerate(zip(canon.lb.tolist(), canon.ub.tolist(), strict=True)):
        if binary[j]:
            continue
        c = cn[j]
        if l == u:
            out.append(f" {c} = {_num(l)}")
        elif math.isinf(l) and math.isinf(u):
            out.append(f" {c} free")
        elif math.isinf(u):
            if l != 0:
                out.append(f" {c} >= {_num(l)}")
        else:
            out.append(f" {'-inf' if math.isinf(l) else _num(l)} <= {c} <= {_num(u)}")
    gen = [cn[j] for j in np.flatnonzero(canon.integer & ~binary).tolist()]
    if gen:
        out.append("General")
        out.append(" " + _wrap(gen, 10))
    bins = [cn[j] for j in np.flatnonzero(binary).tolist()]
    if bins:
        out.append("Binary")
        out.append(" " + _wrap(bins, 10))
    if canon.sos1:
        out.append("SOS")
        for k, (cols, w) in enumerate(canon.sos1):
            items = " ".join(
                f"{cn[j]}:{_num(wt)}" for j, wt in zip(cols.tolist(), w.tolist(), strict=True)
            )
            out.append(f" sos{k}: S1:: {items}")
    out.append("End")
    return "\n".join(out) + "\n"


__all__ = ["column_names", "name_map", "row_names", "to_lp", "to_mps", "write"]
