"""optml's active-set solver for the least-squares family: the same optimum as the program
solved by HiGHS and as scikit-learn, a bound that is never above the optimum, and the fallback
to the program when it cannot certify."""

import pickle

import numpy as np
import pytest
import sklearn.linear_model as skl
from sklearn.linear_model import lasso_path as sk_lasso_path

from optml.algorithms import active_set as _active_set
from optml.formulations.regression import gram_data
from optml.regression import ElasticNet, Lasso, LeastSquares, Ridge, lasso_path


def _data(n=80, p=10, seed=0, shift=2.0, rho=0.5):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = Z + rho * Z[:, [0]] + shift  # correlated, non-centred
    w = rng.standard_normal(p) * (rng.random(p) < 0.5)
    y = X @ w + 0.5 * rng.standard_normal(n) + 1.0
    return X, y


def _sk_obj(est, X, y, w, b):
    n = len(y)
    r = y - X @ w - b
    if isinstance(est, Lasso | ElasticNet):
        a = est.alpha
        rho = 1.0 if isinstance(est, Lasso) else est.l1_ratio
        return r @ r / (2 * n) + a * rho * np.abs(w).sum() + 0.5 * a * (1 - rho) * w @ w
    a = getattr(est, "alpha", 0.0)
    return r @ r + a * w @ w


ESTIMATORS = [
    lambda: Lasso(alpha=0.01),
    lambda: Lasso(alpha=0.2),
    lambda: Lasso(alpha=0.05, positive=True),
    lambda: Lasso(alpha=0.05, fit_intercept=False),
    lambda: Lasso(alpha=0.02, coef_bounds=(-0.3, 0.4)),
    lambda: Lasso(alpha=0.02, coef_bounds=(0.05, 0.5)),  # 0 outside the box
    lambda: ElasticNet(alpha=0.05, l1_ratio=0.3),
    lambda: ElasticNet(alpha=0.05, l1_ratio=0.0),
    lambda: Ridge(alpha=3.0),
    lambda: Ridge(alpha=1.0, coef_bounds=(None, 0.2)),
    lambda: LeastSquares(),
    lambda: LeastSquares(positive=True),
]


@pytest.mark.parametrize("make", ESTIMATORS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_active_set_equals_program_and_is_certified(make, seed):
    X, y = _data(seed=seed)
    fast = make().fit(X, y)
    assert fast.result_.backend == "optml" and fast.result_.solver == "active-set"
    assert fast.result_.status == "optimal" and fast.result_.verified
    assert fast.result_.gap <= 1e-9
    slow = make().set_params(method="program").fit(X, y)
    assert slow.result_.backend == "highs"
    f_fast = _sk_obj(fast, X, y, fast.coef_, fast.intercept_)
    f_slow = _sk_obj(slow, X, y, slow.coef_, slow.intercept_)
    # the active set is exact: never worse than HiGHS's QP beyond round-off
    assert f_fast <= f_slow + 1e-9 * max(1.0, abs(f_slow))
    assert abs(f_fast - f_slow) <= 1e-7 * max(1.0, abs(f_slow))
    assert fast.objective_ == pytest.approx(f_fast, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(fast.coef_, slow.coef_, atol=1e-5)
    lo, hi = fast.result_.values["coef"].min(), fast.result_.values["coef"].max()
    if fast.coef_bounds is not None:
        assert lo >= (fast.coef_bounds[0] if fast.coef_bounds[0] is not None else -np.inf) - 1e-12
        assert hi <= (fast.coef_bounds[1] if fast.coef_bounds[1] is not None else np.inf) + 1e-12


@pytest.mark.parametrize("alpha", [1e-3, 0.05, 0.5])
def test_active_set_matches_sklearn_objective(alpha):
    X, y = _data(n=200, p=15, seed=3)
    m = Lasso(alpha=alpha).fit(X, y)
    s = skl.Lasso(alpha=alpha, tol=1e-14, max_iter=10**6).fit(X, y)
    f_m = _sk_obj(m, X, y, m.coef_, m.intercept_)
    f_s = _sk_obj(m, X, y, s.coef_, s.intercept_)
    assert f_m <= f_s + 1e-12 * max(1.0, f_s)
    assert abs(f_m - f_s) <= 1e-10 * max(1.0, f_s)
    np.testing.assert_allclose(m.coef_, s.coef_, atol=1e-6)


def test_more_features_than_samples_uses_continuation():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 80))
    y = X[:, :3].sum(1) + 0.1 * rng.standard_normal(30)
    m = Lasso(alpha=0.05).fit(X, y)
    assert m.result_.backend == "optml" and m.result_.verified
    s = skl.Lasso(alpha=0.05, tol=1e-14, max_iter=10**6).fit(X, y)
    f_m = _sk_obj(m, X, y, m.coef_, m.intercept_)
    f_s = _sk_obj(m, X, y, s.coef_, s.intercept_)
    assert abs(f_m - f_s) <= 1e-10 * max(1.0, f_s)


