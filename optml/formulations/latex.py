r"""Each estimator's textbook formula, in LaTeX, with its reference.

``Program.to_latex()`` shows the program an estimator hands to a solver (centred data, auxiliary
variables, big-M rows); this registry gives the model as the literature writes it, to read
next to it:

.. code-block:: python

    from optml.formulations.latex import formula_latex, formula_reference
    formula_latex(Lasso(alpha=0.1))        # \min_{w,b} \frac{1}{2n}\|y - Xw - b\|_2^2 + ...
    formula_latex(Lasso(alpha=0.1), values=True)   # ... with the hyper-parameters' values
    formula_reference("Lasso")             # 'Tibshirani (1996), ...'

Keys are estimator class names; a subclass without an entry of its own gets its nearest base
class's. The formulas use :math:`X \in \mathbb R^{n\times p}` (rows :math:`x_i`), :math:`y`,
labels :math:`s_i \in \{-1, +1\}` for binary classifiers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FORMULAS", "Formula", "formula_latex", "formula_reference"]


@dataclass(frozen=True)
class Formula:
    """One estimator's model: ``latex`` (an ``aligned``-free display formula), the
    ``reference`` (authors, year, venue), and ``params``: hyper-parameter name -> the LaTeX
    symbol it sets (read by ``formula_latex(est, values=True)``)."""

    latex: str
    reference: str
    params: dict = field(default_factory=dict)


_LS = r"\min_{w,b}\ "
_PEN = r"R(w) = \tfrac12\|w\|_2^2\ (\texttt{l2}),\ \|w\|_1\ (\texttt{l1})"

FORMULAS: dict[str, Formula] = {
    # ------------------------------------------------------------------ regression
    "LeastSquares": Formula(
        _LS + r"\|y - Xw - b\mathbf 1\|_2^2 \quad\text{s.t.}\quad l \le w \le u",
        "Legendre (1805), Nouvelles méthodes pour la détermination des orbites des comètes; "
        "Gauss (1809), Theoria motus corporum coelestium.",
    ),
    "Ridge": Formula(
        _LS + r"\|y - Xw - b\mathbf 1\|_2^2 + \alpha\|w\|_2^2",
        "Hoerl and Kennard (1970), Ridge regression: biased estimation for nonorthogonal "
        "problems. Technometrics 12(1).",
        {"alpha": r"\alpha"},
    ),
    "Lasso": Formula(
        _LS + r"\frac{1}{2n}\|y - Xw - b\mathbf 1\|_2^2 + \alpha\|w\|_1",
        "Tibshirani (1996), Regression shrinkage and selection via the lasso. JRSS B 58(1).",
        {"alpha": r"\alpha"},
    ),
    "ElasticNet": Formula(
        _LS + r"\frac{1}{2n}\|y - Xw - b\mathbf 1\|_2^2 + \alpha\rho\|w\|_1"
        r" + \frac{\alpha(1-\rho)}{2}\|w\|_2^2",
        "Zou and Hastie (2005), Regularization and variable selection via the elastic net. "
        "JRSS B 67(2).",
        {"alpha": r"\alpha", "l1_ratio": r"\rho"},
    ),
    "QuantileRegression": Formula(
        _LS + r"\frac1n\sum_{i=1}^n \rho_q(y_i - x_i^\top w - b) + \alpha\|w\|_1,\qquad"
        r" \rho_q(r) = \max(qr, (q-1)r)",
        "Koenker and Bassett (1978), Regression quantiles. Econometrica 46(1).",
        {"quantile": "q", "alpha": r"\alpha"},
    ),
    "LeastAbsoluteDeviation": Formula(
        _LS + r"\frac1n\sum_{i=1}^n |y_i - x_i^\top w - b| + \alpha\|w\|_1",
        "Boscovich (1757); Charnes, Cooper and Ferguson (1955), Optimal estimation of "
        "executive compensation by linear programming. Management Science 1(2).",
        {"alpha": r"\alpha"},
    ),
    "HuberRegression": Formula(
        r"\min_{w,b,\sigma>0}\ n\sigma + \sum_{i=1}^n \sigma H_\epsilon\!\left("
        r"\frac{y_i - x_i^\top w - b}{\sigma}\right) + \alpha\|w\|_2^2,\qquad"
        r" H_\epsilon(t) = \begin{cases} t^2 & |t| \le \epsilon\\ 2\epsilon|t| - \epsilon^2"
        r" & |t| > \epsilon\end{cases}",
        "Huber (1964), Robust estimation of a location parameter. Ann. Math. Statist. 35(1); "
        "Owen (2007), A robust hybrid of lasso and ridge regression. Contemp. Math. 443.",
        {"epsilon": r"\epsilon", "alpha": r"\alpha"},
    ),
    "SupportVectorRegression": Formula(
        _LS + r"\tfrac12\|w\|_2^2 + C\sum_{i=1}^n \max\left(0,\ |y_i - x_i^\top w - b|"
        r" - \epsilon\right)",
        "Vapnik (1995), The Nature of Statistical Learning Theory. Springer.",
        {"C": "C", "epsilon": r"\epsilon"},
    ),
    "BestSubsetRegression": Formula(
        r"\min_{\beta,b}\ \|y - X\beta - b\mathbf 1\|_2^2 + \alpha\|\beta\|_2^2"
        r" \quad\text{s.t.}\quad \|\beta\|_0 \le k",
        "Bertsimas, King and Mazumder (2016), Best subset selection via a modern optimization "
        "lens. Annals of Statistics 44(2).",
        {"k": "k", "alpha": r"\alpha"},
    ),
    "LeastTrimmedSquares": Formula(
        r"\min_{\beta,b}\ \sum_{i=1}^{h} r_{(i)}^2,\qquad r_i = y_i - x_i^\top\beta - b,\quad"
        r" r_{(1)}^2 \le \dots \le r_{(n)}^2",
        "Rousseeuw (1984), Least median of squares regression. JASA 79(388).",
        {"h": "h"},
    ),
    # -------------------------------------------------------------- classification
    "HardMarginSVM": Formula(
        _LS + r"\tfrac12\|w\|_2^2 \quad\text{s.t.}\quad s_i(x_i^\top w + b) \ge 1,\ "
        r"i = 1,\dots,n",
        "Vapnik (1995), The Nature of Statistical Learning Theory. Springer.",
    ),
    "SoftMarginSVM": Formula(
        _LS + r"R(w) + C\sum_{i=1}^n \left(1 - s_i(x_i^\top w + b)\right)_+,\qquad " + _PEN,
        "Cortes and Vapnik (1995), Support-vector networks. Machine Learning 20(3); "
        "l1: Bradley and Mangasarian (1998), Feature selection via concave minimization and "
        "support vector machines. ICML.",
        {"C": "C"},
    ),
    "RobustSVM": Formula(
        _LS + r"R(w) + C\sum_{i=1}^n \left(1 - s_i(x_i^\top w + b) + \epsilon\|w\|_q\right)_+,"
        r"\qquad \tfrac1p + \tfrac1q = 1,\ " + _PEN,
        "Bertsimas, Dunn, Pawlowski and Zhuo (2019), Robust classification. INFORMS Journal "
        "on Optimization 1(1); Xu, Caramanis and Mannor (2009), Robustness and "
        "regularization of support vector machines. JMLR 10.",
        {"C": "C", "eps": r"\epsilon"},
    ),
    "RobustLogisticRegression": Formula(
        _LS + r"R(w) + C\sum_{i=1}^n \log\left(1 + e^{-s_i(x_i^\top w + b) + "
        r"\epsilon\|w\|_q}\right),\qquad \tfrac1p + \tfrac1q = 1,\ " + _PEN,
        "Bertsimas, Dunn, Pawlowski and Zhuo (2019), Robust classification. INFORMS Journal "
        "on Optimization 1(1).",
        {"C": "C", "eps": r"\epsilon"},
    ),
    "SparseSVM": Formula(
        r"\min_{w,b,z}\ R(w) + C\sum_{i=1}^n \left(1 - s_i(x_i^\top w + b)\right)_+"
        r" \quad\text{s.t.}\quad |w_j| \le M_j z_j,\ \sum_j z_j \le k,\ z \in \{0,1\}^p,"
        r"\qquad " + _PEN,
        "Maldonado, Pérez, Weber and Labbé (2014), Feature selection for support vector "
        "machines via mixed integer linear programming. Information Sciences 279; Labbé, "
        "Martínez-Merino and Rodríguez-Chía (2019), Mixed integer linear programming for "
        "feature selection in support vector machines. Discrete Applied Mathematics 261.",
        {"C": "C", "k": "k"},
    ),
    "RampLossSVM": Formula(
        _LS + r"R(w) + C\sum_{i=1}^n \min\left\{2,\ \left(1 - s_i(x_i^\top w + b)\right)_+"
        r"\right\},\qquad " + _PEN,
        "Brooks (2011), Support vector machines with the ramp loss and the hard margin loss. "
        "Operations Research 59(2).",
        {"C": "C"},
    ),
    "KernelSVM": Formula(
        r"\max_{\alpha}\ \sum_{i=1}^n \alpha_i - \tfrac12\sum_{i,j}\alpha_i\alpha_j s_i s_j"
        r" K(x_i, x_j) \quad\text{s.t.}\quad \sum_i s_i\alpha_i = 0,\ 0 \le \alpha_i \le C",
        "Boser, Guyon and Vapnik (1992), A training algorithm for optimal margin classifiers. "
        "COLT; Cortes and Vapnik (1995), Support-vector networks. Machine Learning 20(3).",
        {"C": "C"},
    ),
    "LogisticRegression": Formula(
        _LS + r"C\sum_{i=1}^n \log\left(1 + e^{-s_i(x_i^\top w + b)}\right) + R(w),\qquad"
        r" R(w) = \tfrac12\|w\|_2^2,\ \|w\|_1 \text{ or } 0",
        "Cox (1958), The regression analysis of binary sequences. JRSS B 20(2).",
        {"C": "C"},
    ),
    "SparseLogisticRegression": Formula(
        _LS + r"C\sum_{i=1}^n \log\left(1 + e^{-s_i(x_i^\top w + b)}\right) + R(w)"
        r" \quad\text{s.t.}\quad \|w\|_0 \le k",
        "Sato, Takano, Miyashiro and Yoshise (2016), Feature subset selection for logistic "
        "regression via mixed integer optimization. Computational Optimization and "
        "Applications 64(3).",
        {"C": "C", "k": "k"},
    ),
    "FisherLDA": Formula(
        r"\max_{w}\ \frac{w^\top S_B w}{w^\top S_W w}"
        r" \;\Longleftrightarrow\; \min_w\ w^\top S_W w \ \text{s.t.}\ (\mu_1 - \mu_0)^\top w = 1"
        r"\ (K = 2);\quad \max_{0 \preceq P \preceq I,\ \operatorname{tr}P = K-1}"
        r" \langle S_W^{-1/2} S_B S_W^{-1/2}, P\rangle\ (K > 2)",
        "Fisher (1936), The use of multiple measurements in taxonomic problems. Annals of "
        "Eugenics 7(2); Overton and Womersley (1992), On the sum of the largest eigenvalues "
        "of a symmetric matrix. SIAM J. Matrix Anal. Appl. 13(1).",
    ),
    "OptimalClassificationTree": Formula(
        r"\min_{T:\ \operatorname{depth}(T) \le D}\ \sum_{i=1}^n \mathbb 1\{T(x_i) \ne y_i\}"
        r" + \alpha\,\#\mathrm{splits}(T)",
        "Bertsimas and Dunn (2017), Optimal classification trees. Machine Learning 106(7); "
        "Aghaei, Gómez and Vayanos (2021), Strong optimal classification trees. "
        "arXiv:2103.15965.",
        {"max_depth": "D", "alpha": r"\alpha"},
    ),
    "OptimalRegressionTree": Formula(
        r"\min_{T:\ \operatorname{depth}(T) \le D,\ \#\mathrm{leaves}(T) \le L}\ "
        r"\sum_{i=1}^n \big(y_i - \bar y_{\ell(x_i)}\big)^2 + \alpha\,\#\mathrm{splits}(T),"
        r"\quad \bar y_\ell = \operatorname{mean}\{y_i : \ell(x_i) = \ell\}",
        "Bertsimas and Dunn (2019), Machine Learning under a Modern Optimization Lens, ch. 8 "
        "(optimal regression trees); Dunn (2018), Optimal trees for prediction and "
        "prescription, PhD thesis, MIT; Van der Linden, de Weerdt and Demirović (2023), "
        "STreeD, NeurIPS.",
        {"max_depth": "D", "max_leaf_nodes": "L", "alpha": r"\alpha"},
    ),
    "ALAMORegression": Formula(
        r"\min_{\beta,\ S \subseteq \mathcal B}\ \mathrm{IC}\Big(\sum_{i=1}^n \big(y_i - \sum_{"
        r"j \in S} \beta_j \phi_j(x_i)\big)^2,\ |S|\Big)\ \ \text{s.t.}\ |S| \le T",
        "Cozad, Miller and Sahinidis (2014), Learning surrogate models for simulation-based "
        "optimization. AIChE Journal 60(6); Wilson and Sahinidis (2017), The ALAMO approach to "
        "machine learning. Computers & Chemical Engineering 106.",
        {"max_terms": "T"},
    ),
    "PiecewiseLinearRegression": Formula(
        r"\min_{a, b, t_1 < \dots < t_K}\ \sum_{i=1}^n \big(y_i - a_{s(x_i)} x_i - "
        r"b_{s(x_i)}\big)^2,\ \ s(x) = \#\{k : t_k < x\}",
        "Bai and Perron (1998), Estimating and testing linear models with multiple structural "
        "changes. Econometrica 66(1) (the segmented least-squares model, here as a MIQP).",
        {"n_breakpoints": "K"},
    ),
    "SupportVectorOrdinalRegression": Formula(
        r"\min_{w, \theta, \xi \ge 0}\ \tfrac12 \|w\|_2^2 + C \sum_{j}\sum_i "
        r"(\xi_{ij} + \xi^*_{ij})\ \ \text{s.t.}\ w^\top x_i - \theta_j \le -1 + \xi_{ij},\ "
        r"w^\top x_i - \theta_{j-1} \ge 1 - \xi^*_{ij},\ \theta_{j-1} \le \theta_j",
        "Chu and Keerthi (2005), New approaches to support vector ordinal regression. ICML.",
        {"C": "C"},
    ),
    "PLSRegression": Formula(
        r"\max_{\|u\|_2 = 1}\ u^\top X_a^\top Y Y^\top X_a u,\ \ a = 1, \dots, A"
        r"\ \ (X_{a+1} = X_a - t_a p_a^\top)",
        "Wold, Sjöström and Eriksson (2001), PLS-regression: a basic tool of chemometrics. "
        "Chemometrics and Intelligent Laboratory Systems 58(2).",
        {"n_components": "A"},
    ),
    "SparsePLS": Formula(
        r"\max_{\|u\|_2 = 1,\ \|u\|_0 \le k}\ u^\top X_a^\top Y Y^\top X_a u,\ \ a = 1, \dots, A",
        "Lê Cao, Rossouw, Robert-Granié and Besse (2008), A sparse PLS for variable selection "
        "when integrating omics data. Statistical Applications in Genetics and Molecular "
        "Biology 7(1).",
        {"n_components": "A", "n_nonzero": "k"},
    ),
    "RobustOptimalTree": Formula(
        r"\min_{T:\ \operatorname{depth}(T) \le D}\ \sum_{i=1}^n \max_{|\delta_j| \le \epsilon_j}"
        r" \mathbb 1\{T(x_i + \delta) \ne y_i\}",
        "Vos and Verwer (2022), Robust optimal classification trees against adversarial "
        "examples. AAAI 36(8).",
        {"max_depth": "D", "eps": r"\epsilon"},
    ),
    # -------------------------------------------------------- clustering, decomposition
    "KMeans": Formula(
        r"\min_{C_1,\dots,C_k}\ \sum_{j=1}^k \sum_{i \in C_j} \|x_i - \bar x_{C_j}\|_2^2",
        "du Merle, Hansen, Jaumard and Mladenović (2000), An interior point algorithm for "
        "minimum sum-of-squares clustering. SIAM J. Sci. Comput. 21(4); Aloise, Hansen and "
        "Liberti (2012), An improved column generation algorithm for minimum sum-of-squares "
        "clustering. Math. Programming 131.",
        {"n_clusters": "k"},
    ),
    "KMedoids": Formula(
        r"\min_{x,y}\ \sum_{i,j} D_{ij} x_{ij} \quad\text{s.t.}\quad \sum_j x_{ij} = 1,"
        r"\ x_{ij} \le y_j,\ \sum_j y_j = k,\ y \in \{0,1\}^n",
        "Kaufman and Rousseeuw (1987), Clustering by means of medoids; ReVelle and Swain "
        "(1970), Central facilities location. Geographical Analysis 2(1).",
        {"n_clusters": "k"},
    ),
    "PCA": Formula(
        r"\max_Z\ \langle S, Z\rangle \quad\text{s.t.}\quad \operatorname{tr} Z = r,"
        r"\ 0 \preceq Z \preceq I",
        "Fan (1949), On a theorem of Weyl concerning eigenvalues of linear transformations. "
        "PNAS 35(11); Overton and Womersley (1992). SIAM J. Matrix Anal. Appl. 13(1).",
        {"n_components": "r"},
    ),
    "SparsePCA": Formula(
        r"\max_v\ v^\top S v \quad\text{s.t.}\quad \|v\|_2 = 1,\ \|v\|_0 \le k",
        "d'Aspremont, El Ghaoui, Jordan and Lanckriet (2007), A direct formulation for sparse "
        "PCA using semidefinite programming. SIAM Review 49(3); Berk and Bertsimas (2019), "
        "Certifiably optimal sparse principal component analysis. Math. Prog. Comp. 11.",
        {"n_nonzero": "k"},
    ),
    # ------------------------------------------------------------------------- nn
    "BinarizedNeuralNetwork": Formula(
        r"\min_{W \in \{-1,0,1\}}\ \|W\|_0 \quad\text{s.t.}\quad"
        r" f_W(x_i)_{y_i} \ge f_W(x_i)_c + 1\ \ \forall i,\ c \ne y_i",
        "Toro Icarte, Illanes, Castro, Cire, McIlraith and Beck (2019), Training binarized "
        "neural networks using MIP and CP. CP 2019.",
    ),
    "MIPNetworkClassifier": Formula(
        r"\min_{W, c:\ |W| \le B}\ \sum_{i=1}^n \ell\left(y_i,\ c^\top \max(0, W x_i)\right)",
        "Thorbjarnarson and Yorke-Smith (2021), On training neural networks with mixed "
        "integer programming. IJCNN.",
        {"weight_bound": "B"},
    ),
    "CertifiedMLPClassifier": Formula(
        r"\min_{W, b}\ \frac1n \sum_{i=1}^n \kappa\, \mathrm{CE}\left(f(x_i), y_i\right)"
        r" + (1 - \kappa)\, \mathrm{CE}\left(-J_\epsilon(x_i), y_i\right), \quad"
        r" J_\epsilon(x, c) = g^\top x - \epsilon \|g\|_q + \sum_{k=1}^{K} \lambda_k^\top b_k"
        r" + \sum_{k<K} \sum_{j \in I_k} l_{kj} [-\lambda_{kj}]_+,\ "
        r"\lambda_K = c = e_{y} - e_{j},\ \lambda_k = D_k W_{k+1}^\top \lambda_{k+1},\ "
        r"g = W_1^\top \lambda_1",
        "Wong and Kolter (2018), Provable defenses against adversarial examples via the convex "
        "outer adversarial polytope. ICML 2018.",
        {"epsilon": r"\epsilon", "kappa": r"\kappa"},
    ),
}


def _entry(est) -> tuple[str, Formula]:
    if isinstance(est, str):
        if est not in FORMULAS:
            raise KeyError(f"no textbook formula for {est!r}; known estimators: {sorted(FORMULAS)}")
        return est, FORMULAS[est]
    for cls in type(est).__mro__:
        if cls.__name__ in FORMULAS:
            return cls.__name__, FORMULAS[cls.__name__]
    raise KeyError(
        f"no textbook formula for {type(est).__name__}; known estimators: {sorted(FORMULAS)}"
    )


def formula_latex(est, values: bool = False) -> str:
    r"""The textbook formula of an estimator (instance, class instance's name, or class name).

    ``values=True`` (an instance) appends the hyper-parameters' values, e.g.
    ``\quad (\alpha = 0.1)``.
    """
    _, f = _entry(est)
    if not values or isinstance(est, str) or not f.params:
        return f.latex
    from optml.program.display import fmt_num

    parts = []
    for name, sym in f.params.items():
        val = getattr(est, name, None)
        if isinstance(val, bool) or val is None:
            continue
        try:
            parts.append(f"{sym} = {fmt_num(float(val))}")
        except (TypeError, ValueError):
            continue
    return f.latex + (r"\quad (" + ",\\ ".join(parts) + ")" if parts else "")


def formula_reference(est) -> str:
    """The reference of an estimator's model (authors, year, venue)."""
    return _entry(est)[1].reference
