r"""Newton's method for Huber regression with a joint scale (scikit-learn's ``HuberRegressor``
objective), registered as the special solver ``"huber-newton"``; certified by a dual bound.

It solves :class:`~optml.formulations.regression.HuberProblem` (kind ``"huber"``),

.. math:: f(w, b, \sigma) = n\sigma + \sum_i \sigma H_\epsilon(r_i/\sigma) + \alpha\|w\|_2^2,
    \qquad r = y - Xw - b,

jointly convex for :math:`\sigma > 0` (the perspective of :math:`H_\epsilon + 1`) and
:math:`C^1`, with a piecewise-smooth Hessian: the inliers (:math:`|r_i| \le \epsilon\sigma`)
contribute :math:`\tfrac2\sigma c_ic_i^\top`, :math:`c_i = (x_i, 1, r_i/\sigma)`, the outliers
nothing. Damped Newton (Levenberg-Marquardt damping where the Hessian is singular, a step
that keeps :math:`\sigma > 0`, Armijo backtracking) from the median / MAD start.

Certificate. :math:`H_\epsilon^*(u) = u^2/4` on :math:`|u| \le 2\epsilon`, so
:math:`\sigma(H_\epsilon(r/\sigma) + 1) \ge ur + \sigma(1 - u^2/4)` for every such :math:`u`
and :math:`\sigma \ge 0`. Summing and minimising over :math:`\sigma \ge 0`, :math:`b` and
:math:`w` gives, for every :math:`u` with :math:`|u_i| \le 2\epsilon`,
:math:`\sum_i u_i^2 \le 4n` and (with an intercept) :math:`\sum_i u_i = 0`, the lower bound

.. math:: D(u) = u^\top y - \tfrac1{4\alpha}\|X^\top u\|^2 \quad(\alpha > 0),\qquad
    D(u) = u^\top y \ \text{ if } X^\top u = 0 \quad(\alpha = 0)

on the optimum (also of the program, whose :math:`\sigma \ge \sigma_{\min} > 0` only raises
it). From the point we take :math:`u_i = \operatorname{clip}(2r_i/\sigma, \pm 2\epsilon)`
(optimal at the optimum: :math:`w = X^\top u/2\alpha`, :math:`\sum u_i^2 = 4n`), centre it
(:math:`\alpha > 0`) or project it onto the null space of :math:`[X, \mathbf 1]^\top`
(:math:`\alpha = 0`), and scale it into the box and the ball. ``optimal`` needs a relative
gap :math:`\le 10^{-6}`; at a time limit the best point and its (finite) bound are returned.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from optml.algorithms._line_search import armijo, newton_direction, solve_or_lstsq
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.regression import HuberProblem, huber_objective
from optml.program.result import relative_gap

logger = logging.getLogger("optml")

__all__ = ["HuberNewtonSolver", "huber_dual_bound", "huber_newton"]

GAP_TOL = 1e-6


def huber_dual_bound(X, y, w, b, sigma, epsilon, alpha, fit_intercept=True) -> float:
    """The certified lower bound :math:`D(u)` of the module docstring from the point."""
    n = y.size
    r = y - X @ w - b
    u = np.clip(2.0 * r / sigma, -2.0 * epsilon, 2.0 * epsilon)
    if alpha > 0:
        if fit_intercept:
            u = u - u.mean()
    else:
        A = np.hstack([X, np.ones((n, 1))]) if fit_intercept else X
        u = u - A @ solve_or_lstsq(A.T @ A, A.T @ u)
    m = float(np.abs(u).max(initial=0.0))
    t = 1.0
    if m > 2.0 * epsilon:
        t = 2.0 * epsilon / m
    ss = float(u @ u) * t * t
    if ss > 4.0 * n:
        t *= np.sqrt(4.0 * n / ss)
    u = t * u
    if alpha > 0:
        v = X.T @ u
        return float(u @ y - (v @ v) / (4.0 * alpha))
    # X'u = 0 (and 1'u = 0) up to the round-off of the projection
    return float(u @ y)


def _parts(X, y, th, p, epsilon, alpha, fit_intercept):
    w = th[:p]
    b = th[p] if fit_intercept else 0.0
    sigma = th[-1]
    r = y - X @ w - b
    t = r / sigma
    inl = np.abs(t) <= epsilon
    return w, b, sigma, r, t, inl


def huber_newton(X, y, epsilon, alpha, fit_intercept=True, deadline=None, max_iter=200, tol=1e-10):
    """Damped Newton on the joint objective; returns ``(w, b, sigma, info)``."""
    n, p = X.shape
    k = p + (1 if fit_intercept else 0)
    # start: median / MAD
    b0 = float(np.median(y)) if fit_intercept else 0.0
    mad = float(np.median(np.abs(y - b0)))
    sigma0 = max(mad / 0.6745, 1e-3 * max(1.0, float(np.abs(y).max(initial=0.0))), 1e-8)
    th = np.zeros(k + 1)
    if fit_intercept:
        th[p] = b0
    th[-1] = sigma0
    A = np.hstack([X, np.ones((n, 1))]) if fit_intercept else X

    def fval(t_):
        if t_[-1] <= 0:
            return np.inf
        w, b, sigma, r, t, inl = _parts(X, y, t_, p, epsilon, alpha, fit_intercept)
        h = np.where(inl, t * t, 2.0 * epsilon * np.abs(t) - epsilon**2)
        return n * sigma + sigma * h.sum() + alpha * (w @ w)

    fv = fval(th)
    mu, it, timed_out, gnorm = 0.0, 0, False, np.inf
    reg = np.zeros(k + 1)
    reg[:p] = 2.0 * alpha
    for it in range(1, max_iter + 1):  # noqa: B007
        if deadline is not None and time.perf_counter() > deadline:
            timed_out = True
            break
        w, b, sigma, r, t, inl = _parts(X, y, th, p, epsilon, alpha, fit_intercept)
        u = np.where(inl, 2.0 * t, 2.0 * epsilon * np.sign(t))
        v = np.where(inl, -t * t, -(epsilon**2))
        g = np.empty(k + 1)
        g[:k] = -(A.T @ u)
        g[:p] += 2.0 * alpha * w
        g[-1] = n + v.sum()
        gnorm = float(np.abs(g).max())
        if gnorm <= tol * max(1.0, float(n)):
            break
        # c_i = -(x_i, 1, t_i) (dr/dtheta = -(x_i, 1)); the sign drops out of c_i c_i'
        Ci = np.hstack([A[inl], t[inl, None]])
        H = (2.0 / sigma) * (Ci.T @ Ci)
        H[np.diag_indices_from(H)] += reg
        scale = max(1.0, float(np.abs(H).max(initial=0.0)))
        improved = False
        for _try in range(30):
            Hd = H.copy()
            Hd[np.diag_indices_from(Hd)] += 1e-13 * scale + mu
            step = newton_direction(Hd, g)
            lr = 1.0
            if step[-1] < 0:  # keep sigma > 0 (at least a tenth of its value)
                lr = min(1.0, 0.9 * sigma / -step[-1])
            new, fn, lr = armijo(fval, th, fv, step, g, lr=lr, min_lr=1e-6)
            if fn < fv:
                improved = True
                mu = mu * 0.1 if lr == 1.0 else mu
                break
            mu = max(10.0 * mu, 1e-10 * scale)
        if not improved:
            break
        small = fv - fn <= 1e-16 * max(1.0, abs(fv))
        th, fv = new, fn
        if small:
            break
    w, b, sigma, *_ = _parts(X, y, th, p, epsilon, alpha, fit_intercept)
    info = {"iterations": it, "timed_out": timed_out, "grad_norm": gnorm}
    return w.copy(), float(b), float(sigma), info


class HuberNewtonSolver(SpecialSolver):
    """Damped Newton on scikit-learn's Huber objective, certified by a dual bound."""

    name = "huber-newton"
    kinds = ("huber",)
    problem_class = "SOCP"
    description = (
        "Huber regression with a joint scale: damped Newton on the perspective objective, "
        "bound from a feasible dual point"
    )
    reference = "Owen (2007), A robust hybrid of lasso and ridge regression; Huber (1964)"
    gap_tol = GAP_TOL

    def solve(self, problem: HuberProblem, settings) -> RawAnswer:
        from threadpoolctl import threadpool_limits

        from optml.solve import special_settings_check

        special_settings_check(settings, self.name)
        settings = settings.started()
        t0 = time.perf_counter()
        X, y = problem.X, problem.y
        eps, alpha, fi = float(problem.epsilon), float(problem.alpha), problem.fit_intercept
        with threadpool_limits(settings.threads or 1):
            w, b, sigma, info = huber_newton(X, y, eps, alpha, fi, deadline=settings.deadline)
            sigma = max(sigma, problem.sigma_min)
            obj = huber_objective(X, y, w, b, sigma, eps, alpha)
            bound = huber_dual_bound(X, y, w, b, sigma, eps, alpha, fi)
        gap = relative_gap(obj, bound)
        if gap <= self.gap_tol:
            status = "optimal"
        else:
            status = "time_limit" if info["timed_out"] else "error"
        msg = (
            f"newton: {info['iterations']} iterations, gradient norm {info['grad_norm']:.2e}; "
            "bound = dual value of a feasible dual point"
        )
        if status != "optimal":
            msg += f"; stopped at gap {gap:.2e}"
        values = {"coef": w, "scale": np.array(sigma)}
        if fi:
            values["intercept"] = np.array(b)
        return RawAnswer(
            status=status,
            values=values,
            objective=obj,
            bound=bound if np.isfinite(bound) else None,
            message=msg,
            stats={"iterations": int(info["iterations"])},
            kkt_residual=float(info["grad_norm"]),
            solve_time=time.perf_counter() - t0,
        )


register_special(HuberNewtonSolver(), module=__name__)