def test_constant_feature_gets_zero():
    X, y = _data(seed=5)
    X[:, 3] = 7.0
    m = Lasso(alpha=0.01).fit(X, y)
    assert m.result_.backend == "optml" and m.coef_[3] == 0.0
    s = skl.Lasso(alpha=0.01, tol=1e-14, max_iter=10**6).fit(X, y)
    np.testing.assert_allclose(m.coef_, s.coef_, atol=1e-6)


def test_uncertified_active_set_falls_back_to_the_program(monkeypatch):
    X, y = _data(seed=6)

    def broken(H, b, lam=0.0, lo=None, hi=None, w0=None, **kw):
        return np.zeros(b.shape[0]), {
            "converged": False,
            "iterations": 1,
            "kkt": 1.0,
            "reason": "forced",
        }

    ref = Lasso(alpha=0.05).fit(X, y)
    monkeypatch.setattr(_active_set, "solve", broken)
    m = Lasso(alpha=0.05).fit(X, y)
    assert m.result_.backend == "highs" and m.result_.verified
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-6)
    # a wrong point is never certified: the bound exposes it
    g = gram_data(X, y)
    n = len(y)
    H, b = g.G / n, g.c / n
    w_bad = ref.coef_ + 0.01
    f, lb = _active_set.certify(H, b, 0.05, None, None, w_bad, g)
    assert f - lb > 1e-6


@pytest.mark.parametrize("box", [None, "positive", "box"])
@pytest.mark.parametrize("seed", range(5))
def test_bounds_never_exceed_the_optimum(box, seed):
    """Both certificates are valid lower bounds at any point, not only at the optimum."""
    X, y = _data(n=50, p=6, seed=10 + seed)
    n, p = X.shape
    lo, hi = None, None
    kw = {}
    if box == "positive":
        lo, kw = np.zeros(p), {"positive": True}
    elif box == "box":
        lo, hi = np.full(p, -0.2), np.full(p, 0.3)
        kw = {"coef_bounds": (-0.2, 0.3)}
    opt = Lasso(alpha=0.03, method="program", **kw).fit(X, y)
    f_star = opt.objective_
    g = gram_data(X, y)
    H, b = g.G / n, g.c / n
    const = g.yy / (2 * n)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        w = rng.standard_normal(p) * rng.choice([0.01, 0.3, 2.0])
        if lo is not None:
            w = np.clip(w, lo, np.inf if hi is None else hi)
        _, lb = _active_set.certify(H, b, 0.03, lo, hi, w, g)
        assert lb + const <= f_star + 1e-10
        import scipy.linalg as sla

        chol = sla.cho_factor(H)
        lo_a = np.full(p, -np.inf) if lo is None else lo
        hi_a = np.full(p, np.inf) if hi is None else hi
        assert _active_set.dual_bound(H, b, 0.03, lo_a, hi_a, w, chol) + const <= f_star + 1e-10


