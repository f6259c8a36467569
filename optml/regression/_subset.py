r"""Certified best subset selection (Bertsimas, King and Mazumder 2016) and its path over k."""

from __future__ import annotations

import numbers
import time
import warnings

import numpy as np

import optml.formulations.regression as _reg
from optml._validation import check_bool, check_choice, check_fraction, check_nonneg
from optml.exceptions import SolveError
from optml.formulations.regression import GramTimeLimit, coef_bounds, gram_data
from optml.formulations.subset import (
    FORMULATIONS,
    BestSubsetProblem,
    correlated_pairs,
)
from optml.regression._common import LinearProgramRegressor
from optml.regression._heuristics import SubsetProblem
from optml.solve.certificate import make_result

_HEURISTICS = ("auto", "dfo", "forward", "none")
_METHODS = ("auto", "bnb", "oa", "mip")
#: method -> the special solver that runs it
_METHOD_SOLVER = {"bnb": "l0-bnb", "oa": "best-subset-oa"}
#: the default of the deprecated ``warm_start`` parameter (not given)
_DEPRECATED = "deprecated"


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

    (Bertsimas, King and Mazumder 2016), or its **penalised form** (``l0=``, the L0L2 model of
    L0Learn and L0BnB, Hazimeh, Mazumder and Saab 2022)

    .. math::

        \min_{\beta, b}\ \|y - X\beta - b\|_2^2 + \alpha\|\beta\|_2^2
        + \lambda_0\|\beta\|_0 \quad (\text{optionally } |\beta_j| \le M). The program is built in the n-independent factor
    form :math:`\|R\beta - z\|^2` (:math:`R^\top R = X_c^\top X_c`), which is what lets SCIP
    prove optimality; big-M values come from the data (:func:`~optml.formulations.subset.
    ellipsoid_bigm`: every optimum lies in the ellipsoid
    :math:`\{\beta : f(\beta) \le U\}`, :math:`U` the objective of the warm start), and the
    warm start is the best of the discrete first-order method (BKM Algorithm 1), forward
    selection and a 1-swap local search.

    Three exact methods solve the same instance (a
    :class:`~optml.formulations.subset.BestSubsetProblem`, kind ``"best_subset"``) and are
    certified against the same objective:

    * ``method="bnb"``: optml's branch and bound ``"l0-bnb"`` (perspective relaxations with a
      certified dual bound per node, safe screening; after Hazimeh, Mazumder and Saab 2022);
    * ``method="oa"``: outer approximation ``"best-subset-oa"`` (Bertsimas and Van Parys 2020):
      a master MILP over the support with closed-form cuts added lazily, on SCIP (callbacks)
      or HiGHS (a re-solve loop);
    * ``method="mip"``: the MIQP / MISOCP below on a general solver (SCIP).

    Parameters
    ----------
    k : int or None, default None
        Largest number of nonzero coefficients, ``k >= 0`` (None: 10, unless ``l0`` is given).
        On data with fewer features a ``UserWarning`` says so and every feature may enter (as
        scikit-learn's ``SelectKBest`` does).
    alpha : float, default 0.0
        Ridge weight (>= 0).
    l0 : float or None, default None
        The penalised form: :math:`\lambda_0 \ge 0` per nonzero coefficient instead of the
        cardinality ``k`` (the two exclude each other: pass ``k=None``). Solved by
        ``"l0-bnb"`` (penalised perspective relaxations by active-set coordinate descent, dual
        bounds, safe screening) or by the MIQP (``method="mip"``: the same objective with
        :math:`\lambda_0\sum_j s_j` and no cardinality row).
    M : float or array of shape (n_features,), optional
        A box :math:`|\beta_j| \le M_j` that is **part of the model** (L0BnB's bound): the
        answer is certified for the boxed problem, a different model from the unboxed one
        whenever some optimal coefficient would exceed it. It makes the relaxations much
        stronger (the big-M term :math:`\lambda_0|\beta_j|/M` of the penalised form, bounded
        cuts in both forms), which is how L0BnB certifies at scale. Works with ``k`` and
        ``l0`` and on every method (the MIQP takes it as its big-M values).
    method : {"auto", "bnb", "oa", "mip"}, default "auto"
        What is solved (see above). "auto": the branch and bound, or the outer approximation
        when ``groups`` / ``max_correlation`` are given, unless ``solver`` names a general
        solver, ``solver_options`` holds raw options, or ``formulation`` / ``big_m`` (options
        of the MIQP) are given (then "mip"). Both special methods need
        a ridge part (``alpha > 0``, or :math:`X_c^\top X_c` nonsingular for ``alpha = 0``) or
        a box ``M``; without one "auto" falls back to the MIQP on the same clock. With ``method="oa"``, a
        general ``solver`` (and ``backend``) names the solver of the master MILP.
    formulation : {"auto", "bigm", "sos1", "perspective"}, default "auto"
        How a coefficient is switched off: big-M rows, SOS-1 sets, or the perspective of the
        ridge term (an MISOCP). The perspective also works for ``alpha = 0``: it moves
        :math:`\delta I` out of :math:`X^\top X` (:math:`\delta = 0.95\lambda_{\min}`) into a
        perspective term. "auto" takes the perspective when :math:`\alpha + \delta` is at least
        5 % of the mean diagonal of :math:`X_c^\top X_c` (well-conditioned designs), else big-M.
    heuristic : {"auto", "dfo", "forward", "none"}, default "auto"
        Heuristic for the starting incumbent and the big-M bound: the discrete first-order
        method ("dfo"), forward selection ("forward"), the best of both with a 1-swap local
        search ("auto"), or none ("none": start from 0, whose objective still gives valid
        big-M values). Its time counts against ``time_limit`` (one clock for the fit).
    warm_start : deprecated
        The old name of ``heuristic`` (True meant "auto", False "none"); accepted for one
        release with a ``FutureWarning``.
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
        Solver settings; ``solver`` may name a special solver (``"l0-bnb"``,
        ``"best-subset-oa"``) or a general one for the MIQP, which needs SCIP
        (``pip install pyscipopt``) or a commercial solver. ``time_limit`` bounds the solver; on expiry the incumbent is kept, with
        ``result_.status == "time_limit"`` and its ``result_.gap``.

    Attributes
    ----------
    coef_, intercept_ : the fitted model.
    support_ : ndarray of bool, the selected features.
    objective_ : float, :math:`\mathrm{RSS} + \alpha\|\beta\|^2` at the solution.
    bound_, gap_ : float, deprecated: ``result_.bound`` and ``result_.gap`` (a
        ``FutureWarning``). ``objective_`` can lie below ``result_.objective`` when the fit
        kept a better point than the solver's (the polished support, or the heuristic's
        point after a time limit); the certified bound holds for both.
    bigm_ : ndarray, the big-M values of the MIQP; ``bigm_source_`` says where they came from
        ("ellipsoid", "heuristic" when :math:`X^\top X` is singular and ``alpha = 0``, "user";
        None and "none" when a special method answered without the MIQP).
    method_ : str, the method that answered ("bnb", "oa" or "mip").
    Objective: ``objective_`` includes :math:`\lambda_0\|\beta\|_0` in the penalised form.
    warm_start_objective_, warm_start_method_ : the heuristic's value and method.
    formulation_ : str, the MIQP's formulation (the method's name when no MIQP was built);
        ``perspective_shift_`` : float, its :math:`\delta` (or the special solver's).
    heuristic_time_ : float, seconds spent in the heuristics.
    program_, result_ : the program and its :class:`optml.Result` (status, bound, gap).
    """

    _mip = True

    def __init__(
        self,
        k=None,
        *,
        alpha=0.0,
        l0=None,
        M=None,
        method="auto",
        formulation="auto",
        heuristic="auto",
        warm_start=_DEPRECATED,
        fit_intercept=True,
        positive=False,
        coef_bounds=None,
        groups=None,
        max_correlation=None,
        big_m=None,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.k = k
        self.alpha = alpha
        self.l0 = l0
        self.M = M
        self.method = method
        self.formulation = formulation
        self.heuristic = heuristic
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
        if self.k is not None and self.l0 is not None:
            raise ValueError(
                f"BestSubsetRegression takes either k (at most k features: k={self.k!r}) or l0 "
                f"(a penalty per feature: l0={self.l0!r}), not both; pass k=None for the "
                "penalised form or l0=None for the cardinality form"
            )
        if self.k is not None:
            check_k(self.k)
        if self.l0 is not None:
            check_nonneg("l0", self.l0)
            if not np.isfinite(float(self.l0)):
                raise ValueError(f"l0 must be a finite number >= 0, got {self.l0!r}")
        if self.M is not None:
            M = np.asarray(self.M, dtype=float)
            if M.ndim > 1 or not np.all(M > 0):
                raise ValueError(
                    f"M (the box |coef_j| <= M) must be a positive number or a 1-d array of "
                    f"positive numbers (np.inf: no box), got {self.M!r}"
                )
        check_nonneg("alpha", self.alpha)
        check_choice("method", self.method, _METHODS)
        check_bool("fit_intercept", self.fit_intercept)
        check_bool("positive", self.positive)
        if self.formulation not in ("auto",) + FORMULATIONS:
            raise ValueError(
                f"formulation must be 'auto' or one of {FORMULATIONS}, got {self.formulation!r}"
            )
        check_choice("heuristic", self.heuristic, _HEURISTICS)
        self._heuristic()
        if self.max_correlation is not None:
            check_fraction("max_correlation", self.max_correlation)

    def _heuristic(self) -> str:
        """``heuristic``, or the deprecated ``warm_start`` when given (with a FutureWarning)."""
        ws = self.warm_start
        if isinstance(ws, str) and ws == _DEPRECATED:
            return self.heuristic
        if not (isinstance(ws, bool) or ws in _HEURISTICS):
            raise ValueError(
                f"warm_start must be one of {_HEURISTICS} (or True = 'auto', False = 'none'), "
                f"got {ws!r}; it is deprecated: use heuristic="
            )
        how = {True: "auto", False: "none"}.get(ws, ws)
        warnings.warn(
            f"BestSubsetRegression(warm_start={ws!r}) is deprecated and will be removed in the "
            f"next release: use heuristic={how!r} (warm_start will mean starting values)",
            FutureWarning,
            stacklevel=3,
        )
        return how

    def _k(self, p: int) -> int:
        """``k`` (10 when neither ``k`` nor ``l0`` is given; ``p`` in the penalised form), or
        ``p`` with a UserWarning when the data have fewer features."""
        if self.l0 is not None:
            return p
        k = check_k(10 if self.k is None else self.k)
        if k > p:
            warnings.warn(
                f"k={k} is greater than n_features={p}: every feature may enter the model "
                f"(k = {p})",
                UserWarning,
                stacklevel=3,
            )
            return p
        return k

    @property
    def bound_(self) -> float:
        """Deprecated: ``result_.bound``."""
        warnings.warn(
            "BestSubsetRegression.bound_ is deprecated and will be removed in the next release: "
            "use result_.bound",
            FutureWarning,
            stacklevel=2,
        )
        return self.result_.bound

    @property
    def gap_(self) -> float:
        """Deprecated: ``result_.gap``."""
        warnings.warn(
            "BestSubsetRegression.gap_ is deprecated and will be removed in the next release: "
            "use result_.gap",
            FutureWarning,
            stacklevel=2,
        )
        return self.result_.gap

    def _setup(self, X, y, previous=None, settings=None):
        n, p = X.shape
        k = self._k(p)
        deadline = None if settings is None else settings.deadline
        if 8.0 * p * p > _reg.gram_lazy_budget():  # the Gram matrix is not formed: products
            gram = _reg.lazy_gram_data(X, y, self.fit_intercept)
        else:
            gram = gram_data(X, y, self.fit_intercept, deadline=deadline)
        lo, hi = coef_bounds(p, self.positive, self.coef_bounds)
        if np.any(lo > 0) or np.any(hi < 0):
            raise ValueError("coef_bounds must allow 0 for every coefficient in best subset")
        if self.M is not None:
            Mb = np.asarray(self.M, dtype=float)
            if Mb.ndim == 1 and Mb.size != p:
                raise ValueError(f"M has {Mb.size} entries; the data have {p} features")
            Mb = np.broadcast_to(Mb, (p,))
            lo, hi = np.maximum(lo, -Mb), np.minimum(hi, Mb)
        l0 = 0.0 if self.l0 is None else float(self.l0)
        groups = _check_groups(self.groups, p)
        pairs = correlated_pairs(gram.G, self.max_correlation) if self.max_correlation else []
        t0 = time.perf_counter()
        heur = SubsetProblem(gram, k, self.alpha, lo, hi, groups, pairs)
        how = self._heuristic()
        from optml.algorithms.l0_bnb import blas_threads

        with blas_threads(None if settings is None else settings.threads):
            beta0, f0, how = self._incumbent(heur, how, l0, settings, previous, lo, hi)
        heur_time = time.perf_counter() - t0
        M = None
        if self.big_m is not None:
            M = np.broadcast_to(np.asarray(self.big_m, float), (p,)).copy()
            if np.any(~(M > 0)):
                raise ValueError(f"big_m must be positive, got {self.big_m!r}")
        problem = BestSubsetProblem(
            gram,
            k,
            alpha=float(self.alpha),
            lb=lo,
            ub=hi,
            groups=groups,
            exclusive_pairs=pairs,
            formulation=self.formulation,
            M=M,
            start=beta0,
            l0=l0,
        )
        # the special methods need a ridge part (or a box): without one, "auto"
        # goes straight to the MIQP (its build is then checked against the clock, below)
        void = float(self.alpha) == 0 and p >= n - int(bool(self.fit_intercept))
        void = void and not (np.isfinite(lo).all() and np.isfinite(hi).all())  # a box M
        method = self._method(bool(groups or pairs))
        if void and self.method == "auto" and method in ("bnb", "oa") and self.solver is None:
            method = "mip"
        ctx = {
            "gram": gram,
            "problem": heur,
            "structured": problem,
            "method": method,
            "f0": f0,
            "how": how,
            "heur": heur_time,
        }
        return problem, ctx

    @staticmethod
    def _incumbent(heur, how, l0, settings, previous, lo, hi):
        """The heuristics' point ``(beta, value, method)`` (the penalised value when
        ``l0 > 0``); ``previous``: a point from the previous fit of a path."""
        p = heur.p

        def value(b):
            return heur.objective(b) + l0 * int(np.count_nonzero(b))

        if how == "none":
            beta0, f0, how = np.zeros(p), value(np.zeros(p)), "zero"
        elif l0 > 0:
            from optml.algorithms.best_subset_l0 import l0_heuristic

            deadline = None if settings is None else settings.deadline
            beta0, f0, how = l0_heuristic(heur, l0, deadline=deadline, start=previous)
        else:
            beta0, f0, how = heur.warm_start(how, settings=settings)
        if previous is not None:  # a feasible point from the previous fit of a path
            previous = np.clip(previous, lo, hi)
            fp = value(previous)
            if fp < f0 and heur.feasible(np.flatnonzero(previous)):
                beta0, f0, how = previous, fp, "previous"
        return beta0, f0, how

    def _method(self, constrained: bool) -> str:
        """The method to run: ``method``, or the choice of "auto" (see the class docstring)."""
        from optml.backends.registry import is_special

        penalised = self.l0 is not None
        if penalised and (self.method == "oa" or self.solver == "best-subset-oa"):
            raise ValueError(
                "the outer approximation (method='oa', solver='best-subset-oa') takes the "
                "cardinality form only; the penalised form (l0=) is solved by method='bnb' or "
                "method='mip'"
            )
        if self.method != "auto":
            return self.method
        if penalised and constrained and self.solver is None:
            return "mip"  # groups / pairs: the branch and bound takes none
        if self.solver is not None:
            for m, name in _METHOD_SOLVER.items():
                if self.solver == name:
                    return m
            if not is_special(self.solver):
                return "mip"
        if self.backend not in ("auto", "optml"):
            return "mip"
        if self.formulation != "auto" or self.big_m is not None:
            return "mip"  # options of the MIQP: the user asked for it
        opts = {k for k in (self.solver_options or {}) if k not in ("threads", "seed")}
        if opts:
            return "mip"  # raw options belong to a general solver
        return "oa" if constrained else "bnb"

    def build_problem(self, X, y) -> BestSubsetProblem:
        """The :class:`~optml.formulations.subset.BestSubsetProblem` that ``fit(X, y)`` solves
        (heuristic incumbent included): ``optml.solve.solve(problem, solver=...)`` runs any
        of ``"l0-bnb"``, ``"best-subset-oa"`` or a general solver on its MIQP."""
        from sklearn.utils.validation import check_X_y

        self._check_params()
        X, y = check_X_y(X, y, y_numeric=True, dtype=np.float64)
        return self._setup(X, np.asarray(y, float).ravel())[0]

    def _build(self, X, y, settings=None):
        problem, ctx = self._setup(X, y, settings=settings)
        return problem.program, ctx

    def fit(self, X, y, *, _previous=None):
        """Fit: the heuristics, then the chosen method from their point, on one clock
        (``time_limit`` covers both); sets ``coef_``, ``support_``, ``problem_``,
        ``result_``."""
        self._check_params()
        self._check_common_params()
        X, y = self._validate_fit(X, y)
        settings = self._settings(mip=True).started()
        try:
            problem, ctx = self._setup(X, y, previous=_previous, settings=settings)
        except GramTimeLimit as exc:
            return self._unfinished_gram(X, y, str(exc))
        method = ctx["method"]
        left = settings.remaining()
        if method == "mip" and left is not None and left < _miqp_build_seconds(problem):
            # building the MIQP (factor, big-M, the solver's model) reads no clock and would
            # take longer than the time left: the heuristic's point, certified (time_limit)
            res = self.result_ = _heuristic_result(problem, left)
        elif method == "mip":
            from optml.algorithms.l0_bnb import blas_threads

            with blas_threads(settings.threads):  # the factor's eigh, the big-M's Cholesky
                prog = problem.program
            try:
                res = self._solve(
                    problem, warm_start=problem.start_values(), mip=True, settings=settings
                )
            except SolveError:
                # the time left after the heuristics was too short for the solver to return a
                # point: the heuristic's point, certified by the same factory (time_limit)
                failed = getattr(self, "result_", None)
                if failed is None or failed.status != "time_limit" or failed.has_solution:
                    raise
                res = self.result_ = _start_result(prog, problem.start_values(), failed)
        else:
            special = _METHOD_SOLVER[method]
            backend, solver = "auto", special
            if method == "oa" and self.solver is not None and self.solver != special:
                problem.sub_backend, problem.sub_solver = self.backend, self.solver
            elif self.solver is not None and self.solver != special:
                raise ValueError(
                    f"method={method!r} runs {special!r}; solver={self.solver!r} names another "
                    "solver (use method='mip' for a general solver)"
                )
            if self.method == "auto":
                # the kind's default under solver=None: a method that does not apply gives up
                # and the solve path runs the MIQP on the same clock
                problem.default_solver = special
                solver = None
                backend = "auto"
            res = self._solve(problem, mip=True, settings=settings, backend=backend, solver=solver)
        self._unpack(res, ctx)
        return self

    def _unfinished_gram(self, X, y, why):
        """The time limit passed while forming X'X (large p): the empty model (intercept
        only), certified by the factory with the only bound known, 0 (status time_limit)."""
        p = X.shape[1]
        yc = y - y.mean() if self.fit_intercept else y
        zero = np.zeros(p)
        self.result_ = make_result(
            status="time_limit",
            sense=1,
            values={"coef": zero, "support": zero.copy()},
            objective_check=float(yc @ yc),
            max_violation=0.0,
            bound=0.0,
            solver="none",
            backend="none",
            problem_class="MIQP",
            message=f"time limit: {why}; the empty model, not searched",
        )
        self.coef_ = zero
        self.support_ = zero != 0
        self.intercept_ = float(y.mean()) if self.fit_intercept else 0.0
        self.objective_ = float(yc @ yc)
        self.method_ = "none"
        self.bigm_, self.bigm_source_ = None, "none"
        self.warm_start_objective_, self.warm_start_method_ = float(yc @ yc), "none"
        self.heuristic_time_ = 0.0
        self.perspective_shift_, self.formulation_ = 0.0, "none"
        return self

    def _unpack(self, res, ctx):
        gram = ctx["gram"]
        prob = ctx["problem"]
        problem = ctx["structured"]
        beta = np.asarray(res.values["coef"], float).copy()
        s = np.asarray(res.values["support"], float) > 0.5
        beta[~s] = 0.0  # exact zeros off the support (solver round-off)
        # polish: the solver fixes the support; the coefficients on it are a (bounded) least
        # squares problem, solved here by linear algebra to full precision
        l0 = float(problem.l0)

        def value(b):
            return prob.objective(b) + l0 * int(np.count_nonzero(b))

        polished, _ = prob.fit_support(prob.closure(np.flatnonzero(s)))
        if value(polished) <= value(beta):
            beta = polished
        # a solver stopped by its time limit may hold a worse incumbent than the warm start
        # (not every path hands the warm start to the solver): keep the better feasible point
        beta0 = problem.start
        if value(beta0) < value(beta):
            beta = np.asarray(beta0, float).copy()
        self.coef_ = beta
        self.support_ = beta != 0
        self.intercept_ = gram.intercept(beta) if self.fit_intercept else 0.0
        # the program's units (RSS + alpha ||beta||^2): at most result_.objective
        self.objective_ = gram.rss(beta) + float(self.alpha) * float(beta @ beta)
        self.objective_ += float(problem.l0) * int(np.count_nonzero(beta))
        built = "_program" in problem.__dict__
        self.method_ = (
            "mip" if res.backend != "optml" else ("oa" if res.solver == "best-subset-oa" else "bnb")
        )
        self.bigm_ = problem.M if built else None
        self.bigm_source_ = (problem.bigm_source or "user") if built else "none"
        self.warm_start_objective_ = ctx["f0"]
        self.warm_start_method_ = ctx["how"]
        self.heuristic_time_ = ctx["heur"]
        if built:
            self.perspective_shift_ = float(problem.shift or 0.0)
            self.formulation_ = problem.formulation
        else:
            self.perspective_shift_ = float(res.stats.get("delta", 0.0))
            self.formulation_ = self.method_


def _miqp_build_seconds(problem) -> float:
    r"""A rough estimate of the seconds that building the MIQP takes before the solver reads
    its clock (the square-root factor of :math:`X_c^\top X_c`, the big-M values, the
    backend's and the solver's models, all growing with the factor's nonzeros
    :math:`p \cdot \min(p, n)`): nonzeros / 1.5e4. Measured on a loaded 2-core machine
    (load average 11): 9-13 s at p = 500, n = 1000 (rule: 16.7 s) and 20-25 s at p = 800,
    n = 600 (rule: 32 s); under 1 s at p = 100 (rule: 0.67 s). Where it fires, the fit returns
    the heuristic's point with status ``time_limit`` and says why."""
    p, n = problem.p, problem.gram.n
    return p * min(p, n) / 1.5e4


