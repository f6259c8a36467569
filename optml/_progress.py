"""Progress bars for long loops (regularisation paths): tqdm, quiet unless on a terminal.

``progress=None`` (the default everywhere) lets tqdm decide: a bar on an interactive terminal,
nothing when the output is a file, a pipe or a captured test (tqdm's ``disable=None``); the bar
appears only once the loop has run for half a second, so fast paths print nothing.
``progress=True`` forces the bar (at once), ``progress=False`` silences it.
"""

from __future__ import annotations

from collections.abc import Iterable


def check_progress(progress) -> None:
    """Raise a TypeError unless ``progress`` is None, True or False."""
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(
            f"progress must be None (a bar on a terminal only), True or False; got {progress!r}"
        )


def progress_bar(iterable: Iterable, *, total: int | None = None, desc: str, progress=None):
    """Wrap ``iterable`` in a tqdm bar (see the module docstring for ``progress``)."""
    from tqdm.auto import tqdm

    check_progress(progress)
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        disable=None if progress is None else not progress,
        delay=0.5 if progress is None else 0.0,
        leave=False,
        dynamic_ncols=True,
    )
