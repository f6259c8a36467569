"""Tables in, :class:`Dataset` out: :func:`from_frame` (pandas) and :func:`from_csv` (stdlib).

Both share one encoder: numeric columns are kept as float64, boolean columns become 0/1,
text / categorical columns are one-hot encoded into columns named ``"col=value"``. Anything
else (dates, mixed types, missing values) is refused with a :class:`ValueError` that names
the column and the row (or the file's line).
"""

from __future__ import annotations

import csv
import math
import numbers
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optml.data._dataset import Dataset

_MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
_TRUE = frozenset({"true"})
_FALSE = frozenset({"false"})
_DATE_RE = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$"  # ISO date [time]
    r"|^\d{1,2}:\d{2}(:\d{2})?$"  # clock time
)
_MAX_CLASSES_AUTO = 10


@dataclass
class _Col:
    name: str
    kind: str  # "num" | "cat"
    values: np.ndarray  # float64 for "num", int64 codes for "cat"
    levels: list[str] | None = None


def _missing_error(column: str, where: str, count: int) -> ValueError:
    more = f" ({count} missing in this column)" if count > 1 else ""
    return ValueError(
        f"Column {column!r} has a missing value at {where}{more}. optml does not impute: drop "
        "those rows or fill them first (e.g. df.dropna(), or sklearn.impute.SimpleImputer)."
    )


def _categorical(name: str, values: Sequence[str], levels: list[str] | None = None) -> _Col:
    if levels is None:
        levels = sorted(set(values))
    index = {lev: i for i, lev in enumerate(levels)}
    codes = np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))
    return _Col(name, "cat", codes, list(levels))


# --------------------------------------------------------------------------- pandas


def _frame_column(series, name: str, labels) -> _Col:
    """Classify and convert one pandas column; ``labels`` maps a position to its row label."""
    import pandas as pd
    from pandas.api import types as pdt

    dtype = series.dtype
    isna = np.asarray(series.isna())
    if isna.any():
        i = int(np.flatnonzero(isna)[0])
        raise _missing_error(name, labels(i), int(isna.sum()))
    if isinstance(dtype, pd.CategoricalDtype):
        levels = [str(c) for c in dtype.categories]
        if len(set(levels)) != len(levels):
            raise ValueError(f"Column {name!r}: two categories print the same; rename them.")
        return _Col(name, "cat", np.asarray(series.cat.codes, dtype=np.int64), levels)
    if pdt.is_bool_dtype(dtype):
        return _Col(name, "num", np.asarray(series, dtype=np.float64))
    if (
        pdt.is_datetime64_any_dtype(dtype)
        or pdt.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype | pd.IntervalDtype)
    ):
        raise ValueError(
            f"Column {name!r} has dtype {dtype}, which optml cannot encode. Convert it to "
            "numbers first (e.g. df[col].dt.year, or days since a reference date) or drop it."
        )
    if pdt.is_complex_dtype(dtype):
        raise ValueError(f"Column {name!r} is complex-valued; optml needs real numbers.")
    if pdt.is_numeric_dtype(dtype):
        values = np.asarray(series, dtype=np.float64)
        _check_finite(name, values, labels)
        return _Col(name, "num", values)
    # object / string columns: look at the Python types actually present
    values = list(series)
    kinds = {_pytype(v) for v in values}
    if kinds == {"str"}:
        return _categorical(name, values)
    if kinds == {"bool"}:
        return _Col(name, "num", np.asarray(values, dtype=np.float64))
    if kinds == {"number"}:
        arr = np.asarray(values, dtype=np.float64)
        _check_finite(name, arr, labels)
        return _Col(name, "num", arr)
    first = {}
    for i, v in enumerate(values):
        first.setdefault(_pytype(v, exact=True), i)
    found = ", ".join(f"{t} (first at {labels(i)})" for t, i in first.items())
    raise ValueError(
        f"Column {name!r} cannot be encoded: it holds values of types {found}. optml encodes "
        "numeric, boolean and text columns; convert this column to one type or drop it."
    )


def _pytype(v, exact: bool = False) -> str:
    if isinstance(v, str):
        return "str"
    if isinstance(v, bool | np.bool_):
        return "bool"
    if isinstance(v, numbers.Real) and not exact:
        return "number"
    return type(v).__name__


def _check_finite(name: str, values: np.ndarray, labels) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"Column {name!r} has a non-finite value ({values[i]}) at {labels(i)}. Replace or "
            "drop infinite values first."
        )


