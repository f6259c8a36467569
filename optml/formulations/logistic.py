r"""Logistic regression as a mathematical program: the exponential-cone form, and the
piecewise-linear outer approximation for cardinality-constrained (sparse) fits.

With labels :math:`s_i \in \{-1, +1\}`, margins :math:`u_i = s_i(x_i^\top w + b)` and the
log-loss :math:`\ell(u) = \log(1 + e^{-u})`, scikit-learn's parameterisation is

.. math:: \min_{w, b}\ C \sum_i \ell(u_i) + R(w), \qquad
    R(w) = \tfrac12\|w\|_2^2\ (\text{"l2"}),\ \|w\|_1\ (\text{"l1"}),\ 0\ (\text{None}).

``om.logistic`` lowers :math:`\ell` to two exponential cones per sample (an EXP program, solved
by Clarabel / SCS / ECOS through cvxpy).

Sparse logistic regression adds :math:`\|w\|_0 \le k` with binaries :math:`z_j`,
:math:`|w_j| \le M_j z_j`, :math:`\sum_j z_j \le k`. Its exact form is a mixed-integer
exponential-cone program (MIEXP). The outer approximation of Sato, Takano, Miyashiro & Yoshise
(2016) replaces :math:`\ell` by the maximum of its tangent lines at points :math:`v_{ik}`,

.. math:: t_i \ge \ell(v_{ik}) + \ell'(v_{ik})(u_i - v_{ik}), \quad t_i \ge 0,

(and, for the L2 penalty, :math:`q_j \ge \tfrac12 c_{jk}^2 + c_{jk}(w_j - c_{jk})`), a MILP
whose optimum is a lower bound on the true one, because the tangents under-estimate convex
functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import expit

import optml.program as om
from optml.formulations.classification import _check_labels, _linear_values
from optml.program import Program
from optml.program.structured import StructuredProblem

__all__ = [
    "LogisticProblem",
    "MultinomialLogisticProblem",
    "SparseMultinomialProblem",
    "chain_values",
    "multinomial_logistic_regression",
    "multinomial_objective",
    "softmax_loss",
    "sparse_multinomial_logistic_regression",
    "log_loss",
    "logistic_objective",
    "logistic_regression",
    "sparse_logistic_regression",
]


def log_loss(u) -> np.ndarray:
    r""":math:`\ell(u) = \log(1 + e^{-u})`, elementwise and overflow-safe."""
    return np.logaddexp(0.0, -np.asarray(u, dtype=float))


def _check(X, s, C, penalty):
    X, s = _check_labels(X, s, C)
    if penalty not in ("l2", "l1", None):
        raise ValueError(f"penalty must be 'l2', 'l1' or None, got {penalty!r}")
    return X, s


def _penalized(loss, w, penalty):
    """``loss`` plus the penalty of the coefficients ``w`` (``"l2"``: half the squared norm,
    ``"l1"``: the l1 norm, None: nothing), as an expression."""
    if penalty == "l2":
        return loss + 0.5 * om.sum_squares(w)
    if penalty == "l1":
        return loss + om.norm1(w)
    return loss


def _check_sparse(k, p, formulation, w_bound, b_bound, model):
    """The arguments the sparse (cardinality-constrained) programs share, checked."""
    if not (isinstance(k, int | np.integer) and 1 <= k <= p):
        raise ValueError(f"k must be an integer in [1, {p}], got {k!r}")
    if formulation not in ("outer", "exp-cone"):
        raise ValueError(f"formulation must be 'outer' or 'exp-cone', got {formulation!r}")
    if w_bound is None or b_bound is None:
        raise ValueError(f"{model} needs finite w_bound and b_bound (big-M)")


def logistic_objective(X, s, w, b, C: float, penalty: str | None) -> float:
    r""":math:`C\sum_i \ell(s_i(x_i^\top w + b)) + R(w)` with numpy (what the program evaluates)."""
    w = np.asarray(w, dtype=float).ravel()
    u = s * (X @ w + float(b))
    reg = 0.0 if penalty is None else (0.5 * w @ w if penalty == "l2" else np.abs(w).sum())
    return float(C * log_loss(u).sum() + reg)


@dataclass(eq=False)
class LogisticProblem(StructuredProblem):
    r"""One binary logistic regression instance (labels ``s`` in {-1, +1}), kind ``"logistic"``.

    Its program is :func:`logistic_regression` (an EXP program for conic solvers); the default
    solver is optml's ``"newton"`` (:mod:`optml.algorithms.newton`), certified by a duality
    gap. :meth:`evaluate` checks a point on the raw data, without building the program.
    ``tol`` and ``max_iter`` are the Newton solver's gradient tolerance and iteration limit.
    """

    kind: ClassVar[str] = "logistic"
    default_solver: ClassVar[str | None] = "newton"

    X: np.ndarray
    s: np.ndarray
    C: float = 1.0
    penalty: str | None = "l2"
    tol: float = 1e-10
    max_iter: int = 100

    def __post_init__(self):
        self.X, self.s = _check(self.X, self.s, self.C, self.penalty)
        self.C = float(self.C)

    def build_program(self) -> Program:
        return logistic_regression(self.X, self.s, C=self.C, penalty=self.penalty)

    def evaluate(self, values) -> tuple[float, float]:
        w, b = _linear_values(values)
        return logistic_objective(self.X, self.s, w, b, self.C, self.penalty), 0.0

    @property
    def problem_class(self) -> str:
        return "EXP"


def logistic_regression(X, s, C: float = 1.0, penalty: str | None = "l2") -> Program:
    r"""scikit-learn's logistic regression, :math:`C\sum_i \ell(u_i) + R(w)`, as an EXP program."""
    X, s = _check(X, s, C, penalty)
    n, p = X.shape
    prog = Program(f"logistic_regression_{penalty or 'none'}")
    w = prog.var("w", p, latex="w")
    b = prog.var("b", latex="b")
    u = (s[:, None] * X) @ w + s * b
    prog.minimize(_penalized(float(C) * om.sum(om.logistic(-u)), w, penalty))
    return prog


