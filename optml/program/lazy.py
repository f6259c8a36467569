r"""Lazy constraint families: constraints too many to write, found when violated.

A family is a *separation routine*: given a candidate point (variable name -> array), it
returns linear constraints of the program's variables that the point violates (an empty list:
the point satisfies the whole family). The textbook case is the travelling salesman's subtour
elimination,

.. math::

    \sum_{i \in S,\, j \notin S} x_{ij} \ge 2 \qquad \forall\, S \subset V,\ 2 \le |S| \le |V|-2,

exponentially many rows of which a solve needs a handful: the separation routine finds the
connected components of the candidate tour and returns one cut per component.

The solve path (:mod:`optml.solve.lazy`) enforces the families either inside the solver
(a SCIP constraint handler, where the backend declares ``lazy_callbacks``) or by a re-solve
loop on any backend: solve, separate, add the cuts, re-solve with the incumbent as a start,
until the point satisfies every family. Either way the bound reported is the bound of a
relaxation holding every cut generated (a valid bound of the full problem), and the final
point is checked by the separation routines (:meth:`Program.evaluate` calls them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optml.exceptions import ModelingError
from optml.program.constraints import LinearConstraint

#: a cut counts as violated above this (times max(1, |right-hand side|))
LAZY_TOL = 1e-6


@dataclass
class LazyFamily:
    """A named separation routine ``separator(values) -> list of LinearConstraint``."""

    separator: Callable
    name: str

    def separate(self, program, values) -> list[LinearConstraint]:
        """The constraints the routine returns for ``values``, checked: linear, of this
        program's variables."""
        out = self.separator(values)
        if out is None:
            return []
        if isinstance(out, LinearConstraint):
            out = [out]
        cons = []
        for c in out:
            if not isinstance(c, LinearConstraint):
                raise ModelingError(
                    f"lazy family {self.name!r}: the separator must return linear constraints "
                    f"of the program's variables (built with <=, >=, ==), got "
                    f"{type(c).__name__}"
                )
            program._check_owned(c)
            cons.append(c)
        return cons

    def violation(self, program, values) -> float:
        """Largest violation of the family at ``values`` (0: none found)."""
        return max((c.violation(values) for c in self.separate(program, values)), default=0.0)


def linear_rows(constraints, canon) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Rows ``lb <= A x <= ub`` over the columns of ``canon`` for linear constraints."""
    mats, lbs, ubs = [], [], []
    for c in constraints:
        e = c.expr.flatten() if c.expr.shape else c.expr.reshape(1)
        rows, cols, vals = [], [], []
        for _, (v, a) in e.terms.items():
            start = canon.blocks[v.name][0]
            m = a.tocoo()
            rows.append(m.row)
            cols.append(m.col + start)
            vals.append(m.data)
        if rows:
            A = sp.csr_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                shape=(e.size, canon.n),
            )
        else:
            A = sp.csr_matrix((e.size, canon.n))
        rhs = -np.asarray(e.const, dtype=float).ravel()
        lbs.append(rhs if c.sense in (">=", "==") else np.full(e.size, -np.inf))
        ubs.append(rhs if c.sense in ("<=", "==") else np.full(e.size, np.inf))
        mats.append(A)
    if not mats:
        return sp.csr_matrix((0, canon.n)), np.zeros(0), np.zeros(0)
    return sp.vstack(mats).tocsr(), np.concatenate(lbs), np.concatenate(ubs)


def violated_rows(A, lb, ub, x) -> np.ndarray:
    """Mask of the rows ``lb <= A x <= ub`` that ``x`` violates (beyond :data:`LAZY_TOL`)."""
    ax = A @ x
    scale = np.maximum(
        1.0,
        np.maximum(
            np.abs(np.nan_to_num(lb, posinf=0, neginf=0)),
            np.abs(np.nan_to_num(ub, posinf=0, neginf=0)),
        ),
    )
    return (lb - ax > LAZY_TOL * scale) | (ax - ub > LAZY_TOL * scale)
