r"""The lasso and the elastic net on a growing working set of features, certified on all.

The Gram form needs :math:`X_c^\top X_c` (:math:`np^2/2` multiply-adds), although a sparse
solution only ever uses the rows and columns of its support. Here the QP

.. math::

    \min_w\ s\|y_c - X_c w\|^2 + \lambda_1\|w\|_1 + \lambda_2\|w\|^2
    \quad\text{s.t.}\quad l \le w \le u \quad (0 \in [l_j, u_j])

is solved on a working set :math:`W` of features, the others held at zero, and grown until the
optimality conditions hold for every feature (the working-set / column-generation scheme of
the lasso literature, e.g. Tibshirani et al. 2012's strong-set check, Johnson and Guestrin
2015's Blitz, Massias et al. 2018's Celer):

1. :math:`W` = the ten features most correlated with :math:`y_c`;
2. solve the QP restricted to :math:`W` with the active-set method of
   :mod:`optml.algorithms.active_set` on :math:`X_W^\top X_W` (warm-started from the last
   round), giving :math:`w` (zero off :math:`W`);
3. the residual :math:`r = y_c - X_W w_W` and the exact gradient
   :math:`g = -2s X_c^\top r + 2\lambda_2 w` of every feature, in float64 from the raw data
   (two matrix-vector products);
4. if every feature meets its optimality condition (:math:`|g_j| \le \lambda_1` at zero, to
   :math:`10^{-9}`) stop; else add the violators (with more features than samples only the
   worst ones, as many as the support has, as Celer does) and go to 2.

The Gram matrix is formed on :math:`W` only. The answer is certified from the raw data:
the objective from :math:`r`, the lasso's scaled-residual dual bound from :math:`X^\top r`
(:func:`~optml.algorithms.active_set.residual_dual`) and, with a ridge term, the
strong-convexity bound :math:`f^* \ge \min_x f(w) + g^\top(x - w) + \lambda_1(\|x\|_1 -
\|w\|_1) + \lambda_2\|x - w\|^2`. With at least as many samples as features, a first round
whose working set and violators pass :data:`MAX_SHARE` of the features gives up (the solution
is dense and the full Gram matrix as cheap), as does a sub-problem the active-set method
cannot solve; the caller then solves with the full Gram matrix.

References
----------
Tibshirani, Bien, Friedman, Hastie, Simon, Taylor and Tibshirani (2012), Strong rules for
discarding predictors in lasso-type problems. JRSS B 74(2).
Johnson and Guestrin (2015), Blitz: a principled meta-algorithm for scaling sparse
optimization. ICML.
Massias, Gramfort and Salmon (2018), Celer: a fast solver for the lasso with dual
extrapolation. ICML.
"""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np

from optml.algorithms import active_set as _active_set
from optml.backends.base import RawAnswer
from optml.program.result import relative_gap

#: features in the first working set
FIRST_SET = 10
#: with n >= p, the share of the features past which the first round's working set (plus its
#: violators) gives up for the full Gram matrix: ``MAX_SHARE[0]`` below ``p = 200``, else
#: ``MAX_SHARE[1]``. BLAS forms a narrow X_W'X_W at a fraction of its full-width speed; measured
#: at n = 5000 (best of 10): p = 100, elastic net with 51 of 100 features: 3.3 ms against 2.7 ms
#: with the full matrix, 15 features: 1.0 against 2.2 ms; p = 200, 90 of 200: 7.8 against
#: 15.8 ms; p = 400, 147 of 400: 15.8 against 28 ms
MAX_SHARE = (0.3, 0.5)
#: fewer features than this: the full Gram matrix (cheap) is used directly
MIN_FEATURES = 32
#: with n >= p, the smallest full Gram step (n p^2 multiply-adds, ~0.5 ms) worth avoiding
MIN_GRAM_FLOPS = 2**24
#: with n >= p, the elastic net is fitted on a working set from this many features on. Its
#: ridge term makes supports denser (correlated features enter together: Zou and Hastie
#: 2005's grouping effect), and a first round given up is not free: at n = 5000, p = 100,
#: alpha = 0.05, l1_ratio = 0.5 (44 of 100 features) the fit went from 0.87x scikit-learn's
#: time to 1.04x (docs/perf/regression.md); from p = 200 the full Gram matrix costs enough
#: that a working set of up to half the features still wins (see MAX_SHARE)
ENET_MIN_FEATURES = 200


