"""How long should a small fine-tune train, and should it hold rows out to stop on?

    python bench/bench_early_stopping.py [--per-class 10 25 50] [--seeds 0 1 2 3] [--min-steps 100] [--out bench/results/early_stopping.json]
    python bench/bench_early_stopping.py --table bench/results/early_stopping.json   # the table of a results file

A full fine-tune (the other settings :class:`~transferkit.FullFineTune`'s defaults: AdamW, warm-up + cosine
decay, batch 32) on the same ``per_class`` labelled rows per class, four ways:

* **early stopping, 10 epochs**: 10% of the rows held out (stratified), stopping after 3 epochs without a
  better validation loss and restoring the best epoch's weights (the defaults before ``epochs=None`` and
  ``min_val_size``);
* **no validation, 10 epochs**: every row trains for all 10 epochs, the last epoch's weights kept;
* **no validation, >= min_steps steps**: as many epochs as it takes for ``min_steps`` optimiser steps (at least 10);
* **early stopping, >= min_steps steps**: the same on the 90% that trains, with the 10% validation split;
* **early stopping on validation accuracy, >= min_steps steps**: the same, stopping on (and restoring the best
  epoch by) the validation accuracy instead of the loss (``monitor="val_accuracy"``);
* **early stopping, then refit on every row**: the early-stopping run chooses the epoch count, then a second
  run trains on every row (validation rows included) for that many epochs (``refit=True``).

``--only TEXT ...`` runs only the settings whose names contain one of the texts (``--table`` takes several
results files and tabulates them together).

``--dataset fashion``: Fashion-MNIST (10 classes), EfficientNet-Lite0 at 112 px, scored on 1,000 images of the
official test split. ``--dataset reviews``: the packaged Chinese hotel/laptop/book reviews (2 classes,
de-duplicated), the packaged MiniLM-L6 at 64 tokens, scored on 1,000 other reviews.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

SETTINGS = ("early stopping, 10 epochs", "no validation, 10 epochs",
            "no validation, >= {steps} steps", "early stopping, >= {steps} steps",
            "early stopping on validation accuracy, >= {steps} steps",
            "early stopping, then refit on every row, >= {steps} steps")


def _epochs(n_train: int, min_steps: int, batch_size: int = 32) -> int:
    """The library's default: 10 epochs, or enough for ``min_steps`` optimiser steps on ``n_train`` rows."""
    from transferkit.strategies import default_epochs

    return default_epochs(-(-n_train // batch_size), min_steps=min_steps)


def settings(n: int, min_steps: int) -> dict[str, dict[str, Any]]:
    """FullFineTune parameters of each setting on ``n`` labelled rows."""
    n_fit = n - int(round(0.1 * n))
    early, full = {"val_fraction": 0.1, "min_val_size": 0}, {"val_fraction": 0.0}
    return {SETTINGS[0]: {**early, "epochs": 10}, SETTINGS[1]: {**full, "epochs": 10},
            SETTINGS[2].format(steps=min_steps): {**full, "epochs": _epochs(n, min_steps)},
            SETTINGS[3].format(steps=min_steps): {**early, "epochs": _epochs(n_fit, min_steps)},
            SETTINGS[4].format(steps=min_steps): {**early, "epochs": _epochs(n_fit, min_steps),
                                                  "monitor": "val_accuracy"},
            SETTINGS[5].format(steps=min_steps): {**early, "epochs": _epochs(n_fit, min_steps), "refit": True}}


def _data(dataset: str, per_class: int, seed: int) -> tuple[Any, Any, dict[str, Any]]:
    """Training rows, test rows and the estimator's backbone settings."""
    if dataset == "fashion":
        from transferkit.datasets import load_fashion_mnist

        train = load_fashion_mnist("train", n_per_class=per_class, random_state=seed)
        test = load_fashion_mnist("test", n_per_class=100, random_state=0)
        return train, test, {"backbone": "efficientnet-lite0", "image_size": 112}
    if dataset == "reviews":
        from transferkit.datasets import load_chinese_sentiment

        pool = load_chinese_sentiment(deduplicate=True, n_per_class=500 + per_class, random_state=0)
        rng = np.random.default_rng(seed)
        test_rows = np.sort(np.concatenate([np.flatnonzero(pool.y == c)[:500] for c in np.unique(pool.y)]))
        rest = np.setdiff1d(np.arange(len(pool.y)), test_rows)
        train_rows = np.sort(np.concatenate([rng.choice(rest[pool.y[rest] == c], per_class, replace=False)
                                             for c in np.unique(pool.y)]))
        return pool.take(train_rows), pool.take(test_rows), {"backbone": "minilm-l6", "max_length": 64}
    raise SystemExit(f"unknown --dataset {dataset!r}; use 'fashion' or 'reviews'")


def run(dataset: str, per_class: list[int], seeds: list[int], min_steps: int,
        only: list[str] | None = None) -> list[dict[str, Any]]:
    from sklearn.metrics import accuracy_score

    from transferkit import FullFineTune, TransferClassifier

    rows = []
    for n in per_class:
        for seed in seeds:
            train, test, backbone = _data(dataset, n, seed)
            done: dict[str, dict[str, Any]] = {}  # a setting with the same parameters as an earlier one is not refitted
            for name, params in settings(len(train.y), min_steps).items():
                if only and not any(text in name for text in only):
                    continue
                key = json.dumps(params, sort_keys=True)
                if (same := done.get(key)) is not None:
                    rows.append({**same, "setting": name, "same_as": same["setting"]})
                    continue
                model = TransferClassifier(strategy=FullFineTune(**params), random_state=seed, **backbone)
                t0 = time.perf_counter()
                model.fit(train.X, train.y)
                fit_s = time.perf_counter() - t0
                history = model.model_.history
                row = {"dataset": dataset, "per_class": n, "seed": seed, "setting": name, "n_train": len(train.y),
                       "validation_size": int(model.fit_info_.get("validation_size", 0)),
                       "epochs": params["epochs"], "epochs_run": len(history.epochs), "best_epoch": history.best_epoch,
                       "early_stopping": model.fit_info_.get("early_stopping"),
                       "accuracy": float(accuracy_score(test.y, model.predict(test.X))), "fit_s": fit_s}
                rows.append(row)
                done[key] = row
                print(json.dumps(row), flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| rows per class | setting | validation rows | epochs (run, per seed) | accuracy, mean ± sd | per seed | worst "
             "| fit s (median) |", "|---|---|---|---|---|---|---|---|"]
    for n in sorted({r["per_class"] for r in rows}):
        for name in dict.fromkeys(r["setting"] for r in rows):
            mine = [r for r in rows if r["per_class"] == n and r["setting"] == name]
            if not mine:
                continue
            acc = np.array([r["accuracy"] for r in mine])
            lines.append(f"| {n} | {name} | {mine[0]['validation_size']} | {mine[0]['epochs']} "
                         f"({', '.join(str(r['epochs_run']) for r in mine)}) "
                         f"| **{acc.mean():.3f}** ± {acc.std(ddof=1) if len(acc) > 1 else 0:.3f} "
                         f"| {', '.join(f'{a:.3f}' for a in acc)} | {acc.min():.3f} "
                         f"| {np.median([r['fit_s'] for r in mine]):.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion", choices=["fashion", "reviews"])
    parser.add_argument("--per-class", type=int, nargs="+", default=[10, 25, 50])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--min-steps", type=int, default=100, help="the optimiser steps of the '>= steps' settings")
    parser.add_argument("--out", default="bench/results/early_stopping.json")
    parser.add_argument("--only", nargs="+", default=None, help="run only the settings whose names contain one of these")
    parser.add_argument("--table", nargs="+", default=None, help="only print the table of these results files")
    args = parser.parse_args()
    if args.table:
        print(table([row for file in args.table for row in json.loads(Path(file).read_text())["rows"]]))
        return
    rows = run(args.dataset, args.per_class, args.seeds, args.min_steps, args.only)
    Path(args.out).write_text(json.dumps({"command": "python bench/bench_early_stopping.py " + " ".join(
        f"--{k.replace('_', '-')} {' '.join(map(repr, v)) if isinstance(v, list) else v}"
        for k, v in vars(args).items() if k != "table" and v is not None), "machine": platform.platform(), "rows": rows}, indent=1))
    print(table(rows))


if __name__ == "__main__":
    main()
