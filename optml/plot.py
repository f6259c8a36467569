"""Figures for teaching and reports: trees, clusters with their certificate, regularisation paths.

matplotlib is optional (``pip install "optml-models[plot]"``); it is imported when a function
here is first called, never by ``import optml``. Every function draws on the axes it is given
(or on a new figure) and returns the figure, so a script can ``fig.savefig(...)`` and a notebook
shows it inline.

* :func:`draw_tree`, :func:`compare_trees`: a fitted :class:`~optml.classification.
  OptimalClassificationTree` (axis-aligned or hyperplane splits) or a scikit-learn
  ``DecisionTreeClassifier``, drawn node by node; side by side with training errors.
* :func:`plot_clusters`: the points coloured by cluster, the centres, and the title carrying
  the certificate: inertia, proven lower bound, gap.
* :func:`plot_paths`: best subset against the lasso: residual sum of squares against the number
  of features, and which features each path selects at each size.
* :func:`plot_adversarial`: an image, its adversarial example and the perturbation, side by side.
"""

from __future__ import annotations

import numpy as np

__all__ = ["compare_trees", "draw_tree", "plot_adversarial", "plot_clusters", "plot_paths"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(
            "optml.plot needs matplotlib, which is not installed: "
            'pip install "optml-models[plot]" (or pip install matplotlib)'
        ) from None
    return plt


def _axes(ax, figsize=(6.0, 4.0)):
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _tree_arrays(model):
    """children_left/right, feature, threshold, value (+ hyperplanes) of a fitted tree."""
    tree = getattr(model, "tree_", None)
    if tree is None or not hasattr(tree, "children_left"):
        raise TypeError(
            "draw_tree expects a fitted OptimalClassificationTree or scikit-learn decision tree "
            f"(with a tree_ attribute); got {type(model).__name__}. Call fit first."
        )
    value = np.asarray(tree.value)
    if value.ndim == 3:  # scikit-learn: (n_nodes, n_outputs, n_classes)
        value = value[:, 0, :]
    return {
        "left": np.asarray(tree.children_left),
        "right": np.asarray(tree.children_right),
        "feature": np.asarray(tree.feature),
        "threshold": np.asarray(tree.threshold, dtype=float),
        "value": value,
        "weights": getattr(tree, "weights", None),
        "bias": getattr(tree, "bias", None),
    }


def _split_text(t, i, fname, decimals):
    if t["feature"][i] >= 0:
        return f"{fname(t['feature'][i])} <= {t['threshold'][i]:.{decimals}g}"
    w = t["weights"][i]
    terms = [f"{w[j]:+.2g}*{fname(j)}" for j in np.flatnonzero(np.abs(w) > 0)[:3]]
    more = " ..." if np.count_nonzero(w) > 3 else ""
    return " ".join(terms) + more + f" <= {t['bias'][i]:.{decimals}g}"


def draw_tree(model, ax=None, feature_names=None, class_names=None, title=None, decimals=3):
    """Draw a fitted decision tree: splits at internal nodes, class and counts at leaves.

    Parameters
    ----------
    model : OptimalClassificationTree or sklearn.tree.DecisionTreeClassifier
        Fitted; its ``tree_`` gives the nodes (``children_left == -1`` marks a leaf).
    ax : matplotlib Axes, optional
    feature_names, class_names : sequences of str, optional
    title : str, optional
    decimals : int
        Significant digits of thresholds.

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = _tree_arrays(model)
    fig, ax = _axes(ax, figsize=(7.0, 4.5))
    classes = getattr(model, "classes_", None)
    names = class_names if class_names is not None else classes

    def fname(j):
        return str(feature_names[j]) if feature_names is not None else f"x[{j}]"

    # positions: leaves evenly spaced left to right, parents centred over their children
    pos: dict[int, tuple[float, int]] = {}
    counter = [0]

    def place(i, depth):
        if t["left"][i] < 0:
            pos[i] = (float(counter[0]), depth)
            counter[0] += 1
            return pos[i][0]
        xl = place(int(t["left"][i]), depth + 1)
        xr = place(int(t["right"][i]), depth + 1)
        pos[i] = ((xl + xr) / 2.0, depth)
        return pos[i][0]

    place(0, 0)
    n_leaves = max(counter[0], 1)
    max_depth = max(d for _, d in pos.values())
    for i, (x, d) in pos.items():
        for child, label in ((t["left"][i], "yes"), (t["right"][i], "no")):
            if child >= 0:
                cx, cd = pos[int(child)]
                ax.plot([x, cx], [-d, -cd], color="0.6", lw=1, zorder=1)
                ax.text((x + cx) / 2, -(d + cd) / 2, label, fontsize=7, color="0.4", ha="center")
        counts = t["value"][i]
        if t["left"][i] < 0:
            k = int(np.argmax(counts))
            cls = names[k] if names is not None else k
            text = f"{cls}\n{np.round(counts, 1).tolist()}"
            style = dict(boxstyle="round", fc=f"C{k % 10}", alpha=0.35)
        else:
            text = _split_text(t, i, fname, decimals)
            style = dict(boxstyle="square", fc="white", ec="0.3")
        ax.text(x, -d, text, ha="center", va="center", fontsize=7, bbox=style, zorder=2)
    ax.set_xlim(-0.7, n_leaves - 0.3)
    ax.set_ylim(-max_depth - 0.6, 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def compare_trees(optimal, other, X=None, y=None, feature_names=None, class_names=None):
    """Two fitted trees side by side (say the optimal tree and CART of the same depth).

    With ``X`` and ``y`` each title gives the training errors on them; the optimal tree's title
    also gives its certificate (status and gap of ``result_``) when it has one.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13.0, 4.5))
    for ax, model in zip(axes, (optimal, other), strict=True):
        title = type(model).__name__
        if X is not None and y is not None:
            errors = int(np.sum(model.predict(X) != np.asarray(y)))
            title += f": {errors} training errors"
        res = getattr(model, "result_", None)
        if res is not None:
            title += f"\n{res.status}, gap {res.gap:.2g} ({res.solver})"
        draw_tree(model, ax=ax, feature_names=feature_names, class_names=class_names, title=title)
    fig.tight_layout()
    return fig


