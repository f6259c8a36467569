"""The estimator: :class:`BayesianNetworkStructure` (exact score-based structure learning)."""

from __future__ import annotations

import logging
import numbers
import time

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from optml._base import ProgramEstimator
from optml.bayesnet import scores as sc
from optml.bayesnet._data import encode
from optml.bayesnet.candidates import candidate_parent_sets

logger = logging.getLogger("optml")


class BayesianNetworkStructure(ProgramEstimator, BaseEstimator):
    r"""Certified score-based structure learning of a discrete Bayesian network.

    Maximises a decomposable score (BIC or BDeu) over directed acyclic graphs as the integer
    program of Jaakkola et al. (2010), Cussens (2011) and Bartlett and Cussens (2017): one
    binary per (node, candidate parent set), one parent set per node, the cluster
    constraints separated lazily (:func:`optml.formulations.bayesnet.bayesnet_program`).
    The candidate parent sets are pruned as de Campos and Ji (2011) do
    (:mod:`optml.bayesnet.candidates`). See ``docs/bayesnet.md``.

    Parameters
    ----------
    scoring : {"bic", "bdeu"}, default "bic"
        The local score (:mod:`optml.bayesnet.scores`). (Not ``score``: scikit-learn
        reserves that name for a method.)
    max_parents : int or None, default 3
        Largest parent set; None: only the pruning bounds limit them (few variables only).
    equivalent_sample_size : float, default 1.0
        BDeu's :math:`\alpha`; also the Dirichlet pseudo-count of :meth:`score_samples`.
    required_edges, forbidden_edges : list of (parent, child), optional
        Arcs the DAG must hold / must not hold, by feature name (a DataFrame's columns) or
        column index.
    order : list, optional
        A node order (names or indices): every arc goes from an earlier node to a later one.
    backend, solver, time_limit, mip_gap, verbose, solver_options
        The common solve parameters (``docs/solvers.md``). The time limit covers the whole
        fit, the scoring of the candidate sets included.

    Attributes
    ----------
    adjacency_ : ndarray of shape (p, p)
        ``adjacency_[i, j] = 1`` when feature ``i`` is a parent of feature ``j``.
    edges_ : list of (str, str)
        The arcs ``(parent, child)`` by feature name.
    parents_ : dict
        Feature name -> list of its parents' names.
    score_ : float
        The network's total score (the certified objective).
    candidates_ : CandidateSets
        The candidate parent sets and their local scores; ``candidates_.stats`` counts the
        sets scored and kept, and whether the enumeration finished within the time limit.
    program_, result_
        The integer program and its certified result (status, objective, bound, gap).
    feature_names_in_, n_features_in_, categories_, cardinalities_
        The variables and their states.

    Examples
    --------
    >>> from optml.data import sample_network
    >>> from optml.bayesnet import BayesianNetworkStructure
    >>> X = sample_network("asia", n=2000, random_state=0)
    >>> bn = BayesianNetworkStructure(scoring="bic", max_parents=2).fit(X)
    >>> bn.result_.status
    'optimal'
    """

    def __init__(
        self,
        scoring: str = "bic",
        max_parents: int | None = 3,
        equivalent_sample_size: float = 1.0,
        required_edges=None,
        forbidden_edges=None,
        order=None,
        backend: str = "auto",
        solver: str | None = None,
        time_limit: float | None = None,
        mip_gap: float | None = None,
        verbose: bool = False,
        solver_options: dict | None = None,
    ):
        self.scoring = scoring
        self.max_parents = max_parents
        self.equivalent_sample_size = equivalent_sample_size
        self.required_edges = required_edges
        self.forbidden_edges = forbidden_edges
        self.order = order
        self.backend = backend
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.verbose = verbose
        self.solver_options = solver_options

    # ------------------------------------------------------------------ parameters and data

    def _check_params(self):
        score = sc.check_score(self.scoring)
        mp = self.max_parents
        if mp is not None and (
            isinstance(mp, bool) or not isinstance(mp, numbers.Integral) or mp < 0
        ):
            raise ValueError(f"max_parents must be a non-negative integer or None, got {mp!r}")
        ess = self.equivalent_sample_size
        if isinstance(ess, bool) or not isinstance(ess, numbers.Real) or not ess > 0:
            raise ValueError(f"equivalent_sample_size must be a positive number, got {ess!r}")
        return score, mp, float(ess)

    def _index(self, names, p, item, what):
        if isinstance(item, (numbers.Integral, np.integer)) and not isinstance(item, bool):
            if not 0 <= int(item) < p:
                raise ValueError(f"{what}: index {item} out of range for {p} features")
            return int(item)
        if names is not None and str(item) in names:
            return names.index(str(item))
        known = names if names is not None else list(range(p))
        raise ValueError(f"{what}: unknown feature {item!r}; the features are {known}")

    def _arcs(self, arcs, names, p, what):
        if arcs is None:
            return []
        out = []
        for a in arcs:
            if not isinstance(a, (tuple, list)) or len(a) != 2:
                raise ValueError(f"{what} must be a list of (parent, child) pairs, got {a!r}")
            u = self._index(names, p, a[0], what)
            v = self._index(names, p, a[1], what)
            if u == v:
                raise ValueError(f"{what}: the arc {a!r} is a self-loop")
            out.append((u, v))
        return out

    def _prepare(self, X):
        score, mp, ess = self._check_params()
        codes, card, cats, names = encode(X)
        p = codes.shape[1]
        display = names if names is not None else [f"x{j}" for j in range(p)]
        req = self._arcs(self.required_edges, names, p, "required_edges")
        forb = self._arcs(self.forbidden_edges, names, p, "forbidden_edges")
        clash = set(req) & set(forb)
        if clash:
            raise ValueError(f"arcs both required and forbidden: {sorted(clash)}")
        order = None
        if self.order is not None:
            order = [self._index(names, p, v, "order") for v in self.order]
            if sorted(order) != list(range(p)):
                raise ValueError(
                    f"order must list every feature exactly once ({p} features), got "
                    f"{list(self.order)!r}"
                )
            pos = {v: i for i, v in enumerate(order)}
            bad = [(u, v) for u, v in req if pos[u] > pos[v]]
            if bad:
                raise ValueError(f"required arcs against the given order: {bad}")
        _check_acyclic(p, req)
        return codes, card, cats, names, display, score, mp, ess, req, forb, order

    # ------------------------------------------------------------------ build and fit

    def _build(self, X, settings=None):
        from optml.formulations.bayesnet import bayesnet_program

        codes, card, cats, names, display, score, mp, ess, req, forb, order = self._prepare(X)
        t0 = time.perf_counter()
        cand = candidate_parent_sets(
            codes,
            card,
            score=score,
            ess=ess,
            max_parents=mp,
            required=req,
            forbidden=forb,
            order=order,
            deadline=None if settings is None else settings.deadline,
        )
        cand.stats["time"] = time.perf_counter() - t0
        logger.info(
            "bayesnet: %d parent sets scored, %d kept (%.2f s)",
            cand.stats["scored"],
            cand.stats["kept"],
            cand.stats["time"],
        )
        prog = bayesnet_program(cand.parents, cand.scores, node_names=display)
        return prog, cand, (codes, card, cats, names, display, ess)

    def build_program(self, X, y=None):
        """The integer program for ``X`` (candidate sets scored, cluster cuts lazy)."""
        return self._build(X)[0]

    def fit(self, X, y=None):
        """Learn the highest-scoring DAG of the discrete table ``X`` (``y`` is ignored).

        ``X``: an int/str/bool array or a pandas DataFrame (categorical or object columns;
        the column names become the feature names).
        """
        from optml.formulations.bayesnet import decode, greedy_start

        settings = self._settings(mip=True).started()
        prog, cand, (codes, card, cats, names, display, ess) = self._build(X, settings)
        backend, solver = self.backend, self.solver
        if backend == "auto" and solver is None and _has_scip():
            # SCIP enforces the cluster cuts inside one branch and bound (a constraint
            # handler) and keeps DAG incumbents only; the re-solve loop of the other solvers
            # re-starts the MIP after each round of cuts (10x slower on child)
            backend, solver = "pyomo", "scip"
        start = {"x": greedy_start(prog)}
        res = self._solve(
            prog,
            mip=True,
            settings=settings.replace(warm_start=start),
            backend=backend,
            solver=solver,
        )
        parents = decode(prog, res.values["x"])
        p = codes.shape[1]
        A = np.zeros((p, p), dtype=int)
        for v, S in enumerate(parents):
            A[list(S), v] = 1
        self.candidates_ = cand
        self.adjacency_ = A
        self.parent_indices_ = [tuple(S) for S in parents]
        self.edges_ = [(display[u], display[v]) for v in range(p) for u in parents[v]]
        self.parents_ = {display[v]: [display[u] for u in parents[v]] for v in range(p)}
        self.score_ = float(res.objective)
        self.n_features_in_ = p
        if names is not None and all(isinstance(c, str) for c in X.columns):
            self.feature_names_in_ = np.asarray(names, dtype=object)
        self.node_names_ = list(display)
        self.categories_ = cats
        self.cardinalities_ = card
        # the network's probability tables: posterior means under BDeu's Dirichlet prior
        self.cpts_ = []
        for v in range(p):
            S = list(parents[v])
            q = int(np.prod(card[S])) if S else 1
            r = int(card[v])
            cfg = np.ravel_multi_index(tuple(codes[:, S].T), tuple(card[S])) if S else 0
            N = np.bincount(np.asarray(cfg) * r + codes[:, v], minlength=q * r).reshape(q, r)
            a = ess / (q * r)
            self.cpts_.append((N + a) / (N.sum(axis=1, keepdims=True) + a * r))
        return self

    # ------------------------------------------------------------------ using the network

    def score_samples(self, X):
        """Log-probability of each row of ``X`` under the fitted network (its tables
        :attr:`cpts_` are the posterior means with BDeu's Dirichlet prior of
        ``equivalent_sample_size``)."""
        check_is_fitted(self, "adjacency_")
        if hasattr(X, "shape") and len(X.shape) == 2 and X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        codes, _, _, _ = encode(X, categories=self.categories_)
        if codes.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {codes.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        card = self.cardinalities_
        out = np.zeros(codes.shape[0])
        for v, S in enumerate(self.parent_indices_):
            S = list(S)
            cfg = np.ravel_multi_index(tuple(codes[:, S].T), tuple(card[S])) if S else 0
            out += np.log(self.cpts_[v][cfg, codes[:, v]])
        return out

    def to_networkx(self):
        """The learnt DAG as a ``networkx.DiGraph`` (nodes: feature names)."""
        check_is_fitted(self, "adjacency_")
        try:
            import networkx as nx
        except ImportError as exc:
            raise ImportError(
                "to_networkx needs networkx, an optional dependency: pip install networkx "
                "(adjacency_, edges_ and parents_ hold the same graph without it)"
            ) from exc
        G = nx.DiGraph()
        G.add_nodes_from(self.node_names_)
        G.add_edges_from(self.edges_)
        return G

    #: the model as its references write it (kept here: optml.formulations.latex.FORMULAS
    #: lists the estimators of the original families)
    FORMULA = (
        r"\max_{x}\ \sum_{v \in V} \sum_{S \in \mathcal P_v} s(v, S)\, x_{v,S}"
        r" \quad\text{s.t.}\quad \sum_{S \in \mathcal P_v} x_{v,S} = 1\ (v \in V),\ "
        r"\sum_{v \in C} \sum_{S \in \mathcal P_v,\ S \cap C = \emptyset} x_{v,S} \ge 1"
        r"\ (C \subseteq V,\ |C| \ge 2),\ x \in \{0, 1\}"
    )
    REFERENCE = (
        "Jaakkola, Sontag, Globerson and Meila (2010), Learning Bayesian network structure "
        "using LP relaxations, AISTATS; Cussens (2011), Bayesian network learning with "
        "cutting planes, UAI; Bartlett and Cussens (2017), Integer linear programming for "
        "the Bayesian network structure learning problem, Artificial Intelligence 244."
    )

    def formula_latex(self, values: bool = False) -> str:
        """The integer program as its references write it (LaTeX); ``values=True`` appends
        the score and ``max_parents``. The program actually solved is
        ``build_program(X).to_latex()``."""
        if not values:
            return self.FORMULA
        mp = "\\infty" if self.max_parents is None else str(self.max_parents)
        return self.FORMULA + rf"\quad (s = \mathrm{{{str(self.scoring).upper()}}},\ |S| \le {mp})"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags


def _has_scip() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyscipopt") is not None


def _check_acyclic(p, arcs):
    """Raise ValueError when the required arcs hold a directed cycle."""
    children = {u: [] for u in range(p)}
    for u, v in arcs:
        children[u].append(v)
    state = [0] * p  # 0 new, 1 on the stack, 2 done
    for s in range(p):
        if state[s]:
            continue
        stack = [(s, iter(children[s]))]
        state[s] = 1
        while stack:
            u, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[u] = 2
                stack.pop()
            elif state[nxt] == 1:
                raise ValueError(f"required_edges hold a directed cycle (through {nxt})")
            elif state[nxt] == 0:
                state[nxt] = 1
                stack.append((nxt, iter(children[nxt])))
