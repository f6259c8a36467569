"""PLS regression as a sequence of certified maximum-covariance problems (diabetes data), and
sparse PLS with at most 3 features per component.

Run: python examples/decomposition_pls.py [--plot]
"""

import sys

import numpy as np
from sklearn.cross_decomposition import PLSRegression as SkPLS
from sklearn.datasets import load_diabetes

from optml.decomposition import PLSRegression, SparsePLS

X, y = load_diabetes(return_X_y=True)

pls = PLSRegression(n_components=3).fit(X, y)
sk = SkPLS(n_components=3, tol=1e-12, max_iter=10000).fit(X, y)
print("PLSRegression, 3 components: one certified problem per component")
for h, r in enumerate(pls.results_):
    print(f"  component {h}: squared covariance {r.objective:.6g}, bound {r.bound:.6g}, {r.status}")
print("largest |coef - sklearn coef|:", float(np.abs(pls.coef_ - sk.coef_).max()))
print("R^2 on the training data:", round(pls.score(X, y), 4))
print(pls.result_.summary())

sp = SparsePLS(n_components=3, n_nonzero=3).fit(X, y)
print("\nSparsePLS, at most 3 features per component:")
for h, r in enumerate(sp.results_):
    feats = np.flatnonzero(sp.x_weights_[:, h])
    print(f"  component {h}: features {feats}, gap {r.gap:.1e}, {r.status}")
print("R^2 on the training data:", round(sp.score(X, y), 4))

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(8, 3))
    ax[0].imshow(pls.x_weights_, cmap="coolwarm", aspect="auto")
    ax[0].set_title("PLS x_weights_")
    ax[1].imshow(sp.x_weights_, cmap="coolwarm", aspect="auto")
    ax[1].set_title("SparsePLS x_weights_ (k=3)")
    fig.savefig("decomposition_pls.png", dpi=120, bbox_inches="tight")
    print("saved decomposition_pls.png")
