"""Machine teaching: the smallest training set that makes ridge regression return a target.

Run: python examples/teaching_ridge.py [--plot]

Pool: the 21 runs of the bundled stack-loss data (Brownlee 1965; 3 features, standardised).
The teacher knows the learner, ``sklearn.linear_model.Ridge(alpha=1)``, and chooses examples
of the pool so that ridge trained on them returns a target model. Ridge's normal equations
at the fixed target are linear in the chosen counts, so the bilevel problem is one MILP
(Zhu 2015). Three targets:

1. a model that five planted runs (one of them taken twice) produce: taught exactly;
2. the ridge fit of all 21 runs, within a tolerance on the normal equations: how few runs
   teach the full-data model approximately;
3. least squares (alpha = 0) on the same target: uniqueness needs full rank, enforced by a
   lazy family of cuts.

Every teaching set is certified minimal (bound = objective) and checked by retraining
scikit-learn's Ridge on it. ``--plot`` saves teaching_ridge.png.
"""

import sys

import numpy as np

from optml import data
from optml.teaching import TeachingSet


def ridge_fit(X, y, alpha):
    xm, ym = X.mean(0), y.mean()
    Xc = X - xm
    w = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T @ (y - ym))
    return w, ym - xm @ w


def report(title, ts):
    res, chk = ts.result_, ts.verify()
    print(f"\n{title}")
    print(
        f"  teaching set: {ts.n_examples_} examples, runs {ts.support_.tolist()} "
        f"(counts {ts.counts_[ts.support_].tolist()})"
    )
    print(
        f"  certificate: status {res.status}, objective {res.objective:g}, bound {res.bound:g}, "
        f"gap {res.gap:.1e}, verified {res.verified}, {res.problem_class} "
        f"({res.backend}/{res.solver}, {res.solve_time:.2f}s)"
    )
    print(
        f"  retrained with {chk.implementation}: |theta - theta*|_inf = {chk.distance:.2e} "
        f"(allowed {chk.allowed:.2e}) -> {'passed' if chk.passed else 'FAILED'}"
    )
    return chk


def main(plot: bool = False) -> None:
    ds = data.load("stackloss")
    X = (ds.X - ds.X.mean(0)) / ds.X.std(0)
    y = ds.y
    print(f"pool: stack loss, {X.shape[0]} runs, {X.shape[1]} standardised features")

    planted = np.zeros(21, int)
    planted[[0, 4, 9, 15, 20]] = [1, 1, 2, 1, 1]
    w1, b1 = ridge_fit(np.repeat(X, planted, axis=0), np.repeat(y, planted), 1.0)
    ts1 = TeachingSet(learner="ridge", alpha=1.0, max_copies=2).fit(X, y, w1, b1)
    report(f"1. exact target {np.round(w1, 3)}, b = {b1:.3f} (planted: 6 examples)", ts1)

    w2, b2 = ridge_fit(X, y, 1.0)
    tau = 0.5  # on the normal equations, whose terms reach sum_i |r_i x_ij| ~ 60 here
    ts2 = TeachingSet(alpha=1.0, tolerance=tau, time_limit=60).fit(X, y, w2, b2)
    chk2 = report(f"2. the full-data ridge fit, normal equations within {tau:.2f}", ts2)
    for tau_k in (2.0, 1.0, 0.2):
        tsk = TeachingSet(alpha=1.0, tolerance=tau_k, time_limit=60).fit(X, y, w2, b2)
        print(
            f"  tolerance {tau_k:>4}: {tsk.n_examples_:>2} runs, "
            f"|theta - theta*|_inf = {tsk.verify().distance:.3f}, gap {tsk.result_.gap:.0e}"
        )

    wl, bl = ridge_fit(X[[1, 5, 8, 12, 17]], y[[1, 5, 8, 12, 17]], 0.0)
    ts3 = TeachingSet(alpha=0.0).fit(X, y, wl, bl)
    report("3. least squares, the fit of runs 1, 5, 8, 12, 17 (exact, full rank lazily)", ts3)
    print(f"  lazy rounds: {ts3.result_.stats}")

    print("\nthe teaching MILP of target 2:")
    print(ts2.program_.summary())
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        ax.scatter(X[:, 0], y, c="lightgray", label="pool")
        ax.scatter(X[ts2.support_, 0], y[ts2.support_], c="tab:red", label="teaching set (2)")
        ax.set_xlabel("air flow (standardised)")
        ax.set_ylabel("stack loss")
        ax.set_title(
            f"{ts2.n_examples_} runs teach the full-data ridge fit (|dθ| {chk2.distance:.2f})"
        )
        ax.legend()
        fig.savefig("teaching_ridge.png", dpi=100, bbox_inches="tight")
        print("saved teaching_ridge.png")


if __name__ == "__main__":
    main(plot="--plot" in sys.argv)
