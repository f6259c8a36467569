r"""Linear support vector machines solved as certified programs: hard margin, soft margin, L1.

The programs are in :mod:`optml.formulations.classification`. ``SoftMarginSVM`` with the L2
penalty solves libsvm's primal

.. math:: \min_{w,b}\ \tfrac12\|w\|_2^2 + C\sum_i (1 - s_i(x_i^\top w + b))_+

either as one QP (``method="full"``, any backend) or by a certified working-set method
(``method="working_set"``): relaxed QPs in which far-away samples contribute their hinge's
linear piece (summed into one affine term) or nothing. Each relaxation is a lower bound; the
loop stops when the relaxed solution is feasible for the full objective, so the final gap is
the relaxed QP's own certified gap.
"""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from optml.classification._linear_base import (
    BinaryFit,
    LinearProgramClassifier,
    check_choice,
    check_positive,
)
from optml.classification._smooth import huber_hinge_newton
from optml.formulations.classification import hard_margin_svm, soft_margin_svm, svm_objective
from optml.program import Result, relative_gap

_COMMON_DOC = """backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters (see :class:`optml._base.ProgramEstimator`)."""


class HardMarginSVM(LinearProgramClassifier):
    r"""Hard margin linear SVM: :math:`\min \frac12\|w\|^2` s.t. :math:`s_i(x_i^\top w+b)\ge 1`.

    A QP (HiGHS by default). Data that no hyperplane separates make the program infeasible;
    ``fit`` then raises :class:`~optml.exceptions.SolveError` suggesting :class:`SoftMarginSVM`.

    Parameters
    ----------
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters (see :class:`optml._base.ProgramEstimator`).

    Attributes
    ----------
    classes_, coef_, intercept_, program_, result_, programs_, results_
    margin_ : ndarray
        Geometric margin :math:`1/\|w\|` of each binary problem.

    Examples
    --------
    >>> import numpy as np
    >>> from optml.classification import HardMarginSVM
    >>> X = np.array([[0.0, 0], [1, 0], [3, 0], [4, 0]]); y = [0, 0, 1, 1]
    >>> clf = HardMarginSVM().fit(X, y)
    >>> round(float(clf.margin_[0]), 6), clf.predict([[0.5, 1], [3.5, 1]]).tolist()
    (1.0, [0, 1])
    """

    def __init__(self, *, backend="auto", solver=None, time_limit=None, mip_gap=None,
                 verbose=False, solver_options=None):  # fmt: skip
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _build_binary(self, X, s):
        return hard_margin_svm(X, s)

    def _fit_binary(self, X, s):
        prog = self._build_binary(X, s)
        res = self._solve_checked(
            prog,
            infeasible_hint="the hard margin program is infeasible: the classes are not "
            "linearly separable. Use SoftMarginSVM(C=...) (hinge loss) instead.",
        )
        return BinaryFit(res.values["w"].ravel(), float(res.values["b"]), prog, res)

    def fit(self, X, y):
        super().fit(X, y)
        self.margin_ = 1.0 / np.maximum(np.linalg.norm(self.coef_, axis=1), 1e-300)
        return self


