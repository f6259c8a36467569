r"""Kernel SVM: libsvm's dual QP, solved by optml's SMO (``solver="smo"``, the default) or, written
with a factor of the Gram matrix, as a Program by a general solver.

The support vectors, ``dual_coef_`` (:math:`\alpha_i s_i`) and the intercept are recovered from
the KKT conditions: the intercept is the mean of :math:`s_i - \sum_j \alpha_j s_j K_{ij}` over
the free support vectors (:math:`0 < \alpha_i < C`), or the middle of the interval the bound
ones allow when there is none (as libsvm does).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._validation import check_choice, check_positive
from optml.classification._linear_base import BinaryFit, LinearProgramClassifier
from optml.formulations.classification import (
    KernelColumns,
    KernelSVMProblem,
    kernel_factor,
    kernel_matrix,
    kernel_svm_dual,
)

__all__ = ["KernelSVM", "kernel_matrix"]


class KernelSVM(LinearProgramClassifier):
    r"""Kernel support vector machine solved through its dual QP.

    .. math:: \max_{\alpha}\ \sum_i\alpha_i - \tfrac12\sum_{ij}\alpha_i\alpha_j s_i s_j
        K(x_i, x_j)\quad\text{s.t.}\quad \sum_i s_i\alpha_i = 0,\ 0\le\alpha_i\le C,

    the problem libsvm solves for ``sklearn.svm.SVC`` (Boser, Guyon & Vapnik 1992; Cortes &
    Vapnik 1995). By default (``backend="auto"``, ``solver=None`` or ``"smo"``) optml's special
    solver ``"smo"`` solves it (:mod:`optml.algorithms.smo`: SMO with second-order working-set
    selection, kernel cache and shrinking, certified by the primal value in function space,
    relative duality gap <= 1e-6). A general solver receives the QP with the quadratic written
    as :math:`\|L^\top(\alpha\circ s)\|^2`, :math:`K = LL^\top` from an eigen-decomposition.
    Multi-class: one-vs-rest (SVC uses one-vs-one).

    Parameters
    ----------
    C : float, default 1.0
    kernel : {"rbf", "poly", "linear"} or callable, default "rbf"
        A callable takes ``(A, B)`` and returns the ``(len(A), len(B))`` kernel matrix.
    gamma : "scale", "auto" or float, default "scale"
        As in SVC: ``"scale"`` is ``1 / (p * X.var())``, ``"auto"`` is ``1 / p``.
    degree : int, default 3
    coef0 : float, default 0.0
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters.

    Attributes
    ----------
    support_, support_vectors_, dual_coef_ (n_problems, n_SV), intercept_, program_, result_

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from optml.classification import KernelSVM
    >>> X, y = make_moons(80, noise=0.1, random_state=0)
    >>> clf = KernelSVM(C=1.0).fit(X, y)
    >>> clf.result_.status, clf.score(X, y) > 0.9
    ('optimal', True)
    """

    def __init__(
        self,
        C=1.0,
        *,
        kernel="rbf",
        gamma="scale",
        degree=3,
        coef0=0.0,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check_params(self):
        super()._check_params()
        check_positive("C", self.C)
        if not callable(self.kernel):
            check_choice("kernel", self.kernel, ("rbf", "poly", "linear"))
        if not (isinstance(self.gamma, str) and self.gamma in ("scale", "auto")):
            check_positive("gamma", self.gamma)
        if not isinstance(self.degree, numbers.Integral) or self.degree < 1:
            raise ValueError(f"degree must be a positive integer, got {self.degree!r}")
        if not (isinstance(self.coef0, numbers.Real) and np.isfinite(self.coef0)):
            raise ValueError(f"coef0 must be a finite number, got {self.coef0!r}")

    def _gamma(self, X):
        if self.gamma == "scale":
            v = X.var()
            return 1.0 / (X.shape[1] * v) if v > 0 else 1.0
        if self.gamma == "auto":
            return 1.0 / X.shape[1]
        return float(self.gamma)

    def _K(self, A, B):
        return kernel_matrix(A, B, self.kernel, self._gamma_, self.degree, self.coef0)

    def _prepare(self, X):
        self._gamma_ = self._gamma(X)
        K = self._K(X, X)
        # one BLAS thread: on a loaded machine a threaded eigh is up to 50x slower
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            return K, kernel_factor(K)

    def _build_binary(self, X, s):
        K, L = self._prepare(X)
        return kernel_svm_dual(K, s, float(self.C), factor=L)

    def build_problem(self, X, y) -> KernelSVMProblem:
        """The structured problem of a two-class fit (what ``"smo"`` takes; its ``.program``
        is what general solvers take), for :func:`optml.bench.compare`."""
        X, s = self._binary_task(X, y)
        return KernelSVMProblem(
            X,
            s,
            C=float(self.C),
            kernel=self.kernel,
            gamma=self._gamma(X),
            degree=int(self.degree),
            coef0=float(self.coef0),
        )

    def _smo_route(self) -> bool:
        return self.solver == "smo" or (self.solver is None and self.backend == "auto")

    def fit(self, X, y):
        self._check_params()
        X, classes, yi = self._validate_xy(X, y)
        self.classes_ = classes
        if self._smo_route():
            self._gamma_ = self._gamma(X)
            # one column cache shared by the one-vs-rest problems (columns computed on demand)
            cols = KernelColumns(X, self.kernel, self._gamma_, int(self.degree), float(self.coef0))
            fits = [self._fit_smo(X, cols, s) for s in self._tasks(classes, yi)]
        else:
            K, L = self._prepare(X)
            fits = [self._fit_one(K, L, s) for s in self._tasks(classes, yi)]
        self._set_fits(fits)
        A = np.vstack([f.extra["coef"] for f in fits])  # (tasks, n): alpha * s
        sv = np.flatnonzero(np.abs(A).max(axis=0) > 0)
        self.support_ = sv
        self.support_vectors_ = X[sv]
        self.dual_coef_ = A[:, sv]
        self.n_support_ = np.array([int(np.sum(np.abs(f.extra["coef"]) > 0)) for f in fits])
        return self

    def _fit_smo(self, X, cols, s):
        problem = KernelSVMProblem(
            X,
            s,
            C=float(self.C),
            kernel=self.kernel,
            gamma=self._gamma_,
            degree=int(self.degree),
            coef0=float(self.coef0),
        )
        problem._cols = cols
        if callable(self.kernel) and X.shape[0] <= 2000 and not problem.kernel_is_psd():
            raise ValueError(
                "the kernel matrix of the callable kernel is not positive semidefinite (it has "
                "a clearly negative eigenvalue), so the SVM dual is not a convex program; use a "
                "positive definite kernel"
            )
        # solver=None: the kind's default (smo) on the solve path, which solves the program
        # instead if it gives up
        res = self._solve(problem) if self.solver is None else self._solve_named(problem, "smo")
        C = float(self.C)
        a = np.clip(res.values["alpha"].ravel(), 0.0, C)
        a[a < 1e-8 * C] = 0.0
        b = res.stats.get("intercept")
        if b is None:  # the program's route (SMO gave up): the KKT rule
            return self._finish(problem.kernel_dot, a, s, problem, res)
        return BinaryFit(None, float(b), problem, res, {"coef": a * s})

    def _fit_one(self, K, L, s):
        C = float(self.C)
        prog = kernel_svm_dual(K, s, C, factor=L)
        res = self._solve_checked(prog)
        a = np.clip(res.values["alpha"].ravel(), 0.0, C)
        return self._finish(lambda v: K @ v, a, s, prog, res)

    def _finish(self, kdot, a, s, prog, res):
        """The intercept from the KKT conditions (see the module docstring)."""
        C = float(self.C)
        tol = 1e-6 * C
        a[a < tol] = 0.0
        g = s - kdot(a * s)  # s_i - f_i without intercept
        free = (a > tol) & (a < C - tol)
        if free.any():
            b = float(np.mean(g[free]))
        else:  # interval allowed by the bound multipliers (libsvm's rule)
            at0, atc = a <= tol, a >= C - tol
            lo_set = (at0 & (s > 0)) | (atc & (s < 0))
            hi_set = (at0 & (s < 0)) | (atc & (s > 0))
            lo = g[lo_set].max(initial=-np.inf)
            hi = g[hi_set].min(initial=np.inf)
            b = (
                float((lo + hi) / 2)
                if np.isfinite(lo + hi)
                else float(lo if np.isfinite(lo) else hi)
            )
        return BinaryFit(None, b, prog, res, {"coef": a * s})

    def _scores(self, X):
        return self._K(X, self.support_vectors_) @ self.dual_coef_.T + self.intercept_

    def decision_function(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        d = self._scores(X)
        return d.ravel() if self.classes_.size == 2 else d
