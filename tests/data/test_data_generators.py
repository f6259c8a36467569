"""Synthetic generators: the stated population quantities are met on large draws.

Tolerances are five standard errors of the estimator at the sample size used (stated at
each check), not fitted to the output.
"""

from __future__ import annotations

import numpy as np
import pytest

from optml import data


def _sigma_matrix(p, rho, design):
    i = np.arange(p)
    if design == "toeplitz":
        return rho ** np.abs(i[:, None] - i[None, :]).astype(float)
    if design == "equicorrelated":
        return np.where(i[:, None] == i[None, :], 1.0, rho)
    return np.eye(p)


@pytest.mark.parametrize(
    "design,rho,beta_type",
    [
        ("toeplitz", 0.35, "spread"),
        ("toeplitz", 0.7, "first"),
        ("toeplitz", -0.5, "linear"),
        ("equicorrelated", 0.5, "decaying"),
        ("equicorrelated", -0.08, "first"),
        ("independent", 0.9, "spread"),
    ],
)
def test_sparse_regression_correlation_and_snr(design, rho, beta_type):
    n, p, k, snr = 100_000, 12, 4, 2.5
    X, y, beta, sigma = data.make_sparse_regression(
        n=n,
        p=p,
        k=k,
        rho=rho,
        snr=snr,
        design=design,
        beta_type=beta_type,
        random_state=1,
        return_sigma=True,
    )
    Sigma = _sigma_matrix(p, rho, design)
    # sample correlation: standard error (1 - r^2)/sqrt(n) <= 1/sqrt(n)
    C = np.corrcoef(X, rowvar=False)
    assert np.abs(C - Sigma).max() < 5 / np.sqrt(n)
    # unit variances, zero means: standard errors sqrt(2/n) and 1/sqrt(n)
    assert np.abs(X.var(axis=0) - 1).max() < 5 * np.sqrt(2 / n)
    assert np.abs(X.mean(axis=0)).max() < 5 / np.sqrt(n)
    # sigma from the population formula SNR = beta' Sigma beta / sigma^2
    signal = beta @ Sigma @ beta
    assert sigma == pytest.approx(np.sqrt(signal / snr), rel=1e-12)
    # and on the sample: each variance has relative standard error sqrt(2/n)
    f, eps = X @ beta, y - X @ beta
    assert f.var() / signal == pytest.approx(1, abs=5 * np.sqrt(2 / n))
    assert eps.var() / sigma**2 == pytest.approx(1, abs=5 * np.sqrt(2 / n))
    # the ratio of two independent such estimates: relative standard error 2/sqrt(n)
    assert f.var() / eps.var() == pytest.approx(snr, rel=5 * 2 / np.sqrt(n))


def test_sparse_regression_beta_types():
    b = data.sparse_regression_beta(100, 10, "spread")
    assert np.flatnonzero(b).tolist() == list(range(0, 100, 10)) and set(b[b != 0]) == {1.0}
    assert np.flatnonzero(data.sparse_regression_beta(20, 5, "first")).tolist() == [0, 1, 2, 3, 4]
    lin = data.sparse_regression_beta(20, 5, "linear")
    np.testing.assert_allclose(lin[:5], [10, 7.625, 5.25, 2.875, 0.5])
    assert not lin[5:].any()
    dec = data.sparse_regression_beta(8, 3, "decaying")
    np.testing.assert_allclose(dec, [1, 1, 1, 0.5, 0.25, 0.125, 0.0625, 0.03125])
    assert not data.sparse_regression_beta(5, 0).any()
    with pytest.raises(ValueError, match="k .* must be <= p"):
        data.sparse_regression_beta(5, 6)
    with pytest.raises(ValueError, match="beta_type"):
        data.sparse_regression_beta(5, 2, "random")


