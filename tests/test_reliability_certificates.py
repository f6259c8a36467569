"""Certificates under hostile use (issue 17: R7)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from optml.data import load
from optml.program.result import relative_gap
from optml.regression import Lasso


def test_R7_osqp_lasso_gap_is_not_below_the_true_gap():
    """OSQP stops at a loose tolerance: its point is 4.7e-4 off in the coefficients, and its
    own objective once lay below the true optimum with gap 0. The reported gap must be at
    least the true gap (against the exact active-set and Clarabel optima), and the reported
    bound must not exceed the true optimum."""
    pytest.importorskip("cvxpy")
    pytest.importorskip("osqp")
    d = load("diabetes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osqp = Lasso(alpha=0.1, backend="cvxpy", solver="osqp").fit(d.X, d.y)
        exact = Lasso(alpha=0.1).fit(d.X, d.y)  # active set: exact optimum
        clar = Lasso(alpha=0.1, backend="cvxpy", solver="clarabel").fit(d.X, d.y)
    r = osqp.result_
    # the objective reported is the numpy value of the returned point
    assert r.objective == pytest.approx(osqp.program_.evaluate(r.values)[0], rel=1e-12)
    opt = min(exact.result_.objective, clar.result_.objective)
    assert r.objective >= opt - 1e-9 * abs(opt)  # a real point cannot beat the optimum
    true_gap = relative_gap(r.objective, opt)
    assert r.gap >= true_gap * (1 - 1e-6) - 1e-15
    assert not (np.isfinite(r.bound) and r.bound > opt + 1e-9 * abs(opt))
    if r.verified and r.status == "optimal":
        assert r.gap <= 1e-6  # verified means within the tolerance, with the true gap


def test_R9_sdp_bound_without_a_limit_says_feasible_not_time_limit():
    """Before: ``KMeans(3, method="sdp")`` reported ``time_limit`` with no limit set when the
    Peng-Wei bound left a gap. A heuristic clustering with a valid bound that does not meet it
    is ``feasible``: a point and a bound, the method stopped short of the gap."""
    from optml.clustering import KMeans

    X = np.random.default_rng(0).normal(size=(30, 2))  # no cluster structure: the SDP is loose
    r = KMeans(3, method="sdp_bound").fit(X).result_
    assert r.status == "feasible"
    assert np.isfinite(r.bound) and r.bound < r.objective
    assert r.gap > 1e-3
