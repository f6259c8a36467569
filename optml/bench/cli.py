"""``optml bench`` and ``optml export``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main_bench(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="optml bench",
        description="Run a benchmark suite (TOML): every task in a worker process under hard "
        "limits, rows stored in OUT/results.sqlite as they finish; then write OUT/summary.md, "
        "OUT/summary.csv, OUT/results.csv and the plots.",
        epilog="Exit status: 0 when every task ran (whatever the solvers answered: optimal, "
        "time_limit, infeasible, error, crashed, ...); 1 when a task could not run (its "
        "plugin, data or model failed before the solve); 2 on a bad suite, store or "
        "scheduler; 130 on Ctrl-C.",
    )
    ap.add_argument("suite", help="suite file (TOML)")
    ap.add_argument("--out", default="results", help="output folder (results.sqlite, reports)")
    ap.add_argument("--workers", type=int, default=1, help="tasks run at once")
    ap.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler address, or 'local' for a LocalCluster of --workers processes",
    )
    ap.add_argument("--resume", action="store_true", help="skip tasks already in the store")
    ap.add_argument(
        "--retry",
        default="",
        help="with --resume: run again the stored tasks with these statuses, comma-separated "
        "(e.g. killed,crashed)",
    )
    ap.add_argument(
        "--max-tasks-per-worker",
        type=int,
        default=None,
        help="tasks a worker process runs before it is replaced (default 200)",
    )
    ap.add_argument(
        "--fresh",
        action="store_true",
        help="a brand-new process for every task (same as --max-tasks-per-worker 1)",
    )
    ap.add_argument(
        "--allow-plugins",
        action="store_true",
        help="run the suite's own code (plugins, 'module:Class' models); it runs with your "
        "rights, in the worker processes only: pass it only for suites you trust",
    )
    ap.add_argument(
        "--no-traces",
        action="store_true",
        help="run the solvers silent: no incumbent/bound traces and no solver logs",
    )
    ap.add_argument(
        "--shift",
        type=float,
        default=1.0,
        help="seconds added to every time in the summaries' shifted geometric means and "
        "the profiles' ratios (default 1; Mittelmann uses 10 for MILP)",
    )
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    args = ap.parse_args(argv)
    from optml.bench import SuiteError, run_suite, summarize, to_markdown
    from optml.bench.runner import DEFAULT_MAX_TASKS
    from optml.bench.store import StoreError

    if args.workers < 1:
        print("optml bench: --workers must be at least 1", file=sys.stderr)
        return 2
    max_tasks = 1 if args.fresh else (args.max_tasks_per_worker or DEFAULT_MAX_TASKS)
    try:
        retry = tuple(s.strip() for s in args.retry.split(",") if s.strip())
        rows = run_suite(
            args.suite,
            args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            resume=args.resume or bool(retry),
            progress=not args.no_progress,
            max_tasks_per_worker=max_tasks,
            retry=retry,
            allow_plugins=args.allow_plugins,
            traces=not args.no_traces,
        )
    except (
        SuiteError,
        StoreError,
        FileExistsError,
        FileNotFoundError,
        ImportError,
        ConnectionError,
    ) as exc:
        print(f"optml bench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "optml bench: interrupted; finished rows are kept, rerun with --resume", file=sys.stderr
        )
        return 130
    out = Path(args.out)

    try:
        _write_reports(args, out, rows, summarize, to_markdown)
    except OSError as exc:
        print(f"optml bench: cannot write the reports in {out}: {exc}", file=sys.stderr)
        return 2
    return _not_run_status(rows)


def _not_run_status(rows) -> int:
    """1 when some task could not run (its plugin, data or model failed, or the harness did,
    before the solve), else 0: solver outcomes (time_limit, infeasible, a solver's error,
    a crash or kill during the solve) are results."""
    from optml.bench.report import not_run

    bad = not_run(rows)
    if not bad:
        return 0
    print(
        f"optml bench: {len(bad)} task(s) could not run (failed before their solve); "
        "their rows have stage 'setup'. First: "
        + "; ".join(
            f"{r.get('model')} on {r.get('data')} ({r.get('status')}: "
            f"{str(r.get('message'))[:200]})"
            for r in bad[:3]
        ),
        file=sys.stderr,
    )
    return 1


def _write_reports(args, out, rows, summarize, to_markdown) -> None:
    from optml.bench import inconsistent_instances
    from optml.bench.html import write_report

    for inst, hashes in inconsistent_instances(rows).items():
        print(
            f"optml bench: warning: the solvers of instance {inst} saw different programs "
            f"{hashes}; is the model's build deterministic?",
            file=sys.stderr,
        )
    written = write_report(out, shift=args.shift, plots=not args.no_plots, rows=rows)
    print(to_markdown(summarize(rows, shift=args.shift)))
    if not args.no_plots:
        try:
            from optml.bench import gap_vs_time, performance_profile, time_vs_size

            for name, plot in (
                ("profile", lambda r: performance_profile(r, shift=args.shift)),
                ("time_vs_size", time_vs_size),
                ("gap_vs_time", gap_vs_time),
            ):
                fig = plot(rows)
                fig.savefig(out / f"{name}.png", dpi=120, bbox_inches="tight")
                import matplotlib.pyplot as plt

                plt.close(fig)
        except ImportError:
            print("optml bench: plots skipped (pip install matplotlib)", file=sys.stderr)
    print(
        f"rows: {out / 'results.sqlite'} ({len(rows)}), summary: {out / 'summary.md'}, "
        f"report: {written['report.html']}"
    )


def main_report(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="optml report",
        description="Write the report of a results folder (or results.sqlite): one "
        "self-contained HTML page (tables, performance profiles, time against size, gap and "
        "trace plots as embedded PNG, machine and solver versions) as DIR/report.html, "
        "with DIR/summary.md, DIR/summary.csv, DIR/results.csv and, when pyarrow is "
        "installed, DIR/results.parquet.",
    )
    ap.add_argument("results", help="output folder of 'optml bench' (or its results.sqlite)")
    ap.add_argument(
        "--shift",
        type=float,
        default=1.0,
        help="seconds added to every time in the shifted geometric means and the profiles' "
        "ratios (default 1; Mittelmann uses 10 for MILP)",
    )
    ap.add_argument(
        "--time",
        default="wall_time",
        choices=["wall_time", "solve_time"],
        help="the time compared (default wall_time: the solve with its modelling layer)",
    )
    ap.add_argument(
        "--max-traces",
        type=int,
        default=None,
        help="instances with a trace plot on the page (default 40)",
    )
    ap.add_argument("--no-plots", action="store_true", help="tables only")
    args = ap.parse_args(argv)
    from optml.bench.html import MAX_TRACE_PLOTS, write_report
    from optml.bench.store import StoreError

    if args.shift < 0:
        print("optml report: --shift must be >= 0", file=sys.stderr)
        return 2
    try:
        written = write_report(
            args.results,
            shift=args.shift,
            time=args.time,
            plots=not args.no_plots,
            max_traces=args.max_traces or MAX_TRACE_PLOTS,
        )
    except (StoreError, OSError) as exc:
        print(f"optml report: {exc}", file=sys.stderr)
        return 2
    for name, path in written.items():
        print(f"{name}: {path}")
    if "results.parquet" not in written:
        print("results.parquet skipped: pip install pyarrow", file=sys.stderr)
    return 0


def _parse_value(v: str):
    try:
        return json.loads(v)
    except json.JSONDecodeError:
        return v


def _export_library(args, rest) -> int:
    from optml.bench.library import export_library
    from optml.bench.store import StoreError
    from optml.bench.suite import SuiteError

    if rest:
        print(f"optml export: unexpected arguments {rest} with --library", file=sys.stderr)
        return 2
    families = [f.strip() for f in args.families.split(",") if f.strip()] or None
    try:
        records = export_library(
            args.out, fmt=args.format, families=families, solve=args.solve, workers=args.workers
        )
    except (SuiteError, StoreError, ValueError, TypeError, OSError) as exc:
        print(f"optml export: {exc}", file=sys.stderr)
        return 2
    for r in records:
        where = Path(args.out) / r["file"] if r["file"] else f"(skipped: {r['skipped'][:80]})"
        best = r.get("best_known_objective")
        tail = f"  best {best:.6g} ({r['best_known_status']})" if best is not None else ""
        print(f"{where}  {r['problem_class']}  vars={r['variables']}{tail}")
    print(f"library: {Path(args.out) / 'library.json'}, {Path(args.out) / 'library.solu'}")
    return 0


def main_export(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="optml export",
        description="Export ML instances as MPS/LP files: a suite file, one model, e.g. "
        "'optml export best-subset --data diabetes --k 5 --format mps -o instances/', or "
        "optml's instance library ('optml export --library --solve 60 -o library/').",
    )
    ap.add_argument(
        "what", nargs="?", help="a suite file (TOML) or a model name (e.g. best-subset)"
    )
    ap.add_argument(
        "--library",
        action="store_true",
        help="write optml's instance library (every model family over a grid of data sets "
        "and sizes) with a metadata file per instance and library.solu",
    )
    ap.add_argument(
        "--families",
        default="",
        help="with --library: comma-separated families (default all): "
        "regression_lp, lasso_qp, best_subset, svm, sparse_logistic, trees, kmeans, kmedoids, "
        "sparse_pca, relu_verification, network_training",
    )
    ap.add_argument(
        "--solve",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --library: solve every instance (worker processes, automatic solver, "
        "SECONDS each) and record the best known objective and bound",
    )
    ap.add_argument("--workers", type=int, default=1, help="with --solve: tasks run at once")
    ap.add_argument("--data", default="diabetes", help="bundled data set or optml.data generator")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument(
        "--format",
        default="mps",
        choices=["mps", "lp", "cbf"],
        help="file format (conic programs, which have no MPS/LP form, are written as CBF)",
    )
    ap.add_argument("-o", "--out", default="instances")
    ap.add_argument(
        "--allow-plugins",
        action="store_true",
        help="let a suite's 'module:Class' models run (imported in this process)",
    )
    args, rest = ap.parse_known_args(argv)
    if args.library:
        return _export_library(args, rest)
    if args.what is None:
        print("optml export: name a suite file or a model, or pass --library", file=sys.stderr)
        return 2
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
        manifest = export_instances(
            suite,
            args.out,
            fmt=args.format,
            # a model named on the command line is the user's own choice, not a suite's
            allow_plugins=args.allow_plugins or isinstance(suite, dict),
        )
    except (SuiteError, ValueError, TypeError, OSError) as exc:
        print(f"optml export: {exc}", file=sys.stderr)
        return 2
    for m in manifest:
        where = Path(args.out) / m["file"] if m["file"] else f"(skipped: {m['skipped']})"
        print(f"{where}  {m['problem_class']}  n={m['n']} p={m['p']}")
    print(f"manifest: {Path(args.out) / 'manifest.json'}")
    return 0
