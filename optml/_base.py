"""What every optml estimator shares: the common solver parameters and the solve step.

Estimators subclass :class:`ProgramEstimator` together with scikit-learn's mixins, keep
``__init__`` to storing keyword arguments, and call :meth:`_solve` from ``fit``.
"""

from __future__ import annotations

import numbers

from sklearn.base import BaseEstimator

from optml.exceptions import SolveError

COMMON_PARAMS = ("backend", "solver", "time_limit", "mip_gap", "verbose", "solver_options")


class ProgramEstimator(BaseEstimator):
    """Mixin with the solve step shared by estimators that fit by solving a Program.

    Subclasses define the common parameters ``backend="auto"``, ``solver=None``,
    ``time_limit=None``, ``mip_gap=None``, ``verbose=False``, ``solver_options=None`` in their own
    ``__init__`` (scikit-learn reads parameters from the signature).
    """

    #: default relative gap for mixed-integer fits when ``mip_gap`` is None
    _default_mip_gap = 1e-4

    def _check_common_params(self) -> None:
        backend = getattr(self, "backend", "auto")
        if not isinstance(backend, str):
            raise TypeError(
                f"backend must be a string ('auto', 'highs', 'cvxpy', 'pyomo'), got {backend!r}"
            )
        solver = getattr(self, "solver", None)
        if solver is not None and not isinstance(solver, str):
            raise TypeError(f"solver must be a string such as 'highs' or 'scip', got {solver!r}")
        tl = getattr(self, "time_limit", None)
        if tl is not None and (
            not isinstance(tl, numbers.Real) or isinstance(tl, bool) or not tl > 0
        ):
            raise ValueError(f"time_limit must be a positive number of seconds or None, got {tl!r}")
        gap = getattr(self, "mip_gap", None)
        if gap is not None and (not isinstance(gap, numbers.Real) or not 0 <= gap < 1):
            raise ValueError(f"mip_gap must be a number in [0, 1) or None, got {gap!r}")
        opts = getattr(self, "solver_options", None)
        if opts is not None and not isinstance(opts, dict):
            raise TypeError(f"solver_options must be a dict or None, got {type(opts).__name__}")

    def _settings(self, mip: bool = False, warm_start=None):
        """The estimator's :class:`~optml.program.settings.SolveSettings` (every solve of a
        fit, internal ones included, starts from these)."""
        from optml.program.settings import SolveSettings

        gap = getattr(self, "mip_gap", None)
        if gap is None and mip:
            gap = self._default_mip_gap
        if getattr(self, "verbose", False):
            show_progress()
        return SolveSettings.from_params(
            time_limit=getattr(self, "time_limit", None),
            mip_gap=gap,
            verbose=bool(getattr(self, "verbose", False)),
            solver_options=getattr(self, "solver_options", None),
            warm_start=warm_start,
        )

    def _solve(
        self,
        program,
        warm_start=None,
        mip=False,
        allow=("optimal", "time_limit", "feasible"),
        settings=None,
        backend=None,
        solver=None,
    ):
        """Solve ``program`` (a Program or a structured problem) on the solve path with the
        estimator's settings; set ``program_``/``result_``.

        ``settings`` overrides the estimator's (e.g. the time left of a fit that started
        earlier); ``backend``/``solver`` override the estimator's (e.g. a special solver named
        by the estimator while its own ``solver`` names the solver of the sub-programs). Raises :class:`~optml.exceptions.SolveError` when the status is not in
        ``allow`` or when no point came back (a time limit with no incumbent).
        """
        from optml.program.structured import StructuredProblem
        from optml.solve import solve

        self._check_common_params()
        if settings is None:
            settings = self._settings(mip=mip, warm_start=warm_start)
        elif warm_start is not None:
            settings = settings.replace(warm_start=warm_start)
        res = solve(
            program,
            backend=self.backend if backend is None else backend,
            solver=self.solver if solver is None else solver,
            settings=settings,
        )
        if isinstance(program, StructuredProblem):
            # the program is built only when a general solver needed it; an estimator that
            # solves structured problems forms ``program_`` from ``problem_`` on first access
            self.problem_ = program
            if "_program" in program.__dict__:
                self.program_ = program.program
        else:
            self.program_ = program
        self.result_ = res
        if res.status == "interrupted":
            # Ctrl-C: keep what was found (result_ holds the incumbent, its bound and gap),
            # then stop the script as the user asked
            raise KeyboardInterrupt(
                f"{type(self).__name__}: interrupted; result_ holds the incumbent "
                f"(objective {res.objective:.6g}, bound {res.bound:.6g}, gap {res.gap:.3g})"
            )
        if res.status not in allow:
            raise SolveError(
                f"{type(self).__name__}: the {res.problem_class} program ended with status "
                f"{res.status!r} ({res.backend}/{res.solver}: {res.message})"
            )
        if not res.has_solution:
            raise SolveError(
                f"{type(self).__name__}: the solver returned no solution (status "
                f"{res.status!r}); raise time_limit or try another solver"
            )
        return res

    def formula_latex(self, values: bool = False) -> str:
        """The estimator's model as its textbook writes it (LaTeX), with its reference;
        ``values=True`` fills in this estimator's hyper-parameters. The program actually
        solved is ``build_program(X, y).to_latex()``."""
        from optml.formulations.latex import formula_latex

        return formula_latex(self, values)

    def __getattr__(self, name):
        # after a fit by a special-purpose solver the program was not needed: ``program_`` is
        # built from the structured problem on first access (the same program general
        # solvers receive)
        if name == "program_" and "problem_" in self.__dict__:
            problem = self.__dict__["problem_"]
            prog = problem.program
            self.__dict__["program_"] = prog
            res = self.__dict__.get("result_")
            if res is not None and res.values and set(prog.variables) - set(res.values):
                # the answer in every variable of the program, so program_.evaluate checks it
                res.values = problem.complete_values(dict(res.values))
            return prog
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def show_progress() -> None:
    """Make ``verbose=True`` visible: messages of the ``optml`` logger at INFO go to stderr,
    unless the application configured logging itself (then its handlers decide)."""
    import logging

    logger = logging.getLogger("optml")
    if logger.handlers or logging.getLogger().handlers:
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("optml: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def encode_classes(estimator, y):
    """Check classification targets; return ``(classes, y as indices into classes)``.

    Raises ValueError naming the estimator when ``y`` holds fewer than 2 classes.
    """
    import numpy as np
    from sklearn.utils.multiclass import check_classification_targets

    check_classification_targets(y)
    classes, y_idx = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes in y, but the data "
            f"contains only one class: {classes[0]!r}"
        )
    return classes, y_idx
