r"""Exact search for robust classification trees of depth 1 or 2 against L-inf feature
perturbations (Vos and Verwer, AAAI 2022).

Registered as the special solver ``"robust-tree-search"`` for structured problems of kind
``"robust_tree"`` (:class:`~optml.formulations.robust_tree.RobustTreeProblem`; its default
solver). It maximises the number of samples whose every reachable leaf predicts their label
(the program minimises the complement, the robust errors).

Thresholds: the reach pattern changes only at :math:`t = x_{ij} \pm \epsilon_j`, so one
threshold per interval between consecutive breakpoints covers every pattern; the problem's
``thresholds`` are those candidates (or a subset).

Depth 2: for a root split the samples fall in three groups, left only (A), right only (B) and
both (S, within :math:`\epsilon_j` of the threshold). A sample of S is correct only when both
subtrees pass it, so the best pair of subtrees maximises :math:`a_L + b_R + |S_L \cap S_R|`;
it is found by one matrix product over the distinct S-patterns of each side. A root is skipped
when the bound
:math:`\min(\max_L (a_L + |S_L|) + \max_R b_R,\ \max_L a_L + \max_R (b_R + |S_R|))`
cannot beat the incumbent. A finished search proves its tree optimal over the candidate
thresholds; at the time limit the incumbent is returned with the errors every classifier makes
(:func:`conflict_bound`: disjoint pairs of differently labelled samples whose balls meet) as
its bound.
"""

from __future__ import annotations

import bisect
import time

import numpy as np

from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special

__all__ = ["RobustTreeSearch", "search_robust_tree"]


class _Side:
    """Candidate subtrees of one side of the root over the samples that reach it."""

    def __init__(self, X, e, yi, K, T, root_j, root_t, left: bool):
        self.K = K
        # the split columns come in blocks of len(T[j]) thresholds, one per (j, a, b):
        # (first column, j, a, b, thresholds); a column is decoded only when it wins
        self._blocks = []
        nxt = K
        cols = [yi == c for c in range(K)]
        n, p = X.shape
        for j in range(p):
            Tj = T[j]
            RL = (X[:, j, None] - e[j]) <= Tj[None, :]
            RR = (X[:, j, None] + e[j]) > Tj[None, :]
            if j == root_j:  # a leaf of this side may be empty
                if left:
                    RR = RR & (Tj < root_t)[None, :]
                else:
                    RL = RL & (Tj > root_t)[None, :]
            for a in range(K):
                for b in range(K):
                    if a == b:
                        continue
                    P = (~RL | (yi == a)[:, None]) & (~RR | (yi == b)[:, None])
                    self._blocks.append((nxt, j, a, b, Tj))
                    nxt += len(Tj)
                    cols.append(P)
        self.P = np.column_stack(cols) if cols else np.zeros((n, 0), bool)

    def cand(self, i: int):
        """The candidate subtree of column ``i``: ``("leaf", c)`` or ``("split", j, t, a, b)``."""
        if i < self.K:
            return ("leaf", int(i))
        starts = [bl[0] for bl in self._blocks]
        first, j, a, b, Tj = self._blocks[bisect.bisect_right(starts, i) - 1]
        return ("split", j, float(Tj[i - first]), a, b)


def _distinct(score, S):
    """Columns with distinct S-patterns, the best score of each."""
    if S.shape[0] == 0:
        return np.array([int(np.argmax(score))])
    keys = np.packbits(S, axis=0)
    order = np.lexsort((-score,) + tuple(keys[::-1]))
    ks = keys[:, order]
    new = np.ones(order.size, bool)
    new[1:] = (ks[:, 1:] != ks[:, :-1]).any(axis=0)
    return order[new]


def _root(X, e, yi, K, T, j, t, best):
    rl = (X[:, j] - e[j]) <= t
    rr = (X[:, j] + e[j]) > t
    if not rl.any() or not rr.any():
        return best, False
    L = _Side(X[rl], e, yi[rl], K, T, j, t, True)
    R = _Side(X[rr], e, yi[rr], K, T, j, t, False)
    sL, sR = rr[rl], rl[rr]  # the samples of S, in each side's order
    aL = L.P[~sL].sum(axis=0)
    bR = R.P[~sR].sum(axis=0)
    SL, SR = L.P[sL], R.P[sR]
    ub = min((aL + SL.sum(axis=0)).max() + bR.max(), aL.max() + (bR + SR.sum(axis=0)).max())
    if ub <= best[0]:
        return best, True
    iL, iR = _distinct(aL, SL), _distinct(bR, SR)
    M = SL[:, iL].T.astype(np.float32) @ SR[:, iR].astype(np.float32)
    tot = aL[iL][:, None] + bR[iR][None, :] + M
    a, b = np.unravel_index(int(np.argmax(tot)), tot.shape)
    val = int(round(float(tot[a, b])))
    if val > best[0]:
        best = (val, ("root", j, t, L.cand(int(iL[a])), R.cand(int(iR[b]))))
    return best, False


