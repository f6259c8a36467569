r"""Import fully connected ReLU networks from ONNX (the format verification competitions use).

:func:`from_onnx` reads an ONNX file (or a loaded ``onnx.ModelProto``) whose graph is a chain of
affine layers and ReLUs — ``Gemm`` (with ``transA = 0``, any ``transB``, ``alpha``, ``beta``),
``MatMul`` followed by ``Add`` of a constant, ``Relu`` — optionally wrapped by ``Flatten``,
``Reshape`` to a vector, ``Identity`` and a final ``Softmax`` (dropped: it keeps the arg max) —
and returns the same network as a :class:`~optml.nn.ReLUNetwork`, so that
:func:`~optml.nn.verify_robustness` and the other MILP tools apply. Anything else raises a
ValueError naming the operator. Needs the optional package ``onnx`` (``pip install onnx``).
"""

from __future__ import annotations

import numpy as np

from optml.nn._network import ReLUNetwork

_PASS = ("Flatten", "Identity", "Reshape", "Dropout")


def _load(model):
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:  # pragma: no cover - exercised without onnx only
        raise ImportError(
            "from_onnx needs the optional package onnx: pip install onnx "
            "(or pip install 'optml-models[onnx]')"
        ) from None
    if isinstance(model, str | bytes) or hasattr(model, "__fspath__"):
        model = onnx.load(model)
    if not hasattr(model, "graph"):
        raise TypeError(f"from_onnx takes a path or an onnx.ModelProto, got {type(model).__name__}")
    return model, numpy_helper


def _attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            if a.type == a.FLOAT:
                return float(a.f)
            if a.type == a.INT:
                return int(a.i)
    return default


def from_onnx(model, classes=None) -> ReLUNetwork:
    """A :class:`ReLUNetwork` from an ONNX model of affine layers and ReLUs.

    Parameters
    ----------
    model : str, path or onnx.ModelProto
    classes : array, optional
        Class labels of the outputs (passed to :class:`ReLUNetwork`).
    """
    model, numpy_helper = _load(model)
    g = model.graph
    consts = {t.name: numpy_helper.to_array(t).astype(float) for t in g.initializer}
    for node in g.node:  # Constant nodes carry tensors too
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    consts[node.output[0]] = numpy_helper.to_array(a.t).astype(float)
    inputs = [i.name for i in g.input if i.name not in consts]
    if len(inputs) != 1:
        raise ValueError(f"the ONNX graph must have one data input, found {inputs}")
    cur = inputs[0]
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    pending = False  # an affine layer waits for its ReLU (or is the output layer)
    for node in g.node:
        op = node.op_type
        if op == "Constant":
            continue
        data = [i for i in node.input if i not in consts]
        if cur not in node.input:
            raise ValueError(
                f"the ONNX graph is not a chain: node {node.name or op!r} ({op}) does not read "
                f"the previous output {cur!r}"
            )
        if op in ("Gemm", "MatMul"):
            if pending:
                raise ValueError(
                    f"two affine layers without a ReLU between them at {node.name or op!r}; "
                    "only fully connected ReLU networks are supported"
                )
            other = [i for i in node.input if i != cur]
            if op == "Gemm":
                if _attr(node, "transA", 0):
                    raise ValueError("Gemm with transA=1 is not supported")
                B = consts[other[0]]
                W = B if _attr(node, "transB", 0) else B.T
                W = W * _attr(node, "alpha", 1.0)
                c = consts[other[1]] * _attr(node, "beta", 1.0) if len(other) > 1 else 0.0
                b = np.broadcast_to(np.asarray(c, float).ravel(), (W.shape[0],)).copy()
            else:
                W = consts[other[0]].T  # x @ B, B of shape (in, out)
                b = np.zeros(W.shape[0])
            weights.append(np.asarray(W, float))
            biases.append(b)
            pending = True
        elif op == "Add":
            if not pending or len(data) != 1:
                raise ValueError(f"Add at {node.name or op!r} is not the bias of an affine layer")
            c = consts[[i for i in node.input if i != cur][0]]
            biases[-1] = biases[-1] + np.broadcast_to(c.ravel(), biases[-1].shape)
        elif op == "Relu":
            if not pending:
                raise ValueError(f"Relu at {node.name or op!r} does not follow an affine layer")
            pending = False
        elif op in _PASS or op == "Softmax":
            if op == "Softmax" and node is not g.node[-1]:
                raise ValueError("Softmax is supported only as the last node")
        else:
            raise ValueError(
                f"ONNX operator {op!r} (node {node.name!r}) is not supported: from_onnx reads "
                "fully connected ReLU networks (Gemm / MatMul + Add, Relu, Flatten, Softmax)"
            )
        cur = node.output[0]
    if not weights:
        raise ValueError("the ONNX graph has no affine layer")
    if not pending:
        raise ValueError("the ONNX network ends with a ReLU; the last layer must be affine")
    for k in range(1, len(weights)):
        if weights[k].shape[1] != weights[k - 1].shape[0]:
            raise ValueError(
                f"layer {k} takes {weights[k].shape[1]} inputs, previous gives {weights[k - 1].shape[0]}"
            )
    return ReLUNetwork(weights, biases, classes=classes)


def to_onnx(net: ReLUNetwork, path=None):
    """Write ``net`` as an ONNX model of ``Gemm`` and ``Relu`` nodes (returns the ModelProto;
    saved to ``path`` when given). The inverse of :func:`from_onnx`."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    cur = "input"
    L = len(net.weights)
    for k, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        inits += [
            numpy_helper.from_array(np.asarray(W, np.float64), f"W{k}"),
            numpy_helper.from_array(np.asarray(b, np.float64), f"b{k}"),
        ]
        out = f"z{k}" if k < L - 1 else "output"
        nodes.append(helper.make_node("Gemm", [cur, f"W{k}", f"b{k}"], [out], transB=1))
        cur = out
        if k < L - 1:
            nodes.append(helper.make_node("Relu", [cur], [f"h{k}"]))
            cur = f"h{k}"
    graph = helper.make_graph(
        nodes,
        "relu_network",
        [helper.make_tensor_value_info("input", TensorProto.DOUBLE, [None, net.n_inputs])],
        [helper.make_tensor_value_info("output", TensorProto.DOUBLE, [None, net.n_outputs])],
        initializer=inits,
    )
    model = helper.make_model(graph)
    if path is not None:
        onnx.save(model, path)
    return model
