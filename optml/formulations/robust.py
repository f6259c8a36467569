r"""Robust linear classifiers and regressors: the robust counterparts as convex programs.

Feature perturbations (Bertsimas, Dunn, Pawlowski and Zhuo, "Robust classification", INFORMS
Journal on Optimization 2019; Xu, Caramanis and Mannor, "Robustness and regularization of
support vector machines", JMLR 2009). Each sample may move inside the ball
:math:`\{x_i + \delta : \|\delta\|_p \le \epsilon\}`. For a linear score
:math:`s_i(x^\top w + b)` the worst case over the ball is closed form,

.. math:: \min_{\|\delta\|_p \le \epsilon} s_i\big((x_i + \delta)^\top w + b\big)
    = s_i(x_i^\top w + b) - \epsilon \|w\|_{q}, \qquad \tfrac1p + \tfrac1q = 1,

so for any loss :math:`\ell` nonincreasing in the margin the robust counterpart is exact:

.. math:: \min_{w,b}\ R(w) + C\sum_i \ell\big(s_i(x_i^\top w + b) - \epsilon\|w\|_q\big),

with :math:`\ell(m) = (1 - m)_+` (hinge, an LP/QP) or :math:`\log(1 + e^{-m})` (logistic, an
exponential-cone program). The program is written with optml's atoms as it reads
(``om.pos(1 - s*(X@w + b) + eps*om.norm1(w))``); the atoms compose by the DCP rules.

Label flips (at most :math:`\Gamma` of the labels changed by an adversary). With
:math:`\ell_i = \ell(m_i)` and :math:`\tilde\ell_i = \ell(-m_i)` the loss of sample ``i`` with
its label kept or flipped, the worst case is
:math:`\sum_i \ell_i + \max_{z \in \{0,1\}^n, \sum z \le \Gamma} \sum_i z_i(\tilde\ell_i - \ell_i)`.
The inner maximum is an LP with an integral polytope (one cardinality row), and its LP dual
gives the exact counterpart

.. math:: \min\ R(w) + C\Big(\sum_i \xi_i + \Gamma q + \sum_i r_i\Big)\ \text{s.t.}\
    \xi_i \ge \ell_i,\ \phi_i \ge \tilde\ell_i,\ q + r_i \ge \phi_i - \xi_i,\ q, r \ge 0,

exact because the objective is nondecreasing in each :math:`\xi_i` (raising :math:`\xi_i` by
:math:`\delta` lowers :math:`r_i` by at most :math:`\delta`) and in each :math:`\phi_i`. Both
uncertainties combine (:math:`\epsilon` inside both losses).

Regression (Xu, Caramanis and Mannor 2009): the residual :math:`y_i - (x_i+\delta)^\top w - b`
has worst absolute value :math:`|r_i| + \epsilon\|w\|_q`, so the robust absolute loss is
:math:`\sum_i (|r_i| + \epsilon\|w\|_q)` and the robust squared loss
:math:`\sum_i (|r_i| + \epsilon\|w\|_q)^2` (a square of a convex nonnegative expression).
"""

from __future__ import annotations

import numpy as np

import optml.program as om
from optml.formulations.classification import _check_labels
from optml.program import Program

#: perturbation norm p -> the dual norm q of w that enters the counterpart
DUAL = {"inf": "1", "1": "inf", "2": "2"}
_NORM_ALIASES = {
    "inf": "inf",
    "linf": "inf",
    np.inf: "inf",
    "1": "1",
    "l1": "1",
    1: "1",
    "2": "2",
    "l2": "2",
    2: "2",
}


def check_norm(norm) -> str:
    """``"inf"``, ``"1"`` or ``"2"`` from the usual spellings; ValueError otherwise."""
    key = norm.lower() if isinstance(norm, str) else norm
    try:
        return _NORM_ALIASES[key]
    except (KeyError, TypeError):
        raise ValueError(
            f"norm must be 'inf', '1' or '2' (the perturbation ball's norm), got {norm!r}"
        ) from None


def dual_norm(w, norm: str):
    """The atom :math:`\\|w\\|_q` dual to the perturbation norm ``norm``."""
    q = DUAL[check_norm(norm)]
    return {"1": om.norm1, "inf": om.norm_inf, "2": om.norm2}[q](w)


def dual_norm_value(w, norm: str) -> float:
    """numpy value of the dual norm of ``w``."""
    q = DUAL[check_norm(norm)]
    w = np.asarray(w, dtype=float).ravel()
    if q == "1":
        return float(np.abs(w).sum())
    if q == "inf":
        return float(np.abs(w).max(initial=0.0))
    return float(np.linalg.norm(w))


def _check(X, s, C, eps, gamma):
    X, s = _check_labels(X, s, C)
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a number >= 0 (the perturbation radius), got {eps}")
    if not (np.isfinite(gamma) and 0 <= gamma):
        raise ValueError(f"gamma must be a number >= 0 (labels the adversary flips), got {gamma}")
    return X, s


