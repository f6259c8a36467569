r"""Best subset selection by outer approximation (Bertsimas and Van Parys 2020).

Registered as the special solver ``"best-subset-oa"`` for structured problems of kind
``"best_subset"`` (:class:`~optml.formulations.subset.BestSubsetProblem`).

The value :math:`F(s)` of the inner least-squares problem on the support :math:`s` is convex
in :math:`s` once the ridge part :math:`\bar\alpha = \alpha + \delta` is split off
(:mod:`optml.algorithms.best_subset_bounds`; :math:`\delta \le \lambda_{\min}(X_c^\top X_c)`
is the perspective shift that makes ``alpha = 0`` work whenever :math:`X_c^\top X_c` is
nonsingular), and each support gives a supporting hyperplane of it in closed form. The master
problem is the MILP

.. math::

    \min_{\eta,\ s \in \{0,1\}^p}\ \eta \quad\text{s.t.}\quad \sum_j s_j \le k,\quad
    \eta \ge \mathrm{const}_t + h_t^\top s\ \ (t = 1, 2, \dots),

with the cut family added **lazily** (:meth:`optml.program.Program.add_lazy`): at every
candidate support the separator computes :math:`F(\bar s)` exactly (a k-by-k solve) and returns
the cut when :math:`\eta < F(\bar s)`. SCIP (through Pyomo) adds them inside one branch and
bound with a constraint handler; any other MILP solver (HiGHS) runs the re-solve loop. Before
the master: the heuristics' incumbent, its cut, the cut of the perspective relaxation's
solution (which alone makes the master's LP bound equal to the perspective relaxation's), and
safe screening (a feature whose forced entry, or exit, provably costs more than the incumbent
is fixed out, or in).

**Certificate.** Every cut is valid for every support, so the master's bound is a lower bound
on the best subset (as is the relaxation's dual bound); the incumbent is the best support met,
with its objective recomputed in numpy by the certificate factory.
"""

from __future__ import annotations

import logging
import time

import numpy as np

import optml.program as om
from optml.algorithms.best_subset_bounds import SubsetBounds
from optml.algorithms.best_subset_heuristics import SubsetProblem
from optml.backends.base import RawAnswer, SpecialSolver
from optml.backends.registry import register_special
from optml.program.result import relative_gap

logger = logging.getLogger("optml")


def heuristic_of(problem) -> SubsetProblem:
    """The heuristics' view of ``problem`` (support fits, local search)."""
    return SubsetProblem(
        problem.gram,
        problem.k,
        problem.alpha,
        problem.lb,
        problem.ub,
        problem.groups or None,
        problem.exclusive_pairs or None,
    )


class Incumbent:
    """The best support met so far (a feasible point and its objective)."""

    def __init__(self, problem, heur):
        self.problem, self.heur = problem, heur
        beta = np.asarray(problem.start, float)
        S = problem.closure(np.flatnonzero(beta))
        if heur.feasible(S):
            b, f = heur.fit_support(S)
            if f > problem.objective(beta):
                b, f = beta, problem.objective(beta)
        else:
            b, f = np.zeros(problem.p), problem.objective(np.zeros(problem.p))
        self.beta, self.value = b, f

    def offer(self, beta, value) -> bool:
        if value < self.value:
            self.beta, self.value = np.asarray(beta, float).copy(), float(value)
            return True
        return False


def start_phase(problem, settings, screen=True):
    """Incumbent, bounds and the root relaxation: ``(heur, bounds, incumbent, root, fixed)``.

    ``root`` is ``(bound, beta, s, T, lam)`` of the perspective relaxation (None when it
    does not apply; ``lam`` its cardinality multiplier); ``fixed`` maps screened features to 0 (out) or 1 (in)."""
    heur = heuristic_of(problem)
    inc = Incumbent(problem, heur)
    bounds = SubsetBounds(problem, heur)
    root, fixed = None, {}
    if bounds.aeff > 0 or bounds.boxed:
        # the perspective relaxation (boxed where there is a box) through its Lagrangian dual
        # over the cardinality multiplier, by active-set proximal gradient / Newton
        from optml.algorithms.best_subset_l0 import CardinalityLagrangian

        bounds.lagrangian = CardinalityLagrangian(bounds)
        root = bounds.lagrangian.relaxation(
            T0=np.flatnonzero(inc.beta), beta0=inc.beta, deadline=settings.deadline
        )
        # the relaxation's own rounding: the k largest s
        D, beta, s, T, _ = root
        top = [T[i] for i in np.argsort(-s)[: problem.k]]
        S = problem.closure(top)
        if heur.feasible(S):
            inc.offer(*bounds.support_value(S))
        if screen and np.isfinite(D) and not problem.groups and not problem.exclusive_pairs:
            fixed = screening(bounds, beta, inc.value)
    return heur, bounds, inc, root, fixed


