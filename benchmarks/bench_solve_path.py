"""The one solve path against the code before it: the same fits, old and new code, same run.

Run: git worktree add /tmp/optml-before <commit before the change>
     python benchmarks/bench_solve_path.py --baseline /tmp/optml-before [--out docs/perf/solve_path.md]

Each case runs in a fresh subprocess with PYTHONPATH set to one source tree (this checkout or
the baseline), which warms up once and then times the fit (best of --repeats); the two trees
alternate, --runs times, and the table gives the median of new/old and its range. Objectives are
printed for both so a change of answer shows (units as each version reports its objective_ /
result_.objective). Cases cover every route the change touched: the special-purpose solvers
(active set, Newton, SVM working set, branch and price, sparse PCA branch and bound), a MIQP
through Pyomo/SCIP, a tree MILP through HiGHS, and a Program handed to HiGHS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SETUP = {
    "lasso n=5000 p=100": (
        "from sklearn.datasets import make_regression\n"
        "from optml.regression import Lasso\n"
        "X, y = make_regression(5000, 100, n_informative=10, noise=5.0, random_state=0)\n"
        "def run():\n    m = Lasso(alpha=0.1).fit(X, y); return float(m.result_.objective)\n"
    ),
    "ridge n=5000 p=100": (
        "from sklearn.datasets import make_regression\n"
        "from optml.regression import Ridge\n"
        "X, y = make_regression(5000, 100, n_informative=10, noise=5.0, random_state=0)\n"
        "def run():\n    m = Ridge(alpha=1.0).fit(X, y); return float(m.objective_)\n"
    ),
    "logistic n=5000 p=50": (
        "import numpy as np\n"
        "from sklearn.datasets import make_classification\n"
        "from optml.classification import LogisticRegression\n"
        "X, y = make_classification(5000, 50, n_informative=10, flip_y=0.1, random_state=0)\n"
        "def run():\n    m = LogisticRegression().fit(X, y); return float(m.result_.objective)\n"
    ),
    "soft-margin SVM n=5000 p=50": (
        "from sklearn.datasets import make_classification\n"
        "from optml.classification import SoftMarginSVM\n"
        "X, y = make_classification(5000, 50, n_informative=10, flip_y=0.1, random_state=0)\n"
        "def run():\n    m = SoftMarginSVM(C=1.0).fit(X, y); return float(m.result_.objective)\n"
    ),
    "k-means iris k=3 (certified)": (
        "from sklearn.datasets import load_iris\n"
        "from optml.clustering import KMeans\n"
        "X = load_iris().data\n"
        "def run():\n    m = KMeans(3, random_state=0).fit(X); return float(m.inertia_)\n"
    ),
    "sparse PCA wine k=5": (
        "from sklearn.datasets import load_wine\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "from optml.decomposition import SparsePCA\n"
        "X = StandardScaler().fit_transform(load_wine().data)\n"
        "def run():\n    m = SparsePCA(n_nonzero=5).fit(X); return float(m.result_.objective)\n"
    ),
    "best subset n=1000 p=100 k=10": (
        "from optml.data import make_sparse_regression\n"
        "from optml.regression import BestSubsetRegression\n"
        "X, y, _ = make_sparse_regression(n=1000, p=100, k=10, rho=0.35, snr=3.0, "
        "random_state=0)\n"
        "def run():\n    m = BestSubsetRegression(k=10).fit(X, y)\n"
        "    return float(m.result_.objective)\n"
    ),
    "tree depth 2 breast cancer (pairs)": (
        "from sklearn.datasets import load_breast_cancer\n"
        "from optml.classification import OptimalClassificationTree\n"
        "X, y = load_breast_cancer(return_X_y=True)\n"
        "def run():\n    m = OptimalClassificationTree(max_depth=2, thresholds=5,"
        " formulation='pairs').fit(X, y)\n    return float(m.objective_)\n"
    ),
    "Program: 10^5-nonzero LP to HiGHS": (
        "import numpy as np, scipy.sparse as sp, optml as om\n"
        "rng = np.random.default_rng(0)\n"
        "A = sp.random(2000, 1000, density=0.05, random_state=0, format='csr')\n"
        "c = rng.uniform(1, 2, 1000)\n"
        "def run():\n    p = om.Program('lp'); x = p.var('x', 1000, lb=0, ub=10)\n"
        "    p.add(A @ x >= 1); p.minimize(c @ x); return float(p.solve().objective)\n"
    ),
}

TIMER = """
import time, json, warnings
warnings.simplefilter("ignore")
{setup}
obj = run()  # warm-up (imports, first solver start)
best = float("inf")
for _ in range({repeats}):
    t0 = time.perf_counter(); obj = run(); best = min(best, time.perf_counter() - t0)
print("RESULT" + json.dumps({{"t": best, "obj": obj}}))
"""


def measure(tree: Path, case: str, repeats: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    code = TIMER.format(setup=SETUP[case], repeats=repeats)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=str(tree)
    )
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")]
    if not lines:
        return {"t": float("nan"), "obj": float("nan"), "error": out.stderr[-500:]}
    return json.loads(lines[-1][6:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", required=True, help="source tree of the code before")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out")
    ap.add_argument("--cases", nargs="*", default=list(SETUP))
    a = ap.parse_args()
    base = Path(a.baseline).resolve()
    rows = []
    for case in a.cases:
        repeats = 20 if any(k in case for k in ("lasso", "ridge", "logistic", "SVM")) else 3
        if "subset" in case or "k-means" in case or "tree" in case:
            repeats = 1
        ratios, new_t, old_t = [], [], []
        objs = {}
        for _ in range(a.runs):
            o = measure(base, case, repeats)
            n = measure(ROOT, case, repeats)
            if "error" in o or "error" in n:
                print(case, o.get("error", ""), n.get("error", ""))
            old_t.append(o["t"])
            new_t.append(n["t"])
            ratios.append(n["t"] / o["t"])
            objs = {"old": o["obj"], "new": n["obj"]}
        med = statistics.median(ratios)
        rows.append(
            f"| {case} | {statistics.median(old_t) * 1e3:.1f} | "
            f"{statistics.median(new_t) * 1e3:.1f} | {med:.2f}x ({min(ratios):.2f}–"
            f"{max(ratios):.2f}) | {objs['old']:.8g} / {objs['new']:.8g} | "
            f"{'yes' if med <= 1.10 else 'NO'} |"
        )
        print(rows[-1], flush=True)
    text = (
        "# The one solve path against the code before it (benchmarks/bench_solve_path.py)\n\n"
        "Same machine, same run, old and new code alternating in fresh processes "
        f"({a.runs} runs; best-of-N inside each; medians). Shared 2-core machine: ratios, "
        "not absolutes, are the figure. Target: within 10 % of the code before.\n\n"
        "| case | before (ms) | after (ms) | after/before (range) | objective before / after "
        "| within 10 % |\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    if a.out:
        Path(a.out).write_text(text)
        print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
