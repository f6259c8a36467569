r"""Certified training of ReLU networks through the LP relaxation (Wong and Kolter, 2018).

Wong and Kolter ("Provable defenses against adversarial examples via the convex outer
adversarial polytope", ICML 2018) replace every unstable ReLU (:math:`l < 0 < u`) by its
triangle relaxation and bound a linear function :math:`c^\top f(x)` of the outputs from below
over the ball :math:`\|x - x_0\|_p \le \epsilon` by a feasible point of the LP's dual, the
*dual network*. With layers :math:`a_k = W_k h_{k-1} + b_k` (:math:`h_0 = x`,
:math:`h_k = \max(0, a_k)` for :math:`k < K`, :math:`f = a_K`), slopes
:math:`d_k = 1` (active, :math:`l \ge 0`), :math:`0` (inactive, :math:`u \le 0`),
:math:`u/(u - l)` (unstable), and :math:`I_k` the unstable units:

.. math::

    \lambda_K = c, \qquad \lambda_k = d_k \odot (W_{k+1}^\top \lambda_{k+1})\ (k = K-1, \dots, 1),
    \qquad g = W_1^\top \lambda_1,

    J(x_0, c) = g^\top x_0 - \epsilon \|g\|_q + \sum_{k=1}^{K} \lambda_k^\top b_k
    + \sum_{k=1}^{K-1} \sum_{j \in I_k} l_{kj} \, [-\lambda_{kj}]_+
    \ \le\ \min_{\|x - x_0\|_p \le \epsilon} c^\top f(x),

:math:`q` the dual norm (L1 for an L-inf ball, L-inf for L1, L2 for L2). With a box
:math:`lb \le x \le ub` (pixels) and an L-inf ball the input term is the exact minimum over the
box :math:`[\max(lb, x_0 - \epsilon), \min(ub, x_0 + \epsilon)]`; for L1 and L2 balls the box
is left out (a larger set: the bound stays valid). The pre-activation bounds :math:`l_k, u_k`
come from the same dual network, layer by layer (:math:`c = \pm e_j` for each unit of layer
:math:`k`), as in the paper. The bound is exact when no unit is unstable.

For classification, :math:`c_j = e_y - e_j`; training minimises the cross-entropy of
:math:`-J(x_i, c)` (the robust loss of the paper, an upper bound on the worst-case
cross-entropy over the ball), whose gradient with respect to every weight and bias is written
out here by hand (reverse mode through the margin bound *and* the layer bounds; no autograd).

This is not a mathematical-program solve: there is no solve-path certificate for training.
What is certified is the trained network's robustness afterwards, by
:func:`optml.nn.verify_robustness` (exact MILP, every counterexample checked by a forward
pass) on :meth:`CertifiedMLPClassifier.to_network`, and every point with :math:`J > 0` is
proven robust by the dual bound itself.
"""

from __future__ import annotations

import logging
import numbers
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._validation import check_fraction, check_int, check_nonneg
from optml.nn._network import ReLUNetwork

logger = logging.getLogger("optml")

_NORMS = {"inf": "inf", "linf": "inf", "1": "1", "l1": "1", "2": "2", "l2": "2"}

__all__ = [
    "CertifiedMLPClassifier",
    "dual_layer_bounds",
    "dual_margin_bounds",
    "robust_loss",
]


def _check_norm(norm) -> str:
    if norm in (np.inf, float("inf")):
        return "inf"
    if isinstance(norm, numbers.Integral) and not isinstance(norm, bool) and norm in (1, 2):
        return str(int(norm))
    key = norm.lower() if isinstance(norm, str) else None
    if key not in _NORMS:
        raise ValueError(f"norm must be 'inf', '1' or '2' (the ball's norm), got {norm!r}")
    return _NORMS[key]


# ------------------------------------------------------------------------ the dual network
def _slopes(L, U):
    """``(d, unstable, dd/dl, dd/du)`` of the triangle relaxation, elementwise."""
    unst = (L < 0) & (U > 0)
    width = np.where(unst, U - L, 1.0)
    d = np.where(L >= 0, 1.0, np.where(unst, U / width, 0.0))
    dd_l = np.where(unst, U / width**2, 0.0)
    dd_u = np.where(unst, -L / width**2, 0.0)
    return d, unst, dd_l, dd_u


