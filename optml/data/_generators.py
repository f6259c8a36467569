r"""Synthetic data with a known ground truth, as in the optimisation-for-ML literature.

* :func:`make_sparse_regression` -- the best-subset designs of Bertsimas, King and Mazumder
  (2016) and Hastie, Tibshirani and Tibshirani (2020).
* :func:`make_classification_tree` -- labels from a known random axis-aligned tree (the
  synthetic experiments of Bertsimas and Dunn, 2017), optionally with flipped labels.
* :func:`make_blobs_clustering` -- Gaussian clusters with known labels and a guaranteed
  minimum distance between centres.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

_DESIGNS = ("toeplitz", "equicorrelated", "independent")
_BETA_TYPES = ("spread", "first", "linear", "decaying")


def _rng(random_state) -> np.random.Generator:
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise TypeError(
        f"random_state must be None, an int, a numpy Generator or RandomState; got "
        f"{type(random_state).__name__}."
    )


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def sparse_regression_beta(p: int, k: int, beta_type: str = "spread") -> np.ndarray:
    r"""The coefficient vectors of the best-subset literature.

    Parameters
    ----------
    p : int
        Number of coefficients.
    k : int
        Number of (leading) non-zero coefficients, ``0 <= k <= p``.
    beta_type : {"spread", "first", "linear", "decaying"}
        * ``"spread"``: ``k`` ones at evenly spaced positions ``round(i p / k)``,
          ``i = 0..k-1`` (Bertsimas et al. 2016, Example 1; Hastie et al. 2020, beta-type 1);
        * ``"first"``: ones in the first ``k`` positions (BKM Example 2, HTT beta-type 2);
        * ``"linear"``: the first ``k`` entries equally spaced from 10 down to 0.5, the rest
          zero (HTT beta-type 3, BKM Example 3 up to order);
        * ``"decaying"``: ones in the first ``k`` positions, then
          :math:`\beta_j = 0.5^{\,j-k}` for :math:`j > k` (HTT beta-type 5, not sparse).

    Returns
    -------
    ndarray of shape (p,)
    """
    p = _check_int("p", p, 1)
    k = _check_int("k", k, 0)
    if k > p:
        raise ValueError(f"k (number of non-zeros) must be <= p = {p}, got k = {k}.")
    beta = np.zeros(p)
    if beta_type == "spread":
        if k:
            beta[np.floor(np.arange(k) * p / k).astype(int)] = 1.0
    elif beta_type == "first":
        beta[:k] = 1.0
    elif beta_type == "linear":
        if k == 1:
            beta[0] = 10.0
        elif k:
            beta[:k] = np.linspace(10.0, 0.5, k)
    elif beta_type == "decaying":
        beta[:k] = 1.0
        beta[k:] = 0.5 ** np.arange(1, p - k + 1)
    else:
        raise ValueError(f"beta_type must be one of {_BETA_TYPES}, got {beta_type!r}.")
    return beta


def _correlated_normal(rng, n: int, p: int, rho: float, design: str) -> np.ndarray:
    z = rng.standard_normal((n, p))
    if design == "independent" or rho == 0.0:
        return z
    if design == "toeplitz":
        # AR(1) across columns: x_1 = z_1, x_j = rho x_{j-1} + sqrt(1 - rho^2) z_j gives
        # unit variances and Corr(x_i, x_j) = rho^|i-j|, in O(n p) without a Cholesky factor.
        s = np.sqrt(1.0 - rho * rho)
        x = np.empty_like(z)
        x[:, 0] = z[:, 0]
        for j in range(1, p):
            x[:, j] = rho * x[:, j - 1] + s * z[:, j]
        return x
    # equicorrelated: Sigma = (1 - rho) I + rho 11'; its symmetric square root is
    # sqrt(1 - rho) I + c 11' with c = (sqrt(1 - rho + rho p) - sqrt(1 - rho)) / p.
    a = np.sqrt(1.0 - rho)
    c = (np.sqrt(1.0 - rho + rho * p) - a) / p
    return a * z + c * z.sum(axis=1, keepdims=True)


def _beta_sigma_beta(beta: np.ndarray, rho: float, design: str) -> float:
    idx = np.flatnonzero(beta)
    b = beta[idx]
    if design == "independent" or rho == 0.0:
        return float(b @ b)
    if design == "toeplitz":
        sigma = rho ** np.abs(idx[:, None] - idx[None, :]).astype(float)
        return float(b @ sigma @ b)
    return float((1.0 - rho) * (b @ b) + rho * b.sum() ** 2)


def make_sparse_regression(
    n: int = 500,
    p: int = 100,
    k: int = 10,
    rho: float = 0.35,
    snr: float = 3.0,
    design: str = "toeplitz",
    beta_type: str = "spread",
    random_state=None,
    return_sigma: bool = False,
):
    r"""Sparse linear regression data with a known support and signal-to-noise ratio.

    The designs of Bertsimas, King and Mazumder (2016), "Best subset selection via a modern
    optimization lens", Ann. Statist. 44(2), and Hastie, Tibshirani and Tibshirani (2020),
    "Best subset, forward stepwise or lasso?", Statist. Sci. 35(4):

    .. math::

        x_i \sim \mathcal N(0, \Sigma),\qquad
        y_i = x_i^\top\beta + \varepsilon_i,\qquad
        \varepsilon_i \sim \mathcal N(0, \sigma^2),\qquad
        \sigma^2 = \frac{\beta^\top\Sigma\beta}{\mathrm{SNR}},

    so that :math:`\mathrm{SNR} = \mathrm{Var}(x^\top\beta)/\sigma^2` holds exactly in the
    population. :math:`\Sigma_{ij} = \rho^{|i-j|}` (``"toeplitz"``),
    :math:`\Sigma_{ij} = \rho` for :math:`i \ne j` (``"equicorrelated"``) or :math:`I`
    (``"independent"``); the diagonal is one.

    Parameters
    ----------
    n, p : int, default 500, 100
        Number of samples and of features.
    k : int, default 10
        Number of non-zero coefficients (see :func:`sparse_regression_beta`), ``k <= p``.
    rho : float, default 0.35
        Correlation parameter: ``-1 < rho < 1`` for Toeplitz, ``-1/(p-1) < rho < 1`` for
        equicorrelated (so that :math:`\Sigma` is positive definite); ignored when
        ``design="independent"``.
    snr : float, default 3.0
        Signal-to-noise ratio, ``> 0``; ``numpy.inf`` gives noiseless data. With ``k = 0``
        there is no signal and the noise has unit variance (a null model).
    design : {"toeplitz", "equicorrelated", "independent"}, default "toeplitz"
    beta_type : {"spread", "first", "linear", "decaying"}, default "spread"
    random_state : None, int or numpy.random.Generator
    return_sigma : bool, default False
        Also return the noise standard deviation :math:`\sigma`.

    Returns
    -------
    X : ndarray of shape (n, p)
    y : ndarray of shape (n,)
    beta : ndarray of shape (p,)
        The true coefficients.
    sigma : float
        Only if ``return_sigma``.

    Examples
    --------
    >>> from optml import data
    >>> X, y, beta = data.make_sparse_regression(n=500, p=100, k=10, rho=0.35, snr=3.0,
    ...                                          design="toeplitz", random_state=0)
    >>> X.shape, int((beta != 0).sum())
    ((500, 100), 10)
    """
    n = _check_int("n", n, 1)
    p = _check_int("p", p, 1)
    k = _check_int("k", k, 0)
    if design not in _DESIGNS:
        raise ValueError(f"design must be one of {_DESIGNS}, got {design!r}.")
    rho = float(rho)
    if design == "toeplitz" and not -1.0 < rho < 1.0:
        raise ValueError(f"Toeplitz design needs -1 < rho < 1, got rho = {rho}.")
    if design == "equicorrelated":
        lower = -1.0 / (p - 1) if p > 1 else -np.inf
        if not lower < rho < 1.0:
            raise ValueError(
                f"Equicorrelated design needs -1/(p-1) < rho < 1 (here -1/(p-1) = {lower:.4g}),"
                f" got rho = {rho}; otherwise the covariance is not positive definite."
            )
    snr = float(snr)
    if not snr > 0:
        raise ValueError(f"snr must be > 0 (numpy.inf for no noise), got {snr}.")
    rng = _rng(random_state)
    beta = sparse_regression_beta(p, k, beta_type)
    X = _correlated_normal(rng, n, p, rho, design)
    signal = _beta_sigma_beta(beta, rho, design)
    if np.isinf(snr):
        sigma = 0.0
    elif signal == 0.0:  # k = 0: no signal, so the SNR cannot set the scale; pure N(0, 1) noise
        sigma = 1.0
    else:
        sigma = float(np.sqrt(signal / snr))
    y = X @ beta + sigma * rng.standard_normal(n)
    if return_sigma:
        return X, y, beta, sigma
    return X, y, beta


@dataclass(frozen=True)
class TreeSpec:
    """A complete axis-aligned binary tree of a given depth (nodes in breadth-first order).

    Internal node ``t`` (``0 <= t < 2**depth - 1``) sends a sample left when
    ``x[features[t]] <= thresholds[t]``; its children are ``2t+1`` and ``2t+2``. Leaf
    ``l`` (left to right) predicts ``leaf_classes[l]``.
    """

    depth: int
    features: np.ndarray
    thresholds: np.ndarray
    leaf_classes: np.ndarray

    def apply(self, X) -> np.ndarray:
        """Index (0 .. 2**depth - 1, left to right) of the leaf each row of X reaches."""
        X = np.asarray(X, dtype=float)
        need = int(self.features.max()) + 1
        if X.ndim != 2 or X.shape[1] < need:
            raise ValueError(
                f"X must be 2-D with at least {need} columns for this tree, got shape {X.shape}."
            )
        node = np.zeros(X.shape[0], dtype=np.int64)
        for _ in range(self.depth):
            go_left = X[np.arange(X.shape[0]), self.features[node]] <= self.thresholds[node]
            node = 2 * node + np.where(go_left, 1, 2)
        return node - (2**self.depth - 1)

    def predict(self, X) -> np.ndarray:
        """The noiseless label of each row of X."""
        return self.leaf_classes[self.apply(X)]

    def __str__(self) -> str:
        lines = []

        def walk(t: int, indent: str) -> None:
            if t >= 2**self.depth - 1:
                leaf = t - (2**self.depth - 1)
                lines.append(f"{indent}class {self.leaf_classes[leaf]}")
                return
            f, thr = int(self.features[t]), float(self.thresholds[t])
            lines.append(f"{indent}if x{f} <= {thr:.4g}:")
            walk(2 * t + 1, indent + "    ")
            lines.append(f"{indent}else:  # x{f} > {thr:.4g}")
            walk(2 * t + 2, indent + "    ")

        walk(0, "")
        return "\n".join(lines)


def make_classification_tree(
    n: int = 200,
    p: int = 5,
    depth: int = 2,
    noise: float = 0.0,
    n_classes: int = 2,
    random_state=None,
):
    r"""Classification data whose labels come from a known random axis-aligned tree.

    In the spirit of the synthetic experiments of Bertsimas and Dunn (2017), "Optimal
    classification trees", Machine Learning 106 (a known tree generates the labels): features are uniform on :math:`[0, 1]^p`; a complete tree
    of the given depth is drawn, each split on a random feature at a random threshold
    taken between the 25% and 75% quantiles of the training points reaching that node (so
    no leaf is empty); leaf ``l`` predicts class ``l mod n_classes`` (sibling leaves
    differ). Then ``round(noise * n)`` labels, chosen at random, are changed to another
    class at random.

    Parameters
    ----------
    n, p : int, default 200, 5
    depth : int, default 2
        Depth of the true tree (``>= 1``); it has ``2**depth`` leaves. Needs
        ``n >= 2**depth``.
    noise : float in [0, 1], default 0
        Fraction of labels flipped. With ``noise=0`` the tree classifies the data
        perfectly, so a depth-``depth`` optimal tree reaches 100% training accuracy.
    n_classes : int, default 2
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    X : ndarray of shape (n, p)
    y : ndarray of shape (n,), int
    tree : TreeSpec
        The true tree; ``tree.predict(X)`` gives the noiseless labels, ``print(tree)`` the
        rules.

    Examples
    --------
    >>> from optml import data
    >>> X, y, tree = data.make_classification_tree(n=100, p=3, depth=2, random_state=0)
    >>> bool((tree.predict(X) == y).all())
    True
    """
    n = _check_int("n", n, 1)
    p = _check_int("p", p, 1)
    depth = _check_int("depth", depth, 1)
    n_classes = _check_int("n_classes", n_classes, 2)
    if n < 2**depth:
        raise ValueError(f"n = {n} is too small for a depth-{depth} tree (needs n >= {2**depth}).")
    noise = float(noise)
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be a fraction in [0, 1], got {noise}.")
    rng = _rng(random_state)
    X = rng.random((n, p))
    n_internal = 2**depth - 1
    features = np.zeros(n_internal, dtype=np.int64)
    thresholds = np.zeros(n_internal)
    members = {0: np.arange(n)}
    for t in range(n_internal):
        rows = members.pop(t)
        f = int(rng.integers(p))
        vals = X[rows, f]
        if rows.size >= 2:
            lo, hi = np.quantile(vals, [0.25, 0.75])
            thr = float(rng.uniform(lo, hi))
        else:  # too few points reach this node: split at a random point of [0, 1]
            thr = float(rng.random())
        features[t], thresholds[t] = f, thr
        members[2 * t + 1] = rows[vals <= thr]
        members[2 * t + 2] = rows[vals > thr]
    leaf_classes = np.arange(2**depth, dtype=np.int64) % n_classes
    tree = TreeSpec(depth, features, thresholds, leaf_classes)
    y = tree.predict(X)
    n_flip = int(round(noise * n))
    if n_flip:
        flip = rng.choice(n, size=n_flip, replace=False)
        shift = rng.integers(1, n_classes, size=n_flip)
        y[flip] = (y[flip] + shift) % n_classes
    return X, y, tree


def make_blobs_clustering(
    n: int = 300,
    k: int = 3,
    p: int = 2,
    separation: float = 4.0,
    cluster_std: float = 1.0,
    random_state=None,
):
    r"""Gaussian clusters with known labels and a known minimum distance between centres.

    ``k`` centres are drawn from :math:`\mathcal N(0, I_p)` and rescaled so that the closest
    two are exactly ``separation * cluster_std`` apart; cluster ``c`` gets
    ``n // k`` points (the first ``n mod k`` clusters one more) drawn from
    :math:`\mathcal N(\mu_c, \mathrm{cluster\_std}^2 I_p)`. Rows are shuffled.

    Parameters
    ----------
    n, k, p : int, default 300, 3, 2
        Samples, clusters (``1 <= k <= n``) and dimensions.
    separation : float, default 4.0
        Minimum distance between two centres in units of ``cluster_std`` (``> 0``). Above
        about 4 the clusters barely overlap and k-means recovers the labels.
    cluster_std : float, default 1.0
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    X : ndarray of shape (n, p)
    y : ndarray of shape (n,), int
        The cluster of each row.
    centers : ndarray of shape (k, p)

    Examples
    --------
    >>> from optml import data
    >>> X, y, centers = data.make_blobs_clustering(n=90, k=3, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((90, 2), [0, 1, 2])
    """
    n = _check_int("n", n, 1)
    k = _check_int("k", k, 1)
    p = _check_int("p", p, 1)
    if k > n:
        raise ValueError(f"k = {k} clusters need at least k samples, got n = {n}.")
    separation, cluster_std = float(separation), float(cluster_std)
    if not separation > 0 or not cluster_std > 0:
        raise ValueError(
            f"separation and cluster_std must be > 0, got {separation} and {cluster_std}."
        )
    rng = _rng(random_state)
    centers = rng.standard_normal((k, p))
    if k > 1:
        d = np.sqrt(((centers[:, None, :] - centers[None, :, :]) ** 2).sum(-1))
        dmin = d[np.triu_indices(k, 1)].min()
        if dmin == 0:  # pragma: no cover - probability zero
            raise RuntimeError("two centres coincide; use another random_state")
        centers *= separation * cluster_std / dmin
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    y = np.repeat(np.arange(k), sizes)
    X = centers[y] + cluster_std * rng.standard_normal((n, p))
    order = rng.permutation(n)
    return X[order], y[order], centers
