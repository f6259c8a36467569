"""Clustering benchmarks -> docs/perf/clustering.md.

Rows: iris k=3 certified time; Ruspini k=2..6; Gaussian mixtures n=300 k=3..5 (limit LIMIT s);
exact vs scikit-learn KMeans(n_init=10) on 20 seeds; KMedoids n=200 k=5 (HiGHS).
Run: python benchmarks/bench_clustering.py [--quick]
     python benchmarks/bench_clustering.py --sdp [--limit S] [--big]   (issue 18: the SDP branch
     and bound against the branch and price on the same instances, same time limit; writes
     its section of docs/perf/clustering.md)
"""

import sys
import time
import warnings

import numpy as np

warnings.simplefilter("ignore")
QUICK = "--quick" in sys.argv
LIMIT = 30 if QUICK else 60  # the issue asks 120 s; 60 s keeps the run under ~15 min
rows = []


def run(name, X, k, limit=LIMIT):
    from optml.clustering import KMeans

    t = time.perf_counter()
    km = KMeans(k, method="colgen", random_state=0, time_limit=limit).fit(X)
    dt = time.perf_counter() - t
    r = km.result_
    rows.append(
        f"| {name} | {k} | {r.status} | {r.objective:.4f} | {r.bound:.4f} | "
        f"{r.gap:.1e} | {dt:.1f} |"
    )
    print(rows[-1], flush=True)
    return km


MARK = "## SDP branch and bound vs branch and price (issue 18)"


def sdp_instances(big=False):
    from sklearn.datasets import load_breast_cancer, load_iris, load_wine, make_blobs
    from sklearn.preprocessing import StandardScaler

    def std(X):
        return StandardScaler().fit_transform(X)

    out = [
        ("iris", load_iris().data, 3),
        ("wine (std)", std(load_wine().data), 3),
        ("breast cancer (std)", std(load_breast_cancer().data), 2),
        ("blobs 500, 2-d", make_blobs(500, centers=5, cluster_std=1.5, random_state=1)[0], 5),
        ("blobs 1000, 2-d", make_blobs(1000, centers=5, cluster_std=1.5, random_state=1)[0], 5),
    ]
    if big:
        out += [
            ("blobs 1000, 10-d", make_blobs(1000, centers=4, n_features=10, random_state=0)[0], 4),
            (
                "blobs 2000, 2-d",
                make_blobs(2000, centers=8, n_features=2, cluster_std=1.0, random_state=0)[0],
                8,
            ),
        ]
    return out


def sdp_main():
    from optml.clustering import KMeans

    limit = float(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else 60.0
    big = "--big" in sys.argv
    lines = [
        MARK,
        "",
        f"`python benchmarks/bench_clustering.py --sdp --limit {limit:g}"
        + (" --big" if big else "")
        + f"`, {time.strftime('%Y-%m-%d')}, a shared 2-core machine (other helpers' jobs ran "
        "at the same time: times are noisy). Same instance, same time limit, "
        "`KMeans(n_clusters=k, method=..., time_limit=limit, random_state=0, n_init=20)`; "
        "certified = gap <= 1e-4.",
        "",
        "| data | n | d | k | method | status | objective | bound | gap | wall (s) | nodes |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, X, k in sdp_instances(big):
        for method in ("sdp", "colgen"):
            t = time.perf_counter()
            km = KMeans(k, method=method, time_limit=limit, random_state=0, n_init=20).fit(X)
            dt = time.perf_counter() - t
            r = km.result_
            lines.append(
                f"| {name} | {X.shape[0]} | {X.shape[1]} | {k} | {method} | {r.status} | "
                f"{r.objective:.4f} | {r.bound:.4f} | {r.gap:.1e} | {dt:.1f} | "
                f"{r.stats.get('nodes', '')} |"
            )
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    with open("docs/perf/clustering.md") as f:
        old = f.read()
    old = old.split(MARK)[0].rstrip() + "\n\n"
    with open("docs/perf/clustering.md", "w") as f:
        f.write(old + text)
    print(text)


def main():
    from sklearn.cluster import KMeans as SKKMeans
    from sklearn.datasets import load_iris

    import optml.data
    from optml.clustering import KMedoids

    out = [
        "# Clustering benchmarks",
        "",
        "| data | k | status | objective | bound | gap | s |",
        "|---|---|---|---|---|---|---|",
    ]
    run("iris", load_iris().data, 3)
    try:
        R = np.asarray(optml.data.load("ruspini").X, dtype=float)
        for k in range(2, 7):
            run("ruspini", R, k)
    except Exception as e:  # noqa: BLE001
        rows.append(f"| ruspini | - | skipped: {e} | | | | |")
    for k in (3, 4, 5):
        rng = np.random.default_rng(k)
        C = rng.normal(scale=3, size=(k, 2))
        X = np.vstack([rng.normal(size=(300 // k, 2)) + c for c in C])
        run(f"mixture n={X.shape[0]}", X, k)
    out += rows
    # exact vs Lloyd
    out += [
        "",
        "## Exact vs scikit-learn KMeans(n_init=10), hard mixture (n=60, k=5, d=2)",
        "",
        "| seed | optml (status) | sklearn | sklearn excess % |",
        "|---|---|---|---|",
    ]
    miss, cert = 0, 0
    from optml.clustering import KMeans

    for seed in range(5 if QUICK else 20):
        rng = np.random.default_rng(100 + seed)
        X = np.vstack(
            [rng.normal(size=(12, 2)) * 1.2 + c for c in rng.normal(scale=2, size=(5, 2))]
        )
        ex = KMeans(5, method="colgen", random_state=0, time_limit=20).fit(X)
        sk = SKKMeans(5, n_init=10, random_state=seed).fit(X)
        exc = 100 * (sk.inertia_ - ex.inertia_) / ex.inertia_
        miss += exc > 1e-6  # certified, or already worse than optml's incumbent
        cert += ex.result_.status == "optimal"
        out.append(
            f"| {seed} | {ex.inertia_:.4f} ({ex.result_.status}) | {sk.inertia_:.4f} | {exc:.3f} |"
        )
        print(out[-1], flush=True)
    out.append(
        f"\nscikit-learn missed the optimum on {miss} of the seeds ({cert} certified "
        "optimal; on time-limited rows with a positive excess optml's incumbent is "
        "already better than scikit-learn's answer)."
    )
    # KMedoids
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(40, 2)) + c for c in rng.normal(scale=4, size=(5, 2))])
    t = time.perf_counter()
    m = KMedoids(5).fit(X)
    out += [
        "",
        "## KMedoids n=200, k=5 (HiGHS)",
        "",
        f"status {m.result_.status}, objective {m.inertia_:.4f}, gap {m.result_.gap:.1e}, "
        f"{time.perf_counter() - t:.1f} s (target <= 30 s)",
    ]
    print(out[-1])
    text = "\n".join(out) + "\n"
    if not QUICK:
        with open("docs/perf/clustering.md") as f:
            prev = f.read()
        tail = "\n" + MARK + prev.split(MARK)[1] if MARK in prev else ""  # keep --sdp's section
        with open("docs/perf/clustering.md", "w") as f:
            f.write(text + tail)
    print(text)


if __name__ == "__main__":
    sdp_main() if "--sdp" in sys.argv else main()
