"""The working-set Gram blocks of the penalised node relaxation (built by rows, grown in place
when features enter) against the direct ``G[np.ix_(W, W)] - delta I``, on a dense and a lazy
Gram matrix; and the branch and bound at p > n with the box against enumeration."""

import itertools

import numpy as np
import pytest
from scipy.optimize import lsq_linear

from optml.algorithms.best_subset_bounds import SubsetBounds
from optml.algorithms.best_subset_heuristics import SubsetProblem
from optml.algorithms.best_subset_l0 import PenalisedBounds
from optml.formulations.regression import gram_data, lazy_gram_data
from optml.formulations.subset import BestSubsetProblem
from optml.regression import BestSubsetRegression


def _bounds(lazy, n=40, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, :3] @ np.array([1.0, -2.0, 0.5]) + rng.standard_normal(n)
    gram = lazy_gram_data(X, y) if lazy else gram_data(X, y, True)
    lo, hi = -np.full(p, 3.0), np.full(p, 3.0)
    heur = SubsetProblem(gram, 3, 0.1, lo, hi)
    prob = BestSubsetProblem(gram, 3, alpha=0.1, lb=lo, ub=hi, start=np.zeros(p), l0=1.0)
    b = SubsetBounds(prob, heur)
    return b, np.asarray(gram.G if not lazy else gram.G.Xc.T @ gram.G.Xc, float)


@pytest.mark.parametrize("lazy", [False, True])
def test_working_set_block_grows_to_the_direct_block(lazy):
    b, G = _bounds(lazy)
    assert b.delta > 0  # n > p: the shift is part of A
    pb = PenalisedBounds(b, 1.0)
    sets = ([4, 1, 7], [4, 1, 7, 0, 11], [4, 1, 7, 0, 11, 3], [2, 5])  # grows, then new
    for W in (np.array(w, dtype=int) for w in sets):
        AW = pb._A_W(W)
        direct = G[np.ix_(W, W)] - b.delta * np.eye(len(W))
        np.testing.assert_allclose(AW, direct, rtol=1e-12, atol=1e-9)
        assert pb._A_W(W) is AW  # the same working set: the kept block


def _brute(X, y, alpha, l0, M):
    n, p = X.shape
    Xc, yc = X - X.mean(0), y - y.mean()
    best = float(yc @ yc)
    for r in range(1, p + 1):
        for S in itertools.combinations(range(p), r):
            S = list(S)
            A = np.vstack([Xc[:, S], np.sqrt(alpha) * np.eye(r)])
            rhs = np.concatenate([yc, np.zeros(r)])
            bS = lsq_linear(A, rhs, bounds=(-M, M), method="bvls", tol=1e-13).x
            f = float(((yc - Xc[:, S] @ bS) ** 2).sum() + alpha * bS @ bS)
            best = min(best, f + l0 * np.count_nonzero(bS))
    return best


def test_penalised_box_at_p_above_n_equals_enumeration():
    rng = np.random.default_rng(3)
    n, p = 7, 9
    X = rng.standard_normal((n, p))
    y = X[:, [0, 4]] @ np.array([1.2, -0.9]) + 0.3 * rng.standard_normal(n)
    M, l0 = 1.5, 0.4
    m = BestSubsetRegression(l0=l0, alpha=0.0, M=M, method="bnb", mip_gap=1e-9).fit(X, y)
    assert m.result_.status == "optimal"
    assert m.result_.stats["nodes"] >= 1
    ref = _brute(X, y, 0.0, l0, M)
    assert m.result_.objective == pytest.approx(ref, rel=1e-7, abs=1e-9)
    assert m.result_.bound <= ref * (1 + 1e-7) + 1e-9
