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
    t0 = time.perf_counter()
    s = STreeDClassifier(max_depth=depth, time_limit=limit, cost_complexity=0.0)
    s.fit(Xb.astype(int), y)
    wall = time.perf_counter() - t0
    return int((s.predict(Xb.astype(int)) != y).sum()), wall


def _fmt(x, nd=2):
    return "-" if x is None else f"{x:.{nd}f}"


def run(quick: bool, limit: float) -> list[str]:
    rows = [
        "| data | depth | quant-bnb errors | status | bound | gap | quant-bnb (s) "
        "| tree-dp 4q errors | tree-dp (s) | pystreed 4q errors | pystreed 4q (s) "
        "| pystreed all thresholds | pystreed all (s) | CART errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, X, y in _sets(quick):
        Xb4, _ = binarize(X, thresholds=5)
        Xall, _ = binarize(X, thresholds="all")
        for depth in (2, 3):
            t0 = time.perf_counter()
            qb = OptimalClassificationTree(
                max_depth=depth, solver="quant-bnb", time_limit=limit
            ).fit(X, y)
            t_qb = time.perf_counter() - t0
            r = qb.result_
            err_qb = int((qb.predict(X) != y).sum())
            t0 = time.perf_counter()
            dp = OptimalClassificationTree(max_depth=depth, thresholds=5, time_limit=limit).fit(
                X, y
            )
            t_dp = time.perf_counter() - t0
            err_dp = int((dp.predict(X) != y).sum())
            ps4 = _pystreed(Xb4, y, depth, limit)
            psall = _pystreed(Xall, y, depth, limit) if Xall.shape[1] <= 20000 else None
            cart = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X, y)
            err_cart = int((cart.predict(X) != y).sum())
            rows.append(
                f"| {name} | {depth} | {err_qb} | {r.status} | {r.bound:.0f} | {r.gap:.3f} "
                f"| {t_qb:.2f} | {err_dp} | {t_dp:.2f} "
                f"| {'-' if ps4 is None else ps4[0]} | {_fmt(None if ps4 is None else ps4[1])} "
                f"| {'-' if psall is None else psall[0]} "
                f"| {_fmt(None if psall is None else psall[1])} | {err_cart} |"
            )
            print(rows[-1], flush=True)  # noqa: T201 (a benchmark script)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
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
        "greedy. Every tool in the same run, with the same time limit.",
        "",
    ]
    text = "\n".join(head + rows) + "\n"
    with open(args.out, "w") as fh:
        fh.write(text)
    print(text)  # noqa: T201


if __name__ == "__main__":
    main()
