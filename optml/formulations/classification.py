r"""Linear and kernel classifiers as mathematical programs: the support vector machine family
and Fisher's linear discriminant.

Every function is pure: data (``X``, labels ``s`` in :math:`\{-1, +1\}`) and hyper-parameters in,
a :class:`~optml.program.Program` out. Estimators in :mod:`optml.classification` solve them.

Models
------
Hard margin SVM (Vapnik 1995)

.. math:: \min_{w, b}\ \tfrac12 \|w\|_2^2 \quad \text{s.t.}\quad s_i (x_i^\top w + b) \ge 1.

Soft margin SVM, libsvm's primal (Cortes & Vapnik 1995), the intercept unpenalised

.. math:: \min_{w, b}\ \tfrac12 \|w\|_2^2 + C \sum_i \left(1 - s_i (x_i^\top w + b)\right)_+,

and the L1-norm SVM linear program (Bradley & Mangasarian 1998)

.. math:: \min_{w, b}\ \|w\|_1 + C \sum_i \left(1 - s_i (x_i^\top w + b)\right)_+.

Kernel SVM dual (Boser, Guyon & Vapnik 1992) with :math:`K = L L^\top`

.. math:: \max_{\alpha}\ \mathbf 1^\top \alpha - \tfrac12 \|L^\top (\alpha \circ s)\|_2^2
    \quad\text{s.t.}\quad s^\top \alpha = 0,\ 0 \le \alpha \le C.

Fisher's discriminant (Fisher 1936), the Rayleigh quotient
:math:`\max_w w^\top S_B w / w^\top S_W w` written as a convex program: for two classes with
:math:`d = \mu_1 - \mu_0`,

.. math:: \min_w\ w^\top S_W w \quad\text{s.t.}\quad d^\top w = 1,

and for :math:`K > 2` classes the Fantope SDP of Overton & Womersley (1992), with
:math:`M = S_W^{-1/2} S_B S_W^{-1/2}`:

.. math:: \max_{P}\ \langle M, P\rangle \quad\text{s.t.}\quad 0 \preceq P \preceq I,\
    \operatorname{tr} P = K - 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

import optml.program as om
from optml.program import Program
from optml.program.structured import StructuredProblem

__all__ = [
    "KernelColumns",
    "KernelSVMProblem",
    "SVMProblem",
    "best_intercept",
    "fisher_lda",
    "hard_margin_svm",
    "kernel_factor",
    "kernel_matrix",
    "kernel_svm_dual",
    "one_vs_rest",
    "soft_margin_svm",
    "svm_objective",
]


def _check_labels(X, s, C=None):
    """``X`` (n, p) and labels ``s`` in {-1, +1} as float arrays, checked; with ``C``, also
    that the loss weight is a positive number."""
    X = np.asarray(X, dtype=float)
    s = np.asarray(s, dtype=float).ravel()
    if X.ndim != 2 or s.shape[0] != X.shape[0]:
        raise ValueError(f"X must be (n, p) and s (n,); got X {X.shape} and s {s.shape}")
    if not np.isin(s, (-1.0, 1.0)).all():
        raise ValueError("labels s must be -1 or +1")
    if C is not None and not (np.isfinite(C) and C > 0):
        raise ValueError(f"C must be a positive number, got {C}")
    return X, s


def _linear_values(values) -> tuple[np.ndarray, float]:
    """``(w, b)`` of a linear classifier's solution values (``w`` flat, ``b`` a float)."""
    return (
        np.asarray(values["w"], dtype=float).ravel(),
        float(np.asarray(values["b"], dtype=float).reshape(-1)[0]),
    )


def hard_margin_svm(X, s) -> Program:
    r"""Hard margin SVM: :math:`\min \frac12\|w\|^2` s.t. :math:`s_i(x_i^\top w + b) \ge 1`.

    Infeasible exactly when the two classes cannot be separated by a hyperplane.
    """
    X, s = _check_labels(X, s)
    n, p = X.shape
    prog = Program("hard_margin_svm")
    w = prog.var("w", p, latex="w")
    b = prog.var("b", latex="b")
    prog.add((s[:, None] * X) @ w + s * b >= 1.0, name="margin")
    prog.minimize(0.5 * om.sum_squares(w))
    return prog


