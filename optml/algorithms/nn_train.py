r"""Networks trained by MILP that start from gradient training (issue 27).

Two registered special solvers on the solve path:

* ``"bnn-hybrid"`` (kind ``"bnn_training"``, :class:`~optml.formulations.bnn.BNNTrainingProblem`),
  after the hybrid method of Toro Icarte et al. (2019):

  1. *gradient start*: a scikit-learn MLP (tanh) of the same shape, each hidden unit ternarised
     at the threshold whose signs agree best with the real unit's on the training points, the
     output layer the fewest ternary weights that fit the hidden signs (a small MILP, fewest
     misfitted points first);
  2. *feasibility phase* (when the start misfits points and the model allows none): the MILP
     that minimises the number of misfitted points, started from the gradient network; it
     stops at its first network that fits every point, and a positive bound proves that no
     network of this shape fits the data;
  3. *decomposition*: with every activation of that network fixed, the training MILP splits
     into one small MILP per hidden unit (fewest weights, or largest margin, that keep its
     signs) and the output layer's;
  4. the full training MILP, started from the best network so far.

  The answer is the best network found; its bound is the full MILP's proven bound. Since the
  start is a point of the same program, the answer is never worse than the start on the
  program's objective.

* ``"bnn-mip"``: steps 1 and 4 only (one MILP from the gradient start).

* ``"relu-mip"`` (kind ``"relu_training"``,
  :class:`~optml.formulations.bnn.ReLUTrainingProblem`): a scikit-learn ReLU MLP projected into
  the weight box (positive homogeneity: output weights :math:`\pm B`, or :math:`\{-B, 0, B\}`
  with more than two classes), the output layer re-optimised for its hidden layer by a small
  MILP, then the training MILP from that start; never worse than the start.

Every phase runs on the solve path with the caller's settings and the time left of one clock.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass

import numpy as np

from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.formulations.bnn import BNNTrainingProblem
from optml.program import relative_gap

logger = logging.getLogger("optml")

#: share of ``time_limit`` the gradient start may use (its MLP two thirds of that)
START_SHARE = 0.3
#: share of the time left the ReLU polish (fixed-pattern LPs) may use
POLISH_SHARE = 0.3
#: share of the time left the per-unit decomposition may use
DECOMPOSE_SHARE = 0.3
#: relative gap of the start's small output-layer MILPs (the start needs a good point only)
START_GAP = 0.05


# ----------------------------------------------------------------------------- helpers
def _deadline(settings, budget_share=None):
    """``perf_counter`` time by which a phase must end (None: no limit)."""
    left = settings.remaining()
    if left is None:
        return None
    share = left if budget_share is None else max(0.2, budget_share * left)
    return time.perf_counter() + min(left, share)


def _reserve(settings):
    """Deadline of the last MILP: the clock's, less 5 % of the limit and 0.2 s for checking
    and certifying its answer (elapsed <= time_limit + 10 % + 1 s holds on a loaded machine)."""
    if settings.deadline is None or settings.time_limit is None:
        return None
    return settings.deadline - 0.05 * float(settings.time_limit) - 0.2


def _left(deadline):
    return None if deadline is None else deadline - time.perf_counter()


def _sub_solve(problem, prog, settings, deadline=None, warm_start=None, **changes):
    """One sub-program on the solve path, within ``deadline`` and the caller's clock; None
    when no time is left."""
    from optml.exceptions import SolverAccuracyWarning
    from optml.solve import solve_program

    sub = settings.for_internal(**changes)
    if deadline is not None:
        now = time.perf_counter()
        end = deadline if settings.deadline is None else min(deadline, settings.deadline)
        if end - now <= 0.02:
            return None
        sub = sub.replace(time_limit=end - now, deadline=end)  # the same clock, never later
    if warm_start is not None:
        sub = sub.replace(warm_start=warm_start)
    with warnings.catch_warnings():  # a sub-solve's loose gap is fine: its point is checked
        warnings.simplefilter("ignore", SolverAccuracyWarning)
        return solve_program(
            prog, backend=problem.sub_backend, solver=problem.sub_solver, settings=sub
        )


def gradient_mlp(
    X, y_idx, sizes, activation, deadline=None, seed=0, solver="adam", max_iter=2000, chunk=50
):
    """A scikit-learn MLPClassifier trained within ``deadline`` (``chunk`` epochs at a time,
    until it converges, ``max_iter`` epochs or the deadline)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(
        tuple(sizes),
        activation=activation,
        solver=solver,
        max_iter=chunk,
        warm_start=True,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        done = 0
        while done < max_iter:
            before = getattr(mlp, "n_iter_", 0)
            mlp.fit(X, y_idx)
            ran = mlp.n_iter_ - before if mlp.n_iter_ > before else mlp.n_iter_
            done += chunk
            if ran < chunk or (deadline is not None and _left(deadline) <= 0):
                break
    return mlp


def ternarise_layer(W, b, inputs, delta):
    """Ternary rows ``(n_out, n_in + 1)`` for the real layer ``(W (n_in, n_out), b)``: per unit,
    the threshold (a quantile of its absolute weights) whose signs on ``inputs`` agree best with
    the real unit's, the bias rounded to {-1, 0, 1}."""
    Za = np.hstack([inputs, np.ones((inputs.shape[0], 1))])
    real = inputs @ W + b  # (N, n_out)
    rows = []
    for j in range(W.shape[1]):
        w = W[:, j]
        best, best_agree = None, -1.0
        for q in (0.2, 0.35, 0.5, 0.65, 0.8):
            tau = np.quantile(np.abs(w), q)
            t = np.sign(w) * (np.abs(w) > tau)
            scale = np.abs(w[np.abs(w) > tau]).mean() if (np.abs(w) > tau).any() else 1.0
            tb = float(np.clip(np.rint(b[j] / max(scale, 1e-12)), -1, 1))
            row = np.r_[t, tb]
            a = Za @ row
            if ((a < 0) & (a > -delta)).any():
                continue
            agree = float(np.mean((a >= 0) == (real[:, j] >= 0)))
            if agree > best_agree:
                best, best_agree = row, agree
        if best is None:  # every threshold falls in the gap: a unit that never switches
            best = np.r_[np.zeros(W.shape[0]), 1.0]
        rows.append(best)
    return np.array(rows)


# ------------------------------------------------------------------------ binarized nets
def bnn_output_layer(problem, H, settings, deadline, allow_errors=True, start=None, reference=None):
    """The fewest ternary output weights (or fewest changes to ``reference``) for the hidden
    signs ``H``, fewest misfitted points first when ``allow_errors``:
    ``(W_out (K, h + 1), n_errors)`` or None."""
    from optml.formulations.bnn import fitted_points, output_layer_program

    prog, (wp, wn) = output_layer_program(
        H, problem.y_idx, problem.n_classes, allow_errors, reference=reference
    )
    ws = None
    if start is not None:
        S = np.hstack([H, np.ones((H.shape[0], 1))]) @ start.T
        ok = fitted_points(S, problem.y_idx)
        if allow_errors or ok.all():
            ws = {wp.name: (start > 0) * 1.0, wn.name: (start < 0) * 1.0}
            if allow_errors:
                ws["errors"] = (~ok) * 1.0
    res = _sub_solve(problem, prog, settings, deadline, warm_start=ws, mip_gap=START_GAP)
    if res is None or not res.has_solution or res.max_violation > 1e-6:
        return None
    W = np.rint(res.values[wp.name] - res.values[wn.name])
    S = np.hstack([H, np.ones((H.shape[0], 1))]) @ W.T
    return W, int((~fitted_points(S, problem.y_idx)).sum())


def capped_mlp(X, y_idx, sizes, activation, deadline=None, seed=0, max_iter=2000, probe=10):
    """``MLPClassifier(sizes, activation=activation, max_iter=max_iter, random_state=seed)``
    fitted in one call (adam), its epochs capped to what ``deadline`` allows (estimated by a
    probe fit of ``probe`` epochs). With time enough it is exactly that estimator's fit (the
    gradient baseline's network); ``gradient_mlp``'s chunks would restart adam's moments."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    kw = dict(hidden_layer_sizes=tuple(sizes), activation=activation, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        n_iter = int(max_iter)
        if deadline is not None:
            t = time.perf_counter()
            pr = MLPClassifier(max_iter=probe, **kw).fit(X, y_idx)
            per_epoch = (time.perf_counter() - t) / probe  # with the fit's overhead: cautious
            affordable = 0.8 * _left(deadline) / max(per_epoch, 1e-9)
            if affordable <= probe:
                return pr
            n_iter = int(min(n_iter, affordable))
        return MLPClassifier(max_iter=n_iter, **kw).fit(X, y_idx)


def _mlp_output_layer(mlp, n_classes):
    """The MLP's output layer as ``(W (h, n_classes), b)``: one column per class of the
    problem (two classes: one logit, ``score_1 - score_0``; a class the MLP never saw gets a
    constant score below every other)."""
    Wo, bo = mlp.coefs_[-1], mlp.intercepts_[-1]
    seen = np.asarray(mlp.classes_, dtype=int)
    if Wo.shape[1] == 1:  # two classes seen: one logit
        Wo, bo = np.hstack([np.zeros_like(Wo), Wo]), np.r_[0.0, bo]
    if seen.size == n_classes and np.array_equal(seen, np.arange(n_classes)):
        return Wo, bo
    W = np.zeros((Wo.shape[0], n_classes))
    b = np.full(n_classes, -(np.abs(bo).max(initial=0.0) + np.abs(Wo).sum(axis=0).max() + 1.0))
    W[:, seen], b[seen] = Wo, bo
    return W, b


def ternarised_network(problem, mlp):
    """The gradient baseline's ternary network for the real MLP ``mlp``: every layer ternarised
    by :func:`ternarise_layer` on the signs of the layer before. Returns ``(Ws, hidden signs of
    the last hidden layer)`` or None (a unit in the first layer's gap)."""
    from optml.formulations.bnn import bnn_forward

    X = problem.X
    Ws, inputs = [], X
    for k in range(len(problem.sizes)):
        dl = problem.delta if k == 0 else 1.0
        T = ternarise_layer(mlp.coefs_[k], mlp.intercepts_[k], inputs, dl)
        Ws.append(T)
        signs, _, _, ok = bnn_forward(X, [*Ws, np.zeros((1, T.shape[0] + 1))], problem.delta)
        if not ok:
            return None
        inputs = signs[-1]
    Wo, bo = _mlp_output_layer(mlp, problem.n_classes)
    return [*Ws, ternarise_layer(Wo, bo, inputs, 0.0)], inputs


def bnn_gradient_start(problem, settings, deadline, seeds=None, info=None):
    """The gradient start (step 1): ``(Ws, n_errors)`` or None.

    Candidates: for each MLP seed (``problem.seed + i``, ``i < problem.n_starts``; or ``seeds``)
    the gradient baseline's ternary network (:func:`capped_mlp`, :func:`ternarised_network`),
    its output layer repaired by the fewest ternary changes that fit the hidden signs. The
    start is the candidate with the fewest misfitted training points after the repair, then
    before it (the zero-one training loss), then the first seed. Later seeds run while the
    deadline leaves the time the first one took, and only while the best candidate misfits
    some point before its repair (else none can be better). ``info`` (a dict) gets the
    candidates and the chosen seed."""
    from optml.formulations.bnn import fitted_points

    X = problem.X
    n = int(getattr(problem, "n_starts", 1))
    seeds = [problem.seed + i for i in range(max(n, 1))] if seeds is None else list(seeds)
    best, cands, first_cost = None, [], None
    for i, seed in enumerate(seeds):
        t = time.perf_counter()
        if i > 0:
            if best is not None and best[0][1] == 0:
                break
            if deadline is not None and _left(deadline) < 1.2 * (first_cost or 0.0):
                break
        mlp_end = None if deadline is None else time.perf_counter() + 0.5 * _left(deadline)
        mlp = capped_mlp(X, problem.y_idx, problem.sizes, "tanh", mlp_end, seed)
        got = ternarised_network(problem, mlp)
        if got is not None:
            tern, inputs = got
            fallback = tern[-1]
            Sf = np.hstack([inputs, np.ones((X.shape[0], 1))]) @ fallback.T
            fb_errors = int((~fitted_points(Sf, problem.y_idx)).sum())
            net, errs = tern, fb_errors
            if fb_errors > 0:
                out = bnn_output_layer(
                    problem,
                    inputs,
                    settings,
                    deadline,
                    allow_errors=True,
                    start=fallback,
                    reference=fallback,
                )
                if out is not None and out[1] <= fb_errors:
                    net, errs = [*tern[:-1], out[0]], out[1]
            cands.append(
                {
                    "seed": seed,
                    "errors": errs,
                    "ternarised_errors": fb_errors,
                    "epochs": int(mlp.n_iter_),
                    "time": time.perf_counter() - t,
                }
            )
            key = (errs, fb_errors, i)
            if best is None or key < best[0]:
                best = (key, net, errs, seed)
        if first_cost is None:
            first_cost = time.perf_counter() - t
    if info is not None:
        info["start_candidates"] = cands
        info["start_seed"] = None if best is None else best[3]
    return None if best is None else (best[1], best[2])


def bnn_decompose(problem, Ws, settings, deadline):
    """Step 3: every hidden unit re-optimised with its activation pattern fixed, then the
    output layer (fewest weights that fit). Returns the new ternary network (or ``Ws``)."""
    from optml.formulations.bnn import bnn_forward, unit_program

    signs, _, _, ok = bnn_forward(problem.X, Ws, problem.delta)
    if not ok:
        return Ws
    obj = "max_margin" if problem.objective == "max_margin" else "min_weight"
    new = [np.array(W, dtype=float) for W in Ws]
    inputs = problem.X
    for k in range(len(Ws) - 1):
        Z = np.hstack([inputs, np.ones((inputs.shape[0], 1))])
        dl = problem.delta if k == 0 else 1.0
        for j in range(Ws[k].shape[0]):
            prog, (wp, wn) = unit_program(Z, signs[k][:, j] > 0, dl, obj)
            row = new[k][j]
            ws = {wp.name: (row > 0) * 1.0, wn.name: (row < 0) * 1.0}
            if obj == "max_margin":
                a = Z @ row
                ws["margin"] = max(0.0, float(np.where(signs[k][:, j] > 0, a, -a - dl).min()))
            units_left = sum(W.shape[0] for W in Ws[k:-1]) - j + 1  # and the output layer
            unit_deadline = None
            if deadline is not None:
                unit_deadline = time.perf_counter() + _left(deadline) / units_left
            res = _sub_solve(problem, prog, settings, unit_deadline, warm_start=ws)
            if res is None:
                return new
            if res.has_solution and res.max_violation <= 1e-6:
                cand = np.rint(res.values[wp.name] - res.values[wn.name])
                if np.array_equal((Z @ cand >= 0), signs[k][:, j] > 0) and (
                    k > 0 or not ((Z @ cand < 0) & (Z @ cand > -dl)).any()
                ):
                    new[k][j] = cand
        inputs = signs[k]
    if obj == "min_weight":  # the output layer's weights count too; margins do not
        out = bnn_output_layer(
            problem, signs[-1], settings, deadline, allow_errors=False, start=new[-1]
        )
        if out is not None and out[1] == 0:
            new[-1] = out[0]
    return new


#: "not given" (the gradient start is computed by the phases themselves)
_UNSET = object()
#: order of the hybrid's phases (a validation guard keeps the network after one of them)
PHASES = ("gradient start", "feasibility phase", "decomposition", "training MILP")
#: share of ``time_limit`` the validation run (on the fit part) may use
VALIDATION_SHARE = 0.4
#: share of the time left the combinatorial lower bound (a test-cover MILP) may use
BOUND_SHARE = 0.1


@dataclass(eq=False)
class GuardedBNNProblem(BNNTrainingProblem):
    """A :class:`~optml.formulations.bnn.BNNTrainingProblem` with the options of the hybrid's
    validation guard: ``validation_fraction`` of the training points (stratified by class,
    ``seed``) held out while a first run on the rest judges each phase; the final run on
    every point keeps the network after the last phase whose held-out accuracy is not worse
    than the gradient start's (None: no guard). ``validation_folds``: the cross-validated
    guard instead (see :meth:`BNNHybrid._cross_validate`)."""

    validation_fraction: float | None = None
    validation_folds: int | None = None


#: share of the time left after the gradient start that the cross-validated guard may use
CV_SHARE = 0.5


def stratified_folds(y_idx, n_folds, seed=0):
    """Fold number of every point: each class's points shuffled (``seed``) and dealt to the
    folds in turn, so every fold holds about ``1 / n_folds`` of each class."""
    y = np.asarray(y_idx)
    rng = np.random.default_rng(seed)
    fold = np.zeros(y.size, dtype=int)
    offset = 0
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        fold[idx] = (offset + np.arange(idx.size)) % n_folds
        offset += idx.size  # the next class's first point goes to the next fold
    return fold


def cv_verdict(correct):
    """The cross-validated guard's verdict: the first phase (in :data:`PHASES` order) with the
    most held-out points right, pooled over the folds: a later phase replaces an earlier
    one's network only when it is right on strictly more held-out points. None without
    scores."""
    ran = [lab for lab in PHASES if lab in correct]
    if not ran:
        return None
    top = max(correct[lab] for lab in ran)
    return next(lab for lab in ran if correct[lab] >= top)


def stratified_holdout(y_idx, fraction, seed=0):
    """Boolean mask of held-out points: ``round(fraction * n_c)`` per class (at least one where
    a class has two points or more, never all of a class)."""
    y = np.asarray(y_idx)
    rng = np.random.default_rng(seed)
    mask = np.zeros(y.size, dtype=bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        n = idx.size
        k = min(n - 1, max(1 if n >= 2 else 0, int(round(fraction * n))))
        if k > 0:
            mask[rng.choice(idx, k, replace=False)] = True
    return mask


def test_cover_program(X, y_idx):
    """The minimum test cover: fewest features such that every two points of different
    classes differ on one of them. Returns ``(program, z)`` or None when two points of
    different classes are equal (no network separates them)."""
    import scipy.sparse as sp

    from optml.program import Program

    X = np.asarray(X, dtype=float)
    y = np.asarray(y_idx)
    a, b = np.nonzero(y[:, None] < y[None, :])  # every pair of points of different classes
    D = X[a] != X[b]  # (pairs, features)
    if not D.any(axis=1).all():
        return None
    D = np.unique(D, axis=0).astype(np.float32)
    # a row that contains another row is implied by it: keep the minimal rows only
    size = D.sum(axis=1)
    redundant = np.zeros(D.shape[0], dtype=bool)
    for s0 in range(0, D.shape[0], 1024):
        C = D @ D[s0 : s0 + 1024].T  # C[k, r] = |row k and row r|
        sub = (C >= size[:, None] - 0.5) & (size[:, None] < size[None, s0 : s0 + 1024])
        redundant[s0 : s0 + 1024] = sub.any(axis=0)
    kept = D[~redundant]
    A = sp.csr_matrix(kept.astype(float))
    prog = Program("bnn_test_cover")
    z = prog.var("z", shape=X.shape[1], domain="binary")
    prog.add(A @ z >= 1, name="separate")
    prog.minimize(z.sum())
    prog.metadata["rows"] = kept > 0.5
    return prog, z


def smallest_cover_size(rows, up_to=3):
    """Size of the smallest set of columns that meets every row of the boolean matrix
    ``rows`` when it is at most ``up_to`` (<= 3), found by enumeration; else ``up_to + 1``
    (a proven lower bound)."""
    U = ~np.asarray(rows, dtype=bool)  # U[r, l]: feature l does not tell pair r apart
    if U.shape[0] == 0:
        return 0
    if up_to >= 1 and (~U.any(axis=0)).any():
        return 1
    Uf = U.astype(np.float32)
    if up_to >= 2 and ((Uf.T @ Uf) < 0.5).any():
        return 2
    if up_to >= 3:
        for a in range(U.shape[1]):
            Ua = Uf[U[:, a]]
            if ((Ua.T @ Ua) < 0.5).any():
                return 3
    return up_to + 1


def min_weight_lower_bound(problem, settings, deadline=None):
    r"""A proven lower bound on the number of nonzero weights of every binarized network of
    ``problem``'s shape that fits every training point (``min_weight``, no errors allowed).

    * *First layer*: two points of different classes must reach different hidden signs, so
      the features with a nonzero first-layer weight must tell them apart: the first layer
      has at least as many nonzero weights as the minimum test cover of the training set
      (covers of up to 3 features enumerated; above that, a set-cover MILP's proven bound).
      Every hidden layer must give the classes distinct sign codes, so it has at least
      :math:`\lceil \log_2 K \rceil` non-constant units, each with a nonzero incoming weight
      (the first layer counts the larger of the two).
    * *Output layer*: two classes whose scores are both constant (no nonzero hidden weight)
      cannot each win on their own points, so at least ``n_classes - 1`` output rows have a
      nonzero weight.

    Returns ``(bound, details)``; the bound is 0 when nothing is proven in time.
    """
    K = int(problem.n_classes)
    out = max(K - 1, 0)
    code = int(np.ceil(np.log2(max(K, 1))))
    later = sum(min(int(h), code) for h in problem.sizes[1:])
    first = min(int(problem.sizes[0]), code)
    details = {"output_layer": out, "test_cover": None, "codes": first + later}
    got = test_cover_program(problem.X, problem.y_idx)
    if got is None:
        return float(out + first + later), details
    prog, _ = got
    tc = smallest_cover_size(prog.metadata["rows"], 3)
    res = None if tc <= 3 else _sub_solve(problem, prog, settings, deadline, mip_gap=0.0)
    if res is not None:
        if res.has_solution and res.status == "optimal":
            tc = max(tc, int(round(res.objective)))
        elif np.isfinite(res.bound):
            tc = max(tc, int(np.ceil(res.bound - 1e-6)))
    details["test_cover"] = tc
    return float(max(tc, first) + later + out), details


def _subproblem(problem, keep):
    """The same training instance on the points ``keep`` (no guard)."""
    return BNNTrainingProblem(
        problem.X[keep],
        np.asarray(problem.y_idx)[keep],
        problem.n_classes,
        problem.sizes,
        problem.objective,
        problem.allow_errors,
        delta=problem.delta,
        heuristic_start=problem.heuristic_start,
        symmetry=problem.symmetry,
        seed=problem.seed,
        sub_backend=problem.sub_backend,
        sub_solver=problem.sub_solver,
        n_starts=problem.n_starts,
    )


def keep_phase(accuracies):
    """The validation guard's verdict: the last phase (in :data:`PHASES` order) whose held-out
    accuracy is not below the first phase's (the gradient start's); None without scores."""
    ran = [lab for lab in PHASES if lab in accuracies]
    if not ran:
        return None
    first = accuracies[ran[0]]
    return [lab for lab in ran if accuracies[lab] >= first - 1e-12][-1]


def chosen_phase(snapshots, keep=None):
    """The phase whose network the final run returns: ``keep`` (or the first later phase that
    has a network), else the last phase that has one; None when no phase has a network."""
    if keep is not None:
        for lab in PHASES[PHASES.index(keep) :]:
            if lab in snapshots:
                return lab
    return max(snapshots, key=PHASES.index) if snapshots else None


def _accuracy(problem, Ws, X, y_idx):
    from optml.formulations.bnn import bnn_forward

    S = bnn_forward(X, Ws, problem.delta)[2]
    return float(np.mean(S.argmax(axis=1) == np.asarray(y_idx)))


class BNNHybrid(SpecialSolver):
    """The registered solvers ``"bnn-hybrid"`` and (``phases="mip"``) ``"bnn-mip"``."""

    name = "bnn-hybrid"
    kinds = ("bnn_training",)
    problem_class = "MILP"
    is_mip = True
    description = (
        "binarized network training: gradient start, feasibility MILP, per-unit decomposition, "
        "then the training MILP from the best network (never worse than the start)"
    )
    reference = "Toro Icarte, Illanes, Castro, Cire, McIlraith & Beck (2019), CP"
    hybrid = True

    def _phases(
        self, problem, settings, stats, last=None, start=_UNSET, start_seeds=None, start_end=None
    ):
        """Run the phases on ``problem`` within ``settings``' clock. Returns
        ``(snapshots, res)``: ``snapshots[label] = (values, objective, Ws)``, the best network
        after each phase that ran, and the training MILP's result (or None); or a RawAnswer
        (infeasible) to return at once. ``last``: the phase to stop after (the validation
        guard's verdict: later phases' networks would be dropped). ``start``: the gradient
        start already computed (``(Ws, errors)`` or None); else computed here from the MLP
        seeds ``start_seeds`` (None: ``problem.n_starts`` of them) by ``start_end`` (a
        ``perf_counter`` time; None: :data:`START_SHARE` of the time left)."""
        from optml.formulations.bnn import binarized_network_program

        def stop_after(label):
            return last is not None and PHASES.index(label) >= PHASES.index(last) and best["vals"]

        t0 = time.perf_counter()
        prog = problem.program
        prog.canonical()  # lowered (and cached) now: the phases' shares see its cost
        sense = problem.sense
        best = {"vals": None, "obj": None, "Ws": None}
        snapshots = {}

        def consider(net, label):
            got = problem.network_values(net)
            if got is None:
                return False
            vals = got[0]
            obj, viol = prog.evaluate(vals)
            if viol > 1e-6:
                return False
            if best["obj"] is None or sense * obj < sense * best["obj"] - 1e-9:
                best.update(vals=vals, obj=obj, Ws=problem.weights_of(vals))
                stats["best_from"] = label
                return True
            return False

        def snap(label):
            if best["vals"] is not None:
                snapshots[label] = (best["vals"], best["obj"], best["Ws"])

        # 1. gradient start
        start_net = None
        if problem.heuristic_start:
            got = start
            if start is _UNSET:
                t = time.perf_counter()
                info = {}
                end = _deadline(settings, START_SHARE) if start_end is None else start_end
                got = bnn_gradient_start(problem, settings, end, start_seeds, info)
                stats["start_time"] = time.perf_counter() - t
                stats.update(info)
            if got is not None:
                start_net, start_errors = got
                stats["start_errors"] = start_errors
                if consider(start_net, "gradient start"):
                    stats["start_objective"] = best["obj"]
        snap("gradient start")
        # 2. feasibility phase
        if self.hybrid and best["vals"] is None and not problem.allow_errors:
            t = time.perf_counter()
            fprog, fparts = binarized_network_program(
                problem.X,
                problem.y_idx,
                problem.n_classes,
                problem.sizes,
                "errors",
                True,
                delta=problem.delta,
                symmetry=problem.symmetry,
            )
            ws = None
            if start_net is not None:
                got = problem.network_values(start_net, parts=fparts)
                ws = None if got is None else got[0]
            res = _sub_solve(problem, fprog, settings, None, warm_start=ws, mip_gap=0.0)
            stats["feasibility_time"] = time.perf_counter() - t
            if res is not None:
                stats["feasibility_status"] = res.status
                stats["feasibility_errors"] = res.objective if res.has_solution else None
                stats["feasibility_bound"] = res.bound
                if res.has_solution and res.objective < 0.5:
                    consider(problem.weights_of(res.values, fparts), "feasibility phase")
                elif np.isfinite(res.bound) and res.bound > 0.5:
                    return RawAnswer(
                        status="infeasible",
                        message=f"the feasibility MILP proves that every network of this shape "
                        f"misfits at least {int(np.ceil(res.bound - 1e-6))} training point(s)",
                        stats=stats,
                        solve_time=time.perf_counter() - t0,
                    )
            snap("feasibility phase")
        # 3. decomposition per unit, activations fixed
        if stop_after("feasibility phase"):
            return snapshots, None
        if self.hybrid and best["Ws"] is not None and not settings.expired():
            t = time.perf_counter()
            before = best["obj"]
            consider(
                bnn_decompose(problem, best["Ws"], settings, _deadline(settings, DECOMPOSE_SHARE)),
                "decomposition",
            )
            stats["decomposition_time"] = time.perf_counter() - t
            stats["decomposition_objective"] = best["obj"]
            stats["decomposition_improvement"] = sense * (before - best["obj"])
            snap("decomposition")
        if stop_after("decomposition"):
            return snapshots, None
        pre_obj = best["obj"]
        # 4. the full training MILP from the best network
        res = None
        if not settings.expired() or best["vals"] is None:
            t = time.perf_counter()
            res = _sub_solve(problem, prog, settings, _reserve(settings), warm_start=best["vals"])
            stats["mip_time"] = time.perf_counter() - t
        if res is not None:
            stats["mip_status"] = res.status
            stats["mip_objective"] = res.objective if res.has_solution else None
            stats["sub_solver"] = f"{res.backend}/{res.solver}"
            if res.has_solution and res.max_violation <= 1e-6:
                if best["obj"] is None or sense * res.objective <= sense * best["obj"] + 1e-9:
                    best.update(
                        vals=res.values, obj=res.objective, Ws=problem.weights_of(res.values)
                    )
                    stats["best_from"] = "training MILP"
            if res.status == "infeasible" and best["vals"] is None:
                return RawAnswer(
                    status="infeasible",
                    message="the training MILP is infeasible",
                    stats=stats,
                    solve_time=time.perf_counter() - t0,
                )
            snap("training MILP")
        if pre_obj is not None and best["obj"] is not None:
            stats["mip_improvement"] = sense * (pre_obj - best["obj"])
        return snapshots, res

    def _validate_phases(self, problem, settings, stats, seeds=None):
        """The validation run: the phases on the fit part, each phase's network scored on the
        held-out part. Returns the last phase whose held-out accuracy is not below the
        gradient start's (None: no verdict)."""
        held = stratified_holdout(problem.y_idx, problem.validation_fraction, problem.seed)
        if not held.any() or held.all():
            return None
        sub = _subproblem(problem, ~held)
        left = settings.remaining()
        vset = settings
        if left is not None:
            end = time.perf_counter() + VALIDATION_SHARE * left
            vset = settings.replace(deadline=end, time_limit=VALIDATION_SHARE * left)
        t = time.perf_counter()
        vstats = {}
        out = self._phases(sub, vset, vstats, start_seeds=seeds)
        stats["validation_time"] = time.perf_counter() - t
        stats["validation_points"] = int(held.sum())
        if isinstance(out, RawAnswer):
            return None
        snapshots, _ = out
        Xv, yv = problem.X[held], np.asarray(problem.y_idx)[held]
        accs = {lab: _accuracy(problem, s[2], Xv, yv) for lab, s in snapshots.items()}
        stats["validation_accuracy"] = accs
        keep = keep_phase(accs)
        if keep is not None:
            stats["validation_keeps"] = keep
        return keep

    def _cross_validate(self, problem, settings, stats, seeds=None, start_cost=0.0):
        """The cross-validated guard: for each of ``validation_folds`` stratified folds, the
        phases on the other folds (the gradient start from the MLP seeds ``seeds``, the one
        chosen on every point) within an equal share of :data:`CV_SHARE` of the time left,
        the network after each phase scored on the fold. A phase that did not run in a fold
        is scored with the network before it. Returns :func:`cv_verdict` of the held-out
        points right per phase, pooled (None: no verdict)."""
        k = int(problem.validation_folds)
        fold = stratified_folds(problem.y_idx, k, problem.seed)
        y = np.asarray(problem.y_idx)
        left = settings.remaining()
        end = None if left is None else time.perf_counter() + CV_SHARE * left
        t = time.perf_counter()
        correct, scored, per_fold = {}, 0, []
        for f in range(k):
            held = fold == f
            if not held.any() or held.all() or np.unique(y[~held]).size < 2:
                continue
            fset = settings
            if end is not None:
                share = (end - time.perf_counter()) / (k - f)
                if share <= 0.05:
                    break
                fset = settings.replace(deadline=time.perf_counter() + share, time_limit=share)
            # the fold's start is trained as the start on every point was (its time, with
            # room): a start starved of epochs would make any MILP phase look better
            start_end = None
            if end is not None:
                start_end = time.perf_counter() + min(
                    0.6 * share, max(START_SHARE * share, 1.5 * start_cost)
                )
            out = self._phases(
                _subproblem(problem, ~held), fset, {}, start_seeds=seeds, start_end=start_end
            )
            if isinstance(out, RawAnswer) or not out[0]:
                continue
            snapshots = out[0]
            got, net = {}, None
            for lab in PHASES:
                net = snapshots[lab][2] if lab in snapshots else net
                if net is not None:
                    got[lab] = int(
                        round(_accuracy(problem, net, problem.X[held], y[held]) * held.sum())
                    )
            per_fold.append({lab: got[lab] for lab in snapshots})
            for lab, c in got.items():
                correct[lab] = correct.get(lab, 0) + c
            scored += int(held.sum())
        ran = {lab for fs in per_fold for lab in fs}
        correct = {lab: c for lab, c in correct.items() if lab in ran}
        stats["validation_time"] = time.perf_counter() - t
        stats["validation_folds"] = len(per_fold)
        stats["validation_points"] = scored
        stats["validation_correct"] = correct
        stats["validation_accuracy"] = {lab: c / scored for lab, c in correct.items()}
        keep = cv_verdict(correct) if scored else None
        if keep is not None:
            stats["validation_keeps"] = keep
        return keep

    def solve(self, problem, settings) -> RawAnswer:
        settings = settings.started()
        t0 = time.perf_counter()
        stats = {"method": "hybrid" if self.hybrid else "mip"}
        start = _UNSET
        seeds = None
        info = {}
        if problem.heuristic_start:  # on every point, first: the guards start from its seed
            t = time.perf_counter()
            start = bnn_gradient_start(
                problem, settings, _deadline(settings, START_SHARE), None, info
            )
            stats["start_time"] = time.perf_counter() - t
            stats.update(info)
            if info.get("start_seed") is not None:
                seeds = [info["start_seed"]]
        keep = None
        if getattr(problem, "validation_folds", None):
            cost = [c["time"] for c in info.get("start_candidates", []) if [c["seed"]] == seeds]
            keep = self._cross_validate(problem, settings, stats, seeds, cost[0] if cost else 0.0)
        elif getattr(problem, "validation_fraction", None):
            keep = self._validate_phases(problem, settings, stats, seeds)
        lower = None
        if problem.objective == "min_weight" and not problem.allow_errors:
            t = time.perf_counter()
            lower, details = min_weight_lower_bound(
                problem, settings, _deadline(settings, BOUND_SHARE)
            )
            stats["combinatorial_bound"] = lower
            stats["combinatorial_bound_parts"] = details
            stats["combinatorial_bound_time"] = time.perf_counter() - t
        out = self._phases(problem, settings, stats, last=keep, start=start)
        if isinstance(out, RawAnswer):
            out.solve_time = time.perf_counter() - t0
            return out
        snapshots, res = out
        bound = None
        msg = ""
        if res is not None:
            msg = res.message
            if np.isfinite(res.bound):
                bound = float(res.bound)
        if res is None and problem.objective == "max_margin" and not problem.allow_errors:
            # no training MILP ran (the guard stopped earlier): each margin's upper bound
            ms = problem.parts["margins"]
            bound = float(sum(np.sum(np.broadcast_to(m.ub, m.shape)) for m in ms))
            stats["bound_from"] = "margins' upper bounds"
        if lower is not None and lower > 0:
            stats["mip_bound"] = bound
            bound = lower if bound is None else max(bound, lower)
        chosen = chosen_phase(snapshots, keep)
        if chosen is None:
            ran_out = res is not None and res.status in ("time_limit", "interrupted")
            return RawAnswer(
                status=res.status if ran_out else "time_limit" if settings.expired() else "error",
                message="no network found" + (f" ({msg})" if msg else ""),
                bound=bound,
                stats=stats,
                solve_time=time.perf_counter() - t0,
            )
        best_vals, best_obj, _ = snapshots[chosen]
        if keep is not None:
            stats["answer_after"] = chosen
            last = snapshots[max(snapshots, key=PHASES.index)]
            stats["best_objective_found"] = last[1]
        if stats.get("start_objective") is not None:  # >= 0: never worse than the start
            stats["improvement_over_start"] = problem.sense * (stats["start_objective"] - best_obj)
        status = "time_limit"
        if bound is not None and relative_gap(best_obj, bound) <= self.gap_tolerance(settings):
            status = "optimal"
        where = stats.get("best_from") if keep is None else f"{chosen} (validation guard)"
        return RawAnswer(
            status=status,
            values=best_vals,
            objective=best_obj,
            bound=bound,
            message=f"best network from the {where}; bound of the training MILP"
            + (" and the combinatorial bound" if lower else ""),
            stats=stats,
            solve_time=time.perf_counter() - t0,
        )


class BNNMip(BNNHybrid):
    name = "bnn-mip"
    description = (
        "binarized network training: one training MILP from the gradient start (never worse "
        "than the start)"
    )
    hybrid = False


register_special(BNNHybrid(), module=__name__)
register_special(BNNMip(), module=__name__)


# ----------------------------------------------------------------------- ReLU networks
def relu_gradient_start(problem, settings, deadline):
    """A scikit-learn ReLU MLP projected into the weight box, its output layer re-optimised:
    ``(W, b, out, c)`` or None."""
    X, y, K, B = problem.X, problem.y_idx, problem.n_classes, float(problem.weight_bound)
    mlp = gradient_mlp(
        X, y, (problem.n_hidden,), "relu", deadline, problem.seed, solver="lbfgs", max_iter=500
    )
    W1, b1 = mlp.coefs_[0].T, mlp.intercepts_[0]
    W2, b2 = mlp.coefs_[1], mlp.intercepts_[1]
    if K == 2:
        v = W2[:, 0]
        out = np.where(v >= 0, 1.0, -1.0)
        scale = np.abs(v) / B
    else:
        s = np.abs(W2).max(axis=1)
        out = np.rint(W2.T / np.where(s > 0, s, 1.0)[None, :])
        scale = s / B
    Wh, bh = W1 * scale[:, None], b1 * scale
    big = max(np.abs(Wh).max(initial=0.0), np.abs(bh).max(initial=0.0), np.abs(b2).max())
    a_max = 1.0 if big <= B else B / big
    best = None
    for a in a_max * np.linspace(0.1, 1.0, 10):  # f scales by a; the loss does not
        got = problem.network_values(a * Wh, a * bh, out, a * b2)
        if best is None or got[1] < best[1] - 1e-12:
            best = (a * Wh, a * bh, out, a * b2), got[1]
    W, b, out, c = best[0]
    reopt = relu_output_reopt(problem, W, b, settings, deadline)
    if reopt is not None and problem.network_values(W, b, *reopt)[1] < best[1]:
        out, c = reopt
    return W, b, out, c


def relu_output_reopt(problem, W, b, settings, deadline):
    """The output layer (signs / ternary directions and ``c``) that minimises the loss for the
    hidden layer ``(W, b)``: ``(out, c)`` or None."""
    from optml.formulations.bnn import relu_output_program

    B = float(problem.weight_bound)
    G = np.maximum(problem.X @ W.T + b, 0.0)
    prog, parts = relu_output_program(
        G, problem.y_idx, problem.n_classes, problem.loss, B, problem.margin
    )
    res = _sub_solve(problem, prog, settings, deadline, mip_gap=START_GAP)
    if res is None or not res.has_solution or res.max_violation > 1e-6:
        return None
    vals = res.values
    if problem.n_classes == 2:
        out = np.where(vals["sign"] > 0.5, 1.0, -1.0)
    else:
        tp, tn = parts["t"]
        out = np.rint(vals[tp.name] - vals[tn.name])
    return out, np.clip(np.atleast_1d(vals["c"]), -B, B)


def relu_polish(problem, net, settings, deadline, rounds=3):
    """Alternate the fixed-pattern LP (hidden layer, activations and output fixed) and the
    output layer's re-optimisation while the loss drops: ``(net, loss)``."""
    from optml.formulations.bnn import relu_fixed_pattern_program

    B = float(problem.weight_bound)
    loss = problem.network_values(*net)[1]
    for _ in range(rounds):
        W, b, out, c = net
        U = (problem.X @ W.T + b) > 0
        prog, parts = relu_fixed_pattern_program(
            problem.X, problem.y_idx, problem.n_classes, U, out, problem.loss, B, problem.margin
        )
        res = _sub_solve(problem, prog, settings, deadline)
        if res is None or not res.has_solution or res.max_violation > 1e-6:
            break
        v = res.values
        W2 = np.clip(v["W"], -B, B)
        b2 = np.clip(np.atleast_1d(v["b"]), -B, B)
        c2 = np.clip(np.atleast_1d(v["c"]), -B, B)
        cand = (W2, b2, out, c2)
        reopt = relu_output_reopt(problem, W2, b2, settings, deadline)
        if reopt is not None:
            alt = (W2, b2, *reopt)
            if problem.network_values(*alt)[1] < problem.network_values(*cand)[1]:
                cand = alt
        new_loss = problem.network_values(*cand)[1]
        if new_loss >= loss - 1e-9 * (1 + abs(loss)):
            break
        net, loss = cand, new_loss
    return net, loss


def _relu_errors(problem, W, b, out, c) -> int:
    """Training points the network ``(W, b, out, c)`` misclassifies (as ``predict`` does)."""
    G = np.maximum(problem.X @ W.T + b, 0.0)
    B = float(problem.weight_bound)
    if problem.n_classes == 2:
        pred = (B * G @ out + c[0] > 0).astype(int)
    else:
        pred = (B * G @ out.T + c[None, :]).argmax(axis=1)
    return int((pred != problem.y_idx).sum())


class ReLUMip(SpecialSolver):
    """The registered solver ``"relu-mip"`` (kind ``"relu_training"``)."""

    name = "relu-mip"
    kinds = ("relu_training",)
    problem_class = "MILP"
    is_mip = True
    description = (
        "bounded-weight ReLU network training: a projected gradient-trained MLP, its output "
        "layer re-optimised, then the training MILP from it (never worse than the start)"
    )
    reference = "Thorbjarnarson & Yorke-Smith (2021), IJCNN"

    def solve(self, problem, settings) -> RawAnswer:
        settings = settings.started()
        t0 = time.perf_counter()
        prog = problem.program
        stats = {}
        best_vals = best_obj = None
        if problem.heuristic_start:
            t = time.perf_counter()
            net = relu_gradient_start(problem, settings, _deadline(settings, START_SHARE))
            stats["start_time"] = time.perf_counter() - t
            if net is not None:
                vals, _ = problem.network_values(*net)
                obj, viol = prog.evaluate(vals)
                if viol <= 1e-6:
                    best_vals, best_obj = vals, obj
                    stats["start_objective"] = obj
                    stats["start_errors"] = _relu_errors(problem, *net)
                    # polish: fixed-pattern LPs and output re-optimisation, activations kept
                    t = time.perf_counter()
                    net2, _ = relu_polish(problem, net, settings, _deadline(settings, POLISH_SHARE))
                    stats["polish_time"] = time.perf_counter() - t
                    vals2, _ = problem.network_values(*net2)
                    obj2, viol2 = prog.evaluate(vals2)
                    if viol2 <= 1e-6 and obj2 < best_obj - 1e-9:
                        best_vals, best_obj = vals2, obj2
                    stats["polish_objective"] = best_obj
                    stats["best_from"] = "polish" if obj2 < obj - 1e-9 else "gradient start"
        t = time.perf_counter()
        res = _sub_solve(problem, prog, settings, _reserve(settings), warm_start=best_vals)
        stats["mip_time"] = time.perf_counter() - t
        bound, msg = None, ""
        if res is not None:
            stats["mip_status"] = res.status
            stats["mip_objective"] = res.objective if res.has_solution else None
            stats["sub_solver"] = f"{res.backend}/{res.solver}"
            msg = res.message
            if np.isfinite(res.bound):
                bound = float(res.bound)
            if res.has_solution and res.max_violation <= 1e-6:
                if best_obj is None or res.objective <= best_obj + 1e-9:
                    best_vals, best_obj = res.values, res.objective
                    stats["best_from"] = "training MILP"
                else:
                    stats.setdefault("best_from", "gradient start")
            elif best_vals is not None:
                stats.setdefault("best_from", "gradient start")
        if "start_objective" in stats and best_obj is not None:
            stats["mip_improvement"] = stats["start_objective"] - best_obj
        if best_vals is None:
            ran_out = res is not None and res.status in ("time_limit", "interrupted")
            return RawAnswer(
                status=res.status if ran_out else "time_limit" if settings.expired() else "error",
                message="no network found" + (f" ({msg})" if msg else ""),
                bound=bound,
                stats=stats,
                solve_time=time.perf_counter() - t0,
            )
        status = "time_limit"
        if bound is not None and relative_gap(best_obj, bound) <= self.gap_tolerance(settings):
            status = "optimal"
        return RawAnswer(
            status=status,
            values=best_vals,
            objective=best_obj,
            bound=bound,
            message=f"best network from the {stats.get('best_from')}; bound of the training MILP",
            stats=stats,
            solve_time=time.perf_counter() - t0,
        )


register_special(ReLUMip(), module=__name__)
