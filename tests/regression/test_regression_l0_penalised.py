"""The penalised form of best subset, ``BestSubsetRegression(l0=...)`` (L0L2 with an optional box
``M``), against brute-force enumeration of every support on tiny random instances: the
special solver ``"l0-bnb"`` and the MIQP on SCIP (HiGHS takes no MIQP), with and without the
box, alpha = 0 and alpha > 0; parameter errors; the path over l0."""

import itertools

import numpy as np
import pytest
from scipy.optimize import lsq_linear

from optml.regression import BestSubsetRegression, best_subset_path

TIGHT = 1e-9


def _data(n=30, p=8, seed=0, rho=0.5):
    rng = np.random.default_rng(seed)
    X = np.sqrt(1 - rho) * rng.standard_normal((n, p)) + np.sqrt(rho) * rng.standard_normal((n, 1))
    beta = np.zeros(p)
    beta[rng.choice(p, 3, replace=False)] = rng.choice([-1.5, -0.7, 0.8, 1.2], 3)
    return X, X @ beta + rng.standard_normal(n) + 0.3


def brute(X, y, alpha, l0, M=np.inf):
    """min over every support S of the box-constrained ridge least squares on S (centred)
    plus l0 * (nonzeros of its fit)."""
    n, p = X.shape
    Xc, yc = X - X.mean(0), y - y.mean()
    best = (float(yc @ yc), [])
    for r in range(1, p + 1):
        for S in itertools.combinations(range(p), r):
            S = list(S)
            A = np.vstack([Xc[:, S], np.sqrt(alpha) * np.eye(r)])
            rhs = np.concatenate([yc, np.zeros(r)])
            b = lsq_linear(A, rhs, bounds=(-M, M), method="bvls", tol=1e-13).x
            f = float(((yc - Xc[:, S] @ b) ** 2).sum() + alpha * b @ b)
            f += l0 * np.count_nonzero(b)
            if f < best[0] - 1e-12 * abs(best[0]):
                best = (f, S)
    return best


CASES = [  # seed, alpha, l0, M
    (0, 0.0, 3.0, None),
    (1, 0.7, 3.0, None),
    (2, 0.0, 2.0, 1.0),
    (3, 0.7, 5.0, 0.8),
    (4, 0.3, 1.0, None),
]


@pytest.mark.parametrize("seed,alpha,l0,M", CASES)
def test_l0_bnb_penalised_equals_enumeration(seed, alpha, l0, M):
    X, y = _data(p=7 + seed % 2, seed=seed)
    f_ref, S_ref = brute(X, y, alpha, l0, np.inf if M is None else M)
    m = BestSubsetRegression(l0=l0, alpha=alpha, M=M, solver="l0-bnb", mip_gap=TIGHT).fit(X, y)
    r = m.result_
    assert r.backend == "optml" and r.solver == "l0-bnb"
    assert r.status == "optimal" and r.verified
    assert m.objective_ == pytest.approx(f_ref, rel=1e-7)
    assert r.objective == pytest.approx(f_ref, rel=1e-7)
    assert r.bound <= f_ref * (1 + 1e-7)
    assert sorted(np.flatnonzero(m.support_)) == S_ref
    if M is not None:
        assert np.abs(m.coef_).max() <= M * (1 + 1e-9)
    res = y - X @ m.coef_ - m.intercept_
    f = res @ res + alpha * m.coef_ @ m.coef_ + l0 * np.count_nonzero(m.coef_)
    assert f == pytest.approx(m.objective_, rel=1e-9)


@pytest.mark.parametrize(
    "seed,alpha,l0,M",
    # CASES[0] (alpha = 0, no box; 0.8 s) runs with the slow tests: CASES[3] keeps the MIQP
    # route in the default suite (paying for tests/regression/test_l0pen_blocks.py)
    [pytest.param(*CASES[0], marks=pytest.mark.slow), CASES[3]],
)
def test_penalised_miqp_on_scip_agrees(seed, alpha, l0, M):
    pytest.importorskip("pyscipopt")
    X, y = _data(p=7 + seed % 2, seed=seed)
    f_ref, S_ref = brute(X, y, alpha, l0, np.inf if M is None else M)
    bnb = BestSubsetRegression(l0=l0, alpha=alpha, M=M, solver="l0-bnb").fit(X, y)
    mip = BestSubsetRegression(l0=l0, alpha=alpha, M=M, method="mip", solver="scip").fit(X, y)
    assert mip.result_.backend != "optml" and mip.result_.status == "optimal"
    assert mip.result_.verified
    assert mip.objective_ == pytest.approx(f_ref, rel=1e-6)
    assert bnb.objective_ == pytest.approx(mip.objective_, rel=1e-6)
    assert sorted(np.flatnonzero(mip.support_)) == S_ref
    # the program carries the penalty and no cardinality row
    names = [c.name for c in mip.program_.constraints]
    assert "cardinality" not in names


def test_penalised_without_ridge_or_box_falls_back_when_p_exceeds_n():
    """alpha = 0, no box, p >= n: the relaxation is void; "auto" hands the MIQP to SCIP on the
    same clock, naming l0-bnb gives a clear error status (never a wrong certificate)."""
    pytest.importorskip("pyscipopt")
    X, y = _data(n=8, p=10, seed=7)
    m = BestSubsetRegression(l0=1.0, time_limit=20).fit(X, y)
    assert m.result_.backend != "optml"
    assert m.result_.status in ("optimal", "time_limit")


