r"""Summaries, Dolan–Moré performance profiles and plots of benchmark rows.

Conventions (docs/bench.md states them for users):

* a *solver* is a backend/solver pair, labelled ``"backend/solver"``;
* times are ``wall_time`` by default: the seconds of ``Program.solve`` from the lowered
  program to the checked result, measured by the worker in the same way for every pair
  (modelling-layer translation included). ``solve_time`` (the solver's own report, which each
  backend measures differently) can be chosen with ``time="solve_time"``;
* rows with status ``unavailable`` (the pair cannot take the problem class) are left out;
* a task is *solved* when its status is ``optimal`` and optml's numpy check verified it;
* repeats are merged first: an instance counts as solved by a solver when every repeat solved
  it, and its time :math:`t_{p,s}` is the mean over repeats of the solve time, an unsolved
  repeat counting at its time limit;
* the shifted geometric mean with shift :math:`\sigma = 1` s is
  :math:`\mathrm{sgm}_s = \exp\big(\tfrac1{|P_s|}\sum_{p\in P_s}\log(t_{p,s}+\sigma)\big)-\sigma`
  with unsolved instances at their time limit;
* the performance ratio is :math:`r_{p,s} = t_{p,s} / \min\{t_{p,s'} : s' \text{ solved } p\}`
  (:math:`\infty` when :math:`s` did not solve :math:`p`) and the profile is
  :math:`\rho_s(\tau) = |\{p \in P : r_{p,s} \le \tau\}| / |P|` over all instances :math:`P`
  (Dolan and Moré, 2002).
"""

from __future__ import annotations

import math
from collections import defaultdict

FAILED = ("crashed", "killed", "out_of_memory", "error")


def _records(df) -> list[dict]:
    """Rows as dicts, without ``unavailable`` ones (the pair cannot take the class: it never
    ran, so it is neither slow nor failed)."""
    rows = df.to_dict("records") if hasattr(df, "to_dict") else list(df)
    return [r for r in rows if r.get("status") != "unavailable"]


def _frame(rows: list[dict]):
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        return rows
    return pd.DataFrame(rows)


def _num(x) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return math.nan
    return x


def not_run(df) -> list[dict]:
    """Rows of tasks that could not run: they failed (error, crash, kill, memory) before their
    solve started (``stage`` ``"setup"``: a plugin, the data, the model's parameters or build,
    or the harness itself). Solver outcomes are not in it."""
    rows = df.to_dict("records") if hasattr(df, "to_dict") else list(df)
    return [r for r in rows if r.get("status") in FAILED and r.get("stage") == "setup"]


def solved(r) -> bool:
    """A row counts as solved: status ``optimal`` and verified by optml's numpy check."""
    v = r.get("verified")
    return r.get("status") == "optimal" and bool(v) and not (isinstance(v, float) and math.isnan(v))


def label(r) -> str:
    return f"{r.get('backend')}/{r.get('solver')}"


def _classes(rows) -> dict:
    """``{instance: problem class}`` from the rows that know it, plus ``{("model", name):
    class}`` for models of a single class: a task that failed before its build has no class
    and belongs to its instance's class, else to its model's."""
    out: dict = {}
    by_model = defaultdict(set)
    for r in rows:
        c = r.get("problem_class")
        if isinstance(c, str) and c:
            out.setdefault(r.get("instance"), c)
            by_model[r.get("model")].add(c)
    for m, cs in by_model.items():
        if len(cs) == 1:
            out[("model", m)] = next(iter(cs))
    return out


def _class_of(r, classes) -> str | None:
    c = r.get("problem_class")
    if isinstance(c, str) and c:
        return c
    return classes.get(r.get("instance")) or classes.get(("model", r.get("model")))


def family(r, classes=None) -> str:
    """The group a row is summarised in: its model family and problem class, e.g.
    ``"lad (LP)"``. Unrelated models are never averaged together."""
    c = _class_of(r, classes or {})
    m = r.get("model")
    if m is None and not c:
        return "all"
    return f"{m} ({c or '?'})"


