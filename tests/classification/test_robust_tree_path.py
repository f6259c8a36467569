"""The robust tree on the one solve path: the exact search (special solver
``"robust-tree-search"``) and the MILP (``solver="highs"``) reach the same optimum as brute force
over every tree with thresholds on a fine grid (breakpoints, midpoints, ends), leaf reach
computed from the leaf boxes; the search's point is feasible in the MILP with the same
objective."""

import time

import numpy as np
import pytest

from optml.classification._robust_tree import RobustOptimalTree
from optml.formulations.robust_tree import RobustTreeProblem, candidate_thresholds, reach
from optml.solve import solve


def _data(seed, n=9, p=2, K=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).round(2)
    y = rng.integers(0, K, n)
    y[:K] = np.arange(K)  # every class present
    e = rng.uniform(0.05, 0.4, p)
    return X, y, e


def _grid(x, e):
    bp = np.unique(np.concatenate([x - e, x + e]))
    mid = (bp[1:] + bp[:-1]) / 2
    return np.unique(np.concatenate([bp, mid, [bp[0] - 1, bp[-1] + 1]]))


def _passes(X, y, e, K, grid, lo, hi):
    """Pass vectors of every leaf and depth-1 subtree inside the box (lo, hi]."""
    out = [~reach(X, e, lo, hi) | (y == c) for c in range(K)]
    for j in range(X.shape[1]):
        for t in grid[j]:
            hl, lr = hi.copy(), lo.copy()
            hl[j] = min(hl[j], t)
            lr[j] = max(lr[j], t)
            r1, r2 = reach(X, e, lo, hl), reach(X, e, lr, hi)
            for a in range(K):
                for b in range(K):
                    out.append((~r1 | (y == a)) & (~r2 | (y == b)))
    return np.array(out)


def _brute(X, y, e, K, depth):
    """Most robustly correct samples over every tree of depth <= ``depth`` on the grid."""
    p = X.shape[1]
    grid = [_grid(X[:, j], e[j]) for j in range(p)]
    inf = np.full(p, np.inf)
    best = int(_passes(X, y, e, K, grid, -inf, inf).sum(axis=1).max())
    if depth == 1:
        return best
    for j in range(p):
        for t in grid[j]:
            hl, lr = inf.copy(), -inf.copy()
            hl[j] = lr[j] = t
            PL = _passes(X, y, e, K, grid, -inf, hl)
            PR = _passes(X, y, e, K, grid, lr, inf)
            best = max(best, int((PL[:, None, :] & PR[None, :, :]).sum(axis=2).max()))
    return best


@pytest.mark.parametrize("seed,depth,K", [(0, 1, 2), (1, 2, 2), (2, 2, 2), (3, 2, 3), (4, 1, 3)])
def test_search_and_milp_match_brute_force(seed, depth, K):
    X, y, e = _data(seed, n=9 if K == 2 else 7, K=K)
    want = _brute(X, y, e, K, depth)
    n = X.shape[0]
    search = RobustOptimalTree(depth, eps=e, max_thresholds=None).fit(X, y)
    milp = RobustOptimalTree(depth, eps=e, max_thresholds=None, solver="highs").fit(X, y)
    for m, name in ((search, "robust-tree-search"), (milp, "highs")):
        res = m.result_
        assert res.solver == name
        assert res.status == "optimal" and res.verified
        assert m.robust_correct_ == want
        assert res.objective == pytest.approx(n - want)
        assert m.bound_ == want and m.gap_ == 0.0


@pytest.mark.parametrize("seed,depth", [(5, 1), (6, 2), (7, 2)])
def test_search_point_is_feasible_in_the_milp(seed, depth):
    """The search's tree written into the MILP's variables satisfies every row of the program
    (reach sums, suffix sums, error rows, inside-child rows) with the same objective."""
    X, y, e = _data(seed, n=12, p=3)
    T = [candidate_thresholds(X[:, j], e[j]) for j in range(X.shape[1])]
    problem = RobustTreeProblem(X, e, y, 2, depth, T)
    res = solve(problem)
    assert res.solver == "robust-tree-search" and res.status == "optimal"
    obj, viol = problem.program.evaluate(res.values)
    assert viol <= 1e-9
    assert obj == pytest.approx(res.objective)
    milp = solve(problem.program, solver="highs")
    assert milp.objective == pytest.approx(res.objective)


