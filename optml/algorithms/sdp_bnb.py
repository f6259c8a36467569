r"""Certified MSSC (k-means) by branch and bound on the Peng–Wei SDP (SOS-SDP style).

Registered as the special solver ``"sdp-bnb"`` for structured problems of kind ``"kmeans"``
(:class:`~optml.formulations.clustering.KMeansProblem`; ``KMeans(method="sdp")``).

Each node solves the Peng–Wei relaxation strengthened by violated pair and triangle
inequalities with the ADMM of :mod:`optml.algorithms.sdp_admm`; its bound is the *safe* bound
computed from the ADMM's multipliers (valid for any multipliers, so an inexact solve still
certifies), raised by a dual polishing with the cut set fixed
(:func:`~optml.algorithms.sdp_admm.polish_dual`: projected L-BFGS on the smoothed dual, from
the ADMM's multipliers; the ADMM's first-order dual lags its primal where the relaxation is
nearly tight) when the iterate's primal value passes the pruning level and when a node stops
unpruned. Nodes branch on the pair of items whose normalised SDP entry
:math:`\hat Z_{ab}/\sqrt{\hat Z_{aa}\hat Z_{bb}}` is nearest 1/2: must-link (the two items
merge into one weighted item) or cannot-link (:math:`\hat Z_{ab} = 0`); both children are
warm-started from the parent (its iterates, merged over the two items for the must-link child,
and its cuts with their multipliers). Incumbents: k-means++ /
Lloyd / Hartigan restarts at the root, and at every node the SDP solution rounded (weighted
k-means on its spectral embedding, then Hartigan moves in the data space). User must-links
merge points at the root, user cannot-links are every node's cannot-links, ``sample_weight``
weighs items (a point of weight w counts as w copies). Cluster sizes (``min_size`` /
``max_size``, counted in points) bound the SDP's diagonal when the points are unweighted (an item
of :math:`s_a` points has :math:`\hat Z_{aa} = s_a/|C|`); with ``sample_weight`` the relaxation
leaves them out (still a valid bound: the sizes only shrink the feasible set) and the branching
enforces them. Incumbents are repaired to the sizes by greedy moves.

Reference: V. Piccialli, A. M. Sudoso, A. Wiegele (2022). SOS-SDP: an exact solver for minimum
sum-of-squares clustering. INFORMS J. Comput. 34(4).
"""

from __future__ import annotations

import heapq
import logging
import time

import numpy as np

from optml.algorithms.mssc_heuristics import (
    best_partition,
    best_sized_partition,
    centres,
    constrained_lloyd,
    hartigan,
    kmeans_pp,
    lloyd,
    repair,
)
from optml.algorithms.sdp_admm import Cuts, PengWeiADMM, solve_node
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.clustering import must_link_groups

logger = logging.getLogger("optml")

#: memory for the warm starts kept with open nodes
_STATE_BYTES = 1.5e9
#: above this many root items the root's ADMM starts at the incumbent's partition matrix
#: (rank k) instead of the uniform start (rank m, whose first X steps need full
#: eigendecompositions: seconds at m = 2000, minutes at m = 8000)
INCUMBENT_START_ABOVE = 2000


def _canon(labels):
    _, first = np.unique(labels, return_index=True)
    order = np.unique(labels)[np.argsort(first)]
    remap = {c: j for j, c in enumerate(order)}
    return np.array([remap[c] for c in labels])


