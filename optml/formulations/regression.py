r"""Convex regression models as programs: least squares and its penalties, quantile / LAD,
Huber with a joint scale, and support vector regression.

Every function here is pure: data and hyper-parameters in, :class:`optml.Program` out.

The least-squares family is written in the n-independent **Gram form**. After centring
(:func:`gram_data`), with :math:`G = X_c^\top X_c`, :math:`c = X_c^\top y_c`,

.. math::

    \|y_c - X_c w\|_2^2 = w^\top G w - 2 c^\top w + y_c^\top y_c
                        = \|R w - z\|_2^2 + \bigl(y_c^\top y_c - \|z\|_2^2\bigr),

where :math:`R^\top R = G` (Cholesky, or a square root from the eigen-decomposition when
:math:`G` is singular) and :math:`R^\top z = c`. The program has :math:`p` columns whatever
:math:`n` is; ``form="gram"`` writes the quadratic with :math:`G` as its Hessian (fastest for
QP solvers), ``form="factor"`` writes :math:`\|Rw - z\|^2` (the form that lets SCIP prove
optimality of best-subset programs).

References
----------
Tibshirani (1996), Regression shrinkage and selection via the lasso. JRSS B 58(1).
Hoerl and Kennard (1970), Ridge regression. Technometrics 12(1).
Zou and Hastie (2005), Regularization and variable selection via the elastic net. JRSS B 67(2).
Koenker and Bassett (1978), Regression quantiles. Econometrica 46(1).
Huber (1964), Robust estimation of a location parameter. Ann. Math. Statist. 35(1);
Owen (2007), A robust hybrid of lasso and ridge regression (the joint scale).
Vapnik (1995), The Nature of Statistical Learning Theory (epsilon-insensitive loss).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

import optml.program as om
from optml.formulations.classification import KernelColumnsMixin
from optml.program.atoms import Atom, NonlinearExpr
from optml.program.structured import StructuredProblem

__all__ = [
    "GramData",
    "HuberProblem",
    "LeastSquaresProblem",
    "coef_bounds",
    "data_moments",
    "gram_data",
    "lazy_gram_data",
    "LazyGram",
    "huber_program",
    "huber_objective",
    "least_squares_program",
    "psd_factor",
    "psd_quad",
    "quantile_program",
    "svr_dual_program",
    "svr_program",
    "KernelSVRProblem",
]


# --------------------------------------------------------------------------- Gram data
@dataclass
class GramData:
    r"""Sufficient statistics of a (centred) least-squares problem.

    ``G = Xc'Xc``, ``c = Xc'yc``, ``yy = yc'yc``; ``x_mean``/``y_mean`` are zero when the
    data were not centred. :meth:`factor` gives ``(R, z, const)`` with
    :math:`\|X_c w - y_c\|^2 = \|Rw - z\|^2 + \mathrm{const}`.
    """

    G: np.ndarray
    c: np.ndarray
    yy: float
    n: int
    x_mean: np.ndarray
    y_mean: float
    _factor: tuple | None = field(default=None, repr=False)

    @property
    def p(self) -> int:
        return self.G.shape[0]

    def rss(self, w: np.ndarray) -> float:
        """Residual sum of squares of the centred problem at ``w``."""
        w = np.asarray(w, dtype=float)
        return float(max(w @ self.G @ w - 2.0 * self.c @ w + self.yy, 0.0))

    def intercept(self, w: np.ndarray) -> float:
        return float(self.y_mean - self.x_mean @ w)

    def finite(self) -> bool:
        """Whether every statistic is finite (False for data with NaN / inf, or overflow)."""
        return bool(
            np.isfinite(self.G.diagonal()).all()
            and np.isfinite(self.c).all()
            and np.isfinite(self.yy)
            and np.isfinite(self.y_mean)
            and np.isfinite(self.x_mean).all()
        )

    def factor(self) -> tuple[np.ndarray, np.ndarray, float]:
        """``(R, z, const)`` with ``R'R = G``, ``R'z = c`` and ``const = yy - z'z``."""
        if self._factor is None:
            self._factor = psd_factor(self.G, self.c, self.yy)
        return self._factor


def psd_factor(G, c, yy) -> tuple[np.ndarray, np.ndarray, float]:
    r"""Square-root factor of a least-squares objective.

    Returns ``(R, z, const)`` with :math:`w^\top G w - 2c^\top w + yy = \|Rw - z\|^2 +
    \mathrm{const}`: Cholesky when :math:`G` is well conditioned, otherwise the eigen square
    root on the range of :math:`G` (``c`` must lie in that range, as ``X'y`` does).
    """
    scale = max(float(np.abs(np.diag(G)).max(initial=0.0)), 1e-300)
    R = None
    try:
        L = np.linalg.cholesky(G)
        d = np.abs(np.diag(L))
        if d.size and d.min() > 1e-7 * np.sqrt(scale):
            R = L.T
            z = sla.solve_triangular(L, c, lower=True)
    except np.linalg.LinAlgError:
        R = None
    if R is None:  # singular or ill-conditioned: square root from the eigenbasis
        s, U = np.linalg.eigh(G)
        keep = s > 1e-12 * scale * max(1, G.shape[0])
        R = np.sqrt(s[keep])[:, None] * U[:, keep].T
        z = (U[:, keep].T @ c) / np.sqrt(s[keep])
    const = float(yy - z @ z)  # may be < 0 when G was shifted (G - delta I)
    return R, z, const


#: the largest Gram matrix :func:`gram_data` forms (bytes); beyond it a clear error, not an
#: out-of-memory crash (2 GiB: about 16,000 features)
GRAM_MAX_BYTES = 2**31


_NOT_FINITE = (
    "X and y must be finite: they hold NaN or infinity, or values so large that X'X overflows "
    "float64; remove or impute the non-finite values, or rescale the data"
)


class GramTimeLimit(RuntimeError):
    """:func:`gram_data` passed its ``deadline`` before the Gram matrix was complete."""