def from_frame(
    df,
    target: str | None = None,
    *,
    task: str = "auto",
    drop_first: bool = False,
    name: str = "frame",
) -> Dataset:
    r"""Turn a :class:`pandas.DataFrame` into a :class:`Dataset`.

    Numeric columns are kept (as float64), boolean columns become 0/1, and text or
    categorical columns are one-hot encoded into columns named ``"col=value"`` (levels in
    sorted order, or in the categorical's own order). Column names are kept as feature names.

    Parameters
    ----------
    df : pandas.DataFrame
        The table. It is not modified.
    target : str or None
        Name of the target column; ``None`` for unlabelled data (``task="clustering"``).
    task : {"auto", "regression", "classification", "clustering"}, default "auto"
        ``"auto"``: a text, categorical or boolean target, or an integer-valued target with at
        most 10 distinct values, is a classification target; any other numeric target is a
        regression target; no target means clustering. Classification and clustering targets
        are encoded as codes ``0 .. K-1`` indexing ``target_names``.
    drop_first : bool, default False
        Drop the first level of each one-hot encoded column (avoids a column set that sums to
        one, which is collinear with an intercept).
    name : str, default "frame"
        Stored as :attr:`Dataset.name`.

    Returns
    -------
    Dataset

    Raises
    ------
    TypeError
        If ``df`` is not a DataFrame.
    ValueError
        If the target column does not exist (the message lists the columns), a value is
        missing (column and row named), a column holds dates or mixed types (column named),
        or the frame is empty.

    Examples
    --------
    >>> import pandas as pd
    >>> from optml import data
    >>> df = pd.DataFrame({"area": [50.0, 80.0, 65.0], "city": ["A", "B", "A"],
    ...                    "price": [100.0, 180.0, 120.0]})
    >>> ds = data.from_frame(df, target="price")
    >>> ds.feature_names
    ['area', 'city=A', 'city=B']
    """
    if not (hasattr(df, "columns") and hasattr(df, "dtypes") and hasattr(df, "iloc")):
        raise TypeError(
            f"from_frame expects a pandas DataFrame, got {type(df).__name__}. For arrays "
            "use numpy directly; for files use optml.data.from_csv."
        )
    columns = [str(c) for c in df.columns]
    if len(set(columns)) != len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise ValueError(f"The frame has duplicate column names {dup}; make them unique.")
    if df.shape[0] == 0:
        raise ValueError("The frame has no rows; there is nothing to learn from.")
    if target is not None and not isinstance(target, str) and target in list(df.columns):
        target = str(target)  # e.g. integer column labels of a frame built from an array
    _check_target_arg(target, columns)
    index = df.index

    def labels(i: int) -> str:
        lab = index[i]
        return (
            f"row {i}"
            if (isinstance(lab, numbers.Integral) and lab == i)
            else (f"row {i} (index label {lab!r})")
        )

    cols = []
    ycol = None
    for j, col in enumerate(columns):
        c = _frame_column(df.iloc[:, j], col, labels)
        if col == target:
            ycol = c
        else:
            cols.append(c)
    return _assemble(cols, ycol, target, task, drop_first, name)


# --------------------------------------------------------------------------- CSV


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _csv_column(name: str, values: Sequence[str], lines: list[int]) -> _Col:
    def where(i: int) -> str:
        return f"line {lines[i]}"

    # fast path (C speed): every cell parses as a number
    try:
        arr = np.array(values, dtype=np.float64)
    except ValueError:
        arr = None
    if arr is not None:
        nan = np.isnan(arr)
        if nan.any():
            raise _missing_error(name, where(int(np.flatnonzero(nan)[0])), int(nan.sum()))
        _check_finite(name, arr, where)
        return _Col(name, "num", arr)
    stripped = [v.strip() for v in values]
    levels = set(stripped)
    missing = {v for v in levels if v.lower() in _MISSING_TOKENS}
    if missing:
        rows = [i for i, v in enumerate(stripped) if v in missing]
        raise _missing_error(name, where(rows[0]), len(rows))
    if {v.lower() for v in levels} <= (_TRUE | _FALSE):
        return _Col(name, "num", np.asarray([v.lower() in _TRUE for v in stripped], float))
    numeric = {v for v in levels if _is_number(v)}
    if numeric:
        i_num = next(i for i, v in enumerate(stripped) if v in numeric)
        i_txt = next(i for i, v in enumerate(stripped) if v not in numeric)
        raise ValueError(
            f"Column {name!r} cannot be encoded: it mixes numbers ({stripped[i_num]!r} at "
            f"{where(i_num)}) and text ({stripped[i_txt]!r} at {where(i_txt)}). Fix the "
            "file or drop the column."
        )
    if all(_DATE_RE.match(v) for v in levels):
        raise ValueError(
            f"Column {name!r} holds dates or times (e.g. {stripped[0]!r} at {where(0)}), which "
            "optml cannot encode. Convert them to numbers first (e.g. year, day of year) or "
            "drop the column."
        )
    return _categorical(name, stripped)


