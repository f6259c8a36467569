"""The network family on the one solve path: programs, settings of every internal solve,
certified results, bench.compare."""

import warnings

import numpy as np
import pytest

from optml.backends.highs import HighsBackend
from optml.nn import (
    BinarizedNeuralNetwork,
    MIPNetworkClassifier,
    ReLUNetwork,
    compute_bounds,
    embed,
    minimal_perturbation,
    verify_robustness,
)
from optml.program import Program, Result
from optml.program.result import relative_gap

OPTS = {"threads": 1, "primal_feasibility_tolerance": 1e-7}


def _tiny():
    X = np.array(
        [[0.0, 0.0], [0.1, 0.9], [0.9, 0.1], [1.0, 1.0], [0.2, 0.1], [0.8, 0.9]], dtype=float
    )
    y = np.array([0, 1, 1, 0, 0, 0])
    return X, y


def _blobs():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-1.0, 0.4, (5, 2)), rng.normal(1.0, 0.4, (5, 2))])
    return X, np.repeat([0, 1], 5)


@pytest.fixture
def seen(monkeypatch):
    """The SolveSettings every HiGHS solve received (the backend's own entry point)."""
    got = []
    orig = HighsBackend.solve

    def spy(self, canon, solver, settings):
        got.append(settings)
        return orig(self, canon, solver, settings)

    monkeypatch.setattr(HighsBackend, "solve", spy)
    return got


def _check_settings(got, time_limit, n_min=1, one_deadline=True):
    assert len(got) >= n_min
    for s in got:
        assert s.threads == 1
        assert s.options == {"primal_feasibility_tolerance": 1e-7}
        assert s.time_limit is not None and s.time_limit <= time_limit + 1e-9
        assert s.deadline is not None  # the clock of the call, not a fresh limit per solve
    if one_deadline:
        assert len({s.deadline for s in got}) == 1


def _certified(res):
    assert isinstance(res, Result)
    assert res.verified
    assert res.gap == pytest.approx(relative_gap(res.objective, res.bound), abs=1e-12)


# ----------------------------------------------------------------- build_program
def test_build_program_returns_a_program(random_net):
    net = random_net([2, 4, 3, 2], 0)
    p = net.build_program(-np.ones(2), np.ones(2), output=1)
    assert isinstance(p, Program)
    assert set(p.metadata) >= {"x", "encoding", "bounds", "output"}
    X, y = _blobs()
    for est in (
        MIPNetworkClassifier((2,)),
        BinarizedNeuralNetwork(hidden_layer_sizes=(2,), heuristic_start=False),
    ):
        p = est.build_program(X, y)
        assert isinstance(p, Program)
        assert "parts" in p.metadata and p.problem_class == "MILP"


@pytest.mark.parametrize(
    "model",
    [
        MIPNetworkClassifier((2,)),
        BinarizedNeuralNetwork(hidden_layer_sizes=(2,), heuristic_start=False),
    ],
    ids=["mip_network", "bnn"],
)
def test_bench_compare_on_networks(model):
    import optml

    df = optml.bench.compare(model, _blobs(), solvers=["highs"], time_limit=5)
    rows = df.to_dict("records")
    assert len(rows) == 1
    assert rows[0]["status"] == "optimal" and rows[0]["verified"], rows[0]["message"]
    assert rows[0]["problem_class"] == "MILP"


# ------------------------------------------------------------ settings propagate
def test_mip_network_settings_reach_the_solver(seen):
    X, y = _blobs()
    m = MIPNetworkClassifier((2,), time_limit=30, solver_options=OPTS).fit(X, y)
    # the gradient start's output-layer MILP ends by its own budget inside the fit's clock
    _check_settings(seen, 30, one_deadline=False)
    assert seen[-1].mip_gap == MIPNetworkClassifier._default_mip_gap
    assert all(s.deadline <= seen[-1].deadline + 1e-9 for s in seen)
    _certified(m.result_)
    with pytest.warns(FutureWarning, match="result_.gap"):
        assert m.gap_ == m.result_.gap


def test_bnn_settings_reach_every_solve(seen):
    X, y = _tiny()
    import time

    t0 = time.perf_counter()
    b = BinarizedNeuralNetwork(
        hidden_layer_sizes=(2,), time_limit=30, mip_gap=1e-3, solver_options=OPTS
    ).fit(X, y)
    # the gradient start's and the decomposition's MILPs end by their own budgets inside the
    # fit's clock
    _check_settings(seen, 30, one_deadline=False)
    main = seen[-1]
    assert main.mip_gap == 1e-3
    assert all(s.deadline <= t0 + 30 + 0.5 for s in seen)  # no fresh 30 s per solve
    _certified(b.result_)
    with pytest.warns(FutureWarning):
        assert b.gap_ == b.result_.gap