#: with a deadline, Gram matrices with more columns than this are formed in column blocks of
#: this width, the clock read between blocks
GRAM_BLOCK = 1024


def gram_data(
    X, y, fit_intercept: bool = True, check_finite: bool = True, moments=None, deadline=None
) -> GramData:
    r"""Centre (when ``fit_intercept``) and form :math:`X_c^\top X_c`, :math:`X_c^\top y_c`.

    Centring follows scikit-learn: the intercept drops out of the centred problem and is
    recovered as :math:`b = \bar y - \bar x^\top w`. The Gram matrix is computed without
    copying ``X`` as :math:`X^\top X - n\bar x\bar x^\top` unless the means are large next to
    the spread (then ``X`` is centred explicitly, to avoid cancellation). The column sums of
    ``X`` and :math:`X^\top y_c` come from one pass over ``X``.

    With ``check_finite`` a ``ValueError`` is raised when the data hold NaN or infinity (or
    values so large that these sums overflow); with ``check_finite=False`` the statistics are
    then not finite (see :meth:`GramData.finite`) and the caller reports it. ``moments``:
    :func:`data_moments` of the same data, if the caller has them (saves their pass over X).
    ``deadline`` (``time.perf_counter()`` seconds, e.g. a fit's ``settings.deadline``): beyond
    :data:`GRAM_BLOCK` features :math:`X^\top X` is formed in column blocks and the clock is
    read between them; :class:`GramTimeLimit` is raised when it has passed (the caller returns
    what it has). At n = 5000, p = 10^4 the product alone took 60-84 s on a loaded 2-core
    machine.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    n, p = X.shape
    if 8.0 * p * p > GRAM_MAX_BYTES:
        raise ValueError(
            f"the Gram form of this least-squares program needs a {p} x {p} matrix "
            f"({8.0 * p * p / 2**30:.1f} GiB) for {p} features and {n} samples, more than "
            f"optml.formulations.regression.GRAM_MAX_BYTES = {GRAM_MAX_BYTES / 2**30:.1f} GiB; "
            "screen the features first (e.g. keep those a lasso path selects) or raise that limit"
        )
    # non-finite data (NaN, inf, overflow) are reported at the end, without numpy's warnings
    with np.errstate(over="ignore", invalid="ignore"):
        out = _gram_stats(X, y, fit_intercept, moments, deadline)
    if out is None:
        if check_finite:
            raise ValueError(_NOT_FINITE)
        nan = np.full(p, np.nan)
        return GramData(G=np.full((p, p), np.nan), c=nan, yy=np.nan, n=n, x_mean=nan, y_mean=np.nan)
    if check_finite and not out.finite():
        raise ValueError(_NOT_FINITE)
    return out


def data_moments(X, y, fit_intercept: bool = True):
    r"""``(x_mean, y_mean, yc, c)`` with :math:`y_c = y - \bar y` and :math:`c = X^\top y_c`
    (so :math:`c = X_c^\top y_c`), from one pass over ``X``; None when a column sum of ``X``
    or an entry of ``c`` is not finite (a NaN or inf anywhere in ``X`` or ``y`` shows there).
    Without ``fit_intercept`` the means are zero. Call it under ``np.errstate(over="ignore",
    invalid="ignore")`` when the data may not be finite."""
    n, p = X.shape
    ym = float(y.sum()) / n if fit_intercept else 0.0
    yc = y - ym if fit_intercept else y
    # (2 x n) @ (n x p) reads each row of a C-ordered X once (X.T @ [1, yc] took twice as
    # long at n = 50000 on one BLAS thread)
    M = np.stack((np.ones(n), yc)) @ X
    if not np.isfinite(M).all():
        return None
    xm = M[0] / n if fit_intercept else np.zeros(p)
    return xm, ym, yc, M[1]


def _gram_stats(X, y, fit_intercept: bool, mom=None, deadline=None) -> GramData | None:
    """The statistics of :func:`gram_data`; None when :func:`data_moments` finds non-finite
    data (the Gram step is then skipped)."""
    n, p = X.shape
    mom = data_moments(X, y, fit_intercept) if mom is None else mom
    if mom is None:
        return None
    xm, ym, yc, c = mom
    if fit_intercept:
        G0 = _xtx(X, deadline)
        dg = np.diag(G0) - n * xm * xm
        if np.all(n * xm * xm <= 1e4 * np.maximum(dg, 1e-300)):
            G = G0 - n * np.outer(xm, xm)  # and c = X'yc = Xc'yc, as sum(yc) = 0
        else:
            Xc = X - xm
            G = _xtx(Xc, deadline)
            c = Xc.T @ yc
    else:
        G = _xtx(X, deadline)
    return GramData(G=G, c=c, yy=float(yc @ yc), n=n, x_mean=xm, y_mean=ym)


def _xtx(X, deadline=None) -> np.ndarray:
    """:math:`X^\top X`, symmetric, by BLAS ``syrk`` (half the work of a general product); with
    a ``deadline`` and more than :data:`GRAM_BLOCK` columns, by blocks of rows of the upper
    triangle (about the same work), the clock read between them (:class:`GramTimeLimit`)."""
    from scipy.linalg import blas

    p = X.shape[1]
    if deadline is not None and p > GRAM_BLOCK:
        import time

        G = np.empty((p, p))
        for i0 in range(0, p, GRAM_BLOCK):
            if time.perf_counter() > deadline:
                raise GramTimeLimit(
                    f"the time limit passed while forming X'X ({i0} of {p} columns done)"
                )
            i1 = min(i0 + GRAM_BLOCK, p)
            B = X[:, i0:i1].T @ X[:, i0:]
            G[i0:i1, i0:] = B
            G[i0:, i0:i1] = B.T
            D = B[:, : i1 - i0]
            G[i0:i1, i0:i1] = 0.5 * (D + D.T)  # exactly symmetric
        return G

    if X.flags.c_contiguous and X.size:
        U = blas.dsyrk(1.0, X.T, trans=0)  # X.T is Fortran-ordered: no copy
    elif X.flags.f_contiguous and X.size:
        U = blas.dsyrk(1.0, X, trans=1)
    else:
        G = X.T @ X
        return 0.5 * (G + G.T)
    G = U + U.T  # syrk leaves the strict lower triangle zero
    G.flat[:: G.shape[0] + 1] *= 0.5
    return G


#: best subset forms the Gram matrix when it takes at most this many bytes, else it reads it
#: lazily (:class:`LazyGram`, :func:`lazy_gram_data`); None: :data:`GRAM_MAX_BYTES`
GRAM_LAZY_BYTES: float | None = None


def gram_lazy_budget() -> float:
    """The byte budget beyond which best subset takes the lazy Gram route."""
    return GRAM_MAX_BYTES if GRAM_LAZY_BYTES is None else GRAM_LAZY_BYTES


class LazyGram:
    r"""The Gram matrix :math:`G = X_c^\top X_c` (:math:`+\,\sigma I`) without forming it.

    It answers what the best-subset code asks of ``G``: products ``G @ v`` / ``v @ G`` as
    :math:`X_c^\top(X_c v)`, rows ``G[S]`` (:math:`|S| \times p`), blocks ``G[np.ix_(S, T)]``,
    ``diagonal()``, ``trace()``, ``shape``, ``matvec`` (for ``scipy.sparse.linalg``) and
    ``eigvalsh()`` (from the singular values of :math:`X_c`). Rows are cached (up to
    ``cache_bytes``). Anything else (``np.asarray(G)``) raises a ``TypeError``: this object
    exists because the full matrix does not fit. ``shift``: :math:`\sigma` (the ridge term
    of :math:`G + \alpha I`).
    """

    __array_ufunc__ = None  # ndarray @ LazyGram -> LazyGram.__rmatmul__
    ndim = 2
    dtype = np.dtype(float)

    def __init__(self, Xc: np.ndarray, shift: float = 0.0, cache_bytes: int = 2**28):
        self.Xc = Xc  # Fortran order (see lazy_gram_data) makes X_c[:, S] a cheap copy
        n, p = Xc.shape
        self.shape = (p, p)
        self.shift = float(shift)
        self._d = np.einsum("ij,ij->j", Xc, Xc)
        self._rows: dict[int, np.ndarray] = {}
        self._max_rows = max(1, int(cache_bytes // max(8 * p, 1)))
        self._count = [0]  # products and row blocks computed, shared with with_shift views

    @property
    def p(self) -> int:
        return self.shape[0]

    @property
    def products(self) -> int:
        """How many :math:`X_c^\top(X_c v)` products and row blocks were computed."""
        return self._count[0]

    def with_shift(self, shift: float) -> LazyGram:
        r""":math:`X_c^\top X_c + \sigma I` sharing ``X_c`` (and the diagonal)."""
        out = LazyGram.__new__(LazyGram)
        out.__dict__.update(self.__dict__)
        out.shift = float(shift)
        out._rows = {}
        return out

    def __array__(self, *a, **k):
        raise TypeError(
            f"LazyGram: the {self.p} x {self.p} Gram matrix is not formed (it exceeds "
            "optml.formulations.regression.GRAM_LAZY_BYTES); use products, rows or blocks"
        )

    def diagonal(self) -> np.ndarray:
        return self._d + self.shift

    def trace(self) -> float:
        return float(self._d.sum() + self.shift * self.p)

    def matvec(self, v) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        self._count[0] += 1
        out = self.Xc.T @ (self.Xc @ v)
        if self.shift:
            out = out + self.shift * v
        return out

    rmatvec = matvec
    matmat = matvec

    def __matmul__(self, v):
        return self.matvec(v)

    def __rmatmul__(self, v):
        v = np.asarray(v, dtype=float)
        return self.matvec(v.T).T if v.ndim == 2 else self.matvec(v)

    def rows(self, S) -> np.ndarray:
        """``G[S]``: the rows (= columns) of ``S``, cached one by one (the cache is emptied
        when full)."""
        S = np.asarray(S, dtype=int).ravel()
        if S.size == 0:
            return np.zeros((0, self.p))
        miss = [j for j in dict.fromkeys(S.tolist()) if j not in self._rows]
        got = {}
        if miss:
            self._count[0] += 1
            B = self.Xc[:, miss].T @ self.Xc
            if self.shift:
                B[np.arange(len(miss)), miss] += self.shift
            got = dict(zip(miss, B, strict=True))
        out = np.stack([got[j] if j in got else self._rows[j] for j in S.tolist()])
        if got:
            if len(self._rows) + len(got) > self._max_rows:
                self._rows.clear()
            if len(got) <= self._max_rows:
                self._rows.update(got)
        return out

    def rows_dot(self, S, w) -> np.ndarray:
        r"""``w @ G[S]`` (:math:`= G_{\cdot S} w`): from the cached rows when at most eight are
        missing (computed and cached: one BLAS-3 block, fast next time), else as
        :math:`X_c^\top (X_{c,S} w)` without forming rows."""
        S = np.asarray(S, dtype=int).ravel()
        w = np.asarray(w, dtype=float).ravel()
        if S.size == 0:
            return np.zeros(self.p)
        miss = [j for j in dict.fromkeys(S.tolist()) if j not in self._rows]
        if len(miss) <= 8 and len(self._rows) + len(miss) <= self._max_rows:
            if miss:
                self.rows(miss)
            out = w[0] * self._rows[int(S[0])]
            for j, wj in zip(S[1:].tolist(), w[1:].tolist(), strict=True):
                out += wj * self._rows[j]
            return out
        self._count[0] += 1
        out = self.Xc.T @ (self.Xc[:, S] @ w)
        if self.shift:
            np.add.at(out, S, self.shift * w)
        return out

    def block(self, S, T) -> np.ndarray:
        """``G[np.ix_(S, T)]``."""
        S = np.asarray(S, dtype=int).ravel()
        T = np.asarray(T, dtype=int).ravel()
        B = self.Xc[:, S].T @ self.Xc[:, T]
        if self.shift:
            B = B + self.shift * (S[:, None] == T[None, :])
        return B

    def __getitem__(self, key):
        if isinstance(key, tuple) and len(key) == 2:
            S, T = (np.asarray(a) for a in key)
            if S.ndim == 2 and T.ndim == 2:  # np.ix_(S, T)
                return self.block(S.ravel(), T.ravel())
            raise TypeError("LazyGram supports G[S] and G[np.ix_(S, T)] only")
        if isinstance(key, slice):
            key = np.arange(self.p)[key]
        key = np.asarray(key)
        if key.dtype == bool:
            key = np.flatnonzero(key)
        if key.ndim == 0:
            return self.rows([int(key)])[0]
        return self.rows(key)

    def eigvalsh(self) -> np.ndarray:
        """Eigenvalues, ascending, from the singular values of :math:`X_c` (``O(np min(n,p))``)."""
        n, p = self.Xc.shape
        s = np.linalg.svd(self.Xc, compute_uv=False) ** 2
        w = np.zeros(p)
        w[: s.size] = s
        return np.sort(w) + self.shift


def gram_eigvalsh(G) -> np.ndarray:
    """``np.linalg.eigvalsh(G)``, also for a :class:`LazyGram`."""
    return G.eigvalsh() if isinstance(G, LazyGram) else np.linalg.eigvalsh(G)


def lazy_gram_data(X, y, fit_intercept: bool = True, check_finite: bool = True) -> GramData:
    r""":func:`gram_data` with ``G`` a :class:`LazyGram` (``X`` centred once, a copy: no
    :math:`p \times p` matrix is formed)."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    n, p = X.shape
    with np.errstate(over="ignore", invalid="ignore"):
        mom = data_moments(X, y, fit_intercept)
        if mom is not None:
            xm, ym, yc, _ = mom
            Xc = np.empty((n, p), order="F")  # columns contiguous: X_c[:, S] is cheap
            Xc[...] = X
            if fit_intercept:
                Xc -= xm
            c = Xc.T @ yc
            out = GramData(G=LazyGram(Xc), c=c, yy=float(yc @ yc), n=n, x_mean=xm, y_mean=ym)
    if mom is None or not out.finite():
        if check_finite:
            raise ValueError(_NOT_FINITE)
        nan = np.full(p, np.nan)
        return GramData(
            G=LazyGram(np.full((n, p), np.nan)), c=nan, yy=np.nan, n=n, x_mean=nan, y_mean=np.nan
        )
    return out


