r"""Clustering formulations: set partitioning (MSSC), Peng–Wei SDP, a compact MIQCP, p-median.

Minimum sum-of-squares clustering (MSSC) of points :math:`x_1, \dots, x_n \in \mathbb R^d` into
:math:`k` non-empty clusters is

.. math::

    \min_{C_1 \sqcup \dots \sqcup C_k = [n]} \sum_{j=1}^k \sum_{i \in C_j}
    \lVert x_i - \bar x_{C_j} \rVert^2 .

All functions here are pure: data and hyper-parameters in, a :class:`optml.Program` out.
:class:`KMeansProblem` is one MSSC instance as a structured problem (kind ``"kmeans"``): the
branch and price (:mod:`optml.algorithms.branch_and_price`) takes its data, general solvers its
program (:func:`mssc_miqcp`).

References
----------
du Merle, Hansen, Jaumard, Mladenović (2000). An interior point algorithm for minimum
sum-of-squares clustering. SIAM J. Sci. Comput. 21(4).
Aloise, Hansen, Liberti (2012). An improved column generation algorithm for minimum
sum-of-squares clustering. Math. Program. 131.
Peng, Wei (2007). Approximating k-means-type clustering via semidefinite programming. SIAM J.
Optim. 18(1).
Mulvey, Beck (1984). Solving capacitated clustering problems. EJOR 18(3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

import optml.program as om
from optml.program import Program
from optml.program.structured import StructuredProblem


def cluster_costs(X: np.ndarray, members: sp.csc_matrix, weights=None) -> np.ndarray:
    r"""Sum of squared distances to the centroid, :math:`\sum_{i\in S}\lVert x_i-\bar x_S\rVert^2`,
    for each column ``S`` of the 0/1 membership matrix ``members`` (n x m).

    With ``weights`` (n,): :math:`\sum_{i\in S} w_i\lVert x_i-\bar x_S\rVert^2` with the
    weighted centroid :math:`\bar x_S = \sum_{i\in S} w_i x_i / \sum_{i\in S} w_i` (a point of
    weight w counts as w copies)."""
    members = sp.csc_matrix(members, dtype=float)
    if weights is None:
        size = np.asarray(members.sum(axis=0)).ravel()
        s1 = members.T @ X  # m x d
        s2 = members.T @ (X * X).sum(axis=1)
    else:
        w = np.asarray(weights, dtype=float)
        size = np.asarray(members.T @ w).ravel()
        s1 = members.T @ (w[:, None] * X)
        s2 = members.T @ (w * (X * X).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = s2 - (s1 * s1).sum(axis=1) / np.where(size > 0, size, 1.0)
    return np.maximum(c, 0.0)


def set_partitioning(costs, members, n_clusters: int, relax: bool = False) -> Program:
    r"""The set-partitioning master problem over a pool of candidate clusters.

    .. math::

        \min_{\lambda} \sum_{S \in \mathcal P} c_S \lambda_S \quad \text{s.t.}\quad
        \sum_{S \ni i} \lambda_S = 1\ (i \in [n]),\quad \sum_S \lambda_S = k,\quad
        \lambda_S \in \{0, 1\}\ (\text{or } [0, 1] \text{ when relaxed}),

    with :math:`c_S = \sum_{i\in S}\lVert x_i - \bar x_S\rVert^2` (du Merle et al., 2000).
    Over *all* subsets this is MSSC exactly; over a pool it is the restricted master.

    Parameters
    ----------
    costs : array of shape (m,)
        Cost of each candidate cluster.
    members : sparse or dense 0/1 matrix of shape (n, m)
        ``members[i, S] = 1`` when item ``i`` belongs to cluster ``S``.
    n_clusters : int
    relax : bool
        Continuous :math:`\lambda \in [0, 1]` (the LP relaxation) instead of binary.
    """
    members = sp.csr_matrix(members, dtype=float)
    n, m = members.shape
    p = Program("mssc_set_partitioning" + ("_lp" if relax else ""))
    lam = p.var("lam", m, lb=0, ub=1, domain="continuous" if relax else "binary", latex=r"\lambda")
    p.add(members @ lam == np.ones(n), name="cover")
    p.add(lam.sum() == n_clusters, name="count")
    p.minimize(np.asarray(costs, dtype=float) @ lam)
    return p


def set_partitioning_dual(
    costs, members, n_clusters: int, dual_bound: float, pi_lb=None, pi_ub=None
) -> Program:
    r"""The dual of the set-partitioning LP (its optimal :math:`\pi, \mu` price new clusters).

    .. math::

        \max_{\pi, \mu} \sum_i \pi_i + k\mu \quad\text{s.t.}\quad
        \sum_{i \in S} \pi_i + \mu \le c_S\ (S \in \mathcal P),\quad
        |\pi_i| \le M,\ |\mu| \le M .

    The box :math:`M` (``dual_bound``) keeps the program bounded when the pool holds no
    partition (``pi_lb`` / ``pi_ub`` narrow it to a trust region around a stability centre:
    the box-step method); any :math:`(\pi, \mu)` gives the Lagrangian bound
    :math:`\sum_i \pi_i + k\mu + k \min_S (c_S - \pi(S) - \mu)` on MSSC.
    """
    members = sp.csc_matrix(members, dtype=float)
    n, m = members.shape
    p = Program("mssc_master_dual")
    lo = -dual_bound if pi_lb is None else pi_lb
    hi = dual_bound if pi_ub is None else pi_ub
    pi = p.var("pi", n, lb=lo, ub=hi, latex=r"\pi")
    mu = p.var("mu", (), latex=r"\mu")  # bounded above by the singleton columns' rows
    p.add(members.T @ pi + mu <= np.asarray(costs, dtype=float), name="columns")
    p.maximize(pi.sum() + n_clusters * mu)
    return p


def peng_wei_sdp(X: np.ndarray, n_clusters: int) -> Program:
    r"""The Peng–Wei (2007) semidefinite relaxation of MSSC.

    With the Gram matrix :math:`W = XX^\top`,

    .. math::

        \min_Z\ \operatorname{tr}(W) - \langle W, Z \rangle \quad\text{s.t.}\quad
        Z\mathbf 1 = \mathbf 1,\ \operatorname{tr} Z = k,\ Z \ge 0,\ Z \succeq 0 .

    The partition matrices :math:`Z_{ij} = [i, j \text{ in one cluster}] / |C|` are feasible,
    so the optimum is a lower bound on MSSC.
    """
    X = np.asarray(X, dtype=float)
    X = X - X.mean(axis=0)
    n = X.shape[0]
    W = X @ X.T
    p = Program("mssc_peng_wei_sdp")
    # 0 <= Z <= 1 is implied (Z >= 0, Z 1 = 1); the finite box makes optml's Lagrangian bound
    # from the solver's duals rigorous (no unbounded column whose residual is dropped)
    Z = p.var("Z", shape=(n, n), lb=0, ub=1, psd=True, latex="Z")
    p.add(Z.sum(axis=1) == np.ones(n), name="rows")
    p.add(Z.reshape(n * n)[np.arange(n) * (n + 1)].sum() == n_clusters, name="trace")
    p.minimize(float(np.trace(W)) - W.reshape(-1) @ Z.reshape(n * n))
    return p


def mssc_miqcp(
    X: np.ndarray,
    n_clusters: int,
    must_link=(),
    cannot_link=(),
    min_size: int | None = None,
    max_size: int | None = None,
    sample_weight=None,
) -> Program:
    r"""A compact convex mixed-integer formulation of MSSC (for small n and for teaching).

    .. math::

        \min \sum_{i,j} w_i d_{ij} \quad\text{s.t.}\quad
        \lVert x_i - c_j \rVert^2 \le d_{ij} + M_i (1 - z_{ij}),\quad
        \sum_j z_{ij} = 1,\quad z_{ij} = 0\ (j > i),\quad z \in \{0,1\}^{n\times k},

    with :math:`M_i = \max_l \lVert x_i - x_l \rVert^2` (centres lie in the convex hull) and
    the symmetry broken by ordering clusters by their first point. Must-link pairs share
    :math:`z_{i\cdot} = z_{j\cdot}`; cannot-link pairs have :math:`z_{ij'} + z_{jj'} \le 1`.
    Non-empty clusters: :math:`\sum_i z_{ij} \ge \max(1, \text{min\_size})`, and
    :math:`\sum_i z_{ij} \le \text{max\_size}` when given. ``sample_weight`` gives the
    weights :math:`w_i` (1 when None; a point of weight w counts as w copies, and the optimal
    :math:`c_j` is the weighted mean); sizes count points (rows), not weights.
    """
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    k = int(n_clusters)
    D2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    M = D2.max(axis=1)
    lo, hi = X.min(axis=0), X.max(axis=0)
    p = Program("mssc_miqcp")
    z = p.var("z", (n, k), domain="binary", latex="z")
    c = p.var(
        "c", (k, d), lb=np.broadcast_to(lo, (k, d)), ub=np.broadcast_to(hi, (k, d)), latex="c"
    )
    dd = p.var("d", (n, k), lb=0, latex="d")
    for i in range(n):
        for j in range(k):
            p.add(om.sum_squares(X[i] - c[j]) <= dd[i, j] + M[i] * (1 - z[i, j]))
    p.add(z.sum(axis=1) == np.ones(n), name="assign")
    lo_size = 1 if min_size is None else max(1, int(min_size))
    p.add(z.sum(axis=0) >= np.full(k, float(lo_size)), name="nonempty")
    if max_size is not None:
        p.add(z.sum(axis=0) <= np.full(k, float(max_size)), name="max_size")
    upper = [(i, j) for i in range(n) for j in range(k) if j > i]
    if upper:
        idx = np.array([i * k + j for i, j in upper])
        p.add(z.reshape(n * k)[idx] == 0, name="symmetry")
    for a, b in must_link:
        p.add(z[a] == z[b], name=f"must_{a}_{b}")
    for a, b in cannot_link:
        p.add(z[a] + z[b] <= np.ones(k), name=f"cannot_{a}_{b}")
    if sample_weight is None:
        p.minimize(dd.sum())
    else:
        wk = np.repeat(np.asarray(sample_weight, dtype=float), k)
        p.minimize(wk @ dd.reshape(n * k))
    return p


def mssc_violation(
    X,
    values,
    n_clusters,
    must_link=(),
    cannot_link=(),
    min_size=None,
    max_size=None,
    sample_weight=None,
) -> tuple[float, float]:
    """``(objective, largest violation)`` of ``values`` (``z``, ``c``, ``d``) in
    :func:`mssc_miqcp`, with numpy on the raw data: what ``program.evaluate`` computes, without
    building the program (its n·k quadratic rows take seconds for a few hundred points)."""
    X = np.asarray(X, dtype=float)
    n, dim = X.shape
    k = int(n_clusters)
    z = np.asarray(values["z"], dtype=float).reshape(n, k)
    c = np.asarray(values["c"], dtype=float).reshape(k, dim)
    d = np.asarray(values["d"], dtype=float).reshape(n, k)
    obj = float(d.sum()) if sample_weight is None else float(np.asarray(sample_weight) @ d.sum(1))
    sq = (X * X).sum(axis=1)
    M = np.maximum(sq[:, None] + sq[None, :] - 2.0 * X @ X.T, 0.0).max(axis=1)
    dist = ((X[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
    viol = [np.maximum(dist - d - M[:, None] * (1.0 - z), 0.0).max(initial=0.0)]
    viol.append(np.abs(z.sum(axis=1) - 1.0).max(initial=0.0))
    size = z.sum(axis=0)
    lo_size = 1 if min_size is None else max(1, int(min_size))
    viol.append(np.maximum(lo_size - size, 0.0).max(initial=0.0))
    if max_size is not None:
        viol.append(np.maximum(size - float(max_size), 0.0).max(initial=0.0))
    upper = np.triu(np.ones((n, k), bool), 1)
    viol.append(np.abs(z[upper]).max(initial=0.0))
    for a, b in must_link:
        viol.append(np.abs(z[a] - z[b]).max(initial=0.0))
    for a, b in cannot_link:
        viol.append(np.maximum(z[a] + z[b] - 1.0, 0.0).max(initial=0.0))
    lo, hi = X.min(axis=0), X.max(axis=0)
    viol.append(np.maximum(lo[None] - c, 0.0).max(initial=0.0))
    viol.append(np.maximum(c - hi[None], 0.0).max(initial=0.0))
    viol.append(np.maximum(-d, 0.0).max(initial=0.0))
    viol.append(np.maximum(-z, 0.0).max(initial=0.0))
    viol.append(np.maximum(z - 1.0, 0.0).max(initial=0.0))
    viol.append(np.abs(z - np.round(z)).max(initial=0.0))
    return obj, float(max(viol))


@dataclass(eq=False)
class KMeansProblem(StructuredProblem):
    r"""One minimum sum-of-squares clustering instance (kind ``"kmeans"``).

    General solvers receive :func:`mssc_miqcp` (``build_program``, built only when one needs
    it); the branch and price (``solver="branch-and-price"``, the default) works on the data.
    A point is ``{"z": one-hot assignment (n, k), "c": centroids (k, d), "d": squared distances
    to the own centroid (n, k)}`` (:meth:`point`); :meth:`evaluate` checks it with numpy, so the
    certified objective is the k-means cost of the assignment.

    Attributes
    ----------
    X : array (n, d); n_clusters : int
    must_link, cannot_link : tuple of (i, j) pairs
    min_size, max_size : int or None
        Bounds on every cluster's size.
    n_init, random_state, sub_backend, sub_solver
        Parameters of the branch and price (general solvers ignore them): heuristic restarts,
        their seed, and the backend / solver of its master and pricing programs ("auto": HiGHS).
    sample_weight : array (n,) or None
        Point weights, as scikit-learn's ``KMeans`` means them: a point of weight w counts as w
        copies (objective :math:`\sum_i w_i\lVert x_i - c_{l(i)}\rVert^2`, centres are weighted
        means). Finite and >= 0, and every must-link group (a point alone if it is in no
        must-link) must weigh more than 0: a zero-weight point on its own is not part of the
        problem (``KMeans.fit`` leaves it out and labels it by its nearest centre). Sizes
        (``min_size`` / ``max_size``) count points, not weights.
    """

    kind: ClassVar[str] = "kmeans"
    sense: ClassVar[int] = 1
    default_solver: ClassVar[str | None] = "branch-and-price"

    X: np.ndarray
    n_clusters: int
    must_link: tuple = ()
    cannot_link: tuple = ()
    min_size: int | None = None
    max_size: int | None = None
    n_init: int = 100
    random_state: Any = None
    sub_backend: str = "auto"
    sub_solver: str | None = None
    sample_weight: Any = None

    def __post_init__(self):
        self.X = np.asarray(self.X, dtype=float)
        self.n_clusters = int(self.n_clusters)
        self.must_link = tuple((int(a), int(b)) for a, b in self.must_link)
        self.cannot_link = tuple((int(a), int(b)) for a, b in self.cannot_link)
        if self.sample_weight is not None:
            self.sample_weight = check_item_weights(
                self.sample_weight, self.X.shape[0], self.must_link
            )

    def build_program(self) -> Program:
        return mssc_miqcp(
            self.X,
            self.n_clusters,
            self.must_link,
            self.cannot_link,
            self.min_size,
            self.max_size,
            self.sample_weight,
        )

    def evaluate(self, values) -> tuple[float, float]:
        return mssc_violation(
            self.X,
            values,
            self.n_clusters,
            self.must_link,
            self.cannot_link,
            self.min_size,
            self.max_size,
            self.sample_weight,
        )

    @property
    def weights(self) -> np.ndarray:
        """The point weights (ones when ``sample_weight`` is None)."""
        if self.sample_weight is None:
            return np.ones(self.X.shape[0])
        return self.sample_weight

    @property
    def problem_class(self) -> str:
        return "MISOCP"

    def point(self, labels) -> dict:
        """The program's values for a labelling (labels in first-appearance order, so that the
        symmetry rows :math:`z_{ij} = 0, j > i` hold)."""
        labels = np.asarray(labels)
        k = self.n_clusters
        z = np.eye(k)[labels]
        w = self.weights
        c = np.array(
            [np.average(self.X[labels == j], axis=0, weights=w[labels == j]) for j in range(k)]
        )
        d = z * ((self.X - c[labels]) ** 2).sum(axis=1)[:, None]
        return {"z": z, "c": c, "d": d}

    @staticmethod
    def labels(values) -> np.ndarray:
        """The cluster of each point from the program's values."""
        return np.asarray(values["z"]).argmax(axis=1)


