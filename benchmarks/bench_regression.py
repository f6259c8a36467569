"""Regression figures of issue 4, each next to its baseline measured in the same run.

    python benchmarks/bench_regression.py [--quick] [--time-limit 60] [--out docs/perf/regression.md]

1. Lasso / ridge / elastic net fit time vs scikit-learn at n = 5000 and 50000, p = 100, at the
   same objective (1e-8 relative): scikit-learn is run at the loosest `tol` in 1e-4 .. 1e-12
   that reaches the reference objective to 1e-8 (the reference is the better of the two).
2. A 50-alpha lasso path vs `sklearn.linear_model.lasso_path` (same alphas, every point to 1e-8).
3. Lasso / elastic net with more features than samples (n = 500, p = 2000; n = 100, p = 5000):
   the working set vs the full Gram matrix vs scikit-learn.
4. The IR's automatic QR reduction of `sum_squares(y - X @ w)` (program size independent of n).

Best subset (the Bertsimas-King-Mazumder design) is in `bench_best_subset.py`.

Times are the best of `repeats` wall-clock runs, optml and its baseline run alternately so that
both see the same machine state.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
import warnings

import numpy as np

from optml.data import make_sparse_regression


def _best(f, repeats):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _best_alternating(fs, repeats):
    """Best wall time of each callable, run in turn (``a b c a b c ...``) so that all see the
    same machine state; returns the list of best times."""
    best = [np.inf] * len(fs)
    for f in fs:  # warm-up
        f()
    for _ in range(repeats):
        for i, f in enumerate(fs):
            t0 = time.perf_counter()
            f()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(b))


def _route(model):
    """Which route a default fit took, from its result message."""
    m = re.search(r"working set of (\d+) of (\d+) features \((\d+) rounds", model.result_.message)
    return f"working set {m[1]}/{m[2]}, {m[3]} rounds" if m else "full Gram"


# ------------------------------------------------------------------------ convex fits
def bench_convex(ns, repeats, lines, runs=1):
    import sklearn.linear_model as skl

    from optml.regression import ElasticNet, Lasso, Ridge

    def obj(model, X, y, a, r, kind):
        res = y - X @ model.coef_ - model.intercept_
        w = model.coef_
        if kind == "ridge":
            return res @ res + a * w @ w
        return res @ res / (2 * len(y)) + a * r * np.abs(w).sum() + 0.5 * a * (1 - r) * w @ w

    rows = []
    for n in ns:
        X, y, _ = make_sparse_regression(n=n, p=100, k=10, random_state=0)
        cases = [
            (
                "lasso",
                0.05,
                1.0,
                lambda a, r, **k: Lasso(alpha=a, **k),
                lambda a, r, tol: skl.Lasso(alpha=a, tol=tol, max_iter=100000),
            ),
            (
                "ridge",
                10.0,
                0.0,
                lambda a, r, **k: Ridge(alpha=a, **k),
                lambda a, r, tol: skl.Ridge(alpha=a),
            ),
            (
                "elasticnet",
                0.05,
                0.5,
                lambda a, r, **k: ElasticNet(alpha=a, l1_ratio=r, **k),
                lambda a, r, tol: skl.ElasticNet(alpha=a, l1_ratio=r, tol=tol, max_iter=100000),
            ),
        ]
        for kind, a, r, ours, theirs in cases:
            m_o = ours(a, r).fit(X, y)
            f_o = obj(m_o, X, y, a, r, kind)
            m_p = ours(a, r, method="program").fit(X, y)
            ref = theirs(a, r, 1e-12).fit(X, y)
            f_ref = min(f_o, obj(ref, X, y, a, r, kind))
            tol_used = None
            for tol in (1e-4, 1e-6, 1e-8, 1e-10, 1e-12):
                m_s = theirs(a, r, tol).fit(X, y)
                if _rel(obj(m_s, X, y, a, r, kind), f_ref) <= 1e-8:
                    tol_used = tol
                    break
            reps = repeats if n <= 5000 else max(3, repeats // 4)
            tol = tol_used or 1e-12
            times = [
                _best_alternating(
                    [
                        lambda ours=ours, a=a, r=r, X=X, y=y: ours(a, r).fit(X, y),
                        lambda theirs=theirs, a=a, r=r, tol=tol, X=X, y=y: theirs(a, r, tol).fit(
                            X, y
                        ),
                    ],
                    reps,
                )
                for _ in range(runs)
            ]
            ratios = sorted(t[0] / t[1] for t in times)
            t_o, t_s = times[[t[0] / t[1] for t in times].index(ratios[len(ratios) // 2])]
            # timed apart: HiGHS's worker threads stay busy for a while after a solve and
            # would slow whatever runs next
            t_p, _ = _best(
                lambda ours=ours, a=a, r=r, X=X, y=y: ours(a, r, method="program").fit(X, y),
                max(3, reps // 4),
            )
            ok = _rel(f_o, f_ref) <= 1e-8
            rows.append(
                (
                    kind,
                    n,
                    t_o,
                    t_s,
                    t_p,
                    tol_used,
                    _rel(f_o, f_ref),
                    ok,
                    m_o.result_.gap,
                    ratios,
                    m_p.result_.solver,
                    _route(m_o),
                )
            )
    lines.append("## Lasso, ridge, elastic net: fit time vs scikit-learn (p = 100)\n")
    lines.append(
        "`optml` is the default fit (the active-set method on the Gram form, certified); "
        '`optml program` hands the same QP to HiGHS (`method="program"`, timed separately). scikit-learn '
        "runs at the loosest `tol` that reaches the best objective to 1e-8. Best of "
        f"{repeats} alternating runs (n = 5000), {max(3, repeats // 4)} (n = 50000); "
        f"this is done {runs} times and the run with the median ratio is shown, with "
        "the range of the ratio over the runs (the machine is a shared VM).\n"
    )
    lines.append(
        "| model | n | optml (s) | scikit-learn (s) | ratio | ratio range | optml route "
        "| optml program (s) | sklearn tol needed | optml obj. rel. diff | "
        "certified gap |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for kind, n, t_o, t_s, t_p, tol, d, ok, gap, ratios, s_p, route in rows:
        tol_s = "exact" if kind == "ridge" else (f"{tol:g}" if tol else "not reached")
        lines.append(
            f"| {kind} | {n} | {t_o:.4f} | {t_s:.4f} | {t_o / t_s:.2f}x | "
            f"{ratios[0]:.2f}-{ratios[-1]:.2f}x | {route} | {t_p:.4f} ({s_p}) | "
            f"{tol_s} | {d:.1e}{'' if ok else ' (FAILS 1e-8)'} | {gap:.1e} |"
        )
    return rows


def bench_path(repeats, lines, runs=1):
    from sklearn.linear_model import lasso_path as sk_path

    from optml.regression import lasso_path

    X, y, _ = make_sparse_regression(n=5000, p=100, k=10, random_state=0)
    X = X - X.mean(0)
    y = y - y.mean()
    n = len(y)
    alphas, coefs, gaps = lasso_path(X, y, n_alphas=50)

    def objs(C):
        R = y[:, None] - X @ C
        return (R * R).sum(0) / (2 * n) + alphas * np.abs(C).sum(0)

    _, c_ref, _ = sk_path(X, y, alphas=alphas, tol=1e-14, max_iter=100000)
    f_ref = np.minimum(objs(coefs), objs(c_ref))
    tol_used = None
    for tol in (1e-4, 1e-6, 1e-8, 1e-10, 1e-12, 1e-14):
        _, c, _ = sk_path(X, y, alphas=alphas, tol=tol, max_iter=100000)
        if np.all(np.abs(objs(c) - f_ref) <= 1e-8 * np.maximum(1.0, f_ref)):
            tol_used = tol
            break
    times = [
        _best_alternating(
            [
                lambda: lasso_path(X, y, n_alphas=50),
                lambda: sk_path(X, y, alphas=alphas, tol=tol_used, max_iter=100000),
            ],
            repeats,
        )
        for _ in range(runs)
    ]
    ratios = sorted(t[0] / t[1] for t in times)
    t_o, t_s = times[[t[0] / t[1] for t in times].index(ratios[len(ratios) // 2])]
    t_p, (_, c_p, g_p) = _best(lambda: lasso_path(X, y, alphas=alphas, method="program"), 1)
    d = float(np.max(np.abs(objs(coefs) - f_ref) / np.maximum(1.0, f_ref)))
    lines.append("\n## 50-alpha lasso path (n = 5000, p = 100)\n")
    lines.append(
        "`optml` is `lasso_path` (active set, warm-started from alpha to alpha, each "
        "point certified); `optml program` solves one HiGHS QP per alpha on the strong "
        f'set (`method="program"`, one run). Best of {repeats} alternating runs, done {runs} times (median ratio shown).\n'
    )
    lines.append(
        "| optml lasso_path (s) | sklearn lasso_path (s) | ratio | ratio range | "
        "optml program (s) | sklearn tol needed | optml max obj. rel. diff | "
        "max certified gap |"
    )
    lines.append("|---|---|---|---|---|---|---|---|")
    lines.append(
        f"| {t_o:.4f} | {t_s:.4f} | {t_o / t_s:.2f}x | {ratios[0]:.2f}-{ratios[-1]:.2f}x "
        f"| {t_p:.3f} | {tol_used:g} | {d:.1e} | {gaps.max():.1e} |"
    )


def _wide_row(X, y, kind, a, r, repeats):
    """One row of :func:`bench_wide`."""
    import sklearn.linear_model as skl

    from optml.algorithms import working_set as _working_set
    from optml.regression import ElasticNet, Lasso

    def ours():
        return Lasso(alpha=a) if r == 1 else ElasticNet(alpha=a, l1_ratio=r)

    def theirs(tol):
        kw = dict(alpha=a, tol=tol, max_iter=10**6)
        return skl.Lasso(**kw) if r == 1 else skl.ElasticNet(l1_ratio=r, **kw)

    def obj(m):
        res = y - X @ m.coef_ - m.intercept_
        w = m.coef_
        return res @ res / (2 * len(y)) + a * r * np.abs(w).sum() + 0.5 * a * (1 - r) * w @ w

    t_o, m_o = _best(lambda: ours().fit(X, y), repeats)
    f_o = obj(m_o)
    old = _working_set.MIN_FEATURES
    _working_set.MIN_FEATURES = 10**9  # the route before the working set
    try:
        t_f, _ = _best(lambda: ours().fit(X, y), 1)
    finally:
        _working_set.MIN_FEATURES = old
    t_d, m_d = _best(lambda: theirs(1e-4).fit(X, y), repeats)
    tol_used, t_s = None, float("nan")
    for tol in (1e-4, 1e-6, 1e-8, 1e-10, 1e-12):
        if obj(theirs(tol).fit(X, y)) - f_o <= 1e-8 * max(1.0, f_o):
            tol_used = tol
            t_s, _ = _best(lambda tol=tol: theirs(tol).fit(X, y), repeats)
            break
    n, p = X.shape
    return (
        f"| {kind} | {n} | {p} | {t_o:.4f} | {_route(m_o)} | {t_f:.3f} | {t_d:.4f} | "
        f"{_rel(obj(m_d), f_o):.1e} | {t_s:.4f} | {tol_used or 'not reached'} | "
        f"{m_o.result_.gap:.1e} |"
    )


def bench_wide(lines, repeats=3):
    """Lasso / elastic net with more features than samples: the working set against the full
    Gram matrix (the route before it) and scikit-learn."""
    lines.append("\n## More features than samples (lasso, elastic net)\n")
    lines.append(
        "`optml` is the default fit (here: the working set); `full Gram` is the route "
        "before it (the active set on the p x p Gram matrix, forced by raising "
        "`optml.algorithms.working_set.MIN_FEATURES`). scikit-learn at its default "
        "`tol` and at the loosest `tol` that reaches optml's objective to 1e-8. Best of "
        f"{repeats} runs (full Gram: one run).\n"
    )
    lines.append(
        "| model | n | p | optml (s) | working set | full Gram (s) | scikit-learn "
        "default (s) | its obj. rel. excess | scikit-learn at 1e-8 (s) | tol needed | "
        "certified gap |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, p in ((500, 2000), (100, 5000)):
        X, y, _ = make_sparse_regression(n=n, p=p, k=10, random_state=0)
        for kind, a, r in (("lasso", 0.05, 1.0), ("elasticnet", 0.05, 0.7)):
            lines.append(_wide_row(X, y, kind, a, r, repeats))


def bench_qr(lines):
    import optml as om

    lines.append("\n## The IR's QR reduction of `sum_squares(y - X @ w)`\n")
    lines.append("| n | columns after lowering | rows | lowering (s) | solve (s) |")
    lines.append("|---|---|---|---|---|")
    for n in (1000, 5000):
        X, y, _ = make_sparse_regression(n=n, p=100, k=10, random_state=0)
        prog = om.Program("plain")
        w = prog.var("w", 100)
        prog.minimize(om.sum_squares(y - X @ w) / (2 * n) + 0.05 * om.norm1(w))
        t0 = time.perf_counter()
        canon = prog.canonical()
        t1 = time.perf_counter() - t0
        res = prog.solve()
        lines.append(f"| {n} | {canon.n} | {canon.m} | {t1:.3f} | {res.solve_time:.3f} |")


NOTES = """
## Reading these figures

