"""Regression figures of issue 4, each next to its baseline measured in the same run.

    python benchmarks/bench_regression.py [--quick] [--time-limit 60] [--out docs/perf/regression.md]

1. Lasso / ridge / elastic net fit time vs scikit-learn at n = 5000 and 50000, p = 100, at the
   same objective (1e-8 relative): scikit-learn is run at the loosest `tol` in 1e-4 .. 1e-12
   that reaches the reference objective to 1e-8 (the reference is the better of the two).
2. A 50-alpha lasso path vs `sklearn.linear_model.lasso_path` (same alphas, every point to 1e-8).
3. The IR's automatic QR reduction of `sum_squares(y - X @ w)` (program size independent of n).
4. Best subset on the Bertsimas-King-Mazumder design (Toeplitz rho = 0.35, SNR = 3, k = 10 spread
   evenly), n = 1000, p = 50/100/200/500: each formulation side by side with time, CPU time and
   certified gap; support recovered and test error of best subset vs a validated lasso.

Times are the best of `repeats` wall-clock runs; CPU seconds (process time) are printed next to
wall times because the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import platform
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


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(b))


# ------------------------------------------------------------------------ convex fits
def bench_convex(ns, repeats, lines):
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
            ("lasso", 0.05, 1.0, lambda a, r, **k: Lasso(alpha=a),
             lambda a, r, tol: skl.Lasso(alpha=a, tol=tol, max_iter=100000)),
            ("ridge", 10.0, 0.0, lambda a, r, **k: Ridge(alpha=a),
             lambda a, r, tol: skl.Ridge(alpha=a)),
            ("elasticnet", 0.05, 0.5, lambda a, r, **k: ElasticNet(alpha=a, l1_ratio=r),
             lambda a, r, tol: skl.ElasticNet(alpha=a, l1_ratio=r, tol=tol, max_iter=100000)),
        ]  # fmt: skip
        for kind, a, r, ours, theirs in cases:
            Lasso(alpha=1.0).fit(X[:50], y[:50])  # warm imports
            t_o, m_o = _best(lambda ours=ours, a=a, r=r, X=X, y=y: ours(a, r).fit(X, y), repeats)
            f_o = obj(m_o, X, y, a, r, kind)
            ref = theirs(a, r, 1e-12).fit(X, y)
            f_ref = min(f_o, obj(ref, X, y, a, r, kind))
            tol_used, t_s = None, np.inf
            for tol in (1e-4, 1e-6, 1e-8, 1e-10, 1e-12):
                m_s = theirs(a, r, tol).fit(X, y)
                if _rel(obj(m_s, X, y, a, r, kind), f_ref) <= 1e-8:
                    tol_used = tol
                    t_s, _ = _best(lambda theirs=theirs, a=a, r=r, tol=tol, X=X, y=y:
                                   theirs(a, r, tol).fit(X, y), repeats)  # fmt: skip
                    break
            ok = _rel(f_o, f_ref) <= 1e-8
            rows.append((kind, n, t_o, t_s, tol_used, _rel(f_o, f_ref), ok, m_o.result_.gap))
    lines.append("## Lasso, ridge, elastic net: fit time vs scikit-learn (p = 100)\n")
    lines.append("| model | n | optml (s) | scikit-learn (s) | ratio | sklearn tol needed | "
                 "optml obj. rel. diff | certified gap |")  # fmt: skip
    lines.append("|---|---|---|---|---|---|---|---|")
    for kind, n, t_o, t_s, tol, d, ok, gap in rows:
        tol_s = "exact" if kind == "ridge" else (f"{tol:g}" if tol else "not reached")
        lines.append(f"| {kind} | {n} | {t_o:.4f} | {t_s:.4f} | {t_o / t_s:.2f}x | {tol_s} | "
                     f"{d:.1e}{'' if ok else ' (FAILS 1e-8)'} | {gap:.1e} |")  # fmt: skip
    return rows


def bench_path(repeats, lines):
    from sklearn.linear_model import lasso_path as sk_path

    from optml.regression import lasso_path

    X, y, _ = make_sparse_regression(n=5000, p=100, k=10, random_state=0)
    X = X - X.mean(0)
    y = y - y.mean()
    n = len(y)
    t_o, (alphas, coefs, gaps) = _best(lambda: lasso_path(X, y, n_alphas=50), repeats)

    def objs(C):
        R = y[:, None] - X @ C
        return (R * R).sum(0) / (2 * n) + alphas * np.abs(C).sum(0)

    _, c_ref, _ = sk_path(X, y, alphas=alphas, tol=1e-14, max_iter=100000)
    f_ref = np.minimum(objs(coefs), objs(c_ref))
    tol_used, t_s = None, np.inf
    for tol in (1e-4, 1e-6, 1e-8, 1e-10, 1e-12, 1e-14):
        _, c, _ = sk_path(X, y, alphas=alphas, tol=tol, max_iter=100000)
        if np.all(np.abs(objs(c) - f_ref) <= 1e-8 * np.maximum(1.0, f_ref)):
            tol_used = tol
            t_s, _ = _best(lambda tol=tol: sk_path(X, y, alphas=alphas, tol=tol, max_iter=100000),
                           repeats)  # fmt: skip
            break
    d = float(np.max(np.abs(objs(coefs) - f_ref) / np.maximum(1.0, f_ref)))
    lines.append("\n## 50-alpha lasso path (n = 5000, p = 100)\n")
    lines.append("| optml lasso_path (s) | sklearn lasso_path (s) | ratio | sklearn tol needed | "
                 "optml max obj. rel. diff | max certified gap |")  # fmt: skip
    lines.append("|---|---|---|---|---|---|")
    lines.append(f"| {t_o:.3f} | {t_s:.3f} | {t_o / t_s:.2f}x | {tol_used:g} | {d:.1e} | "
                 f"{gaps.max():.1e} |")  # fmt: skip


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


# ----------------------------------------------------------------------- best subset
def bench_subset(ps, forms, time_limit, lines):
    from sklearn.linear_model import LassoCV

    from optml.regression import BestSubsetRegression

    k = 10
    lines.append("\n## Best subset, BKM design (n = 1000, Toeplitz rho = 0.35, SNR = 3, k = 10)\n")
    lines.append(f"Time limit {time_limit:g} s per solve (wall clock); `time` is wall-clock "
                 "including the heuristics, `cpu` the process CPU time (SCIP runs in-process), "
                 "`gap` the returned model's certified relative gap.\n")  # fmt: skip
    lines.append("| p | formulation | backend | status | gap | time (s) | cpu (s) | heuristic (s) | "
                 "true support found |")  # fmt: skip
    lines.append("|---|---|---|---|---|---|---|---|---|")
    quality = []
    for p in ps:
        X, y, beta = make_sparse_regression(n=1000, p=p, k=k, rho=0.35, snr=3.0, random_state=0)
        Xt, yt, _ = make_sparse_regression(n=5000, p=p, k=k, rho=0.35, snr=3.0, random_state=1)
        true = set(np.flatnonzero(beta))
        best_model = None
        for form in forms:
            c0, t0 = time.process_time(), time.perf_counter()
            try:
                m = BestSubsetRegression(k=k, formulation=form, time_limit=time_limit).fit(X, y)
            except Exception as exc:  # report, do not stop the benchmark
                lines.append(f"| {p} | {form} | - | error: {type(exc).__name__} | | | | | |")
                continue
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            r = m.result_
            found = len(true & set(np.flatnonzero(m.support_)))
            lines.append(f"| {p} | {form} ({m.formulation_}) | {r.backend}/{r.solver} | {r.status} | "
                         f"{m.gap_:.1e} | {wall:.2f} | {cpu:.2f} | {m.heuristic_time_:.2f} | "
                         f"{found}/{k} |")  # fmt: skip
            print(lines[-1], flush=True)
            if best_model is None or m.objective_ < best_model.objective_:
                best_model = m
        if best_model is None:
            continue
        lasso = LassoCV(alphas=50, cv=5, random_state=0).fit(X, y)
        sigma2 = float(beta @ _toeplitz(p) @ beta) / 3.0

        def rte(model, Xt=Xt, yt=yt, sigma2=sigma2):  # test MSE / noise variance
            return float(np.mean((yt - model.predict(Xt)) ** 2) / sigma2)

        sl = set(np.flatnonzero(lasso.coef_))
        sb = set(np.flatnonzero(best_model.support_))
        quality.append((p, rte(best_model), len(sb & true), len(sb - true),
                        rte(lasso), len(sl & true), len(sl - true)))  # fmt: skip
    lines.append("\n### Support and test error: best subset (k = 10) vs lasso (5-fold CV)\n")
    lines.append("Relative test error = mean squared test error / noise variance (1 is perfect); "
                 "abess / L0Learn are not installed here.\n")  # fmt: skip
    lines.append("| p | best subset RTE | true / false found | lasso RTE | true / false found |")
    lines.append("|---|---|---|---|---|")
    for p, e_b, tb, fb, e_l, tl, fl in quality:
        lines.append(f"| {p} | {e_b:.3f} | {tb} / {fb} | {e_l:.3f} | {tl} / {fl} |")


def _toeplitz(p, rho=0.35):
    idx = np.arange(p)
    return rho ** np.abs(idx[:, None] - idx[None, :])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="docs/perf/regression.md")
    ap.add_argument("--skip", default="", help="comma list of: convex,path,qr,subset")
    a = ap.parse_args()
    skip = set(a.skip.split(",")) - {""}
    warnings.simplefilter("ignore")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = ["# Regression figures (benchmarks/bench_regression.py)\n",
             f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}; run {time.strftime('%Y-%m-%d %H:%M')}, "
             f"load average {load:.1f} at the start; BLAS threads as set by the environment "
             f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}).\n"]  # fmt: skip
    repeats = 1 if a.quick else a.repeats
    if "convex" not in skip:
        bench_convex([2000] if a.quick else [5000, 50000], repeats, lines)
        print("\n".join(lines), flush=True)
    if "path" not in skip:
        bench_path(repeats, lines)
    if "qr" not in skip:
        bench_qr(lines)
    if "subset" not in skip:
        ps = [50, 100] if a.quick else [50, 100, 200, 500]
        bench_subset(ps, ["bigm", "sos1", "auto"], a.time_limit, lines)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
