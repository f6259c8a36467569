"""The ``optml`` console script: ``demo``, ``solvers``, ``bench``, ``export``."""

from __future__ import annotations

import argparse
import importlib
import sys


def _solvers(args) -> int:
    from optml.backends import available

    rows = available()
    print(f"{'backend':<8} {'solver':<10} problem classes")
    for r in rows:
        print(f"{r['backend']:<8} {r['solver']:<10} {', '.join(r['classes'])}")
    return 0


def _demo(args) -> int:
    from optml.demo import run_demo

    return run_demo(quick=args.quick)


def _delegate(module: str, func: str):
    def run(args) -> int:
        mod = importlib.import_module(module)
        return getattr(mod, func)(args.rest)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="optml", description="Machine learning models as mathematical programs."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser(
        "demo", help="fit a few models on bundled data; print results and formulations"
    )
    d.add_argument("--quick", action="store_true", help="smallest instances only")
    d.set_defaults(func=_demo)
    s = sub.add_parser("solvers", help="list installed backend/solver pairs and their classes")
    s.set_defaults(func=_solvers)
    for name, module, func, text in [
        ("bench", "optml.bench.cli", "main_bench", "run a benchmark suite (TOML)"),
        ("export", "optml.bench.cli", "main_export", "export ML instances as MPS/LP files"),
    ]:
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=_delegate(module, func))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
