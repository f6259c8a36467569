r"""Exact score-based Bayesian network structure learning as an integer program (Jaakkola,
Sontag, Globerson and Meila, 2010; Cussens, 2011; Bartlett and Cussens, 2017 -- GOBNILP).

One binary :math:`x_{v,S}` per node :math:`v` and candidate parent set
:math:`S \in \mathcal{P}_v` (with local score :math:`s(v, S)`):

.. math::

    \max_x \sum_{v}\sum_{S \in \mathcal{P}_v} s(v, S)\, x_{v,S}
    \quad\text{s.t.}\quad
    \sum_{S \in \mathcal{P}_v} x_{v,S} = 1 \ \ (v \in V), \qquad
    \sum_{v \in C}\ \sum_{S \in \mathcal{P}_v:\ S \cap C = \emptyset} x_{v,S} \ge 1
    \ \ (C \subseteq V,\ |C| \ge 2), \qquad x \in \{0, 1\}.

The *cluster constraints* say that every set :math:`C` of nodes holds one node with no
parent in :math:`C`: with one parent set per node they hold exactly when the chosen arcs form
a DAG. There are :math:`2^{|V|}` of them; the clusters of size 2 (no 2-cycles) are written
out, the others are a lazy family (:meth:`Program.add_lazy`): the separation routine builds
the graph of the arcs that the candidate point uses (an arc :math:`u \to v` weighs
:math:`\sum_{S \ni u} x_{v,S}`), and returns the cluster cut of every strongly connected
component with two nodes or more and of a shortest cycle through each of its nodes, keeping
those the point violates. On an integral point a cycle exists exactly when a component has
two nodes or more, so an integral point passes the routine exactly when it is a DAG.

Known arcs, forbidden arcs and a node order restrict the candidate sets
(:func:`optml.bayesnet.candidates.candidate_parent_sets`); with a node order every choice is
acyclic and no cut is ever needed.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from optml.program import Program
from optml.program import sum as om_sum


def _membership(p, node, parent_sets):
    """``M[u, k] = 1`` when ``u`` is a parent in candidate ``k`` (sparse, ``p x m``)."""
    rows = [u for S in parent_sets for u in S]
    cols = [k for k, S in enumerate(parent_sets) for _ in S]
    return sp.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(p, len(parent_sets)), dtype=float
    )


def arc_weights(p, node, M, x) -> np.ndarray:
    """``W[u, v] = sum of x over the candidates of v holding u`` (dense ``p x p``)."""
    x = np.asarray(x, dtype=float)
    Md = M if isinstance(M, np.ndarray) else M.toarray()
    W = np.zeros((p, p))
    np.add.at(W.T, node, (Md * x[None, :]).T)
    return W


def _cycles(W, threshold):
    """Node sets of the strongly connected components (size >= 2) of the arcs with
    ``W > threshold``, and of a shortest cycle through each node of each component."""
    from scipy.sparse.csgraph import connected_components

    A = W > threshold
    np.fill_diagonal(A, False)
    # quick exit: peel nodes without parents; an acyclic graph peels completely
    indeg = A.sum(axis=0)
    alive = np.ones(A.shape[0], bool)
    stack = list(np.flatnonzero(indeg == 0))
    while stack:
        u = stack.pop()
        alive[u] = False
        for w in np.flatnonzero(A[u]):
            indeg[w] -= 1
            if indeg[w] == 0:
                stack.append(w)
    if not alive.any():
        return []
    k, label = connected_components(sp.csr_matrix(A), directed=True, connection="strong")
    succ = [np.flatnonzero(A[u]).tolist() for u in range(A.shape[0])]
    found = []
    for c in range(k):
        comp = np.flatnonzero(label == c)
        if comp.size < 2:
            continue
        found.append(tuple(comp.tolist()))
        inside = set(comp.tolist())
        for a in comp.tolist():
            # shortest cycle through a: breadth-first search from a back to a, inside comp
            pred = {a: None}
            frontier, cycle = [a], None
            while frontier and cycle is None:
                nxt = []
                for u in frontier:
                    for w in succ[u]:
                        if w == a:
                            cycle = u
                            break
                        if w in inside and w not in pred:
                            pred[w] = u
                            nxt.append(w)
                    if cycle is not None:
                        break
                frontier = nxt
            if cycle is None:
                continue
            path = [cycle]
            while path[-1] != a:
                path.append(pred[path[-1]])
            if len(path) < comp.size:
                found.append(tuple(sorted(path)))
    return list(dict.fromkeys(found))


def _cluster_mask(p, node, Md, C):
    """Candidates with their node in ``C`` and no parent in ``C``."""
    inC = np.zeros(p, bool)
    inC[list(C)] = True
    return inC[node] & ~Md[inC].any(axis=0)


class ClusterCuts:
    """The separation routine of the cluster constraints (a picklable callable): the cluster
    cuts of the strongly connected components (and shortest cycles) of the arcs the point
    uses, first above weight 0.5, then above 0, keeping those the point violates."""

    def __init__(self, x, node, M):
        self.x, self.node, self.M = x, node, M
        self.p = int(M.shape[0])
        self.Md = M.toarray().astype(bool)
        self.Mf = self.Md.astype(float)

    def __call__(self, values):
        xv = np.asarray(values["x"], dtype=float)
        W = arc_weights(self.p, self.node, self.Mf, xv)
        cuts = []
        for thr in (0.5, 1e-6):
            for C in _cycles(W, thr):
                mask = _cluster_mask(self.p, self.node, self.Md, C)
                if xv[mask].sum() < 1 - 1e-6:
                    cuts.append(mask)
            if cuts:
                break
        uniq = {mk.tobytes(): mk for mk in cuts}
        return [mk.astype(float) @ self.x >= 1 for mk in uniq.values()]


def bayesnet_program(
    parent_sets,
    scores,
    node_names=None,
    lazy: bool = True,
    pair_constraints: bool = True,
    cluster_size: int = 2,
) -> Program:
    """The integer program of the module docstring.

    Parameters
    ----------
    parent_sets : list of list of tuple of int
        ``parent_sets[v]``: the candidate parent sets of node ``v`` (node indices).
    scores : list of list of float
        ``scores[v][i]``: the local score of ``parent_sets[v][i]``.
    node_names : list of str, optional
        Names, for the program's description only.
    lazy : bool, default True
        Cluster constraints as a lazy family; ``False`` writes all :math:`2^p - p - 1` of
        them (tiny ``p`` only, for tests).
    pair_constraints : bool, default True
        Write the clusters of two nodes out (no 2-cycles).
    cluster_size : int, default 2
        Also write out the cluster constraints of the node sets of 3 .. ``cluster_size``
        nodes on which the candidate sets allow a cycle through every node (a tighter
        relaxation from the start; the lazy family finds the rest).

    The program has the variable ``x`` (one entry per candidate, node by node) and keeps
    ``program.bn_index`` = ``(node of each entry, parent set of each entry)``.
    """
    p = len(parent_sets)
    if p < 1 or len(scores) != p:
        raise ValueError("parent_sets and scores must list the same nodes, at least one")
    node = np.array([v for v in range(p) for _ in parent_sets[v]], dtype=int)
    flat = [tuple(int(u) for u in S) for v in range(p) for S in parent_sets[v]]
    s = np.array([float(t) for v in range(p) for t in scores[v]])
    if s.size != node.size:
        raise ValueError("scores must hold one score per candidate parent set")
    if not np.all(np.isfinite(s)):
        raise ValueError("local scores must be finite")
    if any(np.bincount(node, minlength=p) == 0):
        raise ValueError("every node needs at least one candidate parent set")
    m = node.size
    M = _membership(p, node, flat)
    prog = Program("bayesnet")
    x = prog.var("x", shape=m, domain="binary")
    one = sp.csr_matrix((np.ones(m), (node, np.arange(m))), shape=(p, m))
    prog.add(one @ x == 1, name="one_parent_set")
    Md = M.toarray().astype(bool)

    def cluster_mask(C):
        return _cluster_mask(p, node, Md, C)

    if pair_constraints and p >= 2:
        rows = []
        for u in range(p):
            for w in range(u + 1, p):
                # candidates of u holding w, and of w holding u: at most one of them
                a = (node == u) & Md[w]
                b = (node == w) & Md[u]
                if a.any() and b.any():
                    rows.append(a | b)
        if rows:
            P = sp.csr_matrix(np.array(rows, dtype=float))
            prog.add(P @ x <= 1, name="no_2_cycle")
    if cluster_size >= 3 and lazy:
        from itertools import combinations

        from scipy.sparse.csgraph import connected_components

        possible = np.zeros((p, p), bool)  # u -> v when some candidate of v holds u
        for k, S in enumerate(flat):
            possible[list(S), node[k]] = True
        rows = []
        for size in range(3, cluster_size + 1):
            for C in combinations(range(p), size):
                sub = possible[np.ix_(C, C)]
                if (sub.sum(axis=0) == 0).any() or (sub.sum(axis=1) == 0).any():
                    continue
                ncomp, _ = connected_components(sub, directed=True, connection="strong")
                if ncomp == 1:
                    rows.append(cluster_mask(C))
        if rows:
            prog.add(sp.csr_matrix(np.array(rows, dtype=float)) @ x >= 1, name="small_clusters")
    if lazy:
        prog.add_lazy(ClusterCuts(x, node, M), name="cluster")
    else:
        from itertools import combinations

        for size in range(3 if pair_constraints else 2, p + 1):
            for C in combinations(range(p), size):
                prog.add(om_sum(x[np.flatnonzero(cluster_mask(C))]) >= 1, name=f"cluster_{C}")
    prog.maximize(s @ x)
    prog.bn_index = (node, flat)
    prog.bn_scores = s
    prog.bn_names = list(node_names) if node_names is not None else [str(v) for v in range(p)]
    return prog


def decode(program, xv) -> list[tuple[int, ...]]:
    """``parents[v]`` of the point ``xv`` of ``program`` (the largest entry of each node)."""
    node, flat = program.bn_index
    xv = np.asarray(xv, dtype=float)
    p = int(node.max()) + 1
    out = []
    for v in range(p):
        idx = np.flatnonzero(node == v)
        out.append(flat[idx[np.argmax(xv[idx])]])
    return out


def greedy_start(program) -> np.ndarray:
    """A DAG as a point of ``program``: nodes are placed one at a time, each time the node
    that loses least by taking its best candidate set among the nodes already placed (a set
    of placed nodes is acyclic by construction). Returns the 0/1 vector ``x``."""
    node, flat = program.bn_index
    s = program.bn_scores
    p = int(node.max()) + 1
    members = [frozenset(S) for S in flat]
    best_free = np.array([s[node == v].max() for v in range(p)])
    placed: set[int] = set()
    x0 = np.zeros(node.size)
    idx_of = [np.flatnonzero(node == v) for v in range(p)]
    while len(placed) < p:
        pick, pick_k, pick_loss = None, None, np.inf
        for v in range(p):
            if v in placed:
                continue
            ok = [k for k in idx_of[v] if members[k] <= placed]
            if not ok:
                continue
            k = ok[int(np.argmax(s[ok]))]
            loss = best_free[v] - s[k]
            if loss < pick_loss:
                pick, pick_k, pick_loss = v, k, loss
        if pick is None:  # no node can be placed (cannot happen with acyclic required arcs)
            break
        placed.add(pick)
        x0[pick_k] = 1.0
    return x0
