r"""Mixed-integer SVMs: :class:`SparseSVM` (at most k features) and :class:`RampLossSVM`
(robust to label noise). Programs in :mod:`optml.formulations.svm_mip`.

Big-M values come from the data through an incumbent: a heuristic fit with objective
:math:`U` bounds every better fit's weights (:func:`optml.formulations.svm_mip.svm_bigm`); for
the L1 sparse SVM they can be tightened by solving :math:`2p` LPs
:math:`\max \pm w_j` s.t. :math:`\|w\|_1 + C\sum_i h_i \le U`.
"""

from __future__ import annotations

import numpy as np

import optml.program as om
from optml._data_checks import SOLVER_MAX, CheckedClassifierData
from optml._validation import check_choice, check_positive
from optml.classification._linear_base import (
    BinaryFit,
    FeatureBudgetMixin,
    LinearProgramClassifier,
)
from optml.formulations.classification import soft_margin_svm, svm_objective
from optml.formulations.svm_mip import ramp_loss_svm, sparse_svm, sparse_svm_start, svm_bigm


def ramp_objective(X, s, w, b, C, penalty) -> float:
    """Ramp-loss objective with numpy."""
    r = np.clip(1.0 - s * (X @ w + b), 0.0, 2.0)
    reg = 0.5 * w @ w if penalty == "l2" else np.abs(w).sum()
    return float(reg + C * r.sum())


def _solve_lp(prog, settings):
    """An internal LP / QP on the solve path: automatic solver, the fit's settings and clock."""
    from optml.solve import solve_program

    return solve_program(prog, "auto", None, settings.for_internal())


def _hinge_fit(X, s, C, penalty, settings):
    res = _solve_lp(soft_margin_svm(X, s, C=C, penalty=penalty), settings)
    if not res.has_solution:  # pragma: no cover - the soft margin program is always feasible
        return np.zeros(X.shape[1]), 0.0
    return res.values["w"].ravel(), float(res.values["b"])


