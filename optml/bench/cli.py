"""``optml bench`` and ``optml export``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main_bench(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="optml bench", description="Run a benchmark suite (TOML).")
    ap.add_argument("suite", help="suite file (TOML)")
    ap.add_argument("--out", default="results", help="output folder (results.sqlite, reports)")
    ap.add_argument("--workers", type=int, default=1, help="tasks run at once")
    ap.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler address, or 'local' for a LocalCluster of --workers",
    )
    ap.add_argument("--resume", action="store_true", help="skip tasks already in the store")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    from optml.bench import SuiteError, run_suite, summarize, to_markdown

    try:
        rows = run_suite(args.suite, args.out, workers=args.workers, scheduler=args.scheduler,
                         resume=args.resume, progress=not args.no_progress)  # fmt: skip
    except (SuiteError, FileExistsError, FileNotFoundError) as exc:
        print(f"optml bench: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    summary = summarize(rows)
    md = to_markdown(summary)
    (out / "summary.md").write_text(md + "\n")
    print(md)
    try:
        from optml.bench import performance_profile

        performance_profile(rows).savefig(out / "profile.png", dpi=120, bbox_inches="tight")
    except ImportError:
        pass
    return 0


def _parse_value(v: str):
    try:
        return json.loads(v)
    except json.JSONDecodeError:
        return v


def main_export(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="optml export",
        description="Export ML instances as MPS/LP files: a suite file, or one model, e.g. "
        "'optml export best-subset --data diabetes --k 5 --format mps -o instances/'.",
    )
    ap.add_argument("what", help="a suite file (TOML) or a model name (e.g. best-subset)")
    ap.add_argument("--data", default="diabetes", help="bundled data set or optml.data generator")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--format", default="mps", choices=["mps", "lp"])
    ap.add_argument("-o", "--out", default="instances")
    args, rest = ap.parse_known_args(argv)
    params = {}
    it = iter(rest)
    for tok in it:
        if not tok.startswith("--"):
            print(f"optml export: unexpected argument {tok!r}", file=sys.stderr)
            return 2
        key = tok[2:].replace("-", "_")
        params[key] = _parse_value(next(it, "true"))
    from optml.bench import SuiteError, export_instances

    if Path(args.what).exists():
        suite = args.what
    else:
        suite = {
            "models": [{"name": args.what.replace("-", "_"), "params": params}],
            "data": [{"name": args.data, "seeds": [args.seed]}],
            "solvers": [{"backend": "auto"}],
        }
    try:
        manifest = export_instances(suite, args.out, fmt=args.format)
    except (SuiteError, ValueError, TypeError) as exc:
        print(f"optml export: {exc}", file=sys.stderr)
        return 2
    for m in manifest:
        print(f"{Path(args.out) / m['file']}  {m['problem_class']}  n={m['n']} p={m['p']}")
    return 0
