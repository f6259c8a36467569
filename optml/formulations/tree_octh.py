r"""OCT-H: optimal classification trees with hyperplane splits (Bertsimas and Dunn, 2017).

Features are scaled to :math:`[0, 1]`; identical rows are merged into patterns :math:`p` with
weighted class counts :math:`c_{pk}`. Node :math:`n` splits by :math:`a_n^\top x \le b_n`
(left, with a margin :math:`\mu`) or :math:`a_n^\top x \ge b_n` (right):

.. math::

    \min\ \sum_l E_l + \alpha \sum_n d_n \quad\text{s.t.}\quad
    \sum_j \hat a_{nj} \le d_n,\ -\hat a_{nj} \le a_{nj} \le \hat a_{nj},\
    -s_{nj} \le a_{nj} \le s_{nj},\ s_{nj} \le d_n,\ \sum_j s_{nj} \le \kappa,

    -d_n \le b_n \le d_n,\ d_n \le d_{\mathrm{parent}(n)},\ \sum_l z_{pl} = 1,

    a_m^\top x_p + \mu \le b_m + (2 + \mu)(1 - z_{pl})\ (m \in A_L(l)),\quad
    a_m^\top x_p \ge b_m - 2 (1 - z_{pl})\ (m \in A_R(l)),

    E_l \ge \sum_{p,k'} c_{pk'} z_{pl} - \sum_p c_{pk} z_{pl} - M (1 - w_{lk}),

with :math:`d, s, z, w` binary. A node with :math:`d_n = 0` sends every sample right.

Reference: Bertsimas, D. and Dunn, J. (2017). Optimal classification trees. *Machine
Learning* 106, 1039--1082.
"""

from __future__ import annotations

import numpy as np

from optml.formulations.tree_data import TreeData, leaf_ancestors, n_internal
from optml.program import Program

MU = 0.005


def oct_h(
    Xs: np.ndarray,
    data: TreeData,
    depth: int,
    alpha: float = 0.0,
    max_features: int | None = None,
    min_samples_leaf: int = 1,
    mu: float = MU,
    name: str = "oct_h",
) -> Program:
    """OCT-H over patterns; ``Xs`` (P, p) are the pattern rows scaled to [0, 1].

    Variables: ``a`` (N, p), ``ahat``, ``s`` (N, p) binary, ``b`` (N,), ``d`` (N,) binary,
    ``z`` (P, L) binary, ``w`` (L, K) binary, ``E`` (L,).
    """
    P, p = Xs.shape
    K, L, N = data.n_classes, 2**depth, n_internal(depth)
    prog = Program(name)
    a = prog.var("a", shape=(N, p), lb=-1, ub=1, latex="a")
    ah = prog.var("ahat", shape=(N, p), lb=0, ub=1, latex=r"\hat a")
    s = prog.var("s", shape=(N, p), domain="binary", latex="s")
    b = prog.var("b", shape=N, lb=-1, ub=1, latex="b")
    d = prog.var("d", shape=N, domain="binary", latex="d")
    z = prog.var("z", shape=(P, L), domain="binary", latex="z")
    w = prog.var("w", shape=(L, K), domain="binary", latex="c")
    E = prog.var("E", shape=L, lb=0, latex="L")
    ones = np.ones((1, p))
    dcol = d.reshape(N, 1) @ ones  # (N, p)
    prog.add(ah.sum(axis=1) <= d, name="l1_budget")
    prog.add(ah - a >= 0, name="abs_pos")
    prog.add(ah + a >= 0, name="abs_neg")
    prog.add(a - s <= 0, name="support_pos")
    prog.add(a + s >= 0, name="support_neg")
    prog.add(s - dcol <= 0, name="support_d")
    if max_features is not None:
        prog.add(s.sum(axis=1) <= max_features, name="max_features")
    prog.add(b - d <= 0, name="b_hi")
    prog.add(b + d >= 0, name="b_lo")
    for n in range(1, N):
        prog.add(d[n] - d[(n - 1) // 2] <= 0, name=f"hierarchy_{n}")
    prog.add(z.sum(axis=1) == 1, name="one_leaf")
    prog.add(w.sum(axis=1) == 1, name="one_class")
    anc_l, anc_r = leaf_ancestors(depth)
    for leaf in range(L):
        for m in anc_l[leaf]:
            lhs = Xs @ a[m] + mu - (2 + mu) * (1 - z[:, leaf])
            prog.add(lhs - b[m] <= 0, name=f"left_{leaf}_{m}")
        for m in anc_r[leaf]:
            prog.add(Xs @ a[m] - b[m] + 2 * (1 - z[:, leaf]) >= 0, name=f"right_{leaf}_{m}")
    M = float(data.counts.sum())
    tot = data.counts.sum(axis=1)
    for k in range(K):
        nk = (tot - data.counts[:, k]) @ z
        prog.add(E - nk - M * w[:, k] >= -M, name=f"leaf_err_{k}")
    if min_samples_leaf > 1:  # a leaf that receives samples holds at least m of them
        used = prog.var("used", shape=L, domain="binary", latex="u")
        sizes = data.sizes @ z
        prog.add(sizes - min_samples_leaf * used >= 0, name="min_leaf")
        prog.add(z - np.ones((P, 1)) @ used.reshape(1, L) <= 0, name="leaf_used")
    prog.minimize(E.sum() + alpha * d.sum())
    return prog
