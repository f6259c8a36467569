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

    x_{f_s} \le t_s - \delta_s + (U_{f_s} - t_s + \delta_s)\,
        \Big(1 - \sum_{\ell \in \mathcal L_s} z_\ell\Big), \qquad
    x_{f_s} \ge t_s + \delta_s - (t_s + \delta_s - L_{f_s})\,
        \Big(1 - \sum_{\ell \in \mathcal R_s} z_\ell\Big),

with :math:`[L, U]` the bounds of :math:`x` and
:math:`\delta_s = \max\{10^{-5}\max(1, |t_s|),\ 4\cdot10^{-6}(1 + U_{f_s} - L_{f_s})\}`.
scikit-learn sends :math:`x_f \le t` left after rounding :math:`x` to float32, XGBoost
:math:`x_f < t`, LightGBM :math:`x_f \le t`; the band :math:`(t_s - \delta_s, t_s + \delta_s)`
left out on both sides is wider than that rounding and than what a solver's feasibility and
integrality tolerances (about :math:`10^{-6}`, times the big-M) let :math:`x` slip, so the
program's leaf and the model's leaf are the same at every point a solver returns. A random
forest is the average of its trees, one set of leaf binaries per tree.
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


def split_margin(t, lo, hi) -> float:
    """Half-width of the band around a threshold left out of both sides (module docstring)."""
    return max(1e-5 * max(1.0, abs(t)), 4e-6 * (1.0 + max(hi - lo, 0.0)))


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


def _split_rows(left, right, feature, threshold, lo, hi, below, pos, name):
    """The big-M rows of a tree's splits over inputs in ``[lo, hi]``: ``(left rows, right
    rows)``, each row ``(feature, threshold -/+ margin, big-M, leaf columns)`` (``pos`` maps
    a leaf node to its column of the leaf binaries, ``below`` a node to the leaves under it);
    a row that no input value can violate is left out."""
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
        delta = split_margin(t, lo[f], hi[f])
        tl, tr = t - delta, t + delta
        if hi[f] > tl:
            rows_l.append((f, tl, hi[f] - tl, [pos[v] for v in below[left[s]]]))
        if lo[f] < tr:
            rows_r.append((f, tr, tr - lo[f], [pos[v] for v in below[right[s]]]))
    return rows_l, rows_r


def tree_output(
    program: Program,
    x,
    left,
    right,
    feature,
    threshold,
    values,
    name="tree",
    left_strict: bool = False,
):
    r"""Leaf binaries and rows of one tree; returns ``(out_expression, z)``.

    ``values`` has one row per node (only leaf rows are used), shape ``(n_nodes, n_out)``.
    ``left_strict``: the tree sends :math:`x_f < t` left (XGBoost) instead of :math:`x_f \le t`
    (scikit-learn, LightGBM); the band left out around each threshold makes both the same
    rows, so the flag only documents the convention.
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
    rows_l, rows_r = _split_rows(left, right, feature, threshold, lo, hi, below, pos, name)
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
    o = as_expression(out).flatten()
    total, zs, _ = tree_sum(program, x, trees, o.size, weights, offset, name=name)
    program.add(o == total, name=f"{name}_out")
    return zs


def tree_sum(
    program: Program,
    x,
    trees,
    n_out,
    weights=None,
    offset=0.0,
    name="tree",
    left_strict: bool = False,
):
    r"""The affine expression :math:`c + \sum_k w_k\,\text{tree}_k(x)` of an ensemble
    (random forest: :math:`w_k = 1/K`; gradient boosting: :math:`c` the initial prediction and
    :math:`w_k` the learning rate), its leaf variables, and interval bounds ``(lo, hi)`` of it
    from the smallest and largest leaf value of each tree.

    All trees share one binary vector (the leaves of tree 0, then tree 1, ...) and one block
    of split rows, so the build time grows linearly with the number of leaves.
    """
    k = len(trees)
    w = (
        np.full(k, 1.0 / k)
        if weights is None
        else np.broadcast_to(np.asarray(weights, float), (k,))
    )
    c = np.broadcast_to(np.asarray(offset, dtype=float).ravel(), (n_out,)).copy()
    x = as_expression(x).flatten()
    lo, hi = expression_bounds(x)
    blo, bhi = c.copy(), c.copy()
    Vs, one_rows, one_cols = [], [], []
    rows = {"<=": [], ">=": []}
    base = 0
    for i, (left, right, feature, threshold, values) in enumerate(trees):
        left = np.asarray(left)
        right = np.asarray(right)
        values = np.asarray(values, dtype=float).reshape(len(left), -1)
        if values.shape[1] != n_out:
            raise ValueError(f"the model has {values.shape[1]} outputs but out has {n_out} entries")
        leaves, below = tree_paths(left, right, len(left))
        pos = {leaf: base + r for r, leaf in enumerate(leaves)}
        rows_l, rows_r = _split_rows(left, right, feature, threshold, lo, hi, below, pos, name)
        rows["<="] += rows_l
        rows[">="] += rows_r
        V = values[leaves] * w[i]
        Vs.append(V)
        blo, bhi = blo + V.min(axis=0), bhi + V.max(axis=0)
        one_rows += [i] * len(leaves)
        one_cols += list(range(base, base + len(leaves)))
        base += len(leaves)
    z = program.var(f"{name}_leaf", shape=base, domain="binary")
    one = sp.csr_matrix((np.ones(base), (one_rows, one_cols)), shape=(k, base))
    program.add(one @ z == 1, name=f"{name}_one_leaf")
    n = x.size
    for sense, rs in rows.items():
        if not rs:
            continue
        m = len(rs)
        F = sp.csr_matrix((np.ones(m), (np.arange(m), [r[0] for r in rs])), shape=(m, n))
        t = np.array([r[1] for r in rs])
        M = np.array([r[2] for r in rs])
        ri = np.repeat(np.arange(m), [len(r[3]) for r in rs])
        ci = np.concatenate([r[3] for r in rs])
        S = sp.csr_matrix((M[ri], (ri, ci)), shape=(m, base))  # row i scaled by M_i
        if sense == "<=":
            program.add(F @ x + S @ z <= t + M, name=f"{name}_left")
        else:
            program.add(F @ x - S @ z >= t - M, name=f"{name}_right")
    V = np.vstack(Vs)
    return V.T @ z + c, [z], (blo, bhi)