def _dnorm(G0, norm):
    """``||G0||_q`` over the last axis (``q`` dual to the ball's norm) and its gradient."""
    if norm == "inf":  # the L1 norm
        return np.abs(G0).sum(axis=-1), np.sign(G0)
    if norm == "1":  # the L-inf norm
        idx = np.abs(G0).argmax(axis=-1)[..., None]
        mx = np.take_along_axis(G0, idx, axis=-1)
        grad = np.zeros_like(G0)
        np.put_along_axis(grad, idx, np.sign(mx), axis=-1)
        return np.abs(mx)[..., 0], grad
    nrm = np.linalg.norm(G0, axis=-1)
    safe = np.where(nrm > 0, nrm, 1.0)
    return nrm, G0 / safe[..., None]


def _input_term(G0, X, eps, norm, lo, hi):
    """``min G0 x`` over the input set, per (sample, spec): ``(B, s)``. ``G0`` is ``(s, n0)``
    (shared by the batch) or ``(B, s, n0)``."""
    if norm == "inf":
        a, b = np.maximum(X - eps, lo), np.minimum(X + eps, hi)
        mid, rad = (a + b) / 2, (b - a) / 2
        if G0.ndim == 2:
            return mid @ G0.T - rad @ np.abs(G0).T
        return (
            np.matmul(G0, mid[:, :, None])[..., 0] - np.matmul(np.abs(G0), rad[:, :, None])[..., 0]
        )
    nrm, _ = _dnorm(G0, norm)
    if G0.ndim == 2:
        return X @ G0.T - eps * nrm[None, :]
    return np.matmul(G0, X[:, :, None])[..., 0] - eps * nrm


def _input_vjp(G0, Jbar, X, eps, norm, lo, hi):
    """The adjoint of ``G0`` given the adjoint ``Jbar`` (B, s) of :func:`_input_term`."""
    if norm == "inf":
        a, b = np.maximum(X - eps, lo), np.minimum(X + eps, hi)
        mid, rad = (a + b) / 2, (b - a) / 2
        if G0.ndim == 2:
            return Jbar.T @ mid - np.sign(G0) * (Jbar.T @ rad)
        Jb = Jbar[:, :, None]
        return Jb * mid[:, None, :] - (Jb * np.sign(G0)) * rad[:, None, :]
    _, dn = _dnorm(G0, norm)
    if G0.ndim == 2:
        return Jbar.T @ X - eps * Jbar.sum(axis=0)[:, None] * dn
    return Jbar[:, :, None] * (X[:, None, :] - eps * dn)


def _rmul(A, W):
    """``A @ W`` for ``A`` of shape ``(s, n)`` or ``(B, s, n)`` (one gemm, not ``B``)."""
    if A.ndim == 2:
        return A @ W
    return (A.reshape(-1, A.shape[-1]) @ W).reshape(A.shape[0], A.shape[1], W.shape[1])


def _outer(A, G):
    """``sum_{b,s} A[b,s,:]^T G[b,s,:]`` (either may be shared by the batch: 2-D)."""
    if A.ndim == 2 and G.ndim == 2:
        return A.T @ G
    if A.ndim == 2:
        return A.T @ G.sum(axis=0)
    if G.ndim == 2:
        return A.sum(axis=0).T @ G
    return A.reshape(-1, A.shape[-1]).T @ G.reshape(-1, G.shape[-1])


def _wsum(Jbar, A):
    """``sum_{b,s} Jbar[b,s] A[b,s,:]`` (``A`` possibly 2-D, shared by the batch)."""
    if A.ndim == 2:
        return Jbar.sum(axis=0) @ A
    return Jbar.reshape(-1) @ A.reshape(-1, A.shape[-1])


