"""Bundled data sets: shapes, dtypes, names, descriptions, and the values themselves."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from importlib import resources

import numpy as np
import pytest

from optml import data
from optml.data import _bundled

SKLEARN_SETS = ["iris", "wine", "breast_cancer", "diabetes", "digits"]
EXPECTED = {
    # name: (n_samples, n_features, task, n_classes or None)
    "iris": (150, 4, "classification", 3),
    "wine": (178, 13, "classification", 3),
    "breast_cancer": (569, 30, "classification", 2),
    "diabetes": (442, 10, "regression", None),
    "digits": (1797, 64, "classification", 10),
    "ruspini": (75, 2, "clustering", 4),
    "hald": (13, 4, "regression", None),
    "longley": (16, 6, "regression", None),
    "stackloss": (21, 3, "regression", None),
}


def test_list_datasets_names_and_details():
    assert data.list_datasets() == sorted(EXPECTED)
    rows = data.list_datasets(details=True)
    assert [r["name"] for r in rows] == sorted(EXPECTED)
    for r in rows:
        n, p, task, _ = EXPECTED[r["name"]]
        assert (r["n_samples"], r["n_features"], r["task"]) == (n, p, task)
        assert r["source"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_bundled_set_shape_dtype_names(name):
    ds = data.load(name)
    n, p, task, n_classes = EXPECTED[name]
    assert isinstance(ds, data.Dataset)
    assert ds.name == name and ds.task == task
    assert ds.X.shape == (n, p) and ds.X.dtype == np.float64 and ds.X.flags.c_contiguous
    assert np.isfinite(ds.X).all()
    assert ds.y.shape == (n,)
    assert len(ds.feature_names) == p and all(isinstance(f, str) and f for f in ds.feature_names)
    assert len(set(ds.feature_names)) == p
    assert ds.description and ds.source and ds.license
    assert repr(ds).startswith("Dataset(name=")
    if n_classes is None:
        assert ds.y.dtype == np.float64
        assert ds.target_names == [ds.target_name]
    else:
        assert ds.y.dtype == np.int64
        assert sorted(np.unique(ds.y).tolist()) == list(range(n_classes))
        assert len(ds.target_names) == n_classes


def test_load_is_case_and_dash_insensitive_and_returns_fresh_arrays():
    a = data.load("Breast-Cancer")
    a.X[0, 0] = -1.0
    assert data.load("breast_cancer").X[0, 0] != -1.0


def test_unknown_name_lists_known_names():
    with pytest.raises(ValueError) as exc:
        data.load("prostate")
    msg = str(exc.value)
    assert "'prostate'" in msg
    for name in EXPECTED:
        assert name in msg
    with pytest.raises(TypeError):
        data.load(3)


@pytest.mark.parametrize("name", SKLEARN_SETS)
def test_sklearn_sets_equal_sklearn_loaders(name, monkeypatch):
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    ds = data.load(name)
    np.testing.assert_allclose(ds.X, bunch.data, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ds.y, bunch.target)
    assert ds.feature_names == [str(f) for f in bunch.feature_names]
    if name != "diabetes":
        assert ds.target_names == [str(t) for t in bunch.target_names]
    # fallback through sklearn.datasets when the shipped files are not found
    monkeypatch.setattr(_bundled, "_sklearn_data_dir", lambda: None)
    fb = data.load(name)
    np.testing.assert_array_equal(fb.X, bunch.data)
    np.testing.assert_array_equal(fb.y, ds.y)
    assert fb.feature_names == ds.feature_names and fb.target_names == ds.target_names


def test_loading_does_not_import_sklearn_or_pandas():
    code = (
        "import sys, optml.data as d\n"
        "[d.load(n) for n in d.list_datasets()]\n"
        "print([m for m in ('sklearn', 'pandas') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _exact_rows(name):
    text = resources.files("optml.data").joinpath("datasets").joinpath(f"{name}.csv").read_text()
    lines = text.strip().splitlines()
    return lines[0].split(","), [[Fraction(v) for v in line.split(",")] for line in lines[1:]]


def _solve_exact(A, b):
    """Gauss-Jordan elimination in exact rational arithmetic."""
    n = len(A)
    M = [row[:] + [bi] for row, bi in zip(A, b, strict=True)]
    for c in range(n):
        piv = next(r for r in range(c, n) if M[r][c] != 0)
        M[c], M[piv] = M[piv], M[c]
        for r in range(n):
            if r != c and M[r][c] != 0:
                f = M[r][c] / M[c][c]
                M[r] = [a - f * b for a, b in zip(M[r], M[c], strict=True)]
    return [M[i][n] / M[i][i] for i in range(n)]


def test_longley_reproduces_nist_certified_regression():
    header, rows = _exact_rows("longley")
    assert header[-1] == "Employed" and len(rows) == 16
    # NIST StRD units: GNP and Population x1000, Unemployed and Armed Forces x10, y x1000
    scale = [1, 1000, 10, 10, 1000, 1]
    X = [[Fraction(1)] + [v * s for v, s in zip(r[:6], scale, strict=True)] for r in rows]
    y = [r[6] * 1000 for r in rows]
    XtX = [[sum(a[i] * a[j] for a in X) for j in range(7)] for i in range(7)]
    Xty = [sum(a[i] * yi for a, yi in zip(X, y, strict=True)) for i in range(7)]
    beta = _solve_exact(XtX, Xty)
    certified = [
        -3482258.63459582,
        15.0618722713733,
        -0.358191792925910e-01,
        -2.02022980381683,
        -1.03322686717359,
        -0.511041056535807e-01,
        1829.15146461355,
    ]
    # NIST certifies 15 significant digits; a single wrong data digit moves these by far more
    np.testing.assert_allclose([float(b) for b in beta], certified, rtol=1e-13)
    fitted = [sum(b * a for b, a in zip(beta, xi, strict=True)) for xi in X]
    rss = sum((yi - fi) ** 2 for yi, fi in zip(y, fitted, strict=True))
    assert float(rss / 9) ** 0.5 == pytest.approx(304.854073561965, rel=1e-13)
    ds = data.load("longley")
    np.testing.assert_array_equal(ds.X, np.array([[float(v) for v in r[:6]] for r in rows]))


def test_stackloss_textbook_least_squares():
    ds = data.load("stackloss")
    A = np.c_[np.ones(21), ds.X]
    coef, rss, *_ = np.linalg.lstsq(A, ds.y, rcond=None)
    # R: lm(stack.loss ~ ., stackloss) -> -39.9197, 0.7156, 1.2953, -0.1521; RSE 3.243 on 17 df
    np.testing.assert_allclose(coef, [-39.9197, 0.7156, 1.2953, -0.1521], atol=6e-5)
    assert np.sqrt(rss[0] / 17) == pytest.approx(3.2434, abs=6e-5)
    assert ds.feature_names == ["Air.Flow", "Water.Temp", "Acid.Conc."]
    assert ds.target_name == "stack.loss"


def test_ruspini_values_and_reference_groups():
    ds = data.load("ruspini")
    assert ds.X.sum(axis=0).tolist() == [4116.0, 6902.0]
    assert ds.X[0].tolist() == [4.0, 53.0] and ds.X[-1].tolist() == [64.0, 30.0]
    assert np.bincount(ds.y).tolist() == [20, 23, 17, 15]
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    labels = KMeans(4, n_init=10, random_state=0).fit_predict(ds.X)
    assert adjusted_rand_score(ds.y, labels) == 1.0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_to_frame_round_trip_keeps_names(name):
    pytest.importorskip("pandas")
    ds = data.load(name)
    back = data.from_frame(ds.to_frame(), target=ds.target_name, task=ds.task)
    np.testing.assert_array_equal(back.X, ds.X)
    np.testing.assert_array_equal(back.y, ds.y)
    assert back.feature_names == ds.feature_names
    assert back.target_names == ds.target_names
    assert back.task == ds.task


def test_hald_textbook_fit_and_best_subsets():
    from itertools import combinations

    ds = data.load("hald")
    assert ds.feature_names == ["x1", "x2", "x3", "x4"] and ds.target_name == "y"
    assert ds.X.sum(axis=1).min() == 95 and ds.X.sum(axis=1).max() == 99  # % of clinker
    A = np.c_[np.ones(13), ds.X]
    coef, rss, *_ = np.linalg.lstsq(A, ds.y, rcond=None)
    # Draper and Smith / R: 62.4054 + 1.5511 x1 + 0.5102 x2 + 0.1019 x3 - 0.1441 x4, s = 2.446
    np.testing.assert_allclose(coef, [62.4054, 1.5511, 0.5102, 0.1019, -0.1441], atol=6e-5)
    assert np.sqrt(rss[0] / 8) == pytest.approx(2.446, abs=6e-4)
    tss = ((ds.y - ds.y.mean()) ** 2).sum()
    best = {}
    for k in (1, 2, 3):
        fits = {
            S: np.linalg.lstsq(np.c_[np.ones(13), ds.X[:, S]], ds.y, rcond=None)[1][0]
            for S in combinations(range(4), k)
        }
        S = min(fits, key=fits.get)
        best[k] = (S, round(1 - fits[S] / tss, 3))
    assert best == {1: ((3,), 0.675), 2: ((0, 1), 0.979), 3: ((0, 1, 3), 0.982)}
