r"""Certified best subset selection (Bertsimas, King and Mazumder 2016) and its path over k."""

from __future__ import annotations

import numbers
import time

import numpy as np

from optml.formulations.regression import coef_bounds, gram_data
from optml.formulations.subset import (
    FORMULATIONS,
    best_subset_program,
    correlated_pairs,
    ellipsoid_bigm,
)
from optml.regression._common import (
    LinearProgramRegressor,
    check_bool,
    check_fraction,
    check_nonneg,
)
from optml.regression._heuristics import SubsetProblem

_WARM = ("auto", "dfo", "forward", "none")


def check_k(k, p: int | None = None, name: str = "k") -> int:
    if not isinstance(k, numbers.Integral) or isinstance(k, bool):
        raise TypeError(f"{name} must be an integer number of features, got {k!r}")
    if k < 0:
        raise ValueError(f"{name} must be >= 0, got {k}")
    if p is not None and k > p:
        raise ValueError(
            f"{name} = {k} is larger than the number of features ({p}); pass {name} <= {p}"
        )
    return int(k)


class BestSubsetRegression(LinearProgramRegressor):
    r"""Best subset selection, certified optimal by a mixed-integer solver.

    .. math::

        \min_{\beta, b}\ \|y - X\beta - b\|_2^2 + \alpha\|\beta\|_2^2
        \quad\text{s.t.}\quad \|\beta\|_0 \le k\ (+\ \text{side constraints})

    (Bertsimas, King and Mazumder 2016). The program is built in the n-independent factor
    form :math:`\|R\beta - z\|^2` (:math:`R^\top R = X_c^\top X_c`), which is what lets SCIP
    prove optimality; big-M values come from the data (:func:`~optml.formulations.subset.
    ellipsoid_bigm`: every optimum lies in the ellipsoid
    :math:`\{\beta : f(\beta) \le U\}`, :math:`U` the objective of the warm start), and the
    warm start is the best of the discrete first-order method (BKM Algorithm 1), forward
    selection and a 1-swap local search.

    Parameters
    ----------
    k : int, default 10
        Largest number of nonzero coefficients, ``0 <= k <= n_features``.
    alpha : float, default 0.0
        Ridge weight (>= 0).
    formulation : {"auto", "bigm", "sos1", "perspective"}, default "auto"
        How a coefficient is switched off: big-M rows, SOS-1 sets, or the perspective of the
        ridge term (an MISOCP). The perspective also works for ``alpha = 0``: it moves
        :math:`\delta I` out of :math:`X^\top X` (:math:`\delta = 0.95\lambda_{\min}`) into a
        perspective term. "auto" takes the perspective when :math:`\alpha + \delta` is at least
        5 % of the mean diagonal of :math:`X_c^\top X_c` (well-conditioned designs), else big-M.
    warm_start : {"auto", "dfo", "forward", "none"} or bool, default "auto"
        Heuristic for the starting incumbent and the big-M bound ("none" or False: start from
        0, whose objective still gives valid big-M values; True means "auto").
    fit_intercept : bool, default True
    positive : bool, default False
        Nonnegative coefficients.
    coef_bounds : (lower, upper), optional
        Coefficient bounds / signs; each side must allow 0.
    groups : list of lists of int, optional
        Features that enter or leave together (group sparsity; k counts features).
    max_correlation : float in (0, 1), optional
        At most one of each pair with ``|corr| > max_correlation``.
    big_m : float or array, optional
        Use these big-M values instead of the derived ones (then the certificate holds only
        within them).
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Solver settings; the MIQP needs SCIP (``pip install pyscipopt``) or a commercial
        solver. ``time_limit`` bounds the solver; on expiry the incumbent is kept, with
        ``result_.status == "time_limit"`` and its ``result_.gap``.

    Attributes
    ----------
    coef_, intercept_ : the fitted model.
    support_ : ndarray of bool, the selected features.
    objective_ : float, :math:`\mathrm{RSS} + \alpha\|\beta\|^2` at the solution.
    bound_, gap_ : float, the solver's proven lower bound and the relative gap of the returned
        model to it (equal to ``result_``'s unless the fit kept a better point than the
        solver's incumbent: the polished support, or the warm start after a time limit).
    bigm_ : ndarray, the big-M values used; ``bigm_source_`` says where they came from
        ("ellipsoid", "heuristic" when :math:`X^\top X` is singular and ``alpha = 0``, "user").
    warm_start_objective_, warm_start_method_ : the heuristic's value and method.
    formulation_ : str, the formulation used; ``perspective_shift_`` : float, its
        :math:`\delta`.
    heuristic_time_ : float, seconds spent in the heuristics.
    program_, result_ : the program and its :class:`optml.Result` (status, bound, gap).
    """

    _mip = True

    def __init__(
        self, k=10, *, alpha=0.0, formulation="auto", warm_start="auto", fit_intercept=True,
        positive=False, coef_bounds=None, groups=None, max_correlation=None, big_m=None,
        backend="auto", solver=None, time_limit=None, mip_gap=None, verbose=False,
        solver_options=None,
    ):  # fmt: skip
        self.k = k
        self.alpha = alpha
        self.formulation = formulation
        self.warm_start = warm_start
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.coef_bounds = coef_bounds
        self.groups = groups
        self.max_correlation = max_correlation
        self.big_m = big_m
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check_params(self):
        check_k(self.k)
        check_nonneg("alpha", self.alpha)
        check_bool("fit_intercept", self.fit_intercept)
        check_bool("positive", self.positive)
        if self.formulation not in ("auto",) + FORMULATIONS:
            raise ValueError(
                f"formulation must be 'auto' or one of {FORMULATIONS}, got {self.formulation!r}"
            )
        if not (isinstance(self.warm_start, bool) or self.warm_start in _WARM):
            raise ValueError(
                f"warm_start must be one of {_WARM} (or True = 'auto', False = 'none'), got "
                f"{self.warm_start!r}"
            )
        if self.max_correlation is not None:
            check_fraction("max_correlation", self.max_correlation)

    def _setup(self, X, y, previous=None):
        n, p = X.shape
        check_k(self.k, p)
        gram = gram_data(X, y, self.fit_intercept)
        lo, hi = coef_bounds(p, self.positive, self.coef_bounds)
        if np.any(lo > 0) or np.any(hi < 0):
            raise ValueError("coef_bounds must allow 0 for every coefficient in best subset")
        groups = _check_groups(self.groups, p)
        pairs = correlated_pairs(gram.G, self.max_correlation) if self.max_correlation else []
        t0 = time.perf_counter()
        prob = SubsetProblem(gram, self.k, self.alpha, lo, hi, groups, pairs)
        how = {True: "auto", False: "none"}.get(self.warm_start, self.warm_start)
        if how == "none":
            beta0, f0, how = np.zeros(p), prob.objective(np.zeros(p)), "zero"
        else:
            beta0, f0, how = prob.warm_start(how)
        if previous is not None:  # a feasible point from a smaller k (path)
            fp = prob.objective(previous)
            if fp < f0 and prob.feasible(np.flatnonzero(previous)):
                beta0, f0, how = previous, fp, "previous"
        heur = time.perf_counter() - t0
        if self.big_m is not None:
            M = np.broadcast_to(np.asarray(self.big_m, float), (p,)).copy()
            if np.any(~(M > 0)):
                raise ValueError(f"big_m must be positive, got {self.big_m!r}")
            source = "user"
        else:
            M = ellipsoid_bigm(gram, float(self.alpha), f0)
            source = "ellipsoid"
            if M is None:  # singular Gram: BKM's practical bound tau * ||beta_warm||_inf
                scale = np.abs(beta0).max(initial=0.0)
                if scale == 0:
                    scale = np.sqrt(gram.yy / max(np.diag(gram.G).min(), 1e-12))
                M = np.full(p, 2.0 * scale)
                source = "heuristic"
        M = np.maximum(M, np.abs(beta0) * (1 + 1e-9))  # keep the warm start feasible
        shift = 0.0
        form = self.formulation
        if form in ("auto", "perspective"):
            lam = float(np.linalg.eigvalsh(gram.G)[0]) if p else 0.0
            shift = max(0.0, 0.95 * lam)  # move delta*I of X'X into the perspective term
            if form == "auto":  # the perspective pays when the moved ridge part is sizeable
                ridge = float(self.alpha) + shift
                form = "perspective" if ridge >= 0.05 * np.diag(gram.G).mean() else "bigm"
            if form == "bigm":
                shift = 0.0
            elif not (float(self.alpha) + shift > 0):
                raise ValueError(
                    "formulation='perspective' needs alpha > 0 when X'X is singular (more "
                    "features than samples, or collinear columns); use 'bigm' or 'sos1'"
                )
        prog = best_subset_program(
            gram, self.k, alpha=float(self.alpha), formulation=form, M=M, lb=lo,
            ub=hi, groups=groups, exclusive_pairs=pairs, shift=shift, name="best_subset",
        )  # fmt: skip
        supp = np.zeros(p)
        supp[prob.closure(np.flatnonzero(beta0))] = 1.0
        ws = {"coef": beta0, "support": supp}
        if form == "sos1":
            ws["sos_pairs"] = np.column_stack([beta0, 1.0 - supp])
        if form == "perspective":
            ws["ridge_epi"] = beta0**2
        ctx = {"gram": gram, "problem": prob, "warm_start": ws, "M": M, "source": source, "f0": f0,
               "how": how, "heur": heur, "shift": shift, "form": form}  # fmt: skip
        return prog, ctx

    def _build(self, X, y):
        return self._setup(X, y)

    def fit(self, X, y, *, _previous=None):
        self._check_params()
        self._check_common_params()
        X, y = self._validate_fit(X, y)
        check_k(self.k, X.shape[1])
        prog, ctx = self._setup(X, y, previous=_previous)
        res = self._solve(prog, warm_start=ctx["warm_start"], mip=True)
        self._unpack(res, ctx)
        return self

    def _unpack(self, res, ctx):
        gram = ctx["gram"]
        prob = ctx["problem"]
        beta = np.asarray(res.values["coef"], float).copy()
        s = np.asarray(res.values["support"], float) > 0.5
        beta[~s] = 0.0  # exact zeros off the support (solver round-off)
        # polish: the solver fixes the support; the coefficients on it are a (bounded) least
        # squares problem, solved here by linear algebra to full precision
        polished, f_pol = prob.fit_support(prob.closure(np.flatnonzero(s)))
        if f_pol <= prob.objective(beta):
            beta = polished
        # a solver stopped by its time limit may hold a worse incumbent than the warm start
        # (not every path hands the warm start to the solver): keep the better feasible point
        beta0 = ctx["warm_start"]["coef"]
        if prob.objective(beta0) < prob.objective(beta):
            beta = np.asarray(beta0, float).copy()
        self.coef_ = beta
        self.support_ = beta != 0
        self.intercept_ = gram.intercept(beta) if self.fit_intercept else 0.0
        self.objective_ = gram.rss(beta) + float(self.alpha) * float(beta @ beta)
        bound = float(res.bound) if np.isfinite(res.bound) else -np.inf
        self.bound_ = bound
        self.gap_ = float(abs(self.objective_ - bound) / max(1.0, abs(self.objective_))) \
            if np.isfinite(bound) else float("inf")  # fmt: skip
        self.bigm_ = ctx["M"]
        self.bigm_source_ = ctx["source"]
        self.warm_start_objective_ = ctx["f0"]
        self.warm_start_method_ = ctx["how"]
        self.heuristic_time_ = ctx["heur"]
        self.perspective_shift_ = ctx["shift"]
        self.formulation_ = ctx["form"]


