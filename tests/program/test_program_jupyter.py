"""Notebook views of Program and Result: HTML, LaTeX, Markdown."""

from __future__ import annotations

import warnings

import numpy as np

import optml as om
from optml.exceptions import SolverAccuracyWarning


def knapsack():
    p = om.Program("knap<sack>")
    x = p.var("x", 3, domain="binary")
    p.add(np.array([4.0, 3.0, 2.0]) @ x <= 5, name="capacity")
    p.maximize(np.array([5.0, 4.0, 3.0]) @ x)
    return p


def test_program_views():
    p = knapsack()
    html = p._repr_html_()
    assert "knap&lt;sack&gt;" in html  # escaped
    assert "MILP" in html and "capacity" in html and "&lt;= 5" in html
    assert "$$" in html and r"\max" in html
    tex = p._repr_latex_()
    assert tex.startswith("$$") and tex.rstrip().endswith("$$") and r"\le 5" in tex


def test_program_view_of_many_blocks_is_short():
    p = om.Program()
    x = p.var("x", 2)
    for i in range(100):
        p.add(x[0] + i * x[1] <= i, name=f"r{i}")
    html = p._repr_html_()
    assert "70 more" in html and "r99" not in html
    assert "70 more blocks" in p._repr_latex_()
    assert "r99" in p.to_latex()  # the full export keeps every block


def test_program_view_of_an_unlowerable_program_does_not_raise():
    p = om.Program()
    x = p.var("x", 2)
    p.maximize(om.sum_squares(x))  # not convex: the view says so instead of raising
    assert "not lowerable" in p._repr_html_()


def test_result_views():
    res = knapsack().solve()
    html = res._repr_html_()
    assert "optimal" in html and "#1a7f37" in html and f"<td>{res.objective:.10g}</td>" in html
    md = res._repr_markdown_()
    assert md.startswith("| | |") and "**optimal**" in md and "| gap |" in md
    bad = om.Result(status="optimal", objective=1.0, bound=0.0, gap=1.0, verified=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SolverAccuracyWarning)
        assert "NOT verified" in bad._repr_html_() and "#b35900" in bad._repr_html_()


def test_result_view_lists_duals():
    p = om.Program()
    x = p.var("x", 2, lb=0)
    p.add(om.sum(x) >= 1, name="cover")
    p.minimize(np.array([1.0, 2.0]) @ x)
    assert "cover" in p.solve()._repr_markdown_()
