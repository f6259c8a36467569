r"""Multinomial logistic regression with a shared feature budget, by outer approximation.

The softmax loss :math:`L_i(z) = \log\sum_k e^{z_k} - z_{y_i}` is convex, so its tangent
planes under-estimate it: the MILP of
:func:`~optml.formulations.logistic.sparse_multinomial_logistic_regression` (``"outer"``) is a
relaxation of the exact MIEXP and its bound is valid. Each round solves the MILP on the solve
path (the estimator's backend / solver, the time left of one clock), refits the support it
chose exactly (softmax Newton / L-BFGS-B, :mod:`optml.algorithms.newton`), keeps the better
incumbent and adds tangent planes at both points, until the incumbent's exact objective and
the best bound meet (``mip_gap``, 1e-4 by default) or the time runs out (Kelley 1960; the
binary case is Sato et al. 2016, :mod:`optml.algorithms.sparse_logistic_oa`).
"""

from __future__ import annotations

import time

import numpy as np

from optml.algorithms import newton
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import is_special, register_special
from optml.formulations.logistic import (
    multinomial_objective,
    sparse_multinomial_logistic_regression,
)
from optml.program import relative_gap
from optml.solve import solve_program

__all__ = ["SparseMultinomialOA", "multinomial_refit"]


def multinomial_refit(X, yi, K, support, C, penalty, deadline=None):
    """Exact multinomial fit restricted to the features ``support``:
    ``(W (K, p) full width, b (K,), objective)``."""
    support = np.asarray(support, dtype=int)
    W = np.zeros((K, X.shape[1]))
    Xs = X[:, support]
    if penalty == "l1" and support.size:
        Ws, b, _ = newton.multinomial_lbfgsb_l1(Xs, yi, K, C, deadline=deadline)
    else:
        Ws, b, _ = newton.multinomial_newton(
            Xs, yi, K, C, penalty if support.size else "l2", deadline=deadline
        )
    W[:, support] = Ws
    return W, b, multinomial_objective(X, yi, W, b, C, penalty)


class SparseMultinomialOA(SpecialSolver):
    """The registered solver ``"sparse-multinomial-oa"`` (kind ``"sparse_multinomial"``)."""

    name = "sparse-multinomial-oa"
    kinds = ("sparse_multinomial",)
    problem_class = "MIEXP"
    is_mip = True
    description = (
        "multinomial logistic regression with a feature budget shared by the classes: "
        "tangent-plane MILPs (relaxations, valid bounds) and exact refits of their supports"
    )
    reference = "Kelley (1960); Sato, Takano, Miyashiro & Yoshise (2016)"

    def solve(self, problem, settings) -> RawAnswer:
        settings = settings.started()
        t0 = time.perf_counter()
        X, yi, K, k = problem.X, problem.yi, problem.n_classes, problem.k
        C, pen, mw, mb = problem.C, problem.penalty, problem.mw, problem.mb
        W_best, b_best = problem.start
        upper = problem.upper
        p = X.shape[1]
        Y = np.eye(K)[yi]
        points = [c * (Y - 1.0 / K) for c in np.linspace(-6.0, 6.0, 7)]
        points.append(X @ W_best.T + b_best)
        wpts = [c * mw * np.ones((K, p)) for c in np.linspace(-1.0, 1.0, 5)] + [W_best]
        target = self.gap_tolerance(settings)
        sub = problem.sub_solver
        lower, rounds, last = -np.inf, 0, None
        for rounds in range(1, int(problem.max_rounds) + 1):  # noqa: B007
            prog = sparse_multinomial_logistic_regression(
                X, yi, K, k, C, pen, mw, mb, "outer", points=points, w_points=wpts
            )
            res = solve_program(
                prog,
                backend=problem.sub_backend,
                solver=None if sub is None or is_special(sub) else sub,
                settings=settings.for_internal(),
            )
            last = res
            if np.isfinite(res.bound):
                lower = max(lower, res.bound)
            if not res.has_solution:
                break  # out of time (or the solver failed) inside a round: keep what we have
            Wm = np.asarray(res.values["W"], dtype=float).reshape(K, p)
            bm = np.asarray(res.values["b"], dtype=float).ravel()
            sup = np.flatnonzero(np.asarray(res.values["z"]).ravel() > 0.5)
            Wr, br, objr = multinomial_refit(X, yi, K, sup, C, pen, settings.deadline)
            if objr < upper:
                W_best, b_best, upper = Wr, br, objr
            if relative_gap(upper, lower) <= target or settings.expired():
                break
            points += [X @ Wm.T + bm, X @ Wr.T + br]
            wpts += [Wm, Wr]
        gap = relative_gap(upper, lower)
        if gap <= target:
            status = "optimal"
        elif (
            last is not None
            and not last.has_solution
            and last.status not in ("time_limit", "interrupted")
        ):
            status = "error"
        else:
            status = "time_limit"
        sub_name = "" if last is None else f" ({last.backend}/{last.solver})"
        z = (np.abs(W_best) > 0).any(axis=0).astype(float)
        return RawAnswer(
            status=status,
            values={"W": W_best, "b": np.asarray(b_best, dtype=float), "z": z},
            objective=upper,
            bound=lower if np.isfinite(lower) else None,
            message=f"outer approximation: {rounds} MILP rounds{sub_name}; objective = exact "
            "objective of the refitted support, bound = MILP bound",
            stats={"rounds": rounds},
            solve_time=time.perf_counter() - t0,
        )


register_special(SparseMultinomialOA(), module=__name__)