class _Pass:
    """One dual-network pass bounding ``C a_m`` from below; keeps what the reverse pass needs.

    ``C`` is ``(s, n_m)`` (the same specifications for every sample) or ``(B, s, n_m)``.
    """

    def __init__(self, Ws, bs, bounds, m, C, X, eps, norm, lo, hi):
        B = X.shape[0]
        self.m, self.C = m, C
        self.data = (X, eps, norm, lo, hi)
        Lam = C
        const = np.broadcast_to(Lam @ bs[m], (B, C.shape[-2]))
        self.lams = {m: C}
        self.steps = []
        for k in range(m - 1, -1, -1):
            L, U = bounds[k]
            d, unst, dd_l, dd_u = _slopes(L, U)
            G = _rmul(Lam, Ws[k + 1])  # coefficients on h_k: (s, n_k) or (B, s, n_k)
            Lam = G * d[:, None, :]
            neg = np.maximum(-Lam, 0.0)
            const = const + np.matmul(neg, (unst * L)[:, :, None])[..., 0] + Lam @ bs[k]
            self.lams[k] = Lam
            self.steps.append((k, G, Lam, neg, d, unst, dd_l, dd_u))
        self.G0 = _rmul(Lam, Ws[0])
        self.J = const + _input_term(self.G0, X, eps, norm, lo, hi)

    def backward(self, Jbar, Ws, bs, bounds, gW, gb, gL, gU):
        """Accumulate the gradient of ``sum(Jbar * J)`` into ``gW``, ``gb`` (lists) and ``gL``,
        ``gU`` (adjoints of the layer bounds used)."""
        Jb = Jbar[:, :, None]
        Gbar = _input_vjp(self.G0, Jbar, *self.data)
        gW[0] += _outer(self.lams[0], Gbar)
        Lbar = _rmul(Gbar, Ws[0].T)
        for k, G, Lam, neg, d, unst, dd_l, dd_u in reversed(self.steps):
            L = bounds[k][0]
            # const += Lam b_k + sum_j l_j [-Lam_j]_+ over the unstable units
            gb[k] += _wsum(Jbar, Lam)
            Lbar = Lbar + Jb * bs[k] - Jb * (unst * L)[:, None, :] * (Lam < 0)
            gL[k] += np.matmul(Jbar[:, None, :], neg)[:, 0, :] * unst
            # Lam = G * d
            dbar = (Lbar * G).sum(axis=1)
            gL[k] += dbar * dd_l
            gU[k] += dbar * dd_u
            Gbar = Lbar * d[:, None, :]
            # G = Lam_{k+1} W_{k+1}
            gW[k + 1] += _outer(self.lams[k + 1], Gbar)
            Lbar = _rmul(Gbar, Ws[k + 1].T)
        gb[self.m] += _wsum(Jbar, self.C)


def _layer_passes(Ws, bs, X, eps, norm, lo, hi):
    """Bounds of every hidden layer by the dual network; the passes (for the reverse pass)."""
    bounds, passes = [], []
    for m in range(len(Ws) - 1):
        n = Ws[m].shape[0]
        eye = np.eye(n)
        p = _Pass(Ws, bs, bounds, m, np.vstack([eye, -eye]), X, eps, norm, lo, hi)
        bounds.append((p.J[:, :n], -p.J[:, n:]))
        passes.append(p)
    return bounds, passes


def _margin_specs(y_idx, n_out):
    """``C[b, j] = e_y - e_j`` (a zero row at ``j = y``)."""
    B = y_idx.size
    C = -np.broadcast_to(np.eye(n_out), (B, n_out, n_out)).copy()
    C[np.arange(B), :, y_idx] += 1.0
    return C


def _forward_logits(Ws, bs, X):
    hs = [X]
    H = X
    for k, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        H = H @ W.T + b
        if k < len(Ws) - 1:
            H = np.maximum(H, 0.0)
            hs.append(H)
    return H, hs


def _softmax(Z):
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def _ce(Z, y_idx):
    """Mean cross-entropy of logits ``Z`` and its gradient in ``Z``."""
    B = Z.shape[0]
    P = _softmax(Z)
    zmax = Z.max(axis=1)
    lse = zmax + np.log(np.exp(Z - zmax[:, None]).sum(axis=1))
    loss = float(np.mean(lse - Z[np.arange(B), y_idx]))
    g = P.copy()
    g[np.arange(B), y_idx] -= 1.0
    return loss, g / B


