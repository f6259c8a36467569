"""Classic discrete Bayesian networks (bundled) and forward sampling from them.

Four networks of the bnlearn Bayesian network repository (M. Scutari,
https://www.bnlearn.com/bnrepository/) are shipped as their original BIF files, gzipped
(about 5.5 kB together), exactly as pgmpy 0.1.26 (MIT licence) distributed them in
``pgmpy/utils/example_models``:

========  =========  =======  ===========================================================
name      variables  arcs     source
========  =========  =======  ===========================================================
asia      8          8        Lauritzen and Spiegelhalter (1988), JRSS B 50(2)
sachs     11         17       Sachs, Perez, Pe'er, Lauffenburger and Nolan (2005), Science 308
child     20         25       Spiegelhalter and Cowell (1992), Bayesian Statistics 4
alarm     37         46       Beinlich, Suermondt, Chavez and Cooper (1989), AIME 89
========  =========  =======  ===========================================================

>>> from optml import data
>>> net = data.load_network("asia")
>>> net.n_variables, len(net.edges)
(8, 8)
>>> df = data.sample_network("asia", n=1000, random_state=0)   # pandas, categorical columns
>>> df.shape
(1000, 8)

:func:`parse_bif` reads any discrete BIF text (the subset of the format these files use:
``variable`` blocks with ``type discrete``, ``probability`` blocks with a ``table`` line or one
line per parent configuration).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

NETWORKS = {
    "asia": "S. L. Lauritzen and D. J. Spiegelhalter (1988), Local computations with "
    "probabilities on graphical structures and their application to expert systems, Journal "
    "of the Royal Statistical Society B 50(2), 157-224.",
    "sachs": "K. Sachs, O. Perez, D. Pe'er, D. A. Lauffenburger and G. P. Nolan (2005), Causal "
    "protein-signaling networks derived from multiparameter single-cell data, Science 308, "
    "523-529 (discretised network of the bnlearn repository).",
    "child": "D. J. Spiegelhalter and R. G. Cowell (1992), Learning in probabilistic expert "
    "systems, Bayesian Statistics 4, 447-466.",
    "alarm": "I. A. Beinlich, H. J. Suermondt, R. M. Chavez and G. F. Cooper (1989), The ALARM "
    "monitoring system: a case study with two probabilistic inference techniques for belief "
    "networks, Proceedings of AIME 89, 247-256.",
}

_REPOSITORY = (
    "bnlearn Bayesian network repository (M. Scutari, https://www.bnlearn.com/bnrepository/), "
    "BIF files as shipped in pgmpy 0.1.26 (MIT licence), pgmpy/utils/example_models"
)


@dataclass
class DiscreteNetwork:
    """A discrete Bayesian network: variables, their states, parents and probability tables.

    ``cpts[v]`` has shape ``(cardinality of parent 1, ..., cardinality of parent k,
    cardinality of v)``: ``cpts[v][j1, ..., jk, :]`` is the distribution of ``v`` given its
    parents in states ``j1, ..., jk`` (parents in the order of ``parents[v]``).
    """

    name: str
    variables: list[str]
    states: dict[str, list[str]]
    parents: dict[str, list[str]]
    cpts: dict[str, np.ndarray]
    source: str = ""
    extra: dict = field(default_factory=dict, repr=False)

    @property
    def n_variables(self) -> int:
        return len(self.variables)

    @property
    def edges(self) -> list[tuple[str, str]]:
        """Arcs ``(parent, child)`` in the order of the variables."""
        return [(u, v) for v in self.variables for u in self.parents[v]]

    @property
    def adjacency(self) -> np.ndarray:
        """``A[i, j] = 1`` when variable ``i`` is a parent of variable ``j``."""
        index = {v: i for i, v in enumerate(self.variables)}
        A = np.zeros((len(index), len(index)), dtype=int)
        for u, v in self.edges:
            A[index[u], index[v]] = 1
        return A

    def topological_order(self) -> list[str]:
        order, done = [], set()
        remaining = list(self.variables)
        while remaining:
            ready = [v for v in remaining if all(u in done for u in self.parents[v])]
            if not ready:
                raise ValueError(f"network {self.name!r} has a directed cycle")
            for v in ready:
                order.append(v)
                done.add(v)
            remaining = [v for v in remaining if v not in done]
        return order

    def sample(self, n: int, random_state=None, as_frame: bool = True):
        """``n`` independent samples by forward (ancestral) sampling.

        Returns a pandas DataFrame with categorical columns (the states as categories, in the
        network's order) when ``as_frame`` (pandas needed), else an ``(n, n_variables)`` int
        array of state indices in the order of :attr:`variables`.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer number of samples, got {n!r}")
        rng = np.random.default_rng(random_state)
        index = {v: i for i, v in enumerate(self.variables)}
        codes = np.zeros((int(n), len(self.variables)), dtype=np.int64)
        for v in self.topological_order():
            cpt = self.cpts[v]
            r = cpt.shape[-1]
            table = cpt.reshape(-1, r)
            if self.parents[v]:
                pa = [index[u] for u in self.parents[v]]
                config = np.ravel_multi_index(tuple(codes[:, pa].T), cpt.shape[:-1])
            else:
                config = np.zeros(int(n), dtype=np.int64)
            cum = np.cumsum(table, axis=1)
            cum[:, -1] = np.inf  # rows summing to 1 - 1e-9 never fall off the end
            u = rng.random(int(n))
            codes[:, index[v]] = (u[:, None] >= cum[config]).sum(axis=1)
        if not as_frame:
            return codes
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is a test dependency
            raise ImportError(
                "sample(..., as_frame=True) returns a pandas DataFrame: install pandas "
                "(pip install pandas) or pass as_frame=False for an int array"
            ) from exc
        return pd.DataFrame(
            {
                v: pd.Categorical.from_codes(codes[:, index[v]], categories=self.states[v])
                for v in self.variables
            }
        )


_TOKEN = re.compile(r"[^\s,;(){}\[\]|]+")


def parse_bif(text: str, name: str = "network") -> DiscreteNetwork:
    """Read a discrete network from BIF text (see the module docstring for the subset)."""
    text = re.sub(r"//[^\n]*", "", text)
    variables: list[str] = []
    states: dict[str, list[str]] = {}
    for m in re.finditer(
        r"variable\s+([^\s{]+)\s*\{[^}]*?type\s+discrete\s*\[\s*(\d+)\s*\]\s*\{([^}]*)\}",
        text,
    ):
        v, k, body = m.group(1), int(m.group(2)), m.group(3)
        vals = _TOKEN.findall(body)
        if len(vals) != k:
            raise ValueError(f"BIF variable {v!r}: {k} states declared, {len(vals)} listed")
        variables.append(v)
        states[v] = vals
    if not variables:
        raise ValueError("no discrete variable found in the BIF text")
    parents: dict[str, list[str]] = {}
    cpts: dict[str, np.ndarray] = {}
    for m in re.finditer(r"probability\s*\(([^)]*)\)\s*\{([^}]*)\}", text):
        head, body = m.group(1), m.group(2)
        if "|" in head:
            child, pa = head.split("|")
            pa = _TOKEN.findall(pa)
        else:
            child, pa = head, []
        (child,) = _TOKEN.findall(child)
        if child not in states or any(u not in states for u in pa):
            raise ValueError(f"BIF probability block of {child!r} names an undeclared variable")
        shape = tuple(len(states[u]) for u in pa) + (len(states[child]),)
        cpt = np.full(shape, np.nan)
        for line in body.split(";"):
            line = line.strip()
            if not line:
                continue
            if line.startswith("table"):
                vals = np.array([float(t) for t in _TOKEN.findall(line[5:])])
                if pa:
                    # BIF's table order: the child's state varies slowest, the last parent fastest
                    cpt = np.moveaxis(vals.reshape((shape[-1],) + shape[:-1]), 0, -1)
                else:
                    cpt = vals.reshape(shape)
                continue
            cfg, _, probs = line.partition(")")
            labels = _TOKEN.findall(cfg)
            idx = tuple(states[u].index(lab) for u, lab in zip(pa, labels, strict=True))
            cpt[idx] = [float(t) for t in _TOKEN.findall(probs)]
        if np.isnan(cpt).any():
            raise ValueError(f"BIF probability table of {child!r} is incomplete")
        if not np.allclose(cpt.sum(axis=-1), 1.0, atol=1e-4):
            raise ValueError(f"BIF probability table of {child!r}: rows do not sum to 1")
        parents[child] = pa
        cpts[child] = cpt / cpt.sum(axis=-1, keepdims=True)
    missing = [v for v in variables if v not in cpts]
    if missing:
        raise ValueError(f"BIF text has no probability table for {missing}")
    return DiscreteNetwork(name, variables, states, parents, cpts)


def list_networks() -> list[str]:
    """Names of the bundled Bayesian networks."""
    return list(NETWORKS)


def load_network(name: str) -> DiscreteNetwork:
    """A bundled network by name: ``"asia"``, ``"sachs"``, ``"child"`` or ``"alarm"``."""
    if not isinstance(name, str):
        raise TypeError(f"network name must be a string, got {type(name).__name__}")
    key = name.strip().lower()
    if key not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; the bundled networks are {list(NETWORKS)}")
    raw = resources.files("optml.data").joinpath("datasets", f"{key}.bif.gz").read_bytes()
    net = parse_bif(gzip.decompress(raw).decode("utf-8"), name=key)
    net.source = f"{NETWORKS[key]} Via the {_REPOSITORY}."
    return net


def sample_network(name, n: int = 1000, random_state=None, as_frame: bool = True):
    """``n`` forward samples of a bundled network (a name) or of a :class:`DiscreteNetwork`.

    Returns a pandas DataFrame of categorical columns (``as_frame=True``) or an int array of
    state indices (columns in the network's variable order).
    """
    net = name if isinstance(name, DiscreteNetwork) else load_network(name)
    return net.sample(n, random_state=random_state, as_frame=as_frame)