def sparse_logistic_regression(
    X,
    s,
    k: int,
    C: float = 1.0,
    penalty: str | None = "l2",
    w_bound=None,
    b_bound=None,
    formulation: str = "outer",
    points=None,
    w_points=None,
) -> Program:
    r"""Cardinality-constrained logistic regression: :math:`\|w\|_0 \le k`.

    Parameters
    ----------
    k : int
        Largest number of nonzero coefficients.
    w_bound, b_bound : float or array
        Valid bounds :math:`|w_j| \le M_j`, :math:`|b| \le M_b` (the big-M values).
    formulation : {"outer", "exp-cone"}
        ``"outer"``: the tangent-line MILP (Sato et al. 2016), a relaxation whose optimum is a
        lower bound; ``"exp-cone"``: the exact MIEXP program.
    points : array (m,) or (n, m)
        Tangent points :math:`v_{ik}` of the log-loss (shared, or one row per sample).
    w_points : array (m,) or (p, m)
        Tangent points of :math:`\frac12 w_j^2` (L2 penalty, outer form).
    """
    X, s = _check(X, s, C, penalty)
    n, p = X.shape
    _check_sparse(k, p, formulation, w_bound, b_bound, "sparse logistic regression")
    Mw = np.broadcast_to(np.asarray(w_bound, dtype=float), (p,))
    Mb = float(b_bound)
    prog = Program(f"sparse_logistic_{formulation}")
    w = prog.var("w", p, lb=-Mw, ub=Mw, latex="w")
    b = prog.var("b", lb=-Mb, ub=Mb, latex="b")
    z = prog.var("z", p, domain="binary", latex="z")
    prog.add(w - Mw * z <= 0, name="bigm_up")
    prog.add(w + Mw * z >= 0, name="bigm_lo")
    prog.add(om.sum(z) <= int(k), name="cardinality")
    u = (s[:, None] * X) @ w + s * b
    C = float(C)
    if formulation == "exp-cone":
        prog.minimize(_penalized(C * om.sum(om.logistic(-u)), w, penalty))
        return prog
    V = np.linspace(-6.0, 6.0, 13) if points is None else np.asarray(points, dtype=float)
    V = np.broadcast_to(V, (n, V.shape[-1])) if V.ndim == 1 else V
    # the margins as variables: each tangent row then has two nonzeros instead of p + 2 (the
    # first round's MILP of 300 samples x 40 features: 177 000 -> 20 000 nonzeros; HiGHS's
    # root LP, which reads no clock, ran seconds past the time limit on the dense form)
    mu = prog.var("margin", n, latex="m")
    prog.add(mu - u == 0, name="margins")
    t = prog.var("t", n, lb=0.0, latex="t")
    for j in range(V.shape[1]):
        v = V[:, j]
        g = -expit(-v)  # l'(v)
        prog.add(t - g * mu >= log_loss(v) - g * v, name=f"tangent{j}")
    obj = C * om.sum(t)
    if penalty == "l2":
        Wp = np.linspace(-1.0, 1.0, 5) * Mw[:, None] if w_points is None else w_points
        Wp = np.broadcast_to(np.asarray(Wp, dtype=float), (p, np.shape(Wp)[-1]))
        q = prog.var("q", p, lb=0.0, latex="q")
        for j in range(Wp.shape[1]):
            c = Wp[:, j]
            prog.add(q - c * w >= -0.5 * c * c, name=f"quad_tangent{j}")
        obj = obj + om.sum(q)
    elif penalty == "l1":
        obj = obj + om.norm1(w)
    prog.minimize(obj)
    return prog


