r"""Training small networks by MILP.

**Binarized networks** (Toro Icarte, Illanes, Castro, Cire, McIlraith and Beck, 2019). Weights
and biases are ternary, :math:`w = w^+ - w^- \in \{-1, 0, 1\}` with binaries
:math:`w^+ + w^- \le 1`; hidden activations are signs :math:`n = 2u - 1 \in \{-1, 1\}`. For
training example :math:`i`, hidden layer 1 (real inputs :math:`x_i`) gives
:math:`a_{ij} = \sum_l w_{jl} x_{il} + w_{j0}` and

.. math::

    u_{ij} = 1 \Rightarrow a_{ij} \ge 0, \qquad u_{ij} = 0 \Rightarrow a_{ij} \le -\delta,

by big-M rows with :math:`M_i = \|x_i\|_1 + 1`. Later layers multiply a ternary weight by a
sign, :math:`c = w\,n`, written without new binaries as
:math:`|c - w| \le 2(1 - u)`, :math:`|c + w| \le 2u`; their pre-activations are integers
(:math:`\delta = 1`). The class scores :math:`s_{ik}` satisfy
:math:`s_{i y_i} - s_{ik} \ge 1` for :math:`k \ne y_i` (every training point fitted; with
``allow_errors`` a binary :math:`e_i` switches example :math:`i` off at a cost larger than all
weights together). Objectives: ``"min_weight"`` minimises :math:`\sum (w^+ + w^-)`;
``"max_margin"`` maximises :math:`\sum_j m_j` with :math:`u = 1 \Rightarrow a \ge m_j`,
:math:`u = 0 \Rightarrow a \le -\delta - m_j` for every hidden neuron.

**ReLU networks with bounded weights** (after Thorbjarnarson and Yorke-Smith, 2021), one hidden
layer of :math:`H` neurons, all weights in :math:`[-B, B]`. Positive homogeneity,
:math:`v\,\max(0, w^\top x + b) = \mathrm{sign}(v)\, B \max(0, (|v|/B)(w^\top x + b))`, shows
that for one output the net :math:`f(x) = \sum_j v_j \max(0, w_j^\top x + b_j) + c` ranges over
exactly the nets with :math:`v_j = B\sigma_j`, :math:`\sigma_j \in \{-1, 1\}`. The training
program is then a MILP:

.. math::

    g_{ij} \ge a_{ij},\ g_{ij} \le a_{ij} + M_i (1 - u_{ij}),\ 0 \le g_{ij} \le M_i u_{ij},
    \qquad q_{ij} = \sigma_j g_{ij}\ \text{(big-M)}, \qquad f_i = B \sum_j q_{ij} + c,

with hinge loss :math:`\sum_i \max(0, 1 - y_i f_i)` or the zero-one loss
:math:`\sum_i e_i`, :math:`e_i = 0 \Rightarrow y_i f_i \ge \gamma`. With :math:`K > 2` classes
each output uses ternary directions :math:`t_{kj} \in \{-1, 0, 1\}` (output weights in
:math:`\{-B, 0, B\}`), the Crammer–Singer hinge or the zero-one loss: the optimum is global over
that weight set. Hidden units are ordered by :math:`\sigma` to break symmetry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from optml.program import Program, as_expression
from optml.program.structured import StructuredProblem


def _ternary(p: Program, name: str, shape):
    wp = p.var(f"{name}_pos", shape=shape, domain="binary")
    wn = p.var(f"{name}_neg", shape=shape, domain="binary")
    p.add(wp + wn <= 1, name=f"{name}_one_sign")
    return wp, wn, wp - wn


def _pick(s, rows, cols, n_cols):
    """Entries ``s[rows, cols]`` of an (N, C) expression, as a vector."""
    flat = s.flatten()
    return flat[np.asarray(rows) * n_cols + np.asarray(cols)]


def _class_rows(y_idx, n_classes):
    i, k = np.nonzero(np.arange(n_classes)[None, :] != np.asarray(y_idx)[:, None])
    return i, k


def binarized_network_program(
    X,
    y_idx,
    n_classes: int,
    hidden_layer_sizes=(16,),
    objective: str = "min_weight",
    allow_errors: bool = False,
    delta: float = 1e-3,
    symmetry: bool = True,
):
    """The BNN training MILP (see the module docstring). Returns ``(program, parts)``; ``parts``
    (the handles of the weights, signs, margins and error binaries) is also
    ``program.metadata["parts"]``.

    ``objective="errors"`` (with ``allow_errors=True``) minimises the number of misfitted points
    alone: the feasibility phase of the hybrid method, which stops at its first network with no
    error. ``symmetry=True`` orders the units of every hidden layer by their key
    :func:`unit_keys` (non-increasing): any network can be permuted into that order, so the
    optimum is unchanged and the permuted copies of each network are cut off.
    """
    if objective not in ("min_weight", "max_margin", "errors"):
        raise ValueError(f"objective must be 'min_weight' or 'max_margin', got {objective!r}")
    if objective == "errors" and not allow_errors:
        raise ValueError("objective='errors' needs allow_errors=True")
    X = np.asarray(X, dtype=float)
    N, p0 = X.shape
    sizes = [p0, *hidden_layer_sizes, n_classes]
    prog = Program("binarized_network")
    parts = {"weights": [], "u": [], "margins": [], "errors": None, "sizes": tuple(sizes)}
    Xa = np.hstack([X, np.ones((N, 1))])
    M1 = np.abs(Xa).sum(axis=1, keepdims=True)  # (N, 1)
    n_prev = None
    weight_terms = []
    for k in range(1, len(sizes)):
        nk, nin = sizes[k], sizes[k - 1]
        wp, wn, W = _ternary(prog, f"w{k}", (nk, nin + 1))
        parts["weights"].append((wp, wn))
        weight_terms.append(wp.sum() + wn.sum())
        if symmetry and k < len(sizes) - 1 and nk > 1:
            key = W @ _key_coefficients(nin + 1)  # (nk,)
            D = sp.diags([np.ones(nk - 1), -np.ones(nk - 1)], [0, 1], shape=(nk - 1, nk))
            prog.add(D @ key >= 0, name=f"w{k}_order")
        if k == 1:
            a = Xa @ W.T  # (N, nk)
            M, dlt = M1, delta
        else:
            c = prog.var(f"c{k}", shape=(N, nk, nin), lb=-1.0, ub=1.0)
            Wb = W[:, :nin].reshape(1, nk, nin).broadcast_to((N, nk, nin))
            ub = n_prev.reshape(N, 1, nin).broadcast_to((N, nk, nin))
            prog.add(c - Wb <= 2 * (1 - ub), name=f"c{k}_on_hi")
            prog.add(Wb - c <= 2 * (1 - ub), name=f"c{k}_on_lo")
            prog.add(c + Wb <= 2 * ub, name=f"c{k}_off_hi")
            prog.add(-1.0 * c - Wb <= 2 * ub, name=f"c{k}_off_lo")
            bias = W[:, nin].reshape(1, nk).broadcast_to((N, nk))
            a = c.reshape(N * nk, nin).sum(axis=1).reshape(N, nk) + bias
            M, dlt = np.full((N, 1), float(nin + 1)), 1.0
        if k == len(sizes) - 1:
            parts["scores"] = a
            break
        u = prog.var(f"u{k}", shape=(N, nk), domain="binary")
        parts["u"].append(u)
        if objective == "max_margin":
            # |a_ij| <= M_i for every point, so a margin never exceeds min_i M_i
            mmax = float(M.min())
            m = prog.var(f"margin{k}", shape=nk, lb=0.0, ub=mmax)
            parts["margins"].append(m)
            mb = m.reshape(1, nk).broadcast_to((N, nk))
            Mm = M + mmax
            prog.add(a >= mb - Mm * (1 - u), name=f"act{k}_on")
            prog.add(a <= -dlt - mb + (Mm + dlt) * u, name=f"act{k}_off")
        else:
            prog.add(a >= -M * (1 - u), name=f"act{k}_on")
            prog.add(a <= -dlt + (M + dlt) * u, name=f"act{k}_off")
        n_prev = u
    s = parts["scores"]
    ii, kk = _class_rows(y_idx, n_classes)
    diff = _pick(s, ii, np.asarray(y_idx)[ii], n_classes) - _pick(s, ii, kk, n_classes)
    n_w = sum(sizes[k] * (sizes[k - 1] + 1) for k in range(1, len(sizes)))
    if allow_errors:
        e = prog.var("errors", shape=N, domain="binary")
        parts["errors"] = e
        Mo = 2.0 * (sizes[-2] + 1) + 1.0 if len(sizes) > 2 else 2.0 * (M1.max() + 1)
        prog.add(diff >= 1 - Mo * e[ii], name="fit")
    else:
        prog.add(diff >= 1, name="fit")
    penalty = 0
    if allow_errors:
        penalty = (2.0 * n_w + 1.0) * parts["errors"].sum()
    if objective == "min_weight":
        prog.minimize(sum(weight_terms[1:], weight_terms[0]) + penalty)
    elif objective == "max_margin":
        total = sum((m.sum() for m in parts["margins"]), as_expression(0.0))
        Mmax = float(M1.max()) * sum(sizes[1:-1]) + 1.0
        prog.maximize(total - (Mmax * penalty if allow_errors else 0.0))
    else:
        prog.minimize(parts["errors"].sum())
    parts["objective"] = objective
    parts["penalty"] = (2.0 * n_w + 1.0) if objective == "min_weight" else None
    prog.metadata["parts"] = parts
    return prog, parts


def relu_training_program(
    X,
    y_idx,
    n_classes: int,
    n_hidden: int = 3,
    loss: str = "hinge",
    weight_bound: float = 1.0,
    margin: float = 1e-3,
):
    """The bounded-weight ReLU training MILP (see the module docstring). Returns
    ``(program, parts)``; ``parts`` is also ``program.metadata["parts"]``."""
    X = np.asarray(X, dtype=float)
    N, p0 = X.shape
    B = float(weight_bound)
    H = int(n_hidden)
    prog = Program("relu_network_training")
    W = prog.var("W", shape=(H, p0), lb=-B, ub=B)
    b = prog.var("b", shape=H, lb=-B, ub=B)
    a = X @ W.T + b.reshape(1, H).broadcast_to((N, H))
    M = B * (np.abs(X).sum(axis=1) + 1.0)  # |a_ij| <= M_i
    Mc = M.reshape(N, 1)
    u = prog.var("u", shape=(N, H), domain="binary")
    g = prog.var("g", shape=(N, H), lb=0.0, ub=np.broadcast_to(Mc, (N, H)))
    prog.add(g >= a, name="relu_lo")
    prog.add(g <= a + Mc * (1 - u), name="relu_bigm_a")
    prog.add(g <= Mc * u, name="relu_bigm_u")
    parts = {"W": W, "b": b, "u": u, "g": g}
    if n_classes == 2:
        s = prog.var("sign", shape=H, domain="binary")
        c = prog.var("c", lb=-B, ub=B)
        sb = s.reshape(1, H).broadcast_to((N, H))
        q = prog.var(
            "q", shape=(N, H), lb=-np.broadcast_to(Mc, (N, H)), ub=np.broadcast_to(Mc, (N, H))
        )
        prog.add(q <= g, name="q_hi")
        prog.add(q >= -1.0 * g, name="q_lo")
        prog.add(q >= g - 2 * Mc * (1 - sb), name="q_pos")
        prog.add(q <= -1.0 * g + 2 * Mc * sb, name="q_neg")
        if H > 1:
            D = sp.diags([np.ones(H - 1), -np.ones(H - 1)], [0, 1], shape=(H - 1, H))
            prog.add(D @ s >= 0, name="symmetry")
            # units of the same sign are interchangeable: order them by bias
            prog.add(D @ b >= -2 * B * (D @ s), name="symmetry_bias")
        f = B * q.sum(axis=1) + c
        yy = np.where(np.asarray(y_idx) == 1, 1.0, -1.0)
        parts.update(sign=s, c=c, f=f)
        yf = yy * f
        Mf = margin + B * H * M + B  # |f_i| <= B H M_i + B: one big-M per point
        _loss(prog, yf, loss, N, Mf, margin, parts)
        prog.metadata["parts"] = parts
        return prog, parts
    tp, tn, T = _ternary(prog, "t", (n_classes, H))
    c = prog.var("c", shape=n_classes, lb=-B, ub=B)
    if H > 1:
        # with ternary output directions every unit is interchangeable: order them by bias
        D = sp.diags([np.ones(H - 1), -np.ones(H - 1)], [0, 1], shape=(H - 1, H))
        prog.add(D @ b >= 0, name="symmetry_bias")
    r = []
    for tb, nm in ((tp, "rp"), (tn, "rn")):  # r = t_bin * g, shape (N, K, H)
        rv = prog.var(nm, shape=(N, n_classes, H), lb=0.0)
        G = g.reshape(N, 1, H).broadcast_to((N, n_classes, H))
        Tb = tb.reshape(1, n_classes, H).broadcast_to((N, n_classes, H))
        Mb = np.broadcast_to(M.reshape(N, 1, 1), (N, n_classes, H))
        prog.add(rv <= Mb * Tb, name=f"{nm}_t")
        prog.add(rv <= G, name=f"{nm}_g")
        prog.add(rv >= G - Mb * (1 - Tb), name=f"{nm}_lo")
        r.append(rv)
    prod = (r[0] - r[1]).reshape(N * n_classes, H).sum(axis=1).reshape(N, n_classes)
    f = B * prod + c.reshape(1, n_classes).broadcast_to((N, n_classes))
    parts.update(t=(tp, tn), c=c, f=f)
    ii, kk = _class_rows(y_idx, n_classes)
    diff = _pick(f, ii, np.asarray(y_idx)[ii], n_classes) - _pick(f, ii, kk, n_classes)
    Mf = margin + 2 * (B * H * M[ii] + B)  # per row: |f_ik| <= B H M_i + B
    if loss == "hinge":
        xi = prog.var("hinge", shape=N, lb=0.0)
        prog.add(xi[ii] >= 1 - diff, name="hinge")
        parts["slack"] = xi
        prog.minimize(xi.sum())
    elif loss == "zero_one":
        e = prog.var("errors", shape=N, domain="binary")
        prog.add(diff >= margin - Mf * e[ii], name="zero_one")
        parts["errors"] = e
        prog.minimize(e.sum())
    else:
        raise ValueError(f"loss must be 'hinge' or 'zero_one', got {loss!r}")
    prog.metadata["parts"] = parts
    return prog, parts


def _loss(prog, yf, loss, N, Mf, margin, parts):
    if loss == "hinge":
        xi = prog.var("hinge", shape=N, lb=0.0)
        prog.add(xi >= 1 - yf, name="hinge")
        parts["slack"] = xi
        prog.minimize(xi.sum())
    elif loss == "zero_one":
        e = prog.var("errors", shape=N, domain="binary")
        prog.add(yf >= margin - Mf * e, name="zero_one")
        parts["errors"] = e
        prog.minimize(e.sum())
    else:
        raise ValueError(f"loss must be 'hinge' or 'zero_one', got {loss!r}")


def output_layer_program(H, y_idx, n_classes: int, allow_errors: bool = False, reference=None):
    """Ternary output weights for fixed hidden signs ``H`` (N, n_hidden) that fit every point.

    The last stage of :class:`~optml.nn.BinarizedNeuralNetwork`'s gradient start and of the
    per-unit decomposition: a small MILP, ``min sum(w+ + w-)`` s.t.
    ``s_{i y_i} - s_{ik} >= 1``; with ``allow_errors`` a binary per point switches its rows off
    at a cost above all weights (fewest misfitted points first). With ``reference`` (ternary,
    (n_classes, n_hidden + 1)) it minimises the number of changes to it instead,
    :math:`\\sum |w - w^{\text{ref}}|` (linear in :math:`w^\\pm`: the repair of a rounded
    gradient-trained layer). Returns ``(program, (wp, wn))``; the error binaries, if any, are
    the variable ``"errors"``.
    """
    H = np.asarray(H, dtype=float)
    N, h = H.shape
    prog = Program("bnn_output_layer")
    wp, wn, W = _ternary(prog, "w", (n_classes, h + 1))
    S = np.hstack([H, np.ones((N, 1))]) @ W.T
    ii, kk = _class_rows(y_idx, n_classes)
    diff = _pick(S, ii, np.asarray(y_idx)[ii], n_classes) - _pick(S, ii, kk, n_classes)
    if reference is None:
        cost = wp.sum() + wn.sum()
    else:
        R = np.asarray(reference, dtype=float)
        # |w - r| = r=1: 1 - w+ + w-;  r=-1: 1 + w+ - w-;  r=0: w+ + w-
        cp = np.where(R == 0, 1.0, -R)
        cn = np.where(R == 0, 1.0, R)
        cost = (wp * cp).sum() + (wn * cn).sum() + float(np.abs(R).sum())
    if allow_errors:
        e = prog.var("errors", shape=N, domain="binary")
        prog.add(diff >= 1 - (2.0 * (h + 1) + 1.0) * e[ii])
        prog.minimize(cost + (2.0 * n_classes * (h + 1) + 1.0) * e.sum())
    else:
        prog.add(diff >= 1)
        prog.minimize(cost)
    return prog, (wp, wn)


def unit_program(Z, active, delta: float, objective: str = "min_weight"):
    r"""One hidden unit of a binarized network with its activation pattern fixed.

    ``Z`` (N, n_in + 1) are the unit's inputs with a column of ones, ``active`` (N,) the signs
    it must produce: ternary :math:`w` with :math:`Z_i w \ge 0` where active and
    :math:`Z_i w \le -\delta` elsewhere, of fewest nonzeros (``"min_weight"``) or largest
    margin :math:`m` (``"max_margin"``: :math:`Z_i w \ge m`, :math:`Z_i w \le -\delta - m`).
    With every activation fixed the training MILP splits into one such program per hidden unit
    and :func:`output_layer_program` (the decomposition of the hybrid method). Returns
    ``(program, (wp, wn))``.
    """
    Z = np.asarray(Z, dtype=float)
    act = np.asarray(active, dtype=bool)
    prog = Program("bnn_unit")
    wp, wn, w = _ternary(prog, "w", Z.shape[1])
    a = Z @ w
    if objective == "max_margin":
        m = prog.var("margin", lb=0.0, ub=float(np.abs(Z).sum(axis=1).min()))
        if act.any():
            prog.add(a[np.flatnonzero(act)] >= m, name="on")
        if (~act).any():
            prog.add(a[np.flatnonzero(~act)] <= -delta - m, name="off")
        prog.maximize(m)
    else:
        if act.any():
            prog.add(a[np.flatnonzero(act)] >= 0, name="on")
        if (~act).any():
            prog.add(a[np.flatnonzero(~act)] <= -delta, name="off")
        prog.minimize(wp.sum() + wn.sum())
    return prog, (wp, wn)


def _key_coefficients(n: int) -> np.ndarray:
    """Coefficients of a unit's ordering key: distinct positive integers over its inputs."""
    return np.arange(1.0, n + 1.0)


