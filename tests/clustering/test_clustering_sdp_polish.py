"""The SDP branch and bound's dual polishing (L-BFGS-B on the smoothed dual, cut set fixed):
its bound is safe (at or below the brute-force optimum), no worse than the ADMM's, and the
deadline holds."""

import functools
import time

import numpy as np
import pytest

from optml.algorithms.sdp_admm import PengWeiADMM, polish_dual, solve_node


def _partitions(n, k):
    def grow(prefix, top):
        i = len(prefix)
        if i == n:
            if top == k - 1:
                yield np.array(prefix)
            return
        if top + 1 + (n - i) < k:
            return
        for c in range(min(top + 2, k)):
            yield from grow(prefix + [c], max(top, c))

    yield from grow([0], 0)


def _cost(X, lab, w):
    tot = 0.0
    for j in np.unique(lab):
        S, ws = X[lab == j], w[lab == j]
        tot += float((ws * ((S - ws @ S / ws.sum()) ** 2).sum(axis=1)).sum())
    return tot


def _brute(X, k, w, cannot=()):
    return min(
        _cost(X, lab, w)
        for lab in _partitions(len(X), k)
        if all(lab[a] != lab[b] for a, b in cannot)
    )


def _node(seed, n=8):
    rng = np.random.default_rng(seed)
    k = 2 + seed % 3
    X = rng.normal(size=(n, 3)) * rng.uniform(0.2, 3.0, 3)
    w = rng.uniform(0.5, 2.0, n) if seed % 2 else np.ones(n)
    cannot = [(0, 1), (2, 5)] if seed >= 3 else []
    M = X - w @ X / w.sum()
    F = np.sqrt(w)[:, None] * M
    offset = float((w * (M * M).sum(axis=1)).sum())
    return X, k, w, cannot, PengWeiADMM(F @ F.T, w, k, cannot), offset, rng


@pytest.mark.parametrize("seed", [1, 3, 4])  # k = 3, 2, 3; weights; cannot-links
@pytest.mark.parametrize("iters", [5, 60])
def test_polished_bound_is_safe_and_no_worse(seed, iters):
    """After a few ADMM steps with cuts (weights, cannot-links), the polished bound lies at or
    below the brute-force optimum and at or above the bound of the ADMM's own multipliers."""
    X, k, w, cannot, adm, offset, rng = _node(seed)
    opt = _brute(X, k, w, cannot)
    solve_node(adm, offset, opt, np.inf, None, rng, max_iter=iters, check_every=5, polish=0)
    before = offset + adm.scale * adm.bound()
    b, evals = polish_dual(adm, max_evals=40)
    after = offset + adm.scale * b
    assert evals > 0
    assert after <= opt + 1e-9 * max(1.0, opt)
    assert after >= before - 1e-9 * max(1.0, abs(before))


@functools.cache
def _separated():
    """Three separated groups of three points (k = 3), its optimum by brute force."""
    rng = np.random.default_rng(7)
    centres = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    X = np.vstack([c + rng.normal(size=(3, 2)) for c in centres])
    return X, _brute(X, 3, np.ones(len(X)))


def test_polish_closes_an_early_stopped_node():
    """The ADMM stopped after 10 steps leaves a gap to the optimum that polishing its
    multipliers (same cuts: none) narrows by at least half, on a separated instance where the
    relaxation is exact."""
    rng = np.random.default_rng(7)
    X, opt = _separated()
    w = np.ones(len(X))
    M = X - X.mean(axis=0)
    adm = PengWeiADMM(M @ M.T, w, 3)
    offset = float((M * M).sum())
    solve_node(adm, offset, opt, np.inf, None, rng, max_iter=10, cut_rounds=0, polish=0)
    before = offset + adm.scale * adm.bound()
    after = offset + adm.scale * polish_dual(adm, max_evals=60)[0]
    assert after <= opt * (1 + 1e-9)
    assert opt - after <= 0.5 * (opt - before)


def test_polish_respects_the_deadline():
    _, _, _, _, adm, offset, rng = _node(1)
    solve_node(adm, offset, np.inf, np.inf, None, rng, max_iter=20, polish=0)
    b, evals = polish_dual(adm, deadline=time.perf_counter() - 1.0)
    assert evals == 0 and b == -np.inf


def test_polishing_prunes_a_node_the_admm_alone_does_not():
    """On a separated instance (exact relaxation) stopped after 10 ADMM steps, solve_node
    without polishing leaves the node open; with it the node is pruned at a safe bound."""
    rng = np.random.default_rng(7)
    X, opt = _separated()
    w = np.ones(len(X))
    M = X - X.mean(axis=0)
    offset = float((M * M).sum())
    prune_at = opt * (1 - 1e-5)
    out = {}
    for polish in (0, 30):
        adm = PengWeiADMM(M @ M.T, w, 3)
        out[polish] = solve_node(
            adm, offset, opt, prune_at, None, rng, max_iter=10, cut_rounds=0, polish=polish
        )
    assert out[0][0] < prune_at and out[0][1]["status"] != "pruned"
    assert out[30][1]["polish"] > 0
    assert prune_at <= out[30][0] <= opt * (1 + 1e-9)


def test_applied_multipliers_carry_the_polished_bound():
    """apply=True hands the polished multipliers to the ADMM: its own bound is then the
    polished one, and the iteration goes on from them with safe bounds."""
    X, k, w, cannot, adm, offset, rng = _node(3)
    opt = _brute(X, k, w, cannot)
    solve_node(adm, offset, opt, np.inf, None, rng, max_iter=10, check_every=5, polish=0)
    b, _ = polish_dual(adm, max_evals=20, apply=True)
    assert adm.bound() == pytest.approx(b, abs=1e-9)
    lb, _ = solve_node(adm, offset, opt, np.inf, None, rng, max_iter=20, polish=0)
    assert lb <= opt + 1e-9 * opt
