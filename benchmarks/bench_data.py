"""Benchmark optml.data: load times, CSV reading, generators, binarisation.

Run: ``python benchmarks/bench_data.py [--quick] [--out docs/perf/data.md]``

Each figure is printed next to a baseline measured in the same run:

* cold load of each bundled set (fresh interpreter, imports included) against
  ``sklearn.datasets.load_*`` (fresh interpreter, imports included);
* ``from_csv`` (stdlib csv) against ``pandas.read_csv`` on the same file;
* ``make_sparse_regression`` (AR(1) / one-factor sampling) against
  ``numpy.random.Generator.multivariate_normal`` with the explicit covariance;
* ``binarize(thresholds="all")`` and ``Thresholds.transform``; baseline: one numpy
  comparison per (feature, threshold) column in a Python loop.

Benchmarks are not tests; timings on a shared machine are noisy (median of repeats).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from optml import data  # noqa: E402


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _cold(code: str, repeat: int) -> float:
    """Median wall time of a fresh interpreter running ``code`` (minus an empty one)."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))

    def run(c):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", c], check=True, env=env)
        return time.perf_counter() - t

    base = statistics.median(run("pass") for _ in range(repeat))
    return statistics.median(run(code) for _ in range(repeat)) - base


def bench_loads(repeat: int) -> list[tuple]:
    rows = [
        (
            "import optml.data (no load)",
            f"{_cold('import optml.data', repeat) * 1e3:.0f} ms cold",
            f"{_cold('import sklearn.datasets', repeat) * 1e3:.0f} ms (import sklearn.datasets)",
        )
    ]
    for name in data.list_datasets():
        warm = _median_time(lambda n=name: data.load(n), repeat * 3)
        cold = _cold(f"import optml.data as d; d.load({name!r})", repeat)
        if name in ("iris", "wine", "breast_cancer", "diabetes", "digits"):
            base = _cold(f"from sklearn.datasets import load_{name}; load_{name}()", repeat)
            base_s = f"{base * 1e3:.0f} ms (sklearn.datasets.load_{name}, cold)"
        else:
            base_s = "-"
        rows.append(
            (f"load({name!r})", f"{cold * 1e3:.0f} ms cold, {warm * 1e3:.1f} ms warm", base_s)
        )
    return rows


def bench_csv(n: int, repeat: int) -> list[tuple]:
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"f{j}" for j in range(8)])
    df["city"] = rng.choice(["Lyon", "Nice", "Paris"], n)
    df["y"] = rng.normal(size=n)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.csv")
        df.to_csv(path, index=False)
        t_ours = _median_time(lambda: data.from_csv(path, target="y"), repeat)
        t_pd = _median_time(lambda: pd.read_csv(path), repeat)
        t_pd_full = _median_time(lambda: data.from_frame(pd.read_csv(path), target="y"), repeat)
    return [
        (
            f"from_csv, {n} rows x 10 cols",
            f"{t_ours * 1e3:.0f} ms",
            f"{t_pd * 1e3:.0f} ms (pandas.read_csv alone); "
            f"{t_pd_full * 1e3:.0f} ms (read_csv + from_frame)",
        )
    ]


def bench_generators(repeat: int, n: int, p: int) -> list[tuple]:
    rng = np.random.default_rng(0)
    idx = np.arange(p)
    cov = 0.35 ** np.abs(idx[:, None] - idx[None, :])
    rows = []
    for design in ("toeplitz", "equicorrelated"):
        t = _median_time(
            lambda d=design: data.make_sparse_regression(n=n, p=p, k=10, design=d, random_state=0),
            repeat,
        )
        c = cov if design == "toeplitz" else np.where(idx[:, None] == idx[None, :], 1.0, 0.35)
        b = _median_time(lambda c=c: rng.multivariate_normal(np.zeros(p), c, size=n), repeat)
        rows.append(
            (
                f"make_sparse_regression {design}, n={n}, p={p}",
                f"{t * 1e3:.0f} ms",
                f"{b * 1e3:.0f} ms (Generator.multivariate_normal, X only)",
            )
        )
    return rows


def bench_binarize(repeat: int) -> list[tuple]:
    X = data.load("breast_cancer").X
    Xb, th = data.binarize(X)
    t = _median_time(lambda: data.binarize(X), repeat)
    t_tr = _median_time(lambda: th.transform(X), repeat)

    def loop():
        return np.column_stack([(X[:, f] <= v) for f, v in th]).astype(float)

    b = _median_time(loop, repeat)
    assert (loop() == Xb).all()
    return [
        (
            f"binarize(breast_cancer, 'all') -> {Xb.shape[1]} columns",
            f"{t * 1e3:.0f} ms (transform {t_tr * 1e3:.0f} ms)",
            f"{b * 1e3:.0f} ms (per-column numpy loop)",
        )
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    ap.add_argument("--out", default=None, help="write the table as markdown to this file")
    args = ap.parse_args()
    repeat = 3 if args.quick else 5
    rows = []
    rows += bench_loads(repeat)
    rows += bench_csv(20_000 if args.quick else 100_000, repeat)
    rows += bench_generators(repeat, 1000, 500 if args.quick else 2000)
    rows += bench_binarize(repeat)
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"{'what':<{w0}}  {'optml':<{w1}}  baseline (same run)")
    for r in rows:
        print(f"{r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]}")
    if args.out:
        import platform

        lines = [
            "# optml.data performance",
            "",
            f"Measured by `python benchmarks/bench_data.py{' --quick' if args.quick else ''}` "
            f"on {platform.platform()}, Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs (shared machine; medians of {repeat} repeats).",
            "",
            "Cold figures are a fresh interpreter (minus an empty one) running the import "
            "and the load; most of it is `import optml` itself (the program layer imports "
            "scipy), see the first row. Warm figures are the load alone. The scikit-learn "
            "sets are parsed from scikit-learn's shipped files without importing "
            "scikit-learn. `from_csv` uses the standard library's csv module (same behaviour "
            "with or without pandas, exact line numbers in errors); it is several times "
            "slower than pandas' C parser, which matters only for files far larger than "
            "these models handle.",
            "",
            "| what | optml | baseline (same run) |",
            "|---|---|---|",
        ]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
