"""Warm starts shared across class weights vs kept apart: L-BFGS iterations and time of a search's fits.

    .venv/bin/python bench/bench_warm_starts.py --out bench/results/warm_starts.json

EfficientNet-Lite0 features (224 px) of 500 Fashion-MNIST images, the 5 folds of ``tune``, each fold
standardised and in the span of its training rows, as ``tune`` fits them. A 20-trial TPE search (in memory)
gives the sequence of (C, class_weight); every fold then fits that sequence twice, taking turns: with
:class:`~transferkit.tuning._warm.WarmStarts` as shipped (solutions shared across class weights) and with
one pool per class weight (the earlier behaviour: the class weight in the fold key). Counts of iterations
are deterministic; times are medians of ``--repeats`` turns on one BLAS thread.
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

    def run(shared: bool) -> tuple[int, float]:
        iterations, seconds = 0, 0.0
        for i, (X, yy) in enumerate(folds):
            warm = WarmStarts()
            for params in trials:
                model = clone(final).set_params(**params)
                fold: Any = i if shared else (i, repr(params["logisticregression__class_weight"]))
                warm.prime(model, fold, params)
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X, yy)
                seconds += time.perf_counter() - t0
                warm.remember(model, fold, params)
                iterations += int(model[-1].n_iter_.max())
        return iterations, seconds

    times: dict[str, list[float]] = {"shared": [], "per_class_weight": []}
    counts: dict[str, int] = {}
    with one_blas_thread():
        for r in range(args.repeats):
            for name in (("shared", "per_class_weight") if r % 2 == 0 else ("per_class_weight", "shared")):
                counts[name], t = run(name == "shared")
                times[name].append(t)
    out = {"trials": trials, "fits": len(trials) * len(folds), "iterations": counts, "seconds": times,
           "median_seconds": {k: statistics.median(v) for k, v in times.items()},
           "time_ratio_shared_over_per_class_weight": statistics.median(times["shared"]) /
           statistics.median(times["per_class_weight"])}
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"{out['fits']} fits: iterations shared {counts['shared']} vs per class weight {counts['per_class_weight']}; "
          f"time {out['median_seconds']['shared']:.2f} s vs {out['median_seconds']['per_class_weight']:.2f} s "
          f"({out['time_ratio_shared_over_per_class_weight']:.2f}x)")


if __name__ == "__main__":
    main()
