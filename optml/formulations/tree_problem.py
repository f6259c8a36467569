r"""The optimal classification tree as a structured problem (kind ``"oct"``).

:class:`TreeProblem` holds one instance: the binarised data merged into patterns
(:class:`~optml.formulations.tree_data.TreeData`), the depth, the allowed (node, column) pairs,
the split penalty :math:`\alpha` and the minimum leaf size. It minimises

.. math::

    \sum_{p,k} c_{pk}\, \mathbb 1[\hat y_p \ne k] + \alpha \cdot \#\text{splits}

over every tree of depth at most ``depth`` whose splits come from the allowed columns. Its
default solver is the dynamic programming ``"tree-dp"`` (:mod:`optml.algorithms.tree_dp`);
general solvers receive :meth:`TreeProblem.build_program`, the FlowOCT program (or the OCT one)
of :mod:`optml.formulations.tree` for the same instance, so ``optml.bench`` compares them on the
same program. A tree is written into that program's variables by :meth:`TreeProblem.values_of`
(a full feasible point: splits, leaf classes, flows), and :meth:`TreeProblem.evaluate` checks a
point with numpy without building the program: the tree read from the split and class variables
is routed through the data, and the violation of the one-hot and minimum-leaf-size rows is
measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from optml.formulations import tree as ft
from optml.formulations.tree_data import TreeData, TreeFormulation, leaf_ancestors, route
from optml.program import Program
from optml.program.structured import StructuredProblem

__all__ = ["TreeProblem"]


@dataclass
class TreeProblem(StructuredProblem):
    """One optimal-classification-tree instance (kind ``"oct"``, default solver ``"tree-dp"``).

    Parameters
    ----------
    data : TreeData
        Binarised patterns with weighted class counts and sample counts.
    depth : int
        Maximum depth (>= 1).
    mask : ndarray (2^depth - 1, F + 1) of bool, optional
        Allowed (node, column) pairs (:func:`~optml.formulations.tree_data.split_mask`); every
        column at every node by default. Rows of one depth must agree (the solvers read one
        mask per level).
    alpha : float
        Penalty per split.
    min_samples_leaf : int
        Every leaf of the (pruned) tree holds at least this many samples.
    formulation : {"flow", "oct"}
        The program general solvers receive.
    initial : (node_col, leaf_class) or None
        A known tree (heap order, column ``F`` = no split), e.g. CART's: an incumbent.
    max_leaves : int or None
        At most this many leaves (``max_leaf_nodes``); ``"tree-dp"`` then runs the budgeted
        search of :mod:`optml.algorithms.tree_dp_regression`.
    """

    kind: ClassVar[str] = "oct"
    default_solver: ClassVar[str | None] = "tree-dp"

    data: TreeData
    depth: int
    mask: np.ndarray | None = None
    alpha: float = 0.0
    min_samples_leaf: int = 1
    formulation: str = "flow"
    initial: tuple | None = None
    extra: dict = field(default_factory=dict)
    max_leaves: int | None = None

    def __post_init__(self):
        d = int(self.depth)
        if d < 1:
            raise ValueError(f"depth must be >= 1, got {self.depth!r}")
        if self.formulation not in ("flow", "oct"):
            raise ValueError(f'formulation must be "flow" or "oct", got {self.formulation!r}')
        F = self.data.n_columns
        if self.mask is None:
            self.mask = ft.split_mask(d, F)
        self.mask = np.asarray(self.mask, dtype=bool)
        if self.mask.shape != (ft.n_internal(d), F + 1):
            raise ValueError(
                f"mask must have shape {(ft.n_internal(d), F + 1)} (internal nodes x columns + 1), "
                f"got {self.mask.shape}"
            )
        self.mask[:, F] = True  # "no split" is always allowed
        for lv in range(d):
            rows = self.mask[2**lv - 1 : 2 ** (lv + 1) - 1]
            if not (rows == rows[0]).all():
                raise ValueError(f"mask rows of depth {lv} differ; give one mask per depth")

    # ------------------------------------------------------------------------ layout
    @property
    def level_masks(self) -> np.ndarray:
        """(depth, F) allowed real columns per depth (0 = root)."""
        F = self.data.n_columns
        return np.array([self.mask[2**lv - 1, :F] for lv in range(int(self.depth))])

    @property
    def shell(self) -> TreeFormulation:
        """The formulation's layout without its program (to write and read points)."""
        sh = self.__dict__.get("_shell")
        if sh is None:
            pn, pc = np.nonzero(self.mask)
            starter = ft._start_flow if self.formulation == "flow" else ft._start_oct
            sh = TreeFormulation(
                self.formulation,
                Program("layout"),
                int(self.depth),
                self.mask,
                self.data,
                pn.astype(np.int64),
                pc.astype(np.int64),
                {"alpha": float(self.alpha)},
                starter=starter,
            )
            self.__dict__["_shell"] = sh
        return sh

    def build_program(self) -> Program:
        fn = ft.flow_oct if self.formulation == "flow" else ft.oct_binary
        form = fn(
            self.data,
            int(self.depth),
            self.mask,
            alpha=float(self.alpha),
            min_samples_leaf=int(self.min_samples_leaf),
            max_leaves=self.max_leaves,
        )
        form.extra["name"] = self.formulation
        self.__dict__["_form"] = form
        return form.program

    @property
    def form(self) -> TreeFormulation:
        """The full formulation (builds the program once)."""
        if "_form" not in self.__dict__:
            _ = self.program
        return self.__dict__["_form"]

    # ------------------------------------------------------------------ points, checks
    def values_of(self, node_col, leaf_class) -> dict:
        """The program's variables for a tree (a full feasible point when the tree is)."""
        return self.shell.start(np.asarray(node_col), np.asarray(leaf_class))

    def decode(self, values) -> tuple[np.ndarray, np.ndarray]:
        """``(node_col, leaf_class)`` read from the split and class variables."""
        return self.shell.decode(values)

    def objective_of(self, node_col, leaf_class) -> float:
        return self.shell.objective_of(node_col, leaf_class)

    def evaluate(self, values) -> tuple[float, float]:
        """``(objective, largest violation)`` of a point, with numpy and without the program.

        The objective is the weighted errors plus ``alpha`` per reached split of the tree
        encoded by the split variables ``b`` and class variables ``w`` (what the program's
        objective equals at that tree); the violation covers integrality and one-hot rows of
        ``b`` and ``w`` and the minimum-leaf-size rows.
        """
        sh = self.shell
        b = np.asarray(values["b"], dtype=float).ravel()
        w = np.asarray(values["w"], dtype=float).reshape(2 ** int(self.depth), -1)
        N = ft.n_internal(int(self.depth))
        viol = max(
            float(np.abs(b - np.round(b)).max(initial=0.0)),
            float(np.abs(w - np.round(w)).max(initial=0.0)),
            float(np.abs(np.bincount(sh.pair_node, weights=b, minlength=N) - 1).max()),
            float(np.abs(w.sum(axis=1) - 1).max()),
        )
        node_col, leaf_class = sh.decode(values)
        if self.max_leaves is not None:
            F = self.data.n_columns
            viol = max(viol, float(b[sh.pair_col < F].sum()) - (int(self.max_leaves) - 1))
        m = int(self.min_samples_leaf)
        if m > 1:
            leaf = route(self.data.Xd, node_col, int(self.depth))
            size = np.bincount(leaf, weights=self.data.sizes, minlength=2 ** int(self.depth))
            _, anc_r = leaf_ancestors(int(self.depth))
            F = self.data.n_columns
            for lf, ar in enumerate(anc_r):
                rhs = m * (1 - sum(float(node_col[n] == F) for n in ar))
                viol = max(viol, rhs - size[lf])
        return sh.objective_of(node_col, leaf_class), viol
