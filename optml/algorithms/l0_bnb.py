r"""Best subset selection by a specialised branch and bound (after L0BnB, Hazimeh, Mazumder
and Saab 2022).

Registered as the special solver ``"l0-bnb"`` for structured problems of kind
``"best_subset"`` (:class:`~optml.formulations.subset.BestSubsetProblem`).

A node fixes some features in (:math:`F_1`) and some out (:math:`F_0`). Its bound is the
perspective relaxation with those fixings,

.. math::

    \min_{\beta,\ s}\ \beta^\top A\beta - 2c^\top\beta + y^\top y
    + \bar\alpha\sum_j \beta_j^2/s_j
    \quad\text{s.t.}\quad \sum_j s_j \le k,\ s_{F_1} = 1,\ s_{F_0} = 0,\ 0 \le s \le 1,

(:math:`A = X_c^\top X_c - \delta I \succeq 0`, :math:`\bar\alpha = \alpha + \delta`; with a box
:math:`lo \le \beta \le hi` the boxed version), solved through its Lagrangian dual over the
cardinality multiplier :math:`\lambda`
(:class:`~optml.algorithms.best_subset_l0.CardinalityLagrangian`): the penalised relaxation at
:math:`\lambda` by an active-set accelerated proximal gradient with Newton steps on the
pattern, warm-started from the parent's point, working set and multiplier, the features
outside the working set checked at once by their optimality condition. The number reported is
always the **dual bound** of the last point, a certified lower bound however inexact the
inner solve (:mod:`optml.algorithms.best_subset_bounds`). Each node also

* rounds its relaxation (the k largest :math:`s_j`) to a support and fits it (incumbents);
* screens: from its dual point, a feature whose entry (exit) lifts the bound above the
  incumbent is fixed out (in) for the whole subtree (Atamtürk and Gómez 2020 use the same
  reduced-cost argument for safe screening);
* branches on the most fractional :math:`s_j`, best bound first.

The penalised form (``problem.l0 > 0``: :math:`\lambda_0\|\beta\|_0` instead of the
cardinality, optionally with a box) runs the search of
:mod:`optml.algorithms.best_subset_l0` (penalised perspective relaxations by active-set
coordinate descent, their dual bounds and screening).

The incumbent starts from the heuristics (discrete first-order method, forward selection,
swaps). The proven bound is the least bound of any open node or of a node pruned within the
gap tolerance; the clock is the settings' (one deadline for the whole fit).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time

import numpy as np

from optml.algorithms.best_subset_oa import start_phase
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.regression import LazyGram
from optml.program.result import relative_gap

logger = logging.getLogger("optml")


def blas_threads(threads=None):
    """BLAS threads for the small dense solves of the search: ``threads`` (the settings'), one
    by default (a thread pool on a busy machine costs far more than it gives: a 250 x 250
    solve took 0.36 s with two OpenBLAS threads on a loaded 2-core machine, 1 ms with one)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(int(threads or 1), user_api="blas")


def _fixings(bounds, beta, fin, fout, upper, margin):
    """Features to fix out / in at a node from its dual point ``beta`` (see the module
    docstring): ``(out, in)`` lists."""
    const, h = bounds.cut(beta)
    k = bounds.k
    h = h.copy()
    base_in = const + float(h[list(fin)].sum()) if fin else const
    h[list(fin)] = np.inf
    if fout:
        h[list(fout)] = np.inf
    r = k - len(fin)
    if r <= 0:
        free = np.flatnonzero(np.isfinite(h))
        return [int(j) for j in free], []  # full: nothing else can enter
    neg = np.flatnonzero(h < 0)
    order = neg[np.argsort(h[neg])]
    top = order[:r]
    base = base_in + float(h[top].sum())
    kth = h[top[-1]] if top.size == r else 0.0
    nxt = h[order[r]] if order.size > r else 0.0
    in_top = np.zeros(h.size, bool)
    in_top[top] = True
    free = np.isfinite(h)
    forced_in = np.where(in_top, base, base - min(kth, 0.0) + np.where(free, h, 0.0))
    forced_out = np.where(in_top, base - h + min(nxt, 0.0), base)
    out = np.flatnonzero(free & (forced_in > upper + margin))
    inn = np.flatnonzero(free & in_top & (forced_out > upper + margin))
    return [int(j) for j in out], [int(j) for j in inn]


class L0BranchAndBound(SpecialSolver):
    name = "l0-bnb"
    kinds = ("best_subset",)
    problem_class = "MIQP"
    is_mip = True
    description = (
        "best subset by branch and bound: perspective relaxations (Lagrangian over the "
        "cardinality multiplier, active-set proximal gradient and Newton), certified dual bound "
        "per node, safe screening"
    )
    reference = (
        "Hazimeh, Mazumder and Saab (2022), Sparse regression at scale: branch-and-bound "
        "rooted in first-order optimization, Math. Program. 196"
    )

    def solve(self, problem, settings) -> RawAnswer:
        from optml.solve import special_settings_check

        special_settings_check(settings, self.name)
        with blas_threads(settings.threads):
            return self._solve(problem, settings)

    def _solve(self, problem, settings) -> RawAnswer:
        t0 = time.perf_counter()
        settings = settings.started(t0)
        tol = self.gap_tolerance(settings)
        if getattr(problem, "l0", 0.0) > 0:
            if problem.groups or problem.exclusive_pairs:
                return RawAnswer(
                    status="error",
                    values=problem.values(problem.start),
                    objective=problem.objective(problem.start),
                    message="the branch and bound takes no groups or exclusive pairs; use the MIQP",
                    solve_time=time.perf_counter() - t0,
                )
            from optml.algorithms.best_subset_l0 import solve_penalised

            return RawAnswer(**solve_penalised(problem, settings, tol, t0))
        heur, bounds, inc, root, fixed = start_phase(problem, settings, screen=False)
        root_time = time.perf_counter() - t0
        if root is None:
            return RawAnswer(
                status="error",
                values=problem.values(inc.beta),
                objective=inc.value,
                message=(
                    "the branch and bound needs alpha > 0, a nonsingular X'X or a box M (alpha "
                    "= 0 with more features than samples and no box leaves the perspective "
                    "relaxation void); use the MIQP (method='mip')"
                ),
                solve_time=time.perf_counter() - t0,
            )
        if problem.groups or problem.exclusive_pairs:
            return RawAnswer(
                status="error",
                values=problem.values(inc.beta),
                objective=inc.value,
                message="the branch and bound takes no groups or exclusive pairs; use the MIQP",
                solve_time=time.perf_counter() - t0,
            )
        k = problem.k
        counter = itertools.count()
        D0, beta0, s0, T0, lam0 = root
        lagr = bounds.lagrangian
        # node: (bound, tiebreak, fixed_in, fixed_out, T, s, beta, multiplier)
        heap = [(D0, next(counter), (), frozenset(), T0, s0, beta0, lam0)]
        pruned = np.inf  # least bound of a node pruned within the tolerance
        nodes = 0
        finished = True
        screened = 0

        def prunable(b):
            return relative_gap(inc.value, b) <= tol or b >= inc.value

        while heap:
            b, _, fin, fout, T, s, beta, lam = heapq.heappop(heap)
            if prunable(b):
                pruned = min(pruned, b)
                continue
            if settings.expired():
                heapq.heappush(heap, (b, next(counter), fin, fout, T, s, beta, lam))
                finished = False
                break
            nodes += 1
            if nodes > 1:  # the root's relaxation is already solved
                parent = b
                b, beta, s, T, lam = lagr.relaxation(
                    fin,
                    fout,
                    T0=T,
                    beta0=beta,
                    lam0=lam,
                    upper=inc.value,
                    prune_gap=tol,
                    deadline=settings.deadline,
                )
                if settings.expired():  # cut short: back with its parent's bound
                    heapq.heappush(heap, (parent, next(counter), fin, fout, T, s, beta, lam))
                    finished = False
                    break
                b = max(b, parent)  # the parent's bound holds for the child
                if prunable(b):
                    pruned = min(pruned, b)
                    continue
            # incumbent from the relaxation: the k largest s (fixed-in first)
            order = [T[i] for i in np.argsort(-s)]
            S = list(dict.fromkeys(list(fin) + [j for j in order if j not in fout]))[:k]
            inc.offer(*bounds.support_value(S))
            if prunable(b):
                pruned = min(pruned, b)
                continue
            margin = 1e-9 * max(1.0, abs(inc.value))
            out, inn = _fixings(bounds, beta, fin, fout, inc.value, margin)
            if out or inn:
                screened += len(out) + len(inn)
                fout = fout | frozenset(out)
                fin = tuple(sorted(set(fin) | set(inn)))
                if len(fin) > k:
                    pruned = min(pruned, inc.value)
                    continue
            if len(fin) == k or len(fin) + (problem.p - len(fin) - len(fout)) <= k:
                free = [j for j in range(problem.p) if j not in fout and j not in fin]
                inc.offer(*bounds.support_value(list(fin) + free[: k - len(fin)]))
                continue  # a leaf: its best support is evaluated exactly
            # branch on the most fractional s (free, in T)
            Tarr = np.asarray(T)
            free_T = np.array([j not in fin and j not in fout for j in T])
            if not free_T.any():
                continue
            frac = np.where(free_T, np.minimum(s, 1.0 - s), -1.0)
            i = int(np.argmax(frac))
            if frac[i] <= 1e-6:  # integral relaxation: its rounding was evaluated above
                i = int(np.argmax(np.where(free_T, s, -1.0)))
                if bounds.support_value(S)[1] <= b * (1 + 1e-9) + 1e-12:
                    pruned = min(pruned, b)
                    continue
            j = int(Tarr[i])
            heapq.heappush(
                heap, (b, next(counter), tuple(sorted(fin + (j,))), fout, T, s, beta, lam)
            )
            heapq.heappush(heap, (b, next(counter), fin, fout | {j}, T, s, beta, lam))
        open_min = min((nd[0] for nd in heap), default=np.inf)
        lower = max(0.0, min(pruned, open_min, inc.value))  # F is a sum of squares
        gap = relative_gap(inc.value, lower)
        status = "optimal" if gap <= tol else ("time_limit" if not finished else "optimal")
        stats = {
            "nodes": nodes,
            "open": len(heap),
            "delta": bounds.delta,
            "root_bound": D0,
            "screened": screened,
            "support_fits": bounds.fits,
            "relaxations": lagr.evals,
            "root_time": root_time,
        }
        if isinstance(problem.gram.G, LazyGram):  # X'X not formed: products with X_c
            stats["lazy_gram_products"] = problem.gram.G.products
        return RawAnswer(
            status=status,
            values=problem.values(inc.beta),
            objective=inc.value,
            bound=lower,
            message="" if finished else "time limit: open nodes remain",
            stats=stats,
            solve_time=time.perf_counter() - t0,
        )


register_special(L0BranchAndBound(), module=__name__)
