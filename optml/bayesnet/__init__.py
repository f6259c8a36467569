"""Bayesian network structure learning as an integer program (certified, exact).

* :class:`BayesianNetworkStructure` -- the highest-scoring DAG of discrete data (BIC or BDeu),
  with known, forbidden arcs and a node order; the cluster constraints are lazy;
* :mod:`optml.bayesnet.scores` -- the local scores; :mod:`optml.bayesnet.candidates` --
  candidate parent sets with de Campos and Ji's pruning.

See ``docs/bayesnet.md`` for the model in LaTeX and its references. The classic networks
(asia, sachs, child, alarm) and a sampler are in :mod:`optml.data`
(:func:`~optml.data.sample_network`).
"""

from optml.bayesnet._estimator import BayesianNetworkStructure
from optml.bayesnet.candidates import CandidateSets, candidate_parent_sets
from optml.bayesnet.scores import local_score, network_score

__all__ = [
    "BayesianNetworkStructure",
    "CandidateSets",
    "candidate_parent_sets",
    "local_score",
    "network_score",
]
