"""Warm starts as shipped vs simpler ones: L-BFGS iterations and time of a search's fits.

    .venv/bin/python bench/bench_warm_starts.py --out bench/results/warm_starts.json

EfficientNet-Lite0 features (224 px) of 500 Fashion-MNIST images, the 5 folds of ``tune``, each fold
standardised and in the span of its training rows, as ``tune`` fits them. A 20-trial TPE search (in memory)
gives the sequence of (C, class_weight); every fold then fits that sequence three times, taking turns:
with :class:`~transferkit.tuning._warm.WarmStarts` as shipped (``interpolated``: solutions shared across
class weights, a bracketed ``C`` starting between its two neighbours), from the nearest earlier solution
only (``nearest``: the behaviour before interpolation) and with one pool per class weight
(``per_class_weight``: nearest only, the class weight in the fold key; the first behaviour). Counts of
iterations are deterministic; times are medians of ``--repeats`` turns on one BLAS thread.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="bench/results/warm_starts.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sklearn.base import clone

    from transferkit._blas import one_blas_thread
    from transferkit.datasets import load_fashion_mnist
    from transferkit.features import FeatureExtractor
    from transferkit.tuning import tune
    from transferkit.tuning._prefix import FoldPrefix
    from transferkit.tuning._search import _splits
    from transferkit.tuning._space import make_head
    from transferkit.tuning._warm import WarmStarts

    data = load_fashion_mnist("train", n_per_class=50, random_state=0)
    features = FeatureExtractor(backbone="efficientnet-lite0", image_size=224, cache=False).fit(data.X).transform(data.X)
    y = np.unique(data.y, return_inverse=True)[1]
    result = tune(features, y, backbone="identity", n_trials=20, sampler="tpe", pruner=None, cv=5, cache=False,
                  storage=None, out=None, random_state=0)
    trials = [t.params for t in result.study.trials]
    head = make_head("logistic")
    prefix = FoldPrefix(head, trials[0])  # the scaler once per fold, the fit in the span of its rows, as tune
    final = prefix.split(head)
    folds = [(prefix.transform(i, features[tr], y[tr], features[te], final)[0], y[tr])
             for i, (tr, te) in enumerate(_splits(y, 5, 0))]

    def run(mode: str) -> tuple[int, float]:
        iterations, seconds = 0, 0.0
        for i, (X, yy) in enumerate(folds):
            warm = WarmStarts(interpolate=mode == "interpolated")
            for params in trials:
                model = clone(final).set_params(**params)
                split = mode == "per_class_weight"
                fold: Any = (i, repr(params["logisticregression__class_weight"])) if split else i
                warm.prime(model, fold, params)
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X, yy)
                seconds += time.perf_counter() - t0
                warm.remember(model, fold, params)
                iterations += int(model[-1].n_iter_.max())
        return iterations, seconds

    modes = ["interpolated", "nearest", "per_class_weight"]
    times: dict[str, list[float]] = {m: [] for m in modes}
    counts: dict[str, int] = {}
    with one_blas_thread():
        for r in range(args.repeats):
            for name in modes[r % 3:] + modes[:r % 3]:  # each mode in each position in turn
                counts[name], t = run(name)
                times[name].append(t)
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {"trials": trials, "fits": len(trials) * len(folds), "iterations": counts, "seconds": times,
           "median_seconds": med,
           "time_ratio_interpolated_over_nearest": med["interpolated"] / med["nearest"],
           "time_ratio_nearest_over_per_class_weight": med["nearest"] / med["per_class_weight"]}
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"{out['fits']} fits: " + "; ".join(f"{m} {counts[m]} iterations, {med[m]:.2f} s" for m in modes)
          + f"; interpolated/nearest {out['time_ratio_interpolated_over_nearest']:.2f}x, nearest/per class "
          f"weight {out['time_ratio_nearest_over_per_class_weight']:.2f}x")


if __name__ == "__main__":
    main()