def test_program_is_built_on_first_access_and_pickles():
    X, y = _data(seed=7)
    m = Lasso(alpha=0.05).fit(X, y)
    assert "program_" not in vars(m)
    prog = m.program_
    assert prog is m.program_  # cached
    res = prog.solve()
    assert res.objective == pytest.approx(m.result_.objective, rel=1e-8)
    m2 = pickle.loads(pickle.dumps(Lasso(alpha=0.05).fit(X, y)))
    assert m2.program_.problem_class == "QP"
    with pytest.raises(AttributeError):
        Lasso().program_  # noqa: B018 - not fitted


def test_method_parameter():
    X, y = _data(seed=8)
    with pytest.raises(ValueError, match="method must be one of"):
        Lasso(method="cd").fit(X, y)
    assert Lasso(alpha=0.1, backend="highs").fit(X, y).result_.backend == "highs"
    assert Lasso(alpha=0.1, method="active_set").fit(X, y).result_.backend == "optml"
    with pytest.raises(ValueError, match="method must be"):
        lasso_path(X, y, method="cd")


@pytest.mark.parametrize("l1_ratio,positive", [(1.0, False), (0.5, False), (1.0, True)])
def test_active_set_path_equals_program_path_and_sklearn(l1_ratio, positive):
    X, y = _data(n=120, p=12, seed=9)
    a, c_fast, gaps, res = lasso_path(
        X, y, n_alphas=15, l1_ratio=l1_ratio, positive=positive, return_results=True
    )
    assert all(r.backend == "optml" and r.verified for r in res)
    assert (gaps <= 1e-9).all()
    _, c_prog, _ = lasso_path(
        X, y, alphas=a, l1_ratio=l1_ratio, positive=positive, method="program"
    )
    np.testing.assert_allclose(c_fast, c_prog, atol=1e-5)
    if l1_ratio == 1.0:
        _, c_sk, _ = sk_lasso_path(X, y, alphas=a, positive=positive, tol=1e-14, max_iter=10**6)
    else:
        _, c_sk, _ = skl.enet_path(X, y, alphas=a, l1_ratio=l1_ratio, tol=1e-14, max_iter=10**6)
    n = len(y)

    def obj(C):
        R = y[:, None] - X @ C
        return (
            (R * R).sum(0) / (2 * n)
            + a * l1_ratio * np.abs(C).sum(0)
            + 0.5 * a * (1 - l1_ratio) * (C * C).sum(0)
        )

    assert np.all(obj(c_fast) <= obj(c_sk) + 1e-10 * np.maximum(1.0, obj(c_sk)))


