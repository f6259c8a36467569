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
# # 7. Adversarial learning: exact attacks and robust training
#
# How far must an input move before a classifier changes its mind? For a linear classifier
# the worst perturbation in a box-constrained ball is a linear program; training against
# every such perturbation at once is the robust counterpart, still a convex program. We write
# both, solve them on two solvers, and compare with `optml.adversarial` and `RobustSVM`.
#
# *Survey section: adversarial learning (robust counterparts of linear classifiers, Bertsimas
# et al. 2019; exact attacks and verification, Tjeng, Xiao and Tedrake 2019).*

# %%
import matplotlib

matplotlib.use("Agg")  # figures are saved to files; in Jupyter remove this line to see them inline
import numpy as np

import optml as om
from optml import data
from optml.adversarial import attack
from optml.classification import RobustSVM, SoftMarginSVM
from optml.plot import plot_adversarial

digits = data.load("digits")
keep = np.isin(digits.y, (3, 8))
X = digits.X[keep][:300] / 16.0  # pixels in [0, 1]
y = digits.y[keep][:300]
s = np.where(y == 8, 1.0, -1.0)
n, d = X.shape
C = 1.0
svm = SoftMarginSVM(C=C).fit(X, y)
w, b = svm.coef_.ravel(), float(svm.intercept_[0])
print("training accuracy", svm.score(X, y), "  certificate:", svm.result_)

# %% [markdown]
# ## The exact attack on one image: a linear program
#
# For an image $x$ with label $s \in \{-1, +1\}$, the worst perturbation of size at most
# $\epsilon$ per pixel, staying a valid image, minimises the signed score:
#
# $$\min_{\delta}\ s\,(w^\top (x + \delta) + b)\quad\text{s.t.}\quad
#   \lVert\delta\rVert_\infty \le \epsilon,\quad 0 \le x + \delta \le 1$$
#
# A negative optimum means the class flips somewhere in the ball; a positive one proves that
# it never does.

# %%
eps = 0.15
i = int(np.argmin(np.abs(X @ w + b)))  # the least confident image: the easiest to flip
x0 = X[i]
lp = om.Program("attack")
delta = lp.var("delta", shape=d, lb=np.maximum(-eps, -x0), ub=np.minimum(eps, 1 - x0))
lp.minimize(s[i] * (w @ (x0 + delta) + b))
worst = {}
for backend, solver in (("highs", None), ("cvxpy", "clarabel")):
    res = lp.solve(backend=backend, solver=solver)
    worst[backend] = res
    print(
        f"{res.backend}/{res.solver}: {res.status} worst signed score {res.objective:.6f} "
        f"(bound {res.bound:.6f})"
    )

# %% [markdown]
# `optml.adversarial.attack` finds the same worst case in closed form (coordinatewise for the
# $\ell_\infty$ ball with a box) and checks every counterexample with the model's `predict`:

# %%
att = attack(svm, X[i : i + 1], y[i : i + 1], eps, norm="inf", lb=0.0, ub=1.0)
print("attack: margin", att.margin[0], "counterexample", bool(att.counterexample[0]))
assert abs(att.margin[0] - worst["highs"].objective) <= 1e-6 * (1 + abs(att.margin[0]))
assert abs(worst["highs"].objective - worst["cvxpy"].objective) <= 1e-6 * (1 + abs(att.margin[0]))
x_adv = x0 + worst["highs"].values["delta"]
if worst["highs"].objective < 0:
    assert svm.predict(x_adv[None, :])[0] != y[i]  # the class really flips

# %% [markdown]
# ## Figure: the image and its adversarial example

# %%
fig = plot_adversarial(
    x0, x_adv, (8, 8), labels=(f"({y[i]})", f"({svm.predict(x_adv[None])[0]})"), vmin=0, vmax=1
)
fig.savefig("course_adversarial.png", dpi=90)

# %% [markdown]
# ## Robust training: the worst case inside the loss
#
# The worst hinge loss over the ball (ignoring the pixel box) has a closed form:
# $\max_{\lVert\delta\rVert_\infty \le \epsilon} (1 - s(w^\top(x+\delta) + b))_+ =
# (1 - s(w^\top x + b) + \epsilon\lVert w\rVert_1)_+$. The robust SVM is therefore
#
# $$\min_{w,b}\ \tfrac12\lVert w\rVert_2^2 + C\sum_i \bigl(1 - s_i(x_i^\top w + b)
#   + \epsilon\lVert w\rVert_1\bigr)_+$$
#
# a convex program with a norm inside the hinge; optml lowers it to a QP.

# %%
eps_train = 0.05
rob = om.Program("robust_svm")
wv = rob.var("w", shape=d)
bv = rob.var("b")
rob.minimize(
    0.5 * om.sum_squares(wv) + C * om.sum(om.pos(1 - s * (X @ wv + bv) + eps_train * om.norm1(wv)))
)
print(rob.problem_class, rob.summary(), sep="\n")
robust_res = {}
for backend, solver in (("highs", None), ("cvxpy", "clarabel")):
    res = rob.solve(backend=backend, solver=solver)
    robust_res[backend] = res
    print(
        f"{res.backend}/{res.solver}: {res.status} objective {res.objective:.6f} "
        f"bound {res.bound:.6f} gap {res.gap:.1e}"
    )
est = RobustSVM(C=C, eps=eps_train, norm="inf").fit(X, y)
print("RobustSVM:", est.result_)
ref = robust_res["highs"].objective
assert abs(robust_res["cvxpy"].objective - ref) <= 1e-5 * ref
assert abs(est.result_.objective - ref) <= 1e-4 * ref

# %% [markdown]
# Adversarial accuracy (the share of images proven robust under the exact attack) of the
# nominal and the robust SVM, for growing $\epsilon$:

# %%
for e in (0.0, 0.02, 0.05, 0.1):
    a_nom = attack(svm, X, y, e, norm="inf", lb=0.0, ub=1.0).accuracy
    a_rob = attack(est, X, y, e, norm="inf", lb=0.0, ub=1.0).accuracy
    print(f"eps {e:.2f}: nominal {a_nom:.3f}   robust {a_rob:.3f}")

# %% [markdown]
# ## Exercises
#
# 1. Write the attack for the $\ell_1$ ball (a budget on the total change). Which pixels does
#    it change, and why does the answer look like a fractional knapsack?
# 2. Keep the pixel box in the robust training problem: the closed form no longer holds. Write
#    the robust counterpart with LP duality for each sample and compare with the version above.
# 3. Attack a depth-3 `OptimalClassificationTree` on the same images with `attack` (exact, by
#    enumeration of leaves). Is the tree more or less robust than the SVM at the same accuracy?
# 4. Plot the adversarial accuracy of both models against $\epsilon$ on held-out images.
