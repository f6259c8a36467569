"""Optimise over a fitted gradient boosting model: the lowest-heat cement mix (optml.nn.embed).

Run: python examples/nn_embed_boosting.py [--plot]

Empirical model learning: a GradientBoostingRegressor learns the heat of hardening of cement
from its four ingredients (Hald's 13 mixes, bundled). ``embed`` writes the model as constraints
(one binary per leaf of every tree, threshold rows per split), and a MILP finds the mix with the
lowest predicted heat, each ingredient inside the range seen in the data and the four together
between 95 % and 99 % (as in every mix measured). The answer is certified (status, bound, gap)
and checked against the model's own ``predict``; 100 000 random feasible mixes cannot beat it.
``--plot`` saves the model's heat over two ingredients with the optimum to embed_boosting.png.
"""

import argparse
import time

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor

import optml as om
from optml.data import load
from optml.nn import embed


def main():
    ds = load("hald")
    X, y = ds.X, ds.y
    gb = GradientBoostingRegressor(
        n_estimators=40, max_depth=2, learning_rate=0.2, min_samples_leaf=2, random_state=0
    ).fit(X, y)
    print(f"GradientBoostingRegressor on {ds.name}: {X.shape[0]} mixes, R^2 {gb.score(X, y):.3f}")

    lo, hi = X.min(axis=0), X.max(axis=0)
    p = om.Program("cement_mix")
    x = p.var("mix", shape=4, lb=lo, ub=hi)  # percent of each ingredient
    heat = p.var("heat", shape=1)
    t = time.perf_counter()
    emb = embed(p, gb, x, heat)
    build = time.perf_counter() - t
    p.add(x.sum() >= 95, name="total_lo")
    p.add(x.sum() <= 99, name="total_hi")
    p.minimize(heat[0])
    res = p.solve()
    mix = x.value(res.values)
    chk = emb.check(res)
    print(f"embedding: {emb.summary()} (built in {build:.2f} s)")
    print(
        f"certificate: status {res.status}, objective {res.objective:.4f}, bound "
        f"{res.bound:.4f}, gap {res.gap:.2g}, verified by numpy {res.verified}"
    )
    print(
        f"lowest predicted heat {res.objective:.2f} at mix {np.round(mix, 3)} "
        f"(sum {mix.sum():.2f} %); model's own predict there: {chk.predicted[0]:.4f} "
        f"(agrees: {bool(chk)})"
    )
    print(f"best measured mix: heat {y.min():.1f} at {X[np.argmin(y)]}")

    rng = np.random.default_rng(0)
    R = rng.uniform(lo, hi, (100_000, 4))
    R = R[(R.sum(axis=1) >= 95) & (R.sum(axis=1) <= 99)]
    best = gb.predict(R).min()
    print(f"random search over {len(R)} feasible mixes: best {best:.4f} (>= the MILP optimum)")
    assert best >= res.objective - 1e-6
    print("\nformulation:")
    print(p.summary())
    return gb, mix, lo, hi


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plot", action="store_true", help="save embed_boosting.png")
    a = ap.parse_args()
    gb, mix, lo, hi = main()
    if a.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
        G = np.tile(mix, (g1.size, 1))
        G[:, 0], G[:, 1] = g1.ravel(), g2.ravel()
        fig, ax = plt.subplots(figsize=(5, 4))
        cs = ax.contourf(g1, g2, gb.predict(G).reshape(g1.shape), levels=20)
        fig.colorbar(cs, label="predicted heat")
        ax.plot(mix[0], mix[1], "r*", ms=14, label="MILP optimum")
        ax.set_xlabel("x1 (%)")
        ax.set_ylabel("x2 (%)")
        ax.set_title("x3, x4 at the optimum")
        ax.legend()
        fig.tight_layout()
        fig.savefig("embed_boosting.png", dpi=120)
        print("saved embed_boosting.png")
