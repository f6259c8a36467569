"""Multinomial (softmax) logistic regression on wine, and its sparse variant with a feature
budget shared by the three classes, as certified programs.

Run: python examples/classification_multinomial.py [--plot]
"""

import sys

import numpy as np
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.preprocessing import StandardScaler

from optml.classification import LogisticRegression, SparseLogisticRegression

X, y = load_wine(return_X_y=True)
X = StandardScaler().fit_transform(X)

m = LogisticRegression(C=0.5).fit(X, y)
sk = SkLogistic(C=0.5, tol=1e-10, max_iter=10000).fit(X, y)
print("LogisticRegression, 3 classes: one softmax model (Newton, duality-gap certificate)")
print(m.result_.summary())
print("largest |coef - sklearn coef|:", float(np.abs(m.coef_ - sk.coef_).max()))
print("training accuracy", round(m.score(X, y), 3))
print("the exponential-cone program general solvers receive:")
print(m.program_.summary())

# at most 2 of the first 6 features, the same for every class (every other sample: the
# outer approximation's MILP rounds take seconds each)
Xs, ys = X[::2, :6], y[::2]
sp = SparseLogisticRegression(k=2, C=0.5, multi_class="multinomial", time_limit=12).fit(Xs, ys)
print("\nSparseLogisticRegression(k=2, multi_class='multinomial'): features", sp.support_[0])
print(sp.result_.summary())
print("rounds of the outer approximation:", sp.n_rounds_[0])
print("training accuracy", round(sp.score(Xs, ys), 3))

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.imshow(sp.coef_, cmap="coolwarm", aspect="auto")
    ax.set_xlabel("feature")
    ax.set_ylabel("class")
    ax.set_title("shared-budget multinomial coefficients (k=2)")
    fig.savefig("classification_multinomial.png", dpi=120, bbox_inches="tight")
    print("saved classification_multinomial.png")