def plot_clusters(X, labels, centers=None, result=None, ax=None, title=None):
    """Points coloured by cluster, with the centres and the certificate in the title.

    Parameters
    ----------
    X : array (n, d)
        Drawn on its first two coordinates (project it first, e.g. with PCA, if d > 2).
    labels : array (n,) of int
    centers : array (k, d), optional
    result : optml Result, optional
        Its objective (the inertia), certified bound and gap go into the title.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"X must be a 2-d array with at least 2 columns; got shape {X.shape}")
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise ValueError(f"labels must have shape ({X.shape[0]},); got {labels.shape}")
    fig, ax = _axes(ax)
    for j, c in enumerate(np.unique(labels)):
        m = labels == c
        ax.scatter(X[m, 0], X[m, 1], s=14, color=f"C{j % 10}", label=f"cluster {c}", alpha=0.8)
    if centers is not None:
        C = np.asarray(centers, dtype=float)
        ax.scatter(C[:, 0], C[:, 1], marker="X", s=120, color="black", label="centres")
    text = title or ""
    if result is not None:
        cert = (
            f"objective {result.objective:.6g}, bound {result.bound:.6g}, gap {result.gap:.2g}"
            f" ({result.status})"
        )
        text = f"{text}\n{cert}" if text else cert
    ax.set_title(text, fontsize=9)
    ax.legend(fontsize=7, loc="best")
    return fig


def _rss(X, y, coef, intercept):
    r = y - X @ coef - intercept
    return float(r @ r)


def plot_paths(X, y, subset=None, lasso=None, fit_intercept=True, feature_names=None, axes=None):
    """Best subset against the lasso: RSS against the number of features, and the supports.

    Parameters
    ----------
    X, y : arrays (n, p), (n,)
        The data both paths were fitted on.
    subset : dict, optional
        The output of :func:`optml.regression.best_subset_path` (``k``, ``coefs``,
        ``intercepts``, ``gaps``).
    lasso : tuple, optional
        The output of :func:`optml.regression.lasso_path` (``alphas, coefs, gaps``, coefs of
        shape (p, n_alphas)).
    fit_intercept : bool
        Whether the lasso path centred the data (its intercept is then
        ``mean(y) - mean(X) @ coef``).
    feature_names : sequence of str, optional
    axes : two matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if subset is None and lasso is None:
        raise ValueError(
            "plot_paths needs subset=best_subset_path(...) and/or lasso=lasso_path(...)"
        )
    plt = _pyplot()
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    p = X.shape[1]
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.0))
    fig = axes[0].figure
    ax_rss, ax_sup = axes
    support = np.zeros((p, p + 1))  # best subset support per k (1 = selected)
    lasso_first: dict[int, np.ndarray] = {}
    if lasso is not None:
        coefs = np.asarray(lasso[1])
        xm, ym = X.mean(axis=0), y.mean()
        best: dict[int, float] = {}
        for j in range(coefs.shape[1]):
            w = coefs[:, j]
            b = ym - xm @ w if fit_intercept else 0.0
            s = int(np.count_nonzero(w))
            rss = _rss(X, y, w, b)
            if s not in best or rss < best[s]:
                best[s] = rss
            lasso_first.setdefault(s, w != 0)
        ks = sorted(best)
        ax_rss.plot(
            ks, [best[s] for s in ks], "s--", color="C1", label="lasso (best point per size)"
        )
    if subset is not None:
        ks = np.asarray(subset["k"])
        rss = [
            _rss(X, y, np.asarray(c), float(b))
            for c, b in zip(subset["coefs"], subset["intercepts"], strict=True)
        ]
        ax_rss.plot(ks, rss, "o-", color="C0", label="best subset (certified)")
        for k, c in zip(ks, subset["coefs"], strict=True):
            support[:, int(k)] = np.asarray(c) != 0
    ax_rss.set_xlabel("number of features k")
    ax_rss.set_ylabel("residual sum of squares")
    ax_rss.legend(fontsize=8)
    ax_rss.set_title("fit against size", fontsize=9)
    ax_sup.imshow(support, aspect="auto", cmap="Blues", vmin=0, vmax=1.5, origin="lower")
    for s, mask in lasso_first.items():
        if 0 < s <= p:
            rows = np.flatnonzero(mask)
            ax_sup.scatter(np.full(rows.size, s), rows, marker="x", color="C1", s=25)
    ax_sup.set_xlim(0.5, p + 0.5)
    ax_sup.set_xlabel("number of features k")
    ax_sup.set_yticks(range(p))
    ax_sup.set_yticklabels(
        [str(f) for f in feature_names] if feature_names is not None else range(p), fontsize=7
    )
    ax_sup.set_title("support: best subset (blue), lasso (x)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_adversarial(x, x_adv, shape, labels=None, cmap="gray_r", vmin=None, vmax=None):
    """An input image, its adversarial example and the perturbation between them.

    Parameters
    ----------
    x, x_adv : arrays of n pixels
        The original input and the perturbed one (e.g. ``attack(...).X_adv[i]``).
    shape : tuple of int
        The image's shape, ``(rows, cols)``, with ``rows * cols`` equal to the pixel count.
    labels : tuple of two str, optional
        What the model predicts on each image (shown in the titles).
    cmap, vmin, vmax
        Colour map and range of the two images (default: their common range).

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = np.asarray(x, dtype=float).ravel()
    x_adv = np.asarray(x_adv, dtype=float).ravel()
    if x.shape != x_adv.shape:
        raise ValueError(f"x and x_adv must have the same size; got {x.size} and {x_adv.size}")
    if int(np.prod(shape)) != x.size:
        raise ValueError(f"shape {tuple(shape)} does not hold {x.size} pixels")
    plt = _pyplot()
    lo = min(x.min(), x_adv.min()) if vmin is None else vmin
    hi = max(x.max(), x_adv.max()) if vmax is None else vmax
    delta = x_adv - x
    fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.2))
    names = labels or ("", "")
    axes[0].imshow(x.reshape(shape), cmap=cmap, vmin=lo, vmax=hi)
    axes[0].set_title(f"original {names[0]}".strip(), fontsize=9)
    axes[1].imshow(x_adv.reshape(shape), cmap=cmap, vmin=lo, vmax=hi)
    axes[1].set_title(f"adversarial {names[1]}".strip(), fontsize=9)
    m = float(np.abs(delta).max()) or 1.0
    im = axes[2].imshow(delta.reshape(shape), cmap="RdBu_r", vmin=-m, vmax=m)
    axes[2].set_title(f"perturbation, max |d| = {np.abs(delta).max():.3g}", fontsize=9)
    fig.colorbar(im, ax=axes[2], fraction=0.046)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
