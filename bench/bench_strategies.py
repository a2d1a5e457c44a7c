"""Every transfer strategy at several label budgets, next to the no-transfer baseline.

    python bench/bench_strategies.py [--budgets 10 50] [--text-budgets 16 64] [--seeds 0]

Images: EfficientNet-Lite0 on Fashion-MNIST at 112 px (test: 100 per class of the official test split).
Text: MiniLM-L6 on the de-duplicated Chinese sentiment lines (max 64 tokens; test: 250 per class, disjoint
from every training budget). Each strategy runs with its default hyperparameters (no tuning per dataset),
the epochs below, and the same train/test split as the baseline. ``auto`` chooses per run on a validation
part of the training data (never the test set). Seconds per epoch are reported as a ratio
to the linear probe's total fit time in the same run (timings on shared machines are noisy).
Results: bench/results/strategies.json and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

EPOCHS = {"image": 6, "text": 4}


#: Measured with the 10% validation split at any size (before ``min_val_size``): pinned so the
#: documented figures reproduce; docs/BENCHMARKS.md "How long a fine-tune trains" shows what the floor changes.
SPLIT = {"min_val_size": 0}


def _strategies(kind: str) -> dict[str, Any]:
    from transferkit.strategies import (
        LPFT,
        AutoStrategy,
        FullFineTune,
        GradualUnfreeze,
        LinearProbe,
        LoRA,
        PartialFreeze,
    )

    e = EPOCHS[kind]
    lr = 1e-4 if kind == "image" else 5e-5
    return {
        "linear probe": LinearProbe(),
        "full fine-tune": FullFineTune(epochs=e, lr=lr, **SPLIT),
        "partial (train top half)": PartialFreeze(epochs=e, lr=lr, n_trainable=9 if kind == "image" else 4, **SPLIT),
        "gradual unfreeze": GradualUnfreeze(epochs=e, lr=lr, unfreeze_every=1, **SPLIT),
        "LP-FT": LPFT(epochs=e, **SPLIT),
        "LoRA r=8": LoRA(epochs=e, **SPLIT),
        "auto": AutoStrategy(epochs=e),
        # the shipped default: candidates train 10 epochs or >= 100 optimiser steps (default_epochs)
        "auto (default length)": AutoStrategy(),
    }


def _data(kind: str, budget: int, seed: int) -> tuple[Any, Any, Any, Any]:
    from transferkit.datasets import load_chinese_sentiment, load_fashion_mnist

    if kind == "image":
        train = load_fashion_mnist("train", n_per_class=budget, random_state=seed)
        test = load_fashion_mnist("test", n_per_class=100, random_state=0)
        return train.X, train.y, test.X, test.y
    full = load_chinese_sentiment(deduplicate=True)
    rng = np.random.default_rng(1234)  # the test set is the same for every seed and budget
    test_idx, pool = [], []
    for c in np.unique(full.y):
        idx = rng.permutation(np.flatnonzero(full.y == c))
        test_idx += idx[:250].tolist()
        pool += idx[250:].tolist()
    pool_arr = np.asarray(pool)
    r = np.random.default_rng(seed)
    train_idx = np.concatenate([r.choice(pool_arr[full.y[pool_arr] == c], budget, replace=False)
                                for c in np.unique(full.y)])
    X = np.asarray(full.X, dtype=object)
    return X[train_idx], full.y[train_idx], X[test_idx], full.y[test_idx]


def run(kind: str, budget: int, seed: int, models: list[str] | None = None) -> list[dict[str, Any]]:
    from sklearn.metrics import accuracy_score, f1_score

    from transferkit import TransferClassifier
    from transferkit.evaluation import make_baseline

    Xtr, ytr, Xte, yte = _data(kind, budget, seed)
    rows = []
    t0 = time.perf_counter()
    base = make_baseline(kind).fit(Xtr, ytr)
    pred = base.predict(Xte)
    rows.append({"model": "no-transfer baseline", "fit_seconds": time.perf_counter() - t0, "epochs": None,
                 "accuracy": accuracy_score(yte, pred), "macro_f1": f1_score(yte, pred, average="macro")})
    backbone = {"image": "efficientnet-lite0", "text": "minilm-l6"}[kind]
    for name, strategy in _strategies(kind).items():
        if models and name not in models and name != "linear probe":  # the probe is the time reference
            continue
        clf = TransferClassifier(backbone=backbone, strategy=strategy, image_size=112 if kind == "image" else None,
                                 max_length=64 if kind == "text" else None, random_state=seed)
        t0 = time.perf_counter()
        clf.fit(Xtr, ytr)
        fit_s = time.perf_counter() - t0
        pred = clf.predict(Xte)
        hist = getattr(clf.model_, "history", None)
        n_epochs = len(hist.epochs) if hist is not None else None
        auto = clf.fit_info_.get("auto")
        rows.append({"model": name, "fit_seconds": fit_s, "epochs": n_epochs,
                     "auto_choice": auto["choice"] if auto else None,
                     "auto_candidates": auto["candidates"] if auto else None,
                     "seconds_per_epoch": (sum(e["seconds"] for e in hist.epochs) / n_epochs) if n_epochs else None,
                     "accuracy": accuracy_score(yte, pred), "macro_f1": f1_score(yte, pred, average="macro")})
        print(f"  {kind} {budget}/class seed {seed} {name}: {rows[-1]['accuracy']:.3f} ({fit_s:.0f} s)", flush=True)
    probe_s = next(r["fit_seconds"] for r in rows if r["model"] == "linear probe")
    for r in rows:
        r["fit_vs_probe"] = r["fit_seconds"] / probe_s
        r.update(kind=kind, budget=budget, seed=seed, n_train=len(ytr), n_test=len(yte))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", type=int, nargs="+", default=[10, 50], help="images per class")
    parser.add_argument("--text-budgets", type=int, nargs="+", default=[16, 64], help="texts per class")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--only", choices=["image", "text"], default=None)
    parser.add_argument("--models", default=None, help="comma-separated subset of the strategies (default: all)")
    parser.add_argument("--out", default="bench/results/strategies.json")
    parser.add_argument("--table", nargs="+", default=None, metavar="JSON",
                        help="print the tables of saved results instead of running; a later file's rows replace "
                             "an earlier file's rows of the same data, budget, seed and model")
    args = parser.parse_args()
    if args.table:
        merged: dict[tuple[Any, ...], dict[str, Any]] = {}
        for f in args.table:
            for r in json.loads(Path(f).read_text()):
                merged[(r["kind"], r["budget"], r["seed"], r["model"])] = r
        print_tables(list(merged.values()))
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TRANSFERKIT_CACHE_DIR"] = str(Path(tmp) / "cache")
        for kind, budgets in (("image", args.budgets), ("text", args.text_budgets)):
            if args.only and kind != args.only:
                continue
            for budget in budgets:
                for seed in args.seeds:
                    rows += run(kind, budget, seed, args.models.split(",") if args.models else None)
    Path(args.out).write_text(json.dumps(rows, indent=1))
    print_tables(rows)


def print_tables(rows: list[dict[str, Any]]) -> None:
    """The per-setting table (mean ± sd over seeds) and the average over settings."""
    print("\n| data | per class | model | accuracy | macro-F1 | epochs | s/epoch | fit time / probe |")
    print("|---|---|---|---|---|---|---|---|")
    keys = sorted({(r["kind"], r["budget"], r["model"]) for r in rows}, key=lambda k: (k[0], k[1]))
    order = ["no-transfer baseline", *_strategies("image")]
    keys.sort(key=lambda k: (k[0], k[1], order.index(k[2])))
    for kind, budget, model in keys:
        rs = [r for r in rows if (r["kind"], r["budget"], r["model"]) == (kind, budget, model)]
        acc = np.array([r["accuracy"] for r in rs])
        f1 = np.array([r["macro_f1"] for r in rs])
        spe = [r["seconds_per_epoch"] for r in rs if r.get("seconds_per_epoch")]
        ep = rs[0]["epochs"] or "-"
        spread = f" ± {acc.std(ddof=1):.3f}" if len(acc) > 1 else ""
        print(f"| {'Fashion-MNIST' if kind == 'image' else 'Chinese sentiment'} | {budget} | {model} | "
              f"{acc.mean():.3f}{spread} | {f1.mean():.3f} | {ep} | {np.mean(spe):.1f} | "
              f"{np.mean([r['fit_vs_probe'] for r in rs]):.1f}x |" if spe else
              f"| {'Fashion-MNIST' if kind == 'image' else 'Chinese sentiment'} | {budget} | {model} | "
              f"{acc.mean():.3f}{spread} | {f1.mean():.3f} | {ep} | - | {np.mean([r['fit_vs_probe'] for r in rs]):.2f}x |")
    print(average_table(rows))


def average_table(rows: list[dict[str, Any]]) -> str:
    """Each model's mean accuracy and macro-F1 over every (data, budget, seed) run where all models ran, and
    how often it was best; auto's choices."""
    runs = sorted({(r["kind"], r["budget"], r["seed"]) for r in rows})
    models = sorted({r["model"] for r in rows})
    complete = [k for k in runs if {r["model"] for r in rows if (r["kind"], r["budget"], r["seed"]) == k} == set(models)]
    if not complete:
        return ""
    by = {(r["kind"], r["budget"], r["seed"], r["model"]): r for r in rows}
    lines = [f"\nMean over {len(complete)} runs (data x budget x seed) where every model ran:",
             "| model | mean accuracy | mean macro-F1 | best in runs |", "|---|---|---|---|"]
    best = {k: max(models, key=lambda m: by[(*k, m)]["accuracy"]) for k in complete}
    means = {m: np.mean([by[(*k, m)]["accuracy"] for k in complete]) for m in models}
    for m in sorted(models, key=lambda m: -means[m]):
        f1 = np.mean([by[(*k, m)]["macro_f1"] for k in complete])
        lines.append(f"| {m} | {means[m]:.3f} | {f1:.3f} | {sum(b == m for b in best.values())} |")
    for auto in (m for m in models if m.startswith("auto")):
        choices = [f"{k[0]} {k[1]}/class seed {k[2]}: {by[(*k, auto)]['auto_choice']}" for k in complete]
        lines += ["", f"{auto} chose: " + "; ".join(choices)]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