def psd_quad(x, H) -> NonlinearExpr:
    r""":math:`x^\top H x` for a matrix known to be positive semidefinite (a Gram matrix).

    Like :func:`optml.quad_form` but skips the eigenvalue check, which costs more than the
    solve on the programs built here.
    """
    x = om.as_expression(x).flatten()
    return NonlinearExpr(
        (), None, [(Atom("quad_form", x, P=np.asarray(H, float)), sp.identity(1, format="csr"))]
    )


def coef_bounds(p: int, positive: bool = False, bounds=None) -> tuple[np.ndarray, np.ndarray]:
    """Lower / upper bounds of the coefficients from ``positive`` and ``bounds=(lb, ub)``.

    ``lb``/``ub`` are numbers, arrays of shape ``(p,)`` or None (unbounded on that side).
    """
    lo = np.full(p, -np.inf)
    hi = np.full(p, np.inf)
    if bounds is not None:
        if not isinstance(bounds, tuple | list) or len(bounds) != 2:
            raise ValueError(
                f"coef_bounds must be a pair (lower, upper) of numbers, arrays of shape ({p},) "
                f"or None; got {bounds!r}"
            )
        for side, val in zip(("lower", "upper"), bounds, strict=True):
            if val is None:
                continue
            arr = np.asarray(val, dtype=float)
            if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != p):
                raise ValueError(
                    f"coef_bounds {side} has shape {arr.shape}; expected a number or shape ({p},)"
                )
            if np.isnan(arr).any():
                raise ValueError(f"coef_bounds {side} contains NaN")
            if side == "lower":
                lo = np.maximum(lo, arr)
            else:
                hi = np.minimum(hi, arr)
    if positive:
        lo = np.maximum(lo, 0.0)
    if np.any(lo > hi):
        j = int(np.flatnonzero(lo > hi)[0])
        raise ValueError(
            f"coefficient bounds are empty at feature {j}: lower {lo[j]} > upper {hi[j]}"
            + (" (positive=True forces lower >= 0)" if positive else "")
        )
    return lo, hi