def unit_keys(W) -> np.ndarray:
    """The ordering key of each unit (row) of ``W`` (n_out, n_in + 1): ``W @ (1, 2, ...)``."""
    W = np.asarray(W, dtype=float)
    return W @ _key_coefficients(W.shape[1])


def sort_units(Ws):
    """The same network with the units of every hidden layer in non-increasing key order
    (the order the symmetry-breaking rows of :func:`binarized_network_program` ask for)."""
    Ws = [np.array(W, dtype=float) for W in Ws]
    for k in range(len(Ws) - 1):
        order = np.argsort(-unit_keys(Ws[k]), kind="stable")
        Ws[k] = Ws[k][order]
        nxt = Ws[k + 1]
        Ws[k + 1] = np.hstack([nxt[:, :-1][:, order], nxt[:, -1:]])
    return Ws


def bnn_forward(X, Ws, delta: float):
    r"""Hidden signs per layer and output scores of the ternary network ``Ws`` (list of
    (n_out, n_in + 1)), the MILP's way: layer 1 is active at :math:`a \ge 0` and must leave
    the gap :math:`(-\delta, 0)` empty. Returns ``(signs, pre_activations, scores, ok)``."""
    X = np.asarray(X, dtype=float)
    N = X.shape[0]
    h = X
    signs, pres, ok = [], [], True
    for k, W in enumerate(Ws):
        A = np.hstack([h, np.ones((N, 1))]) @ np.asarray(W, dtype=float).T
        pres.append(A)
        if k == len(Ws) - 1:
            return signs, pres, A, ok
        if k == 0:
            ok = not ((A < 0) & (A > -delta)).any()
        h = np.where(A >= 0, 1.0, -1.0)
        signs.append(h)
    raise ValueError("Ws must hold at least one layer")  # pragma: no cover


