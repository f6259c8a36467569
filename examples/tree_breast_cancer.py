"""A certified-optimal depth-3 classification tree on breast_cancer, next to CART.

The default solver is optml's dynamic programming ``tree-dp``; the program printed at the end
is the FlowOCT MILP that general solvers receive for the same instance.

Run: python examples/tree_breast_cancer.py [--plot]  (--plot saves tree_breast_cancer.png)
"""

import sys
import time

from sklearn.datasets import load_breast_cancer
from sklearn.tree import DecisionTreeClassifier

from optml.classification import OptimalClassificationTree

data = load_breast_cancer()
X, y, names = data.data, data.target, list(data.feature_names)

# 5 quantile bins per feature (4 thresholds each, plus CART's thresholds for the warm start)
clf = OptimalClassificationTree(max_depth=3, thresholds=5, time_limit=60)
t0 = time.perf_counter()
clf.fit(X, y)
wall = time.perf_counter() - t0
cart = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)

print(f"formulation: {clf.formulation_}   fit: {wall:.2f} s   tree from: {clf.source_}")
print(f"training errors: OCT {clf.objective_:.0f}   CART {(cart.predict(X) != y).sum()}")
print(f"training accuracy: OCT {clf.score(X, y):.4f}   CART {cart.score(X, y):.4f}")
print()
print("certificate")
print(clf.result_.summary())
print("search:", clf.result_.stats)
print()
print(clf.export_text(feature_names=names))
print("program")
print(clf.program_.summary())

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    from optml.plot import compare_trees

    fig = compare_trees(clf, cart, X, y, feature_names=names)
    fig.savefig("tree_breast_cancer.png", dpi=90, bbox_inches="tight")
    print("saved tree_breast_cancer.png")
