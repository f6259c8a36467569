r"""Certified MSSC (k-means): branch and price over the set-partitioning formulation.

Registered as the special solver ``"branch-and-price"`` for structured problems of kind
``"kmeans"`` (:class:`~optml.formulations.clustering.KMeansProblem`; its default solver).

Each node solves the restricted master LP (through :func:`set_partitioning_dual`, a Program),
prices new clusters heuristically, and certifies the node's bound with the box branch and bound of
:mod:`optml.algorithms.mssc_pricing`. Nodes branch on a pair of items (Ryan–Foster): together
(must-link) or apart (cannot-link). User must-link / cannot-link pairs and cluster sizes enter
as the root node's constraints. The incumbent is the best of k-means++/Lloyd/Hartigan and the
master MILP over the column pool (:func:`set_partitioning`).

Sub-programs (master LPs and MILPs) go through the solve path with the caller's settings
(:meth:`~optml.program.settings.SolveSettings.for_internal`: the time left on the one clock,
threads, seed, verbosity and raw options), on the problem's ``sub_backend`` / ``sub_solver``
("auto": the automatic choice, HiGHS). None of them needs to be exact for the bound to be valid:
the bound :math:`\sum_i\pi_i + k\min_S(c_S - \pi(S))` holds for *any* duals and its pricing
term is bounded in numpy. Only the master MILP's gap matters, for the incumbent: stopped at a
relative gap ``g`` above the pool's best partition, it can leave the incumbent ``g`` too high, and
a target gap at or below ``g`` could then never close. It therefore runs at a tenth of the target
gap (``mip_gap``, 1e-4 by default), leaving nine tenths of it to the bound.
"""

from __future__ import annotations

import heapq
import logging
import time
from dataclasses import dataclass, field

import numpy as np

from optml.algorithms.mssc_heuristics import best_partition, best_sized_partition, repair
from optml.algorithms.mssc_plane import plane_pricing
from optml.algorithms.mssc_pricing import Items, exact_pricing, heuristic_columns
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.highs import INTERIOR_NO_CROSSOVER
from optml.backends.registry import is_special, register_special
from optml.formulations.clustering import (
    cluster_costs,
    must_link_groups,
    set_partitioning,
    set_partitioning_dual,
)
from optml.solve import TOLERANCES, solve_program

logger = logging.getLogger("optml")

#: the target gap when the settings give none
DEFAULT_GAP = TOLERANCES["gap"]
#: the master MILP runs at this fraction of the target gap (see the module docstring)
MASTER_GAP_FRACTION = 0.1
#: columns the exact plane pricing returns a round
PLANE_COLUMNS = 100
#: Wentges smoothing of the plane's column generation (weight of the stability centre)
PLANE_SMOOTHING = 0.9
#: the plane's master LP keeps at most this many columns per item (beside the singletons)
PLANE_LP_COLUMNS = 1.0
#: the plane's master LPs on HiGHS: interior point without crossover (the HiGHS backend's
#: option set). The dual LP is highly degenerate; a vertex (simplex) jumps between extreme
#: optimal duals, the interior point method ends near the centre of the optimal face, and its
#: duals price far better columns (interior point stabilisation, Rousseau, Gendreau & Feillet
#: 2007): blobs 1000 in the plane certified in 30-41 s against 128 s (docs/perf/clustering.md)
PLANE_LP_OPTIONS = INTERIOR_NO_CROSSOVER
#: sweeps of one pricing with cannot-link conflicts (branching on the broken pairs)
PLANE_CONFLICT_SWEEPS = 16
#: the master LP is trimmed at most this many times a node (then it only grows: no cycling)
PLANE_MAX_TRIMS = 100


def _scatter(items, S):
    """sum_{i in S} w_i ||M_i - centroid||^2 (the part of c_S between items)."""
    w, M = items.w[S], items.M[S]
    c = (w @ M) / w.sum()
    return float(w @ ((M - c) ** 2).sum(axis=1))


@dataclass
class ExactResult:
    labels: np.ndarray
    objective: float
    bound: float
    status: str  # optimal | time_limit | infeasible
    nodes: int = 0
    columns: int = 0
    lp_solves: int = 0
    master: object = None  # the last master Program (MILP over the pool)
    log: list = field(default_factory=list)


