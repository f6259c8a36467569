"""SCS vs Clarabel on optml's SDPs, by size: which should ``backend="auto"`` pick?

Solves the same programs with cvxpy/scs and cvxpy/clarabel (a time limit per solve) and
prints, per instance, the PSD block size, wall time, certified gap, largest violation and
whether optml verified the answer. Instances: the Peng-Wei k-means SDP (n x n, n samples of
iris / wine / breast cancer), the Fantope PCA SDP and Fisher's multi-class LDA SDP (p x p).

    python benchmarks/bench_sdp_choice.py [--time-limit 60] [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def instances(quick: bool):
    from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine

    from optml.formulations.classification import fisher_lda
    from optml.formulations.clustering import peng_wei_sdp
    from optml.formulations.decomposition import pca_sdp

    iris = load_iris(return_X_y=True)
    wine = load_wine(return_X_y=True)
    bc = load_breast_cancer(return_X_y=True)
    digits = load_digits(return_X_y=True)

    def std(X):
        s = X.std(0)
        return (X - X.mean(0)) / np.where(s > 0, s, 1)

    out = []
    sizes = (30, 60) if quick else (30, 60, 100, 150)
    for n in sizes:
        out.append(
            (f"kmeans-sdp iris n={n}", n, lambda n=n: peng_wei_sdp(iris[0][:: 150 // n][:n], 3))
        )
    for n in (60,) if quick else (60, 120, 178):
        idx = np.linspace(0, 177, n).astype(int)
        out.append(
            (f"kmeans-sdp wine n={n}", n, lambda idx=idx: peng_wei_sdp(std(wine[0])[idx], 3))
        )
    for name, X, r in (("wine", wine[0], 2), ("breast_cancer", bc[0], 3), ("digits", digits[0], 5)):
        S = np.cov(std(X), rowvar=False)
        out.append((f"pca-sdp {name} p={S.shape[0]}", S.shape[0], lambda S=S, r=r: pca_sdp(S, r)))
    for name, (X, y) in (("iris", iris), ("wine", wine)):
        out.append(
            (
                f"fisher-lda {name} p={X.shape[1]}",
                X.shape[1],
                lambda X=X, y=y: fisher_lda(std(X), y, reg=1e-6),
            )
        )
    if not quick:
        Xd, yd = digits
        keep = Xd.std(0) > 0
        out.append(
            (
                f"fisher-lda digits p={int(keep.sum())}",
                int(keep.sum()),
                lambda: fisher_lda(std(Xd[:, keep]), yd, reg=1e-3),
            )
        )
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(
        f"{'instance':<28} {'k':>4}  {'solver':<9} {'status':<11} {'time s':>8} {'gap':>9} "
        f"{'viol':>9} verified"
    )
    for name, k, make in instances(args.quick):
        for solver in ("scs", "clarabel"):
            prog = make()
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    r = prog.solve(backend="cvxpy", solver=solver, time_limit=args.time_limit)
                    row = (r.status, r.gap, r.max_violation, r.verified)
                except Exception as exc:  # a solver failure is a row of the table
                    row = (f"error:{type(exc).__name__}", np.inf, np.inf, False)
            wall = time.perf_counter() - t0
            print(
                f"{name:<28} {k:>4}  {solver:<9} {row[0]:<11} {wall:8.2f} {row[1]:9.2e} "
                f"{row[2]:9.2e} {row[3]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
