r"""Nonlinear pieces of embedded models: the logistic link, products of inputs, the class.

All functions add constraints to a :class:`~optml.program.Program` and take affine expressions
with finite interval bounds (from :func:`optml.formulations.relu.expression_bounds`).

**Probability by piecewise-linear interpolation** (any MILP solver). With breakpoints
:math:`b_0 < \dots < b_n` covering the bounds :math:`[L, U]` of the score :math:`s`, weights
:math:`\lambda \ge 0` and interval binaries :math:`y`,

.. math::

    \sum_i \lambda_i = 1,\quad \sum_j y_j = 1,\quad \lambda_i \le y_{i-1} + y_i,\quad
    s = \sum_i \lambda_i b_i,\quad p = \sum_i \lambda_i \sigma(b_i),

so :math:`p` is the linear interpolant of :math:`\sigma(s) = 1/(1 + e^{-s})` on the interval
that holds :math:`s`. Its error is at most
:math:`\max_j \min\{h_j^2 \max|\sigma''| / 8,\ \sigma(b_{j+1}) - \sigma(b_j)\}` with
:math:`h_j = b_{j+1} - b_j` and :math:`\max|\sigma''| = 1/(6\sqrt3)` (the interpolation
error of a twice differentiable function, and the monotone bound), which
:func:`sigmoid_pwl` returns.

**Log-probability through the exponential cone** (exact, convex). :math:`\log\sigma(s) =
-\log(1 + e^{-s})` is concave, so its hypograph
:math:`\ell \le \log \sigma(s) \Leftrightarrow \ell + \operatorname{logistic}(-s) \le 0` is an
exponential-cone constraint: exact wherever the program pushes :math:`\ell` up (maximising a
probability, or :math:`\ell \ge \log \tau`). The probability itself,
:math:`\sigma`, is neither convex nor concave: an equality :math:`p = \sigma(s)` is not a convex
constraint, and a threshold :math:`p \ge \tau` is the linear :math:`s \ge \log(\tau/(1-\tau))`.

**Products** :math:`w = x_i x_j` (polynomial features) by the McCormick envelope on
:math:`[L_i, U_i] \times [L_j, U_j]`:

.. math::

    w \ge L_i x_j + L_j x_i - L_i L_j,\ w \ge U_i x_j + U_j x_i - U_i U_j,\
    w \le U_i x_j + L_j x_i - U_i L_j,\ w \le L_i x_j + U_j x_i - L_i U_j

— a relaxation (exact when an interval is a point), with
:math:`|w - x_i x_j| \le (U_i - L_i)(U_j - L_j)/4` (McCormick 1976). Squares :math:`x_i^2`
add tangents at interior points below.

**Class** (argmax of scores :math:`s_k` with bounds :math:`[L_k, U_k]`): binaries
:math:`c_k`, :math:`\sum_k c_k = 1`, and :math:`s_j - s_k \le (U_j - L_k)(1 - c_k)` for
:math:`j \ne k`; for one score (binary classification), :math:`s \le U c` and
:math:`s \ge L (1 - c)`.
"""

from __future__ import annotations

import numpy as np

from optml.formulations.relu import expression_bounds
from optml.program import Program, as_expression, hstack, logistic

#: max |sigma''| = 1 / (6 sqrt 3), attained at s = log(2 ± sqrt 3)
SIGMOID_CURVATURE = 1.0 / (6.0 * np.sqrt(3.0))


def sigmoid(s):
    s = np.asarray(s, dtype=float)
    return np.where(
        s >= 0, 1.0 / (1.0 + np.exp(-np.abs(s))), 1.0 - 1.0 / (1.0 + np.exp(-np.abs(s)))
    )


