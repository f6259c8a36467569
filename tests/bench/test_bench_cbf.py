"""CBF export of conic programs, read back by a reader written from the CBF 3 specification
(Friberg 2016) into cvxpy and solved there: the optimum must be the program's own.

No solver installed here reads CBF (this SCIP build lacks its CBF reader), so the reader
below is independent of the writer's code but not of its author: it follows the spec's
cone definitions (``Q``: x1 >= ||x2:||, ``QR``: 2 x1 x2 >= ||x3:||^2, ``EXP``:
x1 >= x2 exp(x3 / x2))."""

from __future__ import annotations

import numpy as np
import pytest

from optml.bench.cbf import write_cbf
from optml.bench.suite import build_instance

cp = pytest.importorskip("cvxpy")


def read_cbf(path):
    """A cvxpy problem from a CBF file (scalar variables, linear and Q/QR/EXP cones)."""
    toks = [ln.strip() for ln in open(path) if ln.strip() and not ln.startswith("#")]
    it = iter(toks)
    sec = {}
    for t in it:
        if t in ("VER", "OBJSENSE", "OBJBCOORD"):
            sec[t] = next(it)
        elif t == "VAR":
            n, k = map(int, next(it).split())
            sec[t] = (n, [next(it).split() for _ in range(k)])
        elif t == "INT":
            sec[t] = [int(next(it)) for _ in range(int(next(it)))]
        elif t == "CON":
            m, k = map(int, next(it).split())
            sec[t] = (m, [next(it).split() for _ in range(k)])
        elif t in ("OBJACOORD", "ACOORD", "BCOORD", "HCOORD", "DCOORD"):
            sec[t] = [next(it).split() for _ in range(int(next(it)))]
        elif t == "PSDCON":
            sec[t] = [int(next(it)) for _ in range(int(next(it)))]
        else:
            raise ValueError(f"section {t} not supported by this reader")
    n, doms = sec["VAR"]
    assert doms == [["F", str(n)]]
    ints = set(sec.get("INT", []))
    x = cp.Variable(n, integer=bool(ints)) if not ints else None
    if ints:
        xs = [cp.Variable(integer=(j in ints)) for j in range(n)]
        x = cp.hstack(xs)
    m, cones = sec["CON"]
    A = np.zeros((m, n))
    b = np.zeros(m)
    for i, j, v in sec.get("ACOORD", []):
        A[int(i), int(j)] = float(v)
    for i, v in sec.get("BCOORD", []):
        b[int(i)] = float(v)
    e = A @ x + b
    cons, r = [], 0
    for kind, d in cones:
        d = int(d)
        s = e[r : r + d]
        if kind == "L=":
            cons.append(s == 0)
        elif kind == "L+":
            cons.append(s >= 0)
        elif kind == "L-":
            cons.append(s <= 0)
        elif kind == "Q":
            cons.append(cp.SOC(s[0], s[1:]))
        elif kind == "QR":
            cons += [s[0] >= 0, s[1] >= 0, cp.quad_over_lin(s[2:], s[1]) <= 2 * s[0]]
        elif kind == "EXP":
            cons.append(cp.constraints.ExpCone(s[2], s[1], s[0]))
        else:
            raise ValueError(kind)
        r += d
    for k, d in enumerate(sec.get("PSDCON", [])):  # sum_j F_kj x_j + D_k is PSD
        S = cp.Variable((d, d), symmetric=True)
        terms = {}
        for kk, j, i, l, v in sec.get("HCOORD", []):
            if int(kk) == k:
                terms.setdefault((int(i), int(l)), []).append(float(v) * x[int(j)])
        const = {}
        for kk, i, l, v in sec.get("DCOORD", []):
            if int(kk) == k:
                const[(int(i), int(l))] = float(v)
        for i in range(d):
            for l in range(i + 1):
                rhs = sum(terms.get((i, l), [])) + const.get((i, l), 0.0)
                cons.append(S[i, l] == rhs)
        cons.append(S >> 0)
    c = np.zeros(n)
    for j, v in sec.get("OBJACOORD", []):
        c[int(j)] = float(v)
    obj = c @ x + float(sec.get("OBJBCOORD", 0.0))
    goal = cp.Maximize(obj) if sec["OBJSENSE"] == "MAX" else cp.Minimize(obj)
    return cp.Problem(goal, cons)


@pytest.mark.parametrize(
    "model, params, data, dparams, solver",
    [
        ("lasso", {"alpha": 0.5}, "hald", {}, "CLARABEL"),  # a QP: quadratic epigraph (QR)
        ("logistic", {}, "make_classification_tree", {"n": 25, "p": 2}, "CLARABEL"),  # EXP
        ("optml.decomposition:SparsePCA", {"n_nonzero": 2}, "hald", {}, "CLARABEL"),  # PSD
        (
            "best_subset",
            {"k": 2},
            "make_sparse_regression",
            {"n": 25, "p": 5, "k": 2},
            "SCIP",
        ),  # MISOCP (perspective form)
    ],
)
def test_cbf_round_trip(tmp_path, model, params, data, dparams, solver):
    if solver not in cp.installed_solvers():
        pytest.skip(f"{solver} not installed for cvxpy")
    prog, _, _ = build_instance(model, params, data, dparams, 0)
    f = tmp_path / "p.cbf"
    info = write_cbf(prog, f)
    assert info["cones"] > 0
    want = prog.solve(time_limit=60)
    assert want.status == "optimal", want
    got = read_cbf(f)
    got.solve(solver=solver)
    assert got.value == pytest.approx(want.objective, rel=1e-4, abs=1e-5)