def soft_margin_svm(
    X,
    s,
    C: float = 1.0,
    penalty: str = "l2",
    sample_weight=None,
    linear=None,
    drop=None,
    b_bound: float | None = None,
) -> Program:
    r"""Soft margin SVM primal (libsvm's objective), or the L1-norm SVM LP.

    Parameters
    ----------
    X : array (n, p)
    s : array (n,) of -1/+1
    C : float > 0
        Weight of the hinge loss.
    penalty : {"l2", "l1"}
        ``"l2"``: :math:`\frac12\|w\|_2^2 + C\sum_i h_i` (QP, libsvm's linear SVC);
        ``"l1"``: :math:`\|w\|_1 + C\sum_i h_i` (LP, Bradley & Mangasarian 1998).
    sample_weight : array (n,), optional
        Per-sample multipliers of ``C``.
    linear, drop : boolean masks (n,), optional
        Build a *relaxation* used by the working-set solver: the hinge
        :math:`h_i = (1 - s_i(x_i^\top w + b))_+` of samples in ``linear`` is replaced by its
        linear minorant :math:`1 - s_i(x_i^\top w + b)` (summed into one affine term), and that
        of samples in ``drop`` by 0. Since both are :math:`\le h_i`, the optimum of the relaxed
        program is a lower bound on the full one; it equals it when the relaxed solution has
        margin :math:`\le 1` on ``linear`` and :math:`\ge 1` on ``drop``.
    b_bound : float, optional
        Bounds :math:`|b| \le` ``b_bound`` (keeps a relaxation bounded). Some optimum of the full
        program satisfies :math:`|b| \le \max_i |x_i^\top w| + 1`, so a bound at least that
        large loses nothing.
    """
    X, s = _check_labels(X, s, C)
    if penalty not in ("l1", "l2"):
        raise ValueError(f"penalty must be 'l1' or 'l2', got {penalty!r}")
    n, p = X.shape
    cw = C * (np.ones(n) if sample_weight is None else np.asarray(sample_weight, float))
    lin = np.zeros(n, bool) if linear is None else np.asarray(linear, bool)
    drp = np.zeros(n, bool) if drop is None else np.asarray(drop, bool)
    if (lin & drp).any():
        raise ValueError("a sample cannot be both in `linear` and in `drop`")
    hinge = ~(lin | drp)
    relaxed = not hinge.all()
    prog = Program(("relaxed_" if relaxed else "") + f"soft_margin_svm_{penalty}")
    w = prog.var("w", p, latex="w")
    bb = None if b_bound is None else float(b_bound)
    b = prog.var("b", lb=None if bb is None else -bb, ub=bb, latex="b")
    reg = 0.5 * om.sum_squares(w) if penalty == "l2" else om.norm1(w)
    sX = s[:, None] * X
    obj = reg
    if hinge.any():
        h = hinge
        obj = obj + cw[h] @ om.pos(1.0 - (sX[h] @ w + s[h] * b))
    if lin.any():  # sum_i c_i (1 - s_i (x_i w + b)) as one affine term
        c = cw[lin]
        obj = obj + (float(c.sum()) - (c @ sX[lin]) @ w - float(c @ s[lin]) * b)
    prog.minimize(obj)
    return prog


@dataclass(eq=False)
class SVMProblem(StructuredProblem):
    r"""One binary soft margin SVM instance (labels ``s`` in {-1, +1}), kind ``"svm"``.

    Its program is :func:`soft_margin_svm`; for the L2 penalty the default solver is optml's
    ``"svm-newton"`` (:mod:`optml.algorithms.linear_svm`: smoothed-hinge Newton with an exact
    finish, certified by a dual feasible point); ``"svm-working-set"``
    (:mod:`optml.algorithms.svm_working_set`) and ``"smo"`` (:mod:`optml.algorithms.smo`)
    solve it too. ``tol`` is the working
    set's margin tolerance; ``qp_backend``/``qp_solver`` choose the general solver of its
    relaxed QPs. :meth:`evaluate` checks a point on the raw data (:func:`svm_objective`).
    """

    kind: ClassVar[str] = "svm"

    X: np.ndarray
    s: np.ndarray
    C: float = 1.0
    penalty: str = "l2"
    tol: float = 1e-7
    qp_backend: str = "auto"
    qp_solver: str | None = None

    def __post_init__(self):
        self.X, self.s = _check_labels(self.X, self.s)
        self.C = float(self.C)

    @property
    def default_solver(self) -> str | None:
        return "svm-newton" if self.penalty == "l2" else None

    def build_program(self) -> Program:
        return soft_margin_svm(self.X, self.s, C=self.C, penalty=self.penalty)

    def evaluate(self, values) -> tuple[float, float]:
        w, b = _linear_values(values)
        return svm_objective(self.X, self.s, w, b, self.C, self.penalty), 0.0

    @property
    def problem_class(self) -> str:
        return "QP" if self.penalty == "l2" else "LP"


