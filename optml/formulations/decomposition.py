r"""Dimension-reduction formulations: PCA as an SDP and the sparse PCA SDP relaxation.

References
----------
Fan (1949); Overton, Womersley (1992): the Fantope :math:`\{Z: \operatorname{tr}Z = r,
0 \preceq Z \preceq I\}` has the rank-r projections as extreme points.
d'Aspremont, El Ghaoui, Jordan, Lanckriet (2007). A direct formulation for sparse PCA using
semidefinite programming. SIAM Review 49(3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

import optml.program as om
from optml.program import Program
from optml.program.structured import StructuredProblem


def pca_sdp(S: np.ndarray, n_components: int) -> Program:
    r"""PCA as a semidefinite program over the Fantope.

    .. math::

        \max_Z \langle S, Z \rangle \quad\text{s.t.}\quad \operatorname{tr} Z = r,\quad
        Z \succeq 0,\quad I - Z \succeq 0,

    whose optimum is the sum of the r largest eigenvalues of the covariance S.
    """
    S = np.asarray(S, dtype=float)
    p = S.shape[0]
    prog = Program("pca_fantope_sdp")
    Z = prog.var("Z", (p, p), psd=True, latex="Z")
    W = prog.var("W", (p, p), psd=True, latex="W")
    prog.add(Z + W == np.eye(p), name="upper")
    prog.add(Z.reshape(p * p)[np.arange(p) * (p + 1)].sum() == n_components, name="trace")
    prog.maximize(S.reshape(-1) @ Z.reshape(p * p))
    return prog


def sparse_pca_sdp(S: np.ndarray, n_nonzero: int) -> Program:
    r"""The d'Aspremont et al. (2007) SDP relaxation of cardinality-constrained PCA.

    .. math::

        \max_Z \langle S, Z \rangle \quad\text{s.t.}\quad \operatorname{tr} Z = 1,\quad
        \mathbf 1^\top |Z| \mathbf 1 \le k,\quad Z \succeq 0 .

    Every unit vector with k non-zeros gives a feasible :math:`Z = vv^\top`
    (:math:`\lVert v\rVert_1^2 \le k`), so the optimum bounds the best k-sparse variance.
    """
    S = np.asarray(S, dtype=float)
    p = S.shape[0]
    prog = Program("sparse_pca_sdp")
    Z = prog.var("Z", (p, p), psd=True, latex="Z")
    prog.add(Z.reshape(p * p)[np.arange(p) * (p + 1)].sum() == 1, name="trace")
    prog.add(om.norm1(Z.reshape(p * p)) <= float(n_nonzero), name="l1")
    prog.maximize(S.reshape(-1) @ Z.reshape(p * p))
    return prog


@dataclass(eq=False)
class SparsePCAProblem(StructuredProblem):
    r"""The leading k-sparse principal component of a covariance ``S`` (kind ``"sparse_pca"``).

    .. math:: \max_v\ v^\top S v \ \text{s.t.}\ \lVert v\rVert_2 = 1,\ \lVert v\rVert_0 \le k .

    Its program is the d'Aspremont et al. SDP relaxation (:func:`sparse_pca_sdp`): a general
    SDP solver on it gives the relaxation's bound; a k-sparse unit vector ``v`` is the feasible
    point :math:`Z = vv^\top` of it with the same objective :math:`v^\top S v` (:meth:`point`),
    which is how the special solvers (``"pca-bnb"``, the default, and ``"sparse-pca-sdp"``)
    answer. :meth:`evaluate` checks a point with numpy, as ``program.evaluate`` would.

    ``sub_backend`` / ``sub_solver``: where ``"sparse-pca-sdp"`` solves the relaxation
    ("auto": the automatic SDP choice).
    """

    kind: ClassVar[str] = "sparse_pca"
    sense: ClassVar[int] = -1
    default_solver: ClassVar[str | None] = "pca-bnb"

    S: np.ndarray
    n_nonzero: int
    sub_backend: str = "auto"
    sub_solver: str | None = None

    def __post_init__(self):
        self.S = np.asarray(self.S, dtype=float)
        self.n_nonzero = int(self.n_nonzero)

    def build_program(self) -> Program:
        return sparse_pca_sdp(self.S, self.n_nonzero)

    @property
    def problem_class(self) -> str:
        return "SDP"

    def evaluate(self, values) -> tuple[float, float]:
        p = self.S.shape[0]
        Z = np.asarray(values["Z"], dtype=float).reshape(p, p)
        obj = float(self.S.reshape(-1) @ Z.reshape(-1))
        viol = [
            abs(float(np.trace(Z)) - 1.0),
            max(0.0, float(np.abs(Z).sum()) - float(self.n_nonzero)),
            float(np.abs(Z - Z.T).max(initial=0.0)),
            max(0.0, -float(np.linalg.eigvalsh((Z + Z.T) / 2).min())),
        ]
        return obj, float(max(viol))

    @staticmethod
    def point(v) -> dict:
        """The program's values for a unit vector ``v``: :math:`Z = vv^\top`."""
        v = np.asarray(v, dtype=float)
        return {"Z": np.outer(v, v)}