def applicable(n: int, p: int, s: float, l1: float, l2: float, lo, hi) -> bool:
    """Whether :func:`solve` is tried: an l1 penalty with scikit-learn's :math:`1/2n` scaling
    (which the certificate uses), at least :data:`MIN_FEATURES` features and a box holding 0
    for every coefficient (the features off the working set sit at 0); with at least as many
    samples as features, also a full Gram step of at least :data:`MIN_GRAM_FLOPS` (below it,
    a working set given up would cost more than it could save) and, for the elastic net, at
    least :data:`ENET_MIN_FEATURES` features."""
    if not (l1 > 0 and abs(2.0 * s * n - 1.0) < 1e-12 and p >= MIN_FEATURES):
        return False
    if n >= p and (n * p * p < MIN_GRAM_FLOPS or (l2 > 0 and p < ENET_MIN_FEATURES)):
        return False
    ok_lo = lo is None or bool(np.all(np.asarray(lo) <= 0.0))
    ok_hi = hi is None or bool(np.all(np.asarray(hi) >= 0.0))
    return ok_lo and ok_hi


def gradient(X, mom, w, s, l2, r):
    r"""The exact gradient :math:`-2s X_c^\top r + 2l_2 w` of the smooth part at ``w``, from
    the residual ``r`` :math:`= y_c - X_c w` and the raw ``X`` (float64)."""
    xm = mom[0]
    Xr = X.T @ r - xm * r.sum()  # = Xc' r
    return (-2.0 * s) * Xr + (2.0 * l2) * w


def certificate(X, mom, w, s, l1, l2, lo, hi, r, g=None) -> tuple[float, float]:
    r"""``(f(w), lower bound on min f)`` for :math:`f = s\|y_c - X_c w\|^2 + l_1\|w\|_1 +
    l_2\|w\|^2` on the box, from the residual ``r`` at ``w`` and the raw data (``mom`` from
    :func:`~optml.formulations.regression.data_moments`); valid for any ``w`` in the box.
    The lasso's scaled-residual dual needs :math:`s = 1/2n`; the strong-convexity bound
    needs :math:`l_2 > 0`."""
    g = gradient(X, mom, w, s, l2, r) if g is None else g
    yc = mom[2]
    n = X.shape[0]
    obj = float(s * (r @ r) + l1 * np.abs(w).sum() + l2 * (w @ w))
    bound = -np.inf
    if l1 > 0 and abs(2.0 * s * n - 1.0) < 1e-12:
        # v = X_aug' r_aug / n = -g; ||r_aug||^2 = ||r||^2 + 2 n l2 ||w||^2
        rr = float(r @ r) + 2.0 * n * l2 * float(w @ w)
        bound = _active_set.residual_dual(-g, rr, float(r @ yc), n, l1, lo, hi)
    if l2 > 0:
        # f(x) >= f(w) + g'(x - w) + l1 (|x| - |w|) + l2 ||x - w||^2, minimised coordinate by
        # coordinate at a soft-threshold clipped to the box (convex in one variable)
        mu = 2.0 * l2
        v = w - g / mu
        x = np.sign(v) * np.maximum(np.abs(v) - l1 / mu, 0.0)
        blo, bhi = _active_set._box(w.shape[0], lo, hi)
        if blo is not None:
            x = np.minimum(np.maximum(x, blo), bhi)
        d = x - w
        low = obj + float(g @ d + l1 * (np.abs(x).sum() - np.abs(w).sum()) + l2 * (d @ d))
        bound = max(bound, low)
    return obj, min(bound, obj)


_blas_state: dict = {"controller": None}
_blas_lock = threading.Lock()


#: data up to this many entries (8 MB) are fitted with BLAS on one thread
ONE_THREAD_MAX_SIZE = 2**20


@contextlib.contextmanager
def one_blas_thread(size: int):
    """BLAS on one thread for the duration (threadpoolctl), for data of up to
    :data:`ONE_THREAD_MAX_SIZE` entries. The products of a working-set fit on such data are
    small: a second BLAS thread only adds wake-up latency, and contends with threads other
    libraries left spinning (measured at n = 5000, p = 100: median fit 2.1 ms instead of
    3.5-3.9 ms when timed alternately with scikit-learn). On larger data the passes over
    ``X`` are memory-bound and two threads read it faster. The setting is process-wide, so
    one caller at a time changes it; a second one runs as it is."""
    if size > ONE_THREAD_MAX_SIZE or not _blas_lock.acquire(blocking=False):
        yield
        return
    try:
        if _blas_state["controller"] is None:
            from threadpoolctl import ThreadpoolController

            _blas_state["controller"] = ThreadpoolController().select(user_api="blas")
        with _blas_state["controller"].limit(limits=1):
            yield
    finally:
        _blas_lock.release()


