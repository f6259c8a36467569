r"""Certified k-medoids: the p-median MILP and the capacitated p-median (Mulvey–Beck, 1984)."""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import ClusterMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator
from optml._data_checks import check_frame, check_scale
from optml._validation import check_int, check_positive
from optml.exceptions import SolveError
from optml.formulations.clustering import check_item_weights, p_median
from optml.program.result import relative_gap
from optml.solve.certificate import make_result


class KMedoids(ClusterMixin, ProgramEstimator):
    r"""k-medoids solved exactly as the p-median MILP (HiGHS by default).

    .. math::

        \min \sum_{i,j} D_{ij} x_{ij} \ \text{s.t.}\ \sum_j x_{ij} = 1,\ x_{ij} \le y_j,\
        \sum_j y_j = k,\ y \in \{0, 1\}^n,

    plus :math:`\sum_i w_i x_{ij} \le Q y_j` (and binary :math:`x`) with ``capacity``
    :math:`Q` and the per-point demands :math:`w_i` given to ``fit(X, demand=w)`` (all 1 by
    default: :math:`Q` counts points), the capacitated p-median of Mulvey & Beck (1984).
    ``fit(X, sample_weight=s)`` weighs the objective, :math:`\min \sum_{i,j} s_i D_{ij}
    x_{ij}`, as scikit-learn's ``KMeans`` means ``sample_weight`` (a point of weight
    :math:`s_i` counts as :math:`s_i` copies); see :meth:`fit` for weights vs demands.

    Parameters
    ----------
    n_clusters : int
    metric : "euclidean", "sqeuclidean", "manhattan", callable or "precomputed"
        A callable takes two points and returns their dissimilarity; "precomputed" takes a
        square dissimilarity matrix as ``X``.
    capacity : float or None
        Largest total demand a medoid may serve (the number of points when ``fit`` gets no
        ``demand``).
    backend, solver, time_limit, mip_gap, verbose, solver_options
        As for every optml estimator (``mip_gap`` defaults to 1e-4). Without a capacity, a
        heuristic medoid set (greedy build, alternation, PAM swaps, then the same local
        search from the best medoid set met by the Lagrangian ascent) and the Lagrangian
        bound of the p-median (Beasley 1993; the p-median LP's bound) come first. When that
        bound certifies the set within ``mip_gap`` and no solver is named (``backend="auto"``,
        ``solver=None``, no raw ``solver_options``), it is the answer (``result_.solver ==
        "medoid-heuristic"``, status ``"optimal"``) and no MILP runs; otherwise the MILP runs
        from that warm start. When the MILP stops at the time limit (or cannot start in the
        time left), ``result_`` holds the better of its point and the heuristic's with the
        larger of its bound and the Lagrangian bound (status ``"optimal"`` when they meet
        within ``mip_gap``, else ``"time_limit"``); ``result_.stats`` records both bounds.
        The fit returns within the limit. With a capacity the Lagrangian bound does not apply:
        the MILP alone answers.

    Attributes
    ----------
    medoid_indices_, labels_, cluster_centers_ (not with "precomputed"), inertia_,
    program_, result_
        ``inertia_`` is the (weighted) cost :math:`\sum_i s_i D_{i, m(i)}`. Clusters are
        numbered by the lexicographic order of their medoids' coordinates, so the labels do
        not depend on the order of the rows, nor on repeating or weighting them (with
        "precomputed", by the medoids' row indices). With zero-weight points, ``program_`` and
        ``result_`` describe the positive-weight rows only (see :meth:`fit`).
    """

    def __init__(
        self,
        n_clusters=8,
        metric="euclidean",
        capacity=None,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.n_clusters = n_clusters
        self.metric = metric
        self.capacity = capacity
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _dist(self, A, B):
        m = self.metric
        if callable(m):
            return np.array([[float(m(a, b)) for b in B] for a in A])
        from scipy.spatial.distance import cdist

        names = {"euclidean": "euclidean", "sqeuclidean": "sqeuclidean", "manhattan": "cityblock"}
        if m in names:
            return cdist(A, B, metric=names[m])
        raise ValueError(
            f"metric must be 'euclidean', 'sqeuclidean', 'manhattan', 'precomputed' or a "
            f"callable, got {m!r}"
        )

    def _dissimilarity(self, X):
        if isinstance(self.metric, str) and self.metric == "precomputed":
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    f"metric='precomputed' needs a square dissimilarity matrix, got {X.shape}"
                )
            return X
        return self._dist(X, X)

    def build_program(self, X, y=None, sample_weight=None, demand=None):
        """The (capacitated) p-median program for ``X`` (with the points' ``sample_weight``
        and ``demand``), as ``fit`` forms it: over the positive-weight rows only."""
        X = np.asarray(X, dtype=float)
        n = X.shape[0]
        s, keep = self._sample_weight(sample_weight, n, self.n_clusters, self.capacity)
        w = None if demand is None else self._demand(demand, n)
        D = self._dissimilarity(X)
        if keep is not None:
            D = D[np.ix_(keep, keep)]
        return p_median(D, self.n_clusters, self.capacity, weights=w, sample_weight=s)

    @staticmethod
    def _sample_weight(sample_weight, n, k, capacity):
        """``(s, keep)``: the validated weights of the rows that enter the p-median and the
        boolean mask of those rows (None: every row). A point of weight 0 counts as no copy:
        it is left out (neither assigned nor a candidate medoid) and labelled by its nearest
        medoid after the fit; with a capacity (which counts rows, or their demand) it is
        refused."""
        if sample_weight is None:
            return None, None
        s = check_item_weights(sample_weight, n)
        zero = s == 0
        if not zero.any():
            return s, None
        if capacity is not None:
            raise ValueError(
                f"sample_weight is 0 for sample {int(np.flatnonzero(zero)[0])} while capacity "
                "is set: capacity counts points (or their demand), but a point of weight 0 "
                "counts as no copy, so its load is not defined; give it a positive weight or "
                "drop it"
            )
        if (~zero).sum() < k:
            raise ValueError(
                f"sample_weight has {int((~zero).sum())} positive weights, fewer than "
                f"n_clusters={k}; zero-weight points count as no copy (they are not "
                "candidate medoids): lower n_clusters or give more points a positive weight"
            )
        return s[~zero], ~zero

    @staticmethod
    def _demand(demand, n):
        w = np.asarray(demand, dtype=float)
        if w.ndim != 1 or w.shape[0] != n:
            raise ValueError(
                f"demand must be a 1-d array with one entry per sample ({n}), got shape {w.shape}"
            )
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("demand must hold finite nonnegative numbers (one per sample)")
        return w

    def fit(self, X, y=None, sample_weight=None, demand=None):
        r"""Fit the medoids.

        Parameters
        ----------
        X : array of shape (n_samples, n_features), or (n_samples, n_samples) dissimilarities
            with ``metric="precomputed"``
        y : ignored
        sample_weight : array of shape (n_samples,), optional
            Point weights :math:`s_i` as scikit-learn's ``KMeans`` means them: a point of
            weight :math:`s` counts as :math:`s` copies; the objective becomes
            :math:`\sum_i s_i D_{i, m(i)}` (MILP, heuristic and Lagrangian bound alike) and
            ``inertia_`` is weighted. Finite, >= 0, not all 0. A point of weight 0 is left
            out of the problem (it is not a candidate medoid: the fit equals the fit without
            it) and labelled by its nearest medoid; the positive weights must number at least
            ``n_clusters``. Weights do not load ``capacity``.
        demand : array of shape (n_samples,), optional
            Each point's load on ``capacity``, in its units (Mulvey & Beck 1984); without a
            capacity it changes nothing, and it never weighs the objective. Without
            ``demand`` every point loads 1, whatever its weight: ``capacity`` counts points,
            as ``KMeans``' ``min_size`` / ``max_size`` do. With a capacity, zero weights are
            refused (a point that counts as no copy has no defined load).
        """
        check_frame(self, X)
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=1)
        n = X.shape[0]
        k = check_int("n_clusters", self.n_clusters, minimum=1)
        cap = check_positive("capacity", self.capacity, allow_none=True)
        s, keep = self._sample_weight(sample_weight, n, k, cap)
        if not (isinstance(self.metric, str) and self.metric == "precomputed"):
            check_scale(self, X, centre=True, what="dissimilarities")
        if k > n:
            raise ValueError(f"n_clusters={k} is larger than n_samples={n}; use at most {n}")
        w = None if demand is None else self._demand(demand, n)
        total = float(n if w is None else w.sum())
        if cap is not None and cap * k < total:
            what = f"n_samples={n}" if w is None else f"the total demand {total:g}"
            raise ValueError(
                f"capacity={self.capacity} x n_clusters={k} < {what}: no assignment "
                f"fits; raise capacity or n_clusters"
            )
        if cap is not None and w is not None and w.max(initial=0.0) > cap:
            raise ValueError(
                f"a point's demand ({w.max():g}) exceeds capacity={self.capacity}: no medoid "
                "can serve it; raise capacity"
            )
        self._check_common_params()
        settings = self._settings(mip=True).started()  # one clock: distances, heuristic, MILP
        D_all = self._dissimilarity(X)
        if not np.isfinite(D_all).all():
            raise ValueError("the dissimilarities contain NaN or inf")
        D = D_all if keep is None else D_all[np.ix_(keep, keep)]
        # C: the objective's costs s_i D_ij; for the heuristic and the Lagrangian bound the
        # weighted p-median is the p-median of C (each row's nearest medoid is the same)
        C = D if s is None else s[:, None] * D
        prog = p_median(D, k, cap, weights=w if cap is not None else None, sample_weight=s)
        # the heuristic medoids: the MILP's warm start, and with the Lagrangian bound of the
        # p-median (Beasley 1993; uncapacitated only) the answer when that bound certifies
        # them and the user left the method to optml, or when the MILP finds nothing in the
        # time left or cannot start in it; at the MILP's limit the larger bound is kept
        rem = settings.remaining()
        med = None if cap is not None else _heuristic(C, k, None if rem is None else 0.2 * rem)
        start = None if med is None else _point(C, med)
        lag = None  # the state of the Lagrangian ascent (multipliers, step, best bound)
        if med is not None and (not self._solver_named(settings) or rem is not None):
            lag = {}
            rem = settings.remaining()
            # all but the polish's share when the MILP could not start in the time left
            share = 0.8 if rem is not None and rem <= _milp_seconds(prog) else _LAGRANGE_SHARE
            _lagrangian_bound(C, k, _cost(C, med), None if rem is None else share * rem, state=lag)
            rem = settings.remaining()
            med = _polish(C, k, med, lag, None if rem is None else 0.2 * rem)
            start = _point(C, med)
        rem = settings.remaining()
        if lag and not self._solver_named(settings) and self._certifies(C, med, lag):
            res = self._heuristic_result(prog, C, k, med, settings, None, lag)
        elif rem is None or rem > _milp_seconds(prog):
            res = self._solve(
                prog,
                warm_start=start,
                mip=True,
                allow=("optimal", "time_limit", "interrupted"),
                settings=settings,
            )
            if med is not None and res.status != "optimal":
                res = self._heuristic_result(prog, C, k, med, settings, res, lag)
        elif med is not None:
            res = self._heuristic_result(prog, C, k, med, settings, None, lag)
        else:
            raise SolveError(
                f"KMedoids: the capacitated p-median MILP ({prog.canonical().A.nnz} nonzeros) "
                f"cannot start within time_limit={self.time_limit}; raise time_limit"
            )
        self.program_, self.result_ = prog, res
        if not res.has_solution:
            raise SolveError(
                f"KMedoids: the solver returned no solution (status {res.status!r}); raise "
                "time_limit or try another solver"
            )
        med = np.flatnonzero(res.values["y"] > 0.5)
        lab = res.values["x"][:, med].argmax(axis=1)  # over the rows in the problem
        rows = np.arange(n) if keep is None else np.flatnonzero(keep)
        med = rows[med]
        # number the clusters by their medoids' coordinates (row index to break ties, and
        # alone with "precomputed"), independent of the rows' order, repeats and weights
        pre = isinstance(self.metric, str) and self.metric == "precomputed"
        order = np.lexsort((med, *X[med].T[::-1])) if not pre else np.argsort(med)
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        labels = D_all[:, med[order]].argmin(axis=1)  # zero-weight rows: nearest medoid
        labels[rows] = rank[lab]
        self.medoid_indices_ = med[order]
        self.labels_ = labels
        cost = D_all[np.arange(n), self.medoid_indices_[labels]]
        full = np.ones(n)
        if s is not None:
            full = np.zeros(n)
            full[rows] = s
        self.inertia_ = float(full @ cost)
        if not pre:
            self.cluster_centers_ = X[self.medoid_indices_]
        self._X_fit = X
        return self

    def fit_predict(self, X, y=None, sample_weight=None, demand=None):
        """``fit(X, sample_weight=..., demand=...).labels_``."""
        return self.fit(X, sample_weight=sample_weight, demand=demand).labels_

    # ------------------------------------------------------------ heuristic + bound
    def _solver_named(self, settings) -> bool:
        """Whether the user asked for a solver: a backend or solver named, or raw options for
        one (a solver's own options are read only by a solve). Then the MILP always runs;
        otherwise a heuristic that the Lagrangian bound certifies is the answer."""
        return self.backend != "auto" or self.solver is not None or bool(settings.options)

    def _target(self) -> float:
        """The relative gap within which an answer certified here counts as optimal."""
        return max(float(self.mip_gap if self.mip_gap is not None else 1e-4), 1e-9)

    def _certifies(self, D, med, lag) -> bool:
        return relative_gap(_cost(D, med), lag["best"]) <= self._target()

    def _heuristic_result(self, prog, D, k, med, settings, milp, lag=None):
        """A certified result from the heuristic medoids ``med`` and the Lagrangian bound of
        the p-median (Beasley 1993), resumed from ``lag`` (the state of an earlier ascent)
        within the time left, and from the MILP's result ``milp`` when there is one (not
        optimal: stopped at its limit or interrupted, or refusing to start): its point when it
        is better than the heuristic's, the larger of the two bounds. Everything goes through
        the certificate factory. ``D``: the objective's costs (rows weighted by
        ``sample_weight``)."""
        t0 = time.perf_counter()
        lag = {} if lag is None else lag
        rem = settings.remaining()
        if milp is not None and milp.status == "interrupted":
            rem = 0.0  # Ctrl-C: no more work than one step (a valid bound)
        milp_bound, milp_cost = float("nan"), np.inf
        if milp is not None:
            if np.isfinite(milp.bound):
                milp_bound = float(milp.bound)
            if milp.has_solution and np.isfinite(milp.objective):
                milp_cost = float(milp.objective)
        upper = min(_cost(D, med), milp_cost)
        if not (lag and relative_gap(upper, lag["best"]) <= self._target()):
            _lagrangian_bound(D, k, upper, None if rem is None else 0.5 * rem, state=lag)
            rem = settings.remaining()
            med = _polish(D, k, med, lag, None if rem is None else 0.5 * rem)
        cost = _cost(D, med)
        use_milp = milp_cost <= cost
        if use_milp:
            values, solver_cost = milp.values, None
        else:
            values, solver_cost = _point(D, med), cost
        check, viol = prog.evaluate(values)
        lag_bound = float(lag["best"])
        bound = lag_bound if not np.isfinite(milp_bound) else max(lag_bound, milp_bound)
        target = self._target()
        optimal = relative_gap(check, bound) <= target
        if optimal:
            status = "optimal"
        elif milp is not None and milp.status == "interrupted":
            status = "interrupted"
        else:
            status = "time_limit"
        if milp is None:
            how = "greedy + alternating medoids" + (
                ", certified by the Lagrangian bound: no MILP needed"
                if optimal
                else f"; the MILP ({prog.canonical().A.nnz} nonzeros) cannot start within the "
                "time left"
            )
        else:
            how = (
                f"the MILP ended {milp.status!r} "
                + ("at the heuristic medoids or better" if use_milp else "with no better point")
                + (f", its bound {milp_bound:.10g}" if np.isfinite(milp_bound) else ", no bound")
                + (f" ({milp.message})" if milp.message else "")
            )
        stats = {} if milp is None else dict(milp.stats)
        stats.update(
            lagrangian_bound=lag_bound,
            lagrangian_iterations=int(lag.get("it", 0)),
            milp_bound=milp_bound,
            heuristic_objective=cost,
        )
        return make_result(
            status=status,
            sense=1,
            values=values,
            objective_check=check,
            max_violation=viol,
            solver_objective=solver_cost,
            bound=bound,
            gap_tol=target,
            solver="medoid-heuristic" if milp is None else milp.solver,
            backend="optml" if milp is None else milp.backend,
            problem_class="MILP",
            build_time=0.0 if milp is None else milp.build_time,
            solve_time=time.perf_counter() - t0 + (0.0 if milp is None else milp.solve_time),
            solver_version="" if milp is None else milp.solver_version,
            message=(
                how + "; bound: the larger of the MILP's and the Lagrangian relaxation of the "
                "assignment rows (subgradient, Beasley 1993)"
            ),
            stats=stats,
            raw=None if milp is None else milp.raw,
        )

    def predict(self, X):
        """Nearest medoid (for "precomputed", X holds dissimilarities to the training points)."""
        check_is_fitted(self, "medoid_indices_")
        if isinstance(self.metric, str) and self.metric == "precomputed":
            X = validate_data(self, X, dtype=np.float64, reset=False)
            return X[:, self.medoid_indices_].argmin(axis=1)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._dist(X, self.cluster_centers_).argmin(axis=1)