# ---------------------------------------------------------------- least squares family
def least_squares_program(
    gram: GramData,
    scale: float = 1.0,
    l1: float = 0.0,
    l2: float = 0.0,
    lb=None,
    ub=None,
    form: str = "gram",
    name: str = "least_squares",
) -> om.Program:
    r"""Penalised least squares in the Gram form.

    .. math::

        \min_w\ s\,\|y_c - X_c w\|_2^2 + \lambda_1 \|w\|_1 + \lambda_2 \|w\|_2^2
        \quad\text{s.t.}\quad l \le w \le u,

    which is scikit-learn's ``LinearRegression`` (:math:`s=1`), ``Ridge``
    (:math:`s = 1, \lambda_2 = \alpha`), ``Lasso`` (:math:`s = 1/(2n), \lambda_1 = \alpha`) and
    ``ElasticNet`` (:math:`s = 1/(2n)`, :math:`\lambda_1 = \alpha\rho`,
    :math:`\lambda_2 = \alpha(1-\rho)/2`). The variable is ``coef``; with ``fit_intercept`` the
    intercept is :math:`\bar y - \bar x^\top w` (it drops out after centring). The objective
    value equals the un-centred objective of scikit-learn at that intercept.

    Parameters
    ----------
    gram : GramData
        From :func:`gram_data`.
    scale, l1, l2 : float
        Weights of the residual sum of squares, the l1 and the squared l2 penalty.
    lb, ub : array of shape (p,), optional
        Coefficient bounds (``positive=True`` is ``lb = 0``).
    form : {"gram", "factor"}
        ``"gram"``: Hessian :math:`2(sG + \lambda_2 I)` on ``coef``, no rows.
        ``"factor"``: :math:`\|Rw - z\|^2 + \mathrm{const}` with :math:`R^\top R = sG +
        \lambda_2 I` and an auxiliary ``u = Rw - z`` (p rows).
    """
    p = gram.p
    prog = om.Program(name)
    w = prog.var("coef", p, lb=lb, ub=ub, latex="w")
    if form == "gram":
        H = scale * gram.G
        if l2:
            H = H + l2 * np.eye(p)
        obj = psd_quad(w, H) - (2.0 * scale * gram.c) @ w + scale * gram.yy
    elif form == "factor":
        if l2:  # one factor of the whole quadratic: s G + l2 I = R'R (better conditioned)
            R, z, const = psd_factor(
                scale * gram.G + l2 * np.eye(p), scale * gram.c, scale * gram.yy
            )
            obj = om.sum_squares(R @ w - z) + const
        else:
            R, z, const = gram.factor()
            obj = scale * om.sum_squares(R @ w - z) + scale * const
    else:
        raise ValueError(f"form must be 'gram' or 'factor', got {form!r}")
    if l1:
        obj = obj + l1 * om.norm1(w)
    prog.minimize(obj)
    return prog


