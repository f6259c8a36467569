r"""Write a lowered program in the Conic Benchmark Format (CBF, version 3), the format of the
conic benchmark library CBLIB (Friberg, *CBLIB 2014: a benchmark library for conic
mixed-integer and continuous optimization*, Math. Prog. Comp. 8, 2016).

The canonical form (:mod:`optml.program.canonical`) maps onto CBF as follows:

* variables: one free domain ``F n`` (their bounds are linear rows), integer columns under
  ``INT``;
* linear rows :math:`r_l \le Ax \le r_u`: ``L=`` rows where both sides agree, else an ``L+``
  row :math:`Ax - r_l` and/or an ``L-`` row :math:`Ax - r_u`;
* second-order cones :math:`G x + h \in \{(t, v): \|v\|_2 \le t\}`: ``Q`` cones (same order);
* exponential cones :math:`b e^{a/b} \le c` on triples ``(a, b, c)``: CBF's ``EXP`` cone
  :math:`\{x: x_1 \ge x_2 e^{x_3/x_2}\}` on ``(c, b, a)``;
* PSD blocks (a matrix of columns): ``PSDCON`` with one ``HCOORD`` entry per lower triangle
  element, and ``L=`` rows equating the columns at :math:`(i, j)` and :math:`(j, i)`;
* a quadratic objective :math:`\tfrac12 x^\top P x` (:math:`P \succeq 0`): an epigraph
  variable :math:`t` with the rotated cone ``QR``
  :math:`(t, 1, L^\top x)`, :math:`2t \ge \|L^\top x\|^2`, :math:`P = L L^\top` from an
  eigendecomposition on the support of :math:`P`;
* the objective in the program's own sense (``OBJSENSE MAX`` for a maximisation), with its
  constant as ``OBJBCOORD``.

SOS1 records have no CBF form and raise :class:`~optml.exceptions.UnsupportedProblemError`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from optml.exceptions import UnsupportedProblemError


def write_cbf(program, path) -> dict:
    """Write ``program`` (an optml :class:`~optml.program.Program`) to ``path`` in CBF;
    returns ``{"variables", "constraints", "cones"}`` counts of the file."""
    canon = program.canonical()
    if canon.sos1:
        raise UnsupportedProblemError("SOS1 sets have no CBF form; use an MPS file")
    n = int(canon.n)
    sense = int(canon.sense)
    rows_a: list[tuple[int, int, float]] = []  # (row, col, value)
    rows_b: list[tuple[int, float]] = []
    cones: list[tuple[str, int]] = []
    m = 0

    def add_rows(mat, const, kind):
        nonlocal m
        mat = sp.csr_matrix(mat)
        coo = mat.tocoo()
        for i, j, v in zip(coo.row, coo.col, coo.data, strict=True):
            if v != 0:
                rows_a.append((m + int(i), int(j), float(v)))
        for i, b in enumerate(np.asarray(const, dtype=float).ravel()):
            if b != 0:
                rows_b.append((m + i, float(b)))
        cones.append((kind, mat.shape[0]))
        m += mat.shape[0]

    # linear rows
    A = sp.csr_matrix(canon.A)
    lo, hi = np.asarray(canon.row_lb, float), np.asarray(canon.row_ub, float)
    eq = np.isfinite(lo) & np.isfinite(hi) & (lo == hi)
    for mask, const, kind in (
        (eq, -lo, "L="),
        (~eq & np.isfinite(lo), -lo, "L+"),
        (~eq & np.isfinite(hi), -hi, "L-"),
    ):
        idx = np.flatnonzero(mask)
        if idx.size:
            add_rows(A[idx], const[idx], kind)
    # variable bounds as rows
    eye = sp.identity(n, format="csr")
    lb, ub = np.asarray(canon.lb, float), np.asarray(canon.ub, float)
    fixed = np.isfinite(lb) & np.isfinite(ub) & (lb == ub)
    for mask, const, kind in (
        (fixed, -lb, "L="),
        (~fixed & np.isfinite(lb), -lb, "L+"),
        (~fixed & np.isfinite(ub), -ub, "L-"),
    ):
        idx = np.flatnonzero(mask)
        if idx.size:
            add_rows(eye[idx], const[idx], kind)
    # cones
    for G, h in canon.soc:
        add_rows(G, h, "Q")
    for G, h in canon.exp:
        G = sp.csr_matrix(G)
        h = np.asarray(h, float).ravel()
        for k in range(G.shape[0] // 3):
            order = [3 * k + 2, 3 * k + 1, 3 * k]  # (a, b, c) -> (c, b, a)
            add_rows(G[order], h[order], "EXP")
    # a PSD block is a k x k matrix of columns, not necessarily the same column at (i, j)
    # and (j, i): their equality rows make it symmetric (as every backend does)
    for blk in canon.psd:
        blk = np.asarray(blk)
        iu = np.triu_indices(blk.shape[0], 1)
        pairs = [(a, b) for a, b in zip(blk[iu], blk.T[iu], strict=True) if a != b]
        if pairs:
            rows = sp.lil_matrix((len(pairs), n))
            for r, (a, b) in enumerate(pairs):
                rows[r, int(a)] += 1.0
                rows[r, int(b)] -= 1.0
            add_rows(rows.tocsr(), np.zeros(len(pairs)), "L=")
    # quadratic objective: epigraph t (column n) in a rotated cone
    q = np.asarray(canon.q, float).ravel()
    c0 = float(canon.c0)
    n_total = n
    if canon.has_quadratic:
        P = sp.csc_matrix(canon.P)
        support = np.flatnonzero(np.asarray(abs(P).sum(axis=0)).ravel() > 0)
        w, V = np.linalg.eigh(P[support][:, support].toarray())
        if w.min(initial=0.0) < -1e-9 * max(1.0, abs(w).max(initial=0.0)):
            raise UnsupportedProblemError("a non-convex quadratic objective has no CBF form")
        keep = w > 1e-12 * max(1.0, w.max(initial=0.0))
        Lt = (V[:, keep] * np.sqrt(w[keep])).T  # P_S = Lt' Lt
        t = n_total
        n_total += 1
        r = Lt.shape[0]
        rows = sp.lil_matrix((2 + r, n_total))
        rows[0, t] = 1.0
        for i in range(r):
            for jj, col in enumerate(support):
                if Lt[i, jj] != 0:
                    rows[2 + i, col] = Lt[i, jj]
        const = np.zeros(2 + r)
        const[1] = 1.0
        add_rows(rows.tocsr(), const, "QR")  # 2 t >= ||Lt x||^2: t >= x'Px / 2
        q = np.r_[q, 1.0]
    psd = [np.asarray(blk) for blk in canon.psd]
    integer = np.flatnonzero(np.asarray(canon.integer, bool))
    lines = ["VER", "3", "", "OBJSENSE", "MAX" if sense < 0 else "MIN", ""]
    lines += ["VAR", f"{n_total} 1", f"F {n_total}", ""]
    if integer.size:
        lines += ["INT", str(integer.size), *map(str, integer), ""]
    if psd:
        lines += ["PSDCON", str(len(psd)), *(str(blk.shape[0]) for blk in psd), ""]
    lines += ["CON", f"{m} {len(cones)}", *(f"{k} {d}" for k, d in cones), ""]
    obj = sense * q  # the user's objective: sense * canonical
    nz = [(j, float(v)) for j, v in enumerate(obj) if v != 0]
    lines += ["OBJACOORD", str(len(nz)), *(f"{j} {_num(v)}" for j, v in nz), ""]
    if c0:
        lines += ["OBJBCOORD", _num(sense * c0), ""]
    lines += ["ACOORD", str(len(rows_a)), *(f"{i} {j} {_num(v)}" for i, j, v in rows_a), ""]
    if rows_b:
        lines += ["BCOORD", str(len(rows_b)), *(f"{i} {_num(v)}" for i, v in rows_b), ""]
    if psd:
        h = []
        for k, blk in enumerate(psd):
            for i in range(blk.shape[0]):
                for j in range(i + 1):
                    h.append(f"{k} {int(blk[i, j])} {i} {j} 1.0")
        lines += ["HCOORD", str(len(h)), *h, ""]
    Path(path).write_text("\n".join(lines) + "\n")
    return {"variables": n_total, "constraints": m, "cones": len(cones)}


def _num(v) -> str:
    """A float as the shortest text that reads back to the same double."""
    return repr(float(v))