@dataclass(eq=False, kw_only=True)
class _SparseOAProblem(StructuredProblem):
    """What the sparse logistic problems share (keyword-only fields, after each subclass's
    data): valid big-M values ``mw`` (coefficients) and ``mb`` (intercepts), the incumbent
    ``start`` of objective ``upper``, the outer approximation's round limit and the solver of
    its MILP rounds (``sub_backend`` / ``sub_solver``)."""

    mw: float
    mb: float
    start: tuple = ()
    upper: float = float("inf")
    max_rounds: int = 50
    sub_backend: str = "auto"
    sub_solver: str | None = None

    def _budget_violation(self, z, w, b) -> float:
        """Largest violation of the budget constraints at ``(w, b)`` with indicators ``z``:
        integrality, cardinality ``sum(z) <= k``, ``|w_j| <= mw z_j``, ``|b| <= mb``."""
        return max(
            float(np.abs(z - np.round(z)).max(initial=0.0)),
            float(max(z.sum() - self.k, 0.0)),
            float(np.maximum(np.abs(w) - self.mw * z, 0.0).max(initial=0.0)),
            float(np.maximum(np.abs(b) - self.mb, 0.0).max(initial=0.0)),
        )


@dataclass(eq=False)
class SparseLogisticProblem(_SparseOAProblem):
    r"""One binary sparse logistic regression instance, kind ``"sparse_logistic"``:
    :math:`\min C\sum_i \ell(s_i(x_i^\top w + b)) + R(w)` with at most ``k`` nonzero
    coefficients, :math:`|w_j| \le M_w z_j`, :math:`|b| \le M_b` (valid big-M values from an
    incumbent of objective ``upper``: any better fit lies inside).

    Its program is the exact MIEXP (:func:`sparse_logistic_regression` with
    ``formulation="exp-cone"``); the default solver is optml's ``"sparse-logistic-oa"``
    (outer approximation: tangent-line MILPs, each a relaxation whose bound is valid).
    ``start`` is the incumbent ``(w, b)``; ``sub_backend`` / ``sub_solver`` name the solver of
    the MILP rounds.
    """

    kind: ClassVar[str] = "sparse_logistic"
    default_solver: ClassVar[str | None] = "sparse-logistic-oa"

    X: np.ndarray
    s: np.ndarray
    k: int
    C: float
    penalty: str | None

    def build_program(self) -> Program:
        return sparse_logistic_regression(
            self.X, self.s, self.k, self.C, self.penalty, self.mw, self.mb, "exp-cone"
        )

    def evaluate(self, values) -> tuple[float, float]:
        w, b = _linear_values(values)
        z = np.asarray(values.get("z", (np.abs(w) > 0).astype(float)), dtype=float).ravel()
        viol = self._budget_violation(z, w, b)
        return logistic_objective(self.X, self.s, w, b, self.C, self.penalty), viol


# ------------------------------------------------------------------------ multinomial (softmax)


def softmax_loss(Z, yi) -> np.ndarray:
    r"""Per sample :math:`\log\sum_k e^{z_{ik}} - z_{i y_i}` (overflow-safe)."""
    Z = np.asarray(Z, dtype=float)
    m = Z.max(axis=1)
    lse = m + np.log(np.exp(Z - m[:, None]).sum(axis=1))
    return lse - Z[np.arange(Z.shape[0]), yi]