def families(df) -> dict:
    """``{family: rows}`` (see :func:`family`), in sorted order, ``unavailable`` rows left
    out."""
    rows = _records(df)
    classes = _classes(rows)
    out = defaultdict(list)
    for r in rows:
        out[family(r, classes)].append(r)
    return dict(sorted(out.items()))


def _time(r, time: str) -> float:
    """The row's time, or its time limit when unsolved (or the time is missing)."""
    tl = _num(r.get("time_limit"))
    t = _num(r.get(time))
    if not solved(r) or math.isnan(t):
        return tl
    return t


def per_instance(df, time: str = "wall_time") -> dict:
    """``{(instance, label): (solved, time, gap)}`` with repeats merged (see module doc)."""
    acc = defaultdict(list)
    for r in _records(df):
        acc[(r["instance"], label(r))].append(r)
    out = {}
    for k, rs in acc.items():
        ok = all(solved(r) for r in rs)
        t = sum(_time(r, time) for r in rs) / len(rs)
        gaps = [_num(r.get("gap")) for r in rs]
        gaps = [g for g in gaps if math.isfinite(g)]
        out[k] = (ok, t, sum(gaps) / len(gaps) if gaps else math.nan)
    return out


def shifted_geometric_mean(values, shift: float = 1.0) -> float:
    r""":math:`\exp(\frac1N\sum\log(v_i+s)) - s`."""
    values = list(values)
    if not values:
        return math.nan
    return math.exp(sum(math.log(v + shift) for v in values) / len(values)) - shift


def summarize(df, shift: float = 1.0, time: str = "wall_time", by_family: bool = True):
    """One row per model family and problem class (see :func:`family`) and backend/solver
    pair: unrelated models (a LAD LP, a lasso QP) are never averaged together.

    Columns: ``model``, ``problem_class`` (with ``by_family``), ``backend``, ``solver``,
    ``tasks`` (rows, repeats included), ``instances``, ``solved`` (instances solved in every
    repeat), ``failed`` (tasks that crashed, were killed, ran out of memory or raised),
    ``sgm_time`` (shifted geometric mean of ``time`` over instances, shift ``shift``
    seconds, unsolved at the time limit), ``mean_gap`` (over instances with a finite gap),
    ``fastest`` (instances on which it was fastest among the pairs that solved them; ties
    count for each), and, when the rows have traces, ``primal_integral`` and
    ``primal_dual_integral`` (means over its tasks, Berthold 2013; see
    :func:`optml.bench.traces.primal_integral`).

    Returns a pandas DataFrame (a list of dicts without pandas).
    """
    rows = _records(df)
    groups = families(rows) if by_family else {"all": rows}
    by_family = by_family and set(groups) != {"all"}  # rows without model names: one group
    out = []
    for fam, rs in groups.items():
        out.extend(_summary_rows(fam, rs, shift, time, by_family))
    return _frame(out)


def _summary_rows(fam, rows, shift, time, by_family) -> list[dict]:
    from optml.bench.traces import integrals

    inst = per_instance(rows, time)
    best: dict[str, float] = {}
    for (i, _), (ok, t, _) in inst.items():
        if ok:
            best[i] = min(best.get(i, math.inf), t)
    ints = integrals(rows)
    by = defaultdict(list)
    for r in rows:
        by[label(r)].append(r)
    classes = _classes(rows)
    out = []
    for lab, rs in sorted(by.items()):
        mine = {i: v for (i, lb), v in inst.items() if lb == lab}
        gaps = [g for _, _, g in mine.values() if math.isfinite(g)]
        row = {}
        if by_family:
            row["model"] = rs[0].get("model")
            row["problem_class"] = _class_of(rs[0], classes)
        row.update(
            {
                "backend": rs[0].get("backend"),
                "solver": rs[0].get("solver"),
                "tasks": len(rs),
                "instances": len(mine),
                "solved": sum(ok for ok, _, _ in mine.values()),
                "failed": sum(r.get("status") in FAILED for r in rs),
                "sgm_time": shifted_geometric_mean((t for _, t, _ in mine.values()), shift),
                "mean_gap": sum(gaps) / len(gaps) if gaps else math.nan,
                "fastest": sum(1 for i, (ok, t, _) in mine.items() if ok and t <= best[i]),
            }
        )
        pis = [ints[id(r)] for r in rs if id(r) in ints]
        if pis:
            row["primal_integral"] = _mean([p for p, _ in pis])
            row["primal_dual_integral"] = _mean([d for _, d in pis])
        out.append(row)
    return out