def one_vs_rest(programs: dict, name: str = "one_vs_rest") -> Program:
    r"""One program from independent per-class programs (all of the same sense).

    The blocks share no variable, so the sum of their objectives has the same minimiser as each
    block on its own. Every variable ``v`` of the block of class index ``k`` is renamed
    ``f"{v}_c{k}"`` (constraints likewise); ``program.metadata["classes"]`` lists the classes and
    ``program.metadata["blocks"]`` gives, per class, ``{original name: name in the program}``.
    The given programs are consumed (their variables move into the result).
    """
    out = Program(name)
    blocks, senses, obj = [], set(), None
    for k, prog in enumerate(programs.values()):
        names = {}
        for nm, v in list(prog.variables.items()):
            v.name = f"{nm}_c{k}"
            names[nm] = v.name
            out.variables[v.name] = v
            v._owner = out  # a bound changed later must mark the combined program stale
            if nm in prog.latex_names:
                out.latex_names[v.name] = f"{prog.latex_names[nm]}^{{({k})}}"
        for c in prog.constraints:
            c.name = f"{c.name}_c{k}"
            out.constraints.append(c)
        for ind in prog.indicators:
            ind.name = f"{ind.name}_c{k}"
            out.indicators.append(ind)
        out.sos1.extend(prog.sos1)
        for nm, val in prog.warm_start.items():
            out.warm_start[names[nm]] = val
        if prog.objective is not None:
            obj = prog.objective if obj is None else obj + prog.objective
        senses.add(prog.sense)
        blocks.append(names)
    if len(senses) > 1:
        raise ValueError("one_vs_rest: the per-class programs mix minimisation and maximisation")
    if obj is not None:
        (out.maximize if senses == {"max"} else out.minimize)(obj)
    out.metadata["classes"] = list(programs)
    out.metadata["blocks"] = blocks
    return out


def svm_objective(X, s, w, b, C: float = 1.0, penalty: str = "l2", sample_weight=None) -> float:
    """The soft margin objective at ``(w, b)``, with numpy (for certificates and tests)."""
    X = np.asarray(X, float)
    w = np.asarray(w, float).ravel()
    cw = C * (1.0 if sample_weight is None else np.asarray(sample_weight, float))
    hinge = np.maximum(0.0, 1.0 - s * (X @ w + b))
    reg = 0.5 * w @ w if penalty == "l2" else np.abs(w).sum()
    return float(reg + np.sum(cw * hinge))


def kernel_factor(K, tol: float = 1e-10) -> np.ndarray:
    r"""A factor :math:`L` (n x r) with :math:`L L^\top = K` from the eigen-decomposition.

    Eigenvalues below ``tol * max eigenvalue`` are dropped (``K`` is PSD up to round-off).
    Raises ``ValueError`` when ``K`` has a clearly negative eigenvalue (not a kernel).
    """
    K = np.asarray(K, dtype=float)
    K = 0.5 * (K + K.T)
    lam, U = np.linalg.eigh(K)
    top = max(lam.max(initial=0.0), 1e-300)
    if lam.min(initial=0.0) < -1e-6 * top:
        raise ValueError(
            f"the kernel matrix is not positive semidefinite (smallest eigenvalue "
            f"{lam.min():.3g}, largest {top:.3g}); use a positive definite kernel"
        )
    keep = lam > tol * top
    return U[:, keep] * np.sqrt(lam[keep])


def kernel_svm_dual(K, s, C: float = 1.0, factor=None) -> Program:
    r"""The kernel SVM dual QP (libsvm's problem) with the Gram matrix written as a factor.

    :math:`\max \mathbf 1^\top\alpha - \frac12\|L^\top(\alpha\circ s)\|^2` s.t.
    :math:`s^\top\alpha = 0`, :math:`0 \le \alpha \le C`. ``factor`` may pass ``L`` directly.
    """
    s = np.asarray(s, dtype=float).ravel()
    if not (np.isfinite(C) and C > 0):
        raise ValueError(f"C must be a positive number, got {C}")
    L = kernel_factor(K) if factor is None else np.asarray(factor, dtype=float)
    n = s.size
    if L.shape[0] != n:
        raise ValueError(f"kernel factor has {L.shape[0]} rows, expected {n}")
    prog = Program("kernel_svm_dual")
    a = prog.var("alpha", n, lb=0.0, ub=C, latex=r"\alpha")
    prog.add(s @ a == 0.0, name="balance")
    prog.maximize(om.sum(a) - 0.5 * om.sum_squares((L.T * s) @ a))
    return prog


