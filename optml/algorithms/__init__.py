"""optml's own special-purpose algorithms, registered as named solvers (``optml solvers``).

One module per algorithm; each registers its :class:`~optml.backends.base.SpecialSolver` at the
bottom of the module and accepts the structured problems of the kinds it declares.
"""
