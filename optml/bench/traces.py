r"""Incumbent and bound over time: traces read off solver logs, and their integrals.

A *trace* is what a task's row keeps in its ``trace`` column (JSON)::

    {"sense": "min", "source": "highs-log", "points": [[t, primal, dual], ...]}

``t`` is seconds since the solver started (its own clock, as its log prints it), ``primal``
the best objective found so far (``null`` before the first incumbent) and ``dual`` the best
proven bound (``null`` when none), both in the *program's* units: the worker maps the log's
values (HiGHS and SCIP print the objective of the problem they were handed, possibly
negated for a maximisation or without a constant) onto the program's objective by the
affine map that sends the log's last incumbent to the solver's reported objective. The last
point is always the certified answer (objective, bound) at the solve's end, so every task
has a trace, a one-point one for solvers whose log gives nothing (LP and conic solvers).

Readers: :func:`parse_highs` (the MIP table of HiGHS: ``BestBound  BestSol  Gap``) and
:func:`parse_scip` (SCIP's display table: ``time | ... | dualbound | primalbound | gap``).

Integrals (Berthold, *Measuring the impact of primal heuristics*, Oper. Res. Letters 41(6),
2013), with :math:`\tilde x(t)` the incumbent at time :math:`t`, :math:`x^\ast` the best
known objective of the instance and :math:`d(t)` the bound:

.. math::

    \gamma(\tilde x) = \begin{cases} 0 & |x^\ast| = |\tilde x| = 0 \\
        1 & \text{no incumbent, or } x^\ast \tilde x < 0 \\
        \frac{|x^\ast - \tilde x|}{\max(|x^\ast|, |\tilde x|)} & \text{else} \end{cases}
    \qquad P(T) = \int_0^T \gamma(\tilde x(t))\,dt ,

and the primal-dual integral is the same with :math:`d(t)` in place of :math:`x^\ast` (1
while either is missing). Both integrate the step functions of the trace from 0 to the
solve's end :math:`T`, in seconds (a task solved at once has integral near 0; one that
never finds an incumbent has :math:`P(T) = T`).
"""

from __future__ import annotations

import json
import math
import re

#: bytes of a task's solver log kept on disk (the head and the tail, with a marker between)
LOG_CAP = 1 << 20

_NUM = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|Inf|-inf)"
_HIGHS_TIME = re.compile(r"(\d+(?:\.\d+)?)s\s*$")


def _float(tok: str):
    tok = tok.strip()
    if tok in ("-", "--", "", "Large"):
        return None
    try:
        v = float(tok)
    except ValueError:
        return None
    return v if math.isfinite(v) and abs(v) < 1e19 else None


def parse_highs(text: str) -> list[list]:
    """``[[t, primal, dual], ...]`` from HiGHS's MIP log (log units; ``None`` where unknown).

    The rows of its branch-and-bound table end with the time (``0.3s``); the two numbers
    after the explored percentage are ``BestBound`` and ``BestSol``."""
    if "BestBound" not in text:
        return []
    out = []
    for line in text.splitlines():
        m = _HIGHS_TIME.search(line)
        if not m or "%" not in line:
            continue
        toks = line.split()
        try:
            k = next(i for i, t in enumerate(toks) if t.endswith("%"))
        except StopIteration:
            continue
        if k + 2 >= len(toks):
            continue
        out.append([float(m.group(1)), _float(toks[k + 2]), _float(toks[k + 1])])
    return out


_SCIP_HEUR = re.compile(
    r"feasible solution found by .* after ([\d.eE+-]+) seconds, objective value ([^\s,]+)"
)
_SCIP_FINAL = re.compile(r"^(Solving Time \(sec\)|Primal Bound|Dual Bound)\s*:\s*([^\s(]+)")


def parse_scip(text: str) -> list[list]:
    """``[[t, primal, dual], ...]`` from SCIP's output (log units): its display table
    (``time | ... | dualbound | primalbound | gap``), the solutions its heuristics find
    before the table starts, and the final statistics (``Primal Bound``, ``Dual Bound`` at
    ``Solving Time``)."""
    out, cols, final = [], None, {}
    for line in text.splitlines():
        m = _SCIP_HEUR.search(line)
        if m:
            out.append([float(m.group(1)), _float(m.group(2)), None])
            continue
        m = _SCIP_FINAL.match(line.strip())
        if m:
            final[m.group(1)] = m.group(2)
            continue
        if "|" not in line:
            continue
        parts = [p.strip() for p in line.split("|")]
        if "dualbound" in parts and "primalbound" in parts:
            cols = (parts.index("time"), parts.index("primalbound"), parts.index("dualbound"))
            continue
        if cols is None or len(parts) <= max(cols):
            continue
        t = parts[cols[0]].lstrip("abcdefghijklmnopqrstuvwxyz*+ ").rstrip("s")
        try:
            tt = float(t)
        except ValueError:
            continue
        out.append([tt, _float(parts[cols[1]]), _float(parts[cols[2]])])
    if "Solving Time (sec)" in final and out:
        t = _float(final["Solving Time (sec)"])
        if t is not None:
            out.append(
                [
                    max(t, out[-1][0]),
                    _float(final.get("Primal Bound", "")),
                    _float(final.get("Dual Bound", "")),
                ]
            )
    return out


