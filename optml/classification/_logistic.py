r"""Logistic regression (scikit-learn's parameterisation) and cardinality-constrained logistic
regression, as certified programs.

The programs and structured problems are in :mod:`optml.formulations.logistic`; the smooth
solver and its duality-gap certificate in :mod:`optml.algorithms.newton` (special solver
``"newton"``).
"""

from __future__ import annotations

import itertools
import numbers
import time

import numpy as np
from scipy.special import expit

from optml._data_checks import SOLVER_MAX, CheckedClassifierData
from optml._validation import check_choice, check_int, check_positive
from optml.algorithms import newton as _smooth
from optml.backends.registry import is_special
from optml.classification._linear_base import (
    BinaryFit,
    FeatureBudgetMixin,
    LinearProgramClassifier,
)
from optml.formulations.logistic import (
    LogisticProblem,
    MultinomialLogisticProblem,
    SparseLogisticProblem,
    logistic_regression,
    multinomial_logistic_regression,
    sparse_logistic_regression,
)

_PENALTIES = ("l2", "l1", None)


class _ProbaMixin(CheckedClassifierData):
    def predict_proba(self, X):
        """Class probabilities: the logistic of the decision function (binary), its softmax
        (multinomial) or the normalised logistics (one-vs-rest)."""
        d = self.decision_function(X)
        if self.classes_.size == 2:
            p1 = expit(d)
            return np.column_stack([1.0 - p1, p1])
        if getattr(self, "_multinomial", False):
            from scipy.special import softmax

            return softmax(d, axis=1)
        P = expit(d)
        return P / P.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def _set_multinomial(self, W, b, program, res):
        """The fitted state of a multinomial fit (one program for all classes)."""
        self._multinomial = True
        self.coef_ = np.asarray(W, dtype=float).reshape(self.classes_.size, -1)
        self.intercept_ = np.asarray(b, dtype=float).ravel()
        self.program_ = program
        self.result_ = res
        self.results_ = [res]
        self._fits = [BinaryFit(self.coef_, 0.0, program, res)]