def fitted_points(S, y_idx) -> np.ndarray:
    """Points whose true class wins every other class's score by at least 1."""
    S = np.asarray(S, dtype=float)
    N = S.shape[0]
    y = np.asarray(y_idx)
    G = S[np.arange(N), y][:, None] - S
    G[np.arange(N), y] = np.inf
    return G.min(axis=1) >= 1 - 1e-9


def bnn_network_values(parts, X, y_idx, Ws, delta: float):
    r"""Values of every variable of :func:`binarized_network_program`'s program for the ternary
    network ``Ws`` (sorted by :func:`sort_units` first). Returns ``(values, n_errors)``, or
    None when the network is not a point of the program (a first-layer pre-activation in
    :math:`(-\delta, 0)`, or errors where the program allows none)."""
    Ws = sort_units(Ws)
    signs, pres, S, ok = bnn_forward(X, Ws, delta)
    if not ok:
        return None
    v = {}
    for k, W in enumerate(Ws):
        wp, wn = parts["weights"][k]
        v[wp.name] = (W > 0) * 1.0
        v[wn.name] = (W < 0) * 1.0
        if k > 0:
            nin = W.shape[1] - 1
            v[f"c{k + 1}"] = W[None, :, :nin] * signs[k - 1][:, None, :]
    for k, H in enumerate(signs):
        v[parts["u"][k].name] = (H > 0) * 1.0
        if parts["margins"]:
            dl = delta if k == 0 else 1.0
            A = pres[k]
            m = parts["margins"][k]
            marg = np.where(H > 0, A, -A - dl).min(axis=0)
            v[m.name] = np.clip(marg, 0.0, m.ub)
    err = ~fitted_points(S, y_idx)
    if parts["errors"] is not None:
        v[parts["errors"].name] = err * 1.0
    elif err.any():
        return None
    return v, int(err.sum())