class SoftMarginSVM(LinearProgramClassifier):
    r"""Soft margin linear SVM with libsvm's objective, or the L1-norm SVM LP.

    .. math:: \min_{w,b}\ R(w) + C\sum_i \left(1 - s_i(x_i^\top w + b)\right)_+,\qquad
        R(w) = \tfrac12\|w\|_2^2\ (\texttt{penalty="l2"}),\ \|w\|_1\ (\texttt{"l1"}).

    With ``penalty="l2"`` this is exactly ``sklearn.svm.SVC(kernel="linear", C=C)``'s primal
    (Cortes & Vapnik 1995); ``penalty="l1"`` is the LP of Bradley & Mangasarian (1998), which
    gives sparse ``coef_``. The intercept is never penalised.

    Parameters
    ----------
    C : float, default 1.0
        Weight of the hinge loss.
    penalty : {"l2", "l1"}, default "l2"
    method : {"auto", "full", "working_set"}, default "auto"
        ``"full"``: the whole program to the chosen backend. ``"working_set"`` (L2 only):
        relaxed QPs over a growing set of samples near the margin, each a certified lower
        bound, until the relaxed solution is optimal for the full program (HiGHS, or the
        chosen backend). ``"auto"``: working set for ``penalty="l2"`` with ``n > 500``.
    tol : float, default 1e-7
        Working set: margin tolerance for moving samples into the set.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters (see :class:`optml._base.ProgramEstimator`).

    Attributes
    ----------
    classes_, coef_, intercept_
    program_ : Program
        The full primal program (also for the working-set method).
    result_ : Result
        Certificate for ``program_``: objective, bound (dual bound of the last relaxation
        for the working-set method), gap, times; ``message`` says how it was solved.
    n_support_ : ndarray
        Samples with margin at most 1 (support vectors) per binary problem.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from optml.classification import SoftMarginSVM
    >>> X, y = make_classification(200, 5, random_state=0)
    >>> clf = SoftMarginSVM(C=1.0).fit(X, y)
    >>> clf.result_.status, clf.result_.gap < 1e-4
    ('optimal', True)
    """

    def __init__(self, C=1.0, *, penalty="l2", method="auto", tol=1e-7, backend="auto",
                 solver=None, time_limit=None, mip_gap=None, verbose=False,
                 solver_options=None):  # fmt: skip
        self.C = C
        self.penalty = penalty
        self.method = method
        self.tol = tol
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
        check_choice("penalty", self.penalty, ("l2", "l1"))
        check_choice("method", self.method, ("auto", "full", "working_set"))
        if self.method == "working_set" and self.penalty != "l2":
            raise ValueError("method='working_set' needs penalty='l2'; use method='full'")

    def _build_binary(self, X, s):
        return soft_margin_svm(X, s, C=float(self.C), penalty=self.penalty)

    def _use_working_set(self, n):
        if self.method == "working_set":
            return True
        return self.method == "auto" and self.penalty == "l2" and n > 500

    def _fit_binary(self, X, s):
        if self._use_working_set(X.shape[0]):
            fit = self._fit_working_set(X, s)
        else:
            prog = self._build_binary(X, s)
            res = self._solve_checked(prog)
            fit = BinaryFit(res.values["w"].ravel(), float(res.values["b"]), prog, res)
        margins = s * (X @ fit.coef + fit.intercept)
        fit.extra["n_support"] = int(np.sum(margins <= 1 + 1e-6))
        return fit

    def fit(self, X, y):
        super().fit(X, y)
        self.n_support_ = np.array([f.extra["n_support"] for f in self._fits])
        return self

    # ------------------------------------------------------------ working set
    def _fit_working_set(self, X, s):
        t_start = time.perf_counter()
        n, p = X.shape
        C = float(self.C)
        tol = float(self.tol)
        full = self._build_binary(X, s)
        # start: Newton on the Huberised hinge, a close smooth approximation
        with threadpool_limits(1):
            w, b = huber_hinge_newton(X, s, C, h=0.05)
        r = s * (X @ w + b)
        # a valid bound on |b| keeps every relaxation bounded: any optimum has
        # 1/2||w||^2 <= U (the objective at the start point) and |b| <= max|x_i w| + 1
        upper = svm_objective(X, s, w, b, C)
        b_bound = float(np.linalg.norm(X, axis=1).max() * np.sqrt(2 * upper) + 1.0) * 1.01
        best = (upper, w, b)
        # initial working set: the samples whose margin is closest to 1
        size = min(n, max(2 * (p + 1), 50))
        work = np.abs(r - 1.0) <= 0.1
        work[np.argsort(np.abs(r - 1.0))[:size]] = True
        rounds, res = 0, None
        while True:
            rounds += 1
            lin = ~work & (r < 1.0)
            drop = ~work & ~lin
            w, b, res, prog = self._solve_relaxed(X, s, C, lin, drop, b_bound)
            r = s * (X @ w + b)
            f_full = svm_objective(X, s, w, b, C)
            if f_full < best[0]:
                best = (f_full, w, b)
            bad = (lin & (r > 1.0 + tol)) | (drop & (r < 1.0 - tol))
            limit = self.time_limit is not None and (
                time.perf_counter() - t_start > self.time_limit
            )
            if not bad.any() or res.status != "optimal" or limit:
                break
            # add the violators, plus the samples nearest the margin not yet in the set
            # (at most `step` of the most violated per round keeps the relaxations small)
            step = max(100, 2 * (p + 1))
            viol = np.where(bad, np.abs(r - 1.0), 0.0)
            order = np.argsort(-viol)[:step]
            work[order[viol[order] > 0]] = True
        if bad.any() or res.status != "optimal":  # stopped early: the best point seen
            w, b = best[1], best[2]
        values = {"w": w, "b": np.array(b)}
        obj, viol = full.evaluate(values)
        bound = res.bound if np.isfinite(res.bound) else float("nan")
        status = "optimal" if (not bad.any() and res.status == "optimal") else "time_limit"
        gap = relative_gap(obj, bound)
        final = Result(
            status=status, objective=obj, bound=bound, gap=gap, values=values,
            solver=res.solver, backend=res.backend, build_time=0.0,
            solve_time=time.perf_counter() - t_start, problem_class=full.problem_class,
            objective_check=obj, max_violation=viol, kkt_residual=res.kkt_residual,
            verified=bool(res.verified and gap <= 1e-4 and viol <= 1e-6),
            message=f"working set: {rounds} relaxed QPs, {int(work.sum())} of {n} samples "
            f"with exact hinge; bound from the last relaxation",
            solver_version=res.solver_version,
        )  # fmt: skip
        self.program_, self.result_ = full, final
        assert np.isclose(obj, svm_objective(X, s, w, b, C), rtol=1e-9, atol=1e-9)
        return BinaryFit(w, b, full, final, {"relaxed_program": prog})

    def _solve_relaxed(self, X, s, C, lin, drop, b_bound=None):
        prog = soft_margin_svm(X, s, C=C, penalty="l2", linear=lin, drop=drop, b_bound=b_bound)
        res = self._solve_checked(prog)
        return res.values["w"].ravel(), float(res.values["b"]), res, prog
