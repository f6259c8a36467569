r"""Exact worst-case attacks and adversarial accuracy for linear models, trees and networks.

For a sample :math:`(x, y)`, a radius :math:`\epsilon` and a norm :math:`p`, the attack finds
the worst point of the ball :math:`B = \{x + \delta : \|\delta\|_p \le \epsilon,\ lb \le
x + \delta \le ub\}`; the model is robust at :math:`x` when every point of :math:`B` keeps the
class :math:`y`.

* **Linear scores** :math:`f_k(x) = w_k^\top x + b_k` (binary: :math:`(0, w^\top x + b)`): the
  worst margin against class :math:`k` is
  :math:`\min_{\delta} (w_y - w_k)^\top(x + \delta) + b_y - b_k
  = (w_y - w_k)^\top x + b_y - b_k - \epsilon\|w_y - w_k\|_q` without a box (closed form,
  :math:`q` the dual norm), coordinatewise (L-inf) or greedy (L1, a fractional knapsack)
  with a box, and a small second-order cone program (L2 with a box, optml's certified solve).
* **Axis-aligned trees** (optml's :class:`~optml.classification.OptimalClassificationTree`,
  scikit-learn's ``DecisionTreeClassifier``): each leaf is a box; the attack reaches a leaf
  when the distance from :math:`x` to its box is at most :math:`\epsilon` (the nearest point
  is :math:`x` clipped to the box): exact, by enumeration of the leaves.
* **ReLU networks** (:class:`optml.nn.ReLUNetwork`, scikit-learn's ``MLPClassifier``): the
  MILP of :func:`optml.nn.verify_robustness` per sample.

Every counterexample is checked by the model's own ``predict`` (a numpy forward pass for
networks) before it counts; ``robust`` is True only where robustness is proven.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optml.formulations.robust import DUAL, check_norm


@dataclass(eq=False)
class AttackResult:
    """What :func:`attack` found, per sample.

    Attributes
    ----------
    robust : ndarray of bool
        True where the model is proven to keep the true class on the whole ball.
    X_adv : ndarray (n, d)
        The worst point found (a verified counterexample where ``counterexample`` is True).
    counterexample : ndarray of bool
        True where ``X_adv`` is misclassified by the model's own prediction (checked).
    margin : ndarray
        Positive means robust. Linear models and networks: the worst-case score margin
        (true class minus best other class); trees: the distance from ``x`` to the nearest
        leaf of another class minus ``eps``.
    correct : ndarray of bool
        Clean accuracy per sample.
    """

    robust: np.ndarray
    X_adv: np.ndarray
    counterexample: np.ndarray
    margin: np.ndarray
    correct: np.ndarray
    eps: float = 0.0
    norm: str = "inf"
    kind: str = ""
    details: list = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Adversarial (robust) accuracy: the fraction proven robust."""
        return float(np.mean(self.robust)) if self.robust.size else float("nan")

    @property
    def undecided(self) -> np.ndarray:
        """Neither proven robust nor a checked counterexample (time limits, exact ties)."""
        return ~self.robust & ~self.counterexample


def _dist(d: np.ndarray, norm: str) -> np.ndarray:
    d = np.atleast_2d(d)
    if norm == "inf":
        return np.abs(d).max(axis=1, initial=0.0)
    if norm == "1":
        return np.abs(d).sum(axis=1)
    return np.linalg.norm(d, axis=1)


def _box(lb, ub, d):
    lo = np.broadcast_to(np.asarray(-np.inf if lb is None else lb, float), (d,)).copy()
    hi = np.broadcast_to(np.asarray(np.inf if ub is None else ub, float), (d,)).copy()
    if (lo > hi).any():
        raise ValueError("lb > ub somewhere; pass lb <= ub")
    return lo, hi


def _check_inputs(X, y, eps, norm):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n_samples, n_features), got shape {X.shape}")
    y = np.asarray(y).ravel()
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    return X, y, float(eps), check_norm(norm)


