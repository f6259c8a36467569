"""Benchmarks for optml.nn (issue 9): robustness verification on digits, the Fischetti-Jo
bound-tightening table in miniature, and a binarized network trained by MILP.

Run ``python benchmarks/bench_nn.py [--quick]``; writes docs/perf/nn.md (``--out`` to change).
Each figure is printed next to its baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from optml.nn import BinarizedNeuralNetwork, ReLUNetwork, verify_robustness
from optml.nn._verify import attack


def data():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:-100], y[:-100], X[-100:], y[-100:]


def verification(net, Xte, yte, n_images, rows):
    for eps in (0.02, 0.05):
        # baseline: the numpy attack alone (finds counterexamples, proves nothing)
        t = time.perf_counter()
        found = 0
        for i in range(n_images):
            x0 = Xte[i]
            lab = int(np.argmax(net.forward(x0)))
            lo, hi = np.maximum(0, x0 - eps), np.minimum(1, x0 + eps)
            _, m = attack(net, x0, lab, eps, "inf", lo, hi)
            found += (m > 0) or lab != yte[i]
        t_att = (time.perf_counter() - t) / n_images
        for bounds in ("interval", "lp"):
            t = time.perf_counter()
            verdicts, by = [], {}
            for i in range(n_images):
                r = verify_robustness(net, Xte[i], yte[i], eps, lb=0.0, ub=1.0, bounds=bounds)
                verdicts.append(r.robust)
                by[r.decided_by] = by.get(r.decided_by, 0) + 1
            dt = (time.perf_counter() - t) / n_images
            row = dict(
                eps=eps,
                bounds=bounds,
                n=n_images,
                robust=verdicts.count(True),
                not_robust=verdicts.count(False),
                undecided=verdicts.count(None),
                time=dt,
                attack_found=int(found),
                attack_time=t_att,
                by=", ".join(f"{k}: {v}" for k, v in sorted(by.items())),
            )
            rows.append(row)
            print(
                f"eps={eps} bounds={bounds:8s} robust {row['robust']:3d} not {row['not_robust']:3d}"
                f" undecided {row['undecided']} | {dt:.3f} s/image (target <= 0.5) | "
                f"baseline attack alone: {found} counterexamples, {t_att:.3f} s/image"
            )


def fischetti_jo(net, Xte, yte, n_images, rows, eps=0.05):
    """max f_j - f_label over the ball to optimality, for the most dangerous j, per method."""
    for method in ("interval", "lp", "milp"):
        bins, t_bnd, t_all, margins = [], [], [], []
        for i in range(n_images):
            t = time.perf_counter()
            r = verify_robustness(
                net,
                Xte[i],
                yte[i],
                eps,
                lb=0.0,
                ub=1.0,
                bounds=method,
                mode="margin",
                attack_steps=0,
            )
            t_all.append(time.perf_counter() - t)
            if r.bounds is not None:
                bins.append(r.bounds.n_unstable)
                t_bnd.append(r.bounds.time)
            margins.append(r.margin_bound)
        row = dict(
            method=method,
            images=n_images,
            binaries=float(np.mean(bins)),
            binaries_interval=None,
            bound_time=float(np.mean(t_bnd)),
            total_time=float(np.mean(t_all)),
            margins=margins,
        )
        rows.append(row)
        print(
            f"bounds={method:8s} mean binaries {row['binaries']:.1f}, bound time "
            f"{row['bound_time']:.3f} s, total {row['total_time']:.3f} s per image"
        )
    ref = rows[-3]["margins"]
    for r in rows[-2:]:
        same = np.allclose(np.array(r["margins"]), np.array(ref), rtol=1e-4, atol=1e-5)
        r["same_margins"] = bool(same)
        print(f"  {r['method']}: worst-case margins equal to interval's: {same}")


def bnn(Xtr, ytr, Xte, yte, rows, time_limit):
    """BinarizedNeuralNetwork 64-16-10 on 100 training images (10 per class): the default
    (``min_weight``, ``bnn-hybrid``) and ``max_margin`` with the validation guard, against a
    scikit-learn MLP and the same MLP ternarised (tanh, the issue-27 baseline)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_nn_train import ternarised_mlp

    rng = np.random.default_rng(0)
    idx = np.concatenate(
        [rng.choice(np.flatnonzero(ytr == c), 10, replace=False) for c in range(10)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t = time.perf_counter()
        m = MLPClassifier((16,), random_state=0, max_iter=2000).fit(Xtr[idx], ytr[idx])
        t_m = time.perf_counter() - t
    tern = ternarised_mlp(Xtr[idx], ytr[idx], Xte, yte, 16)
    for label, kw in (
        ("BNN, default (min_weight, bnn-hybrid)", {}),
        (
            "BNN, max_margin, validation guard 0.2",
            dict(objective="max_margin", validation_fraction=0.2),
        ),
    ):
        t = time.perf_counter()
        b = BinarizedNeuralNetwork(hidden_layer_sizes=(16,), time_limit=time_limit, **kw)
        b.fit(Xtr[idx], ytr[idx])
        t_b = time.perf_counter() - t
        row = dict(
            label=label,
            time=t_b,
            status=b.result_.status,
            gap=b.result_.gap,
            nonzero=b.n_nonzero_weights_,
            train_acc=b.score(Xtr[idx], ytr[idx]),
            test_acc=b.score(Xte, yte),
            mlp_train=m.score(Xtr[idx], ytr[idx]),
            mlp_test=m.score(Xte, yte),
            mlp_time=t_m,
            tern_train=tern["tern_train"],
            tern_test=tern["tern_test"],
            tern_time=tern["time"],
        )
        rows.append(row)
        print(
            f"{label} on 100 images: {t_b:.1f} s (target <= 120), {row['status']}, gap "
            f"{row['gap']:.3g}, {row['nonzero']} nonzero weights, train acc "
            f"{row['train_acc']:.2f}, test acc {row['test_acc']:.2f} | baseline sklearn MLP: "
            f"train {row['mlp_train']:.2f}, test {row['mlp_test']:.2f}; ternarised "
            f"{row['tern_train']:.2f} / {row['tern_test']:.2f}"
        )


BNN_TITLE = "## Binarized network 64-16-10 trained by MILP (10 images per class)"


def bnn_section(bn, time_limit):
    b = bn[0]
    L = [
        BNN_TITLE,
        "",
        f"Time limit {time_limit:g} s; test accuracy on the last 100 images of the set. "
        "`python benchmarks/bench_nn.py --only-bnn` re-measures this section alone (last: "
        "2026-12-07, a 2-core machine shared with other jobs).",
        "",
        "| model | train time (s) | status | gap | nonzero weights | train acc | "
        "test acc (100 images) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in bn:
        L.append(
            f"| {r['label']} (HiGHS) | {r['time']:.1f} | {r['status']} | {r['gap']:.3g} | "
            f"{r['nonzero']} | {r['train_acc']:.2f} | {r['test_acc']:.2f} |"
        )
    L += [
        f"| baseline: sklearn MLPClassifier((16,)) | {b['mlp_time']:.1f} | | | | "
        f"{b['mlp_train']:.2f} | {b['mlp_test']:.2f} |",
        f"| baseline: the tanh MLP (16,) ternarised | {b['tern_time']:.1f} | | | | "
        f"{b['tern_train']:.2f} | {b['tern_test']:.2f} |",
        "",
        "More splits and the other MILP methods: docs/perf/nn_train.md (issue 27).",
        "",
    ]
    return L


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="20 images, BNN time limit 30 s")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/perf/nn.md"))
    ap.add_argument(
        "--only-bnn",
        action="store_true",
        help="re-measure the binarized-network section only and replace it in --out",
    )
    args = ap.parse_args()
    if args.only_bnn:
        Xtr, ytr, Xte, yte = data()
        bn = []
        tl = 30 if args.quick else 120
        bnn(Xtr, ytr, Xte, yte, bn, tl)
        text = Path(args.out).read_text()
        head = text[: text.index(BNN_TITLE)] if BNN_TITLE in text else text + "\n"
        Path(args.out).write_text(head + "\n".join(bnn_section(bn, tl)))
        print(f"wrote {args.out}")
        return
    n = 20 if args.quick else 100
    Xtr, ytr, Xte, yte = data()
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((32, 32), random_state=0, max_iter=300).fit(Xtr, ytr)
    net = ReLUNetwork.from_sklearn(mlp)
    print(
        f"MLP {net} trained in {time.perf_counter() - t:.1f} s, test acc {mlp.score(Xte, yte):.3f}"
    )
    ver, fj, bn = [], [], []
    verification(net, Xte, yte, n, ver)
    fischetti_jo(net, Xte, yte, 10 if args.quick else 30, fj)
    bnn(Xtr, ytr, Xte, yte, bn, 30 if args.quick else 120)
    write(args.out, net, mlp.score(Xte, yte), ver, fj, bn, args.quick)


def write(path, net, acc, ver, fj, bn, quick):
    L = [
        "# optml.nn: measured figures",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"shared 2-core box (timings noisy). Generated by `python benchmarks/bench_nn.py"
        f"{' --quick' if quick else ''}`.",
        "",
        f"## Robustness verification, digits MLP {net} (sklearn, random_state=0, "
        f"test accuracy {acc:.3f}), L-inf, HiGHS",
        "",
        "| epsilon | bounds | images | robust | not robust | undecided | s / image "
        "(target <= 0.5) | decided by | baseline: attack alone finds | attack s / image |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ver:
        L.append(
            f"| {r['eps']} | {r['bounds']} | {r['n']} | {r['robust']} | {r['not_robust']} | "
            f"{r['undecided']} | {r['time']:.3f} | {r['by']} | {r['attack_found']} | "
            f"{r['attack_time']:.3f} |"
        )
    L += [
        "",
        "## Fischetti–Jo table in miniature (epsilon 0.05, worst-case margin to optimality)",
        "",
        "| neuron bounds | images | mean binaries | bound time (s) | total s / image | "
        "same optimum as interval |",
        "|---|---|---|---|---|---|",
    ]
    for r in fj:
        L.append(
            f"| {r['method']} | {r['images']} | {r['binaries']:.1f} | {r['bound_time']:.3f} | "
            f"{r['total_time']:.3f} | {r.get('same_margins', 'reference')} |"
        )
    L += ["", *bnn_section(bn, 30 if quick else 120)]
    Path(path).write_text("\n".join(L))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
