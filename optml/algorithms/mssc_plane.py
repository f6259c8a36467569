r"""Exact MSSC pricing in the plane: a sweep over the arrangement of the items' disks.

For duals :math:`\pi` the pricing problem of MSSC column generation is

.. math::

    \min_{S \ne \emptyset}\ c_S - \pi(S)
    = \min_{c \in \mathbb R^2}\ g(c),\qquad
    g(c) = \sum_i \min\bigl(0,\ q_i(c)\bigr),\quad
    q_i(c) = w_i \lVert c - m_i\rVert^2 + a_i,

with :math:`a_i = s_i - \pi_i` (:math:`s_i` the scatter inside item :math:`i`), whenever some
:math:`a_i < 0` (du Merle, Hansen, Jaumard & Mladenović 2000). Item :math:`i` helps exactly
inside the open disk of centre :math:`m_i` and radius :math:`r_i = \sqrt{-a_i / w_i}`, so
:math:`g` is a convex quadratic on each cell of the arrangement of these circles, whose set
:math:`T` of covering disks is constant, and :math:`\min g = \min_T c_T - \pi(T)` over the
cells' sets. Every cell but the outer one (:math:`T = \emptyset`) borders an arc of some circle,
and the cells on either side of an arc of circle :math:`i` have the sets :math:`T_{arc}` and
:math:`T_{arc} \cup \{i\}`. Sweeping each circle's intersection angles in order, with running
sums of the items' weights, weighted means, squared norms and :math:`a_i`, gives every cell's
value in :math:`O(1)` after an :math:`O(m \log m)` sort per circle: :math:`O(m^2 \log m)` for
the exact minimum (Aloise, Hansen & Liberti 2012 price the plane exactly by the same
geometry). A one-dimensional instance is the plane's with a zero second coordinate.

:math:`g` is continuous, so an event misordered by round-off changes the value found by at most
the round-off of :math:`q_j` at the crossing; :data:`SAFETY` covers it and the cancellation in
the running sums, and :func:`plane_pricing`'s bound is reduced by it.
"""

from __future__ import annotations

import time

import numpy as np

#: relative safety margin on the exact minimum (round-off of the running sums and the angles)
SAFETY = 1e-11
#: circles swept together (memory: about 80 * BATCH * m bytes)
BATCH = 16
#: candidate arcs kept per circle (spread the columns over the plane)
PER_CIRCLE = 1

TWO_PI = 2.0 * np.pi


def _channels(M, w, a):
    """Per item: weight, weighted coordinates, weighted squared norm, a, 1 (m x 6; the count is
    exact in floating point and tells the empty set)."""
    return np.column_stack(
        [w, w * M[:, 0], w * M[:, 1], w * (M * M).sum(axis=1), a, np.ones(M.shape[0])]
    )


