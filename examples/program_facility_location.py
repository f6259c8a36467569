"""Uncapacitated facility location (20 sites, 50 customers) as a MILP in optml, and the duals
of its fixed LP.

    min  sum_j f_j y_j + sum_ij c_ij x_ij
    s.t. sum_j x_ij = 1        (demand, each customer served)
         x_ij <= y_j           (link, only from open sites)
         y binary, x >= 0

A MILP has no duals; the operations researcher's reading is the *fixed LP*: the open sites
fixed at the solution, the rest an LP (optml.solve.sensitivity). Its demand duals are each
customer's marginal cost of service given the open sites; the reduced costs of the fixed
y_j say how much opening (or closing) site j would change the cost at that decision.

    python examples/program_facility_location.py [--plot]
"""

import argparse

import numpy as np

import optml as om
from optml.solve.sensitivity import solve_fixed

ap = argparse.ArgumentParser()
ap.add_argument("--plot", action="store_true", help="save program_facility_location.png")
args = ap.parse_args()

rng = np.random.default_rng(0)
m, n = 20, 50
sites, customers = rng.uniform(size=(m, 2)), rng.uniform(size=(n, 2))
f = rng.uniform(0.5, 1.5, size=m)  # opening costs
c = np.linalg.norm(sites[:, None] - customers[None], axis=2)  # service costs, (m, n)

p = om.Program("facility_location")
y = p.var("open", m, domain="binary", latex="y")
x = p.var("serve", (m, n), lb=0, latex="x")
p.add(x.sum(axis=0) == 1, name="demand")
p.add(x <= y.reshape(m, 1) @ np.ones((1, n)), name="link")
p.minimize(f @ y + c.ravel() @ x.reshape(m * n))
res = p.solve()

print(p.summary())
print(p.to_latex())
print(res.summary())
opened = np.flatnonzero(res["open"] > 0.5)
print(f"\nopen sites: {opened.tolist()}")

fixed = solve_fixed(p, res)  # the LP with the open sites fixed: certified like any solve
print(
    f"fixed LP: {fixed.status}, objective {fixed.objective:.6f} (MILP {res.objective:.6f}),"
    f" verified {fixed.verified}"
)
u = fixed.duals["demand"]
nearest = c[opened].min(axis=0)
print(
    "demand duals = each customer's cost to its nearest open site:",
    bool(np.allclose(u, nearest, atol=1e-7)),
)
print("first demand duals:", np.round(u[:6], 4))
rc = fixed.reduced_costs["open"]
print("reduced costs of the fixed open/closed decisions (first 6):", np.round(rc[:6], 4))

if args.plot:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(*customers.T, c=u, cmap="viridis", s=30, label="customers (colour: dual)")
    ax.scatter(*sites.T, marker="s", c="lightgray", s=60, label="sites")
    ax.scatter(*sites[opened].T, marker="s", c="red", s=60, label="open")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig("program_facility_location.png", dpi=120)
    print("saved program_facility_location.png")