class _Pool:
    """Candidate clusters as boolean columns over points, deduplicated (costs weighted by the
    points' sample weights ``w``)."""

    def __init__(self, X, w=None):
        self.X, self.w = X, w
        self.cols: list[np.ndarray] = []
        self.costs: list[float] = []
        self.keys: dict[bytes, int] = {}

    def index(self, col: np.ndarray) -> int:
        """The column's index in the pool (-1 when absent)."""
        return self.keys.get(np.packbits(col).tobytes(), -1)

    def add(self, col: np.ndarray) -> bool:
        key = np.packbits(col).tobytes()
        if key in self.keys or not col.any():
            return False
        self.keys[key] = len(self.cols)
        self.cols.append(col)
        # sum_{i in S} w_i ||x_i - centroid||^2, two-pass (a singleton costs exactly 0)
        idx = np.flatnonzero(col)
        Y = self.X[idx]
        w = np.ones(idx.size) if self.w is None else self.w[idx]
        W = float(w.sum())
        dev = Y - (w @ Y) / W if W > 0 else Y * 0.0  # points of weight 0 cost nothing
        self.costs.append(float(w @ (dev * dev).sum(axis=1)))
        return True

    def matrix(self):
        return np.array(self.cols).T, np.array(self.costs)


class _Node:
    def __init__(self, must, cannot, bound):
        self.must, self.cannot, self.bound = tuple(must), tuple(cannot), bound

    def __lt__(self, other):
        return self.bound < other.bound


