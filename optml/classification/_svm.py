r"""Linear support vector machines solved as certified programs: hard margin, soft margin, L1.

The programs are in :mod:`optml.formulations.classification`. ``SoftMarginSVM`` with the L2
penalty solves libsvm's primal

.. math:: \min_{w,b}\ \tfrac12\|w\|_2^2 + C\sum_i (1 - s_i(x_i^\top w + b))_+

by optml's special solver ``"svm-newton"`` (the default, :mod:`optml.algorithms.linear_svm`:
Newton on the Huberised hinge for a decreasing smoothing with an exact active-set finish,
certified by a feasible dual point), as one QP (``method="full"``, any backend, or a general
``solver=``), by ``"smo"`` (libsvm's decomposition, :mod:`optml.algorithms.smo`) or by
``"svm-working-set"`` (``method="working_set"``, :mod:`optml.algorithms.svm_working_set`:
relaxed QPs in which far-away samples contribute their hinge's linear piece or nothing).
Every route certifies the same primal program.
"""

from __future__ import annotations

import numpy as np

from optml._validation import check_choice, check_positive
from optml.classification._linear_base import BinaryFit, LinearProgramClassifier
from optml.formulations.classification import SVMProblem, hard_margin_svm, soft_margin_svm

_WORKING_SET = "svm-working-set"
_SPECIAL = ("svm-newton", "smo")

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

    def __init__(
        self,
        *,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
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
        ``"auto"``: for ``penalty="l2"`` with ``backend="auto"`` and ``solver=None``, optml's
        special solver ``"svm-newton"`` (smoothed-hinge Newton with an exact finish, relative
        duality gap <= 1e-6); ``solver="smo"`` or ``"svm-working-set"`` name the other special
        solvers; a general solver or backend gets the whole program. ``"full"``: the whole
        program to the chosen backend. ``"working_set"`` (L2 only): optml's special solver
        ``"svm-working-set"`` -- relaxed QPs over a growing set of samples near the margin,
        each a certified lower bound, until the relaxed solution is optimal for the full
        program (the relaxed QPs go to HiGHS, or to the chosen backend and solver).
    tol : float, default 1e-7
        Working set: margin tolerance for moving samples into the set.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters (see :class:`optml._base.ProgramEstimator`).

    Attributes
    ----------
    classes_, coef_, intercept_
    program_ : Program
        The full primal program (also for the working-set method, formed on first access).
    problem_ : SVMProblem
        The structured problem the working-set method solved.
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

    def __init__(
        self,
        C=1.0,
        *,
        penalty="l2",
        method="auto",
        tol=1e-7,
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

    def build_problem(self, X, y) -> SVMProblem:
        """The structured problem of a two-class fit (what ``"svm-newton"``, ``"smo"`` and
        ``"svm-working-set"`` take; its ``.program`` is what general solvers take), for
        :func:`optml.bench.compare`."""
        X, s = self._binary_task(X, y)
        return SVMProblem(X, s, C=float(self.C), penalty=self.penalty, tol=float(self.tol))

    def _use_working_set(self, n):
        return self.method == "working_set" or (
            self.method == "auto" and self.solver == _WORKING_SET
        )

    def _special_route(self):
        """The special solver of ``method="auto"`` (None: the whole program)."""
        if self.method != "auto" or self.penalty != "l2":
            return None
        if self.solver in _SPECIAL:
            return self.solver
        if self.solver is None and self.backend == "auto":
            return "svm-newton"
        return None

    def _fit_binary(self, X, s):
        special = self._special_route()
        if self._use_working_set(X.shape[0]):
            fit = self._fit_working_set(X, s)
        elif special is not None:
            problem = SVMProblem(X, s, C=float(self.C), penalty="l2", tol=float(self.tol))
            # solver=None: the kind's default on the solve path, which solves the program
            # instead if the special solver gives up
            res = (
                self._solve(problem) if self.solver is None else self._solve_named(problem, special)
            )
            fit = BinaryFit(res.values["w"].ravel(), float(res.values["b"]), problem, res)
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
        named = self.solver == _WORKING_SET
        problem = SVMProblem(
            X,
            s,
            C=float(self.C),
            penalty="l2",
            tol=float(self.tol),
            qp_backend=self.backend,
            qp_solver=None if named else self.solver,
        )
        res = self._solve_named(problem, _WORKING_SET)
        w, b = res.values["w"].ravel(), float(res.values["b"])
        return BinaryFit(w, b, problem, res)
