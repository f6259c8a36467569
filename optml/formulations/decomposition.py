r"""Dimension-reduction formulations: PCA as an SDP and the sparse PCA SDP relaxation.

References
----------
Fan (1949); Overton, Womersley (1992): the Fantope :math:`\{Z: \operatorname{tr}Z = r,
0 \preceq Z \preceq I\}` has the rank-r projections as extreme points.
d'Aspremont, El Ghaoui, Jordan, Lanckriet (2007). A direct formulation for sparse PCA using
semidefinite programming. SIAM Review 49(3).
"""

from __future__ import annotations

import numpy as np

import optml.program as om
from optml.program import Program


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