def _loss_and_grad(Ws, bs, X, y_idx, eps, norm, lo, hi, kappa, need_grad=True):
    """``kappa * CE(f(x)) + (1 - kappa) * CE(-J(x))`` over the batch, and its gradient."""
    gW = [np.zeros_like(W) for W in Ws]
    gb = [np.zeros_like(b) for b in bs]
    loss = 0.0
    n_cert = 0
    if kappa > 0:
        Z, hs = _forward_logits(Ws, bs, X)
        lc, gZ = _ce(Z, y_idx)
        loss += kappa * lc
        if need_grad:
            delta = kappa * gZ
            for k in range(len(Ws) - 1, -1, -1):
                gW[k] += delta.T @ hs[k]
                gb[k] += delta.sum(axis=0)
                if k:
                    delta = (delta @ Ws[k]) * (hs[k] > 0)
    if kappa < 1:
        bounds, passes = _layer_passes(Ws, bs, X, eps, norm, lo, hi)
        C = _margin_specs(y_idx, Ws[-1].shape[0])
        top = _Pass(Ws, bs, bounds, len(Ws) - 1, C, X, eps, norm, lo, hi)
        lr, gJ = _ce(-top.J, y_idx)
        n_cert = int(_certified_rows(top.J, y_idx).sum())
        loss += (1 - kappa) * lr
        if need_grad:
            gL = [np.zeros_like(L) for L, _ in bounds]
            gU = [np.zeros_like(U) for _, U in bounds]
            top.backward(-(1 - kappa) * gJ, Ws, bs, bounds, gW, gb, gL, gU)
            for m in range(len(passes) - 1, -1, -1):
                Jbar = np.hstack([gL[m], -gU[m]])
                passes[m].backward(Jbar, Ws, bs, bounds, gW, gb, gL, gU)
    return loss, gW, gb, n_cert


def _certified_rows(J, y_idx):
    off = np.ones_like(J, dtype=bool)
    off[np.arange(J.shape[0]), y_idx] = False
    return np.where(off, J > 0, True).all(axis=1)


def _one_thread():
    """Small matrices: one BLAS thread (a thread pool on a busy machine costs far more than it
    gives; measured 70x slower training on a shared 2-core machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


# ------------------------------------------------------------------------------ public API
def _net_data(net, X, epsilon, norm, lb, ub):
    if not isinstance(net, ReLUNetwork):
        raise TypeError(
            f"net must be an optml.nn.ReLUNetwork (ReLUNetwork.from_sklearn(mlp) converts a "
            f"scikit-learn MLP), got {type(net).__name__}"
        )
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != net.n_inputs:
        raise ValueError(
            f"X must have {net.n_inputs} features (the network's inputs), got shape {X.shape}"
        )
    if not np.isfinite(X).all():
        raise ValueError("X must be finite (no NaN or inf)")
    eps = check_nonneg("epsilon", epsilon)
    norm = _check_norm(norm)
    lo, hi = _domain(lb, ub, X.shape[1])
    return X, eps, norm, lo, hi


def _domain(lb, ub, n):
    try:
        lo = np.broadcast_to(np.asarray(-np.inf if lb is None else lb, float), (n,)).copy()
        hi = np.broadcast_to(np.asarray(np.inf if ub is None else ub, float), (n,)).copy()
    except ValueError:
        raise ValueError(
            f"lb and ub must be scalars or arrays of length {n} (the number of features), "
            f"got shapes {np.shape(lb)} and {np.shape(ub)}"
        ) from None
    if (lo > hi).any():
        raise ValueError("lb > ub for some feature; pass lb <= ub elementwise")
    return lo, hi


def _labels(net, y, n):
    y = np.asarray(y).ravel()
    if y.size != n:
        raise ValueError(f"X has {n} rows but y has {y.size} labels")
    if net.classes is not None:
        idx = np.searchsorted(net.classes, y)
        idx = np.clip(idx, 0, net.classes.size - 1)
        if (net.classes[idx] != y).any():
            bad = y[net.classes[idx] != y][0]
            raise ValueError(f"label {bad!r} is not one of the network's classes")
        return idx
    if not np.issubdtype(y.dtype, np.integer) or (y < 0).any() or (y >= net.n_outputs).any():
        raise ValueError(
            f"without net.classes, y must hold output indices in [0, {net.n_outputs}), got {y!r}"
        )
    return y.astype(int)


def dual_layer_bounds(net, X, epsilon, norm="inf", lb=None, ub=None) -> list:
    """Pre-activation bounds ``(L, U)`` of every hidden layer over the ball around each row of
    ``X``, by Wong and Kolter's dual network (arrays of shape ``(n_samples, n_units)``)."""
    X, eps, norm, lo, hi = _net_data(net, X, epsilon, norm, lb, ub)
    bounds, _ = _layer_passes(net.weights, net.biases, X, eps, norm, lo, hi)
    return bounds


