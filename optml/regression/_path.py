r"""Regularisation paths: the lasso / elastic-net path as a sequence of small QPs.

The Gram data are formed once (n-independent afterwards). By default each alpha's QP is solved
by optml's active-set method warm-started from the previous alpha's solution (usually one or
two Cholesky solves on the support) and certified by a dual bound. With a ``backend`` or
``solver`` named (or ``method="program"``), for each alpha, from the largest down, only the
features in the sequential strong set (Tibshirani et al. 2012) plus the previous
support enter the QP; the zero coefficients of the others are then checked against the KKT
condition :math:`|c_j - G_j w| / n \le \alpha\rho` and any violator is added and the QP solved
again, so every point on the path is the optimum of the full problem.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.utils.validation import check_X_y

from optml._progress import check_progress, progress_bar
from optml._validation import check_bool, check_choice, check_fraction, check_nonneg
from optml.algorithms import active_set as _active_set
from optml.backends.base import RawAnswer
from optml.backends.registry import get_special
from optml.formulations.regression import (
    GramData,
    LeastSquaresProblem,
    gram_data,
    least_squares_program,
)
from optml.program.result import relative_gap
from optml.program.settings import SolveSettings
from optml.solve import solve
from optml.solve.certificate import certify_answer, gap_tolerance


def _sub(gram: GramData, A) -> GramData:
    return GramData(
        G=gram.G[np.ix_(A, A)],
        c=gram.c[A],
        yy=gram.yy,
        n=gram.n,
        x_mean=gram.x_mean[A],
        y_mean=gram.y_mean,
    )


def lasso_path(
    X,
    y,
    *,
    alphas=None,
    n_alphas: int = 100,
    eps: float = 1e-3,
    l1_ratio: float = 1.0,
    fit_intercept: bool = False,
    positive: bool = False,
    screening: bool = True,
    method: str = "auto",
    backend: str = "auto",
    solver: str | None = None,
    kkt_tol: float = 1e-7,
    return_results: bool = False,
    time_limit: float | None = None,
    verbose: bool = False,
    solver_options: dict | None = None,
    progress: bool | None = None,
):
    r"""Lasso (or elastic-net) coefficients along a grid of penalties, certified at each point.

    Solves, for each :math:`\alpha` in ``alphas`` (largest first),

    .. math::

        \min_w\ \frac{1}{2n}\|y - Xw\|_2^2 + \alpha\rho\|w\|_1 + \frac{\alpha(1-\rho)}{2}
        \|w\|_2^2

    like :func:`sklearn.linear_model.lasso_path` / ``enet_path`` (which do not centre; pass
    ``fit_intercept=True`` to centre ``X`` and ``y`` first, as ``Lasso`` does).

    Parameters
    ----------
    X, y : arrays of shape (n, p) and (n,)
    alphas : array, optional
        Penalties; default ``n_alphas`` values log-spaced from :math:`\alpha_{\max} =
        \|X^\top y\|_\infty / (n\rho)` down to ``eps`` times it.
    l1_ratio : float in (0, 1], default 1.0 (the lasso)
    fit_intercept, positive : bool
    screening : bool, default True
        With ``method="program"``: solve each QP on the strong set only, then verify the KKT
        conditions of the rest.
    method : {"auto", "active_set", "program"}, default "auto"
        ``"active_set"``: optml's certified active-set method, warm-started along the path
        (a point it cannot certify is solved as a program). ``"program"``: each QP goes to
        ``backend`` / ``solver``. ``"auto"``: the active-set method unless a backend or solver
        is named.
    backend, solver : str
        Solver choice for the QPs with ``method="program"`` (HiGHS by default).
    kkt_tol : float
        Tolerance (relative to alpha) of the KKT check of screened-out features.
    return_results : bool
        Also return the list of :class:`optml.Result` (one or more per alpha), each from
        optml's certificate factory.
    time_limit, verbose, solver_options
        Settings of every solve of the path (one clock: ``time_limit`` covers the whole
        path, each QP gets the time left; ``solver_options`` as for the estimators).
    progress : bool or None, default None
        A tqdm progress bar over the alphas: None shows it only on an interactive terminal
        (and only when the path takes more than half a second), True always, False never.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,), decreasing
    coefs : ndarray of shape (p, n_alphas)
    gaps : ndarray of shape (n_alphas,), the certified relative gap of each point
    results : list, only with ``return_results``

    Examples
    --------
    >>> import numpy as np
    >>> from optml.regression import lasso_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 5)); y = X[:, 0] + 0.1 * rng.standard_normal(50)
    >>> alphas, coefs, gaps = lasso_path(X, y, n_alphas=5)
    >>> coefs.shape, bool((gaps < 1e-6).all())
    ((5, 5), True)
    """
    X, y = check_X_y(X, y, y_numeric=True, dtype=np.float64)
    check_fraction("l1_ratio", l1_ratio, closed=True)
    if l1_ratio == 0:
        raise ValueError("l1_ratio must be > 0 for a path (alpha_max is infinite for ridge)")
    check_bool("fit_intercept", fit_intercept)
    check_bool("positive", positive)
    n, p = X.shape
    gram = gram_data(X, y, fit_intercept)
    if alphas is None:
        if not (isinstance(n_alphas, int | np.integer) and n_alphas >= 1):
            raise ValueError(f"n_alphas must be a positive integer, got {n_alphas!r}")
        check_nonneg("eps", eps, allow_zero=False)
        amax = np.abs(gram.c).max(initial=0.0) / (n * l1_ratio)
        amax = amax if amax > 0 else 1.0
        alphas = amax * np.logspace(0, np.log10(eps), int(n_alphas))
    else:
        alphas = np.asarray(alphas, dtype=float).ravel()
        if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
            raise ValueError("alphas must be a non-empty array of finite numbers >= 0")
    alphas = np.sort(alphas)[::-1]
    check_choice("method", method, ("auto", "active_set", "program"))
    check_progress(progress)
    settings = SolveSettings.from_params(
        time_limit=time_limit, verbose=verbose, solver_options=solver_options
    ).started()
    if method == "active_set" or (
        method == "auto" and backend == "auto" and solver is None and not settings.options
    ):
        return _active_set_path(
            X,
            y,
            gram,
            alphas,
            l1_ratio,
            positive,
            fit_intercept,
            backend,
            solver,
            return_results,
            settings,
            progress,
        )
    coefs = np.zeros((p, alphas.size))
    gaps = np.zeros(alphas.size)
    results = []
    w = np.zeros(p)
    a_prev = None
    lo = np.zeros(p) if positive else None
    bar = progress_bar(alphas, desc="lasso_path", progress=progress)
    for i, a in enumerate(bar):
        l1 = a * l1_ratio
        l2 = 0.5 * a * (1.0 - l1_ratio)
        grad = (gram.c - gram.G @ w) / n  # -(gradient of the smooth part) at the previous w
        if screening and l1 > 0:
            thr = 2.0 * l1 - (a_prev * l1_ratio if a_prev is not None else l1)
            A = np.flatnonzero((np.abs(grad) >= thr) | (w != 0))
        else:
            A = np.arange(p)
        gap = 0.0
        while True:
            wA = np.zeros(p)
            if A.size:
                sub = _sub(gram, A)
                prog = least_squares_program(
                    sub,
                    scale=0.5 / n,
                    l1=l1,
                    l2=l2,
                    lb=None if lo is None else lo[A],
                    name="lasso_path",
                )
                res = solve(prog, backend, solver, settings)
                results.append(res)
                if res.status != "optimal":
                    raise RuntimeError(f"lasso_path: QP at alpha={a:g} ended {res.status}")
                wA[A] = res.values["coef"]
                gap = res.gap
            out = np.setdiff1d(np.arange(p), A)
            if out.size == 0:
                break
            g = (gram.c[out] - gram.G[out] @ wA) / n
            viol = (
                (g > l1 * (1 + kkt_tol) + 1e-12)
                if positive
                else (np.abs(g) > l1 * (1 + kkt_tol) + 1e-12)
            )
            if not viol.any():
                break
            A = np.union1d(A, out[viol])
        w = wA
        coefs[:, i] = w
        gaps[i] = gap
        a_prev = a
    bar.close()
    if return_results:
        return alphas, coefs, gaps, results
    return alphas, coefs, gaps


def _active_set_path(
    X,
    y,
    gram,
    alphas,
    l1_ratio,
    positive,
    fit_intercept,
    backend,
    solver,
    return_results,
    settings,
    progress=None,
):
    """The path by warm-started active-set solves, each point certified by a dual bound."""
    n, p = gram.n, gram.p
    H0 = gram.G / n
    b = gram.c / n
    const = gram.yy / (2.0 * n)
    lo = np.zeros(p) if positive else None  # None: no box (the solver's fast path)
    hi = None
    eye = np.eye(p)
    coefs = np.zeros((p, alphas.size))
    gaps = np.zeros(alphas.size)
    results = []
    w = None
    bar = progress_bar(alphas, desc="lasso_path", progress=progress)
    for i, a in enumerate(bar):
        l1 = a * l1_ratio
        l2 = a * (1.0 - l1_ratio)  # the program's l2/2 ||w||^2 has Hessian l2 I
        H = H0 + l2 * eye if l2 else H0
        t0 = time.perf_counter()
        wa, info = _active_set.solve(H, b, l1, lo, hi, w0=w)
        if not info["converged"]:
            wa, info = _active_set.solve_continuation(H, b, l1, lo, hi)
        t1 = time.perf_counter()
        obj, bound = _active_set.certify(H, b, l1, lo, hi, wa, gram, l2, grad=info.get("grad"))
        obj, bound = obj + const, bound + const
        gap = relative_gap(obj, bound)
        if not (info["converged"] and gap <= 1e-9):
            # not certified: this point is solved as a program by a QP solver
            prog = least_squares_program(
                gram,
                scale=0.5 / n,
                l1=l1,
                l2=0.5 * l2,
                lb=None if not positive else lo,
                name="lasso_path",
            )
            res = solve(prog, backend, solver, settings)
            if res.status != "optimal":
                raise RuntimeError(f"lasso_path: QP at alpha={a:g} ended {res.status}")
            wa, gap = np.asarray(res.values["coef"], float), res.gap
        elif return_results:
            # the point's result from the certificate factory: the objective re-evaluated on
            # the raw data, the dual bound, the gap
            prob = LeastSquaresProblem(
                X=X,
                y=y,
                fit_intercept=fit_intercept,
                s=0.5 / n,
                l1=l1,
                l2=0.5 * l2,
                lo=lo,
                hi=hi,
                name="lasso_path",
                _gram=gram,
            )
            answer = RawAnswer(
                status="optimal",
                values={"coef": wa},
                objective=obj,
                bound=bound,
                message=f"active set: {info['iterations']} iterations",
                stats={"iterations": int(info["iterations"]), "alpha": float(a)},
                kkt_residual=float(info["kkt"]),
                solve_time=t1 - t0,
            )
            sp = get_special(_active_set.ActiveSetSolver.name)
            res = certify_answer(
                prob, answer, solver=sp, gap_tol=gap_tolerance(False, None, sp.gap_tol)
            )
            gap = res.gap
        if return_results:
            results.append(res)
        w = wa
        coefs[:, i] = wa
        gaps[i] = gap
    bar.close()
    if return_results:
        return alphas, coefs, gaps, results
    return alphas, coefs, gaps
