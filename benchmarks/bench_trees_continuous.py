"""Optimal classification trees on raw continuous features (every threshold) by "quant-bnb",
against the binarised routes and peers in the same run.

For each data set and depth (2 and 3):

- **quant-bnb**: ``OptimalClassificationTree(max_depth=d, solver="quant-bnb",
  time_limit=LIMIT)`` on the raw features: optimal over every threshold, certified (status,
  bound, gap);
- **tree-dp (4 quantiles)**: ``OptimalClassificationTree(max_depth=d, thresholds=5)``: the
  dynamic programming on 4 quantile thresholds per feature (optimal over those only);
- **pystreed** (when importable, benchmark environment only) on the same 4-quantile binary
  columns, and on every threshold as a binary column (the same problem quant-bnb solves);
- **CART** (scikit-learn, its own thresholds on the raw features, greedy).

Errors are training misclassifications. Run ``python benchmarks/bench_trees_continuous.py``
(``--quick`` for a short run, ``--limit S`` for the time limit); writes
docs/perf/trees_continuous.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine, make_classification
from sklearn.tree import DecisionTreeClassifier

from optml.classification import OptimalClassificationTree
from optml.data import binarize

OUT = os.path.join(os.path.dirname(__file__), "..", "docs", "perf", "trees_continuous.md")


def _sets(quick: bool):
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast_cancer (569 x 30)", X, y
    X, y = load_wine(return_X_y=True)
    yield "wine (178 x 13, 3 classes)", X, y
    if not quick:
        X, y = make_classification(
            n_samples=1000,
            n_features=10,
            n_informative=5,
            n_redundant=2,
            flip_y=0.1,
            random_state=0,
        )
        yield "make_classification (1000 x 10, flip_y=0.1)", X, y


def _pystreed(Xb, y, depth, limit):
    try:
        from pystreed import STreeDClassifier
    except ImportError:
        return None
    t0, c0 = time.perf_counter(), time.process_time()
    s = STreeDClassifier(max_depth=depth, time_limit=limit, cost_complexity=0.0)
    s.fit(Xb.astype(int), y)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return int((s.predict(Xb.astype(int)) != y).sum()), wall, cpu


_CHILD = """
import sys, time, numpy as np
from pystreed import STreeDClassifier
d = np.load(sys.argv[1])
X, y = d["X"], d["y"]
t0, c0 = time.perf_counter(), time.process_time()
s = STreeDClassifier(max_depth=int(sys.argv[2]), time_limit=float(sys.argv[3]),
                     cost_complexity=0.0).fit(X, y)
print(int((s.predict(X) != y).sum()), time.perf_counter() - t0, time.process_time() - c0)
"""


def _pystreed_subprocess(Xb, y, depth, limit):
    """pystreed in a child process, killed at ``limit + 30`` s (on thousands of columns it
    may not stop at its own limit). Returns (errors, s), ("killed", s) or None."""
    import subprocess
    import sys
    import tempfile

    try:
        import pystreed  # noqa: F401
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data.npz")
        np.savez(path, X=Xb.astype(np.int32), y=y)
        cmd = [sys.executable, "-c", _CHILD, path, str(depth), str(limit)]
        t0 = time.perf_counter()
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=limit + 30)
        except subprocess.TimeoutExpired:
            return "killed", time.perf_counter() - t0, None
        if out.returncode != 0:
            return "failed", time.perf_counter() - t0, None
        err, wall, cpu = out.stdout.split()
        return int(err), float(wall), float(cpu)


def _fmt(x, nd=2):
    return "-" if x is None else f"{x:.{nd}f}"


def _t(res):
    """'wall (cpu)' of a peer's result, or '-'."""
    if res is None:
        return "-"
    return f"{res[1]:.2f} ({_fmt(res[2])})"


def run(quick: bool, limit: float) -> list[str]:
    rows = [
        "| data | depth | quant-bnb errors | status | bound | gap | quant-bnb s (cpu) "
        "| tree-dp 4q errors | tree-dp s (cpu) | pystreed 4q errors | pystreed 4q s (cpu) "
        "| pystreed all thresholds | pystreed all s (cpu) | CART errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, X, y in _sets(quick):
        Xb4, _ = binarize(X, thresholds=5)
        Xall, _ = binarize(X, thresholds="all")
        for depth in (2, 3):
            t0, c0 = time.perf_counter(), time.process_time()
            qb = OptimalClassificationTree(
                max_depth=depth, solver="quant-bnb", time_limit=limit
            ).fit(X, y)
            t_qb, c_qb = time.perf_counter() - t0, time.process_time() - c0
            r = qb.result_
            err_qb = int((qb.predict(X) != y).sum())
            t0, c0 = time.perf_counter(), time.process_time()
            dp = OptimalClassificationTree(max_depth=depth, thresholds=5, time_limit=limit).fit(
                X, y
            )
            t_dp, c_dp = time.perf_counter() - t0, time.process_time() - c0
            err_dp = int((dp.predict(X) != y).sum())
            ps4 = _pystreed(Xb4, y, depth, limit)
            psall = _pystreed_subprocess(Xall, y, depth, limit)
            cart = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X, y)
            err_cart = int((cart.predict(X) != y).sum())
            rows.append(
                f"| {name} | {depth} | {err_qb} | {r.status} | {r.bound:.0f} | {r.gap:.3f} "
                f"| {t_qb:.2f} ({c_qb:.2f}) | {err_dp} | {t_dp:.2f} ({c_dp:.2f}) "
                f"| {'-' if ps4 is None else ps4[0]} | {_t(ps4)} "
                f"| {'-' if psall is None else psall[0]} | {_t(psall)} | {err_cart} |"
            )
            print(rows[-1], flush=True)  # noqa: T201 (a benchmark script)
    return rows


