"""Sparse PCA with a certificate (exact branch and bound) next to plain PCA, on wine data."""

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
