"""Feature selection on pretrained features: accuracy and prediction speed per method vs all features.

Two packaged tasks, one process:

* images: EfficientNet-Lite0 features (1280 wide, 112 px input) of Fashion-MNIST, 50 per class (500);
* texts: MiniLM-L6 features (384 wide) of the Chinese sentiment reviews, 100 per class (200).

For each, :func:`transferkit.feature_selection.compare_selectors` runs 5-fold stratified CV of a
standardised logistic regression on all features and after chi2 (on EfficientNet-Lite's ReLU6 features
as they are; on MiniLM's signed features after min-max scaling), ANOVA F, RFE and model-importance selection, each keeping the number of features that
a 3-fold CV inside the training part chose (2-100% of the features). Prediction time is the median of 7
rounds predicting 5000 rows, all models taking turns in each round, so the ratio vs all features is
measured in the same run under the same load. Features are cached in a temporary folder.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_feature_selection.py --out bench/results/feature_selection.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from transferkit.datasets import load_chinese_sentiment, load_fashion_mnist
from transferkit.feature_selection import compare_on_data

METHODS = ("chi2", "anova", "rfe", "model")
TASKS = {
    "fashion-mnist / efficientnet-lite0": dict(loader=lambda n, seed: load_fashion_mnist(n_per_class=n, random_state=seed),
                                               backbone="efficientnet-lite0", image_size=112, per_class=50,
                                               shift=None),
    "chinese-sentiment / minilm-l6": dict(loader=lambda n, seed: load_chinese_sentiment(deduplicate=True, n_per_class=n, random_state=seed),
                                          backbone="minilm-l6", image_size=None, per_class=100, shift="minmax"),
}


def run_task(name: str, spec: dict[str, Any], cache: str, seed: int, per_class: int | None) -> dict[str, Any]:
    n = per_class or spec["per_class"]
    data = spec["loader"](n, seed)
    start = time.perf_counter()
    result = compare_on_data(data, backbone=spec["backbone"], methods=METHODS, image_size=spec["image_size"],
                             cache=cache, shift=spec["shift"], cv=5, selector_cv=3, random_state=seed,
                             timing_rows=5000, timing_repeats=7)
    rows = result.table()
    print(f"\n== {name}: {result.n_samples} examples, {result.n_features} features "
          f"({time.perf_counter() - start:.0f} s) ==")
    print(f"{'method':<14} {'kept':>6} {'accuracy':>9} {'gain vs all (95% CI)':>26} {'predict time ratio':>19}")
    for r in rows:
        gain = (f"{100 * r['gain']:+.1f} [{100 * r['gain_low']:+.1f}, {100 * r['gain_high']:+.1f}]"
                if "gain" in r else "")
        print(f"{r['method']:<14} {r['features kept']:>6} {r['accuracy']:>9.3f} {gain:>26} "
              f"{r['predict_time_ratio']:>19.2f}")
    return {"task": name, "backbone": spec["backbone"], "per_class": n, "seconds": time.perf_counter() - start,
            **result.to_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/feature_selection.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-class", type=int, default=None, help="Override the examples per class of both tasks.")
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:
        results = [run_task(name, spec, cache, args.seed, args.per_class) for name, spec in TASKS.items()]
    payload = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "seed": args.seed,
               "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                           "omp_threads": os.environ.get("OMP_NUM_THREADS")},
               "wall_seconds": time.perf_counter() - start, "tasks": results}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1, default=str))
    os.replace(tmp, out)
    print(f"\n{time.perf_counter() - start:.0f} s in all; results: {out}")


if __name__ == "__main__":
    main()
