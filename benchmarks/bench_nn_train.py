"""Benchmarks for networks trained by MILP (issue 27), each next to its gradient baseline
measured in the same run.

1. Binarized network 64-16-10 on 100 digits images (10 per class, Toro Icarte et al.'s
   setting), test accuracy on every other image of the set: the MILP methods (``bnn-hybrid``
   with both objectives, ``bnn-mip``, and the single MILP with no start as before issue 27)
   against the gradient-trained ternarised MLP and the real-valued MLP.
2. ``MIPNetworkClassifier`` (one hidden layer of 4 ReLU units, weights in [-1, 1]) on 100
   iris and 100 wine points: training accuracy of the warm start and of the MILP's answer.
3. The certified minimum-weight binarized network that fits the 100 digits: status, gap.

Run ``python benchmarks/bench_nn_train.py [--quick] [--splits 1 2 3 4 5 6 7] [--unguarded]``;
writes docs/perf/nn_train.md (``--splits``: the hybrid with the cross-validated guard against the
ternarised MLP on other splits, same run; the table of all splits includes seed 0).
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from optml.algorithms.nn_train import ternarise_layer
from optml.formulations.bnn import bnn_forward
from optml.nn import BinarizedNeuralNetwork, MIPNetworkClassifier

#: the issue's figure: max_margin with the cross-validated guard
CV_FOLDS = 3
CV_LABEL = f"bnn-hybrid, max_margin, {CV_FOLDS}-fold validation guard"


def digits(per_class=10, seed=0):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    rng = np.random.default_rng(seed)
    idx = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)]
    )
    rest = np.setdiff1d(np.arange(len(y)), idx)
    return X[idx], y[idx], X[rest], y[rest]


def ternarised_mlp(Xtr, ytr, Xte, yte, hidden, seed=0):
    """Gradient baseline: a tanh MLP, both layers ternarised (per unit, the threshold whose
    signs agree best with the real unit on the training points); and the real MLP."""
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = MLPClassifier((hidden,), activation="tanh", max_iter=2000, random_state=seed)
        m.fit(Xtr, ytr)
    W1 = ternarise_layer(m.coefs_[0], m.intercepts_[0], Xtr, 1e-3)
    H = np.where(np.hstack([Xtr, np.ones((len(Xtr), 1))]) @ W1.T >= 0, 1.0, -1.0)
    W2 = ternarise_layer(m.coefs_[1], m.intercepts_[1], H, 0.0)
    dt = time.perf_counter() - t

    def acc(X, y):
        _, _, S, _ = bnn_forward(X, [W1, W2], 1e-3)
        return float(np.mean(S.argmax(axis=1) == y))

    return dict(
        tern_train=acc(Xtr, ytr),
        tern_test=acc(Xte, yte),
        mlp_train=m.score(Xtr, ytr),
        mlp_test=m.score(Xte, yte),
        time=dt,
    )


def bnn_rows(time_limit, rows):
    Xtr, ytr, Xte, yte = digits()
    base = ternarised_mlp(Xtr, ytr, Xte, yte, 16)
    print(
        f"baseline ternarised tanh MLP: train {base['tern_train']:.3f} test "
        f"{base['tern_test']:.3f}; real MLP train {base['mlp_train']:.3f} test "
        f"{base['mlp_test']:.3f} ({base['time']:.1f} s)"
    )
    # the gradient start alone (what every MILP method starts from), same data, same clock rules
    base["start"] = gradient_start_alone(Xtr, ytr, Xte, yte, time_limit)
    print(f"gradient start: {base['start']}")
    configs = [
        (CV_LABEL, dict(method="hybrid", objective="max_margin", validation_folds=CV_FOLDS)),
        ("bnn-hybrid, max_margin", dict(method="hybrid", objective="max_margin")),
        ("bnn-hybrid, min_weight", dict(method="hybrid", objective="min_weight")),
        ("bnn-mip, min_weight", dict(method="mip", objective="min_weight")),
    ]
    for label, kw in configs:
        t = time.perf_counter()
        b = BinarizedNeuralNetwork((16,), time_limit=time_limit, **kw)
        try:
            b.fit(Xtr, ytr)
        except Exception as e:  # noqa: BLE001 - a benchmark row records the failure
            rows.append(dict(label=label, time=time.perf_counter() - t, error=str(e)[:80]))
            print(label, "failed:", e)
            continue
        r = b.result_
        st = r.stats
        row = dict(
            label=label,
            time=time.perf_counter() - t,
            status=r.status,
            objective=r.objective,
            bound=r.bound,
            gap=r.gap,
            start=st.get("start_objective"),
            best_from=st.get("answer_after", st.get("best_from", "")),
            keeps=st.get("validation_keeps"),
            start_seed=st.get("start_seed"),
            cv=st.get("validation_correct"),
            comb=st.get("combinatorial_bound"),
            comb_parts=st.get("combinatorial_bound_parts"),
            mip_bound=st.get("mip_bound"),
            nonzero=b.n_nonzero_weights_,
            train=b.score(Xtr, ytr),
            test=b.score(Xte, yte),
        )
        rows.append(row)
        print(
            f"{label}: {row['time']:.1f} s, {r.status}, objective {r.objective:.4g} (start "
            f"{row['start']}), bound {r.bound:.4g}, gap {r.gap:.3g}, train {row['train']:.3f}, "
            f"test {row['test']:.3f} | baseline ternarised MLP test {base['tern_test']:.3f}"
        )
    got = {r["label"]: r for r in rows if "error" not in r}
    gd = got.get(CV_LABEL)
    if gd is not None:  # seed 0 in the table of all splits
        base["split"] = dict(
            seed=0,
            tern=base["tern_test"],
            mlp=base["mlp_test"],
            start=base["start"]["test"],
            guard=gd["test"],
            guard_train=gd["train"],
            guard_time=gd["time"],
            guard_keeps=gd["keeps"],
            start_seed=gd["start_seed"],
            obj=(gd["start"], gd["objective"]),
        )
        mm = got.get("bnn-hybrid, max_margin")
        if mm is not None:
            base["split"].update(mm=mm["test"], mm_train=mm["train"], mm_time=mm["time"])
    return base


def gradient_start_alone(Xtr, ytr, Xte, yte, time_limit, n_starts=3):
    """The gradient start every MILP method begins with (ternarised, output layer repaired;
    the best of ``n_starts`` MLP seeds)."""
    from optml.algorithms.nn_train import bnn_gradient_start
    from optml.formulations.bnn import BNNTrainingProblem
    from optml.program.settings import SolveSettings

    t = time.perf_counter()
    prob = BNNTrainingProblem(Xtr, ytr, 10, (16,), "min_weight", delta=1e-3, n_starts=n_starts)
    settings = SolveSettings(time_limit=time_limit, mip_gap=1e-4).started()
    info = {}
    Ws, errs = bnn_gradient_start(
        prob, settings, time.perf_counter() + 0.3 * time_limit, None, info
    )
    acc = lambda X, y: float(np.mean(bnn_forward(X, Ws, 1e-3)[2].argmax(axis=1) == y))  # noqa: E731
    return dict(
        time=time.perf_counter() - t,
        errors=errs,
        nonzero=int(sum(np.count_nonzero(W) for W in Ws)),
        train=acc(Xtr, ytr),
        test=acc(Xte, yte),
        seed=info.get("start_seed"),
    )


def start_split_rows(time_limit, seeds):
    """The gradient start alone on many splits (cheap: no MILP phase), against the ternarised
    MLP on the same split: with the cross-validated guard keeping the start, this is the answer
    (``--start-splits 8 9 ...``)."""
    out = []
    for seed in seeds:
        Xtr, ytr, Xte, yte = digits(seed=seed)
        base = ternarised_mlp(Xtr, ytr, Xte, yte, 16)
        one = gradient_start_alone(Xtr, ytr, Xte, yte, time_limit, n_starts=1)
        best = gradient_start_alone(Xtr, ytr, Xte, yte, time_limit)
        row = dict(seed=seed, tern=base["tern_test"], one=one["test"], start=best["test"])
        row.update(chosen=best["seed"], time=best["time"], errors=best["errors"])
        out.append(row)
        print(f"start split {seed}: {row}", flush=True)
    return out


START_MARK = "<!-- start-splits: generated by --start-splits -->"


def write_start_section(path, rows, args):
    """Replace (or append) the section of ``--start-splits`` in ``path``."""
    d1 = np.array([r["one"] - r["tern"] for r in rows])
    d3 = np.array([r["start"] - r["tern"] for r in rows])
    L = [
        START_MARK,
        "",
        f"## The gradient start alone on {len(rows)} more splits (seeds {rows[0]['seed']}-"
        f"{rows[-1]['seed']}), against the ternarised MLP on the same split",
        "",
        "No MILP phase (cheap): the network the cross-validated guard returns when it keeps the "
        "start. `seed 0 repaired`: the baseline's own network, output layer repaired to fit "
        "every training image (`n_starts=1`); `best of 3 seeds`: the default start "
        f"(`n_starts=3`, fewest misfitted training images). Start budget "
        f"{0.3 * args.bnn_time:g} s.",
        "",
        "| split seed | ternarised MLP (baseline) | seed 0 repaired | best of 3 seeds (seed "
        "chosen) | difference | time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        L.append(
            f"| {r['seed']} | {r['tern']:.3f} | {r['one']:.3f} | {r['start']:.3f} "
            f"({r['chosen']}) | {r['start'] - r['tern']:+.3f} | {r['time']:.1f} |"
        )
    L += [
        "",
        f"Against the baseline: seed 0 repaired {d1.mean():+.3f} on average (worst "
        f"{d1.min():+.3f}, below on {(d1 < 0).sum()} of {len(rows)}); best of 3 seeds "
        f"{d3.mean():+.3f} (worst {d3.min():+.3f}, below on {(d3 < 0).sum()} of {len(rows)}, by "
        f"more than 0.01 on {(d3 < -0.01).sum()}).",
        "",
    ]
    _write_section(path, START_MARK, L)


MORE_MARK = "<!-- more-splits: generated by --more-splits -->"


def _write_section(path, mark, lines):
    """Replace (or append) the section that begins with ``mark`` in ``path`` (the sections
    end at the next marker or the end of the file; ``write`` keeps them)."""
    text = Path(path).read_text() if Path(path).exists() else ""
    sections = {}
    for m in (START_MARK, MORE_MARK):
        if m in text:
            rest = text[text.index(m) :]
            ends = [rest.index(o) for o in (START_MARK, MORE_MARK) if o != m and o in rest]
            sections[m] = rest[: min(ends)] if ends else rest
    head = text
    for m in (START_MARK, MORE_MARK):
        if m in head:
            head = head[: head.index(m)]
    sections[mark] = "\n".join(lines)
    body = "\n\n".join(sections[m].strip("\n") for m in (MORE_MARK, START_MARK) if m in sections)
    Path(path).write_text(head.rstrip("\n") + "\n\n" + body + "\n")
    print(f"wrote a section of {path}")


def write_more_section(path, rows, args):
    """The full method (cross-validated guard) on more splits, against the baseline."""
    d = np.array([r["guard"] - r["tern"] for r in rows])
    L = [
        MORE_MARK,
        "",
        f"## The hybrid with the {CV_FOLDS}-fold guard on {len(rows)} more splits (seeds "
        f"{rows[0]['seed']}-{rows[-1]['seed']}), {args.bnn_time:g} s, against the ternarised MLP "
        "on the same split, same run",
        "",
        "| split seed | ternarised MLP (baseline) | hybrid + guard (train) | difference | guard "
        "kept | start seed | objective: start -> answer | time (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        o = r.get("obj") or (None, None)
        fo = lambda v: "" if v is None else format(v, ".4g")  # noqa: E731
        L.append(
            f"| {r['seed']} | {r['tern']:.3f} | {r['guard']:.3f} ({r['guard_train']:.3f}) | "
            f"{r['guard'] - r['tern']:+.3f} | {r['guard_keeps']} | {r.get('start_seed')} | "
            f"{fo(o[0])} -> {fo(o[1])} | {r['guard_time']:.0f} |"
        )
    L += [
        "",
        f"Against the baseline: {d.mean():+.3f} on average (worst {d.min():+.3f}, best "
        f"{d.max():+.3f}), below on {(d < 0).sum()} of {len(rows)} (by more than 0.01 on "
        f"{(d < -0.01).sum()}); the slowest fit took {max(r['guard_time'] for r in rows):.0f} s.",
        "",
    ]
    _write_section(path, MORE_MARK, L)


def split_rows(time_limit, seeds, unguarded=False, with_start=True):
    """Other training splits (10 images per class, seed ``s``): the ternarised MLP baseline,
    the gradient start, ``bnn-hybrid`` with ``max_margin`` and the cross-validated guard
    (and without a guard: ``--unguarded``), same split, same run (``--splits 1 2 3``)."""
    out = []
    for seed in seeds:
        Xtr, ytr, Xte, yte = digits(seed=seed)
        base = ternarised_mlp(Xtr, ytr, Xte, yte, 16)
        row = dict(seed=seed, tern=base["tern_test"], mlp=base["mlp_test"])
        if with_start:
            row["start"] = gradient_start_alone(Xtr, ytr, Xte, yte, time_limit)["test"]
        runs = [("guard", {"validation_folds": CV_FOLDS})]
        if unguarded:
            runs.append(("mm", {}))
        for key, kw in runs:
            t = time.perf_counter()
            b = BinarizedNeuralNetwork((16,), objective="max_margin", time_limit=time_limit, **kw)
            try:
                b.fit(Xtr, ytr)
            except Exception as e:  # noqa: BLE001 - a benchmark row records the failure
                print(f"split {seed} {key} failed: {e}")
                row.update({key: np.nan, key + "_train": np.nan, key + "_keeps": "failed"})
                row[key + "_time"] = time.perf_counter() - t
                continue
            row[key] = b.score(Xte, yte)
            row[key + "_train"] = b.score(Xtr, ytr)
            row[key + "_time"] = time.perf_counter() - t
            row[key + "_keeps"] = b.result_.stats.get("validation_keeps")
            if key == "guard":
                row["start_seed"] = b.result_.stats.get("start_seed")
                row["obj"] = (b.start_objective_, b.result_.objective)
        out.append(row)
        print(f"split {seed}: {row}", flush=True)
    return out


def mip_rows(time_limit, rows):
    for name, loader in (("iris", load_iris), ("wine", load_wine)):
        X, y = loader(return_X_y=True)
        X = (X - X.mean(0)) / X.std(0)
        idx = np.random.default_rng(0).permutation(len(y))
        tr, te = idx[:100], idx[100:]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mlp = MLPClassifier((4,), max_iter=2000, random_state=0).fit(X[tr], y[tr])
        t = time.perf_counter()
        m = MIPNetworkClassifier((4,), time_limit=time_limit).fit(X[tr], y[tr])
        st = m.result_.stats
        row = dict(
            data=name,
            time=time.perf_counter() - t,
            status=m.result_.status,
            gap=m.result_.gap,
            start=st.get("start_objective"),
            polish=st.get("polish_objective", np.nan),
            loss=m.result_.objective,
            start_train=1 - st.get("start_errors", np.nan) / len(tr),
            train=m.score(X[tr], y[tr]),
            test=m.score(X[te], y[te]),
            mlp_train=mlp.score(X[tr], y[tr]),
            mlp_test=mlp.score(X[te], y[te]),
        )
        rows.append(row)
        print(
            f"MIPNetworkClassifier {name}: {row['time']:.1f} s, {row['status']}, gap "
            f"{row['gap']:.3g}, hinge {row['start']:.4g} -> {row['polish']:.4g} (polish) -> "
            f"{row['loss']:.4g}, train "
            f"{row['start_train']:.3f} (start) -> {row['train']:.3f}, test {row['test']:.3f} | "
            f"sklearn MLP (4,) train {row['mlp_train']:.3f} test {row['mlp_test']:.3f}"
        )


def write(path, base, bn, mp, args, splits=()):
    f = lambda v, fmt=".3g": "" if v is None else format(v, fmt)  # noqa: E731
    L = [
        "# Networks trained by MILP (issue 27): measured figures",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, 2 cores shared "
        "with other jobs (timings noisy; compare within a table). HiGHS for every MILP. "
        f"Generated by `python benchmarks/bench_nn_train.py{' --quick' if args.quick else ''}`.",
        "",
        f"## Binarized network 64-16-10, 100 digits images (10 per class), time limit "
        f"{args.bnn_time:g} s",
        "",
        "Test accuracy on the other 1697 images of scikit-learn's digits. Baselines in the same "
        "run: a tanh MLP (16 units) trained by scikit-learn and ternarised (per unit, the "
        "threshold whose signs agree best with the real unit), and the real-valued MLP.",
        "",
        "| model | time (s) | status | objective | start | bound | gap | nonzero weights | "
        "train acc | test acc | best network from |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in bn:
        if "error" in r:
            L.append(f"| {r['label']} | {r['time']:.1f} | failed: {r['error']} |||||||||")
            continue
        L.append(
            f"| {r['label']} | {r['time']:.1f} | {r['status']} | {f(r['objective'], '.4g')} | "
            f"{f(r['start'], '.4g')} | {f(r['bound'], '.4g')} | {f(r['gap'])} | {r['nonzero']} | "
            f"{r['train']:.3f} | {r['test']:.3f} | {r['best_from']} |"
        )
    for r in bn:
        if r.get("comb") is not None:
            L.append(
                f"| bound of {r['label']}: training MILP {f(r['mip_bound'], '.4g')}, "
                f"combinatorial {f(r['comb'], '.4g')} ({r['comb_parts']}) | | | | | "
                f"{f(r['bound'], '.4g')} | {f(r['gap'])} | | | | |"
            )
    st = base["start"]
    L += [
        f"| gradient start alone (ternarised, output layer repaired to fit) | {st['time']:.1f} "
        f"| | | | | | {st['nonzero']} | {st['train']:.3f} | {st['test']:.3f} | |",
        f"| baseline: ternarised tanh MLP | {base['time']:.1f} | | | | | | | "
        f"{base['tern_train']:.3f} | {base['tern_test']:.3f} | |",
        f"| baseline: real tanh MLP (16,) | {base['time']:.1f} | | | | | | | "
        f"{base['mlp_train']:.3f} | {base['mlp_test']:.3f} | |",
        "",
        "`max_margin` maximises the sum of the hidden units' margins (larger is better; its "
        "bound is an upper bound); `min_weight` counts nonzero weights (its bound a lower "
        "bound). The min-weight rows are the minimum-weight network of Toro Icarte et al.'s "
        "setting (10 images per class): their bound is the larger of the training MILP's "
        "proven bound and the combinatorial bound (minimum test cover of the training set, "
        "ceil(log2 10) = 4 sign codes per hidden layer, 9 nonzero output rows; its row below). "
        "The guard row's answer is the network after the phase its cross-validation kept "
        "(the gradient start: the objective of the start). `start` is the gradient start's "
        "objective (the best of up to 3 MLP seeds by training errors, output layer repaired "
        "to fit every image); the time includes it.",
        "",
        f"## MIPNetworkClassifier, 100 points, hidden (4,), weights in [-1, 1], hinge loss, "
        f"time limit {args.mip_time:g} s",
        "",
        "| data | time (s) | status | gap | hinge: start -> polish -> answer | "
        "train acc: start -> answer "
        "| test acc | baseline sklearn MLP (4,) train / test |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in mp:
        L.append(
            f"| {r['data']} | {r['time']:.1f} | {r['status']} | {r['gap']:.3g} | "
            f"{r['start']:.4g} -> {r['polish']:.4g} -> {r['loss']:.4g} | "
            f"{r['start_train']:.3f} -> {r['train']:.3f} | "
            f"{r['test']:.3f} | {r['mlp_train']:.3f} / {r['mlp_test']:.3f} |"
        )
    if splits:
        has_mm = all("mm" in r for r in splits)
        L += [
            "",
            f"## All splits: `bnn-hybrid`, `max_margin`, {args.bnn_time:g} s, with the "
            f"{CV_FOLDS}-fold validation guard (`validation_folds={CV_FOLDS}`), against the "
            "ternarised MLP on the same split, same run",
            "",
            "| split seed | ternarised MLP (baseline) | gradient start alone | hybrid + guard "
            "(train) | difference | guard kept | start seed | objective: start -> answer | "
            "time (s) |" + (" hybrid, no guard |" if has_mm else "") + " real MLP |",
            "|---|---|---|---|---|---|---|---|---|" + ("---|" if has_mm else "") + "---|",
        ]
        for r in splits:
            o = r.get("obj") or (None, None)
            L.append(
                f"| {r['seed']} | {r['tern']:.3f} | {r['start']:.3f} | {r['guard']:.3f} "
                f"({r['guard_train']:.3f}) | {r['guard'] - r['tern']:+.3f} | {r['guard_keeps']} | "
                f"{r.get('start_seed')} | {f(o[0], '.4g')} -> {f(o[1], '.4g')} | "
                f"{r['guard_time']:.0f} |"
                + (f" {r['mm']:.3f} |" if has_mm else "")
                + f" {r['mlp']:.3f} |"
            )
        col = {k: np.array([r[k] for r in splits]) for k in ("tern", "start", "guard", "mlp")}
        d_g = col["guard"] - col["tern"]
        d_s = col["start"] - col["tern"]
        L += [
            f"| **mean** | **{col['tern'].mean():.3f}** | {col['start'].mean():.3f} | "
            f"**{col['guard'].mean():.3f}** | {d_g.mean():+.3f} | | | | |"
            + (f" {np.mean([r['mm'] for r in splits]):.3f} |" if has_mm else "")
            + f" {col['mlp'].mean():.3f} |",
            "",
            f"Against the ternarised MLP, split by split ({len(splits)} splits): the hybrid with "
            f"the guard {d_g.mean():+.3f} on average, worst {d_g.min():+.3f}, best "
            f"{d_g.max():+.3f}; below the baseline on {(d_g < 0).sum()} of {len(splits)} "
            f"(by more than 0.01 on {(d_g < -0.01).sum()}). The gradient start alone: "
            f"{d_s.mean():+.3f} on average, worst {d_s.min():+.3f}. Every answer's objective "
            "is at least its start's (max_margin: larger is better); the slowest fit took "
            f"{max(r['guard_time'] for r in splits):.0f} s (limit {args.bnn_time:g} s).",
        ]
    L += [
        "",
        "Reading: every MILP method starts from the gradient network and never returns worse "
        "on its own objective; the objectives (fewest weights, largest hidden margins) are "
        "proxies: each MILP phase fits every training image and mostly lowered the test "
        "accuracy of the network it started from. The validation guard (each phase run on "
        f"{CV_FOLDS - 1} of {CV_FOLDS} stratified folds and scored on the third, pooled, then "
        "the final run on every image) lets a MILP phase replace the gradient start only where "
        "it was right on strictly more held-out images (a verdict for the feasibility phase, "
        "which runs only where a fold's start misfits images, returns the start when the "
        "start on every image fits them all). "
        "Gaps stay near 1 except where the loss reaches its bound (wine): the big-M rows' LP "
        "relaxation is weak and the bound is reported as proven.",
        "",
    ]
    old = Path(path).read_text() if Path(path).exists() else ""
    marks = [old.index(m) for m in (START_MARK, MORE_MARK) if m in old]
    kept = old[min(marks) :] if marks else ""  # the sections of --start-splits, --more-splits
    Path(path).write_text("\n".join(L) + ("\n" + kept if kept else ""))
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="time limits of 20 s and 10 s")
    ap.add_argument("--bnn-time", type=float, default=None)
    ap.add_argument("--mip-time", type=float, default=None)
    ap.add_argument("--splits", type=int, nargs="*", default=[], help="extra split seeds")
    ap.add_argument("--unguarded", action="store_true", help="splits: the unguarded hybrid too")
    ap.add_argument(
        "--out", default=str(Path(__file__).resolve().parents[1] / "docs/perf/nn_train.md")
    )
    ap.add_argument(
        "--start-splits",
        type=int,
        nargs="*",
        default=None,
        help="only the gradient start against the baseline on these splits (a section of --out)",
    )
    ap.add_argument(
        "--more-splits",
        type=int,
        nargs="*",
        default=None,
        help="only the hybrid with the guard against the baseline on these splits (a section)",
    )
    args = ap.parse_args()
    args.bnn_time = args.bnn_time or (20.0 if args.quick else 120.0)
    args.mip_time = args.mip_time or (10.0 if args.quick else 60.0)
    if args.more_splits:
        rows = split_rows(args.bnn_time, args.more_splits, with_start=False)
        write_more_section(args.out, rows, args)
        return
    if args.start_splits:
        write_start_section(args.out, start_split_rows(args.bnn_time, args.start_splits), args)
        return
    bn, mp = [], []
    base = bnn_rows(args.bnn_time, bn)
    mip_rows(args.mip_time, mp)
    splits = split_rows(args.bnn_time, args.splits, args.unguarded)
    if splits and base.get("split") is not None:
        splits = [base["split"], *splits]
    write(args.out, base, bn, mp, args, splits)


if __name__ == "__main__":
    main()
