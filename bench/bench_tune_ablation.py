"""What each of the head search's trial savings is worth: the same warm-cache search with one of them off.

One process, features already cached (so only the trials are timed), ``--repeats`` rounds taking turns:

* ``all``: the search as shipped;
* ``no row span``: L2 logistic heads fitted on the full feature width, not in the span of the fold's
  training rows (``transferkit.tuning._rowspace``; only matters when a fold has fewer rows than features);
* ``no fold prefix``: the head's scaler refitted in every trial and fold (``transferkit.tuning._prefix``);
* ``no snapshot``: Optuna's plain ``MedianPruner``, which reads every trial from the storage at each
  fold (``transferkit.tuning._pruning``);
* ``journal``: not a saving turned off but the other persistent storage, the study in a journal file
  (``storage="....journal"``) instead of the default SQLite file;
* ``in memory``: the study in Optuna's in-memory storage (``storage=None``; nothing persists, nothing
  resumes): what any persistent study costs.

Each switch is a monkeypatch of one helper or one storage argument; everything else (data, folds, TPE
seed, SQLite study) is the same. The figure is median(variant) / median(search as shipped).

    .venv/bin/python bench/bench_tune_ablation.py --out bench/results/tune_ablation.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).parent))
from bench_tune import load  # noqa: E402

VARIANTS = ("all", "no row span", "no fold prefix", "no snapshot", "journal", "in memory")


@contextlib.contextmanager
def variant(name: str) -> Iterator[dict[str, Any]]:
    """Turn one saving off; yields the ``tune`` keyword arguments of the variant."""
    import optuna

    from transferkit.tuning import _prefix

    if name == "no row span":
        with mock.patch.object(_prefix, "l2_logistic", lambda model: False):
            yield {"pruner": "median"}
    elif name == "no fold prefix":
        with mock.patch.object(_prefix, "searched_from", lambda head, keys: 0):
            yield {"pruner": "median"}
    elif name == "no snapshot":
        yield {"pruner": optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)}
    elif name == "journal":
        yield {"pruner": "median", "suffix": ".journal"}
    elif name == "in memory":
        yield {"pruner": "median", "storage": None}
    else:
        yield {"pruner": "median"}


def run(which: str, n_per_class: int, image_size: int, trials: int, repeats: int, workdir: Path) -> dict[str, Any]:
    from transferkit.tuning import tune

    X, y, cfg = load(which, n_per_class, image_size)
    name = which if which == "text" else f"image{image_size}"
    bb = {"backbone": cfg["backbone"], "image_size": cfg["image_size"], "max_length": cfg["max_length"]}
    cache = workdir / f"{name}-cache"
    tune(X, y, **bb, n_trials=2, cv=5, cache=cache, storage=workdir / f"{name}-fill.db", random_state=0)
    tune(X, y, **bb, n_trials=2, cv=5, cache=cache, storage=workdir / f"{name}-fill.journal", random_state=0)
    seconds: dict[str, list[float]] = {v: [] for v in VARIANTS}
    best: dict[str, float] = {}
    for r in range(repeats):
        for v in VARIANTS:
            with variant(v) as kwargs:
                suffix = kwargs.pop("suffix", ".db")
                kwargs.setdefault("storage", workdir / f"{name}-{v.replace(' ', '-')}-{r}{suffix}")
                result = tune(X, y, **bb, n_trials=trials, sampler="tpe", cv=5, cache=cache, random_state=0,
                              **kwargs)
            seconds[v].append(result.search_seconds)
            best[v] = result.best_score
        print(f"{name} round {r}: " + ", ".join(f"{v} {s[-1]:.2f}s" for v, s in seconds.items()), flush=True)
    med = {v: statistics.median(s) for v, s in seconds.items()}
    return {"dataset": name, "n_items": len(y), **bb, "trials": trials, "cv": 5, "seconds": seconds,
            "median_seconds": med, "over_all": {v: med[v] / med["all"] for v in VARIANTS[1:]},
            "best_accuracy": best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="text,image224,image112")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="bench/results/tune_ablation.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    specs = [d.strip() for d in args.datasets.split(",") if d.strip()]
    for spec in specs:  # every name checked before any work
        if spec != "text" and not (spec.startswith("image") and spec.removeprefix("image").isdigit()):
            parser.error(f"unknown dataset {spec!r}: use text or image<pixels> (image224, image112)")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            which, size = ("text", 0) if spec == "text" else ("image", int(spec.removeprefix("image")))
            per_class = 500 if which == "text" else 50
            results.append(run(which, per_class, size, args.trials, args.repeats, Path(tmp)))
    payload = {"command": " ".join([sys.executable.rsplit("/", 1)[-1], *sys.argv]),
               "machine": {"platform": platform.platform(), "cpus": os.cpu_count()}, "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(payload, indent=1))
    for r in results:
        print(f"{r['dataset']}: all {r['median_seconds']['all']:.2f}s; time / all: "
              + ", ".join(f"{k} {v:.2f}x" for k, v in r["over_all"].items()))


if __name__ == "__main__":
    main()
