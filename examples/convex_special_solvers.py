"""Convex models by optml's own certified algorithms: linear SVM (svm-newton), kernel SVM and
kernel SVR (smo), Huber regression with a joint scale (huber-newton).

Each fit prints its certificate (status, objective, bound, relative gap) and the program the
general solvers would receive; ``--plot`` saves the kernel SVR fit to ``svr_kernel.png``.

Run: python examples/convex_special_solvers.py [--plot]
"""

import sys

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from optml import data
from optml.classification import KernelSVM, SoftMarginSVM
from optml.regression import HuberRegression, SupportVectorRegression

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)

svm = SoftMarginSVM(C=1.0).fit(X, y)
print("SoftMarginSVM, breast cancer:", svm.result_.solver, svm.result_.message)
print(svm.result_.summary())

ksvm = KernelSVM(C=1.0, kernel="rbf").fit(X, y)
print("\nKernelSVM rbf:", len(ksvm.support_), "support vectors;", ksvm.result_.message)
print(ksvm.result_.summary())

ds = data.load("stackloss")
Xs, ys = ds.X, ds.y
hub = HuberRegression(epsilon=1.35, alpha=0.0).fit(Xs, ys)
print("\nHuberRegression, stackloss: coef", np.round(hub.coef_, 4), "scale", round(hub.scale_, 3))
print("outliers:", np.flatnonzero(hub.outliers_).tolist())
print(hub.result_.summary())
print(hub.program_.to_latex()[:400])

rng = np.random.default_rng(0)
x1 = np.sort(rng.uniform(0, 6, 120))
y1 = np.sin(x1) + 0.1 * rng.standard_normal(120)
svr = SupportVectorRegression(kernel="rbf", C=10.0, epsilon=0.05, gamma=1.0).fit(x1[:, None], y1)
print("\nSupportVectorRegression rbf on sin(x) + noise:", len(svr.support_), "support vectors")
print(svr.result_.summary())

if "--plot" in sys.argv:
    import matplotlib.pyplot as plt

    grid = np.linspace(0, 6, 300)
    f = svr.predict(grid[:, None])
    plt.plot(x1, y1, ".", label="data")
    plt.plot(grid, f, label="kernel SVR (smo)")
    plt.fill_between(grid, f - 0.05, f + 0.05, alpha=0.2, label="epsilon tube")
    plt.legend()
    plt.savefig("svr_kernel.png", dpi=100)
    print("saved svr_kernel.png")
