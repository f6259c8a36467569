"""A certified-optimal depth-3 regression tree on scikit-learn's diabetes data, next to CART.

The default solver is optml's dynamic programming ``tree-dp-regression`` (squared loss); the
program printed at the end is the MIQP general solvers (SCIP) receive for the same instance.
A second fit limits the tree to 5 leaves (``max_leaf_nodes``).

Run: python examples/regression_tree.py [--plot]  (--plot saves regression_tree.png)
"""

import sys
import time

from sklearn.datasets import load_diabetes
from sklearn.tree import DecisionTreeRegressor

from optml.regression import OptimalRegressionTree

data = load_diabetes()
X, y, names = data.data, data.target, list(data.feature_names)


def sse(model):
    return float(((model.predict(X) - y) ** 2).sum())


# 8 quantile bins per feature (7 thresholds each, plus CART's thresholds for the start)
reg = OptimalRegressionTree(max_depth=3, thresholds=8, time_limit=60)
t0 = time.perf_counter()
reg.fit(X, y)
wall = time.perf_counter() - t0
cart = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y)

print(f"fit: {wall:.2f} s   solver: {reg.result_.solver}   tree from: {reg.source_}")
print(f"training SSE: optimal tree {sse(reg):.0f}   CART {sse(cart):.0f}")
print(f"training R^2: optimal tree {reg.score(X, y):.4f}   CART {cart.score(X, y):.4f}")
print()
print("certificate")
print(reg.result_.summary())
print()
print(reg.export_text(feature_names=names))

small = OptimalRegressionTree(max_depth=3, thresholds=8, max_leaf_nodes=5).fit(X, y)
cart5 = DecisionTreeRegressor(max_depth=3, max_leaf_nodes=5, random_state=0).fit(X, y)
print(
    f"at most 5 leaves: SSE {sse(small):.0f} ({small.tree_.n_leaves} leaves, "
    f"{small.result_.status}, gap {small.result_.gap:.1e})   CART {sse(cart5):.0f}"
)
print()
print("program (the MIQP of a depth-2 tree on 3 quantile bins)")
print(OptimalRegressionTree(max_depth=2, thresholds=3).build_program(X, y).summary())

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    j = names.index("bmi")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(X[:, j], y, s=8, alpha=0.4, label="data")
    order = X[:, j].argsort()
    ax.plot(X[order, j], reg.predict(X)[order], ".", ms=3, label="optimal tree (depth 3)")
    ax.set_xlabel("bmi")
    ax.set_ylabel("disease progression")
    ax.legend()
    fig.tight_layout()
    fig.savefig("regression_tree.png", dpi=120)
    print("saved regression_tree.png")
