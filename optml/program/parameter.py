r"""Parameters: data that change between solves without lowering the program again.

A :class:`Parameter` is a block of numbers that enters the program *affinely*, as a right-hand
side, an offset or a bound (``A @ x <= theta``, ``om.norm1(w) <= t``, ``x >= lo``): cvxpy's
``Parameter`` and Pyomo's mutable ``Param`` for the data of an operations researcher's
what-if sweeps. It is a variable block whose lower and upper bounds are both its value, so the
program is lowered once and a new value only rewrites those bounds in the cached canonical form;
the next solve starts from the previous solution (:func:`sweep`).

.. code-block:: python

    from optml.program.parameter import add_parameter, sweep

    t = add_parameter(p, "t", value=1000.0, latex="t")
    p.add(om.norm1(w) <= t, name="budget")
    for res in sweep(p, t, np.linspace(100, 2000, 50)):      # one lowering
        print(res.objective, res.reduced_costs["t"])          # d optimum / d t

Because the parameter is a fixed column, the certificate treats it like any variable, and its
reduced cost (convex programs) is the derivative of the optimum with respect to the
parameter's value: a sensitivity for free.

Limits: a parameter multiplies no variable (``theta * x`` is bilinear; the affine expression
layer refuses it) -- a parameter that scales a term (the lasso's ``alpha``) is written in the
constrained form instead (``norm1(w) <= t``), or the program is rebuilt. A program with
indicator constraints is lowered again when a value changes (their big-M values are derived
from the bounds).
"""

from __future__ import annotations

import numpy as np

from optml.exceptions import ModelingError
from optml.program.expr import Variable

__all__ = ["Parameter", "add_parameter", "sweep"]


class Parameter(Variable):
    """A block of data (shape, value) usable wherever an affine expression is.

    Create it with :func:`add_parameter`; change it with ``param.value = ...``.
    """

    def __init__(self, name: str, shape=(), value=0.0):
        shape = (int(shape),) if np.ndim(shape) == 0 and shape != () else tuple(shape)
        v = _checked(name, value, shape)
        super().__init__(name, shape, lb=v, ub=v, domain="continuous")

    @property
    def value(self) -> np.ndarray | float:
        v = np.array(self._lb).reshape(self.shape)
        return float(v) if self.shape == () else v

    @value.setter
    def value(self, value) -> None:
        v = _checked(self.name, value, self.shape).reshape(-1)
        lb, ub = v.copy(), v.copy()
        lb.flags.writeable = ub.flags.writeable = False
        self._lb, self._ub = lb, ub
        self._patch_lowering(v)

    def _patch_lowering(self, v: np.ndarray) -> None:
        """Write the new value into the cached lowering's bounds (no new lowering)."""
        owner = self._owner
        if owner is None or owner._canon_cache is None:
            return
        canon = owner._canon_cache[1]
        if owner.indicators or self.name not in canon.blocks:
            owner._touch()  # big-M rows read the bounds: lower again
            return
        s, _ = canon.blocks[self.name]
        canon.lb[s : s + v.size] = v
        canon.ub[s : s + v.size] = v

    def _refuse(self, value) -> None:
        raise ModelingError(
            f"{self.name!r} is a parameter: set its value with {self.name}.value = ..., "
            "not its bounds"
        )

    lb = property(Variable.lb.fget, _refuse)
    ub = property(Variable.ub.fget, _refuse)

    # A parameter is a right-hand side. Python evaluates ``expr >= theta`` as
    # ``theta <= expr`` (the right operand's class is a subclass of the left's), so the
    # comparison methods put the other side on the left whichever way it was written: the
    # duals are then rates of change with the parameter's side in every spelling.
    def __le__(self, other):  # theta <= other, or other >= theta
        return _with_parameter_right(other, ">=", self)

    def __ge__(self, other):  # theta >= other, or other <= theta
        return _with_parameter_right(other, "<=", self)

    def __eq__(self, other):  # type: ignore[override]
        return _with_parameter_right(other, "==", self)

    __hash__ = Variable.__hash__

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.shape}, value={self.value!r})"


def _with_parameter_right(other, sense: str, par: Parameter):
    from optml.program.atoms import NonlinearExpr
    from optml.program.constraints import make_constraint
    from optml.program.expr import as_expression

    if not isinstance(other, NonlinearExpr):
        e = as_expression(other)
        if e is NotImplemented:
            raise ModelingError(f"cannot compare a parameter with {type(other).__name__}")
        other = e
    return make_constraint(other, sense, par)


def _checked(name: str, value, shape) -> np.ndarray:
    try:
        v = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"parameter {name!r}: value must be a number or an array, got {type(value).__name__}"
        ) from None
    if not np.isfinite(v).all():
        raise ModelingError(f"parameter {name!r}: value must be finite (no NaN or inf)")
    try:
        return np.broadcast_to(v, shape).reshape(shape).copy()
    except ValueError:
        raise ModelingError(
            f"parameter {name!r} has shape {shape}; a value of shape {v.shape} does not fit"
        ) from None


def add_parameter(program, name: str, shape=(), value=0.0, latex: str | None = None):
    """Add a :class:`Parameter` block to ``program`` and return it."""
    if not isinstance(name, str) or not name:
        raise ModelingError(f"parameter name must be a non-empty string, got {name!r}")
    if name in program.variables:
        raise ModelingError(f"program {program.name!r} already has a block named {name!r}")
    par = Parameter(name, shape, value)
    par._owner = program
    program.variables[name] = par
    if latex:
        program.latex_names[name] = latex
    program._touch()
    return par


def sweep(program, parameter: Parameter, values, warm_start: bool = True, **solve_options):
    """Solve ``program`` once per value of ``parameter``; returns the list of results.

    The program is lowered once (see the module docstring); each solve after the first starts
    from the previous solution (``warm_start=False``: cold starts). ``solve_options`` go to
    :meth:`optml.Program.solve`.
    """
    if not isinstance(parameter, Parameter) or program.variables.get(parameter.name) is not (
        parameter
    ):
        raise ModelingError("sweep takes a parameter of this program (add_parameter)")
    results, prev = [], None
    for val in values:
        parameter.value = val
        start = None
        if warm_start and prev is not None and prev.has_solution:
            start = {
                k: v
                for k, v in prev.values.items()
                if not isinstance(program.variables.get(k), Parameter)
            }
        prev = program.solve(warm_start=start, **solve_options)
        results.append(prev)
    return results