def _carry(points: list[list]) -> list[list]:
    """Fill unknown values with the last known ones (incumbents and bounds only improve),
    in time order."""
    out, p, d = [], None, None
    for t, pp, dd in sorted(points, key=lambda x: x[0]):
        p = pp if pp is not None else p
        d = dd if dd is not None else d
        out.append([t, p, d])
    return out


def parse_log(text: str) -> tuple[list[list], str | None]:
    """The points of whichever known log ``text`` holds, and the reader used."""
    for name, reader in (("highs-log", parse_highs), ("scip-log", parse_scip)):
        pts = reader(text)
        if pts:
            return _carry(pts), name
    return [], None


def to_program_units(points, objective, sense: int) -> list[list]:
    """Map log values onto the program's objective: ``v -> a v + c`` with ``a = +-1`` and
    ``c`` chosen so that the last incumbent of the log is ``objective`` (the solver's reported
    objective). ``a = -1`` when the log prints the negated objective of a maximisation."""
    last = next((p for _, p, _ in reversed(points) if p is not None), None)
    if last is None or objective is None or not math.isfinite(objective):
        return points
    tol = 1e-6 * max(1.0, abs(objective))
    if abs(last - objective) <= tol:
        a, c = 1.0, 0.0
    elif abs(-last - objective) <= tol:
        a, c = -1.0, 0.0
    else:  # a constant the solver never saw; a maximisation is handed over negated
        a = -1.0 if sense < 0 else 1.0
        c = objective - a * last
    return [
        [t, None if p is None else a * p + c, None if d is None else a * d + c]
        for t, p, d in points
    ]


def make_trace(log_text: str, objective, bound, end_time, sense: int, solver_objective=None):
    """The trace of a task: the log's points in program units, then the final certified
    point at ``end_time``."""
    pts, source = parse_log(log_text or "")
    ref = solver_objective if _finite(solver_objective) else objective
    pts = to_program_units(pts, ref, sense) if pts else []
    end = float(end_time) if _finite(end_time) else (pts[-1][0] if pts else 0.0)
    if pts and end < pts[-1][0]:
        end = pts[-1][0]
    pts.append([end, objective if _finite(objective) else None, bound if _finite(bound) else None])
    return {"sense": "max" if sense < 0 else "min", "source": source or "final", "points": pts}


def _finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def gap_fn(ref, x) -> float:
    """Berthold's gap between a reference value and a value (1 when either is missing or
    their signs differ)."""
    if ref is None or x is None:
        return 1.0
    if ref == 0 and x == 0:
        return 0.0
    if ref * x < 0:
        return 1.0
    return min(1.0, abs(ref - x) / max(abs(ref), abs(x)))


def _integral(points, gamma) -> float:
    """Integral of the step function ``gamma(point)`` from 0 to the last point's time."""
    if not points:
        return math.nan
    total, prev_t, prev_g = 0.0, 0.0, 1.0  # nothing known before the first point
    for pt in points:
        t = max(float(pt[0]), prev_t)
        total += prev_g * (t - prev_t)
        prev_t, prev_g = t, gamma(pt)
    return total


def primal_dual_integral(trace) -> float:
    """Berthold's primal-dual integral of a trace, in seconds."""
    return _integral(_points(trace), lambda pt: gap_fn(pt[2], pt[1]))


def primal_integral(trace, best_known) -> float:
    """Berthold's primal integral of a trace against the instance's best known objective."""
    if not _finite(best_known):
        return math.nan
    return _integral(_points(trace), lambda pt: gap_fn(float(best_known), pt[1]))


def _points(trace) -> list:
    if isinstance(trace, str):
        try:
            trace = json.loads(trace)
        except ValueError:
            return []
    if not isinstance(trace, dict):
        return []
    return trace.get("points") or []


def load(trace) -> dict | None:
    """A row's ``trace`` value as a dict (``None`` when absent)."""
    if isinstance(trace, dict):
        return trace
    if isinstance(trace, str) and trace:
        try:
            return json.loads(trace)
        except ValueError:
            return None
    return None


def best_known(rows) -> dict:
    """``{instance: best objective}`` over the verified rows (feasible points checked by
    numpy), the minimum or maximum by the traces' sense."""
    best: dict = {}
    for r in rows:
        tr = load(r.get("trace"))
        obj = r.get("objective")
        if tr is None or not r.get("verified") or not _finite(obj):
            continue
        inst, obj = r.get("instance"), float(obj)
        better = max if tr.get("sense") == "max" else min
        best[inst] = better(best.get(inst, obj), obj)
    return best


def integrals(rows) -> dict:
    """``{id(row): (primal integral, primal-dual integral)}`` for the rows with a trace."""
    rows = list(rows)
    best = best_known(rows)
    out = {}
    for r in rows:
        tr = load(r.get("trace"))
        if tr is None:
            continue
        out[id(r)] = (primal_integral(tr, best.get(r.get("instance"))), primal_dual_integral(tr))
    return out


def cap_log(path, cap: int = LOG_CAP) -> None:
    """Keep at most ``cap`` bytes of a log file: its head and its tail."""
    import os

    try:
        size = os.path.getsize(path)
    except OSError:
        return
    if size <= cap:
        return
    half = cap // 2
    with open(path, "rb") as fh:
        head = fh.read(half)
        fh.seek(size - half)
        tail = fh.read()
    with open(path, "wb") as fh:
        fh.write(head)
        fh.write(f"\n[... {size - 2 * half} bytes cut by optml bench ...]\n".encode())
        fh.write(tail)
