"""The X step of the Peng-Wei ADMM: the exact capped-simplex threshold and the projection onto
Omega by a single-precision partial eigensolve, against references computed independently."""

import numpy as np
import pytest

from optml.algorithms.sdp_admm import capped_simplex, project_omega


def capped_simplex_bisection(lam, total):
    """Reference: bisection on the threshold (the monotone f(t) = sum clip(lam - t, 0, 1))."""
    lo, hi = float(lam.min()) - 1.0, float(lam.max())
    for _ in range(100):
        t = 0.5 * (lo + hi)
        if np.clip(lam - t, 0.0, 1.0).sum() > total:
            lo = t
        else:
            hi = t
    return np.clip(lam - 0.5 * (lo + hi), 0.0, 1.0)


@pytest.mark.parametrize("seed", range(3))
def test_capped_simplex_matches_bisection(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        n = int(rng.integers(1, 40))
        lam = rng.normal(size=n) * rng.choice([1e-3, 1.0, 30.0])
        if rng.random() < 0.3:  # ties and breakpoints that coincide
            lam = np.round(lam, 1)
        total = float(rng.integers(0, n + 1)) if rng.random() < 0.5 else rng.uniform(0, n)
        mu, t = capped_simplex(lam, total, threshold=True)
        assert mu.sum() == pytest.approx(total, abs=1e-9 * max(1, n))
        assert mu.min() >= 0.0 and mu.max() <= 1.0
        assert np.allclose(mu, np.clip(lam - t, 0.0, 1.0))
        assert np.abs(mu - capped_simplex_bisection(lam, total)).max() < 1e-9


def projection_reference(A, u, k):
    """Reference: the projection onto Omega from the full double-precision spectrum of A on
    u^perp (an orthonormal basis of u^perp, no shift)."""
    m = A.shape[0]
    Qb = np.linalg.qr(np.column_stack([u, np.eye(m)[:, : m - 1]]))[0][:, 1:]
    lam, W = np.linalg.eigh(Qb.T @ A @ Qb)
    mu = capped_simplex_bisection(lam, k - 1)
    V = Qb @ W
    return np.outer(u, u) + (V * mu) @ V.T


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("single", [False, True])
def test_partial_projection_equals_full_projection(seed, single):
    """The partial eigensolve (top p eigenpairs, p doubled until the threshold is passed; taken
    here at m = 160 by ``full_below=0``) on random symmetric matrices with a low-rank part (as
    the ADMM's iterates near the optimum) and without one (many eigenvalues kept, p doubles)."""
    rng = np.random.default_rng(seed)
    m, k = 160, 3 + seed
    s = rng.uniform(0.5, 2.0, m)
    u = np.sqrt(s) / np.linalg.norm(np.sqrt(s))
    for low_rank in (True, False):
        B = rng.normal(size=(m, m)) / np.sqrt(m)
        A = 0.05 * (B + B.T)
        if low_rank:
            F = rng.normal(size=(m, k))
            A += F @ F.T / m
        else:
            A *= 20.0
        X, vecs, mu = project_omega(A, u, k, single=single, full_below=0)
        ref = projection_reference(A, u, k)
        tol = 1e-5 if single else 1e-9
        assert np.linalg.norm(X - ref) <= tol * np.linalg.norm(ref)
        assert np.allclose(X @ u, u, atol=10 * tol)
        assert np.trace(X) == pytest.approx(k, abs=10 * tol)
        assert vecs.shape[1] == mu.size


@pytest.mark.parametrize("seed", range(3))
def test_warm_started_projection_equals_full_projection(seed):
    """The warm-started X step (block-Krylov Ritz pairs from the eigenvectors of a nearby
    matrix) against the reference projection; a useless basis falls back to the exact
    partial eigensolve."""
    rng = np.random.default_rng(seed)
    m, k = 160, 3 + seed
    s = rng.uniform(0.5, 2.0, m)
    u = np.sqrt(s) / np.linalg.norm(np.sqrt(s))
    B = rng.normal(size=(m, m)) / np.sqrt(m)
    F = rng.normal(size=(m, k))
    A0 = 0.05 * (B + B.T) + F @ F.T / m
    E = rng.normal(size=(m, m)) * 1e-4
    A1 = A0 + E + E.T  # the next step's matrix, close to A0
    *_, basis, exact = project_omega(A0, u, k, full_below=0, return_basis=True)
    assert exact
    X, vecs, mu, _, exact = project_omega(A1, u, k, full_below=0, basis=basis, return_basis=True)
    ref = projection_reference(A1, u, k)
    assert not exact  # taken from the Ritz pairs
    assert np.linalg.norm(X - ref) <= 1e-5 * np.linalg.norm(ref)
    assert vecs.shape[1] == mu.size
    # a basis far from the eigenvectors (2 random directions): the exact solve answers
    junk = np.linalg.qr(rng.normal(size=(m, 2)))[0]
    X, *_, exact = project_omega(A1, u, k, full_below=0, basis=junk, return_basis=True)
    assert exact
    assert np.linalg.norm(X - ref) <= 1e-9 * np.linalg.norm(ref)


def test_costly_bound_is_not_started_past_the_deadline():
    """A node's bound (a full eigensolve: seconds at m in the thousands) is not started when
    it would end past the deadline; the node returns the bound it has, on time."""
    import time

    from optml.algorithms.sdp_admm import PengWeiADMM, solve_node

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    X -= X.mean(axis=0)
    adm = PengWeiADMM(X @ X.T, np.ones(30), 3)
    real = adm.bound

    def slow_bound():
        time.sleep(0.4)
        return real()

    adm.bound = slow_bound
    t0 = time.perf_counter()
    best, info = solve_node(
        adm, 0.0, np.inf, np.inf, t0 + 1.0, rng, max_iter=10**6, cut_rounds=0, polish=0
    )
    elapsed = time.perf_counter() - t0
    assert info["status"] == "time"
    assert np.isfinite(best)  # the first bound was computed
    assert elapsed <= 1.0 + 0.15
