"""Classification figures: fit time of optml vs scikit-learn at the same objective.

Run: python benchmarks/bench_classification.py  (writes docs/perf/classification.md)
"""

import time
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.svm import SVC

from optml.algorithms.newton import objective as logit_objective
from optml.classification import LogisticRegression, SoftMarginSVM, SparseSVM
from optml.formulations.classification import svm_objective


def timed(f):
    t = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t


def main():
    rows = []
    rng = np.random.default_rng(0)
    n, p = 5000, 50
    X = rng.standard_normal((n, p))
    y = (X @ rng.standard_normal(p) + 0.5 * rng.standard_normal(n) > 0).astype(int)
    s = 2.0 * y - 1
    sk, t_sk = timed(lambda: SVC(kernel="linear", C=1.0).fit(X, y))
    f_sk = svm_objective(X, s, sk.coef_.ravel(), sk.intercept_[0], 1.0)
    for method in ("working_set", "full"):
        m, t = timed(
            lambda method=method: SoftMarginSVM(C=1.0, method=method, time_limit=120).fit(X, y)
        )
        r = m.result_
        rows.append(
            (
                f"SoftMarginSVM n={n} p={p} ({method}, {r.backend}/{r.solver})",
                t,
                t_sk,
                f"{r.objective:.6f} (libsvm {f_sk:.6f}), gap {r.gap:.1e}, {r.status}",
            )
        )
    sk, t_sk = timed(lambda: SkLogistic(C=1.0).fit(X, y))
    f_sk = logit_objective(X, s, sk.coef_.ravel(), sk.intercept_[0], 1.0, "l2")
    m, t = timed(lambda: LogisticRegression(C=1.0).fit(X, y))
    rows.append(
        (
            f"LogisticRegression n={n} p={p} (smooth: Newton)",
            t,
            t_sk,
            f"{m.result_.objective:.6f} (lbfgs {f_sk:.6f}), gap {m.result_.gap:.1e}",
        )
    )
    m, t = timed(lambda: LogisticRegression(C=1.0, method="conic").fit(X, y))
    rows.append(
        (
            f"LogisticRegression n={n} p={p} (exp cone, {m.result_.backend}/{m.result_.solver})",
            t,
            t_sk,
            f"{m.result_.objective:.6f}, gap {m.result_.gap:.1e}",
        )
    )
    Xs, ys = make_classification(500, 50, n_informative=5, n_redundant=0, random_state=0)
    m, t = timed(lambda: SparseSVM(C=1.0, k=5, time_limit=60).fit(Xs, ys))
    rows.append(
        (
            "SparseSVM n=500 p=50 k=5 (L1, HiGHS MILP)",
            t,
            float("nan"),
            f"{m.result_.status}, objective {m.result_.objective:.4f}, bound "
            f"{m.result_.bound:.4f}, gap {m.result_.gap:.1e}",
        )
    )
    lines = [
        "# Classification figures",
        "",
        "Measured by `python benchmarks/bench_classification.py` on a shared 2-core machine.",
        "",
        "| case | optml (s) | scikit-learn (s) | ratio | objective / certificate |",
        "|---|---|---|---|---|",
    ]
    for name, t, tb, note in rows:
        ratio = t / tb if np.isfinite(tb) else float("nan")
        lines.append(f"| {name} | {t:.3f} | {tb:.3f} | {ratio:.1f}x | {note} |")
        print(f"{name}: {t:.3f} s vs {tb:.3f} s ({ratio:.1f}x); {note}")
    out = Path(__file__).resolve().parents[1] / "docs" / "perf" / "classification.md"
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