def conflict_bound(X, e, yi, max_n=2000) -> int:
    """Errors every classifier makes: a greedy matching of pairs of samples with different
    labels whose balls meet (:math:`|x_i - x_j| \\le 2\\epsilon` in every feature); a point of
    the intersection gets one label, so each disjoint pair holds an error. 0 above ``max_n``
    samples (the pairs cost O(n^2 p))."""
    n = X.shape[0]
    if n > max_n:
        return 0
    free = np.ones(n, bool)
    count = 0
    for i in range(n):
        if not free[i]:
            continue
        cand = np.flatnonzero(free & (yi != yi[i]))
        if cand.size == 0:
            continue
        meet = (np.abs(X[cand] - X[i]) <= 2 * e).all(axis=1)
        if meet.any():
            free[i] = False
            free[cand[np.argmax(meet)]] = False
            count += 1
    return count


def search_robust_tree(X, e, yi, K, T, depth, deadline=None):
    """``(correct, candidate, upper_bound, finished, stats)``: the most robustly correct samples
    of a tree of depth ``depth`` over thresholds ``T``; ``candidate`` is a nested tuple
    (``("leaf", c)``, ``("split", j, t, a, b)`` or ``("root", j, t, left, right)``)."""
    n, p = X.shape
    counts = np.bincount(yi, minlength=K)
    best = (int(counts.max()), ("leaf", int(counts.argmax())))
    root = _Side(X, e, yi, K, T, -1, 0.0, True)  # depth-1 trees are its candidates
    scores = root.P.sum(axis=0)
    k = int(np.argmax(scores))
    if scores[k] > best[0]:
        best = (int(scores[k]), root.cand(k))
    finished, pruned, roots = True, 0, 0
    if depth == 2:
        for j in range(p):
            for t in T[j]:
                if deadline is not None and time.perf_counter() > deadline:
                    finished = False
                    break
                best, cut = _root(X, e, yi, K, T, j, float(t), best)
                pruned += cut
                roots += 1
            if not finished:
                break
    bound = best[0] if finished else n - conflict_bound(X, e, yi)
    return best[0], best[1], bound, finished, {"roots": roots, "roots_pruned": pruned}


def full_tree(problem, cand):
    """``(splits, leaf_class)`` of ``problem`` (a full tree, heap order) for a candidate."""
    S = problem.S

    def node(c, root=None, left=True):
        """(split index, (left class, right class)) of one internal node."""
        if c[0] == "leaf":
            return S, (c[1], c[1])
        _, j, t, a, b = c
        if root is not None and j == root[0] and (t >= root[1] if left else t <= root[1]):
            keep = a if left else b  # the outer leaf is empty: the node acts as a leaf
            return S, (keep, keep)
        return problem.index_of(j, t), (a, b)

    if problem.depth == 1:
        s, cls = node(cand)
        return [s], list(cls)
    if cand[0] == "leaf":
        return [S, S, S], [cand[1]] * 4
    if cand[0] == "split":
        _, j, t, a, b = cand
        return [problem.index_of(j, t), S, S], [a, a, b, b]
    _, j, t, cl, cr = cand
    s1, c1 = node(cl, (j, t), True)
    s2, c2 = node(cr, (j, t), False)
    return [problem.index_of(j, t), s1, s2], [*c1, *c2]


class RobustTreeSearch(SpecialSolver):
    """The registered solver ``"robust-tree-search"`` (kind ``"robust_tree"``)."""

    name = "robust-tree-search"
    kinds = ("robust_tree",)
    problem_class = "MILP"
    description = (
        "robust classification trees of depth 1-2 against L-inf perturbations: exhaustive "
        "search over threshold breakpoints with bounds, subtree pairs by a matrix product, numpy"
    )
    reference = (
        "Vos and Verwer (2022), Robust optimal classification trees against adversarial "
        "examples, AAAI"
    )
    is_mip = True

    def solve(self, problem, settings) -> RawAnswer:
        from optml.solve import special_settings_check

        special_settings_check(settings, self.name)
        settings = settings.started()
        t0 = time.perf_counter()
        n = problem.X.shape[0]
        correct, cand, ub, finished, stats = search_robust_tree(
            problem.X,
            problem.eps,
            problem.y,
            int(problem.n_classes),
            problem.thresholds,
            int(problem.depth),
            settings.deadline,
        )
        splits, leaf_class = full_tree(problem, cand)
        values = problem.values_of(splits, leaf_class)
        wall = time.perf_counter() - t0
        return RawAnswer(
            status="optimal" if finished else "time_limit",
            values=values,
            objective=float(n - correct),
            bound=float(n - ub),
            message="" if finished else "time limit: best tree so far, bound from meeting balls",
            stats=dict(stats, finished=finished),
            solve_time=wall,
        )


register_special(RobustTreeSearch(), module=__name__)