def must_link_groups(n: int, must_link) -> np.ndarray:
    """Group index (0..g-1, in the order of each group's smallest sample) of each of ``n``
    samples under the must-link pairs (union-find; transitive)."""
    parent = np.arange(n)

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in must_link:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.unique([find(i) for i in range(n)], return_inverse=True)[1]


def check_item_weights(sample_weight, n: int, must_link=None) -> np.ndarray:
    """Point weights of an MSSC instance as a float array (n,): finite, >= 0, not all 0, and
    (unless ``must_link`` is None) every must-link group (a point alone when in no must-link)
    of positive total weight; ValueError otherwise."""
    try:
        w = np.array(sample_weight, dtype=float)  # a copy: the caller's array is never changed
    except (TypeError, ValueError):
        raise ValueError(
            f"sample_weight must be an array of {n} finite numbers >= 0, got "
            f"{type(sample_weight).__name__}"
        ) from None
    if w.shape != (n,):
        raise ValueError(
            f"sample_weight must have shape ({n},) (one weight per sample), got shape {w.shape}"
        )
    if not np.isfinite(w).all():
        raise ValueError("sample_weight must be finite; it holds NaN or inf")
    if (w < 0).any():
        i = int(np.flatnonzero(w < 0)[0])
        raise ValueError(f"sample_weight must be >= 0, got {w[i]!r} for sample {i}")
    if not (w > 0).any():
        raise ValueError("sample_weight is zero for every sample; at least one weight must be > 0")
    if must_link is None:
        return w
    roots = must_link_groups(n, must_link)
    gw = np.bincount(roots, weights=w, minlength=n)
    bad = np.flatnonzero(gw[roots] <= 0)
    if bad.size:
        raise ValueError(
            f"sample {int(bad[0])} has weight 0 (with its must-linked samples, if any): a point "
            "of weight 0 counts as no copy and is not part of the clustering problem; drop it "
            "(KMeans.fit leaves such points out and labels them by their nearest centre) or "
            "give it a positive weight"
        )
    return w


