r"""Partial least squares regression as the sequence of optimisation problems it is, and its
sparse variant with a cardinality constraint, both certified.

Component :math:`h` of PLS (Wold 1966; de Jong 1993, NIPALS / SIMPLS notation as scikit-learn's
``PLSRegression``) solves, on the deflated, centred and scaled data :math:`X_h, Y_h`,

.. math:: \max_{u, v}\ u^\top X_h^\top Y_h v \quad\text{s.t.}\quad \|u\|_2 = \|v\|_2 = 1
    \quad\Longleftrightarrow\quad \max_u\ u^\top M_h u\ \text{ s.t. } \|u\|_2 = 1,\qquad
    M_h = X_h^\top Y_h Y_h^\top X_h,

(for fixed :math:`u` the best :math:`v` is :math:`Y_h^\top X_h u` normalised, so the value is
the squared covariance :math:`\|Y_h^\top X_h u\|^2`), followed by the deflation
:math:`t = X_h u`, :math:`X_{h+1} = X_h - t p^\top`, :math:`Y_{h+1} = Y_h - t q^\top` with the
loadings :math:`p = X_h^\top t / t^\top t`, :math:`q = Y_h^\top t / t^\top t`. Sparse PLS adds
:math:`\|u\|_0 \le k` to each component's problem (Lê Cao et al. 2008 use an L1 penalty; here
the cardinality constraint itself). Either way the problem is the (sparse) leading
eigenvector problem of :math:`M_h`, i.e. a :class:`~optml.formulations.decomposition.SparsePCAProblem`
(with :math:`k = p` for plain PLS), solved on the solve path by optml's ``"pca-bnb"`` (branch and
bound over supports, bound :math:`\lambda_{\max}` of :math:`M_h` on the features not fixed out)
and certified per component: ``results_[h]`` holds the squared covariance reached and its
proven upper bound.

This lives in :mod:`optml.decomposition` because a PLS fit is a sequence of the same
maximum-variance problems as (sparse) PCA, on the cross-covariance, and is a transformer
(``transform`` gives the latent scores); it is also a regressor (``predict``), as
scikit-learn's ``PLSRegression`` in :mod:`sklearn.cross_decomposition`.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.base import RegressorMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from optml._base import ProgramEstimator
from optml._validation import check_int
from optml.exceptions import SolveError
from optml.formulations.decomposition import SparsePCAProblem

logger = logging.getLogger("optml")


def _center_scale(X, Y, scale):
    xm, ym = X.mean(axis=0), Y.mean(axis=0)
    X, Y = X - xm, Y - ym
    if scale:
        xs = X.std(axis=0, ddof=1)
        xs[xs == 0.0] = 1.0
        ys = Y.std(axis=0, ddof=1)
        ys[ys == 0.0] = 1.0
        X, Y = X / xs, Y / ys
    else:
        xs, ys = np.ones(X.shape[1]), np.ones(Y.shape[1])
    return X, Y, xm, ym, xs, ys


class _PLSBase(RegressorMixin, TransformerMixin, ProgramEstimator):
    _sparse = False

    def _k(self, p):
        return p

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # Y may have several columns
        tags.regressor_tags.poor_score = True  # as scikit-learn's PLS (few components)
        return tags

    @property
    def program_(self):
        """The first component's program (the SDP relaxation of its problem), formed on
        first access."""
        probs = self.__dict__.get("problems_")
        if not probs:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute 'program_'")
        return probs[0].program

    def build_problem(self, X, y) -> SparsePCAProblem:
        """The first component's problem (:class:`SparsePCAProblem` of :math:`M_1`)."""
        X = np.asarray(X, dtype=float)
        Y = np.asarray(y, dtype=float).reshape(X.shape[0], -1)
        Xk, Yk, *_ = _center_scale(X, Y, self.scale)
        M = Xk.T @ Yk
        return SparsePCAProblem(M @ M.T, self._k(X.shape[1]), self.backend, self.solver)

    def build_program(self, X, y):
        """The first component's program: the SDP relaxation of :meth:`build_problem`
        (exact for plain PLS: :math:`\\max\\langle M_1, Z\\rangle`, :math:`\\operatorname{tr}Z
        = 1`, :math:`Z \\succeq 0` has the leading eigenvector's :math:`Z = uu^\\top`)."""
        return self.build_problem(X, y).program

    def fit(self, X, y):
        from optml.backends.registry import is_special
        from optml.solve import solve

        self._check_common_params()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        Y = check_array(y, input_name="y", dtype=np.float64, ensure_2d=False)
        if Y.shape[0] != X.shape[0]:
            raise ValueError(
                f"{type(self).__name__}: X has {X.shape[0]} samples but y has {Y.shape[0]}"
            )
        self._predict_1d = Y.ndim == 1
        Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
        n, p = X.shape
        q = Y.shape[1]
        h_max = check_int("n_components", self.n_components, minimum=1, maximum=min(n, p))
        k = self._k(p)
        Xk, Yk, self._x_mean, self._y_mean, self._x_std, self._y_std = _center_scale(
            X, Y, self.scale
        )
        W, Wy = np.zeros((p, h_max)), np.zeros((q, h_max))
        T, U = np.zeros((n, h_max)), np.zeros((n, h_max))
        P, Q = np.zeros((p, h_max)), np.zeros((q, h_max))
        settings = self._settings().started()
        solver = self.solver if is_special(self.solver) else "pca-bnb"
        self.problems_, self.results_ = [], []
        for h in range(h_max):
            M = Xk.T @ Yk
            S = M @ M.T
            if np.abs(S).max(initial=0.0) <= 1e-24 * max(1.0, n):
                logger.warning("%s: y residual is constant at component %d", type(self).__name__, h)
                break
            problem = SparsePCAProblem(S, k, self.backend, self.solver)
            res = solve(problem, backend="auto", solver=solver, settings=settings.for_internal())
            self.problems_.append(problem)
            self.results_.append(res)
            if not res.has_solution:
                raise SolveError(
                    f"{type(self).__name__}: component {h} has no solution (status "
                    f"{res.status!r}: {res.message}); raise time_limit"
                )
            u = np.asarray(res.stats["component"], dtype=float).copy()
            u /= np.linalg.norm(u)
            u *= np.sign(u[np.argmax(np.abs(u))])  # scikit-learn's sign convention
            t = Xk @ u
            tt = t @ t
            wy = Yk.T @ t / tt
            U[:, h] = Yk @ wy / (wy @ wy)
            P[:, h] = Xk.T @ t / tt
            Q[:, h] = wy
            Xk = Xk - np.outer(t, P[:, h])
            Yk = Yk - np.outer(t, Q[:, h])
            W[:, h], Wy[:, h], T[:, h] = u, wy, t
        self.x_weights_, self.y_weights_ = W, Wy
        self.x_scores_, self.y_scores_ = T, U
        self.x_loadings_, self.y_loadings_ = P, Q
        self.x_rotations_ = W @ np.linalg.pinv(P.T @ W)
        self.y_rotations_ = Wy @ np.linalg.pinv(Q.T @ Wy)
        self.coef_ = ((self.x_rotations_ @ Q.T) * self._y_std).T / self._x_std
        self.intercept_ = self._y_mean
        self.result_ = self.results_[0]
        self.n_iter_ = [int(r.stats.get("nodes", 1)) for r in self.results_]
        self._n_features_out = h_max
        return self

    def predict(self, X):
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        pred = (X - self._x_mean) @ self.coef_.T + self.intercept_
        return pred.ravel() if self._predict_1d else pred

    def transform(self, X, y=None):
        """The latent scores :math:`(X - \\bar x)/s_x \\cdot` ``x_rotations_`` (and those of
        ``y`` when given), as scikit-learn's."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        xs = ((X - self._x_mean) / self._x_std) @ self.x_rotations_
        if y is None:
            return xs
        Y = check_array(y, input_name="y", dtype=np.float64, ensure_2d=False)
        Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
        return xs, ((Y - self._y_mean) / self._y_std) @ self.y_rotations_

    def fit_transform(self, X, y=None):
        """``fit(X, y).transform(X, y)`` (the X and Y scores), as scikit-learn's."""
        return self.fit(X, y).transform(X, y)