class BranchAndPrice:
    """Certified MSSC solver for one :class:`KMeansProblem` under one
    :class:`~optml.program.settings.SolveSettings` (clock already started).
    ``solve()`` returns an :class:`ExactResult`."""

    def __init__(self, problem, settings, max_nodes=10_000):
        X = np.asarray(problem.X, float)
        sw = getattr(problem, "sample_weight", None)
        # point weights (a point of weight w counts as w copies); None: unweighted
        self.sw = None if sw is None else np.asarray(sw, float)
        self.w = np.ones(X.shape[0]) if self.sw is None else self.sw
        self.X = X - (self.w @ X) / self.w.sum()
        self.n, self.d = self.X.shape
        self.k = int(problem.n_clusters)
        self.must0, self.cannot0 = list(problem.must_link), list(problem.cannot_link)
        self.lo = 1 if problem.min_size is None else max(1, int(problem.min_size))
        self.hi = np.inf if problem.max_size is None else int(problem.max_size)
        self.settings = settings
        self.deadline = settings.deadline
        self.gap = DEFAULT_GAP if settings.mip_gap is None else float(settings.mip_gap)
        seed = problem.random_state if problem.random_state is not None else settings.seed
        self.rng = np.random.default_rng(seed)
        self.n_init = int(problem.n_init)
        self.backend = problem.sub_backend or "auto"
        sub = problem.sub_solver
        self.solver = None if sub is None or is_special(sub) else sub
        self.verbose, self.max_nodes = settings.verbose, max_nodes
        self.pool = _Pool(self.X, self.sw)
        self.box_lo, self.box_hi = self.X.min(axis=0), self.X.max(axis=0)
        self.total = float(self.w @ (self.X**2).sum(axis=1))
        self.ub, self.best = np.inf, None
        self.lp_solves = 0
        self.master = None
        self.log = []

    # ----------------------------------------------------------------- helpers
    def _items(self, must, cannot):
        item_of = must_link_groups(self.n, must)
        m = item_of.max() + 1
        cnt = np.bincount(item_of, minlength=m).astype(float)  # points (sizes count these)
        w = np.bincount(item_of, weights=self.w, minlength=m)  # sample weight (the cost's)
        S1 = np.zeros((m, self.d))
        np.add.at(S1, item_of, self.w[:, None] * self.X)
        M = S1 / w[:, None]
        sq = np.bincount(item_of, weights=self.w * (self.X**2).sum(axis=1), minlength=m)
        s = sq - w * (M**2).sum(1)
        conf = set()
        for a, b in cannot:
            ia, ib = item_of[a], item_of[b]
            if ia == ib:
                return None, None
            conf.add((min(ia, ib), max(ia, ib)))
        items = Items(M, w, np.maximum(s, 0), sorted(conf), self.lo, self.hi, cnt=cnt)
        return item_of, items

    def _compatible(self, P, must, cannot):
        ok = np.ones(P.shape[1], bool)
        for a, b in must:
            ok &= P[a] == P[b]
        for a, b in cannot:
            ok &= ~(P[a] & P[b])
        size = P.sum(axis=0)
        return ok & (size >= self.lo) & (size <= self.hi)

    def _add_labels(self, labels):
        for j in range(self.k):
            self.pool.add(labels == j)

    def _try_incumbent(self, labels):
        if labels is None or len(np.unique(labels)) != self.k:
            return
        sizes = np.bincount(labels, minlength=self.k)
        if sizes.min() < self.lo or sizes.max() > self.hi:
            return
        for a, b in self.must0:
            if labels[a] != labels[b]:
                return
        for a, b in self.cannot0:
            if labels[a] == labels[b]:
                return
        cost = float(cluster_costs(self.X, np.eye(self.k)[labels], self.sw).sum())
        if not np.isfinite(self.ub) or cost < self.ub - 1e-12 * max(1.0, self.ub):
            self.ub, self.best = cost, labels.copy()

    @staticmethod
    def _plane(items):
        """The exact sweep prices this node: items in 1 or 2 dimensions without sizes
        (must-link items are weighted points with scatter; cannot-link conflicts are branched
        on inside the pricing, :meth:`_plane_price`)."""
        return items.d <= 2 and not items.sized

    def _plane_price(self, items, a, max_cols):
        r"""Exact pricing with the node's cannot-link conflicts: ``(bound, sets)``.

        The sweep ignores conflicts, so its minimum bounds the conflict-free one from below.
        When its best set breaks a conflict :math:`(i, j)`, the feasible sets avoid :math:`i`
        or avoid :math:`j`: two sweeps with one of them removed, and so on (a branch and bound
        over the broken pairs, at most :data:`PLANE_CONFLICT_SWEEPS` sweeps; the bound is the
        least over the open subproblems' sweep minima, valid wherever it stops). Only
        conflict-free sets are returned."""
        conf = items.conflicts
        stack, lbs, sets, sweeps = [()], [], [], 0
        while stack:
            out = stack.pop()
            aa = a.copy()
            aa[list(out)] = np.inf  # an item out of the subproblem never helps
            lb, _, found = plane_pricing(
                items.M, items.w, aa, max_cols=max(1, max_cols), deadline=self.deadline
            )
            sweeps += 1
            ok = [S for S in found if not any(S[i] and S[j] for i, j in conf)]
            sets += ok
            broken = [] if not found else [(i, j) for i, j in conf if found[0][i] and found[0][j]]
            if not broken or not np.isfinite(lb) or sweeps + len(stack) + 2 > PLANE_CONFLICT_SWEEPS:
                lbs.append(lb)
                continue
            i, j = broken[0]
            stack += [out + (i,), out + (j,)]
        return float(min(lbs)), sets[: max_cols * sweeps]

    def _ipm_options(self):
        """:data:`PLANE_LP_OPTIONS` when the master LPs go to HiGHS (the automatic choice or
        named), else none (another solver's raw options are the user's)."""
        if self.backend in ("auto", "highs") and self.solver in (None, "highs"):
            return PLANE_LP_OPTIONS
        return None

    def _time_left(self, need=0.0):
        """Whether the limit is more than ``need`` seconds away."""
        return self.deadline is None or time.perf_counter() + need < self.deadline

    def _solve_program(self, prog, mip=False, options=None):
        # past the deadline only a short solve is allowed (floor 0.1 s): the limit must hold
        changes = {"mip_gap": MASTER_GAP_FRACTION * self.gap} if mip else {}
        if options:
            changes["options"] = {**options, **self.settings.options}  # the user's win
        sub = self.settings.for_internal(floor=0.1, **changes)
        self.lp_solves += 1
        return solve_program(prog, backend=self.backend, solver=self.solver, settings=sub)

    # -------------------------------------------------------------- the master
    def _master_milp(self, must, cannot):
        P, c = self.pool.matrix()
        ok = self._compatible(P, must, cannot)
        if ok.sum() < self.k:
            return
        prog = set_partitioning(c[ok], P[:, ok], self.k)
        res = self._solve_program(prog, mip=True)
        if res.has_solution and res.status in ("optimal", "time_limit"):
            lam = res.values["lam"] > 0.5
            cols = P[:, ok][:, lam]
            if cols.shape[1] == self.k and (cols.sum(axis=1) == 1).all():
                self._try_incumbent(cols.argmax(axis=1))
                self.master = prog

    def _node(self, must, cannot):
        """Column generation at a node: returns (certified bound, LP primal info)."""
        item_of, items = self._items(must, cannot)
        if items is None or items.m < self.k:
            return np.inf, None
        if self._plane(items):
            return self._node_plane(must, cannot, item_of, items)
        reps = np.array([np.flatnonzero(item_of == i)[0] for i in range(items.m)])
        tol = self.gap * max(self.ub, 1e-9) / (4 * self.k) if np.isfinite(self.ub) else 1e-6
        tol = max(tol, 1e-9 * max(1.0, self.total))
        M_dual = 2 * self.total + 1.0
        rng_starts = self.rng.uniform(self.box_lo, self.box_hi, (20, self.d))
        starts = np.vstack([items.M, rng_starts])
        hat, hat_L = self._initial_dual(items, item_of, starts)
        alpha = 0.5
        delta = 0.0 if hat is None else 0.2 * float(np.abs(hat[:-1]).mean()) + 1e-9
        while True:
            P, c = self.pool.matrix()
            ok = self._compatible(P, must, cannot)
            A = P[reps][:, ok].astype(float)
            centre = None if hat is None else hat.copy()
            if hat is not None:
                prog = set_partitioning_dual(
                    c[ok], A, self.k, M_dual, hat[:-1] - delta, hat[:-1] + delta
                )
            else:
                prog = set_partitioning_dual(c[ok], A, self.k, M_dual)
            res = self._solve_program(prog)
            if res.status == "error" and hat is not None:  # numerical trouble in the box LP
                prog = set_partitioning_dual(c[ok], A, self.k, M_dual)
                res = self._solve_program(prog)
            if res.status != "optimal" or not self._time_left():
                if res.status not in ("optimal", "time_limit"):
                    raise RuntimeError(f"master dual LP ended {res.status}: {res.message}")
                return self._final_bound(items, hat), (P[:, ok], c[ok], A)
            lp_val = float(res.objective)
            d_lp = np.append(res.values["pi"], float(res.values["mu"]))
            cands = [d_lp] if hat is None else [alpha * hat + (1 - alpha) * d_lp, d_lp]
            added = 0
            for d in cands:  # price at the smoothed dual; on mis-pricing at the LP dual
                pi, mu = d[:-1], float(d[-1])
                a = items.s - pi
                new, best = heuristic_columns(items, a, mu, starts, tol / 2)
                L = float(pi.sum() + self.k * best)
                if L > hat_L:
                    hat, hat_L = np.append(pi, best), L
                logger.debug(
                    "  lp %.5f L %.5f best %.5f cols %d pool %d",
                    lp_val,
                    L,
                    hat_L,
                    len(new),
                    len(self.pool.cols),
                )
                added = sum(self.pool.add(np.isin(item_of, np.flatnonzero(S))) for S in new)
                if added:
                    break
            if added and hat_L < min(lp_val, self.ub) - self.k * tol:
                continue
            if centre is not None and delta > 0 and self._time_left():
                binding = np.abs(np.abs(d_lp[:-1] - centre[:-1]) - delta) <= 1e-7 * (1 + delta)
                if binding.any() and hat_L < lp_val + self.k * tol:
                    # the trust region binds: compare with the unrestricted master LP
                    full = self._solve_program(
                        set_partitioning(c[ok], P[:, ok], self.k, relax=True)
                    )
                    if full.status == "optimal" and hat_L < full.objective - self.k * tol:
                        delta = min(2.0 * delta, M_dual)  # recentre at hat, widen, go on
                        continue
            best_bound, added, stuck = -np.inf, 0, False
            for d in [hat, d_lp]:
                pi, mu = d[:-1], float(d[-1])
                a = items.s - pi
                slack = pi.sum() + self.k * mu - self.ub * (1 - self.gap)
                ptol = max(tol, 0.9 * slack / self.k) if np.isfinite(slack) else tol
                deadline = self.deadline if self._time_left() else time.perf_counter() + 2.0
                lb_g, centres = exact_pricing(
                    items, a, mu, self.box_lo, self.box_hi, ptol, deadline=deadline
                )
                if centres.shape[0]:
                    new, _ = heuristic_columns(items, a, mu, centres, 0.0, n_iter=1)
                    new += heuristic_columns(items, a, mu, centres, 0.0)[0]
                    added = sum(self.pool.add(np.isin(item_of, np.flatnonzero(S))) for S in new)
                    if added:
                        break
                    stuck = True  # pool columns price out here: the trust region binds
                    lb_g, _ = exact_pricing(
                        items,
                        a,
                        mu,
                        self.box_lo,
                        self.box_hi,
                        0.0,
                        deadline=time.perf_counter() + 2.0,
                        find=False,
                    )
                bound = float(pi.sum() + self.k * lb_g)
                best_bound = max(best_bound, bound)
                if best_bound >= self.ub * (1 - self.gap):
                    break
            if added and self._time_left():
                hat_L = -np.inf
                continue
            if (
                stuck
                and best_bound < self.ub * (1 - self.gap)
                and 0 < delta < M_dual
                and self._time_left()
            ):
                delta = min(4.0 * delta, M_dual)
                continue
            return best_bound, (P[:, ok], c[ok], A)

    def _node_plane(self, must, cannot, item_of, items):
        """Column generation with exact pricing (:func:`plane_pricing`): every pricing gives a
        certified Lagrangian bound, so the node's bound is the best of them.

        Stabilised as the other nodes: the dual master LP is restricted to a box around the
        stability centre (the duals of the best bound so far) and the pricing runs at the
        smoothed duals ``PLANE_SMOOTHING * centre + (1 - PLANE_SMOOTHING) * LP duals``
        (Wentges 1997), at the LP duals when that finds no column (a mis-pricing). The master
        LP holds the node's compatible columns of smallest reduced cost at the centre (at most
        :data:`PLANE_LP_COLUMNS` per item beside the singletons); a dropped column that prices
        out again comes back."""
        reps = np.array([np.flatnonzero(item_of == i)[0] for i in range(items.m)])
        tol = self.gap * max(self.ub, 1e-9) / (4 * self.k) if np.isfinite(self.ub) else 1e-6
        tol = max(tol, 1e-9 * max(1.0, self.total))
        M_dual = 2 * self.total + 1.0
        target = self.ub * (1 - self.gap)
        cap = max(int(PLANE_LP_COLUMNS * items.m), 500)
        trims, t_iter = 0, 0.0

        def price(pi, pi_lp, mu, tol_):
            """Bound at ``pi``; the sets found there that cut off the LP's duals."""
            lb, sets = self._plane_price(items, items.s - pi, PLANE_COLUMNS)
            a = items.s - pi_lp
            new = [S for S in sets if a[S].sum() + _scatter(items, S) - mu < -tol_]
            return float(pi.sum() + self.k * lb), new

        P, c = self.pool.matrix()
        active = set(np.flatnonzero(self._compatible(P, must, cannot)).tolist())
        hat, hat_L = self._initial_dual(items, item_of, None)
        delta = 0.0 if hat is None else 0.2 * float(np.abs(hat[:-1]).mean()) + 1e-9
        while True:
            P, c = self.pool.matrix()
            idx = np.array(sorted(active))
            A = P[reps][:, idx].astype(float)
            lp = (P[:, idx], c[idx], A)
            if hat_L >= target or not self._time_left(t_iter):
                return hat_L, lp
            t_start = time.perf_counter()
            if hat is not None and idx.size > cap + items.m and trims < PLANE_MAX_TRIMS:
                trims += 1
                # keep the singletons and the columns of smallest reduced cost at the centre
                rc = c[idx] - hat[:-1] @ A
                single = A.sum(axis=0) == 1
                keep = single | (rc <= np.sort(rc[~single])[min(cap, (~single).sum()) - 1])
                active = set(idx[keep].tolist())
                idx = idx[keep]
                A = A[:, keep]
                lp = (P[:, idx], c[idx], A)
            box = (hat[:-1] - delta, hat[:-1] + delta) if hat is not None else (None, None)
            res = self._solve_program(
                set_partitioning_dual(c[idx], A, self.k, M_dual, *box), options=self._ipm_options()
            )
            if res.status == "error" and hat is not None:  # numerical trouble in the box LP
                res = self._solve_program(set_partitioning_dual(c[idx], A, self.k, M_dual))
            if res.status != "optimal":
                if res.status not in ("optimal", "time_limit"):
                    raise RuntimeError(f"master dual LP ended {res.status}: {res.message}")
                return hat_L, lp
            lp_val = float(res.objective)
            pi_lp, mu = res.values["pi"], float(res.values["mu"])
            centre = None if hat is None else hat[:-1].copy()  # the box's centre
            cands = [pi_lp]
            if hat is not None:
                cands.insert(0, PLANE_SMOOTHING * hat[:-1] + (1 - PLANE_SMOOTHING) * pi_lp)
            added = 0
            for pi in cands:
                L, new = price(pi, pi_lp, mu, tol / 2)
                if L > hat_L:
                    hat, hat_L = np.append(pi, 0.0), L
                for S in new:
                    col = np.isin(item_of, np.flatnonzero(S))
                    j = self.pool.index(col)
                    if j < 0 and self.pool.add(col):
                        j = len(self.pool.cols) - 1
                    if j >= 0 and j not in active:
                        active.add(j)
                        added += 1
                logger.debug(
                    "  plane lp %.5f L %.5f best %.5f cols %d lp columns %d pool %d",
                    lp_val,
                    L,
                    hat_L,
                    added,
                    len(active),
                    len(self.pool.cols),
                )
                if added or not self._time_left(0.5 * t_iter):
                    break
            t_iter = time.perf_counter() - t_start
            if added:
                continue
            # no column prices out at the LP duals: the box LP is solved; its box may bind
            on_box = centre is not None and np.any(
                np.abs(np.abs(pi_lp - centre) - delta) <= 1e-7 * (1 + delta)
            )
            if on_box and delta < M_dual and hat_L < target:
                delta = min(4.0 * delta, M_dual)
                continue
            return hat_L, lp

    def _final_bound(self, items, hat):
        """Certified bound at the stability centre within 0.5 s (the time limit has passed)."""
        if hat is None:
            return -np.inf
        pi, mu = hat[:-1], float(hat[-1])
        lb_g, _ = exact_pricing(
            items,
            items.s - pi,
            mu,
            self.box_lo,
            self.box_hi,
            0.0,
            deadline=time.perf_counter() + 0.5,
            find=False,
        )
        return float(pi.sum() + self.k * lb_g)

    def _initial_dual(self, items, item_of, starts):
        """A stability centre from the incumbent: pi_i = w_i ||x_i - c_j||^2 + rho w_i / W_j
        (W_j the weight of cluster j; w = 1 for unweighted points)."""
        if self.best is None:
            return None, -np.inf
        lab, w = self.best, self.w
        size = np.bincount(lab, weights=w, minlength=self.k)
        S = np.zeros((self.k, self.d))
        np.add.at(S, lab, w[:, None] * self.X)
        C = S / size[:, None]
        d2 = w * ((self.X - C[lab]) ** 2).sum(axis=1)
        rmax = max(float(d2.max()), 1e-12) * (size.max() + 1)
        best_d, best_L = None, -np.inf
        t_eval = 0.0
        for rho in rmax * np.geomspace(1e-3, 1.0, 6 if self._plane(items) else 25):
            if best_d is not None and not self._time_left(t_eval):
                break  # the limit is near: the first centre is enough for a bound
            t_start = time.perf_counter()
            pi_pt = d2 + rho * w / size[lab]
            pi = np.bincount(item_of, weights=pi_pt, minlength=items.m)
            a = items.s - pi
            if self._plane(items):  # exact: L is a certified bound
                best = self._plane_price(items, a, 0)[0]
            else:
                _, best = heuristic_columns(items, a, 0.0, starts, np.inf)
            L = float(pi.sum() + self.k * best)
            if L > best_L:
                best_d, best_L = np.append(pi, best), L
            t_eval = time.perf_counter() - t_start
        return best_d, best_L

    def _branch_pair(self, P, c, A, must, cannot):
        prog = set_partitioning(c, P, self.k, relax=True)
        res = self._solve_program(prog)
        if not res.has_solution:
            return None
        lam = np.clip(res.values["lam"], 0, 1)
        used = lam > 1e-7
        if np.all(lam[used] > 1 - 1e-6):
            sel = P[:, used]
            if sel.shape[1] == self.k and (sel.sum(axis=1) == 1).all():
                self._try_incumbent(sel.argmax(axis=1))
            return None
        Au = A[:, used] * lam[used]
        F = Au @ A[:, used].T
        iu = np.triu_indices(F.shape[0], 1)
        f = F[iu]
        frac = np.abs(f - 0.5)
        j = int(frac.argmin())
        if frac[j] > 0.5 - 1e-6:
            return None
        ia, ib = iu[0][j], iu[1][j]
        item_of = must_link_groups(self.n, must)
        a = int(np.flatnonzero(item_of == ia)[0])
        b = int(np.flatnonzero(item_of == ib)[0])
        return a, b

    # ------------------------------------------------------------------ solve
    def solve(self) -> ExactResult:
        t0 = time.perf_counter()
        item_of, items = self._items(self.must0, self.cannot0)
        if items is None:
            return ExactResult(None, np.inf, np.inf, "infeasible")
        # heuristic incumbent on the root items (exact for must-link; others get repaired);
        # the restarts take at most a seventh of the time left (at least one runs)
        left = self.settings.remaining()
        stop = None if left is None else time.perf_counter() + left / 7.0
        if not items.conflicts and not items.sized:
            lab, _, found = best_partition(items.M, items.w, self.k, self.n_init, self.rng, stop)
            for f in found:
                self._add_labels(f[item_of])
            self._try_incumbent(lab[item_of])
        else:
            if items.sized:  # constrained k-means under the sizes first (half the restarts' time)
                half = None if left is None else time.perf_counter() + left / 14.0
                _, _, found = best_sized_partition(
                    items.M,
                    items.w,
                    self.k,
                    self.lo,
                    self.hi,
                    items.cnt,
                    self.n_init,
                    self.rng,
                    half,
                )
                for f in found:
                    self._add_labels(f[item_of])
                    fixed = repair(
                        items.M,
                        items.w,
                        f,
                        self.k,
                        items.conflicts,
                        self.lo,
                        self.hi,
                        cnt=items.cnt,
                    )
                    if fixed is not None:
                        self._try_incumbent(fixed[item_of])
            lab, _, found = best_partition(items.M, items.w, self.k, self.n_init, self.rng, stop)
            for f in found:
                self._add_labels(f[item_of])
                fixed = repair(
                    items.M, items.w, f, self.k, items.conflicts, self.lo, self.hi, cnt=items.cnt
                )
                if fixed is not None:
                    self._add_labels(fixed[item_of])
                    self._try_incumbent(fixed[item_of])
        for i in range(self.n):  # singletons keep every master LP meaningful
            col = np.zeros(self.n, bool)
            col[i] = True
            self.pool.add(col)
        if not np.isfinite(self.ub):
            self._master_milp(self.must0, self.cannot0)
        # 0 bounds every clustering's cost (a sum of squares) before the root's bound exists:
        # a limit that stops the root keeps a finite bound
        heap = [_Node(self.must0, self.cannot0, 0.0)]
        nodes, root_bound, open_bounds = 0, None, []
        leaf_bounds = []
        while heap:
            node = heapq.heappop(heap)
            if node.bound >= self.ub * (1 - self.gap) - 1e-12:
                leaf_bounds.append(node.bound)
                continue
            if not self._time_left() or nodes >= self.max_nodes:
                heapq.heappush(heap, node)
                break
            bound, lp = self._node(node.must, node.cannot)
            nodes += 1
            bound = max(bound, node.bound)
            if root_bound is None or self.best is None:
                root_bound = bound if root_bound is None else root_bound
                if self.best is None or (
                    self._time_left() and bound < self.ub * (1 - self.gap) - 1e-12
                ):
                    self._master_milp(self.must0, self.cannot0)
            self.log.append((nodes, bound, self.ub, time.perf_counter() - t0))
            logger.log(
                logging.INFO if self.verbose else logging.DEBUG,
                "branch-and-price node %d: bound %.6f incumbent %.6f columns %d t=%.2fs",
                nodes,
                bound,
                self.ub,
                len(self.pool.cols),
                time.perf_counter() - t0,
            )
            if lp is None or bound >= self.ub * (1 - self.gap) - 1e-12:
                leaf_bounds.append(bound)
                continue
            pair = self._branch_pair(*lp, node.must, node.cannot)
            if pair is None:
                if bound < self.ub * (1 - self.gap):
                    open_bounds.append(bound)  # LP integral but pricing not tight enough
                continue
            heapq.heappush(heap, _Node(node.must + (pair,), node.cannot, bound))
            heapq.heappush(heap, _Node(node.must, node.cannot + (pair,), bound))
        if not np.isfinite(self.ub):
            self._master_milp(self.must0, self.cannot0)
        remaining = [nd.bound for nd in heap] + open_bounds + leaf_bounds
        lb = min(remaining) if remaining else self.ub
        lb = min(lb, self.ub)
        if self.best is None:
            status = "infeasible" if not heap and root_bound == np.inf else "time_limit"
            return ExactResult(
                None,
                np.inf,
                lb,
                status,
                nodes,
                len(self.pool.cols),
                self.lp_solves,
                self.master,
                self.log,
            )
        gap = (self.ub - lb) / max(1.0, abs(self.ub))
        status = "optimal" if gap <= self.gap + 1e-12 else "time_limit"
        return ExactResult(
            self._canon(self.best),
            self.ub,
            lb,
            status,
            nodes,
            len(self.pool.cols),
            self.lp_solves,
            self.master,
            self.log,
        )

    @staticmethod
    def _canon(labels):
        _, first = np.unique(labels, return_index=True)
        order = np.unique(labels)[np.argsort(first)]
        remap = {c: j for j, c in enumerate(order)}
        return np.array([remap[c] for c in labels])


