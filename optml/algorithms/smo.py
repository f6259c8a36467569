r"""Sequential minimal optimisation with second-order working-set selection (libsvm's method),
registered as the special solver ``"smo"``.

It solves the SVM duals in libsvm's form

.. math:: \min_\alpha\ f(\alpha) = \tfrac12\alpha^\top Q\alpha + p^\top\alpha
    \quad\text{s.t.}\quad y^\top\alpha = 0,\ 0 \le \alpha \le C,\qquad
    Q_{ij} = y_i y_j K_{ij},

for three structured problems: the kernel SVM (kind ``"kernel_svm"``, :math:`y = s`,
:math:`p = -\mathbf 1`), the linear SVM (kind ``"svm"``, the linear kernel) and the
:math:`\epsilon`-SVR (kind ``"kernel_svr"``, :math:`2n` variables :math:`(\alpha, \alpha^*)`,
:math:`y = (\mathbf 1, -\mathbf 1)`, :math:`p = (\epsilon - y, \epsilon + y)`).

Each iteration picks the pair :math:`(i, j)` of Fan, Chen and Lin (2005): :math:`i` the
maximal violator :math:`\arg\max_{t\in I_{up}} -y_t\nabla_t f`, :math:`j` the minimiser of the
second-order decrease :math:`-b_{it}^2/a_{it}` over :math:`t \in I_{low}` with
:math:`b_{it} = -y_i\nabla_i f + y_t\nabla_t f > 0`, :math:`a_{it} = K_{ii} + K_{tt} - 2K_{it}`,
and solves the two-variable sub-problem in closed form (clipped to the box), updating the
gradient with two kernel columns. Columns come from a least-recently-used cache
(:class:`~optml.formulations.classification.KernelColumns`; the whole matrix when it is
small). Shrinking (Joachims 1999; libsvm): every ``min(n, 1000)`` iterations the variables at
a bound whose gradient says they stay there are set aside; the selection and the gradient
update run on the others; before stopping, the gradient is rebuilt exactly and the check
repeated on all variables.

Certificate (stated precisely). SMO runs until the maximal KKT violation
:math:`m(\alpha) - M(\alpha)` is at most ``eps`` (the problem's, by default :data:`KKT_TOL`
:math:`= 10^{-5}`; libsvm stops at :math:`10^{-3}`), then with a smaller ``eps`` until the
relative *duality gap* is at most ``gap_tol`` (:math:`10^{-6}`) and the KKT violation at most
:data:`KKT_TOL`; the gap is computed with the gradient rebuilt from scratch,
:math:`\nabla f = Q\alpha + p`:

* the dual value :math:`D(\alpha) = -f(\alpha)` of the feasible :math:`\alpha` (kept exactly
  feasible: the updates preserve :math:`y^\top\alpha` and the box);
* the primal value in function space at :math:`w = \sum_j \beta_j\phi(x_j)` with the best
  intercept :math:`b` (found exactly by :func:`~optml.formulations.classification.best_intercept`):
  for the SVM :math:`P = \tfrac12\beta^\top K\beta + C\sum_i(1 - s_i(f_i + b))_+` with
  :math:`\beta = \alpha\circ s`, :math:`f = K\beta`; for the SVR :math:`P = \tfrac12\beta^\top
  K\beta + C\sum_i(|y_i - f_i - b| - \epsilon)_+` with :math:`\beta = \alpha - \alpha^*`.

Weak duality gives :math:`D(\alpha) \le D^\star = P^\star \le P`, so the kernel problems (dual
programs, maximised) get the bound :math:`P` and the linear SVM (a primal program) the point
:math:`(w, b)` and the bound :math:`D(\alpha)`. At a time limit the loop returns its
current :math:`\alpha` with these (always finite) values.

References
----------
Platt (1998), Sequential minimal optimization. Microsoft Research TR-98-14.
Fan, Chen and Lin (2005), Working set selection using second order information for training
support vector machines. JMLR 6.
Chang and Lin (2011), LIBSVM: a library for support vector machines. ACM TIST 2(3).
Joachims (1999), Making large-scale SVM learning practical (shrinking).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

import numpy as np
from scipy.linalg.blas import daxpy

from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.classification import (
    KernelColumns,
    best_intercept,
    svm_objective,
)
from optml.program.result import relative_gap

logger = logging.getLogger("optml")

__all__ = ["SMOSolver", "smo"]

TAU = 1e-12
#: the largest KKT violation m(alpha) - M(alpha) of an answer (with the gap within tolerance)
KKT_TOL = 1e-5
#: megabytes of the solver's own cache of (column, second-order denominators) pairs
PAIR_CACHE_MB = 200.0


def smo(
    col,
    kdiag,
    p,
    y,
    C,
    n_base,
    eps=1e-3,
    deadline=None,
    max_iter=10**7,
    shrinking=True,
    alpha0=None,
):
    r"""Minimise :math:`\frac12\alpha^\top Q\alpha + p^\top\alpha` s.t. :math:`y^\top\alpha = 0`,
    :math:`0\le\alpha\le C` with :math:`Q_{ij} = y_iy_jK_{ij}` (module docstring).

    ``col(k)`` returns column ``k`` of the base kernel (length ``n_base``); variable ``t``
    uses base point ``t % n_base`` (``2 n_base`` variables for the SVR). ``kdiag`` is the
    base kernel's diagonal. Returns ``(alpha, info)``; the gradient is not returned (the
    caller rebuilds it exactly)."""
    N = p.size
    rep = N // n_base
    Cfull = np.broadcast_to(np.asarray(C, dtype=float), (N,)).astype(float)
    alpha_full = np.zeros(N) if alpha0 is None else np.asarray(alpha0, float).copy()
    base_full = np.arange(N) % n_base
    QD_full = np.tile(kdiag, rep)
    # F = -y * grad (grad = Q alpha + p), on the active variables ``act`` (compacted arrays)
    F_full = (
        -y * p
        if not alpha_full.any()
        else _rebuild_F(col, base_full, n_base, rep, alpha_full, y, p)
    )
    act = np.arange(N)
    F, alpha, yy, Cv, QD = F_full, alpha_full.copy(), y.copy(), Cfull, QD_full
    # I_up / I_low as additive penalties (0 or -inf / +inf): one add instead of a masked where
    pen_up, pen_low = _penalties(yy, alpha, Cv)
    full = True

    # per base point: its kernel column over all N variables and the second-order
    # denominators a_t = max(K_tt + K_ii - 2 K_it, tau), kept in a small LRU cache
    pair_cache = OrderedDict()
    pair_cap = max(4, int(PAIR_CACHE_MB * 2**20 / (16.0 * N)))

    def pair(t, with_a=True):  # (column, denominators) of variable act[t], active entries
        k = int(base_full[act[t]])
        got = pair_cache.get(k)
        if got is None:
            c = col(k)
            if rep > 1:
                c = np.concatenate((c, c))
            a = c * -2.0
            a += QD_full
            a += kdiag[k]
            np.maximum(a, TAU, out=a)
            got = (c, a)
            pair_cache[k] = got
            if len(pair_cache) > pair_cap:
                pair_cache.popitem(last=False)
        else:
            pair_cache.move_to_end(k)
        if full:
            return got
        return got[0][act], (got[1][act] if with_a else None)

    it = 0
    timed_out = False
    shrink_every = min(N, 1000)
    unshrunk = False
    neg_inf = np.full(1, -np.inf)[0]
    while it < max_iter:
        Fup = F + pen_up
        i = int(Fup.argmax())
        Gmax = Fup[i]
        Flow = F + pen_low
        Gmin = Flow[int(Flow.argmin())]
        viol = Gmax - Gmin
        # libsvm's rule: once the shrunk problem is within 10 eps, bring every variable back
        # (gradient rebuilt exactly) and go on, shrinking again; stop only on all of them
        if viol < eps or (not full and not unshrunk and viol < 10.0 * eps):
            alpha_full[act] = alpha
            if full:
                break
            # rebuild the gradient exactly and look again at every variable
            F = _rebuild_F(col, base_full, n_base, rep, alpha_full, y, p)
            act = np.arange(N)
            alpha, yy, Cv, QD = alpha_full.copy(), y.copy(), Cfull, QD_full
            pen_up, pen_low = _penalties(yy, alpha, Cv)
            full, unshrunk = True, True
            continue
        Ki, a = pair(i)
        # b_t = Gmax - F_t on I_low (-inf elsewhere); second-order gain -b_t^2 / a_t where b_t > 0
        b = Gmax - Flow
        np.maximum(b, 0.0, out=b)  # outside I_low (-inf) or b_t <= 0: no gain
        b *= b
        b /= a
        j = int(b.argmax())
        # ---- the two-variable sub-problem (libsvm's update, in terms of G = grad)
        yi, yj = yy[i], yy[j]
        Gi, Gj = -yi * F[i], -yj * F[j]
        Qij = yi * yj * Ki[j]
        ai, aj = alpha[i], alpha[j]
        Ci, Cj = Cv[i], Cv[j]
        if yi != yj:
            quad = QD[i] + QD[j] + 2.0 * Qij
            quad = quad if quad > 0 else TAU
            delta = (-Gi - Gj) / quad
            diff = ai - aj
            ni, nj = ai + delta, aj + delta
            if diff > 0:
                if nj < 0:
                    nj, ni = 0.0, diff
            elif ni < 0:
                ni, nj = 0.0, -diff
            if diff > Ci - Cj:
                if ni > Ci:
                    ni, nj = Ci, Ci - diff
            elif nj > Cj:
                nj, ni = Cj, Cj + diff
        else:
            quad = QD[i] + QD[j] - 2.0 * Qij
            quad = quad if quad > 0 else TAU
            delta = (Gi - Gj) / quad
            tot = ai + aj
            ni, nj = ai - delta, aj + delta
            if tot > Ci:
                if ni > Ci:
                    ni, nj = Ci, tot - Ci
            elif nj < 0:
                nj, ni = 0.0, tot
            if tot > Cj:
                if nj > Cj:
                    nj, ni = Cj, tot - Cj
            elif ni < 0:
                ni, nj = 0.0, tot
        di, dj = ni - ai, nj - aj
        alpha[i], alpha[j] = ni, nj
        for t, yt, at in ((i, yi, ni), (j, yj, nj)):
            in_up = at < Cv[t] if yt > 0 else at > 0
            in_low = at > 0 if yt > 0 else at < Cv[t]
            pen_up[t] = 0.0 if in_up else neg_inf
            pen_low[t] = 0.0 if in_low else np.inf
        # F_t -= y_t (Q_ti di + Q_tj dj) = y_i K_ti di + y_j K_tj dj
        Kj = pair(j, False)[0]
        F = daxpy(Ki, F, a=-(yi * di))  # in place (BLAS), F is contiguous float64
        F = daxpy(Kj, F, a=-(yj * dj))
        it += 1
        if it % 64 == 0 and deadline is not None and time.perf_counter() > deadline:
            timed_out = True
            break
        if shrinking and it % shrink_every == 0:
            # set aside the variables at a bound that the gradient keeps there (libsvm's rule):
            # only in I_low with F above max over I_up, or only in I_up with F below min over I_low
            up, low = pen_up == 0.0, pen_low == 0.0
            gmax = (F + pen_up).max()
            gmin = (F + pen_low).min()
            out = (~up & (F > gmax)) | (~low & (F < gmin))
            if out.any() and out.sum() < F.size - 2:
                keep = ~out
                alpha_full[act] = alpha
                act = act[keep]
                F, alpha, yy, Cv, QD = F[keep], alpha[keep], yy[keep], Cv[keep], QD[keep]
                pen_up, pen_low = pen_up[keep], pen_low[keep]
                full = False
    alpha_full[act] = alpha
    info = {"iterations": it, "timed_out": timed_out, "active": int(act.size)}
    return alpha_full, info


def _penalties(y, alpha, C):
    up = np.where(y > 0, alpha < C, alpha > 0)
    low = np.where(y > 0, alpha > 0, alpha < C)
    return np.where(up, 0.0, -np.inf), np.where(low, 0.0, np.inf)


def _rebuild_F(col, base, n_base, rep, alpha, y, p):
    beta = alpha * y
    Kb = np.zeros(n_base)
    # sum over base points of the variables' coefficients
    coef = np.zeros(n_base)
    np.add.at(coef, base, beta)
    for k in np.flatnonzero(coef):
        Kb += col(int(k)) * coef[k]
    return -y * (np.tile(Kb, rep) * y + p)


def _svc_certificate(problem_Kdot, s, C, alpha):
    """``(D, P, b)``: dual value, primal value at the best intercept, the intercept."""
    beta = alpha * s
    f = problem_Kdot(beta)
    quad = float(beta @ f)
    D = float(alpha.sum() - 0.5 * quad)
    a = 1.0 - s * f  # hinge_i = (a_i - s_i b)_+
    b = best_intercept(a, s, np.full(s.size, C))
    P = 0.5 * quad + C * float(np.maximum(a - s * b, 0.0).sum())
    return D, P, b


def _svr_certificate(problem_Kdot, yv, C, eps, beta, asum):
    """``(D, P, b)`` for the SVR: ``beta = alpha - alpha*``, ``asum = sum(alpha + alpha*)``."""
    f = problem_Kdot(beta)
    quad = float(beta @ f)
    D = float(yv @ beta - eps * asum - 0.5 * quad)
    r = yv - f
    n = yv.size
    a = np.concatenate([r - eps, -r - eps])
    sig = np.concatenate([np.ones(n), -np.ones(n)])
    b = best_intercept(a, sig, np.full(2 * n, C))
    P = 0.5 * quad + C * float(np.maximum(np.abs(r - b) - eps, 0.0).sum())
    return D, P, b


def _status(gap, tol, timed_out, psd) -> str:
    if not psd:  # a KKT point of a nonconvex dual: feasible, nothing proven
        return "time_limit" if timed_out else "feasible"
    if gap <= tol:
        return "optimal"
    # not certified without running out of time: an "error" with the point, so that an
    # automatic choice solves the program instead
    return "time_limit" if timed_out else "error"


class SMOSolver(SpecialSolver):
    """SMO with second-order working-set selection, kernel cache and shrinking."""

    name = "smo"
    kinds = ("kernel_svm", "svm", "kernel_svr")
    problem_class = "QP"
    description = (
        "SVM / SVR duals: SMO with second-order working-set selection, kernel cache and "
        "shrinking (libsvm's method); bound from the primal in function space"
    )
    reference = "Fan, Chen and Lin (2005), JMLR 6; Chang and Lin (2011), LIBSVM"
    gap_tol = 1e-6

    def accepts(self, problem) -> bool:
        if not super().accepts(problem):
            return False
        return problem.kind != "svm" or getattr(problem, "penalty", None) == "l2"

    def solve(self, problem, settings) -> RawAnswer:
        from threadpoolctl import threadpool_limits

        from optml.solve import special_settings_check

        special_settings_check(settings, self.name)
        settings = settings.started()
        t0 = time.perf_counter()
        with threadpool_limits(settings.threads or 1):
            if problem.kind == "kernel_svr":
                ans = self._solve_svr(problem, settings)
            else:
                ans = self._solve_svc(problem, settings)
        ans.solve_time = time.perf_counter() - t0
        return ans

    # ------------------------------------------------------------------ SVM
    def _loop(self, run, certify, eps0, settings, psd=True):
        """Run SMO with KKT tolerance ``eps0``, then tighter until the certified gap is
        within tolerance (or the clock runs out). Without a PSD kernel there is no valid
        bound: one run at ``eps0`` (libsvm's rule)."""
        eps, alpha, total = eps0, None, 0
        while True:
            alpha, info = run(eps, alpha)
            total += info["iterations"]
            cert = certify(alpha)
            gap = relative_gap(cert[1], cert[0])
            if not psd:
                return alpha, cert, np.inf, total, info["timed_out"]
            if settings.verbose:
                logger.info(
                    "smo: eps %.1e, %d iterations, dual %.10g, primal %.10g, gap %.2e",
                    eps,
                    info["iterations"],
                    cert[0],
                    cert[1],
                    gap,
                )
            # done: the certified gap within tolerance and the KKT violation at most KKT_TOL
            # (libsvm's default is 1e-3; a small problem reaches the gap long before that)
            done = gap <= self.gap_tol and eps <= KKT_TOL
            if done or info["timed_out"] or eps < 1e-12:
                return alpha, cert, gap, total, info["timed_out"]
            # the gap falls about in proportion to the KKT tolerance: aim a little below it
            eps *= min(0.1, max(1e-3, 0.3 * self.gap_tol / max(gap, 1e-300)))
            if gap <= self.gap_tol:
                eps = min(eps, KKT_TOL)

    def _solve_svc(self, problem, settings):
        s, C = problem.s, float(problem.C)
        n = s.size
        if problem.kind == "svm":
            X = problem.X
            cols = KernelColumns(X, "linear")

            def kdot(v):
                return X @ (X.T @ v)
        else:
            cols = problem.columns
            kdot = problem.kernel_dot
        kdiag = cols.diag()

        def run(eps, a0):
            return smo(
                cols,
                kdiag,
                -np.ones(n),
                s,
                C,
                n,
                eps=eps,
                deadline=settings.deadline,
                alpha0=a0,
            )

        psd = problem.kind == "svm" or problem.kernel_is_psd()
        alpha, (D, P, b), gap, its, timed_out = self._loop(
            run,
            lambda a: _svc_certificate(kdot, s, C, a),
            getattr(problem, "eps", KKT_TOL),
            settings,
            psd,
        )
        status = _status(gap, self.gap_tol, timed_out, psd)
        msg = f"smo: {its} iterations, {cols.computed} kernel columns computed; " + (
            "bound from the dual value of the SMO point"
            if problem.kind == "svm"
            else "bound from the primal value in function space"
            if psd
            else "no bound: the kernel matrix is not positive semidefinite (nonconvex dual)"
        )
        stats = {"iterations": its, "kernel_columns": cols.computed, "intercept": b}
        if problem.kind == "svm":
            w = problem.X.T @ (alpha * s)
            obj = svm_objective(problem.X, s, w, b, C)
            return RawAnswer(
                status=status,
                values={"w": w, "b": np.array(b)},
                objective=obj,
                bound=D,
                message=msg,
                stats=stats,
            )
        return RawAnswer(
            status=status,
            values={"alpha": alpha},
            objective=D,
            bound=P if psd else None,
            message=msg,
            stats=stats,
        )

    # ------------------------------------------------------------------ SVR
    def _solve_svr(self, problem, settings):
        yv, C, eps_tube = problem.y, float(problem.C), float(problem.epsilon)
        n = yv.size
        cols = problem.columns
        kdiag = cols.diag()
        ylab = np.concatenate([np.ones(n), -np.ones(n)])
        pv = np.concatenate([eps_tube - yv, eps_tube + yv])

        def run(eps, a0):
            return smo(cols, kdiag, pv, ylab, C, n, eps=eps, deadline=settings.deadline, alpha0=a0)

        def certify(a2):
            return _svr_certificate(
                problem.kernel_dot, yv, C, eps_tube, a2[:n] - a2[n:], float(a2.sum())
            )

        psd = problem.kernel_is_psd()
        a2, (D, P, b), gap, its, timed_out = self._loop(run, certify, problem.eps, settings, psd)
        status = _status(gap, self.gap_tol, timed_out, psd)
        return RawAnswer(
            status=status,
            values={"alpha": a2[:n], "alpha_star": a2[n:]},
            objective=D,
            bound=P if psd else None,
            message=f"smo: {its} iterations, {cols.computed} kernel columns computed; "
            + (
                "bound from the primal value in function space"
                if psd
                else "no bound: the kernel matrix is not positive semidefinite (nonconvex dual)"
            ),
            stats={"iterations": its, "kernel_columns": cols.computed, "intercept": b},
        )


register_special(SMOSolver(), module=__name__)
