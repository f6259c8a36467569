"""Three sparse principal components of the wine data (at most 3 features each), by
projection deflation; each component certified by branch and bound over supports.

Run: python examples/decomposition_sparse_pca_components.py [--plot]
"""

import sys

import numpy as np
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from optml.decomposition import SparsePCA

data = load_wine()
X = StandardScaler().fit_transform(data.data)
m = SparsePCA(n_nonzero=3, n_components=3).fit(X)
for h, (r, sup) in enumerate(zip(m.results_, m.supports_, strict=True)):
    names = [data.feature_names[j] for j in sup]
    print(
        f"component {h}: variance {r.objective:.4f} (bound {r.bound:.4f}, {r.status}), "
        f"features {names}"
    )
total = np.trace(np.cov(X.T))
print(f"share of the total variance: {m.explained_variance_.sum() / total:.3f}")
print(m.results_[1].summary())

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.imshow(m.components_, cmap="coolwarm", aspect="auto")
    ax.set_xticks(range(X.shape[1]), data.feature_names, rotation=90, fontsize=6)
    ax.set_ylabel("component")
    fig.savefig("decomposition_sparse_pca_components.png", dpi=120, bbox_inches="tight")
    print("saved decomposition_sparse_pca_components.png")
