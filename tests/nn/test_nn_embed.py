"""embed: fitted models as constraints; optimum over the input equals grid search."""

import numpy as np
import pytest

import optml as om
from optml.nn import ReLUNetwork, embed

GRID = np.linspace(0.0, 1.0, 201)
G2 = np.array(np.meshgrid(GRID, GRID)).reshape(2, -1).T


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (150, 2))
    y = np.sin(3 * X[:, 0]) + (X[:, 1] - 0.4) ** 2
    return X, y


def _maximize(model, n_out=1, backend="auto", solver=None, k=0):
    p = om.Program()
    x = p.var("x", shape=2, lb=0, ub=1)
    out = p.var("out", shape=n_out)
    emb = embed(p, model, x, out)
    p.maximize(out[k])
    res = p.solve(backend=backend, solver=solver)
    assert res.status == "optimal"
    chk = emb.check(res)
    assert chk.ok, chk.max_error
    return res, emb


def test_tree_optimum_is_the_best_leaf(data):
    from sklearn.tree import DecisionTreeRegressor

    X, y = data
    tree = DecisionTreeRegressor(max_depth=5, random_state=0).fit(X, y)
    res, emb = _maximize(tree)
    # every leaf holds a training point inside the box, so the optimum is the best leaf value
    assert res.objective == pytest.approx(tree.predict(X).max(), abs=1e-9)
    assert res.objective >= tree.predict(G2).max() - 1e-9
    assert emb.n_binaries == tree.get_n_leaves()


def test_linear_model_optimum_is_a_corner(data):
    from sklearn.linear_model import Ridge

    X, y = data
    lin = Ridge(alpha=1.0).fit(X, y)
    res, _ = _maximize(lin)
    assert res.objective == pytest.approx(lin.predict(G2).max(), abs=1e-9)


def test_mlp_optimum_matches_grid(data):
    from sklearn.neural_network import MLPRegressor

    X, y = data
    mlp = MLPRegressor(hidden_layer_sizes=(10, 10), random_state=0, max_iter=500).fit(X, y)
    res, emb = _maximize(mlp)
    grid = mlp.predict(G2).max()
    lip = ReLUNetwork.from_sklearn(mlp).lipschitz_bound("inf")
    assert grid - 1e-9 <= res.objective <= grid + lip * (GRID[1] - GRID[0]) / 2 + 1e-9
    assert emb.n_binaries <= 20


def test_forest_and_classifiers(data):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    X, y = data
    rf = RandomForestRegressor(n_estimators=4, max_depth=3, random_state=0).fit(X, y)
    res, emb = _maximize(rf)
    assert res.objective >= rf.predict(G2).max() - 1e-9
    assert emb.n_binaries == sum(e.get_n_leaves() for e in rf.estimators_)
    yc = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    for clf in (
        DecisionTreeClassifier(max_depth=3, random_state=0),
        RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0),
    ):
        clf.fit(X, yc)
        res, _ = _maximize(clf, n_out=3, k=2)
        assert res.objective >= clf.predict_proba(G2)[:, 2].max() - 1e-9
    lr = LogisticRegression().fit(X, yc)
    res, _ = _maximize(lr, n_out=3, k=1)
    assert res.objective == pytest.approx(lr.decision_function(G2)[:, 1].max(), abs=1e-9)


def test_optml_style_estimator_with_coef():
    class Fitted:  # what an optml linear estimator exposes after fit
        coef_ = np.array([1.5, -2.0])
        intercept_ = 0.25
        n_features_in_ = 2

    res, _ = _maximize(Fitted())
    assert res.objective == pytest.approx(1.75)


def test_check_catches_a_wrong_out(data):
    from sklearn.tree import DecisionTreeRegressor

    X, y = data
    tree = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y)
    p = om.Program()
    x = p.var("x", shape=2, lb=0, ub=1)
    out = p.var("out", shape=1)
    emb = embed(p, tree, x, out)
    p.maximize(out[0])
    res = p.solve()
    res.values["out"] = res.values["out"] + 0.5
    assert not emb.check(res)


def test_bad_input(data):
    from sklearn.svm import SVR
    from sklearn.tree import DecisionTreeRegressor

    X, y = data
    tree = DecisionTreeRegressor(max_depth=2, random_state=0).fit(X, y)
    p = om.Program()
    x = p.var("x", shape=2)  # unbounded
    out = p.var("out", shape=1)
    with pytest.raises(ValueError, match="finite"):
        embed(p, tree, x, out)
    p = om.Program()
    x = p.var("x", shape=3, lb=0, ub=1)
    with pytest.raises(ValueError, match="features"):
        embed(p, tree, x, p.var("out", shape=1))
    x2 = p.var("x2", shape=2, lb=0, ub=1)
    with pytest.raises(ValueError, match="outputs"):
        embed(p, tree, x2, p.var("o2", shape=3))
    with pytest.raises(TypeError, match="does not know"):
        embed(p, SVR().fit(X, y), x2, p.var("o3", shape=1))


@pytest.mark.parametrize(
    "backend,solver", [("cvxpy", "scip"), ("pyomo", "scip"), ("pyomo", "highs")]
)
def test_backends_agree(data, backend, solver, solver_or_skip):
    from sklearn.neural_network import MLPRegressor
    from sklearn.tree import DecisionTreeRegressor

    solver_or_skip(backend, solver)
    X, y = data
    tree = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y)
    mlp = MLPRegressor(hidden_layer_sizes=(6,), random_state=0, max_iter=300).fit(X, y)
    for model in (tree, mlp):
        ref, _ = _maximize(model)
        other, _ = _maximize(model, backend=backend, solver=solver)
        assert other.objective == pytest.approx(ref.objective, abs=1e-6)
    net = ReLUNetwork.from_sklearn(mlp)
    v_highs = net.maximize(0, 1).value
    v_other = net.maximize(0, 1, backend=backend, solver=solver).value
    assert v_other == pytest.approx(v_highs, abs=1e-6)