def robust_linear_classifier(
    X,
    s,
    *,
    loss: str = "hinge",
    C: float = 1.0,
    eps: float = 0.0,
    norm="inf",
    gamma: float = 0.0,
    penalty: str | None = "l2",
) -> Program:
    r"""The robust counterpart (see the module docstring) as one convex Program.

    Parameters
    ----------
    X : array (n, p)
    s : array (n,) of -1/+1
    loss : {"hinge", "logistic"}
    C : float > 0
        Weight of the loss.
    eps : float >= 0
        Radius of the feature perturbation ball.
    norm : {"inf", "1", "2"}
        Norm of the perturbation ball (its dual norm of ``w`` enters the loss).
    gamma : float >= 0
        Number of labels the adversary may flip (exact LP dual of the flip set).
    penalty : {"l2", "l1", None}
        :math:`\frac12\|w\|_2^2`, :math:`\|w\|_1` or no regulariser.
    """
    X, s = _check(X, s, C, eps, gamma)
    if loss not in ("hinge", "logistic"):
        raise ValueError(f"loss must be 'hinge' or 'logistic', got {loss!r}")
    if penalty not in ("l2", "l1", None):
        raise ValueError(f"penalty must be 'l2', 'l1' or None, got {penalty!r}")
    norm = check_norm(norm)
    n, p = X.shape
    prog = Program(f"robust_{loss}_classifier")
    w = prog.var("w", p, latex="w")
    b = prog.var("b", latex="b")
    margin = (s[:, None] * X) @ w + s * b  # s_i (x_i'w + b)
    shift = eps * dual_norm(w, norm) if eps > 0 else 0.0

    def ell(m):
        # loss of the worst-case margin m - eps ||w||_q, written as the atoms compose
        if loss == "hinge":
            return om.pos(1 - m + shift)
        return om.logistic(-m + shift)

    reg = 0.0
    if penalty == "l2":
        reg = 0.5 * om.sum_squares(w)
    elif penalty == "l1":
        reg = om.norm1(w)
    if gamma == 0:
        prog.minimize(reg + C * om.sum(ell(margin)))
    else:
        xi = prog.var("xi", n, latex=r"\xi")
        phi = prog.var("phi", n, latex=r"\phi")
        q = prog.var("q", lb=0.0, latex="q")
        r = prog.var("r", n, lb=0.0, latex="r")
        prog.add(ell(margin) <= xi, name="loss_kept")
        prog.add(ell(-margin) <= phi, name="loss_flipped")
        prog.add(q + r - phi + xi >= 0, name="flip_dual")
        prog.minimize(reg + C * (om.sum(xi) + float(gamma) * q + om.sum(r)))
    prog.metadata["robust"] = dict(loss=loss, C=C, eps=eps, norm=norm, gamma=gamma)
    return prog


def robust_loss_value(w, b, X, s, *, loss="hinge", eps=0.0, norm="inf", gamma=0.0) -> float:
    r"""numpy value of the worst-case loss sum (without ``C`` and the regulariser): the closed
    form over the ball and the top-:math:`\lfloor\Gamma\rfloor` flips (plus a fraction)."""
    X = np.asarray(X, float)
    s = np.asarray(s, float).ravel()
    m = s * (X @ np.ravel(w) + b)
    sh = eps * dual_norm_value(w, norm)
    f = (
        (lambda t: np.maximum(1 - t + sh, 0))
        if loss == "hinge"
        else (lambda t: np.logaddexp(0.0, -t + sh))
    )
    kept, flipped = f(m), f(-m)
    gain = np.sort(np.maximum(flipped - kept, 0))[::-1]
    g = int(np.floor(gamma))
    extra = gain[:g].sum() + ((gamma - g) * gain[g] if g < gain.size else 0.0)
    return float(kept.sum() + extra)


def robust_linear_regression(
    X,
    y,
    *,
    loss: str = "squared",
    eps: float = 0.0,
    norm="inf",
    alpha: float = 0.0,
) -> Program:
    r"""Robust linear regression against feature perturbations (Xu, Caramanis, Mannor 2009).

    ``loss="absolute"``: :math:`\min \sum_i (|y_i - x_i^\top w - b| + \epsilon\|w\|_q) +
    \alpha\|w\|_2^2`; ``loss="squared"``: :math:`\min \sum_i (|y_i - x_i^\top w - b| +
    \epsilon\|w\|_q)^2 + \alpha\|w\|_2^2`. Both are the exact worst case over the ball.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if X.ndim != 2 or y.shape[0] != X.shape[0]:
        raise ValueError(f"X must be (n, p) and y (n,); got X {X.shape} and y {y.shape}")
    if loss not in ("squared", "absolute"):
        raise ValueError(f"loss must be 'squared' or 'absolute', got {loss!r}")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a number >= 0, got {eps}")
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a number >= 0, got {alpha}")
    norm = check_norm(norm)
    n, p = X.shape
    prog = Program(f"robust_{loss}_regression")
    w = prog.var("w", p, latex="w")
    b = prog.var("b", latex="b")
    worst = om.abs(y - X @ w - b)
    if eps > 0:
        worst = worst + eps * dual_norm(w, norm)
    obj = om.sum_squares(worst) if loss == "squared" else om.sum(worst)
    if alpha > 0:
        obj = obj + alpha * om.sum_squares(w)
    prog.minimize(obj)
    return prog
