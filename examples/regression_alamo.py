"""Regression beyond linearity (ALAMO): recover a formula from noisy samples by certified best
subsets over a basis library, with BIC over the path; a monotone, bounded fit; and a
piecewise-linear fit with two breakpoints.

Run: python examples/regression_alamo.py [--plot]
"""

import sys

import numpy as np

from optml.regression import ALAMORegression, PiecewiseLinearRegression

rng = np.random.default_rng(0)
X = rng.uniform(0.5, 3.0, size=(50, 2))
y = 1.0 + 2.0 * X[:, 0] ** 2 - 3.0 * np.log(X[:, 1]) + 0.05 * rng.normal(size=50)
m = ALAMORegression(max_terms=3, ratios=False).fit(X, y)
print("true:   y = 1 + 2*x0^2 - 3*log(x1)")
print("fitted:", m.formula())
print(f"library of {len(m.terms_)} terms: {m.terms_}")
print("BIC per model size:", np.round(m.criteria_, 2))
print(m.result_.summary())

x1 = np.sort(rng.uniform(0.5, 3.0, 25))[:, None]
y1 = np.sin(2 * x1[:, 0]) + x1[:, 0] + 0.05 * rng.normal(size=25)
mono = ALAMORegression(
    max_terms=3, exps=False, ratios=False, monotone={0: 1}, output_bounds=(None, 3.0)
).fit(x1, y1)
print("\nincreasing in x0 and at most 3 at the samples:", mono.formula())
print(mono.result_.summary())

xp = np.round(np.sort(rng.uniform(0, 10, 16)), 2)
yp = np.piecewise(
    xp, [xp < 3, (xp >= 3) & (xp < 7), xp >= 7], [lambda t: t, 3.0, lambda t: 3 - (t - 7)]
)
yp = yp + 0.2 * rng.normal(size=xp.size)
pw = PiecewiseLinearRegression(2).fit(xp[:, None], yp)
print("\npiecewise linear, 2 breakpoints (true 3 and 7):", np.round(pw.breakpoints_, 2))
print("slopes", np.round(pw.slopes_, 2), "(true 1, 0, -1)")
print(pw.result_.summary())

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(8, 3))
    ax[0].scatter(x1[:, 0], y1, s=8)
    ax[0].plot(x1[:, 0], mono.predict(x1), "r")
    ax[0].set_title("monotone, bounded ALAMO fit")
    ax[1].scatter(xp, yp, s=8)
    grid = np.linspace(0, 10, 200)[:, None]
    ax[1].plot(grid[:, 0], pw.predict(grid), "r")
    ax[1].set_title("piecewise linear, 2 breakpoints")
    fig.savefig("regression_alamo.png", dpi=120, bbox_inches="tight")
    print("saved regression_alamo.png")
