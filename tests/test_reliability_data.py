"""Reliability: data that overflow an estimator's statistics, and DataFrames it cannot take,
get a ValueError naming the column(s) and saying what to do (issue 17: R1, R5, R14)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from optml.classification import (
    LogisticRegression,
    OptimalClassificationTree,
    RampLossSVM,
    SparseLogisticRegression,
    SparseSVM,
)
from optml.clustering import KMeans, KMedoids
from optml.regression import HuberRegression, LeastAbsoluteDeviation, QuantileRegression


def _data(seed=0, n=24, p=3, big=1e300, col=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)
    X[0, col] = big
    return X, y


def test_R1_kmeans_overflowing_costs_name_the_column():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    X[0, 0] = 1e300  # the cluster costs overflow to NaN
    with pytest.raises(ValueError, match=r"KMeans: column\(s\) X\[:, 0\] .*rescale"):
        KMeans(n_clusters=3, time_limit=5).fit(X)
    with pytest.raises(ValueError, match=r"X\[:, 0\].*rescale"):
        KMedoids(n_clusters=3, time_limit=5).fit(X)


def test_R1_columns_that_overflow_only_together_are_named():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(10, 4))
    X[:, 1] *= 1e153  # each column's sum of squares is finite, their total is not
    X[:, 3] *= 1e153
    with pytest.raises(ValueError, match=r"X\[:, 1\], X\[:, 3\]"):
        KMeans(n_clusters=2).fit(X)


def test_R5_logistic_refuses_overflow_instead_of_an_all_zero_model():
    X, y = _data()
    with pytest.raises(ValueError, match=r"LogisticRegression: column\(s\) X\[:, 1\].*rescale"):
        LogisticRegression().fit(X, y)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SparseLogisticRegression(k=1),
        lambda: SparseSVM(k=1),
        lambda: RampLossSVM(),
        lambda: OptimalClassificationTree(max_depth=1),
    ],
    ids=["sparse-logistic", "sparse-svm", "ramp-svm", "tree"],
)
def test_R14_classifiers_refuse_overflow(make):
    X, y = _data()
    with pytest.raises(ValueError, match=r"column\(s\) X\[:, 1\].*rescale"):
        make().fit(X, y)


@pytest.mark.parametrize(
    "make",
    [LeastAbsoluteDeviation, HuberRegression, lambda: QuantileRegression(quantile=0.3)],
    ids=["lad", "huber", "quantile"],
)
def test_R14_robust_regressors_refuse_1e300(make):
    X, y = _data()
    with pytest.raises(ValueError, match=r"column\(s\) X\[:, 1\].*rescale"):
        make().fit(X, y.astype(float))
    # beyond what LP solvers take as a coefficient (HiGHS: 1e15) but finite squares
    X2, _ = _data(big=1e40)
    with pytest.raises(ValueError, match=r"X\[:, 1\].*solvers take at most"):
        make().fit(X2, y.astype(float))
    Xok, _ = _data(big=3.0)
    yb = y.astype(float)
    yb[2] = 1e300
    with pytest.raises(ValueError, match=r"y holds values up to 1e\+300.*rescale y"):
        make().fit(Xok, yb)


def test_R14_tree_refuses_values_beyond_float32():
    X, y = _data(big=1e39)  # finite squares, but CART's float32 copy overflows
    with pytest.raises(ValueError, match=r"X\[:, 1\].*at most 3.4"):
        OptimalClassificationTree(max_depth=1).fit(X, y)


def test_R14_ordinary_scale_still_fits():
    X, y = _data(big=1e6)  # large but harmless
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LogisticRegression().fit(X, y)
        LeastAbsoluteDeviation().fit(X, y.astype(float))
        KMeans(n_clusters=2).fit(X[:10])


@pytest.mark.parametrize(
    "make",
    [
        lambda: KMeans(n_clusters=2),
        lambda: KMedoids(n_clusters=2),
        LogisticRegression,
        lambda: OptimalClassificationTree(max_depth=1),
        LeastAbsoluteDeviation,
    ],
    ids=["kmeans", "kmedoids", "logistic", "tree", "lad"],
)
def test_R14_dataframe_with_text_or_category_columns(make):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "age": [31.0, 45, 22, 60, 38, 51],
            "city": ["a", "b", "a", "c", "b", "a"],
            "grade": pd.Categorical(["x", "y", "x", "y", "x", "y"]),
        }
    )
    y = np.array([0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"'city' \(.*\), 'grade' \(category\).*from_frame"):
        make().fit(df, y)


def test_R14_dataframe_overflow_names_the_feature():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    df = pd.DataFrame(X, columns=["a", "income", "c"])
    with pytest.raises(ValueError, match=r"column\(s\) 'income'"):
        LogisticRegression().fit(df, y)
