"""Verification beyond L-inf/L1: L2 balls (MISOCP and its SOCP relaxation), targeted and general
linear output specifications against a dense grid of the ball on 2-D inputs, and ONNX import
giving the same network and the same verdicts."""

import numpy as np
import pytest

from optml.nn import (
    ReLUNetwork,
    from_onnx,
    verify_robustness,
    verify_specification,
    verify_targeted,
)


def _net(seed=1, d=2, k=3):
    rng = np.random.default_rng(seed)
    W = [rng.normal(size=(6, d)), rng.normal(size=(5, 6)), rng.normal(size=(k, 5))]
    b = [0.3 * rng.normal(size=6), 0.3 * rng.normal(size=5), 0.3 * rng.normal(size=k)]
    return ReLUNetwork(W, b)


def _disk(eps, n_r=121, n_t=541):
    th = np.linspace(0, 2 * np.pi, n_t)
    rr = np.linspace(0, 1, n_r)
    return eps * (rr[:, None, None] * np.stack([np.cos(th), np.sin(th)], -1)[None]).reshape(-1, 2)


def _square(eps, n=301):
    g = np.linspace(-eps, eps, n)
    return np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_l2_margin_is_exact_against_a_grid(seed):
    net = _net(seed)
    rng = np.random.default_rng(seed + 10)
    for x in rng.normal(size=(2, 2)):
        lab = int(np.argmax(net.forward(x)))
        for eps in (0.1, 0.4):
            r = verify_robustness(
                net, x, lab, eps, norm="2", mode="margin", attack_steps=0, relaxation=False
            )
            F = net.forward(x + _disk(eps))
            grid = (np.delete(F, lab, axis=1).max(1) - F[:, lab]).max()
            assert r.result.problem_class == "MISOCP"
            assert grid <= r.margin_bound + 1e-6  # sound: no grid point beats the bound
            assert r.margin_bound - grid <= 2e-2  # and tight up to the grid's resolution
            assert r.robust == (r.margin_bound < 0) or abs(r.margin_bound) < 1e-6


def test_l2_decisions_and_counterexamples_are_checked():
    net = _net(3)
    rng = np.random.default_rng(4)
    seen = set()
    for x in rng.normal(size=(6, 2)):
        lab = int(np.argmax(net.forward(x)))
        for eps in (0.05, 0.5):
            r = verify_robustness(net, x, lab, eps, norm="2")
            seen.add(r.decided_by)
            F = net.forward(x + _disk(eps, 61, 241))
            grid_bad = (np.argmax(F, axis=1) != lab).any()
            if r.robust:
                assert not grid_bad
            else:
                assert r.robust is False
                z = r.counterexample
                assert np.linalg.norm(z - x) <= eps * (1 + 1e-9) + 1e-12
                assert int(np.argmax(net.forward(z))) != lab
    assert "attack" in seen or "milp" in seen


def test_l2_socp_relaxation_proves_robustness_without_binaries():
    rng = np.random.default_rng(0)
    W = [rng.normal(size=(8, 3)), rng.normal(size=(6, 8)), rng.normal(size=(3, 6))]
    b = [0.3 * rng.normal(size=8), 0.3 * rng.normal(size=6), 0.3 * rng.normal(size=3)]
    net = ReLUNetwork(W, b)
    hits = []
    for x in rng.normal(size=(6, 3)):
        lab = int(np.argmax(net.forward(x)))
        for eps in (0.05, 0.3):
            r = verify_robustness(net, x, lab, eps, norm="2")
            hits.append(r.decided_by)
            if r.decided_by == "socp relaxation":
                d = rng.normal(size=(20000, 3))
                d *= eps * rng.random((20000, 1)) ** (1 / 3) / np.linalg.norm(d, axis=1)[:, None]
                assert (np.argmax(net.forward(x + d), axis=1) == lab).all()
                assert r.margin_bound < 0
                assert r.result is None and r.n_milps == 0
    assert "socp relaxation" in hits


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_targeted_and_linear_specifications_against_a_grid(norm):
    net = _net(5)
    rng = np.random.default_rng(6)
    grid = _square if norm == "inf" else _disk
    checked = 0
    for x in rng.normal(size=(4, 2)):
        for eps in (0.1, 0.5):
            F = net.forward(x + grid(eps))
            for a, b in [(0, 1), (2, 0)]:
                gmax = (F[:, a] - F[:, b]).max()
                if abs(gmax) < 1e-2:  # too close to call on a grid
                    continue
                r = verify_targeted(net, x, eps, a, b, norm=norm)
                assert r.holds == (gmax < 0)
                assert r.violation_bound[0] >= gmax - 1e-6
                if r.holds is False:
                    z = r.counterexample
                    fz = net.forward(z[None])[0]
                    assert fz[a] > fz[b]
                checked += 1
            C = rng.normal(size=(2, 3))
            dd = rng.normal(size=2)
            V = F @ C.T - dd
            if np.abs(V.max(0)).min() < 1e-2:
                continue
            r = verify_specification(net, x, eps, C, dd, norm=norm)
            assert r.holds == bool((V.max(0) <= 0).all())
            assert (r.violation_bound >= V.max(0) - 1e-6).all()
            if r.holds is False:
                z = r.counterexample
                assert (net.forward(z[None])[0] @ C[r.row] - dd[r.row]) > 0
            checked += 1
    assert checked >= 10


