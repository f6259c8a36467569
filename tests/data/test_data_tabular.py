"""from_frame / from_csv: encoding, names, and every bad input named in the issue."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from optml import data

try:
    import pandas as pd
except ImportError:  # the CSV tests run without pandas
    pd = None
needs_pandas = pytest.mark.skipif(pd is None, reason="pandas is not installed")


def _frame():
    return pd.DataFrame(
        {
            "area": [50.0, 80.0, 65.0, 120.0],
            "rooms": [2, 3, 3, 5],
            "city": ["Paris", "Lyon", "Paris", "Nice"],
            "garden": [True, False, False, True],
            "price": [100.0, 180.0, 120.5, 300.0],
        }
    )


@needs_pandas
def test_from_frame_numeric_onehot_bool_and_names():
    ds = data.from_frame(_frame(), target="price")
    assert ds.feature_names == ["area", "rooms", "city=Lyon", "city=Nice", "city=Paris", "garden"]
    assert ds.task == "regression" and ds.target_names == ["price"]
    assert ds.target_name == "price"
    np.testing.assert_array_equal(
        ds.X,
        [
            [50, 2, 0, 0, 1, 1],
            [80, 3, 1, 0, 0, 0],
            [65, 3, 0, 0, 1, 0],
            [120, 5, 0, 1, 0, 1],
        ],
    )
    np.testing.assert_array_equal(ds.y, [100.0, 180.0, 120.5, 300.0])
    assert ds.X.dtype == np.float64


@needs_pandas
def test_from_frame_drop_first_and_categorical_order():
    df = _frame()
    df["city"] = pd.Categorical(df["city"], categories=["Paris", "Lyon", "Nice"])
    ds = data.from_frame(df, target="price", drop_first=True)
    assert ds.feature_names == ["area", "rooms", "city=Lyon", "city=Nice", "garden"]
    np.testing.assert_array_equal(ds.X[:, 2:4], [[0, 0], [1, 0], [0, 0], [0, 1]])


@needs_pandas
def test_from_frame_classification_target_and_task_inference():
    df = _frame()
    ds = data.from_frame(df, target="city")
    assert ds.task == "classification"
    assert ds.target_names == ["Lyon", "Nice", "Paris"]
    np.testing.assert_array_equal(ds.y, [2, 0, 2, 1])
    ds = data.from_frame(df, target="rooms")  # integer-valued, 3 distinct values
    assert ds.task == "classification" and ds.target_names == ["2", "3", "5"]
    ds = data.from_frame(df, target="rooms", task="regression")
    assert ds.task == "regression" and ds.y.dtype == np.float64
    ds = data.from_frame(df.drop(columns=["city"]))
    assert ds.task == "clustering" and ds.y is None and ds.n_features == 4
    with pytest.raises(ValueError, match="task='classification'"):
        data.from_frame(df, target="city", task="regression")
    with pytest.raises(ValueError, match="task must be one of"):
        data.from_frame(df, target="price", task="ranking")
    with pytest.raises(ValueError, match="needs a target"):
        data.from_frame(df, task="regression")


@needs_pandas
def test_from_frame_does_not_modify_input_and_keeps_index_labels_in_errors():
    df = _frame()
    before = df.copy()
    data.from_frame(df, target="price")
    pd.testing.assert_frame_equal(df, before)
    df.index = ["a", "b", "c", "d"]
    df.loc["c", "area"] = np.nan
    with pytest.raises(ValueError, match=r"'area'.*row 2 \(index label 'c'\)"):
        data.from_frame(df, target="price")


@needs_pandas
def test_from_frame_missing_values_name_column_and_row():
    df = _frame()
    df.loc[1, "city"] = None
    with pytest.raises(ValueError, match=r"Column 'city' has a missing value at row 1"):
        data.from_frame(df, target="price")
    df = _frame()
    df.loc[3, "price"] = np.nan
    with pytest.raises(ValueError, match=r"Column 'price' has a missing value at row 3"):
        data.from_frame(df, target="price")
    df = _frame()
    df.loc[0, "area"] = np.inf
    with pytest.raises(ValueError, match=r"'area' has a non-finite value"):
        data.from_frame(df, target="price")


@needs_pandas
def test_from_frame_missing_target_lists_columns():
    with pytest.raises(ValueError) as exc:
        data.from_frame(_frame(), target="cost")
    msg = str(exc.value)
    assert "'cost'" in msg and "area" in msg and "price" in msg


@needs_pandas
def test_from_frame_unencodable_columns_are_named():
    df = _frame()
    df["when"] = pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01"])
    with pytest.raises(ValueError, match=r"Column 'when' has dtype datetime64"):
        data.from_frame(df, target="price")
    df = _frame()
    df["mixed"] = pd.Series(["a", 1, "b", 2.5], dtype=object)
    with pytest.raises(ValueError, match=r"Column 'mixed' cannot be encoded.*str.*int"):
        data.from_frame(df, target="price")
    df = _frame()
    df["z"] = np.array([1 + 1j, 2, 3, 4])
    with pytest.raises(ValueError, match="'z' is complex"):
        data.from_frame(df, target="price")


@needs_pandas
def test_from_frame_other_bad_inputs():
    with pytest.raises(TypeError, match="DataFrame"):
        data.from_frame(np.zeros((3, 2)), target=None)
    with pytest.raises(ValueError, match="no rows"):
        data.from_frame(_frame().iloc[:0], target="price")
    with pytest.raises(ValueError, match="duplicate column"):
        data.from_frame(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(ValueError, match="only the target"):
        data.from_frame(_frame()[["price"]], target="price")
    with pytest.raises(TypeError, match="target must be a column name"):
        data.from_frame(_frame(), target=3)
    # integer column labels (a frame built from an array) are fine
    ds = data.from_frame(pd.DataFrame(np.arange(12.0).reshape(4, 3)), target=2, task="regression")
    assert (
        ds.feature_names == ["0", "1"] and ds.target_name == "2" and ds.y.tolist() == [2, 5, 8, 11]
    )


@needs_pandas
def test_from_frame_object_numbers_and_nullable_dtypes():
    df = pd.DataFrame(
        {
            "a": pd.Series([1, 2.5, 3], dtype=object),
            "b": pd.array([1, 2, 3], dtype="Int64"),
            "c": pd.array(["x", "y", "x"], dtype="string"),
            "y": [0.1, 0.2, 0.3],
        }
    )
    ds = data.from_frame(df, target="y")
    assert ds.feature_names == ["a", "b", "c=x", "c=y"]
    np.testing.assert_array_equal(ds.X[:, :2], [[1, 1], [2.5, 2], [3, 3]])
    df["b"] = pd.array([1, None, 3], dtype="Int64")
    with pytest.raises(ValueError, match="'b' has a missing value at row 1"):
        data.from_frame(df, target="y")


# ---------------------------------------------------------------------------- CSV


def _write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@needs_pandas
def test_from_csv_matches_from_frame(tmp_path):
    df = _frame()
    path = tmp_path / "houses.csv"
    df.to_csv(path, index=False)
    before = path.read_bytes(), os.stat(path).st_mtime_ns
    a = data.from_csv(path, target="price")
    b = data.from_frame(df, target="price")
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.feature_names == b.feature_names and a.task == b.task
    assert a.name == "houses.csv"
    assert (path.read_bytes(), os.stat(path).st_mtime_ns) == before  # nothing written


def test_from_csv_quotes_blank_lines_bom_and_semicolons(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes('\ufeffx,label,y\n1.5,"a, b",0\n\n2,c,1\n'.encode())
    ds = data.from_csv(path, target="y")
    assert ds.feature_names == ["x", "label=a, b", "label=c"]
    assert ds.task == "classification" and ds.target_names == ["0", "1"]
    path = _write(tmp_path, "x;y\n1;2\n3;4\n")
    ds = data.from_csv(path, target="y", delimiter=";", task="regression")
    np.testing.assert_array_equal(ds.X, [[1], [3]])
    path = _write(tmp_path, "x,flag,y\n1,TRUE,2\n2,false,3\n")
    ds = data.from_csv(path, target="y", task="regression")
    np.testing.assert_array_equal(ds.X, [[1, 1], [2, 0]])


def test_from_csv_empty_and_header_only(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        data.from_csv(_write(tmp_path, ""), target="y")
    with pytest.raises(ValueError, match="empty"):
        data.from_csv(_write(tmp_path, "\n\n"), target="y")
    with pytest.raises(ValueError, match="no data rows"):
        data.from_csv(_write(tmp_path, "x,y\n"), target="y")
    with pytest.raises(FileNotFoundError):
        data.from_csv(tmp_path / "nope.csv", target="y")


def test_from_csv_ragged_rows_name_the_line(tmp_path):
    path = _write(tmp_path, "x,z,y\n1,2,3\n4,5,6\n\n7,8\n")
    with pytest.raises(ValueError, match=r"line 5 has 2 fields but the header \(line 1\) has 3"):
        data.from_csv(path, target="y")
    path = _write(tmp_path, "x,z,y\n1,2,3,4\n")
    with pytest.raises(ValueError, match=r"line 2 has 4 fields"):
        data.from_csv(path, target="y")


def test_from_csv_missing_target_lists_columns(tmp_path):
    path = _write(tmp_path, "x,z,y\n1,2,3\n")
    with pytest.raises(
        ValueError, match=r"'price' not found\. Available columns: \['x', 'z', 'y'\]"
    ):
        data.from_csv(path, target="price")


@pytest.mark.parametrize("token", ["", "NA", "nan", "NULL", "?"])
def test_from_csv_missing_values_name_column_and_line(tmp_path, token):
    path = _write(tmp_path, f"x,z,y\n1,2,3\n4,{token},6\n")
    with pytest.raises(ValueError, match=r"Column 'z' has a missing value at line 3"):
        data.from_csv(path, target="y")


def test_from_csv_unencodable_columns(tmp_path):
    path = _write(tmp_path, "x,z,y\n1,2,3\n4,abc,6\n")
    with pytest.raises(
        ValueError, match=r"'z' cannot be encoded: it mixes numbers \('2' at line 2"
    ):
        data.from_csv(path, target="y")
    path = _write(tmp_path, "d,y\n2020-01-01,3\n2020-02-03,6\n")
    with pytest.raises(ValueError, match=r"'d' holds dates"):
        data.from_csv(path, target="y")
    path = _write(tmp_path, "x,y\n1,3\ninf,6\n")
    with pytest.raises(ValueError, match=r"'x' has a non-finite value \(inf\) at line 3"):
        data.from_csv(path, target="y")
    path = _write(tmp_path, "x,x\n1,3\n")
    with pytest.raises(ValueError, match="duplicate column"):
        data.from_csv(path)


def test_from_csv_works_without_pandas(tmp_path, monkeypatch):
    path = _write(tmp_path, "x,c,y\n1,a,0.5\n2,b,1.5\n3,a,2.25\n")
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    with pytest.raises(ImportError):
        import pandas  # noqa: F401
    ds = data.from_csv(path, target="y")
    assert ds.feature_names == ["x", "c=a", "c=b"] and ds.task == "regression"


@needs_pandas
def test_csv_to_frame_round_trip_keeps_names(tmp_path):
    ds = data.load("iris")
    path = tmp_path / "iris.csv"
    frame = ds.to_frame()
    frame.to_csv(path, index=False)
    back = data.from_csv(path, target="target")
    assert back.feature_names == ds.feature_names
    assert back.target_names == ds.target_names
    np.testing.assert_array_equal(back.y, ds.y)
    np.testing.assert_allclose(back.X, ds.X, rtol=0, atol=0)
