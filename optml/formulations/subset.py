r"""Mixed-integer regression: best subset selection and least trimmed squares.

Best subset (Bertsimas, King and Mazumder 2016, "Best subset selection via a modern
optimization lens", Ann. Statist. 44(2)), in the n-independent factor form
(:math:`R^\top R = X_c^\top X_c`, :math:`R^\top z = X_c^\top y_c`):

.. math::

    \min_{\beta, s}\ \|R\beta - z\|_2^2 + \mathrm{const} + \alpha\|\beta\|_2^2
    \quad\text{s.t.}\quad \sum_j s_j \le k,\ s \in \{0,1\}^p,\
    \text{(link between } \beta_j \text{ and } s_j),

with the link written one of three ways:

* ``"bigm"``: :math:`-M_j s_j \le \beta_j \le M_j s_j`, with :math:`M_j` derived from the
  data by :func:`ellipsoid_bigm` (valid, not guessed);
* ``"sos1"``: :math:`\{\beta_j, 1 - s_j\}` is SOS-1 (at most one nonzero), no big-M;
* ``"perspective"`` (needs :math:`\alpha > 0`): the ridge term is replaced by its perspective
  :math:`\alpha\sum_j t_j` with :math:`\beta_j^2 \le t_j s_j` (a rotated second-order cone),
  the tightest convex relaxation of :math:`\alpha\beta_j^2` on/off (Frangioni and Gentile 2006;
  Xie and Deng 2020); big-M rows are kept as well.

Side constraints of "algorithmic regression" (Bertsimas and King 2016, "An algorithmic
approach to linear regression", Oper. Res. 64(1)): groups chosen whole (:math:`s_i = s_j`
within a group), at most one of each highly correlated pair (:math:`s_i + s_j \le 1`), and
coefficient signs / bounds.

Least trimmed squares (Rousseeuw 1984, "Least median of squares regression", JASA 79(388)):
minimise the sum of the ``h`` smallest squared residuals, as an MIQP (Giloni and Padberg 2002).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

import optml.program as om
from optml.formulations.regression import GramData, LazyGram, gram_eigvalsh, psd_factor
from optml.program.structured import StructuredProblem

__all__ = [
    "BestSubsetProblem",
    "best_subset_program",
    "correlated_pairs",
    "ellipsoid_bigm",
    "lts_program",
]

FORMULATIONS = ("bigm", "sos1", "perspective")


def ellipsoid_bigm(gram: GramData, alpha: float, upper_bound: float) -> np.ndarray | None:
    r"""Valid big-M values :math:`M_j \ge |\beta_j^*|` from an upper bound on the optimum.

    With :math:`H = G + \alpha I \succ 0`, the objective is
    :math:`f(\beta) = (\beta - \hat\beta)^\top H (\beta - \hat\beta) + f^*` where
    :math:`\hat\beta = H^{-1}c` is the unconstrained (ridge / least-squares) minimiser. Any
    optimum of the constrained problem has :math:`f(\beta^*) \le U` for the objective
    :math:`U` of any feasible point (a warm start), so it lies in that ellipsoid, and

    .. math:: |\beta_j^*| \le |\hat\beta_j| + \sqrt{(U - f^*)\,(H^{-1})_{jj}} =: M_j.

    Returns None when :math:`H` is singular (more features than samples and
    :math:`\alpha = 0`): the ellipsoid is then unbounded.
    """
    p = gram.p
    if isinstance(gram.G, LazyGram):  # no p x p matrix: no ellipsoid (the caller's fallback)
        return None
    H = gram.G + alpha * np.eye(p)
    try:
        L = np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        return None
    d = np.abs(np.diag(L))
    if d.min(initial=np.inf) <= 1e-9 * np.sqrt(np.abs(np.diag(H)).max(initial=1.0)):
        return None
    Linv = np.linalg.solve(L, np.eye(p))
    Hinv_diag = (Linv * Linv).sum(axis=0)
    beta_hat = Linv.T @ (Linv @ gram.c)
    fstar = gram.yy - gram.c @ beta_hat
    slack = max(upper_bound - fstar, 0.0)
    M = np.abs(beta_hat) + np.sqrt(slack * Hinv_diag)
    # round-off safety: relative and absolute padding
    return M * (1.0 + 1e-6) + 1e-9 * (1.0 + np.abs(M).max(initial=0.0))


def correlated_pairs(G: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, with ``|corr(x_i, x_j)| > threshold`` (from a centred Gram)."""
    if isinstance(G, LazyGram):
        raise ValueError(
            f"max_correlation needs the {G.p} x {G.p} Gram matrix, which is not formed for "
            "this many features (see GRAM_LAZY_BYTES); screen the features first or leave "
            "max_correlation=None"
        )
    d = np.sqrt(np.maximum(np.diag(G), 1e-300))
    C = G / np.outer(d, d)
    iu, ju = np.triu_indices(G.shape[0], k=1)
    keep = np.abs(C[iu, ju]) > threshold
    return list(zip(iu[keep].tolist(), ju[keep].tolist(), strict=True))


