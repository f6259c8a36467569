"""The lasso on a growing working set of features: the same optimum as the full Gram matrix
and as scikit-learn, a certificate from the raw data that is never above the optimum, the
cases it leaves to the full Gram matrix, and ``program_`` formed later from the data."""

import logging
import pickle

import numpy as np
import pytest
import sklearn.linear_model as skl

from optml.algorithms import working_set as _working_set
from optml.data import make_sparse_regression
from optml.formulations.regression import data_moments
from optml.regression import ElasticNet, Lasso


def _data(n=2000, p=100, seed=0, shift=2.0, k=10):
    # the Bertsimas-King-Mazumder design (Toeplitz correlation 0.35), shifted off the origin
    X, y, _ = make_sparse_regression(n=n, p=p, k=k, random_state=seed)
    return X + shift, y + 1.0


def _obj(X, y, w, b, alpha, l1_ratio=1.0):
    r = y - X @ w - b
    return (
        r @ r / (2 * len(y))
        + alpha * l1_ratio * np.abs(w).sum()
        + 0.5 * alpha * (1 - l1_ratio) * (w @ w)
    )


def _full_gram(monkeypatch):
    """Make the estimators skip the working set (the full Gram matrix, as before it)."""
    monkeypatch.setattr(_working_set, "MIN_FEATURES", 10**9)


CASES = [
    dict(alpha=0.1),
    dict(alpha=0.3),
    dict(alpha=0.1, positive=True),
    dict(alpha=0.1, fit_intercept=False),
    dict(alpha=0.1, coef_bounds=(-0.3, 0.8)),  # the ten true coefficients end at 0.8
    dict(alpha=0.1, l1_ratio=0.9),  # elastic net (on 200 features, see _data_for)
    dict(alpha=0.3, l1_ratio=0.5, positive=True),
]


def _data_for(kw, seed):
    # without an intercept, data off the origin make a dense model: centred data there; with
    # n >= p the elastic net takes the working set from ENET_MIN_FEATURES = 200 features on
    p = 200 if "l1_ratio" in kw else 100
    return _data(p=p, seed=seed, shift=2.0 if kw.get("fit_intercept", True) else 0.0)


def _ours(kw):
    return ElasticNet(**kw) if "l1_ratio" in kw else Lasso(**kw)


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_working_set_equals_full_gram_and_sklearn(kw, seed, monkeypatch):
    X, y = _data_for(kw, seed)
    rho = kw.get("l1_ratio", 1.0)
    m = _ours(kw).fit(X, y)
    res = m.result_
    assert "working set" in res.message, res.message
    assert res.status == "optimal" and res.verified and res.gap <= 1e-9
    assert res.backend == "optml" and res.solver == "active-set"
    f = _obj(X, y, m.coef_, m.intercept_, kw["alpha"], rho)
    assert m.objective_ == pytest.approx(f, rel=1e-12)
    # scikit-learn at a tight tolerance, where it applies (it has no coefficient bounds)
    if "coef_bounds" not in kw:
        sk = skl.ElasticNet if "l1_ratio" in kw else skl.Lasso
        s = sk(tol=1e-14, max_iter=10**6, **kw).fit(X, y)
        f_s = _obj(X, y, s.coef_, s.intercept_, kw["alpha"], rho)
        assert f <= f_s + 1e-12 * f_s and abs(f - f_s) <= 1e-10 * f_s
        np.testing.assert_allclose(m.coef_, s.coef_, atol=1e-6)
    # the full Gram matrix (the active set on all features)
    _full_gram(monkeypatch)
    full = _ours(kw).fit(X, y)
    assert "working set" not in full.result_.message
    f_full = _obj(X, y, full.coef_, full.intercept_, kw["alpha"], rho)
    assert abs(f - f_full) <= 1e-12 * f_full
    np.testing.assert_allclose(m.coef_, full.coef_, atol=1e-9)
    assert m.intercept_ == pytest.approx(full.intercept_, abs=1e-9)
    if "coef_bounds" in kw:
        assert m.coef_.min() >= -0.3 and m.coef_.max() <= 0.8
        assert np.sum(m.coef_ == 0.8) >= 5  # the box is active