def kernel_matrix(A, B, kernel="rbf", gamma=1.0, degree=3, coef0=0.0) -> np.ndarray:
    r"""The kernel matrix :math:`K(a_i, b_j)` (as :class:`sklearn.svm.SVC` defines them):
    ``"linear"`` :math:`a^\top b`, ``"poly"`` :math:`(\gamma a^\top b + c_0)^d`, ``"rbf"``
    :math:`\exp(-\gamma\|a - b\|^2)`, ``"sigmoid"`` :math:`\tanh(\gamma a^\top b + c_0)`, or a
    callable ``kernel(A, B)``."""
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    if callable(kernel):
        K = np.asarray(kernel(A, B), dtype=float)
        if K.shape != (A.shape[0], B.shape[0]):
            raise ValueError(
                f"the kernel callable returned shape {K.shape}, expected {(A.shape[0], B.shape[0])}"
            )
        return K
    if kernel == "linear":
        return A @ B.T
    if kernel == "poly":
        return (gamma * (A @ B.T) + coef0) ** degree
    if kernel == "sigmoid":
        return np.tanh(gamma * (A @ B.T) + coef0)
    if kernel != "rbf":
        raise ValueError(
            f"kernel must be 'linear', 'poly', 'rbf', 'sigmoid' or a callable, got {kernel!r}"
        )
    d = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2 * A @ B.T
    return np.exp(-gamma * np.maximum(d, 0.0))


class KernelColumns:
    """Columns of a kernel matrix on ``X`` computed on demand and kept in a cache of at most
    ``cache_mb`` megabytes (least recently used out), as libsvm's kernel cache."""

    def __init__(self, X, kernel="rbf", gamma=1.0, degree=3, coef0=0.0, cache_mb=400.0):
        from collections import OrderedDict

        self.X = np.asarray(X, dtype=float)
        self.kernel, self.gamma, self.degree, self.coef0 = kernel, gamma, degree, coef0
        n = self.X.shape[0]
        self.capacity = max(2, int(cache_mb * 2**20 / (8.0 * max(n, 1))))
        self._cache = OrderedDict()
        self.computed = 0
        if kernel == "rbf":
            self._sq = (self.X * self.X).sum(axis=1)
        self._full = None

    def block(self, idx) -> np.ndarray:
        """The columns ``idx`` as an (n, len(idx)) array (not cached)."""
        idx = np.asarray(idx)
        if self._full is not None:
            return self._full[:, idx]
        if self.kernel == "rbf":  # in place: exp(-gamma max(|x|^2 + |x_j|^2 - 2 x'x_j, 0))
            d = self.X @ self.X[idx].T
            d *= -2.0
            d += self._sq[:, None]
            d += self._sq[idx][None, :]
            np.maximum(d, 0.0, out=d)
            d *= -self.gamma
            return np.exp(d, out=d)
        return kernel_matrix(self.X, self.X[idx], self.kernel, self.gamma, self.degree, self.coef0)

    def diag(self) -> np.ndarray:
        n = self.X.shape[0]
        if self._full is not None:
            return self._full.diagonal().copy()
        if self.kernel == "rbf":
            return np.ones(n)
        if callable(self.kernel):
            return np.array([self.block([i])[i, 0] for i in range(n)])
        sq = (self.X * self.X).sum(axis=1)
        if self.kernel == "linear":
            return sq
        if self.kernel == "poly":
            return (self.gamma * sq + self.coef0) ** self.degree
        return np.tanh(self.gamma * sq + self.coef0)

    def __call__(self, i: int) -> np.ndarray:
        if self._full is not None:
            return self._full[i]  # symmetric: the row, contiguous
        col = self._cache.get(i)
        if col is not None:
            self._cache.move_to_end(i)
            return col
        col = self.block([i])[:, 0]
        self.computed += 1
        self._cache[i] = col
        if len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        return col

    def matvec(self, v, chunk: int = 2048) -> np.ndarray:
        """:math:`K v` exactly (in blocks of columns over the nonzeros of ``v``)."""
        v = np.asarray(v, dtype=float)
        nz = np.flatnonzero(v)
        if self._full is not None:
            return self._full[:, nz] @ v[nz]
        out = np.zeros(self.X.shape[0])
        # cached columns first (one BLAS axpy each), the others computed in blocks
        cached = [k for k in nz.tolist() if k in self._cache]
        for k in cached:
            out += v[k] * self._cache[k]
        rest = np.setdiff1d(nz, np.asarray(cached, dtype=int), assume_unique=True)
        for k in range(0, rest.size, chunk):
            idx = rest[k : k + chunk]
            out += self.block(idx) @ v[idx]
        return out