def test_specification_bad_input():
    net = _net(1)
    with pytest.raises(ValueError, match="one column per network output"):
        verify_specification(net, np.zeros(2), 0.1, np.ones((1, 2)))
    with pytest.raises(ValueError, match="different classes"):
        verify_targeted(net, np.zeros(2), 0.1, 1, 1)
    with pytest.raises(ValueError, match="'inf', '1' or '2'"):
        verify_robustness(net, np.zeros(2), 0, 0.1, norm="3")


def _onnx_model(net, onnx):
    """The network in ONNX built by hand with onnx.helper: a Flatten, the first layer as
    MatMul + Add, the others as Gemm (transB=1) with Relu between, and a final Softmax."""
    from onnx import TensorProto, helper, numpy_helper

    W, b = net.weights, net.biases
    inits = [
        numpy_helper.from_array(W[0].T.astype(np.float32), "B0"),
        numpy_helper.from_array(b[0].astype(np.float32), "c0"),
    ]
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"]),
        helper.make_node("MatMul", ["f", "B0"], ["m0"]),
        helper.make_node("Add", ["m0", "c0"], ["z0"]),
        helper.make_node("Relu", ["z0"], ["h0"]),
    ]
    cur = "h0"
    for k in range(1, len(W)):
        inits += [
            numpy_helper.from_array(W[k].astype(np.float32), f"W{k}"),
            numpy_helper.from_array(b[k].astype(np.float32), f"b{k}"),
        ]
        nodes.append(helper.make_node("Gemm", [cur, f"W{k}", f"b{k}"], [f"z{k}"], transB=1))
        cur = f"z{k}"
        if k < len(W) - 1:
            nodes.append(helper.make_node("Relu", [cur], [f"h{k}"]))
            cur = f"h{k}"
    nodes.append(helper.make_node("Softmax", [cur], ["p"]))
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, net.n_inputs])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, net.n_outputs])],
        initializer=inits,
    )
    model = helper.make_model(graph)
    onnx.checker.check_model(model)
    return model


def test_onnx_import_gives_the_same_network_and_verdicts(tmp_path):
    onnx = pytest.importorskip("onnx")
    rng = np.random.default_rng(8)
    # float32 weights in the file: build the reference from the rounded weights
    base = _net(7, d=4, k=3)
    net = ReLUNetwork(
        [w.astype(np.float32).astype(float) for w in base.weights],
        [c.astype(np.float32).astype(float) for c in base.biases],
    )
    path = tmp_path / "mlp.onnx"
    onnx.save(_onnx_model(net, onnx), str(path))
    loaded = from_onnx(str(path))
    X = rng.normal(size=(6, 4))
    assert np.allclose(loaded.forward(X), net.forward(X), atol=1e-12)
    for x in X:
        lab = int(np.argmax(net.forward(x)))
        for eps, norm in [(0.05, "inf"), (0.3, "inf"), (0.3, "1"), (0.3, "2")]:
            a = verify_robustness(net, x, lab, eps, norm=norm)
            b = verify_robustness(loaded, x, lab, eps, norm=norm)
            assert a.robust == b.robust
            if b.counterexample is not None:
                assert int(np.argmax(loaded.forward(b.counterexample))) != lab


def test_onnx_round_trip_and_refusals(tmp_path):
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from optml.nn import to_onnx

    net = _net(2)
    back = from_onnx(to_onnx(net))
    X = np.random.default_rng(0).normal(size=(5, 2))
    assert np.allclose(back.forward(X), net.forward(X))
    conv = helper.make_graph(
        [helper.make_node("Sigmoid", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
    )
    with pytest.raises(ValueError, match="Sigmoid"):
        from_onnx(helper.make_model(conv))
    with pytest.raises(TypeError, match="path or an onnx.ModelProto"):
        from_onnx(42)