def _heuristic_result(problem, left):
    """The certified result of the heuristic's point when the MIQP was not started."""
    values = (
        problem.start_values() if "_program" in problem.__dict__ else problem.values(problem.start)
    )
    obj, viol = problem.evaluate(values)
    return make_result(
        status="time_limit",
        sense=1,
        values={k: np.asarray(v, float) for k, v in values.items()},
        objective_check=obj,
        max_violation=viol,
        bound=0.0,  # a sum of squares (plus penalties): nothing more is proven
        solver="none",
        backend="none",
        problem_class=problem.problem_class if "_program" in problem.__dict__ else "MIQP",
        message=(
            f"time limit: {left:.2f} s left after the heuristics, less than building the MIQP "
            f"likely takes (about {_miqp_build_seconds(problem):.2f} s for p = {problem.p}); "
            "the heuristic's point, not started"
        ),
    )


def _start_result(prog, start, failed):
    """The certified result of the starting point ``start`` (values of every variable of
    ``prog``) when the solver stopped at its time limit without a point of its own; the
    solver's bound, if it proved one, still holds."""
    obj, viol = prog.evaluate(start)
    return make_result(
        status="time_limit",
        sense=1,
        values={k: np.asarray(v, float) for k, v in start.items()},
        objective_check=obj,
        max_violation=viol,
        bound=failed.bound if np.isfinite(failed.bound) else None,
        solver=failed.solver,
        backend=failed.backend,
        problem_class=failed.problem_class,
        build_time=failed.build_time,
        solve_time=failed.solve_time,
        message=(
            f"{failed.message}; the solver returned no point in the time left after the "
            "heuristics: the heuristic's point"
        ).lstrip("; "),
    )


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


