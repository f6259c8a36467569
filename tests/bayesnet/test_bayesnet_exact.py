"""Structure learning against brute force over every DAG, and the local scores against their
formulas (and pgmpy's, where installed)."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from scipy.special import gammaln

from optml.bayesnet import BayesianNetworkStructure, candidate_parent_sets, local_score
from optml.bayesnet import scores as sc
from optml.formulations.bayesnet import bayesnet_program, decode


def _random_data(n, p, seed, card=None):
    """Correlated discrete data: a random chain-ish network with noisy copies."""
    rng = np.random.default_rng(seed)
    card = card or [int(rng.integers(2, 4)) for _ in range(p)]
    X = np.zeros((n, p), dtype=int)
    for j in range(p):
        X[:, j] = rng.integers(0, card[j], size=n)
        if j:
            src = rng.integers(0, j, size=min(j, 2))
            mix = sum(X[:, s] for s in src) % card[j]
            keep = rng.random(n) < 0.7
            X[keep, j] = mix[keep]
    return X, np.array(card)


@functools.cache
def _all_dags(p):
    """Every DAG on p nodes as a (k, p, p) bool array, by brute force: each DAG is the set of
    forward arcs of some node order, so the union over all p! orders of all subsets of their
    forward arcs, de-duplicated, is the set of DAGs (the counts 25, 543, 29281 are checked)."""
    pairs = [(a, b) for a in range(p) for b in range(a + 1, p)]
    k = len(pairs)
    bits = ((np.arange(2**k)[:, None] >> np.arange(k)) & 1).astype(np.int64)
    codes = []
    for perm in itertools.permutations(range(p)):
        # arc perm[a] -> perm[b] for a < b, as bit (perm[a] * p + perm[b]) of the code
        weights = np.array([1 << (perm[a] * p + perm[b]) for a, b in pairs], dtype=np.int64)
        codes.append(bits @ weights)
    codes = np.unique(np.concatenate(codes))
    flat = (codes[:, None] >> np.arange(p * p)) & 1
    return flat.reshape(-1, p, p).astype(bool)


def _brute_force(X, card, score, ess, max_parents=None, required=(), forbidden=()):
    n, p = X.shape
    dags = _all_dags(p)
    ok = np.ones(len(dags), bool)
    for u, v in required:
        ok &= dags[:, u, v]
    for u, v in forbidden:
        ok &= ~dags[:, u, v]
    if max_parents is not None:
        ok &= (dags.sum(axis=1) <= max_parents).all(axis=1)
    dags = dags[ok]
    # local score of every (node, parent mask)
    table = np.zeros((p, 2**p))
    for v in range(p):
        for mask in range(2**p):
            if mask >> v & 1:
                continue
            S = [u for u in range(p) if mask >> u & 1]
            table[v, mask] = sc.local_score(X, card, v, S, score, ess)
    weights = 1 << np.arange(p)
    masks = (dags * weights[None, :, None]).sum(axis=1)  # parent mask of each node
    totals = table[np.arange(p)[None, :], masks].sum(axis=1)
    return totals.max(), len(dags)


@pytest.mark.parametrize("score", ["bic", "bdeu"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("p", [3, 4])
def test_certified_score_equals_brute_force(score, seed, p):
    X, card = _random_data(int(60 + 40 * seed), p, seed)
    best, count = _brute_force(X, card, score, 2.0)
    assert count == {3: 25, 4: 543}[p]  # the numbers of labelled DAGs
    bn = BayesianNetworkStructure(scoring=score, max_parents=None, equivalent_sample_size=2.0)
    bn.fit(X)
    res = bn.result_
    assert res.status == "optimal" and res.verified
    assert res.objective == pytest.approx(best, rel=1e-9, abs=1e-7)
    assert res.bound >= best - 1e-6 * max(1.0, abs(best))
    # the learnt DAG has the certified score, computed from scratch
    again = sc.network_score(X, card, bn.parent_indices_, score, 2.0)
    assert again == pytest.approx(best, rel=1e-9, abs=1e-7)
    assert bn.score_ == pytest.approx(best, rel=1e-9, abs=1e-7)


@pytest.mark.parametrize("score", ["bic", "bdeu"])
def test_five_variables_against_brute_force(score):
    X, card = _random_data(150, 5, seed=7, card=[2, 3, 2, 2, 3])
    best, count = _brute_force(X, card, score, 1.0)
    assert count == 29281
    bn = BayesianNetworkStructure(scoring=score, max_parents=None).fit(X)
    assert bn.result_.status == "optimal" and bn.result_.verified
    assert bn.score_ == pytest.approx(best, rel=1e-9, abs=1e-7)


@pytest.mark.parametrize("solver", ["highs", "scip"])
def test_required_and_forbidden_edges_against_brute_force(solver):
    if solver == "scip":
        pytest.importorskip("pyscipopt")
    X, card = _random_data(120, 4, seed=3)
    free_best, _ = _brute_force(X, card, "bic", 1.0)
    bn0 = BayesianNetworkStructure(max_parents=None).fit(X)
    # require an arc absent from the free optimum, forbid one present in it
    absent = [(u, v) for u in range(4) for v in range(4) if u != v and not bn0.adjacency_[u, v]]
    present = [(u, v) for u in range(4) for v in range(4) if bn0.adjacency_[u, v]]
    assert present and absent
    req, forb = [absent[0]], [present[0]]
    best, _ = _brute_force(X, card, "bic", 1.0, required=req, forbidden=forb)
    assert best < free_best
    kw = {"backend": "pyomo", "solver": "scip"} if solver == "scip" else {"solver": "highs"}
    bn = BayesianNetworkStructure(
        max_parents=None, required_edges=req, forbidden_edges=forb, **kw
    ).fit(X)
    assert bn.result_.status == "optimal" and bn.result_.verified
    assert bn.score_ == pytest.approx(best, rel=1e-9, abs=1e-7)
    assert bn.adjacency_[req[0]] == 1 and bn.adjacency_[forb[0]] == 0


def test_order_and_max_parents_against_brute_force():
    X, card = _random_data(200, 4, seed=5)
    order = [2, 0, 3, 1]
    pos = {v: i for i, v in enumerate(order)}
    forb = [(u, v) for u in range(4) for v in range(4) if u != v and pos[u] > pos[v]]
    best, _ = _brute_force(X, card, "bdeu", 1.0, max_parents=1, forbidden=forb)
    bn = BayesianNetworkStructure(scoring="bdeu", max_parents=1, order=order).fit(X)
    assert bn.score_ == pytest.approx(best, rel=1e-9, abs=1e-7)
    assert all(pos[u] < pos[v] for u, v in zip(*np.nonzero(bn.adjacency_), strict=True))
    assert bn.adjacency_.sum(axis=0).max() <= 1


def test_pruning_keeps_the_optimum_and_drops_sets():
    X, card = _random_data(300, 5, seed=11)
    for score in ("bic", "bdeu"):
        full = candidate_parent_sets(X, card, score, 1.0, max_parents=None, prune=False)
        pruned = candidate_parent_sets(X, card, score, 1.0, max_parents=None)
        assert pruned.n_candidates < full.n_candidates
        # every dropped set has a kept subset scoring at least as well
        for v in range(5):
            kept = dict(zip(pruned.parents[v], pruned.scores[v], strict=True))
            for S, s in zip(full.parents[v], full.scores[v], strict=True):
                if S in kept:
                    assert kept[S] == pytest.approx(s)
                    continue
                assert any(set(T) <= set(S) and t >= s - 1e-9 for T, t in kept.items()), (v, S)
        # the same optimum with and without pruning (full cluster constraints, no lazy family)
        objs = []
        for cand in (full, pruned):
            prog = bayesnet_program(cand.parents, cand.scores, lazy=False)
            res = prog.solve(solver="highs")
            assert res.status == "optimal"
            objs.append(res.objective)
            assert len(decode(prog, res.values["x"])) == 5
        assert objs[0] == pytest.approx(objs[1], rel=1e-9)


def test_cluster_cuts_reject_every_cycle():
    # every parent choice with a directed cycle is cut by the lazy family; a DAG never is
    X, card = _random_data(80, 3, seed=2)
    cand = candidate_parent_sets(X, card, "bic", 1.0, max_parents=None, prune=False)
    prog = bayesnet_program(cand.parents, cand.scores)
    node, flat = prog.bn_index
    fam = prog.lazy[0]
    dags = {tuple(map(tuple, d.astype(int))) for d in _all_dags(3)}
    choices = [np.flatnonzero(node == v) for v in range(3)]
    n_cyclic = 0
    for pick in itertools.product(*choices):
        xv = np.zeros(node.size)
        xv[list(pick)] = 1
        A = np.zeros((3, 3), int)
        for k in pick:
            A[list(flat[k]), node[k]] = 1
        cuts = fam.separate(prog, {"x": xv})
        if tuple(map(tuple, A)) in dags:
            assert cuts == []
        else:
            n_cyclic += 1
            assert cuts and max(c.violation({"x": xv}) for c in cuts) >= 1 - 1e-9
    assert n_cyclic == 4**3 - 25


# ----------------------------------------------------------------------------- local scores


def _bic_direct(X, card, v, S):
    n = X.shape[0]
    q = int(np.prod([card[u] for u in S])) if S else 1
    ll = 0.0
    for cfg in itertools.product(*[range(card[u]) for u in S]):
        rows = np.all(X[:, S] == np.array(cfg, dtype=int), axis=1) if S else np.ones(n, bool)
        Nj = rows.sum()
        for k in range(card[v]):
            Njk = np.sum(rows & (X[:, v] == k))
            if Njk:
                ll += Njk * np.log(Njk / Nj)
    return ll - 0.5 * np.log(n) * q * (card[v] - 1)


def _bdeu_direct(X, card, v, S, ess):
    q = int(np.prod([card[u] for u in S])) if S else 1
    r = card[v]
    total = 0.0
    for cfg in itertools.product(*[range(card[u]) for u in S]):
        rows = (
            np.all(X[:, S] == np.array(cfg, dtype=int), axis=1) if S else np.ones(X.shape[0], bool)
        )
        Nj = rows.sum()
        total += gammaln(ess / q) - gammaln(ess / q + Nj)
        for k in range(r):
            Njk = np.sum(rows & (X[:, v] == k))
            total += gammaln(ess / (q * r) + Njk) - gammaln(ess / (q * r))
    return total


def test_local_scores_against_the_formulas():
    X, card = _random_data(97, 5, seed=4, card=[2, 3, 4, 2, 3])
    for v in range(5):
        others = [u for u in range(5) if u != v]
        for k in range(4):
            for S in itertools.combinations(others, k):
                S = list(S)
                assert local_score(X, card, v, S, "bic") == pytest.approx(
                    _bic_direct(X, card, v, S), rel=1e-10
                )
                assert local_score(X, card, v, S, "bdeu", 3.5) == pytest.approx(
                    _bdeu_direct(X, card, v, S, 3.5), rel=1e-10
                )


def _bdeu_observed(X, card, v, S, ess):
    """BDeu summed over the observed parent configurations only (the others add 0)."""
    from collections import Counter

    q = float(np.prod([card[u] for u in S]))
    r = card[v]
    by_cfg = Counter(tuple(row) for row in X[:, S])
    total = 0.0
    for cfg, Nj in by_cfg.items():
        rows = np.all(X[:, S] == np.array(cfg), axis=1)
        total += gammaln(ess / q) - gammaln(ess / q + Nj)
        for k in range(r):
            total += gammaln(ess / (q * r) + np.sum(rows & (X[:, v] == k))) - gammaln(ess / (q * r))
    return total


def test_sparse_counting_path_matches_dense():
    # many states: the counts go through np.unique (observed configurations only)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 40, size=(60, 4))
    card = np.array([40, 40, 40, 40])
    S = [0, 1, 2]
    N = sc.counts(X, card, 3, S)
    assert N.sum() == 60 and N.shape[1] == 40
    assert local_score(X, card, 3, S, "bdeu", 1.0) == pytest.approx(
        _bdeu_observed(X, card, 3, S, 1.0), rel=1e-10
    )
    small = X[:, :3] % 3, np.array([3, 3, 3])  # and the observed-only sum is the full one
    assert _bdeu_observed(*small, 2, [0, 1], 1.0) == pytest.approx(
        _bdeu_direct(*small, 2, [0, 1], 1.0), rel=1e-10
    )


def test_superset_bounds_hold():
    X, card = _random_data(200, 5, seed=9)
    for score in ("bic", "bdeu"):
        full = candidate_parent_sets(X, card, score, 1.0, max_parents=None, prune=False)
        for v in range(5):
            sets = dict(zip(full.parents[v], full.scores[v], strict=True))
            for S in sets:
                rest = [u for u in range(5) if u != v and u not in S]
                if not rest:
                    continue
                N = sc.counts(X, card, v, S)
                q = sc.n_configurations(card, S)
                bound = sc.superset_bound(N, 200, int(card[v]), q, score, float(min(card[rest])))
                for T, t in sets.items():
                    if set(S) < set(T):
                        assert t <= bound + 1e-9, (score, v, S, T)


def test_local_scores_against_pgmpy():
    pd = pytest.importorskip("pandas")
    est = pytest.importorskip("pgmpy.estimators")
    X, card = _random_data(150, 4, seed=6, card=[2, 3, 2, 3])
    df = pd.DataFrame(X, columns=list("abcd"))
    bic = est.BIC(df)
    bdeu = est.BDeu(df, equivalent_sample_size=5)
    for v in range(4):
        for S in ([], [(v + 1) % 4], [(v + 1) % 4, (v + 2) % 4]):
            names = [df.columns[u] for u in S]
            assert local_score(X, card, v, S, "bic") == pytest.approx(
                bic.local_score(df.columns[v], names), rel=1e-9
            )
            assert local_score(X, card, v, S, "bdeu", 5.0) == pytest.approx(
                bdeu.local_score(df.columns[v], names), rel=1e-9
            )


def test_small_clusters_written_out_give_the_same_optimum():
    X, card = _random_data(150, 5, seed=13)
    best, _ = _brute_force(X, card, "bic", 1.0)
    cand = candidate_parent_sets(X, card, "bic", 1.0, max_parents=None)
    prog = bayesnet_program(cand.parents, cand.scores, cluster_size=4)
    assert "small_clusters" in prog.summary()
    res = prog.solve(solver="highs")
    assert res.status == "optimal" and res.objective == pytest.approx(best, rel=1e-9)