def multinomial_objective(X, yi, W, b, C: float, penalty: str | None) -> float:
    r""":math:`C\sum_i \big(\log\sum_k e^{x_i^\top w_k + b_k} - x_i^\top w_{y_i} - b_{y_i}\big)
    + R(W)` with numpy (``W`` is (K, p), as scikit-learn's ``coef_``)."""
    W = np.asarray(W, dtype=float)
    Z = X @ W.T + np.asarray(b, dtype=float).ravel()
    reg = 0.0 if penalty is None else (0.5 * (W * W).sum() if penalty == "l2" else np.abs(W).sum())
    return float(C * softmax_loss(Z, yi).sum() + reg)


def _check_multi(X, yi, n_classes, C, penalty):
    X = np.asarray(X, dtype=float)
    yi = np.asarray(yi).ravel()
    if X.ndim != 2 or yi.shape[0] != X.shape[0]:
        raise ValueError(f"X must be (n, p) and y (n,); got X {X.shape} and y {yi.shape}")
    K = int(n_classes)
    if K < 2 or not np.isin(yi, np.arange(K)).all():
        raise ValueError(f"labels must be integer codes 0..{K - 1} of {K} >= 2 classes")
    if not (np.isfinite(C) and C > 0):
        raise ValueError(f"C must be a positive number, got {C}")
    if penalty not in ("l2", "l1", None):
        raise ValueError(f"penalty must be 'l2', 'l1' or None, got {penalty!r}")
    return X, yi.astype(int), K


def _other_masks(yi, K):
    """``M[j]`` (n, K): one-hot of the j-th class other than ``y_i`` (increasing order)."""
    n = yi.shape[0]
    others = np.array([[k for k in range(K) if k != c] for c in range(K)], dtype=int)
    M = np.zeros((K - 1, n, K))
    for j in range(K - 1):
        M[j, np.arange(n), others[yi, j]] = 1.0
    return M


def chain_values(X, yi, W, b) -> np.ndarray:
    r"""The epigraph variables ``r`` of :func:`multinomial_logistic_regression` at ``(W, b)``,
    tight: :math:`r_{ij} = \log(1 + \sum_{l \le j} e^{z_{i o_{il}} - z_{i y_i}})`."""
    Z = X @ np.asarray(W, dtype=float).T + np.asarray(b, dtype=float).ravel()
    n, K = Z.shape
    zy = Z[np.arange(n), yi]
    M = _other_masks(yi, K)
    D = np.stack([(M[j] * Z).sum(axis=1) - zy for j in range(K - 1)], axis=1)
    return np.logaddexp.accumulate(np.column_stack([np.zeros(n), D]), axis=1)[:, 1:]


def _multinomial_body(prog, X, yi, K, W, b, C, penalty):
    """Loss chain and objective of the multinomial program on the variables ``W``, ``b``."""
    n = X.shape[0]
    Zk = [X @ W[k, :] + b[k] for k in range(K)]
    Y = np.eye(K)[yi]
    zy = om.sum(om.vstack([Y[:, k] * Zk[k] for k in range(K)]), axis=0)
    M = _other_masks(yi, K)
    r = prog.var("r", (n, K - 1), latex="r")
    for j in range(K - 1):
        d = om.sum(om.vstack([M[j][:, k] * Zk[k] for k in range(K)]), axis=0) - zy
        if j == 0:
            prog.add(om.logistic(d) - r[:, 0] <= 0, name="softmax_chain0")
        else:
            prog.add(
                om.logistic(d - r[:, j - 1]) + r[:, j - 1] - r[:, j] <= 0,
                name=f"softmax_chain{j}",
            )
    return _penalized(float(C) * om.sum(r[:, K - 2]), W, penalty)