def test_sparse_regression_defaults_reproducible_and_noiseless():
    X, y, beta = data.make_sparse_regression(random_state=0)
    assert X.shape == (500, 100) and y.shape == (500,) and (beta != 0).sum() == 10
    X2, y2, _ = data.make_sparse_regression(random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, y3, b3 = data.make_sparse_regression(n=50, p=8, k=3, snr=np.inf, random_state=2)
    np.testing.assert_allclose(y3, X3 @ b3)
    X0, y0, b0, s0 = data.make_sparse_regression(n=20, p=4, k=0, random_state=0, return_sigma=True)
    assert not b0.any() and s0 == 1.0 and y0.std() > 0  # null model: unit-variance noise
    rs = np.random.RandomState(0)
    assert data.make_sparse_regression(n=5, p=3, k=1, random_state=rs)[0].shape == (5, 3)


def test_sparse_regression_bad_inputs():
    with pytest.raises(ValueError, match="-1 < rho < 1"):
        data.make_sparse_regression(rho=1.0)
    with pytest.raises(ValueError, match=r"-1/\(p-1\) < rho"):
        data.make_sparse_regression(p=11, rho=-0.1, design="equicorrelated")
    with pytest.raises(ValueError, match="design must be one of"):
        data.make_sparse_regression(design="block")
    with pytest.raises(ValueError, match="snr must be > 0"):
        data.make_sparse_regression(snr=0)
    with pytest.raises(ValueError, match="k .* must be <= p"):
        data.make_sparse_regression(p=5, k=6)
    with pytest.raises(TypeError, match="n must be an integer"):
        data.make_sparse_regression(n=10.5)
    with pytest.raises(TypeError, match="random_state"):
        data.make_sparse_regression(random_state="seed")


@pytest.mark.parametrize("depth,n_classes", [(1, 2), (2, 2), (3, 3)])
def test_classification_tree_labels_come_from_the_tree(depth, n_classes):
    X, y, tree = data.make_classification_tree(
        n=400, p=4, depth=depth, n_classes=n_classes, random_state=3
    )
    assert X.shape == (400, 4) and X.min() >= 0 and X.max() < 1
    np.testing.assert_array_equal(y, tree.predict(X))
    leaves = tree.apply(X)
    assert np.bincount(leaves, minlength=2**depth).min() > 0  # no empty leaf
    # an explicit walk of the printed rules gives the same leaves
    for i in range(0, 400, 37):
        t = 0
        while t < 2**depth - 1:
            t = 2 * t + (1 if X[i, tree.features[t]] <= tree.thresholds[t] else 2)
        assert t - (2**depth - 1) == leaves[i]
    assert (tree.leaf_classes[0::2] != tree.leaf_classes[1::2]).all()  # siblings differ
    assert set(np.unique(y)) <= set(range(n_classes))
    assert str(tree).startswith("if x")
    with pytest.raises(ValueError, match="at least"):
        tree.predict(np.zeros((3, int(tree.features.max()))))


def test_classification_tree_noise_flips_exactly_that_fraction():
    X, y, tree = data.make_classification_tree(n=500, p=3, depth=2, noise=0.1, random_state=0)
    assert (y != tree.predict(X)).sum() == 50
    X, y, tree = data.make_classification_tree(
        n=300, p=3, depth=2, noise=0.2, n_classes=3, random_state=0
    )
    assert (y != tree.predict(X)).sum() == 60 and set(np.unique(y)) <= {0, 1, 2}
    with pytest.raises(ValueError, match="noise"):
        data.make_classification_tree(noise=1.5)
    with pytest.raises(ValueError, match="too small"):
        data.make_classification_tree(n=3, depth=2)
    with pytest.raises(ValueError, match="n_classes must be >= 2"):
        data.make_classification_tree(n_classes=1)


def test_blobs_separation_sizes_and_spread():
    X, y, centers = data.make_blobs_clustering(
        n=30_001, k=4, p=3, separation=6.0, cluster_std=0.5, random_state=0
    )
    assert X.shape == (30_001, 3) and centers.shape == (4, 3)
    assert np.bincount(y).tolist() == [7501, 7500, 7500, 7500]
    d = np.linalg.norm(centers[:, None] - centers[None], axis=-1)
    assert d[np.triu_indices(4, 1)].min() == pytest.approx(3.0, rel=1e-12)
    for c in range(4):
        Z = X[y == c]
        # mean: standard error 0.5/sqrt(7500); variance: relative standard error sqrt(2/7500)
        assert np.abs(Z.mean(axis=0) - centers[c]).max() < 5 * 0.5 / np.sqrt(7500)
        assert np.abs(Z.var(axis=0) / 0.25 - 1).max() < 5 * np.sqrt(2 / 7500)
    assert not (np.diff(y) == 0).all()  # rows are shuffled


def test_blobs_are_recoverable_and_validated():
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    X, y, _ = data.make_blobs_clustering(n=300, k=3, separation=10.0, random_state=1)
    labels = KMeans(3, n_init=10, random_state=0).fit_predict(X)
    assert adjusted_rand_score(y, labels) == 1.0
    with pytest.raises(ValueError, match="at least k samples"):
        data.make_blobs_clustering(n=2, k=3)
    with pytest.raises(ValueError, match="must be > 0"):
        data.make_blobs_clustering(separation=0)
