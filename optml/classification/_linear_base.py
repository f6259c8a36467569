"""What the linear / kernel classifiers share: label handling, one-vs-rest, validation.

A subclass implements ``_build_binary(X, s)`` (a Program for labels ``s`` in {-1, +1}) and
``_fit_binary(X, s)`` returning a :class:`BinaryFit`; :class:`LinearProgramClassifier` turns
that into a scikit-learn classifier, one-vs-rest when there are more than two classes.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from optml._base import ProgramEstimator, encode_classes
from optml._validation import check_choice, check_positive  # noqa: F401  (re-exported)
from optml.exceptions import SolveError
from optml.formulations.classification import _linear_values, one_vs_rest


@dataclass
class BinaryFit:
    """One binary (+1 vs -1) fit."""

    coef: np.ndarray | None
    intercept: float
    program: object
    result: object
    extra: dict = field(default_factory=dict)


def _as_program(target):
    from optml.program.structured import StructuredProblem

    return target.program if isinstance(target, StructuredProblem) else target


class FeatureBudgetMixin:
    """The parameter ``k`` of the sparse linear classifiers: at most ``k`` features in the
    model."""

    def _check_k(self) -> None:
        if not isinstance(self.k, numbers.Integral) or isinstance(self.k, bool) or self.k < 1:
            raise ValueError(f"k must be a positive integer, got {self.k!r}")

    def _k(self, p):
        """``k``, or ``p`` with a UserWarning when the data have fewer features (as
        scikit-learn's ``SelectKBest`` does)."""
        if self.k > p:
            import warnings

            warnings.warn(
                f"k={self.k} is greater than n_features={p}: every feature may enter the model "
                f"(k = {p})",
                UserWarning,
                stacklevel=3,
            )
            return int(p)
        return int(self.k)


class LinearProgramClassifier(ClassifierMixin, ProgramEstimator):
    """Base of the binary-program classifiers (one-vs-rest for three or more classes).

    Fitted attributes: ``classes_``, ``coef_`` (1, p) or (K, p), ``intercept_``, ``program_``
    and ``result_`` (of the first binary problem; all in ``programs_`` / ``results_``).
    """

    def _check_params(self) -> None:  # subclasses add their own checks
        self._check_common_params()

    # -------------------------------------------------------------- data handling
    def _validate_xy(self, X, y, reset=True):
        from optml._data_checks import check_frame, check_scale

        check_frame(self, X)
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2, reset=reset)
        check_scale(self, X)
        classes, yi = encode_classes(self, y)
        return X, classes, yi

    def _binary_task(self, X, y):
        """``(X, s)`` of a two-class ``build_problem(X, y)`` (labels ``s`` in {-1, +1})."""
        self._check_params()
        X, classes, yi = self._validate_xy(X, y)
        if classes.size != 2:
            raise ValueError(
                f"build_problem is for two classes (one binary problem), got {classes.size}; "
                "use build_program for the one-vs-rest program"
            )
        return X, self._tasks(classes, yi)[0]

    @staticmethod
    def _tasks(classes, yi):
        if classes.size == 2:
            return [np.where(yi == 1, 1.0, -1.0)]
        return [np.where(yi == k, 1.0, -1.0) for k in range(classes.size)]

    def build_program(self, X, y):
        """The Program ``fit`` solves: the binary program, or for three or more classes one
        program with a block per class (one-vs-rest).

        The blocks are independent, so the sum of their objectives has the same minimiser as
        the separate fits; block ``k`` (class ``classes_[k]``) has the variables ``w_c{k}``,
        ``b_c{k}``, ... and ``program.metadata["blocks"][k]`` maps the binary program's names to
        them (:meth:`unpack_blocks` reads a solution back per class). Change it (add a side
        constraint, fix a variable) and solve it yourself with ``program.solve(...)``.
        """
        self._check_params()
        X, classes, yi = self._validate_xy(
            X, y, reset=False if hasattr(self, "n_features_in_") else True
        )
        tasks = self._tasks(classes, yi)
        if len(tasks) == 1:
            return self._build_binary(X, tasks[0])
        progs = {c: self._build_binary(X, s) for c, s in zip(classes, tasks, strict=True)}
        return one_vs_rest(progs, name=f"{type(self).__name__}_one_vs_rest")

    @staticmethod
    def unpack_blocks(program, values) -> list[dict]:
        """Per class, the values of a one-vs-rest program's block under the binary names."""
        blocks = program.metadata.get("blocks")
        if blocks is None:
            return [dict(values)]
        return [{nm: values[new] for nm, new in b.items()} for b in blocks]

    def fit(self, X, y):
        """Fit by solving one program per binary (one-vs-rest) problem."""
        self._check_params()
        X, classes, yi = self._validate_xy(X, y)
        self.classes_ = classes
        fits = [self._fit_binary(X, s) for s in self._tasks(classes, yi)]
        self._set_fits(fits)
        return self

    def fit_program(self, program, X, y):
        """Fit by solving ``program``: one built by ``build_program(X, y)`` and changed by the
        user (a sign constraint on a coefficient, a bound on the intercept, a budget).

        Sets ``classes_``, ``coef_`` (the variable ``w``, or ``w_c{k}`` per class of a
        one-vs-rest program), ``intercept_`` (``b`` / ``b_c{k}``), ``program_``,
        ``programs_``, ``result_`` and ``results_`` (one result for the whole program) as
        :meth:`fit` does; ``predict`` and ``decision_function`` use them. ``X``, ``y`` must be
        the data the program was built from. Attributes that :meth:`fit` of a subclass adds
        (``margin_``, ``n_support_``, ``n_iter_``, ...) are not set.
        """
        from optml.program.model import Program

        if not isinstance(program, Program):
            raise TypeError(
                f"fit_program takes the optml.Program of build_program(X, y), got "
                f"{type(program).__name__}"
            )
        self._check_params()
        X, classes, yi = self._validate_xy(X, y)
        n_tasks = len(self._tasks(classes, yi))
        blocks = program.metadata.get("blocks")
        if (n_tasks > 1) != (blocks is not None) or (blocks is not None and len(blocks) != n_tasks):
            raise ValueError(
                f"the program has {1 if blocks is None else len(blocks)} binary block(s) but y "
                f"has {classes.size} classes ({n_tasks} binary problem(s)): build it with "
                "build_program(X, y) on the same data"
            )
        names = [{"w": "w", "b": "b"}] if blocks is None else blocks
        for blk in names:
            w = program.variables.get(blk.get("w", ""))
            if w is None or w.size != X.shape[1] or blk.get("b") not in program.variables:
                raise ValueError(
                    f"{type(self).__name__}.fit_program needs a program with the variables "
                    f"'w' ({X.shape[1]} entries, one per feature) and 'b' per binary block, "
                    "as build_program(X, y) makes for a linear classifier"
                )
        mip = program.canonical().is_mip
        res = self._solve_checked(program, mip=mip)
        program = self.__dict__.get("_program_", program)  # the same after a fallback solve
        self.classes_ = classes
        fits = [
            BinaryFit(*_linear_values(v), program, res)
            for v in self.unpack_blocks(program, res.values)
        ]
        self._set_fits(fits)
        return self

    def _set_fits(self, fits: list[BinaryFit]) -> None:
        if fits[0].coef is not None:
            self.coef_ = np.vstack([f.coef for f in fits])
        self.intercept_ = np.array([f.intercept for f in fits], dtype=float)
        self.results_ = [f.result for f in fits]
        self.program_ = fits[0].program
        self.result_ = fits[0].result
        self._fits = fits

    # a fit by a special solver keeps its structured problem: the program is formed on access
    @property
    def program_(self):
        """The program of the (first) binary problem, formed on first access after a fit by
        a special-purpose solver."""
        val = self.__dict__.get("_program_")
        if val is None:
            raise AttributeError(f"{type(self).__name__} has no program_ before fit")
        return _as_program(val)

    @program_.setter
    def program_(self, value):
        self.__dict__["_program_"] = value

    @property
    def programs_(self):
        """The program of every binary (one-vs-rest) problem."""
        fits = self.__dict__.get("_fits")
        if fits is None:
            raise AttributeError(f"{type(self).__name__} has no programs_ before fit")
        return [_as_program(f.program) for f in fits]

    # ------------------------------------------------------------------ predict
    def _scores(self, X) -> np.ndarray:
        return X @ self.coef_.T + self.intercept_

    def decision_function(self, X):
        """Signed distance-like scores: (n,) for two classes, (n, K) one-vs-rest."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        d = self._scores(X)
        return d.ravel() if self.classes_.size == 2 else d

    def predict(self, X):
        d = self.decision_function(X)
        if self.classes_.size == 2:
            return self.classes_[(d > 0).astype(int)]
        return self.classes_[np.argmax(d, axis=1)]

    # -------------------------------------------------------------- solve helpers
    def _solve_checked(
        self, program, mip=False, infeasible_hint=None, warm_start=None, settings=None
    ):
        """Solve with the estimator's settings (or ``settings``: the time left of a fit that
        started earlier); SolveError with a hint on infeasibility."""
        if settings is None:
            settings = self._settings(mip=mip)
        settings = settings.started()
        self.result_ = None
        try:
            res = self._solve(program, warm_start=warm_start, mip=mip, settings=settings)
        except SolveError:
            res = getattr(self, "result_", None)
            if res is not None and res.status == "infeasible" and infeasible_hint:
                raise SolveError(f"{type(self).__name__}: {infeasible_hint}") from None
            if res is None or not self._fallback_ok(res, mip):
                raise
            return self._fallback(program, settings)
        if self._fallback_ok(res, mip) and not res.verified:
            return self._fallback(program, settings)
        return res

    def _solve_named(self, problem, solver, settings=None):
        """Solve a structured problem with the special solver ``solver`` (whatever the
        estimator's ``solver``, which then names the solver of its sub-programs)."""
        return self._solve(problem, settings=settings, backend="auto", solver=solver)

    def _fallback_ok(self, res, mip) -> bool:
        """HiGHS' QP solver sometimes ends in 'Solve error' or an unverified answer (an
        earlier run saw cvxpy -> HiGHS call w = 0 optimal on an SVM): with automatic solver
        choice, a convex program is then re-solved once by Clarabel through cvxpy."""
        return (
            not mip
            and self.backend == "auto"
            and self.solver is None
            and res.backend == "highs"
            and res.problem_class in ("QP", "LP")
            and (res.status == "error" or not res.verified)
        )

    def _fallback(self, program, settings):
        import warnings

        from optml.exceptions import SolverAccuracyWarning
        from optml.solve import solve_program

        first = self.result_
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SolverAccuracyWarning)
            res = solve_program(program, "cvxpy", "clarabel", settings.for_internal())
        res.message = (
            f"HiGHS ended with {first.status!r} ({first.message}); re-solved by "
            f"Clarabel. " + res.message
        ).strip()
        self.program_, self.result_ = program, res
        if res.status not in ("optimal", "time_limit") or not res.has_solution:
            raise SolveError(
                f"{type(self).__name__}: the {res.problem_class} program ended with status "
                f"{res.status!r} (HiGHS: {first.status!r}; cvxpy/clarabel: {res.message})"
            )
        return res
