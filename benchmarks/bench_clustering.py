"""Clustering benchmarks -> docs/perf/clustering.md.

Rows: iris k=3 certified time; Ruspini k=2..6; Gaussian mixtures n=300 k=3..5 (limit LIMIT s);
exact vs scikit-learn KMeans(n_init=10) on 20 seeds; KMedoids n=200 k=5 (HiGHS).
Run: python benchmarks/bench_clustering.py [--quick]
     python benchmarks/bench_clustering.py --sdp [--limit S] [--big] [--methods sdp,colgen]
         (issue 18: the SDP branch and bound against the branch and price on the same
         instances, same time limit; --big: the two 300 s rows only; writes its section of
         docs/perf/clustering.md)
     python benchmarks/bench_clustering.py --largest [--plane] [--limit 600] [--sizes 1000,2000]
         (the largest make_blobs n, 10 features, certified within the limit; --plane: 2-d, k=8,
         branch and price)
     python benchmarks/bench_clustering.py --capacitated [--limit 60]
         (min_size / max_size: the SDP branch and bound against the branch and price on the
         same instances, same limit; writes its section of docs/perf/clustering.md)
     python benchmarks/bench_clustering.py --literature [--limit 600]
         (certified optima of the raw iris / wine / breast cancer sets against the values
         published for them)
     --cpu-clock: time limits in this process's CPU seconds (for an overloaded machine);
     --only NAME[,NAME]: those --sdp rows only, printed, docs not written
"""

import os
import sys
import time
import warnings

import numpy as np

warnings.simplefilter("ignore")
if "--cpu-clock" in sys.argv:
    # every clock read (the solvers' time limits included) becomes this process's CPU time:
    # on an overloaded shared machine, "limit L" then means L seconds of one quiet core
    # (sdp-bnb runs one BLAS thread)
    time.perf_counter = time.process_time
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
MARK_BIG = "## SDP branch and bound, the 300 s rows (issue 18)"
MARK_LARGEST_PLANE = "## Branch and price in the plane, largest n certified (issue 18)"
MARK_LARGEST = "## SDP branch and bound, largest n certified (issue 18)"
MARK_SIZES = "## Capacitated k-means: SDP branch and bound vs branch and price (issue 18)"


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
        # hard data: four heavily overlapping clusters
        (
            "overlapping 400, 2-d",
            make_blobs(400, centers=4, cluster_std=3.0, random_state=3)[0],
            4,
        ),
        # hard data at n = 1000: six overlapping clusters of unequal spread
        (
            "overlapping 1000, 2-d",
            make_blobs(
                1000, centers=6, cluster_std=[1.0, 1.5, 2.0, 2.5, 3.0, 3.5], random_state=11
            )[0],
            6,
        ),
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


def _sdp_row(name, X, k, method, limit):
    from optml.clustering import KMeans

    t, c = time.perf_counter(), time.process_time()
    km = KMeans(k, method=method, time_limit=limit, random_state=0, n_init=20).fit(X)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    r = km.result_
    return (
        f"| {name} | {X.shape[0]} | {X.shape[1]} | {k} | {method} | {r.status} | "
        f"{r.objective:.4f} | {r.bound:.4f} | {r.gap:.1e} | {dt:.1f} | {dc:.1f} | "
        f"{r.stats.get('nodes', '')} |"
    )


def _write_section(mark, text):
    """Replace (or append) the section headed ``mark`` of docs/perf/clustering.md."""
    with open("docs/perf/clustering.md") as f:
        old = f.read()
    if mark in old:
        head, rest = old.split(mark, 1)
        nxt = rest.find("\n## ")
        tail = rest[nxt:] if nxt >= 0 else ""
        new = head + text.rstrip() + "\n" + tail
    else:
        new = old.rstrip() + "\n\n" + text
    with open("docs/perf/clustering.md", "w") as f:
        f.write(new)


HEADER = [
    "| data | n | d | k | method | status | objective | bound | gap | wall (s) | CPU (s) | nodes |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
]


