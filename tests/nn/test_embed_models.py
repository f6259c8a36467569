"""embed for boosting, pipelines, logistic regression and SVMs: at random inputs inside the
bounds (fixed in the program) ``out`` equals the model's own predict / decision_function /
predict_proba, on every backend that takes the problem class; optima against brute force."""

import importlib.util

import numpy as np
import pytest

import optml as om
from optml.formulations.embed_nonlinear import sigmoid, sigmoid_breakpoints, sigmoid_error_bound
from optml.nn import embed

LO = np.array([-1.0, 0.0, 2.0])
HI = np.array([1.0, 3.0, 2.5])
# cvxpy -> SCIP repeats the pyomo -> SCIP checks through another interface: slow suite only
MILP_BACKENDS = [
    ("highs", None),
    ("pyomo", "scip"),
    pytest.param("cvxpy", "scip", marks=pytest.mark.slow),
]


@pytest.fixture(autouse=True)
def _one_thread():
    # OpenMP pools of HistGradientBoosting / LightGBM / XGBoost on a shared 2-core machine
    # cost seconds per tiny fit or predict; the test data are tiny
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(LO, HI, (200, 3))
    y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] - X[:, 2] + 0.2 * rng.normal(size=200)
    yb = (y + 0.3 * rng.normal(size=200) > np.median(y)).astype(int)  # noisy, overlapping
    y3 = np.digitize(y + 0.3 * rng.normal(size=200), np.quantile(y, [0.33, 0.66]))
    return X, y, yb, y3


def own(model, output, X, n_out):
    """What the model itself says at the rows of X (one row per point)."""
    mod = type(getattr(model, "steps", [[None, model]])[-1][1]).__module__
    if output == "class":
        lab = model.predict(X)
        return (lab[:, None] == np.asarray(model.classes_)[None, :]).astype(float)
    if output in ("proba", "log_proba"):
        P = model.predict_proba(X)
        P = P[:, 1:] if n_out == 1 else P
        return np.log(P) if output == "log_proba" else P
    if mod.startswith("xgboost"):
        v = model.predict(X, output_margin=True)
    elif mod.startswith("lightgbm"):
        v = model.predict(X, raw_score=True)
    elif hasattr(model, "classes_"):
        v = model.decision_function(X)
    else:
        v = model.predict(X)
    return np.asarray(v, dtype=float).reshape(len(X), -1)


