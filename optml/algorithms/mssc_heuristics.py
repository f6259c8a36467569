"""Upper bounds for MSSC: weighted k-means++, Lloyd, and Hartigan single-item moves; under
cluster sizes, constrained k-means (Lloyd with a transportation LP for the assignment).

Items are weighted points (a must-link group is one item at its mean with weight = its total
sample weight, its size when points are unweighted). Weights must be positive.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog


def weighted_cost(M: np.ndarray, w: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Sum over clusters of ``sum_i w_i ||M_i - centroid||^2`` (without within-item scatter)."""
    W = np.bincount(labels, weights=w, minlength=k)
    S = np.zeros((k, M.shape[1]))
    np.add.at(S, labels, w[:, None] * M)
    sq = np.bincount(labels, weights=w * (M * M).sum(axis=1), minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = sq - (S * S).sum(axis=1) / np.where(W > 0, W, 1.0)
    return float(np.maximum(c, 0).sum())


def centres(M, w, labels, k) -> np.ndarray:
    """The k weighted cluster means (rows; 0 for an empty cluster)."""
    W = np.bincount(labels, weights=w, minlength=k)
    S = np.zeros((k, M.shape[1]))
    np.add.at(S, labels, w[:, None] * M)
    return S / np.maximum(W, 1e-300)[:, None]


def kmeans_pp(M, w, k, rng) -> np.ndarray:
    """k-means++ seeding on weighted items; returns k centre rows."""
    m = M.shape[0]
    first = rng.choice(m, p=w / w.sum())
    C = [M[first]]
    d2 = w * ((M - C[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        tot = d2.sum()
        j = rng.choice(m, p=d2 / tot) if tot > 0 else rng.integers(m)
        C.append(M[j])
        d2 = np.minimum(d2, w * ((M - M[j]) ** 2).sum(axis=1))
    return np.array(C)


def lloyd(M, w, C, max_iter: int = 100) -> np.ndarray:
    """Weighted Lloyd iterations from centres ``C``; returns labels (empty clusters re-seeded)."""
    k = C.shape[0]
    labels = None
    for _ in range(max_iter):
        d2 = ((M[:, None, :] - C[None]) ** 2).sum(axis=2)
        new = d2.argmin(axis=1)
        counts = np.bincount(new, minlength=k)
        for j in np.flatnonzero(counts == 0):
            # re-seed an empty cluster at the worst item of a cluster that keeps another item
            # (with repeated points every item may sit on its centre: never empty another)
            movable = counts[new] > 1
            if not movable.any():
                break
            far = int(np.where(movable, w * d2[np.arange(len(new)), new], -1.0).argmax())
            counts[new[far]] -= 1
            new[far] = j
            counts[j] += 1
            d2[far] = 0
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        C = centres(M, w, labels, k)
    return labels


def hartigan(M, w, labels, k, max_pass: int = 50, sizes=None) -> np.ndarray:
    """Single-item moves while one lowers the weighted MSSC cost (Hartigan–Wong style).

    ``sizes = (cnt, lo, hi)``: only moves that keep every cluster's size (the sum of its
    items' ``cnt``) within ``[lo, hi]`` (or that do not take a size farther out of it)."""
    labels = labels.copy()
    W = np.bincount(labels, weights=w, minlength=k)
    S = np.zeros((k, M.shape[1]))
    np.add.at(S, labels, w[:, None] * M)
    cnt = np.bincount(labels, minlength=k)
    if sizes is not None:
        icnt, lo, hi = sizes
        size = np.bincount(labels, weights=icnt, minlength=k)
    for _ in range(max_pass):
        moved = False
        for i in range(M.shape[0]):
            a = labels[i]
            if cnt[a] <= 1:
                continue
            if sizes is not None and size[a] - icnt[i] < lo:
                continue
            C = S / W[:, None]
            d2 = ((C - M[i]) ** 2).sum(axis=1)
            wi = w[i]
            remove = wi * W[a] / (W[a] - wi) * d2[a]
            add = wi * W / (W + wi) * d2
            add[a] = np.inf
            if sizes is not None:
                add[size + icnt[i] > hi] = np.inf
            b = int(add.argmin())
            if add[b] < remove - 1e-12 * (1.0 + remove):
                labels[i] = b
                W[a] -= wi
                W[b] += wi
                S[a] -= wi * M[i]
                S[b] += wi * M[i]
                cnt[a] -= 1
                cnt[b] += 1
                if sizes is not None:
                    size[a] -= icnt[i]
                    size[b] += icnt[i]
                moved = True
        if not moved:
            break
    return labels


def sized_assignment(M, w, C, lo, hi, cnt, time_limit=None) -> np.ndarray | None:
    r"""Labels of least :math:`\sum_i w_i\lVert M_i - C_{l(i)}\rVert^2` under cluster sizes
    (the sum of the items' ``cnt``) in ``[lo, hi]``: the transportation LP of constrained
    k-means (Bradley, Bennett & Demiriz 2000), by HiGHS through scipy; its vertex solution is
    integral for unit ``cnt``, else rounded to each item's largest share (sizes may then need a
    :func:`repair`). None when the LP has no solution (in ``time_limit`` seconds)."""
    m, k = M.shape[0], C.shape[0]
    D = w[:, None] * ((M[:, None, :] - C[None]) ** 2).sum(axis=2)
    cols = np.arange(m * k)
    one = sp.csr_matrix((np.ones(m * k), (np.repeat(np.arange(m), k), cols)), shape=(m, m * k))
    size = sp.csr_matrix(
        (np.tile(cnt, k), (np.repeat(np.arange(k), m), np.arange(m * k).reshape(m, k).T.ravel())),
        shape=(k, m * k),
    )
    A_ub, b_ub = [], []
    if np.isfinite(hi):
        A_ub.append(size)
        b_ub.append(np.full(k, float(hi)))
    if lo > 0:
        A_ub.append(-size)
        b_ub.append(np.full(k, -float(lo)))
    opts = {} if time_limit is None else {"time_limit": max(float(time_limit), 0.01)}
    res = linprog(
        D.ravel(),
        A_ub=sp.vstack(A_ub) if A_ub else None,
        b_ub=np.concatenate(b_ub) if b_ub else None,
        A_eq=one,
        b_eq=np.ones(m),
        bounds=(0.0, 1.0),
        method="highs",
        options=opts,
    )
    if res.x is None:
        return None
    return res.x.reshape(m, k).argmax(axis=1)


def constrained_lloyd(M, w, C, lo, hi, cnt, max_iter: int = 30, deadline=None):
    """Lloyd iterations with the sized assignment (:func:`sized_assignment`) from centres
    ``C``, then size-keeping Hartigan moves; labels within the sizes, or None."""
    k = C.shape[0]
    labels = None
    for _ in range(max_iter):
        left = None if deadline is None else deadline - time.perf_counter()
        if labels is not None and left is not None and left <= 0:
            break
        new = sized_assignment(M, w, C, lo, hi, cnt, left)
        if new is None:
            break
        size = np.bincount(new, weights=cnt, minlength=k)
        if size.min() < lo or size.max() > hi:
            new = repair(M, w, new, k, (), lo, hi, cnt=cnt)
            if new is None:
                break
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        C = centres(M, w, labels, k)
    if labels is None:
        return None
    return hartigan(M, w, labels, k, sizes=(cnt, lo, hi))


def best_partition(
    M, w, k, n_init: int, rng, deadline: float | None = None
) -> tuple[np.ndarray, float, list[np.ndarray]]:
    """k-means++ + Lloyd + Hartigan from ``n_init`` seeds (fewer when ``time.perf_counter()``
    passes ``deadline``: at least one).

    Returns the best labels, their weighted cost, and every distinct local optimum found (their
    clusters seed the column pool).
    """
    return _restarts(M, w, k, n_init, rng, deadline, lambda C: hartigan(M, w, lloyd(M, w, C), k))


def best_sized_partition(
    M, w, k, lo, hi, cnt, n_init: int, rng, deadline: float | None = None
) -> tuple[np.ndarray | None, float, list[np.ndarray]]:
    """:func:`best_partition` under cluster sizes in ``[lo, hi]`` (sums of ``cnt``):
    constrained Lloyd (:func:`constrained_lloyd`) from k-means++ seeds (labels None if no
    restart met the sizes)."""
    return _restarts(
        M,
        w,
        k,
        n_init,
        rng,
        deadline,
        lambda C: constrained_lloyd(M, w, C, lo, hi, cnt, deadline=deadline),
    )


def _restarts(M, w, k, n_init, rng, deadline, search):
    """``search(k-means++ centres)`` from ``n_init`` seeds (at least one; fewer past
    ``deadline``): the best labels, their cost, every distinct k-cluster result."""
    best, best_cost, seen, found = None, np.inf, set(), []
    for i in range(n_init):
        if i and deadline is not None and time.perf_counter() > deadline:
            break
        lab = search(kmeans_pp(M, w, k, rng))
        if lab is None or len(np.unique(lab)) < k:
            continue
        key = _canon(lab).tobytes()
        if key in seen:
            continue
        seen.add(key)
        found.append(lab)
        cost = weighted_cost(M, w, lab, k)
        if cost < best_cost - 1e-12:
            best, best_cost = lab, cost
    return best, best_cost, found


def _canon(labels: np.ndarray) -> np.ndarray:
    """Relabel clusters in order of first appearance (symmetry-free key)."""
    _, first, inv = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=int)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[inv]


def repair(M, w, labels, k, conflicts, lo, hi, max_moves=None, cnt=None) -> np.ndarray | None:
    """Greedy moves that make ``labels`` respect cannot-link ``conflicts`` and sizes [lo, hi].

    ``w`` weighs the centroids, ``cnt`` (default ``w``) is each item's size in the units of
    ``lo`` / ``hi`` (points, when the items carry sample weights).
    Returns the repaired labels, or None when the greedy moves get stuck.
    """
    cnt = w if cnt is None else cnt
    lab = labels.copy()
    m = len(lab)
    partners = [[] for _ in range(m)]
    for a, b in conflicts:
        partners[a].append(b)
        partners[b].append(a)
    for _ in range(max_moves or 10 * m + 10):
        size = np.bincount(lab, weights=cnt, minlength=k)
        W = np.bincount(lab, weights=w, minlength=k)
        S = np.zeros((k, M.shape[1]))
        np.add.at(S, lab, w[:, None] * M)
        C = S / np.maximum(W, 1e-300)[:, None]

        def allowed(i, j, size=size):
            return j != lab[i] and size[j] + cnt[i] <= hi and all(lab[p] != j for p in partners[i])

        bad = [b for a, b in conflicts if lab[a] == lab[b]]
        over = np.flatnonzero(size > hi)
        under = np.flatnonzero(size < lo)
        if bad:
            cand = [bad[0]]
        elif over.size:
            cand = list(np.flatnonzero(lab == over[0]))
        elif under.size:
            cand = [i for i in range(m) if size[lab[i]] - cnt[i] >= lo]
        else:
            return lab
        best, move = np.inf, None
        for i in cand:
            targets = [under[0]] if (not bad and not over.size) else range(k)
            for j in targets:
                if allowed(i, j):
                    dist = float(((M[i] - C[j]) ** 2).sum()) if size[j] > 0 else 0.0
                    if dist < best:
                        best, move = dist, (i, j)
        if move is None:
            return None
        lab[move[0]] = move[1]
    return None
