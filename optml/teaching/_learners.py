"""The learners a teacher targets, retrained on a chosen multiset (scikit-learn's estimators
with the matching objective), and the numpy quantities that check a teaching set."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from optml.formulations.teaching import logistic_gradient, ridge_gradient

LEARNERS = ("ridge", "svm", "logistic")


def encode_labels(learner, y):
    """``(targets, classes)``: real targets for ridge; signs in {-1, +1} for the classifiers
    (labels already in {-1, +1} keep their meaning; two other classes map to -1 / +1 in
    sorted order)."""
    if learner == "ridge":
        try:
            yv = np.asarray(y, dtype=float).ravel()
        except (TypeError, ValueError):
            raise TypeError("the ridge learner needs numeric targets y") from None
        return yv, None
    y = np.asarray(y).ravel()
    classes = np.unique(y)
    if classes.size > 2:
        raise ValueError(
            f"the {learner} learner is binary: y has {classes.size} classes {classes[:5]}; "
            "teach one class against the rest by relabelling first"
        )
    if np.isin(classes, (-1, 1)).all() and classes.size < 2:
        return y.astype(float), np.array([-1, 1])
    if classes.size < 2:
        raise ValueError(f"y holds one class {classes}; give labels in {{-1, +1}} or two classes")
    return np.where(y == classes[1], 1.0, -1.0), classes


def retrain(learner, X, t, counts, *, alpha=1.0, C=1.0, fit_intercept=True):
    """Fit the actual learner on the multiset (each row repeated ``counts`` times); returns
    ``(coef, intercept, implementation)``."""
    reps = np.round(np.asarray(counts, dtype=float)).astype(int)
    Xs, ts = np.repeat(X, reps, axis=0), np.repeat(t, reps)
    if learner == "ridge":
        if alpha == 0.0:
            from sklearn.linear_model import LinearRegression

            m = LinearRegression(fit_intercept=fit_intercept).fit(Xs, ts)
            impl = "sklearn.linear_model.LinearRegression"
        else:
            from sklearn.linear_model import Ridge

            m = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(Xs, ts)
            impl = "sklearn.linear_model.Ridge"
        return np.ravel(m.coef_), float(m.intercept_) if fit_intercept else 0.0, impl
    if np.unique(ts).size < 2:
        if learner == "logistic":
            w, b = _logistic_newton(Xs, ts, C, fit_intercept)
            return w, b, "numpy Newton (one class: scikit-learn refuses)"
        raise ValueError("the taught set holds one class: scikit-learn's SVMs cannot be fitted")
    if learner == "svm":
        if fit_intercept:
            from sklearn.svm import SVC

            m = SVC(kernel="linear", C=C, tol=1e-10, max_iter=10**7).fit(Xs, ts)
            impl = "sklearn.svm.SVC(kernel='linear')"
        else:
            from sklearn.svm import LinearSVC

            m = LinearSVC(
                C=C, loss="hinge", fit_intercept=False, dual=True, tol=1e-12, max_iter=10**6
            ).fit(Xs, ts)
            impl = "sklearn.svm.LinearSVC(loss='hinge', fit_intercept=False)"
        return np.ravel(m.coef_), float(np.ravel(m.intercept_)[0]) if fit_intercept else 0.0, impl
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(
        C=C, fit_intercept=fit_intercept, tol=1e-12, solver="newton-cholesky", max_iter=1000
    ).fit(Xs, ts)
    b = float(m.intercept_[0]) if fit_intercept else 0.0
    return np.ravel(m.coef_), b, "sklearn.linear_model.LogisticRegression(solver='newton-cholesky')"


def _logistic_newton(X, s, C, fit_intercept, iters=100):
    Xt = np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X
    d, p = Xt.shape[1], X.shape[1]
    reg = np.zeros(d)
    reg[:p] = 1.0
    th = np.zeros(d)
    for _ in range(iters):
        m = s * (Xt @ th)
        g = reg * th - C * Xt.T @ (s * expit(-m))
        if np.abs(g).max() < 1e-13:
            break
        q = expit(m) * expit(-m)
        H = np.diag(reg) + C * (Xt.T * q) @ Xt
        th = th - np.linalg.solve(H + 1e-300 * np.eye(d), g)
    return th[:p], float(th[p]) if fit_intercept else 0.0


def residual(learner, X, t, counts, coef, intercept, *, alpha=1.0, C=1.0, fit_intercept=True):
    """The optimality conditions' residual at the target (ridge: normal equations; logistic:
    gradient), or None (SVM: a subgradient condition, checked by retraining)."""
    if learner == "ridge":
        return ridge_gradient(X, t, counts, coef, intercept, alpha, fit_intercept)
    if learner == "logistic":
        return logistic_gradient(X, t, counts, coef, intercept, C, fit_intercept)
    return None


def hessian(learner, X, t, counts, coef, intercept, *, alpha=1.0, C=1.0, fit_intercept=True):
    """Hessian (ridge: of the half objective, constant) at the target."""
    Xt = np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X
    p = X.shape[1]
    c = np.asarray(counts, dtype=float)
    reg = np.zeros(Xt.shape[1])
    if learner == "ridge":
        reg[:p] = alpha
        return np.diag(reg) + (Xt.T * c) @ Xt
    reg[:p] = 1.0
    m = t * (X @ np.asarray(coef, dtype=float) + intercept)
    q = expit(m) * expit(-m)
    return np.diag(reg) + C * (Xt.T * (c * q)) @ Xt
