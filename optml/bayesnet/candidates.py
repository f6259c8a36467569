r"""Candidate parent sets with the pruning of de Campos and Ji (2011).

For each node :math:`v` the parent sets are enumerated level by level (by size), within the
*allowed* parents (every other node, minus forbidden arcs into :math:`v`, minus the nodes
after :math:`v` in a given order), each set holding the *required* parents of :math:`v`:

* **subset pruning** -- a set :math:`S` is dropped when a proper subset :math:`T \subset S`
  (holding the required parents) scores at least as well: any DAG using :math:`S` for
  :math:`v` stays a DAG (with the required arcs) when :math:`S` is replaced by :math:`T`, and
  scores no less;
* **bounds to stop enlarging** -- a set :math:`S` is *closed* when an upper bound on the
  score of every proper superset of :math:`S` (:func:`~optml.bayesnet.scores.superset_bound`)
  is at most the best score among :math:`S` and its subsets: then every superset is
  dropped by subset pruning without being scored, and a set is only generated when all its
  immediate subsets are open;
* ``max_parents`` caps the size.

Every optimal DAG of the restricted family uses, for each node, either a kept set or a set
some kept set scores as well as; so the optimum over the kept sets is the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optml.bayesnet import scores as sc


@dataclass
class CandidateSets:
    """Kept parent sets and their scores, node by node (``parents[v][i]``, ``scores[v][i]``)."""

    parents: list[list[tuple[int, ...]]]
    scores: list[list[float]]
    stats: dict = field(default_factory=dict)

    @property
    def n_candidates(self) -> int:
        return sum(len(ps) for ps in self.parents)


def allowed_parents(p: int, required, forbidden, order) -> list[list[int]]:
    """The allowed parents of each node (index lists)."""
    forb = {(int(u), int(v)) for u, v in forbidden}
    pos = None if order is None else {int(v): i for i, v in enumerate(order)}
    out = []
    for v in range(p):
        allowed = [
            u
            for u in range(p)
            if u != v and (u, v) not in forb and (pos is None or pos[u] < pos[v])
        ]
        out.append(allowed)
    return out


def candidate_parent_sets(
    data: np.ndarray,
    card: np.ndarray,
    score: str = "bic",
    ess: float = 1.0,
    max_parents: int | None = 3,
    required=(),
    forbidden=(),
    order=None,
    prune: bool = True,
    deadline: float | None = None,
) -> CandidateSets:
    """The kept parent sets of every node (see the module docstring).

    ``required``/``forbidden``: arcs ``(u, v)`` (``u`` a parent of ``v``) as index pairs;
    ``order``: a permutation of the nodes (parents come earlier). ``prune=False`` keeps every
    set up to ``max_parents`` (for tests). ``deadline`` (a ``time.perf_counter()`` instant):
    the enumeration stops enlarging sets after 30 % of the time left (all nodes advance one
    size at a time, so they stop evenly deep), leaving the rest to the integer program; ``stats["complete"]`` is then False and the program is over the
    sets scored so far (a restriction: its certificate is for those sets).
    """
    import logging
    import time

    n, p = data.shape
    columns = np.ascontiguousarray(data.T)
    stop_at = None
    if deadline is not None:
        now = time.perf_counter()
        stop_at = now + 0.3 * max(0.0, deadline - now)
    allowed = allowed_parents(p, required, forbidden, order)
    req = [sorted({int(u) for u, w in required if int(w) == v}) for v in range(p)]
    cap = p - 1 if max_parents is None else int(max_parents)
    out_parents: list[list] = [[] for _ in range(p)]
    out_scores: list[list] = [[] for _ in range(p)]
    counter = {"scored": 0, "truncated": False}

    def expired():
        if stop_at is not None and time.perf_counter() > stop_at:
            counter["truncated"] = True
        return counter["truncated"]

    def levels(v):
        """Enumerate the sets of node v, yielding after each size (a generator, so that all
        nodes advance one size at a time and a time limit leaves them evenly deep)."""
        r = int(card[v])
        base = tuple(req[v])
        free = [u for u in allowed[v] if u not in base]
        kept_p, kept_s = out_parents[v], out_scores[v]

        def evaluate(S):
            N = sc.counts(data, card, v, S, columns)
            q = sc.n_configurations(card, S)
            if score == "bic":
                s = sc.bic_from_counts(N, n, r, q)
            else:
                s = sc.bdeu_from_counts(N, r, q, ess)
            counter["scored"] += 1
            return s, N, q

        s0, N0, q0 = evaluate(base)
        kept_p.append(base)
        kept_s.append(s0)
        best_incl = {base: s0}  # best score among S and its subsets
        open_level = {}
        if len(base) < cap and free:
            cmin = float(min(card[free]))
            if not prune or sc.superset_bound(N0, n, r, q0, score, cmin) > s0:
                open_level[base] = s0
        size = len(base)
        while open_level and size < cap:
            yield
            nxt = {}
            for S in open_level:
                if expired():
                    return
                extra = [u for u in S if u not in base]
                top = max(extra) if extra else -1
                for x in free:
                    if x <= top:
                        continue
                    T = tuple(sorted(S + (x,)))
                    subs = [tuple(w for w in T if w != y) for y in T if y not in base]
                    if prune and any(s not in open_level for s in subs):
                        continue  # a subset is closed: T and its supersets are dominated
                    best_sub = max(best_incl[s] for s in subs if s in best_incl)
                    sT, NT, qT = evaluate(T)
                    if not prune or sT > best_sub:
                        kept_p.append(T)
                        kept_s.append(sT)
                    bi = max(sT, best_sub)
                    best_incl[T] = bi
                    rest = [u for u in free if u not in T]
                    if len(T) < cap and rest:
                        bound = sc.superset_bound(NT, n, r, qT, score, float(min(card[rest])))
                        if not prune or bound > bi:
                            nxt[T] = bi
            open_level = nxt
            size += 1

    for v in range(p):
        if len(req[v]) > cap:
            raise ValueError(
                f"node {v} has {len(req[v])} required parents but max_parents={max_parents}; "
                "raise max_parents or require fewer arcs into it"
            )
    active = [levels(v) for v in range(p)]
    while active:  # every node one size further, round after round
        still = []
        for gen in active:
            try:
                next(gen)
                still.append(gen)
            except StopIteration:
                pass
        active = [] if expired() else still
    n_scored = counter["scored"]
    truncated = counter["truncated"]
    res = CandidateSets(out_parents, out_scores)
    res.stats = {"scored": n_scored, "kept": res.n_candidates, "complete": not truncated}
    if truncated:
        logging.getLogger("optml").warning(
            "bayesnet: the time limit stopped the enumeration of parent sets; the program is "
            "over the %d sets scored so far (its certificate is for those sets)",
            res.n_candidates,
        )
    return res