def screening(bounds, beta, upper) -> dict:
    """Safe screening from one dual point: fix out every feature whose entry forces the dual
    bound above ``upper`` and fix in every feature whose exit does (both valid: the dual bound
    with a fixing is a lower bound on every support with that fixing)."""
    const, h = bounds.cut(beta)
    k = bounds.k
    neg_idx = np.flatnonzero(h < 0)
    order = neg_idx[np.argsort(h[neg_idx])]
    top = order[:k]
    base = const + float(h[top].sum())
    kth = h[top[-1]] if top.size == k else 0.0  # the k-th most negative (0 if fewer)
    nxt = h[order[k]] if order.size > k else 0.0
    fixed = {}
    margin = 1e-9 * max(1.0, abs(upper))
    in_top = np.zeros(bounds.p, bool)
    in_top[top] = True
    # forcing j in: it replaces the k-th most negative (when j is not among the top)
    forced_in = np.where(in_top, base, base - min(kth, 0.0) + h)
    # forcing j out: the (k+1)-th enters in its place (when j is among the top)
    forced_out = np.where(in_top, base - h + min(nxt, 0.0), base)
    for j in np.flatnonzero(forced_in > upper + margin):
        fixed[int(j)] = 0
    for j in np.flatnonzero(forced_out > upper + margin):
        fixed[int(j)] = 1
    return fixed


