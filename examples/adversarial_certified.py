"""Certified training of a small ReLU network (Wong and Kolter 2018), verified by MILP (issue 22).

On two interleaved half-moons, trains the same 2-16-16-2 network twice with numpy and Adam:
on the clean cross-entropy (kappa=1) and on Wong and Kolter's robust loss (the cross-entropy
of the negated dual-network lower bounds on the margins over an L-inf ball, kappa=0). For each
it prints the clean accuracy, the fraction of test points the LP bound certifies, and the
verified robust accuracy by optml's exact MILP verifier (every counterexample checked by a
numpy forward pass). Training is not a program solve: the certificate is the verification.

Run: python examples/adversarial_certified.py [--plot]  (--plot saves adversarial_certified.png)
"""

import sys

import numpy as np
from sklearn.datasets import make_moons

from optml.adversarial import CertifiedMLPClassifier
from optml.formulations.latex import formula_latex
from optml.nn import verify_robustness

X, y = make_moons(200, noise=0.15, random_state=1)
Xt, yt = make_moons(200, noise=0.15, random_state=2)
eps = 0.2
kw = dict(hidden_layer_sizes=(16, 16), epsilon=eps, epochs=40, batch_size=32, random_state=0)
nominal = CertifiedMLPClassifier(kappa=1.0, **kw).fit(X, y)
robust = CertifiedMLPClassifier(kappa=0.0, **kw).fit(X, y)

n_ver = 20
print(f"L-inf ball of radius {eps}; MILP verification on the first {n_ver} test points")
for name, m in (("nominal training", nominal), ("certified training", robust)):
    net = m.to_network()
    verdicts = [
        verify_robustness(net, x, c, eps).robust
        for x, c in zip(Xt[:n_ver], yt[:n_ver], strict=True)
    ]
    print(
        f"  {name:18s} clean test acc. {m.score(Xt, yt):.3f}, certified by the LP bound "
        f"{m.certify(Xt, yt).mean():.3f} (all test points), {m.certify(Xt[:n_ver], yt[:n_ver]).mean():.2f}"
        f" / verified by MILP {np.mean([v is True for v in verdicts]):.2f} (first {n_ver}), "
        f"train {m.fit_time_:.1f} s"
    )

J = robust.margin_bounds(Xt[:1], yt[:1])
print(f"\nlower bounds on f_y - f_j over the ball of test point 0 (y = {yt[0]}): {J[0].round(3)}")
print("the textbook model:", formula_latex(robust, values=True))

if "--plot" in sys.argv:
    import matplotlib.pyplot as plt

    g = np.linspace(-1.6, 2.6, 200), np.linspace(-1.1, 1.6, 150)
    G = np.column_stack([a.ravel() for a in np.meshgrid(*g)])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, (name, m) in zip(axes, (("nominal", nominal), ("certified", robust)), strict=True):
        ax.contourf(*g, m.predict(G).reshape(150, 200), alpha=0.25, cmap="coolwarm")
        cert = m.certify(Xt, yt)
        ax.scatter(*Xt[cert].T, c=yt[cert], cmap="coolwarm", s=14, label="certified")
        ax.scatter(*Xt[~cert].T, c=yt[~cert], cmap="coolwarm", s=14, marker="x", label="not")
        ax.set_title(f"{name}: {cert.mean():.2f} certified at eps {eps}")
        ax.legend(loc="lower left")
    fig.savefig("adversarial_certified.png", dpi=120)
    print("saved adversarial_certified.png")
