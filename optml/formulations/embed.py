r"""Fitted predictive models as constraints: empirical model learning (Lombardi, Milano and
Bartolini, 2017).

A fitted model :math:`g` becomes constraints :math:`\text{out} = g(x)` inside a decision
program, so that one can optimise over the model's input.

Linear model: :math:`\text{out} = C x + d` (one row per output).

Decision tree (one binary per leaf): leaves :math:`\ell` with value :math:`v_\ell`,
:math:`\sum_\ell z_\ell = 1`, :math:`\text{out} = \sum_\ell v_\ell z_\ell`, and for every split
node :math:`s` (feature :math:`f_s`, threshold :math:`t_s`, left leaves :math:`\mathcal L_s`,
right leaves :math:`\mathcal R_s`)

.. math::

    x_{f_s} \le t_s + (U_{f_s} - t_s)\,\Big(1 - \sum_{\ell \in \mathcal L_s} z_\ell\Big), \qquad
    x_{f_s} \ge t_s + \delta_s - (t_s + \delta_s - L_{f_s})\,
        \Big(1 - \sum_{\ell \in \mathcal R_s} z_\ell\Big),

with :math:`[L, U]` the bounds of :math:`x` and :math:`\delta_s = 10^{-5}\max(1, |t_s|)`
(scikit-learn sends :math:`x_f \le t` left and :math:`x_f > t` right, after rounding
:math:`x` to float32: the gap keeps the program's leaf and scikit-learn's leaf the same). A
random forest is the average of its trees, one set of leaf binaries per tree.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from optml.formulations.relu import expression_bounds
from optml.program import Program, as_expression


def add_linear(program: Program, x, out, coef, intercept, name: str = "linear"):
    """``out == coef @ x + intercept`` (``coef`` of shape (n_out, n_in))."""
    C = np.atleast_2d(np.asarray(coef, dtype=float))
    d = np.broadcast_to(np.asarray(intercept, dtype=float).ravel(), (C.shape[0],))
    x = as_expression(x).flatten()
    o = as_expression(out).flatten()
    program.add(o == C @ x + d, name=name)
    return None


def tree_paths(left, right, n_nodes):
    """For each node: the leaves below its left child and below its right child."""
    leaves = [i for i in range(n_nodes) if left[i] < 0]
    below = {}

    def collect(i):
        if left[i] < 0:
            below[i] = [i]
        else:
            below[i] = collect(left[i]) + collect(right[i])
        return below[i]

    collect(0)
    return leaves, below


def tree_output(program: Program, x, left, right, feature, threshold, values, name="tree"):
    r"""Leaf binaries and rows of one tree; returns ``(out_expression, z)``.

    ``values`` has one row per node (only leaf rows are used), shape ``(n_nodes, n_out)``.
    """
    left = np.asarray(left)
    right = np.asarray(right)
    values = np.asarray(values, dtype=float).reshape(len(left), -1)
    x = as_expression(x).flatten()
    lo, hi = expression_bounds(x)
    leaves, below = tree_paths(left, right, len(left))
    pos = {leaf: r for r, leaf in enumerate(leaves)}
    z = program.var(f"{name}_leaf", shape=len(leaves), domain="binary")
    program.add(z.sum() == 1, name=f"{name}_one_leaf")
    rows_l, rows_r = [], []
    for s in range(len(left)):
        if left[s] < 0:
            continue
        f, t = int(feature[s]), float(threshold[s])
        if not (np.isfinite(lo[f]) and np.isfinite(hi[f])):
            raise ValueError(
                f"{name}: input {f} is used by a split but has an infinite bound; give the "
                "input variable finite lb and ub (a tree's leaf choice needs big-M values)"
            )
        delta = 1e-5 * max(1.0, abs(t))
        L = [pos[v] for v in below[left[s]]]
        R = [pos[v] for v in below[right[s]]]
        if hi[f] > t:
            rows_l.append((f, t, hi[f] - t, L))
        if lo[f] < t + delta:
            rows_r.append((f, t + delta, t + delta - lo[f], R))
    n = x.size
    for rows, sense in ((rows_l, "<="), (rows_r, ">=")):
        if not rows:
            continue
        m = len(rows)
        F = sp.csr_matrix((np.ones(m), (np.arange(m), [r[0] for r in rows])), shape=(m, n))
        t = np.array([r[1] for r in rows])
        M = np.array([r[2] for r in rows])
        ri, ci = [], []
        for i, r in enumerate(rows):
            ri += [i] * len(r[3])
            ci += r[3]
        S = sp.csr_matrix((np.ones(len(ri)), (ri, ci)), shape=(m, len(leaves)))
        lhs = F @ x
        if sense == "<=":
            program.add(lhs <= t + M * (1 - S @ z), name=f"{name}_left")
        else:
            program.add(lhs >= t - M * (1 - S @ z), name=f"{name}_right")
    V = values[leaves]  # (n_leaves, n_out)
    return V.T @ z, z


def add_trees(program: Program, x, out, trees, weights=None, offset=0.0, name="tree"):
    """``out == offset + sum_k weights_k * tree_k(x)``; ``trees`` a list of
    ``(left, right, feature, threshold, values)``. Returns the list of leaf variables."""
    k = len(trees)
    w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=float)
    o = as_expression(out).flatten()
    total = as_expression(np.broadcast_to(np.asarray(offset, dtype=float), (o.size,)).copy())
    zs = []
    for i, tr in enumerate(trees):
        e, z = tree_output(program, x, *tr, name=f"{name}{i}" if k > 1 else name)
        if e.size != o.size:
            raise ValueError(f"the model has {e.size} outputs but out has {o.size} entries")
        total = total + w[i] * e
        zs.append(z)
    program.add(o == total, name=f"{name}_out")
    return zs
