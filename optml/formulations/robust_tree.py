r"""Robust classification trees against bounded feature perturbations (Vos and Verwer, "Robust
optimal classification trees against adversarial examples", AAAI 2022).

Each sample may move within :math:`\|\delta\|_\infty \le \epsilon` (per feature,
:math:`\epsilon_j`). A threshold test :math:`x_j \le t` sends a sample left, and an adversary
can send it to either side when :math:`|x_j - t| \le \epsilon_j` (exactly: left is reachable
when :math:`x_j - \epsilon_j \le t`, right when :math:`x_j + \epsilon_j > t`). A leaf is
reachable when its box meets the ball; a sample counts as correct only when every reachable
leaf predicts its label. The robust tree maximises the number of such samples:

.. math:: \max_{T}\ \sum_i \prod_{\ell \in \mathrm{reach}_T(x_i)} [\,c_\ell = y_i\,].

The numpy evaluator :func:`robust_errors` computes the objective of a given tree exactly (leaf
boxes against the ball).
"""

from __future__ import annotations

import numpy as np


def leaf_boxes(children_left, children_right, feature, threshold, n_features):
    """``{leaf: (lower, upper)}``: ``lower`` open (``x_f > lower``), ``upper`` closed."""
    out = {}
    stack = [(0, np.full(n_features, -np.inf), np.full(n_features, np.inf))]
    while stack:
        node, lo, hi = stack.pop()
        left = int(children_left[node])
        if left < 0:
            out[node] = (lo, hi)
            continue
        f, t = int(feature[node]), float(threshold[node])
        hl = hi.copy()
        hl[f] = min(hl[f], t)
        lr = lo.copy()
        lr[f] = max(lr[f], t)
        stack.append((left, lo, hl))
        stack.append((int(children_right[node]), lr, hi))
    return out


def reach(X, eps, lower, upper) -> np.ndarray:
    """Samples whose ball meets the box ``lower < x <= upper`` (per feature radius ``eps``)."""
    X = np.asarray(X, float)
    e = np.broadcast_to(np.asarray(eps, float), (X.shape[1],))
    if (lower >= upper).any():  # an empty leaf
        return np.zeros(X.shape[0], bool)
    return ((X + e > lower) & (X - e <= upper)).all(axis=1)


def robust_errors(tree, X, y_idx, eps) -> int:
    """Samples not robustly correct for ``tree`` (a structure with ``children_left``,
    ``children_right``, ``feature``, ``threshold``, ``leaf_class``) under the L-inf ball."""
    X = np.asarray(X, float)
    ok = np.ones(X.shape[0], bool)
    boxes = leaf_boxes(
        tree.children_left, tree.children_right, tree.feature, tree.threshold, X.shape[1]
    )
    for leaf, (lo, hi) in boxes.items():
        r = reach(X, eps, lo, hi)
        ok &= ~r | (np.asarray(y_idx) == tree.leaf_class[leaf])
    return int((~ok).sum())
