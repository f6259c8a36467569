r"""Training-set attacks on the ridge learner (Mei and Zhu 2015) as MILPs.

The program is :func:`optml.formulations.teaching.ridge_poisoning`. :class:`PoisoningAttack`
is not a scikit-learn predictor (no ``predict``): see :mod:`optml.teaching`.
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass

import numpy as np

from optml._base import ProgramEstimator
from optml.formulations.teaching import ridge_poisoning
from optml.teaching import _learners
from optml.teaching._teaching import solve_or_refuse

log = logging.getLogger("optml")


@dataclass
class AttackCheck:
    """What :meth:`PoisoningAttack.verify` found by retraining ridge on the poisoned data.

    ``distance``: the retrained model's largest distance from the attacker's model (target
    model mode; ``allowed`` as in :class:`~optml.teaching.TeachingCheck`); ``predictions`` and
    ``violation``: the target predictions and how far they miss their bounds (prediction
    mode)."""

    coef: np.ndarray
    intercept: float
    distance: float
    allowed: float
    predictions: np.ndarray | None
    violation: float
    passed: bool
    implementation: str


class PoisoningAttack(ProgramEstimator):
    r"""The cheapest training-set attack that makes the ridge learner return the attacker's
    model, or a model whose predictions meet the attacker's bounds (Mei and Zhu 2015).

    .. math::

        \min_{k, \delta, z, a}\ \kappa_r^\top (1 - k) + \kappa_l^\top z + \kappa_a^\top a
        \quad\text{s.t.}\quad \hat\theta = \arg\min_\theta
        \sum_i k_i (y_i + \delta_i - \tilde x_i^\top\theta)^2
        + \sum_j a_j (y_j - \tilde x_j^\top\theta)^2 + \alpha\|w\|^2,\quad
        \hat\theta = \theta^* \ \text{or}\ \ell \le x_0^\top \hat w + \hat b \le u,

    with :math:`|\delta_i| \le B z_i`; single-level through the normal equations
    (:func:`optml.formulations.teaching.ridge_poisoning`, exact for ``alpha > 0``; for least
    squares with a target model, by the lazy full-rank family).

    Parameters
    ----------
    alpha : float, default 1.0
    fit_intercept : bool, default True
    tolerance : float, default 0.0
        Target model mode: largest absolute residual of the normal equations at the target.
    remove : bool, default False
        The attacker may delete clean points.
    label_budget : float, default 0.0
        The attacker may move a clean label by at most this much.
    max_copies : int, default 1
        Copies of a pool point the attacker may add.
    remove_cost, label_cost, add_cost : float or array, default 1.0
        Cost of each deletion, relabelling and added copy.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters; ``mip_gap`` defaults to 0.

    Attributes
    ----------
    removed_ : ndarray of int
        Clean points deleted.
    label_changes_ : ndarray, shape (n,)
        Label moves :math:`\delta` (0 where unchanged).
    added_counts_ : ndarray of int, shape (n_pool,) or None
        Copies of each pool point added.
    n_changes_ : int
        Deletions + relabellings + added copies.
    cost_ : float
    program_, result_
    """

    _default_mip_gap = 0.0

    def __init__(
        self,
        alpha=1.0,
        fit_intercept=True,
        tolerance=0.0,
        remove=False,
        label_budget=0.0,
        max_copies=1,
        remove_cost=1.0,
        label_cost=1.0,
        add_cost=1.0,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tolerance = tolerance
        self.remove = remove
        self.label_budget = label_budget
        self.max_copies = max_copies
        self.remove_cost = remove_cost
        self.label_cost = label_cost
        self.add_cost = add_cost
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def build_program(
        self,
        X,
        y,
        X_pool=None,
        y_pool=None,
        target_coef=None,
        target_intercept=0.0,
        target_prediction=None,
    ):
        """The attack MILP (see the class docstring)."""
        for name in ("fit_intercept", "remove"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        for name in ("alpha", "tolerance", "label_budget"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real) or isinstance(v, bool):
                raise TypeError(f"{name} must be a number, got {v!r}")
        return ridge_poisoning(
            X,
            y,
            target_coef=target_coef,
            target_intercept=target_intercept,
            target_prediction=target_prediction,
            alpha=float(self.alpha),
            fit_intercept=bool(self.fit_intercept),
            tolerance=float(self.tolerance),
            X_pool=X_pool,
            y_pool=y_pool,
            max_copies=self.max_copies,
            remove=bool(self.remove),
            label_budget=float(self.label_budget),
            add_cost=self.add_cost,
            remove_cost=self.remove_cost,
            label_cost=self.label_cost,
        )

    def fit(
        self,
        X,
        y,
        X_pool=None,
        y_pool=None,
        target_coef=None,
        target_intercept=0.0,
        target_prediction=None,
    ):
        """Find the cheapest attack on the clean data ``(X, y)``.

        ``target_coef``/``target_intercept``: the attacker's model; or
        ``target_prediction=(x0, lower, upper)``: bounds on the learned model's predictions
        at the rows of ``x0`` (None: unbounded). Raises
        :class:`~optml.exceptions.SolveError` (``result_`` kept) when no attack within the
        attacker's means exists.
        """
        prog = self.build_program(
            X, y, X_pool, y_pool, target_coef, target_intercept, target_prediction
        )
        self.X_ = np.asarray(X, dtype=float).reshape(len(X), -1)
        self.y_ = np.asarray(y, dtype=float).ravel()
        self.X_pool_ = (
            None if X_pool is None else np.asarray(X_pool, float).reshape(len(X_pool), -1)
        )
        self.y_pool_ = None if y_pool is None else np.asarray(y_pool, float).ravel()
        self.target_ = prog.metadata.get("target")
        self.target_prediction_ = prog.metadata.get("target_prediction")
        self._check_common_params()
        settings = self._settings(mip=True).started()  # the greedy start is on the clock
        start = None
        if self.target_prediction_ is not None:
            start = _greedy_start(prog, self, settings)
        res = solve_or_refuse(
            self,
            prog,
            lambda status: (
                f"PoisoningAttack: no attack within the attacker's means (remove={self.remove}, "
                f"label_budget={self.label_budget}, pool of "
                f"{0 if X_pool is None else len(X_pool)} points, max_copies={self.max_copies}) "
                f"makes ridge return the target (status {status!r})"
            ),
            settings=settings,
            warm_start=start,
        )
        v = res.values
        n = self.X_.shape[0]
        keep = np.ones(n, bool) if "keep" not in v else np.asarray(v["keep"]) > 0.5
        self.removed_ = np.flatnonzero(~keep)
        if "delta" in v:
            z = np.asarray(v["relabel"]) > 0.5
            self.label_changes_ = np.where(z & keep, np.asarray(v["delta"], float), 0.0)
        else:
            self.label_changes_ = np.zeros(n)
        if "add" in v:
            a = np.round(np.asarray(v["add"], float)).astype(int)
            rep = prog.metadata.get("pool_repeat", 1)
            self.added_counts_ = a.reshape(-1, rep).sum(axis=1) if rep > 1 else a
        else:
            self.added_counts_ = None
        n_rel = int(np.count_nonzero(self.label_changes_))
        n_add = 0 if self.added_counts_ is None else int(self.added_counts_.sum())
        self.n_changes_ = int(self.removed_.size + n_rel + n_add)
        self.cost_ = float(res.objective)
        if res.status != "optimal":
            log.warning(
                "PoisoningAttack: status %s, gap %.3g: not proven cheapest", res.status, res.gap
            )
        return self

    def poisoned_data(self):
        """``(X, y)`` the victim trains on after the attack."""
        if not hasattr(self, "n_changes_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("PoisoningAttack is not fitted yet")
        keep = np.ones(self.X_.shape[0], bool)
        keep[self.removed_] = False
        Xs, ys = [self.X_[keep]], [(self.y_ + self.label_changes_)[keep]]
        if self.added_counts_ is not None:
            Xs.append(np.repeat(self.X_pool_, self.added_counts_, axis=0))
            ys.append(np.repeat(self.y_pool_, self.added_counts_))
        return np.vstack(Xs), np.concatenate(ys)

    def verify(self, atol=None) -> AttackCheck:
        """Retrain ridge (scikit-learn) on the poisoned data and check the attacker's goal."""
        Xp, yp = self.poisoned_data()
        alpha, fi = float(self.alpha), bool(self.fit_intercept)
        w, b, impl = _learners.retrain(
            "ridge", Xp, yp, np.ones(len(yp)), alpha=alpha, fit_intercept=fi
        )
        if self.target_ is not None:
            w0, b0 = self.target_
            dist = float(max(np.abs(w - w0).max(), abs(b - b0)))
            scale = max(1.0, float(np.abs(w0).max()), abs(b0))
            if atol is not None:
                allowed = float(atol)
            elif self.tolerance == 0:
                allowed = 1e-6 * scale
            else:
                g = _learners.residual(
                    "ridge", Xp, yp, np.ones(len(yp)), w0, b0, alpha=alpha, fit_intercept=fi
                )
                H = _learners.hessian(
                    "ridge", Xp, yp, np.ones(len(yp)), w0, b0, alpha=alpha, fit_intercept=fi
                )
                allowed = np.linalg.norm(g) / max(np.linalg.eigvalsh(H).min(), 1e-300)
                allowed += 1e-6 * scale
            return AttackCheck(w, b, dist, float(allowed), None, 0.0, dist <= allowed, impl)
        x0, lo, hi = self.target_prediction_
        pred = x0 @ w + b
        viol = float(np.maximum(np.maximum(lo - pred, pred - hi), 0.0).max())
        tol = 1e-6 * max(1.0, float(np.abs(pred).max())) if atol is None else float(atol)
        return AttackCheck(w, b, np.nan, tol, pred, viol, viol <= tol, impl)


