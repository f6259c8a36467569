r"""Newton's method for logistic regression, registered as the special solver ``"newton"``.

It solves :class:`~optml.formulations.logistic.LogisticProblem` (kind ``"logistic"``), the
objective :math:`P(w, b) = C\sum_i \ell(s_i(x_i^\top w + b)) + R(w)` with
:math:`\ell(u) = \log(1+e^{-u})`: damped Newton for :math:`R = \tfrac12\|w\|^2` and
:math:`R = 0`, L-BFGS-B on the split form :math:`w = w^+ - w^-` for :math:`R = \|w\|_1`.

Multinomial (softmax) logistic regression,
:class:`~optml.formulations.logistic.MultinomialLogisticProblem` (kind
``"multinomial_logistic"``), :math:`P(W, b) = C\sum_i (\log\sum_k e^{z_{ik}} - z_{iy_i}) + R(W)`
with :math:`z_{ik} = x_i^\top w_k + b_k`, is solved the same way (Newton on the
:math:`K(p+1)` parameters, L-BFGS-B on the split form for L1) and certified the same way:
:math:`\log\sum_k e^{z_k} = \max_{q \in \Delta} q^\top z + H(q)` with the entropy
:math:`H(q) = -\sum_k q_k \log q_k`, so every row-stochastic :math:`Q` whose column sums are
the class counts (:math:`A = Q - Y` with :math:`A^\top 1 = 0`) gives

.. math:: D(Q) = C\sum_i H(q_i) - \tfrac12\|C X^\top A\|_F^2\ (R = \tfrac12\|W\|_F^2),
    \qquad D(Q) = C\sum_i H(q_i)\ \text{ if } \|C X^\top A\|_{\max} \le 1\ (R = \|W\|_1),

(:math:`X^\top A = 0` for :math:`R = 0`). From the primal point, :math:`q_i` is the softmax of
:math:`z_i`; the column sums are made exact by centring :math:`A`'s columns and mixing with the
strictly positive :math:`U_{ik} = n_k / n` just enough to stay nonnegative (L1: :math:`A` is
scaled down; none: :math:`A`'s columns are projected onto the null space of :math:`[X, 1]^\top`).

Certificate. Since :math:`\ell(u) = \max_{a\in[0,1]} -a u + h(a)` with the binary entropy
:math:`h`, every :math:`a \in [0,1]^n` with :math:`\sum_i a_i s_i = 0` gives the dual bound

.. math:: D(a) = C\sum_i h(a_i) - \tfrac12\|C X^\top(a\circ s)\|_2^2 \quad (R = \tfrac12\|w\|^2),
    \qquad D(a) = C\sum_i h(a_i)\ \text{ if } \|C X^\top(a\circ s)\|_\infty \le 1 \quad
    (R = \|w\|_1),

and :math:`D(a) = C\sum_i h(a_i)` if :math:`X^\top(a\circ s) = 0` (:math:`R = 0`), with
:math:`D(a) \le P^\star \le P(w, b)`. From a primal point we take :math:`a_i = \sigma(-u_i)`
(optimal at the optimum) and make it dual feasible: rescale one class so that
:math:`\sum a_i s_i = 0` (and, for L1, all of :math:`a` so the norm constraint holds; without a
penalty, project :math:`a\circ s` onto the null space of :math:`[X, 1]^\top`).

The module also holds the smooth helpers other classifiers use (a Huberised-hinge Newton start
for the SVM working set, exact refits of sparse logistic regression).
"""

from __future__ import annotations

import logging
import time

import numpy as np
from scipy.special import expit, xlogy

from optml.algorithms._line_search import armijo, newton_direction, solve_or_lstsq
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.logistic import (
    LogisticProblem,
    MultinomialLogisticProblem,
    log_loss,
    logistic_objective,
    multinomial_objective,
)
from optml.program.result import relative_gap

logger = logging.getLogger("optml")

