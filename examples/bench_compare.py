"""Compare solvers on one ML instance: best subset (k = 2) on Hald's cement data.

The program is built once; the same object goes to SCIP through Pyomo and through cvxpy
(without SCIP: least absolute deviations on HiGHS and Clarabel), each task in a worker process
under a hard time limit. Prints the formulation, the tidy rows, the per-solver summary and the
certificate of the fastest.

    python examples/bench_compare.py [--plot]   (--plot saves bench_compare.png)
"""

from __future__ import annotations

import importlib.util
import sys

from optml import bench, data
from optml.regression import BestSubsetRegression, LeastAbsoluteDeviation

COLUMNS = [
    "model",
    "backend",
    "solver",
    "solver_version",
    "status",
    "objective",
    "bound",
    "gap",
    "build_time",
    "solve_time",
    "wall_time",
    "max_violation",
    "verified",
]


def main(plot: bool = False) -> None:
    hald = data.load("hald")
    if importlib.util.find_spec("pyscipopt") is not None:
        model, solvers, backends = BestSubsetRegression(k=2), ["scip"], ["pyomo", "cvxpy"]
    else:  # without SCIP: the LP relative on the installed LP solvers
        model, solvers, backends = LeastAbsoluteDeviation(), ["highs", "clarabel"], None
    program = model.build_program(hald.X, hald.y)
    print(program.summary())
    df = bench.compare(model, hald, solvers=solvers, backends=backends, time_limit=10, workers=1)
    print("\nTidy rows (one per task):")
    print(bench.to_markdown(df[COLUMNS].to_dict("records")))
    print("\nSummary per backend/solver (shifted geometric mean of wall time, shift 1 s):")
    print(bench.to_markdown(bench.summarize(df)))
    best = df[df["status"] == "optimal"].sort_values("wall_time").iloc[0]
    print(
        f"\ncertificate of the fastest: {best['backend']}/{best['solver']} "
        f"status={best['status']} objective={best['objective']:.6g} "
        f"bound={best['bound']:.6g} gap={best['gap']:.2g}"
    )
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3))
        names = [f"{r.backend}/{r.solver}" for r in df.itertuples()]
        ax.barh(names, df["wall_time"], color="C0")
        ax.set_xlabel("wall time (s)")
        ax.set_title(f"{type(model).__name__} on hald: status {', '.join(df['status'])}")
        fig.savefig("bench_compare.png", dpi=100, bbox_inches="tight")
        print("saved bench_compare.png")


if __name__ == "__main__":
    main(plot="--plot" in sys.argv)
