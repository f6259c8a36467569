r"""PCA written as an SDP, and sparse PCA: SDP relaxation and exact branch and bound."""

from __future__ import annotations

import heapq
import numbers
import time

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator
from optml.formulations.decomposition import pca_sdp, sparse_pca_sdp
from optml.program.result import Result, relative_gap


def _cov(X):
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / max(X.shape[0] - 1, 1)


def _lmax(S, idx):
    idx = np.asarray(idx)
    w, V = np.linalg.eigh(S[np.ix_(idx, idx)])
    return float(w[-1]), V[:, -1]


class _Common(TransformerMixin, ProgramEstimator):
    def transform(self, X):
        check_is_fitted(self, "components_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return (X - self.mean_) @ self.components_.T


class PCA(_Common):
    r"""Principal components from the Fantope SDP (for teaching; agrees with the eigh).

    .. math:: \max_Z \langle S, Z\rangle \ \text{s.t.}\ \operatorname{tr}Z = r,\ 0 \preceq Z
              \preceq I .

    Attributes: ``components_``, ``explained_variance_``, ``mean_``, ``program_``, ``result_``.
    """

    def __init__(self, n_components=2, backend="auto", solver=None, time_limit=None,
                 mip_gap=None, verbose=False, solver_options=None):  # fmt: skip
        self.n_components = n_components
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def build_program(self, X, y=None):
        return pca_sdp(_cov(np.asarray(X, dtype=float)), self.n_components)

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        r = self.n_components
        if not isinstance(r, numbers.Integral) or not 1 <= r <= X.shape[1]:
            raise ValueError(f"n_components must be an integer in [1, {X.shape[1]}], got {r!r}")
        self.mean_ = X.mean(axis=0)
        res = self._solve(pca_sdp(_cov(X), r))
        Z = res.values["Z"]
        w, V = np.linalg.eigh((Z + Z.T) / 2)
        comps = V[:, ::-1][:, :r].T
        S = _cov(X)
        self.components_ = comps * np.sign(comps[np.arange(r), np.abs(comps).argmax(1)])[:, None]
        self.explained_variance_ = np.einsum("ij,jk,ik->i", self.components_, S, self.components_)
        return self


class SparsePCA(_Common):
    r"""The leading sparse principal component: max :math:`v^\top S v`, :math:`\lVert v\rVert=1`,
    at most ``n_nonzero`` non-zeros, with a certificate.

    ``method="exact"``: branch and bound over supports (Berk & Bertsimas, 2019): a node fixes
    some variables in and some out; its bound is :math:`\lambda_{\max}` of the covariance on the
    variables not fixed out; leaves give feasible supports. ``method="sdp"``: the
    d'Aspremont et al. (2007) relaxation gives the upper bound, the leading eigenvector of its
    solution (truncated) a feasible support.

    Attributes: ``components_`` (1 x p), ``support_``, ``explained_variance_``,
    ``result_`` (objective = variance, bound = certified upper bound, gap).
    """

    def __init__(self, n_nonzero=2, method="exact", backend="auto", solver=None,
                 time_limit=None, mip_gap=None, verbose=False, solver_options=None):  # fmt: skip
        self.n_nonzero = n_nonzero
        self.method = method
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    def build_program(self, X, y=None):
        return sparse_pca_sdp(_cov(np.asarray(X, dtype=float)), self.n_nonzero)

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        p = X.shape[1]
        k = self.n_nonzero
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or not 1 <= k <= p:
            raise ValueError(f"n_nonzero must be an integer in [1, n_features={p}], got {k!r}")
        if self.method not in ("exact", "sdp"):
            raise ValueError(f"method must be 'exact' or 'sdp', got {self.method!r}")
        self._check_common_params()
        self.mean_ = X.mean(axis=0)
        S = _cov(X)
        t0 = time.perf_counter()
        if self.method == "sdp":
            res = self._solve(sparse_pca_sdp(S, k))
            Z = res.values["Z"]
            _, V = np.linalg.eigh((Z + Z.T) / 2)
            supp = np.sort(np.argsort(-np.abs(V[:, -1]))[:k])
            val, _ = _lmax(S, supp)
            ub = min(res.bound if np.isfinite(res.bound) else res.objective, _greedy_ub(S))
            status = "optimal" if relative_gap(val, ub) <= 1e-4 else "time_limit"
            nodes = 0
        else:
            supp, val, ub, nodes = _branch_and_bound(S, k, self.time_limit)
            status = "optimal" if relative_gap(val, ub) <= 1e-6 else "time_limit"
            self.program_ = sparse_pca_sdp(S, k)
        lam, v = _lmax(S, supp)
        comp = np.zeros(p)
        comp[supp] = v * np.sign(v[np.abs(v).argmax()])
        self.components_ = comp[None]
        self.support_ = np.asarray(supp)
        self.explained_variance_ = np.array([lam])
        self.result_ = Result(
            status=status, objective=lam, bound=ub, gap=relative_gap(lam, ub),
            values={"v": comp}, solver=self.method, backend="optml" if self.method == "exact"
            else self.result_.backend, solve_time=time.perf_counter() - t0,
            problem_class="MIQCP" if self.method == "exact" else "SDP", objective_check=lam,
            max_violation=0.0, verified=status == "optimal", message=f"{nodes} nodes",
        )  # fmt: skip
        return self


def _greedy_ub(S):
    return float(np.linalg.eigvalsh(S)[-1])


def _branch_and_bound(S, k, time_limit=None):
    """Best k-support: nodes (in, out); bound lambda_max on the complement of ``out``."""
    p = S.shape[0]
    t0 = time.perf_counter()
    diag_order = list(np.argsort(-np.diag(S)))
    # incumbent: greedy forward selection
    supp = []
    for _ in range(k):
        best = max((j for j in range(p) if j not in supp), key=lambda j: _lmax(S, supp + [j])[0])
        supp.append(best)
    best_val, best_supp = _lmax(S, supp)[0], sorted(supp)
    heap = [(-_lmax(S, range(p))[0], (), ())]
    nodes = 0
    open_bound = -np.inf
    while heap:
        negb, fin, fout = heapq.heappop(heap)
        if -negb <= best_val * (1 + 1e-9):
            continue
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            open_bound = max(-negb, max((-h[0] for h in heap), default=-np.inf))
            break
        nodes += 1
        free = [j for j in diag_order if j not in fin and j not in fout]
        if len(fin) == k or len(fin) + len(free) == k:
            cand = sorted(list(fin) + (free if len(fin) < k else []))
            val = _lmax(S, cand)[0]
            if val > best_val:
                best_val, best_supp = val, cand
            continue
        j = free[0]
        for child_in, child_out in ((fin + (j,), fout), (fin, fout + (j,))):
            keep = [i for i in range(p) if i not in child_out]
            if len(keep) < k:
                continue
            b = _lmax(S, keep)[0]
            if len(child_in) == k:
                b = _lmax(S, child_in)[0]
            if b > best_val * (1 + 1e-9):
                heapq.heappush(heap, (-b, child_in, child_out))
    ub = max(best_val, open_bound)
    return np.array(best_supp), best_val, ub, nodes