def _ridge_theta(A, t, alpha, p):
    D = np.zeros(A.shape[1])
    D[:p] = alpha
    return np.linalg.solve(A.T @ A + np.diag(D), A.T @ t)


def _greedy_start(prog, atk, settings):
    """A feasible attack for the prediction goal, built greedily (the single deletion, label
    move by +-B or added copy that most reduces the goal's violation, until it is met), as
    starting values of every variable of ``prog`` -- a first incumbent for the MILP, whose
    McCormick relaxation is weak. None when the greedy walk gets stuck."""
    X, y = atk.X_, atk.y_
    n0, p = X.shape
    fi = bool(atk.fit_intercept)
    alpha, B = float(atk.alpha), float(atk.label_budget)
    aug = (lambda M: np.hstack([M, np.ones((len(M), 1))])) if fi else (lambda M: M)
    x0, lo, hi = atk.target_prediction_
    A0 = aug(x0)
    K = prog.metadata.get("pool_repeat", 1)
    has_pool = "add" in prog.variables
    Xp = atk.X_pool_ if has_pool else np.zeros((0, p))
    yp = atk.y_pool_ if has_pool else np.zeros(0)
    keep, delta, counts = np.ones(n0, bool), np.zeros(n0), np.zeros(len(yp), int)
    cap = int(atk.max_copies)

    def violation(kp, dl, ct):
        A = aug(np.vstack([X[kp], np.repeat(Xp, ct, axis=0)]))
        t = np.r_[(y + dl)[kp], np.repeat(yp, ct)]
        if len(t) == 0:
            return np.inf, None
        th = _ridge_theta(A, t, alpha, p)
        pr = A0 @ th
        return float(np.maximum(np.maximum(lo - pr, pr - hi), 0).sum()), th

    v, th = violation(keep, delta, counts)
    for _ in range(n0 * 2 + len(yp) * cap + 1):
        if v <= 1e-9:
            break
        if settings.expired():
            return None
        best = (v, None)
        moves = []
        if atk.remove:
            moves += [("del", i) for i in np.flatnonzero(keep)]
        if B > 0:
            moves += [("lab", i, sg) for i in np.flatnonzero(keep & (delta == 0)) for sg in (B, -B)]
        moves += [("add", j) for j in np.flatnonzero(counts < cap)]
        for mv in moves:
            if settings.expired():
                return None
            kp, dl, ct = keep.copy(), delta.copy(), counts.copy()
            if mv[0] == "del":
                kp[mv[1]] = False
                dl[mv[1]] = 0.0
            elif mv[0] == "lab":
                dl[mv[1]] = mv[2]
            else:
                ct[mv[1]] += 1
            vv, _ = violation(kp, dl, ct)
            if vv < best[0] - 1e-12:
                best = (vv, (kp, dl, ct))
        if best[1] is None:
            return None
        keep, delta, counts = best[1]
        v, th = violation(keep, delta, counts)
    if v > 1e-9 or th is None:
        return None
    start = {"theta": th}
    if "keep" in prog.variables:
        start["keep"] = keep.astype(float)
        start["P"] = np.outer(keep.astype(float), th).ravel()
    if "delta" in prog.variables:
        start["delta"] = delta
        start["relabel"] = (delta != 0).astype(float)
    if has_pool:
        sel = (np.arange(K)[None, :] < counts[:, None]).astype(float).ravel()  # per copy
        start["add"] = sel
        start["Q"] = np.outer(sel, th).ravel()
    if set(prog.variables) - set(start):
        return None
    _, viol = prog.evaluate(start)
    return start if viol <= 1e-6 else None
