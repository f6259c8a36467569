r"""Regression beyond linearity: best subset selection over a library of nonlinear basis
functions, the model size chosen by an information criterion (ALAMO: Cozad, Miller &
Sahinidis 2014; Wilson & Sahinidis 2017), with constraints on the fitted function.

The library :math:`\{\phi_t\}` holds, for every input :math:`x_j`: powers :math:`x_j^a`
(:math:`a` in ``powers``), :math:`\log x_j`, :math:`e^{x_j}`, and for every pair
:math:`x_j x_l` and :math:`x_j / x_l`; a function enters only where the training data lie in
its domain (:math:`x_j > 0` for logs and fractional powers, :math:`x_l` of one sign and away
from 0 for ratios and negative powers, :math:`x_j \le 50` for exponentials); ``predict``
refuses points outside the domain of a selected term. For :math:`k = 1, \dots, k_{\max}`,

.. math:: \min_{\beta, b}\ \|y - \Phi\beta - b\|_2^2 \quad\text{s.t.}\quad \|\beta\|_0 \le k
    \ (+\ \text{side constraints}),

is solved and certified (:class:`BestSubsetRegression`, columns of :math:`\Phi` scaled to unit
standard deviation), and the size minimising

.. math:: \mathrm{BIC} = n\log(\mathrm{RSS}/n) + k'\log n, \qquad
    \mathrm{AICc} = n\log(\mathrm{RSS}/n) + 2k' + \frac{2k'(k'+1)}{n - k' - 1}

(:math:`k' = k + 1` with the intercept) is kept. Side constraints are linear in
:math:`(\beta, b)` and imposed at the training points: bounds
:math:`\ell \le \Phi(x_s)\beta + b \le u` (``output_bounds``) and monotonicity
:math:`\pm\,\partial f/\partial x_j(x_s) = \pm\sum_t \beta_t\,\partial\phi_t/\partial x_j(x_s)
\ge 0` (``monotone``); then each size's program (``build_program`` of
:class:`BestSubsetRegression` with those rows added) goes to a general MIQP solver (SCIP).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, check_X_y, validate_data

from optml._base import ProgramEstimator
from optml._validation import check_choice
from optml.regression._subset import BestSubsetRegression

__all__ = ["ALAMORegression", "basis_library"]

_EXP_MAX = 50.0


class _Term:
    """One basis function: ``kind`` in power / log / exp / product / ratio."""

    def __init__(self, kind, j, l=None, a=None):  # noqa: E741
        self.kind, self.j, self.l, self.a = kind, j, l, a

    def name(self, names):
        x, z = names[self.j], None if self.l is None else names[self.l]
        if self.kind == "power":
            return x if self.a == 1 else f"{x}^{self.a:g}"
        if self.kind == "log":
            return f"log({x})"
        if self.kind == "exp":
            return f"exp({x})"
        if self.kind == "product":
            return f"{x}*{z}"
        return f"{x}/{z}"

    def value(self, X):
        x = X[:, self.j]
        if self.kind == "power":
            return x**self.a
        if self.kind == "log":
            return np.log(x)
        if self.kind == "exp":
            return np.exp(x)
        if self.kind == "product":
            return x * X[:, self.l]
        return x / X[:, self.l]

    def derivative(self, X, d):
        """:math:`\\partial\\phi/\\partial x_d` at the rows of ``X``."""
        x = X[:, self.j]
        zero = np.zeros(X.shape[0])
        if self.kind in ("power", "log", "exp"):
            if d != self.j:
                return zero
            if self.kind == "power":
                return self.a * x ** (self.a - 1) if self.a != 1 else np.ones_like(x)
            return 1.0 / x if self.kind == "log" else np.exp(x)
        z = X[:, self.l]
        if self.kind == "product":
            return (z if d == self.j else zero) + (x if d == self.l else zero)
        return (1.0 / z if d == self.j else zero) + (-x / z**2 if d == self.l else zero)

    def in_domain(self, X):
        """Rows of ``X`` where the term is defined (and finite)."""
        x = X[:, self.j]
        if self.kind == "log" or (self.kind == "power" and self.a != int(self.a)):
            return x > 0
        if self.kind == "power" and self.a < 0:
            return x != 0
        if self.kind == "exp":
            return x <= _EXP_MAX
        if self.kind == "ratio":
            return X[:, self.l] != 0
        return np.ones(X.shape[0], bool)


def _one_sign(z):
    return bool((z > 0).all() or (z < 0).all()) and float(np.abs(z).min()) > 1e-8 * max(
        1.0, float(np.abs(z).max())
    )


def basis_library(X, powers=(1, 2, 3), logs=True, exps=True, products=True, ratios=True):
    """The basis terms whose domain holds the rows of ``X`` (module docstring)."""
    X = np.asarray(X, dtype=float)
    p = X.shape[1]
    terms = []
    for j in range(p):
        x = X[:, j]
        for a in powers:
            a = float(a)
            if a == 0:
                continue
            if a != int(a) and not (x > 0).all():
                continue
            if a < 0 and not _one_sign(x):
                continue
            terms.append(_Term("power", j, a=int(a) if a == int(a) else a))
        if logs and (x > 0).all():
            terms.append(_Term("log", j))
        if exps and x.max() <= _EXP_MAX:
            terms.append(_Term("exp", j))
    for j in range(p):
        for l in range(p):  # noqa: E741
            if j == l:
                continue
            if products and j < l:
                terms.append(_Term("product", j, l))
            if ratios and _one_sign(X[:, l]):
                terms.append(_Term("ratio", j, l))
    # drop terms that are constant or duplicate another on the data
    keep, seen = [], []
    for t in terms:
        v = t.value(X)
        if not np.isfinite(v).all() or np.ptp(v) <= 1e-12 * max(1.0, np.abs(v).max()):
            continue
        if any(np.allclose(v, s, rtol=1e-10, atol=0) for s in seen):
            continue
        keep.append(t)
        seen.append(v)
    return keep


class ALAMORegression(RegressorMixin, ProgramEstimator):
    r"""ALAMO-style regression: certified best subsets over a nonlinear basis library, the
    size chosen by BIC / AICc over the path, with optional bounds and monotonicity of the
    fitted function at the training points (module docstring).

    Parameters
    ----------
    max_terms : int, default 4
        Largest model size on the path.
    criterion : {"bic", "aicc"}, default "bic"
    powers : tuple of float, default (1, 2, 3)
        Exponents of :math:`x_j^a` (fractional ones need :math:`x_j > 0`, negative ones
        :math:`x_j` of one sign).
    logs, exps, products, ratios : bool, default True
        Include :math:`\log x_j`, :math:`e^{x_j}`, :math:`x_jx_l`, :math:`x_j/x_l`.
    output_bounds : (lower, upper), optional
        Bounds on the fitted function at the training points (``None`` for no bound).
    monotone : dict {feature index: +1 or -1}, optional
        Increasing (+1) / decreasing (-1) in that input at the training points.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        Common solver parameters (each fit on the path gets the time left).

    Attributes
    ----------
    terms_ (names of the library), support_ (indices of the selected terms), coef_ (one per
    library term, zero outside the support), intercept_, n_terms_, criteria_ (per size),
    path_ (the fitted :class:`BestSubsetRegression` per size), result_ (the chosen size's),
    program_
    """

    def __init__(
        self,
        max_terms=4,
        *,
        criterion="bic",
        powers=(1, 2, 3),
        logs=True,
        exps=True,
        products=True,
        ratios=True,
        output_bounds=None,
        monotone=None,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
    ):
        self.max_terms = max_terms
        self.criterion = criterion
        self.powers = powers
        self.logs = logs
        self.exps = exps
        self.products = products
        self.ratios = ratios
        self.output_bounds = output_bounds
        self.monotone = monotone
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def _check_params(self):
        self._check_common_params()
        check_choice("criterion", self.criterion, ("bic", "aicc"))
        if not isinstance(self.max_terms, int | np.integer) or self.max_terms < 1:
            raise ValueError(f"max_terms must be a positive integer, got {self.max_terms!r}")
        if self.monotone is not None:
            if not isinstance(self.monotone, dict) or any(
                v not in (1, -1) for v in self.monotone.values()
            ):
                raise ValueError(
                    "monotone must be a dict {feature index: +1 (increasing) or -1 "
                    f"(decreasing)}}, got {self.monotone!r}"
                )
        if self.output_bounds is not None and len(self.output_bounds) != 2:
            raise ValueError(
                f"output_bounds must be (lower, upper), either may be None; got "
                f"{self.output_bounds!r}"
            )

    def _library(self, X):
        terms = basis_library(X, self.powers, self.logs, self.exps, self.products, self.ratios)
        if not terms:
            raise ValueError("ALAMORegression: no basis function is defined on these data")
        return terms

    @staticmethod
    def _design(terms, X):
        return np.column_stack([t.value(X) for t in terms])

    def _constrained(self):
        return self.output_bounds is not None or bool(self.monotone)

    def _rows(self, Xtr, scale):
        """The side constraints as rows ``(A, a, c, name)``: ``A coef + a b >= c``."""
        rows = []
        n = Xtr.shape[0]
        F = self._design(self._terms, Xtr) / scale
        if self.output_bounds is not None:
            lo, hi = self.output_bounds
            if lo is not None:
                rows.append((F, np.ones(n), np.full(n, float(lo)), "output_lower"))
            if hi is not None:
                rows.append((-F, -np.ones(n), np.full(n, -float(hi)), "output_upper"))
        for d, sgn in (self.monotone or {}).items():
            if not 0 <= int(d) < Xtr.shape[1]:
                raise ValueError(f"monotone names feature {d}, but X has {Xtr.shape[1]}")
            G = np.column_stack([t.derivative(Xtr, int(d)) for t in self._terms]) / scale
            rows.append((float(sgn) * G, np.zeros(n), np.zeros(n), f"monotone_x{int(d)}"))
        return rows

    def _constrained_program(self, Ps, y, Xtr, scale, k):
        from optml.formulations.alamo import ellipsoid_bounds, subset_program

        lo, hi = self.output_bounds if self.output_bounds is not None else (None, None)
        b0 = float(np.clip(y.mean(), -np.inf if lo is None else lo, np.inf if hi is None else hi))
        upper = float(np.sum((y - b0) ** 2))  # beta = 0, b = b0 is feasible
        M = ellipsoid_bounds(Ps, y, upper)
        return subset_program(Ps, y, k, M, self._rows(Xtr, scale))

    def build_program(self, X, y, k=None):
        """The program of size ``k`` (default ``max_terms``) on the scaled library: the
        constrained best subset MIQP (:mod:`optml.formulations.alamo`) with side
        constraints, else :class:`BestSubsetRegression`'s."""
        self._check_params()
        X, y = check_X_y(X, y, y_numeric=True, dtype=np.float64)
        self._terms = self._library(X)
        Phi = self._design(self._terms, X)
        scale = Phi.std(axis=0)
        k = min(int(k or self.max_terms), len(self._terms))
        if self._constrained():
            return self._constrained_program(Phi / scale, y, X, scale, k)
        return self._subset(k, len(self._terms)).build_program(Phi / scale, y)

    def _subset(self, k, m):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return BestSubsetRegression(
                k=min(k, m),
                backend=self.backend,
                solver=self.solver,
                mip_gap=self.mip_gap,
                verbose=self.verbose,
                solver_options=self.solver_options,
            )

    def fit(self, X, y):
        import warnings

        self._check_params()
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64, ensure_min_samples=3)
        n = X.shape[0]
        self._terms = self._library(X)
        Phi = self._design(self._terms, X)
        scale = Phi.std(axis=0)
        Ps = Phi / scale
        m = Ps.shape[1]
        settings = self._settings(mip=True).started()
        k_max = min(int(self.max_terms), m, n - 3)
        path, crit = [], []
        for k in range(1, max(k_max, 1) + 1):
            est = self._subset(k, m)
            est.time_limit = settings.remaining()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                if self._constrained():
                    est = self._fit_constrained(Ps, y, X, scale, k, settings)
                else:
                    est.fit(Ps, y)
            rss = float(np.sum((y - Ps @ est.coef_ - est.intercept_) ** 2))
            kk = int(np.count_nonzero(est.coef_)) + 1
            ll = n * np.log(max(rss, 1e-300) / n)
            if self.criterion == "bic":
                c = ll + kk * np.log(n)
            else:
                c = ll + 2 * kk + 2 * kk * (kk + 1) / max(n - kk - 1, 1)
            path.append(est)
            crit.append(c)
            if settings.expired():
                break
        best = int(np.argmin(crit))
        chosen = path[best]
        self.path_ = path
        self.criteria_ = np.asarray(crit)
        self.n_terms_ = int(np.count_nonzero(chosen.coef_))
        self.coef_ = chosen.coef_ / scale
        self.intercept_ = float(chosen.intercept_)
        self.support_ = np.flatnonzero(self.coef_)
        self.terms_ = [t.name(self._names()) for t in self._terms]
        self.result_ = chosen.result_
        self.program_ = chosen.program_
        return self

    def _fit_constrained(self, Ps, y, Xtr, scale, k, settings):
        """One size of the constrained path: its MIQP on the solve path (SCIP by default)."""
        from types import SimpleNamespace

        prog = self._constrained_program(Ps, y, Xtr, scale, k)
        res = self._solve(prog, mip=True, settings=settings.for_internal())
        coef = np.asarray(res.values["coef"], dtype=float).ravel()
        coef = np.where(np.asarray(res.values["support"]).ravel() > 0.5, coef, 0.0)
        b = float(np.asarray(res.values["intercept"]).ravel()[0])
        return SimpleNamespace(coef_=coef, intercept_=b, result_=res, program_=prog)

    def _names(self):
        if hasattr(self, "feature_names_in_"):
            return [str(c) for c in self.feature_names_in_]
        return [f"x{j}" for j in range(self.n_features_in_)]

    def formula(self, precision=4) -> str:
        """The fitted model as text, e.g. ``y = 1.5 + 2*x0^2 - 3*log(x1)``."""
        check_is_fitted(self, "coef_")
        parts = [f"{self.intercept_:.{precision}g}"]
        for t in self.support_:
            c = self.coef_[t]
            parts.append(f"{'-' if c < 0 else '+'} {abs(c):.{precision}g}*{self.terms_[t]}")
        return "y = " + " ".join(parts)

    def predict(self, X):
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        out = np.full(X.shape[0], self.intercept_)
        for t in self.support_:
            term = self._terms[t]
            ok = term.in_domain(X)
            if not ok.all():
                raise ValueError(
                    f"ALAMORegression: term {self.terms_[t]} is undefined at {int((~ok).sum())} "
                    "row(s) of X (outside its domain on the training data); predict inside it"
                )
            out += self.coef_[t] * term.value(X)
        return out