@dataclass(eq=False)
class BNNTrainingProblem(StructuredProblem):
    """One binarized-network training instance, kind ``"bnn_training"``.

    Its program is :func:`binarized_network_program`; the solvers ``"bnn-hybrid"`` and
    ``"bnn-mip"`` (:mod:`optml.algorithms.nn_train`) start from a gradient-trained network
    (``heuristic_start``) and solve its sub-programs with ``sub_backend`` / ``sub_solver``.
    """

    kind: ClassVar[str] = "bnn_training"
    default_solver: ClassVar[str | None] = "bnn-hybrid"

    X: np.ndarray
    y_idx: np.ndarray
    n_classes: int
    sizes: tuple
    objective: str = "min_weight"
    allow_errors: bool = False
    delta: float = 1e-3
    heuristic_start: bool = True
    symmetry: bool = True
    seed: int = 0
    sub_backend: str = "auto"
    sub_solver: str | None = None
    #: gradient-trained candidates of the start (MLP seeds ``seed, seed + 1, ...``)
    n_starts: int = 3

    def __post_init__(self):
        self.sense = -1 if self.objective == "max_margin" else 1

    def build_program(self) -> Program:
        prog, _ = binarized_network_program(
            self.X,
            self.y_idx,
            self.n_classes,
            self.sizes,
            self.objective,
            self.allow_errors,
            delta=self.delta,
            symmetry=self.symmetry,
        )
        prog.metadata["delta"] = self.delta
        return prog

    @property
    def parts(self):
        return self.program.metadata["parts"]

    def network_values(self, Ws, parts=None):
        """:func:`bnn_network_values` on this instance's data (``parts`` of another program of
        the same data, e.g. the feasibility program, when given)."""
        return bnn_network_values(
            self.parts if parts is None else parts, self.X, self.y_idx, Ws, self.delta
        )

    def weights_of(self, values, parts=None):
        """The ternary weight matrices (n_out, n_in + 1) of a point of the program."""
        parts = self.parts if parts is None else parts
        return [np.rint(values[wp.name] - values[wn.name]) for wp, wn in parts["weights"]]


