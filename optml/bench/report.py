r"""Summaries and Dolan–Moré performance profiles of benchmark rows.

Conventions (documented in docs/bench.md):

* a task is *solved* when its status is ``optimal`` and optml's numpy check verified it;
* the shifted geometric mean of times uses shift :math:`s = 1` s,
  :math:`\mathrm{sgm} = \exp\big(\tfrac1N \sum_i \log(t_i + s)\big) - s`, with unsolved tasks
  counted at their time limit;
* the performance ratio of solver :math:`s` on instance :math:`p` is
  :math:`r_{p,s} = t_{p,s} / \min_{s'} t_{p,s'}` over solvers that solved :math:`p`
  (:math:`\infty` when :math:`s` did not), and the profile is
  :math:`\rho_s(\tau) = |\{p : r_{p,s} \le \tau\}| / |P|`.
  Repeats of a task are averaged first.
"""

from __future__ import annotations

import math
from collections import defaultdict


def _records(df) -> list[dict]:
    if hasattr(df, "to_dict"):
        return df.to_dict("records")
    return list(df)


def _frame(rows: list[dict]):
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        return rows
    return pd.DataFrame(rows)


def _solved(r) -> bool:
    return r.get("status") == "optimal" and bool(r.get("verified"))


def _time(r) -> float:
    t = r.get("solve_time")
    return float(t) if t is not None and not _isnan(t) else float("nan")


def _isnan(x) -> bool:
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def _label(r) -> str:
    return f"{r.get('backend')}/{r.get('solver')}"


def _per_instance(rows):
    """(instance, label) -> (solved, mean time over repeats, time limit)."""
    acc = defaultdict(list)
    for r in rows:
        acc[(r["instance"], _label(r))].append(r)
    out = {}
    for k, rs in acc.items():
        solved = all(_solved(r) for r in rs)
        times = [_time(r) for r in rs]
        tl = max(float(r.get("time_limit") or 0) for r in rs)
        out[k] = (solved, sum(times) / len(times) if solved else float("inf"), tl)
    return out


def summarize(df, shift: float = 1.0):
    """Per backend/solver: tasks, solved, shifted geometric mean time, mean gap, fastest count."""
    rows = _records(df)
    by = defaultdict(list)
    for r in rows:
        by[_label(r)].append(r)
    inst = _per_instance(rows)
    best = {}
    for (i, lab), (ok, t, _) in inst.items():
        if ok and t < best.get(i, (float("inf"), None))[0]:
            best[i] = (t, lab)
    out = []
    for lab, rs in sorted(by.items()):
        ts = []
        for r in rs:
            t = _time(r) if _solved(r) else float(r.get("time_limit") or 0)
            ts.append(t if not _isnan(t) else float(r.get("time_limit") or 0))
        sgm = math.exp(sum(math.log(t + shift) for t in ts) / len(ts)) - shift
        gaps = [float(r["gap"]) for r in rs if r.get("gap") is not None
                and not _isnan(r["gap"]) and math.isfinite(float(r["gap"]))]  # fmt: skip
        out.append({
            "backend": rs[0].get("backend"), "solver": rs[0].get("solver"), "tasks": len(rs),
            "solved": sum(_solved(r) for r in rs), "sgm_time": sgm,
            "mean_gap": sum(gaps) / len(gaps) if gaps else float("nan"),
            "fastest": sum(1 for t, lab2 in best.values() if lab2 == lab),
        })  # fmt: skip
    return _frame(out)


def profile_data(df, taus=None) -> dict:
    """Dolan–Moré profile: ``{"tau": [...], label: [rho(tau) ...]}``."""
    rows = _records(df)
    inst = _per_instance(rows)
    instances = sorted({i for i, _ in inst})
    labels = sorted({lab for _, lab in inst})
    best = {}
    for (i, _), (ok, t, _) in inst.items():
        if ok:
            best[i] = min(best.get(i, float("inf")), max(t, 1e-9))
    ratios = {lab: [] for lab in labels}
    for i in instances:
        for lab in labels:
            ok, t, _ = inst.get((i, lab), (False, float("inf"), 0))
            ratios[lab].append(max(t, 1e-9) / best[i] if ok and i in best else float("inf"))
    if taus is None:
        finite = [r for rs in ratios.values() for r in rs if math.isfinite(r)]
        top = max(finite + [1.0]) * 1.1
        taus = [1.0 + (top - 1.0) * k / 199 for k in range(200)]
    out = {"tau": list(taus)}
    n = len(instances)
    for lab in labels:
        out[lab] = [sum(1 for r in ratios[lab] if r <= tau) / n if n else 0.0 for tau in taus]
    return out


def performance_profile(df, ax=None, taus=None):
    """Plot the Dolan–Moré performance profile (needs matplotlib); returns the figure."""
    try:
        import matplotlib

        if ax is None:
            matplotlib.use(matplotlib.get_backend() or "Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover
        raise ImportError(
            'performance_profile needs matplotlib: pip install "optml-models[plot]"'
        ) from exc
    data = profile_data(df, taus)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    for lab, rho in data.items():
        if lab != "tau":
            ax.step(data["tau"], rho, where="post", label=lab)
    ax.set_xscale("log")
    ax.set_xlabel(r"$\tau$ (time ratio to the fastest)")
    ax.set_ylabel(r"fraction of instances solved within $\tau$")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def to_markdown(df, floatfmt: str = ".3g") -> str:
    """A Markdown table of rows (no pandas needed)."""
    rows = _records(df)
    if not rows:
        return "(no rows)"
    cols = list(rows[0])

    def fmt(v):
        return format(v, floatfmt) if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