class LogisticRegression(_ProbaMixin, LinearProgramClassifier):
    r"""Logistic regression with scikit-learn's objective, solved as a certified program.

    .. math:: \min_{w,b}\ C\sum_i \log\left(1 + e^{-s_i(x_i^\top w + b)}\right) + R(w),\qquad
        R = \tfrac12\|w\|_2^2\ (\text{"l2"}),\ \|w\|_1\ (\text{"l1"}),\ 0\ (\text{None}),

    the same as ``sklearn.linear_model.LogisticRegression(C=C)`` (intercept unpenalised), so the
    coefficients agree. Three or more classes are fitted as one multinomial (softmax) model,
    as scikit-learn 1.9 does (it has no ``multi_class`` any more; wrap the estimator in
    ``sklearn.multiclass.OneVsRestClassifier`` for one-vs-rest):

    .. math:: \min_{W,b}\ C\sum_i \Big(\log\sum_k e^{x_i^\top w_k + b_k} - x_i^\top w_{y_i}
        - b_{y_i}\Big) + R(W),

    the exponential-cone program
    :func:`~optml.formulations.logistic.multinomial_logistic_regression` (a chain of
    ``logistic`` atoms), or :class:`~optml.formulations.logistic.MultinomialLogisticProblem`
    for the ``"newton"`` solver (certified by the softmax duality gap). ``coef_`` is (K, p)
    and ``intercept_`` (K,), centred over the classes as scikit-learn's are (the objective is
    unchanged by a common shift of the intercepts).

    Parameters
    ----------
    C : float, default 1.0
    penalty : {"l2", "l1", None}, default "l2"
    method : {"auto", "smooth", "conic"}, default "auto"
        ``"conic"``: the exponential-cone program (``program_``) to a conic solver
        (Clarabel / SCS through cvxpy), certified by optml's Lagrangian bound. ``"smooth"``:
        optml's special solver ``"newton"`` -- Newton's method (L2 / none) or L-BFGS-B on the
        split form (L1) on the same objective, certified by a duality gap (see
        :mod:`optml.algorithms.newton`); a named general ``solver`` still gets the program.
        ``"auto"`` is ``"smooth"`` unless a backend or a general solver is named.
    tol : float, default 1e-10
        Gradient tolerance of the smooth path.
    max_iter : int, default 100
        Newton iterations (L-BFGS-B gets 150 times as many).
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters (see :class:`optml._base.ProgramEstimator`).

    Attributes
    ----------
    classes_, coef_, intercept_, program_ (the exponential-cone program, formed on first
    access after a smooth fit), problem_ (the :class:`~optml.formulations.logistic.LogisticProblem`
    of a smooth fit), result_
        ``result_.bound`` is the certified dual bound, ``result_.kkt_residual`` the largest
        gradient entry (smooth path).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from optml.classification import LogisticRegression
    >>> X, y = make_classification(200, 4, random_state=0)
    >>> clf = LogisticRegression(C=1.0).fit(X, y)
    >>> clf.result_.status, clf.result_.gap < 1e-8
    ('optimal', True)
    """

    def __init__(
        self,
        C=1.0,
        *,
        penalty="l2",
        method="auto",
        tol=1e-10,
        max_iter=100,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.C = C
        self.penalty = penalty
        self.method = method
        self.tol = tol
        self.max_iter = max_iter
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check_params(self):
        super()._check_params()
        check_positive("C", self.C)
        check_positive("tol", self.tol)
        check_choice("penalty", self.penalty, _PENALTIES)
        check_choice("method", self.method, ("auto", "smooth", "conic"))
        check_int("max_iter", self.max_iter, minimum=1)

    def _problem(self, X, s):
        return LogisticProblem(
            X,
            s,
            C=float(self.C),
            penalty=self.penalty,
            tol=float(self.tol),
            max_iter=int(self.max_iter),
        )

    def _build_binary(self, X, s):
        return logistic_regression(X, s, C=float(self.C), penalty=self.penalty)

    def _method(self):
        if self.method != "auto":
            return self.method
        from optml.backends.registry import is_special

        general = self.backend != "auto" or (
            self.solver is not None and not is_special(self.solver)
        )
        return "conic" if general else "smooth"

    def _solve_routed(self, problem):
        """``(result, what was solved)``: the program on a general solver (``"conic"``), or
        the structured problem on the smooth special solver."""
        if self._method() == "conic":
            return self._solve_checked(problem.program), problem.program
        return self._solve(problem), problem

    def _fit_binary(self, X, s):
        res, target = self._solve_routed(self._problem(X, s))
        n_iter = int(res.stats.get("iterations", 1))
        return BinaryFit(
            res.values["w"].ravel(), float(res.values["b"]), target, res, {"n_iter": n_iter}
        )

    # ------------------------------------------------------------------ multinomial
    def _multi_problem(self, X, yi, K):
        return MultinomialLogisticProblem(
            X,
            yi,
            K,
            C=float(self.C),
            penalty=self.penalty,
            tol=float(self.tol),
            max_iter=int(self.max_iter),
        )

    def build_program(self, X, y):
        """The Program ``fit`` solves: the binary EXP program for two classes, the
        multinomial one (variables ``W`` (K, p), ``b`` (K,), ``r``) for three or more."""
        self._check_params()
        X, classes, yi = self._validate_xy(
            X, y, reset=False if hasattr(self, "n_features_in_") else True
        )
        if classes.size == 2:
            return super().build_program(X, y)
        return multinomial_logistic_regression(
            X, yi, classes.size, C=float(self.C), penalty=self.penalty
        )

    def _set_multinomial(self, W, b, program, res, n_iter=1):
        super()._set_multinomial(W, b, program, res)
        self.n_iter_ = np.array([max(1, int(n_iter))])

    def fit_program(self, program, X, y):
        """As :meth:`LinearProgramClassifier.fit_program`; for three or more classes the
        program is the multinomial one of :meth:`build_program` (variables ``W``, ``b``)."""
        self._check_params()
        Xv, classes, yi = self._validate_xy(X, y)
        if classes.size == 2:
            self._multinomial = False
            return super().fit_program(program, X, y)
        from optml.program.model import Program

        if not isinstance(program, Program):
            raise TypeError(
                f"fit_program takes the optml.Program of build_program(X, y), got "
                f"{type(program).__name__}"
            )
        W = program.variables.get("W")
        if W is None or W.shape != (classes.size, Xv.shape[1]) or "b" not in program.variables:
            raise ValueError(
                f"LogisticRegression.fit_program with {classes.size} classes needs the "
                f"multinomial program of build_program(X, y): variables 'W' of shape "
                f"({classes.size}, {Xv.shape[1]}) and 'b'"
            )
        res = self._solve_checked(program, mip=program.canonical().is_mip)
        self.classes_ = classes
        self._set_multinomial(res.values["W"], res.values["b"], program, res)
        return self

    def fit(self, X, y):
        self._check_params()
        Xv, classes, yi = self._validate_xy(X, y)
        if classes.size == 2:
            self._multinomial = False
            super().fit(X, y)
            self.n_iter_ = np.array([max(1, int(f.extra["n_iter"])) for f in self._fits])
            return self
        self.classes_ = classes
        problem = self._multi_problem(Xv, yi, classes.size)
        res, target = self._solve_routed(problem)
        if target is problem and res.values:  # the chain variables r too, so that
            res.values = problem.complete_values(dict(res.values))  # program_.evaluate checks
        self._set_multinomial(
            res.values["W"], res.values["b"], target, res, res.stats.get("iterations", 1)
        )
        return self


class SparseLogisticRegression(FeatureBudgetMixin, _ProbaMixin, LinearProgramClassifier):
    r"""Logistic regression with at most ``k`` nonzero coefficients, certified.

    .. math:: \min_{w,b}\ C\sum_i \ell(s_i(x_i^\top w + b)) + R(w)\quad\text{s.t.}\quad
        \|w\|_0 \le k.

    ``formulation="outer"`` (default): the tangent-line MILP of Sato et al. (2016), solved by
    HiGHS, inside a cutting-plane loop (Kelley 1960): each round's MILP optimum is a lower
    bound; the support it picks is refitted exactly (Newton / L-BFGS-B) for an upper bound;
    tangents at the new margins are added until the gap is at most ``mip_gap`` (default 1e-4)
    or ``max_rounds`` is reached. ``formulation="exp-cone"``: the exact mixed-integer
    exponential-cone program, which needs a MIEXP solver (none is installed with optml; MOSEK
    can, through cvxpy).

    Parameters
    ----------
    k : int, default 5
    C : float, default 1.0
    penalty : {"l2", "l1", None}, default "l2"
        With ``None``, separable subsets make the loss unbounded below: prefer a penalty.
    formulation : {"outer", "exp-cone"}, default "outer"
    multi_class : {"ovr", "multinomial"}, default "ovr"
        Three or more classes: ``"ovr"`` fits one sparse binary model per class (each with
        its own ``k`` features); ``"multinomial"`` fits one softmax model whose ``k`` features
        are shared by all classes (a group cardinality constraint,
        :func:`~optml.formulations.logistic.sparse_multinomial_logistic_regression`, solved by
        the special solver ``"sparse-multinomial-oa"``; ``formulation="exp-cone"`` sends its
        exact MIEXP to a general solver).
    max_rounds : int, default 50
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters.

    Attributes
    ----------
    coef_, intercept_, support_ (indices of the selected features per binary problem),
    program_ (the exact MIEXP program; the outer-approximation MILPs solved are relaxations of
    it), result_ (objective = exact objective of the returned fit, bound = the MILP's lower
    bound, gap), n_rounds_.
    """

    _scale_limit = SOLVER_MAX  # MILP rounds: coefficients a solver takes

    def __init__(
        self,
        k=5,
        *,
        C=1.0,
        penalty="l2",
        formulation="outer",
        multi_class="ovr",
        max_rounds=50,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.k = k
        self.C = C
        self.penalty = penalty
        self.formulation = formulation
        self.multi_class = multi_class
        self.max_rounds = max_rounds
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check_params(self):
        super()._check_params()
        check_positive("C", self.C)
        check_choice("penalty", self.penalty, _PENALTIES)
        check_choice("formulation", self.formulation, ("outer", "exp-cone"))
        check_choice("multi_class", self.multi_class, ("ovr", "multinomial"))
        self._check_k()
        if not isinstance(self.max_rounds, numbers.Integral) or self.max_rounds < 1:
            raise ValueError(f"max_rounds must be a positive integer, got {self.max_rounds!r}")

    def _oa_fields(self, mw, mb, start, upper) -> dict:
        """The outer approximation's fields of a sparse problem: big-M values, the incumbent
        ``start`` of objective ``upper``, the round limit and the solver of the MILP rounds
        (the estimator's ``backend`` / ``solver``)."""
        return {
            "mw": mw,
            "mb": mb,
            "start": start,
            "upper": upper,
            "max_rounds": int(self.max_rounds),
            "sub_backend": self.backend,
            "sub_solver": self.solver,
        }

    def _refit(self, X, s, support):
        """Exact fit restricted to ``support``: (w full, b, objective)."""
        from optml.algorithms.sparse_logistic_oa import refit

        return refit(X, s, support, float(self.C), self.penalty)

    def _bounds(self, X, s, upper):
        """Valid big-M: any fit with objective <= upper has |w_j| <= Mw and |b| <= Mb."""
        C = float(self.C)
        if self.penalty == "l2":
            mw = np.sqrt(2 * upper)
            reach = np.linalg.norm(X, axis=1).max() * mw
        elif self.penalty == "l1":
            mw = upper
            reach = np.abs(X).max() * mw
        else:
            raise ValueError(
                "penalty=None gives no bound on the coefficients (big-M); use penalty='l2' or "
                "'l1' with SparseLogisticRegression"
            )
        # C * l(u_i) <= upper  =>  u_i >= -log(exp(upper / C) - 1)
        lmax = float(np.log(np.expm1(min(upper / C, 700.0))))
        return mw * 1.0001, (lmax + reach) * 1.0001 + 1e-9

    def _build_binary(self, X, s):
        k = self._k(X.shape[1])
        upper = self._heuristic(X, s, k)[2]
        mw, mb = self._bounds(X, s, upper)
        return sparse_logistic_regression(
            X, s, k, float(self.C), self.penalty, mw, mb, formulation=self.formulation
        )

    def _heuristic(self, X, s, k):
        w, _, _ = _smooth.newton(X, s, float(self.C), "l2")
        sup = np.sort(np.argsort(-np.abs(w))[:k])
        return self._refit(X, s, sup) + (sup,)

    def _fit_binary(self, X, s):
        k = self._k(X.shape[1])
        t0 = time.perf_counter()
        C = float(self.C)
        w_best, b_best, upper, sup = self._heuristic(X, s, k)
        mw, mb = self._bounds(X, s, upper)
        if self.formulation == "exp-cone":
            prog = sparse_logistic_regression(X, s, k, C, self.penalty, mw, mb, "exp-cone")
            res = self._solve_checked(prog, mip=True)
            w, b = res.values["w"].ravel(), float(res.values["b"])
            return BinaryFit(
                w, b, prog, res, {"support": np.flatnonzero(np.abs(w) > 1e-9), "rounds": 1}
            )
        # outer approximation: the special solver "sparse-logistic-oa" on the structured
        # problem; the estimator's backend / solver name the solver of its MILP rounds
        problem = SparseLogisticProblem(
            X=X,
            s=s,
            k=k,
            C=C,
            penalty=self.penalty,
            **self._oa_fields(mw, mb, (w_best, b_best), upper),
        )
        settings = self._settings(mip=True).started(t0)
        name = self.solver if is_special(self.solver) else "sparse-logistic-oa"
        res = self._solve(problem, settings=settings, backend="auto", solver=name)
        w_best, b_best = res.values["w"].ravel(), float(np.asarray(res.values["b"]).ravel()[0])
        support = np.flatnonzero(np.abs(w_best) > 0)
        rounds = int(res.stats.get("rounds", 0))
        return BinaryFit(
            w_best, b_best, problem.program, res, {"support": support, "rounds": rounds}
        )

    # ---------------------------------------------------- multinomial, shared budget
    def _multi_bounds(self, X, upper):
        """Valid big-M of the multinomial model (intercepts centred): any fit of objective
        at most ``upper`` has |W_kj| <= Mw and |b_k| <= Mb."""
        C = float(self.C)
        if self.penalty == "l2":
            mw = np.sqrt(2 * upper)
            reach = np.linalg.norm(X, axis=1).max() * 2.0 * np.sqrt(upper)
        elif self.penalty == "l1":
            mw = upper
            reach = np.abs(X).max() * upper
        else:
            raise ValueError(
                "penalty=None gives no bound on the coefficients (big-M); use penalty='l2' or "
                "'l1' with SparseLogisticRegression"
            )
        lmax = float(np.log(np.expm1(min(upper / C, 700.0))))
        return mw * 1.0001, (max(lmax, 0.0) + reach) * 1.0001 + 1e-9

    def _multi_problem(self, X, yi, K):
        from optml.algorithms.sparse_multinomial_oa import multinomial_refit
        from optml.formulations.logistic import SparseMultinomialProblem

        k = self._k(X.shape[1])
        C = float(self.C)
        W0, _, _ = _smooth.multinomial_newton(X, yi, K, C, "l2")
        sup = np.sort(np.argsort(-np.abs(W0).sum(axis=0))[:k])
        W, b, upper = multinomial_refit(X, yi, K, sup, C, self.penalty)
        mw, mb = self._multi_bounds(X, upper)
        return SparseMultinomialProblem(
            X=X,
            yi=yi,
            n_classes=K,
            k=k,
            C=C,
            penalty=self.penalty,
            **self._oa_fields(mw, mb, (W, b), upper),
        )

    def build_program(self, X, y):
        """The program ``fit`` solves; with ``multi_class="multinomial"`` and three or more
        classes the exact MIEXP with the shared budget (variables ``W``, ``b``, ``z``, ``r``)."""
        self._check_params()
        X, classes, yi = self._validate_xy(
            X, y, reset=False if hasattr(self, "n_features_in_") else True
        )
        if classes.size == 2 or self.multi_class == "ovr":
            return super().build_program(X, y)
        return self._multi_problem(X, yi, classes.size).program

    def fit(self, X, y):
        self._check_params()
        Xv, classes, yi = self._validate_xy(X, y)
        if classes.size == 2 or self.multi_class == "ovr":
            self._multinomial = False
            super().fit(X, y)
            self.support_ = [f.extra["support"] for f in self._fits]
            self.n_rounds_ = [f.extra["rounds"] for f in self._fits]
            return self
        t0 = time.perf_counter()
        self.classes_ = classes
        problem = self._multi_problem(Xv, yi, classes.size)
        settings = self._settings(mip=True).started(t0)
        if self.formulation == "exp-cone":
            res = self._solve_checked(problem.program, mip=True, settings=settings)
            target = problem.program
            rounds = 1
        else:
            name = self.solver if is_special(self.solver) else "sparse-multinomial-oa"
            res = self._solve(problem, settings=settings, backend="auto", solver=name)
            if res.values:
                res.values = problem.complete_values(dict(res.values))
            target = problem
            rounds = int(res.stats.get("rounds", 0))
        self._set_multinomial(res.values["W"], res.values["b"], target, res)
        support = np.flatnonzero((np.abs(self.coef_) > 0).any(axis=0))
        self.support_ = [support]
        self.n_rounds_ = [rounds]
        return self


def enumerate_supports(X, s, k, C, penalty):  # used by tests and benchmarks
    """Best exact objective over all supports of size ``k`` (brute force)."""
    est = SparseLogisticRegression(k=k, C=C, penalty=penalty)
    best = np.inf
    for sup in itertools.combinations(range(X.shape[1]), k):
        best = min(best, est._refit(X, s, np.array(sup))[2])
    return best
