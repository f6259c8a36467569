"""``optml demo``: a tour of models written as programs, fitted on bundled data.

Each section fits one model, prints the fit, its certificate (status, objective, bound, gap,
numpy check) and the formulation it solved.
"""

from __future__ import annotations

import time
import traceback
import warnings

import numpy as np


def _rule(title: str) -> None:
    print("\n" + "=" * 78 + f"\n{title}\n" + "=" * 78)


def _certificate(res) -> None:
    print("certificate:")
    for line in res.summary().splitlines():
        print("  " + line)


def demo_program() -> None:
    import optml as om

    _rule("1. A program written by hand: a 0-1 knapsack (MILP)")
    w = np.array([4.0, 3.0, 2.0, 5.0, 1.0, 6.0])
    v = np.array([5.0, 4.0, 3.0, 6.0, 1.0, 8.0])
    p = om.Program("knapsack")
    x = p.var("x", shape=6, domain="binary")
    p.add(w @ x <= 10, name="capacity")
    p.maximize(v @ x)
    res = p.solve()
    print(p.summary())
    print(p.to_latex())
    print(f"chosen items: {np.flatnonzero(res.values['x'] > 0.5).tolist()}")
    _certificate(res)


def demo_lasso() -> None:
    from sklearn.linear_model import Lasso as SkLasso

    from optml.data import load
    from optml.regression import Lasso

    _rule("2. Lasso on the diabetes data (QP in the n-independent Gram form)")
    ds = load("diabetes")
    X, y = ds.X, ds.y
    model = Lasso(alpha=0.5).fit(X, y)
    sk = SkLasso(alpha=0.5, tol=1e-12, max_iter=100000).fit(X, y)
    n = len(y)

    def obj(coef, b):
        r = y - X @ coef - b
        return r @ r / (2 * n) + 0.5 * np.abs(coef).sum()

    print("nonzero coefficients:", [ds.feature_names[j] for j in np.flatnonzero(model.coef_)])
    print(
        f"objective optml {obj(model.coef_, model.intercept_):.10f}   "
        f"scikit-learn {obj(sk.coef_, sk.intercept_):.10f}"
    )
    _certificate(model.result_)
    via = Lasso(alpha=0.5, backend="highs").fit(X, y)  # the same program, handed to HiGHS
    print(
        f"the same QP through HiGHS: objective {obj(via.coef_, via.intercept_):.10f}, "
        f"certified gap {via.result_.gap:.1e}"
    )
    print(model.program_.summary())
    print(model.program_.to_latex())


def demo_best_subset() -> None:
    from optml.backends import available
    from optml.data import load
    from optml.regression import BestSubsetRegression

    _rule("3. Best subset selection, k = 4, on diabetes (MIQP, certified)")
    if not any("MIQP" in r["classes"] for r in available()):
        print('skipped: MIQP needs SCIP — pip install "optml-models[scip]"')
        return
    ds = load("diabetes")
    X = (ds.X - ds.X.mean(0)) / ds.X.std(0)
    model = BestSubsetRegression(k=4, time_limit=60).fit(X, ds.y)
    print("selected features:", [ds.feature_names[j] for j in np.flatnonzero(model.coef_)])
    print("coefficients:", np.round(model.coef_[np.flatnonzero(model.coef_)], 3))
    _certificate(model.result_)
    print(model.program_.summary())


def demo_tree(quick: bool) -> None:
    from sklearn.tree import DecisionTreeClassifier

    from optml.classification import OptimalClassificationTree
    from optml.data import load

    _rule("4. Optimal classification tree of depth 2 on iris (MILP, HiGHS)")
    ds = load("iris")
    tree = OptimalClassificationTree(max_depth=2, time_limit=60).fit(ds.X, ds.y)
    cart = DecisionTreeClassifier(max_depth=2, random_state=0).fit(ds.X, ds.y)
    print(tree.export_text(feature_names=list(ds.feature_names)))
    print(
        f"training accuracy: optimal tree {tree.score(ds.X, ds.y):.4f}, "
        f"CART {cart.score(ds.X, ds.y):.4f}"
    )
    _certificate(tree.result_)
    print(tree.program_.summary())


def demo_kmeans(quick: bool) -> None:
    from optml.clustering import KMeans
    from optml.data import load

    _rule("5. Exact k-means on Ruspini's 75 points, k = 4 (certified global optimum)")
    ds = load("ruspini")
    km = KMeans(n_clusters=4, random_state=0, time_limit=120).fit(ds.X)
    print(f"inertia {km.inertia_:.4f}; cluster sizes {np.bincount(km.labels_).tolist()}")
    _certificate(km.result_)


def demo_relu(quick: bool) -> None:
    from sklearn.neural_network import MLPClassifier

    from optml.data import load
    from optml.nn import ReLUNetwork, verify_robustness

    _rule("6. A trained ReLU network as a MILP: robustness of a digits classifier")
    ds = load("digits")
    X = ds.X / 16.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's ConvergenceWarning: the net is small on purpose
        mlp = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
        mlp.fit(X[:1000], ds.y[:1000])
    net = ReLUNetwork.from_sklearn(mlp)
    for i in range(1000, 1003 if quick else 1006):
        t0 = time.perf_counter()
        r = verify_robustness(
            net, X[i], label=int(ds.y[i]), epsilon=0.05, norm="inf", lb=0.0, ub=1.0
        )
        verdict = "robust" if r.robust else "NOT robust (counterexample verified by a forward pass)"
        print(
            f"image {i} (label {ds.y[i]}): {verdict}; best other logit minus true logit over "
            f"the ball: {r.margin:.4f}; {time.perf_counter() - t0:.2f} s"
        )


def run_demo(quick: bool = False) -> int:
    """Run every section; return 1 if any section failed, else 0."""
    sections = [
        demo_program,
        demo_lasso,
        demo_best_subset,
        lambda: demo_tree(quick),
        lambda: demo_kmeans(quick),
        lambda: demo_relu(quick),
    ]
    failed = 0
    t0 = time.perf_counter()
    for s in sections:
        try:
            s()
        except Exception:
            failed += 1
            print("this section failed:")
            traceback.print_exc()
    print(
        f"\noptml demo finished in {time.perf_counter() - t0:.1f} s"
        + (f" with {failed} failed section(s)" if failed else "")
    )
    return 1 if failed else 0
