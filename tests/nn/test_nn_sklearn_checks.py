"""scikit-learn's estimator checks for the two MILP-trained classifiers."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from optml.nn import BinarizedNeuralNetwork, MIPNetworkClassifier

# Both are trained by a MILP; here the branch-and-bound stops after a few nodes (a
# deterministic limit, unlike a time limit) and the fit returns the incumbent with its gap.
FAST = {"mip_max_nodes": 10}


@parametrize_with_checks(
    [
        BinarizedNeuralNetwork(
            hidden_layer_sizes=(1,), allow_errors=True, heuristic_start=False, solver_options=FAST
        ),
        MIPNetworkClassifier(hidden_layer_sizes=(1,), loss="zero_one", solver_options=FAST),
    ],
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
