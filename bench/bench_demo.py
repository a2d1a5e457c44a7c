"""The demo's accuracies as a markdown table: `python bench/bench_demo.py [--seeds 0 1 2]`.

Runs `transferkit.demo.run_demo` (the job `make demo` runs) once per seed and reports, per half and
model, accuracy and macro-F1 (mean and spread over seeds), the gain over the no-transfer baseline with
its 95% interval, and fit time as a ratio to the baseline's fit time in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--quick", action="store_true", help="the demo's --quick sizes")
    parser.add_argument("--out", default="bench/results/demo.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transferkit.demo import run_demo

    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    walls = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["TRANSFERKIT_CACHE_DIR"] = str(Path(tmp) / "cache")  # cold cache: the first-run cost
            t0 = time.perf_counter()
            results = run_demo(Path(tmp) / "demo", quick=args.quick, seed=seed, echo=lambda s: None)
            walls.append(time.perf_counter() - t0)
        for half, res in results.items():
            base_fit = sum(res.baseline.fit_seconds)
            for row in res.table():
                rows.setdefault((half, row["model"]), []).append(
                    {**row, "fit_ratio": row["fit_seconds"] / base_fit}
                )
    table = []
    print(
        f"| half | model | accuracy | macro-F1 | gain vs baseline (95% CI, seed {args.seeds[0]}) | fit time / baseline |"
    )
    print("|---|---|---|---|---|---|")
    for (half, model), runs in rows.items():
        acc = np.array([r["accuracy"] for r in runs])
        f1 = np.array([r["macro_f1"] for r in runs])
        first = runs[0]
        gain = (
            f"{100 * first['gain']:+.1f} pts [{100 * first['gain_low']:+.1f}, {100 * first['gain_high']:+.1f}]"
            if "gain" in first
            else "—"
        )
        spread = f" ± {acc.std(ddof=1):.3f}" if len(acc) > 1 else ""
        print(
            f"| {half.split(':')[0]} | {model} | {acc.mean():.3f}{spread} | {f1.mean():.3f} | {gain} | "
            f"{np.mean([r['fit_ratio'] for r in runs]):.1f}x |"
        )
        table.append({"half": half, "model": model, "runs": runs})
    print(f"\nwall time of the whole demo: {', '.join(f'{w:.0f} s' for w in walls)} (seeds {args.seeds})")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps({"seeds": args.seeds, "wall_seconds": walls, "rows": table}, indent=1, default=str)
    )


if __name__ == "__main__":
    main()
