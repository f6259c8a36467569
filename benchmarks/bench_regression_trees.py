"""Optimal regression trees: optml's dynamic programming next to greedy CART and pystreed.

For every data set and depth: optml's ``OptimalRegressionTree`` (``tree-dp-regression``, the
default route) on ``thresholds=q`` quantile columns (CART's thresholds added), scikit-learn's
``DecisionTreeRegressor`` (greedy CART, same depth, every threshold of the raw features), and
pystreed's ``STreeDRegressor`` (cost_complexity 0: the sum of squared errors) on exactly the
columns optml uses (the same 0/1 matrix). Training SSE and wall time; optml's must be <= CART's
(it starts from CART's tree and its columns) and equal to pystreed's on the same columns.

Run ``python benchmarks/bench_regression_trees.py [--quick] [--out docs/perf/trees_regression.md]``
(pystreed is a benchmark-only peer: ``pip install pystreed``).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.tree import DecisionTreeRegressor

from optml.regression import OptimalRegressionTree


def _sets(quick):
    X, y = load_diabetes(return_X_y=True)
    out = [("diabetes (442 x 10)", X, y)]
    rng = np.random.default_rng(0)
    n = 1000 if quick else 2000
    Xf, yf = make_friedman1(n_samples=n, n_features=10, noise=2.0, random_state=0)
    Xf = Xf + 0.5 * rng.normal(size=(n, 1))  # correlated features
    out.append((f"friedman1, noise 2, correlated ({n} x 10)", Xf, yf))
    return out


def _sse(pred, y):
    return float(((pred - y) ** 2).sum())


def _streed(Xb, y, depth, limit):
    try:
        from pystreed import STreeDRegressor
    except ImportError:
        return None
    m = STreeDRegressor(
        optimization_task="cost-complex-regression",
        max_depth=depth,
        cost_complexity=0.0,
        time_limit=limit,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    m.fit(Xb.astype(int), y)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return _sse(m.predict(Xb.astype(int)), y), wall, cpu


def run(quick: bool, limit: float) -> list[str]:
    lines = [
        "| data | depth | q | columns | optml SSE | status (gap) | optml s (cpu) | CART SSE |"
        " pystreed SSE | pystreed s (cpu) | optml / pystreed wall (cpu) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    depths = (2, 3) if quick else (2, 3, 4)
    for name, X, y in _sets(quick):
        for q in (8,) if quick else (8, 16):
            for d in depths:
                reg = OptimalRegressionTree(max_depth=d, thresholds=q, time_limit=limit)
                t0, c0 = time.perf_counter(), time.process_time()
                reg.fit(X, y)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                prep = reg._prepare(X, y)
                Xb = X[:, prep.feats] <= prep.vals[None, :]
                cart = DecisionTreeRegressor(max_depth=d, random_state=0).fit(X, y)
                s_cart = _sse(cart.predict(X), y)
                s_opt = _sse(reg.predict(X), y)
                assert s_opt <= s_cart * (1 + 1e-9), (name, d, s_opt, s_cart)
                st = _streed(Xb, y, d, limit)
                res = reg.result_
                ps = "n/a" if st is None else f"{st[0]:.6g}"
                pt = "n/a" if st is None else f"{st[1]:.2f} ({st[2]:.2f})"
                ratio = "n/a"
                if st is not None:
                    ratio = f"{wall / max(st[1], 1e-4):.1f} ({cpu / max(st[2], 1e-4):.1f})"
                lines.append(
                    f"| {name} | {d} | {q} | {prep.feats.size} | {s_opt:.6g} | {res.status} "
                    f"({res.gap:.2f}) | {wall:.2f} ({cpu:.2f}) | {s_cart:.6g} | {ps} | {pt} | "
                    f"{ratio} |"
                )
                print(lines[-1], flush=True)
    return lines


def run_budget(limit: float) -> list[str]:
    """``max_leaf_nodes`` on breast cancer (classification, 5 quantile bins per feature):
    optml's budgeted dynamic programming, CART with the same budget, pystreed's node budget
    (``max_num_nodes = L - 1``) on the same 0/1 columns."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.tree import DecisionTreeClassifier

    from optml.classification import OptimalClassificationTree

    X, y = load_breast_cancer(return_X_y=True)
    lines = [
        "| depth | max_leaf_nodes | optml errors | status (gap) | optml s | CART errors |"
        " pystreed errors | pystreed s | optml / pystreed time |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for d, L in ((2, 3), (3, 4), (3, 6), (4, 6)):
        clf = OptimalClassificationTree(
            max_depth=d, thresholds=5, max_leaf_nodes=L, time_limit=limit
        )
        t0 = time.perf_counter()
        clf.fit(X, y)
        wall = time.perf_counter() - t0
        cart = DecisionTreeClassifier(max_depth=d, max_leaf_nodes=L, random_state=0).fit(X, y)
        e_cart = int((cart.predict(X) != y).sum())
        e_opt = int((clf.predict(X) != y).sum())
        assert e_opt <= e_cart and clf.tree_.n_leaves <= L
        prep = clf._prepare(X, y, dp=True)
        Xb = (X[:, prep.col_feature] <= prep.col_value[None, :]).astype(int)
        ps, pt = "n/a", "n/a"
        ratio = "n/a"
        try:
            from pystreed import STreeDClassifier

            m = STreeDClassifier(max_depth=d, max_num_nodes=L - 1, time_limit=limit)
            t0 = time.perf_counter()
            m.fit(Xb, y)
            tp = time.perf_counter() - t0
            ps, pt = str(int((m.predict(Xb) != y).sum())), f"{tp:.3f}"
            ratio = f"{wall / max(tp, 1e-4):.1f}"
        except ImportError:
            pass
        res = clf.result_
        lines.append(
            f"| {d} | {L} | {e_opt} | {res.status} ({res.gap:.1e}) | {wall:.2f} | {e_cart} | "
            f"{ps} | {pt} | {ratio} |"
        )
        print(lines[-1], flush=True)
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--limit", type=float, default=120.0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-budget", action="store_true", help="skip the max_leaf_nodes table")
    args = ap.parse_args()
    lines = run(args.quick, args.limit)
    budget = [] if args.no_budget else run_budget(args.limit)
    head = [
        "# Optimal regression trees (squared loss)",
        "",
        "`python benchmarks/bench_regression_trees.py"
        + (" --quick" if args.quick else "")
        + f"` on {platform.machine()}, 2 cores shared with other jobs (times are ratios "
        "within one run, not absolute). optml: `OptimalRegressionTree(thresholds=q)`, the "
        "dynamic programming `tree-dp-regression`, certified (bound = objective) unless the "
        f"status says otherwise (time limit {args.limit:g} s); CART: scikit-learn's greedy "
        "`DecisionTreeRegressor` of the same depth on the raw features; pystreed: "
        "`STreeDRegressor(cost_complexity=0)` on the same 0/1 columns as optml. Times: wall "
        "seconds, the process's CPU seconds in brackets (both tools run in this process).",
        "",
    ]
    mid = [
        "",
        "## max_leaf_nodes (classification, breast cancer, 5 quantile bins per feature)",
        "",
        "`OptimalClassificationTree(max_leaf_nodes=L)` (the budgeted search of "
        "`tree-dp-regression` with the misclassification loss, called by `tree-dp`), CART with "
        "the same `max_leaf_nodes`, and pystreed's `STreeDClassifier(max_num_nodes=L-1)` on the "
        "same 0/1 columns.",
        "",
    ]
    text = "\n".join(head + lines + (mid + budget if budget else [])) + "\n"
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
