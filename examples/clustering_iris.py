"""Certified k-means on iris (k=3): labels, inertia, certified bound, gap, formulation.

Run: python examples/clustering_iris.py [--plot]  (--plot saves clustering_iris.png)
"""

import sys

import numpy as np
from sklearn.datasets import load_iris

import optml.solve
from optml.clustering import KMeans

X = load_iris().data
km = KMeans(n_clusters=3, method="colgen", random_state=0).fit(X)  # certifies gap <= 1e-4
print("cluster sizes   ", np.bincount(km.labels_))
print("inertia         ", round(km.inertia_, 6))
print("certified bound ", round(km.result_.bound, 6))
print("gap             ", f"{km.result_.gap:.2e}", "status", km.result_.status)
print(km.result_.summary())
print(
    "\nsolved by",
    km.result_.solver,
    "on the structured problem",
    km.problem_.kind,
    km.result_.stats,
)

# the SDP branch and bound (Peng-Wei SDP + pair/triangle cuts by ADMM, safe bound) on the
# same data: the same optimum, certified by another route
sdp = KMeans(n_clusters=3, method="sdp", random_state=0).fit(X)
print(
    f"\nmethod='sdp' ({sdp.result_.solver}): inertia {sdp.inertia_:.6f}, bound "
    f"{sdp.result_.bound:.6f}, gap {sdp.result_.gap:.2e}, {sdp.result_.stats}"
)

# sample_weight as scikit-learn's KMeans means it (a point of weight w counts as w copies)
wk = KMeans(3, random_state=0).fit(X[::5], sample_weight=np.arange(1, 31) % 3 + 1.0)
print(f"\nweighted (30 flowers, weights 1-3): inertia {wk.inertia_:.6f}, gap {wk.result_.gap:.2e}")

# the same instance type for a general solver: the compact MIQCP (small n), as optml.bench does
small = KMeans(2, random_state=0).build_problem(X[:8])
print("\ncompact formulation (small n) from build_program:")
print(small.program.summary())
for solver in ("branch-and-price", "scip"):
    try:
        res = optml.solve.solve(small, solver=solver)
    except Exception as exc:  # SCIP not installed
        print(f"{solver}: {exc}")
        continue
    print(f"{solver:>16}: {res.status} objective {res.objective:.6f} bound {res.bound:.6f}")

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    from optml.plot import plot_clusters

    fig = plot_clusters(X[:, 2:4], km.labels_, km.cluster_centers_[:, 2:4], result=km.result_)
    fig.axes[0].set_xlabel("petal length")
    fig.axes[0].set_ylabel("petal width")
    fig.savefig("clustering_iris.png", dpi=100, bbox_inches="tight")
    print("saved clustering_iris.png")
