"""Machine teaching for classifiers: 1-D thresholds, a linear SVM and logistic regression.

Run: python examples/teaching_svm.py [--plot]

1. The teaching dimension of 1-D thresholds (Goldman and Kearns 1995): a consistent learner
   needs 2 examples for an inner threshold (the two points next to it), 1 at the ends. Each
   minimum is a certified set-cover MILP.
2. The same threshold taught to a soft-margin SVM (``sklearn.svm.SVC(kernel="linear",
   C=10)``): its KKT conditions at the target are linear in the chosen examples, and the
   intercept's uniqueness is two integer inequalities: 2 examples, the margin points.
3. A linear SVM on iris (petal length and width, setosa against versicolor; 40 flowers):
   the fewest flowers whose SVM lies within 0.05 of a target (scikit-learn's SVM of the
   whole pool, rounded) in every coordinate; the
   margins are then variables and the KKT complementarity is written as SOS1 pairs.
4. Logistic regression (``LogisticRegression(C=1)``) on the same pool: the fewest flowers,
   up to 3 copies each, whose gradient at a target (the pool's fit, rounded) vanishes
   within 0.05.
``--plot`` saves teaching_svm.png.
"""

import sys

import numpy as np

from optml import data
from optml.formulations.teaching import threshold_hypotheses
from optml.teaching import TeachingSet, teaching_dimension


def show(ts, what):
    res, chk = ts.result_, ts.verify()
    print(
        f"  {what}: {ts.n_examples_} examples {ts.support_.tolist()} "
        f"(counts {ts.counts_[ts.support_].tolist()}); {res.problem_class}, status {res.status}, "
        f"bound {res.bound:g}, gap {res.gap:.0e}, verified {res.verified}"
    )
    print(
        f"  retrained ({chk.implementation}): coef {np.round(chk.coef, 4)}, intercept "
        f"{chk.intercept:.4f}, distance {chk.distance:.2e} (allowed {chk.allowed:.2e}) "
        f"{'passed' if chk.passed else 'FAILED'} {chk.note}"
    )


def main(plot: bool = False) -> None:
    pts = np.arange(8, dtype=float)
    td = teaching_dimension(threshold_hypotheses(pts))
    sizes = [len(s) for s in td["sets"].values()]
    print(f"1. thresholds on {pts.size} points: teaching dimension {td['dimension']}")
    print(f"   minimum teaching set size per threshold (left to right): {sizes}")
    print(f"   threshold 3.5 is taught by points {td['sets'][4].tolist()}")

    x = pts.reshape(-1, 1)
    s = np.where(pts >= 4, 1, -1)
    ts = TeachingSet(learner="svm", C=10.0).fit(x, s, target_coef=[2.0], target_intercept=-7.0)
    print("\n2. SVM, target w = 2, b = -7 (threshold 3.5, margin points 3 and 4):")
    show(ts, "teaching set")

    ds = data.load("iris")
    keep = np.flatnonzero(ds.y < 2)
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(keep, size=40, replace=False))
    X, y = ds.X[idx][:, 2:], np.where(ds.y[idx] == 1, 1, -1)
    w0, b0 = np.array([1.0, 0.3]), -3.0  # scikit-learn's SVC on the whole pool, rounded
    svm = TeachingSet(learner="svm", C=1.0, tolerance=0.05, time_limit=60).fit(X, y, w0, b0)
    print(f"\n3. SVM on iris (40 flowers), target w = {w0}, b = {b0}, within 0.05:")
    show(svm, "teaching set")

    wl, bl = np.array([2.0, 0.8]), -6.4  # LogisticRegression on the whole pool, rounded
    lg = TeachingSet(learner="logistic", C=1.0, tolerance=0.05, max_copies=3, time_limit=60)
    lg.fit(X, y, wl, bl)
    print(f"\n4. logistic on iris, target w = {wl}, b = {bl}, gradient within 0.05:")
    show(lg, "teaching set")

    print("\nthe SVM teaching program of 3 (SOS1 pairs for the complementarity):")
    print(svm.program_.summary())
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        ax.scatter(X[:, 0], X[:, 1], c=np.where(y > 0, "tab:orange", "tab:blue"), alpha=0.3)
        S = svm.support_
        ax.scatter(
            X[S, 0],
            X[S, 1],
            c=np.where(y[S] > 0, "tab:orange", "tab:blue"),
            edgecolors="k",
            s=80,
            label="teaching set",
        )
        xs = np.linspace(X[:, 0].min(), X[:, 0].max(), 10)
        for off, ls in ((0, "-"), (1, "--"), (-1, "--")):
            ax.plot(xs, (off - b0 - w0[0] * xs) / w0[1], "k", ls=ls, lw=1)
        ax.set_xlabel("petal length")
        ax.set_ylabel("petal width")
        ax.set_title(f"{svm.n_examples_} flowers teach the SVM (target and margins)")
        ax.legend()
        fig.savefig("teaching_svm.png", dpi=100, bbox_inches="tight")
        print("saved teaching_svm.png")


if __name__ == "__main__":
    main(plot="--plot" in sys.argv)