class PLSRegression(_PLSBase):
    r"""Partial least squares regression (scikit-learn's ``PLSRegression``) as a sequence of
    certified maximum-covariance problems with deflation (module docstring).

    Parameters
    ----------
    n_components : int, default 2
    scale : bool, default True
        Scale X and Y to unit variance (scikit-learn's default).
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters; ``solver`` may name a special solver of kind
        ``"sparse_pca"`` (default ``"pca-bnb"``).

    Attributes
    ----------
    x_weights_, y_weights_, x_loadings_, y_loadings_, x_scores_, y_scores_, x_rotations_,
    y_rotations_, coef_ (n_targets, n_features), intercept_ -- as scikit-learn's;
    problems_, results_ (one certified answer per component: objective = squared
    covariance :math:`\|Y_h^\top X_h u\|^2`, bound = its proven upper bound), result_
    (the first), program_ (the first component's SDP).

    Examples
    --------
    >>> import numpy as np
    >>> from optml.decomposition import PLSRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 4)); y = X @ [1.0, -1.0, 0.0, 0.5]
    >>> m = PLSRegression(n_components=2).fit(X, y)
    >>> [r.status for r in m.results_]
    ['optimal', 'optimal']
    """

    def __init__(
        self,
        n_components=2,
        *,
        scale=True,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.n_components = n_components
        self.scale = scale
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options


class SparsePLS(_PLSBase):
    r"""Sparse partial least squares: each component's X weights have at most ``n_nonzero``
    nonzeros,

    .. math:: \max_u\ \|Y_h^\top X_h u\|_2^2 \quad\text{s.t.}\quad \|u\|_2 = 1,\
        \|u\|_0 \le k,

    solved exactly (branch and bound over supports, ``"pca-bnb"``) and certified per
    component, then deflated as :class:`PLSRegression` (the same attributes).
    ``n_nonzero >= n_features`` gives :class:`PLSRegression`.
    """

    def __init__(
        self,
        n_components=2,
        *,
        n_nonzero=2,
        scale=True,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.n_components = n_components
        self.n_nonzero = n_nonzero
        self.scale = scale
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def fit_transform(self, X, y=None):
        """``fit(X, y).transform(X)``: the X scores (scikit-learn's transformer contract;
        ``transform(X, y)`` gives the Y scores too)."""
        return self.fit(X, y).transform(X)

    def _k(self, p):
        k = check_int("n_nonzero", self.n_nonzero, minimum=1)
        return min(k, p)