def check_random_points(
    model,
    n_out,
    output=None,
    backend="highs",
    solver=None,
    n_points=5,
    tol=1e-6,
    seed=1,
    **kw,
):
    """Embed ``n_points`` copies, fix each input to a random point in [LO, HI], solve once,
    compare each ``out`` with the model's own answer; returns the embeddings."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(LO, HI, (n_points, 3))
    p = om.Program()
    outs, embs = [], []
    for i, pt in enumerate(pts):
        x = p.var(f"x{i}", shape=3, lb=LO, ub=HI)
        o = p.var(f"o{i}", shape=n_out, lb=-1e4, ub=1e4)
        embs.append(embed(p, model, x, o, output=output, name=f"m{i}", **kw))
        p.fix(x, pt)
        outs.append(o)
    p.maximize(om.sum(om.hstack(outs)))
    res = p.solve(backend=backend, solver=solver)
    assert res.status == "optimal", res.status
    expect = own(model, output or "decision", pts, n_out)
    bound = embs[0].error_bound
    if output == "log_proba":
        # out <= log p holds to the solver's feasibility; the sum of the shortfalls is at most
        # the certified distance to the optimum (bound - objective)
        bound = max(res.bound - res.objective, 0.0) + res.max_violation
    for i, (o, emb) in enumerate(zip(outs, embs, strict=True)):
        got = np.atleast_1d(o.value(res.values))
        assert np.abs(got - expect[i]).max() <= tol * max(1, np.abs(expect[i]).max()) + bound, (
            got,
            expect[i],
        )
        assert emb.check(res, tol=tol + bound).ok
    return embs, res


# ------------------------------------------------------------------ gradient boosting
@pytest.mark.parametrize("backend,solver", MILP_BACKENDS)
def test_gradient_boosting_regressor_every_backend(data, backend, solver, solver_or_skip):
    from sklearn.ensemble import GradientBoostingRegressor

    solver_or_skip(backend, solver)
    X, y, _, _ = data
    gb = GradientBoostingRegressor(n_estimators=15, max_depth=3, learning_rate=0.2, random_state=0)
    gb.fit(X, y)
    embs, _ = check_random_points(gb, 1, backend=backend, solver=solver)
    assert embs[0].n_binaries == sum(e.get_n_leaves() for e in gb.estimators_[:, 0])


@pytest.mark.parametrize("backend,solver", MILP_BACKENDS)
def test_gradient_boosting_classifiers_every_backend(data, backend, solver, solver_or_skip):
    from sklearn.ensemble import GradientBoostingClassifier

    solver_or_skip(backend, solver)
    X, _, yb, y3 = data
    gb2 = GradientBoostingClassifier(n_estimators=8, max_depth=2, random_state=0).fit(X, yb)
    gb3 = GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=0).fit(X, y3)
    check_random_points(gb2, 1, backend=backend, solver=solver)
    check_random_points(gb2, 2, output="class", backend=backend, solver=solver)
    check_random_points(gb3, 3, backend=backend, solver=solver)
    check_random_points(gb3, 3, output="class", backend=backend, solver=solver)


def test_gradient_boosting_probability_and_exponential_loss(data):
    from sklearn.ensemble import GradientBoostingClassifier

    X, _, yb, _ = data
    gb = GradientBoostingClassifier(n_estimators=8, max_depth=2, random_state=0).fit(X, yb)
    embs, _ = check_random_points(gb, 2, output="proba", n_pieces=16)
    assert 0 < embs[0].error_bound < 2e-3
    ex = GradientBoostingClassifier(loss="exponential", n_estimators=6, max_depth=2, random_state=0)
    check_random_points(ex.fit(X, yb), 1, output="proba")


@pytest.mark.parametrize("backend,solver", MILP_BACKENDS[:2])
def test_hist_gradient_boosting(data, backend, solver, solver_or_skip):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    solver_or_skip(backend, solver)
    X, y, yb, y3 = data
    kw = dict(max_iter=10, max_leaf_nodes=6, random_state=0)
    check_random_points(
        HistGradientBoostingRegressor(**kw).fit(X, y), 1, backend=backend, solver=solver
    )
    hb = HistGradientBoostingClassifier(**kw).fit(X, yb)
    check_random_points(hb, 1, backend=backend, solver=solver)
    check_random_points(hb, 2, output="class", backend=backend, solver=solver)
    check_random_points(
        HistGradientBoostingClassifier(**kw).fit(X, y3), 3, backend=backend, solver=solver
    )


def _cell_max(model, lo, hi, thresholds):
    """Brute force: a tree ensemble is constant on the cells cut by its thresholds; its maximum
    over the box is the best value at the cells' midpoints."""
    axes = []
    for j in range(len(lo)):
        t = np.unique(np.clip(np.concatenate([[lo[j], hi[j]], thresholds[j]]), lo[j], hi[j]))
        mids = (t[:-1] + t[1:]) / 2 if t.size > 1 else t
        axes.append(mids)
    G = np.array(np.meshgrid(*axes)).reshape(len(lo), -1).T
    return model.predict(G).max()


def test_gradient_boosting_optimum_equals_cell_enumeration(data):
    from sklearn.ensemble import GradientBoostingRegressor

    X, y, _, _ = data
    X2 = X[:, :2]
    gb = GradientBoostingRegressor(n_estimators=12, max_depth=2, random_state=0).fit(X2, y)
    thr = [[], []]
    for e in gb.estimators_[:, 0]:
        t = e.tree_
        for f, s in zip(t.feature, t.threshold, strict=True):
            if f >= 0:
                thr[f].append(s)
    p = om.Program()
    x = p.var("x", shape=2, lb=LO[:2], ub=HI[:2])
    out = p.var("out", shape=1)
    emb = embed(p, gb, x, out)
    p.maximize(out[0])
    res = p.solve()
    assert res.status == "optimal" and emb.check(res)
    brute = _cell_max(gb, LO[:2], HI[:2], thr)
    assert res.objective == pytest.approx(brute, abs=1e-6)