class BranchAndPriceSolver(SpecialSolver):
    """The registered solver ``"branch-and-price"`` (kind ``"kmeans"``)."""

    name = "branch-and-price"
    kinds = ("kmeans",)
    problem_class = "MISOCP"
    description = (
        "k-means (MSSC) to certified optimality: branch and price on the set-partitioning "
        "formulation, pricing bound certified by a box branch and bound in numpy"
    )
    reference = (
        "du Merle, Hansen, Jaumard & Mladenovic (2000); Aloise, Hansen & Liberti (2012); "
        "Ryan & Foster (1981)"
    )

    is_mip = True  # optimal within the user's mip_gap, as a mixed-integer solver

    def solve(self, problem, settings) -> RawAnswer:
        settings = settings.started()
        t0 = time.perf_counter()
        bp = BranchAndPrice(problem, settings)
        try:
            out = bp.solve()
        except RuntimeError as exc:  # a master LP failed: give up (the solve path may fall back)
            return RawAnswer(status="error", message=str(exc), solve_time=time.perf_counter() - t0)
        wall = time.perf_counter() - t0
        stats = {"nodes": out.nodes, "columns": out.columns, "sub_solves": out.lp_solves}
        msg = f"{out.nodes} nodes, {out.columns} columns, {out.lp_solves} LP/MILP solves"
        if out.labels is None:
            if out.status == "infeasible":
                msg = "no partition satisfies the size and link constraints; " + msg
            else:
                msg = "no feasible clustering found within the time limit; " + msg
            return RawAnswer(status=out.status, message=msg, stats=stats, solve_time=wall)
        return RawAnswer(
            status=out.status,
            values=problem.point(out.labels),
            objective=float(out.objective),
            bound=float(out.bound),
            message=msg,
            stats=stats,
            solve_time=wall,
        )


register_special(BranchAndPriceSolver(), module=__name__)