def _mean(xs) -> float:
    xs = [x for x in xs if math.isfinite(x)]
    return sum(xs) / len(xs) if xs else math.nan


def profile_data(df, taus=None, time: str = "wall_time", shift: float = 0.0) -> dict:
    r"""Dolan–Moré profile: ``{"tau": [...], label: [rho(tau) ...], ...}``.

    Without ``taus``, the breakpoints of the step functions (every finite ratio, and 1) are
    used, so the result is exact. Times below 1e-9 s count as 1e-9 s.
    """
    ratios = performance_ratios(df, time, shift)
    if taus is None:
        finite = {r for rs in ratios.values() for r in rs if math.isfinite(r)}
        taus = sorted(finite | {1.0})
    out = {"tau": [float(t) for t in taus]}
    for lab, rs in ratios.items():
        n = len(rs)
        out[lab] = [sum(1 for r in rs if r <= tau) / n if n else 0.0 for tau in taus]
    return out


def performance_ratios(df, time: str = "wall_time", shift: float = 0.0) -> dict:
    r"""``{label: [r_{p,s} for p in sorted instances]}`` (``inf`` where not solved).

    With ``shift`` :math:`\sigma > 0` the ratios are of shifted times,
    :math:`(t_{p,s} + \sigma) / (\min_{s'} t_{p,s'} + \sigma)`, so that differences among
    instances every solver solves in well under :math:`\sigma` seconds count for little (the
    convention of shifted means; Mittelmann uses 10 s for MILP)."""
    inst = per_instance(df, time)
    instances = sorted({i for i, _ in inst})
    labels = sorted({lab for _, lab in inst})
    best = {}
    for (i, _), (ok, t, _) in inst.items():
        if ok:
            best[i] = min(best.get(i, math.inf), max(t, 1e-9) + shift)
    out = {}
    for lab in labels:
        rs = []
        for i in instances:
            ok, t, _ = inst.get((i, lab), (False, math.inf, math.nan))
            rs.append((max(t, 1e-9) + shift) / best[i] if ok else math.inf)
        out[lab] = rs
    return out


def inconsistent_instances(df) -> dict:
    """Instances whose tasks saw different programs: ``{instance: sorted hashes}``.

    Every solver of an instance must get the same lowered program; a model whose build is not
    deterministic (an unseeded heuristic, say) breaks that, and this is how to notice."""
    hashes = defaultdict(set)
    for r in _records(df):
        h = r.get("program_hash")
        if isinstance(h, str) and h:
            hashes[r["instance"]].add(h)
    return {i: sorted(hs) for i, hs in hashes.items() if len(hs) > 1}


def _plt():
    try:
        import matplotlib.pyplot as plt  # headless: matplotlib falls back to Agg by itself
    except ImportError as exc:
        raise ImportError('plots need matplotlib: pip install "optml-models[plot]"') from exc
    return plt


def _panels(groups: dict, ax, plt, width=6.0, height=4.0):
    """One axes per group (a grid of up to 3 columns), or ``[ax]`` when one is given."""
    if ax is not None:
        return ax.figure, [ax] * len(groups)
    n = max(1, len(groups))
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = list(axes.ravel())
    for extra in flat[n:]:
        extra.set_visible(False)
    return fig, flat[:n]