__all__ = [
    "NewtonSolver",
    "dual_bound",
    "huber_hinge_newton",
    "l1_lbfgsb",
    "multinomial_dual_bound",
    "multinomial_lbfgsb_l1",
    "multinomial_newton",
    "newton",
    "objective",
]


def objective(X, s, w, b, C, penalty) -> float:
    """The logistic objective with numpy (:func:`~optml.formulations.logistic.logistic_objective`)."""
    return logistic_objective(X, s, w, b, C, penalty)


def dual_bound(X, s, w, b, C, penalty) -> float:
    """A certified lower bound on the optimum from the primal point ``(w, b)`` (``-inf`` when
    no dual feasible point is found)."""
    a = expit(-s * (X @ w + b))
    if penalty is None:
        # a * s must lie in the null space of [X, 1]': project it there (least squares)
        Xa = np.hstack([X, np.ones((X.shape[0], 1))])
        v = a * s
        v = v - Xa @ solve_or_lstsq(Xa.T @ Xa, Xa.T @ v)
        a = v * s
        if a.min() < 0.0 or a.max() > 1.0 or np.abs(Xa.T @ v).max() > 1e-9 * max(1.0, a.sum()):
            return float("-inf")
        h = -(xlogy(a, a) + xlogy(1.0 - a, 1.0 - a))
        return float(C * h.sum())
    sp, sn = a[s > 0].sum(), a[s < 0].sum()
    if sp > sn:
        a[s > 0] *= sn / sp
    elif sn > sp:
        a[s < 0] *= sp / sn
    v = C * (X.T @ (a * s))
    if penalty == "l1":
        nv = np.abs(v).max(initial=0.0)
        if nv > 1.0:
            a = a / nv
            v = v / nv
    h = -(xlogy(a, a) + xlogy(1.0 - a, 1.0 - a))
    D = C * h.sum()
    if penalty == "l2":
        D -= 0.5 * v @ v
    return float(D)


_DIVERGES = (
    "unregularised {} diverges: the classes are {}separable, so no finite minimiser exists; "
    "use penalty='l2' or 'l1'"
)


def _damped_newton(f, grad, hess, th, reg, jitter, gtol, max_iter, deadline, diverges):
    """Damped Newton with an Armijo line search from ``th``: ``(th, iterations, timed_out)``.

    ``grad(th)`` gives ``(g, aux)``, ``hess(th, aux)`` the Hessian of the objective ``f`` (its
    diagonal then gets ``reg`` and ``jitter`` times its largest entry); the loop stops at
    ``max|g| <= gtol``, at the ``time.perf_counter()`` value ``deadline``, or when a step
    neither moves nor decreases ``f``. ``diverges``: the ValueError message when an iterate
    grows past 1e8 (an unregularised fit of separable classes), None not to check.
    """
    fv = f(th)
    it, timed_out = 0, False
    for it in range(1, max_iter + 1):  # noqa: B007
        if deadline is not None and time.perf_counter() > deadline:
            timed_out = True
            break
        g, aux = grad(th)
        if float(np.abs(g).max()) <= gtol:
            break
        H = hess(th, aux)
        H[np.diag_indices_from(H)] += reg + jitter * max(1.0, np.abs(H).max())
        step = newton_direction(H, g)
        new, fn, lr = armijo(f, th, fv, step, g)
        if abs(fv - fn) <= 1e-16 * max(1.0, abs(fv)) and lr < 1e-12:
            break
        th, fv = new, fn
        if diverges is not None and np.abs(th).max() > 1e8:
            raise ValueError(diverges)
    return th, it, timed_out


