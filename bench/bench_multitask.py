"""Multi-task learning: does a cheap coarse label on more images help a fine task labelled on few?

    python bench/bench_multitask.py [--budget 10] [--extra 100] [--seeds 0 1] [--out bench/results/multitask.json]
    python bench/bench_multitask.py --steps 300 --only fine-tune --out bench/results/multitask_300.json
    python bench/bench_multitask.py --only "without validation" --out bench/results/multitask_noval.json
    python bench/bench_multitask.py --table bench/results/multitask.json        # the table of a results file
    python bench/bench_multitask.py --reviews-csv reviews.csv [--per-class 500]   # a table for `transferkit multitask`

Fashion-MNIST. The fine task (the 10 classes) is labelled on ``budget`` images per class; the coarse task (4
groups: upper-body clothing, trousers, footwear, bags) on those and on ``extra`` more images per class, whose fine
label is missing. Test: 100 images per class of the official test split, scored on both tasks. EfficientNet-Lite0
at 112 px, the defaults of :class:`~transferkit.FullFineTune` for about ``STEPS`` optimiser steps (so the
multi-task fit, on 11 times the images, spends about the same compute as the fine-task fit). Rows:

* no-transfer baseline (the pixel model the negative-transfer guard compares against), fine task only;
* linear probe, fine task only (Lite0 at 112 px);
* full fine-tune, fine task only;
* the same without a validation split (all 100 images train, no early stopping, about ``STEPS`` steps);
* ``MultiTaskClassifier`` full fine-tune, fine + coarse tasks (one backbone, two heads);
* ``MultiTaskClassifier`` linear probe, fine + coarse (one head per task on frozen features: nothing trained is
  shared, so its fine-task figure equals the single-task probe's).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

STEPS = 100  # optimiser steps per fine-tuning fit (batch 32, 90% of the rows: the rest validates)
#: Fashion-MNIST class -> coarse group.
COARSE = {"T-shirt/top": "upper", "Pullover": "upper", "Dress": "upper", "Coat": "upper", "Shirt": "upper",
          "Trouser": "trousers", "Sandal": "footwear", "Sneaker": "footwear", "Ankle boot": "footwear", "Bag": "bag"}


#: Measured with the 10% validation split at any size (before ``min_val_size``): pinned so the
#: documented figures reproduce; docs/BENCHMARKS.md "How long a fine-tune trains" shows what the floor changes.
SPLIT = {"min_val_size": 0}


def _coarse(labels: Any) -> np.ndarray:
    from transferkit.datasets import FASHION_MNIST_CLASSES

    return np.array([COARSE[FASHION_MNIST_CLASSES[int(c)]] for c in labels])


def _epochs(n_train: float, steps: int = STEPS) -> int:
    batches = -(-int(round(0.9 * n_train)) // 32)
    return -(-steps // batches)


def _data(budget: int, extra: int, seed: int) -> tuple[Any, Any, Any]:
    """Fine-labelled images, all images (fine + coarse-only) and the two-column labels of the latter."""
    import pandas as pd

    from transferkit.datasets import load_fashion_mnist

    pool = load_fashion_mnist("train", n_per_class=budget + extra, random_state=seed)
    rng = np.random.default_rng(seed)
    fine_rows = np.sort(np.concatenate([rng.choice(np.flatnonzero(pool.y == c), budget, replace=False)
                                        for c in np.unique(pool.y)]))
    fine = np.full(len(pool.y), None, dtype=object)
    fine[fine_rows] = pool.y[fine_rows]
    Y = pd.DataFrame({"fine": fine, "coarse": _coarse(pool.y)})
    return pool.take(fine_rows), pool, Y


def run(budget: int, extra: int, seeds: list[int], steps: int = STEPS, only: str = "") -> list[dict[str, Any]]:
    """The rows whose model name contains ``only`` (all by default), fine-tuned for about ``steps`` steps."""
    from sklearn.metrics import accuracy_score

    from transferkit import FullFineTune, MultiTaskClassifier, TransferClassifier
    from transferkit.datasets import load_fashion_mnist
    from transferkit.evaluation import make_baseline

    test = load_fashion_mnist("test", n_per_class=100, random_state=0)
    test_coarse = _coarse(test.y)
    rows = []
    for seed in seeds:
        fine, pool, Y = _data(budget, extra, seed)
        lite0 = {"backbone": "efficientnet-lite0", "image_size": 112, "random_state": seed}
        single_epochs, multi_epochs = _epochs(len(fine.y), steps), _epochs(len(pool.y), steps)
        models: dict[str, tuple[Any, Any, Any, int | None]] = {
            "no-transfer baseline (fine only)": (make_baseline("image", random_state=seed), fine.X, fine.y, None),
            "linear probe (fine only)": (TransferClassifier(strategy="linear", **lite0), fine.X, fine.y, None),
            "full fine-tune (fine only)": (TransferClassifier(strategy=FullFineTune(epochs=single_epochs, **SPLIT), **lite0),
                                           fine.X, fine.y, single_epochs),
            "full fine-tune without validation (fine only)": (
                TransferClassifier(strategy=FullFineTune(epochs=_epochs(len(fine.y) / 0.9, steps), val_fraction=0.0),
                                   **lite0), fine.X, fine.y, _epochs(len(fine.y) / 0.9, steps)),
            "multi-task fine-tune (fine + coarse)": (
                MultiTaskClassifier(strategy=FullFineTune(epochs=multi_epochs, **SPLIT), **lite0), pool.X, Y, multi_epochs),
            "multi-task linear probe (fine + coarse)": (MultiTaskClassifier(strategy="linear", **lite0), pool.X, Y,
                                                        None),
        }
        for name, (model, X, y, epochs) in models.items():
            if only not in name:
                continue
            t0 = time.perf_counter()
            model.fit(X, y)
            fit_s = time.perf_counter() - t0
            pred = model.predict(test.X)
            row: dict[str, Any] = {"seed": seed, "model": name, "n_fit_rows": len(X), "epochs": epochs, "steps": steps,
                                   "fit_s": fit_s}
            if isinstance(model, MultiTaskClassifier):
                row["fine_accuracy"] = float(accuracy_score(test.y, pred[:, 0].astype(np.int64)))
                row["coarse_accuracy"] = float(accuracy_score(test_coarse, pred[:, 1].astype(str)))
            else:
                row["fine_accuracy"] = float(accuracy_score(test.y, pred))
                row["coarse_accuracy"] = float(accuracy_score(test_coarse, _coarse(pred)))
            history = getattr(getattr(model, "model_", None), "history", None)
            row["best_epoch"] = None if history is None else history.best_epoch
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def write_reviews(path: str, per_class: int, seed: int = 0) -> None:
    """Chinese reviews (de-duplicated, ``per_class`` per sentiment) with two label columns: ``sentiment``, and
    ``domain`` (hotel, laptop, book) where the domain keywords decide it, empty elsewhere."""
    import pandas as pd

    from transferkit.datasets import load_chinese_sentiment
    from transferkit.datasets._sentiment import assign_domain

    data = load_chinese_sentiment(deduplicate=True, n_per_class=per_class, random_state=seed)
    texts = [str(t) for t in data.X]
    pd.DataFrame({"text": texts, "sentiment": data.y, "domain": [assign_domain(t) for t in texts]}).to_csv(
        path, index=False)


def table(rows: list[dict[str, Any]]) -> str:
    names = list(dict.fromkeys(r["model"] for r in rows))
    lines = ["| model | images fitted | fine-task accuracy (mean; per seed) | coarse-task accuracy (mean) | fit s (median) |",
             "|---|---|---|---|---|"]
    for name in names:
        mine = [r for r in rows if r["model"] == name]
        fine = [r["fine_accuracy"] for r in mine]
        lines.append(f"| {name} | {mine[0]['n_fit_rows']} | **{np.mean(fine):.3f}** ({', '.join(f'{v:.3f}' for v in fine)}) "
                     f"| {np.mean([r['coarse_accuracy'] for r in mine]):.3f} | {np.median([r['fit_s'] for r in mine]):.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=10)
    parser.add_argument("--extra", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--steps", type=int, default=STEPS, help="about this many optimiser steps per fine-tuning")
    parser.add_argument("--only", default="", help="run only the models whose name contains this")
    parser.add_argument("--out", default="bench/results/multitask.json")
    parser.add_argument("--table", default=None, help="only print the table of this results file")
    parser.add_argument("--reviews-csv", default=None, help="only write the Chinese reviews table to this file")
    parser.add_argument("--per-class", type=int, default=500, help="reviews per sentiment in --reviews-csv")
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(Path(args.table).read_text())["rows"]))
        return
    if args.reviews_csv:
        write_reviews(args.reviews_csv, args.per_class)
        return
    rows = run(args.budget, args.extra, args.seeds, args.steps, args.only)
    Path(args.out).write_text(json.dumps({"machine": platform.platform(), "steps": args.steps, "budget": args.budget,
                                          "extra": args.extra, "rows": rows}, indent=1))
    print(table(rows))


if __name__ == "__main__":
    main()