def _merge_state(adm, a, b):
    r"""The warm start of the must-link child (items ``a`` and ``b`` merged): the parent's
    iterates averaged over the merged item in :math:`\tilde Z` units (exact on every partition
    matrix that joins them), its cuts renumbered (those that collapse dropped) with their
    multipliers."""
    m, s = adm.m, adm.s
    new = np.arange(m)
    new[b] = a
    new = np.unique(new, return_inverse=True)[1]
    m2 = m - 1
    s2 = np.bincount(new, weights=s, minlength=m2)
    r, r2 = np.sqrt(s), np.sqrt(s2)
    wa, wb = s[a] / (s[a] + s[b]), s[b] / (s[a] + s[b])

    def agg(Y):
        # A Zt A^T for the aggregation A (row a of A: s_a, s_b over their sum; the others
        # unit rows): rows a and b averaged, then columns, b dropped (O(m^2), not O(m^3))
        Zt = Y / np.outer(r, r)
        Zt[a] = wa * Zt[a] + wb * Zt[b]
        Zt[:, a] = wa * Zt[:, a] + wb * Zt[:, b]
        Zt = np.delete(np.delete(Zt, b, axis=0), b, axis=1)
        return np.outer(r2, r2) * Zt

    state = {k: agg(adm.state()[k]) for k in ("X", "U", "Lam")}
    state["rho"] = adm.rho
    seen, triples, gam = set(), [], []
    for (x, y, z), g in zip(adm.cuts.triples, adm.gam, strict=True):
        x2, y2 = new[x], new[y]
        z2 = new[z] if z >= 0 else -1
        if x2 == y2 or (z >= 0 and (z2 == x2 or z2 == y2)):
            continue
        t = (int(x2), int(y2), int(z2)) if z < 0 else (int(x2), *sorted((int(y2), int(z2))))
        if t not in seen:
            seen.add(t)
            triples.append(t)
            gam.append(g)
    state["gam"] = np.asarray(gam, float)
    return state, triples


class _Node:
    __slots__ = ("group", "cannot", "bound", "state", "depth", "cuts")

    def __init__(self, group, cannot, bound, state=None, depth=0, cuts=None):
        self.group, self.cannot, self.bound = group, cannot, bound
        self.state, self.depth, self.cuts = state, depth, cuts

    def __lt__(self, other):
        return self.bound < other.bound


