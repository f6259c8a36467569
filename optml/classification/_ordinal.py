r"""Support vector ordinal regression (Chu & Keerthi 2005), explicit and implicit thresholds.

The QP is :func:`optml.formulations.ordinal.svor`; it goes to a general QP solver on the solve
path (Clarabel through cvxpy by default; any QP solver by ``backend`` / ``solver``) and is
certified there.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator, encode_classes
from optml._validation import check_choice, check_positive
from optml.formulations.ordinal import svor


class SupportVectorOrdinalRegression(ClassifierMixin, ProgramEstimator):
    r"""Support vector ordinal regression: one direction :math:`w` and ordered thresholds
    :math:`b_1 \le \dots \le b_{r-1}` (Chu & Keerthi 2005).

    .. math:: \min_{w, b}\ \tfrac12\|w\|^2 + C\sum_{j}\Big(\sum_{i \in L_j}
        (1 + x_i^\top w - b_j)_+ + \sum_{i \in U_j} (1 - x_i^\top w + b_j)_+\Big)
        \quad\text{s.t.}\quad b_1 \le \dots \le b_{r-1},

    with :math:`L_j, U_j` the samples of class :math:`j` and :math:`j+1` (``"explicit"``) or
    of the classes :math:`\le j` and :math:`> j` (``"implicit"``). The labels' sorted order
    (``np.unique``) is their order; ``predict`` returns the class of rank
    :math:`|\{j : x^\top w > b_j\}|`.

    Parameters
    ----------
    C : float, default 1.0
    thresholds : {"explicit", "implicit"}, default "explicit"
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters (see :class:`optml._base.ProgramEstimator`).

    Attributes
    ----------
    classes_ (ordered), coef_ (p,), thresholds_ (r-1,), program_, result_

    Examples
    --------
    >>> import numpy as np
    >>> from optml.classification import SupportVectorOrdinalRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2))
    >>> y = np.digitize(X @ [1.0, 0.5], [-0.7, 0.7])
    >>> m = SupportVectorOrdinalRegression().fit(X, y)
    >>> m.result_.status, bool(np.all(np.diff(m.thresholds_) >= 0))
    ('optimal', True)
    """

    def __init__(
        self,
        C=1.0,
        *,
        thresholds="explicit",
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.C = C
        self.thresholds = thresholds
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # an ordinal model: one direction and ordered thresholds cannot fit nominal classes
        # placed at random (scikit-learn's blobs), whatever the solver
        tags.classifier_tags.poor_score = True
        return tags

    def _check_params(self):
        self._check_common_params()
        check_positive("C", self.C)
        check_choice("thresholds", self.thresholds, ("explicit", "implicit"))

    def _validate_xy(self, X, y, reset=True):
        from optml._data_checks import check_frame, check_scale

        check_frame(self, X)
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2, reset=reset)
        check_scale(self, X)
        classes, yi = encode_classes(self, y)
        return X, classes, yi

    def build_program(self, X, y):
        """The QP ``fit`` solves (variables ``w``, ``b`` (thresholds), ``xi``)."""
        self._check_params()
        X, classes, yi = self._validate_xy(
            X, y, reset=False if hasattr(self, "n_features_in_") else True
        )
        return svor(X, yi, classes.size, float(self.C), self.thresholds)

    def fit(self, X, y):
        self._check_params()
        X, classes, yi = self._validate_xy(X, y)
        self.classes_ = classes
        prog = svor(X, yi, classes.size, float(self.C), self.thresholds)
        # automatic choice: Clarabel (cvxpy). HiGHS' QP solver ended in 'Solve error' on
        # 2000 x 20 data every time tried here, and once ran 107 s past a 2 s time limit
        auto = self.backend == "auto" and self.solver is None
        res = self._solve(
            prog,
            backend="cvxpy" if auto else None,
            solver="clarabel" if auto else None,
        )
        self.program_, self.result_ = prog, res
        self.coef_ = np.asarray(res.values["w"], dtype=float).ravel()
        self.thresholds_ = np.asarray(res.values["b"], dtype=float).ravel()
        return self

    def latent_function(self, X):
        """:math:`x^\\top w`, the latent score compared with the thresholds."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_

    def predict(self, X):
        f = self.latent_function(X)
        rank = (f[:, None] > self.thresholds_[None, :]).sum(axis=1)
        return self.classes_[rank]