def multinomial_logistic_regression(
    X, yi, n_classes: int, C: float = 1.0, penalty: str | None = "l2"
) -> Program:
    r"""Multinomial (softmax) logistic regression with scikit-learn's objective, an EXP program.

    With :math:`z_{ik} = x_i^\top w_k + b_k` and :math:`d_{ij} = z_{i o_{ij}} - z_{i y_i}` for
    the classes :math:`o_{i1} < \dots < o_{i,K-1}` other than :math:`y_i`,

    .. math:: \min_{W, b, r}\ C\sum_i r_{i,K-1} + R(W)\quad\text{s.t.}\quad
        r_{i1} \ge \log(1 + e^{d_{i1}}),\ \
        r_{ij} \ge r_{i,j-1} + \log(1 + e^{d_{ij} - r_{i,j-1}})\ (j \ge 2),

    because :math:`\log(1 + \sum_{l\le j} e^{d_{il}}) = r + \log(1 + e^{d_{ij} - r})` with
    :math:`r = \log(1 + \sum_{l<j} e^{d_{il}})` and the right-hand side increases in
    :math:`r`: at the optimum :math:`r_{i,K-1} = \log\sum_k e^{z_{ik}} - z_{i y_i}`, the softmax
    loss. Each constraint is one ``logistic`` atom (two exponential cones).
    """
    X, yi, K = _check_multi(X, yi, n_classes, C, penalty)
    p = X.shape[1]
    prog = Program(f"multinomial_logistic_{penalty or 'none'}")
    W = prog.var("W", (K, p), latex="W")
    b = prog.var("b", K, latex="b")
    prog.minimize(_multinomial_body(prog, X, yi, K, W, b, C, penalty))
    return prog


def _multi_values(values, K, p):
    W = np.asarray(values["W"], dtype=float).reshape(K, p)
    b = np.asarray(values["b"], dtype=float).ravel()
    return W, b


@dataclass(eq=False)
class MultinomialLogisticProblem(StructuredProblem):
    r"""One multinomial logistic regression instance (integer labels ``yi`` in 0..K-1), kind
    ``"multinomial_logistic"``. Its program is :func:`multinomial_logistic_regression`; the
    default solver optml's ``"newton"`` (softmax Newton / L-BFGS-B, duality-gap certificate)."""

    kind: ClassVar[str] = "multinomial_logistic"
    default_solver: ClassVar[str | None] = "newton"

    X: np.ndarray
    yi: np.ndarray
    n_classes: int
    C: float = 1.0
    penalty: str | None = "l2"
    tol: float = 1e-10
    max_iter: int = 100

    def __post_init__(self):
        self.X, self.yi, self.n_classes = _check_multi(
            self.X, self.yi, self.n_classes, self.C, self.penalty
        )
        self.C = float(self.C)

    def build_program(self) -> Program:
        return multinomial_logistic_regression(
            self.X, self.yi, self.n_classes, C=self.C, penalty=self.penalty
        )

    def evaluate(self, values) -> tuple[float, float]:
        W, b = _multi_values(values, self.n_classes, self.X.shape[1])
        return multinomial_objective(self.X, self.yi, W, b, self.C, self.penalty), 0.0

    def complete_values(self, values: dict) -> dict:
        W, b = _multi_values(values, self.n_classes, self.X.shape[1])
        out = dict(values)
        out["r"] = chain_values(self.X, self.yi, W, b)
        return out

    @property
    def problem_class(self) -> str:
        return "EXP"