# ------------------------------------------------------------------------------ linear
def linear_scores(model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(W, b, classes)`` with class scores ``X @ W.T + b`` whose argmax is the prediction."""
    W = np.atleast_2d(np.asarray(model.coef_, dtype=float))
    b = np.atleast_1d(np.asarray(model.intercept_, dtype=float))
    classes = np.asarray(model.classes_)
    if classes.size == 2 and W.shape[0] == 1:  # one score f: class 1 when f > 0
        W = np.vstack([np.zeros_like(W), W])
        b = np.concatenate([[0.0], b])
    if W.shape[0] != classes.size:
        raise ValueError(
            f"the model has {W.shape[0]} score rows for {classes.size} classes; pass a linear "
            "classifier with coef_ of shape (1, d) (binary) or (n_classes, d) (one-vs-rest)"
        )
    return W, b, classes


def _min_linear(v, c, x, eps, norm, lo, hi):
    """``min v'(x + d) + c`` over the ball and the box: ``(value, point)``."""
    free = np.isinf(lo).all() and np.isinf(hi).all()
    if eps == 0:
        return float(v @ x + c), x.copy()
    if free:
        if norm == "inf":
            d = -eps * np.sign(v)
        elif norm == "1":
            d = np.zeros_like(x)
            j = int(np.argmax(np.abs(v)))
            d[j] = -eps * np.sign(v[j])
        else:
            nv = np.linalg.norm(v)
            d = -eps * v / nv if nv > 0 else np.zeros_like(x)
        return float(v @ (x + d) + c), x + d
    if norm in ("inf", "1"):
        from optml.nn._verify import _lmo

        z = _lmo(-v[None, :], x, eps, norm, lo, hi)[0]
        return float(v @ z + c), z
    # L2 ball intersected with a box: a small SOCP on optml's certified solve path
    import optml as om

    p = om.Program("l2_box_attack")
    d = p.var("d", x.size, lb=np.maximum(lo - x, -eps), ub=np.minimum(hi - x, eps))
    p.add(om.norm2(d) <= eps)
    p.minimize(v @ d)
    r = p.solve()
    z = np.clip(x + np.asarray(r.values["d"], float).ravel(), lo, hi)
    dz = z - x
    nz = np.linalg.norm(dz)
    if nz > eps:
        z = x + dz * (eps / nz)
    # the proven bound keeps the margin honest when the solver's point is off by round-off
    val = min(float(v @ z + c), float(r.bound + v @ x + c) if r.bound is not None else np.inf)
    return val, z


def _attack_linear(model, X, y, eps, norm, lo, hi):
    W, b, classes = linear_scores(model)
    n = X.shape[0]
    lab = _labels(classes, y)
    margin = np.empty(n)
    X_adv = X.copy()
    for i in range(n):
        t = lab[i]
        best, bx = np.inf, X[i].copy()
        for k in range(classes.size):
            if k == t:
                continue
            val, z = _min_linear(W[t] - W[k], b[t] - b[k], X[i], eps, norm, lo, hi)
            if val < best:
                best, bx = val, z
        margin[i] = best
        X_adv[i] = bx
    return margin, X_adv


def _labels(classes, y):
    idx = np.searchsorted(classes, y)
    idx = np.clip(idx, 0, classes.size - 1)
    bad = classes[idx] != y
    if bad.any():
        raise ValueError(f"label {y[bad][0]!r} is not one of the model's classes {list(classes)}")
    return idx


# -------------------------------------------------------------------------------- trees
def tree_leaves(tree, n_features: int):
    """``[(node, lower, upper, lower_open)]`` for every leaf: the leaf's box (``x_f <= t`` goes
    left, so a right branch has an open lower side)."""
    if getattr(tree, "weights", None) is not None:
        raise TypeError(
            "the attack on trees takes axis-aligned splits; this tree has hyperplane splits (OCT-H)"
        )
    out = []
    stack = [(0, np.full(n_features, -np.inf), np.full(n_features, np.inf))]
    while stack:
        node, lo, hi = stack.pop()
        left, right = int(tree.children_left[node]), int(tree.children_right[node])
        if left < 0:
            out.append((node, lo, hi))
            continue
        f, t = int(tree.feature[node]), float(tree.threshold[node])
        hl = hi.copy()
        hl[f] = min(hl[f], t)
        lr = lo.copy()
        lr[f] = max(lr[f], np.nextafter(t, np.inf))  # x_f > t: the next float up
        stack.append((left, lo, hl))
        stack.append((right, lr, hi))
    return out


def _leaf_classes(model, tree):
    if hasattr(tree, "leaf_class"):
        return np.asarray(tree.leaf_class)
    return np.argmax(np.asarray(tree.value).reshape(tree.node_count, -1), axis=1)


def _attack_tree(model, X, y, eps, norm, lo, hi):
    tree = model.tree_
    classes = np.asarray(model.classes_)
    lab = _labels(classes, y)
    leaf_cls = _leaf_classes(model, tree)
    leaves = []
    for node, llo, lhi in tree_leaves(tree, X.shape[1]):
        a, c = np.maximum(llo, lo), np.minimum(lhi, hi)
        if (a <= c).all():  # the leaf meets the input domain
            leaves.append((int(leaf_cls[node]), a, c))
    n = X.shape[0]
    margin = np.full(n, np.inf)
    X_adv = X.copy()
    for i in range(n):
        for k, a, c in leaves:
            if k == lab[i]:
                continue
            z = np.clip(X[i], a, c)
            dist = float(_dist(z - X[i], norm)[0])
            if dist - eps < margin[i]:
                margin[i] = dist - eps
                X_adv[i] = z
    return margin, X_adv


# ----------------------------------------------------------------------------- networks
def _as_network(model):
    from optml.nn import ReLUNetwork

    if isinstance(model, ReLUNetwork):
        return model
    return ReLUNetwork.from_sklearn(model)


def _attack_network(model, X, y, eps, norm, lo, hi, **verify_kw):
    from optml.nn import verify_robustness

    net = _as_network(model)
    classes = net.classes
    n = X.shape[0]
    margin = np.empty(n)
    X_adv = X.copy()
    robust = np.zeros(n, bool)
    details = []
    for i in range(n):
        label = y[i] if classes is not None else int(y[i])
        r = verify_robustness(
            net,
            X[i],
            label,
            eps,
            norm=norm,
            lb=None if np.isinf(lo).all() else lo,
            ub=None if np.isinf(hi).all() else hi,
            **verify_kw,
        )
        details.append(r)
        robust[i] = r.robust is True
        margin[i] = -r.margin_bound if r.robust else -r.margin
        if r.counterexample is not None:
            X_adv[i] = r.counterexample
    return margin, X_adv, robust, details


def _predict(model, X):
    if hasattr(model, "predict"):
        return np.asarray(model.predict(X))
    raise TypeError(f"the model {type(model).__name__} has no predict method")


def _kind(model) -> str:
    from optml.nn import ReLUNetwork

    if isinstance(model, ReLUNetwork) or type(model).__name__ in ("MLPClassifier",):
        return "network"
    if hasattr(model, "tree_"):
        return "tree"
    if hasattr(model, "coef_") and hasattr(model, "intercept_"):
        return "linear"
    raise TypeError(
        f"attack takes a fitted linear classifier (coef_, intercept_), an axis-aligned tree "
        f"(tree_) or a ReLU network (ReLUNetwork, MLPClassifier); got {type(model).__name__}"
    )


def attack(model, X, y, eps, norm="inf", lb=None, ub=None, **verify_kw) -> AttackResult:
    """The exact worst-case attack on every sample (see the module docstring).

    Parameters
    ----------
    model : fitted classifier
        Linear (``coef_``, ``intercept_``, ``classes_``: optml's linear classifiers,
        scikit-learn's ``LinearSVC``/``LogisticRegression``), an axis-aligned tree
        (``tree_``), or a ReLU network (:class:`optml.nn.ReLUNetwork`, ``MLPClassifier``).
    X : array (n, d)
    y : array (n,) of true labels
    eps : float >= 0
    norm : {"inf", "1", "2"}
    lb, ub : float or array, optional
        The input domain (e.g. pixel range); the ball is intersected with it.
    **verify_kw
        Networks only: passed to :func:`optml.nn.verify_robustness` (``time_limit`` ...).
    """
    X, y, eps, norm = _check_inputs(X, y, eps, norm)
    lo, hi = _box(lb, ub, X.shape[1])
    kind = _kind(model)
    correct = _predict(model, X) == y
    details = []
    if kind == "linear":
        margin, X_adv = _attack_linear(model, X, y, eps, norm, lo, hi)
        robust = margin > 0
    elif kind == "tree":
        margin, X_adv = _attack_tree(model, X, y, eps, norm, lo, hi)
        robust = margin > 0
    else:
        margin, X_adv, robust, details = _attack_network(
            model, X, y, eps, norm, lo, hi, **verify_kw
        )
    robust = robust & correct
    # a counterexample counts only when the model itself misclassifies it inside the ball
    inside = _dist(X_adv - X, norm) <= eps * (1 + 1e-9) + 1e-12
    inside &= ((X_adv >= lo - 1e-12) & (X_adv <= hi + 1e-12)).all(axis=1)
    cex = (_predict(model, X_adv) != y) & inside & ~robust
    return AttackResult(
        robust=robust,
        X_adv=X_adv,
        counterexample=cex,
        margin=margin,
        correct=correct,
        eps=eps,
        norm=norm,
        kind=kind,
        details=details,
    )


def adversarial_accuracy(model, X, y, eps, norm="inf", lb=None, ub=None, **verify_kw) -> float:
    """Accuracy under the exact worst-case attack: the fraction of samples on which the model
    is proven to keep the true class over the whole ball (see :func:`attack`)."""
    return attack(model, X, y, eps, norm=norm, lb=lb, ub=ub, **verify_kw).accuracy


def __getattr__(name):
    if name in ("CertifiedMLPClassifier", "dual_margin_bounds"):  # lazily: imports sklearn
        from optml.nn import _certified

        return getattr(_certified, name)
    if name in ("adversarial_training", "screen_robustness", "verified_accuracy"):
        from optml.nn import _adversarial  # lazily: MILP adversarial training

        return getattr(_adversarial, name)
    if name == "RobustOptimalTree":  # lazily: the estimator imports the solve path
        from optml.classification._robust_tree import RobustOptimalTree

        return RobustOptimalTree
    raise AttributeError(f"module 'optml.adversarial' has no attribute {name!r}")


__all__ = [
    "AttackResult",
    "CertifiedMLPClassifier",  # noqa: F822  (module __getattr__: imported lazily)
    "dual_margin_bounds",  # noqa: F822
    "DUAL",
    "RobustOptimalTree",  # noqa: F822  (module __getattr__: imported lazily)
    "adversarial_accuracy",
    "adversarial_training",  # noqa: F822  (module __getattr__: imported lazily)
    "attack",
    "linear_scores",
    "screen_robustness",  # noqa: F822
    "tree_leaves",
    "verified_accuracy",  # noqa: F822
]
