"""The instance library: optml's model families over a grid of data sets and sizes, written
as MPS/LP files with one metadata file per instance (``optml export --library``).

Each family is a small suite (models x parameters x data x sizes). :func:`export_library`
writes every distinct program of every family as ``<family>/<name>.mps`` (or ``.lp``) with
``<name>.json`` beside it: the source model and its parameters, the data, generator
parameters and seed, the problem class, the sizes (variables, constraints, integer
variables, nonzeros), the objective sense and, when the instances were solved
(``solve=SECONDS``), the best known objective and bound and who found them, as MIPLIB's
solution files do; ``library.solu`` lists them in MIPLIB's ``=opt=`` / ``=best=`` format.

Programs with conic blocks (the k-means MIQCP in its second-order-cone form, sparse PCA's
SDP, best subset's perspective form) have no MPS/LP form: they are written in CBF, the format
of the conic benchmark library CBLIB (:mod:`optml.bench.cbf`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("optml")

_REG = "make_sparse_regression"
_CLS = "make_classification_tree"

#: family -> suite (without solvers); ``small`` sizes (a few seconds per instance at most)
FAMILIES: dict[str, dict] = {
    "regression_lp": {
        "models": [
            {"name": "lad"},
            {"name": "quantile", "params": {"quantile": [0.25, 0.75]}},
        ],
        "data": [
            {"name": "stackloss"},
            {"name": _REG, "params": {"n": [100, 300], "p": [10, 30], "k": 5}, "seeds": [0]},
        ],
    },
    "lasso_qp": {
        "models": [{"name": "lasso", "params": {"alpha": [0.1, 1.0]}}],
        "data": [
            {"name": "diabetes"},
            {"name": _REG, "params": {"n": 200, "p": [20, 50], "k": 5}, "seeds": [0]},
        ],
    },
    "best_subset": {
        "models": [
            {"name": "best_subset", "params": {"k": [3, 5], "formulation": ["bigm", "sos1"]}},
            {"name": "optml.bench.instances:lad_best_subset", "params": {"k": [3, 5]}},
        ],
        "data": [{"name": _REG, "params": {"n": 100, "p": [10, 20], "k": 5}, "seeds": [0]}],
    },
    "svm": {
        "models": [
            {"name": "soft_margin_svm"},
            {"name": "sparse_svm", "params": {"k": [2, 4]}},
            {"name": "optml.classification:RampLossSVM"},
        ],
        "data": [{"name": _CLS, "params": {"n": [60, 120], "p": 5, "noise": 0.1}, "seeds": [0]}],
    },
    "sparse_logistic": {
        "models": [{"name": "optml.classification:SparseLogisticRegression", "params": {"k": 2}}],
        "data": [{"name": _CLS, "params": {"n": [60, 120], "p": 5, "noise": 0.1}, "seeds": [0]}],
    },
    "trees": {
        "models": [
            {
                "name": "optimal_tree",
                "params": {"max_depth": 2, "formulation": ["flow", "flow-plain", "oct", "pairs"]},
            }
        ],
        "data": [
            {"name": "iris"},
            {"name": _CLS, "params": {"n": 80, "p": 4, "noise": 0.1}, "seeds": [0]},
        ],
    },
    "kmeans": {
        "models": [{"name": "optml.clustering:KMeans", "params": {"n_clusters": 3}}],
        "data": [
            {"name": "make_blobs_clustering", "params": {"n": [30, 60], "k": 3}, "seeds": [0]}
        ],
    },
    "kmedoids": {
        "models": [{"name": "kmedoids", "params": {"n_clusters": [3, 4]}}],
        "data": [
            {"name": "ruspini"},
            {"name": "make_blobs_clustering", "params": {"n": 60, "k": 3}, "seeds": [0]},
        ],
    },
    "sparse_pca": {
        "models": [{"name": "optml.decomposition:SparsePCA", "params": {"n_nonzero": [2, 3]}}],
        "data": [{"name": "hald"}, {"name": "longley"}],
    },
    "relu_verification": {
        "models": [
            {
                "name": "optml.bench.instances:relu_verification",
                "params": {"hidden": [[8, 8], [16, 16]], "radius": [0.05, 0.2]},
            }
        ],
        "data": [{"name": "diabetes"}],
    },
    "network_training": {
        "models": [
            {"name": "optml.nn:MIPNetworkClassifier", "params": {"hidden_layer_sizes": [[2], [3]]}},
            {"name": "optml.nn:BinarizedNeuralNetwork", "params": {"hidden_layer_sizes": [[2]]}},
        ],
        "data": [{"name": _CLS, "params": {"n": [20, 40], "p": 2}, "seeds": [0]}],
    },
}


def library_suites(families=None, grid: dict | None = None) -> dict[str, dict]:
    """``{family: suite}`` of the library (all families, or the named ones); ``grid`` replaces
    :data:`FAMILIES` (a dict of the same shape: your own families and sizes)."""
    grid = FAMILIES if grid is None else grid
    names = list(grid) if not families else list(families)
    unknown = [f for f in names if f not in grid]
    if unknown:
        raise ValueError(f"unknown library families {unknown}; choose from {sorted(grid)}")
    return {f: {**grid[f], "solvers": [{"backend": "auto"}]} for f in names}


def export_library(
    out,
    fmt: str = "mps",
    families=None,
    solve: float | None = None,
    workers: int = 1,
    progress: bool = False,
    grid: dict | None = None,
) -> list[dict]:
    """Write the library into ``out`` (see the module doc); returns the metadata records.

    With ``solve`` (seconds) every instance is first solved through the harness (worker
    processes, the automatic solver choice, ``solve`` seconds each; rows in
    ``out/solve/results.sqlite``, so a second call resumes) and its best objective and bound
    go into the metadata."""
    from optml.bench import export_instances

    out = Path(out)
    records = []
    for fam, suite in library_suites(families, grid).items():
        # the library's own families are optml code: no plugin flag needed
        manifest = export_instances(suite, out / fam, fmt=fmt, allow_plugins=True)
        best = _solve(suite, out / "solve" / fam, solve, workers, progress) if solve else {}
        for m in manifest:
            rec = {"family": fam, **m, **best.get(m["instance"], _UNSOLVED)}
            rec["name"] = f"{fam}/{m['name']}"
            rec["file"] = f"{fam}/{m['file']}" if m["file"] else None
            (out / fam / f"{m['name']}.json").write_text(json.dumps(rec, indent=2, default=str))
            records.append(rec)
    (out / "library.json").write_text(json.dumps(records, indent=2, default=str))
    (out / "library.solu").write_text(_solu(records))
    return records


_UNSOLVED = {
    "best_known_objective": None,
    "best_known_bound": None,
    "best_known_status": None,
    "best_known_by": None,
}


def _solve(suite, folder: Path, seconds: float, workers: int, progress: bool) -> dict:
    """``{instance: best objective/bound fields}`` from solving the suite's instances."""
    import math

    from optml.bench.runner import run_suite

    rows = run_suite(
        {**suite, "time_limit": float(seconds)},
        folder,
        workers=workers,
        resume=True,
        progress=progress,
        allow_plugins=True,
        traces=False,
    )
    best: dict = {}
    for r in rows:
        obj, bnd = r.get("objective"), r.get("bound")
        if not r.get("verified") or obj is None or not math.isfinite(obj):
            continue
        best[r["instance"]] = {
            "best_known_objective": obj,
            "best_known_bound": bnd if bnd is not None and math.isfinite(bnd) else None,
            "best_known_status": r["status"],
            "best_known_by": f"{r['backend']}/{r['solver']}",
            "best_known_time_limit": float(seconds),
        }
    return best


def _solu(records: list[dict]) -> str:
    """MIPLIB-style solution file: ``=opt= name value`` (proven), ``=best= name value``
    (feasible, not proven), ``=bestdual= name bound``, ``=unkn= name``."""
    lines = []
    for r in records:
        name = r["name"]
        obj = r.get("best_known_objective")
        if obj is None:
            lines.append(f"=unkn=  {name}")
            continue
        tag = "=opt=" if r.get("best_known_status") == "optimal" else "=best="
        lines.append(f"{tag}  {name}  {obj:.12g}")
        if tag == "=best=" and r.get("best_known_bound") is not None:
            lines.append(f"=bestdual=  {name}  {r['best_known_bound']:.12g}")
    return "\n".join(lines) + "\n"
