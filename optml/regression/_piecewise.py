r"""Piecewise-linear regression in one input with a fixed number of breakpoints, as a MIQP
(:func:`optml.formulations.alamo.piecewise_linear`), certified on the solve path."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator
from optml._validation import check_int
from optml.exceptions import SolveError
from optml.formulations.alamo import piecewise_linear, piecewise_values, segment_dp


class PiecewiseLinearRegression(RegressorMixin, ProgramEstimator):
    r"""Least-squares piecewise-linear fit of ``y`` on one input with ``n_breakpoints``
    breakpoints: contiguous segments of the sorted inputs, each with its own line, the
    segmentation chosen optimally by a MIQP (big-M values proven valid from the data; see
    :func:`~optml.formulations.alamo.piecewise_linear`). Segments need not join (segmented
    regression); each holds at least ``min_segment_values`` distinct inputs. ``feature``: the
    column of ``X`` that is the input (the others are ignored).

    Attributes
    ----------
    breakpoints_ (midpoints between segments), slopes_, offsets_, segments_ (segment of each
    training sample), program_, result_ (objective = residual sum of squares, bound, gap).
    """

    def __init__(
        self,
        n_breakpoints=1,
        *,
        feature=0,
        min_segment_values=2,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.n_breakpoints = n_breakpoints
        self.feature = feature
        self.min_segment_values = min_segment_values
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True  # one input column of X, by design
        return tags

    def _check(self, X, y, reset=True):
        self._check_common_params()
        check_int("n_breakpoints", self.n_breakpoints, minimum=0)
        check_int("min_segment_values", self.min_segment_values, minimum=2)
        X, y = validate_data(
            self, X, y, y_numeric=True, dtype=np.float64, reset=reset, ensure_min_samples=2
        )
        j = check_int("feature", self.feature, minimum=0)
        if j >= X.shape[1]:
            raise ValueError(
                f"feature={j} but X has {X.shape[1]} column(s); name the input column to fit on"
            )
        return X[:, j], y

    def build_program(self, X, y):
        x, y = self._check(X, y, reset=not hasattr(self, "n_features_in_"))
        return piecewise_linear(x, y, self.n_breakpoints, self.min_segment_values)

    def fit(self, X, y):
        x, y = self._check(X, y)
        settings = self._settings(mip=True).started()
        K, mg = int(self.n_breakpoints), int(self.min_segment_values)
        prog = piecewise_linear(x, y, K, mg)
        # the best segmentation by dynamic programming: the MIQP's starting point, and the
        # answer (with the MIQP's bound, or 0) when the solver returns no point in time
        cuts, _ = segment_dp(x, y, K, mg)
        start = piecewise_values(x, y, K, cuts)
        try:
            res = self._solve(
                prog,
                warm_start=start,
                mip=True,
                allow=("optimal", "time_limit", "feasible"),
                settings=settings,
            )
        except SolveError:
            res = self.__dict__.get("result_")
            if res is None or res.status not in ("time_limit", "error"):
                raise
            res = self._start_result(prog, start, res)
        self.program_, self.result_ = prog, res
        u, g = np.unique(x, return_inverse=True)
        seg_u = np.asarray(res.values["segment"]).reshape(u.size, -1).argmax(axis=1)
        self.segments_ = seg_u[g]
        self.slopes_ = np.asarray(res.values["slope"], dtype=float).ravel()
        self.offsets_ = np.asarray(res.values["offset"], dtype=float).ravel()
        K = int(self.n_breakpoints)
        self.breakpoints_ = np.array(
            [(u[seg_u == s].max() + u[seg_u == s + 1].min()) / 2 for s in range(K)]
        )
        return self

    def _start_result(self, prog, start, milp):
        """The starting segmentation as a certified result: the solver's bound when it has
        one, else 0 (a sum of squares)."""
        from optml.solve.certificate import make_result

        check, viol = prog.evaluate(start)
        bound = float(milp.bound) if np.isfinite(milp.bound) else 0.0
        return make_result(
            status="time_limit",
            sense=1,
            values=start,
            objective_check=check,
            max_violation=viol,
            solver_objective=check,
            bound=min(bound, check),
            solver=milp.solver,
            backend=milp.backend,
            problem_class="MIQP",
            solve_time=milp.solve_time,
            message=f"the MIQP ended {milp.status!r} with no point; the starting "
            "segmentation (dynamic programming) with the MIQP's bound",
        )

    def predict(self, X):
        check_is_fitted(self, "slopes_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        x = X[:, int(self.feature)]
        s = np.searchsorted(self.breakpoints_, x, side="right")
        return self.slopes_[s] * x + self.offsets_[s]
