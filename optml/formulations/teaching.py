r"""Machine teaching and training-set attacks as mixed-integer programs.

A *teacher* knows the learner :math:`\mathcal A` and wants it to return a target model
:math:`\theta^* = (w^*, b^*)`; she chooses a multiset of examples from a pool
:math:`\{(x_i, y_i)\}_{i=1}^n`, with :math:`c_i \in \{0, \dots, K\}` copies of example
:math:`i` (Zhu 2015; Zhu, Singla, Zilles and Rafferty 2018):

.. math::

    \min_{c \in \{0..K\}^n}\ \sum_i \kappa_i c_i \quad\text{s.t.}\quad
    \theta^* = \arg\min_\theta\ \sum_i c_i\,\ell(\theta; x_i, y_i) + \Omega(\theta),
    \qquad \sum_i c_i \ge 1 .

The lower level is a convex learner, so :math:`\theta^*` is a minimiser exactly when the
learner's optimality conditions hold *at the fixed point* :math:`\theta^*`. There they are
linear in the counts :math:`c` (the losses' derivatives at :math:`\theta^*` are numbers), so
the bilevel program becomes one MILP. It is exact when the minimiser is also unique:

* ridge (``alpha > 0``) and logistic regression: strictly convex in :math:`(w, b)` as soon as
  one example is taught, so the single-level form is exact;
* least squares (``alpha = 0``): unique exactly when the taught rows :math:`[x_i, 1]` have full
  column rank; a lazy family (:meth:`Program.add_lazy`) cuts off each rank-deficient support
  :math:`S` by :math:`\sum_{i \notin S} c_i \ge 1` (every subset of :math:`S` is rank deficient
  too, so the cut removes no teaching set);
* linear SVM: :math:`w` is unique; the intercept is unique exactly when the one-sided
  derivatives of the hinge sum in :math:`b` at :math:`b^*` are nonzero, two linear
  inequalities with integer left-hand sides (so :math:`\ge 1`, exact).

With a tolerance :math:`\tau`, ridge and logistic teaching bound the residual of the optimality
conditions, :math:`\|g(c)\|_\infty \le \tau`; the learned model then lies within
:math:`\|g\|_2/\lambda_{\min}(H)` of the target (:math:`H` the Hessian; for ridge exactly,
:math:`\hat\theta - \theta^* = -H^{-1} g`). The SVM's tolerance is a box around the target
model, where the margins become variables and the KKT conditions keep their complementarity,
written as SOS1 pairs (native in SCIP, big-M rows from the finite bounds derived below
elsewhere).

A *training-set attack* (Mei and Zhu 2015) is the same program seen from the attacker: the
victim's clean data are given, and the attacker removes points, changes labels by at most
:math:`B`, or adds points from a candidate pool, as few (or as cheap) as possible, so that
the ridge learner returns the attacker's model, or any model meeting a prediction constraint
(then the model is a variable and the products of selections and model, binary times bounded
continuous, are linearised exactly with bounds that hold for every data set the attacker can
build, :func:`ridge_model_bounds`).

References: X. Zhu, *Machine teaching: an inverse problem to machine learning and an
approach toward optimal education*, AAAI 2015; X. Zhu, A. Singla, S. Zilles and A. N.
Rafferty, *An overview of machine teaching*, arXiv:1801.05927, 2018; S. Mei and X. Zhu,
*Using machine teaching to identify optimal training-set attacks on machine learners*,
AAAI 2015; S. A. Goldman and M. J. Kearns, *On the complexity of teaching*, JCSS 50, 1995.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from optml.program import Program
from optml.program import sum as om_sum

__all__ = [
    "logistic_gradient",
    "logistic_teaching",
    "ridge_gradient",
    "ridge_model_bounds",
    "ridge_poisoning",
    "ridge_teaching",
    "svm_margins",
    "svm_teaching",
    "threshold_hypotheses",
    "version_space_teaching",
]


# ---------------------------------------------------------------------------------------------
# checks


def _matrix(X, name="X"):
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (n, p): {exc}") from None
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n, p), got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} holds NaN or inf; give finite values")
    return X


def _vector(y, n, name):
    y = np.asarray(y, dtype=float).ravel()
    if y.shape[0] != n:
        raise ValueError(f"{name} must have one entry per row of X ({n}), got {y.shape[0]}")
    if not np.isfinite(y).all():
        raise ValueError(f"{name} holds NaN or inf; give finite values")
    return y


def _signs(s, n):
    s = _vector(s, n, "s")
    if not np.isin(s, (-1.0, 1.0)).all():
        raise ValueError("labels s must be -1 or +1 (map the two classes first)")
    return s


def _target(coef, intercept, p, fit_intercept):
    if coef is None:
        raise ValueError("target_coef is required: the model the learner must return")
    w = np.asarray(coef, dtype=float).ravel()
    if w.shape[0] != p:
        raise ValueError(f"target_coef must have {p} entries (one per feature), got {w.shape[0]}")
    b = float(intercept)
    if not (np.isfinite(w).all() and np.isfinite(b)):
        raise ValueError("target_coef / target_intercept hold NaN or inf")
    if not fit_intercept and b != 0.0:
        raise ValueError(
            f"target_intercept is {b} but fit_intercept=False: a learner without an intercept "
            "returns b = 0; set target_intercept=0 or fit_intercept=True"
        )
    return w, b


def _nonneg(name, v, allow_zero=True):
    if not isinstance(v, numbers.Real) or isinstance(v, bool) or not np.isfinite(v):
        raise TypeError(f"{name} must be a finite number, got {v!r}")
    if v < 0 or (not allow_zero and v == 0):
        raise ValueError(f"{name} must be {'>=' if allow_zero else '>'} 0, got {v}")
    return float(v)


def _copies(max_copies):
    if not isinstance(max_copies, numbers.Integral) or isinstance(max_copies, bool):
        raise TypeError(f"max_copies must be a positive integer, got {max_copies!r}")
    if max_copies < 1:
        raise ValueError(f"max_copies must be >= 1, got {max_copies}")
    return int(max_copies)


def _costs(cost, n, name="cost"):
    if cost is None:
        return np.ones(n)
    c = np.asarray(cost, dtype=float).ravel()
    if c.size == 1:
        c = np.full(n, float(c[0]))
    if c.shape[0] != n:
        raise ValueError(
            f"{name} must be a number or one entry per pool example ({n}), got {c.size}"
        )
    if not np.isfinite(c).all() or (c <= 0).any():
        raise ValueError(f"{name} must be finite and positive (a zero cost makes copies free)")
    return c


def _aug(X, fit_intercept):
    return np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X


def _count_var(prog, n, max_copies, name="count"):
    if max_copies == 1:
        return prog.var(name, shape=n, domain="binary", latex="c")
    return prog.var(name, shape=n, lb=0, ub=max_copies, domain="integer", latex="c")


def _rows(prog, G, h, c, tolerance, name, extra=None):
    """``|G c (+ extra) - h|_inf <= tolerance`` (``== h`` at tolerance 0), rows scaled to unit
    largest coefficient (the tolerance is scaled with them, so the set is the same)."""
    scale = np.maximum(np.abs(G).max(axis=1, initial=0.0), np.abs(h))
    if extra is not None:
        scale = np.maximum(scale, np.abs(extra[1]).max(axis=1, initial=0.0))
    scale = np.where(scale > 0, scale, 1.0)
    e = (G / scale[:, None]) @ c
    if extra is not None:
        e = e + (extra[1] / scale[:, None]) @ extra[0]
    hs = h / scale
    if tolerance == 0.0:
        prog.add(e == hs, name=name)
    else:
        t = tolerance / scale
        prog.add(e <= hs + t, name=f"{name}_upper")
        prog.add(e >= hs - t, name=f"{name}_lower")
    prog.metadata.setdefault("row_scale", {})[name] = scale


def _rank_family(prog, Xt, selections):
    """Lazy cuts for the least-squares learner: a rank-deficient taught support ``S`` is cut
    off by ``sum_{i not in S} sel_i >= 1`` (``selections``: list of (variable, rows of Xt))."""
    d = Xt.shape[1]

    def separator(values):
        used = np.zeros(Xt.shape[0], bool)
        for var, rows, on in selections:
            v = np.asarray(values[var.name], dtype=float).ravel()
            used[rows] = (v > 0.5) if on else (v < 0.5)
        if used.any() and np.linalg.matrix_rank(Xt[used]) == d:
            return []
        terms = []
        for var, rows, on in selections:
            out = np.flatnonzero(~used[rows])
            if out.size:
                terms.append(om_sum(var[out]) if on else out.size - om_sum(var[out]))
        if not terms:  # the whole pool is rank deficient: checked before, kept for safety
            return [om_sum(selections[0][0]) <= -1]
        return [sum(terms[1:], terms[0]) >= 1]

    prog.add_lazy(separator, name="full_rank")


# ---------------------------------------------------------------------------------------------
# gradients at a fixed model (numpy; what the programs' rows are made of)


def ridge_gradient(X, y, counts, coef, intercept=0.0, alpha=1.0, fit_intercept=True):
    r"""Residual of ridge's normal equations at ``(coef, intercept)`` for the multiset
    ``counts``: :math:`g = \sum_i c_i \tilde x_i (y_i - x_i^\top w - b) - \alpha (w, 0)`
    (half the gradient of :math:`\sum_i c_i (y_i - x_i^\top w - b)^2 + \alpha\|w\|^2`, with
    :math:`\tilde x_i = (x_i, 1)` when the intercept is fitted)."""
    X = _matrix(X)
    y = _vector(y, X.shape[0], "y")
    c = _vector(counts, X.shape[0], "counts")
    w = np.asarray(coef, dtype=float).ravel()
    r = y - X @ w - intercept
    g = _aug(X, fit_intercept).T @ (c * r)
    g[: w.size] -= alpha * w
    return g


def logistic_gradient(X, s, counts, coef, intercept=0.0, C=1.0, fit_intercept=True):
    r"""Gradient of :math:`\tfrac12\|w\|^2 + C\sum_i c_i \log(1 + e^{-s_i(x_i^\top w + b)})`
    (scikit-learn's ``LogisticRegression(C=C)``) at ``(coef, intercept)``."""
    X = _matrix(X)
    s = _signs(s, X.shape[0])
    c = _vector(counts, X.shape[0], "counts")
    w = np.asarray(coef, dtype=float).ravel()
    m = s * (X @ w + intercept)
    g = -C * (_aug(X, fit_intercept).T @ (c * s * expit(-m)))
    g[: w.size] += w
    return g


def svm_margins(X, s, coef, intercept=0.0):
    """Margins :math:`s_i (x_i^\\top w + b)` of the pool at a model."""
    X = _matrix(X)
    s = _signs(s, X.shape[0])
    return s * (X @ np.asarray(coef, dtype=float).ravel() + float(intercept))


# ---------------------------------------------------------------------------------------------
# teaching


def _teaching_inputs(X, target_coef, target_intercept, fit_intercept, tolerance, max_copies, cost):
    """The checked inputs every teaching program shares:
    ``(X, n, p, w, b, tolerance, max_copies, cost)``."""
    X = _matrix(X)
    n, p = X.shape
    w, b = _target(target_coef, target_intercept, p, fit_intercept)
    tolerance = _nonneg("tolerance", tolerance)
    return X, n, p, w, b, tolerance, _copies(max_copies), _costs(cost, n)


def _finish(prog, c, cost):
    prog.add(om_sum(c) >= 1, name="nonempty")
    prog.minimize(cost @ c)


def ridge_teaching(
    X,
    y,
    target_coef,
    target_intercept=0.0,
    *,
    alpha: float = 1.0,
    fit_intercept: bool = True,
    tolerance: float = 0.0,
    cost=None,
    max_copies: int = 1,
) -> Program:
    r"""The optimal teaching set of the ridge learner
    :math:`\min_{w,b} \sum_i c_i (y_i - x_i^\top w - b)^2 + \alpha\|w\|_2^2` (scikit-learn's
    ``Ridge(alpha)``, intercept unpenalised; ``alpha = 0``: least squares) as a MILP:

    .. math::

        \min_{c}\ \kappa^\top c \quad\text{s.t.}\quad
        \Big\|\sum_i c_i r_i \tilde x_i - \alpha (w^*, 0)\Big\|_\infty \le \tau,\quad
        \mathbf 1^\top c \ge 1,\quad c \in \{0..K\}^n,

    with the residuals :math:`r_i = y_i - x_i^\top w^* - b^*` of the target (numbers).
    ``tolerance = 0`` writes the normal equations as equalities. ``alpha = 0`` adds the lazy
    full-rank family (uniqueness of the least-squares fit).
    """
    X, n, p, w, b, tolerance, K, kappa = _teaching_inputs(
        X, target_coef, target_intercept, fit_intercept, tolerance, max_copies, cost
    )
    y = _vector(y, n, "y")
    alpha = _nonneg("alpha", alpha)
    Xt = _aug(X, fit_intercept)
    r = y - X @ w - b
    G = Xt.T * r  # (d, n)
    h = np.zeros(Xt.shape[1])
    h[:p] = alpha * w
    prog = Program("ridge_teaching")
    c = _count_var(prog, n, K)
    _rows(prog, G, h, c, tolerance, "normal_equations")
    _finish(prog, c, kappa)
    if alpha == 0.0:
        if np.linalg.matrix_rank(Xt) < Xt.shape[1]:
            # no multiset of the pool identifies a unique least-squares fit
            prog.add(om_sum(c) <= 0, name="full_rank_pool")
        else:
            _rank_family(prog, Xt, [(c, np.arange(n), True)])
    prog.metadata.update(
        learner="ridge", residuals=r, target=(w, b), exact_single_level=True, max_copies=K
    )
    return prog


def logistic_teaching(
    X,
    s,
    target_coef,
    target_intercept=0.0,
    *,
    C: float = 1.0,
    fit_intercept: bool = True,
    tolerance: float = 0.0,
    cost=None,
    max_copies: int = 1,
) -> Program:
    r"""The optimal teaching set of L2 logistic regression
    :math:`\min_{w,b} \tfrac12\|w\|^2 + C\sum_i c_i \log(1 + e^{-s_i(x_i^\top w + b)})`
    (scikit-learn's ``LogisticRegression(C=C)``) as a MILP: its stationarity at the target,

    .. math:: \Big\|(w^*, 0) - C\sum_i c_i\, s_i\, \sigma(-m_i)\, \tilde x_i\Big\|_\infty \le \tau,
        \qquad m_i = s_i(x_i^\top w^* + b^*),

    is linear in the counts; with an intercept both classes are taught (else the learner
    has no minimiser: the loss decreases forever in :math:`b`). Exact equality (``tolerance = 0``) is met only by targets that a
    multiset of the pool fits exactly; ``tolerance > 0`` is the practical form.
    """
    X, n, p, w, b, tolerance, K, kappa = _teaching_inputs(
        X, target_coef, target_intercept, fit_intercept, tolerance, max_copies, cost
    )
    s = _signs(s, n)
    C = _nonneg("C", C, allow_zero=False)
    Xt = _aug(X, fit_intercept)
    m = s * (X @ w + b)
    G = C * (Xt.T * (s * expit(-m)))
    h = np.zeros(Xt.shape[1])
    h[:p] = w
    prog = Program("logistic_teaching")
    c = _count_var(prog, n, K)
    _rows(prog, G, h, c, tolerance, "stationarity")
    if fit_intercept:
        # with one class only the loss decreases forever in b: no minimiser to teach
        prog.add(om_sum(c[np.flatnonzero(s > 0)]) >= 1, name="positive_taught")
        prog.add(om_sum(c[np.flatnonzero(s < 0)]) >= 1, name="negative_taught")
    _finish(prog, c, kappa)
    prog.metadata.update(
        learner="logistic", margins=m, target=(w, b), exact_single_level=True, max_copies=K
    )
    return prog


def svm_teaching(
    X,
    s,
    target_coef,
    target_intercept=0.0,
    *,
    C: float = 1.0,
    fit_intercept: bool = True,
    tolerance: float = 0.0,
    cost=None,
    max_copies: int = 1,
    margin_tol: float = 1e-9,
) -> Program:
    r"""The optimal teaching set of the soft-margin linear SVM
    :math:`\min_{w,b} \tfrac12\|w\|^2 + C\sum_i c_i (1 - s_i(x_i^\top w + b))_+`
    (scikit-learn's ``SVC(kernel="linear", C=C)``).

    ``tolerance = 0`` (the exact target): with the margins :math:`m_i` of the target fixed,
    the KKT conditions need no complementarity: :math:`\alpha_i = C c_i` (:math:`m_i < 1`),
    :math:`\alpha_i = 0` (:math:`m_i > 1`), :math:`0 \le \alpha_i \le C c_i` (:math:`m_i = 1`,
    within ``margin_tol``), and

    .. math:: w^* = \sum_i \alpha_i s_i x_i,\quad \sum_i \alpha_i s_i = 0,\quad
        -\!\!\sum_{m_i<1}\! c_i s_i + \!\!\sum_{m_i=1,s_i=-1}\!\! c_i \ge 1,\quad
        -\!\!\sum_{m_i<1}\! c_i s_i - \!\!\sum_{m_i=1,s_i=+1}\!\! c_i \le -1,

    the last two the one-sided derivatives of the hinge sum in :math:`b` (divided by
    :math:`C`): integers, nonzero exactly when the intercept is unique. A MILP, exact.

    ``tolerance > 0``: the learner's model :math:`(w, b)` may be any point of the box
    :math:`\|(w, b) - (w^*, b^*)\|_\infty \le \tau`; margins are variables, and the KKT system
    keeps its complementarity :math:`\alpha_i \perp u_i = m_i - 1 + \xi_i` and
    :math:`(C c_i - \alpha_i) \perp \xi_i` as SOS1 pairs. Every variable has a finite bound
    derived from the box (so the big-M rows of solvers without SOS1 are valid):
    :math:`\alpha_i \le CK`, :math:`\xi_i \le (1 - \underline m_i)_+`,
    :math:`u_i \le \overline m_i - 1 + (1 - \underline m_i)_+`. This form certifies that *an*
    optimal model lies in the box (``w`` is unique; the intercept is unique only with a free
    support vector).
    """
    X, n, p, w, b, tolerance, K, kappa = _teaching_inputs(
        X, target_coef, target_intercept, fit_intercept, tolerance, max_copies, cost
    )
    s = _signs(s, n)
    C = _nonneg("C", C, allow_zero=False)
    m = s * (X @ w + b)
    prog = Program("svm_teaching")
    c = _count_var(prog, n, K)
    if tolerance == 0.0:
        eps = margin_tol * max(1.0, float(np.abs(m).max()))
        L = m < 1 - eps
        E = np.abs(m - 1) <= eps
        Gc = np.zeros((p + 1, n))
        Gc[:p, L] = C * (X[L].T * s[L])
        Gc[p, L] = C * s[L]
        h = np.r_[w, 0.0]
        rows = slice(None) if fit_intercept else slice(0, p)
        if E.any():
            a = prog.var("alpha", shape=int(E.sum()), lb=0, ub=C * K, latex=r"\alpha")
            Ga = np.vstack([X[E].T * s[E], s[E][None, :]])
            _rows(prog, Gc[rows], h[rows], c, 0.0, "stationarity", extra=(a, Ga[rows]))
            prog.add(a - C * c[np.flatnonzero(E)] <= 0, name="alpha_upper")
        else:
            _rows(prog, Gc[rows], h[rows], c, 0.0, "stationarity")
        if fit_intercept:
            dplus = np.where(L, -s, 0.0) + np.where(E & (s < 0), 1.0, 0.0)
            dminus = np.where(L, -s, 0.0) - np.where(E & (s > 0), 1.0, 0.0)
            prog.add(dplus @ c >= 1, name="intercept_unique_right")
            prog.add(dminus @ c <= -1, name="intercept_unique_left")
        prog.metadata["margin_sets"] = {"below": L, "on": E, "above": ~(L | E)}
    else:
        wv = prog.var("w", shape=p, lb=w - tolerance, ub=w + tolerance)
        reach = tolerance * (np.abs(X).sum(axis=1) + (1.0 if fit_intercept else 0.0))
        mlo, mhi = m - reach, m + reach
        ximax = np.maximum(0.0, 1.0 - mlo)
        umax = np.maximum(0.0, mhi - 1.0 + ximax)
        # SOS1 pairs: (alpha_i, u_i) in block "au", (v_i = C c_i - alpha_i, xi_i) in "vxi"
        au = prog.var("au", shape=2 * n, lb=0, ub=np.r_[np.full(n, C * K), umax])
        vx = prog.var("vxi", shape=2 * n, lb=0, ub=np.r_[np.full(n, C * K), ximax])
        alpha, u, v, xi = au[:n], au[n:], vx[:n], vx[n:]
        margin = (X * s[:, None]) @ wv
        if fit_intercept:
            bv = prog.var("b", lb=b - tolerance, ub=b + tolerance)
            margin = margin + s * bv
            prog.add(s @ alpha == 0, name="stationarity_b")
        prog.add(u - margin - xi == -1.0, name="margin_slack")
        prog.add(v + alpha - C * c == 0, name="alpha_upper")
        prog.add((X.T * s) @ alpha - wv == 0, name="stationarity_w")
        for i in range(n):
            prog.add_sos1(au, index=[i, n + i])
            prog.add_sos1(vx, index=[i, n + i])
    _finish(prog, c, kappa)
    prog.metadata.update(
        learner="svm", margins=m, target=(w, b), exact_single_level=tolerance == 0.0, max_copies=K
    )
    return prog


# ---------------------------------------------------------------------------------------------
# training-set attacks


def ridge_model_bounds(
    X, y, alpha, fit_intercept=True, label_budget=0.0, X_pool=None, y_pool=None, max_copies=1
):
    r"""Bounds on the ridge model learned from *any* data set the attacker can build (clean
    points kept or removed, labels moved by at most :math:`B`, pool points added up to
    :math:`K` times), for ``alpha > 0``.

    At the optimum the objective is at most its value at :math:`w = 0, b = eta` (any
    :math:`eta`; :math:`eta = 0` without an intercept), so :math:`lpha\|w\|_2^2 \le Y_2
    = \sum_{	ext{clean}} (|y_i - eta| + B)^2 + K\sum_{	ext{pool}} (y_j - eta)^2` and
    :math:`|w_j| \le R = \sqrt{Y_2/lpha}` (:math:`eta` the mean label); the intercept is a
    weighted mean of :math:`y_i - x_i^	op w`, so it lies in
    :math:`[\min_i y_i - B - R\max_i\|x_i\|_2,\ \max_i y_i + B + R\max_i\|x_i\|_2]`.
    Returns ``(lower, upper)`` on :math:`(w, b)` (or :math:`w`).
    """
    if not alpha > 0:
        raise ValueError("model bounds need alpha > 0 (least squares has no a-priori bound)")
    y = np.asarray(y, dtype=float)
    yp = np.zeros(0) if y_pool is None else np.asarray(y_pool, dtype=float)
    beta = float(np.r_[y, yp].mean()) if fit_intercept else 0.0
    Y2 = float(np.sum((np.abs(y - beta) + label_budget) ** 2))
    Y2 += max_copies * float(np.sum((yp - beta) ** 2))
    R = np.sqrt(Y2 / alpha)
    xs = [X] if X_pool is None else [X, X_pool]
    xmax = max(float(np.linalg.norm(v, axis=1).max(initial=0.0)) for v in xs)
    p = X.shape[1]
    lo, hi = np.full(p, -R), np.full(p, R)
    if fit_intercept:
        ally = np.r_[y, yp]
        lo = np.r_[lo, ally.min() - label_budget - R * xmax]
        hi = np.r_[hi, ally.max() + label_budget + R * xmax]
    return lo, hi


def ridge_poisoning(
    X,
    y,
    *,
    target_coef=None,
    target_intercept=0.0,
    target_prediction=None,
    alpha: float = 1.0,
    fit_intercept: bool = True,
    tolerance: float = 0.0,
    X_pool=None,
    y_pool=None,
    max_copies: int = 1,
    remove: bool = False,
    label_budget: float = 0.0,
    add_cost=1.0,
    remove_cost=1.0,
    label_cost=1.0,
) -> Program:
    r"""The cheapest training-set attack on the ridge learner (Mei and Zhu 2015).

    Decisions: keep :math:`k_i \in \{0,1\}` each clean point (``remove=True``; else all kept),
    move its label by :math:`\delta_i \in [-B z_i, B z_i]` with :math:`z_i \in \{0,1\}`
    (``label_budget = B > 0``), add :math:`a_j \in \{0..K\}` copies of pool point :math:`j`.
    Cost :math:`\kappa_r^\top(1 - k) + \kappa_l^\top z + \kappa_a^\top a`.

    *Target model* (``target_coef``): the normal equations at :math:`\theta^*`,

    .. math:: \Big\|\sum_i \tilde x_i (k_i r_i + \delta_i) + \sum_j a_j r_j \tilde x_j
        - \alpha (w^*, 0)\Big\|_\infty \le \tau,

    linear, a MILP (``alpha = 0``: the lazy full-rank family of :func:`ridge_teaching`).

    *Target prediction* (``target_prediction=(x0, lower, upper)``: the learned model must
    satisfy :math:`lower \le x_0^\top w + b \le upper` row by row): the model :math:`\theta`
    is a variable, the normal equations
    :math:`\sum_i \tilde x_i (k_i y_i + \delta_i) - \tilde x_i \tilde x_i^\top P_i + \dots
    = \alpha (w, 0)` use :math:`P_i = k_i \theta`, linearised exactly (McCormick, binary
    :math:`k_i`) within the bounds of :func:`ridge_model_bounds` (``alpha > 0`` needed);
    pool copies become binaries (one per copy). Exact: with ``alpha > 0`` the learner's
    minimiser is unique and the normal equations determine it.
    """
    X = _matrix(X)
    n0, p = X.shape
    y = _vector(y, n0, "y")
    alpha = _nonneg("alpha", alpha)
    tolerance = _nonneg("tolerance", tolerance)
    B = _nonneg("label_budget", label_budget)
    K = _copies(max_copies)
    if (target_coef is None) == (target_prediction is None):
        raise ValueError(
            "give exactly one of target_coef (the attacker's model) or target_prediction "
            "((x0, lower, upper): a constraint on the learned model's predictions)"
        )
    has_pool = X_pool is not None
    if has_pool:
        Xp = _matrix(X_pool, "X_pool")
        if Xp.shape[1] != p:
            raise ValueError(f"X_pool has {Xp.shape[1]} features, X has {p}")
        yp = _vector(y_pool, Xp.shape[0], "y_pool")
    elif y_pool is not None:
        raise ValueError("y_pool given without X_pool")
    if not (remove or B > 0 or has_pool):
        raise ValueError(
            "the attacker can do nothing: allow remove=True, label_budget > 0 or give a "
            "candidate pool (X_pool, y_pool)"
        )
    kr = _costs(remove_cost, n0, "remove_cost")
    kl = _costs(label_cost, n0, "label_cost")
    Xt = _aug(X, fit_intercept)
    d = Xt.shape[1]
    prog = Program("ridge_poisoning")
    cost = 0.0
    count = 0.0
    keep = None
    if remove:
        keep = prog.var("keep", shape=n0, domain="binary", latex="k")
        cost = cost + kr @ (1 - keep)
        count = count + om_sum(keep)
    else:
        count = count + n0
    delta = z = None
    if B > 0:
        delta = prog.var("delta", shape=n0, lb=-B, ub=B, latex=r"\delta")
        z = prog.var("relabel", shape=n0, domain="binary", latex="z")
        prog.add(delta - B * z <= 0, name="relabel_up")
        prog.add(-delta - B * z <= 0, name="relabel_down")
        if remove:
            prog.add(delta - B * keep <= 0, name="relabel_kept_up")
            prog.add(-delta - B * keep <= 0, name="relabel_kept_down")
        cost = cost + kl @ z
    add = None
    if has_pool:
        ka = _costs(add_cost, Xp.shape[0], "add_cost")
        Xpt = _aug(Xp, fit_intercept)
        if target_prediction is not None and K > 1:
            # copies as binaries: products with the model stay exactly linearisable
            Xp, yp, Xpt, ka = (np.repeat(v, K, axis=0) for v in (Xp, yp, Xpt, ka))
            prog.metadata["pool_repeat"] = K
        add = _count_var(prog, Xp.shape[0], 1 if target_prediction is not None else K, "add")
        cost = cost + ka @ add
        count = count + om_sum(add)
    if not isinstance(count, numbers.Real):
        prog.add(count >= 1, name="nonempty")

    if target_coef is not None:
        w, b = _target(target_coef, target_intercept, p, fit_intercept)
        r = y - X @ w - b
        h = np.zeros(d)
        h[:p] = alpha * w
        const = Xt.T @ r if keep is None else np.zeros(d)
        parts = []
        if keep is not None:
            parts.append((keep, Xt.T * r))
        if delta is not None:
            parts.append((delta, Xt.T))
        if add is not None:
            parts.append((add, Xpt.T * (yp - Xp @ w - b)))
        e = parts[0][1] @ parts[0][0]
        for v, G in parts[1:]:
            e = e + G @ v
        e = e + const - h
        scale = np.maximum.reduce(
            [np.abs(G).max(axis=1) for _, G in parts] + [np.abs(h), np.abs(const)]
        )
        scale = np.where(scale > 0, scale, 1.0)
        e = e * (1.0 / scale)
        if tolerance == 0.0:
            prog.add(e == 0, name="normal_equations")
        else:
            prog.add(e <= tolerance / scale, name="normal_equations_upper")
            prog.add(e >= -tolerance / scale, name="normal_equations_lower")
        prog.metadata.update(target=(w, b), residuals=r)
        if alpha == 0.0:
            rowsX = np.vstack([Xt] + ([Xpt] if has_pool else []))
            if np.linalg.matrix_rank(rowsX) < d:
                # no data set the attacker can build identifies a unique least-squares fit
                v = prog.var("rank_deficient", lb=0, ub=0)
                prog.add(v >= 1, name="full_rank_pool")
            else:
                sel = []
                if keep is not None:
                    sel.append((keep, np.arange(n0), True))
                if add is not None:
                    sel.append((add, n0 + np.arange(Xpt.shape[0]), True))
                if keep is None:  # kept clean points always count: check them with the rest
                    if np.linalg.matrix_rank(Xt) < d:
                        _rank_family_fixed(prog, Xt, Xpt, add)  # rank full: add is not None
                else:
                    _rank_family(prog, rowsX, sel)
    else:
        if alpha == 0.0:
            raise ValueError(
                "target_prediction needs alpha > 0 (the bounds on the learned model that make "
                "the linearisation exact come from the ridge penalty)"
            )
        x0, lo, hi = target_prediction
        x0 = _matrix(np.atleast_2d(np.asarray(x0, dtype=float)), "target_prediction x0")
        if x0.shape[1] != p:
            raise ValueError(f"target_prediction x0 must have {p} features, got {x0.shape[1]}")
        lo = np.broadcast_to(np.asarray(-np.inf if lo is None else lo, float), (x0.shape[0],))
        hi = np.broadcast_to(np.asarray(np.inf if hi is None else hi, float), (x0.shape[0],))
        tl, tu = ridge_model_bounds(
            X, y, alpha, fit_intercept, B, Xp if has_pool else None, yp if has_pool else None, 1
        )
        theta = prog.var("theta", shape=d, lb=tl, ub=tu, latex=r"\theta")
        D = np.zeros(d)
        D[:p] = alpha
        e = -(D * theta)
        if keep is None:
            e = e + Xt.T @ y - (Xt.T @ Xt) @ theta
        else:
            e = e + (Xt.T * y) @ keep - _products(prog, keep, theta, Xt, tl, tu, "P")
        if delta is not None:
            e = e + Xt.T @ delta
        if add is not None:
            e = e + (Xpt.T * yp) @ add - _products(prog, add, theta, Xpt, tl, tu, "Q")
        scale = max(1.0, float(np.abs(Xt).max()) ** 2 * (n0 + (0 if add is None else add.size)))
        prog.add(e * (1.0 / scale) == 0, name="normal_equations")
        pred = x0 @ theta[:p] + (theta[p] if fit_intercept else 0.0)
        if np.isfinite(lo).any():
            prog.add(
                pred[np.flatnonzero(np.isfinite(lo))] >= lo[np.isfinite(lo)],
                name="prediction_lower",
            )
        if np.isfinite(hi).any():
            prog.add(
                pred[np.flatnonzero(np.isfinite(hi))] <= hi[np.isfinite(hi)],
                name="prediction_upper",
            )
        prog.metadata.update(model_bounds=(tl, tu), target_prediction=(x0, lo, hi))
    prog.minimize(cost)
    prog.metadata.update(learner="ridge", exact_single_level=True)
    return prog


def _products(prog, sel, theta, Xt, tl, tu, name):
    r"""``sum_i xt_i xt_i^T (sel_i theta)`` with :math:`P_i = sel_i\theta` linearised exactly
    (McCormick; ``sel`` binary, ``theta`` in ``[tl, tu]``)."""
    n, d = Xt.shape
    P = prog.var(
        name, shape=n * d, lb=np.tile(np.minimum(tl, 0), n), ub=np.tile(np.maximum(tu, 0), n)
    )
    S = sp.kron(sp.eye(n), np.ones((d, 1)), format="csr")  # sel repeated d times
    T = sp.kron(np.ones((n, 1)), sp.eye(d), format="csr")  # theta stacked n times
    lo, hi = np.tile(tl, n), np.tile(tu, n)
    Ssel = S @ sel
    Tth = T @ theta
    prog.add(P - hi * Ssel <= 0, name=f"{name}_mc1")
    prog.add(P - lo * Ssel >= 0, name=f"{name}_mc2")
    prog.add(P - Tth + lo * (1 - Ssel) <= 0, name=f"{name}_mc3")
    prog.add(P - Tth + hi * (1 - Ssel) >= 0, name=f"{name}_mc4")
    M = (Xt[:, :, None] * Xt[:, None, :]).transpose(1, 0, 2).reshape(d, n * d)
    return M @ P


def _rank_family_fixed(prog, Xt, Xpt, add):
    """Least squares with every clean point kept: the pool rows must complete their rank."""
    d = Xt.shape[1]

    def separator(values):
        used = np.asarray(values[add.name], dtype=float).ravel() > 0.5
        if np.linalg.matrix_rank(np.vstack([Xt, Xpt[used]])) == d:
            return []
        return [om_sum(add[np.flatnonzero(~used)]) >= 1]

    prog.add_lazy(separator, name="full_rank")


# ---------------------------------------------------------------------------------------------
# finite hypothesis classes: the classic teaching dimension


def threshold_hypotheses(points):
    r"""The 1-D threshold class on ``points``: :math:`h_t(x) = +1` if :math:`x \ge t`, else
    :math:`-1`, one hypothesis per distinct labelling (thresholds below, between and above
    the sorted points): an ``(n + 1, n)`` array of labels."""
    x = np.sort(np.asarray(points, dtype=float).ravel())
    cuts = np.r_[x[0] - 1.0, (x[:-1] + x[1:]) / 2, x[-1] + 1.0]
    return np.where(x[None, :] >= cuts[:, None], 1, -1)


def version_space_teaching(H, target: int, cost=None) -> Program:
    r"""The smallest teaching set of hypothesis ``target`` in the finite class ``H`` (rows:
    hypotheses, columns: the labels they give the pool) for a consistent learner (Goldman and
    Kearns 1995): every other hypothesis must disagree with the target on a taught example,

    .. math:: \min_z \kappa^\top z\quad\text{s.t.}\quad
        \sum_{i:\,h(x_i) \ne h^*(x_i)} z_i \ge 1\ \ (h \ne h^*),\qquad z \in \{0,1\}^n,

    a set cover. Hypotheses that label the pool as the target does are the target (same
    concept on this pool)."""
    H = np.asarray(H)
    if H.ndim != 2 or H.shape[0] < 1:
        raise ValueError(f"H must be a 2-D array (hypotheses, points), got shape {H.shape}")
    if not (isinstance(target, numbers.Integral) and 0 <= target < H.shape[0]):
        raise ValueError(f"target must be a row index of H in [0, {H.shape[0]}), got {target!r}")
    n = H.shape[1]
    kappa = _costs(cost, n)
    D = H != H[target][None, :]
    D = D[D.any(axis=1)].astype(float)
    D = np.unique(D, axis=0)
    prog = Program("version_space_teaching")
    z = prog.var("count", shape=n, domain="binary", latex="z")
    if D.shape[0]:
        prog.add(D @ z >= 1, name="eliminate")
    prog.minimize(kappa @ z)
    prog.metadata.update(learner="version_space", n_other=int(D.shape[0]))
    return prog