def sigmoid_breakpoints(lo: float, hi: float, n_pieces: int, core: float = 8.0) -> np.ndarray:
    """Breakpoints over ``[lo, hi]``: uniform on ``[-core, core]`` (where the curve bends),
    one piece on each side beyond it (where :math:`\\sigma` is flat within 3.4e-4)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(
            "a piecewise-linear probability needs finite bounds on the score: give the model's "
            "inputs finite lb and ub"
        )
    if hi - lo < 1e-12:
        return np.array([lo, lo + 1e-9])
    a, b = max(lo, -core), min(hi, core)
    inner = np.linspace(a, b, max(int(n_pieces), 1) + 1) if b > a else np.array([a])
    pts = np.unique(np.concatenate([[lo], inner, [hi]]))
    return pts[(pts >= lo) & (pts <= hi)]


def sigmoid_error_bound(breaks) -> float:
    """A proven bound on :math:`|\\sigma(s) - \\text{interpolant}(s)|` over the breakpoints."""
    b = np.asarray(breaks, dtype=float)
    h = np.diff(b)
    curv = h**2 * SIGMOID_CURVATURE / 8.0
    mono = np.abs(np.diff(sigmoid(b)))
    return float(np.minimum(curv, mono).max(initial=0.0))


def sigmoid_pwl(program: Program, s, n_pieces: int = 32, name: str = "sigmoid"):
    r"""``(p, error_bound, n_binaries)``: ``p`` the piecewise-linear :math:`\sigma(s)` of the
    scalar affine ``s`` (see the module docstring)."""
    s = as_expression(s).flatten()
    if s.size != 1:
        raise ValueError(f"sigmoid_pwl takes one score, got {s.size}")
    lo, hi = expression_bounds(s)
    b = sigmoid_breakpoints(float(lo[0]), float(hi[0]), n_pieces)
    n = len(b) - 1
    lam = program.var(f"{name}_lambda", shape=n + 1, lb=0, ub=1)
    y = program.var(f"{name}_piece", shape=n, domain="binary")
    program.add(lam.sum() == 1, name=f"{name}_convex")
    program.add(y.sum() == 1, name=f"{name}_one_piece")
    # lambda_i <= y_{i-1} + y_i
    A = np.zeros((n + 1, n))
    for i in range(n + 1):
        if i > 0:
            A[i, i - 1] = 1.0
        if i < n:
            A[i, i] = 1.0
    program.add(lam <= A @ y, name=f"{name}_adjacent")
    program.add(s == b @ lam, name=f"{name}_score")
    p = sigmoid(b) @ lam
    return p, sigmoid_error_bound(b), n


def log_sigmoid_hypograph(program: Program, ell, s, name: str = "log_sigmoid"):
    r"""``ell <= log sigma(s)`` elementwise: ``ell + logistic(-s) <= 0`` (exponential cone)."""
    program.add(
        as_expression(ell).flatten() + logistic(-as_expression(s).flatten()) <= 0, name=name
    )


def product_envelope(program: Program, xi, xj, name: str = "product", n_tangents: int = 3):
    r"""A variable ``w`` with the McCormick envelope of ``xi * xj`` (scalars); returns
    ``(w, max_gap)`` with ``max_gap`` the largest distance between the envelope and the
    product over the box."""
    xi = as_expression(xi).flatten()
    xj = as_expression(xj).flatten()
    (Li,), (Ui,) = expression_bounds(xi)
    (Lj,), (Uj,) = expression_bounds(xj)
    if not all(np.isfinite(v) for v in (Li, Ui, Lj, Uj)):
        raise ValueError(
            f"{name}: a product of inputs needs finite bounds on both factors; give the "
            "inputs finite lb and ub"
        )
    corners = np.array([Li * Lj, Li * Uj, Ui * Lj, Ui * Uj])
    square = _same(xi, xj)
    wlo = max(corners.min(), 0.0) if square else corners.min()
    if square and Li < 0 < Ui:
        wlo = 0.0
    w = program.var(f"{name}_w", shape=1, lb=wlo, ub=corners.max())
    program.add(w >= Li * xj + Lj * xi - Li * Lj, name=f"{name}_lo1")
    program.add(w >= Ui * xj + Uj * xi - Ui * Uj, name=f"{name}_lo2")
    program.add(w <= Ui * xj + Lj * xi - Ui * Lj, name=f"{name}_hi1")
    program.add(w <= Li * xj + Uj * xi - Li * Uj, name=f"{name}_hi2")
    gap = (Ui - Li) * (Uj - Lj) / 4.0
    if square and Ui > Li and n_tangents > 0:
        # x^2 >= 2 a x - a^2 at interior points a: a tighter convex underestimator
        pts = np.linspace(Li, Ui, n_tangents + 2)[1:-1]
        for k, a in enumerate(pts):
            program.add(w >= 2 * a * xi - a * a, name=f"{name}_tan{k}")
    return w, float(gap)


def _same(a, b) -> bool:
    if set(a.terms) != set(b.terms):
        return False
    if not np.allclose(a.const, b.const):
        return False
    return all((a.terms[k][1] != b.terms[k][1]).nnz == 0 for k in a.terms) if a.terms else True


def class_selection(program: Program, scores, name: str = "class"):
    r"""One-hot binaries ``c`` of the argmax of ``scores`` (one score: the sign, class 1 when
    :math:`s > 0`); returns ``c`` (length 2 for one score)."""
    s = as_expression(scores).flatten()
    lo, hi = expression_bounds(s)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise ValueError(
            "the class of a model's output needs finite bounds on its scores; give the "
            "inputs finite lb and ub"
        )
    if s.size == 1:
        c = program.var(f"{name}_onehot", shape=2, domain="binary")
        program.add(c.sum() == 1, name=f"{name}_one")
        program.add(s <= max(hi[0], 0.0) * c[1], name=f"{name}_pos")
        program.add(s >= min(lo[0], 0.0) * c[0], name=f"{name}_neg")
        return c
    k = s.size
    c = program.var(f"{name}_onehot", shape=k, domain="binary")
    program.add(c.sum() == 1, name=f"{name}_one")
    rows = []
    for a in range(k):
        for j in range(k):
            if j != a:
                M = max(hi[j] - lo[a], 0.0)
                rows.append((s[j] - s[a] - M * (1 - c[a])).reshape(1))
    program.add(hstack(rows) <= 0, name=f"{name}_argmax")
    return c
