"""A time limit returns the incumbent and its gap on time (the limit covers the whole fit)."""

import time

import numpy as np

from optml.clustering import KMeans


def test_time_limit_is_honoured_on_a_hard_mixture():
    rng = np.random.default_rng(4)
    C = rng.normal(scale=3, size=(4, 2))
    X = np.vstack([rng.normal(size=(75, 2)) + c for c in C])
    t0 = time.perf_counter()
    km = KMeans(n_clusters=4, time_limit=2.0, random_state=0).fit(X)
    wall = time.perf_counter() - t0
    assert wall <= 2.0 + 1.5, wall
    res = km.result_
    assert res.status in ("optimal", "time_limit")
    assert km.labels_.shape == (300,) and np.isfinite(km.inertia_)
    assert res.bound <= km.inertia_ * (1 + 1e-9)
    if res.status == "time_limit":
        assert 0 < res.gap < 1
