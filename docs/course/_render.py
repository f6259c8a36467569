"""mkdocs hook: show the course's jupytext percent-format scripts as pages.

A page of docs/course/ whose body is the line ``<!-- course: NAME.py -->`` gets the script
docs/course/NAME.py rendered in its place: ``# %% [markdown]`` cells as markdown (the leading
``# `` removed), code cells as Python code blocks, the jupytext header dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

MARKER = re.compile(r"<!--\s*course:\s*([\w.-]+\.py)\s*-->")
HERE = Path(__file__).resolve().parent


def percent_to_markdown(source: str) -> str:
    """Markdown for a jupytext percent-format script."""
    lines = source.splitlines()
    if lines and lines[0].strip() == "# ---":  # jupytext header
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "# ---")
        lines = lines[end + 1 :]
    cells: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            cells.append(("code", [line]))
    out = []
    for kind, body in cells:
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        if not body:
            continue
        if kind == "markdown":
            out.append("\n".join(ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in body))
        else:
            out.append("```python\n" + "\n".join(body) + "\n```")
    return "\n\n".join(out) + "\n"


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 - mkdocs hook signature
    def render(match):
        name = match.group(1)
        script = HERE / name
        if not script.is_file():
            raise FileNotFoundError(f"{page.file.src_path}: course script {name} not found")
        text = percent_to_markdown(script.read_text(encoding="utf-8"))
        note = (
            f"\n\n*This page is the script `docs/course/{name}` (jupytext percent format: "
            f"`jupytext --to notebook {name}` makes it a notebook; `python {name}` runs it).*\n"
        )
        return text + note

    return MARKER.sub(render, markdown)
