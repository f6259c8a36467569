r"""Certified k-means: minimum sum-of-squares clustering solved to global optimality."""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.base import ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator
from optml._data_checks import COST_MAX, check_frame, check_scale
from optml._validation import check_choice, check_int
from optml.exceptions import SolveError
from optml.formulations.clustering import (
    KMeansProblem,
    cluster_costs,
    set_partitioning,
)
from optml.solve.certificate import make_result

_METHODS = ("auto", "colgen", "enumerate", "sdp", "sdp_bound")
#: ``method="auto"`` uses the SDP branch and bound from this dimension on (column generation
#: prices clusters by a branch and bound over centre boxes in R^d, which grows with d)
AUTO_SDP_MIN_DIM = 5
#: and up to this many items (the SDP has an m x m matrix variable)
AUTO_SDP_MAX_ITEMS = 3000


def _check_pairs(pairs, n, name):
    out = []
    for pr in pairs or ():
        if len(pr) != 2:
            raise ValueError(f"{name} must be a list of (i, j) index pairs, got {pr!r}")
        i, j = (check_int(f"{name} index", v) for v in pr)
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
        The special solver ``"branch-and-price"`` (:mod:`optml.algorithms.branch_and_price`)
        on the structured problem :class:`~optml.formulations.clustering.KMeansProblem`:
        branch and price on the set-partitioning formulation (du Merle et al., 2000;
        Aloise, Hansen & Liberti, 2012): k-means++ / Lloyd / Hartigan restarts give the
        incumbent, a stabilised column generation (box-step + Wentges smoothing) the duals, and a
        branch and bound over centre boxes in :math:`\mathbb R^d` certifies the Lagrangian bound
        :math:`\sum_i\pi_i + k\min_S (c_S - \pi(S))`; Ryan–Foster branching (together / apart)
        closes fractional LPs. Best in low dimension.
    ``"enumerate"``
        The set-partitioning MILP over every feasible cluster (HiGHS); n <= 16 items.
    ``"sdp"``
        The special solver ``"sdp-bnb"`` (:mod:`optml.algorithms.sdp_bnb`): branch and bound on
        the Peng–Wei SDP strengthened by pair and triangle cuts (Piccialli, Sudoso & Wiegele,
        2022), solved by ADMM; every node's bound is a safe bound from the ADMM's multipliers.
        Exact, with must-link / cannot-link pairs; no size bounds. Best in higher dimension.
    ``"sdp_bound"``
        The special solver ``"peng-wei"``: heuristic incumbent + the plain Peng–Wei (2007) SDP
        bound from a general SDP solver. **Not exact** (4 % gap on iris); kept for comparison.
    ``"auto"``
        ``"enumerate"`` up to 12 items; else ``"sdp"`` from 5 features on (up to 3000 items,
        no size bounds), ``"colgen"`` otherwise (column generation wins in low dimension).

    Parameters
    ----------
    n_clusters : int
    method : {"auto", "colgen", "enumerate", "sdp", "sdp_bound"}
    min_size, max_size : int or None
        Bounds on every cluster's size (capacitated clustering).
    n_init : int
        k-means++ restarts for the incumbent.
    random_state : int, RandomState or None
    backend, solver, time_limit, mip_gap, verbose, solver_options
        As for every optml estimator; ``mip_gap`` is the relative gap to certify (1e-4).
        With ``method="colgen"``, ``solver=None`` (or ``"branch-and-price"``) runs the branch
        and price, whose master programs go to ``backend`` (HiGHS under "auto") with the
        estimator's time limit, threads, seed and raw options; a general solver name
        (``solver="scip"``) solves the compact MIQCP (:func:`mssc_miqcp`) instead. With
        ``method="sdp_bound"``, ``backend``/``solver`` choose the SDP solver of the bound.
        ``method="sdp"`` uses one BLAS thread unless ``solver_options={"threads": t}``.

    Attributes
    ----------
    labels_, cluster_centers_, inertia_, result_, n_features_in_
    method_ : str
        The method that ran (what ``"auto"`` chose).
    problem_ : KMeansProblem (``"colgen"``, ``"sdp"``, ``"sdp_bound"``)
    program_ : Program
        The set-partitioning MILP (``"enumerate"``), or the problem's program (the compact
        MIQCP for ``"colgen"``, formed on first access: it takes seconds for a few hundred
        points).

    Examples
    --------
    >>> import numpy as np
    >>> from optml.clustering import KMeans
    >>> X = np.array([[0.0], [0.1], [5.0], [5.2], [9.0]])
    >>> km = KMeans(n_clusters=2).fit(X)
    >>> km.result_.status, round(km.inertia_, 4)
    ('optimal', 10.165)
    """

    def __init__(
        self,
        n_clusters=8,
        method="auto",
        min_size=None,
        max_size=None,
        n_init=100,
        random_state=None,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
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
        check_frame(self, X)
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=1)
        check_scale(self, X, centre=True, what="cluster costs", stat_limit=COST_MAX)
        n = X.shape[0]
        k = check_int("n_clusters", self.n_clusters, minimum=1)
        if k > n:
            raise ValueError(
                f"n_clusters={k} is larger than n_samples={n}; use at most {n} clusters"
            )
        check_choice("method", self.method, _METHODS)
        for nm in ("min_size", "max_size"):
            v = getattr(self, nm)
            if v is not None:
                check_int(nm, v, minimum=0)
        check_int("n_init", self.n_init, minimum=1)
        self._check_common_params()
        must = _check_pairs(must_link, n, "must_link")
        cannot = _check_pairs(cannot_link, n, "cannot_link")
        return X, must, cannot

    def _infeasible(self, msg, result=None):
        if result is None:
            result = make_result(status="infeasible", sense=1, values=None, message=msg)
        self.result_ = result
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
        """The compact convex MIQCP formulation of this problem (for inspection / small n):
        the program general solvers receive for :meth:`build_problem`."""
        return self.build_problem(X, must_link=must_link, cannot_link=cannot_link).program

    def build_problem(self, X, y=None, must_link=None, cannot_link=None) -> KMeansProblem:
        """This clustering problem as a :class:`KMeansProblem` (for ``optml.solve`` and
        ``optml.bench``: the branch and price takes its data, general solvers its program)."""
        X = np.asarray(X, dtype=float)
        must = _check_pairs(must_link, X.shape[0], "must_link")
        cannot = _check_pairs(cannot_link, X.shape[0], "cannot_link")
        return KMeansProblem(
            X,
            self.n_clusters,
            must,
            cannot,
            self.min_size,
            self.max_size,
            n_init=self.n_init,
            random_state=self.random_state,
            sub_backend=self.backend,
            sub_solver=self.solver,
        )

    @property
    def program_(self):
        prog = self.__dict__.get("_program_")
        if prog is None and "problem_" in self.__dict__:
            prog = self.problem_.program
            self.__dict__["_program_"] = prog
        if prog is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute 'program_'")
        return prog

    @program_.setter
    def program_(self, value):
        self.__dict__["_program_"] = value

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
        for attr in ("_program_", "problem_", "n_iter_"):
            self.__dict__.pop(attr, None)
        n = X.shape[0]
        groups = self._check_feasible(n, must, cannot)
        method = self.method
        if method == "auto":
            m = groups.max() + 1
            sized = self.min_size or self.max_size
            if m <= 12:
                method = "enumerate"
            elif X.shape[1] >= AUTO_SDP_MIN_DIM and m <= AUTO_SDP_MAX_ITEMS and not sized:
                method = "sdp"
            else:
                method = "colgen"
        if method == "enumerate":
            labels = self._fit_enumerate(X, groups, cannot)
        else:
            if method == "sdp" and (self.min_size or self.max_size):
                raise ValueError(
                    "method='sdp' takes no cluster size bounds (min_size / max_size); use "
                    "method='colgen'"
                )
            if method == "sdp_bound" and (must or cannot or self.min_size or self.max_size):
                raise ValueError(
                    "method='sdp_bound' takes no link or size constraints; use 'colgen' or 'sdp'"
                )
            labels = self._fit_problem(X, must, cannot, method)
        self.method_ = method
        self.labels_ = labels
        self.cluster_centers_ = np.array(
            [X[labels == j].mean(axis=0) for j in range(self.n_clusters)]
        )
        self.inertia_ = float(cluster_costs(X, np.eye(self.n_clusters)[labels]).sum())
        res = getattr(self, "result_", None)
        if method != "enumerate" and res is not None and res.status == "interrupted":
            # Ctrl-C (R2): the clustering found so far is fitted and kept, then the script stops
            raise KeyboardInterrupt(
                f"KMeans: interrupted; the fitted attributes and result_ hold the incumbent "
                f"(objective {res.objective:.6g}, bound {res.bound:.6g}, gap {res.gap:.3g})"
            )
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

    def _fit_problem(self, X, must, cannot, method):
        """``"colgen"`` / ``"sdp"`` / ``"sdp_bound"``: the structured problem on the solve
        path."""
        from optml.backends.registry import is_special
        from optml.solve import solve

        self._check_common_params()
        problem = KMeansProblem(
            X,
            self.n_clusters,
            must,
            cannot,
            self.min_size,
            self.max_size,
            n_init=self.n_init,
            random_state=self.random_state,
            sub_backend=self.backend,
            sub_solver=self.solver,
        )
        general = self.solver is not None and not is_special(self.solver)
        if method == "sdp_bound":
            # backend / solver name the SDP solver of the bound
            backend, solver = "auto", "peng-wei"
        elif method == "sdp":
            backend, solver = "auto", "sdp-bnb"
        elif general:
            backend, solver = self.backend, self.solver  # the compact MIQCP on that solver
        else:
            # the branch and price (or the special solver named); ``backend`` goes to its
            # master programs through the problem
            backend, solver = "auto", self.solver
        res = solve(problem, backend=backend, solver=solver, settings=self._settings(mip=True))
        self.problem_ = problem
        self.result_ = res
        if res.status == "infeasible":
            self._infeasible("no partition satisfies the size and link constraints", res)
        ok = ("optimal", "time_limit", "feasible", "interrupted")
        if res.status not in ok or not res.has_solution:
            raise SolveError(
                f"KMeans: no feasible clustering found (status {res.status!r}, "
                f"{res.backend}/{res.solver}: {res.message}); raise time_limit or try another "
                "method"
            )
        if "nodes" in res.stats:
            self.n_iter_ = res.stats["nodes"]
        return _canon(KMeansProblem.labels(res.values))

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