# ------------------------------------------------------------------ XGBoost / LightGBM
def test_xgboost(data):
    xgb = pytest.importorskip("xgboost")
    X, y, yb, y3 = data
    kw = dict(n_estimators=8, max_depth=3, learning_rate=0.3, random_state=0, n_jobs=1)
    check_random_points(xgb.XGBRegressor(**kw).fit(X, y), 1, tol=1e-5)
    cb = xgb.XGBClassifier(**kw).fit(X, yb)
    check_random_points(cb, 1, tol=1e-5)
    check_random_points(cb, 2, output="class")
    check_random_points(cb, 1, output="proba", tol=1e-5)
    check_random_points(
        xgb.XGBClassifier(**kw).fit(X, y3), 3, tol=1e-5, backend="pyomo", solver="scip"
    )


def test_lightgbm(data):
    lgb = pytest.importorskip("lightgbm")
    X, y, yb, y3 = data
    kw = dict(
        n_estimators=8, num_leaves=6, min_child_samples=5, random_state=0, verbose=-1, n_jobs=1
    )
    check_random_points(lgb.LGBMRegressor(**kw).fit(X, y), 1)
    cb = lgb.LGBMClassifier(**kw).fit(X, yb)
    check_random_points(cb, 1)
    check_random_points(cb, 2, output="class")
    check_random_points(cb, 2, output="proba")
    check_random_points(lgb.LGBMClassifier(**kw).fit(X, y3), 3, backend="pyomo", solver="scip")


# ------------------------------------------------------------------ pipelines
@pytest.mark.parametrize("backend,solver", MILP_BACKENDS)
def test_pipelines_every_backend(data, backend, solver, solver_or_skip):
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler

    solver_or_skip(backend, solver)
    X, y, yb, _ = data
    gbp = make_pipeline(StandardScaler(), GradientBoostingRegressor(n_estimators=6, max_depth=2))
    check_random_points(gbp.fit(X, y), 1, backend=backend, solver=solver)
    lrp = make_pipeline(MinMaxScaler(), LogisticRegression()).fit(X, yb)
    check_random_points(lrp, 1, backend=backend, solver=solver)
    check_random_points(lrp, 2, output="class", backend=backend, solver=solver)
    mlp = make_pipeline(
        MaxAbsScaler(), MLPRegressor(hidden_layer_sizes=(6,), random_state=0, max_iter=300)
    )
    check_random_points(mlp.fit(X, y), 1, backend=backend, solver=solver)


def test_polynomial_features_refused_or_mccormick(data):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    X, y, _, _ = data
    pipe = make_pipeline(StandardScaler(), PolynomialFeatures(2), Ridge(alpha=1e-3)).fit(X, y)
    p = om.Program()
    x = p.var("x", shape=3, lb=LO, ub=HI)
    with pytest.raises(ValueError, match="mccormick"):
        embed(p, pipe, x, p.var("o", shape=1))
    # McCormick is exact when the box is a point: the formulation's algebra is right
    rng = np.random.default_rng(3)
    for _ in range(3):
        pt = rng.uniform(LO, HI)
        p = om.Program()
        x = p.var("x", shape=3, lb=pt, ub=pt)
        o = p.var("o", shape=1)
        emb = embed(p, pipe, x, o, polynomial="mccormick")
        assert emb.exact  # a point box: the envelope is the product
        p.maximize(o[0])
        res = p.solve()
        assert o.value(res.values)[0] == pytest.approx(pipe.predict(pt[None])[0], abs=1e-6)
    # on the box it is a relaxation: its maximum bounds the true maximum from above
    p = om.Program()
    x = p.var("x", shape=3, lb=LO, ub=HI)
    o = p.var("o", shape=1)
    emb = embed(p, pipe, x, o, polynomial="mccormick")
    p.maximize(o[0])
    res = p.solve()
    G = np.array(np.meshgrid(*[np.linspace(a, b, 25) for a, b in zip(LO, HI, strict=True)]))
    assert res.objective >= pipe.predict(G.reshape(3, -1).T).max() - 1e-6
    assert not emb.exact and emb.relaxation_gap > 0 and "RELAXATION" in emb.summary()