def relu_output_program(G, y_idx, n_classes, loss="hinge", weight_bound=1.0, margin=1e-3):
    r"""The output layer of :func:`relu_training_program` for fixed hidden outputs ``G`` (N, H):
    signs :math:`\sigma` (two classes) or ternary directions :math:`t` and the bias ``c``
    minimising the loss (the re-optimisation step of ``"relu-mip"``'s start; linear in the
    unknowns, a small MILP). Returns ``(program, parts)`` with ``"sign"`` or ``"t"``."""
    G = np.asarray(G, dtype=float)
    N, H = G.shape
    B = float(weight_bound)
    prog = Program("relu_output_layer")
    parts = {}
    Mi = B * H * G.max(axis=1, initial=0.0) + B
    if n_classes == 2:
        s = prog.var("sign", shape=H, domain="binary")
        c = prog.var("c", lb=-B, ub=B)
        f = B * (G @ (2 * s - 1)) + c
        yy = np.where(np.asarray(y_idx) == 1, 1.0, -1.0)
        parts.update(sign=s, c=c)
        _loss(prog, yy * f, loss, N, margin + Mi, margin, parts)
        return prog, parts
    tp, tn, T = _ternary(prog, "t", (n_classes, H))
    c = prog.var("c", shape=n_classes, lb=-B, ub=B)
    f = B * (G @ T.T) + c.reshape(1, n_classes).broadcast_to((N, n_classes))
    parts.update(t=(tp, tn), c=c)
    ii, kk = _class_rows(y_idx, n_classes)
    diff = _pick(f, ii, np.asarray(y_idx)[ii], n_classes) - _pick(f, ii, kk, n_classes)
    if loss == "hinge":
        xi = prog.var("hinge", shape=N, lb=0.0)
        prog.add(xi[ii] >= 1 - diff, name="hinge")
        prog.minimize(xi.sum())
    else:
        e = prog.var("errors", shape=N, domain="binary")
        prog.add(diff >= margin - (margin + 2 * Mi[ii]) * e[ii], name="zero_one")
        prog.minimize(e.sum())
    return prog, parts