def dual_margin_bounds(net, X, y, epsilon, norm="inf", lb=None, ub=None) -> np.ndarray:
    r"""Lower bounds :math:`J_{ij} \le \min_{x \in B_i} f_{y_i}(x) - f_j(x)` (Wong and Kolter).

    Parameters
    ----------
    net : ReLUNetwork
        A classifier: one score per class, or one output ``f`` (class scores ``(0, f)``, as
        :func:`optml.nn.verify_robustness` reads it).
    X : array (n, d)
    y : array (n,)
        Labels (in ``net.classes``), or output indices when the network has no classes.
    epsilon : float >= 0
    norm : {"inf", "1", "2"}
    lb, ub : float or array, optional
        The input domain; used for L-inf balls (the ball is clipped to it), left out (a valid
        relaxation) for L1 and L2.

    Returns
    -------
    J : array (n, n_outputs)
        ``J[i, y_i] = 0``; the row is certified robust when every other entry is positive.
    """
    X, eps, norm, lo, hi = _net_data(net, X, epsilon, norm, lb, ub)
    if net.n_outputs == 1:  # a binary classifier f > 0: class scores (0, f)
        W, b = list(net.weights), list(net.biases)
        W[-1] = np.vstack([np.zeros_like(W[-1]), W[-1]])
        b[-1] = np.concatenate([[0.0], b[-1]])
        net = ReLUNetwork(W, b, classes=net.classes)
    y_idx = _labels(net, y, X.shape[0])
    Ws, bs = net.weights, net.biases
    bounds, _ = _layer_passes(Ws, bs, X, eps, norm, lo, hi)
    C = _margin_specs(y_idx, Ws[-1].shape[0])
    return _Pass(Ws, bs, bounds, len(Ws) - 1, C, X, eps, norm, lo, hi).J


def robust_loss(net, X, y, epsilon, norm="inf", lb=None, ub=None, kappa=0.0):
    r"""``(loss, grad_weights, grad_biases)``: the robust cross-entropy of Wong and Kolter,
    :math:`\kappa\,\mathrm{CE}(f(x), y) + (1 - \kappa)\,\mathrm{CE}(-J(x), y)` averaged over
    the rows, with its gradient in every weight and bias (hand-written reverse mode)."""
    X, eps, norm, lo, hi = _net_data(net, X, epsilon, norm, lb, ub)
    kappa = check_fraction("kappa", kappa, closed=True)
    y_idx = _labels(net, y, X.shape[0])
    loss, gW, gb, _ = _loss_and_grad(net.weights, net.biases, X, y_idx, eps, norm, lo, hi, kappa)
    return loss, gW, gb


