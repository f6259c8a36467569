r"""Least trimmed squares (Rousseeuw 1984) as a mixed-integer program, warm-started by FAST-LTS."""

from __future__ import annotations

import numbers

import numpy as np

from optml._validation import check_bool, check_choice, check_int, check_positive
from optml.formulations.subset import lts_program
from optml.regression._common import LinearProgramRegressor


def _ols(A, y):
    return np.linalg.lstsq(A, y, rcond=None)[0]


def fast_lts(A, y, h, n_starts=20, n_csteps=50, random_state=0, settings=None):
    """FAST-LTS (Rousseeuw and Van Driessen 2006): random elemental starts + C-steps.

    ``A`` is the design (with a column of ones for the intercept). Returns ``(theta,
    objective)`` with the objective the sum of the ``h`` smallest squared residuals.
    ``settings`` (the fit's, clock started): no new start once its time is up.
    """
    rng = np.random.default_rng(random_state)
    n, q = A.shape
    best = (np.inf, np.zeros(q))
    starts = [np.arange(n)] + [
        rng.choice(n, size=min(n, q + 1), replace=False) for _ in range(n_starts)
    ]
    for i, idx in enumerate(starts):
        if i and settings is not None and settings.expired():
            break
        theta = _ols(A[idx], y[idx])
        f_old = np.inf
        for _ in range(n_csteps):
            r2 = (y - A @ theta) ** 2
            H = np.argsort(r2)[:h]
            theta = _ols(A[H], y[H])
            f = float(np.sort((y - A @ theta) ** 2)[:h].sum())
            if f >= f_old - 1e-12 * max(1.0, f_old):
                break
            f_old = f
        f = float(np.sort((y - A @ theta) ** 2)[:h].sum())
        if f < best[0]:
            best = (f, theta)
    return best[1], best[0]