class SDPBranchAndBound:
    """One solve of a :class:`KMeansProblem` under started settings; ``solve()`` returns
    ``(labels or None, objective, bound, status, stats)``."""

    def __init__(self, problem, settings, max_nodes=100_000, cut_rounds=60, polish=30):
        X = np.asarray(problem.X, float)
        n = X.shape[0]
        w = getattr(problem, "sample_weight", None)
        self.w = np.ones(n) if w is None else np.asarray(w, float)
        self.X = X - (self.w @ X) / self.w.sum()
        self.k = problem.n_clusters
        self.settings = settings
        self.max_nodes = max_nodes
        self.cut_rounds = cut_rounds
        #: evaluations of the dual polishing a node (:func:`~optml.algorithms.sdp_admm.polish_dual`)
        self.polish = int(polish)
        self.polish_evals = 0
        seed = problem.random_state if problem.random_state is not None else settings.seed
        self.rng = np.random.default_rng(seed)
        self.n_init = int(problem.n_init)
        # root items: user must-link groups
        self.item_of = must_link_groups(n, problem.must_link)
        m = self.item_of.max() + 1
        self.iw = np.bincount(self.item_of, weights=self.w, minlength=m)
        # cluster sizes count points: each root item's number of points
        self.icnt = np.bincount(self.item_of, minlength=m).astype(float)
        self.size_lo = int(problem.min_size) if problem.min_size else 1
        self.size_hi = int(problem.max_size) if problem.max_size else np.inf
        self.sized = self.size_lo > 1 or np.isfinite(self.size_hi)
        # the sizes bound the SDP's diagonal when an item's weight is its number of points
        self.diag_sizes = self.sized and w is None
        S = np.zeros((m, X.shape[1]))
        np.add.at(S, self.item_of, self.w[:, None] * self.X)
        self.IM = S / self.iw[:, None]
        self.scatter = float((self.w * ((self.X - self.IM[self.item_of]) ** 2).sum(axis=1)).sum())
        self.user_cannot = {
            (min(a, b), max(a, b))
            for a, b in ((self.item_of[i], self.item_of[j]) for i, j in problem.cannot_link)
        }
        self.best_labels, self.ub = None, np.inf
        self.nodes = 0
        self.admm_iters = 0
        # seconds of the last exact X step (the deadline guards a node's first steps with it)
        self.t_step = 0.0
        self.gap_tol = 1e-4

    # ----------------------------------------------------------------- incumbents
    def _cost(self, lab):
        """MSSC cost of a labelling of root items (weights, within-item scatter included)."""
        k, M, w = self.k, self.IM, self.iw
        W = np.bincount(lab, weights=w, minlength=k)
        if (W <= 0).any():
            return np.inf
        if self.sized:
            size = np.bincount(lab, weights=self.icnt, minlength=k)
            if size.min() < self.size_lo or size.max() > self.size_hi:
                return np.inf
        Sm = np.zeros((k, M.shape[1]))
        np.add.at(Sm, lab, w[:, None] * M)
        sq = np.bincount(lab, weights=w * (M * M).sum(axis=1), minlength=k)
        return float(np.maximum(sq - (Sm * Sm).sum(axis=1) / W, 0.0).sum()) + self.scatter

    def _offer(self, lab):
        """Polish a labelling of root items (Hartigan; under sizes constrained Lloyd from its
        centres; cannot-link repair) and keep it if best."""
        lab = np.asarray(lab)
        if self.sized:
            if len(np.unique(lab)) < self.k:
                return
            lab = constrained_lloyd(
                self.IM,
                self.iw,
                centres(self.IM, self.iw, lab, self.k),
                self.size_lo,
                self.size_hi,
                self.icnt,
                deadline=self._deadline(),
            )
            if lab is None:
                return
        else:
            lab = hartigan(self.IM, self.iw, lab, self.k)
        if self.sized or (self.user_cannot and any(lab[a] == lab[b] for a, b in self.user_cannot)):
            lo, hi = (self.size_lo, self.size_hi) if self.sized else (0, np.inf)
            lab = repair(
                self.IM, self.iw, lab, self.k, list(self.user_cannot), lo, hi, cnt=self.icnt
            )
            if lab is None:
                return
        if len(np.unique(lab)) < self.k:
            return
        c = self._cost(lab)
        if c < self.ub - 1e-12 * max(1.0, abs(c)):
            self.ub, self.best_labels = c, _canon(lab)

    def _round(self, adm, group):
        """Round a node's SDP solution: weighted k-means on the rows of its spectral factor."""
        if adm.vecs is None:
            return
        r = np.sqrt(adm.s)
        F = np.column_stack([adm.u, adm.vecs * np.sqrt(adm.vals)]) / r[:, None]
        for _ in range(3):
            if self.settings.expired():  # the incumbent search never runs past the limit
                return
            lab = lloyd(F, adm.s, kmeans_pp(F, adm.s, self.k, self.rng))
            if len(np.unique(lab)) == self.k:
                self._offer(lab[group])

    def _partition_state(self, lab):
        """The root's ADMM start at the incumbent's partition matrix (scaled): rank k, so the
        first X steps need only the top eigenpairs (the default start, uniform on u^perp, has
        rank m: full eigendecompositions, minutes each at m = 8000)."""
        r = np.sqrt(self.iw)
        W = np.bincount(lab, weights=self.iw, minlength=self.k)
        V = np.zeros((r.size, self.k))
        V[np.arange(r.size), lab] = r / np.sqrt(W[lab])
        Z = V @ V.T
        return {"X": Z, "U": Z.copy(), "Lam": np.zeros_like(Z), "rho": 1.0}

    # ----------------------------------------------------------------------- nodes
    def _node_data(self, node):
        g = node.group
        m = g.max() + 1
        s = np.bincount(g, weights=self.iw, minlength=m)
        S = np.zeros((m, self.IM.shape[1]))
        np.add.at(S, g, self.iw[:, None] * self.IM)
        M = S / s[:, None]
        inner = float((self.iw * ((self.IM - M[g]) ** 2).sum(axis=1)).sum())
        offset = float((s * (M * M).sum(axis=1)).sum()) + inner + self.scatter
        F = np.sqrt(s)[:, None] * M
        cannot = {(min(g[a], g[b]), max(g[a], g[b])) for a, b in node.cannot}
        cnt = np.bincount(g, weights=self.icnt, minlength=m)
        return F @ F.T, s, offset, sorted(cannot), cnt

    def _deadline(self):
        rem = self.settings.remaining()
        return None if rem is None else time.perf_counter() + rem

    def _prune_at(self):
        # a hundredth of the tolerance spare (1e-6 relative at the default 1e-4): the
        # certificate recomputes the objective from the data, whose round-off (about 1e-13
        # relative) lies far below that; the bound itself is the safe bound
        return self.ub - self.gap_tol * 0.99 * max(1.0, abs(self.ub))

    def _process(self, node, root=False):
        G, s, offset, cannot, cnt = self._node_data(node)
        m = s.size
        if m < self.k or cnt.max() > self.size_hi:
            return np.inf, None
        if m == self.k:  # one partition left: every item alone (inf if its sizes are not met)
            lab = np.arange(m)[node.group]
            c = self._cost(lab)
            if c < self.ub:
                self.ub, self.best_labels = c, _canon(lab)
            return c, None
        # the parent's state and cuts (with their multipliers, in the same order) warm-start
        cuts = Cuts(s, node.cuts) if node.cuts is not None else None
        diag = None
        if self.diag_sizes:  # Zhat_aa = s_a / |C| (s: points), |C| in [size_lo, size_hi]
            diag = (s / self.size_hi, s / self.size_lo if self.size_lo > 1 else np.inf)
        adm = PengWeiADMM(
            G,
            s,
            self.k,
            cannot,
            scale=max(np.trace(G), 1e-300),
            cuts=cuts,
            state=node.state,
            diag=diag,
        )
        bound, info = solve_node(
            adm,
            offset,
            self.ub,
            self._prune_at(),
            self._deadline(),
            self.rng,
            max_iter=4000 if root else 1500,
            cut_rounds=self.cut_rounds if root else min(self.cut_rounds, 30),
            log=logger.debug,
            polish=self.polish,
            t_step=self.t_step,
        )
        self.t_step = adm.t_exact or self.t_step
        self.admm_iters += info["iters"]
        self.polish_evals += info["polish"]
        self._round(adm, node.group)
        return bound, adm

    def _branch_pair(self, adm, cannot):
        X = adm.X
        d = np.sqrt(np.maximum(np.diag(X), 1e-300))
        R = X / np.outer(d, d)
        score = -np.abs(R - 0.5)
        score[np.tril_indices(adm.m)] = -np.inf
        score[cannot] = -np.inf
        f = int(np.argmax(score))
        if not np.isfinite(score.flat[f]):
            return None
        return f // adm.m, f % adm.m

    # ----------------------------------------------------------------------- solve
    def solve(self):
        k, m0 = self.k, self.iw.size
        # the restarts take at most a seventh of the time left (at least one runs): the SDP
        # rounding keeps offering incumbents at every node
        left = self.settings.remaining()
        stop = None if left is None else time.perf_counter() + left / 7.0
        if self.sized:
            lab, _, _ = best_sized_partition(
                self.IM,
                self.iw,
                k,
                self.size_lo,
                self.size_hi,
                self.icnt,
                self.n_init,
                self.rng,
                stop,
            )
        else:
            lab, _, _ = best_partition(self.IM, self.iw, k, self.n_init, self.rng, stop)
        if lab is not None:
            self._offer(lab)
        # 0 bounds every clustering's cost before any SDP bound is computed
        root = _Node(np.arange(m0), frozenset(self.user_cannot), 0.0)
        if m0 > INCUMBENT_START_ABOVE and self.best_labels is not None:
            root.state = self._partition_state(self.best_labels)
        heap = [root]
        closed_min = np.inf  # least bound of the nodes closed (pruned or solved)
        status = "optimal"
        while heap:
            if self.settings.remaining() is not None and self.settings.remaining() <= 0:
                status = "time_limit"
                break
            if self.nodes >= self.max_nodes:
                status = "time_limit"
                break
            node = heapq.heappop(heap)
            if node.bound >= self._prune_at():
                closed_min = min(closed_min, node.bound)
                continue
            self.nodes += 1
            bound, adm = self._process(node, root=self.nodes == 1)
            bound = max(bound, node.bound)
            logger.info(
                "sdp-bnb node %d (depth %d, %d open): bound %.6g, incumbent %.6g",
                self.nodes,
                node.depth,
                len(heap),
                bound,
                self.ub,
            )
            if adm is None or bound >= self._prune_at():
                closed_min = min(closed_min, bound)
                continue
            if self.settings.remaining() is not None and self.settings.remaining() <= 0:
                heapq.heappush(heap, _Node(node.group, node.cannot, bound))
                status = "time_limit"
                break
            pair = self._branch_pair(adm, adm.cannot)
            if pair is None:
                closed_min = min(closed_min, bound)
                continue
            a, b = pair
            ra = int(np.flatnonzero(node.group == a)[0])
            rb = int(np.flatnonzero(node.group == b)[0])
            # warm starts (three m x m iterates a node) while the open nodes' states fit
            # in _STATE_BYTES; past that a child starts from its parent's cuts only
            warm = (len(heap) + 2) * 24 * adm.m**2 <= _STATE_BYTES
            # cannot-link child: same items, the parent's iterates and cuts
            cannot_child = _Node(
                node.group,
                node.cannot | {(min(ra, rb), max(ra, rb))},
                bound,
                state=adm.state() if warm else None,
                depth=node.depth + 1,
                cuts=[tuple(t) for t in adm.cuts.triples],
            )
            merged = np.where(node.group == b, a, node.group)
            merged = np.unique(merged, return_inverse=True)[1]
            state, triples = _merge_state(adm, a, b)
            if not warm:
                state = None
            must_child = _Node(
                merged, node.cannot, bound, state=state, depth=node.depth + 1, cuts=triples
            )
            heapq.heappush(heap, must_child)
            heapq.heappush(heap, cannot_child)
        open_min = min((nd.bound for nd in heap), default=np.inf)
        glob = min(closed_min, open_min, self.ub)
        if status == "optimal" and heap:
            status = "time_limit"
        labels = None if self.best_labels is None else _canon(self.best_labels[self.item_of])
        return labels, self.ub, glob, status