class BestSubsetOA(SpecialSolver):
    name = "best-subset-oa"
    kinds = ("best_subset",)
    problem_class = "MIQP"
    is_mip = True
    description = (
        "best subset by outer approximation: master MILP over the support, closed-form cuts "
        "added lazily (SCIP callbacks or a HiGHS re-solve loop), perspective-relaxation root "
        "cut and safe screening"
    )
    reference = (
        "Bertsimas and Van Parys (2020), Sparse high-dimensional regression: exact scalable "
        "algorithms and phase transitions, Ann. Statist. 48(1)"
    )

    def solve(self, problem, settings) -> RawAnswer:
        from optml.solve import special_settings_check

        special_settings_check(settings, self.name)
        t0 = time.perf_counter()
        settings = settings.started(t0)
        tol = self.gap_tolerance(settings)
        if getattr(problem, "l0", 0.0) > 0:
            return RawAnswer(
                status="error",
                values=problem.values(problem.start),
                objective=problem.objective(problem.start),
                message=(
                    "the outer approximation takes the cardinality form only; the penalised "
                    "form (l0 > 0) is solved by 'l0-bnb' or the MIQP (method='mip')"
                ),
                solve_time=time.perf_counter() - t0,
            )
        heur, bounds, inc, root, fixed = start_phase(problem, settings)
        if not bounds.applicable:
            return RawAnswer(
                status="error",
                values=problem.values(inc.beta),
                objective=inc.value,
                message=(
                    "outer approximation needs alpha > 0 or a nonsingular X'X (alpha = 0 with "
                    "more features than samples leaves the cuts void); use the MIQP "
                    "(method='mip')"
                ),
                solve_time=time.perf_counter() - t0,
            )
        lower = 0.0  # F is a sum of squares
        cuts0 = [bounds.cut(inc.beta)]
        if root is not None:
            lower = max(lower, root[0])
            cuts0.append(bounds.cut(root[1]))
        stats = {
            "delta": bounds.delta,
            "root_bound": lower,
            "screened_out": sum(1 for v in fixed.values() if v == 0),
            "screened_in": sum(1 for v in fixed.values() if v == 1),
        }
        if relative_gap(inc.value, lower) <= tol:
            stats.update(rounds=0, cuts=0, support_fits=bounds.fits)
            return self._answer(problem, inc, lower, "optimal", stats, t0, "root relaxation")
        left = settings.remaining()
        if left is not None and left < 0.05 * (settings.time_limit or 0.0) + 0.2:
            stats.update(rounds=0, cuts=0, support_fits=bounds.fits)
            msg = "time limit reached before the master MILP"
            return self._answer(problem, inc, lower, "time_limit", stats, t0, msg)
        master, sep_stats = self._master(problem, bounds, heur, inc, cuts0, fixed)
        from optml.solve import solve

        sub = settings.replace(
            warm_start={"support": problem.values(inc.beta)["support"], "eta": inc.value},
            mip_gap=tol,
            options={},
        )
        backend, solver = _master_solver(problem)
        res = solve(master, backend=backend, solver=solver, settings=sub)
        if res.has_solution:
            s = np.asarray(res.values["support"]) > 0.5
            inc.offer(*bounds.support_value(np.flatnonzero(s)))
        if np.isfinite(res.bound):
            lower = max(lower, float(res.bound))
        stats.update(
            {
                "master": f"{res.backend}/{res.solver}",
                "master_status": res.status,
                "rounds": res.stats.get("rounds", 1),
                "cuts": res.stats.get("cuts", 0) + len(cuts0),
                "route": res.stats.get("route"),
                "support_fits": bounds.fits,
                "separations": sep_stats["calls"],
            }
        )
        if relative_gap(inc.value, lower) <= tol:
            status = "optimal"
        elif res.status in ("time_limit", "interrupted", "optimal"):
            status = "time_limit" if res.status != "interrupted" else "interrupted"
        else:
            status = "error"
        return self._answer(problem, inc, lower, status, stats, t0, res.message)

    def _master(self, problem, bounds, heur, inc, cuts0, fixed):
        p = problem.p
        lb = np.zeros(p)
        ub = np.ones(p)
        for j, v in fixed.items():
            lb[j] = ub[j] = float(v)
        m = om.Program("best_subset_oa_master")
        s = m.var("support", p, domain="binary", lb=lb, ub=ub, latex="s")
        eta = m.var("eta", (), lb=0.0, latex=r"\eta")  # F >= 0 (a sum of squares)
        m.add(s.sum() <= problem.k, name="cardinality")
        for g in problem.groups:
            for j in g[1:]:
                m.add(s[j] - s[g[0]] == 0, name=f"group_{g[0]}_{j}")
        if problem.exclusive_pairs:
            P = np.asarray(problem.exclusive_pairs, dtype=int).reshape(-1, 2)
            m.add(s[P[:, 0]] + s[P[:, 1]] <= 1, name="correlated_pairs")
        for i, (const, h) in enumerate(cuts0):
            m.add(eta - h @ s >= const, name=f"cut0_{i}")
        stats = {"calls": 0}

        def separate(values):
            stats["calls"] += 1
            sv = np.asarray(values["support"], float).ravel()
            S = np.flatnonzero(sv > 0.5)
            beta, F = bounds.support_value(S)
            if heur.feasible(S) and all(sv[j] > 0.5 for j, v in fixed.items() if v == 1):
                inc.offer(beta, F)  # a solver's candidate may break the cardinality
            e = float(np.asarray(values["eta"]).ravel()[0])
            if e >= F - 1e-9 * max(1.0, abs(F)):
                return []
            const, h = bounds.cut(beta)
            return [eta - h @ s >= const]

        m.add_lazy(separate, name="oa_cuts")
        m.minimize(eta)
        return m, stats

    def _answer(self, problem, inc, lower, status, stats, t0, message):
        return RawAnswer(
            status=status,
            values=problem.values(inc.beta),
            objective=inc.value,
            bound=lower if np.isfinite(lower) else None,
            message=message,
            stats=stats,
            solve_time=time.perf_counter() - t0,
        )


def _master_solver(problem):
    """Where the master MILP goes: the problem's ``sub_backend``/``sub_solver``, else SCIP
    through Pyomo (callbacks) when installed, else the automatic MILP choice (a loop)."""
    if problem.sub_solver is not None or problem.sub_backend != "auto":
        return problem.sub_backend, problem.sub_solver
    from optml.backends.registry import available

    if any(r["backend"] == "pyomo" and r["solver"] == "scip" for r in available()):
        return "pyomo", "scip"
    return "auto", None


register_special(BestSubsetOA(), module=__name__)
