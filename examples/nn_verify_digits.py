"""Verify a small ReLU network on handwritten digits by MILP (optml.nn).

Trains a 64-16-10 scikit-learn MLP on the 8x8 digits (pixels scaled to [0, 1]), then decides
for a few test images whether any perturbation of at most epsilon per pixel (L-inf) changes
the predicted class. Counterexamples are re-checked by a numpy forward pass; robust verdicts
come with a proven bound on the worst-case margin.

Run: python examples/nn_verify_digits.py [--plot]  (--plot saves nn_verify_digits.png)
"""

import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from optml.nn import ReLUNetwork, minimal_perturbation, verify_robustness

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, y_train, X_test, y_test = X[:-100], y[:-100], X[-100:], y[-100:]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    mlp = MLPClassifier((16,), random_state=0, max_iter=150).fit(X_train, y_train)
net = ReLUNetwork.from_sklearn(mlp)
print(f"network {net}, test accuracy {mlp.score(X_test, y_test):.3f}")

for eps in (0.02, 0.05):
    print(f"\nL-inf ball, epsilon = {eps}")
    for i in range(5):
        t = time.perf_counter()
        r = verify_robustness(net, X_test[i], y_test[i], eps, norm="inf", lb=0.0, ub=1.0)
        verdict = {True: "robust", False: "NOT robust", None: "undecided"}[r.robust]
        extra = (
            f"counterexample -> class {r.target} (margin {r.margin:+.3f}, forward-pass checked)"
            if r.robust is False
            else "worst-case margin < 0 (no point with margin >= 0: MILP infeasible)"
            if r.margin_bound == 0.0
            else f"worst-case margin <= {r.margin_bound:+.3f}"
        )
        print(
            f"  image {i} (label {y_test[i]}): {verdict:10s} by {r.decided_by:16s} "
            f"{extra}  [{time.perf_counter() - t:.2f} s, {r.n_binaries} binaries]"
        )

# the certificate and the formulation of one verification MILP (solved to optimality)
r = verify_robustness(
    net, X_test[4], y_test[4], 0.05, lb=0.0, ub=1.0, attack_steps=0, mode="margin"
)
res = r.result
print(f"\nimage 4, epsilon 0.05, exact worst-case margin: {r.margin_bound:+.4f} ({r.summary()})")
print(
    f"certificate of the last MILP: status {res.status}, objective {res.objective:.6g}, "
    f"bound {res.bound:.6g}, gap {res.gap:.3g}, verified by numpy {res.verified}"
)
print("\nformulation:")
print(r.program.summary())

# the Fischetti-Jo effect: bound tightening removes binaries
lo, hi = np.clip(X_test[4] - 0.1, 0, 1), np.clip(X_test[4] + 0.1, 0, 1)
for method in ("interval", "lp"):
    opt = net.maximize(lo, hi, output=0, bounds=method)
    print(
        f"max f_0 over the 0.1-ball, {method:8s} bounds: {opt.value:.4f} "
        f"({opt.n_binaries} binaries, {opt.time:.2f} s)"
    )

m = minimal_perturbation(net, X_test[0], y_test[0], norm="inf", lb=0.0, ub=1.0)
print(
    f"\nminimal L-inf perturbation of image 0: epsilon = {m.epsilon:.4f} "
    f"(proven lower bound {m.bound:.4f}, counterexample class {m.target}, "
    f"verified by forward pass: {m.verified})"
)
print("status", m.result.status, "gap", f"{m.result.gap:.2g}")

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    from optml.plot import plot_adversarial

    x_adv = m.counterexample if getattr(m, "counterexample", None) is not None else X_test[0]
    fig = plot_adversarial(X_test[0], x_adv, (8, 8), vmin=0, vmax=1)
    fig.savefig("nn_verify_digits.png", dpi=100, bbox_inches="tight")
    print("saved nn_verify_digits.png")
