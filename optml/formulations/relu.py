r"""ReLU networks as mixed-integer linear constraints (Fischetti and Jo, 2018).

A trained feed-forward network with weights :math:`W_k` and biases :math:`b_k` computes

.. math::

    a_k = W_k h_{k-1} + b_k, \qquad h_k = \max(0, a_k)\ (k < K), \qquad f(x) = a_K,
    \qquad h_0 = x.

Given valid bounds :math:`L \le a_{kj} \le U` on every pre-activation (from interval arithmetic
or bound tightening, see :mod:`optml.nn`), each neuron is one of

* **stably inactive** (:math:`U \le 0`): :math:`h_{kj} = 0`, no variable;
* **stably active** (:math:`L \ge 0`): :math:`h_{kj} = a_{kj}`, substituted, no variable;
* **unstable** (:math:`L < 0 < U`): a continuous :math:`y \in [0, U]` and a binary :math:`z`.

Big-M formulation (``formulation="bigm"``, Fischetti and Jo 2018; Tjeng et al. 2019):

.. math::

    y \ge a, \qquad y \le a - L (1 - z), \qquad y \le U z, \qquad y \ge 0,\ z \in \{0, 1\}.

Partition formulation (``formulation="partition"``, Kronqvist et al. 2021, between big-M and
the convex hull of Anderson et al. 2020): the inputs of the neuron are split into :math:`P`
groups, :math:`\sigma_p = \sum_{i \in p} w_i h_i \in [L_p, U_p]`, and with the "active part"
:math:`v_p`

.. math::

    y = \sum_p v_p + b z \ge 0, \quad \sum_p (\sigma_p - v_p) + b (1 - z) \le 0, \quad
    L_p z \le v_p \le U_p z, \quad L_p (1 - z) \le \sigma_p - v_p \le U_p (1 - z),

plus the big-M rows :math:`y \ge a`, :math:`y \le U z` (valid, and as strong as big-M's upper
envelope with the tightened :math:`U`). With one group per input it is the ideal (convex hull)
formulation of a single neuron over a box; with one group it is a big-M formulation.

``relax=True`` makes every :math:`z` continuous in :math:`[0, 1]`: the LP relaxation used for
LP bound tightening.

These functions are pure: weights, biases, bounds and an input expression in, variables and
constraints added to a :class:`~optml.program.Program`, an :class:`ReluEncoding` out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from optml._validation import check_choice, check_int
from optml.program import Expression, Program, as_expression

FORMULATIONS = ("bigm", "partition")


@dataclass(eq=False)
class LayerEncoding:
    """How one hidden layer was written: which neurons are unstable and their variables."""

    unstable: np.ndarray  # indices of neurons with a binary
    active: np.ndarray  # indices of stably active neurons
    inactive: np.ndarray  # indices of stably inactive neurons
    y: object = None  # Expression of the unstable neurons' outputs (len(unstable),)
    z: object = None  # Variable of binaries (len(unstable),)
    v: object = None  # partition: Variable (len(unstable), P)
    groups: list = field(
        default_factory=list
    )  # partition: per unstable neuron, list of index arrays


@dataclass(eq=False)
class ReluEncoding:
    """The result of :func:`add_relu_network`.

    Attributes
    ----------
    output : Expression
        The network's output (the last, linear layer), shape ``(n_outputs,)``.
    pre, post : list of Expression
        Pre-activations :math:`a_k` of every layer and outputs :math:`h_k` of the hidden ones.
    layers : list of LayerEncoding
        Unstable / active / inactive neurons and the variables of each hidden layer.
    """

    output: Expression
    pre: list
    post: list
    layers: list
    formulation: str
    relax: bool
    weights: list
    biases: list

    @property
    def n_binaries(self) -> int:
        return int(sum(len(layer.unstable) for layer in self.layers))

    @property
    def n_stable(self) -> int:
        return int(sum(len(la.active) + len(la.inactive) for la in self.layers))

    def values_at(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Values of every variable of the encoding when the input is ``x`` (a forward pass).

        Useful as a MIP warm start and to check the formulation: the point is feasible for
        the constraints whenever ``x`` lies in the box the bounds were computed for.
        """
        h = np.asarray(x, dtype=float).ravel()
        out: dict[str, np.ndarray] = {}
        for k, layer in enumerate(self.layers):
            a = self.weights[k] @ h + self.biases[k]
            hk = np.maximum(a, 0.0)
            u = layer.unstable
            if u.size:
                zval = (a[u] >= 0).astype(float)
                out[layer.z.name] = zval
                if layer.v is not None:
                    W = self.weights[k]
                    P = layer.v.shape[1]
                    vv = np.zeros((u.size, P))
                    for r, j in enumerate(u):
                        if zval[r] > 0:
                            for g, idx in enumerate(layer.groups[r]):
                                vv[r, g] = W[j, idx] @ h[idx]
                    out[layer.v.name] = vv
                else:
                    out[layer.y.name] = hk[u]
            h = hk
        return out