# ------------------------------------------------------------------ logistic regression
@pytest.mark.parametrize("backend,solver", MILP_BACKENDS)
def test_logistic_regression_every_backend(data, backend, solver, solver_or_skip):
    from sklearn.linear_model import LogisticRegression

    solver_or_skip(backend, solver)
    X, _, yb, y3 = data
    lr = LogisticRegression().fit(X, yb)
    check_random_points(lr, 1, backend=backend, solver=solver)
    check_random_points(lr, 2, output="class", backend=backend, solver=solver)
    embs, _ = check_random_points(lr, 2, output="proba", backend=backend, solver=solver)
    assert embs[0].error_bound <= 1e-3
    lr3 = LogisticRegression().fit(X, y3)
    check_random_points(lr3, 3, backend=backend, solver=solver)
    check_random_points(lr3, 3, output="class", backend=backend, solver=solver)


@pytest.mark.parametrize("backend,solver", [("cvxpy", "clarabel"), ("cvxpy", "ecos")])
def test_logistic_log_probability_exponential_cone(data, backend, solver):
    if solver == "ecos" and importlib.util.find_spec("ecos") is None:
        pytest.skip("ECOS is not installed (cvxpy no longer ships it)")
    from sklearn.linear_model import LogisticRegression

    X, _, yb, _ = data
    lr = LogisticRegression(C=10.0).fit(X, yb)
    embs, _ = check_random_points(
        lr, 2, output="log_proba", backend=backend, solver=solver, tol=1e-5
    )
    assert embs[0].error_bound == 0.0
    # maximise p(class 1) over the box: the exact answer is at the best corner of the box
    p = om.Program()
    x = p.var("x", shape=3, lb=LO, ub=HI)
    ell = p.var("ell", shape=1)
    embed(p, lr, x, ell, output="log_proba")
    p.maximize(ell[0])
    res = p.solve(backend=backend, solver=solver)
    corner = np.where(lr.coef_[0] > 0, HI, LO)
    assert np.exp(res.objective) == pytest.approx(lr.predict_proba(corner[None])[0, 1], abs=1e-5)


def test_piecewise_sigmoid_error_bound_holds():
    for lo, hi, n in [(-3.0, 2.0, 4), (-30.0, 40.0, 16), (0.5, 0.6, 1)]:
        b = sigmoid_breakpoints(lo, hi, n)
        s = np.linspace(lo, hi, 20001)
        err = np.abs(sigmoid(s) - np.interp(s, b, sigmoid(b))).max()
        bound = sigmoid_error_bound(b)
        assert err <= bound + 1e-15
        assert bound <= 4 * err + 1e-12  # and not loose by more than a small factor


def test_probability_maximum_within_the_stated_error(data):
    from sklearn.linear_model import LogisticRegression

    X, _, yb, _ = data
    lr = LogisticRegression().fit(X, yb)
    p = om.Program()
    x = p.var("x", shape=3, lb=LO, ub=HI)
    prob = p.var("prob", shape=1)
    emb = embed(p, lr, x, prob, output="proba", n_pieces=4)
    p.minimize(prob[0])
    res = p.solve()
    corner = np.where(lr.coef_[0] > 0, LO, HI)
    true_min = lr.predict_proba(corner[None])[0, 1]
    assert abs(res.objective - true_min) <= emb.error_bound + 1e-9
    assert emb.check(res)


