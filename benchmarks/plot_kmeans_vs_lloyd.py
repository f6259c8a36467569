"""Figure for docs/clustering.md: how far scikit-learn's KMeans (n_init=10) lands above the
certified optimum, per seed, read from the table that bench_clustering.py wrote to
docs/perf/clustering.md (so the figure and the table always agree)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    text = (ROOT / "docs" / "perf" / "clustering.md").read_text()
    part = text.split("Exact vs scikit-learn", 1)[1]
    seeds, excess, certified = [], [], []
    for line in part.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].isdigit():
            seeds.append(int(cells[0]))
            excess.append(max(0.0, float(cells[3])))
            certified.append("optimal" in cells[1])
    fig, ax = plt.subplots(figsize=(7, 3.2))
    colors = ["tab:blue" if c else "tab:orange" for c in certified]
    ax.bar(seeds, excess, color=colors)
    ax.set_xlabel("seed (hard mixture, n = 60, k = 5)")
    ax.set_ylabel("sklearn KMeans excess over optml (%)")
    ax.set_xticks(seeds)
    ax.set_title("Lloyd (n_init=10) vs certified k-means: blue = optml certified optimal")
    fig.tight_layout()
    out = ROOT / "docs" / "kmeans_vs_lloyd.png"
    fig.savefig(out, dpi=110)
    print(
        f"wrote {out.relative_to(ROOT)}: {sum(e > 1e-9 for e in excess)} of {len(seeds)} seeds "
        f"above the optimum"
    )


if __name__ == "__main__":
    main()
