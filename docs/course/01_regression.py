# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Regression: from a least-squares program to certified best subset
#
# We write the lasso (a QP) and best subset selection (a mixed-integer QP) ourselves as
# `optml.Program`s, solve each on two solvers, read the certificate, and compare with the
# library's estimators. Data: the bundled `diabetes` set (442 patients, 10 features).
#
# *Survey section: regression (Bertsimas, King and Mazumder 2016, best subset by MIO).*

# %%
import matplotlib

matplotlib.use("Agg")  # figures are saved to files; in Jupyter remove this line to see them inline
import numpy as np

import optml as om
from optml.data import load
from optml.plot import plot_paths
from optml.regression import BestSubsetRegression, Lasso, best_subset_path, lasso_path

ds = load("diabetes")
X, y = ds.X, ds.y
n, p = X.shape
Xc, yc = X - X.mean(axis=0), y - y.mean()  # centring takes care of the intercept
print(n, p, ds.feature_names)

# %% [markdown]
# ## The lasso as a program
#
# $$\min_w \ \frac{1}{2n}\lVert y - Xw\rVert_2^2 + \alpha \lVert w\rVert_1$$
#
# `sum_squares` and `norm1` are atoms; optml lowers them to a QP (an epigraph for the
# $\ell_1$ norm, the $n$-independent Gram form for the squares) and any QP solver takes it.

# %%
alpha = 1.0
lasso = om.Program("lasso")
w = lasso.var("w", shape=p)
lasso.minimize(om.sum_squares(yc - Xc @ w) / (2 * n) + alpha * om.norm1(w))
print(lasso.problem_class)
print(lasso.summary())

res_highs = lasso.solve(backend="highs")
res_clarabel = lasso.solve(backend="cvxpy", solver="clarabel")
for res in (res_highs, res_clarabel):
    print(
        f"{res.backend}/{res.solver}: {res.status} objective {res.objective:.6f} "
        f"bound {res.bound:.6f} gap {res.gap:.1e} verified {res.verified}"
    )

# %% [markdown]
# Two different algorithms (HiGHS' active-set QP, Clarabel's interior point) give the same
# objective, and each answer carries a **bound** computed by optml from the solver's duals: the
# gap between them is what the certificate proves. The library's `Lasso` solves the same
# objective as scikit-learn's:

# %%
est = Lasso(alpha=alpha).fit(X, y)
print("by hand  ", np.round(res_highs.values["w"], 3))
print("estimator", np.round(est.coef_, 3))
assert np.allclose(res_highs.values["w"], est.coef_, atol=1e-3 * np.abs(est.coef_).max())
assert abs(res_highs.objective - res_clarabel.objective) <= 1e-5 * res_highs.objective

# %% [markdown]
# ## Best subset selection as a mixed-integer QP
#
# $$\min_{w, z}\ \lVert y - Xw\rVert_2^2 \quad\text{s.t.}\quad -Mz_j \le w_j \le M z_j,\quad
#   \textstyle\sum_j z_j \le k,\quad z \in \{0,1\}^p$$
#
# The big-M must not cut off the optimum. Here we take three times the largest least-squares
# coefficient and check afterwards that no coefficient sits on its bound (the estimator derives
# a provably valid M from the data instead).

# %%
k = 4
w_ols = np.linalg.lstsq(Xc, yc, rcond=None)[0]
M = 3 * np.abs(w_ols).max()
subset = om.Program("best_subset")
w = subset.var("w", shape=p, lb=-M, ub=M)
z = subset.var("z", shape=p, domain="binary")
subset.add(w <= M * z, name="upper")
subset.add(w >= -M * z, name="lower")
subset.add(z.sum() <= k, name="cardinality")
subset.minimize(om.sum_squares(yc - Xc @ w))
print(subset.problem_class)
print(subset.to_latex())

results = {}
for backend in ("pyomo", "cvxpy"):
    res = subset.solve(backend=backend, solver="scip", mip_gap=1e-6)
    results[backend] = res
    print(
        f"{backend}/scip: {res.status} objective {res.objective:.2f} bound {res.bound:.2f} "
        f"gap {res.gap:.1e} support {np.flatnonzero(res.values['z'] > 0.5)}"
    )
    assert np.abs(res.values["w"]).max() < M * (1 - 1e-6)  # the big-M was not binding

# %% [markdown]
# The estimator builds a tighter program (valid big-M, perspective terms) and by default hands
# it to optml's own certified branch and bound (`l0-bnb`):

# %%
bs = BestSubsetRegression(k=k).fit(X, y)
print(bs.result_)
print("support", np.flatnonzero(bs.coef_))
assert bs.result_.status == "optimal"
assert abs(bs.result_.objective - results["pyomo"].objective) <= 1e-4 * bs.result_.objective

# %% [markdown]
# ## Figure: best subset against the lasso
#
# For every size $k$, the certified best subset against the best lasso point of that size.

# %%
path = best_subset_path(X, y, k_max=p)
lpath = lasso_path(X, y, fit_intercept=True, n_alphas=60)
fig = plot_paths(X, y, subset=path, lasso=lpath, feature_names=ds.feature_names)
fig.savefig("course_regression_paths.png", dpi=90)
print("gaps along the best-subset path:", np.round(path["gaps"], 6))

# %% [markdown]
# ## Exercises
#
# 1. Solve the hand-written best subset program with `M = 0.5 * max|w_ols|`. What happens to
#    the objective, and why does the certificate not warn you? (It certifies the program you
#    wrote, not the one you meant.)
# 2. Add the side constraint "`s1` and `s2` are never both selected"
#    (`subset.add(z[4] + z[5] <= 1)`) and re-solve. Which feature replaces them?
# 3. Time the lasso on `backend="highs"` against `backend="cvxpy", solver="clarabel"` for
#    `n = 50000` synthetic rows (`optml.data.make_regression`): why does the program's size not
#    grow with `n`?
# 4. From the figure: at which $k$ does the lasso first pick a different support than best
#    subset? Relate it to the correlation between `s1` and `s2`.