def least_squares_form(l1: float, form: str | None = None) -> str:
    r"""The program form :func:`least_squares_program` is given by default: ``"gram"`` with an
    l1 term, else ``"factor"``.

    HiGHS's QP solver stops early on a Hessian-only program (no rows, KKT residual ~1e-5), so
    without an l1 term the factor form :math:`\|Rw - z\|^2` (p equality rows) is used. HiGHS
    sometimes ends that form with "Solve error" (primal infeasibilities ~1e-5 on the p factor
    rows); the estimators then solve the Gram form, the same QP, as a second program solve
    (:meth:`LeastSquaresProblem.with_form`).
    """
    if form is not None:
        if form not in ("gram", "factor"):
            raise ValueError(f"form must be 'gram', 'factor' or None, got {form!r}")
        return form
    return "gram" if l1 > 0 else "factor"


def not_finite_error(X, y, name: str = "least squares") -> ValueError:
    """The error for data whose least-squares statistics are not finite: scikit-learn's
    messages for NaN / inf in ``X`` or ``y`` (raised here), else a ``ValueError`` saying that
    the values overflow float64 (returned, for the caller to raise)."""
    from sklearn.utils import assert_all_finite

    assert_all_finite(X, input_name="X", estimator_name=name)
    assert_all_finite(y, input_name="y", estimator_name=name)
    return ValueError(
        f"{name}: X'X or X'y overflows float64 (largest |X| = "
        f"{float(np.abs(X).max()):.3g}, largest |y| = {float(np.abs(y).max()):.3g}); "
        "rescale X and y, e.g. with sklearn.preprocessing.StandardScaler"
    )