def _selector(n: int, idx: np.ndarray) -> sp.csr_matrix:
    """``n x len(idx)`` matrix putting entry r of a vector at row idx[r]."""
    return sp.csr_matrix(
        (np.ones(idx.size), (idx, np.arange(idx.size))), shape=(n, max(idx.size, 0))
    )


def add_relu_network(
    program: Program,
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    x,
    bounds: list[tuple[np.ndarray, np.ndarray]],
    *,
    input_bounds: tuple[np.ndarray, np.ndarray] | None = None,
    formulation: str = "bigm",
    n_partitions: int = 2,
    relax: bool = False,
    n_layers: int | None = None,
    name: str = "nn",
) -> ReluEncoding:
    r"""Add ``output == network(x)`` to ``program`` (see the module docstring for the rows).

    Parameters
    ----------
    program : Program
    weights, biases : list of arrays
        ``W_k`` of shape ``(n_k, n_{k-1})`` and ``b_k`` of shape ``(n_k,)``; ReLU after every
        layer but the last.
    x : Expression
        The input, shape ``(n_0,)``.
    bounds : list of (L, U)
        Valid bounds on the pre-activations of (at least) every hidden layer, for every ``x``
        the program allows. Wrong bounds cut off feasible points: compute them with
        :func:`optml.nn.compute_bounds`.
    input_bounds : (lo, hi), optional
        Bounds on ``x``; needed by ``formulation="partition"``.
    formulation : {"bigm", "partition"}
    n_partitions : int
        Groups per neuron for ``"partition"``.
    relax : bool
        Continuous :math:`z \in [0, 1]` (the LP relaxation).
    n_layers : int, optional
        Encode only the first ``n_layers`` layers (bound tightening uses this); ``output`` is
        then the pre-activation of layer ``n_layers``.
    name : str
        Prefix of the variable names.

    Returns
    -------
    ReluEncoding
    """
    check_choice("formulation", formulation, FORMULATIONS)
    n_partitions = check_int("n_partitions", n_partitions, minimum=1)
    K = len(weights) if n_layers is None else int(n_layers)
    h = as_expression(x).flatten()
    lo_in = hi_in = None
    if input_bounds is not None:
        lo_in = np.asarray(input_bounds[0], dtype=float).ravel()
        hi_in = np.asarray(input_bounds[1], dtype=float).ravel()
    elif formulation == "partition":
        raise ValueError("formulation='partition' needs input_bounds=(lo, hi) of x")
    pre, post, layers = [], [], []
    for k in range(K):
        W = np.asarray(weights[k], dtype=float)
        b = np.asarray(biases[k], dtype=float)
        a = W @ h + b
        pre.append(a)
        if k == len(weights) - 1 or k == K - 1:
            break
        L, U = (np.asarray(t, dtype=float) for t in bounds[k])
        n = W.shape[0]
        if not (np.isfinite(L).all() and np.isfinite(U).all()):
            raise ValueError(
                f"layer {k + 1}: pre-activation bounds must be finite for a big-M encoding; "
                "bound every input (finite lb and ub)"
            )
        act = np.flatnonzero(L >= 0)
        ina = np.flatnonzero((U <= 0) & (L < 0))
        uns = np.flatnonzero((L < 0) & (U > 0))
        layer = LayerEncoding(unstable=uns, active=act, inactive=ina)
        hk = _selector(n, act) @ a[act] if act.size else as_expression(np.zeros(n))
        if uns.size:
            dom = "continuous" if relax else "binary"
            z = program.var(f"{name}_z{k + 1}", shape=uns.size, lb=0, ub=1, domain=dom)
            au = a[uns]
            Lu, Uu = L[uns], U[uns]
            if formulation == "bigm":
                y = program.var(f"{name}_h{k + 1}", shape=uns.size, lb=0.0, ub=Uu)
                program.add(y >= au, name=f"{name}_relu{k + 1}_lo")
                program.add(y <= au - Lu * (1 - z), name=f"{name}_relu{k + 1}_bigm_a")
                program.add(y <= Uu * z, name=f"{name}_relu{k + 1}_bigm_z")
                yexp = y
            else:
                yexp, v, groups = _partition(
                    program, W[uns], b[uns], h, lo_in, hi_in, z, int(n_partitions), name, k + 1
                )
                program.add(yexp >= au, name=f"{name}_relu{k + 1}_lo")
                program.add(yexp <= Uu * z, name=f"{name}_relu{k + 1}_bigm_z")
                layer.v, layer.groups = v, groups
            layer.y, layer.z = yexp, z
            hk = hk + _selector(n, uns) @ yexp
        # bounds of h_k for the next layer's partition formulation
        lo_in, hi_in = np.maximum(L, 0.0), np.maximum(U, 0.0)
        lo_in[ina] = hi_in[ina] = 0.0
        h = hk
        post.append(hk)
        layers.append(layer)
    return ReluEncoding(
        output=pre[-1],
        pre=pre,
        post=post,
        layers=layers,
        formulation=formulation,
        relax=relax,
        weights=list(weights[:K]),
        biases=list(biases[:K]),
    )


