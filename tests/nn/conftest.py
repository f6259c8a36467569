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
