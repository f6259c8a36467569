"""The teaching dimension of a finite hypothesis class (Goldman and Kearns 1995)."""

from __future__ import annotations

import numpy as np

from optml.formulations.teaching import version_space_teaching
from optml.program.settings import SolveSettings


def teaching_dimension(H, target=None, backend="auto", solver=None, time_limit=None):
    """Teaching dimension of the class ``H`` (rows: hypotheses, columns: their labels of the
    pool), each target's minimum teaching set certified by a set-cover MILP
    (:func:`optml.formulations.teaching.version_space_teaching`).

    ``target=None``: the class's teaching dimension, the largest minimum over all targets.
    Returns a dict: ``dimension``, ``sets`` (target -> indices of a minimum teaching set),
    ``results`` (target -> certificate). Hypotheses that label the pool alike are one
    concept. ``time_limit`` is shared by all targets.
    """
    from optml.exceptions import SolveError
    from optml.solve import solve

    H = np.asarray(H)
    if H.ndim != 2:
        raise ValueError(f"H must be a 2-D array (hypotheses, points), got shape {H.shape}")
    targets = range(H.shape[0]) if target is None else [target]
    settings = SolveSettings.from_params(time_limit=time_limit, mip_gap=0.0).started()
    sets, results = {}, {}
    for t in targets:
        prog = version_space_teaching(H, t)
        res = solve(prog, backend=backend, solver=solver, settings=settings.for_internal())
        if res.status != "optimal" or not res.verified:
            raise SolveError(
                f"teaching_dimension: target {t} ended with status {res.status!r} "
                f"(verified={res.verified}); raise time_limit"
            )
        sets[t] = np.flatnonzero(np.asarray(res.values["count"]) > 0.5)
        results[t] = res
    return {
        "dimension": max(len(s) for s in sets.values()),
        "sets": sets,
        "results": results,
    }
