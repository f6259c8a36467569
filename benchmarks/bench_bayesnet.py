"""Bayesian network structure learning: optml's certified integer program against pgmpy's
HillClimbSearch and ExhaustiveSearch on the same scores, in the same run.

Run: python benchmarks/bench_bayesnet.py [--out docs/perf/bayesnet.md] [--quick]

Data: forward samples of the bundled networks (optml.data.sample_network, random_state=0):
asia (8 variables), sachs (11), child (20), alarm (37), n = 5000 rows; for the exhaustive
search, the first 3, 4, 5 variables of sachs (three states each; pgmpy's ExhaustiveSearch
enumerates all 2^(k(k-1)) directed graphs and keeps the acyclic ones).

Every DAG is scored with the same local scores (optml.bayesnet.scores, equal to pgmpy's BIC and
BDeu: tests/bayesnet/test_bayesnet_exact.py checks them against each other), so "score" is
comparable across methods; the certified bound of optml's program is an upper bound on every
DAG's score with the same max_parents. Needs pgmpy (pip install pgmpy) in the benchmark
environment only.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

from optml.bayesnet import BayesianNetworkStructure
from optml.bayesnet import scores as sc
from optml.bayesnet._data import encode
from optml.data import sample_network

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)


def frame(name, n, cols=None):
    df = sample_network(name, n, random_state=0)
    if cols is not None:
        df = df.iloc[:, :cols]
    return df.astype(str)  # observed states only, as pgmpy reads them


def dag_score(df, edges, score, ess):
    codes, card, _, names = encode(df)
    idx = {v: i for i, v in enumerate(names)}
    parents = [[] for _ in names]
    for u, v in edges:
        parents[idx[v]].append(idx[u])
    return sc.network_score(codes, card, parents, score, ess)


def pgmpy_score(df, score, ess):
    from pgmpy.estimators import BIC, BDeu

    return BIC(df) if score == "bic" else BDeu(df, equivalent_sample_size=ess)


def run_optml(df, score, ess, max_parents, time_limit, **kw):
    t0 = time.perf_counter()
    bn = BayesianNetworkStructure(
        scoring=score,
        equivalent_sample_size=ess,
        max_parents=max_parents,
        time_limit=time_limit,
        **kw,
    ).fit(df)
    wall = time.perf_counter() - t0
    r = bn.result_
    return {
        "wall": wall,
        "score": dag_score(df, bn.edges_, score, ess),
        "bound": r.bound,
        "gap": r.gap,
        "status": r.status,
        "route": f"{r.solver} {r.stats.get('route')}",
        "cuts": r.stats.get("cuts"),
        "cand": bn.candidates_.stats["kept"],
        "cand_time": bn.candidates_.stats["time"],
        "arcs": len(bn.edges_),
    }


def run_hill_climb(df, score, ess, max_parents):
    from pgmpy.estimators import HillClimbSearch

    t0 = time.perf_counter()
    dag = HillClimbSearch(df).estimate(
        scoring_method=pgmpy_score(df, score, ess),
        max_indegree=max_parents,
        show_progress=False,
    )
    wall = time.perf_counter() - t0
    return {"wall": wall, "score": dag_score(df, list(dag.edges()), score, ess)}


def run_exhaustive(df, score, ess):
    from pgmpy.estimators import ExhaustiveSearch

    t0 = time.perf_counter()
    dag = ExhaustiveSearch(df, scoring_method=pgmpy_score(df, score, ess)).estimate()
    wall = time.perf_counter() - t0
    return {"wall": wall, "score": dag_score(df, list(dag.edges()), score, ess)}


def fmt(x, d=2):
    return "—" if x is None else f"{x:.{d}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--quick", action="store_true", help="asia and the exhaustive runs only")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--ess", type=float, default=1.0)
    ap.add_argument("--alarm-time-limit", type=float, default=300.0)
    a = ap.parse_args()
    lines = []

    def out(s=""):
        print(s, flush=True)
        lines.append(s)

    # warm-up: the first fit imports Pyomo and SCIP (about a second), not counted below
    run_optml(frame("asia", 500), "bic", a.ess, 2, None)
    out("# Bayesian network structure learning (issue 21)")
    out()
    out(
        f"`python benchmarks/bench_bayesnet.py` ({time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} CPU cores, shared with other jobs). Samples of the bundled networks "
        f"(n = {a.n}, random_state=0); BDeu with equivalent sample size {a.ess:g}. Scores "
        "are computed for every DAG with the same local scores (equal to pgmpy's); `bound` is "
        "optml's certified upper bound on the score of every DAG with the same max_parents."
    )
    out()
    out("## Exhaustive search (pgmpy ExhaustiveSearch) against optml, first k variables of sachs")
    out()
    out("| k | score | pgmpy exhaustive s | optml s | ratio | exhaustive score | optml score |")
    out("|---|---|---|---|---|---|---|")
    for k in (3, 4, 5):
        df = frame("sachs", a.n, cols=k)
        for score in ("bic", "bdeu"):
            ex = run_exhaustive(df, score, a.ess)
            om = run_optml(df, score, a.ess, None, None)
            assert om["score"] >= ex["score"] - 1e-6 * abs(ex["score"]), (k, score)
            out(
                f"| {k} | {score} | {fmt(ex['wall'])} | {fmt(om['wall'])} | "
                f"{ex['wall'] / om['wall']:.1f}x | {fmt(ex['score'], 3)} | "
                f"{fmt(om['score'], 3)} |"
            )
    out()
    out("## Classic networks: optml (certified) against pgmpy HillClimbSearch")
    out()
    out(
        "| network | p | max_parents | score | optml route | optml s (candidates s) | "
        "status | gap | optml score | bound | hill climb s | hill climb score | arcs |"
    )
    out("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    cases = [("asia", 3, {}), ("asia", 3, {"solver": "highs"})]
    if not a.quick:
        cases += [
            ("sachs", 3, {}),
            ("child", 2, {}),
            ("alarm", 2, {"time_limit": a.alarm_time_limit}),
        ]
    for name, mp, kw in cases:
        df = frame(name, a.n)
        for score in ("bic", "bdeu"):
            tl = kw.get("time_limit")
            extra = {k: v for k, v in kw.items() if k != "time_limit"}
            om = run_optml(df, score, a.ess, mp, tl, **extra)
            hc = run_hill_climb(df, score, a.ess, mp) if not extra else None
            if hc is not None and om["status"] == "optimal":
                assert om["score"] >= hc["score"] - 1e-6 * abs(hc["score"]), (name, score)
            out(
                f"| {name} | {df.shape[1]} | {mp} | {score} | {om['route']} | "
                f"{fmt(om['wall'])} ({fmt(om['cand_time'])}) | {om['status']} | "
                f"{om['gap']:.1e} | {fmt(om['score'], 1)} | {fmt(om['bound'], 1)} | "
                f"{fmt(hc['wall']) if hc else '—'} | "
                f"{fmt(hc['score'], 1) if hc else '—'} | {om['arcs']} |"
            )
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
