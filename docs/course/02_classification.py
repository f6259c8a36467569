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
# # 2. Classification: support vector machines as programs
#
# The soft-margin SVM is a QP; choosing at most $k$ features makes it a MILP. We write both,
# solve each on two solvers, check the certificates, and compare with the library's estimators
# and with scikit-learn.
#
# *Survey section: classification (Cortes and Vapnik 1995; Bradley and Mangasarian 1998;
# sparse SVMs by MIP, Maldonado et al. 2014).*

# %%
import matplotlib

matplotlib.use("Agg")  # figures are saved to files; in Jupyter remove this line to see them inline
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import optml as om
from optml.classification import SoftMarginSVM, SparseSVM
from optml.data import load

# two overlapping classes with 10 % label noise: the hard case for a linear separator
X, y = make_classification(
    n_samples=200,
    n_features=2,
    n_redundant=0,
    n_informative=2,
    n_clusters_per_class=1,
    flip_y=0.1,
    class_sep=1.0,
    random_state=3,
)
s = 2.0 * y - 1.0  # labels in {-1, +1}
n, p = X.shape

# %% [markdown]
# ## The soft-margin SVM
#
# $$\min_{w, b}\ \tfrac12\lVert w\rVert_2^2 + C\sum_i \bigl(1 - s_i(x_i^\top w + b)\bigr)_+$$
#
# The hinge $(\cdot)_+$ is the atom `pos`; optml lowers it to one slack per sample.

# %%
C = 1.0
svm = om.Program("svm")
w = svm.var("w", shape=p)
b = svm.var("b")
svm.minimize(0.5 * om.sum_squares(w) + C * om.sum(om.pos(1 - s * (X @ w + b))))
print(svm.summary())

answers = {}
for backend, solver in (("highs", None), ("cvxpy", "clarabel")):
    res = svm.solve(backend=backend, solver=solver)
    answers[backend] = res
    print(
        f"{res.backend}/{res.solver}: {res.status} objective {res.objective:.6f} "
        f"bound {res.bound:.6f} gap {res.gap:.1e} verified {res.verified}"
    )

# %% [markdown]
# scikit-learn's `SVC(kernel="linear")` solves the same primal through its dual (libsvm);
# optml's `SoftMarginSVM` solves it with its own working-set method and certifies it.

# %%
est = SoftMarginSVM(C=C).fit(X, y)
ref = SVC(kernel="linear", C=C).fit(X, y)
w_ref, b_ref = ref.coef_.ravel(), float(ref.intercept_[0])
obj_ref = 0.5 * w_ref @ w_ref + C * np.maximum(0, 1 - s * (X @ w_ref + b_ref)).sum()
print(
    f"by hand (HiGHS) {answers['highs'].objective:.6f}   SoftMarginSVM "
    f"{est.result_.objective:.6f}   libsvm {obj_ref:.6f}"
)
assert abs(answers["highs"].objective - answers["cvxpy"].objective) <= 1e-5 * obj_ref
assert answers["highs"].objective <= obj_ref * (1 + 1e-5)  # the certified optimum is no worse
assert abs(est.result_.objective - answers["highs"].objective) <= 1e-5 * obj_ref

# %% [markdown]
# ## Figure: the separator, its margins and the support vectors

# %%
wv, bv = answers["highs"].values["w"], float(answers["highs"].values["b"])
margin = s * (X @ wv + bv)
fig, ax = plt.subplots(figsize=(6, 4.5))
ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=16)
sv = margin <= 1 + 1e-6
ax.scatter(X[sv, 0], X[sv, 1], s=60, facecolors="none", edgecolors="k", label="support vectors")
xs = np.linspace(X[:, 0].min(), X[:, 0].max(), 50)
for level, style in ((0, "-"), (1, "--"), (-1, "--")):
    ax.plot(xs, (level - bv - wv[0] * xs) / wv[1], "k" + style, lw=1)
ax.set_ylim(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5)
ax.set_title(
    f"soft-margin SVM, C={C}: objective {answers['highs'].objective:.3f}, "
    f"gap {answers['highs'].gap:.1e}",
    fontsize=9,
)
ax.legend(fontsize=8)
fig.savefig("course_classification_svm.png", dpi=90)

# %% [markdown]
# ## At most $k$ features: the sparse (L1) SVM as a MILP
#
# $$\min_{w,b,z}\ \lVert w\rVert_1 + C\sum_i \xi_i\quad\text{s.t.}\quad
#   \xi_i \ge 1 - s_i(x_i^\top w + b),\ \xi \ge 0,\ |w_j| \le M z_j,\
#   \textstyle\sum_j z_j \le k,\ z \in\{0,1\}^p$$
#
# On the breast cancer data (30 standardised features, 150 patients here), with $k = 3$.

# %%
bc = load("breast_cancer")
Xb = StandardScaler().fit_transform(bc.X)[:150]
sb = 2.0 * bc.y[:150] - 1.0
nb, pb = Xb.shape
k, Cb, M = 3, 0.1, 10.0
sparse = om.Program("sparse_svm")
w = sparse.var("w", shape=pb, lb=-M, ub=M)
b = sparse.var("b")
z = sparse.var("z", shape=pb, domain="binary")
sparse.add(w <= M * z, name="upper")
sparse.add(w >= -M * z, name="lower")
sparse.add(z.sum() <= k, name="cardinality")
sparse.minimize(om.norm1(w) + Cb * om.sum(om.pos(1 - sb * (Xb @ w + b))))
print(sparse.problem_class, sparse.summary(), sep="\n")

mip = {}
for backend, solver in (("highs", None), ("pyomo", "scip")):
    res = sparse.solve(backend=backend, solver=solver, mip_gap=1e-6, time_limit=60)
    mip[backend] = res
    print(
        f"{res.backend}/{res.solver}: {res.status} objective {res.objective:.6f} "
        f"bound {res.bound:.6f} gap {res.gap:.1e} features {np.flatnonzero(res.values['z'] > 0.5)}"
    )
    assert np.abs(res.values["w"]).max() < M  # the big-M did not bind

est = SparseSVM(k=k, C=Cb, penalty="l1").fit(Xb, bc.y[:150])
print("SparseSVM:", est.result_, "features", np.flatnonzero(est.coef_.ravel()))
assert abs(est.result_.objective - mip["highs"].objective) <= 1e-4 * mip["highs"].objective

# %% [markdown]
# ## Exercises
#
# 1. Replace the hinge by the squared hinge (`om.sum_squares(om.pos(...))`) and compare with
#    `sklearn.svm.LinearSVC`. Which problem class does optml report now?
# 2. Solve the soft-margin SVM with `backend="cvxpy", solver="highs"` and look at `verified`
#    and `gap`: why does optml compute its own bound rather than trust the solver's status?
# 3. Plot the objective of the sparse SVM against $k = 1, \dots, 6$. Where does it flatten?
#    Compare the selected features with the $k$ largest |coefficients| of the L1-SVM.
# 4. The estimator derives its big-M from LP duality (`est.bigm_`). Compare it with the
#    `M = 10` used above; what would a too-small M do to the certificate?
