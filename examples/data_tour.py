"""A tour of optml.data: bundled sets, tables, generators with a known truth, binarisation.

Run: ``python examples/data_tour.py [--plot]`` (a few seconds, no network, no solver; ``--plot``
saves data_tour.png).
"""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np

from optml import data

# 1. Bundled data sets ------------------------------------------------------------------
print("Bundled data sets:")
for row in data.list_datasets(details=True):
    print(f"  {row['name']:<14} {row['task']:<15} {row['n_samples']:>5} x {row['n_features']:<3}")

ds = data.load("hald")
print(f"\n{ds!r}\n  {ds.description}\n  source: {ds.source}\n  licence: {ds.license}")
print("  features:", ds.feature_names, "target:", ds.target_name)

# least squares on Hald's data, every subset of size 2 (the textbook best-subset example)
tss = ((ds.y - ds.y.mean()) ** 2).sum()
for S in [(0, 1), (0, 3), (1, 3), (2, 3)]:
    A = np.c_[np.ones(ds.n_samples), ds.X[:, S]]
    rss = np.linalg.lstsq(A, ds.y, rcond=None)[1][0]
    names = ", ".join(ds.feature_names[j] for j in S)
    print(f"  y ~ {names:<7} R^2 = {1 - rss / tss:.3f}")

# 2. Your own tables ---------------------------------------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "houses.csv")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("area,city,garden,price\n50,Paris,true,100\n80,Lyon,false,180\n")
        fh.write("65,Paris,false,120.5\n120,Nice,true,300\n")
    houses = data.from_csv(path, target="price")
    print(f"\nfrom_csv: {houses!r}, features {houses.feature_names}")
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("70,Lyon\n")
    try:
        data.from_csv(path, target="price")
    except ValueError as exc:
        print("  a ragged row is refused:", exc)

try:
    import pandas as pd

    df = pd.DataFrame({"dose": [1.0, 2.0, np.nan], "arm": ["A", "B", "A"], "y": [0, 1, 1]})
    data.from_frame(df, target="y")
except ImportError:
    pass
except ValueError as exc:
    print("  a missing value is refused:", exc)

# 3. Synthetic data with a known ground truth ---------------------------------------------
X, y, beta, sigma = data.make_sparse_regression(
    n=20_000, p=50, k=5, rho=0.5, snr=2.0, design="toeplitz", random_state=0, return_sigma=True
)
signal, noise = X @ beta, y - X @ beta
print(f"\nmake_sparse_regression: support {np.flatnonzero(beta).tolist()}, sigma = {sigma:.3f}")
print(f"  sample SNR = {signal.var() / noise.var():.3f} (target 2.0)")
print(f"  corr(x0, x1) = {np.corrcoef(X[:, 0], X[:, 1])[0, 1]:.3f} (target 0.5)")

Xt, yt, tree = data.make_classification_tree(n=300, p=4, depth=2, noise=0.1, random_state=0)
print("\nmake_classification_tree, the true tree:")
print("  " + str(tree).replace("\n", "\n  "))
print(f"  labels flipped by noise: {(yt != tree.predict(Xt)).sum()} of {len(yt)}")

Xc, yc, centers = data.make_blobs_clustering(n=150, k=3, separation=5.0, random_state=0)
print(f"\nmake_blobs_clustering: sizes {np.bincount(yc).tolist()}, centres\n{centers.round(2)}")

# 4. Threshold encoding for optimal trees --------------------------------------------------
iris = data.load("iris")
Xb, th = data.binarize(iris.X, thresholds=4, feature_names=iris.feature_names)
print(f"\nbinarize(iris, 4): {Xb.shape[1]} binary columns, e.g. {th.names[:3]}")
assert (th.transform(iris.X) == Xb).all()
_, th_all = data.binarize(iris.X)
print(f"binarize(iris, 'all'): {len(th_all)} binary columns (every midpoint)")

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    from optml.plot import plot_clusters

    fig = plot_clusters(Xc, yc, centers, title="make_blobs_clustering (true labels)")
    fig.savefig("data_tour.png", dpi=100, bbox_inches="tight")
    print("saved data_tour.png")
