r"""Certified sparse PCA: branch and bound over supports (after Berk & Bertsimas, 2019).

Registered as the special solver ``"pca-bnb"`` for structured problems of kind ``"sparse_pca"``
(:class:`~optml.formulations.decomposition.SparsePCAProblem`; its default solver).

A node fixes some variables in and some out; its bound is :math:`\lambda_{\max}` of the
covariance on the variables not fixed out (every k-support inside them has at most that
variance); a node with k variables in (or only k left) is a leaf, a feasible support. The
incumbent starts from greedy forward selection. Nodes whose bound is within the relative gap
``mip_gap`` of the incumbent are pruned (``mip_gap=None``: exact up to round-off,
:data:`ROUND_OFF`); the largest bound of any pruned or open node is the proven upper bound, so
the answer's gap is the one this pruning and the clock left. The clock is the settings' (one
deadline for the whole fit).
"""

from __future__ import annotations

import heapq
import time

import numpy as np

from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.program.result import relative_gap

#: relative pruning tolerance when no mip_gap is given (eigenvalue round-off)
ROUND_OFF = 1e-9


def lmax(S, idx):
    """Largest eigenvalue of ``S`` on the rows/columns ``idx``, and its eigenvector."""
    idx = np.asarray(idx)
    w, V = np.linalg.eigh(S[np.ix_(idx, idx)])
    return float(w[-1]), V[:, -1]


def branch_and_bound(S, k, deadline=None, gap=None):
    """Best k-support of ``S``: returns ``(support, value, upper bound, nodes, finished)``."""
    p = S.shape[0]
    if k >= p:  # no cardinality limit: the leading eigenvector, its eigenvalue the bound
        val = lmax(S, range(p))[0]
        return list(range(p)), val, val, 0, True
    tol = ROUND_OFF if gap is None else max(ROUND_OFF, float(gap))
    diag_order = list(np.argsort(-np.diag(S)))
    # incumbent: greedy forward selection
    supp = []
    for _ in range(k):
        best = max((j for j in range(p) if j not in supp), key=lambda j: lmax(S, supp + [j])[0])
        supp.append(best)
    best_val, best_supp = lmax(S, supp)[0], sorted(supp)
    root = lmax(S, range(p))[0]
    heap = [(-root, (), ())]
    nodes = 0
    pruned = -np.inf  # the largest bound of a pruned node
    finished = True

    def prune(b):
        return b <= best_val + tol * abs(best_val)

    while heap:
        negb, fin, fout = heapq.heappop(heap)
        if prune(-negb):
            pruned = max(pruned, -negb)
            continue
        if deadline is not None and time.perf_counter() > deadline:
            heapq.heappush(heap, (negb, fin, fout))
            finished = False
            break
        nodes += 1
        free = [j for j in diag_order if j not in fin and j not in fout]
        if len(fin) == k or len(fin) + len(free) == k:
            cand = sorted(list(fin) + (free if len(fin) < k else []))
            val = lmax(S, cand)[0]
            if val > best_val:
                best_val, best_supp = val, cand
            continue
        j = free[0]
        for child_in, child_out in ((fin + (j,), fout), (fin, fout + (j,))):
            keep = [i for i in range(p) if i not in child_out]
            if len(keep) < k:
                continue
            b = lmax(S, keep)[0]
            if len(child_in) == k:
                b = lmax(S, child_in)[0]
            if prune(b):
                pruned = max(pruned, b)
            else:
                heapq.heappush(heap, (-b, child_in, child_out))
    open_bound = max((-h[0] for h in heap), default=-np.inf)
    ub = max(best_val, open_bound, pruned)
    return np.array(best_supp), best_val, ub, nodes, finished and not heap


class SparsePCABranchAndBound(SpecialSolver):
    """The registered solver ``"pca-bnb"`` (kind ``"sparse_pca"``)."""

    name = "pca-bnb"
    kinds = ("sparse_pca",)
    problem_class = "SDP"
    description = (
        "sparse PCA (leading k-sparse component) by branch and bound over supports, "
        "eigenvalue bounds in numpy"
    )
    reference = "Berk & Bertsimas (2019), Math. Program. Comput. 11"

    is_mip = True  # optimal within the user's mip_gap, as a mixed-integer solver

    def solve(self, problem, settings) -> RawAnswer:
        settings = settings.started()
        t0 = time.perf_counter()
        S, k = problem.S, problem.n_nonzero
        supp, val, ub, nodes, finished = branch_and_bound(
            S, k, deadline=settings.deadline, gap=settings.mip_gap
        )
        lam, v = lmax(S, supp)
        comp = np.zeros(S.shape[0])
        comp[supp] = v * np.sign(v[np.abs(v).argmax()])
        gap = relative_gap(lam, ub)
        status = "optimal" if finished and gap <= self.gap_tolerance(settings) else "time_limit"
        return RawAnswer(
            status=status,
            values=problem.point(comp),
            objective=lam,
            bound=ub,
            message=f"{nodes} nodes",
            stats={"nodes": nodes, "support": [int(i) for i in supp], "component": comp},
            solve_time=time.perf_counter() - t0,
        )


register_special(SparsePCABranchAndBound(), module=__name__)
