r"""A certified working-set method for the L2 soft margin SVM, registered as the special solver
``"svm-working-set"``.

It solves :class:`~optml.formulations.classification.SVMProblem` (kind ``"svm"``, L2 penalty),
libsvm's primal

.. math:: \min_{w,b}\ \tfrac12\|w\|_2^2 + C\sum_i (1 - s_i(x_i^\top w + b))_+,

through relaxed QPs in which far-away samples contribute their hinge's linear piece (summed
into one affine term) or nothing (:func:`~optml.formulations.classification.soft_margin_svm`
with ``linear=``/``drop=``). Both replacements are minorants of the hinge, so each relaxation's
certified bound is a bound on the full program; the loop stops when the relaxed solution has
margin :math:`\le 1` on the linear samples and :math:`\ge 1` on the dropped ones, i.e. when it
is optimal for the full program. The relaxed QPs are solved on the solve path (general solver
``problem.qp_backend``/``problem.qp_solver``, same clock and settings).
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np

from optml.algorithms.newton import huber_hinge_newton
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.classification import SVMProblem, soft_margin_svm, svm_objective

logger = logging.getLogger("optml")

__all__ = ["SVMWorkingSetSolver"]


def _solve_qp(prog, problem, settings):
    """One relaxed QP on the solve path; HiGHS' QP solver sometimes ends in 'Solve error' or
    an unverified answer: with automatic choice it is then re-solved once by Clarabel."""
    from optml.exceptions import SolverAccuracyWarning, SolverNotAvailableError
    from optml.solve import solve_program

    res = solve_program(prog, problem.qp_backend, problem.qp_solver, settings.for_internal())
    auto = problem.qp_backend == "auto" and problem.qp_solver is None
    if auto and res.backend == "highs" and (res.status == "error" or not res.verified):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SolverAccuracyWarning)
                res2 = solve_program(prog, "cvxpy", "clarabel", settings.for_internal())
        except SolverNotAvailableError:
            return res
        res2.message = (
            f"HiGHS ended with {res.status!r} ({res.message}); re-solved by Clarabel. "
            + res2.message
        ).strip()
        return res2
    return res


class SVMWorkingSetSolver(SpecialSolver):
    """Relaxed QPs over a growing working set of samples (see the module docstring)."""

    name = "svm-working-set"
    kinds = ("svm",)
    problem_class = "QP"
    description = (
        "L2 soft margin SVM: relaxed QPs over a growing set of samples near the margin, each "
        "a certified lower bound"
    )
    reference = "Joachims (1999), Making large-scale SVM learning practical (shrinking)"

    def accepts(self, problem) -> bool:
        return super().accepts(problem) and getattr(problem, "penalty", None) == "l2"

    def solve(self, problem: SVMProblem, settings) -> RawAnswer:
        from threadpoolctl import threadpool_limits

        settings = settings.started()
        t_start = time.perf_counter()
        X, s, C, tol = problem.X, problem.s, problem.C, float(problem.tol)
        n, p = X.shape
        # start: Newton on the Huberised hinge, a close smooth approximation
        with threadpool_limits(settings.threads or 1):
            w, b = huber_hinge_newton(X, s, C, h=0.05)
        r = s * (X @ w + b)
        # a valid bound on |b| keeps every relaxation bounded: any optimum has
        # 1/2||w||^2 <= U (the objective at the start point) and |b| <= max|x_i w| + 1
        upper = svm_objective(X, s, w, b, C)
        b_bound = float(np.linalg.norm(X, axis=1).max() * np.sqrt(2 * upper) + 1.0) * 1.01
        best = (upper, w, b)
        # initial working set: the samples whose margin is closest to 1
        size = min(n, max(2 * (p + 1), 50))
        work = np.abs(r - 1.0) <= 0.1
        work[np.argsort(np.abs(r - 1.0))[:size]] = True
        rounds, res, bad = 0, None, np.ones(n, bool)
        while True:
            rounds += 1
            lin = ~work & (r < 1.0)
            drop = ~work & ~lin
            prog = soft_margin_svm(X, s, C=C, penalty="l2", linear=lin, drop=drop, b_bound=b_bound)
            res = _solve_qp(prog, problem, settings)
            if not res.has_solution:
                break
            w, b = res.values["w"].ravel(), float(res.values["b"])
            r = s * (X @ w + b)
            f_full = svm_objective(X, s, w, b, C)
            if f_full < best[0]:
                best = (f_full, w, b)
            bad = (lin & (r > 1.0 + tol)) | (drop & (r < 1.0 - tol))
            if settings.verbose:
                logger.info(
                    "svm-working-set: round %d, %d samples exact, %d violators, objective %.10g",
                    rounds,
                    int(work.sum()),
                    int(bad.sum()),
                    f_full,
                )
            if not bad.any() or res.status != "optimal" or settings.expired():
                break
            # add the violators, plus the samples nearest the margin not yet in the set
            # (at most `step` of the most violated per round keeps the relaxations small)
            step = max(100, 2 * (p + 1))
            viol = np.where(bad, np.abs(r - 1.0), 0.0)
            order = np.argsort(-viol)[:step]
            work[order[viol[order] > 0]] = True
        done = res is not None and res.has_solution and not bad.any() and res.status == "optimal"
        if not done:  # stopped early: the best point seen
            w, b = best[1], best[2]
        bound = None
        if res is not None and np.isfinite(res.bound):
            bound = float(res.bound)  # the relaxation's certified bound bounds the full optimum
        status = "optimal" if done else ("time_limit" if res is not None else "error")
        if res is not None and res.status == "error" and not done:
            status = "error"
        return RawAnswer(
            status=status,
            values={"w": w, "b": np.array(b)},
            objective=svm_objective(X, s, w, b, C),
            bound=bound,
            message=f"working set: {rounds} relaxed QPs, {int(work.sum())} of {n} samples "
            f"with exact hinge; bound from the last relaxation ({res.backend}/{res.solver})",
            stats={"rounds": rounds, "working_set": int(work.sum())},
            kkt_residual=res.kkt_residual,
            solve_time=time.perf_counter() - t_start,
        )


register_special(SVMWorkingSetSolver(), module=__name__)