def from_csv(
    path: str | os.PathLike,
    target: str | None = None,
    *,
    task: str = "auto",
    delimiter: str = ",",
    drop_first: bool = False,
    encoding: str = "utf-8-sig",
) -> Dataset:
    """Read a CSV file (with a header row) into a :class:`Dataset`.

    The file is parsed with the standard library's :mod:`csv` module (pandas is not needed
    and is not used, so the behaviour is the same with or without it) and only read, never
    written. Columns are encoded as in :func:`from_frame`: numbers kept, ``true``/``false``
    to 0/1, text one-hot encoded. Empty cells and ``NA``, ``N/A``, ``NaN``, ``null``,
    ``None``, ``?`` (any case) count as missing values and are refused.

    Parameters
    ----------
    path : str or path-like
        The CSV file. Its first row names the columns.
    target : str or None
        Name of the target column; ``None`` for unlabelled data.
    task : {"auto", "regression", "classification", "clustering"}, default "auto"
        As in :func:`from_frame`.
    delimiter : str, default ","
        Field separator.
    drop_first : bool, default False
        As in :func:`from_frame`.
    encoding : str, default "utf-8-sig"
        Text encoding (a UTF-8 byte-order mark is skipped).

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        For an empty file, a file with a header but no rows, a row whose number of fields
        differs from the header's (the line number is given), a missing target column (the
        columns are listed), a missing value, or a column that cannot be encoded.

    Examples
    --------
    >>> from optml import data
    >>> ds = data.from_csv("houses.csv", target="price")  # doctest: +SKIP
    """
    path = os.fspath(path)
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        header: list[str] | None = None
        rows: list[list[str]] = []
        lines: list[int] = []
        for row in reader:
            if not row:
                continue  # blank line
            if header is None:
                header = [h.strip() for h in row]
                header_line = reader.line_num
                continue
            if len(row) != len(header):
                raise ValueError(
                    f"{path}: line {reader.line_num} has {len(row)} fields but the header "
                    f"(line {header_line}) has {len(header)}. Every row needs one value per "
                    "column; check for a stray delimiter or a missing value."
                )
            rows.append(row)
            lines.append(reader.line_num)
    if header is None:
        raise ValueError(f"{path}: the file is empty; expected a header row and data rows.")
    if not rows:
        raise ValueError(f"{path}: the file has a header but no data rows.")
    if len(set(header)) != len(header):
        dup = sorted({c for c in header if header.count(c) > 1})
        raise ValueError(f"{path}: duplicate column names {dup} in the header.")
    _check_target_arg(target, header)
    cols = []
    ycol = None
    for col, values in zip(header, zip(*rows, strict=True), strict=True):
        c = _csv_column(col, values, lines)
        if col == target:
            ycol = c
        else:
            cols.append(c)
    return _assemble(cols, ycol, target, task, drop_first, os.path.basename(path))


# --------------------------------------------------------------------------- shared


def _check_target_arg(target, columns: list[str]) -> None:
    if target is None:
        return
    if not isinstance(target, str):
        raise TypeError(f"target must be a column name (str) or None, got {target!r}.")
    if target not in columns:
        raise ValueError(f"Target column {target!r} not found. Available columns: {columns}.")


def _assemble(
    cols: list[_Col], ycol: _Col | None, target, task: str, drop_first: bool, name: str
) -> Dataset:
    tasks = ("auto", "regression", "classification", "clustering")
    if task not in tasks:
        raise ValueError(f"task must be one of {tasks}, got {task!r}.")
    if not cols:
        raise ValueError("No feature columns: the table holds only the target column.")
    blocks, names = [], []
    for c in cols:
        if c.kind == "num":
            blocks.append(c.values[:, None])
            names.append(c.name)
            continue
        levels = c.levels[1:] if drop_first else c.levels
        start = 1 if drop_first else 0
        onehot = (c.values[:, None] == np.arange(start, len(c.levels))[None, :]).astype(float)
        blocks.append(onehot)
        names.extend(f"{c.name}={lev}" for lev in levels)
    X = np.hstack(blocks) if blocks else np.empty((0, 0))
    y, target_names = None, []
    if ycol is None:
        if task in ("regression", "classification"):
            raise ValueError(f"task={task!r} needs a target column; pass target=<column name>.")
        task = "clustering"
    else:
        if task == "auto":
            task = _infer_task(ycol)
        if task == "regression":
            if ycol.kind != "num":
                raise ValueError(
                    f"Target {target!r} is text/categorical, so it cannot be a regression "
                    "target; use task='classification'."
                )
            y, target_names = ycol.values, [target]
        elif ycol.kind == "cat":
            y, target_names = ycol.values, ycol.levels
        else:
            levels, y = np.unique(ycol.values, return_inverse=True)
            target_names = [_fmt_level(v) for v in levels]
            y = y.astype(np.int64)
    return Dataset(
        X=X,
        y=y,
        feature_names=names,
        target_names=target_names,
        task=task,
        description=f"Read from {name}: {X.shape[0]} rows, {X.shape[1]} encoded features.",
        name=name,
        target_name=target if target is not None else "target",
        source=name,
        license="",
    )


def _infer_task(ycol: _Col) -> str:
    if ycol.kind == "cat":
        return "classification"
    v = ycol.values
    if np.all(v == np.round(v)) and np.unique(v).size <= _MAX_CLASSES_AUTO:
        return "classification"
    return "regression"


def _fmt_level(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and math.isfinite(v) else repr(float(v))
