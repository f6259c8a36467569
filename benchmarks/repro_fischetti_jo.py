"""Reproduction in miniature: bound tightening and ReLU MILP solve times (Fischetti and Jo 2018).

Fischetti and Jo model a trained ReLU network as a MILP (one binary per unit whose sign is not
fixed by its bounds) and report that tightening each unit's bounds first, by solving small LPs
or MILPs, fixes many binaries and shortens the MILP; the tightening itself costs time, paying
off on the harder instances. The figure is drawn from the table that benchmarks/bench_nn.py
wrote to docs/perf/nn.md ("Fischetti-Jo table in miniature": a 64-32-32-10 digits MLP, the
exact worst-case margin of 30 images at L-inf 0.05, interval vs LP vs MILP bounds), so the
figure and the table always agree. Rerun bench_nn.py to re-measure.

Run: python benchmarks/repro_fischetti_jo.py   (seconds; writes docs/figures/repro_fischetti_jo.png)
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def read_table():
    text = (ROOT / "docs" / "perf" / "nn.md").read_text(encoding="utf-8")
    part = text.split("Fischetti", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in part.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] in ("interval", "lp", "milp"):
            rows[cells[0]] = {
                "binaries": float(cells[2]),
                "bound_time": float(cells[3]),
                "total": float(cells[4]),
            }
    if not rows:
        raise ValueError("no Fischetti-Jo table in docs/perf/nn.md: run benchmarks/bench_nn.py")
    return rows


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_table()
    names = list(rows)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7.5, 2.8))
    a1.bar(names, [rows[n]["binaries"] for n in names], color="C0")
    a1.set_ylabel("binaries per MILP (mean)")
    a1.set_xlabel("neuron bounds")
    bt = [rows[n]["bound_time"] for n in names]
    mt = [rows[n]["total"] - rows[n]["bound_time"] for n in names]
    a2.bar(names, bt, color="C1", label="bound tightening")
    a2.bar(names, mt, bottom=bt, color="C0", label="MILP solve")
    a2.set_ylabel("seconds per image")
    a2.set_xlabel("neuron bounds")
    a2.legend(fontsize=7)
    fig.suptitle("digits MLP 64-32-32-10, worst-case margin at L-inf 0.05 (HiGHS)", fontsize=9)
    fig.tight_layout()
    out = ROOT / "docs" / "figures" / "repro_fischetti_jo.png"
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=80)
    print(f"wrote {out.relative_to(ROOT)}: {rows}")


if __name__ == "__main__":
    main()
