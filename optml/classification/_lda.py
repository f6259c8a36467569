r"""Fisher's linear discriminant from its convex reformulation (QP for two classes, Fantope SDP
for more), with scikit-learn's Gaussian decision rule on top.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import softmax
from sklearn.base import ClassifierMixin, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator
from optml.formulations.classification import fisher_lda, scatter_matrices


class FisherLDA(ClassifierMixin, TransformerMixin, ProgramEstimator):
    r"""Fisher's linear discriminant analysis solved as a convex program.

    Fisher (1936) maximises the Rayleigh quotient :math:`w^\top S_B w / w^\top S_W w`. For two
    classes it is the QP :math:`\min w^\top S_W w` s.t. :math:`(\mu_1-\mu_0)^\top w = 1`
    (HiGHS); for :math:`K > 2` classes the Fantope SDP
    :math:`\max\langle S_W^{-1/2}S_BS_W^{-1/2}, P\rangle`, :math:`0\preceq P\preceq I`,
    :math:`\operatorname{tr}P = K-1` (Overton & Womersley 1992; SCS/Clarabel through cvxpy),
    whose top eigenvectors span the discriminant subspace. Classification uses the pooled
    covariance :math:`S_W/n` and the class priors as
    ``sklearn.discriminant_analysis.LinearDiscriminantAnalysis`` does, so predictions agree
    with it (the Gaussian rule depends on the data only through this subspace).

    Parameters
    ----------
    reg : float, default 0.0
        Ridge added to :math:`S_W` (needed when it is singular, e.g. p > n).
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters.

    Attributes
    ----------
    classes_, means_, priors_, scalings_ (p, K-1) with ``scalings_.T @ Sigma @ scalings_ = I``,
    coef_, intercept_ (as LinearDiscriminantAnalysis: (1, p) for two classes, else (K, p)),
    program_, result_
    """

    def __init__(
        self,
        *,
        reg=0.0,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.reg = reg
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _validate(self, X, y, reset=True):
        if not isinstance(self.reg, numbers.Real) or not (np.isfinite(self.reg) and self.reg >= 0):
            raise ValueError(f"reg must be a non-negative number, got {self.reg!r}")
        self._check_common_params()
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2, reset=reset)
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                f"FisherLDA needs samples of at least 2 classes, but the data contains only "
                f"one class: {classes[0]!r}"
            )
        if X.shape[0] <= classes.size:
            raise ValueError(
                f"FisherLDA needs more samples ({X.shape[0]}) than classes ({classes.size})"
            )
        return X, y, classes

    def build_program(self, X, y):
        """The convex program ``fit`` solves (QP for two classes, SDP for more)."""
        X, y, _ = self._validate(X, y, reset=not hasattr(self, "n_features_in_"))
        return fisher_lda(X, y, reg=float(self.reg))

    def fit(self, X, y):
        X, y, classes = self._validate(X, y)
        self.classes_ = classes
        K = classes.size
        mu, priors, Sw, _ = scatter_matrices(X, y)
        Sw = Sw + float(self.reg) * np.eye(X.shape[1])
        prog = fisher_lda(X, y, reg=float(self.reg))
        res = self._solve(prog)
        n = X.shape[0]
        if K == 2:
            V = res.values["w"].reshape(-1, 1)
        else:
            P = res.values["P"]
            lam, U = np.linalg.eigh(0.5 * (P + P.T))
            d = min(K - 1, X.shape[1])
            lw, Uw = np.linalg.eigh(Sw)
            Wm = (Uw / np.sqrt(lw)) @ Uw.T
            V = Wm @ U[:, ::-1][:, :d]
        # scale so that V' Sigma V = I with the pooled covariance Sigma = S_W / n (sklearn's)
        G = V.T @ Sw @ V / n
        lg, Ug = np.linalg.eigh(0.5 * (G + G.T))
        keep = lg > 1e-12 * max(lg.max(), 1e-300)
        V = V @ (Ug[:, keep] / np.sqrt(lg[keep]))
        self.scalings_ = V
        self.means_ = mu
        self.priors_ = priors
        nu = mu @ V  # class centres in the whitened discriminant space
        # linear discriminants: x' V nu_k - 1/2 |nu_k|^2 + log pi_k
        coef = nu @ V.T
        icpt = -0.5 * (nu * nu).sum(axis=1) + np.log(priors)
        if K == 2:
            coef = coef[1:] - coef[:1]
            icpt = icpt[1:] - icpt[:1]
        self.coef_, self.intercept_ = coef, icpt
        self._coef_all = nu @ V.T
        self._icpt_all = -0.5 * (nu * nu).sum(axis=1) + np.log(priors)
        self._xbar = priors @ mu
        return self

    def decision_function(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        d = X @ self.coef_.T + self.intercept_
        return d.ravel() if self.classes_.size == 2 else d

    def predict_log_proba(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        S = X @ self._coef_all.T + self._icpt_all
        return S - np.logaddexp.reduce(S, axis=1, keepdims=True)

    def predict_proba(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return softmax(X @ self._coef_all.T + self._icpt_all, axis=1)

    def predict(self, X):
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def transform(self, X):
        """Project onto the discriminant directions (centred at the overall mean)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return (X - self._xbar) @ self.scalings_