class LeastTrimmedSquares(LinearProgramRegressor):
    r"""Least trimmed squares regression (Rousseeuw 1984), certified by an MIQP.

    .. math::

        \min_{\beta, b}\ \sum_{i=1}^{h} r_{(i)}^2,\qquad r_i = y_i - x_i^\top\beta - b,

    the sum of the ``h`` smallest squared residuals: the fit ignores the ``n - h`` worst points.
    Written with one binary per sample (see :func:`optml.formulations.subset.lts_program`),
    warm-started by FAST-LTS (Rousseeuw and Van Driessen 2006).

    The big-M values are valid for coefficients (and intercept, after shifting the data by
    their medians) within ``|theta_j| <= coef_bound``; by default ``coef_bound`` is ten times
    the largest coefficient of the FAST-LTS solution, so the certificate holds within that box.

    Parameters
    ----------
    h : int or float, optional
        Samples kept: an integer ``p' <= h <= n`` or a fraction in (0.5, 1]; default
        ``(n + p' + 1) // 2`` with ``p'`` the number of coefficients (intercept included),
        the highest-breakdown choice.
    formulation : {"bigm", "sos1"}, default "bigm"
    coef_bound : float, optional
        Box on the coefficients that makes the big-M values valid (see above).
    fit_intercept : bool, default True
    n_starts : int, default 20
        Random starts of FAST-LTS.
    random_state : int, default 0
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Solver settings; the MIQP needs SCIP or a commercial solver.

    Attributes
    ----------
    coef_, intercept_ : the fitted model.
    inlier_mask_ : ndarray of bool, the ``h`` samples kept.
    objective_ : float, the trimmed sum of squares.
    h_ : int, coef_bound_ : float, warm_start_objective_ : float.
    program_, result_ : the program and its result (status, bound, gap).
    """

    _mip = True

    def __init__(
        self,
        h=None,
        *,
        formulation="bigm",
        coef_bound=None,
        fit_intercept=True,
        n_starts=20,
        random_state=0,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.h = h
        self.formulation = formulation
        self.coef_bound = coef_bound
        self.fit_intercept = fit_intercept
        self.n_starts = n_starts
        self.random_state = random_state
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check_params(self):
        check_choice("formulation", self.formulation, ("bigm", "sos1"))
        check_bool("fit_intercept", self.fit_intercept)
        check_positive("coef_bound", self.coef_bound, allow_none=True)
        check_int("n_starts", self.n_starts, minimum=0)

    def _resolve_h(self, n, q):
        h = self.h
        if h is None:
            h = (n + q + 1) // 2
        elif isinstance(h, numbers.Integral) and not isinstance(h, bool):
            h = int(h)
        elif isinstance(h, numbers.Real) and 0.5 < h <= 1:
            h = int(np.ceil(h * n))
        else:
            raise ValueError(f"h must be an integer or a fraction in (0.5, 1], got {h!r}")
        if not q <= h <= n:
            raise ValueError(
                f"h = {h} samples kept must lie between the number of coefficients ({q}) and "
                f"the number of samples ({n})"
            )
        return min(h, n)

    def _build(self, X, y, settings=None):
        n, p = X.shape
        q = p + int(self.fit_intercept)
        h = self._resolve_h(n, q)
        xs = np.median(X, axis=0) if self.fit_intercept else np.zeros(p)
        ys = float(np.median(y)) if self.fit_intercept else 0.0
        X0, y0 = X - xs, y - ys
        A = np.column_stack([X0, np.ones(n)]) if self.fit_intercept else X0
        theta, f0 = fast_lts(
            A,
            y0,
            h,
            n_starts=int(self.n_starts),
            random_state=self.random_state,
            settings=settings,
        )
        B = self.coef_bound
        if B is None:
            B = 10.0 * max(np.abs(theta).max(initial=0.0), 1e-6 * max(np.abs(y0).max(), 1.0))
        theta = np.clip(theta, -B, B)
        prog = lts_program(X0, y0, h, self.formulation, float(B), self.fit_intercept)
        r = y0 - A @ theta
        keep = np.zeros(n, bool)
        keep[np.argsort(r**2)[:h]] = True
        ws = {
            "coef": theta[:p],
            "kept_residual": np.where(keep, r, 0.0),
            "outlier_residual": np.where(keep, 0.0, r),
            "discard": (~keep).astype(float),
        }
        if self.fit_intercept:
            ws["intercept"] = theta[p]
        if self.formulation == "sos1":
            ws["sos_pairs"] = np.column_stack([ws["outlier_residual"], keep.astype(float)])
        ctx = {
            "warm_start": ws,
            "xs": xs,
            "ys": ys,
            "h": h,
            "B": float(B),
            "f0": f0,
            "X0": X0,
            "y0": y0,
        }
        return prog, ctx

    def _unpack(self, res, ctx):
        beta = np.asarray(res.values["coef"], float).copy()
        b0 = float(res.values["intercept"]) if self.fit_intercept else 0.0
        X0, y0, h = ctx["X0"], ctx["y0"], ctx["h"]
        r = y0 - X0 @ beta - b0
        # polish (one C-step): least squares on the h best-fitted samples can only lower the
        # trimmed sum of squares; the solver's coefficients carry its tolerances
        keep = np.argsort(r**2)[:h]
        A = np.column_stack([X0, np.ones(len(y0))]) if self.fit_intercept else X0
        theta = _ols(A[keep], y0[keep])
        r_new = y0 - A @ theta
        if np.sort(r_new**2)[:h].sum() <= np.sort(r**2)[:h].sum():
            beta = theta[: X0.shape[1]]
            b0 = float(theta[-1]) if self.fit_intercept else 0.0
            r = r_new
        order = np.argsort(r**2)
        mask = np.zeros(r.size, bool)
        mask[order[: ctx["h"]]] = True
        self.inlier_mask_ = mask
        self.coef_ = np.asarray(beta, float)
        self.intercept_ = b0 + ctx["ys"] - float(ctx["xs"] @ beta) if self.fit_intercept else 0.0
        self.objective_ = float(np.sort(r**2)[: ctx["h"]].sum())
        self.h_ = ctx["h"]
        self.coef_bound_ = ctx["B"]
        self.warm_start_objective_ = ctx["f0"]
