"""Embedding fitted gradient boosting models (optml.nn.embed) against gurobi-machinelearning.

For GradientBoostingRegressor models with K trees of depth d, fitted on hard synthetic data
(5 correlated features, an interaction, label noise), measures the time to write the model into
a program (one binary per leaf of every tree), the time to maximise the prediction over the box
[0, 1]^5, the certificate, and the model's own ``predict`` at the answer. gurobi-machinelearning
(``add_gradient_boosting_regressor_constr``, solved by Gurobi) runs in the same process when
it is importable; its pip wheel carries a size-limited licence (2000 variables / constraints),
beyond which its rows say so.

Both solvers run on one thread. Run ``python benchmarks/bench_embed.py [--quick]`` (with
gurobi-machinelearning and gurobipy importable for the peer); writes docs/perf/embed.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor

import optml as om
from optml.nn import embed


def data(n=600, p=5, seed=0):
    rng = np.random.default_rng(seed)
    C = 0.6 * np.ones((p, p)) + 0.4 * np.eye(p)
    Z = rng.multivariate_normal(np.zeros(p), C, size=n)
    X = 1 / (1 + np.exp(-Z))  # in (0, 1), correlated
    y = (
        np.sin(4 * X[:, 0])
        + 2 * X[:, 1] * X[:, 2]
        - (X[:, 3] - 0.5) ** 2
        + 0.3 * rng.normal(size=n)
    )
    return X, y


def run_optml(gb, p_feat, time_limit, solver):
    t = time.perf_counter()
    prog = om.Program()
    x = prog.var("x", shape=p_feat, lb=0, ub=1)
    out = prog.var("out", shape=1)
    emb = embed(prog, gb, x, out)
    prog.maximize(out[0])
    build = time.perf_counter() - t
    backend, slv = solver
    res = prog.solve(backend=backend, solver=slv, time_limit=time_limit, threads=1)
    xv = x.value(res.values)
    return dict(
        build=build,
        solve=res.solve_time,
        status=res.status,
        obj=res.objective,
        gap=res.gap,
        binaries=emb.n_binaries,
        rows=sum(int(np.prod(getattr(c, "shape", (1,)) or (1,))) for c in prog.constraints),
        check=float(gb.predict(xv[None])[0]),
    )


def run_gurobi_ml(gb, p_feat, time_limit, epsilon=0.0):
    try:
        import gurobipy as gp
        from gurobi_ml.sklearn import add_gradient_boosting_regressor_constr
    except ImportError:
        return dict(note="not installed")
    try:
        t = time.perf_counter()
        m = gp.Model()
        m.Params.OutputFlag = 0
        m.Params.Threads = 1
        m.Params.TimeLimit = time_limit
        x = m.addMVar((1, p_feat), lb=0, ub=1)
        y = m.addMVar((1, 1), lb=-gp.GRB.INFINITY)
        add_gradient_boosting_regressor_constr(m, gb, x, y, epsilon=epsilon)
        m.setObjective(y.sum(), gp.GRB.MAXIMIZE)
        m.update()
        build = time.perf_counter() - t
        t = time.perf_counter()
        m.optimize()
        solve = time.perf_counter() - t
        xv = np.asarray(x.X).ravel()
        return dict(
            build=build,
            solve=solve,
            status={2: "optimal", 9: "time_limit"}.get(m.Status, str(m.Status)),
            obj=m.ObjVal,
            binaries=m.NumBinVars,
            check=float(gb.predict(xv[None])[0]),
        )
    except Exception as err:  # noqa: BLE001 - the size-limited licence, reported as such
        msg = str(err)
        return dict(note="size-limited licence" if "size-limited" in msg else msg[:60])


def main(quick=False):
    X, y = data()
    p_feat = X.shape[1]
    configs = [(10, 2), (30, 3), (100, 3), (50, 4), (200, 3)]
    if quick:
        configs = configs[:2]
    time_limit = 60.0
    rows = []
    for n_trees, depth in configs:
        gb = GradientBoostingRegressor(
            n_estimators=n_trees, max_depth=depth, learning_rate=0.1, random_state=0
        ).fit(X, y)
        o = run_optml(gb, p_feat, time_limit, ("highs", None))
        s = run_optml(gb, p_feat, time_limit, ("pyomo", "scip")) if n_trees <= 100 else None
        g = run_gurobi_ml(gb, p_feat, time_limit)
        ge = run_gurobi_ml(gb, p_feat, time_limit, epsilon=1e-5)
        rows.append((n_trees, depth, o, s, g, ge))
        print(n_trees, depth, o, s, g, ge, flush=True)
    return rows


def fmt(r, key, f="{:.2f}"):
    return f.format(r[key]) if r and key in r else "—"


def write(rows, path):
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# Embedding gradient boosting (`optml.nn.embed`)",
        "",
        "`python benchmarks/bench_embed.py`: a GradientBoostingRegressor (K trees of depth d, "
        "learning rate 0.1) fitted on 600 points of hard synthetic data (5 correlated features "
        "in (0, 1), an interaction, noise sd 0.3) is written into a program and its prediction "
        "maximised over [0, 1]^5. *build*: seconds to write the model (optml: `embed`; "
        "gurobi-ml: `add_gradient_boosting_regressor_constr`); *solve*: the MILP, one thread, "
        "60 s limit; *predict at x*: the model's own `predict` at the answer (equal to the "
        "objective when the embedding is right). gurobi-machinelearning runs in the same "
        "process with Gurobi's pip licence (size-limited to 2000 variables / constraints).",
        "",
        f"Machine: {platform.processor() or platform.machine()}, 2 cores shared with other "
        f"jobs (load average {load:.1f} at the end of the run): compare within a row.",
        "",
        "| K | d | binaries | optml build (s) | HiGHS solve (s) | status, gap | objective | "
        "predict at x | SCIP (pyomo) solve (s) / predict at x | gurobi-ml build (s) | Gurobi solve (s) | "
        "gurobi-ml objective / predict at x (epsilon 0, its default) | "
        "same, epsilon 1e-5 (solve s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n_trees, depth, o, s, g, ge in rows:
        gcols = (
            [
                fmt(g, "build"),
                fmt(g, "solve"),
                f"{g['obj']:.6f} / {g['check']:.6f}",
                f"{ge['obj']:.6f} / {ge['check']:.6f} ({ge['solve']:.2f})"
                if "note" not in ge
                else ge["note"],
            ]
            if "note" not in g
            else [g["note"], "—", "—", "—"]
        )
        lines.append(
            "| "
            + " | ".join(
                [
                    str(n_trees),
                    str(depth),
                    str(o["binaries"]),
                    fmt(o, "build"),
                    fmt(o, "solve"),
                    f"{o['status']}, {o['gap']:.1g}",
                    f"{o['obj']:.6f}",
                    f"{o['check']:.6f}",
                    f"{s['solve']:.2f} / {s['check']:.6f}" if s else "—",
                    *gcols,
                ]
            )
            + " |"
        )

    def off(r):
        return r and "obj" in r and abs(r["obj"] - r["check"]) > 1e-6 * max(1, abs(r["obj"]))

    both = [(o, g) for _, _, o, _, g, _ in rows if "build" in g]
    lines += [
        "",
        "Findings of this run:",
        "",
        f"* optml's answer equals the model's `predict` at it in "
        f"{sum(not off(o) for _, _, o, *_ in rows)} of {len(rows)} rows (HiGHS) and "
        f"{sum(not off(s) for _, _, _, s, *_ in rows if s)} of "
        f"{sum(1 for r in rows if r[3])} (SCIP through Pyomo);",
        f"* gurobi-machinelearning with its default `epsilon=0` returns a point whose `predict` "
        f"differs from its objective in {sum(bool(off(g)) for *_, g, _ in rows)} of "
        f"{len(both)} rows it could run (x on a threshold, the better leaf taken); with "
        f"`epsilon=1e-5` in {sum(bool(off(ge)) for *_, ge in rows)};",
        "* build time optml / gurobi-ml: "
        + ", ".join(f"{o['build'] / g['build']:.2f}x" for o, g in both)
        + " (same rows as above); the Gurobi pip licence stops at 2000 variables or "
        "constraints, so larger models were not compared.",
    ]
    Path(path).write_text("\n".join(lines) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(Path(__file__).parent.parent / "docs/perf/embed.md"))
    a = ap.parse_args()
    write(main(a.quick), a.out)