def early_bound(reps: int = 1) -> list[str]:
    """When quant-bnb's root bound first turns nonzero on raw breast cancer at depth 3 (CART's
    tree as the incumbent), with the coarse first pass over every feature's middle cut
    (``COARSE = 0.25``, the default) and without it (``COARSE = 0``), alternating in one
    process: CPU seconds (polled every 0.1 s of CPU) at each rise of the bound, and to
    certify."""
    from optml.algorithms import tree_quant_bnb as Q
    from optml.classification import _tree_build as tb

    X, y = load_breast_cancer(return_X_y=True)
    W = np.eye(2)[y]
    est = OptimalClassificationTree(max_depth=3)
    cart = tb._fit_cart(est, X, y, np.ones(y.size))
    init = (np.full(7, X.shape[1], dtype=np.int64), np.zeros(7))
    for h, j, t in cart:
        init[0][h], init[1][h] = j, t

    class Logged(Q.QuantBnB):
        def _check_time(self):
            t = time.process_time() - self.c0
            if t >= self.next_poll and self.root is not None:
                self.next_poll = t + 0.1
                lb = self.root.bound()
                if lb > self.log[-1][1]:
                    self.log.append((t, lb))
            return super()._check_time()

    rows = [
        "| first pass | first nonzero bound (CPU s, bound) | bound rises (CPU s: bound) |"
        " optimum | certified after (CPU s) |",
        "|---|---|---|---|---|",
    ]
    keep = Q.COARSE
    try:
        for _ in range(reps):
            for coarse in (keep, 0.0):
                Q.COARSE = coarse
                b = Logged(X, W)
                b.c0, b.next_poll, b.log = time.process_time(), 0.0, [(0.0, 0.0)]
                c0 = b.evaluate(np.arange(y.size), Q._from_heap(*init, X.shape[1]))
                lb, cost, _ = b.solve(np.arange(y.size), 3, c0 + 1e-7, root=True)
                cpu = time.process_time() - b.c0
                rises = ", ".join(f"{t:.2f}: {v:g}" for t, v in b.log[1:])
                first = f"{b.log[1][0]:.2f} s, {b.log[1][1]:g}" if len(b.log) > 1 else "-"
                name = f"middle cuts below {coarse:g} x incumbent" if coarse else "none (before)"
                rows.append(f"| {name} | {first} | {rises} | {min(cost, c0):g} | {cpu:.2f} |")
                print(rows[-1], flush=True)  # noqa: T201
    finally:
        Q.COARSE = keep
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--out", default=OUT)
    ap.add_argument(
        "--early-bound",
        action="store_true",
        help="only the early-bound table (quant-bnb with and without its first pass)",
    )
    args = ap.parse_args()
    if args.early_bound:
        early_bound()
        return
    rows = run(args.quick, args.limit)
    head = [
        "# Optimal trees on continuous features (every threshold): quant-bnb",
        "",
        f"`python benchmarks/bench_trees_continuous.py{' --quick' if args.quick else ''}"
        f" --limit {args.limit:g}` on {platform.machine()}, {os.cpu_count()} cores "
        f"({time.strftime('%Y-%m-%d')}). Training misclassifications; quant-bnb optimises over "
        "every threshold of the raw features and proves it (`bound`, `gap`); tree-dp and "
        "pystreed `4q` over 4 quantile thresholds per feature only; `pystreed all thresholds` "
        "receives every midpoint as a binary column (the same problem as quant-bnb); CART is "
        "greedy. Every tool in the same run, with the same time limit. Times: wall seconds, "
        "with the process's CPU seconds in brackets (the machine is shared: CPU time is what "
        "one core alone would take). tree-dp `4q` also gets CART's thresholds (the estimator "
        "adds them), pystreed `4q` only the quantiles. `killed`: no answer by the time "
        "limit + 30 s (pystreed does not stop at its limit on thousands of columns).",
        "",
    ]
    text = "\n".join(head + rows) + "\n"
    with open(args.out, "w") as fh:
        fh.write(text)
    print(text)  # noqa: T201


if __name__ == "__main__":
    main()
