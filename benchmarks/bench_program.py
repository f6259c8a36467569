"""Benchmark the program layer's hand-off to solvers: HiGHS direct, cvxpy, and ``import optml``.

Run: ``python benchmarks/bench_program.py [--quick] [--repeat 3] [--out docs/perf/program_cvxpy.md]``

Each figure is printed next to its baseline, measured in the same run (best of ``--repeat``):

(a) A 10^6-nonzero LP (random sparse ``A`` 20000 x 5000, density 0.01, ``A x <= b`` feasible by
    construction, ``0 <= x <= 1``). The COO arrays are generated before timing.
    *optml*: build the :class:`~optml.Program` (``A @ x <= b`` with ``A`` a scipy CSR matrix),
    lower it to the canonical form, and hand it to HiGHS with ``passModel``
    (what ``Program.solve(backend="highs")`` does before ``Highs.run``).
    *baseline*: build the same CSR/CSC matrix with scipy and call ``highspy`` ``passModel``.
    Both timings include making the CSR matrix from the COO arrays. Target: <= 1.5x.
(b) The same LP through the cvxpy backend, timed to the solver call: build the Program, lower it,
    build the cvxpy problem, and run cvxpy's compilation (``Problem.get_problem_data`` for the
    solver). *baseline*: hand-written vectorised cvxpy (one variable with ``bounds=``,
    ``A @ x <= b``) and the same ``get_problem_data``. Target: <= 1.5x.
(c) ``import optml`` in a fresh interpreter, minus the interpreter's own start-up (``python -c
    pass``). Target: < 0.3 s.

Benchmarks are not tests; timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import optml as om  # noqa: E402


def best(fn, repeat: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def lp_data(m: int, n: int, density: float, seed: int = 0):
    """COO arrays of a random sparse LP, feasible at x0 in (0, 1)."""
    rng = np.random.default_rng(seed)
    nnz = int(m * n * density)
    flat = rng.choice(m * n, size=nnz, replace=False)
    rows, cols = np.divmod(flat, n)
    vals = rng.normal(size=nnz)
    x0 = rng.uniform(0, 1, n)
    A = sp.csr_matrix((vals, (rows, cols)), shape=(m, n))
    b = A @ x0 + rng.uniform(0, 1, m)
    c = -rng.uniform(0, 1, n)
    return rows, cols, vals, b, c


# ----------------------------------------------------------------------------- (a) HiGHS
def optml_highs(data, m, n):
    from optml.backends.highs import new_highs, pass_canonical

    rows, cols, vals, b, c = data
    A = sp.csr_matrix((vals, (rows, cols)), shape=(m, n))
    p = om.Program("lp")
    x = p.var("x", shape=n, lb=0, ub=1)
    p.add(A @ x <= b, name="rows")
    p.minimize(c @ x)
    canon = p.canonical()
    h = new_highs(False)
    pass_canonical(h, canon)
    return h


def baseline_highs(data, m, n):
    import highspy

    from optml.backends.highs import new_highs

    rows, cols, vals, b, c = data
    A = sp.csr_matrix((vals, (rows, cols)), shape=(m, n)).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_ = c
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.row_lower_ = np.full(m, -highspy.kHighsInf)
    lp.row_upper_ = b
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    h = new_highs(False)  # same silent instance as optml's path
    h.passModel(lp)
    return h


# ----------------------------------------------------------------------------- (b) cvxpy
def optml_cvxpy(data, m, n, solver):
    from optml.backends.cvxpy_backend import build

    rows, cols, vals, b, c = data
    A = sp.csr_matrix((vals, (rows, cols)), shape=(m, n))
    p = om.Program("lp")
    x = p.var("x", shape=n, lb=0, ub=1)
    p.add(A @ x <= b, name="rows")
    p.minimize(c @ x)
    model = build(p.canonical())
    return model.problem.get_problem_data(solver)


def baseline_cvxpy(data, m, n, solver):
    import cvxpy as cp

    rows, cols, vals, b, c = data
    A = sp.csr_matrix((vals, (rows, cols)), shape=(m, n))
    x = cp.Variable(n, bounds=[np.zeros(n), np.ones(n)])
    prob = cp.Problem(cp.Minimize(c @ x), [A @ x <= b])
    return prob.get_problem_data(solver)


# ----------------------------------------------------------------------------- (c) import
def import_time(repeat: int) -> tuple[float, float]:
    def run(code):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        return time.perf_counter() - t

    bare = min(run("pass") for _ in range(repeat))
    full = min(run("import optml") for _ in range(repeat))
    return full - bare, bare


def import_time_self() -> float:
    """Cumulative ``import optml`` time as Python's ``-X importtime`` reports it (seconds)."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import optml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stderr
    for line in err.splitlines():
        parts = [x.strip() for x in line.split("|")]
        if len(parts) == 3 and parts[2] == "optml":
            return int(parts[1]) / 1e6
    return float("nan")


