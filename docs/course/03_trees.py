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
# # 3. Decision trees: optimal trees as integer programs
#
# A tree of depth $d$ that makes the fewest training errors is a combinatorial object; CART
# builds it greedily. We write the depth-1 tree (a stump) as a MILP ourselves, check it against
# enumeration, then let the library fit depth-2 trees on two solvers (optml's dynamic
# programming and HiGHS on the MILP) and draw the optimal tree next to CART's.
#
# *Survey section: decision trees (Bertsimas and Dunn 2017; Verwer and Zhang 2019; Aghaei,
# Gómez and Vayanos 2021).*

# %%
import matplotlib

matplotlib.use("Agg")  # figures are saved to files; in Jupyter remove this line to see them inline
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

import optml as om
from optml import data
from optml.classification import OptimalClassificationTree
from optml.plot import compare_trees

ds = data.load("breast_cancer")
X, y = ds.X[:200], ds.y[:200]
B, th = data.binarize(X, thresholds=4, feature_names=ds.feature_names)  # b_ic = [x_ij <= t]
n, m = B.shape
print(n, "samples,", m, "binary threshold columns, e.g.", th.names[:3])

# %% [markdown]
# ## A stump as a MILP
#
# Choose one column ($a \in \{0,1\}^m$, $\sum_c a_c = 1$); sample $i$ goes left when
# $\ell_i = b_i^\top a = 1$. Each leaf predicts a class ($c_L, c_R \in \{0, 1\}$, 1 meaning
# "class 1"), and $0 \le r_i \le 1$ may be 1 only when sample $i$ is classified correctly:
#
# $$y_i = 1:\ r_i \le c_L + 1 - \ell_i,\ r_i \le c_R + \ell_i \qquad
#   y_i = 0:\ r_i \le 2 - c_L - \ell_i,\ r_i \le 1 - c_R + \ell_i$$
#
# and we maximise $\sum_i r_i$.

# %%
stump = om.Program("stump")
a = stump.var("a", shape=m, domain="binary")
cL = stump.var("cL", domain="binary")
cR = stump.var("cR", domain="binary")
r = stump.var("r", shape=n, lb=0, ub=1)
stump.add(a.sum() == 1, name="one_split")
pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
stump.add(r[pos] <= cL + 1 - B[pos] @ a, name="pos_left")
stump.add(r[pos] <= cR + B[pos] @ a, name="pos_right")
stump.add(r[neg] <= 2 - cL - B[neg] @ a, name="neg_left")
stump.add(r[neg] <= 1 - cR + B[neg] @ a, name="neg_right")
stump.maximize(r.sum())
print(stump.summary())

errors = {}
for backend, solver in (("highs", None), ("pyomo", "scip")):
    res = stump.solve(backend=backend, solver=solver)
    col = int(np.argmax(res.values["a"]))
    errors[backend] = n - res.objective
    print(
        f"{res.backend}/{res.solver}: {res.status}, {n - res.objective:.0f} errors "
        f"(bound {n - res.bound:.0f}), split {th.names[col]}"
    )

# %% [markdown]
# Enumeration: for each column, each leaf takes its majority class.


# %%
def stump_errors(col):
    left = B[:, col] == 1
    return sum(min(np.sum(y[side] == 1), np.sum(y[side] == 0)) for side in (left, ~left))


brute = min(stump_errors(c) for c in range(m))
print("enumeration:", brute, "errors")
assert errors["highs"] == errors["pyomo"] == brute

# %% [markdown]
# ## Depth 2 on two solvers
#
# The estimator writes the depth-$d$ tree as a MILP (`program_`) and, by default, solves the
# same problem by optml's dynamic programming over the binary columns (`tree-dp`), which
# certifies it far faster; `solver="highs"` sends the MILP to HiGHS instead.

# %%
dp = OptimalClassificationTree(max_depth=2, thresholds=4).fit(X, y)
milp = OptimalClassificationTree(max_depth=2, thresholds=4, solver="highs", time_limit=60).fit(X, y)
for model in (dp, milp):
    print(model.result_, "formulation", model.formulation_)
assert dp.result_.status == milp.result_.status == "optimal"
assert dp.objective_ == milp.objective_
print(dp.export_text(feature_names=ds.feature_names))

# %% [markdown]
# ## Figure: the optimal tree next to CART

# %%
cart = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
fig = compare_trees(
    dp, cart, X, y, feature_names=ds.feature_names, class_names=["malignant", "benign"]
)
fig.savefig("course_trees.png", dpi=90)
assert np.sum(dp.predict(X) != y) <= np.sum(cart.predict(X) != y)

# %% [markdown]
# Optimal on the training data is not optimal out of sample. A quick look on a held-out split:

# %%
Xtr, Xte, ytr, yte = train_test_split(ds.X, ds.y, test_size=0.5, random_state=0, stratify=ds.y)
for depth in (1, 2, 3):
    o = OptimalClassificationTree(max_depth=depth, thresholds=4).fit(Xtr, ytr)
    c = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(Xtr, ytr)
    print(
        f"depth {depth}: optimal train {o.score(Xtr, ytr):.3f} test {o.score(Xte, yte):.3f}"
        f" | CART train {c.score(Xtr, ytr):.3f} test {c.score(Xte, yte):.3f}"
    )

# %% [markdown]
# ## Exercises
#
# 1. Extend the stump program to three classes (iris): what replaces $c_L, c_R$?
# 2. Fit `OptimalClassificationTree(max_depth=2, solver="highs")` with `thresholds="all"`.
#    How do the program size (`program_.summary()`) and the solve time change?
# 3. Repeat the held-out comparison over 10 random splits and depths 1 to 4. Do you reproduce
#    Bertsimas and Dunn's finding that optimal trees generalise at least as well as CART?
# 4. Use `alpha` (the complexity penalty) to trade errors against leaves; when is a smaller
#    optimal tree better on the test half?
