import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits_net():
    """A small ReLU MLP (64-16-10) trained on digits scaled to [0, 1], with held-out images."""
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from optml.nn import ReLUNetwork

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((16,), random_state=0, max_iter=60).fit(X[:-50], y[:-50])
    return ReLUNetwork.from_sklearn(mlp), mlp, X[-50:], y[-50:]


def _solver_or_skip(backend, solver):
    import optml as om
    from optml.exceptions import SolverNotAvailableError

    p = om.Program()
    z = p.var("z", domain="binary")
    p.maximize(z)
    try:
        p.solve(backend=backend, solver=solver)
    except SolverNotAvailableError as err:
        pytest.skip(f"{backend}/{solver} not available: {err}")


@pytest.fixture(scope="session")
def solver_or_skip():
    """A function (backend, solver) that skips the test unless that pair solves a tiny MIP."""
    return _solver_or_skip


def _random_net(sizes, seed):
    from optml.nn import ReLUNetwork

    rng = np.random.default_rng(seed)
    W = [rng.normal(size=(sizes[k + 1], sizes[k])) for k in range(len(sizes) - 1)]
    b = [rng.normal(size=sizes[k + 1]) * 0.5 for k in range(len(sizes) - 1)]
    return ReLUNetwork(W, b)


@pytest.fixture(scope="session")
def random_net():
    """A function (sizes, seed) -> ReLUNetwork with Gaussian weights."""
    return _random_net


# scikit-learn's estimator checks that run without fitting, or fit a handful of points: the
# default run keeps these; the checks that train the MILP classifiers on the checks' own
# 100-300-point data sets take seconds each and run with ``-m slow``.
FAST_SKLEARN_CHECKS = {
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_estimators_unfitted",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_mixin_order",
    "check_estimators_empty_data_messages",
    "check_fit2d_1sample",
    "check_fit2d_1feature",
    "check_fit1d",
    "check_complex_data",
    "check_classifiers_one_label",
    "check_classifiers_one_label_sample_weights",
    "check_requires_y_none",
    "check_estimators_nan_inf",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "test_nn_sklearn_checks" not in item.nodeid:
            continue
        name = item.nodeid.split("-")[-1].split("(")[0].rstrip("]")
        if name not in FAST_SKLEARN_CHECKS:
            item.add_marker(pytest.mark.slow)
