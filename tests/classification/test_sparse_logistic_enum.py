"""Sparse logistic regression with few supports is solved by enumerating them (R15): before,
the outer approximation took 29 s for p = 6, k = 2 on breast cancer, where all 15 supports fit
in well under a second."""

import time

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from optml.classification import SparseLogisticRegression
from optml.classification._logistic import enumerate_supports
from optml.data import load


@pytest.mark.parametrize(("penalty", "C"), [("l2", 1.0), ("l1", 0.5)])
def test_R15_few_supports_are_enumerated_and_certified(penalty, C):
    d = load("breast_cancer")
    X = StandardScaler().fit_transform(d.X)[:, :6]
    s = np.where(d.y == 1, 1.0, -1.0)
    t = time.perf_counter()
    est = SparseLogisticRegression(k=2, C=C, penalty=penalty).fit(X, d.y)
    assert time.perf_counter() - t < 10
    r = est.result_
    assert r.status == "optimal" and r.verified
    assert "enumeration of all 15 supports" in r.message
    best = enumerate_supports(X, s, 2, C, penalty)  # brute force, written independently
    assert r.objective == pytest.approx(best, rel=1e-7)
    assert r.bound <= r.objective + 1e-9 * abs(r.objective)
    assert np.count_nonzero(est.coef_) <= 2


def test_many_supports_still_go_to_the_outer_approximation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 12))  # C(12, 3) = 220 supports: more than enumeration takes
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=80) > 0).astype(int)
    r = SparseLogisticRegression(k=3, time_limit=20).fit(X, y).result_
    assert "outer approximation" in r.message
