"""Assemble docs/performance.md from the per-area tables in docs/perf/*.md.

Each benchmark script writes its own table (figure next to its baseline, measured in the same
run) to docs/perf/<area>.md; this script only concatenates them in a fixed order.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = [
    "program_cvxpy",
    "program_pyomo",
    "solve_path",
    "cvxpy_process",
    "lazy",
    "data",
    "regression",
    "best_subset",
    "classification",
    "convex_peers",
    "trees",
    "trees_continuous",
    "trees_regression",
    "clustering",
    "nn",
    "nn_train",
    "embed",
    "adversarial",
    "certified_training",
    "teaching",
    "bayesnet",
    "missing_models",
    "bench",
]

HEADER = """# Performance

Every figure below was produced by a script in `benchmarks/` that anyone can run
(`python benchmarks/bench_<area>.py`), and each is shown next to its baseline measured in the
same run on the same machine (2 cores). Most runs were taken while up to nine processes shared
the two cores, so absolute times are inflated (CPU times are given where that matters); the
ratios to the same-run baseline are the meaningful part. Tests assert correctness; these
benchmarks only report speed.

"""

SUMMARY = ROOT / "docs" / "perf" / "_summary.md"


def _demote(text: str) -> str:
    """Each area's headings one level down, under this page's title."""
    out, fence = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        out.append("#" + line if line.startswith("#") and not fence else line)
    return "\n".join(out)


def main() -> None:
    parts = [HEADER]
    if SUMMARY.exists():
        parts.append(SUMMARY.read_text().strip() + "\n\n")
    files = {p.stem: p for p in sorted((ROOT / "docs" / "perf").glob("*.md"))}
    files.pop("_summary", None)
    for name in ORDER + sorted(set(files) - set(ORDER)):
        if name in files:
            text = _demote(files[name].read_text().strip())
            parts.append(text + "\n\n")
    (ROOT / "docs" / "performance.md").write_text("".join(parts))
    print(f"wrote docs/performance.md from {len(files)} tables")


if __name__ == "__main__":
    main()
