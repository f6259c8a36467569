r"""Adversarial training of small ReLU networks by MILP-generated worst cases (a cutting-plane
view of Madry et al.'s min-max).

The robust training problem :math:`\min_\theta \sum_i \max_{\|\delta_i\| \le \epsilon}
\ell(f_\theta(x_i + \delta_i), y_i)` is approached as a cutting-plane loop: train the network
on the current set, attack every training point exactly (:func:`optml.nn.verify_robustness`:
a numpy attack first, then the MILP of Tjeng, Xiao and Tedrake, which either proves the ball
safe or returns a counterexample checked by a numpy forward pass), add every counterexample
with its true label, and retrain. The verified robust accuracy (the fraction of points proven
robust by the MILP) is reported before and after, on the training points and on held-out
points.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from optml._validation import check_int, check_nonneg
from optml.nn._network import ReLUNetwork
from optml.nn._verify import _norm, verify_robustness

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
        robust and correct), ``added`` (counterexamples added), ``time``; and, with
        ``X_test``, ``test_verified_accuracy`` and ``test_accuracy``.
    X_adv, y_adv : arrays
        Every counterexample added (each checked by a forward pass of the round's network).
    """

    model: object
    network: ReLUNetwork
    history: list = field(default_factory=list)
    X_adv: np.ndarray | None = None
    y_adv: np.ndarray | None = None


def verified_accuracy(net, X, y, eps, norm="inf", lb=None, ub=None, **kw):
    """``(fraction proven robust, verdicts, counterexamples)`` over the rows of ``X``."""
    verdicts, cex = [], []
    for x, lab in zip(X, y, strict=True):
        r = verify_robustness(net, x, lab, eps, norm=norm, lb=lb, ub=ub, **kw)
        verdicts.append(r.robust)
        cex.append(r.counterexample if r.robust is False else None)
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
        Held-out points whose verified robust accuracy is reported each round.
    max_iter, random_state
        Of the ``MLPClassifier``.
    time_limit_per_point : float, optional
        Seconds per verification (undecided points are neither added nor counted robust).
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
    m = X.shape[0] if n_attack is None else check_int("n_attack", n_attack, minimum=1)
    kw = dict(verify_kwargs or {})
    kw.setdefault("time_limit", time_limit_per_point)
    X_adv = np.zeros((0, X.shape[1]))
    y_adv = y[:0]
    history = []
    model = net = None
    for k in range(rounds + 1):
        t0 = time.perf_counter()
        Xt = np.vstack([X, X_adv])
        yt = np.concatenate([y, y_adv])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = MLPClassifier(
                hidden_layer_sizes, max_iter=max_iter, random_state=random_state
            ).fit(Xt, yt)
        net = ReLUNetwork.from_sklearn(model)
        acc, verdicts, cex = verified_accuracy(net, X[:m], y[:m], eps, norm, lb, ub, **kw)
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
        )
        if X_test is not None:
            ta, _, _ = verified_accuracy(net, X_test, y_test, eps, norm, lb, ub, **kw)
            rec["test_verified_accuracy"] = ta
            rec["test_accuracy"] = float(model.score(X_test, y_test))
        rec["time"] = time.perf_counter() - t0
        history.append(rec)
        logger.info("adversarial training round %d: %s", k, rec)
        if k < rounds and new:
            X_adv = np.vstack([X_adv, np.array([c for c, _ in new])])
            y_adv = np.concatenate([y_adv, np.array([lab for _, lab in new])])
        elif k < rounds:
            break  # no counterexample left: every attacked point is robust or undecided
    return AdversarialTrainingResult(
        model=model, network=net, history=history, X_adv=X_adv, y_adv=y_adv
    )
