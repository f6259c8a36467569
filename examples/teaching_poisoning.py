"""Training-set attacks (Mei and Zhu 2015): the fewest changes to a ridge regression's
training data that move the learned model where the attacker wants.

Run: python examples/teaching_poisoning.py [--plot]

Victim: ``sklearn.linear_model.Ridge(alpha=1)`` trained on the bundled stack-loss data (21
runs, 3 standardised features). The attacker may move labels by at most 5, delete runs, or
add runs from a candidate pool. Each attack is one MILP through ridge's normal equations:

1. the attacker's model: the victim's with no weight on acid concentration (labels only):
   linear at the fixed target;
2. a prediction goal: the stack loss predicted at run 0 raised by 3 (labels
   only): the model is a variable, linear in the label moves;
3. the same goal by adding runs from a pool of 6 candidates (runs
   with inflated stack loss, up to 2 copies each): the
   products of additions and model are linearised exactly (McCormick, binary times bounded)
   within bounds that every reachable data set obeys.

Every attack is certified cheapest (bound = objective) and checked by retraining
scikit-learn's Ridge on the poisoned data. ``--plot`` saves teaching_poisoning.png.
"""

import sys

import numpy as np

from optml import data
from optml.teaching import PoisoningAttack


def show(title, atk):
    res, chk = atk.result_, atk.verify()
    print(f"\n{title}")
    print(
        f"  attack: {atk.n_changes_} changes; deleted {atk.removed_.tolist()}, relabelled "
        f"{np.flatnonzero(atk.label_changes_).tolist()} by "
        f"{np.round(atk.label_changes_[atk.label_changes_ != 0], 2).tolist()}, added "
        f"{[] if atk.added_counts_ is None else atk.added_counts_.tolist()}"
    )
    print(
        f"  certificate: {res.problem_class}, status {res.status}, cost {res.objective:g}, "
        f"bound {res.bound:g}, gap {res.gap:.0e}, verified {res.verified} ({res.solve_time:.2f}s)"
    )
    goal = (
        f"|theta - theta*|_inf = {chk.distance:.1e}"
        if chk.predictions is None
        else f"prediction {np.round(chk.predictions, 3).tolist()}"
    )
    print(f"  retrained ({chk.implementation}): {goal} -> {'passed' if chk.passed else 'FAILED'}")


def main(plot: bool = False) -> None:
    from sklearn.linear_model import Ridge

    ds = data.load("stackloss")
    X = (ds.X - ds.X.mean(0)) / ds.X.std(0)
    y = ds.y
    clean = Ridge(alpha=1.0).fit(X, y)
    print(
        f"victim: Ridge(alpha=1) on stack loss, coef {np.round(clean.coef_, 3)}, "
        f"intercept {clean.intercept_:.3f}"
    )

    w_t = clean.coef_.copy()
    w_t[2] = 0.0
    a1 = PoisoningAttack(alpha=1.0, label_budget=5.0, time_limit=60)
    a1.fit(X, y, target_coef=w_t, target_intercept=clean.intercept_)
    show(f"1. target model {np.round(w_t, 3)} (acid concentration ignored), labels +-5", a1)

    x0 = X[:1]  # run 0
    t = float(clean.predict(x0)[0]) + 3.0
    a2 = PoisoningAttack(alpha=1.0, label_budget=5.0, time_limit=60)
    a2.fit(X, y, target_prediction=(x0, t, None))
    show(f"2. prediction at run 0 >= {t:.2f} (was {t - 3:.2f}): labels +-5", a2)

    rng = np.random.default_rng(1)
    pick = rng.choice(21, size=6, replace=False)
    Xp, yp = X[pick] + 0.1 * rng.normal(size=(6, 3)), y[pick] + rng.uniform(5, 15, size=6)
    a3 = PoisoningAttack(alpha=1.0, max_copies=2, time_limit=60)
    a3.fit(X, y, X_pool=Xp, y_pool=yp, target_prediction=(x0, t, None))
    show("3. the same goal by adding candidate runs (6 candidates, up to 2 copies each)", a3)

    print("\nthe attack program of 3 (Q: the products of additions and model, McCormick rows):")
    print(a3.program_.summary())
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        Xa, ya = a2.poisoned_data()
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.scatter(np.arange(21), y, c="lightgray", label="clean labels")
        kept = np.setdiff1d(np.arange(21), a2.removed_)
        ax.scatter(kept, ya, c="tab:red", marker="x", label="after the attack")
        ax.set_xlabel("run")
        ax.set_ylabel("stack loss")
        ax.set_title(f"attack 2: {a2.n_changes_} label moves raise the prediction by 3")
        ax.legend()
        fig.savefig("teaching_poisoning.png", dpi=100, bbox_inches="tight")
        print("saved teaching_poisoning.png")


if __name__ == "__main__":
    main(plot="--plot" in sys.argv)
