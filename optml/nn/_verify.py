r"""Robustness verification of ReLU classifiers by MILP (Tjeng, Xiao and Tedrake, 2019).

For an input :math:`x_0` of class :math:`\ell`, a radius :math:`\epsilon` and a norm
:math:`p \in \{\infty, 1\}`, the network is robust when no input of the ball changes the class:

.. math::

    \max_{j \ne \ell}\ \max_{x \in B}\ f_j(x) - f_\ell(x) < 0, \qquad
    B = \{x : \|x - x_0\|_p \le \epsilon,\ lb \le x \le ub\}.

The decision runs cheapest first and stops early: the clean prediction, a numpy attack
(Frank–Wolfe / PGD steps on the margin), interval or LP bounds on each margin, and only then one
feasibility MILP over the classes left open (the network written with
:mod:`optml.formulations.relu`, a binary :math:`s_j` picking the class,
:math:`s_j = 1 \Rightarrow f_j - f_\ell \ge \tau`), which stops at the first point found;
an infeasible MILP proves every open class unreachable. ``mode="margin"`` maximises the
margin to optimality instead.

Every counterexample is re-checked by a numpy forward pass (inside the ball and the box,
misclassified) before it is reported; a solver point that fails this check is never returned.
"""

from __future__ import annotations

import logging
import numbers
import time
from dataclasses import dataclass, field

import numpy as np

from optml._validation import check_bool, check_choice, check_int, check_nonneg, check_positive
from optml.nn._network import ReLUNetwork
from optml.nn._solve import solve_inside

logger = logging.getLogger("optml")

NORMS = {
    "inf": "inf",
    np.inf: "inf",
    "linf": "inf",
    "1": "1",
    1: "1",
    "l1": "1",
    "2": "2",
    2: "2",
    "l2": "2",
}


@dataclass(eq=False)
class RobustnessResult:
    """What :func:`verify_robustness` found.

    Attributes
    ----------
    robust : bool or None
        True: proven robust. False: a counterexample (checked by a forward pass) exists.
        None: undecided (time limit, or a solver point that failed the numpy check).
    counterexample : ndarray or None
        A misclassified input in the ball, verified by a numpy forward pass.
    margin : float
        The largest :math:`f_j(x) - f_\\ell(x)` seen at a verified point (a lower bound on the
        worst case; positive for a counterexample).
    margin_bound : float
        A proven upper bound on the worst-case margin (negative when robust; ``0.0`` when the
        proof was an infeasible "margin >= 0" MILP; exact with ``mode="margin"``). Always
        finite, next to a counterexample too: interval arithmetic bounds every class's margin,
        and the MILPs tighten it.
    result : Result or None
        The last MILP's certified :class:`~optml.program.Result` (from optml's one certificate
        factory); None when no MILP was needed. ``results`` maps each group of classes to its
        MILP's result.
    """

    robust: bool | None
    counterexample: np.ndarray | None
    margin: float
    margin_bound: float
    result: object = None
    target: int | None = None
    decided_by: str = ""
    program: object = None
    status: str = ""
    epsilon: float = 0.0
    norm: str = "inf"
    n_milps: int = 0
    n_binaries: int = 0
    bounds: object = None
    results: dict = field(default_factory=dict)
    time: float = 0.0
    message: str = ""

    def summary(self) -> str:
        verdict = {True: "robust", False: "NOT robust", None: "undecided"}[self.robust]
        lines = [
            f"verdict       {verdict} (decided by {self.decided_by})",
            f"ball          L{self.norm} radius {self.epsilon:g}",
            f"margin        {self.margin:.6g} (seen)   bound {self.margin_bound:.6g} (proven)",
            f"MILPs         {self.n_milps} with {self.n_binaries} binaries each at most",
            f"time          {self.time:.3f} s",
        ]
        if self.counterexample is not None:
            lines.append(f"counterexample class {self.target}, checked by a forward pass")
        if self.message:
            lines.append(f"message       {self.message}")
        return "\n".join(lines)


def _norm(norm) -> str:
    key = norm.lower() if isinstance(norm, str) else norm
    if key not in NORMS:
        raise ValueError(f"norm must be 'inf', '1' or '2', got {norm!r}")
    return NORMS[key]


def _dist(d, norm) -> float:
    d = np.asarray(d, dtype=float).ravel()
    if norm == "inf":
        return float(np.abs(d).max(initial=0.0))
    if norm == "1":
        return float(np.abs(d).sum())
    return float(np.linalg.norm(d))