# ------------------------------------------------------------------------------- estimator
class CertifiedMLPClassifier(ClassifierMixin, BaseEstimator):
    r"""A ReLU MLP trained on Wong and Kolter's robust loss (certified training, 2018).

    Minimises, by Adam on mini-batches,

    .. math::

        \frac1n \sum_{i=1}^n \kappa\, \mathrm{CE}\big(f_\theta(x_i), y_i\big)
        + (1 - \kappa)\, \mathrm{CE}\big(-J_{\epsilon_t}(x_i), y_i\big),

    where :math:`J_\epsilon(x_i)_j \le \min_{\|x - x_i\|_p \le \epsilon} f_{y_i}(x) - f_j(x)` is
    the dual-network bound of the LP relaxation (see :func:`dual_margin_bounds`) and
    :math:`\epsilon_t` ramps linearly from 0 to ``epsilon`` over ``ramp_epochs`` (as in Wong,
    Schmidt, Metzen and Kolter 2018). The gradient is exact (hand-written reverse mode through
    the bound and the layer-wise bounds), in numpy.

    Training is not a mathematical-program solve: no ``program_`` or certified ``result_``.
    The trained network's robustness is certified afterwards: :meth:`certify` by the dual
    bound (sound, incomplete), and ``optml.nn.verify_robustness(est.to_network(), ...)`` or
    ``optml.adversarial.attack`` exactly by MILP (every counterexample checked by a forward
    pass).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(32,)
    epsilon : float >= 0, default=0.1
        Radius of the ball, in the units of ``X``.
    norm : {"inf", "1", "2"}, default="inf"
    lb, ub : float or array, optional
        The input domain (e.g. 0 and 1 for pixels); L-inf balls are clipped to it.
    kappa : float in [0, 1], default=0.0
        Weight of the clean cross-entropy (0: the robust loss only, as in the paper; 1:
        nominal training by the same code).
    epochs : int, default=20
        Passes over the data (small data sets: raise it for images).
    ramp_epochs : int, optional
        Epochs over which the radius grows from 0 to ``epsilon`` (default: half of ``epochs``).
    learning_rate : float, default=0.01
        Adam's step size.
    batch_size : int, default=64
    alpha : float, default=0.0
        L2 penalty on the weights.
    random_state : int, None, numpy Generator or RandomState, default=0
    time_limit : float, optional
        Seconds for the training; at the limit it stops after the current mini-batch.

    Attributes
    ----------
    classes_, n_features_in_, coefs_, intercepts_ (``coefs_[k]`` of shape (out, in), as
    :class:`~optml.nn.ReLUNetwork`), loss_curve_ (per epoch), certified_curve_ (fraction of
    training points certified by the bound at the epoch's radius), n_iter_, stopped_by_time_,
    fit_time_.
    """

    def __init__(
        self,
        hidden_layer_sizes=(32,),
        epsilon=0.1,
        norm="inf",
        lb=None,
        ub=None,
        kappa=0.0,
        epochs=20,
        ramp_epochs=None,
        learning_rate=0.01,
        batch_size=64,
        alpha=0.0,
        random_state=0,
        time_limit=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.epsilon = epsilon
        self.norm = norm
        self.lb = lb
        self.ub = ub
        self.kappa = kappa
        self.epochs = epochs
        self.ramp_epochs = ramp_epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.alpha = alpha
        self.random_state = random_state
        self.time_limit = time_limit

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            raise TypeError(
                f"hidden_layer_sizes must be a tuple of positive integers, got {sizes!r}"
            ) from None
        sizes = tuple(check_int("hidden_layer_sizes[i]", s, minimum=1) for s in sizes)
        eps = check_nonneg("epsilon", self.epsilon)
        norm = _check_norm(self.norm)
        kappa = check_fraction("kappa", self.kappa, closed=True)
        epochs = check_int("epochs", self.epochs, minimum=1)
        ramp = epochs // 2 if self.ramp_epochs is None else self.ramp_epochs
        ramp = check_int("ramp_epochs", ramp, minimum=0)
        lr = check_nonneg("learning_rate", self.learning_rate, allow_zero=False)
        bsz = check_int("batch_size", self.batch_size, minimum=1)
        alpha = check_nonneg("alpha", self.alpha)
        if self.time_limit is not None:
            check_nonneg("time_limit", self.time_limit, allow_zero=False)
        return sizes, eps, norm, kappa, epochs, ramp, lr, bsz, alpha

    def fit(self, X, y):
        """Train on ``X`` (n, d) and labels ``y`` (at least two classes)."""
        from sklearn.utils.multiclass import check_classification_targets

        t0 = time.perf_counter()
        sizes, eps, norm, kappa, epochs, ramp, lr, bsz, alpha = self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes, y_idx = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"CertifiedMLPClassifier needs samples of at least 2 classes in y, but the data "
                f"contains only one class: {classes[0]!r}"
            )
        lo, hi = _domain(self.lb, self.ub, X.shape[1])
        with _one_thread():
            self._train(X, y_idx, classes, lo, hi, t0)
        return self

    def _train(self, X, y_idx, classes, lo, hi, t0):
        sizes, eps, norm, kappa, epochs, ramp, lr, bsz, alpha = self._check_params()
        rs = self.random_state
        if isinstance(rs, np.random.RandomState):  # scikit-learn's convention
            rs = int(rs.randint(2**31 - 1))
        rng = np.random.default_rng(rs)
        layers = (X.shape[1],) + sizes + (classes.size,)
        Ws, bs = [], []
        for k in range(len(layers) - 1):
            fan_in, fan_out = layers[k], layers[k + 1]
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            Ws.append(rng.uniform(-bound, bound, size=(fan_out, fan_in)))
            bs.append(rng.uniform(-bound, bound, size=fan_out) * 0.1)
        params = Ws + bs
        m1 = [np.zeros_like(p) for p in params]
        m2 = [np.zeros_like(p) for p in params]
        beta1, beta2, tiny = 0.9, 0.999, 1e-8
        n = X.shape[0]
        bsz = min(bsz, n)
        n_batches = int(np.ceil(n / bsz))
        step = 0
        self.loss_curve_, self.certified_curve_ = [], []
        self.stopped_by_time_ = False
        done_epochs = 0
        for epoch in range(epochs):
            order = rng.permutation(n)
            tot, cert = 0.0, 0
            for bi in range(n_batches):
                idx = order[bi * bsz : (bi + 1) * bsz]
                progress = (epoch + bi / n_batches) / ramp if ramp > 0 else 1.0
                e_t = eps * min(1.0, progress)
                loss, gW, gb, nc = _loss_and_grad(
                    Ws, bs, X[idx], y_idx[idx], e_t, norm, lo, hi, kappa
                )
                if alpha:
                    loss += 0.5 * alpha * sum(float((W * W).sum()) for W in Ws) / n
                    gW = [g + alpha * W / n for g, W in zip(gW, Ws, strict=True)]
                tot += loss * idx.size
                cert += nc
                step += 1
                grads = gW + gb
                for p, g, a, v in zip(params, grads, m1, m2, strict=True):
                    a *= beta1
                    a += (1 - beta1) * g
                    v *= beta2
                    v += (1 - beta2) * g * g
                    p -= lr * (a / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + tiny)
                if self.time_limit is not None and time.perf_counter() - t0 > self.time_limit:
                    self.stopped_by_time_ = True
                    break
            self.loss_curve_.append(tot / n)
            self.certified_curve_.append(cert / n if kappa < 1 else float("nan"))
            done_epochs = epoch + 1
            logger.debug("certified training epoch %d: loss %.4g", epoch, tot / n)
            if self.stopped_by_time_:
                logger.info("CertifiedMLPClassifier: time limit reached after %d epochs", epoch)
                break
        self.classes_ = classes
        self.coefs_ = Ws
        self.intercepts_ = bs
        self.n_iter_ = done_epochs
        self.fit_time_ = time.perf_counter() - t0

    # ------------------------------------------------------------------ predict
    def _X(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def _logits(self, X):
        X = self._X(X)
        return _forward_logits(self.coefs_, self.intercepts_, X)[0]

    def predict_proba(self, X):
        """Softmax of the network's outputs."""
        return _softmax(self._logits(X))

    def predict(self, X):
        Z = self._logits(X)
        return self.classes_[Z.argmax(axis=1)]

    def to_network(self) -> ReLUNetwork:
        """The trained network as an :class:`optml.nn.ReLUNetwork` (with ``classes``), for
        :func:`optml.nn.verify_robustness` and :func:`optml.adversarial.attack`."""
        check_is_fitted(self)
        return ReLUNetwork(
            [W.copy() for W in self.coefs_],
            [b.copy() for b in self.intercepts_],
            classes=self.classes_,
        )

    def margin_bounds(self, X, y, epsilon=None):
        """:func:`dual_margin_bounds` of the trained network (``epsilon`` defaults to the
        training radius; the estimator's ``norm``, ``lb`` and ``ub``)."""
        eps = self.epsilon if epsilon is None else epsilon
        return dual_margin_bounds(
            self.to_network(), self._X(X), y, eps, self.norm, self.lb, self.ub
        )

    def certify(self, X, y, epsilon=None) -> np.ndarray:
        """Boolean per row: correctly classified and proven robust by the dual bound (every
        margin bound positive). Sound, not complete: False is no counterexample."""
        J = self.margin_bounds(X, y, epsilon)
        y_idx = _labels(self.to_network(), y, J.shape[0])
        return _certified_rows(J, y_idx)