@dataclass(eq=False)
class LeastSquaresProblem(StructuredProblem):
    r"""One instance of penalised least squares, for optml's active-set solver.

    .. math::

        \min_w\ s\,\|y_c - X_c w\|_2^2 + l_1\|w\|_1 + l_2\|w\|_2^2
        \quad\text{s.t.}\quad lo \le w \le hi

    (:func:`least_squares_program`; the intercept :math:`\bar y - \bar x^\top w` drops out
    after centring when ``fit_intercept``). It holds the raw data (references, not copies) and
    forms their statistics when first asked: :attr:`moments` (one pass over ``X``) and
    :attr:`gram` (:math:`X_c^\top X_c`, the Gram step), so that a solver that does not need
    the full Gram matrix (the working set of :mod:`optml.algorithms.working_set`) never forms
    it, and a general solver gets :meth:`build_program` (the Gram or factor form, see
    :func:`least_squares_form`).

    :meth:`evaluate` re-evaluates the objective on the raw data (the residual
    :math:`y - Xw - b`, not the Gram algebra) and the largest bound violation, in the
    program's units; it equals ``build_program().evaluate(values)`` up to round-off. A solver
    that has evaluated a point on the raw data itself records it with :meth:`record_check`
    (saving a pass over ``X``).

    Statistics formed after the solve (``program_`` of a fitted estimator) are checked against
    the moments of the solve: data changed in place since then raise a ``ValueError``.
    Non-finite data raise scikit-learn's errors (see :func:`not_finite_error`).
    """

    kind = "least_squares"
    sense = 1
    default_solver = "active-set"

    X: np.ndarray | None = field(repr=False)
    y: np.ndarray | None = field(repr=False)
    fit_intercept: bool = True
    s: float = 1.0
    l1: float = 0.0
    l2: float = 0.0
    lo: np.ndarray | None = field(default=None, repr=False)
    hi: np.ndarray | None = field(default=None, repr=False)
    form: str | None = None
    name: str = "least_squares"
    _moments: tuple | None = field(default=None, repr=False)
    _gram: GramData | None = field(default=None, repr=False)
    _check: tuple | None = field(default=None, repr=False)
    #: statistics formed from here on are compared with the moments (set after a solve)
    solved: bool = field(default=False, repr=False)

    @classmethod
    def from_gram(cls, gram: GramData, **kw) -> LeastSquaresProblem:
        """A problem from Gram data alone (no raw data: :meth:`evaluate` uses the program)."""
        return cls(X=None, y=None, _gram=gram, **kw)

    @property
    def shape(self) -> tuple[int, int]:
        if self.X is not None:
            return self.X.shape
        return self._gram.n, self._gram.p

    @property
    def moments(self):
        """:func:`data_moments` of the data, formed once (a ``ValueError`` when not finite)."""
        if self._moments is None:
            with np.errstate(over="ignore", invalid="ignore"):
                mom = data_moments(self.X, self.y, self.fit_intercept)
            if mom is None:
                raise not_finite_error(self.X, self.y, self.name)
            self._moments = mom
        return self._moments

    @property
    def gram(self) -> GramData:
        """:func:`gram_data` of the data, formed once (see the class docstring)."""
        if self._gram is None:
            if self.solved and self._moments is not None:
                g = gram_data(self.X, self.y, self.fit_intercept, check_finite=False)
                xm, ym, _, c = self._moments
                same = g.finite() and all(
                    np.allclose(a, b, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(b).max())))
                    for a, b in ((g.c, c), (g.x_mean, xm), (g.y_mean, ym))
                )
                if not same:
                    raise ValueError(
                        "the training data were changed in place after fit, so the fitted "
                        "program cannot be formed from them; refit, or call build_program(X, y)"
                    )
                self.X = self.y = None  # the Gram data replace them from here on
            else:
                g = gram_data(
                    self.X, self.y, self.fit_intercept, check_finite=False, moments=self.moments
                )
                if not g.finite():
                    raise not_finite_error(self.X, self.y, self.name)
            self._gram = g
        return self._gram

    def release_data(self) -> None:
        """Drop the references to ``X`` and ``y`` once the Gram data are formed (after a
        solve: :meth:`evaluate` then uses the program)."""
        if self._gram is not None:
            self.X = self.y = None
            self._check = None

    def intercept(self, w) -> float:
        r"""The intercept :math:`\bar y - \bar x^\top w` (0 without ``fit_intercept``)."""
        if self._gram is not None:
            return self._gram.intercept(w)
        xm, ym = self.moments[:2]
        return float(ym - xm @ w)

    def with_form(self, form: str) -> LeastSquaresProblem:
        """The same instance with the program in ``form`` ("gram" or "factor")."""
        new = LeastSquaresProblem(
            X=self.X,
            y=self.y,
            fit_intercept=self.fit_intercept,
            s=self.s,
            l1=self.l1,
            l2=self.l2,
            lo=self.lo,
            hi=self.hi,
            form=form,
            name=self.name,
            _moments=self._moments,
            _gram=self._gram,
            solved=self.solved,
        )
        return new

    def build_program(self) -> om.Program:
        """:func:`least_squares_program` of this instance."""
        return least_squares_program(
            self.gram,
            scale=self.s,
            l1=self.l1,
            l2=self.l2,
            lb=self.lo,
            ub=self.hi,
            form=least_squares_form(self.l1, self.form),
            name=self.name,
        )

    def record_check(self, w, objective: float, max_violation: float) -> None:
        """Record a solver's own raw-data evaluation of ``w`` (what :meth:`evaluate` returns
        for that point, unchanged, instead of a second pass over ``X``)."""
        self._check = (w, np.array(w, copy=True), float(objective), float(max_violation))

    def evaluate(self, values) -> tuple[float, float]:
        """``(objective, largest bound violation)`` of ``values["coef"]`` on the raw data."""
        w = values["coef"]
        chk = self._check
        if chk is not None and w is chk[0] and np.array_equal(w, chk[1]):
            return chk[2], chk[3]
        if self.X is None:
            return self.program.evaluate(values)
        return raw_check(
            self.X, self.y, self, np.asarray(w, float), self.s, self.l1, self.l2, self.lo, self.hi
        )

    @property
    def problem_class(self) -> str:
        return "QP"

    def __getstate__(self):
        # a pickle carries the p x p Gram data rather than the n x p training data, whichever
        # is smaller (with p > n the data; the statistics are formed from them after loading)
        state = dict(self.__dict__)
        state.pop("_program", None)
        state["_check"] = None
        if self.X is not None:
            n, p = self.X.shape
            if p <= n:
                state["_gram"] = self.gram
                state["X"] = state["y"] = None
        return state


def raw_check(X, y, gram, w, s, l1, l2, lo=None, hi=None) -> tuple[float, float]:
    r"""The objective :math:`s\|y - Xw - b\|^2 + l_1\|w\|_1 + l_2\|w\|^2` re-evaluated on the
    raw data (not the Gram algebra), at the intercept :math:`b` of ``gram`` (anything with an
    ``intercept(w)`` method), and the largest violation of the bounds."""
    r = y - X @ w - gram.intercept(w)
    check = float(s * (r @ r) + l1 * np.abs(w).sum() + l2 * (w @ w))
    viol = 0.0
    if lo is not None:
        viol = max(viol, float(np.max(lo - w, initial=0.0)))
    if hi is not None:
        viol = max(viol, float(np.max(w - hi, initial=0.0)))
    return check, viol


