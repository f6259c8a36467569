# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Clustering: exact k-medoids and certified k-means
#
# Lloyd's algorithm finds a local optimum of k-means and cannot say how far it is from the
# best clustering. Written as integer programs, clustering problems get a proven lower bound.
# We write the k-medoids (p-median) MILP ourselves, solve it on two solvers and check it by
# enumeration; then we certify k-means on iris and ask how often Lloyd finds the optimum.
#
# *Survey section: clustering (p-median, Hansen and Jaumard 1997; column generation for
# minimum sum-of-squares clustering, du Merle et al. 2000; SDP bounds, Peng and Wei 2007).*

# %%
import itertools

import matplotlib

matplotlib.use("Agg")  # figures are saved to files; in Jupyter remove this line to see them inline
import numpy as np
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans as LloydKMeans

import optml as om
from optml import data
from optml.clustering import KMeans, KMedoids
from optml.plot import plot_clusters

iris = data.load("iris")
X = iris.X[:, 2:]  # petal length and width: a picture in two dimensions
rng = np.random.default_rng(0)
sample = np.sort(rng.choice(X.shape[0], size=40, replace=False))
Xs = X[sample]

# %% [markdown]
# ## k-medoids as a MILP (the p-median problem)
#
# Open $k$ of the $n$ points as medoids ($y_j = 1$) and assign every point to an open one
# ($x_{ij}$), at least total distance:
#
# $$\min \sum_{i,j} d_{ij} x_{ij}\quad\text{s.t.}\quad \sum_j x_{ij} = 1,\quad x_{ij} \le y_j,
#   \quad \sum_j y_j = k,\quad y \in \{0,1\}^n,\ x \ge 0$$

# %%
k = 3
D = cdist(Xs, Xs)
n = D.shape[0]
pmed = om.Program("p_median")
x = pmed.var("x", shape=(n, n), lb=0, ub=1)
y = pmed.var("y", shape=n, domain="binary")
pmed.add(x.sum(axis=1) == 1, name="assign")
pmed.add(x <= y.reshape(1, n).broadcast_to((n, n)), name="open")
pmed.add(y.sum() == k, name="k")
pmed.minimize((D * x).sum())
print(pmed.summary())

costs = {}
for backend, solver in (("highs", None), ("pyomo", "scip")):
    res = pmed.solve(backend=backend, solver=solver)
    costs[backend] = res.objective
    print(
        f"{res.backend}/{res.solver}: {res.status} cost {res.objective:.6f} bound "
        f"{res.bound:.6f} medoids {np.flatnonzero(res.values['y'] > 0.5)}"
    )

# %% [markdown]
# Enumeration of all $\binom{40}{3} = 9880$ medoid triples confirms the optimum:

# %%
brute = min(D[:, list(c)].min(axis=1).sum() for c in itertools.combinations(range(n), k))
print("enumeration:", round(brute, 6))
assert abs(costs["highs"] - brute) <= 1e-6 * brute and abs(costs["pyomo"] - brute) <= 1e-6 * brute
km_med = KMedoids(n_clusters=k).fit(Xs)
print("KMedoids estimator:", km_med.result_)
assert abs(km_med.result_.objective - brute) <= 1e-6 * brute

# %% [markdown]
# ## Certified k-means on all 150 flowers
#
# $$\min_{\text{partition } C_1..C_k}\ \sum_{c} \sum_{i \in C_c} \lVert x_i - \mu_c\rVert^2$$
#
# `KMeans` solves it by branch and price over the set-partitioning formulation (column
# generation, du Merle et al. 2000): the answer comes with a lower bound, so the gap says how
# far from optimal the clustering can be.

# %%
km = KMeans(n_clusters=k, random_state=0).fit(X)
print(km.result_)
assert km.result_.status == "optimal"

lloyd = [
    LloydKMeans(n_clusters=k, n_init=1, init="random", random_state=s).fit(X).inertia_
    for s in range(20)
]
hits = np.mean(np.isclose(lloyd, km.inertia_, rtol=1e-6))
print(
    f"Lloyd from 20 random starts: optimal in {hits:.0%} of runs, worst "
    f"{max(lloyd) / km.result_.bound - 1:.1%} above the certified bound"
)
assert min(lloyd) >= km.result_.bound * (1 - 1e-6)  # no run beats a proven bound

# %% [markdown]
# ## Figure: the certified clustering

# %%
fig = plot_clusters(
    X, km.labels_, km.cluster_centers_, km.result_, title="iris petals, k = 3 (branch and price)"
)
fig.savefig("course_clustering.png", dpi=90)

# %% [markdown]
# ## Exercises
#
# 1. Add a capacity to the p-median program (each medoid serves at most 15 points). Compare
#    your answer with `KMedoids(n_clusters=3, capacity=15)`.
# 2. Solve k-means on `X` with `KMeans(method="sdp")` (Peng and Wei's SDP bound in a branch and
#    bound). Which method certifies faster here, and which bound is tighter at the root?
# 3. Repeat the Lloyd experiment on `data.load("ruspini")` for k = 2..6. How often is Lloyd
#    optimal, and by how much does it miss when it is not (du Merle et al. report the same
#    question on their instances)?
# 4. Why is the k-medoids cost not comparable to the k-means inertia? Which one is a
#    relaxation of the other when medoids may be any point of the plane?