def newton(X, s, C, penalty, tol=1e-10, max_iter=100, w0=None, b0=0.0, deadline=None):
    r"""Damped Newton on :math:`C\sum\ell + \frac12\|w\|^2` (or without the penalty).

    Returns ``(w, b, info)`` with ``info = {"iterations", "grad_norm", "converged",
    "timed_out"}``; ``deadline`` is a ``time.perf_counter()`` value to stop at.
    """
    n, p = X.shape
    Xa = np.hstack([X, np.ones((n, 1))])
    reg = np.ones(p + 1)
    reg[-1] = 0.0
    if penalty is None:
        reg[:] = 0.0
    th = np.zeros(p + 1) if w0 is None else np.append(np.asarray(w0, float), b0)

    def f(t):
        return C * log_loss(s * (Xa @ t)).sum() + 0.5 * (reg * t) @ t

    def grad(t):
        a = expit(-s * (Xa @ t))
        return -C * (Xa.T @ (a * s)) + reg * t, a

    def hess(t, a):
        return (Xa.T * (C * a * (1.0 - a))) @ Xa

    diverges = _DIVERGES.format("logistic regression", "(linearly) ") if penalty is None else None
    th, it, timed_out = _damped_newton(
        f, grad, hess, th, reg, 1e-12, tol * max(1.0, C), max_iter, deadline, diverges
    )
    u = s * (Xa @ th)
    if penalty is None and u.min() > 0:
        raise ValueError(
            "unregularised logistic regression has no finite minimiser: the classes are "
            "linearly separable (every training margin is positive); use penalty='l2' or 'l1'"
        )
    g = -C * (Xa.T @ (expit(-u) * s)) + reg * th
    gnorm = float(np.abs(g).max())
    info = {
        "iterations": it,
        "grad_norm": gnorm,
        "converged": gnorm <= 1e3 * tol * max(1.0, C),
        "timed_out": timed_out,
    }
    return th[:p], float(th[p]), info


class _Deadline(Exception):
    pass


def _lbfgsb(fg, size, bounds, max_iter, gtol, deadline):
    """L-BFGS-B on ``fg(th) -> (value, gradient)`` from zeros of length ``size``, stopped at the
    ``time.perf_counter()`` value ``deadline``: ``(th, iterations, success, timed_out)``; out
    of time, ``th`` is the last point evaluated and ``iterations`` is -1."""
    from scipy.optimize import minimize

    last = {"x": np.zeros(size), "timed_out": False}

    def fg_timed(th):
        if deadline is not None and time.perf_counter() > deadline:
            last["timed_out"] = True
            raise _Deadline
        last["x"] = th.copy()
        return fg(th)

    try:
        r = minimize(
            fg_timed,
            np.zeros(size),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter, "ftol": 1e-15, "gtol": gtol, "maxcor": 30},
        )
        return r.x, int(r.nit), bool(r.success), last["timed_out"]
    except _Deadline:
        return last["x"], -1, False, last["timed_out"]


def l1_lbfgsb(X, s, C, tol=1e-10, max_iter=15000, deadline=None):
    r"""L-BFGS-B on the split form :math:`w = w^+ - w^-`, :math:`w^\pm \ge 0` (smooth, bounded).

    Returns ``(w, b, info)``; ``info["grad_norm"]`` is the projected-gradient norm.
    """

    n, p = X.shape

    def fg(th):
        w = th[:p] - th[p : 2 * p]
        b = th[-1]
        u = s * (X @ w + b)
        a = expit(-u)
        gz = -C * (a * s)
        gw = X.T @ gz
        val = C * log_loss(u).sum() + th[: 2 * p].sum()
        return val, np.concatenate([gw + 1.0, -gw + 1.0, [gz.sum()]])

    bounds = [(0.0, None)] * (2 * p) + [(None, None)]
    th, nit, success, timed_out = _lbfgsb(
        fg, 2 * p + 1, bounds, max_iter, tol * max(1.0, C), deadline
    )
    w = th[:p] - th[p : 2 * p]
    _, g = fg(th)
    pg = np.where(th[: 2 * p] <= 0, np.minimum(g[: 2 * p], 0.0), g[: 2 * p])
    gnorm = float(max(np.abs(pg).max(initial=0.0), abs(g[-1])))
    info = {
        "iterations": nit,
        "grad_norm": gnorm,
        "converged": success,
        "timed_out": timed_out,
    }
    return w, float(th[-1]), info