class SparseSVM(FeatureBudgetMixin, CheckedClassifierData, LinearProgramClassifier):
    r"""Soft margin SVM using at most ``k`` features, certified optimal (MILP / MIQP).

    .. math:: \min_{w,b,z}\ R(w) + C\sum_i (1 - s_i(x_i^\top w+b))_+\quad\text{s.t.}\quad
        |w_j| \le M_j z_j,\ \textstyle\sum_j z_j \le k,

    (Maldonado et al. 2014; Labbé et al. 2019). ``penalty="l1"`` (:math:`R=\|w\|_1`) is a MILP
    that HiGHS solves; ``"l2"`` (:math:`R=\frac12\|w\|^2`) a MIQP for SCIP.

    Parameters
    ----------
    C : float, default 1.0
    k : int, default 5
    penalty : {"l1", "l2"}, default "l1"
    bigm : {"lp", "objective"}, default "lp"
        ``"objective"``: :math:`M_j` from the objective :math:`U` of a heuristic fit (the
        soft margin SVM's top-``k`` features, refitted). ``"lp"`` (L1 only): tightened by
        LP duality (a feasible dual point :math:`\alpha` of the L1-SVM gives
        :math:`(1-|g_j|)|w_j| \le U - \sum_i\alpha_i` with :math:`g = X^\top(\alpha\circ s)`)
        and, for the :math:`2k` loosest features, by LPs :math:`\max \pm w_j` s.t.
        :math:`\|w\|_1 + C\sum_i h_i \le U`. The heuristic is also the MILP's warm start.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters (``mip_gap`` defaults to 1e-4).

    Attributes
    ----------
    coef_, intercept_, support_ (selected features per binary problem), bigm_, program_,
    result_
    """

    _scale_limit = SOLVER_MAX  # a MILP: coefficients a solver takes

    def __init__(
        self,
        C=1.0,
        *,
        k=5,
        penalty="l1",
        bigm="lp",
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.C = C
        self.k = k
        self.penalty = penalty
        self.bigm = bigm
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check_params(self):
        super()._check_params()
        check_positive("C", self.C)
        check_choice("penalty", self.penalty, ("l1", "l2"))
        check_choice("bigm", self.bigm, ("lp", "objective"))
        self._check_k()

    def _heuristic(self, X, s, k):
        C = float(self.C)
        st = self._clock()
        w, b = _hinge_fit(X, s, C, self.penalty, st)
        if k >= X.shape[1]:  # the budget does not bind: the soft margin SVM is the optimum
            return w, b, svm_objective(X, s, w, b, C, self.penalty)
        sup = np.sort(np.argsort(-np.abs(w))[:k])
        ws, b = _hinge_fit(X[:, sup], s, C, self.penalty, st)
        w = np.zeros(X.shape[1])
        w[sup] = ws
        return w, b, svm_objective(X, s, w, b, C, self.penalty)

    def _bigm(self, X, s, upper):
        M = np.full(X.shape[1], svm_bigm(upper, self.penalty))
        if self.bigm == "objective" or self.penalty != "l1" or self.k >= X.shape[1]:
            # (with k >= p no z_j needs to be 0: the bounds only have to be valid)
            return M * 1.0001 + 1e-9
        C = float(self.C)
        # 1) duality: for alpha in [0, C]^n with s'alpha = 0 and g = X'(alpha s), |g_j| <= 1,
        #    F(w, b) >= sum(alpha) + sum_j (1 - |g_j|) |w_j|, so F <= U bounds every |w_j|.
        alpha = self._dual_point(X, s, C)
        g = np.abs(X.T @ (alpha * s))
        slack = max(upper - alpha.sum(), 0.0)
        with np.errstate(divide="ignore"):
            dual_m = np.where(g < 1 - 1e-9, slack / np.maximum(1 - g, 1e-300), np.inf)
        M = np.minimum(M, dual_m)
        # 2) LPs  max +-w_j  s.t. F(w, b) <= U  for the features the dual leaves loose
        loose = np.argsort(-M)[: 2 * int(self.k)]
        prog = om.Program("sparse_svm_bound_tightening")
        w = prog.var("w", X.shape[1])
        b = prog.var("b")
        hinge = om.pos(1.0 - ((s[:, None] * X) @ w + s * b))
        prog.add(om.norm1(w) + C * om.sum(hinge) <= upper * (1 + 1e-7) + 1e-9)
        for j in loose:
            hi = 0.0
            for sign in (1.0, -1.0):
                prog.maximize(sign * w[j])
                res = _solve_lp(prog, self._clock())
                if res.status != "optimal" or not np.isfinite(res.bound):
                    hi = M[j]
                    break
                hi = max(hi, res.bound)  # certified upper bound on sign * w_j
            M[j] = min(M[j], hi)
        return M * 1.0001 + 1e-9

    def _clock(self):
        """The fit's settings with its clock running (started on first use in a fit)."""
        st = self.__dict__.get("_fit_settings")
        if st is None:
            st = self._settings(mip=True).started()
        return st

    def _dual_point(self, X, s, C):
        """A feasible point of the L1-SVM dual (max sum(alpha)), made exactly feasible."""
        n = X.shape[0]
        prog = om.Program("l1_svm_dual")
        a = prog.var("alpha", n, lb=0.0, ub=C)
        G = (X * s[:, None]).T
        prog.add(G @ a <= 1.0)
        prog.add(G @ a >= -1.0)
        prog.add(s @ a == 0.0)
        prog.maximize(om.sum(a))
        res = _solve_lp(prog, self._clock())
        if not res.has_solution:
            return np.zeros(n)
        a = np.clip(res.values["alpha"].ravel(), 0.0, C)
        sp_, sn_ = a[s > 0].sum(), a[s < 0].sum()
        if sp_ > sn_:
            a[s > 0] *= sn_ / sp_
        elif sn_ > sp_:
            a[s < 0] *= sp_ / sn_
        return a / max(1.0, float(np.abs(G @ a).max(initial=0.0)))

    def _build_binary(self, X, s):
        k = self._k(X.shape[1])
        upper = self._heuristic(X, s, k)[2]
        return sparse_svm(X, s, k, float(self.C), self.penalty, self._bigm(X, s, upper))

    def _fit_binary(self, X, s):
        k = self._k(X.shape[1])
        wh, bh, upper = self._heuristic(X, s, k)
        M = self._bigm(X, s, upper)
        prog = sparse_svm(X, s, k, float(self.C), self.penalty, M)
        start = sparse_svm_start(X, s, wh, bh, M)
        res = self._solve_checked(prog, mip=True, warm_start=start, settings=self._clock())
        w, b = res.values["w"].ravel(), float(res.values["b"])
        w = np.where(res.values["z"].ravel() > 0.5, w, 0.0)
        return BinaryFit(w, b, prog, res, {"support": np.flatnonzero(w != 0), "bigm": M})

    def fit(self, X, y):
        self._check_common_params()
        self.__dict__["_fit_settings"] = self._settings(mip=True).started()  # one clock
        try:
            super().fit(X, y)
        finally:
            self.__dict__.pop("_fit_settings", None)
        self.support_ = [f.extra["support"] for f in self._fits]
        self.bigm_ = [f.extra["bigm"] for f in self._fits]
        return self


class RampLossSVM(CheckedClassifierData, LinearProgramClassifier):
    r"""Ramp-loss SVM: the hinge capped at 2, robust to label noise (MIQP / MILP).

    .. math:: \min_{w,b}\ R(w) + C\sum_i \min\{2, (1 - s_i(x_i^\top w + b))_+\}

    written with one binary per sample (Brooks 2011; Belotti et al. 2016). A mislabelled point
    far on the wrong side costs at most :math:`2C`, so it cannot pull the hyperplane.
    ``penalty="l2"`` (:math:`\frac12\|w\|^2`, Brooks' model) is a MIQP for SCIP;
    ``penalty="l1"`` a MILP for HiGHS.

    Parameters
    ----------
    C : float, default 1.0
    penalty : {"l2", "l1"}, default "l2"
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters (``mip_gap`` defaults to 1e-4).

    Attributes
    ----------
    coef_, intercept_, outliers_ (boolean mask of the samples with :math:`z_i = 1`, first
    binary problem), program_, result_
    """

    _scale_limit = SOLVER_MAX  # a MILP: coefficients a solver takes

    def __init__(
        self,
        C=1.0,
        *,
        penalty="l2",
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.C = C
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
        check_choice("penalty", self.penalty, ("l2", "l1"))

    def _bounds(self, X, s):
        C = float(self.C)
        w, b = _hinge_fit(X, s, C, self.penalty, self._settings(mip=True).started())
        upper = ramp_objective(X, s, w, b, C, self.penalty)
        mw = svm_bigm(upper, self.penalty)
        # some optimum has |b| <= max_i |x_i w| + 1 (moving b further changes no loss)
        reach = np.linalg.norm(X, axis=1).max() if self.penalty == "l2" else np.abs(X).max()
        return (w, b), mw * 1.0001 + 1e-9, (reach * mw + 1.0) * 1.0001 + 1e-9

    def _build_binary(self, X, s):
        _, mw, mb = self._bounds(X, s)
        return ramp_loss_svm(X, s, float(self.C), self.penalty, mw, mb)

    def _fit_binary(self, X, s):
        (w0, b0), mw, mb = self._bounds(X, s)
        prog = ramp_loss_svm(X, s, float(self.C), self.penalty, mw, mb)
        res = self._solve_checked(prog, mip=True)
        w, b = res.values["w"].ravel(), float(res.values["b"])
        return BinaryFit(w, b, prog, res, {"outliers": res.values["z"].ravel() > 0.5})

    def fit(self, X, y):
        super().fit(X, y)
        self.outliers_ = self._fits[0].extra["outliers"]
        return self