def _ball_bounds(net, lo, hi, norm, x0, eps, method="interval", **kw):
    """Pre-activation bounds over the ball: the box ``[lo, hi]`` (which contains it) for
    L-inf and L2, plus the exact first layer over an L2 ball (``W x0 + b +- eps ||W_r||_2``,
    kept where tighter) propagated onward; L1 as :func:`compute_bounds` does it."""
    from optml.nn._bounds import _propagate, compute_bounds

    if norm != "2":
        return compute_bounds(
            net.weights, net.biases, lo, hi, method=method, norm=norm, center=x0, epsilon=eps, **kw
        )
    bnd = compute_bounds(net.weights, net.biases, lo, hi, method=method, **kw)
    W, b = net.weights[0], net.biases[0]
    r = eps * np.linalg.norm(W, axis=1)
    L0, U0 = bnd.bounds[0]
    bnd.bounds[0] = (np.maximum(L0, W @ x0 + b - r), np.minimum(U0, W @ x0 + b + r))
    _propagate(net.weights, net.biases, bnd.bounds, 1)
    bnd.per_layer = [int(((L < 0) & (U > 0)).sum()) for L, U in bnd.bounds[:-1]]
    bnd.n_unstable = sum(bnd.per_layer)
    return bnd


def _label_index(net: ReLUNetwork, label, n_classes: int) -> int:
    if net.classes is not None:
        hit = np.flatnonzero(net.classes == label)
        if hit.size:
            return int(hit[0])
        raise ValueError(f"label {label!r} is not one of the network's classes {list(net.classes)}")
    if not isinstance(label, numbers.Integral) or not 0 <= int(label) < n_classes:
        raise ValueError(f"label must be an output index in [0, {n_classes}), got {label!r}")
    return int(label)


def _score_net(net: ReLUNetwork) -> ReLUNetwork:
    """A network whose outputs are class scores (a single logit f becomes scores (0, f))."""
    if net.n_outputs > 1:
        return net
    W = [*net.weights[:-1], np.vstack([np.zeros_like(net.weights[-1]), net.weights[-1]])]
    b = [*net.biases[:-1], np.concatenate([[0.0], net.biases[-1]])]
    return ReLUNetwork(W, b, classes=net.classes)


def _check_ball(net, x0, epsilon, lb, ub):
    x0 = np.asarray(x0, dtype=float).ravel()
    if x0.size != net.n_inputs:
        raise ValueError(f"x0 has {x0.size} entries, the network takes {net.n_inputs} inputs")
    if not np.isfinite(x0).all():
        raise ValueError("x0 contains NaN or inf")
    check_nonneg("epsilon", epsilon)
    n = x0.size
    lo = np.broadcast_to(np.asarray(-np.inf if lb is None else lb, dtype=float), (n,)).copy()
    hi = np.broadcast_to(np.asarray(np.inf if ub is None else ub, dtype=float), (n,)).copy()
    if (lo > hi).any():
        i = int(np.flatnonzero(lo > hi)[0])
        raise ValueError(f"lb > ub at input {i} ({lo[i]} > {hi[i]}); pass lb <= ub")
    if ((x0 < lo - 1e-12) | (x0 > hi + 1e-12)).any():
        raise ValueError("x0 lies outside the box [lb, ub]")
    return x0, lo, hi


def _in_ball(x, x0, eps, norm, lo, hi, tol=1e-9) -> bool:
    dist = _dist(x - x0, norm)
    return bool(dist <= eps * (1 + 1e-9) + tol and (x >= lo - tol).all() and (x <= hi + tol).all())


def _repair(x, x0, eps, norm, lo, hi):
    """Project a solver point (off by round-off) back into the ball and the box."""
    x = np.clip(x, lo, hi)
    d = x - x0
    if norm == "inf":
        d = np.clip(d, -eps, eps)
    else:
        s = _dist(d, norm)
        if s > eps and s > 0:
            d = d * (eps / s)
    return np.clip(x0 + d, lo, hi)  # clipping to a box that holds x0 only shrinks |d_j|


def _margins(net, X, label):
    F = net.forward(np.atleast_2d(X))
    other = np.delete(F, label, axis=1)
    return (other.max(axis=1) - F[:, label]), F


def _grad(net, X, c):
    """Gradient of ``c @ f(x)`` for each row of ``X`` (numpy back-propagation)."""
    H = X
    masks = []
    for k, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        A = H @ W.T + b
        if k < len(net.weights) - 1:
            masks.append(A > 0)
            H = np.maximum(A, 0)
    G = np.broadcast_to(c, (X.shape[0], c.size)).copy()
    for k in range(len(net.weights) - 1, -1, -1):
        G = G @ net.weights[k]
        if k > 0:
            G = G * masks[k - 1]
    return G


def _lmo(g, x0, eps, norm, lo, hi):
    """argmax of g . x over the ball intersected with the box (rows of g)."""
    up = np.minimum(hi - x0, eps)
    dn = np.maximum(lo - x0, -eps)
    if norm == "inf":
        return x0 + np.where(g > 0, up, dn)
    if norm == "2":  # the ball's maximiser, clipped to the box (an attack step, not exact)
        nrm = np.linalg.norm(g, axis=1, keepdims=True)
        d = eps * g / np.where(nrm > 0, nrm, 1.0)
        return x0 + np.clip(d, dn, up)
    room = np.where(g > 0, up, -dn)
    order = np.argsort(-np.abs(g), axis=1)
    r = np.take_along_axis(room, order, axis=1)
    r = np.where(np.take_along_axis(np.abs(g), order, axis=1) > 0, r, 0.0)
    take = np.clip(eps - (np.cumsum(r, axis=1) - r), 0.0, r)
    d = np.zeros_like(g)
    np.put_along_axis(d, order, take, axis=1)
    return x0 + np.sign(g) * d