def relu_fixed_pattern_program(
    X, y_idx, n_classes, active, out, loss="hinge", weight_bound=1.0, margin=1e-3
):
    r"""The hidden layer of :func:`relu_training_program` with every activation pattern and
    the output signs / directions ``out`` fixed: with :math:`u` known,
    :math:`\max(0, a_{ij}) = u_{ij} a_{ij}` and :math:`a_{ij} \ge 0` (active) or
    :math:`\le 0` (inactive) are linear, so the hinge loss is an LP (the zero-one loss a MILP
    with one binary per point). The polishing step of ``"relu-mip"``: its optimum is never
    worse than the network the pattern came from. Returns ``(program, parts)``."""
    X = np.asarray(X, dtype=float)
    U = np.asarray(active, dtype=float)
    out = np.asarray(out, dtype=float)
    N, p0 = X.shape
    H = U.shape[1]
    B = float(weight_bound)
    prog = Program("relu_fixed_pattern")
    W = prog.var("W", shape=(H, p0), lb=-B, ub=B)
    b = prog.var("b", shape=H, lb=-B, ub=B)
    a = X @ W.T + b.reshape(1, H).broadcast_to((N, H))
    on, off = np.nonzero(U > 0.5), np.nonzero(U <= 0.5)
    flat = a.flatten()
    if on[0].size:
        prog.add(flat[on[0] * H + on[1]] >= 0, name="active")
    if off[0].size:
        prog.add(flat[off[0] * H + off[1]] <= 0, name="inactive")
    g = a * U
    M = B * (np.abs(X).sum(axis=1) + 1.0)
    parts = {"W": W, "b": b}
    if n_classes == 2:
        c = prog.var("c", lb=-B, ub=B)
        f = B * (g @ out) + c
        yy = np.where(np.asarray(y_idx) == 1, 1.0, -1.0)
        parts["c"] = c
        _loss(prog, yy * f, loss, N, margin + B * H * M + B, margin, parts)
        return prog, parts
    c = prog.var("c", shape=n_classes, lb=-B, ub=B)
    f = B * (g @ out.T) + c.reshape(1, n_classes).broadcast_to((N, n_classes))
    parts["c"] = c
    ii, kk = _class_rows(y_idx, n_classes)
    diff = _pick(f, ii, np.asarray(y_idx)[ii], n_classes) - _pick(f, ii, kk, n_classes)
    if loss == "hinge":
        xi = prog.var("hinge", shape=N, lb=0.0)
        prog.add(xi[ii] >= 1 - diff, name="hinge")
        prog.minimize(xi.sum())
    else:
        e = prog.var("errors", shape=N, domain="binary")
        prog.add(diff >= margin - (margin + 2 * (B * H * M[ii] + B)) * e[ii], name="zero_one")
        prog.minimize(e.sum())
    return prog, parts


