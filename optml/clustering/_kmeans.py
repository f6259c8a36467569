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
    check_item_weights,
    cluster_costs,
    must_link_groups,
    set_partitioning,
)
from optml.solve.certificate import make_result

_METHODS = ("auto", "colgen", "enumerate", "sdp", "sdp_bound")
#: ``method="auto"`` uses the SDP branch and bound from this dimension on (column generation
#: prices clusters by a branch and bound over centre boxes in R^d, which grows with d)
AUTO_SDP_MIN_DIM = 5
#: and up to this many items (the SDP has an m x m matrix variable; n = 4000 in 10-d is
#: certified in about 5 minutes, docs/perf/clustering.md)
AUTO_SDP_MAX_ITEMS = 4000


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
        :math:`\sum_i\pi_i + k\min_S (c_S - \pi(S))` (in one or two dimensions without sizes the
        pricing is exact: a sweep over the arrangement of the items' disks,
        :mod:`optml.algorithms.mssc_plane`); Ryan–Foster branching (together / apart)
        closes fractional LPs. Best in low dimension.
    ``"enumerate"``
        The set-partitioning MILP over every feasible cluster (HiGHS); n <= 16 items.
    ``"sdp"``
        The special solver ``"sdp-bnb"`` (:mod:`optml.algorithms.sdp_bnb`): branch and bound on
        the Peng–Wei SDP strengthened by pair and triangle cuts (Piccialli, Sudoso & Wiegele,
        2022), solved by ADMM; every node's bound is a safe bound from the ADMM's multipliers.
        Exact, with must-link / cannot-link pairs and size bounds (which bound the SDP's
        diagonal for unweighted points). Best in higher dimension.
    ``"sdp_bound"``
        The special solver ``"peng-wei"``: heuristic incumbent + the plain Peng–Wei (2007) SDP
        bound from a general SDP solver. **Not exact** (4 % gap on iris); kept for comparison.
    ``"auto"``
        ``"enumerate"`` up to 12 items; else ``"sdp"`` (up to 4000 items) from 5 features on,
        and in any dimension with size bounds on unweighted points; ``"colgen"`` otherwise
        (column generation wins in low dimension without sizes).

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

    ``fit(X, sample_weight=w)`` weighs the points as scikit-learn's ``KMeans`` does (a point of
    weight w counts as w copies) on every method but ``"sdp_bound"``; ``min_size`` /
    ``max_size`` still count points. Clusters are numbered by the lexicographic order of their
    centres (independent of the order of the rows).

    Attributes
    ----------
    labels_, cluster_centers_, inertia_, result_, n_features_in_
        ``cluster_centers_`` are (weighted) means, ``inertia_`` the (weighted) cost.
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
        g = must_link_groups(n, must)
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
    def build_program(self, X, y=None, sample_weight=None, must_link=None, cannot_link=None):
        """The compact convex MIQCP formulation of this problem (for inspection / small n):
        the program general solvers receive for :meth:`build_problem`."""
        return self.build_problem(
            X, sample_weight=sample_weight, must_link=must_link, cannot_link=cannot_link
        ).program

    def build_problem(
        self, X, y=None, sample_weight=None, must_link=None, cannot_link=None
    ) -> KMeansProblem:
        """This clustering problem as a :class:`KMeansProblem` (for ``optml.solve`` and
        ``optml.bench``: the branch and price takes its data, general solvers its program).
        With ``sample_weight``, every point (zero-weight ones included) is in the problem: a
        zero-weight point must then share a must-link group of positive weight."""
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
            sample_weight=sample_weight,
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

    def _weights(self, sample_weight, n, must, cannot):
        """Validated weights and the rows that enter the problem: ``(w or None, keep or None,
        must, cannot)`` with the links renumbered over the kept rows. A point of weight 0
        counts as no copy: it is left out (and labelled by its nearest centre after the fit)
        unless it is linked or sizes are set (sizes count rows), where its must-link group must
        weigh more than 0."""
        if sample_weight is None:
            return None, None, must, cannot
        w = check_item_weights(sample_weight, n)
        zero = w == 0
        if not zero.any():
            return w, None, must, cannot
        keep = ~zero
        if self.min_size or self.max_size:
            keep[:] = True  # min_size / max_size count rows, zero-weight ones included
        for a, b in (*must, *cannot):
            keep[a] = keep[b] = True
        try:
            check_item_weights(w[keep], int(keep.sum()), _renumber(must, keep))
        except ValueError:
            raise ValueError(
                "sample_weight is 0 for a point that is linked (must_link / cannot_link) or "
                "counted by min_size / max_size, with no positive weight in its must-link "
                "group: such a point counts as no copy, so its cluster is not defined; give it "
                "a positive weight or drop it (and its links)"
            ) from None
        if (w[keep] > 0).sum() < self.n_clusters:
            raise ValueError(
                f"sample_weight has {int((w > 0).sum())} positive weights, fewer than "
                f"n_clusters={self.n_clusters}; zero-weight points count as no copy"
            )
        if keep.all():
            return w, None, must, cannot
        return w[keep], keep, _renumber(must, keep), _renumber(cannot, keep)

    def fit(self, X, y=None, sample_weight=None, must_link=None, cannot_link=None):
        r"""Cluster ``X`` to certified optimality.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
        y : ignored
        sample_weight : array of shape (n_samples,), optional
            Point weights as scikit-learn's ``KMeans`` means them: a point of weight w counts
            as w copies (objective :math:`\sum_i w_i\lVert x_i - c_{l(i)}\rVert^2`, centres
            are weighted means). Finite, >= 0, not all 0. A point of weight 0 is left out of
            the problem and labelled by its nearest centre. ``min_size`` / ``max_size`` still
            count points (rows), not weights.
        must_link, cannot_link : list of (i, j) pairs, optional
            Pairs of sample indices that must / must not share a cluster.
        """
        X, must, cannot = self._validate(X, must_link, cannot_link)
        for attr in ("_program_", "problem_", "n_iter_"):
            self.__dict__.pop(attr, None)
        X_all = X
        w, keep, must, cannot = self._weights(sample_weight, X.shape[0], must, cannot)
        if keep is not None:
            X = X[keep]
        n = X.shape[0]
        groups = self._check_feasible(n, must, cannot)
        method = self.method
        if method == "auto":
            m = groups.max() + 1
            sized = self.min_size or self.max_size
            if m <= 12:
                method = "enumerate"
            elif m <= AUTO_SDP_MAX_ITEMS and (
                (X.shape[1] >= AUTO_SDP_MIN_DIM and not sized) or (sized and w is None)
            ):
                # sizes (unweighted points) bound the SDP's diagonal: the SDP branch and bound
                # certified the capacitated instances the branch and price did not, the
                # plane's included (docs/perf/clustering.md)
                method = "sdp"
            else:
                method = "colgen"
        if method == "enumerate":
            labels = self._fit_enumerate(X, groups, cannot, w)
        else:
            if method == "sdp_bound" and (must or cannot or self.min_size or self.max_size):
                raise ValueError(
                    "method='sdp_bound' takes no link or size constraints; use 'colgen' or 'sdp'"
                )
            if method == "sdp_bound" and w is not None:
                raise ValueError(
                    "method='sdp_bound' takes no sample_weight (its Peng-Wei program is "
                    "unweighted); use method='sdp', 'colgen' or 'enumerate', which weigh points"
                )
            labels = self._fit_problem(X, must, cannot, method, w)
        self.method_ = method
        ww = np.ones(n) if w is None else w
        centres = np.array(
            [
                np.average(X[labels == j], axis=0, weights=ww[labels == j])
                for j in range(self.n_clusters)
            ]
        )
        # clusters numbered by the lexicographic order of their centres: the numbering does
        # not depend on the order of the rows (nor on repeating or weighting them)
        order = np.lexsort(centres.T[::-1])
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        self.cluster_centers_ = centres[order]
        labels = rank[labels]
        self.inertia_ = float(cluster_costs(X, np.eye(self.n_clusters)[labels], w).sum())
        if keep is not None:  # zero-weight points: the nearest centre
            full = self._sq_dist(X_all).argmin(axis=1)
            full[keep] = labels
            labels = full
        self.labels_ = labels
        res = getattr(self, "result_", None)
        if method != "enumerate" and res is not None and res.status == "interrupted":
            # Ctrl-C (R2): the clustering found so far is fitted and kept, then the script stops
            raise KeyboardInterrupt(
                f"KMeans: interrupted; the fitted attributes and result_ hold the incumbent "
                f"(objective {res.objective:.6g}, bound {res.bound:.6g}, gap {res.gap:.3g})"
            )
        return self

    def _fit_enumerate(self, X, groups, cannot, w=None):
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
        costs = cluster_costs(X, P.astype(float), w)
        prog = set_partitioning(costs, P, self.n_clusters)
        res = self._solve(prog, mip=True, allow=("optimal", "time_limit", "infeasible"))
        if res.status == "infeasible":
            self._infeasible("no partition satisfies the size and link constraints")
        chosen = P[:, res.values["lam"] > 0.5]
        return _canon(chosen.argmax(axis=1))

    def _fit_problem(self, X, must, cannot, method, w=None):
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
            sample_weight=w,
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

    def _sq_dist(self, X):
        return ((X[:, None, :] - self.cluster_centers_[None]) ** 2).sum(axis=2)

    def predict(self, X):
        """Index of the nearest cluster centre."""
        check_is_fitted(self, "cluster_centers_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._sq_dist(X).argmin(axis=1)

    def transform(self, X):
        """Euclidean distances to the cluster centres."""
        check_is_fitted(self, "cluster_centers_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return np.sqrt(self._sq_dist(X))

    def fit_predict(self, X, y=None, sample_weight=None, must_link=None, cannot_link=None):
        return self.fit(
            X, sample_weight=sample_weight, must_link=must_link, cannot_link=cannot_link
        ).labels_

    def score(self, X, y=None, sample_weight=None):
        """Negative (weighted) sum of squared distances to the nearest centre, as
        scikit-learn's ``KMeans.score``."""
        check_is_fitted(self, "cluster_centers_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        d2 = self._sq_dist(X).min(axis=1)
        if sample_weight is None:
            return -float(d2.sum())
        w = check_item_weights(sample_weight, X.shape[0])
        return -float(w @ d2)


def _renumber(pairs, keep):
    """Index pairs over the rows kept (``keep`` boolean; every pair's ends are kept)."""
    new = np.cumsum(keep) - 1
    return [(int(new[a]), int(new[b])) for a, b in pairs]


def _canon(labels):
    _, first = np.unique(labels, return_index=True)
    order = np.unique(labels)[np.argsort(first)]
    remap = {c: j for j, c in enumerate(order)}
    return np.array([remap[c] for c in labels])