def huber_hinge_newton(X, s, C, h=0.05, max_iter=60, tol=1e-9):
    r"""Newton's method on :math:`\frac12\|w\|^2 + C\sum_i \phi_h(1 - u_i)` with the
    Huberised hinge :math:`\phi_h(t) = 0\ (t\le0),\ t^2/2h\ (0<t\le h),\ t - h/2\ (t>h)`.

    A fast, close start for the exact hinge SVM (its optimum differs by :math:`O(h)`); returns
    ``(w, b)``. Not a certificate: the working-set solver certifies the hinge program.
    """
    n, p = X.shape
    Xa = np.hstack([X, np.ones((n, 1))]) * s[:, None]
    reg = np.ones(p + 1)
    reg[-1] = 0.0
    # start: the least-squares SVM (every sample on the quadratic piece, h = 1)
    G = C * (Xa.T @ Xa)
    G[np.diag_indices_from(G)] += reg + 1e-10 * max(1.0, np.abs(G).max())
    th = np.linalg.solve(G, C * Xa.sum(axis=0))

    def fval(t):
        r = 1.0 - Xa @ t
        phi = np.where(r <= 0, 0.0, np.where(r <= h, r * r / (2 * h), r - h / 2))
        return 0.5 * (reg * t) @ t + C * phi.sum()

    fv = fval(th)
    for _ in range(max_iter):
        r = 1.0 - Xa @ th
        d = np.where(r <= 0, 0.0, np.where(r <= h, r / h, 1.0))
        g = reg * th - C * (Xa.T @ d)
        if np.abs(g).max() <= tol * max(1.0, C):
            break
        quad = (r > 0) & (r <= h)
        Xq = Xa[quad]
        H = (C / h) * (Xq.T @ Xq)
        H[np.diag_indices_from(H)] += reg + 1e-10 * max(1.0, np.abs(H).max())
        step = newton_direction(H, g)
        new, fn, _lr = armijo(fval, th, fv, step, g, min_lr=1e-10)
        if fv - fn <= 1e-15 * max(1.0, abs(fv)):
            th = new if fn < fv else th
            break
        th, fv = new, fn
    return th[:p], float(th[p])


# ------------------------------------------------------------------- multinomial (softmax)


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _center(W, b):
    """The representative with zero class sums (scikit-learn's: its iterates keep them)."""
    return W - W.mean(axis=0, keepdims=True), b - b.mean()


def multinomial_newton(X, yi, K, C, penalty, tol=1e-10, max_iter=100, deadline=None):
    r"""Damped Newton on :math:`C\sum_i` softmax loss :math:`+ \tfrac12\|W\|_F^2` (or none).

    Returns ``(W (K, p), b (K,), info)``, centred over the classes.
    """
    n, p = X.shape
    Xa = np.hstack([X, np.ones((n, 1))])
    Y = np.eye(K)[yi]
    q = p + 1
    reg = np.tile(np.r_[np.ones(p), 0.0], K)
    if penalty is None:
        reg[:] = 0.0
    th = np.zeros(K * q)

    def f(t):
        Z = Xa @ t.reshape(K, q).T
        m = Z.max(axis=1)
        lse = m + np.log(np.exp(Z - m[:, None]).sum(axis=1))
        return C * (lse - Z[np.arange(n), yi]).sum() + 0.5 * (reg * t) @ t

    def grad(t):
        P = _softmax(Xa @ t.reshape(K, q).T)
        return (C * (P - Y).T @ Xa).ravel() + reg * t, P

    def hess(t, P):
        H = np.empty((K * q, K * q))
        for k in range(K):
            for j in range(k, K):
                d = P[:, k] * ((k == j) - P[:, j])
                blk = C * ((Xa.T * d) @ Xa)
                H[k * q : (k + 1) * q, j * q : (j + 1) * q] = blk
                H[j * q : (j + 1) * q, k * q : (k + 1) * q] = blk.T
        return H

    diverges = _DIVERGES.format("multinomial logistic regression", "") if penalty is None else None
    th, it, timed_out = _damped_newton(
        f, grad, hess, th, reg, 1e-10, tol * max(1.0, C), max_iter, deadline, diverges
    )
    T = th.reshape(K, q)
    W, b = _center(T[:, :p], T[:, p])
    g, _ = grad(np.column_stack([W, b]).ravel())
    gnorm = float(np.abs(g).max())
    info = {
        "iterations": it,
        "grad_norm": gnorm,
        "converged": gnorm <= 1e3 * tol * max(1.0, C),
        "timed_out": timed_out,
    }
    return W, b, info


