r"""Certified k-means: minimum sum-of-squares clustering solved to global optimality."""

from __future__ import annotations

import itertools
import numbers
import time

import numpy as np
from sklearn.base import ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator
from optml.exceptions import SolveError
from optml.formulations.clustering import (
    cluster_costs,
    mssc_miqcp,
    peng_wei_sdp,
    set_partitioning,
)
from optml.program.result import Result, relative_gap

_METHODS = ("auto", "colgen", "enumerate", "sdp")


def _check_pairs(pairs, n, name):
    out = []
    for pr in pairs or ():
        if len(pr) != 2:
            raise ValueError(f"{name} must be a list of (i, j) index pairs, got {pr!r}")
        i, j = (int(v) for v in pr)
        if not (0 <= i < n and 0 <= j < n):
            raise ValueError(f"{name} pair {pr!r} is out of range for {n} samples")
        if i != j:
            out.append((i, j))
    return out


def _groups(n, must):
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in must:
        parent[find(a)] = find(b)
    roots = np.array([find(i) for i in range(n)])
    return np.unique(roots, return_inverse=True)[1]


class KMeans(ClusterMixin, TransformerMixin, ProgramEstimator):
    r"""k-means clustering solved to certified global optimality (MSSC).

    Minimises :math:`\sum_j \sum_{i \in C_j} \lVert x_i - \bar x_{C_j} \rVert^2` over all
    partitions into ``n_clusters`` non-empty clusters, and proves it: ``result_.bound`` is a
    certified lower bound and ``result_.gap`` the relative gap.

    Methods
    -------
    ``"colgen"``
        Branch and price on the set-partitioning formulation (du Merle et al., 2000;
        Aloise, Hansen & Liberti, 2012): k-means++ / Lloyd / Hartigan restarts give the
        incumbent, a stabilised column generation (box-step + Wentges smoothing) the duals, and a
        branch and bound over centre boxes in :math:`\mathbb R^d` certifies the Lagrangian bound
        :math:`\sum_i\pi_i + k\min_S (c_S - \pi(S))`; Ryan–Foster branching (together / apart)
        closes fractional LPs. Best in low dimension.
    ``"enumerate"``
        The set-partitioning MILP over every feasible cluster (HiGHS); n <= 16 items.
    ``"sdp"``
        Heuristic incumbent + the Peng–Wei (2007) SDP bound (not exact: 4 % gap on iris).
    ``"auto"``
        ``"enumerate"`` up to 12 items, else ``"colgen"``.

    Parameters
    ----------
    n_clusters : int
    method : {"auto", "colgen", "enumerate", "sdp"}
    min_size, max_size : int or None
        Bounds on every cluster's size (capacitated clustering).
    n_init : int
        k-means++ restarts for the incumbent.
    random_state : int, RandomState or None
    backend, solver, time_limit, mip_gap, verbose, solver_options
        As for every optml estimator; ``mip_gap`` is the relative gap to certify (1e-4).

    Attributes
    ----------
    labels_, cluster_centers_, inertia_, result_, program_, n_features_in_

    Examples
    --------
    >>> import numpy as np
    >>> from optml.clustering import KMeans
    >>> X = np.array([[0.0], [0.1], [5.0], [5.2], [9.0]])
    >>> km = KMeans(n_clusters=2).fit(X)
    >>> km.result_.status, round(km.inertia_, 4)
    ('optimal', 10.165)
    """

    def __init__(self, n_clusters=8, method="auto", min_size=None, max_size=None, n_init=100,
                 random_state=None, backend="auto", solver=None, time_limit=None, mip_gap=None,
                 verbose=False, solver_options=None):  # fmt: skip
        self.n_clusters = n_clusters
        self.method = method
        self.min_size = min_size
        self.max_size = max_size
        self.n_init = n_init
        self.random_state = random_state
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    # ------------------------------------------------------------ validation
    def _validate(self, X, must_link, cannot_link):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=1)
        n = X.shape[0]
        k = self.n_clusters
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
            raise ValueError(f"n_clusters must be a positive integer, got {k!r}")
        if k > n:
            raise ValueError(
                f"n_clusters={k} is larger than n_samples={n}; use at most {n} clusters"
            )
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}")
        for nm in ("min_size", "max_size"):
            v = getattr(self, nm)
            if v is not None and (not isinstance(v, numbers.Integral) or v < 0):
                raise ValueError(f"{nm} must be a non-negative integer or None, got {v!r}")
        if not isinstance(self.n_init, numbers.Integral) or self.n_init < 1:
            raise ValueError(f"n_init must be a positive integer, got {self.n_init!r}")
        self._check_common_params()
        must = _check_pairs(must_link, n, "must_link")
        cannot = _check_pairs(cannot_link, n, "cannot_link")
        return X, must, cannot

    def _infeasible(self, msg):
        self.result_ = Result(status="infeasible", message=msg, solver="optml")
        raise SolveError(f"KMeans: the clustering problem is infeasible: {msg}")

    def _check_feasible(self, n, must, cannot):
        g = _groups(n, must)
        for a, b in cannot:
            if g[a] == g[b]:
                self._infeasible(
                    f"points {a} and {b} are must-linked (directly or through a chain) and also "
                    f"cannot-linked; remove one of the contradictory constraints"
                )
        k, lo, hi = self.n_clusters, self.min_size or 1, self.max_size
        if g.max() + 1 < k:
            self._infeasible(f"must-links leave {g.max() + 1} groups, fewer than n_clusters={k}")
        if k * lo > n or (hi is not None and k * hi < n):
            self._infeasible(f"{k} clusters of sizes in [{lo}, {hi}] cannot hold {n} points")
        return g

    # ------------------------------------------------------------------- API
    def build_program(self, X, y=None, must_link=None, cannot_link=None):
        """The compact convex MIQCP formulation of this problem (for inspection / small n)."""
        X = np.asarray(X, dtype=float)
        must = _check_pairs(must_link, X.shape[0], "must_link")
        cannot = _check_pairs(cannot_link, X.shape[0], "cannot_link")
        return mssc_miqcp(X, self.n_clusters, must, cannot)

    def fit(self, X, y=None, must_link=None, cannot_link=None):
        """Cluster ``X`` to certified optimality.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
        y : ignored
        must_link, cannot_link : list of (i, j) pairs, optional
            Pairs of sample indices that must / must not share a cluster.
        """
        X, must, cannot = self._validate(X, must_link, cannot_link)
        n = X.shape[0]
        groups = self._check_feasible(n, must, cannot)
        gap = self._default_mip_gap if self.mip_gap is None else self.mip_gap
        method = self.method
        if method == "auto":
            method = "enumerate" if groups.max() + 1 <= 12 else "colgen"
        t0 = time.perf_counter()
        if method == "enumerate":
            labels = self._fit_enumerate(X, groups, cannot)
        elif method == "sdp":
            labels = self._fit_sdp(X, must, cannot, t0)
        else:
            labels = self._fit_colgen(X, must, cannot, gap, t0)
        self.labels_ = labels
        self.cluster_centers_ = np.array([X[labels == j].mean(axis=0)
                                          for j in range(self.n_clusters)])  # fmt: skip
        self.inertia_ = float(cluster_costs(X, np.eye(self.n_clusters)[labels]).sum())
        return self

    def _fit_enumerate(self, X, groups, cannot):
        m = groups.max() + 1
        if m > 16:
            raise ValueError(
                f"method='enumerate' lists every subset and takes at most 16 items, got {m}; "
                f"use method='colgen'"
            )
        size = np.bincount(groups, minlength=m)
        lo, hi = self.min_size or 1, self.max_size or X.shape[0]
        conf = {(min(groups[a], groups[b]), max(groups[a], groups[b])) for a, b in cannot}
        cols = []
        for bits in itertools.product((0, 1), repeat=m):
            S = np.array(bits, bool)
            s = size[S].sum()
            if s < lo or s > hi or not S.any():
                continue
            if any(S[a] and S[b] for a, b in conf):
                continue
            cols.append(S[groups])
        if len(cols) < self.n_clusters:
            self._infeasible("no partition satisfies the size and link constraints")
        P = np.array(cols).T
        costs = cluster_costs(X, P.astype(float))
        prog = set_partitioning(costs, P, self.n_clusters)
        res = self._solve(prog, mip=True, allow=("optimal", "time_limit", "infeasible"))
        if res.status == "infeasible":
            self._infeasible("no partition satisfies the size and link constraints")
        chosen = P[:, res.values["lam"] > 0.5]
        return _canon(chosen.argmax(axis=1))

    def _fit_colgen(self, X, must, cannot, gap, t0):
        from optml.clustering._exact import BranchAndPrice

        bp = BranchAndPrice(
            X, self.n_clusters, must, cannot, self.min_size, self.max_size,
            time_limit=self.time_limit, gap=gap, random_state=self.random_state,
            n_init=self.n_init, verbose=self.verbose,
        )  # fmt: skip
        out = bp.solve()
        if out.labels is None:
            if out.status == "infeasible":
                self._infeasible("no partition satisfies the size and link constraints")
            raise SolveError("KMeans: no feasible clustering found within the time limit")
        self.program_ = out.master
        self.result_ = Result(
            status=out.status, objective=out.objective, bound=out.bound,
            gap=relative_gap(out.objective, out.bound), values={"labels": out.labels},
            solver="branch-and-price", backend="highs", solve_time=time.perf_counter() - t0,
            problem_class="MILP", objective_check=out.objective, max_violation=0.0,
            verified=out.status == "optimal",
            message=f"{out.nodes} nodes, {out.columns} columns, {out.lp_solves} LP/MILP solves",
        )  # fmt: skip
        self.n_iter_ = out.nodes
        return out.labels

    def _fit_sdp(self, X, must, cannot, t0):
        from optml.clustering._heuristics import best_partition

        if must or cannot or self.min_size or self.max_size:
            raise ValueError("method='sdp' takes no link or size constraints; use 'colgen'")
        rng = np.random.default_rng(self.random_state)
        w = np.ones(X.shape[0])
        Xc = X - X.mean(axis=0)
        lab, cost, _ = best_partition(Xc, w, self.n_clusters, self.n_init, rng)
        prog = peng_wei_sdp(X, self.n_clusters)
        res = prog.solve(backend="cvxpy" if self.backend == "auto" else self.backend,
                         solver=self.solver, time_limit=self.time_limit,
                         **(self.solver_options or {}))  # fmt: skip
        self.program_ = prog
        bound = res.bound if np.isfinite(res.bound) else float("nan")
        self.result_ = Result(
            status="time_limit", objective=cost, bound=bound, gap=relative_gap(cost, bound),
            values={"labels": lab, "Z": res.values.get("Z")}, solver=res.solver,
            backend=res.backend, solve_time=time.perf_counter() - t0, problem_class="SDP",
            objective_check=cost, max_violation=0.0, verified=False,
            message="heuristic clustering with the Peng-Wei SDP bound (not certified optimal)",
        )  # fmt: skip
        return _canon(lab)

    def predict(self, X):
        """Index of the nearest cluster centre."""
        check_is_fitted(self, "cluster_centers_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.transform(X).argmin(axis=1)

    def transform(self, X):
        """Euclidean distances to the cluster centres."""
        check_is_fitted(self, "cluster_centers_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        d2 = ((X[:, None, :] - self.cluster_centers_[None]) ** 2).sum(axis=2)
        return np.sqrt(d2)

    def fit_predict(self, X, y=None, must_link=None, cannot_link=None):
        return self.fit(X, must_link=must_link, cannot_link=cannot_link).labels_

    def score(self, X, y=None):
        """Negative sum of squared distances to the nearest centre (as scikit-learn)."""
        return -float((self.transform(X).min(axis=1) ** 2).sum())


def _canon(labels):
    _, first = np.unique(labels, return_index=True)
    order = np.unique(labels)[np.argsort(first)]
    remap = {c: j for j, c in enumerate(order)}
    return np.array([remap[c] for c in labels])