# ------------------------------------------------------------------ SVMs
@pytest.mark.parametrize("backend,solver", MILP_BACKENDS)
def test_linear_svms_every_backend(data, backend, solver, solver_or_skip):
    from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR

    solver_or_skip(backend, solver)
    X, y, yb, y3 = data
    for m, n in [
        (LinearSVC().fit(X, yb), 1),
        (LinearSVC().fit(X, y3), 3),
        (SVC(kernel="linear").fit(X, yb), 1),
        (SVC(kernel="linear", decision_function_shape="ovo").fit(X, y3), 3),
        (LinearSVR().fit(X, y), 1),
        (SVR(kernel="linear").fit(X, y), 1),
    ]:
        check_random_points(m, n, backend=backend, solver=solver)
    check_random_points(LinearSVC().fit(X, y3), 3, output="class", backend=backend, solver=solver)
    check_random_points(
        SVC(kernel="linear").fit(X, yb), 2, output="class", backend=backend, solver=solver
    )


def test_refusals(data):
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.svm import SVC, LinearSVC

    X, y, yb, y3 = data
    p = om.Program()
    x = p.var("x", shape=3, lb=LO, ub=HI)
    o = p.var("o", shape=3)
    with pytest.raises(TypeError, match="kernel='rbf'"):
        embed(p, SVC().fit(X, yb), x, o[:1])
    with pytest.raises(ValueError, match="ovo"):
        embed(p, SVC(kernel="linear").fit(X, y3), x, o)
    with pytest.raises(ValueError, match="multi-class softmax"):
        embed(p, LogisticRegression().fit(X, y3), x, o, output="proba")
    with pytest.raises(ValueError, match="logistic link"):
        embed(p, LinearSVC().fit(X, yb), x, o[:2], output="proba")
    with pytest.raises(ValueError, match="needs a classifier"):
        embed(p, Ridge().fit(X, y), x, o[:1], output="class")
    with pytest.raises(ValueError, match="output must be"):
        embed(p, Ridge().fit(X, y), x, o[:1], output="probability")
    gb = GradientBoostingClassifier(n_estimators=2, init=LogisticRegression()).fit(X, yb)
    with pytest.raises(TypeError, match="init"):
        embed(p, gb, x, o[:1])


def test_band_around_thresholds_is_left_out_on_both_sides():
    """A solver may let x slip ~1e-6 past a big-M row; the program leaves out a band around
    every threshold, so inside it there is no solution and just outside it the leaf is the
    model's own (x <= t goes left in scikit-learn)."""
    from sklearn.tree import DecisionTreeRegressor

    from optml.formulations.embed import split_margin

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 10, (60, 1))
    tree = DecisionTreeRegressor(max_depth=2, random_state=0).fit(X, np.sin(X[:, 0]))
    t = tree.tree_.threshold[0]
    d = split_margin(t, 0.0, 10.0)
    assert d >= 4e-6 * 11
    for offset, feasible in [(-0.5, False), (0.5, False), (0.0, False), (-2, True), (2, True)]:
        p = om.Program()
        x = p.var("x", shape=1, lb=0, ub=10)
        o = p.var("o", shape=1)
        emb = embed(p, tree, x, o)
        p.fix(x, [t + offset * d])
        p.maximize(o[0])
        res = p.solve()
        assert (res.status == "optimal") == feasible, (offset, res.status)
        if feasible:
            assert emb.check(res)


