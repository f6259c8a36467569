"""Every bad input gives a clear error (what was expected, what came)."""

import warnings

import numpy as np
import pytest

from optml.exceptions import SolverNotAvailableError
from optml.regression import (
    BestSubsetRegression,
    ElasticNet,
    HuberRegression,
    Lasso,
    LeastAbsoluteDeviation,
    LeastTrimmedSquares,
    QuantileRegression,
    Ridge,
    SupportVectorRegression,
    best_subset_path,
    lasso_path,
)

rng = np.random.default_rng(0)
X = rng.standard_normal((20, 4))
y = X[:, 0] + 0.1 * rng.standard_normal(20)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["X", "y"])
def test_nan_inf_rejected(bad, where):
    Xb, yb = X.copy(), y.copy()
    if where == "X":
        Xb[3, 1] = bad
    else:
        yb[5] = bad
    for est in (Lasso(alpha=0.1), QuantileRegression(), BestSubsetRegression(k=2)):
        with pytest.raises(ValueError, match="NaN|infinity"):
            est.fit(Xb, yb)
    # the least-squares family finds non-finite data in its Gram statistics (by either route);
    # the message names which input holds what, as scikit-learn's does
    what = "NaN" if np.isnan(bad) else "infinity"
    for est in (
        Ridge(),
        ElasticNet(alpha=0.1),
        Lasso(alpha=0.1, method="program"),
        Ridge(fit_intercept=False),
    ):
        with pytest.raises(ValueError, match=f"Input {where} contains {what}"):
            est.fit(Xb, yb)


@pytest.mark.parametrize("where", ["X", "y"])
def test_overflowing_data_rejected(where):
    # finite values whose squares overflow float64: a clear error, no numpy warnings
    Xb, yb = X.copy(), y.copy()
    if where == "X":
        Xb[3, 1] = 1e200
    else:
        yb[5] = 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for est in (Lasso(alpha=0.1), Ridge(method="program")):
            with pytest.raises(ValueError, match="overflows float64.*rescale"):
                est.fit(Xb, yb)


@pytest.mark.parametrize(
    "est,match",
    [
        (Lasso(alpha=-1.0), "alpha must be a finite number >= 0"),
        (Ridge(alpha=-0.1), "alpha must be a finite number >= 0"),
        (ElasticNet(l1_ratio=1.5), "l1_ratio must be a number in"),
        (QuantileRegression(quantile=0.0), "quantile must be a number strictly between 0 and 1"),
        (QuantileRegression(quantile=1.2), "quantile must be a number strictly between 0 and 1"),
        (QuantileRegression(alpha=-1), "alpha must be a finite number >= 0"),
        (LeastAbsoluteDeviation(alpha=np.nan), "alpha must be a finite number >= 0"),
        (HuberRegression(epsilon=0.0), "epsilon must be a finite number > 0"),
        (HuberRegression(alpha=-1.0), "alpha must be a finite number >= 0"),
        (SupportVectorRegression(C=0.0), "C must be a finite number > 0"),
        (SupportVectorRegression(epsilon=-0.1), "epsilon must be a finite number >= 0"),
        (BestSubsetRegression(k=-1), "k must be >= 0"),
        (BestSubsetRegression(k=2, alpha=-1.0), "alpha must be a finite number >= 0"),
        (BestSubsetRegression(k=2, formulation="cuts"), "formulation must be .auto. or one of"),
        (BestSubsetRegression(k=2, warm_start="lasso"), "warm_start must be one of"),
        (BestSubsetRegression(k=2, heuristic="lasso"), "heuristic must be one of"),
        (BestSubsetRegression(k=2, max_correlation=1.5), "max_correlation must be a number"),
        (BestSubsetRegression(k=2, groups=[[0, 9]]), "outside"),
        (BestSubsetRegression(k=2, groups=[[0, 1], [1, 2]]), "disjoint"),
        (BestSubsetRegression(k=2, coef_bounds=(0.5, 1.0)), "must allow 0"),
        (Lasso(coef_bounds=(1.0, 0.0)), "bounds are empty"),
        (Lasso(coef_bounds=(np.zeros(3), None)), r"expected a number or shape \(4,\)"),
        (LeastTrimmedSquares(h=3), "h = 3 samples kept must lie between"),
        (LeastTrimmedSquares(h=50), "h = 50 samples kept must lie between"),
        (LeastTrimmedSquares(formulation="x"), r"formulation must be one of \['bigm', 'sos1'\]"),
        (LeastTrimmedSquares(coef_bound=-1.0), "coef_bound must be a positive"),
        (Lasso(time_limit=-1), "time_limit must be a positive number"),
    ],
)
def test_bad_parameters(est, match):
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)


def test_k_must_be_integer():
    with pytest.raises(TypeError, match="k must be an integer"):
        BestSubsetRegression(k=2.5).fit(X, y)


def test_wrong_shapes_and_too_few_samples():
    with pytest.raises(ValueError, match="inconsistent numbers of samples|Found input"):
        Lasso().fit(X, y[:-1])
    with pytest.raises(ValueError, match="n_samples = 1"):
        Lasso().fit(X[:1], y[:1])
    m = Lasso(alpha=0.01).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :3])


def test_highs_cannot_do_miqp():
    with pytest.raises(SolverNotAvailableError, match="cannot solve MIQP"):
        BestSubsetRegression(k=2, formulation="bigm", solver="highs").fit(X, y)
    with pytest.raises(SolverNotAvailableError, match="cannot solve MISOCP"):
        BestSubsetRegression(k=2, formulation="perspective", solver="highs").fit(X, y)
    with pytest.raises(SolverNotAvailableError, match="cannot solve MIQP"):
        LeastTrimmedSquares(solver="highs").fit(X, y)


def test_unknown_solver_and_backend():
    with pytest.raises(SolverNotAvailableError, match="unknown solver 'nosuch'"):
        Lasso(solver="nosuch").fit(X, y)
    with pytest.raises(SolverNotAvailableError, match="unknown backend"):
        Lasso(backend="nosuch").fit(X, y)


def test_path_inputs():
    with pytest.raises(ValueError, match="alphas must be a non-empty array"):
        lasso_path(X, y, alphas=[-1.0])
    with pytest.raises(ValueError, match="l1_ratio must be > 0"):
        lasso_path(X, y, l1_ratio=0.0)
    with pytest.raises(ValueError, match="NaN|infinity"):
        lasso_path(np.full_like(X, np.nan), y)
    with pytest.raises(ValueError, match="k_max = 7 is larger"):
        best_subset_path(X, y, k_max=7)
