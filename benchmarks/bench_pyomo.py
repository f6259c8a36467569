"""Building a 10^6-nonzero LP and handing it to HiGHS: optml's Pyomo backend vs highspy directly.

The LP: ``min c'x  s.t.  A x <= b, 0 <= x <= 1`` with a random sparse ``A`` (20000 x 5000,
density 0.01, so 10^6 nonzeros) and ``b = A x0 + 1`` for a random ``x0`` in the box, so it is
feasible by construction. Every figure is the time *up to the solver call* (HiGHS ``run`` is
not timed), measured in the same process:

* baseline: ``scipy.sparse.csr_matrix`` from the (row, col, value) arrays + ``Highs.passModel``;
* optml -> highs backend: ``Program`` build + canonical form + ``passModel``;
* optml -> pyomo backend: ``Program`` build + canonical form + vectorised Pyomo model
  (:func:`optml.backends.pyomo_backend.to_pyomo`) + Pyomo's HiGHS interface ``set_instance``
  (contrib ``highs``, and the older ``appsi_highs`` for comparison);
* for reference, the Pyomo model built element by element (``Constraint`` rule with
  ``quicksum`` over each row) and handed to the same interface (``--elementwise``).

``--stock`` and ``--appsi`` add the same vectorised Pyomo model handed to Pyomo's stock
interfaces (the backend uses the contrib interface with a fast path for plain linear rows).

Run ``python benchmarks/bench_pyomo.py`` (about a minute; ``--small`` for a quick check).
Target (issue 2): the Pyomo route within 10x the baseline.
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np
import scipy.sparse as sp


def make_data(m, n, density, seed=0):
    rng = np.random.default_rng(seed)
    nnz = int(round(m * n * density))
    flat = rng.choice(m * n, size=nnz, replace=False)
    rows, cols = np.divmod(flat, n)
    vals = rng.uniform(-1.0, 1.0, nnz)
    x0 = rng.uniform(0.0, 1.0, n)
    A = sp.csr_matrix((vals, (rows, cols)), shape=(m, n))
    b = A @ x0 + 1.0
    c = rng.uniform(-1.0, 1.0, n)
    return rows, cols, vals, b, c


def timed(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        if repeat > 1:
            out = None
    return best, out


def baseline(data):
    import highspy

    from optml.backends.highs import new_highs

    rows, cols, vals, b, c = data
    m, n = b.size, c.size
    A = sp.csr_matrix((vals, (rows, cols)), shape=(m, n)).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_ = c
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_, lp.row_upper_ = np.full(m, -highspy.kHighsInf), b
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    h = new_highs()
    h.passModel(lp)
    return h


def program(data):
    import optml as om

    rows, cols, vals, b, c = data
    A = sp.csr_matrix((vals, (rows, cols)), shape=(b.size, c.size))
    p = om.Program("lp1e6")
    x = p.var("x", c.size, lb=0.0, ub=1.0)
    p.add(A @ x <= b, name="rows")
    p.minimize(c @ x)
    return p.canonical()


def optml_highs(data):
    from optml.backends.highs import new_highs, pass_canonical

    canon = program(data)
    h = new_highs()
    pass_canonical(h, canon)
    return h


def optml_pyomo(data, interface="optml", parts=None):
    from optml.backends.pyomo_backend import to_pyomo

    t0 = time.perf_counter()
    canon = program(data)
    t1 = time.perf_counter()
    model, cols, kept = to_pyomo(canon)
    t2 = time.perf_counter()
    if interface == "optml":  # exactly what the backend does (GC paused, fast path)
        from optml.backends.pyomo_backend import highs_instance

        opt = highs_instance(model)
    else:
        opt = _interface(interface)
        opt.set_instance(model)
    t3 = time.perf_counter()
    if parts is not None:
        parts.update(program=t1 - t0, pyomo_model=t2 - t1, set_instance=t3 - t2)
    return opt, model


def _interface(name):
    if name == "optml":  # what the pyomo backend uses: contrib highs + linear-row fast path
        from optml.backends.pyomo_backend import _highs_class

        return _highs_class()()
    if name == "contrib":
        from pyomo.contrib.solver.solvers.highs import Highs
    else:
        from pyomo.contrib.appsi.solvers import Highs
    return Highs()


def elementwise(data, interface="contrib", parts=None):
    import pyomo.environ as pe

    rows, cols, vals, b, c = data
    m, n = b.size, c.size
    t0 = time.perf_counter()
    A = sp.csr_matrix((vals, (rows, cols)), shape=(m, n))
    M = pe.ConcreteModel()
    M.I, M.J = pe.RangeSet(0, m - 1), pe.RangeSet(0, n - 1)
    M.x = pe.Var(M.J, bounds=(0, 1))
    ptr, idx, dat = A.indptr, A.indices, A.data

    def row(M, i):
        if ptr[i] == ptr[i + 1]:
            return pe.Constraint.Skip
        return pe.quicksum(dat[k] * M.x[idx[k]] for k in range(ptr[i], ptr[i + 1])) <= b[i]

    M.c = pe.Constraint(M.I, rule=row)
    M.obj = pe.Objective(expr=pe.quicksum(c[j] * M.x[j] for j in M.J))
    t1 = time.perf_counter()
    opt = _interface(interface)
    opt.set_instance(M)
    t2 = time.perf_counter()
    if parts is not None:
        parts.update(pyomo_model=t1 - t0, set_instance=t2 - t1)
    return opt


def check_same_lp(data):
    """The three routes hand HiGHS the same LP: equal optima (solved once, not timed)."""
    from pyomo.contrib.solver.common.results import TerminationCondition

    h = baseline(data)
    h.setOptionValue("time_limit", 600.0)
    h.run()
    ref = h.getInfo().objective_function_value
    h2 = optml_highs(data)
    h2.run()
    opt, model = optml_pyomo(data, "optml")
    res = opt.solve(
        model,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        solver_options={"output_flag": False},
    )
    ok = res.termination_condition == TerminationCondition.convergenceCriteriaSatisfied
    return ref, h2.getInfo().objective_function_value, res.incumbent_objective if ok else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--m", type=int, default=20000)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--density", type=float, default=0.01)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--small", action="store_true", help="2000 x 500 instance")
    ap.add_argument("--elementwise", action="store_true", help="also the element-wise build")
    ap.add_argument("--appsi", action="store_true", help="also stock appsi_highs")
    ap.add_argument("--stock", action="store_true", help="also stock contrib highs")
    ap.add_argument("--check", action="store_true", help="solve once and compare the optima")
    a = ap.parse_args(argv)
    if a.small:
        a.m, a.n = 2000, 500
    data = make_data(a.m, a.n, a.density)
    nnz = data[0].size
    print(f"LP {a.m} x {a.n}, {nnz} nonzeros; seconds up to the solver call (best of {a.repeat})")
    import pyomo.environ  # noqa: F401  (import time is not part of any figure)

    warm = make_data(50, 20, 0.1, seed=1)  # first HiGHS instance, first Pyomo model: not timed
    baseline(warm), optml_highs(warm), optml_pyomo(warm)

    t_base, _ = timed(lambda: baseline(data), a.repeat)
    t_hi, _ = timed(lambda: optml_highs(data), a.repeat)
    rows = [
        ("scipy CSR + highspy passModel (baseline)", t_base, ""),
        ("optml Program -> highs backend (passModel)", t_hi, ""),
    ]
    routes = [("optml", "pyomo backend (contrib highs + linear fast path)")]
    routes += [("contrib", "same Pyomo model -> stock contrib highs")] if a.stock else []
    routes += [("appsi", "same Pyomo model -> stock appsi_highs")] if a.appsi else []
    for key, label in routes:
        parts = {}
        t, _ = timed(lambda key=key, parts=parts: optml_pyomo(data, key, parts), a.repeat)
        rows.append(
            (
                f"optml Program -> {label}",
                t,
                "program {program:.2f} + pyomo model {pyomo_model:.2f} + set_instance "
                "{set_instance:.2f}".format(**parts),
            )
        )
    if a.elementwise:
        pe_ = {}
        t_el, _ = timed(lambda: elementwise(data, "contrib", pe_), 1)
        rows.append(
            (
                "Pyomo element by element (quicksum) -> contrib highs",
                t_el,
                "pyomo model {pyomo_model:.2f} + set_instance {set_instance:.2f}".format(**pe_),
            )
        )
    else:
        rows.append(
            (
                "Pyomo element by element (quicksum)",
                float("nan"),
                "skipped (run with --elementwise)",
            )
        )
    print(f"{'route':58s} {'seconds':>8s} {'x baseline':>10s}  parts")
    for name, t, note in rows:
        print(f"{name:58s} {t:8.3f} {t / t_base:10.1f}  {note}")
    if a.check:
        print("optima (baseline, highs backend, pyomo backend):", check_same_lp(data))


if __name__ == "__main__":
    main()
