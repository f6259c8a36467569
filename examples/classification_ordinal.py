"""Support vector ordinal regression (Chu & Keerthi 2005) on a bundled ordinal target: the
diabetes progression score cut into four ordered grades.

Run: python examples/classification_ordinal.py [--plot]
"""

import sys

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from optml.classification import SupportVectorOrdinalRegression

X, target = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
grade = np.digitize(target, np.quantile(target, [0.25, 0.5, 0.75]))  # 0 < 1 < 2 < 3
Xtr, Xte, ytr, yte = train_test_split(X, grade, test_size=0.3, random_state=0)

for thresholds in ("explicit", "implicit"):
    m = SupportVectorOrdinalRegression(C=0.1, thresholds=thresholds).fit(Xtr, ytr)
    pred = m.predict(Xte)
    print(f"\nSVOR, {thresholds} thresholds: thresholds_ = {np.round(m.thresholds_, 3)}")
    print(
        f"test accuracy {np.mean(pred == yte):.3f}, mean absolute error "
        f"{np.mean(np.abs(pred - yte)):.3f}"
    )
    print(m.result_.summary())
print("\nthe QP (implicit thresholds):")
print(m.program_.summary())

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    f = m.latent_function(Xte)
    ax.scatter(f, yte + 0.1 * np.random.default_rng(0).normal(size=yte.size), s=8)
    for b in m.thresholds_:
        ax.axvline(b, color="k", lw=0.8)
    ax.set_xlabel("x'w")
    ax.set_ylabel("grade")
    fig.savefig("classification_ordinal.png", dpi=120, bbox_inches="tight")
    print("saved classification_ordinal.png")
