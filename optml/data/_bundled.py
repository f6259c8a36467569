"""Bundled data sets: scikit-learn's shipped files and small classic CSVs shipped with optml.

Nothing here touches the network. The five scikit-learn sets are read straight from the
files scikit-learn installs (``sklearn/datasets/data``), without importing scikit-learn,
which alone costs about a second; if those files are not where expected, the loader falls
back to ``sklearn.datasets.load_*``. Tests check both paths give identical arrays.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import os
from dataclasses import dataclass
from importlib import resources

import numpy as np

from optml.data._dataset import Dataset

_SKLEARN = "shipped with scikit-learn (BSD-3-Clause)"
_UCI = "UCI Machine Learning Repository (CC BY 4.0)"

_BC_BASE = [
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave points",
    "symmetry",
    "fractal dimension",
]

_FEATURES = {
    "iris": ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"],
    "wine": [
        "alcohol",
        "malic_acid",
        "ash",
        "alcalinity_of_ash",
        "magnesium",
        "total_phenols",
        "flavanoids",
        "nonflavanoid_phenols",
        "proanthocyanins",
        "color_intensity",
        "hue",
        "od280/od315_of_diluted_wines",
        "proline",
    ],
    "breast_cancer": [f"mean {b}" for b in _BC_BASE]
    + [f"{b} error" for b in _BC_BASE]
    + [f"worst {b}" for b in _BC_BASE],
    "diabetes": ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"],
    "digits": [f"pixel_{i}_{j}" for i in range(8) for j in range(8)],
}


@dataclass(frozen=True)
class _Meta:
    task: str
    n_samples: int
    n_features: int
    description: str
    source: str
    license: str
    target_name: str = "target"


_REGISTRY: dict[str, _Meta] = {
    "iris": _Meta(
        "classification",
        150,
        4,
        "Iris flowers: 4 measurements (cm) of 150 flowers of 3 species, 50 each.",
        "R. A. Fisher (1936), The use of multiple measurements in taxonomic problems, "
        f"Annals of Eugenics 7; {_UCI}; {_SKLEARN}.",
        "CC BY 4.0 (UCI); scikit-learn's copy under BSD-3-Clause.",
    ),
    "wine": _Meta(
        "classification",
        178,
        13,
        "Wine: 13 chemical measurements of 178 Italian wines from 3 cultivars (59/71/48).",
        f"M. Forina et al. (1988), PARVUS; {_UCI}; {_SKLEARN}.",
        "CC BY 4.0 (UCI); scikit-learn's copy under BSD-3-Clause.",
    ),
    "breast_cancer": _Meta(
        "classification",
        569,
        30,
        "Breast Cancer Wisconsin (Diagnostic): 30 features of cell nuclei in 569 images; "
        "class 0 = malignant (212), 1 = benign (357).",
        "W. N. Street, W. H. Wolberg and O. L. Mangasarian (1993), Nuclear feature extraction "
        f"for breast tumor diagnosis, SPIE 1905; {_UCI}; {_SKLEARN}.",
        "CC BY 4.0 (UCI); scikit-learn's copy under BSD-3-Clause.",
    ),
    "diabetes": _Meta(
        "regression",
        442,
        10,
        "Diabetes: age, sex, body mass index, blood pressure and six blood serum measurements "
        "of 442 patients; target: disease progression one year after baseline. As in "
        "scikit-learn, each feature is centred and scaled to unit Euclidean norm. The data of "
        "least angle regression, also used by Bertsimas, King and Mazumder (2016).",
        "B. Efron, T. Hastie, I. Johnstone and R. Tibshirani (2004), Least angle regression, "
        f"Annals of Statistics 32(2); {_SKLEARN}.",
        "Distributed with scikit-learn (BSD-3-Clause); no separate licence stated by the authors.",
    ),
    "digits": _Meta(
        "classification",
        1797,
        64,
        "Optical recognition of handwritten digits: 1797 images of 8x8 pixels with grey "
        "levels 0..16, classes 0..9.",
        f"E. Alpaydin and C. Kaynak (1998); {_UCI}; {_SKLEARN}.",
        "CC BY 4.0 (UCI); scikit-learn's copy under BSD-3-Clause.",
    ),
    "ruspini": _Meta(
        "clustering",
        75,
        2,
        "Ruspini's 75 points in the plane (integer coordinates), the classic small instance "
        "for exact minimum-sum-of-squares clustering. y holds the four evident groups "
        "(rows 1-20, 21-43, 44-60, 61-75) as reference labels.",
        "E. H. Ruspini (1970), Numerical methods for fuzzy clustering, Information Sciences "
        "2, 319-350; values as in R's cluster::ruspini.",
        "Published facts, no licence of their own; cite Ruspini (1970).",
        "group",
    ),
    "hald": _Meta(
        "regression",
        13,
        4,
        "Hald's cement data: heat evolved (cal/g) while 13 Portland cements harden, against "
        "the percentages of four ingredients (x1 tricalcium aluminate, x2 tricalcium silicate, "
        "x3 tetracalcium alumino ferrite, x4 dicalcium silicate). The textbook example of "
        "all-subsets (best subset) regression: the best pair is {x1, x2} (R^2 = 0.979).",
        "H. Woods, H. H. Steinour and H. R. Starke (1932), Effect of composition of Portland "
        "cement on heat evolved during hardening, Industrial and Engineering Chemistry 24, "
        "1207-1214; A. Hald (1952), Statistical Theory with Engineering Applications, Wiley; "
        "Draper and Smith, Applied Regression Analysis; as in R's MASS::cement.",
        "Published facts, no licence of their own; cite Woods et al. (1932) and Hald (1952).",
        "y",
    ),
    "longley": _Meta(
        "regression",
        16,
        6,
        "Longley's US macro-economic data 1947-1962: six highly collinear predictors of "
        "total employment, a classic test of least-squares accuracy.",
        "J. W. Longley (1967), An appraisal of least squares programs for the electronic "
        "computer from the point of view of the user, JASA 62, 819-841; NIST StRD 'Longley'; "
        "units as in R's datasets::longley.",
        "US government statistics, public domain.",
        "Employed",
    ),
    "stackloss": _Meta(
        "regression",
        21,
        3,
        "Brownlee's stack loss data: 21 days of an ammonia oxidation plant; air flow, water "
        "temperature and acid concentration predict the stack loss. The classic test set of "
        "robust (least trimmed squares) regression; rows 1, 3, 4 and 21 are outliers.",
        "K. A. Brownlee (1965), Statistical Theory and Methodology in Science and "
        "Engineering, 2nd ed., Wiley, pp. 491-500; values as in R's datasets::stackloss.",
        "Published facts, no licence of their own; cite Brownlee (1965).",
        "stack.loss",
    ),
}

_SKLEARN_SETS = ("iris", "wine", "breast_cancer", "diabetes", "digits")
_SKLEARN_FILES = {
    "iris": "iris.csv",
    "wine": "wine_data.csv",
    "breast_cancer": "breast_cancer.csv",
    "digits": "digits.csv.gz",
}


def list_datasets(details: bool = False) -> list:
    """Names of the bundled data sets, or one dict per set with its shape and task.

    Parameters
    ----------
    details : bool, default False
        If True, return a list of dicts with keys ``name``, ``task``, ``n_samples``,
        ``n_features``, ``source`` (nothing is loaded).

    Returns
    -------
    list of str, or list of dict

    Examples
    --------
    >>> from optml import data
    >>> "ruspini" in data.list_datasets()
    True
    """
    names = sorted(_REGISTRY)
    if not details:
        return names
    return [
        {
            "name": n,
            "task": _REGISTRY[n].task,
            "n_samples": _REGISTRY[n].n_samples,
            "n_features": _REGISTRY[n].n_features,
            "source": _REGISTRY[n].source,
        }
        for n in names
    ]


def load(name: str) -> Dataset:
    """Load a bundled data set by name (no network, a few milliseconds).

    Parameters
    ----------
    name : str
        One of :func:`list_datasets` (case and ``-``/``_`` are ignored): ``"iris"``,
        ``"wine"``, ``"breast_cancer"``, ``"diabetes"``, ``"digits"`` (scikit-learn's shipped
        files) and ``"ruspini"``, ``"hald"``, ``"longley"``, ``"stackloss"`` (shipped with
        optml).

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        If ``name`` is not a bundled data set; the message lists the known names.

    Examples
    --------
    >>> from optml import data
    >>> ds = data.load("breast_cancer")
    >>> ds.X.shape, ds.target_names
    ((569, 30), ['malignant', 'benign'])
    """
    if not isinstance(name, str):
        raise TypeError(f"Data set name must be a string, got {type(name).__name__}.")
    key = name.strip().lower().replace("-", "_")
    if key not in _REGISTRY:
        raise ValueError(
            f"Unknown data set {name!r}. Known data sets: {', '.join(sorted(_REGISTRY))}. "
            "For your own data use optml.data.from_csv(path, target=...) or "
            "optml.data.from_frame(df, target=...)."
        )
    meta = _REGISTRY[key]
    if key in _SKLEARN_SETS:
        X, y, target_names = _load_sklearn(key)
        feature_names = list(_FEATURES[key])
    else:
        X, y, feature_names, target_names = _load_optml_csv(key, meta)
    return Dataset(
        X=X,
        y=y,
        feature_names=feature_names,
        target_names=target_names,
        task=meta.task,
        description=meta.description,
        name=key,
        target_name=meta.target_name,
        source=meta.source,
        license=meta.license,
    )


def _sklearn_data_dir() -> str | None:
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "datasets", "data")
    return path if os.path.isdir(path) else None


def _load_sklearn(key: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    try:
        return _read_sklearn_files(key)
    except (OSError, ValueError, IndexError):
        return _load_sklearn_api(key)


def _read_sklearn_files(key: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Parse scikit-learn's shipped files directly (what ``load_*`` does, without the import)."""
    root = _sklearn_data_dir()
    if root is None:
        raise OSError("scikit-learn's data directory was not found")
    if key == "diabetes":
        X = np.loadtxt(os.path.join(root, "diabetes_data_raw.csv.gz"))
        y = np.loadtxt(os.path.join(root, "diabetes_target.csv.gz"))
        X = (X - X.mean(axis=0)) / X.std(axis=0)
        X /= X.shape[0] ** 0.5
        if X.shape != (442, 10) or y.shape != (442,):
            raise ValueError("unexpected diabetes file shape")
        return X, y, ["target"]
    path = os.path.join(root, _SKLEARN_FILES[key])
    if key == "digits":
        with gzip.open(path, "rt") as fh:
            raw = np.loadtxt(fh, delimiter=",")
        X, y = raw[:, :-1], raw[:, -1].astype(np.int64)
        return X, y, [str(i) for i in range(10)]
    with open(path, newline="") as fh:
        header = next(csv.reader(fh))
        raw = np.loadtxt(fh, delimiter=",")
    n, p = int(header[0]), int(header[1])
    if raw.shape != (n, p + 1) or p != len(_FEATURES[key]):
        raise ValueError(f"unexpected shape of scikit-learn's {key} file")
    return raw[:, :p], raw[:, p].astype(np.int64), [s.strip() for s in header[2:]]


def _load_sklearn_api(key: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{key}")()
    if key == "diabetes":
        return bunch.data, bunch.target.astype(np.float64), ["target"]
    return bunch.data, bunch.target.astype(np.int64), [str(t) for t in bunch.target_names]


_RUSPINI_GROUPS = np.repeat(np.arange(4), [20, 23, 17, 15])


def _load_optml_csv(key: str, meta: _Meta):
    ref = resources.files("optml.data").joinpath("datasets").joinpath(f"{key}.csv")
    with ref.open("r", encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
        raw = np.loadtxt(fh, delimiter=",", ndmin=2)
    if key == "ruspini":
        return raw, _RUSPINI_GROUPS.copy(), header, [f"group {i + 1}" for i in range(4)]
    t = header.index(meta.target_name)
    cols = [j for j in range(len(header)) if j != t]
    return raw[:, cols], raw[:, t], [header[j] for j in cols], [meta.target_name]