def sparse_multinomial_logistic_regression(
    X,
    yi,
    n_classes: int,
    k: int,
    C: float = 1.0,
    penalty: str | None = "l2",
    w_bound=None,
    b_bound=None,
    formulation: str = "outer",
    points=None,
    w_points=None,
) -> Program:
    r"""Multinomial logistic regression with a feature budget shared by the classes:

    .. math:: \min\ C\sum_i \big(\log\textstyle\sum_k e^{z_{ik}} - z_{iy_i}\big) + R(W)
        \quad\text{s.t.}\quad |W_{kj}| \le M_w z_j,\ \sum_j z_j \le k,\ z \in \{0,1\}^p,\
        \sum_k b_k = 0,\ |b_k| \le M_b,

    a group cardinality constraint (feature :math:`j` is in the model for every class or for
    none). ``formulation="exp-cone"``: the exact MIEXP (the softmax chain of
    :func:`multinomial_logistic_regression`); ``"outer"``: the MILP with tangent planes
    :math:`t_i \ge L_i(\zeta) + (\mathrm{softmax}(\zeta) - e_{y_i})^\top (z_i - \zeta)` at the
    points ``points`` (a list of (n, K) arrays of scores), a relaxation (its optimum is a lower
    bound); for L2 also tangents of :math:`\tfrac12 W_{kj}^2` at ``w_points`` (a list of (K, p)
    arrays). :math:`\sum_k b_k = 0` loses nothing: the loss is unchanged by a common shift.
    """
    X, yi, K = _check_multi(X, yi, n_classes, C, penalty)
    n, p = X.shape
    _check_sparse(k, p, formulation, w_bound, b_bound, "sparse multinomial regression")
    Mw, Mb = float(w_bound), float(b_bound)
    prog = Program(f"sparse_multinomial_{formulation}")
    W = prog.var("W", (K, p), lb=-Mw, ub=Mw, latex="W")
    b = prog.var("b", K, lb=-Mb, ub=Mb, latex="b")
    z = prog.var("z", p, domain="binary", latex="z")
    for c in range(K):
        prog.add(W[c, :] - Mw * z <= 0, name=f"bigm_up{c}")
        prog.add(W[c, :] + Mw * z >= 0, name=f"bigm_lo{c}")
    prog.add(om.sum(z) <= int(k), name="cardinality")
    prog.add(om.sum(b) == 0, name="intercepts_centred")
    C = float(C)
    if formulation == "exp-cone":
        prog.minimize(_multinomial_body(prog, X, yi, K, W, b, C, penalty))
        return prog
    Y = np.eye(K)[yi]
    if points is None:
        points = [c * (Y - 1.0 / K) for c in np.linspace(-6.0, 6.0, 7)]
    # the scores as variables (as in the binary outer form): a tangent plane's row has K
    # nonzeros instead of K (p + 1)
    S = prog.var("scores", (n, K), latex="S")
    for c in range(K):
        prog.add(S[:, c] - (X @ W[c, :] + b[c]) == 0, name=f"scores{c}")
    t = prog.var("t", n, lb=0.0, latex="t")
    for m, Z0 in enumerate(points):
        Z0 = np.asarray(Z0, dtype=float)
        E = np.exp(Z0 - Z0.max(axis=1, keepdims=True))
        G = E / E.sum(axis=1, keepdims=True) - Y
        lin = om.sum(om.vstack([G[:, c] * S[:, c] for c in range(K)]), axis=0)
        rhs = softmax_loss(Z0, yi) - (G * Z0).sum(axis=1)
        prog.add(t - lin >= rhs, name=f"tangent{m}")
    obj = C * om.sum(t)
    if penalty == "l2":
        if w_points is None:
            w_points = [c * Mw * np.ones((K, p)) for c in np.linspace(-1.0, 1.0, 5)]
        q = prog.var("q", (K, p), lb=0.0, latex="q")
        for m, Wp in enumerate(w_points):
            Wp = np.broadcast_to(np.asarray(Wp, dtype=float), (K, p))
            prog.add(
                q - om.vstack([Wp[c] * W[c, :] for c in range(K)]) >= -0.5 * Wp * Wp,
                name=f"quad_tangent{m}",
            )
        obj = obj + om.sum(q)
    elif penalty == "l1":
        obj = obj + om.norm1(W)
    prog.minimize(obj)
    return prog


@dataclass(eq=False)
class SparseMultinomialProblem(_SparseOAProblem):
    r"""One multinomial logistic regression with at most ``k`` features shared by the classes,
    kind ``"sparse_multinomial"``. Its program is the exact MIEXP
    (:func:`sparse_multinomial_logistic_regression`, ``"exp-cone"``); the default solver
    optml's ``"sparse-multinomial-oa"`` (tangent-plane MILPs, exact refits). ``start`` is the
    incumbent ``(W, b)`` of objective ``upper``; ``sub_backend`` / ``sub_solver`` name the
    solver of the MILP rounds."""

    kind: ClassVar[str] = "sparse_multinomial"
    default_solver: ClassVar[str | None] = "sparse-multinomial-oa"

    X: np.ndarray
    yi: np.ndarray
    n_classes: int
    k: int
    C: float
    penalty: str | None

    def build_program(self) -> Program:
        return sparse_multinomial_logistic_regression(
            self.X,
            self.yi,
            self.n_classes,
            self.k,
            self.C,
            self.penalty,
            self.mw,
            self.mb,
            "exp-cone",
        )

    def evaluate(self, values) -> tuple[float, float]:
        W, b = _multi_values(values, self.n_classes, self.X.shape[1])
        used = (np.abs(W) > 0).any(axis=0).astype(float)
        z = np.asarray(values.get("z", used), dtype=float).ravel()
        viol = max(self._budget_violation(z, W, b), float(abs(b.sum())))
        return multinomial_objective(self.X, self.yi, W, b, self.C, self.penalty), viol

    def complete_values(self, values: dict) -> dict:
        W, b = _multi_values(values, self.n_classes, self.X.shape[1])
        out = dict(values)
        out["r"] = chain_values(self.X, self.yi, W, b)
        return out
