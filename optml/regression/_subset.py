r"""Certified best subset selection (Bertsimas, King and Mazumder 2016) and its path over k."""

from __future__ import annotations

import numbers
import time
import warnings

import numpy as np

from optml._validation import check_bool, check_choice, check_fraction, check_nonneg
from optml.exceptions import SolveError
from optml.formulations.regression import coef_bounds, gram_data
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

    (Bertsimas, King and Mazumder 2016). The program is built in the n-independent factor
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
    k : int, default 10
        Largest number of nonzero coefficients, ``k >= 0``. On data with fewer features a
        ``UserWarning`` says so and every feature may enter (as scikit-learn's
        ``SelectKBest`` does).
    alpha : float, default 0.0
        Ridge weight (>= 0).
    method : {"auto", "bnb", "oa", "mip"}, default "auto"
        What is solved (see above). "auto": the branch and bound, or the outer approximation
        when ``groups`` / ``max_correlation`` are given, unless ``solver`` names a general
        solver, ``solver_options`` holds raw options, or ``formulation`` / ``big_m`` (options
        of the MIQP) are given (then "mip"). Both special methods need
        a ridge part (``alpha > 0``, or :math:`X_c^\top X_c` nonsingular for ``alpha = 0``);
        without one "auto" falls back to the MIQP on the same clock. With ``method="oa"``, a
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
    warm_start_objective_, warm_start_method_ : the heuristic's value and method.
    formulation_ : str, the MIQP's formulation (the method's name when no MIQP was built);
        ``perspective_shift_`` : float, its :math:`\delta` (or the special solver's).
    heuristic_time_ : float, seconds spent in the heuristics.
    program_, result_ : the program and its :class:`optml.Result` (status, bound, gap).
    """

    _mip = True

    def __init__(
        self,
        k=10,
        *,
        alpha=0.0,
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
        check_k(self.k)
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
        """``k``, or ``p`` with a UserWarning when the data have fewer features."""
        k = check_k(self.k)
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
        gram = gram_data(X, y, self.fit_intercept)
        lo, hi = coef_bounds(p, self.positive, self.coef_bounds)
        if np.any(lo > 0) or np.any(hi < 0):
            raise ValueError("coef_bounds must allow 0 for every coefficient in best subset")
        groups = _check_groups(self.groups, p)
        pairs = correlated_pairs(gram.G, self.max_correlation) if self.max_correlation else []
        t0 = time.perf_counter()
        heur = SubsetProblem(gram, k, self.alpha, lo, hi, groups, pairs)
        how = self._heuristic()
        if how == "none":
            beta0, f0, how = np.zeros(p), heur.objective(np.zeros(p)), "zero"
        else:
            beta0, f0, how = heur.warm_start(how, settings=settings)
        if previous is not None:  # a feasible point from a smaller k (path)
            fp = heur.objective(previous)
            if fp < f0 and heur.feasible(np.flatnonzero(previous)):
                beta0, f0, how = previous, fp, "previous"
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
        )
        method = self._method(bool(groups or pairs))
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

    def _method(self, constrained: bool) -> str:
        """The method to run: ``method``, or the choice of "auto" (see the class docstring)."""
        from optml.backends.registry import is_special

        if self.method != "auto":
            return self.method
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
        problem, ctx = self._setup(X, y, previous=_previous, settings=settings)
        method = ctx["method"]
        if method == "mip":
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

    def _unpack(self, res, ctx):
        gram = ctx["gram"]
        prob = ctx["problem"]
        problem = ctx["structured"]
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
        beta0 = problem.start
        if prob.objective(beta0) < prob.objective(beta):
            beta = np.asarray(beta0, float).copy()
        self.coef_ = beta
        self.support_ = beta != 0
        self.intercept_ = gram.intercept(beta) if self.fit_intercept else 0.0
        # the program's units (RSS + alpha ||beta||^2): at most result_.objective
        self.objective_ = gram.rss(beta) + float(self.alpha) * float(beta @ beta)
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


def best_subset_path(X, y, k_max=None, *, progress=None, **params):
    """Fit :class:`BestSubsetRegression` for ``k = 1 .. k_max``, each warm-started from the last.

    The solution for ``k - 1`` is feasible for ``k``, so it is a warm start and an upper
    bound (hence a big-M) for the next fit. ``progress``: a tqdm bar over ``k`` (None: only on
    an interactive terminal; True: always; False: never); other keywords go to
    :class:`BestSubsetRegression`.

    Returns
    -------
    dict with ``k`` (array), ``coefs`` (k_max, p), ``intercepts``, ``objectives``, ``gaps``,
    ``statuses``, ``times`` and ``models`` (the fitted estimators).
    """
    from sklearn.utils.validation import check_X_y

    X, y = check_X_y(X, y, y_numeric=True, dtype=np.float64)
    p = X.shape[1]
    k_max = p if k_max is None else check_k(k_max, p, "k_max")
    out = {
        "k": np.arange(1, k_max + 1),
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
    bar = progress_bar(range(1, k_max + 1), desc="best_subset_path", progress=progress)
    for k in bar:
        bar.set_postfix_str(f"k={k}", refresh=False)
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
    bar.close()
    for key in ("coefs", "intercepts", "objectives", "gaps", "times"):
        out[key] = np.asarray(out[key])
    return out
