"""Certified best subset selection on scikit-learn's diabetes data, next to the lasso.

Run: python examples/regression_best_subset.py [--plot]
(the MIQP comparison needs SCIP: pip install pyscipopt)

Prints, for k = 1..5 features, the best subset certified optimal by optml's branch and bound
(status, objective, bound, gap), the same k = 5 instance by the outer approximation and by the
MIQP (the three methods of ``method=``), compares the fit with the lasso of the same size, runs
the penalised form (``l0=``, with and without a box ``M``) along a path of penalties, and
shows the MIQP. ``--plot`` saves RSS against k (best subset vs lasso) to best_subset.png.
"""

import argparse

import numpy as np
from sklearn.datasets import load_diabetes

from optml.regression import BestSubsetRegression, Lasso, best_subset_path, lasso_path


def main():
    data = load_diabetes()
    X, y, names = data.data, data.target, np.array(data.feature_names)
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # standardised features (n = 442, p = 10)

    print("Best subset selection on the diabetes data (n = 442, p = 10)")
    print(f"{'k':>2}  {'status':<8} {'RSS':>12} {'bound':>12} {'gap':>8}  {'time':>6}  features")
    model = None
    rss = []
    for k in range(1, 6):
        model = BestSubsetRegression(k=k).fit(X, y)  # method="auto": the branch and bound
        rss.append(model.objective_)
        r = model.result_
        t = r.solve_time + model.heuristic_time_
        print(
            f"{k:>2}  {r.status:<8} {r.objective:12.1f} {r.bound:12.1f} {r.gap:8.1e}  "
            f"{t:5.2f}s  {', '.join(names[model.support_])}"
        )

    # the lasso with (about) as many features, for comparison
    alphas, coefs, _ = lasso_path(X, y, n_alphas=200, fit_intercept=True)
    i = int(np.flatnonzero((coefs != 0).sum(axis=0) == 5)[0])
    lasso = Lasso(alpha=alphas[i]).fit(X, y)
    rss_lasso = float(((y - lasso.predict(X)) ** 2).sum())
    print(
        f"\nlasso with 5 features (alpha = {alphas[i]:.3g}): RSS {rss_lasso:.1f} "
        f"({', '.join(names[lasso.coef_ != 0])})"
    )
    print(f"best subset with 5 features:               RSS {model.objective_:.1f}")

    print("\nCertificate of the k = 5 fit:")
    print(model.result_.summary())
    print(f"heuristic ({model.warm_start_method_}): RSS {model.warm_start_objective_:.1f}")

    print("\nThe same k = 5 instance by each method:")
    for method in ("bnb", "oa", "mip"):
        try:
            m = BestSubsetRegression(k=5, method=method).fit(X, y)
        except Exception as exc:  # the MIQP needs SCIP
            print(f"  {method:<4} not run: {exc}")
            continue
        r = m.result_
        print(
            f"  {method:<4} {r.backend}/{r.solver:<15} {r.status:<8} RSS {m.objective_:.1f} "
            f"bound {r.bound:.1f} gap {r.gap:.1e} ({r.solve_time:.2f} s)"
        )
    print("\nThe penalised form (L0L2 of L0Learn / L0BnB): RSS + 0.1||b||^2 + l0 * nonzeros")
    path = best_subset_path(X, y, l0=[2e5, 5e4, 2e4, 5e3], alpha=0.1, progress=False)
    for lam, nnz, obj, gap in zip(
        path["l0"], path["k"], path["objectives"], path["gaps"], strict=True
    ):
        print(f"  l0 = {lam:8.0f}: {nnz} features, objective {obj:12.1f}, gap {gap:.1e}")
    boxed = BestSubsetRegression(l0=2e4, alpha=0.1, M=10.0).fit(X, y)
    print(
        f"  with the box |b_j| <= 10 (a different model): {boxed.support_.sum()} features, "
        f"max |b_j| {np.abs(boxed.coef_).max():.2f}, gap {boxed.result_.gap:.1e}"
    )

    print(f"\nThe MIQP (n-independent factor form, {model.program_.name}):")
    print(model.program_.summary())
    print(BestSubsetRegression(k=2, formulation="bigm").build_program(X, y).to_latex())
    return rss, rss_lasso


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plot", action="store_true", help="save best_subset.png")
    a = ap.parse_args()
    rss, rss_lasso = main()
    if a.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(range(1, len(rss) + 1), rss, "o-", label="best subset (certified)")
        ax.plot([5], [rss_lasso], "s", label="lasso, 5 features")
        ax.set_xlabel("k (features)")
        ax.set_ylabel("RSS")
        ax.legend()
        fig.tight_layout()
        fig.savefig("best_subset.png", dpi=120)
        print("saved best_subset.png")
