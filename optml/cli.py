"""The ``optml`` console script: ``demo``, ``solvers``, ``bench``, ``export``, ``report``."""

from __future__ import annotations

import argparse
import importlib
import sys


def _solvers(args) -> int:
    from optml.backends import available, special_solvers

    rows = available()
    general = [r for r in rows if not r["kinds"]]
    print("General solvers (take any program of their classes):")
    print(f"  {'backend':<8} {'solver':<14} problem classes")
    for r in general:
        print(f"  {r['backend']:<8} {r['solver']:<14} {', '.join(r['classes'])}")
    special = {sp.name: sp for sp in special_solvers()}
    print("\nSpecial-purpose solvers (optml's own algorithms; take one structured problem kind):")
    print(f"  {'solver':<22} {'kinds':<28} description")
    for r in rows:
        if r["kinds"]:
            sp = special[r["solver"]]
            print(f"  {r['solver']:<22} {', '.join(r['kinds']):<28} {sp.description}")
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
        ("report", "optml.bench.cli", "main_report", "HTML report of a results folder"),
    ]:
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=_delegate(module, func))
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in _DELEGATED:  # their own parsers: `optml bench --help` works
        module, func = _DELEGATED[argv[0]]
        return int(getattr(importlib.import_module(module), func)(argv[1:]) or 0)
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


#: sub-commands parsed by their own modules (options, --help)
_DELEGATED = {
    "bench": ("optml.bench.cli", "main_bench"),
    "export": ("optml.bench.cli", "main_export"),
    "report": ("optml.bench.cli", "main_report"),
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