def best_subset_program(
    gram: GramData,
    k: int,
    alpha: float = 0.0,
    formulation: str = "bigm",
    M=None,
    lb=None,
    ub=None,
    groups=None,
    exclusive_pairs=None,
    shift: float = 0.0,
    name: str = "best_subset",
    l0: float = 0.0,
) -> om.Program:
    r"""Best subset selection as an MIQP / MISOCP (see the module docstring).

    Parameters
    ----------
    gram : GramData
        Centred sufficient statistics (:func:`optml.formulations.regression.gram_data`).
    k : int
        Largest number of nonzero coefficients.
    alpha : float
        Ridge weight; the objective is :math:`\mathrm{RSS} + \alpha\|\beta\|^2`.
    formulation : {"bigm", "sos1", "perspective"}
    M : array of shape (p,) or float
        Big-M values (:func:`ellipsoid_bigm`); required for ``"bigm"`` and ``"perspective"``
        and used as variable bounds for ``"sos1"`` (pass ``np.inf`` for none).
    lb, ub : arrays of shape (p,), optional
        Coefficient bounds / signs (a bound on the side of 0 must include 0).
    groups : list of index lists, optional
        Each group enters or leaves the model whole.
    exclusive_pairs : list of (i, j), optional
        At most one of ``i``, ``j`` is selected.
    shift : float, default 0
        For ``"perspective"``: move :math:`\delta I` (:math:`0 \le \delta \le
        \lambda_{\min}(X_c^\top X_c)`) from the quadratic into the perspective term,
        :math:`f = \|R_\delta\beta - z_\delta\|^2 + \mathrm{const} + (\alpha + \delta)
        \sum_j t_j` with :math:`R_\delta^\top R_\delta = X_c^\top X_c - \delta I`; this
        strengthens the relaxation even when :math:`\alpha = 0` (Frangioni and Gentile 2006;
        Dong, Chen and Linderoth 2015).
    l0 : float, default 0
        The L0 penalty :math:`\lambda_0`: the objective gains :math:`\lambda_0\sum_j s_j`
        (the penalised form of L0Learn / L0BnB); with ``k >= p`` there is no cardinality row.

    The program has variables ``coef`` (:math:`\beta`) and ``support`` (:math:`s`).
    """
    if formulation not in FORMULATIONS:
        raise ValueError(f"formulation must be one of {FORMULATIONS}, got {formulation!r}")
    if formulation == "perspective" and not alpha + shift > 0:
        raise ValueError(
            "formulation='perspective' strengthens the ridge term (alpha + shift)*||beta||^2, so "
            "it needs alpha > 0 or shift > 0; use formulation='bigm' or 'sos1' otherwise"
        )
    p = gram.p
    if isinstance(gram.G, LazyGram):
        raise ValueError(
            f"the MIQP of best subset needs the {p} x {p} Gram matrix, which is not formed for "
            f"this many features ({8.0 * p * p / 2**30:.1f} GiB, more than the lazy-Gram budget, "
            "optml.formulations.regression.GRAM_LAZY_BYTES); use the branch and bound "
            "(method='bnb', with alpha > 0 or a box "
            "M when there are more features than samples), or screen the features first"
        )
    M = np.broadcast_to(np.asarray(np.inf if M is None else M, dtype=float), (p,))
    lo = np.full(p, -np.inf) if lb is None else np.asarray(lb, float)
    hi = np.full(p, np.inf) if ub is None else np.asarray(ub, float)
    lo, hi = np.maximum(lo, -M), np.minimum(hi, M)
    if np.any(lo > 0) or np.any(hi < 0):
        raise ValueError(
            "coefficient bounds must allow 0 (a coefficient that is forced "
            "nonzero cannot be left out of the subset)"
        )
    if formulation in ("bigm", "perspective") and not (
        np.isfinite(lo).all() and np.isfinite(hi).all()
    ):
        raise ValueError(
            f"formulation={formulation!r} needs finite big-M values (or bounds) for every "
            "coefficient; pass M=, or use formulation='sos1'"
        )
    ridge = float(alpha)
    if formulation == "perspective" and shift > 0:
        R, z, const = psd_factor(gram.G - shift * np.eye(p), gram.c, gram.yy)
        ridge += float(shift)
    else:
        R, z, const = gram.factor()
    prog = om.Program(name)
    beta = prog.var("coef", p, lb=lo, ub=hi, latex=r"\beta")
    s = prog.var("support", p, domain="binary", latex="s")
    obj = om.sum_squares(R @ beta - z) + const
    if formulation in ("bigm", "perspective"):
        prog.add(beta - hi * s <= 0, name="bigm_upper")
        prog.add(beta - lo * s >= 0, name="bigm_lower")
    if formulation == "sos1":
        pairs = prog.var(
            "sos_pairs",
            (p, 2),
            lb=np.column_stack([lo, np.zeros(p)]),
            ub=np.column_stack([hi, np.ones(p)]),
        )
        prog.add(pairs[:, 0] - beta == 0, name="sos_coef")
        prog.add(pairs[:, 1] + s == 1, name="sos_off")
        for j in range(p):
            prog.add_sos1(pairs, index=[2 * j, 2 * j + 1])
    if ridge:
        if formulation == "perspective":
            t = prog.var("ridge_epi", p, lb=0.0, latex="t")
            lhs = om.hstack([2.0 * beta, t - s])  # built once, sliced per cone
            rhs = t + s
            for j in range(p):  # beta_j^2 <= t_j s_j  <=>  ||(2 beta_j, t_j - s_j)|| <= t_j + s_j
                prog.add(om.norm2(lhs[[j, p + j]]) <= rhs[j], name=f"perspective[{j}]")
            obj = obj + ridge * t.sum()
        else:
            obj = obj + ridge * om.sum_squares(beta)
    if l0:
        obj = obj + float(l0) * s.sum()
    if k < p:
        prog.add(s.sum() <= k, name="cardinality")
    for g in groups or []:
        g = list(g)
        for j in g[1:]:
            prog.add(s[j] - s[g[0]] == 0, name=f"group_{g[0]}_{j}")
    if exclusive_pairs:
        P = np.asarray(exclusive_pairs, dtype=int).reshape(-1, 2)
        prog.add(s[P[:, 0]] + s[P[:, 1]] <= 1, name="correlated_pairs")
    prog.minimize(obj)
    return prog


