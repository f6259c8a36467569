"""FlowOCT's capacity rows through suffix sums along each feature's thresholds: the same
optimum as the dense rows, far fewer nonzeros (R12: thousands of thresholds stay buildable)."""

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from optml.formulations import tree as ft


def _data(seed, n=14, p=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).round(1)
    y = ((X[:, 0] + 0.7 * X[:, 1] > 0) ^ (rng.random(n) < 0.15)).astype(int)
    feats, vals = [], []
    for j in range(p):
        u = np.unique(X[:, j])
        t = (u[:-1] + u[1:]) / 2
        feats += [j] * t.size
        vals += list(t)
    feats, vals = np.array(feats), np.array(vals)
    perm = rng.permutation(feats.size)  # columns of a feature need not be adjacent or ordered
    feats, vals = feats[perm], vals[perm]
    Xb = (X[:, feats] <= vals[None, :]).astype(float)
    return ft.aggregate(Xb, y, 2), feats


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("depth", [1, 2])
def test_suffix_rows_give_the_dense_optimum(seed, depth):
    data, feats = _data(seed)
    mask = ft.split_mask(depth, feats.size)
    rng = np.random.default_rng(seed)
    mask[:, :-1] &= rng.random((mask.shape[0], feats.size)) < 0.8  # some pairs not allowed
    dense = ft.flow_oct(data, depth, mask, alpha=0.5)
    compact = ft.flow_oct(data, depth, mask, alpha=0.5, col_feature=feats)
    assert compact.extra["suffix_layout"]  # the chains were found
    assert compact.program.canonical().A.nnz < dense.program.canonical().A.nnz
    r1 = dense.program.solve(backend="highs")
    r2 = compact.program.solve(backend="highs")
    assert r1.status == r2.status == "optimal"
    assert r2.objective == pytest.approx(r1.objective, abs=1e-6)
    # the LP relaxations are the same too (an exact substitution)
    assert _lp_value(compact.program) == pytest.approx(_lp_value(dense.program), abs=1e-6)


def _lp_value(program):
    c = program.canonical()
    res = milp(
        c.q,
        constraints=LinearConstraint(c.A, c.row_lb, c.row_ub),
        bounds=Bounds(c.lb, c.ub),
    )
    assert res.status == 0
    return res.fun + c.c0


def test_a_warm_start_fills_the_suffix_variables():
    data, feats = _data(3)
    depth = 2
    mask = ft.split_mask(depth, feats.size)
    form = ft.flow_oct(data, depth, mask, col_feature=feats)
    F = feats.size
    node_col = np.array([0, 1, F])  # root and left child split, right child skipped
    leaf = ft.route(data.Xd, node_col, depth)
    labels = np.array([0, 1, 0, 1])
    values = form.start(node_col, labels)
    obj, viol = form.program.evaluate(values)
    assert viol <= 1e-9
    assert obj == pytest.approx(form.objective_of(node_col, labels))
    assert leaf.shape == (data.n_patterns,)


def test_columns_that_are_not_nested_stay_dense():
    Xd = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 1.0]])  # two columns of feature 0, crossing
    assert ft.threshold_chains(Xd, np.array([0, 0])) == []
    with pytest.raises(ValueError, match="col_feature has 3 entries"):
        ft.threshold_chains(Xd, np.array([0, 0, 1]))