def _partition(program, Wu, bu, h, lo, hi, z, P, name, k):
    """Rows of the partition formulation for the unstable neurons (rows of ``Wu``)."""
    m, n = Wu.shape
    P = max(1, min(P, n))
    rows, cols, vals = [], [], []
    Lp = np.zeros((m, P))
    Up = np.zeros((m, P))
    groups = []
    for r in range(m):
        w = Wu[r]
        order = np.argsort(w, kind="stable")  # equal-size groups of sorted weights
        parts = np.array_split(order, P)
        groups.append(parts)
        for g, idx in enumerate(parts):
            rows.extend([r * P + g] * idx.size)
            cols.extend(idx.tolist())
            vals.extend(w[idx].tolist())
            lo_t, hi_t = w[idx] * lo[idx], w[idx] * hi[idx]
            Lp[r, g] = np.minimum(lo_t, hi_t).sum()
            Up[r, g] = np.maximum(lo_t, hi_t).sum()
    S = sp.csr_matrix((vals, (rows, cols)), shape=(m * P, n))
    sigma = (S @ h).reshape(m, P)
    v = program.var(f"{name}_v{k}", shape=(m, P), lb=np.minimum(Lp, 0), ub=np.maximum(Up, 0))
    Z = _broadcast_cols(z, P)
    program.add(v >= Lp * Z, name=f"{name}_part{k}_v_lo")
    program.add(v <= Up * Z, name=f"{name}_part{k}_v_hi")
    rest = sigma - v
    program.add(rest >= Lp * (1 - Z), name=f"{name}_part{k}_r_lo")
    program.add(rest <= Up * (1 - Z), name=f"{name}_part{k}_r_hi")
    y = v.sum(axis=1) + bu * z
    program.add(y >= 0, name=f"{name}_part{k}_on")
    program.add(rest.sum(axis=1) + bu * (1 - z) <= 0, name=f"{name}_part{k}_off")
    return y, v, groups


def _broadcast_cols(z, P):
    """``(m,)`` expression to ``(m, P)`` by repeating each entry along the columns."""
    m = z.size
    idx = np.repeat(np.arange(m), P)
    M = sp.csr_matrix((np.ones(m * P), (np.arange(m * P), idx)), shape=(m * P, m))
    return (M @ z).reshape(m, P)


def expression_bounds(e: Expression) -> tuple[np.ndarray, np.ndarray]:
    """Interval bounds of an affine expression from its variables' bounds (may be infinite)."""
    e = as_expression(e).flatten()
    lo = e.const.copy()
    hi = e.const.copy()
    for v, A in e.terms.values():
        A = sp.csr_matrix(A)
        Ap, An = A.maximum(0), A.minimum(0)
        lo = lo + _mul(Ap, v.lb) + _mul(An, v.ub)
        hi = hi + _mul(Ap, v.ub) + _mul(An, v.lb)
    return lo, hi


def _mul(A, bound):
    b = np.where(np.isfinite(bound), bound, 0.0)
    out = A @ b
    for sgn in (1.0, -1.0):
        cols = np.flatnonzero(~np.isfinite(bound) & (np.sign(bound) == sgn))
        if cols.size:
            part = A[:, cols]
            pos = np.asarray((part > 0).sum(axis=1)).ravel() > 0
            neg = np.asarray((part < 0).sum(axis=1)).ravel() > 0
            out = np.where(pos, sgn * np.inf, out)
            out = np.where(neg, -sgn * np.inf, out)
    return out


def add_norm_ball(program: Program, x, center, epsilon, norm: str, name: str = "ball"):
    r"""Add :math:`\|x - c\|_p \le \epsilon` for ``norm`` "inf" or "1" (``epsilon`` may be a variable).

    L-inf: :math:`-\epsilon \le x - c \le \epsilon`. L1: :math:`-d \le x - c \le d`,
    :math:`\sum_i d_i \le \epsilon`, :math:`d \ge 0`.
    """
    x = as_expression(x).flatten()
    c = np.asarray(center, dtype=float).ravel()
    diff = x - c
    if norm == "inf":
        program.add(diff <= epsilon, name=f"{name}_hi")
        program.add(diff >= -1.0 * epsilon, name=f"{name}_lo")
        return None
    if norm == "1":
        d = program.var(f"{name}_d", shape=x.size, lb=0.0)
        program.add(diff <= d, name=f"{name}_hi")
        program.add(diff >= -1.0 * d, name=f"{name}_lo")
        program.add(d.sum() <= epsilon, name=f"{name}_budget")
        return d
    raise ValueError(f"norm must be 'inf' or '1', got {norm!r}")