def solve(
    X, y, mom, s, l1, l2, lo, hi, start=None, max_rounds=60, settings=None
) -> RawAnswer | None:
    r"""Solve on a growing working set (see the module docstring).

    ``mom`` is :func:`~optml.formulations.regression.data_moments` of ``(X, y)`` (finite).
    Returns a :class:`~optml.backends.base.RawAnswer` (``status="optimal"`` only when the
    gap from the float64 bounds is at most :math:`10^{-9}` and the box is kept; else
    "error"; its ``objective_check`` is the objective from the residual on the raw data), or
    None when the working set was given up (see above, and when ``settings``' time ran out
    between rounds).
    """
    t0 = time.perf_counter() if start is None else start
    n, p = X.shape
    xm, _, yc, c = mom
    b = (2.0 * s) * c
    blo, bhi = _active_set._box(p, lo, hi)
    tol = 1e-9 * max(1.0, l1, float(np.abs(b).max(initial=0.0)))
    W = np.argsort(-np.abs(b), kind="stable")[: min(FIRST_SET, p)]
    XW = X[:, W] - xm[W]  # centred columns of the working set (no cancellation in X_W'X_W)
    G = XW.T @ XW
    wW = None
    iters = rounds = 0
    t1 = time.perf_counter()
    while True:
        rounds += 1
        H = (2.0 * s) * G
        if l2:
            H.flat[:: W.size + 1] += 2.0 * l2
        sub_lo = None if blo is None else blo[W]
        sub_hi = None if bhi is None else bhi[W]
        wW, info = _active_set.solve(H, b[W], l1, sub_lo, sub_hi, w0=wW)
        iters += info["iterations"]
        if not info["converged"]:
            return None
        r = yc - XW @ wW
        w = np.zeros(p)
        w[W] = wW
        g = gradient(X, mom, w, s, l2, r)
        viol = _active_set.kkt_violations(w, g, l1, blo, bhi)
        kkt = float(max(viol.max(initial=0.0), 0.0))
        viol[W] = -np.inf  # the sub-problem's solve settles the working set itself
        new = np.flatnonzero(viol > tol)
        if kkt <= tol or new.size == 0:  # optimal, or only round-off on the working set
            break
        if n < p:
            # as many new features as the support has (Celer's rule): with p >> n most
            # violators of a round end at zero, and a set beyond n makes X_W'X_W singular
            k = max(int(np.count_nonzero(wW)), FIRST_SET)
            new = new[np.argsort(-viol[new], kind="stable")][:k]
        elif rounds == 1 and W.size + new.size > MAX_SHARE[p >= 200] * p:
            # the first round's violators foretell a dense solution: the full Gram matrix is
            # as cheap (later rounds add few features, and giving up late costs more)
            return None
        if rounds == max_rounds or (settings is not None and settings.expired()):
            return None
        XN = X[:, new] - xm[new]
        cross = XW.T @ XN
        G = np.block([[G, cross], [cross.T, XN.T @ XN]])
        XW = np.hstack((XW, XN))
        W = np.concatenate((W, new))
        wW = np.concatenate((wW, np.zeros(new.size)))
    t2 = time.perf_counter()
    obj, bound = certificate(X, mom, w, s, l1, l2, lo, hi, r, g)
    gap = relative_gap(obj, bound)
    viol_box = 0.0 if blo is None else float(max(np.max(blo - w), np.max(w - bhi), 0.0))
    ok = bool(kkt <= 10 * tol and gap <= 1e-9 and viol_box <= 1e-9)
    why = f"KKT residual {kkt:.1e}" if kkt > 10 * tol else f"certified gap {gap:.2e}"
    msg = (
        f"active set on a working set of {W.size} of {p} features ({rounds} rounds, "
        f"{iters} iterations), KKT residual {kkt:.1e} on all features; bound = dual value "
        "of a feasible dual point"
    )
    return RawAnswer(
        status="optimal" if ok else "error",
        values={"coef": w},
        objective=obj,
        bound=float(bound) if np.isfinite(bound) else None,
        message=msg if ok else f"working-set active set not certified ({why})",
        stats={
            "iterations": iters,
            "rounds": rounds,
            "working_set": int(W.size),
            "route": "working set",
        },
        objective_check=obj,
        max_violation=viol_box,
        kkt_residual=kkt,
        build_time=t1 - t0,
        solve_time=t2 - t1,
    )
