"""``optml report DIR``: one self-contained HTML page of a results folder, next to the
Markdown and CSV summaries and a Parquet copy of the rows.

The page holds the summary tables per model family and problem class, the Dolan–Moré
performance profiles (shift settable), time against size, gap against time, the incumbent
and bound over time of each instance (every plot a base64 PNG inside the page: the file can be
mailed or archived alone), the tasks that could not run, the machine and the solver versions
(from the store's ``meta`` table) and every row.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import logging
import math
from pathlib import Path

log = logging.getLogger("optml")

#: instances with a trace plot on the page (the first ones, in sorted order)
MAX_TRACE_PLOTS = 40

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f0f0f0} td.l,th.l{text-align:left}
img{max-width:100%} h2{border-bottom:1px solid #ddd;margin-top:1.6em}
details{margin:.5em 0} .bad{color:#a00} code{background:#f6f6f6}
"""

_TABLE_COLS = [
    "model",
    "problem_class",
    "backend",
    "solver",
    "tasks",
    "instances",
    "solved",
    "failed",
    "sgm_time",
    "mean_gap",
    "fastest",
    "primal_integral",
    "primal_dual_integral",
]


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else format(v, ".3g")
    return str(v)


def _table(rows: list[dict], cols: list[str] | None = None) -> str:
    if not rows:
        return "<p>(no rows)</p>"
    cols = cols or list(rows[0])
    cols = [c for c in cols if any(c in r for r in rows)]
    head = "".join(f'<th class="l">{html.escape(c)}</th>' for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            cls = ' class="l"' if not isinstance(v, int | float) or isinstance(v, bool) else ""
            cells.append(f"<td{cls}>{html.escape(_fmt(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def _records(df) -> list[dict]:
    return df.to_dict("records") if hasattr(df, "to_dict") else list(df)


def html_report(
    rows: list[dict],
    meta: dict | None = None,
    shift: float = 1.0,
    time: str = "wall_time",
    plots: bool = True,
    max_traces: int = MAX_TRACE_PLOTS,
    title: str | None = None,
) -> str:
    """The HTML text of the report of ``rows`` (with ``meta``: the store's machine info and
    runs). ``shift`` seconds go into the shifted geometric mean and the profiles' ratios."""
    from optml.bench import report as rp
    from optml.bench.traces import load

    meta = meta or {}
    title = title or _title(meta)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    statuses: dict = {}
    for r in rows:
        statuses[r.get("status")] = statuses.get(r.get("status"), 0) + 1
    parts.append(
        f"<p>{len(rows)} rows; statuses: "
        + ", ".join(f"{html.escape(str(k))} {v}" for k, v in sorted(statuses.items(), key=str))
        + f". Times are <code>{html.escape(time)}</code>; shifted geometric means and "
        f"profile ratios use a shift of {shift:g} s; unsolved instances count at their time "
        "limit; a task is solved when its status is <code>optimal</code> and optml's numpy "
        "check verified it.</p>"
    )
    bad = rp.not_run(rows)
    if bad:
        parts.append(f"<h2 class='bad'>{len(bad)} task(s) could not run</h2>")
        parts.append(_table(bad, ["model", "data", "backend", "solver", "status", "message"]))
    fams = rp.families(rows)
    plt_ok = plots and _have_matplotlib()
    if plots and not plt_ok:
        parts.append("<p>Plots skipped: matplotlib is not installed.</p>")
    parts.append("<h2>Summary per model family and problem class</h2>")
    summary = _records(rp.summarize(rows, shift=shift, time=time))
    parts.append(_table(summary, _TABLE_COLS))
    for fam, frows in fams.items():
        parts.append(f"<h2>{html.escape(fam)}</h2>")
        if plt_ok:
            parts.append(_png(rp.performance_profile(frows, shift=shift, time=time)))
            parts.append(_png(rp.time_vs_size(frows, time=time)))
            parts.append(_png(rp.gap_vs_time(frows, time=time)))
    traced = sorted({r["instance"] for r in rows if load(r.get("trace"))})
    if plt_ok and traced:
        parts.append("<h2>Incumbent and bound over time, per instance</h2>")
        if len(traced) > max_traces:
            parts.append(
                f"<p>The first {max_traces} of {len(traced)} instances "
                "(<code>optml report --max-traces N</code> for more).</p>"
            )
        for inst in traced[:max_traces]:
            parts.append(_png(rp.trace_plot(rows, inst)))
    parts.append("<h2>Machine and versions</h2>")
    info = {k: v for k, v in meta.items() if k not in ("runs", "sweep_settings")}
    parts.append(_table([{"key": k, "value": json.dumps(v)} for k, v in sorted(info.items())]))
    if meta.get("sweep_settings"):
        parts.append(
            f"<p>Sweep settings: <code>{html.escape(json.dumps(meta['sweep_settings']))}</code></p>"
        )
    runs = meta.get("runs") or []
    if runs:
        parts.append("<details><summary>Runs on this store</summary>")
        parts.append(_table([{**r, "machine": json.dumps(r.get("machine"))} for r in runs]))
        parts.append("</details>")
    parts.append("<h2>All rows</h2><details><summary>show</summary>")
    cols = [c for c in (rows[0] if rows else {}) if c not in ("trace", "instance", "key")]
    parts.append(_table(rows, cols))
    parts.append("</details></body></html>")
    return "\n".join(parts)


def _title(meta: dict) -> str:
    runs = meta.get("runs") or [{}]
    name = runs[-1].get("suite") or runs[-1].get("compare") or "benchmark"
    return f"optml bench: {name}"


def _have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        path.write_text("")
        return
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def write_parquet(path: Path, rows: list[dict]) -> bool:
    """Write the rows as Parquet (needs pyarrow); False when pyarrow is missing."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    from optml.bench.store import COLUMNS

    cols = list(rows[0]) if rows else list(COLUMNS)
    data = {c: [_cell(r.get(c)) for r in rows] for c in cols}
    pq.write_table(pa.table(data), path)
    return True


def _cell(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def write_report(
    folder,
    shift: float = 1.0,
    time: str = "wall_time",
    plots: bool = True,
    max_traces: int = MAX_TRACE_PLOTS,
    rows: list[dict] | None = None,
) -> dict:
    """Write ``report.html``, ``summary.md``, ``summary.csv``, ``results.csv`` and (with
    pyarrow) ``results.parquet`` into ``folder`` from its ``results.sqlite``; returns
    ``{name: path}`` of what was written."""
    from optml.bench.report import summarize, to_markdown
    from optml.bench.store import Store, StoreError

    folder = Path(folder)
    store_path = folder / "results.sqlite" if folder.is_dir() else folder
    if not store_path.is_file():
        raise StoreError(f"no results store at {store_path}: run 'optml bench' first")
    store = Store(store_path)
    folder = store_path.parent
    rows = store.rows() if rows is None else rows
    meta = store.meta()
    written = {}
    summary = _records(summarize(rows, shift=shift, time=time))
    (folder / "summary.md").write_text(to_markdown(summary) + "\n")
    write_csv(folder / "summary.csv", summary)
    write_csv(folder / "results.csv", rows)
    written.update(
        {
            "summary.md": folder / "summary.md",
            "summary.csv": folder / "summary.csv",
            "results.csv": folder / "results.csv",
        }
    )
    if write_parquet(folder / "results.parquet", rows):
        written["results.parquet"] = folder / "results.parquet"
    else:
        log.info("results.parquet skipped: pip install pyarrow")
    page = html_report(rows, meta, shift=shift, time=time, plots=plots, max_traces=max_traces)
    (folder / "report.html").write_text(page)
    written["report.html"] = folder / "report.html"
    return written