# --------------------------------------------------------------------- quantile / LAD
def quantile_program(
    X,
    y,
    quantile: float = 0.5,
    alpha: float = 0.0,
    fit_intercept: bool = True,
    lb=None,
    ub=None,
    name: str = "quantile_regression",
) -> om.Program:
    r"""Quantile regression (Koenker and Bassett 1978) as a linear program.

    .. math::

        \min_{w, b, u, v}\ \frac1n \sum_i \bigl(q\,u_i + (1-q)\,v_i\bigr) + \alpha\|w\|_1
        \quad\text{s.t.}\quad X w + b + u - v = y,\ u, v \ge 0,

    the objective of :class:`sklearn.linear_model.QuantileRegressor` (pinball loss
    :math:`\rho_q(r) = \max(q r, (q-1) r)`). ``q = 1/2`` is half the mean absolute deviation.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    n, p = X.shape
    prog = om.Program(name)
    w = prog.var("coef", p, lb=lb, ub=ub, latex="w")
    u = prog.var("over", n, lb=0.0, latex="u")
    v = prog.var("under", n, lb=0.0, latex="v")
    fit = X @ w
    if fit_intercept:
        b = prog.var("intercept", (), latex="b")
        fit = fit + b
    prog.add(fit + u - v == y, name="residuals")
    obj = (quantile / n) * u.sum() + ((1.0 - quantile) / n) * v.sum()
    if alpha:
        obj = obj + alpha * om.norm1(w)
    prog.minimize(obj)
    return prog


# ------------------------------------------------------------------------------ Huber
def huber_program(
    X,
    y,
    epsilon: float = 1.35,
    alpha: float = 1e-4,
    fit_intercept: bool = True,
    sigma_min: float = 1e-12,
    name: str = "huber_regression",
) -> om.Program:
    r"""Huber regression with a jointly estimated scale, as scikit-learn's ``HuberRegressor``.

    scikit-learn minimises over :math:`w, b, \sigma > 0`

    .. math::

        n\sigma + \sum_i \sigma\, H_\epsilon\!\Bigl(\frac{y_i - x_i^\top w - b}{\sigma}\Bigr)
        + \alpha\|w\|_2^2,\qquad
        H_\epsilon(t) = \begin{cases} t^2 & |t| \le \epsilon \\
        2\epsilon|t| - \epsilon^2 & |t| > \epsilon \end{cases}

    (Owen 2007). The scaled loss is the perspective of the Huber function, jointly convex, and
    :math:`H_\epsilon(t) = \min_{s}\ s^2 + 2\epsilon|t - s|` gives the second-order-cone program

    .. math::

        \min\ n\sigma + T + 2\epsilon\|a\|_1 + \alpha\|w\|_2^2
        \quad\text{s.t.}\quad Xw + b + s + a = y,\quad
        \|s\|_2^2 \le T\sigma \;\;\Bigl(\bigl\|(2s,\ T - \sigma)\bigr\|_2 \le T + \sigma\Bigr),
        \quad \sigma \ge \sigma_{\min}.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    n, p = X.shape
    prog = om.Program(name)
    w = prog.var("coef", p, latex="w")
    sigma = prog.var("scale", (), lb=sigma_min, latex=r"\sigma")
    s = prog.var("inlier", n, latex="s")
    a = prog.var("outlier", n, latex="a")
    T = prog.var("quad", (), lb=0.0, latex="T")
    fit = X @ w
    if fit_intercept:
        b = prog.var("intercept", (), latex="b")
        fit = fit + b
    prog.add(fit + s + a == y, name="split")
    prog.add(om.norm2(om.hstack([2.0 * s, T - sigma])) <= T + sigma, name="perspective")
    obj = n * sigma + T + (2.0 * epsilon) * om.norm1(a)
    if alpha:
        obj = obj + alpha * om.sum_squares(w)
    prog.minimize(obj)
    return prog


def huber_objective(X, y, coef, intercept, scale, epsilon, alpha) -> float:
    """scikit-learn's ``HuberRegressor`` objective at a point (numpy)."""
    r = np.asarray(y, float) - np.asarray(X, float) @ coef - intercept
    t = np.abs(r) / scale
    h = np.where(t <= epsilon, t * t, 2.0 * epsilon * t - epsilon**2)
    return float(len(r) * scale + scale * h.sum() + alpha * coef @ coef)


@dataclass(eq=False)
class HuberProblem(StructuredProblem):
    r"""One instance of Huber regression with a joint scale (kind ``"huber"``): the program of
    :func:`huber_program`, whose optimum is scikit-learn's ``HuberRegressor`` objective

    .. math:: \min_{w, b, \sigma > 0}\ n\sigma + \sum_i \sigma H_\epsilon\Bigl(\frac{y_i -
        x_i^\top w - b}{\sigma}\Bigr) + \alpha\|w\|_2^2 .

    The default solver is optml's ``"huber-newton"`` (:mod:`optml.algorithms.huber_newton`),
    which answers in ``coef``, ``intercept``, ``scale``; :meth:`complete_values` fills in the
    program's epigraph variables, and :meth:`evaluate` computes the objective with numpy
    (:func:`huber_objective`).
    """

    kind = "huber"
    sense = 1
    default_solver = "huber-newton"

    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    epsilon: float = 1.35
    alpha: float = 1e-4
    fit_intercept: bool = True
    sigma_min: float = 1e-12

    def __post_init__(self):
        self.X = np.asarray(self.X, dtype=float)
        self.y = np.asarray(self.y, dtype=float).ravel()
        if self.X.ndim != 2 or self.y.shape[0] != self.X.shape[0]:
            raise ValueError(f"X must be (n, p) and y (n,); got {self.X.shape} and {self.y.shape}")

    def build_program(self):
        return huber_program(
            self.X, self.y, self.epsilon, self.alpha, self.fit_intercept, self.sigma_min
        )

    def _point(self, values):
        w = np.asarray(values["coef"], dtype=float).ravel()
        b = float(np.asarray(values.get("intercept", 0.0), dtype=float).reshape(-1)[0])
        sigma = float(np.asarray(values["scale"], dtype=float).reshape(-1)[0])
        return w, (b if self.fit_intercept else 0.0), sigma

    def evaluate(self, values) -> tuple[float, float]:
        w, b, sigma = self._point(values)
        viol = max(0.0, self.sigma_min - sigma)
        if sigma <= 0:
            return float("inf"), viol
        return huber_objective(self.X, self.y, w, b, sigma, self.epsilon, self.alpha), viol

    def complete_values(self, values: dict) -> dict:
        w, b, sigma = self._point(values)
        r = self.y - self.X @ w - b
        cap = self.epsilon * sigma
        inl = np.clip(r, -cap, cap)
        out = dict(values)
        out["inlier"] = inl
        out["outlier"] = r - inl
        out["quad"] = np.array(float(inl @ inl) / sigma)
        return out

    @property
    def problem_class(self) -> str:
        return "SOCP"