def attack(net, x0, label, eps, norm, lo, hi, steps=30, restarts=8, random_state=0, targets=None):
    """A numpy attack on every target class: Frank–Wolfe steps from random starts in the ball.

    Returns ``(best_x, best_margin)``; the margin is computed by a forward pass.
    """
    rng = np.random.default_rng(random_state)
    n_out = net.n_outputs
    best_x, best_m = x0.copy(), float(_margins(net, x0, label)[0][0])
    if eps == 0:
        return best_x, best_m
    ball = (x0, eps, norm, lo, hi)

    def margin(P):
        return _margins(net, P, label)[0]

    for j in range(n_out) if targets is None else targets:
        if j == label:
            continue
        c = np.zeros(n_out)
        c[j], c[label] = 1.0, -1.0
        best_x, best_m = _frank_wolfe(
            net, c, margin, (best_x, best_m), ball, steps, restarts, rng, stop=0.0
        )
        if best_m > 0:
            return best_x, best_m
    return best_x, best_m


def _frank_wolfe(net, c, value, best, ball, steps, restarts, rng, stop=None):
    """Frank–Wolfe steps along the gradient of ``c @ f(x)`` over ``ball`` (``(x0, eps, norm,
    lo, hi)``: the norm ball intersected with the box), from ``restarts`` random starts (``x0``
    the first), scoring every point by ``value(points)``: the best ``(x, value)`` seen,
    ``best`` included; stops once the best value exceeds ``stop``."""
    best_x, best_v = best
    x0 = ball[0]
    X = _lmo(rng.normal(size=(restarts, x0.size)), *ball)
    X = x0 + rng.random((restarts, 1)) * (X - x0)
    X[0] = x0
    for t in range(steps):
        V = _lmo(_grad(net, X, c), *ball)
        cand = np.vstack([X, V])
        vals = value(cand)
        i = int(np.argmax(vals))
        if vals[i] > best_v:
            best_v, best_x = float(vals[i]), cand[i].copy()
        if stop is not None and best_v > stop:
            break
        X = X + (2.0 / (t + 2)) * (V - X)
    return best_x, best_v


def _margin_ia(net, bnd, label, lo, hi, both=False):
    """Interval bounds of f_j - f_label for each j (from the last hidden layer's bounds)."""
    W, b = net.weights[-1], net.biases[-1]
    if len(net.weights) == 1:
        hl, hu = lo, hi
    else:
        hl, hu = np.maximum(bnd[-2][0], 0), np.maximum(bnd[-2][1], 0)
    C = W - W[label]
    d = b - b[label]
    upper = np.maximum(C, 0) @ hu + np.minimum(C, 0) @ hl + d
    if not both:
        return upper
    return upper, np.maximum(C, 0) @ hl + np.minimum(C, 0) @ hu + d


