"""Reproduction in miniature: how often Lloyd's k-means is optimal, and by how much it misses.

du Merle, Hansen, Jaumard and Mladenovic (2000) solved minimum sum-of-squares clustering to
proven optimality by column generation on instances such as Ruspini's 75 points, which makes
it possible to measure heuristics against the true optimum. Here: optml's certified KMeans
(branch and price) on the bundled ruspini (75 x 2) and iris (150 x 4) data for k = 2..6,
against 50 single random starts of Lloyd's algorithm (scikit-learn KMeans, n_init=1,
init="random") in the same run: the share of starts that reach the certified optimum (relative
tolerance 1e-4, the certificate's gap; Lloyd stops at its own tolerance) and the mean and worst
excess over it.

Run: python benchmarks/repro_kmeans.py   (a minute or two on 2 cores; writes
docs/figures/repro_kmeans.png and prints the table for docs/reproductions.md)
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans as Lloyd

from optml import data
from optml.clustering import KMeans

ROOT = Path(__file__).resolve().parents[1]
KS = (2, 3, 4, 5, 6)
STARTS = 50


def main() -> None:
    rows = []
    for name in ("ruspini", "iris"):
        X = data.load(name).X
        for k in KS:
            t0 = time.perf_counter()
            km = KMeans(n_clusters=k, random_state=0, time_limit=60).fit(X)
            t = time.perf_counter() - t0
            r = km.result_
            lloyd = np.array(
                [
                    Lloyd(k, n_init=1, init="random", random_state=s).fit(X).inertia_
                    for s in range(STARTS)
                ]
            )
            excess = lloyd / r.objective - 1
            rows.append(
                (
                    name,
                    k,
                    r.status,
                    r.objective,
                    r.gap,
                    t,
                    np.mean(excess <= 1e-4),
                    excess.mean(),
                    excess.max(),
                    lloyd.min() >= r.bound * (1 - 1e-9),
                )
            )
            print(rows[-1])
    print(
        "\n| data | k | optml status (gap) | optimum | time (s) | Lloyd starts optimal |"
        " mean excess | worst excess |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, k, st, obj, gap, t, hit, mean, worst, _ in rows:
        print(
            f"| {name} | {k} | {st} ({gap:.0e}) | {obj:.6g} | {t:.1f} | {hit:.0%} |"
            f" {mean:.1%} | {worst:.1%} |"
        )
    assert all(r[-1] for r in rows), "a Lloyd run beat a proven lower bound"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 2.8))
    for i, name in enumerate(("ruspini", "iris")):
        rr = [r for r in rows if r[0] == name]
        a1.plot(KS, [100 * r[6] for r in rr], "o-", color=f"C{i}", label=name)
        a2.plot(KS, [100 * r[7] for r in rr], "o-", color=f"C{i}", label=f"{name}, mean")
        a2.plot(KS, [100 * r[8] for r in rr], "x--", color=f"C{i}", label=f"{name}, worst")
    a1.set_ylabel(f"Lloyd starts optimal (% of {STARTS})")
    a2.set_ylabel("excess over optimum (%)")
    a2.set_yscale("symlog", linthresh=1)
    for a in (a1, a2):
        a.set_xlabel("k")
        a.set_xticks(KS)
        a.legend(fontsize=7)
    fig.tight_layout()
    out = ROOT / "docs" / "figures" / "repro_kmeans.png"
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=80)
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