def performance_profile(
    df, ax=None, taus=None, time: str = "wall_time", shift: float = 0.0, by_family: bool = True
):
    """Plot the Dolan–Moré performance profile (needs matplotlib), one panel per model family
    and problem class (one panel for all with ``by_family=False`` or an ``ax``); returns the
    figure. ``shift`` seconds are added to every time before taking ratios (see
    :func:`performance_ratios`)."""
    plt = _plt()
    groups = families(df) if by_family and ax is None else {"": _records(df)}
    if not groups:
        groups = {"": []}
    fig, axes = _panels(groups, ax, plt)
    for (name, rows), a in zip(groups.items(), axes, strict=True):
        _profile_panel(rows, a, taus, time, shift, name)
    fig.tight_layout()
    return fig


def _profile_panel(rows, ax, taus, time, shift, name):
    data = profile_data(rows, taus, time, shift)
    fig = ax.figure
    top = max(data["tau"]) if data["tau"] else 1.0
    xs = list(data["tau"]) + [max(top * 2, 2.0)]
    for lab, rho in data.items():
        if lab != "tau":
            ax.step(xs, list(rho) + [rho[-1] if rho else 0.0], where="post", label=lab)
    ax.set_xscale("log")
    ax.set_xlim(1, xs[-1])
    _tau_ticks(ax, xs[-1])
    ax.set_xlabel(r"$\tau$ (time ratio to the fastest)")
    ax.set_ylabel(r"fraction of instances solved within $\tau$")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    title = "Performance profile (Dolan–Moré)"
    ax.set_title(f"{title}\n{name}" if name else title, fontsize="medium")
    return fig


def _tau_ticks(ax, top: float) -> None:
    """Readable ticks (1, 1.5, 2, 3, 5, 10, ...) on the log tau axis."""
    from matplotlib.ticker import NullFormatter

    cand = [t for t in (1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100, 1000, 10000, 1e5, 1e6) if t <= top]
    # keep ticks at least 1/7 of the axis apart (log scale), so their labels never overlap
    step = math.log(max(top, 2.0)) / 7
    ticks = []
    for t in cand:
        if not ticks or math.log(t) - math.log(ticks[-1]) >= step - 1e-12:
            ticks.append(t)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())


def time_vs_size(df, size: str = "p", ax=None, time: str = "wall_time", by_family=True):
    """Mean time (unsolved at the time limit, hollow marker) against a size column, one
    panel per model family and problem class (one for all with an ``ax``)."""
    plt = _plt()
    groups = families(df) if by_family and ax is None else {"": _records(df)}
    fig, axes = _panels(groups or {"": []}, ax, plt)
    for (name, rows), a in zip((groups or {"": []}).items(), axes, strict=True):
        _size_panel(rows, a, size, time, name)
    fig.tight_layout()
    return fig


def _size_panel(rows, ax, size, time, name):
    by = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by[label(r)][_num(r.get(size))].append(r)
    for lab, groups in sorted(by.items()):
        xs = sorted(x for x in groups if not math.isnan(x))
        ys = [sum(_time(r, time) for r in groups[x]) / len(groups[x]) for x in xs]
        allok = [all(solved(r) for r in groups[x]) for x in xs]
        (line,) = ax.plot(xs, ys, "-", label=lab)
        ax.plot(
            [x for x, ok in zip(xs, allok, strict=True) if ok],
            [y for y, ok in zip(ys, allok, strict=True) if ok],
            "o",
            color=line.get_color(),
        )
        ax.plot(
            [x for x, ok in zip(xs, allok, strict=True) if not ok],
            [y for y, ok in zip(ys, allok, strict=True) if not ok],
            "o",
            mfc="none",
            color=line.get_color(),
        )
    ax.set_yscale("log")
    ax.set_xlabel(size)
    ax.set_ylabel(f"{time} (s), unsolved at the limit")
    if name:
        ax.set_title(name, fontsize="medium")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)