def kernel_is_psd(columns: KernelColumns, kernel, coef0) -> bool:
    """See :meth:`KernelSVMProblem.kernel_is_psd`."""
    if kernel in ("rbf", "linear") or (kernel == "poly" and coef0 >= 0):
        return True
    n = columns.X.shape[0]
    if n > 2000:
        return False
    K = columns.block(np.arange(n))
    lam = np.linalg.eigvalsh(0.5 * (K + K.T))
    return bool(lam.min(initial=0.0) >= -1e-10 * max(lam.max(initial=0.0), 1e-300))


def best_intercept(a, sigma, c) -> float:
    r"""A minimiser over :math:`b` of :math:`\sum_k c_k (a_k - \sigma_k b)_+`
    (:math:`\sigma_k = \pm 1`, :math:`c_k \ge 0`): the hinge terms of an SVM's primal in
    function space as a function of its intercept; the middle of the minimising interval."""
    t = np.where(sigma > 0, a, -a)  # breakpoints
    order = np.argsort(t, kind="stable")
    ts, cs = t[order], c[order]
    slope = -float(c[sigma > 0].sum()) + np.cumsum(cs)  # slope right of each breakpoint
    k = int(np.searchsorted(slope, 0.0, side="left"))
    if k >= ts.size:
        return float(ts[-1])
    if slope[k] == 0.0 and k + 1 < ts.size:  # a flat piece: its middle
        return float(0.5 * (ts[k] + ts[k + 1]))
    return float(ts[k])


class KernelColumnsMixin:
    """The kernel of a kernel SVM / SVR problem: its fields ``X``, ``kernel``, ``gamma``,
    ``degree``, ``coef0``, ``K`` (the full matrix, or None) and ``cache_mb``; ``__post_init__``
    sets ``_cols`` and ``_memo`` to None."""

    @property
    def columns(self) -> KernelColumns:
        if self._cols is None:
            self._cols = KernelColumns(
                self.X, self.kernel, self.gamma, self.degree, self.coef0, self.cache_mb
            )
            if self.K is not None:
                self._cols._full = np.asarray(self.K, dtype=float)
        return self._cols

    def kernel_dot(self, v) -> np.ndarray:
        """:math:`K v`, exactly; the last one is remembered (solver and check share it)."""
        v = np.asarray(v, dtype=float)
        key = v.tobytes()
        if self._memo is not None and self._memo[0] == key:
            return self._memo[1]
        out = self.columns.matvec(v)
        self._memo = (key, out)
        return out

    def kernel_is_psd(self) -> bool:
        """Whether the kernel matrix is known to be positive semidefinite (so that weak
        duality holds and the solver's bound is valid): rbf, linear, and poly with
        ``coef0 >= 0`` always; another kernel when its matrix (at most 2000 samples) has no
        eigenvalue below ``-1e-10`` times the largest."""
        return kernel_is_psd(self.columns, self.kernel, self.coef0)


