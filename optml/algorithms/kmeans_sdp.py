r"""k-means with the Peng–Wei SDP bound: a heuristic partition and a semidefinite lower bound.

Registered as the special solver ``"peng-wei"`` for structured problems of kind ``"kmeans"``
(:class:`~optml.formulations.clustering.KMeansProblem`; ``KMeans(method="sdp")``). The
incumbent is the best of ``n_init`` k-means++ / Lloyd / Hartigan restarts; the bound is the
optimum of the Peng–Wei (2007) relaxation (:func:`~optml.formulations.clustering.peng_wei_sdp`),
solved on the solve path with the caller's settings (the time left on the one clock, threads,
seed, verbosity, raw options) on the problem's ``sub_backend`` / ``sub_solver`` ("auto": the
automatic SDP choice). Its bound is optml's Lagrangian bound from the SDP's duals, never the SDP
solver's claim. The relaxation is not exact (about 4 % on iris): ``"optimal"`` only when the
gap closes.
"""

from __future__ import annotations

import time

import numpy as np

from optml.algorithms.mssc_heuristics import best_partition
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import is_special, register_special
from optml.formulations.clustering import peng_wei_sdp
from optml.program.result import relative_gap
from optml.solve import solve_program


class PengWeiSolver(SpecialSolver):
    """The registered solver ``"peng-wei"`` (kind ``"kmeans"``, no links or sizes)."""

    name = "peng-wei"
    kinds = ("kmeans",)
    problem_class = "SDP"
    description = (
        "k-means: k-means++/Lloyd/Hartigan incumbent with the Peng-Wei SDP lower bound "
        "(not exact in general)"
    )
    reference = "Peng & Wei (2007), SIAM J. Optim. 18(1)"

    is_mip = True  # optimal within the user's mip_gap, as a mixed-integer solver

    def accepts(self, problem) -> bool:
        # the Peng-Wei bound here is unweighted: a weighted problem would get a wrong certificate
        return (
            super().accepts(problem)
            and getattr(problem, "sample_weight", None) is None
            and not (
                problem.must_link or problem.cannot_link or problem.min_size or problem.max_size
            )
        )

    def solve(self, problem, settings) -> RawAnswer:
        settings = settings.started()
        t0 = time.perf_counter()
        X = np.asarray(problem.X, dtype=float)
        seed = problem.random_state if problem.random_state is not None else settings.seed
        rng = np.random.default_rng(seed)
        Xc = X - X.mean(axis=0)
        k = problem.n_clusters
        left = settings.remaining()
        # the restarts take at most a fifth of the time left (at least one runs)
        stop = None if left is None else t0 + 0.2 * left
        lab, _, _ = best_partition(Xc, np.ones(X.shape[0]), k, int(problem.n_init), rng, stop)
        lab = _canon(lab)
        values = problem.point(lab)
        cost, _ = problem.evaluate(values)
        sub = problem.sub_solver
        res = solve_program(
            peng_wei_sdp(X, k),
            backend=problem.sub_backend or "auto",
            solver=None if sub is None or is_special(sub) else sub,
            settings=_sdp_settings(settings),
        )
        bound = res.bound if np.isfinite(res.bound) else None
        gap = relative_gap(cost, bound) if bound is not None else float("inf")
        target = self.gap_tolerance(settings)
        # a heuristic with a bound: "feasible" when they do not meet and the clock did not
        # stop it (R9: it used to say "time_limit" with no limit set)
        if res.status == "interrupted":  # Ctrl-C in the SDP: the caller stops (R2)
            status = "interrupted"
        elif gap <= target:
            status = "optimal"
        else:
            status = "time_limit" if settings.expired() else "feasible"
        return RawAnswer(
            status=status,
            values=values,
            objective=float(cost),
            bound=bound,
            message=(
                f"heuristic clustering with the Peng-Wei SDP bound ({res.backend}/{res.solver}: "
                f"{res.status})" + ("" if status == "optimal" else "; not certified optimal")
            ),
            stats={"sdp_status": res.status, "sdp_solver": res.solver, "sdp_bound": res.bound},
            solve_time=time.perf_counter() - t0,
        )


def _sdp_settings(settings):
    """The SDP's settings: four fifths of the time left, so that optml's certificate of its
    answer (an eigendecomposition per cone) fits in the rest of the limit."""
    inner = settings.for_internal()
    left = settings.remaining()
    if left is None:
        return inner
    share = max(0.05, 0.8 * left)
    return inner.replace(time_limit=share, deadline=time.perf_counter() + share)


def _canon(labels):
    _, first = np.unique(labels, return_index=True)
    order = np.unique(labels)[np.argsort(first)]
    remap = {c: j for j, c in enumerate(order)}
    return np.array([remap[c] for c in labels])


register_special(PengWeiSolver(), module=__name__)