def verify_robustness(
    net: ReLUNetwork,
    x0,
    label,
    epsilon: float,
    norm="inf",
    lb=None,
    ub=None,
    *,
    bounds: str = "interval",
    formulation: str = "bigm",
    mode: str = "decide",
    attack_steps: int = 20,
    joint: bool = True,
    relaxation: bool = True,
    backend: str = "auto",
    solver: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = 1e-6,
    verbose: bool = False,
    solver_options: dict | None = None,
    random_state=0,
) -> RobustnessResult:
    r"""Decide whether every input within ``epsilon`` of ``x0`` keeps the class ``label``.

    Parameters
    ----------
    net : ReLUNetwork
        A classifier: class ``j`` scores ``f_j`` (one output: scores ``(0, f)``).
    x0 : array of shape (n_inputs,)
    label : class label (in ``net.classes``) or output index
    epsilon : float >= 0
    norm : {"inf", "1", "2"}
        L2 balls make the program a mixed-integer second-order cone program (SCIP by default).
    lb, ub : float or array, optional
        The input domain (e.g. 0 and 1 for images); the ball is intersected with it.
    bounds : {"interval", "lp", "milp"}
        Neuron bounds for the MILP (see :func:`optml.nn.compute_bounds`).
    formulation : {"bigm", "partition"}
    mode : {"decide", "margin"}
        "decide" stops as early as possible; "margin" solves every MILP to optimality so that
        ``margin_bound`` is the exact worst-case margin.
    attack_steps : int
        Steps of the numpy attack run first (0 to skip it).
    joint : bool
        One MILP over all classes the bounds leave open (a binary picks the class) instead of
        one MILP per class.
    relaxation : bool, default True
        L2 only: before the MISOCP (SCIP), bound each open class by the continuous relaxation
        (an SOCP, Clarabel); classes whose bound is negative are proven robust without
        binaries.
    backend, solver : str
    time_limit : float, optional
        Seconds for the whole verification (bound tightening and every MILP share one clock);
        running out leaves the verdict undecided (``robust=None``).
    mip_gap : float, default=1e-6
        Relative gap of the MILPs. The default is tight because ``mode="margin"`` reports the
        exact worst-case margin; the verdict itself rests on proven bounds whatever the gap.
    verbose : bool
    solver_options : dict, optional
        Passed to every solve (``threads`` and ``seed`` as settings, other keys raw).

    Returns
    -------
    RobustnessResult
        ``result`` (and ``results``) hold the certified :class:`~optml.program.Result` of the
        MILPs solved.
    """
    from optml.nn._solve import call_settings

    t0 = time.perf_counter()
    settings = call_settings(
        time_limit=time_limit, mip_gap=mip_gap, verbose=verbose, solver_options=solver_options
    )
    norm = _norm(norm)
    check_choice("mode", mode, ("decide", "margin"))
    attack_steps = check_int("attack_steps", attack_steps, minimum=0)
    joint = check_bool("joint", joint)
    relaxation = check_bool("relaxation", relaxation)
    if not isinstance(net, ReLUNetwork):
        raise TypeError(f"net must be a ReLUNetwork (see ReLUNetwork.from_sklearn), got {net!r}")
    x0, dlo, dhi = _check_ball(net, x0, epsilon, lb, ub)
    snet = _score_net(net)
    lab = _label_index(net, label, snet.n_outputs)
    eps = float(epsilon)
    out = RobustnessResult(None, None, -np.inf, np.inf, epsilon=eps, norm=norm)

    def done(**kw):
        for k, v in kw.items():
            setattr(out, k, v)
        out.time = time.perf_counter() - t0
        if verbose:
            logger.info(
                "verify_robustness: %s by %s (margin %.6g seen, bound %.6g proven, %.3f s)",
                out.status,
                out.decided_by,
                out.margin,
                out.margin_bound,
                out.time,
            )
        return out

    m0 = float(_margins(snet, x0, lab)[0][0])
    out.margin = m0
    lo, hi = np.maximum(dlo, x0 - eps), np.minimum(dhi, x0 + eps)
    if int(np.argmax(snet.forward(x0))) != lab:
        ia = _ball_bounds(snet, lo, hi, norm, x0, eps)
        ub_ia = _margin_ia(snet, ia, lab, lo, hi)
        ub_ia[lab] = -np.inf
        return done(
            robust=False,
            counterexample=x0.copy(),
            margin_bound=float(ub_ia.max()),
            decided_by="clean prediction",
            status="counterexample",
            target=int(np.argmax(snet.forward(x0))),
        )
    bnd = _ball_bounds(
        snet,
        lo,
        hi,
        norm,
        x0,
        eps,
        method=bounds,
        formulation=formulation,
        backend=backend,
        solver=solver,
        settings=settings.replace(mip_gap=None),  # tightening MILPs keep their own gap
    )
    out.bounds = bnd
    out.n_binaries = bnd.n_unstable
    ub_m, lb_m = _margin_ia(snet, bnd, lab, lo, hi, both=True)
    ub_m[lab] = -np.inf
    exact = mode == "margin"  # the exact worst case needs every class in the MILP
    todo = [int(j) for j in np.argsort(-ub_m) if j != lab and (exact or ub_m[j] >= 0)]
    # proven upper bounds on each class's margin: interval arithmetic, tightened by the MILPs
    proven = ub_m.copy()
    if not todo:
        return done(
            robust=True, margin_bound=float(ub_m.max()), decided_by="bounds", status="robust"
        )
    if attack_steps > 0 and eps > 0 and not exact:  # only on the classes still open
        xa, ma = attack(
            snet,
            x0,
            lab,
            eps,
            norm,
            lo,
            hi,
            steps=attack_steps,
            random_state=random_state,
            targets=todo,
        )
        out.margin = max(out.margin, ma)
        if _verified_cex(snet, xa, x0, eps, norm, lo, hi, lab):
            return done(
                robust=False,
                counterexample=xa,
                margin=ma,
                margin_bound=float(proven.max()),
                decided_by="attack",
                status="counterexample",
                target=int(np.argmax(snet.forward(xa))),
            )

    def margin_milp(js, mode_, relax=False):
        return _margin_milp(
            snet,
            x0,
            lab,
            js,
            eps,
            norm,
            lo,
            hi,
            bnd,
            formulation,
            mode_,
            backend,
            solver,
            ub_m,
            lb_m,
            settings,
            relax=relax,
        )

    if norm == "2" and relaxation and not exact:
        # the MISOCP's continuous relaxation (z in [0, 1]: an SOCP) bounds each open class's
        # worst margin from above; a negative bound closes the class without binaries
        still = []
        for j in todo:
            res, _, _ = margin_milp([j], "margin", relax=True)
            out.results[("socp", j)] = res
            ubj = res.bound if res.bound is not None and np.isfinite(res.bound) else None
            if ubj is None and res.status == "optimal":
                ubj = res.objective
            if ubj is not None:
                proven[j] = min(proven[j], ubj)
            if ubj is None or ubj >= 0:
                still.append(j)
        todo = still
        if not todo:
            return done(
                robust=True,
                margin_bound=float(proven.max()),
                decided_by="socp relaxation",
                status="robust",
            )
    groups = [todo] if joint else [[j] for j in todo]
    undecided = []
    for js in groups:
        res, xj, out.program = margin_milp(js, mode)
        out.n_milps += 1
        out.result = res
        out.results[tuple(js)] = res
        # margin mode maximises the margin: the MILP's proven bound holds for these classes
        if exact and res.bound is not None and np.isfinite(res.bound):
            proven[js] = np.minimum(proven[js], res.bound)
        if xj is not None:
            mj = float(_margins(snet, xj, lab)[0][0])
            out.margin = max(out.margin, mj)
            if _verified_cex(snet, xj, x0, eps, norm, lo, hi, lab):
                return done(
                    robust=False,
                    counterexample=xj,
                    decided_by="milp",
                    margin_bound=float(proven.max()),
                    target=int(np.argmax(snet.forward(xj))),
                    status="counterexample",
                )
        if res.status == "infeasible":
            proven[js] = 0.0
        elif not (res.status == "optimal" and exact and np.isfinite(res.bound) and res.bound < 0):
            undecided += js
    mb = float(proven.max())
    if undecided:
        return done(
            robust=None,
            margin_bound=mb,
            decided_by="milp",
            status="undecided",
            message=f"classes {undecided} not decided (time limit, or a solver point "
            "with margin ~0 that failed the numpy check)",
        )
    return done(robust=True, margin_bound=mb, decided_by="milp", status="robust")