def _value(sums):
    """c_T - pi(T) from the running sums (last axis: the six channels); inf for the empty set."""
    W = sums[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        v = sums[..., 3] - (sums[..., 1] ** 2 + sums[..., 2] ** 2) / W + sums[..., 4]
    return np.where(sums[..., 5] > 0.5, v, np.inf)


def _geometry(Mi, ri, Mj, rj):
    """For circles i (rows) against disks j (columns): crossing mask, start angle in [0, 2pi),
    arc length, and the mask of disks that contain circle i entirely."""
    dx = Mj[None, :, 0] - Mi[:, None, 0]
    dy = Mj[None, :, 1] - Mi[:, None, 1]
    D = np.hypot(dx, dy)
    R, r = ri[:, None], rj[None, :]
    inside = D + R < r  # circle i lies in the open disk j
    cross = (D < R + r) & (np.abs(R - r) < D)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosv = (R * R + D * D - r * r) / (2 * R * D)
    half = np.arccos(np.clip(np.where(cross, cosv, 1.0), -1.0, 1.0))
    phi = np.arctan2(dy, dx)
    start = np.mod(phi - half, TWO_PI)
    return cross, start, 2 * half, inside


def _sweep(Mi, ri, chi, M, r, ch, own):
    """Values of the arcs' two sets for a batch of circles.

    Returns (values B x (2P+1) x 2, angles B x 2P): the value of T_arc (last axis 0) and
    T_arc + {i} (1) on arc e, where arc 0 begins at angle 0 and arc e >= 1 after the e-th event,
    and the events' angles in increasing order (inf for the disks that do not cross)."""
    cross, start, length, inside = _geometry(Mi, ri, M, r)
    inside[np.arange(Mi.shape[0]), own] = False
    cross[np.arange(Mi.shape[0]), own] = False
    end = start + length
    init = inside | (cross & (end > TWO_PI))
    B, P = cross.shape
    ang = np.concatenate(
        [np.where(cross, start, np.inf), np.where(cross, np.mod(end, TWO_PI), np.inf)], axis=1
    )
    sign = np.concatenate([np.ones((B, P)), -np.ones((B, P))], axis=1) * np.concatenate(
        [cross, cross], axis=1
    )
    order = np.argsort(ang, axis=1, kind="stable")
    idx = np.concatenate([np.arange(P), np.arange(P)])[order]
    sg = np.take_along_axis(sign, order, axis=1)
    base = init.astype(float) @ ch  # B x 6
    steps = sg[:, :, None] * ch[idx]  # B x 2P x 6
    sums = np.concatenate([base[:, None, :], base[:, None, :] + np.cumsum(steps, axis=1)], axis=1)
    vals = np.stack([_value(sums), _value(sums + chi[:, None, :])], axis=2)
    return vals, np.take_along_axis(ang, order, axis=1)


def _mid_angles(angs, e):
    """The middle angle of arc ``e[r]`` of circle ``r`` (arcs as in :func:`_sweep`)."""
    r = np.arange(e.size)
    e = np.minimum(e, np.isfinite(angs).sum(axis=1))  # arcs past the last event: the last arc
    n = angs.shape[0]
    pad = np.concatenate([np.zeros((n, 1)), angs, np.full((n, 1), np.inf)], axis=1)
    lo = pad[r, e]
    hi = np.minimum(pad[r, e + 1], TWO_PI)
    return (lo + hi) / 2


def plane_pricing(M, w, a, max_cols=50, batch=BATCH, deadline=None):
    r"""The exact :math:`\min_{S\neq\emptyset} \sum_{i\in S} q_i` in the plane, and good sets.

    Parameters
    ----------
    M : ndarray of shape (m, d), d <= 2
        The items' (weighted) means.
    w : ndarray of shape (m,)
        The items' weights (positive).
    a : ndarray of shape (m,)
        :math:`s_i - \pi_i`: the items' scatter less their duals.
    max_cols : int
        How many of the best distinct sets with a negative value to return.
    deadline : float, optional
        A :func:`time.perf_counter` time: the sweep stops there, and ``bound`` is then -inf
        (a partial sweep bounds nothing); ``best`` and ``sets`` are those seen.

    Returns
    -------
    bound : float
        A lower bound on the minimum, below it by at most :data:`SAFETY` of the data's scale
        (-inf when stopped at ``deadline``).
    best : float
        The smallest value found (attained by the first of ``sets`` when it is negative).
    sets : list of ndarray of bool
        Distinct item sets in increasing value (only negative values).
    """
    M = np.asarray(M, float)
    if M.shape[1] == 1:
        M = np.column_stack([M[:, 0], np.zeros(M.shape[0])])
    if M.shape[1] != 2:
        raise ValueError(f"plane pricing needs points in 1 or 2 dimensions, got {M.shape[1]}")
    m = M.shape[0]
    act = np.flatnonzero(a < 0)
    if act.size == 0:  # no item helps: the best set is one item alone
        j = int(np.argmin(a))
        return float(a[j]), float(a[j]), []
    Ma, wa, aa = M[act], w[act], a[act]
    ra = np.sqrt(-aa / wa)
    ch = _channels(Ma, wa, aa)
    scale = float(np.abs(ch[:, 3]).sum() + np.abs(aa).sum() + (wa * ra * ra).sum())
    keep = PER_CIRCLE
    cand_v, cand_i, cand_p, cand_t = [], [], [], []
    complete = True
    for rows in _groups(Ma, batch):
        if deadline is not None and time.perf_counter() > deadline:
            complete = False
            break
        lo = (Ma[rows] - ra[rows, None]).min(axis=0)
        hi = (Ma[rows] + ra[rows, None]).max(axis=0)
        gap = np.maximum(lo - Ma, 0) + np.maximum(Ma - hi, 0)
        J = np.flatnonzero((gap * gap).sum(axis=1) < ra * ra)  # disks meeting the group's box
        own = np.searchsorted(J, rows)
        vals, angs = _sweep(Ma[rows], ra[rows], ch[rows], Ma[J], ra[J], ch[J], own)
        flat = vals.reshape(len(rows), -1)
        t = min(keep, flat.shape[1])
        part = np.argpartition(flat, t - 1, axis=1)[:, :t]
        pv = np.take_along_axis(flat, part, axis=1)
        neg = pv < 0
        if neg.any():
            b, c = np.nonzero(neg)
            cand_v.append(pv[b, c])
            cand_i.append(rows[b])
            cand_p.append(part[b, c])
            cand_t.append(_mid_angles(angs[b], part[b, c] // 2))
    if not cand_v:
        return (-SAFETY * scale if complete else -np.inf), 0.0, []
    v = np.concatenate(cand_v)
    ci = np.concatenate(cand_i)
    cp = np.concatenate(cand_p)
    ct = np.concatenate(cand_t)
    order = np.argsort(v, kind="stable")
    minimum = float(v[order[0]])
    pick, seen = [], set()
    for o in order:
        if len(pick) >= max_cols:
            break
        key = round(float(v[o]) / scale, 12)
        if key not in seen:
            seen.add(key)
            pick.append(o)
    sets = []
    if pick:
        # each set is the disks covering a point inside its arc's cell: the arc's middle
        pick = np.array(pick)
        i = ci[pick]
        p = Ma[i] + ra[i, None] * np.column_stack([np.cos(ct[pick]), np.sin(ct[pick])])
        d2 = ((p[:, None, :] - Ma[None, :, :]) ** 2).sum(axis=2)
        T = d2 < ra[None, :] ** 2
        T[np.arange(pick.size), i] = cp[pick] % 2 == 1
        for row in T:
            S = np.zeros(m, bool)
            S[act[row]] = True
            sets.append(S)
    return (float(minimum - SAFETY * scale) if complete else -np.inf), minimum, sets


def _groups(M, size):
    """Index groups of at most ``size`` nearby points (median splits along the wider axis)."""
    out, stack = [], [np.arange(M.shape[0])]
    while stack:
        idx = stack.pop()
        if idx.size <= size:
            out.append(np.sort(idx))
            continue
        pts = M[idx]
        ax = int(np.argmax(pts.max(axis=0) - pts.min(axis=0)))
        o = idx[np.argsort(pts[:, ax], kind="stable")]
        h = o.size // 2
        stack += [o[:h], o[h:]]
    return out
