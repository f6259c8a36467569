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
from optml.program import Program
from optml.program.structured import StructuredProblem

__all__ = [
    "LogisticProblem",
    "log_loss",
    "logistic_objective",
    "logistic_regression",
    "sparse_logistic_regression",
]


def log_loss(u) -> np.ndarray:
    r""":math:`\ell(u) = \log(1 + e^{-u})`, elementwise and overflow-safe."""
    return np.logaddexp(0.0, -np.asarray(u, dtype=float))


def _check(X, s, C, penalty):
    X = np.asarray(X, dtype=float)
    s = np.asarray(s, dtype=float).ravel()
    if X.ndim != 2 or s.shape[0] != X.shape[0]:
        raise ValueError(f"X must be (n, p) and s (n,); got X {X.shape} and s {s.shape}")
    if not np.isin(s, (-1.0, 1.0)).all():
        raise ValueError("labels s must be -1 or +1")
    if not (np.isfinite(C) and C > 0):
        raise ValueError(f"C must be a positive number, got {C}")
    if penalty not in ("l2", "l1", None):
        raise ValueError(f"penalty must be 'l2', 'l1' or None, got {penalty!r}")
    return X, s


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
        w = np.asarray(values["w"], dtype=float).ravel()
        b = float(np.asarray(values["b"], dtype=float).reshape(-1)[0])
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
    obj = float(C) * om.sum(om.logistic(-u))
    if penalty == "l2":
        obj = obj + 0.5 * om.sum_squares(w)
    elif penalty == "l1":
        obj = obj + om.norm1(w)
    prog.minimize(obj)
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
    if not (isinstance(k, int | np.integer) and 1 <= k <= p):
        raise ValueError(f"k must be an integer in [1, {p}], got {k!r}")
    if formulation not in ("outer", "exp-cone"):
        raise ValueError(f"formulation must be 'outer' or 'exp-cone', got {formulation!r}")
    if w_bound is None or b_bound is None:
        raise ValueError("sparse logistic regression needs finite w_bound and b_bound (big-M)")
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
        obj = C * om.sum(om.logistic(-u))
        if penalty == "l2":
            obj = obj + 0.5 * om.sum_squares(w)
        elif penalty == "l1":
            obj = obj + om.norm1(w)
        prog.minimize(obj)
        return prog
    V = np.linspace(-6.0, 6.0, 13) if points is None else np.asarray(points, dtype=float)
    V = np.broadcast_to(V, (n, V.shape[-1])) if V.ndim == 1 else V
    t = prog.var("t", n, lb=0.0, latex="t")
    for j in range(V.shape[1]):
        v = V[:, j]
        g = -expit(-v)  # l'(v)
        prog.add(t - g * u >= log_loss(v) - g * v, name=f"tangent{j}")
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


@dataclass(eq=False)
class SparseLogisticProblem(StructuredProblem):
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
    mw: float
    mb: float
    start: tuple = ()
    upper: float = float("inf")
    max_rounds: int = 50
    sub_backend: str = "auto"
    sub_solver: str | None = None

    def build_program(self) -> Program:
        return sparse_logistic_regression(
            self.X, self.s, self.k, self.C, self.penalty, self.mw, self.mb, "exp-cone"
        )

    def evaluate(self, values) -> tuple[float, float]:
        w = np.asarray(values["w"], dtype=float).ravel()
        b = float(np.asarray(values["b"], dtype=float).reshape(-1)[0])
        z = np.asarray(values.get("z", (np.abs(w) > 0).astype(float)), dtype=float).ravel()
        viol = max(
            float(np.abs(z - np.round(z)).max(initial=0.0)),
            float(max(z.sum() - self.k, 0.0)),
            float(np.maximum(np.abs(w) - self.mw * z, 0.0).max(initial=0.0)),
            float(max(abs(b) - self.mb, 0.0)),
        )
        return logistic_objective(self.X, self.s, w, b, self.C, self.penalty), viol