@dataclass(eq=False)
class BestSubsetProblem(StructuredProblem):
    r"""One best-subset instance (kind ``"best_subset"``) for optml's own algorithms.

    .. math::

        \min_\beta\ f(\beta) = \beta^\top (G + \alpha I)\beta - 2c^\top\beta + y^\top y
        \quad\text{s.t.}\quad \|\beta\|_0 \le k,\ lo \le \beta \le hi,
        \ \text{groups, exclusive pairs},

    on the centred Gram data (:math:`f` is the residual sum of squares plus
    :math:`\alpha\|\beta\|^2`). Its program (:meth:`build_program`) is the MIQP / MISOCP of
    :func:`best_subset_program` in the chosen ``formulation`` (big-M values from
    :func:`ellipsoid_bigm` at the incumbent ``start`` when ``M`` is None), so a general solver
    and a special solver (``"best-subset-oa"``, ``"l0-bnb"``) answer the same instance and are
    certified against the same objective. :meth:`evaluate` checks a point in numpy from its
    ``coef`` (and ``support`` where given): :math:`f`, the cardinality, bounds, groups, pairs.

    ``start``: an incumbent (from the heuristics), the special solvers' first point and the
    warm start handed to a general solver. ``sub_backend`` / ``sub_solver``: where the outer
    approximation solves its master MILP ("auto": SCIP through Pyomo when installed, whose
    constraint handler adds the cuts inside one branch and bound, else HiGHS in a re-solve
    loop).
    """

    kind: ClassVar[str] = "best_subset"
    sense: ClassVar[int] = 1

    gram: GramData
    k: int
    alpha: float = 0.0
    lb: np.ndarray | None = None
    ub: np.ndarray | None = None
    groups: list | None = None
    exclusive_pairs: list | None = None
    formulation: str = "bigm"
    M: np.ndarray | None = None
    shift: float | None = None
    start: np.ndarray | None = None
    sub_backend: str = "auto"
    sub_solver: str | None = None
    #: the special solver ``solver=None`` runs (None: the program on a general solver)
    default_solver: str | None = None
    #: the L0 penalty :math:`\lambda_0` (the penalised form; ``k = p`` then)
    l0: float = 0.0
    bigm_source: str = field(default="", init=False)

    def __post_init__(self):
        p = self.gram.p
        self.k = int(self.k)
        self.alpha = float(self.alpha)
        self.l0 = float(self.l0)
        if not (np.isfinite(self.l0) and self.l0 >= 0):
            raise ValueError(f"l0 must be a finite number >= 0, got {self.l0!r}")
        self.lb = np.full(p, -np.inf) if self.lb is None else np.asarray(self.lb, float)
        self.ub = np.full(p, np.inf) if self.ub is None else np.asarray(self.ub, float)
        self.groups = [sorted(int(j) for j in g) for g in (self.groups or [])]
        self.exclusive_pairs = [tuple(int(i) for i in q) for q in (self.exclusive_pairs or [])]
        if self.formulation not in ("auto",) + FORMULATIONS:
            raise ValueError(
                f"formulation must be 'auto' or one of {FORMULATIONS}, got {self.formulation!r}"
            )
        self.start = np.zeros(p) if self.start is None else np.asarray(self.start, float)

    @property
    def p(self) -> int:
        return self.gram.p

    @property
    def penalised(self) -> bool:
        """Whether this is the penalised form (``l0 > 0``)."""
        return self.l0 > 0

    def objective(self, beta) -> float:
        r""":math:`f(\beta)` (:math:`+ \lambda_0\|\beta\|_0` in the penalised form) in numpy
        (on the support of ``beta``)."""
        beta = np.asarray(beta, dtype=float).ravel()
        S = np.flatnonzero(beta)
        G, c = self.gram.G, self.gram.c
        b = beta[S]
        f = float(b @ G[np.ix_(S, S)] @ b + self.alpha * b @ b - 2.0 * c[S] @ b + self.gram.yy)
        return f + self.l0 * S.size

    def bigm(self) -> np.ndarray:
        """Big-M values: ``M`` as given, else :func:`ellipsoid_bigm` at the objective of
        ``start`` (or twice its largest coefficient when :math:`G + \alpha I` is singular);
        ``bigm_source`` says which. The start always stays inside them."""
        if self.M is not None:
            M = np.broadcast_to(np.asarray(self.M, float), (self.p,)).copy()
            self.bigm_source = self.bigm_source or "user"
        else:
            M = ellipsoid_bigm(self.gram, self.alpha, self.objective(self.start))
            self.bigm_source = "ellipsoid"
            if M is None:  # singular Gram: BKM's practical bound tau * ||beta_warm||_inf
                scale = np.abs(self.start).max(initial=0.0)
                if scale == 0:
                    scale = np.sqrt(self.gram.yy / max(self.gram.G.diagonal().min(), 1e-12))
                M = np.full(self.p, 2.0 * scale)
                self.bigm_source = "heuristic"
        M = np.maximum(M, np.abs(self.start) * (1 + 1e-9))  # keep the start feasible
        self.M = M
        return M

    def resolve_formulation(self) -> tuple[str, float]:
        r"""``(formulation, shift)``: "auto" takes the perspective with
        :math:`\delta = 0.95\lambda_{\min}(X_c^\top X_c)` when :math:`\alpha + \delta` is at
        least 5 % of the mean diagonal of :math:`X_c^\top X_c`, else big-M;
        "perspective" takes that :math:`\delta` (``shift`` when given)."""
        form, shift = self.formulation, float(self.shift or 0.0)
        if form in ("auto", "perspective") and not self.shift:
            G = self.gram.G
            centred = bool(np.any(self.gram.x_mean != 0))
            if not self.p or self.p >= self.gram.n - int(centred):
                lam = 0.0  # rank(X_c) < p: singular, no decomposition needed
            else:
                lam = float(gram_eigvalsh(G)[0])
            shift = max(0.0, 0.95 * lam)
            if form == "auto":
                ridge = self.alpha + shift
                form = "perspective" if ridge >= 0.05 * G.diagonal().mean() else "bigm"
            if form == "bigm":
                shift = 0.0
            elif not (self.alpha + shift > 0):
                raise ValueError(
                    "formulation='perspective' needs alpha > 0 when X'X is singular (more "
                    "features than samples, or collinear columns); use 'bigm' or 'sos1'"
                )
        self.formulation, self.shift = form, shift
        return form, shift

    def build_program(self) -> om.Program:
        self.resolve_formulation()
        M = self.bigm() if self.M is None else self.M
        return best_subset_program(
            self.gram,
            self.k,
            alpha=self.alpha,
            formulation=self.formulation,
            M=M,
            lb=self.lb,
            ub=self.ub,
            groups=self.groups,
            exclusive_pairs=self.exclusive_pairs,
            shift=self.shift,
            name="best_subset",
            l0=self.l0,
        )

    @property
    def problem_class(self) -> str:
        return "MISOCP" if self.formulation == "perspective" else "MIQP"

    def closure(self, S) -> np.ndarray:
        """``S`` closed under the groups (a touched group enters whole)."""
        S = set(int(j) for j in S)
        for g in self.groups:
            if S.intersection(g):
                S.update(g)
        return np.array(sorted(S), dtype=int)

    def start_values(self, beta=None) -> dict:
        """Values of every variable of the program at ``beta`` (default ``start``)."""
        beta = self.start if beta is None else np.asarray(beta, float)
        s = np.zeros(self.p)
        s[self.closure(np.flatnonzero(beta))] = 1.0
        ws = {"coef": beta, "support": s}
        self.resolve_formulation()
        if self.formulation == "sos1":
            ws["sos_pairs"] = np.column_stack([beta, 1.0 - s])
        if self.formulation == "perspective":
            ws["ridge_epi"] = beta**2
        return ws

    def evaluate(self, values) -> tuple[float, float]:
        """``(f, largest violation)`` of ``values`` (``coef``; ``support`` where given)."""
        beta = np.asarray(values["coef"], dtype=float).ravel()
        if "support" in values:
            s = np.asarray(values["support"], dtype=float).ravel()
        else:
            s = (beta != 0).astype(float)
        viol = [
            float(np.abs(s - np.round(s)).max(initial=0.0)),  # binary
            float(max(s.sum() - self.k, 0.0)),  # cardinality
            float(np.abs(beta[s < 0.5]).max(initial=0.0)),  # off the support: zero
            float(np.maximum(self.lb - beta, 0.0).max(initial=0.0)),
            float(np.maximum(beta - self.ub, 0.0).max(initial=0.0)),
        ]
        for g in self.groups:
            viol.append(float(np.ptp(s[g])) if len(g) > 1 else 0.0)
        for i, j in self.exclusive_pairs:
            viol.append(max(s[i] + s[j] - 1.0, 0.0))
        return self.objective(beta), max(viol)

    def complete_values(self, values: dict) -> dict:
        """The program's auxiliary variables (support pairs, perspective epigraphs) at the
        answer's coefficients; the answer's own entries are kept."""
        out = self.start_values(np.asarray(values["coef"], float))
        out.update(values)
        return out

    def values(self, beta) -> dict:
        """``{"coef", "support"}`` of a point (the support closed under the groups)."""
        beta = np.asarray(beta, float)
        s = np.zeros(self.p)
        s[self.closure(np.flatnonzero(beta))] = 1.0
        return {"coef": beta, "support": s}