@dataclass(eq=False)
class KernelSVMProblem(KernelColumnsMixin, StructuredProblem):
    r"""One binary kernel SVM instance, kind ``"kernel_svm"``: the dual QP of
    :func:`kernel_svm_dual` (a maximisation),

    .. math:: \max_{\alpha}\ \mathbf 1^\top\alpha - \tfrac12 (\alpha\circ s)^\top K
        (\alpha\circ s)\quad\text{s.t.}\quad s^\top\alpha = 0,\ 0 \le \alpha \le C.

    The default solver is optml's ``"smo"`` (:mod:`optml.algorithms.smo`); a general solver
    receives :func:`kernel_svm_dual` with the factor of :func:`kernel_factor` (formed only
    then: an eigen-decomposition of the :math:`n\times n` matrix, which drops eigenvalues below
    :math:`10^{-10}` of the largest). :meth:`evaluate` computes the dual objective with the
    exact kernel. ``K`` may pass the full kernel matrix.
    """

    kind: ClassVar[str] = "kernel_svm"
    sense: ClassVar[int] = -1
    default_solver: ClassVar[str | None] = "smo"

    X: np.ndarray
    s: np.ndarray
    C: float = 1.0
    kernel: object = "rbf"
    gamma: float = 1.0
    degree: int = 3
    coef0: float = 0.0
    K: np.ndarray | None = None
    eps: float = 1e-5
    cache_mb: float = 400.0

    def __post_init__(self):
        self.X, self.s = _check_labels(self.X, self.s)
        self.C = float(self.C)
        if not (np.isfinite(self.C) and self.C > 0):
            raise ValueError(f"C must be a positive number, got {self.C}")
        self._cols = None
        self._memo = None

    def build_program(self) -> Program:
        K = self.columns.block(np.arange(self.s.size)) if self.K is None else self.K
        return kernel_svm_dual(K, self.s, self.C)

    def evaluate(self, values) -> tuple[float, float]:
        a = np.asarray(values["alpha"], dtype=float).ravel()
        v = a * self.s
        obj = float(a.sum() - 0.5 * v @ self.kernel_dot(v))
        viol = max(
            abs(float(self.s @ a)), float(np.maximum(-a, 0).max()), float((a - self.C).max())
        )
        return obj, max(viol, 0.0)

    @property
    def problem_class(self) -> str:
        return "QP"


def scatter_matrices(X, y):
    """Class means, priors, within-class scatter :math:`S_W` and between-class :math:`S_B`."""
    X = np.asarray(X, float)
    classes, yi = np.unique(y, return_inverse=True)
    mu = np.vstack([X[yi == k].mean(axis=0) for k in range(classes.size)])
    counts = np.bincount(yi, minlength=classes.size).astype(float)
    Xc = X - mu[yi]
    Sw = Xc.T @ Xc
    m = X.mean(axis=0)
    D = (mu - m) * np.sqrt(counts)[:, None]
    Sb = D.T @ D
    return mu, counts / counts.sum(), Sw, Sb


def fisher_lda(X, y, reg: float = 0.0) -> Program:
    r"""Fisher's discriminant as a convex program.

    Two classes: the QP :math:`\min_w w^\top S_W w` s.t. :math:`(\mu_1-\mu_0)^\top w = 1`,
    whose solution is :math:`S_W^{-1}(\mu_1-\mu_0)` up to scale. More classes: the Fantope SDP
    :math:`\max\langle M, P\rangle`, :math:`0\preceq P\preceq I`, :math:`\operatorname{tr}P = K-1`
    with :math:`M = S_W^{-1/2} S_B S_W^{-1/2}` (variable ``P`` and slack ``Q = I - P``).
    ``reg`` adds ``reg * I`` to :math:`S_W` (needed when it is singular).
    """
    mu, _, Sw, Sb = scatter_matrices(X, y)
    Sw = Sw + reg * np.eye(Sw.shape[0])
    k = mu.shape[0]
    p = Sw.shape[0]
    if k == 2:
        prog = Program("fisher_lda")
        w = prog.var("w", p, latex="w")
        d = mu[1] - mu[0]
        prog.add(d @ w == 1.0, name="scale")
        prog.minimize(om.quad_form(w, 0.5 * (Sw + Sw.T)))
        return prog
    lam, U = np.linalg.eigh(Sw)
    if lam.min() <= 1e-12 * max(lam.max(), 1e-300):
        raise ValueError("the within-class scatter is singular; pass reg > 0")
    Wm = (U / np.sqrt(lam)) @ U.T
    M = Wm @ Sb @ Wm
    M = 0.5 * (M + M.T)
    prog = Program("fisher_lda_fantope")
    P = prog.var("P", (p, p), psd=True, latex="P")
    Q = prog.var("Q", (p, p), psd=True, latex="Q")
    prog.add(P + Q == np.eye(p), name="fantope")
    prog.add(P.reshape(p * p)[:: p + 1].sum() == float(min(k - 1, p)), name="trace")
    prog.maximize(M.ravel() @ P.reshape(p * p))
    return prog
