"""Discrete data for structure learning: numpy arrays or pandas frames to state codes."""

from __future__ import annotations

import numbers

import numpy as np


def _is_frame(X) -> bool:
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def encode(X, categories=None):
    """``(codes, cardinalities, categories, names or None)`` of a discrete table.

    Each column's states are its pandas categories (categorical dtype, in their order, unused
    ones included) or else its distinct values (sorted when they sort). With ``categories``
    (those of a fit) the columns are coded against them; an unseen value raises ValueError.
    """
    names = None
    if _is_frame(X):
        names = [str(c) for c in X.columns]
        cols = [X.iloc[:, j] for j in range(X.shape[1])]
        n = X.shape[0]
    else:
        if hasattr(X, "toarray") or hasattr(X, "tocsr"):
            raise TypeError(
                "X is a sparse matrix: sparse input is not supported; structure learning needs "
                "a dense table of discrete values (call X.toarray() or pass a DataFrame)"
            )
        if X is None or isinstance(X, (str, bytes, dict)):
            raise TypeError(
                f"X must be a 2-D array or a pandas DataFrame of discrete values, got "
                f"{type(X).__name__}"
            )
        arr = np.asarray(X)
        if arr.dtype.kind == "c":
            raise ValueError("Complex data not supported: give discrete (categorical) values")
        if arr.ndim != 2:
            raise ValueError(
                f"Expected a 2-D array of discrete values (rows: samples, columns: variables), "
                f"got an array of shape {arr.shape}; reshape your data"
            )
        n = arr.shape[0]
        cols = [arr[:, j] for j in range(arr.shape[1])]
    if n < 1 or len(cols) < 1:
        what = "sample(s)" if n < 1 else "feature(s)"
        count = n if n < 1 else len(cols)
        raise ValueError(
            f"Found array with {count} {what} (shape=({n}, {len(cols)})) while a minimum of 1 "
            "is required: structure learning needs data"
        )
    codes = np.empty((n, len(cols)), dtype=np.int64)
    cats = []
    for j, col in enumerate(cols):
        cat_dtype = getattr(getattr(col, "dtype", None), "name", "") == "category"
        if cat_dtype:
            levels = np.asarray(col.cat.categories, dtype=object)
            c = np.asarray(col.cat.codes, dtype=np.int64)
            if (c < 0).any():
                raise ValueError(f"column {j} holds missing values; drop or impute them first")
            if categories is not None:
                ref = list(categories[j])
                pos = {v: i for i, v in enumerate(ref)}
                try:
                    c = np.array([pos[levels[k]] for k in c], dtype=np.int64)
                except KeyError as exc:
                    raise ValueError(f"column {j} holds a state unseen in fit: {exc}") from None
                levels = np.asarray(ref, dtype=object)
            codes[:, j] = c
            cats.append(levels)
            continue
        vals = np.asarray(col)
        if vals.dtype.kind in "fc":
            if not np.all(np.isfinite(vals)):
                raise ValueError(
                    f"Input X contains NaN or infinity (column {j}); structure learning needs "
                    "complete discrete data: drop or impute the missing values"
                )
        elif vals.dtype.kind == "O":
            if any(v is None or (isinstance(v, numbers.Real) and not np.isfinite(v)) for v in vals):
                raise ValueError(
                    f"Input X contains NaN or None (column {j}); structure learning needs "
                    "complete discrete data: drop or impute the missing values"
                )
        elif vals.dtype.kind not in "biuUS":
            raise TypeError(
                f"column {j} has dtype {vals.dtype}; give discrete values (integers, strings, "
                "booleans or a pandas categorical)"
            )
        if categories is not None:
            ref = list(categories[j])
            pos = {v: i for i, v in enumerate(ref)}
            try:
                codes[:, j] = [pos[v] for v in vals.tolist()]
            except KeyError as exc:
                raise ValueError(f"column {j} holds a state unseen in fit: {exc}") from None
            cats.append(np.asarray(ref, dtype=object))
            continue
        try:
            levels, inv = np.unique(vals, return_inverse=True)
        except TypeError:  # mixed types that do not sort: order of appearance
            levels_list, inv_list, pos = [], [], {}
            for v in vals.tolist():
                if v not in pos:
                    pos[v] = len(levels_list)
                    levels_list.append(v)
                inv_list.append(pos[v])
            levels, inv = np.asarray(levels_list, dtype=object), np.asarray(inv_list)
        codes[:, j] = inv.ravel()
        cats.append(levels)
    card = np.array([max(len(c), 1) for c in cats], dtype=np.int64)
    return codes, card, cats, names
