"""Machine teaching and training-set attacks: bilevel programs made single-level through the
learner's optimality conditions (docs/teaching.md).

* :class:`TeachingSet` -- the fewest (or cheapest) pool examples, with multiplicities, that
  make a ridge, linear SVM or logistic learner return a target model (exactly or within a
  tolerance); ``verify()`` retrains the learner on the chosen set.
* :class:`PoisoningAttack` -- the fewest removed, relabelled or added points that move the
  ridge learner to an attacker's model or to a prediction constraint (Mei and Zhu 2015).
* :func:`teaching_dimension` -- the classic teaching dimension of a finite class (1-D
  thresholds: 2).

These are *not* scikit-learn predictors: ``fit`` takes a pool and a target model and returns
the teacher's (or the attacker's) choice; there is no ``predict``/``transform``. They keep
scikit-learn's parameter conventions (``get_params``/``set_params``, ``fit`` returning
``self``, fitted attributes ending in ``_``) but are not listed in ``tests/test_common.py``,
whose checks are those of predictors (the package is not one of its ``FAMILIES``).
"""

from optml.teaching._dimension import teaching_dimension
from optml.teaching._poisoning import PoisoningAttack
from optml.teaching._teaching import TeachingCheck, TeachingSet

__all__ = ["PoisoningAttack", "TeachingCheck", "TeachingSet", "teaching_dimension"]
