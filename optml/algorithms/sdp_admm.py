r"""The Peng–Wei SDP relaxation of (weighted) MSSC by ADMM, with cuts and a safe bound.

Items :math:`a = 1..m` with weights :math:`s_a > 0` and means :math:`m_a` (a point, a
``sample_weight``-ed point, or a must-linked group) are clustered into :math:`k` clusters. With
:math:`D = \operatorname{diag}(s)`, :math:`u = \sqrt s / \lVert\sqrt s\rVert` and
:math:`G = D^{1/2} M M^\top D^{1/2}`, the Peng–Wei relaxation in the scaled variable
:math:`\hat Z = D^{1/2}\tilde Z D^{1/2}` (:math:`\tilde Z_{ab} = 1/W_C` for two items of a
cluster of total weight :math:`W_C`, else 0) is

.. math::

    \min\ c_0 - \langle G, \hat Z\rangle \quad\text{s.t.}\quad
    \hat Z \in \Omega = \{\hat Z u = u,\ \operatorname{tr}\hat Z = k,\ 0 \preceq \hat Z
    \preceq I\},\ \hat Z \ge 0,\ \hat Z_{ab} = 0\ ((a, b) \text{ cannot-linked}),

with :math:`c_0 = \sum_a s_a\lVert m_a\rVert^2` plus the within-item scatter. Every partition
matrix is feasible (:math:`\hat Z = \sum_C v_Cv_C^\top` with orthonormal :math:`v_C`, so
:math:`\hat Z \preceq I` is implied), and so are the *pair* and *triangle* inequalities
:math:`\tilde Z_{ab} \le \tilde Z_{aa}` and :math:`\tilde Z_{ab} + \tilde Z_{ac} \le \tilde Z_{aa}
+ \tilde Z_{bc}` added as cuts (Piccialli, Sudoso & Wiegele 2022). Cluster sizes
:math:`\ell \le |C| \le h` (unweighted points) bound the diagonal: an item of
:math:`s_a` points has :math:`\hat Z_{aa} = s_a/|C| \in [s_a/h, s_a/\ell]`.

**ADMM.** :math:`\min \langle C, X\rangle + \iota_\Omega(X) + \iota_{\ge 0}(U)` s.t.
:math:`X = U`, :math:`B(X) + t = 0, t \ge 0` (the cuts), linearised in the cut block
(proximal term :math:`\rho L/2\lVert X - X^k\rVert^2`, :math:`L \ge \lVert B\rVert^2`). The
:math:`X` step is a projection onto :math:`\Omega`: one eigendecomposition, eigenvalues
projected onto :math:`\{0 \le \mu \le 1, \sum\mu = k - 1\}` on :math:`u^\perp`.

**Safe bound.** For *any* :math:`N` (:math:`\ge 0` off the cannot-linked entries) and
:math:`\gamma \ge 0`, weak duality over :math:`\Omega` gives

.. math::

    \text{OPT} \ \ge\ c_0 + \min_{Z\in\Omega}\langle C - N + B^*\gamma, Z\rangle
    = c_0 + u^\top Q u + \sum_{i=1}^{k-1}\lambda_i\big(Q|_{u^\perp}\big),

the sum of the :math:`k-1` smallest eigenvalues of :math:`Q = C - N + B^*\gamma` restricted
to :math:`u^\perp` (Ky Fan). With diagonal bounds :math:`l \le \operatorname{diag}\hat Z
\le h`, :math:`N`'s diagonal is :math:`\alpha - \beta` (:math:`\alpha, \beta \ge 0`) and the
bound gains :math:`\alpha^\top l - \beta^\top h`. It is computed from the ADMM's multipliers (projected onto their
sign constraints: the post-processing that makes an inexact solve certify, as in SOS-SDP) with a
full symmetric eigenvalue solve and a round-off margin, never taken from the iteration's
objective.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

_EPS = np.finfo(float).eps


# --------------------------------------------------------------------------- spectral set
def _shifted(A, u):
    """``P A P - c u u^T`` (P = I - u u^T) with ``c`` above the spectral radius: its smallest
    eigenpair is u; the others are those of A on u^perp."""
    Au = A @ u
    uAu = float(u @ Au)
    c = 2.0 * (np.linalg.norm(A) + 1.0)
    # A - Au u^T - u Au^T + (uAu - c) u u^T = A - w u^T - u w^T, w = Au - (uAu - c) u / 2
    w = Au - 0.5 * (uAu - c) * u
    S = A - np.outer(w, u)
    S -= np.outer(u, w)
    return S, uAu


def capped_simplex(lam, total, threshold=False):
    """Euclidean projection of ``lam`` onto ``{0 <= mu <= 1, sum(mu) = total}``: ``mu =
    clip(lam - t, 0, 1)`` with the threshold ``t`` (returned too when ``threshold``) where
    the piecewise linear, nonincreasing ``f(t) = sum(clip(lam - t, 0, 1))`` equals ``total``;
    found exactly from its breakpoints ``lam`` and ``lam - 1`` (sorted, with prefix sums)."""
    lam = np.asarray(lam, float)
    n = lam.size
    total = float(total)
    if n == 0 or total <= 0.0:
        t = float(lam.max()) if n else 0.0
        mu = np.zeros(n)
    elif total >= n:
        t = float(lam.min()) - 1.0
        mu = np.ones(n)
    else:
        srt = np.sort(lam)
        csum = np.concatenate([[0.0], np.cumsum(srt)])

        def f(t):  # sum(max(lam - t, 0)) - sum(max(lam - 1 - t, 0)), vectorised in t
            i = np.searchsorted(srt, t, side="right")
            j = np.searchsorted(srt, t + 1.0, side="right")
            return (csum[n] - csum[i] - (n - i) * t) - (csum[n] - csum[j] - (n - j) * (t + 1.0))

        bp = np.unique(np.concatenate([srt, srt - 1.0]))
        fb = f(bp)  # nonincreasing in bp; f(bp[0]) = n > total >= 0 = f(bp[-1])
        j = int(np.searchsorted(-fb, -total, side="left"))  # first fb <= total
        j = min(max(j, 1), bp.size - 1)
        f0, f1 = fb[j - 1], fb[j]
        t0, t1 = bp[j - 1], bp[j]
        t = t1 if f0 == f1 else t0 + (f0 - total) * (t1 - t0) / (f0 - f1)
        mu = np.clip(lam - t, 0.0, 1.0)
    return (mu, t) if threshold else mu


def _top_eigh(S, p):
    """The top ``p`` eigenpairs of symmetric ``S`` (ascending): LAPACK's MRRR (``evr``), with
    bisection (``evx``) and then the full divide and conquer as fallbacks (``evr`` can stop
    with an internal error on clustered spectra, seen at m = 2000)."""
    m = S.shape[0]
    for driver in ("evr", "evx"):
        try:
            return sla.eigh(S, subset_by_index=[m - p, m - 1], driver=driver)
        except (np.linalg.LinAlgError, ValueError):
            continue
    lam, V = np.linalg.eigh(S)
    return lam[m - p :], V[:, m - p :]


#: warm-started X steps: block-Krylov steps tried before the exact partial eigensolve, and the
#: residual (relative to the largest Ritz value) every kept pair must reach
RITZ_STEPS, RITZ_TOL = 4, 5e-6


def _ritz_top(op, u, B, AB, p):
    """The top ``p`` Ritz pairs of ``P A P`` (``P = I - u u^T``) on ``span[B, op(B)]``: one
    block-Krylov step from the orthonormal ``B`` (orthogonal to ``u``, ``AB = op(B)``), one
    new product ``op`` (``V -> P A V``) on the new directions instead of an O(m^3)
    eigensolve. Returns ``(theta, V, residual norms, op(V))``."""
    W = AB - B @ (B.T @ AB)
    W -= np.outer(u, u @ W)
    W -= B @ (B.T @ W)  # Gram-Schmidt twice: B stays orthogonal to the new directions
    Q2, R = np.linalg.qr(W)
    d = np.abs(np.diag(R))
    Q2 = Q2[:, d > 1e-8 * max(float(d.max()), 1e-300)]  # drop dependent directions
    Q = np.hstack([B, Q2])
    AQ = np.hstack([AB, op(Q2)])
    H = Q.T @ AQ
    th, Y = np.linalg.eigh(0.5 * (H + H.T))
    p = min(p, th.size)
    th, Y = th[-p:], Y[:, -p:]
    V, AV = Q @ Y, AQ @ Y
    res = np.linalg.norm(AV - V * th, axis=0)
    return th, V, res, AV


def project_omega(
    A,
    u,
    k,
    rank_hint=None,
    single=False,
    full_below=400,
    basis=None,
    return_basis=False,
    ritz_tol=RITZ_TOL,
):
    """Projection of symmetric ``A`` onto ``Omega``; returns ``(X, vecs, mu)`` with
    ``X = u u^T + vecs diag(mu) vecs^T`` (and, with ``return_basis``, the ``p`` eigenvectors
    computed and whether they came from an exact partial eigensolve).

    Only the eigenpairs above the capped-simplex threshold matter: for larger matrices the
    top ``p`` eigenpairs are computed (LAPACK ``evr``), doubling ``p`` until the smallest one
    computed lies at or below the threshold (so that no eigenvalue left out would be kept).
    ``single``: that partial eigensolve in single precision (LAPACK ``ssyevr``, about half
    the time; eigenpairs to about 1e-7 of the spectral radius, ample for an ADMM step, whose
    bound never depends on the projection's accuracy), back in double if it fails.
    ``full_below``: up to that ``m`` the full eigendecomposition (cheaper there).
    ``basis``: the previous step's eigenvectors; the top pairs are then taken from one
    block-Krylov step on them (:func:`_ritz_top`, O(m^2 p) instead of O(m^3): an ADMM's
    matrices change little from step to step), repeated up to ``RITZ_STEPS`` times until every
    kept pair's residual is below ``ritz_tol`` of the largest Ritz value, with the smallest
    Ritz value at or below the threshold; else the exact partial eigensolve runs."""
    m = A.shape[0]
    p = max(2 * int(rank_hint or k) + 4, k + 4)
    if basis is not None and m > full_below and 4 * p < m:
        Am = A.astype(np.float32) if single else A

        def op(V):  # P A V for V orthogonal to u
            AV = np.asarray(Am @ V.astype(Am.dtype), dtype=float)
            return AV - np.outer(u, u @ AV)

        basis = basis - np.outer(u, u @ basis)
        AB = op(basis)
        for _ in range(RITZ_STEPS):
            lam, V, res, AV = _ritz_top(op, u, basis, AB, p)
            mu = capped_simplex(lam, k - 1)
            keep = mu > 0
            if lam.size < p or mu[0] > 0.0 or not keep.any():
                break  # the subspace is too small or misses eigenvalues: solve exactly
            scale = max(float(np.abs(lam).max()), 1e-300)
            if res[keep].max() <= ritz_tol * scale:
                Vk, mk = V[:, keep], mu[keep]
                X = np.outer(u, u) + (Vk * mk) @ Vk.T
                return (X, Vk, mk, V, False) if return_basis else (X, Vk, mk)
            basis, AB = V, AV
    S, _ = _shifted(A, u)
    S32 = S.astype(np.float32) if single and m > full_below else None
    while True:
        if m <= full_below or 4 * p >= m:  # many eigenpairs kept: the full solve is cheaper
            lam, V = np.linalg.eigh(S)
            lam, V = lam[1:], V[:, 1:]  # drop u
            mu = capped_simplex(lam, k - 1)
            break
        lam, V = _top_eigh(S, p) if S32 is None else _top_eigh32(S32, S, p)
        mu = capped_simplex(lam, k - 1)
        if mu[0] == 0.0:  # the eigenvalues left out lie below the threshold: exact
            break
        p *= 2
    keep = mu > 0
    Vk, mk = V[:, keep], mu[keep]
    X = np.outer(u, u) + (Vk * mk) @ Vk.T
    return (X, Vk, mk, V, True) if return_basis else (X, Vk, mk)


def _top_eigh32(S32, S, p):
    """:func:`_top_eigh` in single precision (returned in double): MRRR, then bisection (MRRR
    can stop with an internal error on the clustered spectra of the first steps: at m = 8000
    the double-precision fallbacks cost minutes), then double precision."""
    m = S.shape[0]
    for driver in ("evr", "evx"):
        try:
            lam, V = sla.eigh(S32, subset_by_index=[m - p, m - 1], driver=driver)
        except (np.linalg.LinAlgError, ValueError):
            continue
        return lam.astype(float), V.astype(float)
    return _top_eigh(S, p)


def omega_min(Q, u, k) -> float:
    r"""A certified lower bound on :math:`\min_{Z\in\Omega}\langle Q, Z\rangle`: ``u^T Q u``
    plus the ``k - 1`` smallest eigenvalues of Q on u^perp, less a round-off margin."""
    S, uQu = _shifted(Q, u)
    try:
        lam = np.linalg.eigvalsh(S)[1:]
    except np.linalg.LinAlgError:  # no eigenvalues, no bound
        return -np.inf
    m = Q.shape[0]
    # backward error of the symmetric eigensolver, for every eigenvalue summed
    margin = 10.0 * m * _EPS * (np.linalg.norm(Q) + 1.0) * k
    return uQu + float(lam[: k - 1].sum()) - margin


class _Stop(Exception):
    """Raised inside the polishing objective to end the polishing at the deadline."""


def _lbfgs_box(fun, x, lo, maxfun, mem=8):
    """Minimise ``fun`` (returning value and gradient) over ``x >= lo`` (``lo`` may hold
    -inf) from ``x`` by projected L-BFGS: the two-loop direction on the variables not held
    at their bound, a projected Armijo backtracking step; at most ``maxfun`` evaluations.
    (scipy's L-BFGS-B costs about 2 s of bookkeeping a call at 3e5 variables.)"""
    f, g = fun(x)
    nfev, hist = 1, []
    while nfev < maxfun:
        act = (x <= lo) & (g > 0)
        q = np.where(act, 0.0, g)
        if hist:
            alphas = []
            for s, y, r in reversed(hist):
                a = r * float(s @ q)
                q -= a * y
                alphas.append(a)
            s, y, _ = hist[-1]
            q *= float(s @ y) / float(y @ y)
            for (s, y, r), a in zip(hist, reversed(alphas), strict=True):
                q += s * (a - r * float(y @ q))
            t = 1.0
        else:
            t = 1.0 / max(float(np.linalg.norm(q)), 1e-300)
        d = -q
        d[act] = 0.0
        gd = float(g @ d)
        if gd >= 0.0:  # not a descent direction: steepest descent, history dropped
            hist = []
            d = -np.where(act, 0.0, g)
            t = 1.0 / max(float(np.linalg.norm(d)), 1e-300)
        while True:
            xn = np.maximum(x + t * d, lo)
            fn, gn = fun(xn)
            nfev += 1
            if fn <= f + 1e-4 * float(g @ (xn - x)) or nfev >= maxfun:
                break
            t *= 0.5 if hist else 0.1
        if fn > f:
            break
        s, y = xn - x, gn - g
        sy = float(s @ y)
        if sy > 1e-12 * float(np.linalg.norm(s) * np.linalg.norm(y)):
            hist.append((s, y, 1.0 / sy))
            hist = hist[-mem:]
        x, f, g = xn, fn, gn
    return x


def polish_dual(adm, deadline=None, max_evals=30, sigmas=(1e-3, 1e-4), apply=False, t_first=0.0):
    r"""Dual polishing with the node's cut set fixed: a better certified bound from the
    ADMM's multipliers.

    The safe bound :math:`\varphi(N, \gamma) = \min_{Z\in\Omega}\langle C - N +
    B^*\gamma, Z\rangle` is concave in :math:`(N \ge 0, \gamma \ge 0)` (:math:`N` free on the
    cannot-linked entries) but nonsmooth where the Ky Fan eigenvalues cluster, which is where
    the ADMM's first-order dual lags its primal. Its Moreau-type smoothing
    :math:`\psi_\sigma = \min_{Z\in\Omega}\langle Q, Z\rangle + \tfrac\sigma2\lVert Z\rVert^2`
    (minimiser :math:`Z_\sigma = \Pi_\Omega(-Q/\sigma)`, gradient by Danskin:
    :math:`-Z_\sigma` in :math:`N`, :math:`B(Z_\sigma)` in :math:`\gamma`) is maximised by
    projected L-BFGS under the sign bounds, from the ADMM's multipliers, for decreasing
    :math:`\sigma` (scaled units). Every evaluation also gives :math:`\varphi` at that point
    (the same eigenvalues); the best point's bound is recomputed by :func:`omega_min` (full
    symmetric eigensolve and its round-off margin): valid whatever the optimiser did, since
    it only depends on the signs of the multipliers, which the bounds keep.

    With diagonal bounds ``lo <= Zhat_aa <= hi`` (cluster sizes) the diagonal of ``N`` is their
    lower multiplier ``alpha >= 0``, an upper multiplier ``beta >= 0`` enters where ``hi`` is
    finite (``+beta_a`` on ``Q_aa``), and the bound gains ``alpha . lo - beta . hi``.

    ``apply``: the best point, when better than the start, becomes the ADMM's multipliers
    (``Lam = (B^T gamma - N) / rho``, ``gam = gamma / rho``: the same dual matrix), so that
    the iteration goes on from it.

    ``t_first``: an estimate of one evaluation's seconds (an eigensolve), so that the deadline
    also guards the first one.

    Returns ``(bound, evals)``: the certified bound in scaled units (``-inf`` if none
    computed before ``deadline``) and the number of evaluations."""
    m, k, u, cuts = adm.m, adm.k, adm.u, adm.cuts
    iu = np.triu_indices(m)
    off = iu[0] != iu[1]
    on = np.flatnonzero(~off)  # the diagonal's places in the upper triangle (item order)
    free = adm.cannot[iu]
    g = np.maximum(adm.gam, 0.0)
    nu = adm.cuts.adjoint(g) - adm.Lam
    nu = 0.5 * (nu + nu.T)
    N0 = adm.rho * nu[iu]
    N0[~free] = np.maximum(N0[~free], 0.0)
    # diagonal bounds lo <= Zhat_aa <= hi: N_aa is alpha_a >= 0 (its constant alpha . lo),
    # beta_a >= 0 a variable of its own where hi is finite (constant -beta . hi)
    dlo = np.zeros(m) if adm.diag is None else adm.diag[0]
    fin = np.zeros(0, int) if adm.diag is None else np.flatnonzero(np.isfinite(adm.diag[1]))
    dhi = np.zeros(0) if adm.diag is None else adm.diag[1][fin]
    d0 = adm.rho * np.diag(nu)
    beta0 = np.maximum(-d0[fin], 0.0)
    y = np.concatenate([N0, adm.rho * g, beta0])
    nn, nc = N0.size, len(cuts)
    lo = np.where(free, -np.inf, 0.0)
    lo_all = np.concatenate([lo, np.zeros(nc + fin.size)])
    best = {"phi": -np.inf, "y": None, "first": None}
    evals, t_eval = 0, float(t_first)

    def dual(y):
        N = np.zeros((m, m))
        N[iu] = y[:nn]
        N = N + N.T - np.diag(np.diag(N))
        Q = adm.C - N + cuts.adjoint(y[nn : nn + nc])
        Q[fin, fin] += y[nn + nc :]
        const = float(y[:nn][on] @ dlo) - float(y[nn + nc :] @ dhi)
        return 0.5 * (Q + Q.T), const

    def f(y, sigma):
        nonlocal evals, t_eval
        if deadline is not None and time.perf_counter() + 1.5 * t_eval > deadline:
            raise _Stop
        t1 = time.perf_counter()
        Q, const = dual(y)
        S, uQu = _shifted(Q, u)
        p = max(2 * k + 8, 16)
        while True:  # the bottom p eigenpairs, p doubled until Z_sigma's support is inside
            if 4 * p >= m:
                lam, V = np.linalg.eigh(S)
                lam, V = lam[1:], V[:, 1:]  # drop u (S's smallest)
            else:
                lam, V = _top_eigh(-S, p + 1)
                lam, V = -lam[::-1][1:], V[:, ::-1][:, 1:]
            mu = capped_simplex(-lam / sigma, k - 1)
            if 4 * p >= m or mu[-1] == 0.0:
                break
            p *= 2
        phi = uQu + float(lam[: k - 1].sum()) + const
        if best["first"] is None:
            best["first"] = phi
        if phi > best["phi"]:
            best["phi"], best["y"] = phi, y.copy()
        keep = mu > 0
        Z = np.outer(u, u) + (V[:, keep] * mu[keep]) @ V[:, keep].T
        psi = uQu + float(lam[keep] @ mu[keep]) + 0.5 * sigma * (1.0 + float(mu @ mu)) + const
        gN = -Z[iu]
        gN[off] *= 2.0
        gN[on] += dlo
        gg = cuts.Bs @ Z.ravel()[cuts.support] if len(cuts) else np.zeros(0)
        gb = Z[fin, fin] - dhi
        evals += 1
        dt = time.perf_counter() - t1
        t_eval = dt if t_eval == 0.0 else 0.7 * t_eval + 0.3 * dt
        return -psi, -np.concatenate([gN, gg, gb])

    # the memory: 2 * mem vectors of the variables' size
    mem = int(min(8, max(2, 1.5e8 / (16.0 * y.size))))
    per = max(1, max_evals // len(sigmas))
    try:
        for sigma in sigmas:
            y = _lbfgs_box(lambda v, sg=sigma: f(v, sg), y, lo_all, per, mem)
    except (_Stop, np.linalg.LinAlgError, ValueError):
        pass
    # the certified recomputation costs about one evaluation: started only if it fits
    if best["y"] is None or (
        deadline is not None and time.perf_counter() + 1.5 * t_eval > deadline
    ):
        return -np.inf, evals
    Q, const = dual(best["y"])
    if apply and best["phi"] > best["first"]:
        adm.Lam = (Q - adm.C) / adm.rho  # B^T gamma - N, over rho
        adm.gam = best["y"][nn : nn + nc] / adm.rho
    return omega_min(Q, u, k) + const, evals


# --------------------------------------------------------------------------- cuts
class Cuts:
    r"""Pair and triangle inequalities ``B(U) <= 0`` on :math:`\hat Z` (rows of unit norm).

    A cut is ``(a, b, c)`` with ``c = -1`` for the pair :math:`\tilde Z_{ab}\le\tilde Z_{aa}`
    and the triangle :math:`\tilde Z_{ab}+\tilde Z_{ac}\le\tilde Z_{aa}+\tilde Z_{bc}`
    otherwise (apex ``a``). ``B`` acts on the flattened symmetric matrix (an off-diagonal
    coefficient is split over both triangles), so ``B^T`` is the Frobenius adjoint.
    """

    def __init__(self, s, triples=None):
        self.s = np.asarray(s, float)
        self.m = self.s.size
        self.replace(np.zeros((0, 3), int) if triples is None else triples)

    def __len__(self):
        return self.triples.shape[0]

    def replace(self, triples):
        self.triples = np.asarray(triples, int).reshape(-1, 3)
        m, r, s = self.m, np.sqrt(self.s), self.s
        a, b, c = self.triples.T
        tri = c >= 0
        cc = np.where(tri, c, 0)
        nc = len(self)
        # coefficients of Zhat[a, b], Zhat[a, a], Zhat[a, c], Zhat[b, c]
        v_ab = 1.0 / (r[a] * r[b])
        v_aa = -1.0 / s[a]
        v_ac = np.where(tri, 1.0 / (r[a] * r[cc]), 0.0)
        v_bc = np.where(tri, -1.0 / (r[b] * r[cc]), 0.0)
        norm = np.sqrt(v_ab**2 + v_aa**2 + v_ac**2 + v_bc**2)
        idx = np.arange(nc)
        rows = [idx, idx, idx, idx, idx, idx, idx]
        cols = [a * m + b, b * m + a, a * m + a, a * m + cc, cc * m + a, b * m + cc, cc * m + b]
        vals = [v_ab / 2, v_ab / 2, v_aa, v_ac / 2, v_ac / 2, v_bc / 2, v_bc / 2]
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        vals = np.concatenate(vals) / np.tile(norm, 7) if nc else np.zeros(0)
        B = sp.csr_matrix((vals, (rows, cols)), shape=(nc, m * m))
        B.eliminate_zeros()
        self.support = np.unique(B.indices)
        # the diagonal entries among them, and their items (for diagonal bounds)
        self.sup_diag = self.support % (m + 1) == 0
        self.sup_item = self.support[self.sup_diag] // (m + 1)
        self.Bs = B[:, self.support].tocsr()  # on the supported entries only
        self.BsT = self.Bs.T.tocsr()
        # Gershgorin row sums of |B B^T|: a diagonal majoriser of B B^T
        self.D = np.asarray(abs(self.Bs @ self.BsT).sum(axis=1)).ravel() if nc else np.zeros(0)

    def project(self, V, cannot, gam, inner=30, diag=None):
        """Approximate projection of ``V`` onto ``{U >= 0, U[cannot] = 0, B(U) <= 0}`` (and
        ``lo <= diag(U) <= hi`` when ``diag = (lo, hi)``) by preconditioned projected
        gradient on the dual (warm start ``gam >= 0``); returns ``(U, gam)`` with ``U =
        clip(V - B^T gam)`` onto those bounds (0 on cannot-linked entries): whatever ``gam >=
        0``, ``V - U = B^T gam - nu`` with ``nu >= 0`` where only a lower bound is active and
        ``nu <= 0`` where an upper bound is."""
        U = np.maximum(V, 0.0)
        U[cannot] = 0.0
        if diag is not None:
            di = np.diag_indices(self.m)
            U[di] = np.clip(V[di], diag[0], diag[1])
        if len(self) == 0:
            return U, gam
        vs = V.ravel()[self.support]
        cs = cannot.ravel()[self.support]
        if diag is None:
            lo_s, hi_s = 0.0, np.inf
        else:
            lo_s, hi_s = np.zeros(self.support.size), np.full(self.support.size, np.inf)
            lo_s[self.sup_diag] = diag[0][self.sup_item]
            hi_s[self.sup_diag] = diag[1][self.sup_item]
        step = 1.0 / self.D
        g, y, tk = gam.copy(), gam.copy(), 1.0
        for _ in range(inner):
            us = np.clip(vs - self.BsT @ y, lo_s, hi_s)
            us[cs] = 0.0
            g_new = np.maximum(y + step * (self.Bs @ us), 0.0)
            tk1 = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * tk * tk))
            y = g_new + (tk - 1.0) / tk1 * (g_new - g)
            g, tk = g_new, tk1
        us = np.clip(vs - self.BsT @ g, lo_s, hi_s)
        us[cs] = 0.0
        U.ravel()[self.support] = us
        return U, g

    def adjoint(self, g):
        out = np.zeros(self.m * self.m)
        if len(self):
            out[self.support] = self.BsT @ g
        return out.reshape(self.m, self.m)


def separate(X, s, cannot_mask, max_pairs, max_triangles, rng, tol=1e-4, max_apexes=300):
    r"""Most violated pair and triangle inequalities at ``X`` (in :math:`\hat Z` units), as
    ``(a, b, c)`` triples (``c = -1`` for a pair; ``b < c`` for a triangle), most violated
    first, violations relative to the mean diagonal.

    Pairs are scanned in full. Triangles are scanned for every apex (``max_apexes`` of them
    for larger ``m``: those with the largest pair violations and a random sample), at most
    ``4 max_triangles / #apexes`` per apex. The scan is exact but skips what cannot be
    violated: :math:`\tilde Z_{ab}+\tilde Z_{ac}-\tilde Z_{bc} > \tilde Z_{aa}+\tau` with
    :math:`\tilde Z_{bc}\ge z_{\min}` forces :math:`\max(\tilde Z_{ab},\tilde Z_{ac}) >
    (\tilde Z_{aa}+\tau+z_{\min})/2`, so one end runs over that (cluster-sized) set only.
    """
    m = X.shape[0]
    r = np.sqrt(s)
    Zt = X / np.outer(r, r)
    dg = np.diag(Zt).copy()
    scale = max(float(dg.mean()), 1e-300)
    thr = tol * scale
    # pairs: Zt[a, b] - Zt[a, a]
    V = Zt - dg[:, None]
    np.fill_diagonal(V, -np.inf)
    V[cannot_mask] = -np.inf
    out = []
    flat = np.flatnonzero(V > thr)
    if flat.size and max_pairs > 0:
        vals = V.ravel()[flat]
        if flat.size > max_pairs:
            sel = np.argpartition(-vals, max_pairs - 1)[:max_pairs]
            flat, vals = flat[sel], vals[sel]
        flat = flat[np.argsort(-vals, kind="stable")]
        out += [(int(f // m), int(f % m), -1) for f in flat]
    if max_triangles <= 0 or m < 3:
        return out
    apexes = np.arange(m)
    if m > max_apexes:
        h = max_apexes // 2
        worst = np.argsort(-V.max(axis=1))[:h]
        apexes = np.unique(np.r_[worst, rng.choice(m, h, replace=False)])
    per = max(4, max_triangles // max(len(apexes), 1) * 4)
    zmin = min(0.0, float((Zt + np.diag(np.full(m, np.inf))).min()))
    cols = np.arange(m)
    # single precision for the scan (which cuts to add is a heuristic choice; each cut is
    # valid whatever its violation): half the memory traffic
    Z32 = Zt.astype(np.float32)
    cv, ca, cb, cc = [], [], [], []
    for a in apexes:
        R = Z32[a]
        S = np.flatnonzero(R > 0.5 * (dg[a] + thr + zmin) - 1e-6 * scale)
        if S.size == 0:
            continue
        inS = np.zeros(m, bool)
        inS[S] = True
        T = R[S][:, None] + R[None, :] - Z32[S]
        T -= np.float32(dg[a] + thr)  # b == a or c == a gives about -thr: not reported
        # each unordered {b, c} once: c outside S, or c > b
        T[inS[None, :] & (cols[None, :] <= S[:, None])] = -1.0
        f = np.flatnonzero(T > 0)
        if f.size > per:
            f = f[np.argpartition(-T.ravel()[f], per - 1)[:per]]
        if f.size:
            b, c = S[f // m], f % m
            cv.append(T.ravel()[f])
            ca.append(np.full(f.size, a))
            cb.append(np.minimum(b, c))
            cc.append(np.maximum(b, c))
    if cv:
        cv, ca, cb, cc = map(np.concatenate, (cv, ca, cb, cc))
        order = np.lexsort((cc, cb, ca, -cv))[:max_triangles]
        out += [(int(ca[i]), int(cb[i]), int(cc[i])) for i in order]
    return out


# --------------------------------------------------------------------------- ADMM
class PengWeiADMM:
    """The ADMM on one node's relaxation; ``state()`` (X, U, Lam, gam, rho) warm-starts."""

    def __init__(self, G, s, k, cannot=(), scale=None, cuts=None, state=None, diag=None):
        self.G = np.asarray(G, float)
        self.m = self.G.shape[0]
        self.s = np.asarray(s, float)
        self.k = int(k)
        self.u = np.sqrt(self.s) / np.linalg.norm(np.sqrt(self.s))
        self.scale = float(scale if scale is not None else max(np.trace(self.G), 1e-300))
        self.C = -self.G / self.scale
        self.cannot = np.zeros((self.m, self.m), bool)
        for a, b in cannot:
            self.cannot[a, b] = self.cannot[b, a] = True
        self.cuts = cuts if cuts is not None else Cuts(self.s)
        #: bounds ``(lo, hi)`` on the diagonal of Zhat (cluster sizes; None: none)
        self.diag = None
        if diag is not None:
            lo, hi = (np.broadcast_to(np.asarray(v, float), (self.m,)).copy() for v in diag)
            self.diag = (np.maximum(lo, 0.0), hi)
        if state is None:
            uu = np.outer(self.u, self.u)
            X = uu + (self.k - 1) / max(self.m - 1, 1) * (np.eye(self.m) - uu)
            state = {"X": X, "U": np.maximum(X, 0), "Lam": np.zeros_like(X), "rho": 1.0}
        self.X, self.U = state["X"].copy(), state["U"].copy()
        self.U[self.cannot] = 0.0
        self.Lam = state["Lam"].copy()
        self.rho = float(state["rho"])
        gam = state.get("gam")
        self.gam = gam.copy() if gam is not None and gam.size == len(self.cuts) else None
        if self.gam is None:
            self.gam = np.zeros(len(self.cuts))
        self.vecs, self.vals = None, None
        # warm-started X steps (see project_omega): the last eigenvectors, and the steps since
        # the last exact partial eigensolve (one every ``refresh`` steps, and after new cuts)
        # ``_wait``: exact steps left before the next warm try (``_cool`` of them after a
        # failed try, doubled at each failure, reset by a success)
        self._basis, self._since_exact, self._cool, self._wait = None, 0, 0, 0
        self._rp_rel = 0.0
        self.t_exact = 0.0  # seconds of the last exact X step
        self.refresh = 20
        self.iters = 0
        #: single-precision partial eigensolves in the X step (see :func:`project_omega`)
        self.single = True

    def state(self):
        return {"X": self.X, "U": self.U, "Lam": self.Lam, "rho": self.rho, "gam": self.gam}

    def set_cuts(self, triples):
        """Replace the cut set, keeping the multipliers of the cuts that stay."""
        old = {tuple(t): self.gam[i] for i, t in enumerate(self.cuts.triples)}
        self._since_exact = self.refresh  # the next X step solves exactly
        self.cuts.replace(triples)
        self.gam = np.array([old.get(tuple(t), 0.0) for t in self.cuts.triples])

    def step(self, inner=30):
        A = self.U - self.Lam - self.C / self.rho
        A = 0.5 * (A + A.T)
        X, self.vecs, self.vals = self._project(A)
        V = X + self.Lam
        U, self.gam = self.cuts.project(V, self.cannot, self.gam, inner, self.diag)
        self.Lam = V - U
        rp = np.linalg.norm(X - U)
        self._rp_rel = rp / max(float(np.linalg.norm(X)), 1e-300)
        rd = self.rho * np.linalg.norm(U - self.U)
        self.X, self.U = X, U
        self.iters += 1
        if self.iters % 5 == 0:  # residual balancing (scaled multipliers rescale with rho)
            if rp > 5 * rd:
                self._rescale(2.0)
            elif rd > 5 * rp:
                self._rescale(0.5)
        return rp, rd

    def _project(self, A):
        """The X step (single precision for the larger partial eigensolves, see
        :func:`project_omega`)."""
        r = None if self.vals is None else self.vals.size
        warm = not self.exact_next()
        self._wait = max(self._wait - 1, 0)
        t0 = time.perf_counter()
        X, vecs, mu, basis, exact = project_omega(
            A,
            self.u,
            self.k,
            r,
            single=self.single,
            basis=self._basis if warm else None,
            return_basis=True,
            # the X step's error well below the ADMM's own primal residual (and RITZ_TOL)
            ritz_tol=max(RITZ_TOL, 0.05 * self._rp_rel),
        )
        if warm and exact:  # the warm start failed: wait longer before the next try
            self._cool = min(2 * self._cool + 1, self.refresh)
            self._wait = self._cool
        elif warm:
            self._cool = 0
        self._basis = basis
        self._since_exact = 0 if exact else self._since_exact + 1
        if exact:
            self.t_exact = time.perf_counter() - t0
        return X, vecs, mu

    def exact_next(self):
        """Whether the next X step is an exact partial eigensolve (no warm start tried)."""
        return self._basis is None or self._since_exact >= self.refresh or self._wait > 0

    def _rescale(self, f):
        self._since_exact = self.refresh  # C / rho jumps: the next X step solves exactly
        self.rho *= f
        self.Lam /= f
        self.gam = self.gam / f

    def primal_value(self):
        """``<C, X>`` in scaled units (not a bound)."""
        return float((self.C * self.X).sum())

    def dual_parts(self):
        r"""``(Q, c)`` with ``Q = C - N + B^T gamma`` from the multipliers and the constant
        ``c`` of the diagonal bounds: ``gamma >= 0`` and ``N >= 0`` off the cannot-linked
        entries are enforced here (whatever the iterate); on the diagonal, with bounds
        ``lo <= Zhat_aa <= hi``, ``N_aa = alpha_a - beta_a`` (``alpha, beta >= 0``, ``beta = 0``
        where ``hi`` is infinite) and ``c = alpha . lo - beta . hi``, so that
        :math:`\langle C, Z\rangle \ge \langle Q, Z\rangle + c` on every feasible ``Z``."""
        g = np.maximum(self.gam, 0.0)
        Bg = self.cuts.adjoint(g)
        # Lam = B^T gam - nu at the last projection; nu's sign is enforced, not assumed
        nu = Bg - self.Lam
        d = np.diag(nu).copy()
        nu = np.where(self.cannot, nu, np.maximum(nu, 0.0))
        const = 0.0
        if self.diag is not None:
            lo, hi = self.diag
            fin = np.isfinite(hi)
            d = np.where(fin, d, np.maximum(d, 0.0))
            np.fill_diagonal(nu, d)
            alpha, beta = np.maximum(d, 0.0), np.maximum(-d, 0.0)
            const = self.rho * (float(alpha @ lo) - float(beta[fin] @ hi[fin]))
        Q = self.C + self.rho * (Bg - nu)
        return 0.5 * (Q + Q.T), const

    def bound(self):
        """The certified lower bound on ``<C, Z>`` (scaled units) from the current multipliers."""
        Q, const = self.dual_parts()
        return omega_min(Q, self.u, self.k) + const


def solve_node(
    adm: PengWeiADMM,
    offset: float,
    upper: float,
    prune_at: float,
    deadline: float | None,
    rng,
    max_iter: int = 2000,
    tol: float = 1e-5,
    cut_rounds: int = 20,
    check_every: int = 10,
    cuts_per_round: int | None = None,
    sep_every: int = 40,
    log=None,
    tailing: float = 0.2,
    polish: int = 30,
    polish_share: float = 0.25,
    polish_apply: bool = False,
    t_step: float = 0.0,
):
    r"""Run the ADMM with cutting-plane rounds on one node.

    The node's bound (``offset + scale * bound``, in the objective's units) is the best safe
    bound seen; it stops when that bound reaches ``prune_at`` (the node is pruned), when the
    relaxation (with cuts) has converged and no cut improves it, after ``cut_rounds`` rounds,
    when the cutting planes tail off (the last four rounds raised the bound by less than
    ``tailing`` times the distance left to ``prune_at``: branching pays more; a round's
    inexact solve can stall for a round or two), at ``max_iter``,
    or at the deadline. The bound is evaluated every ``check_every`` iterations, or less
    often when its full eigensolve would take more than about a third of the iterations'
    time (large ``m``); cut rounds are due every ``sep_every`` iterations. ``t_step``: the
    seconds of an exact X step measured elsewhere (an earlier node), so that the deadline also
    guards this node's first steps.
    ``polish``: evaluations of :func:`polish_dual` (0: none), run at a
    cut round when the iterate's primal value has passed ``prune_at`` but the safe bound has
    not, and that value is at most ``upper`` (above it the iterate is far from the
    relaxation's optimum, which lies below every clustering's cost, and so is its dual): at
    most every third round, the interval doubled after a polishing that gained less than
    half the distance to ``prune_at``, and while the polishing has taken at most
    ``polish_share`` of the node's time; and once when the node stops unpruned with its
    iterate's primal value past ``prune_at`` (the relaxation would prune it);
    ``polish_apply``: its multipliers, when better, go back into the ADMM. Returns
    ``(bound, info)``.
    """
    best = own = -np.inf  # the node's bound; the ADMM's own (unpolished) bounds
    m = adm.m
    per = cuts_per_round or max(50, 2 * m)
    rounds, hist, it0, at_round = 0, [], adm.iters, []
    last_check, interval, round_at = it0, check_every, it0
    t_iter = t_sep = t_bound = 0.0
    status = "max_iter"
    polished_at, n_polish, t_polish, t_start = None, 0, 0.0, time.perf_counter()
    every = 3  # rounds between polishings (doubled when one gains little)

    def do_polish():
        nonlocal best, n_polish, t_polish, every
        t1 = time.perf_counter()
        b, ev = polish_dual(
            adm,
            deadline,
            max_evals=polish,
            apply=polish_apply,
            t_first=max(t_bound, adm.t_exact, t_step),
        )
        t_polish += time.perf_counter() - t1
        n_polish += ev
        before, best = best, max(best, offset + adm.scale * b)
        if np.isfinite(prune_at) and best - before < 0.5 * (prune_at - before):
            every *= 2
        if log is not None:
            log(f"    polish: {ev} evaluations, bound {best:.8g}")

    while adm.iters - it0 < max_iter:
        # an exact X step (an O(m^3) eigensolve) costs more than the warm ones of t_iter
        t_next = max(t_iter, (adm.t_exact or t_step) if adm.exact_next() else 0.0)
        if deadline is not None and time.perf_counter() + 2.5 * t_next > deadline:
            status = "time"
            break
        t1 = time.perf_counter()
        try:
            rp, rd = adm.step()
        except np.linalg.LinAlgError:  # every eigensolver failed: the bound so far stands
            status = "numerical"
            break
        t_iter = (
            0.8 * t_iter + 0.2 * (time.perf_counter() - t1)
            if t_iter
            else (time.perf_counter() - t1)
        )
        if adm.iters - last_check < interval and adm.iters - it0 > 1:
            continue  # (the first iterate's bound too: a node stopped early keeps one)
        # a full eigensolve (about 2.5 exact X steps before the first is timed) that would
        # end past the deadline is not started: the node keeps the bound it has
        if deadline is not None and time.perf_counter() + (t_bound or 2.5 * t_iter) > deadline:
            status = "time"
            break
        last_check = adm.iters
        t1 = time.perf_counter()
        lb = offset + adm.scale * adm.bound()
        t_bound = time.perf_counter() - t1
        # the bound (a full eigensolve) takes at most about a third of the iterations' time
        interval = max(check_every, int(np.ceil(t_bound / (0.3 * t_iter))))
        best, own = max(best, lb), max(own, lb)
        hist.append(own)  # the stall and tailing tests follow the ADMM's own progress
        if best >= prune_at:
            status = "pruned"
            break
        pv = offset + adm.scale * adm.primal_value()
        gap = abs(pv - best) / max(1.0, abs(upper))
        stalled = len(hist) > 5 and hist[-1] - hist[-6] <= tol * 0.1 * max(1.0, abs(upper))
        due = adm.iters - round_at >= sep_every  # an inexact solve is enough to separate
        if (gap < tol and rp < tol * 10) or stalled or (due and rounds < cut_rounds):
            if rounds >= cut_rounds:
                status = "converged"
                break
            if deadline is not None and time.perf_counter() + t_sep > deadline:
                status = "time"
                break
            if (
                polish
                and prune_at <= pv <= upper
                and (polished_at is None or rounds - polished_at >= every)
                and t_polish <= polish_share * (time.perf_counter() - t_start)
            ):
                polished_at = rounds
                do_polish()
                if best >= prune_at:
                    status = "pruned"
                    break
            at_round.append(own)
            if (
                len(at_round) >= 5
                and np.isfinite(prune_at)
                and own - at_round[-5] < tailing * (prune_at - best)
            ):
                status = "tailing"
                break
            t1 = time.perf_counter()
            new = separate(adm.X, adm.s, adm.cannot, per // 2, per, rng)
            t_sep = time.perf_counter() - t1
            keep = [tuple(t) for i, t in enumerate(adm.cuts.triples) if adm.gam[i] > 1e-12]
            have = set(keep)
            add = [t for t in new if t not in have]
            if not add:
                status = "converged"
                break
            adm.set_cuts(keep + add)
            rounds += 1
            hist, round_at = [], adm.iters
            if log is not None:
                log(
                    f"    cuts round {rounds}: +{len(add)} ({len(adm.cuts)} in force), "
                    f"bound {best:.8g}, primal {pv:.8g}, iter {adm.iters}, rho {adm.rho:.3g}"
                )
    if deadline is None or time.perf_counter() + (t_bound or 2.5 * t_iter) < deadline:
        lb = offset + adm.scale * adm.bound()
        best = max(best, lb)
        if (
            polish
            and best < prune_at
            and status != "numerical"
            and polished_at != rounds
            and offset + adm.scale * adm.primal_value() >= prune_at
        ):
            do_polish()
    info = {"status": status, "iters": adm.iters - it0, "rounds": rounds, "polish": n_polish}
    return best, info
