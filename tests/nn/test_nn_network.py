"""ReLUNetwork: forward pass, maximize as a MILP against grid search, bound tightening."""

import numpy as np
import pytest

from optml.nn import ReLUNetwork, compute_bounds, interval_bounds

GRID = np.linspace(-1.0, 1.0, 301)
G2 = np.array(np.meshgrid(GRID, GRID)).reshape(2, -1).T


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    "bounds,formulation", [("interval", "bigm"), ("lp", "bigm"), ("interval", "partition")]
)
def test_maximize_matches_grid_search(seed, bounds, formulation, random_net):
    net = random_net([2, 8, 8, 1], seed)
    opt = net.maximize(-1.0, 1.0, bounds=bounds, formulation=formulation)
    value, x = opt
    assert opt.result.status == "optimal" and opt.result.verified
    # the argmax reproduces the value by a forward pass, and lies in the box
    assert np.all(np.abs(x) <= 1.0)
    assert value == pytest.approx(net.forward(x)[0], abs=1e-12)
    assert value == pytest.approx(opt.result.objective, abs=1e-6)
    grid_max = net.forward(G2)[:, 0].max()
    h = GRID[1] - GRID[0]
    lip = net.lipschitz_bound("inf")
    assert value >= grid_max - 1e-7  # the MILP is never worse than the grid
    assert value <= grid_max + lip * h / 2 + 1e-7  # and the grid is within its Lipschitz slack
    assert opt.bound >= value - 1e-6


def test_minimize_and_other_output(random_net):
    net = random_net([2, 6, 2], 5)
    v, x = net.minimize(-1, 1, output=1)
    assert v == pytest.approx(net.forward(G2)[:, 1].min(), abs=net.lipschitz_bound() * 0.01)
    assert v <= net.forward(G2)[:, 1].min() + 1e-7


@pytest.mark.parametrize("seed", [3])
def test_bound_tightening_never_cuts_off_the_optimum(seed, random_net):
    net = random_net([2, 8, 8, 1], seed)
    vals = {}
    for method in ("interval", "lp", "milp"):
        opt = net.maximize(-1.0, 1.0, bounds=method)
        vals[method] = opt.value
        assert opt.result.status == "optimal"
    assert vals["lp"] == pytest.approx(vals["interval"], abs=1e-6)
    assert vals["milp"] == pytest.approx(vals["interval"], abs=1e-6)
    # tightened bounds are sound (contain every sampled pre-activation) and no looser
    ia = interval_bounds(net.weights, net.biases, -np.ones(2), np.ones(2))
    for method in ("lp", "milp"):
        bnd = compute_bounds(net.weights, net.biases, -np.ones(2), np.ones(2), method=method)
        assert bnd.n_unstable <= bnd.n_unstable_interval
        assert bnd.binaries_removed == bnd.n_unstable_interval - bnd.n_unstable
        pts = np.random.default_rng(seed).uniform(-1, 1, (2000, 2))
        pre = [net.pre_activations(p) for p in pts]
        for k, (L, U) in enumerate(bnd.bounds):
            A = np.array([a[k] for a in pre])
            assert (A >= L - 1e-7).all() and (A <= U + 1e-7).all()
            assert (L >= ia[k][0] - 1e-9).all() and (U <= ia[k][1] + 1e-9).all()


@pytest.mark.parametrize("formulation", ["bigm", "partition"])
def test_forward_pass_point_is_feasible(formulation, random_net):
    net = random_net([3, 6, 5, 2], 7)
    p = net.build_program(-np.ones(3), np.ones(3), formulation=formulation)
    enc = p.metadata["encoding"]
    rng = np.random.default_rng(0)
    for x in rng.uniform(-1, 1, (20, 3)):
        point = {"x": x, **enc.values_at(x)}
        _, viol = p.evaluate(point)
        assert viol <= 1e-9
        assert enc.output.value(point) == pytest.approx(net.forward(x))


def test_from_sklearn_matches_predictions():
    from sklearn.datasets import make_classification, make_regression
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    X, y = make_classification(60, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
    clf = MLPClassifier((5, 4), max_iter=50, random_state=0).fit(X, y)
    net = ReLUNetwork.from_sklearn(clf)
    assert net.layer_sizes == (4, 5, 4, 3)
    np.testing.assert_array_equal(net.predict(X), clf.predict(X))
    yb = (y > 0).astype(int)
    clf2 = MLPClassifier((5,), max_iter=50, random_state=0).fit(X, yb)
    np.testing.assert_array_equal(ReLUNetwork.from_sklearn(clf2).predict(X), clf2.predict(X))
    Xr, yr = make_regression(40, 3, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(6,), max_iter=50, random_state=0).fit(Xr, yr)
    np.testing.assert_allclose(ReLUNetwork.from_sklearn(reg).forward(Xr)[:, 0], reg.predict(Xr))


def test_bad_input_gives_clear_errors(random_net):
    from sklearn.neural_network import MLPClassifier

    X = np.random.default_rng(0).normal(size=(20, 2))
    y = (X[:, 0] > 0).astype(int)
    tanh = MLPClassifier((3,), activation="tanh", max_iter=20, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="activation='tanh'"):
        ReLUNetwork.from_sklearn(tanh)
    with pytest.raises(TypeError, match="fitted"):
        ReLUNetwork.from_sklearn(MLPClassifier())
    with pytest.raises(ValueError, match="do not chain"):
        ReLUNetwork([np.ones((3, 2)), np.ones((1, 4))], [np.zeros(3), np.zeros(1)])
    with pytest.raises(ValueError, match="bias"):
        ReLUNetwork([np.ones((3, 2))], [np.zeros(3), np.zeros(1)])
    with pytest.raises(ValueError, match="finite"):
        ReLUNetwork([np.array([[np.nan, 1.0]])], [np.zeros(1)])
    net = random_net([2, 3, 1], 0)
    with pytest.raises(ValueError, match="lb > ub"):
        net.maximize([0.0, 1.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        net.maximize(-np.inf, 1.0)
    with pytest.raises(ValueError, match="output"):
        net.maximize(0, 1, output=3)
    with pytest.raises(ValueError, match="features"):
        net.forward(np.ones(5))
    with pytest.raises(ValueError, match="bounds"):
        net.maximize(0, 1, bounds="exact")
