"""optml.bench.instances.lad_best_subset: the MILP optimum equals enumeration of supports."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from optml.bench.instances import lad_best_subset


def _restricted_lad(X, y, support, M) -> float:
    """min sum|y - X_S beta_S - b| with |beta| <= M, by linprog."""
    n = X.shape[0]
    Xs = X[:, list(support)]
    s = Xs.shape[1]
    c = np.r_[np.zeros(s + 1), np.ones(2 * n)]
    A = np.hstack([Xs, np.ones((n, 1)), np.eye(n), -np.eye(n)])
    bounds = [(-M, M)] * s + [(None, None)] + [(0, None)] * (2 * n)
    res = linprog(c, A_eq=A, b_eq=y, bounds=bounds, method="highs")
    assert res.status == 0
    return float(res.fun)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lad_best_subset_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    n, p, k = 12, 5, 2
    X = rng.normal(size=(n, p))
    y = X[:, 0] - 2 * X[:, 3] + 0.3 * rng.standard_t(2, size=n)
    prog = lad_best_subset(X, y, k=k)
    assert prog.problem_class == "MILP"
    res = prog.solve(backend="highs", mip_gap=0)
    assert res.status == "optimal" and res.verified
    Xs = (X - X.mean(0)) / X.std(0)
    M = float(prog.variables["beta"].ub.max())
    best = min(
        _restricted_lad(Xs, y, S, M)
        for r in range(k + 1)
        for S in itertools.combinations(range(p), r)
    )
    assert res.objective == pytest.approx(best, rel=1e-7, abs=1e-7)
    assert np.count_nonzero(np.abs(res.values["beta"]) > 1e-7) <= k


def test_lad_best_subset_checks_input():
    X = np.ones((5, 3))
    with pytest.raises(ValueError, match="k must be"):
        lad_best_subset(X, np.ones(5), k=4)
    with pytest.raises(ValueError, match="bigm_factor"):
        lad_best_subset(X, np.ones(5), k=1, bigm_factor=0)
    with pytest.raises(ValueError, match=r"\(n, p\)"):
        lad_best_subset(X, np.ones(4), k=1)