def _check_groups(groups, p):
    if groups is None:
        return None
    out, seen = [], set()
    for g in groups:
        g = [int(j) for j in np.atleast_1d(np.asarray(g))]
        if not g:
            continue
        bad = [j for j in g if not 0 <= j < p]
        if bad:
            raise ValueError(f"group {g} has feature indices outside [0, {p}): {bad}")
        if seen.intersection(g):
            raise ValueError(f"groups must be disjoint; feature(s) {sorted(seen & set(g))} repeat")
        seen.update(g)
        out.append(sorted(set(g)))
    return out


def best_subset_path(X, y, k_max=None, **params):
    """Fit :class:`BestSubsetRegression` for ``k = 1 .. k_max``, each warm-started from the last.

    The solution for ``k - 1`` is feasible for ``k``, so it is a warm start and an upper
    bound (hence a big-M) for the next fit.

    Returns
    -------
    dict with ``k`` (array), ``coefs`` (k_max, p), ``intercepts``, ``objectives``, ``gaps``,
    ``statuses``, ``times`` and ``models`` (the fitted estimators).
    """
    from sklearn.utils.validation import check_X_y

    X, y = check_X_y(X, y, y_numeric=True, dtype=np.float64)
    p = X.shape[1]
    k_max = p if k_max is None else check_k(k_max, p, "k_max")
    out = {"k": np.arange(1, k_max + 1), "coefs": [], "intercepts": [], "objectives": [],
           "gaps": [], "statuses": [], "times": [], "models": []}  # fmt: skip
    prev = None
    for k in range(1, k_max + 1):
        t0 = time.perf_counter()
        m = BestSubsetRegression(k=k, **params).fit(X, y, _previous=prev)
        out["times"].append(time.perf_counter() - t0)
        prev = m.coef_
        out["coefs"].append(m.coef_)
        out["intercepts"].append(m.intercept_)
        out["objectives"].append(m.objective_)
        out["gaps"].append(m.result_.gap)
        out["statuses"].append(m.result_.status)
        out["models"].append(m)
    for key in ("coefs", "intercepts", "objectives", "gaps", "times"):
        out[key] = np.asarray(out[key])
    return out