def test_random_boxes_against_lbfgsb_on_the_split_form():
    """solve / primal_active_set vs scipy's L-BFGS-B on w = u - v, u, v >= 0 (an independent
    solver), over random correlated designs, penalties and boxes (0 inside or outside)."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(11)
    for _ in range(150):
        p = int(rng.integers(1, 8))
        n = int(rng.integers(p + 1, 30))
        Z = rng.standard_normal((n, p))
        X = Z + rng.uniform(0, 0.9) * Z[:, [0]] + rng.uniform(0, 3)
        H, b = X.T @ X / n, X.T @ rng.standard_normal(n) / n
        lam = float(rng.choice([0.0, 1e-3, 0.05, 0.3]))
        lo = rng.uniform(-1, 0.2, p)
        hi = lo + rng.uniform(0, 1, p)
        w, info = _active_set.solve(H, b, lam, lo, hi, w0=rng.standard_normal(p) * 0.3)
        assert info["converged"]
        f, lb = _active_set.certify(H, b, lam, lo, hi, w)
        assert f - lb <= 1e-9 * max(1.0, abs(f))
        w2, info2 = _active_set.primal_active_set(H, b, lam, lo, hi)
        assert info2["converged"]
        assert _active_set.objective(H, b, lam, w2) == pytest.approx(f, abs=1e-10)

        # split form: w = u - v with u in [max(lo,0), max(hi,0)], v in [max(-hi,0), max(-lo,0)]
        def fun(z, H=H, b=b, lam=lam, p=p):
            u, v = z[:p], z[p:]
            x = u - v
            gx = H @ x - b
            return 0.5 * x @ H @ x - b @ x + lam * (u + v).sum(), np.r_[gx + lam, -gx + lam]

        bounds = [(max(lo[j], 0), max(hi[j], 0)) for j in range(p)] + [
            (max(-hi[j], 0), max(-lo[j], 0)) for j in range(p)
        ]
        ref = minimize(
            fun,
            np.zeros(2 * p),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000},
        )
        assert f <= ref.fun + 1e-9  # never worse than the independent solver
        assert f >= ref.fun - 1e-6  # and that solver is not far off


def test_ridge_program_route_survives_highs_factor_form_error():
    """HiGHS 1.16 ends this ridge QP's factor form with "Solve error"; the fit retries the
    Gram form of the same QP and returns the certified optimum."""
    from optml.data import make_sparse_regression

    X, y, _ = make_sparse_regression(n=2000, p=100, k=10, random_state=0)
    m = Ridge(alpha=10.0, method="program").fit(X, y)
    assert m.result_.status == "optimal" and m.result_.verified
    ref = skl.Ridge(alpha=10.0).fit(X, y)
    f_m = _sk_obj(m, X, y, m.coef_, m.intercept_)
    f_ref = _sk_obj(m, X, y, ref.coef_, ref.intercept_)
    assert f_ref - 1e-9 * f_ref <= f_m <= f_ref * (1 + 1e-8)
    # HiGHS stops on its own tolerances: the coefficients are as close as the objective gap
    # allows for this strongly convex objective, |w - w*|^2 <= 2 (f - f*) / mu
    Xc = X - X.mean(0)
    mu = 2 * (np.linalg.eigvalsh(Xc.T @ Xc)[0] + 10.0)
    assert np.linalg.norm(m.coef_ - ref.coef_) <= np.sqrt(2 * max(f_m - f_ref, 0) / mu) + 1e-8


def test_too_many_features_for_the_gram_form_is_a_clear_error(monkeypatch):
    from optml.formulations import regression as R

    monkeypatch.setattr(R, "GRAM_MAX_BYTES", 8 * 50 * 50)
    X, y = _data(n=20, p=60, seed=13)
    with pytest.raises(ValueError, match="60 x 60 matrix"):
        Lasso(alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match="GRAM_MAX_BYTES"):
        lasso_path(X, y, n_alphas=3)


@pytest.mark.parametrize("n,p", [(150, 100), (200, 200)])
@pytest.mark.parametrize("alpha,l1_ratio", [(0.01, 1.0), (0.05, 0.5)])
def test_dense_solutions_with_n_close_to_p(n, p, alpha, l1_ratio):
    # many free coefficients and an ill-conditioned Gram matrix: the cold start gives way to
    # the continuation in lambda, and the answer is still the certified optimum
    from optml.data import make_sparse_regression

    X, y, _ = make_sparse_regression(n=n, p=p, k=10, random_state=1)
    m = ElasticNet(alpha=alpha, l1_ratio=l1_ratio).fit(X, y)
    assert m.result_.backend == "optml" and m.result_.verified and m.result_.gap <= 1e-9
    s = skl.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=10**6).fit(X, y)
    f_m = _sk_obj(m, X, y, m.coef_, m.intercept_)
    f_s = _sk_obj(m, X, y, s.coef_, s.intercept_)
    assert f_m <= f_s + 1e-12 * f_s and abs(f_m - f_s) <= 1e-10 * f_s
