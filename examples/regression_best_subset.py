"""Certified best subset selection on scikit-learn's diabetes data, next to the lasso.

Run: python examples/regression_best_subset.py   (needs SCIP: pip install pyscipopt)

Prints, for k = 1..5 features, the best subset certified optimal (status, objective, bound,
gap), compares its fit with the lasso of the same size, and shows the program that was solved.
"""

import numpy as np
from sklearn.datasets import load_diabetes

from optml.regression import BestSubsetRegression, Lasso, lasso_path


def main():
    data = load_diabetes()
    X, y, names = data.data, data.target, np.array(data.feature_names)
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # standardised features (n = 442, p = 10)

    print("Best subset selection on the diabetes data (n = 442, p = 10)")
    print(f"{'k':>2}  {'status':<8} {'RSS':>12} {'bound':>12} {'gap':>8}  {'time':>6}  features")
    model = None
    for k in range(1, 6):
        model = BestSubsetRegression(k=k).fit(X, y)  # formulation="auto"
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
    print(
        f"big-M from the data ({model.bigm_source_}): max |beta_j| <= "
        f"{np.round(model.bigm_, 2).tolist()}"
    )
    print(f"heuristic ({model.warm_start_method_}): RSS {model.warm_start_objective_:.1f}")
    print(f"\nThe program (n-independent factor form, {model.formulation_} formulation):")
    print(model.program_.summary())
    print(BestSubsetRegression(k=2, formulation="bigm").build_program(X, y).to_latex())


if __name__ == "__main__":
    main()
