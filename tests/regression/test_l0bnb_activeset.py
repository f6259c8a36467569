"""The exact active-set solve of the penalised node relaxation on a working set, against
the same convex problem written in cvxpy (Clarabel): well- and ill-conditioned Gram blocks,
fixed-in coordinates, boxes on either side, the linear (M <= tau) and reverse-Huber pieces."""

import math

import cvxpy as cp
import numpy as np
import pytest

from optml.algorithms.best_subset_activeset import active_set_solve
from optml.algorithms.best_subset_l0 import psi


def _objective(A, c, u, lo, hi, fixed, a, lam):
    pen = np.where(fixed, a * u * u, psi(u, a, lam, lo, hi))
    return float(u @ A @ u - 2 * c @ u + pen.sum())


def _reference(A, c, lo, hi, fixed, a, lam):
    """The same problem by cvxpy: psi(u) = max over its pieces is not convex-representable
    directly, so each side is written as the perspective min_{s in [0,1]} a u^2/s + lam s with
    |u| <= M s (its definition)."""
    m = len(c)
    u = cp.Variable(m)
    s = cp.Variable(m)
    L = np.linalg.cholesky(A + 1e-12 * np.eye(m))
    obj = cp.sum_squares(L.T @ u) - 2 * c @ u
    cons = [u >= lo, u <= hi]
    free = np.flatnonzero(~fixed)
    fx = np.flatnonzero(fixed)
    if fx.size:
        obj += a * cp.sum_squares(u[fx])
    if free.size:
        cons += [s[free] >= 0, s[free] <= 1]
        obj += lam * cp.sum(s[free])
        if a > 0:
            obj += sum(a * cp.quad_over_lin(u[j], s[j]) for j in free)
        for j in free:
            if np.isfinite(hi[j]):
                cons.append(u[j] <= hi[j] * s[j])
            if np.isfinite(lo[j]):
                cons.append(u[j] >= lo[j] * s[j])
    cp.Problem(cp.Minimize(obj), cons).solve(solver="CLARABEL")
    return _objective(A, c, np.asarray(u.value).ravel(), lo, hi, fixed, a, lam)


def _instance(rng, m, n, collinear, a, box):
    X = rng.normal(size=(n, m))
    if collinear:  # columns that are nearly linear combinations of the others
        X[:, m // 2 :] = X[:, : m - m // 2] @ rng.normal(size=(m - m // 2, m // 2)) + 1e-3 * (
            rng.normal(size=(n, m // 2))
        )
    A = X.T @ X / n
    c = A @ (rng.normal(size=m) * (rng.random(m) < 0.4)) + 0.1 * rng.normal(size=m)
    M = np.full(m, np.inf) if not box else rng.uniform(0.2, 2.0, m)
    lo, hi = -M, M.copy()
    if box:
        hi[0] = 0.0  # one feature may only be nonpositive
    fixed = np.zeros(m, bool)
    fixed[1] = True
    return A, c, lo, hi, fixed


@pytest.mark.parametrize("collinear", [False, True])
@pytest.mark.parametrize(
    ("a", "lam", "box"), [(0.05, 0.02, False), (0.0, 0.05, True), (0.02, 0.05, True)]
)
def test_active_set_matches_convex_solver(collinear, a, lam, box):
    rng = np.random.default_rng(int(collinear) * 7 + int(box) + int(100 * lam))
    for _ in range(3):
        m = 8
        A, c, lo, hi, fixed = _instance(rng, m, 40, collinear, a, box)
        u0 = np.zeros(m)
        x = active_set_solve(A, c, u0, lo, hi, fixed, a, lam)
        assert x is not None
        assert np.all(x >= lo - 1e-12) and np.all(x <= hi + 1e-12)
        ours = _objective(A, c, x, lo, hi, fixed, a, lam)
        ref = _reference(A, c, lo, hi, fixed, a, lam)
        assert ours <= ref + 1e-6 * max(1.0, abs(ref))
        # and not below the true minimum either: the reference is accurate to ~1e-7
        assert ours >= ref - 1e-5 * max(1.0, abs(ref))


def test_active_set_from_a_warm_start_and_tau_crossing():
    """A start on the wrong side of tau and with wrong signs still ends at the minimiser."""
    rng = np.random.default_rng(5)
    m = 6
    A, c, lo, hi, fixed = _instance(rng, m, 30, False, 0.5, False)
    a, lam = 0.5, 0.5
    tau = math.sqrt(lam / a)
    u0 = np.array([3 * tau, -tau, 0.5 * tau, -2 * tau, 0.0, tau])
    x = active_set_solve(A, c, u0, lo, hi, fixed, a, lam)
    ref = _reference(A, c, lo, hi, fixed, a, lam)
    assert _objective(A, c, x, lo, hi, fixed, a, lam) == pytest.approx(ref, rel=1e-6, abs=1e-8)
