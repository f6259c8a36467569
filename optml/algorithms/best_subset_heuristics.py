r"""Incumbents for best subset: the discrete first-order method of Bertsimas, King and Mazumder
(2016, Algorithm 1), forward selection under side constraints, and 1-swap local search.

Everything works on the Gram data (``H = G + alpha I``, ``c``, ``yy``) so the cost does not
depend on the number of samples, and on the support of a point wherever it can (a k-sparse
point costs :math:`O(pk)`, not :math:`O(p^2)`), so the heuristics stay cheap at p in the
thousands. Beyond that (:func:`screen_size`) the first-order method and the swaps run on a
candidate set screened by correlation with the residual (a few hundred features, their Gram
block formed), enlarged until no better-correlated feature remains outside; the heuristics
take at most ``HEURISTIC_SHARE`` of the time left, so the solver's bound starts early. The objective is
:math:`f(\beta) = \beta^\top H \beta - 2c^\top\beta + y^\top y`
(the residual sum of squares plus :math:`\alpha\|\beta\|^2`).

Used by :class:`~optml.regression.BestSubsetRegression` (its ``heuristic=``) and by the
special solvers ``"best-subset-oa"`` and ``"l0-bnb"`` (their incumbents).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import lsq_linear

from optml.formulations.regression import LazyGram


def ridge_gram(gram, alpha: float) -> np.ndarray:
    """:math:`G + \\alpha I`, built once per Gram data and ridge weight (kept on ``gram``: the
    estimator's heuristics and the special solvers of one fit share it; at p = 10^4 it is
    800 MB). ``G`` itself when ``alpha = 0``; never written to."""
    cached = gram.__dict__.get("_optml_ridge")
    if cached is not None and cached[0] == alpha:
        return cached[1]
    if alpha:
        if isinstance(gram.G, LazyGram):  # p too large for the Gram matrix: a view
            H = gram.G.with_shift(alpha)
        else:
            H = gram.G.copy()
            H[np.diag_indices_from(H)] += alpha
    else:
        H = gram.G
    gram.__dict__["_optml_ridge"] = (alpha, H)
    return H


class SubsetProblem:
    """Best-subset data and constraints shared by the heuristics."""

    def __init__(self, gram, k, alpha=0.0, lo=None, hi=None, groups=None, pairs=None):
        self.gram = gram
        p = gram.p
        self.p, self.k, self.alpha = p, int(k), float(alpha)
        self.H = ridge_gram(gram, self.alpha)
        self.c, self.yy = gram.c, gram.yy
        self.lo = np.full(p, -np.inf) if lo is None else np.asarray(lo, float)
        self.hi = np.full(p, np.inf) if hi is None else np.asarray(hi, float)
        self.bounded = bool(np.isfinite(self.lo).any() or np.isfinite(self.hi).any())
        self.group_of = np.arange(p)
        self._groups = []
        for g in groups or []:
            g = sorted({int(j) for j in g})
            self._groups.append(g)
            self.group_of[g] = g[0]
        self._units = None
        self.pairs = [tuple(map(int, q)) for q in (pairs or [])]
        self.constrained = bool(groups) or bool(self.pairs)

    @property
    def units(self) -> list:
        """The groups, then every other feature alone (built on first use: p lists)."""
        if self._units is None:
            seen = np.zeros(self.p, bool)
            for g in self._groups:
                seen[g] = True
            self._units = list(self._groups) + [[int(j)] for j in np.flatnonzero(~seen)]
        return self._units

    def objective(self, beta) -> float:
        beta = np.asarray(beta, dtype=float)
        S = np.flatnonzero(beta)
        if S.size > self.p // 4:
            return float(beta @ self.H @ beta - 2.0 * self.c @ beta + self.yy)
        b = beta[S]  # a sparse point: O(|S|^2)
        return float(b @ self.H[np.ix_(S, S)] @ b - 2.0 * self.c[S] @ b + self.yy)

    def _objective_on(self, S, b) -> float:
        return float(b @ self.H[np.ix_(S, S)] @ b - 2.0 * self.c[S] @ b + self.yy)

    def lipschitz(self) -> float:
        """Largest eigenvalue of ``H`` (an iterative solver beyond a few hundred features)."""
        if self.p <= 400 and not isinstance(self.H, LazyGram):
            return float(np.linalg.eigvalsh(self.H)[-1]) if self.p else 1.0
        from scipy.sparse.linalg import eigsh

        try:
            lam = float(eigsh(self.H, k=1, which="LA", tol=1e-6, return_eigenvectors=False)[0])
            return 1.01 * lam  # a slight overestimate keeps the projected gradient monotone
        except Exception:  # no convergence: the trace bounds the largest eigenvalue
            return float(self.H.trace())

    def closure(self, S) -> np.ndarray:
        """Support closed under groups (every member of a touched group)."""
        if not self._groups:  # no groups: every unit is one feature
            return np.array(sorted(set(int(j) for j in S)), dtype=int)
        S = set(int(j) for j in S)
        out = set()
        for u in self.units:
            if S.intersection(u):
                out.update(u)
        return np.array(sorted(out), dtype=int)

    def feasible(self, S) -> bool:
        S = set(self.closure(S).tolist())
        if len(S) > self.k:
            return False
        return not any(i in S and j in S for i, j in self.pairs)

    def fit_support(self, S) -> tuple[np.ndarray, float]:
        """Least squares (+ ridge) restricted to ``S``, within the bounds."""
        S = np.asarray(sorted(S), dtype=int)
        beta = np.zeros(self.p)
        if S.size == 0:
            return beta, self.objective(beta)
        HS = self.H[np.ix_(S, S)]
        try:
            b = np.linalg.solve(HS, self.c[S])
        except np.linalg.LinAlgError:
            b = np.linalg.lstsq(HS, self.c[S], rcond=None)[0]
        if self.bounded and (np.any(b < self.lo[S] - 1e-12) or np.any(b > self.hi[S] + 1e-12)):
            # bounded least squares on the square-root factor of H restricted to S
            w, U = np.linalg.eigh(HS)
            w = np.maximum(w, 0.0)
            A = np.sqrt(w)[:, None] * U.T
            keep = w > 1e-14 * max(w.max(initial=0.0), 1e-300)
            rhs = np.zeros_like(w)
            rhs[keep] = (U[:, keep].T @ self.c[S]) / np.sqrt(w[keep])
            b = lsq_linear(A, rhs, bounds=(self.lo[S], self.hi[S]), method="bvls").x
        beta[S] = b
        return beta, self._objective_on(S, b)

    # ---------------------------------------------------------------- heuristics
    def dfo(self, beta0, max_iter: int = 1000, tol: float = 1e-8, deadline=None) -> np.ndarray:
        """Projected gradient onto k-sparse vectors in the box (BKM 2016, Algorithm 1).
        ``deadline`` (``time.perf_counter()`` seconds): the iterations stop there."""
        L = self._L if getattr(self, "_L", None) is not None else self.lipschitz()
        self._L = L = max(L, 1e-12)
        beta = np.clip(np.asarray(beta0, float), self.lo, self.hi)
        for it in range(max_iter):
            if deadline is not None and it % 10 == 9 and time.perf_counter() > deadline:
                break
            S = np.flatnonzero(beta)
            if isinstance(self.H, LazyGram):  # X'X not formed: one product, no rows
                Hb = self.H.rows_dot(S, beta[S]) if S.size <= self.p // 4 else self.H @ beta
            else:
                Hb = beta[S] @ self.H[S] if S.size <= self.p // 4 else self.H @ beta
            u = beta - (Hb - self.c) / L
            new = self._project(u)
            if np.linalg.norm(new - beta) <= tol * max(1.0, np.linalg.norm(beta)):
                beta = new
                break
            beta = new
        return beta

    def _project(self, u):
        v = np.clip(u, self.lo, self.hi) if self.bounded else u
        gain = u * u - (u - v) ** 2  # decrease of ||u - x||^2 from keeping v_j instead of 0
        out = np.zeros_like(u)
        k = min(self.k, u.size)
        if k <= 0:
            return out
        keep = np.argpartition(-gain, k - 1)[:k] if k < u.size else np.arange(u.size)
        out[keep] = v[keep]
        return out

    def forward(self, deadline=None, shortlist: int = 10) -> np.ndarray:
        """Greedy forward selection of whole units, respecting pairs, groups and k.

        Without groups or pairs (bounds only) each step fits, within the bounds, only the
        ``shortlist`` features of largest unbounded gain (the Gram update), not every feature
        (p fits a step, a box-constrained solve each, took 35 s at p = 1000). ``deadline``
        (``time.perf_counter()`` seconds): no step starts after it."""
        if not self.bounded and not self.constrained:
            return self._forward_gram()
        S: list[int] = []
        best = self.objective(np.zeros(self.p))
        while True:
            if deadline is not None and time.perf_counter() > deadline:
                break
            cand = None
            units = self.units if self.constrained else []  # p lists: only with groups
            if not self.constrained:
                if len(S) >= self.k:
                    break
                _, _, gains = self._add_gains(S)
                top = np.argsort(-gains)[:shortlist]
                units = [[int(j)] for j in top if np.isfinite(gains[j])]
            for u in units:
                if u[0] in S:
                    continue
                T = S + u
                if len(T) > self.k or not self.feasible(T):
                    continue
                _, f = self.fit_support(T)
                if f < best - 1e-12 * max(1.0, abs(best)) and (cand is None or f < cand[1]):
                    cand = (T, f)
            if cand is None:
                break
            S, best = cand
        return self.fit_support(S)[0]

    def _add_gains(self, T):
        """``(f_T, beta_T, gains)``: the objective on ``T`` and, for every feature ``l``, the
        decrease :math:`(c_l - H_{lT}\beta_T)^2 / (H_{ll} - H_{lT}H_{TT}^{-1}H_{Tl})` from
        adding it (``-inf`` on ``T`` and where the Schur complement vanishes)."""
        H, c = self.H, self.c
        dH = H.diagonal()
        if T:
            HT = H[np.ix_(T, T)]
            Hinv = np.linalg.pinv(HT)
            bT = Hinv @ c[T]
            fT = float(self.yy - c[T] @ bT)
            HlT = H[T].T  # symmetric: rows are contiguous
            num = (c - HlT @ bT) ** 2
            den = dH - np.einsum("ij,jk,ik->i", HlT, Hinv, HlT)
        else:
            bT = np.zeros(0)
            fT = float(self.yy)
            num, den = c**2, dH.copy()
        den = np.where(den > 1e-12 * dH.max(initial=0.0), den, np.inf)
        gains = num / den
        gains[list(T)] = -np.inf
        return fT, bT, gains

    def _forward_gram(self) -> np.ndarray:
        """Forward selection by the Gram update (no bounds, groups or pairs): O(p k^2) a step."""
        S: list[int] = []
        while len(S) < self.k:
            fT, _, gains = self._add_gains(S)
            j = int(np.argmax(gains))
            if not np.isfinite(gains[j]) or gains[j] <= 1e-12 * max(1.0, abs(fT)):
                break
            S.append(j)
        return self.fit_support(S)[0]

    def swaps(self, S, max_pass: int = 5) -> np.ndarray:
        """1-swap local search: replace one feature of ``S`` by one outside while it helps.

        Uses the Gram update :math:`\\Delta f = -(c_l - H_{lT}\\beta_T)^2 / (H_{ll} -
        H_{lT}H_{TT}^{-1}H_{Tl})` for adding ``l`` to ``T = S - {j}`` (no bounds, no groups).
        """
        S = list(sorted(S))
        beta, f = self.fit_support(S)
        for _ in range(max_pass):
            improved = False
            for j in list(S):
                T = [i for i in S if i != j]
                fT, _, gains = self._add_gains(T)
                gains[S] = -np.inf
                for i, q in self.pairs:  # keep exclusive pairs feasible
                    if i in T:
                        gains[q] = -np.inf
                    if q in T:
                        gains[i] = -np.inf
                best_l = int(np.argmax(gains))
                f_new = fT - gains[best_l]
                if np.isfinite(gains[best_l]) and f_new < f - 1e-10 * max(1.0, abs(f)):
                    S = sorted(T + [best_l])
                    beta, f = self.fit_support(S)
                    improved = True
            if not improved:
                break
        return beta

    def warm_start(
        self, how: str = "auto", seed: int = 0, settings=None
    ) -> tuple[np.ndarray, float, str]:
        """Best feasible point found by the chosen heuristics: ``(beta, objective, method)``.

        ``settings`` (the fit's :class:`~optml.program.settings.SolveSettings`, clock started):
        the heuristics get ``HEURISTIC_SHARE`` of the time left (no further start of the
        first-order method after it; the iterations stop at the deadline), so that the
        solver's bound starts early. Beyond ``screen_size(k)`` x ``SCREEN_FACTOR`` features
        (and without groups or pairs) the first-order method and the swaps run on a screened
        candidate set (:meth:`_screened`)."""
        deadline = None
        if settings is not None and settings.deadline is not None:
            left = settings.remaining()
            deadline = time.perf_counter() + HEURISTIC_SHARE * max(left, 0.0)
        m = screen_size(self.k)
        if not self.constrained and self.p > SCREEN_FACTOR * m and how in ("auto", "dfo"):
            return self._screened(how, seed, deadline, m)
        return self._warm_start(how, seed, deadline)

    def _warm_start(self, how, seed, deadline, starts_from=()):
        def expired() -> bool:
            return deadline is not None and time.perf_counter() > deadline

        cands = []
        if how in ("auto", "forward") or self.constrained:
            cands.append((self.forward(deadline), "forward"))
        if how in ("auto", "dfo") and not self.constrained:
            rng = np.random.default_rng(seed)
            starts = [np.zeros(self.p)]
            order = np.argsort(-np.abs(self.c) / np.sqrt(np.maximum(self.H.diagonal(), 1e-300)))
            starts.append(self.fit_support(order[: self.k])[0])
            for _ in range(3):
                starts.append(rng.standard_normal(self.p) * np.abs(starts[1]).max(initial=1.0))
            starts = list(starts_from) + starts
            for i, b0 in enumerate(starts):
                if i and expired():
                    break
                b = self.dfo(b0, deadline=deadline)
                S = np.flatnonzero(b)
                cands.append((self.fit_support(S)[0], "dfo"))
        if not cands:
            return np.zeros(self.p), self.objective(np.zeros(self.p)), "zero"
        polished = []
        for b, m in cands:
            S = self.closure(np.flatnonzero(b))
            if not self.feasible(S):
                continue
            if not self.bounded and not self.constrained and how == "auto" and not expired():
                b = self.swaps(S)
                m = m + "+swap"
            polished.append((self.objective(b), b, m))
        if not polished:
            return np.zeros(self.p), self.objective(np.zeros(self.p)), "zero"
        f, b, m = min(polished, key=lambda t: t[0])
        return b, f, m

    # ------------------------------------------------------------- large p: screening
    def _scores(self, beta) -> np.ndarray:
        r"""Screening scores :math:`|c_j - (H\beta)_j| / \sqrt{H_{jj}}` (the correlation of
        feature ``j`` with the residual at ``beta``: the gain of adding it, up to scale)."""
        S = np.flatnonzero(beta)
        if S.size == 0:
            g = self.c
        elif isinstance(self.H, LazyGram):
            g = self.c - self.H.rows_dot(S, beta[S])
        else:
            g = self.c - beta[S] @ self.H[S]
        return np.abs(g) / np.sqrt(np.maximum(self.H.diagonal(), 1e-300))

    def restricted(self, C) -> SubsetProblem:
        """The same problem on the features ``C`` only (their Gram block formed: at most a
        few hundred features), for the heuristics."""
        from optml.formulations.regression import GramData

        C = np.asarray(C, dtype=int)
        G = self.gram.G
        GC = G.block(C, C) if isinstance(G, LazyGram) else G[np.ix_(C, C)]
        xm = np.asarray(self.gram.x_mean)
        sub = GramData(
            G=np.array(GC, dtype=float),
            c=self.c[C].copy(),
            yy=self.yy,
            n=self.gram.n,
            x_mean=xm[C] if xm.ndim else xm,
            y_mean=self.gram.y_mean,
        )
        return SubsetProblem(sub, self.k, self.alpha, self.lo[C], self.hi[C])

    def _screened(self, how, seed, deadline, m, rounds: int = 4):
        """The heuristics on a candidate set: the forward support and the ``m`` features most
        correlated with the response and with the forward fit's residual; the first-order
        method and the swaps run on the candidates' Gram block (their work is
        :math:`O(m^2)` a step instead of :math:`O(np)`), then the candidates are enlarged by
        the features most correlated with the new residual until none enters (or
        ``rounds``). A heuristic: the point is an incumbent, nothing is proven from it."""

        def expired() -> bool:
            return deadline is not None and time.perf_counter() > deadline

        beta = self.forward(deadline) if how == "auto" else np.zeros(self.p)
        f, method = self.objective(beta), "forward"
        S = np.flatnonzero(beta)
        C = set(S.tolist())
        C.update(_top(self._scores(np.zeros(self.p)), m).tolist())
        for r in range(rounds):
            C.update(_top(self._scores(beta), m).tolist())
            Ca = np.array(sorted(C), dtype=int)
            sub = self.restricted(Ca)
            start = np.zeros(Ca.size)
            start[np.searchsorted(Ca, S)] = beta[S]
            bC, fC, mC = sub._warm_start(how, seed + r, deadline, starts_from=[start])
            if fC < f - 1e-12 * max(1.0, abs(f)):
                beta = np.zeros(self.p)
                beta[Ca] = bC
                f, method = self.objective(beta), mC
                S = np.flatnonzero(beta)
            if expired():
                break
            new = set(_top(self._scores(beta), m).tolist()) - C
            if not new:
                break
        return beta, f, method + "+screened"


#: the share of the time left that the heuristics take before the solver starts
HEURISTIC_SHARE = 0.2
#: the screened heuristics apply beyond this many times the candidate-set size
SCREEN_FACTOR = 4


def screen_size(k: int) -> int:
    """The candidate-set size of the screened heuristics (large p): ``max(250, 25 k)``."""
    return max(250, 25 * int(k))


def _top(score, m) -> np.ndarray:
    """Indices of the ``m`` largest entries (unordered)."""
    m = min(int(m), score.size)
    if m >= score.size:
        return np.arange(score.size)
    return np.argpartition(-score, m - 1)[:m]
