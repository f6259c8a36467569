"""OptimalRegressionTree: scikit-learn's checks (quantile thresholds, fast), bad input, the
certificate, CART as a floor, the time limit and the MIQP route."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from optml.classification import OptimalClassificationTree
from optml.regression import OptimalRegressionTree


@parametrize_with_checks([OptimalRegressionTree(thresholds=16)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(n=120, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = np.where(X[:, 0] > 0, 2.0, -1.0) + X[:, 1] * (X[:, 2] > 0.3) + 0.5 * rng.normal(size=n)
    return X, y


@pytest.mark.parametrize(
    "params, match",
    [
        ({"max_leaf_nodes": 1}, "max_leaf_nodes must be None or an integer >= 2"),
        ({"max_leaf_nodes": 2.5}, "max_leaf_nodes must be None or an integer >= 2"),
        ({"max_depth": 0}, "max_depth"),
        ({"alpha": -1.0}, "alpha"),
        ({"thresholds": 1}, "thresholds"),
        ({"initial_tree": "greedy"}, "initial_tree"),
    ],
)
def test_bad_parameters(params, match):
    X, y = _data(30)
    with pytest.raises(ValueError, match=match):
        OptimalRegressionTree(**params).fit(X, y)


def test_bad_targets_and_nan():
    X, y = _data(30)
    with pytest.raises(ValueError, match="numeric targets"):
        OptimalRegressionTree().fit(X, np.array(["a", "b", "c"] * 10, dtype=object))
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        OptimalRegressionTree().fit(Xn, y)
    yn = y.copy()
    yn[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        OptimalRegressionTree().fit(X, yn)
    with pytest.raises(ValueError, match="max_leaf_nodes must be None or an integer >= 2"):
        OptimalClassificationTree(max_leaf_nodes=1).fit(X, (y > 0).astype(int))
    with pytest.raises(ValueError, match="formulation='pairs'"):
        OptimalClassificationTree(max_leaf_nodes=3, formulation="pairs").fit(X, y > 0)


@pytest.mark.parametrize("depth, L", [(2, None), (3, None), (3, 5)])
def test_never_worse_than_cart_and_certified(depth, L):
    X, y = _data()
    reg = OptimalRegressionTree(max_depth=depth, max_leaf_nodes=L, thresholds=16).fit(X, y)
    res = reg.result_
    assert res.status == "optimal" and res.verified and res.gap <= 1e-9, res.summary()
    sse = float(((reg.predict(X) - y) ** 2).sum())
    assert sse == pytest.approx(reg.objective_, rel=1e-9)
    cart = DecisionTreeRegressor(max_depth=depth, max_leaf_nodes=L, random_state=0).fit(X, y)
    assert sse <= float(((cart.predict(X) - y) ** 2).sum()) * (1 + 1e-9)
    if L is not None:
        assert reg.tree_.n_leaves <= L
    assert "value:" in reg.export_text()


def test_alpha_prunes_and_objective_counts_splits():
    X, y = _data()
    full = OptimalRegressionTree(max_depth=2, thresholds=8).fit(X, y)
    big = OptimalRegressionTree(max_depth=2, thresholds=8, alpha=1e6).fit(X, y)
    assert big.tree_.n_leaves == 1
    assert big.objective_ == pytest.approx(float(((y - y.mean()) ** 2).sum()), rel=1e-9)
    assert full.objective_ < big.objective_


def test_time_limit_returns_tree_with_bound():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 12))
    y = X[:, 0] * X[:, 1] + rng.normal(size=400)
    t0 = time.perf_counter()
    reg = OptimalRegressionTree(max_depth=4, thresholds=32, time_limit=1.0).fit(X, y)
    wall = time.perf_counter() - t0
    assert wall <= 1.0 * 1.1 + 1.0 + 0.5  # fit overhead (CART, binarisation) included
    assert reg.result_.status in ("time_limit", "optimal")
    assert reg.result_.bound <= reg.result_.objective + 1e-6
    assert reg.predict(X).shape == (400,)


@pytest.mark.slow
def test_miqp_route_matches_dp():
    X, y = _data(14, p=3, seed=5)
    dp = OptimalRegressionTree(max_depth=2, thresholds=3).fit(X, y)
    mip = OptimalRegressionTree(max_depth=2, thresholds=3, backend="pyomo", solver="scip").fit(X, y)
    assert mip.result_.status == "optimal"
    assert mip.objective_ == pytest.approx(dp.objective_, rel=1e-6)
    assert mip.program_.problem_class == "MIQP"
