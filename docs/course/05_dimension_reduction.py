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
# # 5. Dimension reduction: PCA as an SDP, and certified sparse PCA
#
# The first $r$ principal components solve a semidefinite program over the Fantope. Asking
# for a component with at most $k$ non-zero loadings (readable!) makes the problem hard; an
# SDP relaxation bounds it and a branch and bound certifies it. We write both SDPs ourselves,
# solve them on two conic solvers, and check the sparse components by enumeration.
#
# *Survey section: dimension reduction (Fantope, Overton and Womersley 1992; sparse PCA SDP,
# d'Aspremont et al. 2007; exact sparse PCA, Moghaddam, Weiss and Avidan 2006; Berk and
# Bertsimas 2019).*

# %%
import itertools

import matplotlib

matplotlib.use("Agg")  # figures are saved to files; in Jupyter remove this line to see them inline
import matplotlib.pyplot as plt
import numpy as np

import optml as om
from optml import data
from optml.decomposition import SparsePCA

wine = data.load("wine")
X = wine.X[:, :8]
X = (X - X.mean(axis=0)) / X.std(axis=0)
S = np.cov(X.T)
p = S.shape[0]
eig = np.linalg.eigvalsh(S)[::-1]
print("eigenvalues of the covariance:", np.round(eig, 3))

# %% [markdown]
# ## PCA over the Fantope
#
# $$\max_Z\ \langle S, Z\rangle\quad\text{s.t.}\quad \operatorname{tr} Z = r,\quad
#   0 \preceq Z \preceq I$$
#
# Its optimum is the sum of the $r$ largest eigenvalues, attained at the projection on the
# first $r$ components. $I - Z \succeq 0$ is a second PSD variable $W$ with $Z + W = I$.

# %%
r = 2
pca = om.Program("fantope")
Z = pca.var("Z", (p, p), psd=True)
W = pca.var("W", (p, p), psd=True)
pca.add(Z + W == np.eye(p), name="upper")
pca.add(Z.reshape(p * p)[np.arange(p) * (p + 1)].sum() == r, name="trace")
pca.maximize(S.reshape(-1) @ Z.reshape(p * p))
print(pca.problem_class)
for solver in ("clarabel", "scs"):
    res = pca.solve(backend="cvxpy", solver=solver)
    print(
        f"cvxpy/{solver}: {res.status} objective {res.objective:.6f} bound {res.bound:.6f} "
        f"gap {res.gap:.1e}   (top-{r} eigenvalues: {eig[:r].sum():.6f})"
    )
    assert abs(res.objective - eig[:r].sum()) <= 1e-3 * eig[0]

# %% [markdown]
# Clarabel (interior point) and SCS (first order) agree to their accuracies; the gap each
# reports is optml's own, from the solver's duals.
#
# ## Sparse PCA: at most $k$ loadings
#
# $$\max_v\ v^\top S v\quad\text{s.t.}\quad \lVert v\rVert_2 = 1,\ \lVert v\rVert_0 \le k$$
#
# Its SDP relaxation (d'Aspremont et al. 2007) replaces $vv^\top$ by $Z \succeq 0$ with
# $\operatorname{tr} Z = 1$ and $\mathbf 1^\top |Z| \mathbf 1 \le k$; its optimum is an upper
# bound on the best $k$-sparse variance.

# %%
k = 3
relax = om.Program("sparse_pca_sdp")
Z = relax.var("Z", (p, p), psd=True)
relax.add(Z.reshape(p * p)[np.arange(p) * (p + 1)].sum() == 1, name="trace")
relax.add(om.norm1(Z.reshape(p * p)) <= k, name="l1")
relax.maximize(S.reshape(-1) @ Z.reshape(p * p))
sdp_bound = {}
for solver in ("clarabel", "scs"):
    res = relax.solve(backend="cvxpy", solver=solver)
    sdp_bound[solver] = res.objective
    print(f"cvxpy/{solver}: SDP bound {res.objective:.6f} ({res.status}, gap {res.gap:.1e})")


def best_sparse(k):
    """Enumeration: the largest eigenvalue of every k x k principal submatrix."""
    return max(np.linalg.eigvalsh(S[np.ix_(c, c)])[-1] for c in itertools.combinations(range(p), k))


exact = SparsePCA(n_nonzero=k).fit(X)
print("SparsePCA (exact):", exact.result_, "support", exact.support_)
print("enumeration:", round(best_sparse(k), 6))
assert abs(exact.result_.objective - best_sparse(k)) <= 1e-6 * eig[0]
assert exact.result_.objective <= sdp_bound["clarabel"] * (1 + 1e-6)  # the relaxation bounds it

# %% [markdown]
# ## Figure: variance against k
#
# The certified best $k$-sparse variance, its SDP bound, and the dense first component.

# %%
ks = list(range(1, p + 1))
variance, bounds = [], []
for kk in ks:
    variance.append(SparsePCA(n_nonzero=kk).fit(X).result_.objective)
    relax_k = om.Program("sparse_pca_sdp")
    Zk = relax_k.var("Z", (p, p), psd=True)
    relax_k.add(Zk.reshape(p * p)[np.arange(p) * (p + 1)].sum() == 1)
    relax_k.add(om.norm1(Zk.reshape(p * p)) <= kk)
    relax_k.maximize(S.reshape(-1) @ Zk.reshape(p * p))
    bounds.append(relax_k.solve(backend="cvxpy", solver="clarabel").objective)
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(ks, variance, "o-", label="best k-sparse component (certified)")
ax.plot(ks, bounds, "s--", label="SDP relaxation (upper bound)")
ax.axhline(eig[0], color="k", lw=1, label="dense first component")
ax.set_xlabel("number of non-zero loadings k")
ax.set_ylabel("explained variance")
ax.legend(fontsize=8)
fig.savefig("course_sparse_pca.png", dpi=90)
assert all(v <= b * (1 + 1e-5) for v, b in zip(variance, bounds, strict=True))

# %% [markdown]
# ## Exercises
#
# 1. Read a $k$-sparse vector off the SDP solution (the leading eigenvector of $Z$, truncated
#    to its $k$ largest entries). How far is its variance from the certified optimum?
# 2. Compute the second sparse component with `SparsePCA(n_nonzero=3, n_components=2)`. How
#    is the covariance deflated between components?
# 3. For which $k$ is the SDP bound tight on this data? Try the standardised breast cancer
#    data (30 features), where enumeration is no longer possible.
# 4. Time `SparsePCA(method="exact")` against `method="sdp"` as $p$ grows.