def gap_vs_time(df, ax=None, time: str = "wall_time", by_family: bool = True):
    """Final gap against time, one point per task (gap 0 drawn at 1e-9), one panel per model
    family and problem class (one for all with an ``ax``)."""
    plt = _plt()
    groups = families(df) if by_family and ax is None else {"": _records(df)}
    fig, axes = _panels(groups or {"": []}, ax, plt)
    for (name, rows), a in zip((groups or {"": []}).items(), axes, strict=True):
        by = defaultdict(list)
        for r in rows:
            g, t = _num(r.get("gap")), _num(r.get(time))
            if math.isfinite(g) and math.isfinite(t):
                by[label(r)].append((t, max(g, 1e-9)))
        for lab, pts in sorted(by.items()):
            a.plot([t for t, _ in pts], [g for _, g in pts], "o", label=lab, alpha=0.7)
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel(f"{time} (s)")
        a.set_ylabel("relative gap")
        if name:
            a.set_title(name, fontsize="medium")
        if by:
            a.legend(fontsize="small")
        a.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def trace_plot(df, instance=None, title=None):
    """Objective over time (incumbent solid, bound dashed) and gap over time, one line per
    backend/solver pair, for one instance (the first with traces when ``instance`` is None):
    the benchopt-style view of how each solver got there. Needs matplotlib and rows with a
    ``trace`` (the default of ``optml bench``)."""
    from optml.bench.traces import gap_fn, load

    plt = _plt()
    rows = [r for r in _records(df) if load(r.get("trace"))]
    if instance is None and rows:
        instance = rows[0]["instance"]
    rows = [r for r in rows if r["instance"] == instance]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
    for r in sorted(rows, key=lambda r: (label(r), r.get("repeat") or 0)):
        pts = load(r["trace"])["points"]
        ts = [max(float(p[0]), 1e-3) for p in pts]
        lab = label(r) + (f" #{r['repeat']}" if r.get("repeat") else "")
        (ln,) = a1.step(ts, [_nan(p[1]) for p in pts], where="post", label=lab)
        a1.step(ts, [_nan(p[2]) for p in pts], where="post", ls="--", color=ln.get_color())
        gaps = [max(gap_fn(p[2], p[1]), 1e-9) for p in pts]
        a2.step(ts, gaps, where="post", label=lab, color=ln.get_color())
    for a in (a1, a2):
        a.set_xscale("log")
        a.set_xlabel("time (s, solver clock)")
        a.grid(alpha=0.3)
    a1.set_ylabel("objective (solid: incumbent, dashed: bound)")
    a2.set_yscale("log")
    a2.set_ylabel("relative primal-dual gap")
    if rows:
        a2.legend(fontsize="small")
    fig.suptitle(title or _short(instance), fontsize="medium")
    fig.tight_layout()
    return fig


def _nan(v) -> float:
    return math.nan if v is None else float(v)


def _short(instance) -> str:
    import json

    try:
        d = json.loads(instance)
    except (TypeError, ValueError):
        return str(instance)
    parts = [str(d.get("model")), json.dumps(d.get("params", {}), sort_keys=True)]
    parts += [str(d.get("data")), json.dumps(d.get("data_params", {}), sort_keys=True)]
    if d.get("seed") is not None:
        parts.append(f"seed {d['seed']}")
    return " ".join(parts)


def to_markdown(df, floatfmt: str = ".3g", columns=None) -> str:
    """A Markdown table of rows (no pandas needed)."""
    rows = df.to_dict("records") if hasattr(df, "to_dict") else list(df)
    if not rows:
        return "(no rows)"
    cols = list(columns or rows[0])

    def fmt(v):
        if isinstance(v, float):
            return format(v, floatfmt)
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
