r"""Structured problems: a model instance with its data, for special-purpose solvers.

A general solver receives a :class:`~optml.program.Program` (through its canonical form). A
special-purpose solver (an active-set QP method, a branch and price, an SDP branch and bound)
needs what a canonical form cannot give back: the data matrix ``X``, the number of clusters
``k``, the penalties. A :class:`StructuredProblem` carries both: the data and hyper-parameters
of one instance of a model family (its ``kind``), and :meth:`StructuredProblem.build_program`,
the Program that general solvers receive for the same instance. The solve path
(:func:`optml.solve.solve`) hands it to a special solver that accepts its kind, or builds the
program for a general one; either way the answer is certified against the same program.

Subclasses are dataclasses in the estimator families (``kind`` a class attribute) and override
:meth:`build_program`, and :meth:`evaluate` where numpy can check a point on the raw data more
cheaply than through the program.
"""

from __future__ import annotations

from typing import ClassVar


class StructuredProblem:
    """Base class of structured problem instances (see the module docstring)."""

    #: the model family, e.g. ``"least_squares"``, ``"kmeans"``, ``"pca"``
    kind: ClassVar[str] = ""
    #: +1 for a minimisation, -1 for a maximisation (in the program's own units)
    sense: ClassVar[int] = 1
    #: the default special-purpose solver for this kind under ``solver=None``
    default_solver: ClassVar[str | None] = None

    def build_program(self):
        """The :class:`~optml.program.Program` general solvers receive for this instance."""
        raise NotImplementedError

    @property
    def program(self):
        """:meth:`build_program`, built once."""
        prog = self.__dict__.get("_program")
        if prog is None:
            prog = self.build_program()
            self.__dict__["_program"] = prog
        return prog

    def evaluate(self, values) -> tuple[float, float]:
        """``(objective, largest violation)`` of ``values`` with numpy, in the program's units."""
        return self.program.evaluate(values)

    def complete_values(self, values: dict) -> dict:
        """``values`` with every variable of :attr:`program` (a special solver answers in the
        variables it needs; the program may have auxiliary ones, such as epigraph variables,
        whose values follow from them). The default returns ``values`` unchanged."""
        return values

    @property
    def problem_class(self) -> str:
        return self.program.problem_class
