r"""Best subset least squares with an intercept variable and linear side constraints, the
program of :class:`~optml.regression.ALAMORegression` when the fitted function is constrained.

.. math:: \min_{\beta, b, z}\ \|y - \Phi\beta - b\mathbf 1\|_2^2 \quad\text{s.t.}\quad
    |\beta_t| \le M_t z_t,\ \sum_t z_t \le k,\ z \in \{0, 1\}^m,\
    A\beta + a\,b \ge c\ \ (\text{side constraints}).

Big-M values from the ellipsoid (Bertsimas, King & Mazumder 2016): every point with objective
at most :math:`U` (any feasible point's, e.g. :math:`\beta = 0` and an admissible constant)
satisfies :math:`|\beta_t| \le |\hat\beta_t| + \sqrt{(U - f^\star)(G^{-1})_{tt}}` with
:math:`G = \Phi_c^\top\Phi_c` the centred Gram matrix, :math:`\hat\beta` the least-squares fit
and :math:`f^\star` its residual sum of squares; side constraints only shrink that set.
"""

from __future__ import annotations

import numpy as np

import optml.program as om
from optml.program import Program

__all__ = [
    "ellipsoid_bounds",
    "piecewise_linear",
    "piecewise_values",
    "segment_bounds",
    "segment_dp",
    "subset_program",
]


def ellipsoid_bounds(Phi, y, upper: float) -> np.ndarray:
    """Valid :math:`M_t` for any fit (with a free intercept) of objective at most ``upper``."""
    Pc = Phi - Phi.mean(axis=0)
    yc = y - y.mean()
    G = Pc.T @ Pc
    try:
        L = np.linalg.cholesky(G)
    except np.linalg.LinAlgError:
        raise ValueError(
            "the basis library is linearly dependent on these data (more terms than samples, "
            "or collinear terms): use fewer basis functions or more samples"
        ) from None
    Linv = np.linalg.solve(L, np.eye(G.shape[0]))
    hinv = (Linv * Linv).sum(axis=0)
    beta = Linv.T @ (Linv @ (Pc.T @ yc))
    fstar = float(yc @ yc - (Pc.T @ yc) @ beta)
    M = np.abs(beta) + np.sqrt(max(upper - fstar, 0.0) * hinv)
    return M * (1.0 + 1e-6) + 1e-9 * (1.0 + M.max(initial=0.0))


