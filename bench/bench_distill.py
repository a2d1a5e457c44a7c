"""Knowledge distillation: a fast student fine-tuned with and without a stronger teacher's soft targets.

    python bench/bench_distill.py [--budgets 10 50] [--seeds 0 1] [--out bench/results/distill.json]
    python bench/bench_distill.py --speed bench/results/distill_speed.json

Fashion-MNIST (train: ``budget`` images per class drawn by the seed; test: 100 per class of the official
test split). Student: EfficientNet-Lite0 at 112 px, fine-tuned with the defaults of
:class:`~transferkit.FullFineTune` for about ``STEPS`` optimiser steps (epochs = STEPS / batches per epoch:
34 epochs at 10 per class, 7 at 50; six epochs at 10 per class are 18 steps, too few for any student to
learn, as the strategies benchmark's 0.37 shows). Teacher: a linear probe on
EfficientNet-Lite2 at its 260-px default input (``"efficientnet-lite2:linear"``), fitted by the student's
:class:`~transferkit.Distill` on the student's training split. Rows:

* no-transfer baseline (the pixel model the negative-transfer guard compares against);
* teacher alone (the Lite2 probe fitted on all the training images);
* student, full fine-tune (no teacher);
* student, ``Distill`` (T=2, label weight 0.5, the defaults);
* student, ``Distill`` from the Lite0 probe at 224 px (a teacher with the student's own backbone);
* student, ``Distill`` from the Lite2 probe with out-of-fold targets (``teacher_cv=5``: each training image's
  target from a probe fitted on the other four fifths).

``--only TEXT ...`` runs only the models whose names contain one of the texts; ``--table`` takes several files.

Each row records its fit and test-prediction seconds (``fit_s``, ``predict_s``); the table leaves them out:
the probes read the feature cache that earlier rows filled, so only a row's first pass over new images
times its backbone (the teacher's first test prediction, seed 0, 10 per class, against the student's).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

STEPS = 100  # optimiser steps per student fit (batch 32, 90% of the data: the rest validates)


#: Measured with the 10% validation split at any size (before ``min_val_size``): pinned so the
#: documented figures reproduce; docs/BENCHMARKS.md "How long a fine-tune trains" shows what the floor changes.
SPLIT = {"min_val_size": 0}


def _epochs(n_train: int) -> int:
    batches = -(-int(round(0.9 * n_train)) // 32)
    return -(-STEPS // batches)


def _models(seed: int, epochs: int) -> dict[str, Any]:
    from transferkit import Distill, FullFineTune, TransferClassifier
    from transferkit.evaluation import make_baseline

    def student(strategy: Any) -> Any:
        return TransferClassifier(backbone="efficientnet-lite0", image_size=112, strategy=strategy, random_state=seed)

    return {
        "no-transfer baseline": make_baseline("image", random_state=seed),
        "teacher alone (Lite2 probe, 260 px)": TransferClassifier(backbone="efficientnet-lite2", strategy="linear",
                                                                   random_state=seed),
        "student: full fine-tune": student(FullFineTune(epochs=epochs, **SPLIT)),
        "student: Distill from the Lite2 probe": student(Distill(teacher="efficientnet-lite2:linear", epochs=epochs, **SPLIT)),
        "student: Distill from the Lite0 probe (224 px)": student(Distill(teacher="efficientnet-lite0:linear",
                                                                          epochs=epochs, **SPLIT)),
        "student: Distill from the Lite2 probe, out-of-fold targets": student(
            Distill(teacher="efficientnet-lite2:linear", teacher_cv=5, epochs=epochs, **SPLIT)),
    }


def run(budgets: list[int], seeds: list[int], only: list[str] | None = None) -> list[dict[str, Any]]:
    from sklearn.metrics import accuracy_score, f1_score

    from transferkit.datasets import load_fashion_mnist

    test = load_fashion_mnist("test", n_per_class=100, random_state=0)
    rows = []
    for budget in budgets:
        for seed in seeds:
            train = load_fashion_mnist("train", n_per_class=budget, random_state=seed)
            for name, model in _models(seed, _epochs(len(train.y))).items():
                if only and not any(text in name for text in only):
                    continue
                t0 = time.perf_counter()
                model.fit(train.X, train.y)
                fit_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                pred = model.predict(test.X)
                predict_s = time.perf_counter() - t0
                info = getattr(model, "fit_info_", {})
                rows.append({"budget": budget, "seed": seed, "model": name, "epochs": _epochs(len(train.y)),
                             "accuracy": accuracy_score(test.y, pred),
                             "macro_f1": f1_score(test.y, pred, average="macro"), "fit_s": fit_s,
                             "predict_s": predict_s,
                             "teacher_train_accuracy": info.get("teacher_train_accuracy")})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def speed(n_images: int = 200, rounds: int = 3) -> dict[str, Any]:
    """Seconds of one uncached pass over ``n_images`` test images through the teacher's backbone (Lite2,
    260 px) and the student's (Lite0, 112 px), taking turns for ``rounds`` rounds after a warm-up: what
    predicting costs each of them (a probe's or the student's head adds next to nothing)."""
    from transferkit.datasets import load_fashion_mnist
    from transferkit.features import FeatureExtractor

    X = load_fashion_mnist("test", n_per_class=n_images // 10, random_state=1).X
    sides = {"teacher (Lite2, 260 px)": FeatureExtractor(backbone="efficientnet-lite2", cache=False),
             "student (Lite0, 112 px)": FeatureExtractor(backbone="efficientnet-lite0", image_size=112, cache=False)}
    times: dict[str, list[float]] = {name: [] for name in sides}
    for ext in sides.values():
        ext.fit(X[:8]).transform(X[:8])  # weights loaded, kernels warm
    for r in range(rounds):
        for name in (list(sides) if r % 2 == 0 else list(sides)[::-1]):
            t0 = time.perf_counter()
            sides[name].transform(X)
            times[name].append(time.perf_counter() - t0)
    med = {name: float(np.median(t)) for name, t in times.items()}
    return {"images": n_images, "seconds": times, "median_s": med,
            "teacher_over_student": med["teacher (Lite2, 260 px)"] / med["student (Lite0, 112 px)"]}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| per class | model | accuracy (mean over seeds) | per seed | macro-F1 |", "|---|---|---:|---|---:|"]
    for budget in sorted({r["budget"] for r in rows}):
        part = [r for r in rows if r["budget"] == budget]
        for name in dict.fromkeys(r["model"] for r in part):
            mine = [r for r in part if r["model"] == name]
            accs = [r["accuracy"] for r in mine]
            lines.append(f"| {budget} | {name} | {np.mean(accs):.3f} | {', '.join(f'{a:.3f}' for a in accs)} | "
                         f"{np.mean([r['macro_f1'] for r in mine]):.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--out", type=Path, default=Path("bench/results/distill.json"))
    parser.add_argument("--only", nargs="+", default=None, help="run only the models whose names contain one of these")
    parser.add_argument("--table", type=Path, nargs="+", default=None, help="print the table of earlier --out files")
    parser.add_argument("--speed", type=Path, default=None,
                        help="only time the teacher's and the student's backbones on test images; write JSON here")
    args = parser.parse_args()
    if args.speed is not None:
        result = speed()
        args.speed.write_text(json.dumps(result, indent=1))
        print(json.dumps(result["median_s"]), f"teacher/student {result['teacher_over_student']:.1f}x")
        return
    if args.table is not None:
        print(table([row for file in args.table for row in json.loads(file.read_text())["rows"]]))
        return
    rows = run(args.budgets, args.seeds, args.only)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "steps": STEPS, "rows": rows}, indent=1))
    print(table(rows))


if __name__ == "__main__":
    main()
