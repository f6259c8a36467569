r"""Solver settings: one solver-neutral object for every solve, internal ones included.

:class:`SolveSettings` holds what a user can ask of any solver (the names of
MathOptInterface's ``TimeLimitSec``, ``RelativeGapTolerance``, ``NumberOfThreads``, ``Silent``
and ``RawOptimizerAttribute``). Each backend maps it to its solvers' own option names with a
table; nothing here knows a solver.

Estimators build one from their common parameters (``time_limit``, ``mip_gap``, ``verbose``,
``solver_options``) with :meth:`SolveSettings.from_params`; ``threads`` and ``seed`` are the two
documented keys of ``solver_options`` that are read as settings rather than passed on raw.
Warm-start values travel with the solve (:attr:`SolveSettings.warm_start`) and are never stored
in a program's cached lowering.
"""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass, field, replace
from typing import Any

#: keys of ``solver_options`` read as settings (mapped to each solver's own name by its backend)
SETTING_KEYS = ("threads", "seed")


@dataclass(frozen=True)
class SolveSettings:
    """What one solve may use and must stop at.

    Attributes
    ----------
    time_limit : float or None
        Wall-clock seconds for the whole solve, every internal solve and heuristic included.
    mip_gap : float or None
        Relative gap at which a mixed-integer solve may stop (the solver's default when None).
    threads : int or None
        Threads the solver may use (``solver_options={"threads": 1}``).
    seed : int or None
        The solver's random seed (``solver_options={"seed": 0}``).
    verbose : bool
        Stream the solver's log (through the ``optml`` logger for optml's own algorithms).
    warm_start : dict or None
        Starting values by variable name for this solve only.
    options : dict
        Raw options, handed to the solver under its own names.
    deadline : float or None
        ``time.perf_counter()`` value by which everything must be done; set by
        :meth:`started` so that nested solves share one clock.
    """

    time_limit: float | None = None
    mip_gap: float | None = None
    threads: int | None = None
    seed: int | None = None
    verbose: bool = False
    warm_start: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    deadline: float | None = None

    def __post_init__(self):
        tl = self.time_limit
        if tl is not None and (
            not isinstance(tl, numbers.Real) or isinstance(tl, bool) or not (0 < tl < float("inf"))
        ):
            raise ValueError(f"time_limit must be a positive number of seconds or None, got {tl!r}")
        gap = self.mip_gap
        if gap is not None and (
            not isinstance(gap, numbers.Real) or isinstance(gap, bool) or not 0 <= gap < 1
        ):
            raise ValueError(f"mip_gap must be a number in [0, 1) or None, got {gap!r}")
        for key in SETTING_KEYS:
            v = getattr(self, key)
            if v is not None and (not isinstance(v, numbers.Integral) or isinstance(v, bool)):
                raise TypeError(f"solver option {key!r} must be an integer, got {v!r}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"solver option 'threads' must be at least 1, got {self.threads}")
        if not isinstance(self.options, dict):
            raise TypeError(
                f"solver_options must be a dict or None, got {type(self.options).__name__}"
            )

    @classmethod
    def from_params(
        cls,
        time_limit=None,
        mip_gap=None,
        verbose=False,
        solver_options=None,
        warm_start=None,
    ) -> SolveSettings:
        """Settings from an estimator's (or ``Program.solve``'s) parameters.

        ``threads`` and ``seed`` are taken out of ``solver_options``; every other key stays a raw
        option of the solver.
        """
        if solver_options is not None and not isinstance(solver_options, dict):
            raise TypeError(
                f"solver_options must be a dict or None, got {type(solver_options).__name__}"
            )
        opts = dict(solver_options or {})
        picked = {k: opts.pop(k) for k in SETTING_KEYS if k in opts}
        return cls(
            time_limit=None if time_limit is None else time_limit,
            mip_gap=mip_gap,
            verbose=bool(verbose),
            warm_start=warm_start or None,
            options=opts,
            **picked,
        )

    # ------------------------------------------------------------- derived settings
    def started(self, t0: float | None = None) -> SolveSettings:
        """These settings with the clock started at ``t0`` (now by default), unless running."""
        if self.deadline is not None or self.time_limit is None:
            return self
        t0 = time.perf_counter() if t0 is None else t0
        return replace(self, deadline=t0 + float(self.time_limit))

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no limit); never below zero."""
        if self.deadline is None:
            return None if self.time_limit is None else float(self.time_limit)
        return max(0.0, self.deadline - time.perf_counter())

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0.0

    def for_internal(self, floor: float = 0.05, **changes) -> SolveSettings:
        """Settings for a solve inside this one: the time left as its limit (at least
        ``floor`` seconds), no warm start unless given, the same threads, seed and raw options.
        """
        left = self.remaining()
        tl = None if left is None else max(floor, left)
        kw = {"time_limit": tl, "warm_start": None}
        kw.update(changes)
        return replace(self, **kw)

    def replace(self, **changes) -> SolveSettings:
        return replace(self, **changes)

    def as_solver_options(self) -> dict[str, Any]:
        """Raw options with ``threads`` and ``seed`` put back (for APIs that take one dict)."""
        opts = dict(self.options)
        for key in SETTING_KEYS:
            if getattr(self, key) is not None:
                opts[key] = getattr(self, key)
        return opts
