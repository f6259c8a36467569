"""griffe extension for the API reference: reStructuredText bits of optml's docstrings as Markdown.

optml's numpydoc docstrings use Sphinx roles and directives (they read well in ``help()``);
mkdocstrings renders docstrings as Markdown. Before rendering, this extension rewrites

* ``:math:`x``` as ``$x$`` and a ``.. math::`` block as a ``$$ ... $$`` block (arithmatex,
  rendered by MathJax on the site);
* ``:class:`~optml.x.Y``` (and ``func``, ``meth``, ``attr``, ``mod``, ``data``, ``exc``,
  ``obj``) as the code span ``Y`` (the full dotted name without ``~``).

The docstrings themselves are not changed.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj|ref):`(~?)([^`]+)`")
MATH = re.compile(r":math:`([^`]+)`")


def _role(match: re.Match) -> str:
    tilde, target = match.groups()
    target = target.split("<")[-1].rstrip(">").strip() if "<" in target else target.strip()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def rst_to_markdown(text: str) -> str:
    """The docstring ``text`` with its Sphinx roles and math blocks in Markdown."""
    text = MATH.sub(lambda m: f"${m.group(1)}$", text)
    text = ROLE.sub(_role, text)
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith(".. math::"):
            indent = line[: len(line) - len(stripped)]
            body = [stripped[len(".. math::") :].strip()]
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(indent + " ")):
                body.append(lines[i].strip())
                i += 1
            body = [b for b in body if b and not b.startswith(":")]  # drop :label: options
            out += [indent + "$$", *(indent + b for b in body), indent + "$$", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class RstRoles(griffe.Extension):
    """Rewrite each docstring once, when its object is loaded."""

    def on_object(self, *, obj, **kwargs) -> None:  # noqa: ARG002 - griffe's hook signature
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