def test_milp_error_rows_are_exact_for_every_tree():
    """For random full trees (random splits, "none" included, random classes) the program's
    minimal error variables equal the leaf-box evaluator's robust errors."""
    X, y, e = _data(8, n=10, p=2)
    T = [candidate_thresholds(X[:, j], e[j]) for j in range(2)]
    problem = RobustTreeProblem(X, e, y, 2, 2, T)
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(200):
        splits = rng.integers(0, problem.S + 1, 3)
        leaves = rng.integers(0, 2, 4)
        vals = problem.values_of(splits, leaves)
        obj, viol = problem.evaluate(vals)
        if viol > 0:  # a child on the root's feature past its threshold: excluded
            continue
        checked += 1
        pobj, pviol = problem.program.evaluate(vals)
        assert pviol <= 1e-9  # z = the evaluator's errors satisfies every row ...
        # ... and no smaller z does: each error sample has a row forcing z_i >= 1
        z = vals["z"].copy()
        for i in np.flatnonzero(z):
            z2 = dict(vals, z=np.where(np.arange(z.size) == i, 0.0, z))
            assert problem.program.evaluate(z2)[1] >= 1 - 1e-9
        assert pobj == pytest.approx(obj)
    assert checked > 50


def test_scip_route():
    pytest.importorskip("pyscipopt")
    X, y, e = _data(9, K=2)
    a = RobustOptimalTree(2, eps=e, max_thresholds=None).fit(X, y)
    b = RobustOptimalTree(2, eps=e, max_thresholds=None, solver="scip").fit(X, y)
    assert b.result_.status == "optimal"
    assert a.robust_correct_ == b.robust_correct_


def test_time_limit_returns_incumbent():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 40))
    y = (X[:, 0] + rng.normal(size=400) > 0).astype(int)
    t0 = time.perf_counter()
    m = RobustOptimalTree(2, eps=0.1, max_thresholds=None, time_limit=0.5).fit(X, y)
    assert time.perf_counter() - t0 <= 0.5 * 1.1 + 1 + 1.0  # + building the problem
    assert m.status_ in ("time_limit", "optimal")
    assert m.robust_correct_ <= m.bound_
    m.predict(X)


def test_bad_solver_options_for_the_search():
    X, y, e = _data(0)
    with pytest.raises(ValueError, match="raw solver options"):
        RobustOptimalTree(1, eps=e, solver_options={"presolve": "off"}).fit(X, y)


def test_certificate_as_in_test_common():
    """What tests/test_common.py checks of every estimator (RobustOptimalTree lives in
    optml.adversarial, outside its FAMILIES): program_ evaluates result_.values to the
    objective, bound on the right side, verified; a pickled fit predicts the same."""
    import pickle

    from optml.program import Program, relative_gap

    X, y, e = _data(10, n=12, p=3)
    m = RobustOptimalTree(2, eps=e).fit(X, y)
    res = m.result_
    assert isinstance(m.program_, Program)
    assert res.status == "optimal" and res.verified
    assert res.bound <= res.objective + 1e-9
    assert res.gap == pytest.approx(relative_gap(res.objective, res.bound), abs=1e-12)
    obj, viol = m.program_.evaluate(res.values)
    assert obj == pytest.approx(res.objective) and viol <= 1e-9
    again = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(again.predict(X), m.predict(X))


@pytest.mark.slow  # 7 s; test_common.py runs the default constructor's checks
def test_sklearn_estimator_checks():
    """scikit-learn's estimator checks with the default constructor (as tests/test_common.py
    runs them for the estimators of its FAMILIES)."""
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = check_estimator(RobustOptimalTree(), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in res if r["status"] == "failed"]
    assert failed == []


@pytest.mark.parametrize("seed", range(6))
def test_conflict_bound_below_the_optimum(seed):
    """The time-limit bound (disjoint differently labelled pairs whose balls meet) never
    exceeds the optimal robust errors (brute force)."""
    from optml.algorithms.robust_tree_search import conflict_bound

    X, y, e = _data(seed, n=9)
    e = e * 3  # wide balls: many meeting pairs
    lb = conflict_bound(X, e, y)
    assert lb <= X.shape[0] - _brute(X, y, e, 2, 2)


def test_conflict_bound_counts_meeting_pairs():
    from optml.algorithms.robust_tree_search import conflict_bound

    X = np.array([[0.0], [0.15], [1.0], [1.08], [3.0]])
    y = np.array([0, 1, 0, 1, 1])
    assert conflict_bound(X, np.array([0.1]), y) == 2  # (0, 1) and (2, 3) meet; 4 alone
    assert conflict_bound(X, np.array([0.05]), y) == 1  # only (2, 3)