def test_k_and_l0_are_exclusive_and_checked():
    X, y = _data()
    with pytest.raises(ValueError, match="either k .* or l0"):
        BestSubsetRegression(k=3, l0=1.0).fit(X, y)
    with pytest.raises(ValueError, match="l0"):
        BestSubsetRegression(l0=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="M"):
        BestSubsetRegression(l0=1.0, M=0.0).fit(X, y)
    with pytest.raises(ValueError, match="M has 3 entries"):
        BestSubsetRegression(l0=1.0, M=[1.0, 1.0, 1.0]).fit(X, y)
    with pytest.raises(ValueError, match="cardinality form only"):
        BestSubsetRegression(l0=1.0, method="oa").fit(X, y)
    with pytest.warns(UserWarning, match="k=10 is greater"):  # k = 10 by default
        BestSubsetRegression(solver="l0-bnb").fit(X, y)


def test_box_on_the_cardinality_form_equals_enumeration():
    X, y = _data(seed=5)
    n, p = X.shape
    Xc, yc = X - X.mean(0), y - y.mean()
    best = np.inf
    for S in itertools.combinations(range(p), 3):
        S = list(S)
        b = lsq_linear(Xc[:, S], yc, bounds=(-0.6, 0.6), method="bvls", tol=1e-13).x
        best = min(best, float(((yc - Xc[:, S] @ b) ** 2).sum()))
    m = BestSubsetRegression(k=3, M=0.6, solver="l0-bnb", mip_gap=TIGHT).fit(X, y)
    assert m.result_.status == "optimal" and m.result_.verified
    assert m.objective_ == pytest.approx(best, rel=1e-7)


def test_path_over_l0_matches_separate_fits():
    X, y = _data(seed=2)
    grid = [20.0, 5.0, 1.0, 0.2]
    path = best_subset_path(X, y, l0=grid, alpha=0.3, progress=False)
    assert list(path["l0"]) == sorted(grid, reverse=True)
    assert np.all(np.diff(path["k"]) >= 0)  # a smaller penalty never selects fewer
    for lam, obj, st in zip(path["l0"], path["objectives"], path["statuses"], strict=True):
        f_ref, _ = brute(X, y, 0.3, lam)
        assert st == "optimal"
        assert obj == pytest.approx(f_ref, rel=1e-7)


@pytest.mark.parametrize(
    "a,lam,M", [(0.5, 2.0, np.inf), (0.5, 2.0, 1.0), (0.0, 2.0, 1.5), (3.0, 0.5, 0.2)]
)
def test_coordinate_step_and_penalty_against_a_grid(a, lam, M):
    """The relaxed penalty psi (a minimum over s) and the exact coordinate step of the node
    relaxation, against a fine grid."""
    from optml.algorithms.best_subset_l0 import _coord, psi

    lo, hi = -M, M
    grid = np.linspace(-min(M, 6.0), min(M, 6.0), 24001)
    from scipy.optimize import minimize_scalar

    for u in (-2.5, -0.3, 0.0, 0.1, 0.9, 4.0):
        if abs(u) > M:
            continue
        smin = max(abs(u) / M, 1e-12)
        if u == 0:
            ref = 0.0
        else:
            opt = minimize_scalar(
                lambda v, u=u: a * u * u / v + lam * v,
                bounds=(smin, 1.0),
                method="bounded",
                options={"xatol": 1e-12},
            )
            ref = min(float(opt.fun), a * u * u / smin + lam * smin, a * u * u + lam)
        assert psi(np.array([u]), a, lam, lo, hi)[0] == pytest.approx(ref, rel=1e-7, abs=1e-9)
    pen = psi(grid, a, lam, lo, hi)
    for d, t in ((1.0, 0.2), (1.0, -3.0), (0.3, 1.7), (2.0, 5.0)):
        q = d * grid * grid - 2 * t * grid + pen
        u = _coord(t, d, a, lam, lo, hi, False)
        qu = d * u * u - 2 * t * u + psi(np.array([u]), a, lam, lo, hi)[0]
        assert qu <= q.min() + 1e-6 * max(1.0, abs(q.min()))


def test_dual_bound_is_a_lower_bound_at_any_point():
    """The penalised dual bound D(beta) at random points (no solve) never exceeds the
    enumerated optimum, with and without the box, with fixings."""
    from optml.algorithms.best_subset_bounds import SubsetBounds
    from optml.algorithms.best_subset_l0 import PenalisedBounds
    from optml.algorithms.best_subset_oa import heuristic_of
    from optml.formulations.regression import gram_data
    from optml.formulations.subset import BestSubsetProblem

    X, y = _data(seed=4)
    p = X.shape[1]
    rng = np.random.default_rng(0)
    for alpha, M in ((0.5, np.inf), (0.0, 0.9)):
        f_ref, S_ref = brute(X, y, alpha, 2.0, M)
        prob = BestSubsetProblem(
            gram_data(X, y, True), p, alpha=alpha, l0=2.0, lb=np.full(p, -M), ub=np.full(p, M)
        )
        pb = PenalisedBounds(SubsetBounds(prob, heuristic_of(prob)), 2.0)
        none = np.zeros(p, bool)
        for _ in range(20):
            beta = rng.standard_normal(p) * rng.integers(0, 2, p)
            D, _, _ = pb.dual(beta, [], none)
            assert D <= f_ref * (1 + 1e-12)
        # fixing in a feature of the optimum keeps the bound below the optimum
        D, _, _ = pb.dual(rng.standard_normal(p), [S_ref[0]], none)
        assert D <= f_ref * (1 + 1e-12)
        D_opt, _, _ = pb.relaxation([], none)
        assert D_opt <= f_ref * (1 + 1e-12)