def p_median(
    D: np.ndarray, n_clusters: int, capacity=None, weights=None, sample_weight=None
) -> Program:
    r"""The p-median MILP (and the capacitated p-median of Mulvey–Beck, 1984).

    With dissimilarities :math:`D_{ij}` from point :math:`i` to candidate medoid :math:`j`,

    .. math::

        \min \sum_{i,j} D_{ij} x_{ij} \quad\text{s.t.}\quad \sum_j x_{ij} = 1,\quad
        x_{ij} \le y_j,\quad \sum_j y_j = k,\quad x, y \in \{0,1\},

    and with a capacity :math:`Q`: :math:`\sum_i w_i x_{ij} \le Q y_j` (``weights``: the
    demands :math:`w_i`, 1 by default). ``sample_weight`` :math:`s_i \ge 0` weighs the
    objective instead, :math:`\min \sum_{i,j} s_i D_{ij} x_{ij}` (a point of weight
    :math:`s_i` counts as :math:`s_i` copies); it does not load the capacity.
    """
    D = np.asarray(D, dtype=float)
    n, m = D.shape
    p = Program("capacitated_p_median" if capacity is not None else "p_median")
    y = p.var("y", m, domain="binary", latex="y")
    cont = capacity is None  # uncapacitated: x continuous is exact once y is binary
    x = p.var("x", (n, m), lb=0, ub=1, domain="continuous" if cont else "binary", latex="x")
    p.add(x.sum(axis=1) == np.ones(n), name="assign")
    p.add(y.sum() == n_clusters, name="count")
    Y = y.reshape(1, m)
    ones = np.ones((n, 1))
    p.add(x - ones @ Y <= 0, name="open")
    if capacity is not None:
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        p.add(w @ x - float(capacity) * y <= 0, name="capacity")
    C = D if sample_weight is None else np.asarray(sample_weight, dtype=float)[:, None] * D
    p.minimize(C.reshape(-1) @ x.reshape(n * m))
    return p
