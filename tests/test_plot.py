"""optml.plot: trees, clusters with their certificate, regularisation paths (matplotlib, Agg)."""

import numpy as np
import pytest

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")

from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from optml import plot  # noqa: E402
from optml.classification import OptimalClassificationTree  # noqa: E402
from optml.regression import best_subset_path, lasso_path  # noqa: E402


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y


def _boxes(ax):
    return [t for t in ax.texts if t.get_bbox_patch() is not None]


def test_compare_trees_draws_every_node_and_the_errors(xy, tmp_path):
    X, y = xy
    opt = OptimalClassificationTree(max_depth=2).fit(X, y)
    cart = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    fig = plot.compare_trees(opt, cart, X, y, class_names=["a", "b"])
    ax_opt, ax_cart = fig.axes
    assert len(_boxes(ax_opt)) == opt.tree_.node_count
    assert len(_boxes(ax_cart)) == cart.tree_.node_count
    err_opt = int((opt.predict(X) != y).sum())
    assert f"{err_opt} training errors" in ax_opt.get_title()
    assert opt.result_.status in ax_opt.get_title()
    assert err_opt <= int((cart.predict(X) != y).sum())  # optimal on the training set
    fig.savefig(tmp_path / "trees.png")
    assert (tmp_path / "trees.png").stat().st_size > 0


def test_draw_tree_rejects_an_unfitted_model():
    with pytest.raises(TypeError, match="fitted"):
        plot.draw_tree(DecisionTreeClassifier())


def test_plot_clusters_title_carries_the_certificate(xy):
    from optml.clustering import KMeans

    X, _ = xy
    km = KMeans(n_clusters=2, random_state=0).fit(X[:20, :2])
    fig = plot.plot_clusters(X[:20, :2], km.labels_, km.cluster_centers_, km.result_)
    title = fig.axes[0].get_title()
    assert f"gap {km.result_.gap:.2g}" in title and km.result_.status in title
    with pytest.raises(ValueError, match="labels must have shape"):
        plot.plot_clusters(X[:20, :2], km.labels_[:5])
    with pytest.raises(ValueError, match="at least 2 columns"):
        plot.plot_clusters(X[:20, :1], km.labels_)


def test_plot_paths_best_subset_never_worse_than_lasso(xy):
    X, _ = xy
    rng = np.random.default_rng(1)
    y = X @ np.array([2.0, -1.0, 0.0, 0.5]) + 0.3 * rng.normal(size=X.shape[0])
    sub = best_subset_path(X, y, k_max=4)
    las = lasso_path(X, y, fit_intercept=True, n_alphas=30)
    fig = plot.plot_paths(X, y, subset=sub, lasso=las)
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    bs = lines["best subset (certified)"]
    la = lines["lasso (best point per size)"]
    best = dict(zip(bs.get_xdata(), bs.get_ydata(), strict=True))
    for k, rss in zip(la.get_xdata(), la.get_ydata(), strict=True):
        if k in best:  # the certified best subset of size k fits at least as well
            assert best[k] <= rss * (1 + 1e-6)
    with pytest.raises(ValueError, match="needs subset"):
        plot.plot_paths(X, y)


def test_plot_adversarial_shows_the_perturbation():
    rng = np.random.default_rng(2)
    x = rng.uniform(size=64)
    x_adv = np.clip(x + rng.uniform(-0.1, 0.1, size=64), 0, 1)
    fig = plot.plot_adversarial(x, x_adv, (8, 8), labels=("3", "8"))
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert titles[0] == "original 3" and titles[1] == "adversarial 8"
    assert f"{np.abs(x_adv - x).max():.3g}" in titles[2]
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(), (x_adv - x).reshape(8, 8))
    with pytest.raises(ValueError, match="does not hold"):
        plot.plot_adversarial(x, x_adv, (7, 9))