* **What is timed.** A whole `fit` as a user calls it: input validation, the Gram step
  (one pass over $X$ for the means and $X^\\top y$, which also finds NaN / inf; $X^\\top X$
  by BLAS `syrk`, or only its working-set columns for the lasso), the solve, the
  certificate (dual bound, objective re-evaluated on the raw data with numpy) and the fitted
  attributes. `program_` is built on first access, not during `fit` (it is the same program
  `build_program` returns, and `method="program"` solves it with HiGHS: the middle column).
* **Where the time goes at n = 5000:** the lasso is fitted on a working set of features
  (15 of 100 in 2 rounds): the Gram matrix of those columns only, two matrix-vector products
  over all of $X$ per round for the exact gradient, the certificate from the residual, with
  BLAS on one thread; about 1.2-2.5 ms depending on the VM's state; input validation and the
  one pass for the means and $X^\\top y$
  are 0.2-0.3 ms. Ridge and the elastic net (44 of 100 features in its support) form the full
  Gram matrix (BLAS `syrk`, 1.5-2 ms of their 2.5-3 ms). scikit-learn's coordinate descent
  needs 2.5-4 ms for each, depending on the VM's state (see the ranges).
* **The path** forms the Gram matrix once and solves each alpha warm-started from the last
  (1-2 active-set iterations each, about 0.1 ms), every point certified; `method="program"`
  (one HiGHS QP per alpha) is about 50x slower.