def _verified_cex(net, x, x0, eps, norm, lo, hi, lab) -> bool:
    if x is None or not _in_ball(x, x0, eps, norm, lo, hi):
        return False
    return int(np.argmax(net.forward(x))) != lab


def _ball_program(net, x0, eps, norm, lo, hi, bnd, formulation, relax=False):
    """A program over the inputs of the ball (intersected with the box ``[lo, hi]``) with the
    network encoded on neuron bounds ``bnd``: ``(program, x, encoding)``."""
    from optml.formulations.relu import add_relu_network
    from optml.nn._bounds import input_program

    p, x = input_program(lo, hi, norm, x0, eps)
    if norm == "2":  # the Euclidean ball: one second-order cone (a MISOCP with the binaries)
        import optml.program as om

        p.add(om.norm2(x - x0) <= eps, name="x_ball")
    enc = add_relu_network(
        p,
        net.weights,
        net.biases,
        x,
        bnd.bounds,
        input_bounds=(lo, hi),
        formulation=formulation,
        relax=relax,
    )
    return p, x, enc


def _margin_milp(
    net,
    x0,
    lab,
    js,
    eps,
    norm,
    lo,
    hi,
    bnd,
    formulation,
    mode,
    backend,
    solver,
    ub_m,
    lb_m,
    settings,
    relax=False,
):
    r"""``max t`` with ``t <= f_j - f_lab`` for the selected class ``j`` of ``js``.

    One binary :math:`s_j` per class, :math:`\sum_j s_j = 1`,
    :math:`t \le f_j - f_\ell + (T - L_j)(1 - s_j)` with :math:`T = \max_j U_j` and
    :math:`[L_j, U_j]` interval bounds on the margin; a single class needs no binary. In decide
    mode :math:`t \ge 0` as well. Returns ``(result, x or None, program)``.
    """
    p, x, enc = _ball_program(net, x0, eps, norm, lo, hi, bnd, formulation, relax=relax)
    js = list(js)
    scale = 1.0 + float(np.abs(net.forward(x0)).max())
    tau = 1e-6 * scale  # a counterexample must win clearly, so that numpy agrees
    if mode == "decide":
        # feasibility: s_j = 1 => f_j - f_lab >= tau (big-M from the interval bound L_j)
        if len(js) == 1:
            p.add(enc.output[js[0]] - enc.output[lab] >= tau, name="misclassified")
        else:
            s = p.var("target", shape=len(js), domain="binary")
            p.add(s.sum() == 1, name="one_target")
            C = np.zeros((len(js), net.n_outputs))
            C[np.arange(len(js)), js] = 1.0
            C[:, lab] -= 1.0
            L = np.asarray([lb_m[j] for j in js])
            p.add(C @ enc.output >= tau * s + L * (1 - s), name="target")
    else:
        T = float(max(ub_m[j] for j in js))
        if len(js) == 1:
            t = enc.output[js[0]] - enc.output[lab]
        else:
            t = p.var("margin", lb=float(min(lb_m[j] for j in js)), ub=T)
            s = p.var("target", shape=len(js), domain="binary")
            p.add(s.sum() == 1, name="one_target")
            for r, j in enumerate(js):
                p.add(
                    t <= enc.output[j] - enc.output[lab] + (T - lb_m[j]) * (1 - s[r]),
                    name=f"target_{j}",
                )
        p.maximize(t)
    res = solve_inside(p, backend, solver, settings)
    if not res.has_solution:
        return res, None, p
    return res, _repair(np.asarray(res.values["x"], dtype=float), x0, eps, norm, lo, hi), p


