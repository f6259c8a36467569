"""Certified training (Wong and Kolter 2018) vs nominal training on digits (issue 22, item 3).

digits (8x8, pixels scaled to [0, 1]), L-inf balls clipped to the pixel box [0, 1]; a 64-50-10
ReLU MLP at radii 0.02, 0.05 and 0.1, and the 64-32-32-10 MLP of bench_nn.py at 0.05. For each
architecture, in the same run:

* nominal scikit-learn ``MLPClassifier`` (ReLU, Adam, 200 iterations),
* nominal training by the same numpy code (``CertifiedMLPClassifier(kappa=1)``),
* certified training (``CertifiedMLPClassifier(kappa=0, epsilon=eps)``: the robust loss only,
  radius ramped over the first half of the epochs).

Reported: clean test accuracy, the fraction of test images certified by the LP bound (the
dual network of the trained network), and the verified robust accuracy by optml's exact MILP
verifier (``optml.nn.verify_robustness``, every counterexample checked by a forward pass) on
the first ``--n-verify`` test images; training and verification times.

Run ``python benchmarks/bench_certified_training.py [--quick]``; writes
docs/perf/certified_training.md (``--out`` to change).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from optml.adversarial import CertifiedMLPClassifier, dual_margin_bounds
from optml.nn import ReLUNetwork, verify_robustness


def certified_fraction(net, X, y, eps):
    J = dual_margin_bounds(net, X, y, eps, "inf", lb=0.0, ub=1.0)
    idx = np.searchsorted(net.classes, y)
    J[np.arange(len(y)), idx] = np.inf
    return float(np.mean(J.min(axis=1) > 0))


def milp_verified(net, X, y, eps, time_limit):
    t = time.perf_counter()
    verdicts = [
        verify_robustness(net, x, lab, eps, lb=0.0, ub=1.0, time_limit=time_limit).robust
        for x, lab in zip(X, y, strict=True)
    ]
    return (
        float(np.mean([v is True for v in verdicts])),
        sum(v is None for v in verdicts),
        time.perf_counter() - t,
    )


def run_config(hidden, train_eps, eval_eps, data, epochs, n_ver, time_limit):
    """Train the nominal and certified models of one architecture; one table row per
    (model, evaluation radius)."""
    Xtr, Xte, ytr, yte = data
    Xv, yv = Xte[:n_ver], yte[:n_ver]
    models = []
    t = time.perf_counter()
    # one BLAS thread, as CertifiedMLPClassifier trains (on a shared 2-core machine a BLAS
    # thread pool made this fit 60 s instead of 2 s)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden, max_iter=200, random_state=0).fit(Xtr, ytr)
    models.append(("scikit-learn MLPClassifier (nominal)", mlp, time.perf_counter() - t))
    kw = dict(hidden_layer_sizes=hidden, lb=0.0, ub=1.0, epochs=epochs, batch_size=50)
    kw.update(learning_rate=0.005, random_state=0)
    nom = CertifiedMLPClassifier(kappa=1.0, **kw).fit(Xtr, ytr)
    models.append(("same code, clean loss (kappa=1)", nom, nom.fit_time_))
    for eps in train_eps:
        rob = CertifiedMLPClassifier(kappa=0.0, epsilon=eps, **kw).fit(Xtr, ytr)
        models.append((f"certified training, eps={eps}", rob, rob.fit_time_))
    rows = []
    for name, m, t_fit in models:
        net = ReLUNetwork.from_sklearn(m) if isinstance(m, MLPClassifier) else m.to_network()
        acc = float(np.mean(net.predict(Xte) == yte))
        for eps in eval_eps:
            cert = certified_fraction(net, Xte, yte, eps)
            ver, und, t_ver = milp_verified(net, Xv, yv, eps, time_limit)
            cert_v = certified_fraction(net, Xv, yv, eps)
            cells = [name, f"{t_fit:.1f} s", f"{acc:.3f}", f"{eps:g}", f"{cert:.3f}"]
            cells += [f"{cert_v:.2f}", f"**{ver:.2f}**", f"{und}", f"{t_ver:.0f} s"]
            rows.append("| " + " | ".join(cells) + " |")
            print(rows[-1], flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer epochs and verified images")
    ap.add_argument("--n-verify", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--time-limit", type=float, default=20.0, help="seconds per MILP check")
    ap.add_argument(
        "--out", default=str(Path(__file__).parent.parent / "docs/perf/certified_training.md")
    )
    ap.add_argument(
        "--noisy-only",
        action="store_true",
        help="run only 64-50-10 at eps 0.05 with 10%% of the training labels replaced by "
        "random ones, and append its table to --out",
    )
    a = ap.parse_args()
    epochs = 10 if a.quick else a.epochs
    n_ver = 20 if a.quick else a.n_verify
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    data = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    ytr, yte = data[2], data[3]
    if a.noisy_only:
        rng = np.random.default_rng(0)
        flip = rng.random(ytr.size) < 0.1
        noisy = ytr.copy()
        noisy[flip] = rng.integers(0, 10, size=int(flip.sum()))
        data[2] = noisy
        rows = run_config((50,), (0.05,), (0.05,), data, epochs, n_ver, a.time_limit)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        section = [
            "## 64-50-10, label noise: 10% of the training labels replaced by random ones",
            "",
            f"`--noisy-only`: {int(flip.sum())} training labels redrawn at random (the test "
            f"labels are clean); load average {load:.1f} at the end.",
            "",
            "| model | train time | clean test acc. | eval eps | LP-certified (test) | "
            f"LP-certified (first {n_ver}) | **MILP-verified** (first {n_ver}) | undecided | "
            "verify time |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
        ]
        out = Path(a.out)
        out.write_text(out.read_text().rstrip("\n") + "\n\n" + "\n".join(section))
        print(f"appended to {out}")
        return
    configs = [
        ((50,), (0.02, 0.05, 0.1), (0.02, 0.05, 0.1)),
        ((32, 32), (0.05,), (0.05,)),  # the digits MLP of bench_nn.py and the issue
    ]
    tables = []
    for hidden, train_eps, eval_eps in configs:
        rows = run_config(hidden, train_eps, eval_eps, data, epochs, n_ver, a.time_limit)
        arch = "-".join(map(str, (64, *hidden, 10)))
        tables += [
            f"## {arch}",
            "",
            "| model | train time | clean test acc. | eval eps | LP-certified (test) | "
            f"LP-certified (first {n_ver}) | **MILP-verified** (first {n_ver}) | undecided | "
            "verify time |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    md = [
        "# Certified training (Wong and Kolter 2018) vs nominal training (issue 22)",
        "",
        f"`python benchmarks/bench_certified_training.py{' --quick' if a.quick else ''}` on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
        f"{load:.1f} at the end (the machine was shared with other jobs: compare the rows, "
        "measured in the same run, rather than the absolute times).",
        "",
        f"digits (pixels scaled to [0, 1]), 70/30 stratified split ({len(ytr)} training, "
        f"{len(yte)} test images), ReLU MLPs, L-inf balls clipped to the pixel box. Numpy "
        f"models (`CertifiedMLPClassifier`): Adam, {epochs} epochs, batch 50, step 0.005; the "
        "certified runs ramp the radius from 0 over the first half of the epochs and minimise "
        "the robust cross-entropy only (kappa = 0). *LP-certified*: fraction of the images "
        "whose Wong-Kolter bound proves every margin positive (sound, incomplete). "
        f"*MILP-verified*: verified robust accuracy on the first {n_ver} test images by "
        "`optml.nn.verify_robustness` (exact; every counterexample checked by a forward pass; "
        f"{a.time_limit:g} s per image, undecided images count as not robust). "
        "scikit-learn's fit also runs with one BLAS thread, as the numpy code does.",
        "",
        *tables,
    ]
    Path(a.out).write_text("\n".join(md))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
