"""Estimator contract of the linear / kernel classifiers: sklearn checks, labels, bad input,
backends agreeing."""

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_classification
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.utils.estimator_checks import parametrize_with_checks

import optml
from optml.classification import (
    FisherLDA,
    HardMarginSVM,
    KernelSVM,
    LogisticRegression,
    RampLossSVM,
    SoftMarginSVM,
    SparseLogisticRegression,
    SparseSVM,
)


def _has(backend, solver):
    return any(r["backend"] == backend and r["solver"] == solver for r in optml.solvers())


_FAST_MIP = {"time_limit": 5, "mip_gap": 1e-2}
# scikit-learn's checks of the default constructors run in tests/test_common.py; these are
# the variants it does not cover
ESTIMATORS = [
    SoftMarginSVM(penalty="l1"),
    FisherLDA(reg=1e-6),
]
# the mixed-integer models pass too, but scikit-learn's checks fit them hundreds of times
MIP_ESTIMATORS = [
    SparseSVM(k=1, bigm="objective", **_FAST_MIP),
    SparseLogisticRegression(k=1, max_rounds=3, **_FAST_MIP),
    RampLossSVM(penalty="l1", **_FAST_MIP),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(MIP_ESTIMATORS)
def test_sklearn_compatible_mip(estimator, check):
    check(estimator)


@pytest.mark.parametrize("est", [SoftMarginSVM(), LogisticRegression(), KernelSVM()])
def test_string_labels_and_three_classes_one_vs_rest(est):
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    est.fit(X, names)
    assert list(est.classes_) == list(names[[0, 50, 100]])
    assert est.decision_function(X).shape == (150, 3)
    # LogisticRegression is multinomial (one program), as scikit-learn's
    assert len(est.programs_) == (1 if isinstance(est, LogisticRegression) else 3)
    assert est.score(X, names) > 0.85
    pred = est.predict(X[:5])
    assert pred.dtype.kind in "UO" and set(pred) <= set(names)


def test_one_vs_rest_equals_binary_fits():
    X, y = load_iris(return_X_y=True)
    m = SoftMarginSVM(C=0.5).fit(X, y)
    b = SoftMarginSVM(C=0.5).fit(X, (y == 2).astype(int))
    np.testing.assert_allclose(m.coef_[2], b.coef_[0], atol=1e-6)


@pytest.mark.parametrize(
    "cls",
    [
        SoftMarginSVM,
        LogisticRegression,
        KernelSVM,
        FisherLDA,
        SparseSVM,
        RampLossSVM,
        HardMarginSVM,
    ],
)
def test_bad_input(cls):
    X, y = make_classification(30, 4, random_state=0)
    with pytest.raises(ValueError, match="class"):
        cls().fit(X, np.zeros(30))
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cls().fit(Xn, y)
    with pytest.raises(ValueError):
        cls().fit(X[:, :, None], y)


def test_bad_parameters():
    X, y = make_classification(30, 4, random_state=0)
    with pytest.raises(ValueError, match="C must be"):
        SoftMarginSVM(C=-1).fit(X, y)
    with pytest.raises(ValueError, match="penalty"):
        LogisticRegression(penalty="elasticnet").fit(X, y)
    with pytest.warns(UserWarning, match="greater than n_features=4"):
        svm = SparseSVM(k=5, time_limit=10).fit(X, y)  # k > p: all features may enter
    assert len(svm.support_[0]) <= 4 and svm.result_.has_solution
    with pytest.raises(ValueError, match="kernel"):
        KernelSVM(kernel="sigmoid").fit(X, y)
    with pytest.raises(optml.SolverNotAvailableError):
        SoftMarginSVM(method="full", solver="no_such_solver").fit(X, y)


def test_build_program_is_public_and_solvable():
    X, y = make_classification(50, 3, n_informative=2, n_redundant=0, random_state=0)
    prog = SoftMarginSVM(C=1.0, method="full").build_program(X, y)
    res = prog.solve()
    m = SoftMarginSVM(C=1.0, method="full").fit(X, y)
    assert res.objective == pytest.approx(m.result_.objective, rel=1e-7)
    # an OR user may add a side constraint: w_0 = 0
    w = prog.variables["w"]
    prog.add(w[0] == 0.0)
    assert prog.solve().values["w"][0] == pytest.approx(0.0, abs=1e-9)


def test_fisher_lda_direction_and_predictions_match_sklearn():
    X, y = make_classification(200, 5, n_informative=3, n_redundant=0, random_state=1)
    m = FisherLDA().fit(X, y)
    sk = LinearDiscriminantAnalysis().fit(X, y)
    cos = (m.coef_ @ sk.coef_.T).item() / np.linalg.norm(m.coef_) / np.linalg.norm(sk.coef_)
    assert cos == pytest.approx(1.0, abs=1e-8)
    np.testing.assert_allclose(m.decision_function(X), sk.decision_function(X), atol=1e-5)
    np.testing.assert_allclose(m.predict_proba(X), sk.predict_proba(X), atol=1e-6)
    assert m.program_.problem_class == "QP"


@pytest.mark.skipif(not _has("cvxpy", "scs"), reason="cvxpy/SCS not installed")
def test_fisher_lda_multiclass_sdp_matches_sklearn():
    X, y = load_iris(return_X_y=True)
    m = FisherLDA().fit(X, y)
    sk = LinearDiscriminantAnalysis().fit(X, y)
    assert m.program_.problem_class == "SDP"
    assert (m.predict(X) == sk.predict(X)).mean() >= 0.99
    np.testing.assert_allclose(m.predict_proba(X), sk.predict_proba(X), atol=1e-2)


@pytest.mark.parametrize(
    "est,cls",
    [
        (SoftMarginSVM(C=1.0, method="full"), "QP"),
        (SoftMarginSVM(C=1.0, penalty="l1"), "LP"),
        (SparseSVM(k=2, bigm="objective"), "MILP"),
    ],
)
def test_backends_agree(est, cls):
    X, y = make_classification(40, 4, n_informative=2, random_state=5)
    prog = est.build_program(X, y)
    assert prog.problem_class == cls
    pairs = [
        ("highs", "highs"),
        ("cvxpy", "clarabel" if cls in ("LP", "QP") else "scip"),
        ("pyomo", "scip" if cls != "QP" else "highs"),
    ]
    got = {}
    for backend, solver in pairs:
        if not _has(backend, solver):
            continue
        res = prog.solve(backend=backend, solver=solver)
        assert res.status == "optimal", (backend, solver, res.message)
        got[(backend, solver)] = res.objective
    if len(got) < 2:
        pytest.skip(f"fewer than two backends can solve {cls} here: {list(got)}")
    vals = np.array(list(got.values()))
    np.testing.assert_allclose(vals, vals[0], rtol=1e-5, err_msg=str(got))