def multinomial_lbfgsb_l1(X, yi, K, C, tol=1e-10, max_iter=15000, deadline=None):
    r"""L-BFGS-B on the split form :math:`W = W^+ - W^-` of the L1 multinomial objective."""

    n, p = X.shape
    Y = np.eye(K)[yi]
    m = K * p

    def fg(th):
        W = (th[:m] - th[m : 2 * m]).reshape(K, p)
        b = th[2 * m :]
        Z = X @ W.T + b
        mx = Z.max(axis=1)
        lse = mx + np.log(np.exp(Z - mx[:, None]).sum(axis=1))
        G = C * (_softmax(Z) - Y)
        gW = (G.T @ X).ravel()
        val = C * (lse - Z[np.arange(n), yi]).sum() + th[: 2 * m].sum()
        return val, np.concatenate([gW + 1.0, -gW + 1.0, G.sum(axis=0)])

    bounds = [(0.0, None)] * (2 * m) + [(None, None)] * K
    th, nit, success, timed_out = _lbfgsb(
        fg, 2 * m + K, bounds, max_iter, tol * max(1.0, C), deadline
    )
    _, g = fg(th)
    pg = np.where(th[: 2 * m] <= 0, np.minimum(g[: 2 * m], 0.0), g[: 2 * m])
    W = (th[:m] - th[m : 2 * m]).reshape(K, p)
    b = th[2 * m :] - th[2 * m :].mean()
    info = {
        "iterations": nit,
        "grad_norm": float(max(np.abs(pg).max(initial=0.0), np.abs(g[2 * m :]).max())),
        "converged": success,
        "timed_out": timed_out,
    }
    return W, b, info


def multinomial_dual_bound(X, yi, K, W, b, C, penalty) -> float:
    """A certified lower bound on the multinomial optimum from the primal point ``(W, b)``
    (``-inf`` when no dual feasible point is found); see the module docstring."""
    n = X.shape[0]
    Y = np.eye(K)[yi]
    A = _softmax(X @ np.asarray(W, float).T + np.asarray(b, float).ravel()) - Y
    if penalty is None:
        Xa = np.hstack([X, np.ones((n, 1))])
        G = Xa.T @ Xa
        try:
            A = A - Xa @ np.linalg.solve(G, Xa.T @ A)
        except np.linalg.LinAlgError:
            A = A - Xa @ np.linalg.lstsq(G, Xa.T @ A, rcond=None)[0]
        if np.abs(Xa.T @ A).max() > 1e-9 * n:
            return float("-inf")
    else:
        A = A - A.mean(axis=0, keepdims=True)
    Q = Y + A
    if Q.min() < 0.0:
        if penalty is None:
            return float("-inf")
        U = np.broadcast_to(Y.mean(axis=0), Q.shape)
        neg = Q < 0
        theta = float(np.max(-Q[neg] / (U[neg] - Q[neg])))
        Q = (1.0 - theta) * Q + theta * U
        Q = np.maximum(Q, 0.0)
        A = Q - Y
    V = C * (X.T @ A)
    if penalty == "l1":
        nv = np.abs(V).max(initial=0.0)
        if nv > 1.0:
            A, V = A / nv, V / nv
            Q = Y + A
    D = -C * xlogy(Q, Q).sum()
    if penalty == "l2":
        D -= 0.5 * (V * V).sum()
    return float(D)