#: the share of the time left that the Lagrangian ascent may take before the MILP starts
_LAGRANGE_SHARE = 0.25


def _cost(D, med) -> float:
    return float(D[:, med].min(axis=1).sum())


def _point(D, med):
    n, m = D.shape
    y = np.zeros(m)
    y[med] = 1.0
    x = np.zeros((n, m))
    x[np.arange(n), np.asarray(med)[D[:, med].argmin(axis=1)]] = 1.0
    return {"y": y, "x": x}


def _milp_seconds(prog) -> float:
    """A cautious guess of the seconds a MILP solver spends before it looks at its clock
    (HiGHS's presolve of the p-median MILP: about 1e5 nonzeros a second on a laptop core)."""
    return prog.canonical().A.nnz / 1e5


def _polish(D, k, med, lag, limit=None):
    """The better of the medoids ``med`` and the Lagrangian ascent's best medoid set
    (``lag["med"]``) after the local search of :func:`_heuristic`; a better set becomes the
    ascent's target (``lag["upper"]``)."""
    if "med" not in lag:
        return med
    cand = _heuristic(D, k, limit, init=lag["med"])
    c = _cost(D, cand)
    if c < _cost(D, med):
        med = cand
        if c < lag["upper"]:
            lag["med"], lag["upper"] = cand, c
    return med


