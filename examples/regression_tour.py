"""A tour of the convex regression models on scikit-learn's diabetes data.

Run: python examples/regression_tour.py [--plot]  (--plot saves regression_tour.png)

Each model is fitted by solving a program (HiGHS for the LPs, Clarabel for the Huber SOCP; the
ridge and lasso QPs by optml's certified active-set method unless a solver is named, as in the
second lasso row); the table shows the objective, the certified bound and gap, and the solver.
The same fits from scikit-learn are shown where it has the same objective. Last, a sparse lasso
on 200 features, which optml solves on a working set of features and certifies on all.
"""

import sys

import numpy as np
import sklearn.linear_model as skl
from sklearn.datasets import load_diabetes

from optml.regression import (
    HuberRegression,
    Lasso,
    LeastAbsoluteDeviation,
    QuantileRegression,
    Ridge,
    SupportVectorRegression,
)


def main(plot=False):
    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    n = len(y)
    models = [
        (
            "Ridge(alpha=10)",
            Ridge(alpha=10.0),
            skl.Ridge(alpha=10.0),
            lambda m: ((y - m.predict(X)) ** 2).sum() + 10.0 * m.coef_ @ m.coef_,
        ),
        (
            "Lasso(alpha=1)",
            Lasso(alpha=1.0),
            skl.Lasso(alpha=1.0, tol=1e-10),
            lambda m: ((y - m.predict(X)) ** 2).sum() / (2 * n) + np.abs(m.coef_).sum(),
        ),
        (
            "Lasso(1, backend=highs)",
            Lasso(alpha=1.0, backend="highs"),
            skl.Lasso(alpha=1.0, tol=1e-10),
            lambda m: ((y - m.predict(X)) ** 2).sum() / (2 * n) + np.abs(m.coef_).sum(),
        ),
        (
            "QuantileRegression(0.9)",
            QuantileRegression(quantile=0.9, alpha=0.0),
            skl.QuantileRegressor(quantile=0.9, alpha=0.0),
            lambda m: np.maximum(0.9 * (r := y - m.predict(X)), -0.1 * r).mean(),
        ),
        ("LeastAbsoluteDeviation()", LeastAbsoluteDeviation(), None, None),
        ("HuberRegression(1.35)", HuberRegression(epsilon=1.35), skl.HuberRegressor(), None),
        ("SupportVectorRegression", SupportVectorRegression(C=1.0, epsilon=5.0), None, None),
    ]
    print("program objective / bound: the solved program (ridge is scaled by 1/(2n), LAD by 1/2);")
    print("objective_: the model's objective on scikit-learn's scale, next to scikit-learn's fit\n")
    print(
        f"{'model':<26}{'status':<9}{'program obj':>13}{'bound':>13}{'gap':>9}  "
        f"{'solver':<16}{'objective_':>12}{'sklearn':>12}"
    )
    for name, ours, theirs, obj in models:
        ours.fit(X, y)
        r = ours.result_
        ref = ""
        if theirs is not None and obj is not None:
            ref = f"{obj(theirs.fit(X, y)):.8g}"
        print(
            f"{name:<26}{r.status:<9}{r.objective:13.8g}{r.bound:13.8g}{r.gap:9.1e}  "
            f"{r.backend + '/' + r.solver:<16}{ours.objective_:12.8g}{ref:>12}"
        )
    huber = models[5][1]
    print(
        f"\nHuber scale sigma = {huber.scale_:.3f}, {huber.outliers_.sum()} outliers "
        f"(|r| > epsilon * sigma)"
    )
    print("\nThe lasso program (n-independent Gram form):")
    print(models[1][1].program_.summary())
    print(models[1][1].program_.to_latex())
    working_set()
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 3.5))
        for i, (name, m, _, _) in enumerate(models):
            ax.plot(np.ravel(m.coef_), "o-", ms=3, color=f"C{i}", label=name)
        ax.set_xlabel("feature (diabetes, standardised)")
        ax.set_ylabel("coefficient")
        ax.legend(fontsize=7)
        fig.savefig("regression_tour.png", dpi=100, bbox_inches="tight")
        print("saved regression_tour.png")


def working_set():
    """A sparse lasso on 200 features: solved on a working set of features, certified on all."""
    from optml.data import make_sparse_regression

    X, y, beta = make_sparse_regression(n=2000, p=200, k=10, random_state=0)
    m = Lasso(alpha=0.1).fit(X, y)
    r = m.result_
    print("\nLasso(alpha=0.1), Bertsimas-King-Mazumder design, n = 2000, p = 200:")
    print(f"  {r.message}")
    print(
        f"  status {r.status}, objective {r.objective:.10g}, bound {r.bound:.10g}, "
        f"gap {r.gap:.1e}; {np.count_nonzero(m.coef_)} nonzero coefficients, "
        f"{np.count_nonzero(m.coef_[beta != 0])} of the {np.count_nonzero(beta)} true ones"
    )


if __name__ == "__main__":
    main(plot="--plot" in sys.argv)