* **More features than samples:** the working set never forms the p x p Gram matrix (the
  route before it took 0.5-9 s here). Each round's sub-problem is solved exactly; once the
  working set holds more features than there are samples its Gram matrix is singular (lasso)
  or nearly so, the active-set prediction cycles and the monotone fallback adds one feature
  at a time, which is why the elastic net at n = 500 is still several times slower than
  coordinate descent. scikit-learn's default `tol` stops about 1e-6 above the optimum here.
* **Order of the runs matters:** HiGHS's worker threads stay busy for a while after a solve;
  an optml fit run right after one took about 10 % longer. So only optml and scikit-learn
  alternate, and the HiGHS route is timed apart.
* **Same objective:** optml's objective agrees with the best of the two to 1e-15 relative and
  its certified gap is at round-off; scikit-learn's default `tol=1e-4` already reaches 1e-8
  here, so it is timed at its default.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5, help="independent measurements per figure")
    ap.add_argument("--out", default="docs/perf/regression.md")
    ap.add_argument("--skip", default="", help="comma list of: convex,path,wide,qr")
    a = ap.parse_args()
    skip = set(a.skip.split(",")) - {""}
    warnings.simplefilter("ignore")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# Regression figures (benchmarks/bench_regression.py)\n",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; run {time.strftime('%Y-%m-%d %H:%M')}, "
        f"load average {load:.1f} at the start; BLAS threads as set by the environment "
        f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}).\n",
    ]
    repeats = 1 if a.quick else a.repeats
    if "convex" not in skip:
        bench_convex([2000] if a.quick else [5000, 50000], repeats, lines, 1 if a.quick else a.runs)
        print("\n".join(lines), flush=True)
    if "path" not in skip:
        bench_path(repeats, lines, 1 if a.quick else a.runs)
    if "wide" not in skip:
        bench_wide(lines, 1 if a.quick else 3)
    if "qr" not in skip:
        bench_qr(lines)
    lines.append(NOTES)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
