r"""Adversarial training of small ReLU networks by MILP-generated worst cases (a cutting-plane
view of Madry et al.'s min-max).

The robust training problem :math:`\min_\theta \sum_i \max_{\|\delta_i\| \le \epsilon}
\ell(f_\theta(x_i + \delta_i), y_i)` is approached as a cutting-plane loop: train the network
on the current set, attack the training points exactly, add every counterexample with its true
label, and retrain. The verified robust accuracy (the fraction of points proven robust) is
reported before and after, on the training points and on held-out points.

Each point is decided cheapest first, for all points of a round at once
(:func:`screen_robustness`):

1. the clean prediction (a wrong one is its own counterexample);
2. linear bounds on every class margin :math:`f_j - f_y` over the box that contains the ball
   (CROWN-style back-substitution through the ReLU relaxations, Zhang et al. 2018, with
   interval bounds where tighter): a negative upper bound on every margin proves the point
   robust without a MILP;
3. a batched projected-gradient attack (Madry et al. 2018) on the margin: a point it moves
   across the decision boundary, checked by a numpy forward pass, is a counterexample;
4. only the points still open go to the exact MILP (:func:`optml.nn.verify_robustness`), each
   with its time limit, all of a round's within ``round_time_limit``.

Every verdict is sound: "robust" rests on proven bounds (step 2 or the MILP), "not robust" on a
counterexample checked by a forward pass; a point left open is "undecided".
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from optml._validation import check_choice, check_int, check_nonneg
from optml.nn._network import ReLUNetwork
from optml.nn._verify import _label_index, _norm, _score_net, verify_robustness

logger = logging.getLogger("optml")


@dataclass(eq=False)
class AdversarialTrainingResult:
    """What :func:`adversarial_training` did.

    Attributes
    ----------
    model : MLPClassifier
        The network of the last round (trained on the data and every counterexample found).
    network : ReLUNetwork
        ``model`` as a :class:`ReLUNetwork`.
    history : list of dict
        Per round: ``round``, ``n_train`` (points trained on), ``robust`` / ``not_robust`` /
        ``undecided`` (verdicts on the attacked points), ``verified_accuracy`` (fraction proven
        robust and correct), ``added`` (counterexamples added), ``decided_by`` (how many
        verdicts came from the bounds, the attack, the MILP), ``time`` (wall seconds),
        ``cpu_time``, ``train_time``, ``verify_time``; and, with ``X_test``,
        ``test_verified_accuracy`` and ``test_accuracy``.
    X_adv, y_adv : arrays
        Every counterexample added (each checked by a forward pass of the round's network).
    """

    model: object
    network: ReLUNetwork
    history: list = field(default_factory=list)
    X_adv: np.ndarray | None = None
    y_adv: np.ndarray | None = None


# ---------------------------------------------------------------------------- bounds
def _relax(lo, hi):
    """CROWN's linear relaxation of ReLU on ``[lo, hi]`` (rows of a batch): upper slope and
    offset, lower slope (1 or 0, the tighter area)."""
    unstable = (lo < 0) & (hi > 0)
    su = np.where(hi <= 0, 0.0, 1.0)
    tu = np.zeros_like(lo)
    den = np.where(unstable, hi - lo, 1.0)
    su = np.where(unstable, hi / den, su)
    tu = np.where(unstable, -hi * lo / den, tu)
    sl = np.where(hi <= 0, 0.0, 1.0)
    sl = np.where(unstable, (hi > -lo).astype(float), sl)
    return su, tu, sl


def _back_upper(net, Lam, k, bounds, lo, hi):
    """Upper bounds of ``Lam @ z_k`` (``Lam`` of shape (B, m, n_k), ``z_k`` the pre-activation
    of layer ``k``, 0-based) over the input boxes ``[lo, hi]`` (B, n_0), by back-substitution
    through the relaxations of the layers below."""
    W, b = net.weights, net.biases
    A = Lam
    const = A @ b[k]
    A = A @ W[k]
    for j in range(k - 1, -1, -1):
        su, tu, sl = (x[:, None, :] for x in _relax(*bounds[j]))
        Ap, An = np.maximum(A, 0.0), np.minimum(A, 0.0)
        const = const + (Ap * tu).sum(axis=2)
        A = Ap * su + An * sl
        const = const + A @ b[j]
        A = A @ W[j]
    Ap, An = np.maximum(A, 0.0), np.minimum(A, 0.0)
    return const + np.einsum("bmi,bi->bm", Ap, hi) + np.einsum("bmi,bi->bm", An, lo)


def layer_bounds(net: ReLUNetwork, lo, hi):
    """Pre-activation bounds of every hidden layer over the input boxes ``[lo, hi]`` (rows of a
    batch): interval arithmetic and CROWN back-substitution, the tighter of the two per neuron.
    Returns a list of ``(lower, upper)`` arrays of shape (B, n_k), one per hidden layer."""
    lo, hi = np.atleast_2d(lo), np.atleast_2d(hi)
    W, b = net.weights, net.biases
    c, r = (lo + hi) / 2, (hi - lo) / 2
    bounds = [(c @ W[0].T + b[0] - r @ np.abs(W[0]).T, c @ W[0].T + b[0] + r @ np.abs(W[0]).T)]
    for k in range(1, len(W) - 1):
        pl, pu = np.maximum(bounds[-1][0], 0.0), np.maximum(bounds[-1][1], 0.0)
        pc, pr = (pl + pu) / 2, (pu - pl) / 2
        il = pc @ W[k].T + b[k] - pr @ np.abs(W[k]).T
        iu = pc @ W[k].T + b[k] + pr @ np.abs(W[k]).T
        eye = np.broadcast_to(np.eye(W[k].shape[0]), (lo.shape[0], *W[k].shape[:1] * 2))
        cu = _back_upper(net, eye, k, bounds, lo, hi)
        cl = -_back_upper(net, -eye, k, bounds, lo, hi)
        bounds.append((np.maximum(il, cl), np.minimum(iu, cu)))
    return bounds


def margin_upper_bounds(net: ReLUNetwork, lo, hi, labels) -> np.ndarray:
    r"""Proven upper bounds of :math:`f_j(x) - f_{y}(x)` over each input box (rows of ``lo``,
    ``hi``), for every output ``j`` (``-inf`` at the label's own index); ``labels`` are output
    indices. A row whose bounds are all negative keeps its class on the whole box."""
    lo, hi = np.atleast_2d(lo), np.atleast_2d(hi)
    labels = np.asarray(labels, dtype=int)
    B, n_out = lo.shape[0], net.n_outputs
    bounds = layer_bounds(net, lo, hi)
    Lam = np.broadcast_to(np.eye(n_out), (B, n_out, n_out)).copy()
    Lam[np.arange(B), :, labels] -= 1.0
    up = _back_upper(net, Lam, len(net.weights) - 1, bounds, lo, hi)
    # interval bound on the margin from the last hidden layer's bounds
    W, b = net.weights[-1], net.biases[-1]
    if len(net.weights) > 1:
        hl, hu = np.maximum(bounds[-1][0], 0.0), np.maximum(bounds[-1][1], 0.0)
    else:
        hl, hu = lo, hi
    Cm = W[None, :, :] - W[labels][:, None, :]
    d = b[None, :] - b[labels][:, None]
    ia = (
        np.einsum("bji,bi->bj", np.maximum(Cm, 0.0), hu)
        + np.einsum("bji,bi->bj", np.minimum(Cm, 0.0), hl)
        + d
    )
    up = np.minimum(up, ia)
    up[np.arange(B), labels] = -np.inf
    return up


# ---------------------------------------------------------------------------- attack
def _margins_grad(net, X, labels):
    """Margins ``max_{j != y} f_j - f_y`` of each row and their gradients in ``X``."""
    H, masks = X, []
    for k, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        A = H @ W.T + b
        if k < len(net.weights) - 1:
            masks.append(A > 0)
            H = np.maximum(A, 0.0)
    F = A
    B = X.shape[0]
    other = F.copy()
    other[np.arange(B), labels] = -np.inf
    j = np.argmax(other, axis=1)
    m = other[np.arange(B), j] - F[np.arange(B), labels]
    G = np.zeros_like(F)
    G[np.arange(B), j] = 1.0
    G[np.arange(B), labels] -= 1.0
    for k in range(len(net.weights) - 1, -1, -1):
        G = G @ net.weights[k]
        if k > 0:
            G = G * masks[k - 1]
    return m, G


def pgd_attack(net, X, labels, lo, hi, steps=40, restarts=2, random_state=0):
    """A batched L-inf projected-gradient attack on the margin ``max_{j != y} f_j - f_y``
    within the boxes ``[lo, hi]`` (rows). Returns ``(X_adv, margins)``: each row's best point
    (its margin > 0 means a counterexample, checked by the forward pass that computed it)."""
    rng = np.random.default_rng(random_state)
    X = np.atleast_2d(X)
    labels = np.asarray(labels, dtype=int)
    best_m, _ = _margins_grad(net, X, labels)
    best_x = X.copy()
    width = hi - lo
    for rst in range(restarts):
        Z = X.copy() if rst == 0 else lo + rng.random(X.shape) * width
        alpha = 2.5 * np.max(width, axis=1, keepdims=True) / (2 * steps) * 2
        for _t in range(steps):
            m, G = _margins_grad(net, Z, labels)
            better = m > best_m
            best_m = np.where(better, m, best_m)
            best_x[better] = Z[better]
            Z = np.clip(Z + alpha * np.sign(G), lo, hi)
        m, _ = _margins_grad(net, Z, labels)
        better = m > best_m
        best_m = np.where(better, m, best_m)
        best_x[better] = Z[better]
    return best_x, best_m


def _both_bounds(net, lo, hi, k, bounds):
    """(lower, upper) of layer ``k``'s pre-activations over one box (rows of a batch)."""
    n_k = net.weights[k].shape[0]
    eye = np.broadcast_to(np.eye(n_k), (lo.shape[0], n_k, n_k))
    return -_back_upper(net, -eye, k, bounds, lo, hi), _back_upper(net, eye, k, bounds, lo, hi)


def decide_exactly(
    net, x0, label, eps, lb=None, ub=None, *, time_limit=None, backend="auto", solver=None
):
    """The exact L-inf decision of one point by one MILP over the classes its bounds leave
    open, the ReLUs' big-M constants from the CROWN / interval bounds of :func:`layer_bounds`
    (tighter than interval arithmetic alone: fewer unstable neurons, a stronger relaxation).

    Returns ``(verdict, counterexample, result)``: True when the MILP proves no class can win
    (infeasible), False with a counterexample checked by a forward pass, None otherwise
    (time limit, or a solver point that failed the numpy check).
    """
    from optml.nn._bounds import Bounds
    from optml.nn._solve import call_settings
    from optml.nn._verify import _margin_milp, _verified_cex

    snet = _score_net(net)
    lab = _label_index(net, label, snet.n_outputs)
    x0 = np.asarray(x0, dtype=float).ravel()
    lo, hi = _boxes(x0[None, :], eps, lb, ub)
    hidden = layer_bounds(snet, lo, hi)
    out_l, out_u = _both_bounds(snet, lo, hi, len(snet.weights) - 1, hidden)
    up = margin_upper_bounds(snet, lo, hi, [lab])[0]
    n_out = snet.n_outputs
    Lam = np.broadcast_to(np.eye(n_out), (1, n_out, n_out)).copy()
    Lam[0, :, lab] -= 1.0
    low = -_back_upper(snet, -Lam, len(snet.weights) - 1, hidden, lo, hi)[0]
    js = [int(j) for j in np.argsort(-up) if j != lab and up[j] >= 0]
    if not js:
        return True, None, None
    pairs = [(L[0], U[0]) for L, U in hidden] + [(out_l[0], out_u[0])]
    unstable = int(sum(((L < 0) & (U > 0)).sum() for L, U in pairs[:-1]))
    bnd = Bounds(pairs, "crown", unstable, unstable)
    settings = call_settings(time_limit=time_limit, mip_gap=1e-6)
    res, xj, _ = _margin_milp(
        snet,
        x0,
        lab,
        js,
        float(eps),
        "inf",
        lo[0],
        hi[0],
        bnd,
        "bigm",
        "decide",
        backend,
        solver,
        up,
        low,
        settings,
    )
    if xj is not None and _verified_cex(snet, xj, x0, eps, "inf", lo[0], hi[0], lab):
        return False, xj, res
    if res.status == "infeasible":
        return True, None, res
    return None, None, res


# ---------------------------------------------------------------------------- verdicts
def _boxes(X, eps, lb, ub):
    n = X.shape[1]
    dlo = np.broadcast_to(np.asarray(-np.inf if lb is None else lb, dtype=float), (n,))
    dhi = np.broadcast_to(np.asarray(np.inf if ub is None else ub, dtype=float), (n,))
    return np.maximum(dlo, X - eps), np.minimum(dhi, X + eps)


def screen_robustness(
    net: ReLUNetwork,
    X,
    y,
    eps: float,
    norm="inf",
    lb=None,
    ub=None,
    *,
    attack_steps: int = 40,
    restarts: int = 2,
    random_state=0,
):
    """Cheap sound verdicts for many points at once (steps 1-3 of the module docstring).

    Returns ``(verdicts, counterexamples, decided_by)``: per row True (proven robust by the
    bounds), False (a counterexample, checked by a forward pass, in ``counterexamples``) or
    None (open: the exact MILP decides). The bounds hold on the box
    :math:`[x - \\epsilon, x + \\epsilon] \\cap [lb, ub]`, which contains the ball of every
    norm; the attack runs for the L-inf ball (the box itself) only.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    norm = _norm(norm)
    snet = _score_net(net)
    labels = np.array([_label_index(net, lab, snet.n_outputs) for lab in y], dtype=int)
    n = X.shape[0]
    verdicts = np.full(n, None, dtype=object)
    cex = [None] * n
    how = np.full(n, "", dtype=object)
    if n == 0:
        return verdicts, cex, how
    lo, hi = _boxes(X, eps, lb, ub)
    wrong = np.argmax(snet.forward(X), axis=1) != labels
    for i in np.flatnonzero(wrong):
        verdicts[i], cex[i], how[i] = False, X[i].copy(), "clean prediction"
    todo = np.flatnonzero(~wrong)
    if todo.size:
        up = margin_upper_bounds(snet, lo[todo], hi[todo], labels[todo])
        safe = up.max(axis=1) < 0
        for i in todo[safe]:
            verdicts[i], how[i] = True, "bounds"
        todo = todo[~safe]
    if todo.size and norm == "inf" and eps > 0 and attack_steps > 0:
        xa, m = pgd_attack(
            snet,
            X[todo],
            labels[todo],
            lo[todo],
            hi[todo],
            steps=attack_steps,
            restarts=restarts,
            random_state=random_state,
        )
        pred = np.argmax(snet.forward(xa), axis=1)
        inside = (np.abs(xa - X[todo]).max(axis=1) <= eps * (1 + 1e-9) + 1e-12) & np.all(
            (xa >= lo[todo] - 1e-12) & (xa <= hi[todo] + 1e-12), axis=1
        )
        for r, i in enumerate(todo):
            if pred[r] != labels[i] and inside[r]:
                verdicts[i], cex[i], how[i] = False, xa[r].copy(), "attack"
    return verdicts, cex, how


def verified_accuracy(
    net,
    X,
    y,
    eps,
    norm="inf",
    lb=None,
    ub=None,
    *,
    screen: bool = True,
    time_budget: float | None = None,
    stats: dict | None = None,
    **kw,
):
    """``(fraction proven robust, verdicts, counterexamples)`` over the rows of ``X``.

    With ``screen`` (default) the bounds and the batched attack of :func:`screen_robustness`
    decide what they can first; :func:`verify_robustness` (``**kw``: its options) decides the
    rest, within ``time_budget`` seconds in all (points left when it runs out are undecided).
    ``stats``, when given, receives the count of verdicts by ``bounds``, ``attack``, ``milp``.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y)
    n = X.shape[0]
    t0 = time.perf_counter()
    if screen and n:
        verdicts, cex, how = screen_robustness(
            net, X, y, eps, norm, lb, ub, random_state=kw.get("random_state", 0)
        )
        verdicts, how = list(verdicts), list(how)
    else:
        verdicts, cex, how = [None] * n, [None] * n, [""] * n
    for i in range(n):
        if verdicts[i] is not None:
            continue
        opts = dict(kw)
        if time_budget is not None:
            left = time_budget - (time.perf_counter() - t0)
            if left <= 0.05:
                how[i] = "budget"
                continue
            tl = opts.get("time_limit")
            opts["time_limit"] = left if tl is None else min(tl, left)
        if screen and norm == "inf" and set(opts) <= {"time_limit", "backend", "solver"}:
            # the points the bounds and the attack left: one MILP each with the tighter bounds
            v, c, _ = decide_exactly(net, X[i], y[i], eps, lb, ub, **opts)
            verdicts[i], cex[i], how[i] = v, c, "milp"
            continue
        r = verify_robustness(net, X[i], y[i], eps, norm=norm, lb=lb, ub=ub, **opts)
        verdicts[i] = r.robust
        cex[i] = r.counterexample if r.robust is False else None
        how[i] = "milp" if r.decided_by == "milp" else str(r.decided_by)
    if stats is not None:
        for key in ("bounds", "attack", "clean prediction", "milp", "budget"):
            stats[key] = sum(h == key for h in how)
        stats["other"] = n - sum(stats.values())
    acc = float(np.mean([v is True for v in verdicts])) if verdicts else float("nan")
    return acc, verdicts, cex


def adversarial_training(
    X,
    y,
    eps: float,
    *,
    norm="inf",
    lb=None,
    ub=None,
    hidden_layer_sizes=(16,),
    rounds: int = 3,
    n_attack: int | None = None,
    X_test=None,
    y_test=None,
    max_iter: int = 300,
    random_state=0,
    time_limit_per_point: float | None = 10.0,
    round_time_limit: float | None = None,
    augment: str = "counterexamples",
    epochs_per_round: int | None = None,
    screen: bool = True,
    test_every_round: bool = True,
    verify_kwargs: dict | None = None,
) -> AdversarialTrainingResult:
    """Train an sklearn ``MLPClassifier`` (ReLU) by MILP-generated adversarial examples.

    Parameters
    ----------
    X, y : training data
    eps : float >= 0
        Radius of the perturbation ball.
    norm : {"inf", "1", "2"}
    lb, ub : float or array, optional
        The input domain (e.g. 0 and 1 for pixels).
    hidden_layer_sizes : tuple
        Of the ``MLPClassifier`` (activation ReLU).
    rounds : int
        Attack-and-retrain rounds after the first fit (``rounds + 1`` verifications).
    n_attack : int, optional
        Attack only the first ``n_attack`` training points each round (default: all).
    X_test, y_test : optional
        Held-out points whose verified robust accuracy is reported.
    max_iter, random_state
        Of the ``MLPClassifier`` (``max_iter``: the first fit's epochs, and every round's when
        ``epochs_per_round`` is None).
    time_limit_per_point : float, optional
        Seconds per exact verification (undecided points are neither added nor counted
        robust).
    round_time_limit : float, optional
        Seconds for all exact verifications of a round's attacked training points (and as
        much again for the test points); points left when it runs out are undecided.
    augment : {"counterexamples", "pgd"}
        What each round adds to the training set: the counterexamples of the attacked points
        (exact MILP ones and the attack's), or also the projected-gradient worst case of every
        training point (L-inf only; Madry et al.'s adversarial training, the exact
        counterexamples on top).
    epochs_per_round : int, optional
        Continue training the previous round's network for this many epochs (warm start)
        instead of retraining from scratch.
    screen : bool, default True
        Decide by bounds and the batched attack first (module docstring); False sends every
        point to :func:`verify_robustness`.
    test_every_round : bool, default True
        Verify the test points after every round; False: only before the first and after the
        last retraining (the figures "before" and "after").
    verify_kwargs : dict, optional
        Passed to :func:`verify_robustness` (``bounds=``, ``backend=`` ...).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape[0] != X.shape[0]:
        raise ValueError(f"X must be (n, d) with one label per row; got {X.shape}, {y.shape}")
    check_nonneg("eps", eps)
    norm = _norm(norm)
    rounds = check_int("rounds", rounds, minimum=0)
    check_choice("augment", augment, ("counterexamples", "pgd"))
    if epochs_per_round is not None:
        epochs_per_round = check_int("epochs_per_round", epochs_per_round, minimum=1)
    if round_time_limit is not None:
        check_nonneg("round_time_limit", round_time_limit)
    m = X.shape[0] if n_attack is None else check_int("n_attack", n_attack, minimum=1)
    kw = dict(verify_kwargs or {})
    kw.setdefault("time_limit", time_limit_per_point)
    X_adv = np.zeros((0, X.shape[1]))
    y_adv = y[:0]
    history = []
    model = net = None
    X_pgd, y_pgd = np.zeros((0, X.shape[1])), y[:0]
    for k in range(rounds + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        Xt = np.vstack([X, X_adv, X_pgd])
        yt = np.concatenate([y, y_adv, y_pgd])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if model is None or epochs_per_round is None:
                model = MLPClassifier(
                    hidden_layer_sizes, max_iter=max_iter, random_state=random_state
                ).fit(Xt, yt)
            else:
                # warm start: the previous round's weights, epochs_per_round more epochs (one
                # partial_fit is one epoch; fit(warm_start=True) would stop at once, its
                # best training loss being that of the smaller set)
                order = np.random.default_rng(random_state + k).permutation(yt.size)
                for _e in range(epochs_per_round):
                    model.partial_fit(Xt[order], yt[order])
        net = ReLUNetwork.from_sklearn(model)
        t_train = time.perf_counter() - t0
        stats: dict = {}
        acc, verdicts, cex = verified_accuracy(
            net,
            X[:m],
            y[:m],
            eps,
            norm,
            lb,
            ub,
            screen=screen,
            time_budget=round_time_limit,
            stats=stats,
            **kw,
        )
        new = [(c, lab) for c, lab in zip(cex, y[:m], strict=True) if c is not None]
        # every point added is a counterexample of this round's network (forward pass)
        new = [(c, lab) for c, lab in new if net.predict(c[None])[0] != lab]
        rec = dict(
            round=k,
            n_train=int(yt.size),
            robust=sum(v is True for v in verdicts),
            not_robust=sum(v is False for v in verdicts),
            undecided=sum(v is None for v in verdicts),
            verified_accuracy=acc,
            added=len(new) if k < rounds else 0,
            decided_by=stats,
            train_time=t_train,
        )
        rec["verify_time"] = time.perf_counter() - t0 - t_train
        if X_test is not None and (test_every_round or k in (0, rounds)):
            ta, _, _ = verified_accuracy(
                net,
                X_test,
                y_test,
                eps,
                norm,
                lb,
                ub,
                screen=screen,
                time_budget=round_time_limit,
                **kw,
            )
            rec["test_verified_accuracy"] = ta
            rec["test_accuracy"] = float(model.score(X_test, y_test))
        rec["time"] = time.perf_counter() - t0
        rec["cpu_time"] = time.process_time() - c0
        history.append(rec)
        logger.info("adversarial training round %d: %s", k, rec)
        if k < rounds and augment == "pgd" and norm == "inf" and eps > 0:
            # the projected-gradient worst case of every training point, with its label
            snet = _score_net(net)
            labels = np.array([_label_index(net, lab, snet.n_outputs) for lab in y], dtype=int)
            lo, hi = _boxes(X, eps, lb, ub)
            X_pgd, _ = pgd_attack(snet, X, labels, lo, hi, random_state=random_state + k)
            y_pgd = y.copy()
        if k < rounds and new:
            X_adv = np.vstack([X_adv, np.array([c for c, _ in new])])
            y_adv = np.concatenate([y_adv, np.array([lab for _, lab in new])])
        elif k < rounds and augment != "pgd":
            break  # no counterexample left: every attacked point is robust or undecided
    return AdversarialTrainingResult(
        model=model, network=net, history=history, X_adv=X_adv, y_adv=y_adv
    )
