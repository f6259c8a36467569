"""KMedoids at a time limit: the certified bound before/after (the Lagrangian bound of the
p-median combined with the MILP's), and the heuristic-certified shortcut.

The baseline is the committed module of a given git revision (``--base REV``, default HEAD),
loaded from ``git show`` and run in the same process on the same instances.
Run: OMP_NUM_THREADS=1 python benchmarks/bench_kmedoids_bound.py [--base REV]
     [--sizes 300:6,600:8] [--limits 3,10] [--std 1.0,2.5] [--named] [--suite]
     (--named: also the fit with solver="highs", which always runs the MILP;
     --suite: harder data too, see ``instances``)
Prints a markdown table: wall and CPU seconds, status, objective, bound, gap.
"""

import importlib.util
import subprocess
import sys
import tempfile
import time
import warnings

from sklearn.datasets import make_blobs

warnings.simplefilter("ignore")


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def baseline(rev):
    src = subprocess.run(
        ["git", "show", f"{rev}:optml/clustering/_kmedoids.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    f = tempfile.NamedTemporaryFile("w", suffix=".py", delete=False)
    f.write(src)
    f.close()
    spec = importlib.util.spec_from_file_location("optml.clustering._kmedoids_base", f.name)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.KMedoids


def main():
    from optml.clustering import KMedoids

    rev = arg("--base", "HEAD")
    variants = [(f"before ({rev})", baseline(rev), {}), ("after", KMedoids, {})]
    if "--named" in sys.argv:  # the MILP always runs on a named solver
        variants.append(("after, solver='highs'", KMedoids, {"solver": "highs"}))
    limits = [float(v) for v in arg("--limits", "3,10").split(",")]
    print("| data | n | k | limit | variant | status | objective | bound | gap | wall s | CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for data, X, k in instances():
        for lim in limits:
            for name, cls, kw in variants:
                t, c = time.perf_counter(), time.process_time()
                r = cls(k, time_limit=lim, **kw).fit(X).result_
                wall, cpu = time.perf_counter() - t, time.process_time() - c
                print(
                    f"| {data} | {len(X)} | {k} | {lim:g} | {name} | {r.status} | "
                    f"{r.objective:.6g} | {r.bound:.6g} | {r.gap:.2e} | {wall:.2f} | "
                    f"{cpu:.2f} |",
                    flush=True,
                )


def instances():
    """make_blobs (``--sizes n:k,...``, ``--std``); with ``--suite`` harder data too:
    standardised iris / wine / breast cancer, overlapping blobs, uniform and correlated
    Gaussian points."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer, load_iris, load_wine
    from sklearn.preprocessing import StandardScaler

    sizes = [tuple(map(int, s.split(":"))) for s in arg("--sizes", "300:6,600:8").split(",")]
    stds = [float(v) for v in arg("--std", "1.0,2.5").split(",")]
    out = []
    for n, k in sizes:
        for sd in stds:
            X = make_blobs(n, centers=k, cluster_std=sd, random_state=0)[0]
            out.append((f"blobs std {sd:g}", X, k))
    if "--suite" in sys.argv:
        rng = np.random.default_rng(1)
        std = StandardScaler().fit_transform
        out += [
            ("iris (std)", std(load_iris().data), 3),
            ("wine (std)", std(load_wine().data), 5),
            ("breast cancer (std)", std(load_breast_cancer().data), 5),
            ("blobs std 4", make_blobs(150, centers=5, cluster_std=4.0, random_state=0)[0], 5),
            ("uniform 2-d", rng.uniform(size=(300, 2)), 10),
            ("correlated 5-d", rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)), 5),
        ]
    return out


if __name__ == "__main__":
    main()