def phases(data, m, n):
    """Where optml's time goes (one run): build, lower, hand to HiGHS, build cvxpy."""
    from optml.backends.cvxpy_backend import build
    from optml.backends.highs import new_highs, pass_canonical

    rows, cols, vals, b, c = data
    out = {}
    t = time.perf_counter()
    A = sp.csr_matrix((vals, (rows, cols)), shape=(m, n))
    out["CSR from COO (scipy)"] = time.perf_counter() - t
    t = time.perf_counter()
    p = om.Program("lp")
    x = p.var("x", shape=n, lb=0, ub=1)
    p.add(A @ x <= b)
    p.minimize(c @ x)
    out["Program build"] = time.perf_counter() - t
    t = time.perf_counter()
    canon = p.canonical()
    out["lower to canonical form"] = time.perf_counter() - t
    t = time.perf_counter()
    pass_canonical(new_highs(False), canon)
    out["HiGHS passModel (optml)"] = time.perf_counter() - t
    t = time.perf_counter()
    build(canon)
    out["cvxpy problem build (optml)"] = time.perf_counter() - t
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 10^5-nonzero LP instead of 10^6")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--solver", default="CLARABEL", help="cvxpy solver for get_problem_data")
    ap.add_argument("--out", default=None, help="write the markdown table here")
    a = ap.parse_args(argv)
    m, n, dens = (20000, 5000, 0.01) if not a.quick else (6000, 1500, 0.0111)
    data = lp_data(m, n, dens)
    nnz = len(data[2])
    import cvxpy  # noqa: F401  (imports are not part of the figures)
    import highspy  # noqa: F401

    baseline_highs(data, m, n)  # warm-up (first Highs() banner, allocator)
    rows = []
    t_o, _ = best(lambda: optml_highs(data, m, n), a.repeat)
    t_b, _ = best(lambda: baseline_highs(data, m, n), a.repeat)
    rows.append(("(a) LP -> HiGHS passModel", t_o, "scipy CSR + highspy passModel", t_b, 1.5))
    t_o, _ = best(lambda: optml_cvxpy(data, m, n, a.solver), a.repeat)
    t_b, _ = best(lambda: baseline_cvxpy(data, m, n, a.solver), a.repeat)
    rows.append(
        (
            f"(b) LP -> cvxpy get_problem_data({a.solver})",
            t_o,
            "hand-written vectorised cvxpy",
            t_b,
            1.5,
        )
    )
    t_i, bare = import_time(max(a.repeat, 5))
    rows.append(("(c) import optml (fresh interpreter)", t_i, "target", 0.3, None))
    ph = phases(data, m, n)

    lines = [
        f"LP: {m} x {n}, {nnz} nonzeros; best of {a.repeat}; python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cpus",
        "",
        "| figure | optml (s) | baseline | baseline (s) | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, to, bname, tb, target in rows:
        if target is None:
            lines.append(
                f"| {name} | {to:.3f} | {bname} | < {tb:.2f} | | < {tb} s | "
                f"{'yes' if to < tb else 'NO'} |"
            )
        else:
            r = to / tb
            lines.append(
                f"| {name} | {to:.3f} | {bname} | {tb:.3f} | {r:.2f}x | <= {target}x | "
                f"{'yes' if r <= target else 'NO'} |"
            )
    lines += [
        "",
        f"Interpreter start-up alone (subtracted in (c)): {bare:.3f} s; "
        f"`python -X importtime` reports {import_time_self():.4f} s cumulative for optml",
        "",
        "Where optml's time goes (one run):",
        "",
        "| phase | s |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v:.3f} |" for k, v in ph.items()]
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(HEADER + text + "\n")
        print(f"\nwrote {a.out}")


HEADER = """# Program layer: hand-off to HiGHS and cvxpy, and import time

Measured by `python benchmarks/bench_program.py --out docs/perf/program_cvxpy.md`
(see the script's docstring for exactly what each figure times). The baselines are measured in
the same run. Shared 2-core machine: figures are noisy, take ratios rather than absolutes.

"""

if __name__ == "__main__":
    main()
