"""Robust linear classifiers against cvxpy on the same objective, the label-flip dual against
enumeration of the flip sets, and the exact attacks against brute force on tiny data."""

import itertools

import numpy as np
import pytest

from optml.adversarial import adversarial_accuracy, attack, linear_scores
from optml.classification import RobustLogisticRegression, RobustSVM, SoftMarginSVM
from optml.formulations.robust import robust_linear_classifier, robust_loss_value

cp = pytest.importorskip("cvxpy")


def _data(n=30, d=3, seed=0, flip=0.15):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    s = np.where(X @ rng.normal(size=d) + 0.3 * rng.normal(size=n) > 0, 1.0, -1.0)
    s[rng.random(n) < flip] *= -1
    return X, s


def _cp_dual(w, norm):
    return {"inf": cp.norm1, "1": lambda v: cp.norm_inf(v), "2": cp.norm2}[norm](w)


@pytest.mark.parametrize("loss", ["hinge", "logistic"])
@pytest.mark.parametrize("norm", ["inf", "1", "2"])
def test_feature_robust_counterpart_matches_cvxpy(loss, norm):
    X, s = _data(seed=1)
    C, eps = 0.7, 0.15
    prog = robust_linear_classifier(X, s, loss=loss, C=C, eps=eps, norm=norm)
    r = prog.solve()
    assert r.status == "optimal" and r.verified
    w, b = cp.Variable(3), cp.Variable()
    m = cp.multiply(s, X @ w + b)
    shift = eps * _cp_dual(w, norm)
    ell = cp.pos(1 - m + shift) if loss == "hinge" else cp.logistic(-m + shift)
    ref = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(w) + C * cp.sum(ell)))
    ref.solve()
    assert r.objective == pytest.approx(ref.value, rel=1e-5, abs=1e-6)
    # the program's value is the worst case over the ball computed in numpy
    wv, bv = r.values["w"], float(r.values["b"])
    worst = 0.5 * wv @ wv + C * robust_loss_value(wv, bv, X, s, loss=loss, eps=eps, norm=norm)
    assert worst == pytest.approx(r.objective, rel=1e-7, abs=1e-8)


@pytest.mark.parametrize("loss", ["hinge", "logistic"])
@pytest.mark.parametrize("gamma", [1, 2])
def test_label_flip_dual_matches_enumeration(loss, gamma):
    X, s = _data(n=7, d=2, seed=2)
    C, eps = 1.0, 0.1
    prog = robust_linear_classifier(X, s, loss=loss, C=C, eps=eps, gamma=gamma)
    r = prog.solve(backend="cvxpy", solver="CLARABEL")
    assert r.status == "optimal"
    # reference: the max over every flip set of at most gamma labels, written out in cvxpy
    w, b = cp.Variable(2), cp.Variable()
    m = cp.multiply(s, X @ w + b)
    shift = eps * cp.norm1(w)
    kept = cp.pos(1 - m + shift) if loss == "hinge" else cp.logistic(-m + shift)
    flipped = cp.pos(1 + m + shift) if loss == "hinge" else cp.logistic(m + shift)
    sets = [()] + [c for k in range(1, gamma + 1) for c in itertools.combinations(range(7), k)]
    # max over F of sum_i (flipped_i if i in F else kept_i): a max of convex sums
    worst = cp.max(
        cp.hstack(
            [cp.sum(cp.hstack([flipped[i] if i in F else kept[i] for i in range(7)])) for F in sets]
        )
    )
    ref = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(w) + C * worst))
    ref.solve()
    assert r.objective == pytest.approx(ref.value, rel=1e-5, abs=1e-6)
    # and the numpy top-gamma formula at the optimum agrees with enumeration of the sets
    wv, bv = r.values["w"], float(r.values["b"])
    mv = s * (X @ wv + bv)
    sh = eps * np.abs(wv).sum()
    f = (
        (lambda t: np.maximum(1 - t + sh, 0))
        if loss == "hinge"
        else (lambda t: np.logaddexp(0, -t + sh))
    )
    brute = max(sum(f(-mv[i]) if i in F else f(mv[i]) for i in range(7)) for F in sets)
    assert robust_loss_value(wv, bv, X, s, loss=loss, eps=eps, gamma=gamma) == pytest.approx(brute)
    assert 0.5 * wv @ wv + C * brute == pytest.approx(r.objective, rel=1e-6, abs=1e-6)


def test_robust_svm_estimator_is_the_program_and_beats_nominal_on_its_objective():
    X, s = _data(n=60, d=4, seed=3)
    y = (s > 0).astype(int)
    eps = 0.2
    rob = RobustSVM(C=1.0, eps=eps).fit(X, y)
    nom = SoftMarginSVM(C=1.0).fit(X, y)
    assert rob.result_.verified
    ref = rob.program_.evaluate(rob.result_.values)[0]
    assert ref == pytest.approx(rob.result_.objective)

    def robust_obj(est):
        w, b = est.coef_.ravel(), float(est.intercept_[0])
        return 0.5 * w @ w + robust_loss_value(w, b, X, s, eps=eps)

    assert robust_obj(rob) <= robust_obj(nom) + 1e-7
    # eps = 0: the nominal SVM's optimum
    zero = RobustSVM(C=1.0, eps=0.0).fit(X, y)
    assert zero.result_.objective == pytest.approx(nom.result_.objective, rel=1e-6)


def test_robust_logistic_multiclass_and_label_flips_fit():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(45, 3))
    y = np.argmax(X @ rng.normal(size=(3, 3)), axis=1)
    clf = RobustLogisticRegression(eps=0.05, norm="2").fit(X, y)
    assert clf.coef_.shape == (3, 3) and clf.predict_proba(X).shape == (45, 3)
    flip = RobustSVM(eps=0.05, gamma=2).fit(X[:20], (y[:20] == 0).astype(int))
    assert flip.result_.status == "optimal" and flip.result_.verified