def test_maximize_settings_and_certificate(seen, random_net):
    net = random_net([3, 6, 5, 1], 3)
    opt = net.maximize(-1.0, 1.0, bounds="lp", time_limit=30, solver_options=OPTS)
    _check_settings(seen, 30, n_min=2)  # the tightening LPs and the MILP, one clock
    assert seen[-1].mip_gap == 1e-6 and seen[-1].warm_start is not None
    assert all(s.warm_start is None for s in seen[:-1])
    _certified(opt.result)
    assert opt.value <= opt.bound + 1e-6


def test_compute_bounds_milp_settings(seen, random_net):
    net = random_net([2, 5, 4, 1], 1)
    bnd = compute_bounds(
        net.weights,
        net.biases,
        -np.ones(2),
        np.ones(2),
        "milp",
        time_limit=20,
        solver_options=OPTS,
    )
    assert bnd.n_solves == len(seen)
    _check_settings(seen, 20)
    assert all(s.mip_gap == 1e-4 for s in seen)  # the documented default of a tightening MILP


def test_verify_and_minimal_perturbation_settings(seen, digits_net):
    net, _, X, y = digits_net
    r = verify_robustness(
        net,
        X[0],
        y[0],
        0.05,
        lb=0,
        ub=1,
        mode="margin",
        bounds="lp",
        time_limit=60,
        mip_gap=1e-5,
        solver_options=OPTS,
    )
    _check_settings(seen, 60)  # one hidden layer: no tightening, one MILP
    assert seen[-1].mip_gap == 1e-5  # the MILP has the caller's gap
    assert r.result is not None
    _certified(r.result)
    assert np.isfinite(r.margin_bound) and r.margin <= r.margin_bound + 1e-6
    seen.clear()
    m = minimal_perturbation(net, X[0], y[0], lb=0.0, ub=1.0, time_limit=60, solver_options=OPTS)
    _check_settings(seen, 60)
    _certified(m.result)


def test_embed_settings(seen):
    import optml as om

    rng = np.random.default_rng(0)
    net = ReLUNetwork(
        [rng.normal(size=(4, 2)), rng.normal(size=(3, 4)), rng.normal(size=(1, 3))],
        [rng.normal(size=4), rng.normal(size=3), rng.normal(size=1)],
    )
    p = om.Program()
    x = p.var("x", shape=2, lb=-1, ub=1)
    out = p.var("out", shape=1)
    embed(p, net, x, out, bounds="lp", time_limit=20, solver_options=OPTS)
    _check_settings(seen, 20)


def test_time_limit_is_one_clock(random_net, seen):
    """A call's internal solves never get more than the time left of its one limit."""
    net = random_net([4, 8, 8, 1], 5)
    net.maximize(-1.0, 1.0, bounds="lp", time_limit=5, solver_options=OPTS)
    limits = [s.time_limit for s in seen]
    assert all(a >= b - 1e-9 for a, b in zip(limits, limits[1:], strict=False))


# ------------------------------------------------------------------ R15, warm_start
def test_counterexample_has_a_finite_margin_bound(digits_net):
    net, _, X, y = digits_net
    found = 0
    for i in range(12):
        for mode in ("decide", "margin"):
            r = verify_robustness(net, X[i], y[i], 0.1, lb=0, ub=1, mode=mode)
            if r.robust is False:
                found += 1
                assert np.isfinite(r.margin_bound), (i, mode, r.decided_by)
                assert r.margin <= r.margin_bound + 1e-6
    assert found


def test_clean_misclassification_has_a_finite_margin_bound(random_net):
    net = random_net([2, 4, 3], 0)
    x0 = np.array([0.3, -0.2])
    wrong = (int(np.argmax(net.forward(x0))) + 1) % 3
    r = verify_robustness(net, x0, wrong, 0.1)
    assert r.decided_by == "clean prediction" and r.robust is False
    assert np.isfinite(r.margin_bound) and r.margin <= r.margin_bound + 1e-9


def test_maximize_warm_start_names(random_net):
    net = random_net([2, 4, 1], 2)
    with pytest.warns(FutureWarning, match="heuristic_start"):
        a = net.maximize(-1.0, 1.0, warm_start=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        b = net.maximize(-1.0, 1.0, heuristic_start=False, warm_start=np.zeros(2))
        c = net.maximize(-1.0, 1.0, warm_start={"x": np.zeros(2)})
    assert a.value == pytest.approx(b.value, abs=1e-6) == pytest.approx(c.value, abs=1e-6)


def test_verbose_logs_through_the_optml_logger(caplog, random_net):
    import logging

    net = random_net([2, 4, 3], 0)
    x0 = np.array([0.3, -0.2])
    lab = int(np.argmax(net.forward(x0)))
    with caplog.at_level(logging.INFO, logger="optml"):
        r = verify_robustness(net, x0, lab, 0.05, verbose=True)
    assert any(r.status in m and "verify_robustness" in m for m in caplog.messages)
