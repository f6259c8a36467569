r"""PCA written as an SDP, and sparse PCA: SDP relaxation and exact branch and bound.

The sparse PCA algorithms are optml's special solvers ``"pca-bnb"``
(:mod:`optml.algorithms.pca_bnb`) and ``"sparse-pca-sdp"``
(:mod:`optml.algorithms.sparse_pca_sdp`) on the structured problem
:class:`~optml.formulations.decomposition.SparsePCAProblem`.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator
from optml._validation import check_choice, check_int
from optml.exceptions import SolveError
from optml.formulations.decomposition import SparsePCAProblem, pca_sdp

_SPARSE_SOLVERS = {"exact": "pca-bnb", "sdp": "sparse-pca-sdp"}


def _cov(X):
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / max(X.shape[0] - 1, 1)


class _Common(TransformerMixin, ProgramEstimator):
    @property
    def program_(self):
        prog = self.__dict__.get("_program_")
        if prog is None and "problem_" in self.__dict__:
            prog = self.problem_.program
            self.__dict__["_program_"] = prog
        if prog is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute 'program_'")
        return prog

    @program_.setter
    def program_(self, value):
        self.__dict__["_program_"] = value

    def transform(self, X):
        check_is_fitted(self, "components_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return (X - self.mean_) @ self.components_.T


class PCA(_Common):
    r"""Principal components from the Fantope SDP (for teaching; agrees with the eigh).

    .. math:: \max_Z \langle S, Z\rangle \ \text{s.t.}\ \operatorname{tr}Z = r,\ 0 \preceq Z
              \preceq I .

    Attributes: ``components_``, ``explained_variance_``, ``mean_``, ``program_``, ``result_``.
    """

    def __init__(
        self,
        n_components=2,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.n_components = n_components
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def build_program(self, X, y=None):
        return pca_sdp(_cov(np.asarray(X, dtype=float)), self.n_components)

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        r = check_int("n_components", self.n_components, minimum=1, maximum=X.shape[1])
        self.mean_ = X.mean(axis=0)
        S = _cov(X)
        res = self._solve(pca_sdp(S, r))
        Z = res.values["Z"]
        _, V = np.linalg.eigh((Z + Z.T) / 2)
        # Z projects on the leading r-dimensional subspace; its eigenvalues there are all ~1,
        # so their order says nothing: order the subspace's directions by the variance of S
        # on them (descending, as scikit-learn)
        U = V[:, ::-1][:, :r]
        w, W = np.linalg.eigh(U.T @ S @ U)
        comps = (U @ W[:, ::-1]).T
        self.components_ = comps * np.sign(comps[np.arange(r), np.abs(comps).argmax(1)])[:, None]
        self.explained_variance_ = np.einsum("ij,jk,ik->i", self.components_, S, self.components_)
        return self


class SparsePCA(_Common):
    r"""The leading sparse principal component: max :math:`v^\top S v`, :math:`\lVert v\rVert=1`,
    at most ``n_nonzero`` non-zeros, with a certificate.

    ``method="exact"``: the special solver ``"pca-bnb"``, branch and bound over supports (Berk & Bertsimas, 2019): a node fixes
    some variables in and some out; its bound is :math:`\lambda_{\max}` of the covariance on the
    variables not fixed out; leaves give feasible supports. ``method="sdp"``: the
    d'Aspremont et al. (2007) relaxation gives the upper bound, the leading eigenvector of its
    solution (truncated) a feasible support.

    ``backend``/``solver`` choose the SDP solver of ``method="sdp"``; ``solver`` may also name
    either special solver. ``mip_gap`` (default None: exact up to round-off) lets the branch and
    bound prune nodes within that relative gap; ``time_limit`` covers the whole fit.

    ``n_components > 1``: further components by projection deflation (Mackey 2009): after
    component :math:`v_h`, :math:`S_{h+1} = (I - v_h v_h^\top) S_h (I - v_h v_h^\top)` (stays
    positive semidefinite and makes the next component orthogonal to :math:`v_h`), and
    component :math:`h+1` is the certified k-sparse leading component of :math:`S_{h+1}`,
    each a :class:`~optml.formulations.decomposition.SparsePCAProblem` with its own
    certificate (``results_[h]``).

    Attributes: ``components_`` (n_components x p), ``support_`` (of the first component),
    ``supports_`` (one per component), ``explained_variance_`` (each component's variance on
    its deflated covariance, the certified objective), ``result_`` (objective = variance,
    bound = certified upper bound, gap; the first component), ``results_`` (every
    component's), ``problem_`` (:class:`~optml.formulations.decomposition.SparsePCAProblem`
    of the first component; ``problems_`` all), ``program_`` (its SDP relaxation, formed on
    first access).
    """

    def __init__(
        self,
        n_nonzero=2,
        method="exact",
        n_components=1,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.n_nonzero = n_nonzero
        self.method = method
        self.n_components = n_components
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def build_program(self, X, y=None):
        """The SDP relaxation general solvers receive for :meth:`build_problem`."""
        return self.build_problem(X).program

    def build_problem(self, X, y=None) -> SparsePCAProblem:
        """This instance as a :class:`SparsePCAProblem` (for ``optml.solve`` / ``optml.bench``)."""
        return SparsePCAProblem(
            _cov(np.asarray(X, dtype=float)),
            self.n_nonzero,
            sub_backend=self.backend,
            sub_solver=self.solver,
        )

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        p = X.shape[1]
        k = check_int("n_nonzero", self.n_nonzero, minimum=1)
        if k > p:
            raise ValueError(
                f"SparsePCA: n_nonzero={k} is more than the data's {p} feature(s); "
                f"use n_nonzero <= {p}"
            )
        check_choice("method", self.method, tuple(_SPARSE_SOLVERS))
        self._check_common_params()
        for attr in ("_program_", "problem_"):
            self.__dict__.pop(attr, None)
        r = check_int("n_components", self.n_components, minimum=1, maximum=p)
        self.mean_ = X.mean(axis=0)
        S = _cov(X)
        settings = self._settings().started()
        comps, supports, variances, problems, results = [], [], [], [], []
        for _ in range(r):
            problem = SparsePCAProblem(S, k, self.backend, self.solver)
            res = self._fit_problem(problem, settings.for_internal() if comps else settings)
            comp = np.asarray(res.stats["component"], dtype=float)
            comps.append(comp)
            supports.append(np.asarray(res.stats["support"]))
            variances.append(res.objective)
            problems.append(problem)
            results.append(res)
            Pj = np.eye(p) - np.outer(comp, comp) / (comp @ comp)
            S = Pj @ S @ Pj
            S = (S + S.T) / 2
        self.problem_, self.result_ = problems[0], results[0]
        self.problems_, self.results_ = problems, results
        self.components_ = np.vstack(comps)
        self.support_ = supports[0]
        self.supports_ = supports
        self.explained_variance_ = np.array(variances)
        return self

    def _fit_problem(self, problem, settings=None):
        from optml.backends.registry import is_special
        from optml.solve import solve

        solver = self.solver if is_special(self.solver) else _SPARSE_SOLVERS[self.method]
        # backend / solver (when general) reach the SDP through the problem's sub_backend
        settings = self._settings() if settings is None else settings
        res = solve(problem, backend="auto", solver=solver, settings=settings)
        self.problem_ = problem
        self.result_ = res
        if res.status not in ("optimal", "time_limit", "feasible") or not res.has_solution:
            raise SolveError(
                f"SparsePCA: no component found (status {res.status!r}, {res.backend}/"
                f"{res.solver}: {res.message}); raise time_limit or try another method"
            )
        return res
