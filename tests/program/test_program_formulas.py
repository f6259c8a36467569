"""Each estimator's textbook formula (optml.formulations.latex): every estimator has one, the
LaTeX is well formed, the hyper-parameters it names exist, and values are substituted."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from optml._base import ProgramEstimator
from optml.formulations.latex import FORMULAS, formula_latex, formula_reference


def _estimators():
    out = []
    for mod in ("regression", "classification", "clustering", "decomposition", "nn"):
        m = importlib.import_module(f"optml.{mod}")
        for name in getattr(m, "__all__", dir(m)):
            obj = getattr(m, name, None)
            if inspect.isclass(obj) and issubclass(obj, ProgramEstimator):
                out.append(obj)
    return out


ESTIMATORS = _estimators()


def _balanced(tex):
    depth = 0
    for ch in tex.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, tex
    return depth == 0 and tex.count(r"\left") == tex.count(r"\right")


def test_every_estimator_has_a_formula():
    assert len(ESTIMATORS) >= 20
    missing = [c.__name__ for c in ESTIMATORS if c.__name__ not in FORMULAS]
    assert not missing


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_formula_is_well_formed_and_names_real_parameters(cls):
    f = FORMULAS[cls.__name__]
    assert _balanced(f.latex) and f.latex.startswith(r"\m")  # \min or \max
    assert re.search(r"\((1[789]|20)\d\d\)", f.reference)  # a year
    params = set(inspect.signature(cls.__init__).parameters)
    assert set(f.params) <= params, set(f.params) - params
    for sym in f.params.values():
        assert sym in f.latex


def test_values_are_substituted_and_subclasses_fall_back():
    from optml.regression import ElasticNet, LeastAbsoluteDeviation

    tex = formula_latex(ElasticNet(alpha=0.5, l1_ratio=0.25), values=True)
    assert tex.endswith(r"(\alpha = 0.5,\ \rho = 0.25)")
    assert formula_latex("ElasticNet") == FORMULAS["ElasticNet"].latex

    class MyLAD(LeastAbsoluteDeviation):
        pass

    assert formula_latex(MyLAD()) == FORMULAS["LeastAbsoluteDeviation"].latex
    assert "Koenker" in formula_reference("QuantileRegression")
    with pytest.raises(KeyError, match="known estimators"):
        formula_latex("NoSuchModel")
