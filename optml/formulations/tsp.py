r"""The symmetric travelling salesman problem with lazy subtour elimination: the textbook
lazy-constraint model (Dantzig, Fulkerson and Johnson, 1954).

.. math::

    \min_x \sum_{i<j} d_{ij} x_{ij} \quad\text{s.t.}\quad
    \sum_{j \ne i} x_{ij} = 2 \ \ (i \in V), \qquad
    \sum_{i \in S,\ j \notin S} x_{ij} \ge 2 \ \ (S \subset V,\ 2 \le |S| \le |V| - 2),
    \qquad x_{ij} \in \{0, 1\}.

The subtour elimination rows are exponentially many; :func:`tsp_program` writes only the
degree rows and adds the family with :meth:`Program.add_lazy`: the separation routine takes a
candidate point, finds the connected components of the edges it uses, and returns one cut for
each component that is not the whole tour.
"""

from __future__ import annotations

import numpy as np

from optml.program import Program
from optml.program import sum as om_sum


def edges(n: int) -> tuple[np.ndarray, np.ndarray]:
    """End points ``(i, j)`` of the edges ``i < j`` of the complete graph on ``n`` nodes."""
    return np.triu_indices(n, k=1)


def components(n: int, x: np.ndarray, threshold: float = 0.5) -> list[np.ndarray]:
    """Node sets of the connected components of the edges with ``x > threshold``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    i, j = edges(n)
    used = np.asarray(x, dtype=float) > threshold
    G = coo_matrix((np.ones(used.sum()), (i[used], j[used])), shape=(n, n))
    k, label = connected_components(G, directed=False)
    return [np.flatnonzero(label == c) for c in range(k)]


def tsp_program(D, lazy: bool = True) -> Program:
    """The TSP on the symmetric distance matrix ``D`` (see the module docstring).

    With ``lazy=False`` every subtour row is written out (only for tiny ``n``: 2^n rows).
    """
    D = np.asarray(D, dtype=float)
    if D.ndim != 2 or D.shape[0] != D.shape[1] or D.shape[0] < 3:
        raise ValueError(f"D must be a square distance matrix of at least 3 nodes, got {D.shape}")
    if not np.all(np.isfinite(D)):
        raise ValueError("D holds NaN or inf; give finite distances")
    n = D.shape[0]
    i, j = edges(n)
    p = Program("tsp")
    x = p.var("x", shape=i.size, domain="binary")
    inc = np.zeros((n, i.size))
    inc[i, np.arange(i.size)] = 1.0
    inc[j, np.arange(i.size)] = 1.0
    p.add(inc @ x == 2, name="degree")
    p.minimize(D[i, j] @ x)

    def cut(S):
        inS = np.zeros(n, bool)
        inS[S] = True
        across = inS[i] != inS[j]
        return om_sum(x[np.flatnonzero(across)]) >= 2

    if lazy:

        def subtours(values):
            comps = components(n, values["x"])
            return [] if len(comps) == 1 else [cut(S) for S in comps]

        p.add_lazy(subtours, name="subtour")
    else:
        from itertools import combinations

        for size in range(2, n - 1):
            for S in combinations(range(n), size):
                if 0 in S:  # S and its complement give the same row
                    p.add(cut(np.array(S)), name=f"subtour_{'_'.join(map(str, S))}")
    return p


def tour_length(D, order) -> float:
    """Length of the closed tour visiting the nodes in ``order``."""
    D = np.asarray(D, dtype=float)
    order = list(order)
    return float(sum(D[a, b] for a, b in zip(order, order[1:] + order[:1], strict=True)))


def tour_from_edges(n: int, x) -> list[int]:
    """The node order of the tour whose edges have ``x > 0.5``."""
    i, j = edges(n)
    used = np.asarray(x) > 0.5
    nbrs = {k: [] for k in range(n)}
    for a, b in zip(i[used], j[used], strict=True):
        nbrs[a].append(b)
        nbrs[b].append(a)
    order, prev = [0], None
    while len(order) < n:
        nxt = [v for v in nbrs[order[-1]] if v != prev][0]
        prev = order[-1]
        order.append(int(nxt))
    return order