@dataclass(eq=False)
class MinimalPerturbation:
    """What :func:`minimal_perturbation` found: ``epsilon`` and a verified ``counterexample``."""

    epsilon: float
    bound: float
    counterexample: np.ndarray | None
    target: int | None
    verified: bool
    result: object = None
    n_binaries: int = 0
    time: float = 0.0


def minimal_perturbation(
    net: ReLUNetwork,
    x0,
    label,
    norm="inf",
    lb=None,
    ub=None,
    *,
    max_epsilon=None,
    bounds: str = "interval",
    formulation: str = "bigm",
    backend="auto",
    solver=None,
    time_limit=None,
    mip_gap: float | None = 1e-6,
    verbose: bool = False,
    solver_options: dict | None = None,
    tolerance: float = 1e-5,
) -> MinimalPerturbation:
    r"""The smallest :math:`\epsilon` for which the ball around ``x0`` holds a misclassified input.

    One MILP: :math:`\min \epsilon` over :math:`\|x - x_0\|_p \le \epsilon`, the network's
    constraints, and a binary :math:`s_j` per other class with
    :math:`\sum_j s_j = 1`, :math:`s_j = 1 \Rightarrow f_j(x) - f_\ell(x) \ge \tau` (``tolerance``,
    so that the counterexample survives the numpy check). Neuron bounds are computed over the
    ball of radius ``max_epsilon`` (default: the whole box ``[lb, ub]``, which must be finite).
    ``bound`` is the proven lower bound on the minimal radius.

    ``time_limit`` covers the whole call (bounds and the MILP, one clock); ``mip_gap``
    (default 1e-6, tight because ``epsilon`` should be the minimal radius) and
    ``solver_options`` (``threads``/``seed`` as settings, other keys raw) reach every solve.
    ``result`` is the certified :class:`~optml.program.Result` of the MILP.
    """
    from optml.formulations.relu import add_norm_ball, add_relu_network
    from optml.nn._bounds import compute_bounds
    from optml.nn._solve import call_settings
    from optml.program import Program

    t0 = time.perf_counter()
    settings = call_settings(
        time_limit=time_limit, mip_gap=mip_gap, verbose=verbose, solver_options=solver_options
    )
    tolerance = check_positive("tolerance", tolerance)
    norm = _norm(norm)
    if norm == "2":
        raise ValueError(
            "minimal_perturbation takes norm 'inf' or '1'; for L2 balls call "
            "verify_robustness(..., norm='2') at the radii of interest"
        )
    snet = _score_net(net)
    x0, dlo, dhi = _check_ball(net, x0, 0.0, lb, ub)
    lab = _label_index(net, label, snet.n_outputs)
    if max_epsilon is None:
        if not (np.isfinite(dlo).all() and np.isfinite(dhi).all()):
            raise ValueError("give finite lb and ub, or max_epsilon, to bound the search")
        far = np.maximum(x0 - dlo, dhi - x0)
        max_epsilon = float(far.max() if norm == "inf" else far.sum())
        # an attack on growing balls gives a (verified) upper bound: smaller ball, fewer binaries
        for r in max_epsilon * 2.0 ** -np.arange(10, 0, -1):
            lo_r, hi_r = np.maximum(dlo, x0 - r), np.minimum(dhi, x0 + r)
            xa, ma = attack(snet, x0, lab, r, norm, lo_r, hi_r)
            if ma > tolerance and _verified_cex(snet, xa, x0, r, norm, lo_r, hi_r, lab):
                d = np.abs(xa - x0)
                max_epsilon = float(d.max() if norm == "inf" else d.sum()) * (1 + 1e-9) + 1e-12
                break
    E = check_positive("max_epsilon", max_epsilon)
    lo, hi = np.maximum(dlo, x0 - E), np.minimum(dhi, x0 + E)
    bnd = compute_bounds(
        snet.weights,
        snet.biases,
        lo,
        hi,
        method=bounds,
        norm=norm,
        center=x0,
        epsilon=E,
        formulation=formulation,
        backend=backend,
        solver=solver,
        settings=settings.replace(mip_gap=None),  # tightening MILPs keep their own gap
    )
    p = Program("minimal_perturbation")
    x = p.var("x", shape=x0.size, lb=lo, ub=hi)
    e = p.var("epsilon", lb=0.0, ub=E)
    add_norm_ball(p, x, x0, e, norm)
    if norm == "1":
        add_norm_ball(p, x, x0, E, norm, name="outer")
    enc = add_relu_network(
        p, snet.weights, snet.biases, x, bnd.bounds, input_bounds=(lo, hi), formulation=formulation
    )
    others = [j for j in range(snet.n_outputs) if j != lab]
    s = p.var("target", shape=len(others), domain="binary")
    p.add(s.sum() == 1, name="one_target")
    for r, j in enumerate(others):
        m = enc.output[j] - enc.output[lab]
        p.add_indicator(s[r], m >= tolerance, active=1, name=f"reach_{j}")
    p.minimize(e)
    res = solve_inside(p, backend, solver, settings)
    if not res.has_solution:
        return MinimalPerturbation(
            np.inf, res.bound, None, None, False, res, bnd.n_unstable, time.perf_counter() - t0
        )
    xs = np.asarray(res.values["x"], dtype=float)
    d = xs - x0
    eps_x = float(np.abs(d).max() if norm == "inf" else np.abs(d).sum())
    xs = _repair(xs, x0, max(eps_x, 0.0), norm, lo, hi)
    tgt = int(np.argmax(snet.forward(xs)))
    ok = tgt != lab
    return MinimalPerturbation(
        epsilon=eps_x,
        bound=float(res.bound),
        counterexample=xs if ok else None,
        target=tgt if ok else None,
        verified=ok,
        result=res,
        n_binaries=bnd.n_unstable,
        time=time.perf_counter() - t0,
    )


