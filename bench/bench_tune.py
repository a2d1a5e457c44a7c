"""Cost of a 20-trial head search on cached features, in units of one feature-extraction pass.

Datasets: 1,000 Chinese sentiment texts (MiniLM-L6, 128 tokens) and 500 Fashion-MNIST images
(EfficientNet-Lite0, at 224 px, its default input size, and at 112 px, where extraction is 4x cheaper
and the search therefore relatively dearer). For each, in one process, ``--repeats`` rounds of, in turn:

* ``extract``: one extraction pass over the data, cache off (what every trial would cost if it
  re-extracted);
* ``search (cold)``: ``transferkit.tuning.tune`` with an empty feature cache and a fresh study in the
  default storage (``OUT/study.db``, SQLite): one extraction pass plus 20 trials of 5-fold CV on the
  in-memory features (median pruner);
* ``search (cold, journal)``: the same with the study in a journal file (``--storage OUT/study.journal``);
* ``search (warm)``: the same search again with the cache already filled (a resumed or repeated search).

The backbone is loaded and run once on a few items, and a 2-trial search on random numbers runs
once, before timing: model loading and the one-off imports of Optuna and its storage code are not counted on
either side. The figure is median(search) / median(extract), also given per round and against the cold search's own
extraction pass ((its extraction + its trials) / its extraction); the naive re-extract-per-trial search
would cost ``trials x extract + search`` and is computed, not run. Timings on a shared 2-core CPU are
noisy; taking turns within each round makes the drifting load hit both alike, and the extraction pass
runs first in even rounds and last in odd ones (in earlier runs it always ran first, and it came out
slower than the search's own extraction on the same code path; alternating cache-on and cache-off
passes show no difference between the two, about 16.7 s each at 224 px).

    .venv/bin/python bench/bench_tune.py --out bench/results/tune.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def load(which: str, n_per_class: int, image_size: int) -> tuple[Any, np.ndarray, dict[str, Any]]:
    if which == "text":
        from transferkit.datasets import load_chinese_sentiment

        data = load_chinese_sentiment(deduplicate=True, n_per_class=n_per_class, random_state=0)
        return data.X, data.y, {"backbone": "minilm-l6", "max_length": 128, "image_size": None}
    from transferkit.datasets import load_fashion_mnist

    data = load_fashion_mnist("train", n_per_class=n_per_class, random_state=0)
    return data.X, data.y, {"backbone": "efficientnet-lite0", "image_size": image_size, "max_length": None}


def run(which: str, n_per_class: int, trials: int, repeats: int, workdir: Path, image_size: int = 224) -> dict[str, Any]:
    from transferkit.features import FeatureExtractor
    from transferkit.tuning import tune

    X, y, cfg = load(which, n_per_class, image_size)
    which = which if which == "text" else f"image{image_size}"  # names the files and the printed lines
    bb = {"backbone": cfg["backbone"], "image_size": cfg["image_size"], "max_length": cfg["max_length"]}
    FeatureExtractor(**bb, cache=False).fit(X[:8]).transform(X[:8])  # warm-up: load weights, kernels
    # ... and the search's one-off imports (Optuna and its storage code), excluded like model loading on
    # the extraction side: a tiny search on random features, in its own study journal.
    rng = np.random.default_rng(0)
    tune(rng.normal(size=(20, 4)), np.repeat([0, 1], 10), backbone="tiny-mlp", n_trials=2, cv=2, cache=False,
         out=workdir / f"{which}-warmup", random_state=0)
    times: dict[str, list[float]] = {"extract": [], "search_cold": [], "search_cold_journal": [], "search_warm": []}
    details: list[dict[str, Any]] = []
    def extract() -> None:
        t0 = time.perf_counter()
        FeatureExtractor(**bb, cache=False).fit(X).transform(X)
        times["extract"].append(time.perf_counter() - t0)

    for r in range(repeats):
        if r % 2 == 0:  # the extraction pass first in even rounds, last in odd ones: order effects cancel
            extract()
        cache = workdir / f"{which}-cache-{r}"
        for label in ("search_cold", "search_cold_journal", "search_warm"):
            folder = workdir / f"{which}-{label}-{r}"
            storage = folder / "study.journal" if label == "search_cold_journal" else None  # None: OUT/study.db
            folder.mkdir()
            t0 = time.perf_counter()
            # the journal's cold search gets its own empty cache; the warm search reads the first one
            result = tune(X, y, **bb, n_trials=trials, sampler="tpe", pruner="median", cv=5, out=folder,
                          cache=Path(f"{cache}-journal") if storage else cache, storage=storage, random_state=0)
            times[label].append(time.perf_counter() - t0)
            details.append({"round": r, "run": label, "extract_seconds": result.extract_seconds,
                            "search_seconds": result.search_seconds, "best_accuracy": result.best_score,
                            "trials": result.counts()})
        if r % 2 == 1:
            extract()
        print(f"{which} round {r}: " + ", ".join(f"{k} {v[-1]:.1f}s" for k, v in times.items()), flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    warm_search = statistics.median(d["search_seconds"] for d in details if d["run"] == "search_warm")
    cold = [d for d in details if d["run"] == "search_cold"]
    journal = [d for d in details if d["run"] == "search_cold_journal"]
    return {
        "dataset": which, "n_items": len(y), "classes": len(np.unique(y)), **bb, "trials": trials, "cv": 5,
        "seconds": times, "median_seconds": med,
        "search_cold_over_extract": med["search_cold"] / med["extract"],
        # the same ratio within each round (extraction speed drifts between rounds on a shared CPU)
        "search_cold_over_extract_per_round": [c / e for c, e in zip(times["search_cold"], times["extract"], strict=True)],
        # the cold search against its own extraction pass: (its extraction + its trials) / its extraction
        "search_cold_over_own_extract": statistics.median(
            (d["extract_seconds"] + d["search_seconds"]) / d["extract_seconds"] for d in cold),
        "search_cold_journal_over_extract": med["search_cold_journal"] / med["extract"],
        "search_cold_journal_over_extract_per_round": [
            c / e for c, e in zip(times["search_cold_journal"], times["extract"], strict=True)],
        "search_cold_journal_over_own_extract": statistics.median(
            (d["extract_seconds"] + d["search_seconds"]) / d["extract_seconds"] for d in journal),
        "search_warm_over_extract": med["search_warm"] / med["extract"],
        "naive_over_extract": (trials * med["extract"] + warm_search) / med["extract"],
        "runs": details,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="text,image")
    parser.add_argument("--text-per-class", type=int, default=500, help="Chinese sentiment texts per class")
    parser.add_argument("--image-per-class", type=int, default=50, help="Fashion-MNIST images per class")
    parser.add_argument("--image-sizes", default="224,112",
                        help="image sides in pixels, one image run each (224: EfficientNet-Lite0's default)")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="bench/results/tune.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for which in [d.strip() for d in args.datasets.split(",") if d.strip()]:
            if which == "text":
                results.append(run(which, args.text_per_class, args.trials, args.repeats, Path(tmp)))
                continue
            for size in [int(s) for s in args.image_sizes.split(",") if s.strip()]:
                results.append(run(which, args.image_per_class, args.trials, args.repeats, Path(tmp), size))
    payload = {
        "command": " ".join([sys.executable.rsplit("/", 1)[-1], *sys.argv]),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads()},
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(payload, indent=1))
    for r in results:
        rounds = ", ".join(f"{v:.2f}" for v in r["search_cold_over_extract_per_round"])
        journal = ", ".join(f"{v:.2f}" for v in r["search_cold_journal_over_extract_per_round"])
        print(f"{r['dataset']} {r['image_size'] or ''}: extract {r['median_seconds']['extract']:.1f}s; 20-trial search cold "
              f"{r['search_cold_over_extract']:.2f}x (rounds {rounds}; over its own extraction "
              f"{r['search_cold_over_own_extract']:.2f}x), with a journal {r['search_cold_journal_over_extract']:.2f}x "
              f"(rounds {journal}; over its own extraction {r['search_cold_journal_over_own_extract']:.2f}x), warm "
              f"{r['search_warm_over_extract']:.2f}x; naive {r['naive_over_extract']:.1f}x")


if __name__ == "__main__":
    main()