def sdp_main():
    limit = float(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else 60.0
    big = "--big" in sys.argv
    methods = ("sdp", "colgen")
    if "--methods" in sys.argv:
        methods = tuple(sys.argv[sys.argv.index("--methods") + 1].split(","))
    mark = MARK if not big else MARK_BIG
    lines = [
        mark,
        "",
        f"`python benchmarks/bench_clustering.py --sdp --limit {limit:g}"
        + (" --big" if big else "")
        + (f" --methods {','.join(methods)}" if "--methods" in sys.argv else "")
        + (" --cpu-clock" if "--cpu-clock" in sys.argv else "")
        + f"`, {time.strftime('%Y-%m-%d')}, a shared 2-core machine (other helpers' jobs ran "
        "at the same time: wall times are noisy, the CPU column is this process's). Same "
        "instance, same time limit, "
        "`KMeans(n_clusters=k, method=..., time_limit=limit, random_state=0, n_init=20)`; "
        "certified = gap <= 1e-4.",
        "",
        *HEADER,
    ]
    insts = sdp_instances(big)
    if big:
        insts = insts[6:]
    only = None
    if "--only" in sys.argv:  # a subset (to run in parallel): rows printed, docs not written
        only = sys.argv[sys.argv.index("--only") + 1].split(",")
        insts = [t for t in insts if any(t[0].startswith(o) for o in only)]
    for name, X, k in insts:
        for method in methods:
            lines.append(_sdp_row(name, X, k, method, limit))
            print(lines[-1], flush=True)
    if only is None:
        _write_section(mark, "\n".join(lines) + "\n")


def largest_main():
    """The largest n certified within the limit: make_blobs with 10 features, k=4 (SDP branch
    and bound); with --plane, make_blobs in the plane with 8 centres, k=8 (branch and price)."""
    from sklearn.datasets import make_blobs

    plane = "--plane" in sys.argv
    limit = float(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else 600.0
    sizes = [2000, 4000, 8000] if plane else [1000, 2000, 4000]
    if "--sizes" in sys.argv:
        sizes = [int(v) for v in sys.argv[sys.argv.index("--sizes") + 1].split(",")]
    if plane:
        mark, k, method, d = MARK_LARGEST_PLANE, 8, "colgen", 2
        data = "`make_blobs(n, centers=8, n_features=2, cluster_std=1.0, random_state=0)`, k=8"
    else:
        mark, k, method, d = MARK_LARGEST, 4, "sdp", 10
        data = "`make_blobs(n, centers=4, n_features=10, random_state=0)`, k=4"
    lines = [
        mark,
        "",
        f"`python benchmarks/bench_clustering.py --largest{' --plane' if plane else ''} "
        f"--limit {limit:g}" + (" --cpu-clock" if "--cpu-clock" in sys.argv else "") + "`, "
        f"{time.strftime('%Y-%m-%d')}, a shared 2-core machine. "
        f'{data}, `method="{method}"`; stops at the first n not certified.',
        "",
        *HEADER,
    ]
    for n in sizes:
        if plane:
            X = make_blobs(n, centers=8, n_features=2, cluster_std=1.0, random_state=0)[0]
        else:
            X = make_blobs(n, centers=4, n_features=10, random_state=0)[0]
        lines.append(_sdp_row(f"blobs {n}, {d}-d", X, k, method, limit))
        print(lines[-1], flush=True)
        if "| optimal |" not in lines[-1]:
            break
    _write_section(mark, "\n".join(lines) + "\n")


def main():
    from sklearn.cluster import KMeans as SKKMeans
    from sklearn.datasets import load_iris

    import optml.data
    from optml.clustering import KMedoids

    out = [
        "# Clustering benchmarks",
        "",
        f"`python benchmarks/bench_clustering.py`, {time.strftime('%Y-%m-%d')}, "
        f'{os.cpu_count()} cores. `KMeans(n_clusters=k, method="colgen", random_state=0)` '
        "(branch and price; certified = gap <= 1e-4, bound computed in numpy); wall seconds.",
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
        tail = "\n" + MARK + prev.split(MARK, 1)[1] if MARK in prev else ""  # keep issue 18's
        with open("docs/perf/clustering.md", "w") as f:
            f.write(text + tail)
    print(text)


MARK_LIT = "## Optimal values against the literature (issue 18)"

#: published optimal MSSC values of the raw (unstandardised) UCI sets bundled with
#: scikit-learn: iris (du Merle, Hansen, Jaumard & Mladenovic 2000), wine and breast cancer
#: (Wisconsin diagnostic, "wdbc"; Aloise, Hansen & Liberti 2012; Piccialli, Sudoso & Wiegele
#: 2022 report the same optima)
LITERATURE = [
    ("iris", "load_iris", 2, 152.34795),
    ("iris", "load_iris", 3, 78.85144),
    ("iris", "load_iris", 4, 57.22847),
    ("iris", "load_iris", 5, 46.44618),
    ("wine", "load_wine", 3, 2370689.687),
    ("breast cancer (wdbc)", "load_breast_cancer", 2, 77943099.88),
]


def literature_main():
    import sklearn.datasets as ds

    from optml.clustering import KMeans

    limit = float(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else 600.0
    lines = [
        MARK_LIT,
        "",
        f"`python benchmarks/bench_clustering.py --literature --limit {limit:g}`, "
        f"{time.strftime('%Y-%m-%d')}, 2 cores. `KMeans(n_clusters=k, time_limit=limit, "
        "random_state=0)` (method `auto`) on the raw data as scikit-learn bundles it, "
        "against the optimal values published for the same sets. The published running "
        "times (other machines, MATLAB/C++ and SDPNAL+) are not comparable and not listed.",
        "",
        "| data | n | d | k | method | status | objective | bound | published optimum "
        "| relative difference | wall (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, loader, k, pub in LITERATURE:
        X = getattr(ds, loader)().data
        t = time.perf_counter()
        km = KMeans(k, time_limit=limit, random_state=0).fit(X)
        dt = time.perf_counter() - t
        r = km.result_
        lines.append(
            f"| {name} | {X.shape[0]} | {X.shape[1]} | {k} | {km.method_} | {r.status} | "
            f"{r.objective:.6g} | {r.bound:.6g} | {pub:.6g} | "
            f"{(r.objective - pub) / pub:.1e} | {dt:.1f} |"
        )
        print(lines[-1], flush=True)
    _write_section(MARK_LIT, "\n".join(lines) + "\n")


def capacitated_instances():
    from sklearn.datasets import load_breast_cancer, load_iris, load_wine, make_blobs
    from sklearn.preprocessing import StandardScaler

    def std(X):
        return StandardScaler().fit_transform(X)

    def blobs(d, std_):
        return make_blobs(300, centers=4, n_features=d, cluster_std=std_, random_state=2)[0]

    # (name, X, k, min_size, max_size): bounds that cut off the free optimum's sizes
    return [
        ("iris", load_iris().data, 3, 45, 55),
        ("wine (std)", std(load_wine().data), 3, 55, None),
        ("breast cancer (std)", std(load_breast_cancer().data), 2, 250, None),
        ("blobs 300, 2-d", blobs(2, 1.5), 4, 70, 80),
        ("blobs 300, 3-d", blobs(3, 1.5), 4, 70, 80),
        # hard data: overlapping clusters, equal sizes
        ("overlapping 300, 5-d", blobs(5, 4.0), 4, 75, 75),
    ]


def capacitated_main():
    from optml.clustering import KMeans

    limit = float(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else 60.0
    lines = [
        MARK_SIZES,
        "",
        f"`python benchmarks/bench_clustering.py --capacitated --limit {limit:g}"
        + (" --cpu-clock" if "--cpu-clock" in sys.argv else "")
        + f"`, {time.strftime('%Y-%m-%d')}, 2 cores. `KMeans(n_clusters=k, method=..., "
        "min_size=lo, max_size=hi, time_limit=limit, random_state=0)`; both methods on the "
        "same instance in the same run. Sizes count points; the bounds are chosen to cut off "
        "the free optimum's sizes.",
        "",
        "| data | n | d | k | sizes | method | status | objective | bound | gap | wall (s) "
        "| CPU (s) | nodes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, X, k, lo, hi in capacitated_instances():
        for method in ("sdp", "colgen"):
            t, c = time.perf_counter(), time.process_time()
            km = KMeans(
                k, method=method, min_size=lo, max_size=hi, time_limit=limit, random_state=0
            ).fit(X)
            dt, dc = time.perf_counter() - t, time.process_time() - c
            r = km.result_
            sizes = f"{lo}-{hi if hi else 'inf'}"
            lines.append(
                f"| {name} | {X.shape[0]} | {X.shape[1]} | {k} | {sizes} | {method} | "
                f"{r.status} | {r.objective:.4f} | {r.bound:.4f} | {r.gap:.1e} | {dt:.1f} | "
                f"{dc:.1f} | {r.stats.get('nodes', '')} |"
            )
            print(lines[-1], flush=True)
    _write_section(MARK_SIZES, "\n".join(lines) + "\n")


if __name__ == "__main__":
    if "--capacitated" in sys.argv:
        capacitated_main()
    elif "--literature" in sys.argv:
        literature_main()
    elif "--largest" in sys.argv:
        largest_main()
    elif "--sdp" in sys.argv:
        sdp_main()
    else:
        main()
