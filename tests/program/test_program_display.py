"""Display: right-hand sides in summary(), readable LaTeX (data symbols, right-hand sides,
numbers, bounds as intervals, lazy families), textbook symbols by name_data."""

from __future__ import annotations

import re

import numpy as np
import pytest

import optml as om
from optml.program.display import fmt_num, name_data


def model():
    p = om.Program("demo")
    x = p.var("x", 3, lb=0, ub=1)
    y = p.var("y", 2, domain="binary")
    z = p.var("z", 3, lb=[0.0, 1.0, 2.0], ub=5)
    t = p.var("t", lb=0)
    p.add(np.array([1.0, 2.0, 3.0]) @ x <= 10, name="budget")
    p.add(om.sum(x) >= 1.5, name="cover")
    p.add(x - 2 * z <= np.array([1.0, 2.0, 3.0]), name="link")
    p.add(om.norm2(x) <= t + 1, name="ball")
    p.add_indicator(y[0], x[0] <= 0.5, name="gate")
    p.minimize(0.1 * om.norm1(x) + np.array([1.0, -2.0]) @ y + 1e-6 * om.sum(z) + t + 3.5)
    return p


def _balanced(tex: str) -> bool:
    depth = 0
    for ch in tex.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0 and tex.count(r"\left") == tex.count(r"\right")


def test_summary_shows_right_hand_sides():
    text = model().summary()
    rows = {line.split()[0]: line for line in text.splitlines()[1:] if line.startswith("    ")}
    assert rows["budget"].rstrip().endswith("<= 10")
    assert rows["cover"].rstrip().endswith(">= 1.5")
    assert rows["link"].rstrip().endswith("<= [1, 2, 3]")
    assert rows["ball"].rstrip().endswith("<= 1")  # norm2(x) - t - 1 <= 0
    assert "=> <= 0.5" in rows["gate"]
    # bounds as intervals; varying bounds named as such
    assert "[0, 1]" in rows["x"] and "[0, inf)" in rows["t"] and "lb [0, 1, 2], ub 5" in rows["z"]


def test_summary_long_right_hand_side():
    p = om.Program()
    x = p.var("x", 50)
    p.add(x <= np.arange(50.0), name="caps")
    assert "<= 0..49 (50 values)" in p.summary()


def test_latex_reads_as_written():
    tex = model().to_latex()
    assert _balanced(tex)
    assert r"a_{\text{budget}}^\top x \le 10" in tex
    assert r"\mathbf{1}^\top x \ge 1.5" in tex
    assert r"x - 2\, z \le b_{\text{link}}" in tex
    assert r"\left\| x \right\|_2 \le t + 1" in tex
    assert r"y_{0} = 1 \Rightarrow x_{0} \le 0.5" in tex
    # numbers for reading, no "+ -" and no Python exponent notation
    assert "+ -" not in tex and not re.search(r"\de-0", tex)
    assert r"10^{-6}\, \mathbf{1}^\top z" in tex and r"0.1\, \left\| x \right\|_1" in tex
    assert tex.rstrip().endswith(r"\end{aligned}")
    # domains as intervals, integer sets as sets
    assert r"x \in [0, 1]^{3}" in tex and r"y \in \{0,1\}^{2}" in tex
    assert r"t \in [0, \infty)" in tex and r"z \in [l_{z}, 5]" in tex and r"l_{z} \in [0, 2]" in tex


def test_latex_symbols_by_name_and_lazy_families():
    p = model()
    name_data(p, "budget", coef=r"\mathbf{a}", rhs="B")
    name_data(p, "link", rhs=r"\beta")
    p.add_lazy(lambda values: [], name="cuts")
    tex = p.to_latex()
    assert r"\mathbf{a}^\top x \le 10" in tex and r"\le \beta" in tex
    assert "lazy family cuts" in tex
    with pytest.raises(ValueError, match="no constraint named 'nope'"):
        name_data(p, "nope", coef="a")


def test_latex_of_estimator_programs():
    from sklearn.datasets import load_diabetes

    from optml.regression import HuberRegression, Lasso

    X, y = load_diabetes(return_X_y=True)
    for est in (Lasso(alpha=0.1), HuberRegression()):
        tex = est.build_program(X[:40], y[:40]).to_latex()
        assert _balanced(tex) and "+ -" not in tex
    tex = HuberRegression().build_program(X[:40], y[:40]).to_latex()
    assert r"\le T + \sigma" in tex  # norm2(...) <= T + sigma, as the formulation writes it


@pytest.mark.parametrize(
    "v, text",
    [
        (3.0, "3"),
        (-2.0, "-2"),
        (0.25, "0.25"),
        (1e-6, "10^{-6}"),
        (2.5e-7, r"2.5 \cdot 10^{-7}"),
        (np.inf, r"\infty"),
        (1 / 3, "0.3333"),
    ],
)
def test_numbers_for_reading(v, text):
    assert fmt_num(v) == text
