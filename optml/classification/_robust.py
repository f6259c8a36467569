r"""Robust linear classifiers: the exact robust counterparts against feature perturbations in
an L1, L2 or L-inf ball and against label flips, solved as certified convex programs.

The programs are in :mod:`optml.formulations.robust` (Bertsimas, Dunn, Pawlowski and Zhuo,
"Robust classification", INFORMS Journal on Optimization 2019; Xu, Caramanis and Mannor,
JMLR 2009). :func:`optml.adversarial.adversarial_accuracy` measures the accuracy under the
exact worst-case attack.
"""

from __future__ import annotations

import numbers

import numpy as np

from optml._validation import check_choice, check_positive
from optml.classification._linear_base import BinaryFit, LinearProgramClassifier
from optml.formulations.robust import check_norm, robust_linear_classifier


class _RobustLinear(LinearProgramClassifier):
    _loss = "hinge"

    def __init__(
        self,
        C=1.0,
        *,
        eps=0.1,
        norm="inf",
        gamma=0.0,
        penalty="l2",
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.C = C
        self.eps = eps
        self.norm = norm
        self.gamma = gamma
        self.penalty = penalty
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check_params(self):
        super()._check_params()
        check_positive("C", self.C)
        for name in ("eps", "gamma"):
            v = getattr(self, name)
            if (
                not isinstance(v, numbers.Real)
                or isinstance(v, bool)
                or not np.isfinite(v)
                or v < 0
            ):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        check_norm(self.norm)
        check_choice("penalty", self.penalty, ("l2", "l1", None))

    def _build_binary(self, X, s):
        return robust_linear_classifier(
            X,
            s,
            loss=self._loss,
            C=float(self.C),
            eps=float(self.eps),
            norm=self.norm,
            gamma=float(self.gamma),
            penalty=self.penalty,
        )

    def _special_route(self) -> bool:
        """Whether the fit goes to optml's ``robust-newton`` (L2 penalty, no label flips):
        by default, or when named; a general solver named gets the program."""
        if self.gamma > 0 or self.penalty != "l2":
            return False
        if self.solver == "robust-newton":
            return True
        return self.solver is None and self.backend == "auto"

    def _problem(self, X, s):
        from optml.formulations.robust_linear import RobustLinearProblem

        return RobustLinearProblem(
            X, s, loss=self._loss, C=float(self.C), eps=float(self.eps), norm=self.norm
        )

    def build_problem(self, X, y):
        """The structured problem of a two-class fit with ``penalty="l2"`` and ``gamma=0``
        (what ``"robust-newton"`` takes; its ``.program`` is what general solvers take), for
        :func:`optml.bench.compare`."""
        self._check_params()
        if self.gamma > 0 or self.penalty != "l2":
            raise ValueError(
                "build_problem needs penalty='l2' and gamma=0 (the structured problem of "
                f"'robust-newton'); got penalty={self.penalty!r}, gamma={self.gamma!r}: use "
                "build_program"
            )
        X, classes, yi = self._validate_xy(X, y)
        if classes.size != 2:
            raise ValueError(
                f"build_problem is for two classes (one binary problem), got {classes.size}; "
                "use build_program for the one-vs-rest program"
            )
        return self._problem(X, self._tasks(classes, yi)[0])

    def _fit_binary(self, X, s):
        if self._special_route():
            problem = self._problem(X, s)
            # solver=None: the kind's default on the solve path, which solves the program
            # instead if the special solver gives up
            res = (
                self._solve(problem)
                if self.solver is None
                else self._solve_named(problem, "robust-newton")
            )
            return BinaryFit(res.values["w"].ravel(), float(res.values["b"]), problem, res)
        prog = self._build_binary(X, s)
        if self.gamma > 0 and self.backend == "auto" and self.solver is None:
            # the label-flip dual is degenerate for HiGHS' active-set QP (thousands of
            # iterations on 100 samples); an interior point method solves it at once
            settings = self._settings().started()
            res = self._solve(prog, settings=settings, backend="cvxpy", solver="CLARABEL")
        else:
            res = self._solve_checked(prog)
        return BinaryFit(res.values["w"].ravel(), float(res.values["b"]), prog, res)


class RobustSVM(_RobustLinear):
    r"""Linear SVM robust to bounded feature perturbations and to label flips.

    .. math:: \min_{w,b}\ R(w) + C\sum_i \Big(1 - s_i(x_i^\top w + b) + \epsilon\|w\|_q\Big)_+

    is the exact worst case of the hinge loss when each sample moves within
    :math:`\|\delta_i\|_p \le \epsilon` (:math:`q` the dual norm of :math:`p`: L1 for an
    L-inf ball, L-inf for an L1 ball, L2 for L2); ``eps=0`` gives
    :class:`~optml.classification.SoftMarginSVM`. With ``gamma > 0`` the loss is the worst case
    over at most ``gamma`` flipped labels too (the exact LP dual of the flip set; see
    :mod:`optml.formulations.robust`). Bertsimas, Dunn, Pawlowski and Zhuo (2019); Xu,
    Caramanis and Mannor (2009).

    Parameters
    ----------
    C : float, default 1.0
        Weight of the (worst-case) hinge loss.
    eps : float, default 0.1
        Radius of the perturbation ball (in the units of ``X``: standardise first).
    norm : {"inf", "1", "2"}, default "inf"
        Norm of the perturbation ball.
    gamma : float, default 0
        Number of labels an adversary may flip (per binary problem).
    penalty : {"l2", "l1", None}, default "l2"
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters (see :class:`optml._base.ProgramEstimator`). With
        ``gamma > 0`` and automatic choice the program goes to Clarabel (interior point).

    Attributes
    ----------
    classes_, coef_, intercept_, program_, result_, programs_, results_

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from optml.classification import RobustSVM
    >>> X, y = make_classification(100, 4, random_state=0)
    >>> clf = RobustSVM(eps=0.1, norm="inf").fit(X, y)
    >>> clf.result_.status, clf.result_.verified
    ('optimal', True)
    """

    _loss = "hinge"


class RobustLogisticRegression(_RobustLinear):
    r"""Logistic regression robust to bounded feature perturbations and to label flips.

    .. math:: \min_{w,b}\ R(w) + C\sum_i \log\Big(1 + e^{-s_i(x_i^\top w + b)
        + \epsilon\|w\|_q}\Big)

    the exact worst case of the logistic loss over :math:`\|\delta_i\|_p \le \epsilon`
    (an exponential-cone program); ``eps=0`` gives scikit-learn's ``LogisticRegression(C=C)``
    objective. ``gamma`` adds label flips as for :class:`RobustSVM`.

    Parameters
    ----------
    C, eps, norm, gamma, penalty, backend, solver, time_limit, mip_gap, verbose, solver_options
        As for :class:`RobustSVM`.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from optml.classification import RobustLogisticRegression
    >>> X, y = make_classification(100, 4, random_state=0)
    >>> RobustLogisticRegression(eps=0.05).fit(X, y).result_.status
    'optimal'
    """

    _loss = "logistic"

    def predict_proba(self, X):
        """Probabilities of the nominal (unperturbed) logistic model, as scikit-learn's."""
        d = self.decision_function(X)
        if self.classes_.size == 2:
            p = 1.0 / (1.0 + np.exp(-d))
            return np.column_stack([1 - p, p])
        e = 1.0 / (1.0 + np.exp(-d))
        return e / e.sum(axis=1, keepdims=True)