class SDPBranchAndBoundSolver(SpecialSolver):
    """The registered solver ``"sdp-bnb"`` (kind ``"kmeans"``: links, weights and sizes)."""

    name = "sdp-bnb"
    kinds = ("kmeans",)
    problem_class = "SDP"
    description = (
        "k-means (MSSC) to certified optimality: branch and bound on the Peng-Wei SDP with "
        "pair/triangle cuts, solved by ADMM, safe bound from the multipliers"
    )
    reference = "Piccialli, Sudoso & Wiegele (2022), INFORMS J. Comput.; Peng & Wei (2007)"

    is_mip = True  # optimal within the user's mip_gap, as a mixed-integer solver

    def solve(self, problem, settings) -> RawAnswer:
        from threadpoolctl import threadpool_limits

        settings = settings.started()
        t0 = time.perf_counter()
        bb = SDPBranchAndBound(problem, settings)
        bb.gap_tol = self.gap_tolerance(settings)
        threads = settings.threads if getattr(settings, "threads", None) else 1
        # one BLAS thread unless asked: OpenBLAS threads spinning on a shared machine make a
        # 150 x 150 eigendecomposition 10-60 times slower
        with threadpool_limits(limits=int(threads), user_api="blas"):
            labels, ub, bound, status = bb.solve()
        wall = time.perf_counter() - t0
        stats = {
            "nodes": bb.nodes,
            "admm_iterations": bb.admm_iters,
            "polish_evaluations": bb.polish_evals,
        }
        msg = f"{bb.nodes} nodes, {bb.admm_iters} ADMM iterations"
        if labels is None:
            return RawAnswer(
                status="time_limit" if status == "time_limit" else "error",
                message="no feasible clustering found; " + msg,
                stats=stats,
                solve_time=wall,
            )
        return RawAnswer(
            status=status,
            values=problem.point(labels),
            objective=float(ub),
            bound=float(bound),
            message=msg,
            stats=stats,
            solve_time=wall,
        )


register_special(SDPBranchAndBoundSolver(), module=__name__)
