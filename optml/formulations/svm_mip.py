r"""Mixed-integer SVMs: feature-sparse SVM and the ramp-loss SVM.

Sparse SVM (Maldonado, Pérez, Weber & Labbé 2014; Labbé, Martínez-Merino & Rodríguez-Chía
2019): at most :math:`k` features, with binaries :math:`z_j` and big-M values :math:`M_j`,

.. math:: \min_{w,b,z}\ R(w) + C\sum_i \left(1 - s_i(x_i^\top w + b)\right)_+ \quad
    \text{s.t.}\quad |w_j| \le M_j z_j,\ \sum_j z_j \le k,\ z \in \{0,1\}^p,

a MILP with :math:`R = \|w\|_1` (HiGHS) or a MIQP with :math:`R = \frac12\|w\|_2^2` (SCIP).

Ramp-loss SVM (Brooks 2011; Belotti, Bonami, Fischetti, Lodi, Monaci, Nogales-Gómez &
Salvagnin 2016): the hinge capped at 2, with an indicator :math:`z_i` per sample that marks it
as an outlier,

.. math:: \min\ R(w) + C\left(\sum_i \xi_i + 2\sum_i z_i\right)\quad\text{s.t.}\quad
    z_i = 0 \Rightarrow s_i(x_i^\top w + b) \ge 1 - \xi_i,\ 0 \le \xi_i \le 2,

the implication written with big-M values derived from the bounds on :math:`w` and :math:`b`.
"""

from __future__ import annotations

import numpy as np

import optml.program as om
from optml.formulations.classification import _check_labels
from optml.program import Program

__all__ = ["ramp_loss_svm", "sparse_svm", "sparse_svm_start", "svm_bigm"]


def _check(X, s, C, penalty):
    X, s = _check_labels(X, s, C)
    if penalty not in ("l1", "l2"):
        raise ValueError(f"penalty must be 'l1' or 'l2', got {penalty!r}")
    return X, s


def _reg(w, penalty):
    return 0.5 * om.sum_squares(w) if penalty == "l2" else om.norm1(w)


def sparse_svm(X, s, k: int, C: float = 1.0, penalty: str = "l1", w_bound=None) -> Program:
    r"""Soft margin SVM with at most ``k`` nonzero weights (``w_bound``: the big-M values)."""
    X, s = _check(X, s, C, penalty)
    n, p = X.shape
    if not (isinstance(k, int | np.integer) and 1 <= k <= p):
        raise ValueError(f"k must be an integer in [1, {p}], got {k!r}")
    if w_bound is None:
        raise ValueError("sparse_svm needs w_bound (big-M values), e.g. from svm_bigm()")
    M = np.broadcast_to(np.asarray(w_bound, dtype=float), (p,))
    prog = Program(f"sparse_svm_{penalty}")
    # every column is a named variable (no lowering auxiliaries), so a full warm start can be
    # handed to the solver: w = w^+ - w^-, hinge slacks xi
    w = prog.var("w", p, lb=-M, ub=M, latex="w")
    wp = prog.var("w_pos", p, lb=0.0, ub=M, latex="w^+")
    wn = prog.var("w_neg", p, lb=0.0, ub=M, latex="w^-")
    b = prog.var("b", latex="b")
    xi = prog.var("xi", n, lb=0.0, latex=r"\xi")
    z = prog.var("z", p, domain="binary", latex="z")
    prog.add(w - wp + wn == 0, name="split")
    prog.add(wp - M * z <= 0, name="bigm_pos")
    prog.add(wn - M * z <= 0, name="bigm_neg")
    prog.add(om.sum(z) <= int(k), name="cardinality")
    prog.add((s[:, None] * X) @ w + s * b + xi >= 1.0, name="margin")
    reg = 0.5 * om.sum_squares(w) if penalty == "l2" else om.sum(wp) + om.sum(wn)
    prog.minimize(reg + float(C) * om.sum(xi))
    return prog


def sparse_svm_start(X, s, w, b, M):
    """A complete warm start for :func:`sparse_svm` from a sparse ``(w, b)``."""
    w = np.clip(np.asarray(w, dtype=float), -M, M)
    xi = np.maximum(0.0, 1.0 - s * (X @ w + b))
    return {
        "w": w,
        "w_pos": np.maximum(w, 0),
        "w_neg": np.maximum(-w, 0),
        "b": np.array(b),
        "xi": xi,
        "z": (w != 0).astype(float),
    }


def svm_bigm(upper: float, penalty: str) -> float:
    r"""A bound on :math:`|w_j|` valid for every fit with objective at most ``upper``.

    :math:`\frac12\|w\|_2^2 \le U \Rightarrow |w_j| \le \sqrt{2U}`;
    :math:`\|w\|_1 \le U \Rightarrow |w_j| \le U`. Any feasible point gives ``upper``, e.g.
    :math:`w = 0`, :math:`b = \pm 1`: :math:`U = 2C\min(n_+, n_-)`.
    """
    return float(np.sqrt(2.0 * upper) if penalty == "l2" else upper)


def ramp_loss_svm(X, s, C: float = 1.0, penalty: str = "l2", w_bound=None, b_bound=None) -> Program:
    r"""Ramp-loss SVM with outlier indicators (Brooks 2011).

    ``w_bound`` / ``b_bound`` bound :math:`|w_j|` and :math:`|b|`; the implication rows take
    their big-M from them.
    """
    X, s = _check(X, s, C, penalty)
    n, p = X.shape
    if w_bound is None or b_bound is None:
        raise ValueError("ramp_loss_svm needs w_bound and b_bound (they give the big-M values)")
    Mw = np.broadcast_to(np.asarray(w_bound, dtype=float), (p,))
    prog = Program(f"ramp_loss_svm_{penalty}")
    w = prog.var("w", p, lb=-Mw, ub=Mw, latex="w")
    b = prog.var("b", lb=-float(b_bound), ub=float(b_bound), latex="b")
    xi = prog.var("xi", n, lb=0.0, ub=2.0, latex=r"\xi")
    z = prog.var("z", n, domain="binary", latex="z")
    margin = (s[:, None] * X) @ w + s * b + xi - 1.0
    prog.add_indicator(z, margin >= 0, active=0, name="margin_unless_outlier")
    prog.minimize(_reg(w, penalty) + float(C) * (om.sum(xi) + 2.0 * om.sum(z)))
    return prog
