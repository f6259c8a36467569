r"""Decomposable local scores of discrete Bayesian networks: BIC and BDeu.

Data are an ``(n, p)`` int array of state codes ``0 .. r_v - 1`` with the cardinalities
``r_v``. For a node :math:`v` with parent set :math:`S` (:math:`q_S = \prod_{u \in S} r_u`
parent configurations), let :math:`N_{jk}` count the rows with the parents in configuration
:math:`j` and :math:`v` in state :math:`k`, and :math:`N_j = \sum_k N_{jk}`.

.. math::

    \mathrm{BIC}(v, S) = \sum_{j,k} N_{jk} \log \frac{N_{jk}}{N_j}
        - \frac{\log N}{2}\, q_S (r_v - 1),

    \mathrm{BDeu}(v, S) = \sum_j \Big[ \log\Gamma(\alpha_j) - \log\Gamma(\alpha_j + N_j)
        + \sum_k \big(\log\Gamma(\alpha_{jk} + N_{jk}) - \log\Gamma(\alpha_{jk})\big)\Big],
    \quad \alpha_j = \frac{\alpha}{q_S},\ \alpha_{jk} = \frac{\alpha}{q_S r_v}

(:math:`\alpha`: the equivalent sample size; configurations with :math:`N_j = 0` add 0). Both
are to be maximised; a network's score is the sum of its nodes' local scores. The same
formulas as pgmpy's ``BIC`` and ``BDeu`` and bnlearn's ``bic`` (times :math:`1`) and ``bde``
with the uniform prior.

Counting is vectorised: the parent configuration of every row is one integer (mixed radix),
and one ``bincount`` gives the table (rows of configurations never observed are dropped, so
the table has at most ``N`` rows whatever :math:`q_S`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

SCORES = ("bic", "bdeu")


def check_score(score: str) -> str:
    if not isinstance(score, str) or score.lower() not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}")
    return score.lower()


def counts(data: np.ndarray, card: np.ndarray, v: int, parents, columns=None) -> np.ndarray:
    """The ``(observed parent configurations, r_v)`` table :math:`N_{jk}` of node ``v``.

    ``columns`` (optional): ``data.T`` as a C-contiguous array, for fast column access.
    """
    parents = list(parents)
    r = int(card[v])
    cols = data.T if columns is None else columns
    xv = cols[v]
    if not parents:
        return np.bincount(xv, minlength=r)[None, :]
    q = float(np.prod(card[parents].astype(float)))
    if q * r <= max(4 * data.shape[0], 1 << 16):
        config = cols[parents[0]].copy()
        for u in parents[1:]:
            config *= int(card[u])
            config += cols[u]
        table = np.bincount(config * r + xv, minlength=int(q) * r).reshape(-1, r)
        return table[table.any(axis=1)]
    # too many configurations for a dense table: number the observed ones first
    _, config = np.unique(np.stack([cols[u] for u in parents], axis=1), axis=0, return_inverse=True)
    config = config.ravel()
    nq = int(config.max()) + 1
    return np.bincount(config * r + xv, minlength=nq * r).reshape(nq, r)


def n_configurations(card: np.ndarray, parents) -> float:
    """:math:`q_S` (a float: it can exceed 2^63)."""
    return float(np.prod(card[list(parents)].astype(float))) if len(parents) else 1.0


def bic_from_counts(N: np.ndarray, n: int, r: int, q: float) -> float:
    Nj = N.sum(axis=1, keepdims=True)
    nz = N > 0
    ll = float(np.sum(N[nz] * np.log((N / np.maximum(Nj, 1))[nz])))
    return ll - 0.5 * np.log(n) * q * (r - 1)


def bdeu_from_counts(N: np.ndarray, r: int, q: float, ess: float) -> float:
    a_j = ess / q
    a_jk = a_j / r
    Nj = N.sum(axis=1)
    return float(
        np.sum(gammaln(a_j) - gammaln(a_j + Nj)) + np.sum(gammaln(a_jk + N) - gammaln(a_jk))
    )


def local_score(data, card, v: int, parents, score: str = "bic", ess: float = 1.0) -> float:
    """The local score of node ``v`` with parent set ``parents`` (indices)."""
    N = counts(data, card, v, parents)
    q = n_configurations(card, parents)
    if score == "bic":
        return bic_from_counts(N, data.shape[0], int(card[v]), q)
    return bdeu_from_counts(N, int(card[v]), q, ess)


def network_score(data, card, parents_of, score: str = "bic", ess: float = 1.0) -> float:
    """The score of a network given as ``parents_of[v]`` = parent indices of ``v``."""
    return float(sum(local_score(data, card, v, ps, score, ess) for v, ps in enumerate(parents_of)))


def superset_bound(N: np.ndarray, n: int, r: int, q: float, score: str, card_min: float):
    """An upper bound on the local score of every proper superset of the parent set whose
    counts are ``N`` (``q`` configurations; ``card_min``: the smallest cardinality of a
    parent that could be added).

    * BIC: the log-likelihood is at most 0, and a superset has at least ``q * card_min``
      configurations, so its score is at most :math:`-\\frac{\\log N}{2} q\\, c_{min} (r - 1)`
      (de Campos and Ji, 2011, Theorem 4's argument).
    * BDeu: the score is the log-probability of the column of ``v`` given the parents'
      columns; the first row of every observed configuration has predictive probability
      exactly :math:`1 / r`, the others at most 1, and a superset has at least as many
      observed configurations, so its score is at most :math:`-K \\log r` with ``K`` the
      number of observed configurations here.
    """
    if score == "bic":
        return -0.5 * np.log(n) * q * card_min * (r - 1)
    return -N.shape[0] * np.log(r)