# ------------------------------------------------------------------ linear output specs
@dataclass(eq=False)
class SpecificationResult:
    r"""What :func:`verify_specification` found for :math:`C f(x) \le d` on the ball.

    Attributes
    ----------
    holds : bool or None
        True: proven for every input of the ball. False: a counterexample (checked by a numpy
        forward pass) violates a row. None: undecided (time limit).
    counterexample : ndarray or None
    row : int or None
        The violated row of ``C``.
    violation : float
        The largest :math:`(C f(x) - d)_r` seen at a checked point (positive: violated).
    violation_bound : ndarray
        Per row, a proven upper bound on :math:`\max_x (C f(x) - d)_r` over the ball.
    """

    holds: bool | None
    counterexample: np.ndarray | None
    row: int | None
    violation: float
    violation_bound: np.ndarray
    decided_by: str = ""
    results: dict = field(default_factory=dict)
    epsilon: float = 0.0
    norm: str = "inf"
    time: float = 0.0


def _spec_attack(net, c, x0, eps, norm, lo, hi, steps=30, restarts=6, random_state=0):
    """Frank–Wolfe ascent of ``c @ f(x)`` over the ball (numpy): ``(x, value)``."""
    rng = np.random.default_rng(random_state)
    best_x, best_v = x0.copy(), float(net.forward(x0[None])[0] @ c)
    if eps == 0:
        return best_x, best_v
    ball = (x0, eps, norm, lo, hi)
    best = (best_x, best_v)
    return _frank_wolfe(net, c, lambda P: net.forward(P) @ c, best, ball, steps, restarts, rng)