# -------------------------------------------------------------------------------- SVR
def svr_program(
    X,
    y,
    C: float = 1.0,
    epsilon: float = 0.1,
    fit_intercept: bool = True,
    name: str = "support_vector_regression",
) -> om.Program:
    r"""Linear epsilon-insensitive support vector regression (primal QP).

    .. math::

        \min_{w, b}\ \tfrac12\|w\|_2^2 + C\sum_i \max\bigl(0,\ |y_i - x_i^\top w - b| -
        \epsilon\bigr),

    the objective of :class:`sklearn.svm.SVR` with ``kernel="linear"`` (libsvm; the intercept
    is not penalised). Written as :math:`(r_i - \epsilon)_+ + (-r_i - \epsilon)_+`, which is
    the same for :math:`\epsilon \ge 0`.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    n, p = X.shape
    prog = om.Program(name)
    w = prog.var("coef", p, latex="w")
    r = y - X @ w
    if fit_intercept:
        b = prog.var("intercept", (), latex="b")
        r = r - b
    obj = 0.5 * om.sum_squares(w) + C * (om.sum(om.pos(r - epsilon)) + om.sum(om.pos(-r - epsilon)))
    prog.minimize(obj)
    return prog


def svr_dual_program(K, y, C: float = 1.0, epsilon: float = 0.1, factor=None) -> om.Program:
    r"""The :math:`\epsilon`-SVR dual QP (libsvm's problem for :class:`sklearn.svm.SVR`),
    with the Gram matrix written as a factor :math:`K = LL^\top` (Vapnik 1995; Smola and
    Schölkopf 2004):

    .. math::

        \max_{\alpha, \alpha^*}\ y^\top(\alpha - \alpha^*) - \epsilon\,\mathbf 1^\top
        (\alpha + \alpha^*) - \tfrac12\|L^\top(\alpha - \alpha^*)\|_2^2
        \quad\text{s.t.}\quad \mathbf 1^\top(\alpha - \alpha^*) = 0,\
        0 \le \alpha, \alpha^* \le C.

    The regression function is :math:`f(x) = \sum_i (\alpha_i - \alpha_i^*) K(x_i, x) + b`.
    ``factor`` may pass ``L`` directly (else :func:`~optml.formulations.classification.
    kernel_factor`, which refuses a kernel matrix that is not positive semidefinite).
    """
    from optml.formulations.classification import kernel_factor

    y = np.asarray(y, dtype=float).ravel()
    if not (np.isfinite(C) and C > 0):
        raise ValueError(f"C must be a positive number, got {C}")
    if not (np.isfinite(epsilon) and epsilon >= 0):
        raise ValueError(f"epsilon must be a nonnegative number, got {epsilon}")
    L = kernel_factor(K) if factor is None else np.asarray(factor, dtype=float)
    n = y.size
    if L.shape[0] != n:
        raise ValueError(f"kernel factor has {L.shape[0]} rows, expected {n}")
    prog = om.Program("svr_dual")
    a = prog.var("alpha", n, lb=0.0, ub=C, latex=r"\alpha")
    a_star = prog.var("alpha_star", n, lb=0.0, ub=C, latex=r"\alpha^*")
    beta = a - a_star
    prog.add(om.sum(beta) == 0.0, name="balance")
    prog.maximize(
        y @ beta - epsilon * (om.sum(a) + om.sum(a_star)) - 0.5 * om.sum_squares(L.T @ beta)
    )
    return prog


@dataclass(eq=False)
class KernelSVRProblem(KernelColumnsMixin, StructuredProblem):
    r"""One :math:`\epsilon`-SVR instance with a kernel, kind ``"kernel_svr"``: the dual QP of
    :func:`svr_dual_program` (a maximisation). The default solver is optml's ``"smo"``
    (:mod:`optml.algorithms.smo`, libsvm's method on the :math:`2n` variables
    :math:`(\alpha, \alpha^*)`); a general solver receives :func:`svr_dual_program` with the
    factor of the kernel matrix (formed only then). :meth:`evaluate` computes the dual
    objective with the exact kernel.
    """

    kind = "kernel_svr"
    sense = -1
    default_solver = "smo"

    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    C: float = 1.0
    epsilon: float = 0.1
    kernel: object = "rbf"
    gamma: float = 1.0
    degree: int = 3
    coef0: float = 0.0
    K: np.ndarray | None = field(default=None, repr=False)
    eps: float = 1e-5
    cache_mb: float = 400.0

    def __post_init__(self):
        self.X = np.asarray(self.X, dtype=float)
        self.y = np.asarray(self.y, dtype=float).ravel()
        if self.X.ndim != 2 or self.y.shape[0] != self.X.shape[0]:
            raise ValueError(f"X must be (n, p) and y (n,); got {self.X.shape} and {self.y.shape}")
        self.C = float(self.C)
        self.epsilon = float(self.epsilon)
        self._cols = None
        self._memo = None

    def build_program(self):
        K = self.columns.block(np.arange(self.y.size)) if self.K is None else self.K
        return svr_dual_program(K, self.y, self.C, self.epsilon)

    def evaluate(self, values) -> tuple[float, float]:
        a = np.asarray(values["alpha"], dtype=float).ravel()
        a_s = np.asarray(values["alpha_star"], dtype=float).ravel()
        beta = a - a_s
        obj = float(self.y @ beta - self.epsilon * (a.sum() + a_s.sum()))
        obj -= 0.5 * float(beta @ self.kernel_dot(beta))
        viol = max(
            abs(float(beta.sum())),
            float(np.maximum(-np.minimum(a, a_s), 0.0).max()),
            float(np.maximum(np.maximum(a, a_s) - self.C, 0.0).max()),
        )
        return obj, viol

    @property
    def problem_class(self) -> str:
        return "QP"
