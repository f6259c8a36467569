"""The soft-margin SVM on breast cancer written directly in optml; its duals are the SVM's
dual variables.

    min  1/2 ||w||^2 + C sum_i xi_i   s.t.  s_i (x_i'w + b) >= 1 - xi_i  (margin),  xi >= 0

The duals alpha_i of the margin rows are the support-vector weights of the dual SVM:
0 <= alpha_i <= C, sum_i alpha_i s_i = 0 and w = sum_i alpha_i s_i x_i (checked below), and
alpha_i > 0 exactly on the support vectors.

    python examples/program_svm_breast_cancer.py [--plot]
"""

import argparse

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

import optml as om

ap = argparse.ArgumentParser()
ap.add_argument("--plot", action="store_true", help="save program_svm_breast_cancer.png")
args = ap.parse_args()

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)
s = np.where(y == 1, 1.0, -1.0)
n, d = X.shape
C = 0.1

p = om.Program("soft_margin_svm")
w = p.var("w", d)
b = p.var("b")
xi = p.var("xi", n, lb=0, latex=r"\xi")
p.add((s[:, None] * X) @ w + s * b >= 1 - xi, name="margin")
p.minimize(0.5 * om.sum_squares(w) + C * om.sum(xi))
res = p.solve()

print(p.summary())
print(p.to_latex())
print(res.summary())
alpha = res.duals["margin"]  # d objective / d (right-hand side 1): the dual SVM's alpha
print(f"\nsupport vectors (alpha > 0): {int((alpha > 1e-6 * C).sum())} of {n}")
box = max(0.0, -alpha.min(), alpha.max() - C)
print(f"0 <= alpha <= C: largest excess {box:.1e} (the QP solver's dual accuracy)")
print(f"sum alpha_i s_i = {alpha @ s:.2e}  (the dual's equality row)")
w_dual = (alpha * s) @ X
print(f"w = sum alpha_i s_i x_i: largest difference {np.abs(w_dual - res['w']).max():.2e}")
print(f"training accuracy {np.mean(np.sign(X @ res['w'] + res['b']) == s):.3f}")

if args.plot:
    import matplotlib.pyplot as plt

    margin = s * (X @ res["w"] + res["b"])
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.scatter(margin, alpha, s=8)
    ax.set_xlabel("margin s_i (x_i'w + b)")
    ax.set_ylabel("dual alpha_i")
    fig.tight_layout()
    fig.savefig("program_svm_breast_cancer.png", dpi=120)
    print("saved program_svm_breast_cancer.png")
