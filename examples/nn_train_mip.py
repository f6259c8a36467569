"""Train small networks by MILP from a gradient start (optml.nn, issue 27).

1. A binarized network (ternary weights, sign activations; Toro Icarte et al. 2019) on 30
   digits images (3 per class), hidden 8, by the hybrid method: a ternarised scikit-learn MLP,
   a feasibility MILP, the per-unit decomposition, then the training MILP. Never worse than its
   start; the bound is the MILP's proven one.
2. A ReLU network with weights in [-1, 1] (after Thorbjarnarson and Yorke-Smith 2021) on 60
   iris points: a projected scikit-learn MLP, polished by fixed-pattern LPs, then the MILP.

Run: python examples/nn_train_mip.py [--plot]  (--plot saves nn_train_mip.png)
"""

import sys

import numpy as np
from sklearn.datasets import load_digits, load_iris

from optml.nn import BinarizedNeuralNetwork, MIPNetworkClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0
rng = np.random.default_rng(0)
idx = np.concatenate([rng.choice(np.flatnonzero(y == c), 3, replace=False) for c in range(10)])
rest = np.setdiff1d(np.arange(len(y)), idx)
# allow_errors=True: a network comes back whatever the clock (fewest misfitted points first)
bnn = BinarizedNeuralNetwork((8,), objective="max_margin", allow_errors=True, time_limit=5)
bnn.fit(X[idx], y[idx])
r, st = bnn.result_, bnn.result_.stats
print(f"binarized 64-8-10 on {len(idx)} digits ({st['method']}):")
if bnn.start_objective_ is not None:
    start = f"start {bnn.start_objective_:.3f}, improvement {bnn.improvement_:.3f}"
else:
    start = "no gradient start in time"
print(
    f"  objective {r.objective:.3f}: hidden margins less a penalty per misfitted point "
    f"({bnn.train_errors_} misfitted; {start}), proven bound {r.bound:.3f}, gap {r.gap:.3g}"
)
print(
    f"  {bnn.n_nonzero_weights_} nonzero ternary weights, train accuracy "
    f"{bnn.score(X[idx], y[idx]):.3f}, test accuracy {bnn.score(X[rest], y[rest]):.3f}"
)
print(f"  certificate: status {r.status}, verified by numpy {r.verified}, from {st['best_from']}")

Xw, yw = load_iris(return_X_y=True)
Xw = (Xw - Xw.mean(0)) / Xw.std(0)
perm = np.random.default_rng(0).permutation(len(yw))
tr, te = perm[:60], perm[60:]
m = MIPNetworkClassifier((3,), time_limit=3).fit(Xw[tr], yw[tr])
r, st = m.result_, m.result_.stats
print("\nReLU 4-3-3, weights in [-1, 1], 60 iris points:")
print(
    f"  hinge loss {m.loss_:.4f} (start {st['start_objective']:.4f}, after the polish "
    f"{st['polish_objective']:.4f}), bound {r.bound:.4f}, gap {r.gap:.3g}, status {r.status}"
)
print(
    f"  train accuracy {m.score(Xw[tr], yw[tr]):.3f}, test accuracy {m.score(Xw[te], yw[te]):.3f}"
)
print("\nformulation of the ReLU training MILP:")
print(m.program_.summary())

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 8, figsize=(12, 2))
    for j, ax in enumerate(axes):
        ax.imshow(bnn.coefs_[0][:, j].reshape(8, 8), cmap="bwr", vmin=-1, vmax=1)
        ax.set_title(f"unit {j}")
        ax.axis("off")
    fig.suptitle("ternary first-layer weights of the binarized network")
    fig.savefig("nn_train_mip.png", dpi=100, bbox_inches="tight")
    print("saved nn_train_mip.png")
