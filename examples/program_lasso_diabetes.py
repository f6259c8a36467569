"""The lasso on diabetes written directly in optml, with the duals an OR researcher reads.

Two textbook facts come out of the duals:

* in the constrained lasso  min (1/2n)||y - Xw - b||^2  s.t.  ||w||_1 <= t,  the dual of the
  budget row is the penalty alpha for which the penalised lasso has the same solution
  (checked against scikit-learn's Lasso(alpha=that dual));
* the duals of the residual definition  r = y - Xw - b  are the scaled residuals r / n (the
  lasso's dual point).

    python examples/program_lasso_diabetes.py [--plot]
"""

import argparse

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso as SkLasso

import optml as om

ap = argparse.ArgumentParser()
ap.add_argument("--plot", action="store_true", help="save program_lasso_diabetes.png")
args = ap.parse_args()

X, y = load_diabetes(return_X_y=True)
n, p_features = X.shape
t = 1000.0  # l1 budget

p = om.Program("lasso_diabetes")
w = p.var("w", p_features)
b = p.var("b")
r = p.var("r", n)
p.add(r == y - X @ w - b, name="residual")
p.add(om.norm1(w) <= t, name="budget")
p.minimize(om.sum_squares(r) / (2 * n))
res = p.solve()  # a QP (the l1 budget lowers to linear rows): HiGHS

print(p.summary())
print(p.to_latex())
print(res.summary())
alpha = float(res.duals["budget"])
print(f"\ndual of the l1 budget ||w||_1 <= {t:g}: {alpha:.6g}")
print(f"  (d objective / d t; -dual = {-alpha:.6g} is the equivalent penalty alpha)")
sk = SkLasso(alpha=-alpha, tol=1e-12, max_iter=100000).fit(X, y)
print(
    "scikit-learn Lasso(alpha=-dual) coefficients match:",
    np.allclose(sk.coef_, res["w"], atol=1e-3 * np.abs(sk.coef_).max()),
)
resid = y - X @ res["w"] - res["b"]
gap = np.abs(res.duals["residual"] - resid / n).max() / (np.abs(resid).max() / n)
print(f"duals of the residual rows = r / n (largest relative difference {gap:.1e})")
print("first residual duals:", np.round(res.duals["residual"][:5], 5))
print("first r / n:         ", np.round(resid[:5] / n, 5))

if args.plot:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(range(p_features), res["w"])
    ax.set_title(f"lasso on diabetes, ||w||_1 <= {t:g} (dual {alpha:.3g})")
    fig.tight_layout()
    fig.savefig("program_lasso_diabetes.png", dpi=120)
    print("saved program_lasso_diabetes.png")