def test_one_hot_column_transformer_pipeline():
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(2)
    cat = rng.integers(0, 4, 300)
    Z = rng.uniform(0, 1, (300, 2))
    X = np.column_stack([cat, Z])
    y = np.array([0.0, 1.0, -0.5, 0.3])[cat] + np.sin(3 * Z[:, 0]) * Z[:, 1]
    ct = ColumnTransformer(
        [("cat", OneHotEncoder(drop="first"), [0]), ("num", StandardScaler(), [1, 2])]
    )
    pipe = make_pipeline(ct, GradientBoostingRegressor(n_estimators=10, max_depth=3)).fit(X, y)
    lo, hi = np.array([0, 0, 0.0]), np.array([3, 1, 1.0])
    p = om.Program()
    xs, os_, pts = [], [], np.column_stack([rng.integers(0, 4, 4), rng.uniform(0, 1, (4, 2))])
    for i, pt in enumerate(pts):
        x = p.var(f"x{i}", shape=3, lb=lo, ub=hi)
        o = p.var(f"o{i}", shape=1)
        emb = embed(p, pipe, x, o, name=f"m{i}")
        p.fix(x, pt)
        xs.append(x)
        os_.append(o)
    assert emb.exact and emb.n_binaries >= 4
    res = p.solve()
    got = np.array([o.value(res.values)[0] for o in os_])
    assert np.allclose(got, pipe.predict(pts), atol=1e-6)
    # optimum over the category and the box: the best of the per-category cell enumerations
    p = om.Program()
    x = p.var("x", shape=3, lb=lo, ub=hi)
    o = p.var("o", shape=1)
    emb = embed(p, pipe, x, o)
    p.maximize(o[0])
    res = p.solve()
    assert emb.check(res) and float(x.value(res.values)[0]) in (0.0, 1.0, 2.0, 3.0)
    G = np.linspace(0, 1, 61)
    grid = np.array([[c, a, b] for c in range(4) for a in G for b in G])
    assert res.objective >= pipe.predict(grid).max() - 1e-9
    with pytest.raises(ValueError, match="numbers"):
        enc = make_pipeline(OneHotEncoder(), GradientBoostingRegressor(n_estimators=2))
        enc.fit(np.array([["a"], ["b"], ["a"]]), [1.0, 2.0, 1.0])
        q = om.Program()
        embed(q, enc, q.var("z", shape=1, lb=0, ub=1), q.var("oz", shape=1))


def test_extra_trees_and_tree_classifier_class_output(data):
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestClassifier

    X, y, _, y3 = data
    et = ExtraTreesRegressor(n_estimators=4, max_depth=3, random_state=0).fit(X, y)
    check_random_points(et, 1)
    rf = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y3)
    check_random_points(rf, 3, output="proba")
    check_random_points(rf, 3, output="class")
    with pytest.raises(ValueError, match="probabilities"):
        p = om.Program()
        embed(p, rf, p.var("x", shape=3, lb=LO, ub=HI), p.var("o", shape=3), output="decision")


def test_pipeline_with_mlp_classifier_gives_logits(data):
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from optml.nn import ReLUNetwork

    X, _, _, y3 = data
    pipe = make_pipeline(StandardScaler(), MLPClassifier((5,), random_state=0, max_iter=200))
    pipe.fit(X, y3)
    net = ReLUNetwork.from_sklearn(pipe[-1])
    pts = np.random.default_rng(4).uniform(LO, HI, (3, 3))
    for pt in pts:
        p = om.Program()
        x = p.var("x", shape=3, lb=LO, ub=HI)
        o = p.var("o", shape=3)
        emb = embed(p, pipe, x, o)
        p.fix(x, pt)
        p.maximize(o.sum())
        res = p.solve()
        logits = net.forward(pipe[:-1].transform(pt[None])[0])
        assert np.allclose(o.value(res.values), logits, atol=1e-6)
        assert emb.check(res)
        assert int(np.argmax(logits)) == list(pipe.classes_).index(pipe.predict(pt[None])[0])


def test_log_probability_of_trees_warns_miexp(data, caplog):
    from sklearn.ensemble import GradientBoostingClassifier

    X, _, yb, _ = data
    gb = GradientBoostingClassifier(n_estimators=2, max_depth=2, random_state=0).fit(X, yb)
    p = om.Program()
    with caplog.at_level("WARNING", logger="optml"):
        embed(p, gb, p.var("x", shape=3, lb=LO, ub=HI), p.var("o", shape=1), output="log_proba")
    assert "MIEXP" in caplog.text
    assert p.problem_class == "MIEXP"


def test_pls_regression_centres_x_and_odd_linear_models_are_refused(data):
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.linear_model import LinearRegression

    X, y, _, _ = data
    check_random_points(PLSRegression(n_components=2).fit(X, y), 1)

    class Shifted(LinearRegression):  # coef_ does not tell the whole story
        def predict(self, X):
            return super().predict(X) + 1.0

    p = om.Program()
    with pytest.raises(ValueError, match="do not reproduce"):
        embed(p, Shifted().fit(X, y), p.var("x", shape=3, lb=LO, ub=HI), p.var("o", shape=1))
