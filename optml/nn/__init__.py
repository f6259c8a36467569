"""Small neural networks as mathematical programs.

* :class:`ReLUNetwork`: a trained ReLU network (weights and biases), its forward pass, and
  :meth:`~ReLUNetwork.maximize` — the global optimum of an output over a box as a MILP
  (Fischetti and Jo, 2018), with neuron bounds from interval arithmetic tightened by LPs.
* :func:`verify_robustness`, :func:`minimal_perturbation`: robustness decisions and minimal
  adversarial perturbations under L-inf and L1 (Tjeng, Xiao and Tedrake, 2019); every
  counterexample is checked by a numpy forward pass before it is reported.
* :class:`BinarizedNeuralNetwork` (Toro Icarte et al., 2019) and :class:`MIPNetworkClassifier`
  (Thorbjarnarson and Yorke-Smith, 2021): networks trained by MILP.
* :func:`embed`: a fitted model (linear, tree, forest, ReLU MLP, optml estimator) as constraints
  in your own :class:`~optml.Program` (Lombardi, Milano and Bartolini, 2017).
"""

from optml.nn._bounds import Bounds, compute_bounds, interval_bounds
from optml.nn._network import Optimum, ReLUNetwork

__all__ = [
    "BinarizedNeuralNetwork",
    "Bounds",
    "Embedding",
    "MIPNetworkClassifier",
    "Optimum",
    "ReLUNetwork",
    "RobustnessResult",
    "SpecificationResult",
    "compute_bounds",
    "embed",
    "from_onnx",
    "interval_bounds",
    "minimal_perturbation",
    "to_onnx",
    "verify_robustness",
    "verify_specification",
    "verify_targeted",
]

_LAZY = {
    "verify_robustness": "optml.nn._verify",
    "minimal_perturbation": "optml.nn._verify",
    "RobustnessResult": "optml.nn._verify",
    "SpecificationResult": "optml.nn._verify",
    "verify_specification": "optml.nn._verify",
    "verify_targeted": "optml.nn._verify",
    "from_onnx": "optml.nn._onnx",
    "to_onnx": "optml.nn._onnx",
    "BinarizedNeuralNetwork": "optml.nn._bnn",
    "MIPNetworkClassifier": "optml.nn._train",
    "embed": "optml.nn._embed",
    "Embedding": "optml.nn._embed",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'optml.nn' has no attribute {name!r}")