def subset_program(Phi, y, k: int, M, rows=()) -> Program:
    """The program of the module docstring; ``rows`` are ``(A, a, c, name)`` for
    :math:`A\\beta + a b \\ge c`. Variables ``coef``, ``intercept``, ``support``."""
    Phi = np.asarray(Phi, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    n, m = Phi.shape
    M = np.broadcast_to(np.asarray(M, dtype=float), (m,))
    prog = Program("constrained_best_subset")
    beta = prog.var("coef", m, lb=-M, ub=M, latex=r"\beta")
    b = prog.var("intercept", latex="b")
    z = prog.var("support", m, domain="binary", latex="z")
    prog.add(beta - M * z <= 0, name="bigm_upper")
    prog.add(beta + M * z >= 0, name="bigm_lower")
    prog.add(om.sum(z) <= int(k), name="cardinality")
    for A, a, c, name in rows:
        prog.add(
            np.asarray(A, float) @ beta + np.asarray(a, float) * b >= np.asarray(c, float),
            name=name,
        )
    prog.minimize(om.sum_squares(y - Phi @ beta - b * np.ones(n)))
    return prog


def segment_bounds(x, y):
    r"""Valid bounds for a least-squares line fitted to any subset of the points with two
    distinct :math:`x`: its slope is a weighted mean of the pairwise slopes, so
    :math:`|a| \le S = \max_{i,j} |y_i - y_j| / |x_i - x_j|` and
    :math:`|b| = |\bar y - a\bar x| \le B = \max|y| + S\max|x|`."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    dx = x[:, None] - x[None, :]
    dy = y[:, None] - y[None, :]
    ok = np.abs(dx) > 0
    S = float(np.max(np.abs(dy[ok]) / np.abs(dx[ok]))) if ok.any() else 0.0
    B = float(np.abs(y).max() + S * np.abs(x).max())
    return S * (1 + 1e-6) + 1e-9, B * (1 + 1e-6) + 1e-9


def piecewise_linear(x, y, n_breakpoints: int, min_groups: int = 2) -> Program:
    r"""Least-squares piecewise-linear regression in one input with ``n_breakpoints``
    breakpoints (``K+1`` segments, each its own line :math:`a_s x + b_s`), a MIQP.

    With the distinct sorted inputs :math:`u_1 < \dots < u_G` (sample :math:`i` has
    :math:`x_i = u_{g(i)}`), binaries :math:`z_{gs}` put each value in one segment, the
    segments contiguous and in order (:math:`c_g = \sum_s s z_{gs}`, :math:`c_1 = 0`,
    :math:`c_G = K`, :math:`0 \le c_{g+1} - c_g \le 1`), each with at least ``min_groups``
    values:

    .. math:: \min \sum_i e_i^2\quad\text{s.t.}\quad
        |y_i - a_s x_i - b_s - e_i| \le M_i (1 - z_{g(i)s}),\ |a_s| \le S,\ |b_s| \le B,

    with the valid :math:`S, B` of :func:`segment_bounds` (each segment's optimal line is the
    least-squares line of its points) and :math:`M_i = |y_i| + S|x_i| + B`.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    u, g = np.unique(x, return_inverse=True)
    G, K, n = u.size, int(n_breakpoints), x.size
    if K < 0 or G < (K + 1) * min_groups:
        raise ValueError(
            f"{K} breakpoint(s) need at least {(K + 1) * min_groups} distinct x values "
            f"({min_groups} per segment); the data have {G}"
        )
    S, B = segment_bounds(x, y)
    M = np.abs(y) + S * np.abs(x) + B
    prog = Program(f"piecewise_linear_{K}")
    a = prog.var("slope", K + 1, lb=-S, ub=S, latex="a")
    b = prog.var("offset", K + 1, lb=-B, ub=B, latex="b")
    z = prog.var("segment", (G, K + 1), domain="binary", latex="z")
    e = prog.var("residual", n, latex="e")
    prog.add(z.sum(axis=1) == np.ones(G), name="one_segment")
    prog.add(z.sum(axis=0) >= np.full(K + 1, float(min_groups)), name="segment_size")
    c = z @ np.arange(K + 1, dtype=float)
    if K > 0:
        D = np.zeros((G - 1, G))
        D[np.arange(G - 1), np.arange(G - 1)] = -1.0
        D[np.arange(G - 1), np.arange(1, G)] = 1.0
        prog.add(D @ c >= 0, name="ordered")
        prog.add(D @ c <= 1, name="contiguous")
        prog.add(c[0] == 0, name="first")
        prog.add(c[G - 1] == K, name="last")
    Zi = np.zeros((n, G))
    Zi[np.arange(n), g] = 1.0
    for s in range(K + 1):
        fit = y - a[s] * x - b[s] * np.ones(n) - e
        slack = M * (1.0 - Zi @ z[:, s])
        prog.add(fit - slack <= 0, name=f"seg{s}_upper")
        prog.add(fit + slack >= 0, name=f"seg{s}_lower")
    prog.minimize(om.sum_squares(e))
    return prog


def segment_dp(x, y, n_breakpoints: int, min_groups: int = 2):
    """The best contiguous segmentation by dynamic programming over the distinct inputs
    (Bellman 1961): ``(first group of each segment after the first, residual sum of squares)``.
    Used as the MIQP's starting point."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    u, g = np.unique(x, return_inverse=True)
    G, K = u.size, int(n_breakpoints)
    # prefix sums per group for O(1) least-squares costs of a run of groups
    cnt = np.bincount(g, minlength=G).astype(float)
    sx, sy = np.bincount(g, x, G), np.bincount(g, y, G)
    sxx, sxy, syy = np.bincount(g, x * x, G), np.bincount(g, x * y, G), np.bincount(g, y * y, G)
    P = [np.r_[0.0, np.cumsum(v)] for v in (cnt, sx, sy, sxx, sxy, syy)]

    def cost(a, b):  # groups a .. b-1
        m, X1, Y1, XX, XY, YY = (p[b] - p[a] for p in P)
        vx = XX - X1 * X1 / m
        cxy = XY - X1 * Y1 / m
        vy = YY - Y1 * Y1 / m
        return max(vy - (cxy * cxy / vx if vx > 1e-300 else 0.0), 0.0)

    INF = np.inf
    F = np.full((K + 2, G + 1), INF)
    arg = np.zeros((K + 2, G + 1), dtype=int)
    F[0, 0] = 0.0
    for s in range(1, K + 2):
        for b in range(s * min_groups, G + 1):
            best, ba = INF, -1
            for a in range((s - 1) * min_groups, b - min_groups + 1):
                if F[s - 1, a] < INF:
                    v = F[s - 1, a] + cost(a, b)
                    if v < best:
                        best, ba = v, a
            F[s, b], arg[s, b] = best, ba
    cuts, b = [], G
    for s in range(K + 1, 0, -1):
        a = arg[s, b]
        if s > 1:
            cuts.append(a)
        b = a
    return sorted(cuts), float(F[K + 1, G])


def piecewise_values(x, y, n_breakpoints: int, cuts) -> dict:
    """The values of :func:`piecewise_linear`'s variables for the segmentation ``cuts``
    (first group of each later segment): each segment's least-squares line."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    u, g = np.unique(x, return_inverse=True)
    K = int(n_breakpoints)
    seg_of_group = np.searchsorted(np.asarray(cuts), np.arange(u.size), side="right")
    z = np.zeros((u.size, K + 1))
    z[np.arange(u.size), seg_of_group] = 1.0
    a, b = np.zeros(K + 1), np.zeros(K + 1)
    seg = seg_of_group[g]
    for s in range(K + 1):
        sel = seg == s
        A = np.c_[x[sel], np.ones(sel.sum())]
        a[s], b[s] = np.linalg.lstsq(A, y[sel], rcond=None)[0]
    e = y - a[seg] * x - b[seg]
    return {"slope": a, "offset": b, "segment": z, "residual": e}