def verify_specification(
    net: ReLUNetwork,
    x0,
    epsilon: float,
    C,
    d=None,
    norm="inf",
    lb=None,
    ub=None,
    *,
    bounds: str = "interval",
    formulation: str = "bigm",
    attack_steps: int = 20,
    backend: str = "auto",
    solver: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = 1e-6,
    verbose: bool = False,
    solver_options: dict | None = None,
    random_state=0,
) -> SpecificationResult:
    r"""Decide a linear output specification :math:`C f(x) \le d` for every :math:`x` of the
    ball :math:`\|x - x_0\|_p \le \epsilon` (intersected with ``[lb, ub]``).

    Each row :math:`r` is a property (targeted robustness "class a must not beat class b" is
    :math:`C = e_a - e_b`, :math:`d = 0`; see :func:`verify_targeted`). Rows are decided
    cheapest first: interval bounds of :math:`C_r f` through the last layer, a numpy attack,
    then one MILP (L2: MISOCP) per open row maximising :math:`C_r f(x) - d_r`, whose proven
    bound is kept in ``violation_bound``. A row counts as violated when a point, checked by a
    numpy forward pass, exceeds :math:`d_r` by more than round-off (``1e-6`` relative).
    """
    from optml.nn._solve import call_settings

    t0 = time.perf_counter()
    settings = call_settings(
        time_limit=time_limit, mip_gap=mip_gap, verbose=verbose, solver_options=solver_options
    )
    norm = _norm(norm)
    attack_steps = check_int("attack_steps", attack_steps, minimum=0)
    if not isinstance(net, ReLUNetwork):
        raise TypeError(f"net must be a ReLUNetwork (see ReLUNetwork.from_sklearn), got {net!r}")
    x0, dlo, dhi = _check_ball(net, x0, epsilon, lb, ub)
    C = np.atleast_2d(np.asarray(C, dtype=float))
    if C.shape[1] != net.n_outputs:
        raise ValueError(
            f"C must have one column per network output ({net.n_outputs}), got shape {C.shape}"
        )
    d = np.zeros(C.shape[0]) if d is None else np.broadcast_to(np.asarray(d, float), C.shape[:1])
    if not (np.isfinite(C).all() and np.isfinite(d).all()):
        raise ValueError("C and d must be finite")
    eps = float(epsilon)
    lo, hi = np.maximum(dlo, x0 - eps), np.minimum(dhi, x0 + eps)
    scale = 1.0 + float(np.abs(net.forward(x0[None])).max()) * float(np.abs(C).sum(1).max())
    tau = 1e-6 * scale
    out = SpecificationResult(None, None, None, -np.inf, np.full(C.shape[0], np.inf))
    out.epsilon, out.norm = eps, norm

    def done(**kw):
        for k, v in kw.items():
            setattr(out, k, v)
        out.time = time.perf_counter() - t0
        return out

    def checked(x, r) -> bool:
        return (
            _in_ball(x, x0, eps, norm, lo, hi)
            and float(net.forward(x[None])[0] @ C[r] - d[r]) > tau
        )

    v0 = net.forward(x0[None])[0] @ C.T - d
    out.violation = float(v0.max())
    bnd = _ball_bounds(
        net,
        lo,
        hi,
        norm,
        x0,
        eps,
        method=bounds,
        formulation=formulation,
        backend=backend,
        solver=solver,
        settings=settings.replace(mip_gap=None),
    )
    # interval bound of C f through the last layer (tighter than combining output intervals)
    W, b = net.weights[-1], net.biases[-1]
    if len(net.weights) == 1:
        hl, hu = lo, hi
    else:
        hl, hu = np.maximum(bnd.bounds[-2][0], 0), np.maximum(bnd.bounds[-2][1], 0)
    Wc, bc = C @ W, C @ b - d
    out.violation_bound = np.maximum(Wc, 0) @ hu + np.minimum(Wc, 0) @ hl + bc
    r0 = int(np.argmax(v0))
    if v0[r0] > tau:
        return done(holds=False, counterexample=x0.copy(), row=r0, decided_by="clean input")
    todo = [int(r) for r in np.argsort(-out.violation_bound) if out.violation_bound[r] > 0]
    if not todo:
        return done(holds=True, decided_by="bounds")
    if attack_steps > 0 and eps > 0:
        for r in todo:
            xa, va = _spec_attack(
                net, C[r], x0, eps, norm, lo, hi, steps=attack_steps, random_state=random_state
            )
            out.violation = max(out.violation, va - d[r])
            if checked(xa, r):
                return done(holds=False, counterexample=xa, row=r, decided_by="attack")
    undecided = False
    for r in todo:
        p, _, enc = _ball_program(net, x0, eps, norm, lo, hi, bnd, formulation)
        p.maximize(C[r] @ enc.output - d[r])
        res = solve_inside(p, backend, solver, settings)
        out.results[r] = res
        if res.bound is not None and np.isfinite(res.bound):
            out.violation_bound[r] = min(out.violation_bound[r], res.bound)
        if res.has_solution:
            xr = _repair(np.asarray(res.values["x"], dtype=float), x0, eps, norm, lo, hi)
            out.violation = max(out.violation, float(net.forward(xr[None])[0] @ C[r] - d[r]))
            if checked(xr, r):
                return done(holds=False, counterexample=xr, row=r, decided_by="milp")
        if not (res.status == "optimal" and out.violation_bound[r] <= tau):
            undecided = undecided or out.violation_bound[r] > tau
    if undecided:
        return done(holds=None, decided_by="milp (time limit or tie)")
    return done(holds=True, decided_by="milp")


def verify_targeted(net: ReLUNetwork, x0, epsilon: float, a, b, norm="inf", lb=None, ub=None, **kw):
    r"""Decide that class ``a`` never beats class ``b`` on the ball: :math:`f_a(x) \le f_b(x)`
    for every input (a targeted specification; :func:`verify_specification` with
    :math:`C = e_a - e_b`). ``a`` and ``b`` are labels in ``net.classes`` or output indices."""
    snet = _score_net(net)
    ia = _label_index(net, a, snet.n_outputs)
    ib = _label_index(net, b, snet.n_outputs)
    if ia == ib:
        raise ValueError(f"a and b must be different classes, got {a!r} twice")
    C = np.zeros((1, snet.n_outputs))
    C[0, ia], C[0, ib] = 1.0, -1.0
    return verify_specification(snet, x0, epsilon, C, 0.0, norm=norm, lb=lb, ub=ub, **kw)
