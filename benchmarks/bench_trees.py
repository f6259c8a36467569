"""Optimal classification trees: certified trees by dynamic programming and by MIP, vs pystreed
and CART.

Run ``python benchmarks/bench_trees.py [--quick] [--out docs/perf/trees.md]``
(``--only dp,mip4,pairs4,certify,cv`` picks sections).

0. ``dp``: the registered solver ``tree-dp`` (dynamic programming with bounds) at depths 2-5
   on breast_cancer, wine, digits 3 vs 8 and a generated set (n = 10000, from
   :func:`optml.data.make_classification_tree` with 10 % label noise), each binarised with
   4 quantile thresholds per feature (``binarize(X, thresholds=5)``), side by side with
   pystreed (when importable; ``cost_complexity=0``, same binary columns) and CART (its own
   thresholds on the raw features, and on the binary columns).
0b. ``mip4``: the exportable MIP route at depth 4 on breast_cancer: the TreeProblem's
   FlowOCT program solved by HiGHS with the DP's tree as warm start, alone and with the DP's
   proven bound added as a cut.
0c. ``pairs4``: the exportable ``pairs`` program at depths 2-4 on breast_cancer (depth 4:
   columns priced by exact optimal depth-2 subtrees), with tree-dp and pystreed in the same
   run.
1. breast_cancer (569 x 30), 5 quantile bins per feature (120 threshold columns): the time to
   a certified optimal tree at depth 2 and 3 with HiGHS, for each formulation (time limits
   on the slow ones, with the gap they reach), against CART and, when importable, pystreed
   (dynamic programming, Van der Linden et al. 2023) on the same binary columns.
2. The Bertsimas--Dunn comparison in miniature: 5-fold test accuracy of OCT and CART at
   depths 2-4 on iris, wine and breast_cancer.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.model_selection import StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

from optml.classification import OptimalClassificationTree
from optml.data import binarize


def _load(name):
    """(X, y) of a benchmark set."""
    from sklearn.datasets import load_digits

    from optml.data import make_classification_tree

    if name == "breast_cancer":
        return load_breast_cancer(return_X_y=True)
    if name == "wine":
        return load_wine(return_X_y=True)
    if name == "digits 3 vs 8":
        X, y = load_digits(return_X_y=True)
        keep = (y == 3) | (y == 8)
        return X[keep], (y[keep] == 8).astype(int)
    if name == "generated n=10000":
        X, y, _ = make_classification_tree(n=10000, p=10, depth=4, noise=0.1, random_state=0)
        return X, y
    raise ValueError(name)


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


def section_dp(quick: bool, sets=None) -> list[str]:
    from optml.formulations.tree_data import aggregate
    from optml.formulations.tree_problem import TreeProblem
    from optml.program.settings import SolveSettings
    from optml.solve import solve

    sets = sets or ["breast_cancer", "wine", "digits 3 vs 8", "generated n=10000"]
    depths = (2, 3, 4) if quick else (2, 3, 4, 5)
    limit = 30 if quick else 60
    lines = [
        "## tree-dp vs pystreed and CART (same binary columns: 4 quantile thresholds per feature)",
        "",
        f"Time limit {limit} s per solve (both tools). `errors` = training misclassifications;",
        "`bound` = the proven lower bound (tree-dp); `ratio` = tree-dp time / pystreed time.",
        "",
        "| data | n x p | columns | depth | tree-dp errors | bound | status | tree-dp (s) |"
        " pystreed errors | pystreed (s) | ratio | CART raw X | CART columns |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in sets:
        X, y = _load(name)
        Xb, _ = binarize(X, thresholds=5)
        data = aggregate(Xb, y, int(y.max()) + 1)
        for depth in depths:
            pr = TreeProblem(data, depth)
            t0 = time.perf_counter()
            r = solve(pr, settings=SolveSettings(time_limit=limit))
            wall = time.perf_counter() - t0
            ps = _pystreed(Xb, y, depth, limit)
            c1 = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X, y)
            c2 = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(Xb, y)
            pe, pt, ratio = (
                ("n/a", "n/a", "n/a")
                if ps is None
                else (
                    ps[0],
                    f"{ps[1]:.3f}",
                    f"{wall / max(ps[1], 1e-3):.1f}",
                )
            )
            lines.append(
                f"| {name} | {X.shape[0]} x {X.shape[1]} | {Xb.shape[1]} | {depth} | "
                f"{r.objective:.0f} | {r.bound:.1f} | {r.status} | {wall:.3f} | {pe} | {pt} | "
                f"{ratio} | {(c1.predict(X) != y).sum()} | {(c2.predict(Xb) != y).sum()} |"
            )
            print(lines[-1], flush=True)
    if _pystreed(np.zeros((4, 1)), np.array([0, 1, 0, 1]), 1, 5) is None:
        lines.append("")
        lines.append("pystreed is not installed here (`pip install pystreed` in the venv only).")
    return lines


def section_mip4(quick: bool, limit: float | None = None) -> list[str]:
    from optml.formulations.tree_data import aggregate
    from optml.formulations.tree_problem import TreeProblem
    from optml.program.settings import SolveSettings
    from optml.solve import solve

    limit = limit or (60 if quick else 300)
    X, y = load_breast_cancer(return_X_y=True)
    Xb, _ = binarize(X, thresholds=5)
    pr = TreeProblem(aggregate(Xb, y, 2), 4)
    t0 = time.perf_counter()
    dp = solve(pr)
    tdp = time.perf_counter() - t0
    lines = [
        "",
        "## Depth 4 on breast_cancer (120 columns): the exportable MIP route",
        "",
        f"tree-dp: {dp.status}, {dp.objective:.0f} errors, bound {dp.bound:.1f}, {tdp:.1f} s. "
        f"Then the same TreeProblem's FlowOCT program (HiGHS, time limit {limit} s) with "
        "the DP's tree as warm start:",
        "",
        "| program | status | objective | bound | gap | HiGHS wall (s) |",
        "|---|---|---|---|---|---|",
    ]
    for mode in ("warm start", "warm start + cut objective >= DP bound"):
        p = pr.build_program()
        if "cut" in mode:
            p.add(p.objective >= dp.bound, name="dp_bound")
        t0 = time.perf_counter()
        r = solve(p, solver="highs", settings=SolveSettings(time_limit=limit, warm_start=dp.values))
        wall = time.perf_counter() - t0
        lines.append(
            f"| FlowOCT, {mode} | {r.status} | {r.objective:.0f} | {r.bound:.2f} | "
            f"{r.gap:.3f} | {wall:.1f} |"
        )
        print(lines[-1], flush=True)
    return lines


def section_pairs4(quick: bool, limit: float | None = None) -> list[str]:
    """The exportable MIP route ``formulation="pairs"`` at depths 2-4 on breast_cancer (the
    same 120 quantile columns as pystreed and tree-dp), all three in the same run."""
    from optml.formulations import tree_pairs as fp
    from optml.formulations.tree_data import aggregate, split_mask
    from optml.formulations.tree_problem import TreeProblem
    from optml.program.settings import SolveSettings
    from optml.solve import solve

    limit = limit or (120 if quick else 300)
    X, y = load_breast_cancer(return_X_y=True)
    Xb, _ = binarize(X, thresholds=5)
    data = aggregate(Xb, y, 2)
    lines = [
        "",
        "## Depth 2-4 on breast_cancer (120 columns): `pairs`, the exportable MIP route",
        "",
        f"Time limit {limit} s. `pairs (estimator)`: `OptimalClassificationTree("
        "formulation='pairs', thresholds=5, initial_tree=None)` (the same 120 columns; the "
        "last split level keeps the boundary columns), fit wall time. `pairs (program)`: "
        "`split_pairs` on the same 0/1 matrix with every column at every node, then HiGHS "
        "(time = cost tables + build + solve; depth 4 only). At depth 4 the costs of the (root, child) "
        "columns are exact optimal depth-2 subtrees (`price_cells`). `ratio` = time / "
        "pystreed's time in the same run.",
        "",
        "| depth | route | status | errors | bound | time (s) | ratio to pystreed |",
        "|---|---|---|---|---|---|---|",
    ]
    for depth in (2, 3, 4):
        rows = []
        ps = _pystreed(Xb, y, depth, limit)
        t0 = time.perf_counter()
        dp = solve(TreeProblem(data, depth), settings=SolveSettings(time_limit=limit))
        rows.append(("tree-dp", dp.status, dp.objective, dp.bound, time.perf_counter() - t0))
        t0 = time.perf_counter()
        clf = OptimalClassificationTree(
            max_depth=depth,
            formulation="pairs",
            thresholds=5,
            initial_tree=None,
            time_limit=limit,
        ).fit(X, y)
        r = clf.result_
        rows.append(
            ("pairs (estimator)", r.status, clf.objective_, r.bound, time.perf_counter() - t0)
        )
        if depth == 4:  # (at depth 3 the full-mask tables take minutes: per-root loops)
            t0 = time.perf_counter()
            form = fp.split_pairs(data, depth, split_mask(depth, data.n_columns))
            r = solve(form.program, solver="highs", settings=SolveSettings(time_limit=limit))
            wall = time.perf_counter() - t0
            rows.append(("pairs (program)", r.status, r.objective, r.bound, wall))
        if ps is not None:
            rows.append(("pystreed", "optimal", ps[0], float("nan"), ps[1]))
        for name, st, obj, bnd, wall in rows:
            ratio = "n/a" if ps is None else f"{wall / max(ps[1], 1e-3):.1f}"
            lines.append(
                f"| {depth} | {name} | {st} | {obj:.0f} | {bnd:.1f} | {wall:.2f} | {ratio} |"
            )
            print(lines[-1], flush=True)
    lines += [
        "",
        "Depth 4 on the other sets (same binarisation; `pairs` = the program of `split_pairs` "
        "with every column at every node, pricing + HiGHS):",
        "",
        "| data | n x p | columns | pairs status | errors | bound | pairs (s) | tree-dp errors |"
        " tree-dp (s) | pystreed errors | pystreed (s) | pairs / pystreed |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("wine", "digits 3 vs 8", "generated n=10000"):
        Xo, yo = _load(name)
        Xbo, _ = binarize(Xo, thresholds=5)
        do = aggregate(Xbo, yo, int(yo.max()) + 1)
        t0 = time.perf_counter()
        form = fp.split_pairs(do, 4, split_mask(4, do.n_columns))
        r = solve(form.program, solver="highs", settings=SolveSettings(time_limit=limit))
        wp = time.perf_counter() - t0
        t0 = time.perf_counter()
        dp = solve(TreeProblem(do, 4), settings=SolveSettings(time_limit=limit))
        wd = time.perf_counter() - t0
        ps = _pystreed(Xbo, yo, 4, limit)
        pe, pt, ratio = ("n/a",) * 3 if ps is None else (ps[0], f"{ps[1]:.2f}", f"{wp / ps[1]:.1f}")
        lines.append(
            f"| {name} | {Xo.shape[0]} x {Xo.shape[1]} | {Xbo.shape[1]} | {r.status} | "
            f"{r.objective:.0f} | {r.bound:.1f} | {wp:.2f} | {dp.objective:.0f} | {wd:.2f} | "
            f"{pe} | {pt} | {ratio} |"
        )
        print(lines[-1], flush=True)
    lines += [
        "",
        "Short time limits at depth 4 (`pairs` estimator, CART's tree given, so its thresholds "
        "are columns too): elapsed must stay within limit x 1.1 + 1 s.",
        "",
        "| time limit (s) | elapsed (s) | status | errors | bound | CART errors |",
        "|---|---|---|---|---|---|",
    ]
    for tl in (2.0, 10.0):
        t0 = time.perf_counter()
        clf = OptimalClassificationTree(
            max_depth=4, formulation="pairs", thresholds=5, time_limit=tl
        ).fit(X, y)
        wall = time.perf_counter() - t0
        r = clf.result_
        lines.append(
            f"| {tl:.0f} | {wall:.2f} | {r.status} | {clf.objective_:.0f} | {r.bound:.1f} | "
            f"{clf.cart_objective_:.0f} |"
        )
        print(lines[-1], flush=True)
    return lines


def fit_timed(**kw):
    X, y = kw.pop("X"), kw.pop("y")
    t0 = time.perf_counter()
    clf = OptimalClassificationTree(**kw).fit(X, y)
    return clf, time.perf_counter() - t0


def _row(clf, depth, q, form, ws, tl, wall):
    r = clf.result_
    ncol = clf.program_.variables["r"].size if clf.formulation_ == "pairs" else "-"
    return (
        f"| {depth} | {q} | {ncol} | {form} | {ws or '-'} | {tl or '-'} | {r.status} | "
        f"{clf.objective_:.0f} | {r.bound:.1f} | {r.gap:.3f} | {r.build_time:.2f} | "
        f"{r.solve_time:.2f} | {wall:.2f} |"
    )


def section_certify(quick: bool) -> list[str]:
    X, y = load_breast_cancer(return_X_y=True)
    Xb, th = binarize(X, thresholds=5)
    rows = []
    lim = 30 if quick else 60
    plan = [
        (2, "pairs", None, None, 5),
        (2, "pairs", "cart", None, 5),
        (2, "pairs", None, None, 10),
        (2, "flow-plain", "cart", lim, 5),
        (2, "flow", "cart", lim, 5),
        (2, "oct", "cart", lim, 5),
        (3, "pairs", None, None, 5),
        (3, "pairs", "cart", None, 5),
        (3, "flow", "cart", 2 * lim, 5),
    ]
    for depth, form, ws, tl, q in plan:
        clf, wall = fit_timed(
            X=X,
            y=y,
            max_depth=depth,
            thresholds=q,
            formulation=form,
            initial_tree=ws,
            time_limit=tl,
        )
        rows.append(_row(clf, depth, q, form, ws, tl, wall))
        print(rows[-1], flush=True)
    # a side constraint: statistical parity between two groups (mean radius above median)
    g = (X[:, 0] > np.median(X[:, 0])).astype(int)
    for bound in (None, 0.3):
        t0 = time.perf_counter()
        clf = OptimalClassificationTree(
            max_depth=2, thresholds=5, formulation="flow", parity_bound=bound, time_limit=lim
        ).fit(X, y, groups=g)
        wall = time.perf_counter() - t0
        pred = clf.predict(X)
        gap = abs(pred[g == 0].mean() - pred[g == 1].mean())
        rows.append(
            _row(clf, 2, 5, f"flow, parity <= {bound} (measured {gap:.3f})", "cart", lim, wall)
        )
        print(rows[-1], flush=True)
    cart = []
    for depth in (2, 3):
        t0 = time.perf_counter()
        c = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X, y)
        ct = time.perf_counter() - t0
        cb = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(Xb, y)
        cart.append(f"| CART depth {depth} (raw X) | {(c.predict(X) != y).sum()} | {ct:.3f} |")
        cart.append(f"| CART depth {depth} (120 columns) | {(cb.predict(Xb) != y).sum()} | - |")
        try:
            from pystreed import STreeDClassifier

            t0 = time.perf_counter()
            s = STreeDClassifier(max_depth=depth, time_limit=60).fit(Xb.astype(int), y)
            st = time.perf_counter() - t0
            cart.append(
                f"| pystreed depth {depth} (120 columns) | "
                f"{(s.predict(Xb.astype(int)) != y).sum()} | {st:.3f} |"
            )
        except ImportError:
            cart.append(f"| pystreed depth {depth} | not installed | - |")
        print(cart[-3:], flush=True)
    head = [
        "## breast_cancer, quantile bins (5 bins: 120 threshold columns), HiGHS",
        "",
        "Objective = training misclassifications. `pairs` with `initial_tree=None` uses exactly the",
        "quantile columns (+1 'no split'); `initial_tree='cart'` adds CART's thresholds as columns",
        "(so the warm start is feasible), which is why its optimum can be lower. `build` is",
        "the lowering of the program; the cost tables of `pairs` are computed before it and are",
        "part of `fit wall` only.",
        "",
        "| depth | bins | root columns | formulation | warm start | time limit (s) | status |"
        " errors | bound | gap | build (s) | solve (s) | fit wall (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    tail = ["", "| baseline | training errors | time (s) |", "|---|---|---|"]
    return head + rows + tail + cart


def section_cv(quick: bool) -> list[str]:
    sets = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}
    depths = (2, 3) if quick else (2, 3, 4)
    tl = 10 if quick else 30
    lines = [
        "",
        f"## OCT vs CART, 5-fold test accuracy (thresholds=6, time limit {tl} s per fit)",
        "",
        "| data | depth | CART train | OCT train | CART test | OCT test | OCT certified folds |"
        " max gap | mean fit (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, load in sets.items():
        X, y = load(return_X_y=True)
        for depth in depths:
            acc = {"ct": [], "ot": [], "cr": [], "or": []}
            cert, gaps, times = 0, [], []
            cv = StratifiedKFold(5, shuffle=True, random_state=0)
            for tr, te in cv.split(X, y):
                c = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X[tr], y[tr])
                o, wall = fit_timed(X=X[tr], y=y[tr], max_depth=depth, thresholds=6, time_limit=tl)
                acc["cr"].append(c.score(X[tr], y[tr]))
                acc["or"].append(o.score(X[tr], y[tr]))
                acc["ct"].append(c.score(X[te], y[te]))
                acc["ot"].append(o.score(X[te], y[te]))
                cert += o.result_.status == "optimal"
                gaps.append(o.result_.gap)
                times.append(wall)
            m = {k: 100 * np.mean(v) for k, v in acc.items()}
            lines.append(
                f"| {name} | {depth} | {m['cr']:.1f} | {m['or']:.1f} | {m['ct']:.1f} | "
                f"{m['ot']:.1f} | {cert}/5 | {max(gaps):.3f} | {np.mean(times):.1f} |"
            )
            print(lines[-1], flush=True)
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=None)
    ap.add_argument("--skip-cv", action="store_true")
    ap.add_argument("--only", default="dp,mip4,pairs4,certify,cv", help="sections, comma-separated")
    ap.add_argument("--sets", default=None, help="data sets of the dp section, comma-separated")
    ap.add_argument("--mip-limit", type=float, default=None, help="HiGHS limit of mip4 (s)")
    a = ap.parse_args()
    only = set(a.only.split(","))
    if a.skip_cv:
        only.discard("cv")
    lines = [
        "# Optimal classification trees: measured",
        "",
        f"Machine: {platform.machine()}, {platform.python_version()}, shared CPU (timings noisy). "
        "Command: `python benchmarks/bench_trees.py`.",
        "",
    ]
    if "dp" in only:
        lines += section_dp(a.quick, a.sets.split(",") if a.sets else None)
    if "mip4" in only:
        lines += section_mip4(a.quick, a.mip_limit)
    if "pairs4" in only:
        lines += section_pairs4(a.quick, a.mip_limit)
    if "certify" in only:
        lines += section_certify(a.quick)
    if "cv" in only:
        lines += section_cv(a.quick)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
