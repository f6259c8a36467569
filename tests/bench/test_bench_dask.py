"""Dask LocalCluster with 2 workers gives the same rows as the local process pool."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from optml import bench  # noqa: E402

SUITE = {
    "name": "dask",
    "time_limit": 5,
    "margin": 3,
    "plugins": ["bench_testplugins"],
    "models": [
        {"name": "bench_testmodels:lad", "params": {"scale": 2.0}},
        {"name": "bench_testmodels:knapsack", "params": {"items": 6}},
    ],
    "data": [{"name": "hald"}],
    "solvers": [
        {"backend": "highs", "solver": "highs"},
        {"backend": "misbehave", "solver": "segv"},
    ],
}


def test_dask_local_cluster_matches_process_pool(tmp_path):
    pytest.importorskip("dask.distributed", reason='needs pip install "optml-models[dist]"')
    local = bench.run_suite(
        SUITE, tmp_path / "local", workers=2, progress=False, allow_plugins=True
    )
    dask = bench.run_suite(
        SUITE, tmp_path / "dask", workers=2, scheduler="local", progress=False, allow_plugins=True
    )
    assert len(local) == len(dask) == 4

    def table(rows):
        def obj(v):
            return None if v is None or math.isnan(v) else round(v, 6)

        return {r["key"]: (r["status"], obj(r["objective"]), r["program_hash"]) for r in rows}

    assert table(local) == table(dask)
    assert sum(r["status"] == "crashed" for r in dask) == 2
    assert sum(r["status"] == "optimal" for r in dask) == 2
