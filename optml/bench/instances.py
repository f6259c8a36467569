r"""Benchmark-only instance families: programs for solver comparison, not estimators.

Use them in a suite as ``"optml.bench.instances:<function>"``; each is a function
``(X, y, **params) -> Program``.

:func:`lad_best_subset` is a mixed-integer *linear* relative of best subset selection, so
that LP/MILP-only solvers (HiGHS) have a best-subset family to be compared on:

.. math::

    \min_{\beta, b, r^+, r^-}\ \sum_i (r_i^+ + r_i^-) \quad\text{s.t.}\quad
    X\beta + b\mathbf 1 + r^+ - r^- = y,\quad -M z_j \le \beta_j \le M z_j,\quad
    \textstyle\sum_j z_j \le k,\quad r^\pm \ge 0,\ z \in \{0,1\}^p

(least absolute deviations with a cardinality constraint; Konno and Yamamoto, 2009, solved
the same MILP). :math:`M` is ``bigm_factor`` times the largest absolute least-squares
coefficient on the full data: it defines the instance (coefficients live in
:math:`[-M, M]`), it is not a proven bound on an unbounded problem's optimum.
"""

from __future__ import annotations

import numpy as np


def lad_best_subset(X, y, k: int = 5, bigm_factor: float = 2.0, standardize: bool = True):
    """The L1-loss best-subset MILP above, on (standardised) ``X``.

    Parameters
    ----------
    X : array of shape (n, p)
    y : array of shape (n,)
    k : int
        Largest number of nonzero coefficients, ``0 <= k <= p``.
    bigm_factor : float
        :math:`M = \\text{bigm\\_factor} \\cdot \\max_j |\\hat\\beta^{LS}_j|` (> 0).
    standardize : bool
        Centre and scale the columns of ``X`` first (so one M suits every coefficient).

    Returns
    -------
    Program
        A MILP with blocks ``beta`` (p), ``b`` (1), ``rp``/``rm`` (n) and ``z`` (p).
    """
    import optml as om

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise ValueError(f"X must be (n, p) and y (n,), got {X.shape} and {y.shape}")
    n, p = X.shape
    if not 0 <= k <= p:
        raise ValueError(f"k must be in [0, p={p}], got {k}")
    if not bigm_factor > 0:
        raise ValueError(f"bigm_factor must be positive, got {bigm_factor}")
    if standardize:
        sd = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    coef = np.linalg.lstsq(np.c_[X, np.ones(n)], y, rcond=None)[0][:p]
    M = bigm_factor * max(float(np.abs(coef).max(initial=0.0)), 1e-6)
    prog = om.Program("lad_best_subset")
    beta = prog.var("beta", p, lb=-M, ub=M, latex=r"\beta")
    b = prog.var("b", 1, lb=None)
    rp = prog.var("rp", n, lb=0, latex="r^+")
    rm = prog.var("rm", n, lb=0, latex="r^-")
    z = prog.var("z", p, domain="binary")
    prog.add(X @ beta + np.ones((n, 1)) @ b + rp - rm == y, name="fit")
    prog.add(beta - M * z <= 0, name="upper")
    prog.add(beta + M * z >= 0, name="lower")
    prog.add(om.sum(z) <= k, name="card")
    prog.minimize(om.sum(rp) + om.sum(rm))
    return prog


def relu_verification(
    X,
    y,
    hidden=(8, 8),
    radius: float = 0.1,
    sample: int = 0,
    seed: int = 0,
    formulation: str = "bigm",
):
    r"""Verification of a small ReLU network: the largest output over an :math:`\ell_\infty`
    ball around one sample (a MILP, as in Tjeng, Xiao and Tedrake, 2019).

    The network is a scikit-learn ``MLPRegressor`` with ``hidden`` ReLU layers trained on
    the standardised ``(X, y)`` (``random_state=seed``, 200 iterations), so that its weights
    are those of a fitted model, not random ones; the input box is
    :math:`[x_s - r, x_s + r]` for sample ``s = sample`` and radius ``r`` (in standard
    deviations), and the program maximises output 0 over it with
    :meth:`optml.nn.ReLUNetwork.build_program` (big-M rows with LP-tightened bounds).
    """
    import warnings

    from sklearn.neural_network import MLPRegressor

    from optml.nn import ReLUNetwork

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if not 0 <= int(sample) < X.shape[0]:
        raise ValueError(f"sample must be in [0, {X.shape[0]}), got {sample}")
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius}")
    sd = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    t = (y - y.mean()) / (y.std() or 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of a short training
        mlp = MLPRegressor(
            hidden_layer_sizes=tuple(int(h) for h in hidden), max_iter=200, random_state=seed
        ).fit(Z, t)
    net = ReLUNetwork.from_sklearn(mlp)
    x0 = Z[int(sample)]
    return net.build_program(
        x0 - radius, x0 + radius, output=0, sense="max", formulation=formulation
    )
