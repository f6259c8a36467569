r"""Robust optimal classification trees of depth 1 or 2 against L-inf feature perturbations
(Vos and Verwer, AAAI 2022), by exhaustive search with bounds.

The objective (see :mod:`optml.formulations.robust_tree`) counts the samples whose every
reachable leaf predicts their label. Thresholds: the pattern of which samples can reach which
side changes only at :math:`t = x_{ij} \pm \epsilon_j`, so one threshold per interval between
consecutive breakpoints (its midpoint) covers every pattern; the search over them is exact. With ``max_thresholds`` a feature keeps an
evenly spaced subset of its breakpoints (the answer is then optimal over that subset, and
``thresholds_`` says so).

Depth 2: for a root split the samples fall in three groups, left only (A), right only (B) and
both (S, within :math:`\epsilon_j` of the threshold). A sample of S is correct only when both
subtrees pass it, so the best pair of subtrees maximises
:math:`a_L + b_R + |S_L \cap S_R|`; it is found by one matrix product over the distinct
S-patterns of each side. A root is skipped when the bound
:math:`\min(\max_L (a_L + |S_L|) + \max_R b_R,\ \max_L a_L + \max_R (b_R + |S_R|))`
cannot beat the incumbent; at the time limit the incumbent is returned with the largest
bound of the roots left (``bound_``, ``gap_``).
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import encode_classes
from optml.classification._tree_structure import TreeStructure
from optml.formulations.robust_tree import robust_errors


def _breakpoints(x, e, cap):
    """Midpoints between consecutive breakpoints x_i -+ e: one threshold per interval on which
    the reach pattern is constant (away from ties, so that float round-off cannot flip it)."""
    bp = np.unique(np.concatenate([x - e, x + e]))
    T = (bp[1:] + bp[:-1]) / 2
    if cap is not None and T.size > cap:
        T = T[np.unique(np.linspace(0, T.size - 1, cap).round().astype(int))]
    return T


class _Side:
    """Candidate subtrees of one side of the root over the samples that reach it."""

    def __init__(self, X, e, yi, K, T, root_j, root_t, left: bool):
        self.X, self.e, self.yi, self.K = X, e, yi, K
        cands = [("leaf", c) for c in range(K)]
        cols = [yi == c for c in range(K)]
        n, p = X.shape
        for j in range(p):
            Tj = T[j]
            RL = (X[:, j, None] - e[j]) <= Tj[None, :]
            RR = (X[:, j, None] + e[j]) > Tj[None, :]
            if j == root_j:  # a leaf of this side may be empty
                if left:
                    RR = RR & (Tj < root_t)[None, :]
                else:
                    RL = RL & (Tj > root_t)[None, :]
            for a in range(K):
                for b in range(K):
                    if a == b:
                        continue
                    P = (~RL | (yi == a)[:, None]) & (~RR | (yi == b)[:, None])
                    cols.append(P)
                    cands += [("split", j, float(t), a, b) for t in Tj]
        self.P = np.column_stack(cols) if cols else np.zeros((n, 0), bool)
        self.cands = cands


class RobustOptimalTree(ClassifierMixin, BaseEstimator):
    r"""Depth-1 or depth-2 classification tree, optimal for the worst case over an L-inf ball.

    Maximises the number of training samples that every point of their ball
    :math:`\{x : \|x - x_i\|_\infty \le \epsilon\}` classifies correctly (Vos and Verwer 2022),
    by an exact search over the threshold breakpoints :math:`x_{ij} \pm \epsilon` with bounds.

    Parameters
    ----------
    max_depth : {1, 2}, default 2
    eps : float or array of shape (n_features,), default 0.1
        Perturbation radius per feature (in the units of ``X``).
    max_thresholds : int or None, default 32
        Breakpoints kept per feature (evenly spaced subset); None keeps all (exact over all
        trees).
    time_limit : float or None
        Seconds; at the limit the incumbent and the bound of the roots left are returned.

    Attributes
    ----------
    classes_, tree_ (a :class:`~optml.classification._tree_structure.TreeStructure`),
    robust_correct_ : int
        Training samples robustly correct (the objective).
    bound_ : int
        Proven upper bound on the objective over the candidate thresholds.
    gap_ : float
        ``(bound_ - robust_correct_) / max(bound_, 1)``.
    status_ : str
        "optimal" or "time_limit".
    thresholds_ : str
        "all breakpoints" or "subset of breakpoints" (optimality is over that set).
    """

    def __init__(self, max_depth=2, *, eps=0.1, max_thresholds=32, time_limit=None):
        self.max_depth = max_depth
        self.eps = eps
        self.max_thresholds = max_thresholds
        self.time_limit = time_limit

    def _check(self, p):
        if self.max_depth not in (1, 2):
            raise ValueError(f"max_depth must be 1 or 2, got {self.max_depth!r}")
        e = np.broadcast_to(np.asarray(self.eps, dtype=float), (p,)).copy()
        if not np.isfinite(e).all() or (e < 0).any():
            raise ValueError(f"eps must be finite and >= 0 (per feature), got {self.eps!r}")
        mt = self.max_thresholds
        if mt is not None and (not isinstance(mt, int | np.integer) or mt < 2):
            raise ValueError(f"max_thresholds must be an int >= 2 or None, got {mt!r}")
        tl = self.time_limit
        if tl is not None and not (np.isfinite(tl) and tl > 0):
            raise ValueError(f"time_limit must be a positive number or None, got {tl!r}")
        return e

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        classes, yi = encode_classes(self, y)
        self.classes_ = classes
        n, p = X.shape
        e = self._check(p)
        K = classes.size
        T = [_breakpoints(X[:, j], e[j], self.max_thresholds) for j in range(p)]
        full = all(
            T[j].size == np.unique(np.concatenate([X[:, j] - e[j], X[:, j] + e[j]])).size - 1
            for j in range(p)
        )
        self.thresholds_ = "all breakpoints" if full else "subset of breakpoints"
        t0 = time.perf_counter()
        deadline = None if self.time_limit is None else t0 + float(self.time_limit)
        # incumbent: the best single leaf
        counts = np.bincount(yi, minlength=K)
        best = (int(counts.max()), ("leaf", int(counts.argmax())))
        root = _Side(X, e, yi, K, T, -1, 0.0, True)  # depth-1 trees are its candidates
        scores = root.P.sum(axis=0)
        k = int(np.argmax(scores))
        if scores[k] > best[0]:
            best = (int(scores[k]), root.cands[k])
        bound = best[0]
        status = "optimal"
        if self.max_depth == 2:
            roots = [(j, float(t)) for j in range(p) for t in T[j]]
            for j, t in roots:
                if deadline is not None and time.perf_counter() > deadline:
                    status = "time_limit"
                    bound = n  # the roots left are bounded by n only
                    break
                best = self._root(X, e, yi, K, T, j, t, best)
            bound = max(bound, best[0]) if status == "optimal" else n
        else:
            bound = best[0]
        self.robust_correct_ = int(best[0])
        self.bound_ = int(bound)
        self.gap_ = (self.bound_ - self.robust_correct_) / max(self.bound_, 1)
        self.status_ = status
        self.fit_time_ = time.perf_counter() - t0
        self.tree_ = _structure(best[1], K, X, yi)
        # the objective re-checked by the leaf-box evaluator (numpy)
        self.robust_errors_ = robust_errors(self.tree_, X, yi, e)
        if n - self.robust_errors_ != self.robust_correct_:  # pragma: no cover - a bug guard
            raise AssertionError("robust tree: search and evaluator disagree")
        return self

    def _root(self, X, e, yi, K, T, j, t, best):
        rl = (X[:, j] - e[j]) <= t
        rr = (X[:, j] + e[j]) > t
        if not rl.any() or not rr.any():
            return best
        L = _Side(X[rl], e, yi[rl], K, T, j, t, True)
        R = _Side(X[rr], e, yi[rr], K, T, j, t, False)
        sL, sR = rr[rl], rl[rr]  # the samples of S, in each side's order
        aL = L.P[~sL].sum(axis=0)
        bR = R.P[~sR].sum(axis=0)
        SL, SR = L.P[sL], R.P[sR]
        ub = min((aL + SL.sum(axis=0)).max() + bR.max(), aL.max() + (bR + SR.sum(axis=0)).max())
        if ub <= best[0]:
            return best
        iL, iR = _distinct(aL, SL), _distinct(bR, SR)
        M = SL[:, iL].T.astype(np.float32) @ SR[:, iR].astype(np.float32)
        tot = aL[iL][:, None] + bR[iR][None, :] + M
        a, b = np.unravel_index(int(np.argmax(tot)), tot.shape)
        val = int(round(float(tot[a, b])))
        if val > best[0]:
            best = (val, ("root", j, t, L.cands[iL[a]], R.cands[iR[b]]))
        return best

    def _route(self, X):
        t = self.tree_
        node = np.zeros(X.shape[0], int)
        for _ in range(3):
            inner = t.children_left[node] >= 0
            if not inner.any():
                break
            f = t.feature[node[inner]]
            go_left = X[inner, f] <= t.threshold[node[inner]]
            node[inner] = np.where(
                go_left, t.children_left[node[inner]], t.children_right[node[inner]]
            )
        return node

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.classes_[self.tree_.leaf_class[self._route(X)]]


def _distinct(score, S):
    """Columns with distinct S-patterns, the best score of each."""
    if S.shape[0] == 0:
        return np.array([int(np.argmax(score))])
    keys = np.packbits(S, axis=0)
    order = np.lexsort((-score,) + tuple(keys[::-1]))
    ks = keys[:, order]
    new = np.ones(order.size, bool)
    new[1:] = (ks[:, 1:] != ks[:, :-1]).any(axis=0)
    return order[new]


def _structure(cand, K, X, yi) -> TreeStructure:
    """A sklearn-like structure of the winning candidate (node 0 the root)."""
    left, right, feat, thr, cls = [], [], [], [], []

    def add(c):
        i = len(left)
        left.append(-1)
        right.append(-1)
        feat.append(-1)
        thr.append(-2.0)
        cls.append(0)
        if c[0] == "leaf":
            cls[i] = c[1]
            return i
        if c[0] == "split":
            _, j, t, a, b = c
            feat[i], thr[i] = j, t
            left[i] = add(("leaf", a))
            right[i] = add(("leaf", b))
            return i
        _, j, t, cl, cr = c
        feat[i], thr[i] = j, t
        left[i] = add(cl)
        right[i] = add(cr)
        return i

    add(cand)
    m = len(left)
    depth = np.zeros(m, int)
    for i in range(m):
        for ch in (left[i], right[i]):
            if ch >= 0:
                depth[ch] = depth[i] + 1
    return TreeStructure(
        children_left=np.array(left),
        children_right=np.array(right),
        feature=np.array(feat),
        threshold=np.array(thr, float),
        value=np.zeros((m, K)),
        n_node_samples=np.zeros(m, int),
        leaf_class=np.array(cls),
        depth=depth,
    )
