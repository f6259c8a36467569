"""MPS / LP export, read back by HiGHS (and SCIP for SOS1): the same optimum as solving the Program."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import optml as om
from optml.exceptions import UnsupportedProblemError
from optml.program.io import write
from optml.program.settings import SolveSettings

highspy = pytest.importorskip("highspy")


def _read_and_solve(path):
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    status = h.readModel(str(path))
    assert status != highspy.HighsStatus.kError, f"HiGHS could not read {path}"
    h.run()
    ms = h.modelStatusToString(h.getModelStatus())
    return ms, h.getInfo().objective_function_value, h


def _lp(seed, maximize):
    """Ranged rows, equalities, free and negative-bounded columns, objective constant."""
    rng = np.random.default_rng(seed)
    n, m = 7, 5
    p = om.Program("lp io")
    x = p.var("x", n, lb=-1.5, ub=2.0)
    f = p.var("f", 2)  # free
    g = p.var("g", (1, 2), lb=None, ub=-0.5)  # upper bound only, 2-d block
    s = p.var("s", lb=1.0)  # scalar, lower bound only
    A = rng.normal(size=(m, n))
    r = A @ rng.uniform(-1, 1, n)
    p.add(A @ x <= r + 1.0, name="up")
    p.add(A[:3] @ x >= r[:3] - 0.5, name="lo")
    p.add(f - x[:2] == 0.25, name="link")
    p.add(g[0] >= -3.0 + 0.1 * x[2:4], name="gbox")
    p.add(s <= 4.0 + x[5], name="s_cap")
    obj = (
        rng.normal(size=n) @ x
        + np.array([0.3, -0.2]) @ f
        + np.array([1.0, 2.0]) @ g[0]
        + 0.7 * s
        + 3.25
    )
    (p.maximize(-obj) if maximize else p.minimize(obj))
    return p


def _qp(seed, maximize):
    rng = np.random.default_rng(seed)
    n, d = 20, 4
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    p = om.Program("qp")
    b = p.var("b", d, lb=-0.4, ub=0.4)
    p.add(om.sum(b) <= 0.2, name="budget")
    p.add(b[0] - b[1] >= -0.3, name="diff")
    f = om.sum_squares(y - X @ b) / (2 * n) + 0.1 * b[0] - 1.5
    (p.maximize(-f) if maximize else p.minimize(f))
    return p


def _milp(seed, maximize):
    rng = np.random.default_rng(seed)
    n = 6
    w, v = rng.integers(1, 9, n).astype(float), rng.integers(1, 9, n).astype(float)
    p = om.Program("milp")
    x = p.var("x", n, domain="binary")
    k = p.var("k", lb=-2, ub=3, domain="integer")
    j = p.var("j", lb=0, domain="integer")  # integer with no upper bound
    cap = float(w.sum() // 2)
    p.add(w @ x + 2 * k + j <= cap, name="cap")
    p.add(j <= 2.5, name="jcap")
    obj = v @ x + 1.5 * k + 0.5 * j + 0.75
    if maximize:
        p.maximize(obj)
    else:
        p.minimize(-obj)
    best = max(
        v @ np.array(z) + 1.5 * kk + 0.5 * jj + 0.75
        for z in itertools.product([0, 1], repeat=n)
        for kk in range(-2, 4)
        for jj in range(3)
        if w @ np.array(z) + 2 * kk + jj <= cap
    )
    return p, (best if maximize else -best)


@pytest.mark.parametrize("ext", ["mps", "lp"])
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("make", ["lp", "qp"])
def test_continuous_roundtrip(tmp_path, ext, maximize, make):
    p = (_lp if make == "lp" else _qp)(0, maximize)
    res = p.solve(backend="highs")
    assert res.status == "optimal"
    path = tmp_path / f"prog.{ext}"
    p.write(str(path))
    ms, obj, h = _read_and_solve(path)
    assert ms == "Optimal"
    assert obj == pytest.approx(res.objective, rel=1e-7, abs=1e-7)
    # same sense and the same number of columns
    assert h.getNumCol() == p.canonical().n
    assert (h.getLp().sense_ == highspy.ObjSense.kMaximize) == maximize


@pytest.mark.parametrize("ext", ["mps", "lp"])
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_milp_roundtrip_equals_enumeration(tmp_path, ext, maximize, seed):
    p, best = _milp(seed, maximize)
    res = p.solve(backend="highs", mip_gap=0.0)
    assert res.objective == pytest.approx(best, abs=1e-9)
    path = tmp_path / f"milp.{ext}"
    p.write(path)
    ms, obj, h = _read_and_solve(path)
    assert ms == "Optimal"
    assert obj == pytest.approx(best, abs=1e-9)
    # integrality survived the file: integer columns stay integer, with their bounds
    lp = h.getLp()
    integ = [int(t) for t in lp.integrality_]
    canon = p.canonical()
    assert [bool(t) for t in integ] == canon.integer.tolist()
    np.testing.assert_array_equal(np.array(lp.col_lower_), canon.lb)
    np.testing.assert_array_equal(np.array(lp.col_upper_), canon.ub)


@pytest.mark.parametrize("ext", ["mps", "lp"])
@pytest.mark.parametrize("maximize", [False, True])
def test_ranged_rows_roundtrip(tmp_path, ext, maximize):
    """Two-sided rows (possible in the canonical form) survive both formats."""
    import dataclasses

    from optml.backends import get_backend
    from optml.program.io import to_lp, to_mps

    canon = _lp(1, maximize).canonical()
    lo = canon.row_lb.copy()
    up = [i for name, a, b in canon.row_blocks if name == "up" for i in range(a, b)]
    lo[up] = canon.row_ub[up] - 0.3  # make every "up" row two-sided and binding-prone
    ranged = dataclasses.replace(canon, row_lb=lo)
    raw = get_backend("highs").solve(ranged, "highs", SolveSettings())
    assert raw.status == "optimal"
    text = (to_mps if ext == "mps" else to_lp)(ranged, "ranged")
    if ext == "mps":
        assert "RANGES" in text
    path = tmp_path / f"r.{ext}"
    path.write_text(text)
    ms, obj, _ = _read_and_solve(path)
    assert ms == "Optimal"
    assert obj == pytest.approx(canon.sense * raw.objective, rel=1e-7, abs=1e-7)


def test_mps_text_conventions():
    from optml.program.io import to_lp, to_mps

    p = _lp(2, maximize=True)
    text = to_mps(p.canonical(), "t")
    assert "OBJSENSE\n    MAX" in text
    assert " FR BND  f_0" in text and " MI BND  g_0_0" in text
    # maximise -(... + 3.25): the constant -3.25 is minus the RHS of the objective row
    assert "    RHS  OBJ  3.25" in text
    lp = to_lp(p.canonical(), "t")
    assert lp.startswith("\\ t") and "Maximize" in lp and "f_0 free" in lp
    assert "up_0:" in lp and "lo_0:" in lp


def test_quadratic_text_forms():
    p = om.Program("q")
    x = p.var("x", 2)
    p.minimize(om.quad_form(x, np.array([[2.0, 0.5], [0.5, 1.0]])) + x[0])
    from optml.program.io import to_lp, to_mps

    canon = p.canonical()
    assert "QUADOBJ" in to_mps(canon) and "/ 2" in to_lp(canon)


def test_sos1_written_and_read_by_scip(tmp_path):
    scip = pytest.importorskip("pyscipopt")
    p = om.Program("sos")
    x = p.var("x", 4, lb=0, ub=2)
    p.add(np.array([1.0, 2.0, 1.5, 1.0]) @ x <= 3, name="cap")
    p.add_sos1(x)
    p.maximize(np.array([1.0, 3.0, 2.5, 1.2]) @ x)
    best = max(c * min(2.0, 3.0 / a) for c, a in [(1, 1), (3, 2), (2.5, 1.5), (1.2, 1)])
    res = p.solve(backend="highs")
    assert res.objective == pytest.approx(best)
    for ext in ("mps", "lp"):
        path = tmp_path / f"sos.{ext}"
        p.write(path)
        m = scip.Model()
        m.hideOutput()
        m.readProblem(str(path))
        assert m.getNConss() >= 2, ext  # the SOS1 set is a constraint of its own
        m.optimize()
        assert m.getObjVal() == pytest.approx(best, abs=1e-7), ext


def test_names_from_blocks_and_constraints():
    p = om.Program("names")
    Z = p.var("Z", (2, 3), lb=0, ub=1)
    p.add(Z.sum(axis=1) <= 1, name="row cap")
    p.minimize(-Z.sum())
    from optml.program.io import column_names, row_names

    canon = p.canonical()
    assert column_names(canon)[:6] == ["Z_0_0", "Z_0_1", "Z_0_2", "Z_1_0", "Z_1_1", "Z_1_2"]
    assert row_names(canon) == ["row_cap_0", "row_cap_1"]


def test_errors(tmp_path):
    p = om.Program("cone")
    x = p.var("x", 3)
    p.add(om.norm2(x) <= 1)
    p.minimize(om.sum(x))
    with pytest.raises(UnsupportedProblemError, match="cone"):
        p.write(tmp_path / "c.mps")
    q = _lp(0, False)
    with pytest.raises(ValueError, match=r"\.mps or \.lp"):
        q.write(tmp_path / "c.txt")


# ---------------------------------------------------------------- R11: names every reader takes
def _read_scip(path):
    scip = pytest.importorskip("pyscipopt")
    m = scip.Model()
    m.hideOutput()
    m.readProblem(str(path))  # raises OSError("SCIP: read error!") on a file it rejects
    m.setParam("limits/gap", 0.0)
    m.optimize()
    return m.getStatus(), m.getObjVal(), m


def _hostile_names_program(maximize):
    """Constraint lists under one name, keyword and digit names, 300-character names, a
    quadratic objective with a constant (R11)."""
    p = om.Program("names test: [odd] / 1")
    x = p.var("x", 3, lb=-1, ub=2)
    e1 = p.var("e1", lb=0, ub=3)  # read as a number by LP readers
    free = p.var("free", lb=-2, ub=2)  # an LP keyword
    long = p.var("v" * 300, 2, lb=0, ub=1)  # names beyond 255 characters
    p.add([x[0] + x[1] <= 2, x[0] - x[1] <= 1, x[2] + e1 >= 0.5], name="cap")
    p.add(x[1] + free <= 1.5, name="cap_0")  # collides with the list's first row, sanitised
    p.add(long[0] + long[1] <= 1.2 + x[2], name="c" * 300)
    p.add(free - long[1] >= -1.0, name="st")
    lin = x[0] + 2 * x[1] - x[2] + 0.5 * e1 - free + long[0] + 0.3 * long[1]
    quad = om.sum_squares(x - np.array([0.5, -0.2, 1.0])) + om.sum_squares(e1 - 1)
    if maximize:
        p.maximize(lin - quad + 7.5)
    else:
        p.minimize(quad - lin - 7.5)
    return p


@pytest.mark.parametrize("ext", ["mps", "lp"])
@pytest.mark.parametrize("maximize", [False, True])
def test_R11_exports_read_back_by_highs_and_scip(tmp_path, ext, maximize):
    p = _hostile_names_program(maximize)
    res = p.solve(backend="highs")
    assert res.status == "optimal"
    path = tmp_path / f"names.{ext}"
    names = write(p, path)
    ms, obj, h = _read_and_solve(path)
    assert ms == "Optimal"
    assert obj == pytest.approx(res.objective, rel=1e-6, abs=1e-6)
    status, sobj, m = _read_scip(path)
    assert status == "optimal"
    assert sobj == pytest.approx(res.objective, rel=1e-5, abs=1e-5)
    # every name in the file is legal, unique and maps back to the program's names
    cols = list(h.getLp().col_names_)
    assert len(set(cols)) == len(cols) == p.canonical().n
    assert all(len(c) <= 255 and "[" not in c for c in cols)
    assert set(cols) <= set(names["columns"])
    assert names["columns"]["x_1"] == "x[1]" and names["columns"]["_e1"] == "e1"
    rows = list(h.getLp().row_names_)
    assert all(r in names["rows"] for r in rows)
    assert sorted(names["rows"][r] for r in rows if names["rows"][r].startswith("cap[")) == [
        "cap[0]",
        "cap[1]",
        "cap[2]",
    ]
    assert "c" * 300 in names["rows"].values()


@pytest.mark.parametrize("ext", ["mps", "lp"])
@pytest.mark.parametrize("make", ["lp", "qp", "milp"])
def test_R11_every_export_read_back_by_scip(tmp_path, ext, make):
    p = _milp(0, True)[0] if make == "milp" else (_lp if make == "lp" else _qp)(0, False)
    res = p.solve(backend="highs", mip_gap=0.0)
    path = tmp_path / f"p.{ext}"
    p.write(path)
    status, obj, _ = _read_scip(path)
    assert status == "optimal"
    assert obj == pytest.approx(res.objective, rel=1e-6, abs=1e-6)


def test_R11_name_sanitiser():
    from optml.program.io import _clean

    for raw in ["cap[0]", "1st", "e12", "E", "st", "a b:c", "x" * 400, "ok_name.1"]:
        s = _clean(raw)
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", s), (raw, s)
        assert len(s) <= 255
        assert not re.match(r"[eE]([0-9eE.]|$)", s)
    assert _clean("ok_name.1") == "ok_name.1"
    assert _clean("x" * 400) != _clean("x" * 399 + "y")  # truncated names stay apart