def _minimise(problem, settings, smooth, split, data):
    """``((coefficients, intercept, info), method)``: L-BFGS-B on the split form (``split``)
    for an L1 penalty, else damped Newton (``smooth``, which takes the penalty), on ``data``
    with the problem's tolerance and iteration budget and the settings' deadline."""
    if problem.penalty == "l1":
        fit = split(
            *data, tol=problem.tol, max_iter=150 * problem.max_iter, deadline=settings.deadline
        )
        return fit, "l-bfgs-b"
    fit = smooth(
        *data,
        problem.penalty,
        tol=problem.tol,
        max_iter=problem.max_iter,
        deadline=settings.deadline,
    )
    return fit, "newton"


def _solve_multinomial(problem, settings):
    X, yi, K, C, pen = problem.X, problem.yi, problem.n_classes, problem.C, problem.penalty
    (W, b, info), method = _minimise(
        problem, settings, multinomial_newton, multinomial_lbfgsb_l1, (X, yi, K, C)
    )
    obj = multinomial_objective(X, yi, W, b, C, pen)
    bound = multinomial_dual_bound(X, yi, K, W, b, C, pen)
    return {"W": W, "b": b}, obj, bound, info, method


def _solve_binary(problem, settings):
    X, s, C, pen = problem.X, problem.s, problem.C, problem.penalty
    (w, b, info), method = _minimise(problem, settings, newton, l1_lbfgsb, (X, s, C))
    obj = objective(X, s, w, b, C, pen)
    bound = dual_bound(X, s, w, b, C, pen)
    return {"w": w, "b": np.array(b)}, obj, bound, info, method


class NewtonSolver(SpecialSolver):
    """Newton / L-BFGS-B on the logistic objective, certified by a duality gap."""

    name = "newton"
    kinds = ("logistic", "multinomial_logistic")
    problem_class = "EXP"
    description = (
        "logistic regression, binary or multinomial (softmax): damped Newton (L2, none) or "
        "L-BFGS-B on the split form (L1), bound from a feasible dual point"
    )
    reference = "Boyd & Vandenberghe (2004), Convex Optimization, sec. 9.5 and 5.2"
    gap_tol = 1e-6

    def solve(self, problem: LogisticProblem | MultinomialLogisticProblem, settings) -> RawAnswer:
        from threadpoolctl import threadpool_limits

        from optml.solve import special_settings_check

        special_settings_check(settings, self.name)
        settings = settings.started()
        t0 = time.perf_counter()
        # BLAS on one thread unless asked: these are small dense products, threads only contend
        with threadpool_limits(settings.threads or 1):
            multi = isinstance(problem, MultinomialLogisticProblem)
            solve = _solve_multinomial if multi else _solve_binary
            values, obj, bound, info, method = solve(problem, settings)
        t = time.perf_counter() - t0
        gap = relative_gap(obj, bound)
        status = "optimal" if gap <= self.gap_tol else "time_limit"
        msg = (
            f"{method}: {info['iterations']} iterations, gradient norm {info['grad_norm']:.2e}; "
            "bound = dual value of a feasible dual point"
        )
        if status != "optimal":
            why = "time limit" if info["timed_out"] else "iteration limit or round-off"
            msg += f"; stopped at gap {gap:.2e} ({why})"
        if settings.verbose:
            logger.info("newton: %s", msg)
        return RawAnswer(
            status=status,
            values=values,
            objective=obj,
            bound=bound if np.isfinite(bound) else None,
            message=msg,
            stats={"iterations": int(info["iterations"]), "method": method},
            kkt_residual=float(info["grad_norm"]),
            solve_time=t,
        )


register_special(NewtonSolver(), module=__name__)