def lts_program(
    X,
    y,
    h: int,
    formulation: str = "bigm",
    coef_bound: float = np.inf,
    fit_intercept: bool = True,
    name: str = "least_trimmed_squares",
) -> om.Program:
    r"""Least trimmed squares as an MIQP.

    .. math::

        \min_{\beta, b, e, o, s}\ \sum_i e_i^2 \quad\text{s.t.}\quad
        y_i - x_i^\top\beta - b = e_i + o_i,\quad
        |o_i| \le M_i s_i,\quad \sum_i s_i \le n - h,\quad s \in \{0, 1\}^n,

    where :math:`s_i = 1` discards observation :math:`i` (its residual is absorbed by
    :math:`o_i`). With :math:`|\beta_j|, |b| \le B` (``coef_bound``) the values
    :math:`M_i = |y_i| + B(\|x_i\|_1 + 1)` are valid, so the optimum is certified within that
    box. ``formulation="sos1"`` writes :math:`\{o_i, 1 - s_i\}` as SOS-1 instead (native in
    SCIP through Pyomo; other paths turn it back into big-M rows from the same bounds).
    """
    if formulation not in ("bigm", "sos1"):
        raise ValueError(f"formulation must be 'bigm' or 'sos1', got {formulation!r}")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    n, p = X.shape
    B = float(coef_bound)
    Mo = np.abs(y) + B * (np.abs(X).sum(axis=1) + (1.0 if fit_intercept else 0.0))
    prog = om.Program(name)
    beta = prog.var("coef", p, lb=-B, ub=B, latex=r"\beta")
    e = prog.var("kept_residual", n, latex="e")
    o = prog.var("outlier_residual", n, lb=-Mo, ub=Mo, latex="o")
    s = prog.var("discard", n, domain="binary", latex="s")
    fit = X @ beta
    if fit_intercept:
        b = prog.var("intercept", (), lb=-B, ub=B, latex="b")
        fit = fit + b
    prog.add(fit + e + o == y, name="split")
    if formulation == "bigm":
        if not np.isfinite(Mo).all():
            raise ValueError("formulation='bigm' needs a finite coef_bound")
        prog.add(o - Mo * s <= 0, name="bigm_upper")
        prog.add(o + Mo * s >= 0, name="bigm_lower")
    else:
        pairs = prog.var(
            "sos_pairs",
            (n, 2),
            lb=np.column_stack([-Mo, np.zeros(n)]),
            ub=np.column_stack([Mo, np.ones(n)]),
        )
        prog.add(pairs[:, 0] - o == 0, name="sos_outlier")
        prog.add(pairs[:, 1] + s == 1, name="sos_keep")
        for i in range(n):
            prog.add_sos1(pairs, index=[2 * i, 2 * i + 1])
    prog.add(s.sum() <= n - h, name="trim")
    prog.minimize(om.sum_squares(e))
    return prog
