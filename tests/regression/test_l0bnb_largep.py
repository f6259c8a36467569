"""Best subset at large p (issue 19): the screened heuristics and the branch and bound on a
global working set (``l0_bnb.WorkingSet``), forced on tiny instances by shrinking their
size constants, against brute-force enumeration."""

from itertools import combinations

import numpy as np
import pytest
from scipy.optimize import lsq_linear

import optml.algorithms.best_subset_heuristics as bh
import optml.algorithms.l0_bnb as lb
import optml.formulations.regression as reg
from optml.data import make_sparse_regression
from optml.regression import BestSubsetRegression


def _data(n, p, k, seed):
    X, y, _ = make_sparse_regression(n=n, p=p, k=k, rho=0.5, snr=1.0, random_state=seed)
    return X, y


def _enumerate(X, y, k, alpha, M):
    """min over |S| = k of ||y_c - X_c b||^2 + alpha ||b||^2 with |b_j| <= M."""
    Xc, yc = X - X.mean(0), y - y.mean()
    best = np.inf
    for S in combinations(range(X.shape[1]), k):
        A, b = Xc[:, S], yc
        if alpha:
            A = np.vstack([A, np.sqrt(alpha) * np.eye(k)])
            b = np.concatenate([yc, np.zeros(k)])
        box = (-M, M) if M is not None else (-np.inf, np.inf)
        x = lsq_linear(A, b, bounds=box, method="bvls").x
        best = min(best, float(np.sum((A @ x - b) ** 2)))
    return best


@pytest.mark.parametrize(
    "seed, alpha, M, lazy",
    [
        (0, 0.5, None, True),
        (1, 0.0, 1.0, True),
        pytest.param(2, 0.1, 0.7, False, marks=pytest.mark.slow),
        (3, 0.0, 0.8, False),
    ],
)
def test_working_set_search_matches_enumeration(monkeypatch, seed, alpha, M, lazy):
    # a working set of 3 features grown 2 at a time: every node prices the others
    monkeypatch.setattr(lb, "RESTRICT_SIZE", 3)
    monkeypatch.setattr(lb, "RESTRICT_ADD", 2)
    if lazy:
        monkeypatch.setattr(reg, "GRAM_LAZY_BYTES", 0)
    else:
        monkeypatch.setattr(lb, "RESTRICT_MIN_P", 5)
    k = 3
    X, y = _data(30, 11, k, seed)
    m = BestSubsetRegression(k=k, alpha=alpha, M=M, mip_gap=1e-7, heuristic="none").fit(X, y)
    r = m.result_
    best = _enumerate(X, y, k, alpha, M)
    assert r.stats["route"] == "global working set"
    assert r.stats["working_set_grows"] >= 2  # the working set grew from 3 features
    assert r.status == "optimal"
    assert m.objective_ == pytest.approx(best, rel=1e-7)
    assert r.bound <= best * (1 + 1e-9)  # certified: never above the true optimum
    assert np.count_nonzero(m.coef_) <= k
    if M is not None:
        assert np.abs(m.coef_).max() <= M * (1 + 1e-9)


@pytest.mark.parametrize("seed", [pytest.param(5, marks=pytest.mark.slow), 7])
def test_capped_working_set_stays_exact(monkeypatch, seed):
    """With the working set capped (no pricing growth past 3 features) the relaxations are
    weaker but the bound stays valid and the search still proves the optimum (branching
    reaches the features outside the working set)."""
    monkeypatch.setattr(lb, "RESTRICT_SIZE", 2)
    monkeypatch.setattr(lb, "RESTRICT_ADD", 1)
    monkeypatch.setattr(lb, "RESTRICT_MAX", 3)
    monkeypatch.setattr(reg, "GRAM_LAZY_BYTES", 0)
    k = 3
    X, y = _data(25, 9, k, seed)
    best = _enumerate(X, y, k, 0.05, 1.0)
    m = BestSubsetRegression(k=k, alpha=0.05, M=1.0, mip_gap=1e-7, heuristic="none").fit(X, y)
    assert m.result_.status == "optimal"
    assert m.objective_ == pytest.approx(best, rel=1e-7)
    assert m.result_.bound <= best * (1 + 1e-9)


def test_screened_heuristics(monkeypatch):
    """The screened route (candidate set, Gram block) gives a feasible point no worse than
    forward selection, and the restricted problem has the full problem's objective."""
    monkeypatch.setattr(bh, "SCREEN_FACTOR", 1)
    monkeypatch.setattr(bh, "screen_size", lambda k: 6)
    k = 3
    X, y = _data(40, 30, k, 4)
    gram = reg.gram_data(X, y, True)
    for lo, hi in ((None, None), (np.full(30, -0.6), np.full(30, 0.6))):
        h = bh.SubsetProblem(gram, k, 0.2, lo, hi)
        b, f, how = h.warm_start("auto")
        assert how.endswith("+screened")
        assert np.count_nonzero(b) <= k
        assert f == pytest.approx(h.objective(b))
        if lo is not None:
            assert np.all(b >= lo - 1e-12) and np.all(b <= hi + 1e-12)
        assert f <= h.objective(h.forward()) * (1 + 1e-12)
        C = np.array([2, 5, 7, 11, 20])
        sub = h.restricted(C)
        v = np.zeros(5)
        v[[0, 3]] = [0.3, -0.2]
        full = np.zeros(30)
        full[C] = v
        assert sub.objective(v) == pytest.approx(h.objective(full))
    # the lazy Gram: the same point
    lg = reg.lazy_gram_data(X, y)
    hl = bh.SubsetProblem(lg, k, 0.2)
    hf = bh.SubsetProblem(gram, k, 0.2)
    assert hl.warm_start("auto")[1] == pytest.approx(hf.warm_start("auto")[1], rel=1e-9)
