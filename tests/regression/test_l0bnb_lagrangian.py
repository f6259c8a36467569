"""Issue 19: the cardinality form's relaxation as the Lagrangian dual over the cardinality
multiplier (boxed where a box M is given), the active-set proximal-gradient / Newton node
relaxation, and the cardinality form with a box at alpha = 0 and p > n, against brute-force
enumeration of every support on tiny random instances; dual bounds never above the optimum
with random fixings."""

import itertools

import numpy as np
import pytest
from scipy.optimize import lsq_linear

from optml.algorithms.best_subset_bounds import SubsetBounds
from optml.algorithms.best_subset_l0 import CardinalityLagrangian, PenalisedBounds
from optml.algorithms.best_subset_oa import heuristic_of
from optml.formulations.regression import gram_data
from optml.formulations.subset import BestSubsetProblem
from optml.regression import BestSubsetRegression

TIGHT = 1e-9


def _data(n, p, seed, rho=0.5):
    rng = np.random.default_rng(seed)
    X = np.sqrt(1 - rho) * rng.standard_normal((n, p)) + np.sqrt(rho) * rng.standard_normal((n, 1))
    beta = np.zeros(p)
    beta[rng.choice(p, 3, replace=False)] = rng.choice([-1.5, -0.7, 0.8, 1.2], 3)
    return X, X @ beta + rng.standard_normal(n) + 0.3


def _fit(Xc, yc, S, alpha, M):
    A = np.vstack([Xc[:, S], np.sqrt(alpha) * np.eye(len(S))])
    rhs = np.concatenate([yc, np.zeros(len(S))])
    b = lsq_linear(A, rhs, bounds=(-M, M), method="bvls", tol=1e-13).x
    return float(((yc - Xc[:, S] @ b) ** 2).sum() + alpha * b @ b), b


def brute(X, y, alpha, M=np.inf, k=None, l0=0.0, fin=(), fout=()):
    """The optimum over every support (|S| <= k, or any size with l0 per nonzero), with
    ``fin`` inside and ``fout`` outside every support, of the boxed ridge least squares."""
    n, p = X.shape
    Xc, yc = X - X.mean(0), y - y.mean()
    free = [j for j in range(p) if j not in fin and j not in fout]
    best = np.inf
    top = p if k is None else k
    for r in range(0, top - len(fin) + 1):
        for extra in itertools.combinations(free, r):
            S = sorted(set(fin) | set(extra))
            if not S:
                f = float(yc @ yc)
            else:
                f, b = _fit(Xc, yc, S, alpha, M)
                f += l0 * np.count_nonzero(b) if k is None else 0.0
                if k is None and fin:
                    f += l0 * sum(1 for j in fin if b[S.index(j)] == 0)  # fixed in: counted
            best = min(best, f)
    return best


@pytest.mark.parametrize(
    "seed,n,p,k,alpha,M",
    [
        (1, 30, 7, 2, 0.5, 1.0),  # box binds
        pytest.param(0, 30, 8, 3, 0.0, 0.9, marks=pytest.mark.slow),
        # p > n, alpha = 0: only the box makes it certifiable
        pytest.param(2, 6, 8, 3, 0.0, 1.2, marks=pytest.mark.slow),
        pytest.param(3, 7, 9, 2, 0.2, None, marks=pytest.mark.slow),  # p > n, no box
    ],
)
def test_cardinality_bnb_equals_enumeration(seed, n, p, k, alpha, M):
    X, y = _data(n, p, seed)
    f_ref = brute(X, y, alpha, np.inf if M is None else M, k=k)
    m = BestSubsetRegression(k=k, alpha=alpha, M=M, solver="l0-bnb", mip_gap=TIGHT).fit(X, y)
    r = m.result_
    assert r.solver == "l0-bnb" and r.status == "optimal" and r.verified
    assert r.objective == pytest.approx(f_ref, rel=1e-7)
    # certified within the solver's gap tolerance (1e-4: mip_gap below it is raised to it)
    assert r.bound <= f_ref * (1 + 1e-7) and r.gap <= 1e-4
    if M is not None:
        assert np.abs(m.coef_).max() <= M * (1 + 1e-9)


