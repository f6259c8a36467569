"""Verification beyond L-inf: L2 balls, targeted and linear output specifications, ONNX import,
and a robust depth-2 tree (issue 22).

A small ReLU network trained on the 8x8 digits (pixels in [0, 1]) is verified on an L2 ball
(a mixed-integer second-order cone program, with an SOCP relaxation first), on a targeted
specification (class a never beats class b), and, when the optional package onnx is installed,
again after an ONNX round trip (same verdicts). Every counterexample is re-checked by a numpy
forward pass.

Run: python examples/adversarial_verify_specs.py [--plot]  (--plot saves adversarial_specs.png)
"""

import sys
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from optml.adversarial import RobustOptimalTree, attack
from optml.nn import ReLUNetwork, verify_robustness, verify_targeted

X, y = load_digits(return_X_y=True)
X = X / 16.0
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    mlp = MLPClassifier((12,), random_state=0, max_iter=150).fit(X[:-50], y[:-50])
net = ReLUNetwork.from_sklearn(mlp)
Xte, yte = X[-50:], y[-50:]
print(f"network {net}, test accuracy {mlp.score(Xte, yte):.3f}")

for eps in (0.1, 0.5):
    print(f"\nL2 ball, epsilon = {eps}")
    for i in range(4):
        r = verify_robustness(net, Xte[i], yte[i], eps, norm="2", lb=0.0, ub=1.0, time_limit=20)
        verdict = {True: "robust", False: "NOT robust", None: "undecided"}[r.robust]
        print(f"  image {i} (label {yte[i]}): {verdict:10s} by {r.decided_by}")

x0 = Xte[0]
lab = int(np.argmax(net.forward(x0)))
other = int(np.argsort(net.forward(x0))[-2])
for eps in (0.05, 0.2):
    t = verify_targeted(net, x0, eps, other, lab, norm="inf", lb=0.0, ub=1.0, time_limit=20)
    print(
        f"\ntargeted, L-inf {eps}: class {other} never beats class {lab}: {t.holds} "
        f"(by {t.decided_by}; proven bound on f_{other} - f_{lab}: {t.violation_bound[0]:+.3f})"
    )

try:
    from optml.nn import from_onnx, to_onnx

    loaded = from_onnx(to_onnx(net))
    same = all(
        verify_robustness(net, Xte[i], yte[i], 0.03, lb=0, ub=1).robust
        == verify_robustness(loaded, Xte[i], yte[i], 0.03, lb=0, ub=1).robust
        for i in range(4)
    )
    print(f"\nONNX round trip: same verdicts on 4 images at L-inf 0.03: {same}")
except ImportError:
    print("\nONNX round trip skipped: pip install onnx")

# a robust depth-2 tree: every sample counts only if its whole ball lands in its class
rng = np.random.default_rng(0)
Z = rng.normal(size=(120, 3))
c = (Z[:, 0] + 0.5 * Z[:, 1] + 0.4 * rng.normal(size=120) > 0).astype(int)
tree = RobustOptimalTree(2, eps=0.2).fit(Z, c)
print(
    f"\nrobust depth-2 tree, eps 0.2: {tree.robust_correct_} of 120 robustly correct "
    f"(bound {tree.bound_}, {tree.status_}); attack agrees: "
    f"{attack(tree, Z, c, 0.2).robust.sum()}"
)

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    from optml.plot import plot_adversarial

    r = verify_robustness(net, Xte[0], yte[0], 0.2, norm="inf", lb=0.0, ub=1.0, time_limit=20)
    x_adv = r.counterexample if r.counterexample is not None else Xte[0]
    fig = plot_adversarial(Xte[0], x_adv, (8, 8), vmin=0, vmax=1)
    fig.savefig("adversarial_specs.png", dpi=100, bbox_inches="tight")
    print("saved adversarial_specs.png")
