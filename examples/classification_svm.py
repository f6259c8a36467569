"""Linear SVM, sparse SVM and logistic regression on breast cancer (scaled), as certified programs.

Run: python examples/classification_svm.py [--plot]  (--plot saves classification_svm.png)
"""

import sys

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from optml.classification import LogisticRegression, SoftMarginSVM, SparseSVM

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)

svm = SoftMarginSVM(C=1.0).fit(Xtr, ytr)
print("SoftMarginSVM (libsvm's primal), test accuracy", round(svm.score(Xte, yte), 3))
print(svm.result_.summary())
print(svm.program_.summary())

sparse = SparseSVM(C=0.1, k=3, time_limit=8).fit(Xtr, ytr)
print(
    "\nSparseSVM k=3: features",
    sparse.support_[0],
    "test accuracy",
    round(sparse.score(Xte, yte), 3),
)
print(sparse.result_.summary())
print(sparse.program_.to_latex()[:600])

logit = LogisticRegression(C=1.0).fit(Xtr, ytr)
print(
    "\nLogisticRegression (Newton, duality-gap certificate), test accuracy",
    round(logit.score(Xte, yte), 3),
)
print(logit.result_.summary())

if "--plot" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    j = np.arange(X.shape[1])
    ax.bar(j - 0.3, svm.coef_.ravel(), 0.3, label="SoftMarginSVM")
    ax.bar(j, sparse.coef_.ravel(), 0.3, label="SparseSVM k=3")
    ax.bar(j + 0.3, logit.coef_.ravel(), 0.3, label="LogisticRegression")
    ax.set_xlabel("feature (breast cancer, standardised)")
    ax.set_ylabel("coefficient")
    ax.legend(fontsize=8)
    fig.savefig("classification_svm.png", dpi=100, bbox_inches="tight")
    print("saved classification_svm.png")