def relu_network_values(parts, X, y_idx, n_classes, W, b, out, c, loss, weight_bound, margin):
    """Values of every variable of :func:`relu_training_program`'s program for the network
    ``(W (H, p), b (H,), out, c)`` with ``out`` the signs (H,) in {-1, 1} for two classes or
    the ternary directions (K, H) otherwise; units are put in the program's symmetry order.
    Returns ``(values, loss)``."""
    X = np.asarray(X, dtype=float)
    W, b, c = np.asarray(W, float), np.asarray(b, float), np.atleast_1d(np.asarray(c, float))
    out = np.asarray(out, dtype=float)
    B = float(weight_bound)
    y = np.asarray(y_idx)
    N = X.shape[0]
    if n_classes == 2:
        order = np.lexsort((-b, -out))  # sign +1 first, then non-increasing bias
    else:
        order = np.argsort(-b, kind="stable")
    W, b = W[order], b[order]
    out = out[order] if n_classes == 2 else out[:, order]
    A = X @ W.T + b
    G = np.maximum(A, 0.0)
    v = {"W": W, "b": b, "u": (A > 0) * 1.0, "g": G}
    if n_classes == 2:
        v["sign"] = (out > 0) * 1.0
        v["c"] = c.reshape(())
        Q = G * out[None, :]
        v["q"] = Q
        F = B * Q.sum(axis=1) + c[0]
        yf = np.where(y == 1, 1.0, -1.0) * F
        worst = yf
    else:
        v["c"] = c
        tp, tn = parts["t"]
        v[tp.name] = (out > 0) * 1.0
        v[tn.name] = (out < 0) * 1.0
        v["rp"] = (out > 0)[None, :, :] * G[:, None, :]
        v["rn"] = (out < 0)[None, :, :] * G[:, None, :]
        F = B * (G @ out.T) + c[None, :]
        D = F[np.arange(N), y][:, None] - F
        D[np.arange(N), y] = np.inf
        worst = D.min(axis=1)
    if loss == "hinge":
        v["hinge"] = np.maximum(0.0, 1.0 - worst)
        total = float(v["hinge"].sum())
    else:
        v["errors"] = (worst < margin) * 1.0
        total = float(v["errors"].sum())
    return v, total


