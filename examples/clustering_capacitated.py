"""Capacitated k-medoids with demands (Mulvey & Beck 1984): 20 customers with demands, 3
depots of capacity 40 in demand units, certified by the MILP on the solve path.

Run: python examples/clustering_capacitated.py [--plot]
"""

import sys

import numpy as np

from optml.clustering import KMedoids

rng = np.random.default_rng(0)
X = np.vstack(
    [rng.normal(c, 0.6, size=(n, 2)) for c, n in (((0, 0), 10), ((4, 1), 6), ((2, 4), 4))]
)
demand = rng.integers(2, 9, size=X.shape[0]).astype(float)
print("total demand", demand.sum(), "- 3 depots of capacity 40")

free = KMedoids(3).fit(X)
cap = KMedoids(3, capacity=40).fit(X, demand=demand)
for name, m in (("uncapacitated", free), ("capacity 40", cap)):
    load = np.bincount(m.labels_, weights=demand, minlength=3)
    print(f"{name:14s} medoids {m.medoid_indices_}, loads {load}, cost {m.inertia_:.3f}")
# sample_weight weighs the objective (a point of weight s counts as s copies), not the load
heavy = KMedoids(3).fit(X, sample_weight=demand)
print(f"weighted (s = demand, no capacity): medoids {heavy.medoid_indices_}, ", end="")
print(f"weighted cost {heavy.inertia_:.3f}, status {heavy.result_.status}")
print(cap.result_.summary())
print(cap.program_.summary())

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(X[:, 0], X[:, 1], c=cap.labels_, s=10 * demand, cmap="tab10")
    ax.scatter(*X[cap.medoid_indices_].T, marker="x", c="k", s=80)
    ax.set_title("capacitated medoids (size = demand)")
    fig.savefig("clustering_capacitated.png", dpi=120, bbox_inches="tight")
    print("saved clustering_capacitated.png")
