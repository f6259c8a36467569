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
# # 6. Deep learning: a trained ReLU network as a MILP
#
# A ReLU unit $h = \max(0, w^\top x + b)$ is a disjunction: either it is off ($h = 0$) or on
# ($h = w^\top x + b$). With a binary per unit and bounds on its input, a trained network
# becomes a mixed-integer linear program. Then questions a gradient cannot answer get exact,
# certified answers: the largest output over a box, and whether any input near $x$ changes
# the class.
#
# *Survey section: deep learning (Fischetti and Jo 2018; Tjeng, Xiao and Tedrake 2019;
# Anderson et al. 2020).*

# %%
import matplotlib

matplotlib.use("Agg")  # figures are saved to files; in Jupyter remove this line to see them inline
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.neural_network import MLPClassifier

import optml as om
from optml.nn import ReLUNetwork, verify_robustness

X, y = make_moons(n_samples=200, noise=0.2, random_state=0)
mlp = MLPClassifier(
    hidden_layer_sizes=(8, 8), activation="relu", max_iter=3000, random_state=0
).fit(X, y)
print("training accuracy", mlp.score(X, y))
Ws = [W.T for W in mlp.coefs_]  # layer l maps h_{l-1} to W_l h_{l-1} + b_l
bs = list(mlp.intercepts_)
lb, ub = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5  # the input box

# %% [markdown]
# ## The MILP, written by hand
#
# Interval arithmetic gives bounds $L \le w^\top h + b \le U$ on every unit's input; then
#
# $$h \ge w^\top h_{\text{prev}} + b,\quad h \le w^\top h_{\text{prev}} + b - L(1 - z),\quad
#   0 \le h \le U z,\quad z \in \{0, 1\}$$
#
# is exact. We maximise the network's output (its logit for class 1) over the box.


# %%
def interval(W, b, lo, hi):
    Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
    return Wp @ lo + Wn @ hi + b, Wp @ hi + Wn @ lo + b


net_prog = om.Program("relu_net")
x = net_prog.var("x", shape=2, lb=lb, ub=ub)
h, lo, hi = x, lb, ub
for layer, (W, b) in enumerate(zip(Ws[:-1], bs[:-1], strict=True)):
    L, U = interval(W, b, lo, hi)
    pre = W @ h + b
    z = net_prog.var(f"z{layer}", shape=b.size, domain="binary")
    h = net_prog.var(f"h{layer}", shape=b.size, lb=0, ub=np.maximum(U, 0))
    net_prog.add(h >= pre, name=f"above{layer}")
    net_prog.add(h <= pre - L * (1 - z), name=f"on{layer}")
    net_prog.add(h <= np.maximum(U, 0) * z, name=f"off{layer}")
    lo, hi = np.maximum(L, 0), np.maximum(U, 0)
out = Ws[-1] @ h + bs[-1]
net_prog.maximize(out[0])
print(net_prog.summary())

best = {}
for backend, solver in (("highs", None), ("pyomo", "scip")):
    res = net_prog.solve(backend=backend, solver=solver, mip_gap=1e-7)
    best[backend] = res
    print(
        f"{res.backend}/{res.solver}: {res.status} max logit {res.objective:.6f} bound "
        f"{res.bound:.6f} at x = {np.round(res.values['x'], 4)}"
    )

# %% [markdown]
# The optimum must agree with a forward pass at the returned point, and no point of a dense
# grid may beat it (the grid only gives a lower bound):

# %%
net = ReLUNetwork.from_sklearn(mlp)
x_star = best["highs"].values["x"]
assert abs(net.forward(x_star[None, :])[0, 0] - best["highs"].objective) <= 1e-6 * (
    1 + abs(best["highs"].objective)
)
g0, g1 = np.meshgrid(np.linspace(lb[0], ub[0], 200), np.linspace(lb[1], ub[1], 200))
grid = np.column_stack([g0.ravel(), g1.ravel()])
logits = net.forward(grid)[:, 0]
print(f"grid maximum {logits.max():.6f} <= MILP optimum {best['highs'].objective:.6f}")
assert logits.max() <= best["highs"].bound + 1e-6
assert abs(best["highs"].objective - best["pyomo"].objective) <= 1e-5 * (
    1 + abs(best["highs"].objective)
)

# %% [markdown]
# The library's `ReLUNetwork.maximize` writes the same MILP, with bounds tightened by LPs
# (tighter big-Ms, a faster proof):

# %%
opt = net.maximize(lb, ub, output=0)
print("ReLUNetwork.maximize:", opt.result)
assert abs(opt.value - best["highs"].objective) <= 1e-5 * (1 + abs(opt.value))

# %% [markdown]
# ## Robustness: can a small perturbation change the class?
#
# For a training point $x_0$ and a radius $\epsilon$, `verify_robustness` solves the MILP
# "maximise the wrong class's margin over $\lVert x - x_0\rVert_\infty \le \epsilon$": a
# negative proven maximum proves robustness, a positive one comes with a counterexample
# checked by a forward pass.

# %%
x0, label = X[0], int(mlp.predict(X[:1])[0])
for eps in (0.02, 0.3):
    rob = verify_robustness(net, x0, label, epsilon=eps)
    print(f"epsilon {eps}: robust {rob.robust}, margin bound {rob.margin_bound:.4f}")
    if rob.robust is False:
        adv = rob.counterexample
        assert mlp.predict(adv[None, :])[0] != label  # the counterexample is real
        assert np.abs(adv - x0).max() <= eps + 1e-9

# %% [markdown]
# ## Figure: the network's logit over the box, with its certified maximiser

# %%
fig, ax = plt.subplots(figsize=(6, 4.5))
cs = ax.contourf(g0, g1, logits.reshape(g0.shape), levels=30, cmap="RdBu_r")
fig.colorbar(cs, ax=ax, label="logit of class 1")
ax.contour(g0, g1, logits.reshape(g0.shape), levels=[0], colors="k", linewidths=1)
ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=10, edgecolors="k", linewidths=0.3)
ax.scatter(
    *x_star,
    marker="*",
    s=250,
    color="gold",
    edgecolors="k",
    label=f"certified max {best['highs'].objective:.2f}",
    clip_on=False,
    zorder=5,
)
ax.legend(fontsize=8, loc="upper left")
ax.set_title("ReLU network 2-8-8-1 as a MILP", fontsize=9)
fig.savefig("course_relu_network.png", dpi=90)

# %% [markdown]
# ## Exercises
#
# 1. Replace the interval bounds by LP-tightened ones (`optml.nn.compute_bounds`) and compare
#    the MILP's solve time and its root gap (Fischetti and Jo 2018).
# 2. Find the smallest $\epsilon$ at which the prediction at $x_0$ can be flipped (bisection on
#    `verify_robustness`), and draw the counterexample on the figure.
# 3. Embed the network in a larger program (`optml.nn.embed`): find the input of least norm
#    whose logit is at least 2.
# 4. Double the width of the hidden layers. How do the number of binaries and the solve time
#    grow?