@pytest.mark.slow
def test_auto_takes_the_branch_and_bound_with_a_box_at_alpha_zero():
    """alpha = 0, p > n: without a box "auto" falls back to the MIQP; with a box M (part of
    the model) it runs "l0-bnb", certified."""
    X, y = _data(6, 8, 5)
    m = BestSubsetRegression(k=2, M=1.0, mip_gap=TIGHT).fit(X, y)
    assert m.result_.solver == "l0-bnb" and m.result_.status == "optimal"
    assert m.result_.objective == pytest.approx(brute(X, y, 0.0, 1.0, k=2), rel=1e-7)


@pytest.mark.parametrize(
    "alpha,M",
    [
        (0.0, 0.8),
        pytest.param(0.4, np.inf, marks=pytest.mark.slow),
        pytest.param(0.3, 0.7, marks=pytest.mark.slow),
    ],
)
def test_relaxation_bounds_never_exceed_the_optimum_with_fixings(alpha, M):
    """Random fixings (in and out): the Lagrangian cardinality bound and the penalised node
    bound (the new inner solver) stay below the enumerated optimum of that subtree."""
    X, y = _data(25, 7, 11)
    p, k, l0 = 7, 3, 1.5
    prob = BestSubsetProblem(
        gram_data(X, y, True), k, alpha=alpha, lb=np.full(p, -M), ub=np.full(p, M)
    )
    bounds = SubsetBounds(prob, heuristic_of(prob))
    lag = CardinalityLagrangian(bounds)
    pb = PenalisedBounds(bounds, l0)
    rng = np.random.default_rng(3)
    for _ in range(6):
        perm = rng.permutation(p)
        fin = sorted(int(j) for j in perm[: rng.integers(0, 3)])
        fout = sorted(int(j) for j in perm[3 : 3 + rng.integers(0, 3)])
        f_card = brute(X, y, alpha, M, k=k, fin=fin, fout=fout)
        D = lag.relaxation(fin, fout, beta0=rng.standard_normal(p))[0]
        assert D <= f_card * (1 + 1e-9) + 1e-9
        fmask = np.zeros(p, bool)
        fmask[fout] = True
        f_pen = brute(X, y, alpha, M, l0=l0, fin=fin, fout=fout)
        Dp = pb.relaxation(fin, fmask, W0=range(p), beta0=rng.standard_normal(p))[0]
        assert Dp <= f_pen * (1 + 1e-9) + 1e-9


def test_gram_by_blocks_reads_the_clock(monkeypatch):
    """With a deadline, X'X beyond GRAM_BLOCK columns is formed by blocks (same matrix,
    exactly symmetric); a passed deadline raises GramTimeLimit, and the estimator then returns
    the empty model with status time_limit (certified, bound 0) instead of running over."""
    import time

    import optml.formulations.regression as reg

    X, y = _data(40, 23, 7)
    ref = gram_data(X, y, True)
    monkeypatch.setattr(reg, "GRAM_BLOCK", 5)
    blk = gram_data(X, y, True, deadline=time.perf_counter() + 60)
    assert np.allclose(blk.G, ref.G, rtol=1e-12, atol=1e-12 * np.abs(ref.G).max())
    assert np.array_equal(blk.G, blk.G.T)
    with pytest.raises(reg.GramTimeLimit):
        gram_data(X, y, True, deadline=time.perf_counter() - 1.0)
    m = BestSubsetRegression(k=3, alpha=0.1, time_limit=1e-6).fit(X, y)
    r = m.result_
    assert r.status == "time_limit" and r.bound == 0.0 and r.has_solution
    assert not m.coef_.any() and m.intercept_ == pytest.approx(y.mean())
    assert r.objective == pytest.approx(float(((y - y.mean()) ** 2).sum()))