def _heuristic(D, k, limit=None, init=None):
    """Greedy build (PAM's BUILD), alternating improvement (assign, re-centre each cluster on
    its best medoid), then PAM's swaps, until nothing improves or ``limit`` seconds pass.
    ``D[i, j]``: the cost of serving row i from candidate j (rows weighted by the points'
    ``sample_weight``; it need not be symmetric). ``init``: k distinct medoids to start the
    improvement from, in place of the build."""
    t0 = time.perf_counter()
    n = D.shape[0]
    med = [int(D.sum(axis=0).argmin())] if init is None else [int(j) for j in init]
    near = D[:, med[0]].copy()
    while len(med) < k:
        gain = np.maximum(near[:, None] - D, 0.0).sum(axis=0)
        gain[med] = -1.0
        j = int(gain.argmax())
        med.append(j)
        near = np.minimum(near, D[:, j])
    med = np.array(sorted(med))
    cost = D[:, med].min(axis=1).sum()
    for _ in range(100):
        if limit is not None and time.perf_counter() - t0 > limit:
            break
        lab = D[:, med].argmin(axis=1)
        new = med.copy()
        for c in range(k):
            members = np.flatnonzero(lab == c)
            if members.size:
                new[c] = members[D[np.ix_(members, members)].sum(axis=0).argmin()]
        new = np.array(sorted(set(new.tolist())))
        if new.size < k:  # two clusters picked one medoid: keep the old set
            break
        c_new = D[:, new].min(axis=1).sum()
        if c_new >= cost - 1e-12 * max(1.0, cost):
            break
        med, cost = new, c_new
    # PAM's swap: the best exchange of one medoid for one point, while it lowers the cost
    for _ in range(50):
        if limit is not None and time.perf_counter() - t0 > limit:
            break
        Dm = D[:, med]
        best, move = cost, None
        for c in range(k):
            other = np.delete(Dm, c, axis=1).min(axis=1) if k > 1 else np.full(n, np.inf)
            costs = np.minimum(other[:, None], D).sum(axis=0)
            costs[med] = np.inf
            j = int(costs.argmin())
            if costs[j] < best - 1e-12 * max(1.0, best):
                best, move = float(costs[j]), (c, j)
        if move is None:
            break
        med = med.copy()
        med[move[0]] = move[1]
        med, cost = np.sort(med), best
    return med