@pytest.mark.parametrize(
    "make",
    [
        lambda: Lasso(alpha=0.05),
        lambda: ElasticNet(alpha=0.05, l1_ratio=0.7),
        lambda: Lasso(alpha=0.05, positive=True),
    ],
)
def test_more_features_than_samples(make):
    X, y = _data(n=60, p=300, seed=3)
    m = make().fit(X, y)
    assert "working set" in m.result_.message and m.result_.verified
    rho = getattr(m, "l1_ratio", 1.0)
    kw = dict(alpha=m.alpha, positive=m.positive, tol=1e-14, max_iter=10**6)
    s = (skl.Lasso(**kw) if rho == 1.0 else skl.ElasticNet(l1_ratio=rho, **kw)).fit(X, y)
    f = _obj(X, y, m.coef_, m.intercept_, m.alpha, rho)
    f_s = _obj(X, y, s.coef_, s.intercept_, m.alpha, rho)
    assert f <= f_s + 1e-12 * f_s and abs(f - f_s) <= 1e-9 * f_s


@pytest.mark.parametrize("l2", [0.0, 0.01])
@pytest.mark.parametrize("box", [None, "positive", "box"])
def test_certificate_never_above_the_optimum(l2, box):
    # the bounds hold at any point of the box, not only near the optimum
    X, y = _data(n=300, p=40, seed=5)
    n, p = X.shape
    lo, hi = {
        None: (None, None),
        "positive": (np.zeros(p), np.full(p, np.inf)),
        "box": (np.full(p, -0.4), np.full(p, 0.6)),
    }[box]
    alpha = 0.03
    est = (
        Lasso(alpha=alpha)
        if l2 == 0
        else ElasticNet(alpha=alpha + l2, l1_ratio=alpha / (alpha + l2))
    )
    est.set_params(positive=box == "positive", coef_bounds=(-0.4, 0.6) if box == "box" else None)
    ref = est.fit(X, y)
    f_star = ref.objective_
    s, l1, l2p, _ = ref._program_weights(n)
    mom = data_moments(X, y)
    rng = np.random.default_rng(0)
    for scale in (1e-6, 1e-3, 0.1, 1.0):
        w = ref.coef_ + scale * rng.standard_normal(p)
        if lo is not None:
            w = np.clip(w, lo, hi)
        r = mom[2] - (X - mom[0]) @ w
        obj, bound = _working_set.certificate(X, mom, w, s, l1, l2p, lo, hi, r)
        assert obj == pytest.approx(
            _obj(X, y, w, mom[1] - mom[0] @ w, est.alpha, getattr(est, "l1_ratio", 1.0)), rel=1e-12
        )
        assert bound <= f_star + 1e-12 * f_star
        assert bound <= obj


def test_cases_left_to_the_full_gram_matrix():
    X, y = _data(seed=6)
    # no l1 term; an elastic net with n >= p and fewer than 200 features; 0 outside the box;
    # too small a problem
    for est, Xf in [
        (ElasticNet(alpha=0.05, l1_ratio=0.0), X),
        (ElasticNet(alpha=0.1, l1_ratio=0.9), X),
        (Lasso(alpha=0.2, coef_bounds=(0.01, 1.0)), X),
        (Lasso(alpha=0.2), X[:300, :30]),
    ]:
        est.fit(Xf, y[: Xf.shape[0]])
        assert est.result_.verified and "working set" not in est.result_.message


