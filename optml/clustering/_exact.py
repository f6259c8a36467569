r"""Certified MSSC: branch and price over the set-partitioning formulation.

Each node solves the restricted master LP (through :func:`set_partitioning_dual`, a Program),
prices new clusters heuristically, and certifies the node's bound with the box branch and bound of
:mod:`optml.clustering._pricing`. Nodes branch on a pair of items (Ryan–Foster): together
(must-link) or apart (cannot-link). User must-link / cannot-link pairs and cluster sizes enter
as the root node's constraints. The incumbent is the best of k-means++/Lloyd/Hartigan and the
master MILP over the column pool (:func:`set_partitioning`).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field

import numpy as np

from optml.clustering._heuristics import best_partition, repair
from optml.clustering._pricing import Items, exact_pricing, heuristic_columns
from optml.formulations.clustering import (
    cluster_costs,
    set_partitioning,
    set_partitioning_dual,
)


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
    """Candidate clusters as boolean columns over points, deduplicated."""

    def __init__(self, X):
        self.X = X
        self.cols: list[np.ndarray] = []
        self.costs: list[float] = []
        self.keys: set[bytes] = set()

    def add(self, col: np.ndarray) -> bool:
        key = np.packbits(col).tobytes()
        if key in self.keys or not col.any():
            return False
        self.keys.add(key)
        self.cols.append(col)
        self.costs.append(float(cluster_costs(self.X, col[:, None].astype(float))[0]))
        return True

    def matrix(self):
        return np.array(self.cols).T, np.array(self.costs)


def _union_find(n, pairs):
    parent = np.arange(n)

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(i) for i in range(n)])
    _, item_of = np.unique(roots, return_inverse=True)
    return item_of


class _Node:
    def __init__(self, must, cannot, bound):
        self.must, self.cannot, self.bound = tuple(must), tuple(cannot), bound

    def __lt__(self, other):
        return self.bound < other.bound


class BranchAndPrice:
    """Certified MSSC solver. ``solve()`` returns an :class:`ExactResult`."""

    def __init__(self, X, k, must_link=(), cannot_link=(), min_size=None, max_size=None,
                 time_limit=None, gap=1e-4, random_state=None, n_init=100, backend="auto",
                 solver=None, verbose=False, max_nodes=10_000):  # fmt: skip
        self.X = np.asarray(X, float) - np.asarray(X, float).mean(axis=0)
        self.n, self.d = self.X.shape
        self.k = int(k)
        self.must0, self.cannot0 = list(must_link), list(cannot_link)
        self.lo = 1 if min_size is None else max(1, int(min_size))
        self.hi = np.inf if max_size is None else int(max_size)
        self.time_limit, self.gap = time_limit, gap
        self.rng = np.random.default_rng(random_state)
        self.n_init, self.backend, self.solver = n_init, backend, solver
        self.verbose, self.max_nodes = verbose, max_nodes
        self.pool = _Pool(self.X)
        self.box_lo, self.box_hi = self.X.min(axis=0), self.X.max(axis=0)
        self.total = float((self.X**2).sum())
        self.ub, self.best = np.inf, None
        self.lp_solves = 0
        self.master = None
        self.log = []

    # ----------------------------------------------------------------- helpers
    def _items(self, must, cannot):
        item_of = _union_find(self.n, must)
        m = item_of.max() + 1
        w = np.bincount(item_of, minlength=m).astype(float)
        S1 = np.zeros((m, self.d))
        np.add.at(S1, item_of, self.X)
        M = S1 / w[:, None]
        s = np.bincount(item_of, weights=(self.X**2).sum(axis=1), minlength=m) - w * (M**2).sum(1)
        conf = set()
        for a, b in cannot:
            ia, ib = item_of[a], item_of[b]
            if ia == ib:
                return None, None
            conf.add((min(ia, ib), max(ia, ib)))
        items = Items(M, w, np.maximum(s, 0), sorted(conf), self.lo, self.hi)
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
        cost = float(cluster_costs(self.X, np.eye(self.k)[labels]).sum())
        if not np.isfinite(self.ub) or cost < self.ub - 1e-12 * max(1.0, self.ub):
            self.ub, self.best = cost, labels.copy()

    def _time_left(self):
        return self.deadline is None or time.perf_counter() < self.deadline

    def _solve_program(self, prog, mip=False, **opts):
        kw = {"mip_gap": 1e-9} if mip else {}
        kw.update(opts)
        if self.deadline is not None:
            # past the deadline only a short solve is allowed: the limit must hold
            kw["time_limit"] = max(0.1, self.deadline - time.perf_counter())
        self.lp_solves += 1
        return prog.solve(backend="highs" if self.backend == "auto" else self.backend,
                          solver=self.solver if self.backend != "auto" else None, **kw)  # fmt: skip

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
                prog = set_partitioning_dual(c[ok], A, self.k, M_dual, hat[:-1] - delta,
                                             hat[:-1] + delta)  # fmt: skip
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
                if self.verbose > 1:
                    print(
                        f"  lp {lp_val:.5f} L {L:.5f} best {hat_L:.5f} cols {len(new)} "
                        f"pool {len(self.pool.cols)}"
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
                    full = self._solve_program(set_partitioning(c[ok], P[:, ok], self.k,
                                                                relax=True))  # fmt: skip
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
                lb_g, centres = exact_pricing(items, a, mu, self.box_lo, self.box_hi, ptol,
                                              deadline=deadline)  # fmt: skip
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
            if (stuck and best_bound < self.ub * (1 - self.gap) and 0 < delta < M_dual
                    and self._time_left()):  # fmt: skip
                delta = min(4.0 * delta, M_dual)
                continue
            return best_bound, (P[:, ok], c[ok], A)

    def _final_bound(self, items, hat):
        """Certified bound at the stability centre within 0.5 s (the time limit has passed)."""
        if hat is None:
            return -np.inf
        pi, mu = hat[:-1], float(hat[-1])
        lb_g, _ = exact_pricing(items, items.s - pi, mu, self.box_lo, self.box_hi, 0.0,
                                deadline=time.perf_counter() + 0.5, find=False)  # fmt: skip
        return float(pi.sum() + self.k * lb_g)

    def _initial_dual(self, items, item_of, starts):
        """A stability centre from the incumbent: pi_i = ||x_i - c_j||^2 + rho / |C_j|."""
        if self.best is None:
            return None, -np.inf
        lab = self.best
        C = np.array([self.X[lab == j].mean(axis=0) for j in range(self.k)])
        size = np.bincount(lab, minlength=self.k)
        d2 = ((self.X - C[lab]) ** 2).sum(axis=1)
        rmax = max(float(d2.max()), 1e-12) * (size.max() + 1)
        best_d, best_L = None, -np.inf
        for rho in rmax * np.geomspace(1e-3, 1.0, 25):
            pi_pt = d2 + rho / size[lab]
            pi = np.bincount(item_of, weights=pi_pt, minlength=items.m)
            a = items.s - pi
            _, best = heuristic_columns(items, a, 0.0, starts, np.inf)
            L = float(pi.sum() + self.k * best)
            if L > best_L:
                best_d, best_L = np.append(pi, best), L
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
        item_of = _union_find(self.n, must)
        a = int(np.flatnonzero(item_of == ia)[0])
        b = int(np.flatnonzero(item_of == ib)[0])
        return a, b

    # ------------------------------------------------------------------ solve
    def solve(self) -> ExactResult:
        t0 = time.perf_counter()
        self.deadline = None if self.time_limit is None else t0 + self.time_limit
        item_of, items = self._items(self.must0, self.cannot0)
        if items is None:
            return ExactResult(None, np.inf, np.inf, "infeasible")
        # heuristic incumbent on the root items (exact for must-link; others get repaired)
        if not items.conflicts and not items.sized:
            lab, _, found = best_partition(items.M, items.w, self.k, self.n_init, self.rng)
            for f in found:
                self._add_labels(f[item_of])
            self._try_incumbent(lab[item_of])
        else:
            lab, _, found = best_partition(items.M, items.w, self.k, self.n_init, self.rng)
            for f in found:
                self._add_labels(f[item_of])
                fixed = repair(items.M, items.w, f, self.k, items.conflicts, self.lo, self.hi)
                if fixed is not None:
                    self._add_labels(fixed[item_of])
                    self._try_incumbent(fixed[item_of])
        for i in range(self.n):  # singletons keep every master LP meaningful
            col = np.zeros(self.n, bool)
            col[i] = True
            self.pool.add(col)
        if not np.isfinite(self.ub):
            self._master_milp(self.must0, self.cannot0)
        heap = [_Node(self.must0, self.cannot0, -np.inf)]
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
                if self.best is None or self._time_left():
                    self._master_milp(self.must0, self.cannot0)
            self.log.append((nodes, bound, self.ub, time.perf_counter() - t0))
            if self.verbose:
                print(f"node {nodes}: bound {bound:.6f} incumbent {self.ub:.6f} "
                      f"columns {len(self.pool.cols)} t={time.perf_counter() - t0:.2f}s")  # fmt: skip
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
            return ExactResult(None, np.inf, lb, status, nodes, len(self.pool.cols),
                               self.lp_solves, self.master, self.log)  # fmt: skip
        gap = (self.ub - lb) / max(1.0, abs(self.ub))
        status = "optimal" if gap <= self.gap + 1e-12 else "time_limit"
        return ExactResult(self._canon(self.best), self.ub, lb, status, nodes,
                           len(self.pool.cols), self.lp_solves, self.master, self.log)  # fmt: skip

    @staticmethod
    def _canon(labels):
        _, first = np.unique(labels, return_index=True)
        order = np.unique(labels)[np.argsort(first)]
        remap = {c: j for j, c in enumerate(order)}
        return np.array([remap[c] for c in labels])