@pytest.mark.parametrize("bad", [dict(eps=-1), dict(gamma=-0.5), dict(norm="3"), dict(C=0)])
def test_bad_parameters_are_refused(bad):
    X, s = _data(n=10)
    with pytest.raises(ValueError):
        RobustSVM(**bad).fit(X, s)


# ----------------------------------------------------------------------------- attacks
def _brute_linear(W, b, x, label, eps, norm, lo, hi):
    """Smallest margin over the ball: LP by scipy (L-inf, L1), cvxpy (L2)."""
    best = np.inf
    for k in range(W.shape[0]):
        if k == label:
            continue
        v, c = W[label] - W[k], b[label] - b[k]
        d = cp.Variable(x.size)
        cons = [cp.norm(d, {"inf": "inf", "1": 1, "2": 2}[norm]) <= eps]
        cons += [x + d >= lo, x + d <= hi]
        pr = cp.Problem(cp.Minimize(v @ (x + d) + c), cons)
        pr.solve()
        best = min(best, pr.value)
    return best


@pytest.mark.parametrize("norm", ["inf", "1", "2"])
@pytest.mark.parametrize("box", [False, True])
def test_linear_attack_is_the_exact_worst_case(norm, box):
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 1, size=(40, 3))
    y = np.argmax((X - 0.5) @ np.eye(3) + 0.1 * rng.normal(size=(40, 3)), axis=1)
    clf = RobustSVM(eps=0.0).fit(X, y)
    lb, ub = (0.0, 1.0) if box else (None, None)
    eps = 0.08
    res = attack(clf, X[:8], y[:8], eps, norm=norm, lb=lb, ub=ub)
    W, b, _ = linear_scores(clf)
    assert W.shape[0] == 3
    lo = np.zeros(3) if box else np.full(3, -1e6)
    hi = np.ones(3) if box else np.full(3, 1e6)
    for i in range(8):
        label = int(np.searchsorted(clf.classes_, y[i]))
        ref = _brute_linear(W, b, X[i], label, eps, norm, lo, hi)
        assert res.margin[i] == pytest.approx(ref, abs=1e-6)
    # the verdicts: proven robust exactly where the worst margin is positive and the clean
    # prediction right; every counterexample is misclassified by predict inside the ball
    assert np.array_equal(res.robust, (res.margin > 0) & res.correct)
    if res.counterexample.any():
        Z = res.X_adv[res.counterexample]
        assert (clf.predict(Z) != y[:8][res.counterexample]).all()
        assert np.all(np.abs(Z - X[:8][res.counterexample]).max(axis=1) <= eps + 1e-9)


def test_binary_attack_closed_form_vs_vertices():
    X, s = _data(n=25, d=3, seed=6)
    y = (s > 0).astype(int)
    clf = SoftMarginSVM(C=1.0).fit(X, y)
    eps = 0.3
    res = attack(clf, X, y, eps, norm="inf")
    verts = np.array(list(itertools.product([-eps, eps], repeat=3)))
    for i in range(25):
        pred = clf.predict(X[i] + verts)
        assert res.robust[i] == bool(np.all(pred == y[i]))
    assert adversarial_accuracy(clf, X, y, eps) == pytest.approx(res.robust.mean())
    assert adversarial_accuracy(clf, X, y, 0.0) == pytest.approx(clf.score(X, y))


def test_attack_refuses_unknown_models():
    with pytest.raises(TypeError, match="linear classifier"):
        attack(object(), np.zeros((2, 2)), [0, 1], 0.1)
    X, s = _data(n=10)
    clf = SoftMarginSVM().fit(X, s)
    with pytest.raises(ValueError, match="norm"):
        attack(clf, X, s, 0.1, norm="3")
    with pytest.raises(ValueError, match="eps"):
        attack(clf, X, s, -0.1)


@pytest.mark.parametrize("loss", ["squared", "absolute"])
@pytest.mark.parametrize("norm", ["inf", "2"])
def test_robust_regression_counterpart_matches_cvxpy_and_the_worst_case(loss, norm):
    from optml.formulations.robust import robust_linear_regression

    rng = np.random.default_rng(9)
    X = rng.normal(size=(25, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.normal(size=25)
    eps, alpha = 0.2, 0.1
    r = robust_linear_regression(X, y, loss=loss, eps=eps, norm=norm, alpha=alpha).solve()
    assert r.status == "optimal" and r.verified
    w, b = cp.Variable(3), cp.Variable()
    worst = cp.abs(y - X @ w - b) + eps * _cp_dual(w, norm)
    f = cp.sum_squares(worst) if loss == "squared" else cp.sum(worst)
    ref = cp.Problem(cp.Minimize(f + alpha * cp.sum_squares(w)))
    ref.solve()
    assert r.objective == pytest.approx(ref.value, rel=1e-5, abs=1e-6)
    # the worst residual over the ball, by its maximiser delta = -sign(r) eps * (dual direction)
    wv, bv = np.asarray(r.values["w"]), float(r.values["b"])
    res = y - X @ wv - bv
    d = eps * (np.sign(wv) if norm == "inf" else wv / np.linalg.norm(wv))
    worst_v = np.abs(y - (X - np.sign(res)[:, None] * d) @ wv - bv)
    val = (worst_v**2).sum() if loss == "squared" else worst_v.sum()
    assert val + alpha * wv @ wv == pytest.approx(r.objective, rel=1e-6)
