"""Sparse PCA with a certificate (exact branch and bound) next to plain PCA, on wine data.

Run: python examples/decomposition_sparse_pca.py [--plot]  (--plot saves sparse_pca.png: variance
against k)
"""

import sys

import numpy as np
from sklearn.datasets import load_wine

from optml.decomposition import SparsePCA

X = load_wine().data[:, :10]
X = (X - X.mean(0)) / X.std(0)
full = np.linalg.eigvalsh(np.cov(X.T))[-1]
for k in (2, 3, 5):
    m = SparsePCA(n_nonzero=k).fit(X)
    r = m.result_
    print(
        f"k={k}: support {m.support_.tolist()}  variance {r.objective:.4f} "
        f"(bound {r.bound:.4f}, gap {r.gap:.1e}, {r.status}); dense PC {full:.4f}"
    )
print(SparsePCA(n_nonzero=3).build_program(X).summary())

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = list(range(1, X.shape[1] + 1))
    fits = [SparsePCA(n_nonzero=k).fit(X).result_ for k in ks]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(ks, [r.objective for r in fits], "o-", label="sparse PC (certified)")
    ax.plot(ks, [r.bound for r in fits], "x", color="C3", label="proven bound")
    ax.axhline(full, ls="--", color="gray", label="dense PC")
    ax.set_xlabel("number of nonzero loadings k")
    ax.set_ylabel("explained variance")
    ax.legend(fontsize=8)
    fig.savefig("sparse_pca.png", dpi=100, bbox_inches="tight")
    print("saved sparse_pca.png")
