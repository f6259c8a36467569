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

import numpy as np
import scipy.sparse as sp

from optml.program import Program, as_expression


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
):
    """The BNN training MILP (see the module docstring). Returns ``(program, parts)``; ``parts``
    (the handles of the weights, signs, margins and error binaries) is also
    ``program.metadata["parts"]``."""
    X = np.asarray(X, dtype=float)
    N, p0 = X.shape
    sizes = [p0, *hidden_layer_sizes, n_classes]
    prog = Program("binarized_network")
    parts = {"weights": [], "u": [], "margins": [], "errors": None}
    Xa = np.hstack([X, np.ones((N, 1))])
    M1 = np.abs(Xa).sum(axis=1, keepdims=True)  # (N, 1)
    n_prev = None
    weight_terms = []
    for k in range(1, len(sizes)):
        nk, nin = sizes[k], sizes[k - 1]
        wp, wn, W = _ternary(prog, f"w{k}", (nk, nin + 1))
        parts["weights"].append((wp, wn))
        weight_terms.append(wp.sum() + wn.sum())
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
            m = prog.var(f"margin{k}", shape=nk, lb=0.0, ub=float(M.max()))
            parts["margins"].append(m)
            mb = m.reshape(1, nk).broadcast_to((N, nk))
            Mm = M + float(M.max())
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
        raise ValueError(f"objective must be 'min_weight' or 'max_margin', got {objective!r}")
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
        Mf = margin + B * H * float(M.max()) + B
        _loss(prog, yf, loss, N, Mf, margin, parts)
        prog.metadata["parts"] = parts
        return prog, parts
    tp, tn, T = _ternary(prog, "t", (n_classes, H))
    c = prog.var("c", shape=n_classes, lb=-B, ub=B)
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
    Mf = margin + 2 * (B * H * float(M.max()) + B)
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


def output_layer_program(H, y_idx, n_classes: int):
    """Ternary output weights for fixed hidden signs ``H`` (N, n_hidden) that fit every point.

    The second stage of :class:`~optml.nn.BinarizedNeuralNetwork`'s warm start: a small MILP,
    ``min sum(w+ + w-)`` s.t. ``s_{i y_i} - s_{ik} >= 1``. Returns ``(program, (wp, wn))``.
    """
    H = np.asarray(H, dtype=float)
    N, h = H.shape
    prog = Program("bnn_output_layer")
    wp, wn, W = _ternary(prog, "w", (n_classes, h + 1))
    S = np.hstack([H, np.ones((N, 1))]) @ W.T
    ii, kk = _class_rows(y_idx, n_classes)
    prog.add(_pick(S, ii, np.asarray(y_idx)[ii], n_classes) - _pick(S, ii, kk, n_classes) >= 1)
    prog.minimize(wp.sum() + wn.sum())
    return prog, (wp, wn)