def _lagrangian_bound(D, k, upper, limit=None, iters=2000, state=None):
    """Lower bound of the p-median by relaxing the assignment rows with multipliers ``u``:
    ``L(u) = sum(u) + (sum of the k smallest rho_j)``, ``rho_j = sum_i min(0, D_ij - u_i)``;
    subgradient ascent with Polyak steps toward ``upper`` (Beasley 1993). ``D``: the
    objective's costs (rows weighted by the points' ``sample_weight``). At least one step
    runs (a valid bound), whatever ``limit``; ``iters`` counts the steps of all calls that
    share ``state``. ``state`` (a dict, filled here) carries the multipliers, the step, the
    best bound ("best") and the steps taken ("it") from one call to the next: a call with the
    state of an earlier one resumes its ascent. With a ``state``, each step's k open medians
    are a medoid set too (Beasley's Lagrangian heuristic): the best one below ``upper`` is
    kept as ``state["med"]`` with its cost ``state["upper"]``, and lowers the step's
    target."""
    t0 = time.perf_counter()
    track = state is not None
    state = {} if state is None else state
    upper = min(float(upper), state.get("upper", np.inf))
    n, m = D.shape
    if "u" in state:
        u, best, lam, stall = state["u"], state["best"], state["lam"], state["stall"]
    else:  # start from the second-nearest dissimilarity
        u = np.partition(D, 1, axis=1)[:, 1].copy() if m > 1 else D[:, 0].copy()
        best, lam, stall = -np.inf, 2.0, 0
        state.update(it=0, done=False)
    while not state["done"] and (state["it"] < iters or not np.isfinite(best)):
        state["it"] += 1
        R = np.minimum(D - u[:, None], 0.0)
        rho = R.sum(axis=0)
        open_ = np.argpartition(rho, k - 1)[:k] if k < m else np.arange(m)
        val = float(u.sum() + rho[open_].sum())
        if track:  # the open medians are a medoid set: Beasley's Lagrangian heuristic
            c = float(D[:, open_].min(axis=1).sum())
            if c < upper - 1e-12 * max(1.0, abs(upper)):
                upper = c
                state["med"], state["upper"] = np.sort(open_), c
        if not np.isfinite(best) or val > best + 1e-12 * max(1.0, abs(best)):
            best, stall = val, 0
        else:
            stall += 1
            if stall >= 20:
                lam, stall = lam / 2, 0
        g = 1.0 - (R[:, open_] < 0).sum(axis=1)
        norm = float(g @ g)
        if norm == 0 or lam < 1e-6 or relative_gap(upper, best) <= 1e-9:
            state["done"] = True
            break
        u = u + lam * (upper - val) / norm * g
        if limit is not None and time.perf_counter() - t0 > limit:
            break
    state.update(u=u, best=best, lam=lam, stall=stall)
    return best
