"""Logistic-regression heads on one BLAS thread vs the default (all cores), in one process.

numpy and scipy each load their own OpenBLAS; on a small machine their idle threads spin-wait against
each other during the many small products of an L-BFGS fit. transferkit fits heads on features with one
BLAS thread (``transferkit._blas.one_blas_thread``); this measures why, on synthetic features of
typical sizes (rows x feature width x classes), taking turns over ``--repeats`` rounds. torch is
imported first, as in transferkit, so its OpenMP threads exist as they do there.

    .venv/bin/python bench/bench_blas_threads.py --out bench/results/blas_threads.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch  # noqa: F401  (loaded as in transferkit)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

SIZES = [(1000, 384, 2), (500, 1280, 10), (5000, 1280, 10), (20000, 1280, 10)]


def fit_seconds(X: np.ndarray, y: np.ndarray, threads: int | None) -> float:
    t0 = time.perf_counter()
    with threadpool_limits(threads, user_api="blas"):
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X, y)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="bench/results/blas_threads.json")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for n, d, k in SIZES:
        y = np.repeat(np.arange(k), n // k)
        X = (rng.normal(size=(k, d))[y] * 0.05 + rng.normal(size=(n, d))).astype(np.float32)
        fit_seconds(X[::10], y[::10], None)  # warm-up
        times: dict[str, list[float]] = {"default": [], "one": []}
        for _ in range(args.repeats):
            times["default"].append(fit_seconds(X, y, None))
            times["one"].append(fit_seconds(X, y, 1))
        ratio = statistics.median(times["default"]) / statistics.median(times["one"])
        rows.append({"rows": n, "features": d, "classes": k, "seconds": times, "default_over_one": ratio})
        print(f"{n} x {d}, {k} classes: default {statistics.median(times['default']):.2f}s, one thread "
              f"{statistics.median(times['one']):.2f}s -> one thread {ratio:.2f}x faster", flush=True)
    Path(args.out).write_text(json.dumps({"cpus": os.cpu_count(), "results": rows}, indent=1))


if __name__ == "__main__":
    main()
