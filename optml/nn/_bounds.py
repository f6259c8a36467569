r"""Bounds on the pre-activations of a ReLU network over an input set.

Interval arithmetic (exact for the first layer over a box) propagates

.. math::

    L_k = W_k^+ \max(L_{k-1}, 0) + W_k^- \max(U_{k-1}, 0) + b_k, \qquad
    U_k = W_k^+ \max(U_{k-1}, 0) + W_k^- \max(L_{k-1}, 0) + b_k.

Bound tightening (Fischetti and Jo, 2018) then goes layer by layer: for each neuron of layer
:math:`k` that is still unstable (:math:`L < 0 < U`) it maximises (and, where still unstable,
minimises) :math:`a_{kj}` over the LP relaxation (``method="lp"``) or the MILP
(``method="milp"``) of layers :math:`1..k-1` with the bounds found so far. The bound kept is the
solver's certified bound (optml's Lagrangian bound for an LP, the MIP dual bound for a MILP),
widened by a small tolerance, so tightening never cuts off a feasible point.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from optml._validation import check_choice
from optml.nn._solve import call_settings, solve_inside

logger = logging.getLogger("optml")

METHODS = ("interval", "lp", "milp")
#: relative gap of a tightening MILP when the caller gives none (its dual bound is kept)
MILP_GAP = 1e-4


@dataclass(eq=False)
class Bounds:
    """Pre-activation bounds of every layer and what computing them cost.

    Attributes
    ----------
    bounds : list of (L, U)
        One pair per layer (the last is the output layer).
    method : str
    n_unstable_interval : int
        Hidden neurons with ``L < 0 < U`` under interval arithmetic (binaries without tightening).
    n_unstable : int
        The same after tightening: the binaries the MILP will have.
    n_solves : int
        LPs / MILPs solved by tightening.
    time : float
        Seconds spent.
    """

    bounds: list
    method: str
    n_unstable_interval: int
    n_unstable: int
    n_solves: int = 0
    time: float = 0.0
    per_layer: list = field(default_factory=list)

    @property
    def binaries_removed(self) -> int:
        """Binaries tightening removed compared with interval arithmetic."""
        return self.n_unstable_interval - self.n_unstable

    def __iter__(self):
        return iter(self.bounds)

    def __getitem__(self, k):
        return self.bounds[k]

    def __len__(self):
        return len(self.bounds)


def _count_unstable(bounds) -> int:
    return int(sum(((L < 0) & (U > 0)).sum() for L, U in bounds[:-1]))


def interval_bounds(weights, biases, lb, ub, first=None) -> list:
    """Interval-arithmetic bounds of every layer's pre-activation for ``lb <= x <= ub``.

    ``first`` replaces the first layer's bounds (e.g. the exact bounds over an L1 ball).
    """
    lo, hi = np.asarray(lb, dtype=float), np.asarray(ub, dtype=float)
    out = []
    for k, (W, b) in enumerate(zip(weights, biases, strict=True)):
        Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
        L = Wp @ lo + Wn @ hi + b
        U = Wp @ hi + Wn @ lo + b
        if k == 0 and first is not None:
            L, U = np.maximum(L, first[0]), np.minimum(U, first[1])
        out.append((L, U))
        lo, hi = np.maximum(L, 0), np.maximum(U, 0)
    return out


def _propagate(weights, biases, bounds, start: int) -> None:
    """Recompute bounds of layers ``start..`` from layer ``start - 1``, keeping the tighter."""
    for k in range(start, len(weights)):
        lo, hi = np.maximum(bounds[k - 1][0], 0), np.maximum(bounds[k - 1][1], 0)
        W, b = weights[k], biases[k]
        Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
        L = Wp @ lo + Wn @ hi + b
        U = Wp @ hi + Wn @ lo + b
        bounds[k] = (np.maximum(L, bounds[k][0]), np.minimum(U, bounds[k][1]))


def l1_first_layer(W, b, center, epsilon, lb, ub):
    r"""Exact bounds of :math:`Wx + b` over :math:`\{x: \|x - c\|_1 \le \epsilon, lb \le x \le ub\}`.

    Each bound is a fractional knapsack: spend the budget :math:`\epsilon` on the inputs with
    the largest :math:`|w_i|`, each up to its room in the box.
    """
    c = np.asarray(center, dtype=float)
    base = W @ c + b
    out = []
    for sgn in (1.0, -1.0):  # maximise sgn * (W d)
        Ws = sgn * W
        room = np.where(Ws > 0, ub - c, c - lb)  # how far each input may move usefully
        gain = np.abs(Ws)
        order = np.argsort(-gain, axis=1)
        g = np.take_along_axis(gain, order, axis=1)
        r = np.take_along_axis(room, order, axis=1)
        r = np.where(g > 0, r, 0.0)
        before = np.cumsum(r, axis=1) - r
        take = np.clip(epsilon - before, 0.0, r)
        out.append(base + sgn * (g * take).sum(axis=1))
    return out[1], out[0]


def compute_bounds(
    weights,
    biases,
    lb,
    ub,
    method: str = "lp",
    *,
    norm: str | None = None,
    center=None,
    epsilon: float | None = None,
    formulation: str = "bigm",
    backend: str = "auto",
    solver: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    solver_options: dict | None = None,
    settings=None,
) -> Bounds:
    """Bounds of every pre-activation over the box ``[lb, ub]`` (intersected with an L1 ball).

    Parameters
    ----------
    weights, biases : list of arrays
    lb, ub : arrays
        The input box (for an L-inf ball, pass the ball intersected with the domain box).
    method : {"interval", "lp", "milp"}
        Interval arithmetic only, or tightened with LP / MILP bounds layer by layer.
    norm, center, epsilon : optional
        ``norm="1"`` adds the ball ``||x - center||_1 <= epsilon`` to the input set.
    backend, solver : str
        Where the tightening LPs / MILPs are solved.
    time_limit : float, optional
        Seconds for all tightening solves together (one clock). When it runs out, the neurons
        not yet tightened keep their interval bounds (still valid, only looser).
    mip_gap : float, optional
        Relative gap of each tightening MILP (``method="milp"``; default 1e-4). The bound kept
        is the MILP's proven dual bound, valid whatever the gap.
    solver_options : dict, optional
        Passed to every tightening solve (``threads`` and ``seed`` as settings, other keys raw).
    settings : SolveSettings, optional
        The settings of a caller (its clock, gap, threads, options); replaces ``time_limit``,
        ``mip_gap`` and ``solver_options``.
    """
    check_choice("bounds", method, METHODS)
    t0 = time.perf_counter()
    settings = call_settings(
        settings, time_limit=time_limit, mip_gap=mip_gap, solver_options=solver_options
    )
    lb = np.asarray(lb, dtype=float)
    ub = np.asarray(ub, dtype=float)
    first = None
    if norm == "1":
        first = l1_first_layer(weights[0], biases[0], center, float(epsilon), lb, ub)
    bounds = interval_bounds(weights, biases, lb, ub, first=first)
    n_ia = _count_unstable(bounds)
    n_solves = 0
    if method != "interval":
        for k in range(1, len(weights) - 1):
            if settings.expired():
                logger.info("bound tightening: time limit reached at layer %d", k)
                break
            n_solves += _tighten_layer(
                weights,
                biases,
                lb,
                ub,
                bounds,
                k,
                method,
                norm,
                center,
                epsilon,
                formulation,
                backend,
                solver,
                settings,
            )
            _propagate(weights, biases, bounds, k + 1)
    per_layer = [int(((L < 0) & (U > 0)).sum()) for L, U in bounds[:-1]]
    return Bounds(
        bounds=bounds,
        method=method,
        n_unstable_interval=n_ia,
        n_unstable=sum(per_layer),
        n_solves=n_solves,
        time=time.perf_counter() - t0,
        per_layer=per_layer,
    )


def input_program(lb, ub, norm=None, center=None, epsilon=None, name="x"):
    """A Program with the input variable ``x`` in the box (and the L1 ball when ``norm="1"``)."""
    from optml.formulations.relu import add_norm_ball
    from optml.program import Program

    p = Program("relu_network")
    x = p.var(name, shape=np.size(lb), lb=lb, ub=ub)
    if norm == "1":
        add_norm_ball(p, x, center, epsilon, "1", name=f"{name}_ball")
    return p, x


def _tighten_layer(
    weights,
    biases,
    lb,
    ub,
    bounds,
    k,
    method,
    norm,
    center,
    epsilon,
    formulation,
    backend,
    solver,
    settings,
) -> int:
    from optml.formulations.relu import add_relu_network

    L, U = bounds[k]
    todo = np.flatnonzero((L < 0) & (U > 0))  # only unstable neurons can lose a binary
    if todo.size == 0:
        return 0
    p, x = input_program(lb, ub, norm, center, epsilon)
    enc = add_relu_network(
        p,
        weights,
        biases,
        x,
        bounds,
        input_bounds=(lb, ub),
        formulation=formulation,
        relax=(method == "lp"),
        n_layers=k + 1,
    )
    a = enc.output
    n = 0
    changes = {}
    if method == "milp" and settings.mip_gap is None:
        changes["mip_gap"] = MILP_GAP
    for j in todo:
        for sense in ("max", "min"):
            if sense == "min" and not (L[j] < 0 < U[j]):
                continue
            if settings.expired():  # the rest keep their (valid) interval bounds
                bounds[k] = (L, U)
                return n
            if sense == "max":
                p.maximize(a[j])
            else:
                p.minimize(a[j])
            res = solve_inside(p, backend, solver, settings, **changes)
            n += 1
            val = _certified(res)
            if val is None:
                continue
            tol = 1e-6 * (1.0 + abs(val))
            if sense == "max":
                U[j] = min(U[j], val + tol)
            else:
                L[j] = max(L[j], val - tol)
    bounds[k] = (L, U)
    return n


def _certified(res):
    """A valid bound from a solve: the certified bound, or ``None`` when there is none."""
    if res.status not in ("optimal", "time_limit"):
        return None
    b = res.bound
    if b is None or not np.isfinite(b):
        return None
    return float(b)