@dataclass(eq=False)
class ReLUTrainingProblem(StructuredProblem):
    """One bounded-weight ReLU training instance, kind ``"relu_training"``: its program is
    :func:`relu_training_program`; the solver ``"relu-mip"`` starts it from a projected
    gradient-trained MLP (``heuristic_start``) and solves with ``sub_backend`` /
    ``sub_solver``."""

    kind: ClassVar[str] = "relu_training"
    default_solver: ClassVar[str | None] = "relu-mip"

    X: np.ndarray
    y_idx: np.ndarray
    n_classes: int
    n_hidden: int
    loss: str = "hinge"
    weight_bound: float = 1.0
    margin: float = 1e-3
    heuristic_start: bool = True
    seed: int = 0
    sub_backend: str = "auto"
    sub_solver: str | None = None

    def build_program(self) -> Program:
        prog, _ = relu_training_program(
            self.X,
            self.y_idx,
            self.n_classes,
            self.n_hidden,
            self.loss,
            self.weight_bound,
            self.margin,
        )
        prog.metadata["y_idx"] = self.y_idx
        return prog

    def network_values(self, W, b, out, c):
        """:func:`relu_network_values` on this instance."""
        return relu_network_values(
            self.program.metadata["parts"],
            self.X,
            self.y_idx,
            self.n_classes,
            W,
            b,
            out,
            c,
            self.loss,
            self.weight_bound,
            self.margin,
        )
