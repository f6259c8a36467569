"""summarize / profile_data / performance_profile against hand computations on a fixed table."""

from __future__ import annotations

import math

import pytest

from optml import bench


def _row(inst, solver, status, t, tl=10.0, gap=0.0, repeat=0, verified=True):
    return {
        "instance": inst,
        "backend": "b",
        "solver": solver,
        "status": status,
        "wall_time": t,
        "solve_time": t / 2,
        "time_limit": tl,
        "gap": gap,
        "verified": verified,
        "repeat": repeat,
    }


# three instances, three solvers:
#   i1: A 1 s, B 2 s, C 4 s
#   i2: A time limit (10 s, gap 0.5), B 3 s, C 3 s (a tie)
#   i3: A 2 s and 4 s (two repeats, mean 3), B crashed, C optimal but NOT verified
TABLE = [
    _row("i1", "A", "optimal", 1.0),
    _row("i1", "B", "optimal", 2.0),
    _row("i1", "C", "optimal", 4.0),
    _row("i2", "A", "time_limit", 10.3, gap=0.5),
    _row("i2", "B", "optimal", 3.0),
    _row("i2", "C", "optimal", 3.0),
    _row("i3", "A", "optimal", 2.0),
    _row("i3", "A", "optimal", 4.0, repeat=1),
    _row("i3", "B", "crashed", math.nan, gap=math.nan),
    _row("i3", "C", "optimal", 0.5, verified=False),
]


def _sgm(ts, s=1.0):
    return math.exp(sum(math.log(t + s) for t in ts) / len(ts)) - s


def test_summarize_matches_hand_computation():
    s = {r["solver"]: r for r in bench.summarize(TABLE).to_dict("records")}
    # A: times per instance 1, 10 (time limit), 3 (mean of the repeats)
    assert s["A"]["tasks"] == 4 and s["A"]["instances"] == 3 and s["A"]["solved"] == 2
    assert s["A"]["sgm_time"] == pytest.approx(_sgm([1.0, 10.0, 3.0]))
    assert s["A"]["sgm_time"] == pytest.approx((2 * 11 * 4) ** (1 / 3) - 1)
    assert s["A"]["mean_gap"] == pytest.approx((0 + 0.5 + 0) / 3)
    assert s["A"]["fastest"] == 2  # i1 and i3 (C's unverified 0.5 s does not count)
    # B: 2, 3, 10 (crash at the time limit)
    assert s["B"]["solved"] == 2 and s["B"]["failed"] == 1
    assert s["B"]["sgm_time"] == pytest.approx(_sgm([2.0, 3.0, 10.0]))
    assert s["B"]["fastest"] == 1  # tie on i2
    # C: 4, 3, 10 (not verified counts as unsolved)
    assert s["C"]["solved"] == 2 and s["C"]["failed"] == 0
    assert s["C"]["sgm_time"] == pytest.approx(_sgm([4.0, 3.0, 10.0]))
    assert s["C"]["fastest"] == 1
    # another time column and shift
    s2 = {
        r["solver"]: r
        for r in bench.summarize(TABLE, shift=10.0, time="solve_time").to_dict("records")
    }
    assert s2["A"]["sgm_time"] == pytest.approx(_sgm([0.5, 10.0, 1.5], 10.0))


def test_profile_data_matches_hand_computation():
    ratios = bench.performance_ratios(TABLE)
    # instances sorted i1, i2, i3; best times 1, 3, 3
    assert ratios["b/A"] == [1.0, math.inf, 1.0]
    assert ratios["b/B"] == [2.0, 1.0, math.inf]
    assert ratios["b/C"] == [4.0, 1.0, math.inf]
    d = bench.profile_data(TABLE)
    assert d["tau"] == [1.0, 2.0, 4.0]
    assert d["b/A"] == pytest.approx([2 / 3, 2 / 3, 2 / 3])
    assert d["b/B"] == pytest.approx([1 / 3, 2 / 3, 2 / 3])
    assert d["b/C"] == pytest.approx([1 / 3, 1 / 3, 2 / 3])
    d = bench.profile_data(TABLE, taus=[1.5, 100])
    assert d["b/B"] == pytest.approx([1 / 3, 2 / 3])


def test_profile_counts_missing_pairs_as_unsolved():
    rows = [
        _row("i1", "A", "optimal", 1.0),
        _row("i2", "A", "optimal", 1.0),
        _row("i1", "B", "optimal", 0.5),
    ]
    d = bench.profile_data(rows)
    assert d["b/B"][-1] == pytest.approx(0.5)  # B never ran i2
    assert d["b/A"] == pytest.approx([0.5, 1.0])  # tau 1: i2 only; tau 2: both


def test_shifted_geometric_mean():
    assert bench.shifted_geometric_mean([0, 0, 0]) == pytest.approx(0.0)
    assert bench.shifted_geometric_mean([1, 3], shift=1) == pytest.approx(math.sqrt(8) - 1)
    assert math.isnan(bench.shifted_geometric_mean([]))


def test_markdown_and_plots(tmp_path):
    md = bench.to_markdown(bench.summarize(TABLE))
    assert md.splitlines()[0].startswith("| backend | solver | tasks")
    assert len(md.splitlines()) == 2 + 3
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = bench.performance_profile(TABLE)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["b/A", "b/B", "b/C"]
    # the step curve of A is 2/3 from tau = 1 on
    ys = ax.get_lines()[0].get_ydata()
    assert max(ys) == pytest.approx(2 / 3)
    fig.savefig(tmp_path / "p.png")
    rows = [dict(r, p=10 * (i % 3 + 1)) for i, r in enumerate(TABLE)]
    bench.time_vs_size(rows).savefig(tmp_path / "t.png")
    bench.gap_vs_time(rows).savefig(tmp_path / "g.png")
    plt.close("all")
    assert (tmp_path / "p.png").stat().st_size > 1000


def test_unavailable_rows_are_left_out():
    rows = TABLE + [dict(_row("i1", "D", "unavailable", math.nan), wall_time=None)]
    s = bench.summarize(rows).to_dict("records")
    assert [r["solver"] for r in s] == ["A", "B", "C"]
    assert bench.profile_data(rows) == bench.profile_data(TABLE)
    assert "unavailable" in bench.to_markdown(rows)


def test_inconsistent_instances_are_reported():
    rows = [dict(r, program_hash="h1") for r in TABLE]
    assert bench.inconsistent_instances(rows) == {}
    rows[1]["program_hash"] = "h2"  # i1 on B saw another program
    assert bench.inconsistent_instances(rows) == {"i1": ["h1", "h2"]}