def best_subset_path(X, y, k_max=None, *, l0=None, progress=None, **params):
    """Fit :class:`BestSubsetRegression` along a path, each fit warm-started from the last.

    * over ``k = 1 .. k_max`` (the default): the solution for ``k - 1`` is feasible for ``k``,
      so it is a warm start and an upper bound (hence a big-M) for the next fit;
    * over the L0 penalty, ``l0=[...]`` (the penalised form; ``k_max`` must then be None):
      the values in decreasing order, each fit starting its heuristic (forward-backward
      selection) from the previous solution, which is also its first incumbent.

    ``progress``: a tqdm bar (None: only on an interactive terminal; True: always; False:
    never); other keywords go to :class:`BestSubsetRegression`.

    Returns
    -------
    dict with ``k`` (array: the k of each fit, or the number of nonzeros on an l0 path),
    ``l0`` (the penalties, on an l0 path), ``coefs`` (fits, p), ``intercepts``,
    ``objectives``, ``gaps``, ``statuses``, ``times`` and ``models`` (the fitted estimators).
    """
    from sklearn.utils.validation import check_X_y

    X, y = check_X_y(X, y, y_numeric=True, dtype=np.float64)
    p = X.shape[1]
    if "k" in params:
        raise TypeError("best_subset_path takes k_max (or l0=[...]), not k")
    if l0 is not None:
        if k_max is not None:
            raise ValueError(
                "best_subset_path: pass k_max (a path over k) or l0 (a path over the penalty), "
                "not both"
            )
        grid = np.atleast_1d(np.asarray(l0, dtype=float))
        if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid) & (grid >= 0)):
            raise ValueError(f"l0 must be a non-empty list of finite numbers >= 0, got {l0!r}")
        steps = [dict(k=None, l0=float(v)) for v in np.sort(grid)[::-1]]
    else:
        k_max = p if k_max is None else check_k(k_max, p, "k_max")
        steps = [dict(k=k) for k in range(1, k_max + 1)]
    out = {
        "k": [],
        "coefs": [],
        "intercepts": [],
        "objectives": [],
        "gaps": [],
        "statuses": [],
        "times": [],
        "models": [],
    }
    from optml._progress import progress_bar

    prev = None
    bar = progress_bar(steps, desc="best_subset_path", progress=progress)
    for step in bar:
        label = f"k={step['k']}" if l0 is None else f"l0={step['l0']:.4g}"
        bar.set_postfix_str(label, refresh=False)
        t0 = time.perf_counter()
        m = BestSubsetRegression(**step, **params).fit(X, y, _previous=prev)
        out["times"].append(time.perf_counter() - t0)
        prev = m.coef_
        out["k"].append(step["k"] if l0 is None else int(np.count_nonzero(m.coef_)))
        out["coefs"].append(m.coef_)
        out["intercepts"].append(m.intercept_)
        out["objectives"].append(m.objective_)
        out["gaps"].append(m.result_.gap)
        out["statuses"].append(m.result_.status)
        out["models"].append(m)
    bar.close()
    for key in ("k", "coefs", "intercepts", "objectives", "gaps", "times"):
        out[key] = np.asarray(out[key])
    if l0 is not None:
        out["l0"] = np.asarray([st["l0"] for st in steps])
    return out
