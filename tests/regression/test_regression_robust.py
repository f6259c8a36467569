"""LAD / quantile (vs an LP written with scipy and vs scikit-learn), Huber (vs scikit-learn and
scipy on the same joint-scale objective), linear SVR (vs libsvm)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog, minimize

from optml.formulations.regression import huber_objective
from optml.regression import (
    HuberRegression,
    LeastAbsoluteDeviation,
    QuantileRegression,
    SupportVectorRegression,
)


def _data(n=60, p=3, seed=0, outliers=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + 0.3 * rng.standard_normal(n) + 1.0
    y[:outliers] += 10.0
    return X, y


def linprog_quantile(X, y, q, alpha, positive=False):
    """The quantile-regression LP written directly for scipy: x = [w, b, u, v, t]."""
    n, p = X.shape
    c = np.concatenate(
        [np.zeros(p + 1), np.full(n, q / n), np.full(n, (1 - q) / n), np.full(p, alpha)]
    )
    I_n, I_p = sp.identity(n), sp.identity(p)
    A_eq = sp.hstack([sp.csr_matrix(X), np.ones((n, 1)), I_n, -I_n, sp.csr_matrix((n, p))])
    Z = sp.csr_matrix((p, 1 + 2 * n))
    A_ub = sp.vstack([sp.hstack([I_p, Z, -I_p]), sp.hstack([-I_p, Z, -I_p])])
    bounds = [(0 if positive else None, None)] * p + [(None, None)] + [(0, None)] * (2 * n + p)
    res = linprog(
        c, A_ub=A_ub, b_ub=np.zeros(2 * p), A_eq=A_eq, b_eq=y, bounds=bounds, method="highs"
    )
    assert res.status == 0
    return res.fun, res.x[:p], res.x[p]


def pinball(r, q):
    return np.maximum(q * r, (q - 1) * r)


@pytest.mark.parametrize("q,alpha", [(0.5, 0.0), (0.2, 0.0), (0.8, 0.05)])
def test_quantile_matches_linprog_and_sklearn(q, alpha):
    from sklearn.linear_model import QuantileRegressor

    X, y = _data()
    m = QuantileRegression(quantile=q, alpha=alpha).fit(X, y)
    f_ref, w_ref, b_ref = linprog_quantile(X, y, q, alpha)
    f_m = pinball(y - X @ m.coef_ - m.intercept_, q).mean() + alpha * np.abs(m.coef_).sum()
    assert f_m == pytest.approx(f_ref, rel=1e-7)
    assert m.objective_ == pytest.approx(f_ref, rel=1e-7)
    s = QuantileRegressor(quantile=q, alpha=alpha, solver="highs").fit(X, y)
    f_s = pinball(y - X @ s.coef_ - s.intercept_, q).mean() + alpha * np.abs(s.coef_).sum()
    assert f_m == pytest.approx(f_s, rel=1e-6)
    assert m.result_.status == "optimal" and m.result_.gap <= 1e-6


def test_lad_matches_linprog():
    X, y = _data(seed=1)
    m = LeastAbsoluteDeviation().fit(X, y)
    f_ref, _, _ = linprog_quantile(X, y, 0.5, 0.0)
    mad = np.abs(y - X @ m.coef_ - m.intercept_).mean()
    assert mad == pytest.approx(2 * f_ref, rel=1e-7)
    assert m.objective_ == pytest.approx(mad, rel=1e-7)
    # LAD resists the outliers that pull least squares
    ls = np.linalg.lstsq(np.column_stack([X, np.ones(len(y))]), y, rcond=None)[0]
    assert abs(m.intercept_ - 1.0) < abs(ls[-1] - 1.0)


def test_lad_alpha_and_positive():
    X, y = _data(seed=2)
    m = LeastAbsoluteDeviation(alpha=0.1, positive=True).fit(X, y)
    assert (m.coef_ >= -1e-9).all()
    f_ref, _, _ = linprog_quantile(X, y, 0.5, 0.05, positive=True)  # LAD = 2 x quantile
    assert m.objective_ == pytest.approx(2 * f_ref, rel=1e-7)


@pytest.mark.parametrize("epsilon,alpha", [(1.35, 1e-4), (2.0, 1.0)])
def test_huber_matches_scipy_on_joint_objective(epsilon, alpha):
    from sklearn.linear_model import HuberRegressor

    X, y = _data(seed=3)
    m = HuberRegression(epsilon=epsilon, alpha=alpha).fit(X, y)
    assert m.result_.status == "optimal"
    p = X.shape[1]

    def f(theta):
        return huber_objective(X, y, theta[:p], theta[p], np.exp(theta[p + 1]), epsilon, alpha)

    s = HuberRegressor(epsilon=epsilon, alpha=alpha, tol=1e-12, max_iter=100000).fit(X, y)
    x0 = np.concatenate([s.coef_, [s.intercept_, np.log(s.scale_)]])
    ref = minimize(
        f,
        x0,
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 40000, "maxfev": 40000},
    )
    f_ref = min(ref.fun, f(x0))
    # optml's certified optimum is at least as good, and equal to 1e-6 relative
    assert m.objective_ <= f_ref * (1 + 1e-9)
    assert m.objective_ == pytest.approx(f_ref, rel=1e-6)
    np.testing.assert_allclose(m.coef_, s.coef_, atol=1e-3)
    assert m.scale_ == pytest.approx(s.scale_, rel=1e-3)
    assert m.outliers_[:4].all()


def test_svr_matches_libsvm():
    from sklearn.svm import SVR

    X, y = _data(seed=4, outliers=0)
    C, eps = 2.0, 0.2
    m = SupportVectorRegression(C=C, epsilon=eps).fit(X, y)
    s = SVR(kernel="linear", C=C, epsilon=eps, tol=1e-10).fit(X, y)

    def obj(w, b):
        return 0.5 * w @ w + C * np.maximum(np.abs(y - X @ w - b) - eps, 0).sum()

    w_s = s.coef_.ravel()
    assert obj(m.coef_, m.intercept_) <= obj(w_s, s.intercept_[0]) * (1 + 1e-9)
    assert obj(m.coef_, m.intercept_) == pytest.approx(obj(w_s, s.intercept_[0]), rel=1e-6)
    assert m.objective_ == pytest.approx(obj(m.coef_, m.intercept_), rel=1e-9)
    np.testing.assert_allclose(m.coef_, w_s, atol=1e-4)


def test_svr_refuses_unknown_kernels():
    X, y = _data()
    with pytest.raises(ValueError, match="kernel must be one of"):
        SupportVectorRegression(kernel="cubic").fit(X, y)
