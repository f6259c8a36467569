r"""Sparse PCA from the d'Aspremont et al. (2007) SDP relaxation: a bound and a rounded support.

Registered as the special solver ``"sparse-pca-sdp"`` for structured problems of kind
``"sparse_pca"`` (``SparsePCA(method="sdp")``). The relaxation
(:func:`~optml.formulations.decomposition.sparse_pca_sdp`) is solved on the solve path with the
caller's settings (time left on the one clock, threads, seed, verbosity, raw options) on the
problem's ``sub_backend`` / ``sub_solver``; its bound is optml's Lagrangian bound from the
duals, tightened by :math:`\lambda_{\max}(S)`. The k largest entries of the leading
eigenvector of its solution give a feasible support, whose leading eigenvector is the answer.
"""

from __future__ import annotations

import time

import numpy as np

from optml.algorithms.pca_bnb import lmax
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import is_special, register_special
from optml.program.result import relative_gap
from optml.solve import solve_program


class SparsePCASDP(SpecialSolver):
    """The registered solver ``"sparse-pca-sdp"`` (kind ``"sparse_pca"``)."""

    name = "sparse-pca-sdp"
    kinds = ("sparse_pca",)
    problem_class = "SDP"
    description = "sparse PCA: SDP relaxation bound and a rounded support (not exact in general)"
    reference = "d'Aspremont, El Ghaoui, Jordan & Lanckriet (2007), SIAM Review 49(3)"

    is_mip = True  # a combinatorial problem: optimal within the user's mip_gap

    def solve(self, problem, settings) -> RawAnswer:
        settings = settings.started()
        t0 = time.perf_counter()
        S, k = problem.S, problem.n_nonzero
        sub = problem.sub_solver
        res = solve_program(
            problem.program,
            backend=problem.sub_backend or "auto",
            solver=None if sub is None or is_special(sub) else sub,
            settings=settings.for_internal(),
        )
        if not res.has_solution:
            return RawAnswer(
                status=res.status if res.status != "optimal" else "error",
                message=f"SDP relaxation: {res.backend}/{res.solver}: {res.message}",
                solve_time=time.perf_counter() - t0,
            )
        Z = res.values["Z"]
        _, V = np.linalg.eigh((Z + Z.T) / 2)
        supp = np.sort(np.argsort(-np.abs(V[:, -1]))[:k])
        lam, v = lmax(S, supp)
        comp = np.zeros(S.shape[0])
        comp[supp] = v * np.sign(v[np.abs(v).argmax()])
        ub = float(np.linalg.eigvalsh(S)[-1])
        if np.isfinite(res.bound):
            ub = min(ub, float(res.bound))
        target = self.gap_tolerance(settings)
        # a point and a bound that do not meet: "time_limit" if the clock ran out, else the
        # method (not exact) finished short of the gap: "feasible"
        if relative_gap(lam, ub) <= target:
            status = "optimal"
        else:
            status = "time_limit" if settings.expired() else "feasible"
        return RawAnswer(
            status=status,
            values=problem.point(comp),
            objective=lam,
            bound=ub,
            message=f"SDP relaxation by {res.backend}/{res.solver} ({res.status}), rounded",
            stats={"support": [int(i) for i in supp], "component": comp, "sdp_status": res.status},
            solve_time=time.perf_counter() - t0,
        )


register_special(SparsePCASDP(), module=__name__)
