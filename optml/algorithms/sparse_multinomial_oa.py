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
from optml.algorithms._outer_approximation import outer_approximation
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.logistic import (
    multinomial_objective,
    sparse_multinomial_logistic_regression,
)

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
        best = {"W": W_best, "b": b_best, "upper": upper}

        def build():
            return sparse_multinomial_logistic_regression(
                X, yi, K, k, C, pen, mw, mb, "outer", points=points, w_points=wpts
            )

        def refit_support(res):
            sup = np.flatnonzero(np.asarray(res.values["z"]).ravel() > 0.5)
            Wr, br, objr = multinomial_refit(X, yi, K, sup, C, pen, settings.deadline)
            best["last"] = (Wr, br)
            if objr < best["upper"]:
                best.update(W=Wr, b=br, upper=objr)
            return best["upper"]

        def add_cuts(res):
            Wm = np.asarray(res.values["W"], dtype=float).reshape(K, p)
            bm = np.asarray(res.values["b"], dtype=float).ravel()
            Wr, br = best["last"]
            points.extend([X @ Wm.T + bm, X @ Wr.T + br])
            wpts.extend([Wm, Wr])

        loop = outer_approximation(
            build,
            refit_support,
            add_cuts,
            upper=upper,
            problem=problem,
            settings=settings,
            target=self.gap_tolerance(settings),
        )
        W_best = best["W"]
        z = (np.abs(W_best) > 0).any(axis=0).astype(float)
        values = {"W": W_best, "b": np.asarray(best["b"], dtype=float), "z": z}
        return loop.answer(values, best["upper"], t0)


register_special(SparseMultinomialOA(), module=__name__)