@pytest.mark.parametrize(
    "make,rho,p",
    [
        (lambda: Lasso(alpha=0.03), 1.0, 100),  # 43 of 100 features
        (lambda: ElasticNet(alpha=0.02, l1_ratio=0.5), 0.5, 200),  # 159 of 200
    ],
)
def test_a_dense_solution_gives_up_the_working_set(make, rho, p, caplog):
    X, y = _data(seed=7, p=p)
    with caplog.at_level(logging.INFO, logger="optml"):
        m = make().set_params(verbose=True).fit(X, y)
    assert "working set given up" in caplog.text
    assert m.result_.verified and "working set" not in m.result_.message
    kw = dict(alpha=m.alpha, tol=1e-14, max_iter=10**6)
    s = (skl.Lasso(**kw) if rho == 1.0 else skl.ElasticNet(l1_ratio=rho, **kw)).fit(X, y)
    f, f_s = (_obj(X, y, e.coef_, e.intercept_, m.alpha, rho) for e in (m, s))
    assert abs(f - f_s) <= 1e-10 * f_s


def test_uncertified_working_set_falls_back(monkeypatch):
    X, y = _data(seed=8)
    ref = Lasso(alpha=0.2).fit(X, y)
    assert "working set" in ref.result_.message
    real = _working_set.certificate
    monkeypatch.setattr(_working_set, "certificate", lambda *a, **k: (real(*a, **k)[0], -np.inf))
    m = Lasso(alpha=0.2).fit(X, y)
    assert "working set" not in m.result_.message and m.result_.verified
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-9)


def test_program_is_formed_later_from_the_data_and_pickles():
    X, y = _data(seed=9)
    m = Lasso(alpha=0.2).fit(X, y)
    assert "working set" in m.result_.message and "program_" not in vars(m)
    built = Lasso(alpha=0.2).build_program(X, y)
    prog = m.program_
    assert prog.num_variables == built.num_variables
    res = prog.solve()
    assert res.objective == pytest.approx(m.result_.objective, rel=1e-8)
    # a pickle holds the p x p Gram data, not the n x p training data
    m2 = Lasso(alpha=0.2).fit(X, y)
    blob = pickle.dumps(m2)
    assert len(blob) < X.nbytes / 2
    m3 = pickle.loads(blob)
    assert m3.program_.solve().objective == pytest.approx(m.result_.objective, rel=1e-8)
    np.testing.assert_array_equal(m3.coef_, m.coef_)


def test_pickle_with_more_features_than_samples_keeps_the_data():
    # with p > n the training data are smaller than the Gram matrix: the pickle holds them
    X, y = _data(n=60, p=300, seed=12)
    m = Lasso(alpha=0.05).fit(X, y)
    assert "working set" in m.result_.message
    blob = pickle.dumps(m)
    assert X.nbytes < len(blob) < 300 * 300 * 8
    m2 = pickle.loads(blob)
    assert m2.program_.solve().objective == pytest.approx(m.result_.objective, rel=1e-7)


def test_program_refuses_data_changed_after_fit():
    X, y = _data(seed=10)
    m = Lasso(alpha=0.2).fit(X, y)
    assert "working set" in m.result_.message
    X[:, 3] *= 2.0  # the caller reuses its buffer
    with pytest.raises(ValueError, match="changed in place after fit"):
        m.program_  # noqa: B018


def test_nan_found_by_the_working_set_route():
    X, y = _data(seed=11)
    assert "working set" in Lasso(alpha=0.2).fit(X, y).result_.message
    X[5, 7] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        Lasso(alpha=0.2).fit(X, y)


def test_blas_threads_restored_after_fit_and_error():
    # the working set runs BLAS on one thread; the process-wide setting is restored after
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [i["num_threads"] for i in threadpoolctl.threadpool_info()]
    X, y = _data(seed=13)
    assert "working set" in Lasso(alpha=0.2).fit(X, y).result_.message
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        Lasso(alpha=0.2).fit(X, y)
    assert [i["num_threads"] for i in threadpoolctl.threadpool_info()] == before
