"""Lazy constraints: the travelling salesman with subtour elimination on 25 random cities.

Run: python examples/lazy_tsp.py [--plot]

The program holds only the degree rows; the exponentially many subtour elimination rows are a
lazy family (``Program.add_lazy``): a separation routine finds the connected components of a
candidate tour and returns one cut per component. The same program is solved three ways:
HiGHS (a re-solve loop: solve, separate, add the cuts, re-solve), SCIP through Pyomo (a
constraint handler inside SCIP's branch and bound) and SCIP through cvxpy (the loop). Each
answer is certified against the program with every cut generated, and the final tour is
checked by the separation routine itself. ``--plot`` saves the tour as lazy_tsp.png.
"""

import sys

import numpy as np

from optml.backends import available
from optml.formulations.tsp import tour_from_edges, tour_length, tsp_program


def main(plot: bool = False) -> None:
    n = 25
    P = np.random.default_rng(7).uniform(size=(n, 2))
    D = np.linalg.norm(P[:, None] - P[None], axis=2)
    pairs = {(r["backend"], r["solver"]) for r in available() if not r["kinds"]}
    routes = [("highs", "highs"), ("pyomo", "scip"), ("cvxpy", "scip")]
    print(f"TSP on {n} random cities: {n * (n - 1) // 2} binary edge variables, {n} degree rows")
    print(
        f"{'backend/solver':<15} {'status':<8} {'tour length':>12} {'bound':>10} {'gap':>8} "
        f"{'route':<10} {'rounds':>6} {'cuts':>5} {'time':>7}"
    )
    tours = {}
    for backend, solver in routes:
        if (backend, solver) not in pairs:
            print(f"{backend}/{solver}: not installed")
            continue
        p = tsp_program(D)
        res = p.solve(backend=backend, solver=solver, time_limit=120)
        st = res.stats
        print(
            f"{backend + '/' + solver:<15} {res.status:<8} {res.objective:>12.6f} "
            f"{res.bound:>10.6f} {res.gap:>8.1e} {st['route']:<10} {st['rounds']:>6} "
            f"{st['cuts']:>5} {res.solve_time:>6.2f}s"
        )
        tours[backend + "/" + solver] = tour_from_edges(n, res.values["x"])
    order = next(iter(tours.values()))
    print("\ntour:", " -> ".join(map(str, order + order[:1])))
    print(
        f"length {tour_length(D, order):.6f}, same tour length on every route: "
        f"{len({round(tour_length(D, t), 9) for t in tours.values()}) == 1}"
    )
    print("\nthe program (degree rows; the subtour family is lazy):")
    print(tsp_program(D).summary())
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 5))
        cyc = order + order[:1]
        ax.plot(P[cyc, 0], P[cyc, 1], "-o", color="tab:blue")
        ax.set_title(f"optimal tour, {n} cities (lazy subtour elimination)")
        ax.set_aspect("equal")
        fig.savefig("lazy_tsp.png", dpi=100, bbox_inches="tight")
        print("saved lazy_tsp.png")


if __name__ == "__main__":
    main(plot="--plot" in sys.argv)
