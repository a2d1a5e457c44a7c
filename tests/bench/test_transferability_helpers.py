"""Helpers of bench/bench_transferability.py (the benchmark itself is not part of the suite)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from bench.bench_transferability import (
    SCORE_NAMES,
    TARGETS,
    best_over_grid,
    consensus_column,
    correlations,
    mean_of,
    merge_near_ties,
    parse_grid,
    pooled,
    pooled_markdown,
    rank_correlation,
    split_per_class,
    summarize,
)


def test_split_per_class_is_disjoint_balanced_and_seeded() -> None:
    y = np.repeat(["a", "b", "c"], [10, 12, 9])
    train, test = split_per_class(y, 4, 5, random_state=0)
    assert not set(train) & set(test)
    assert all((y[train] == c).sum() == 4 and (y[test] == c).sum() == 5 for c in "abc")
    again = split_per_class(y, 4, 5, random_state=0)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    assert not np.array_equal(train, split_per_class(y, 4, 5, random_state=1)[0])
    with pytest.raises(ValueError, match="class 'c' has 9 examples, 10 are needed"):
        split_per_class(y, 5, 5, random_state=0)


def test_rank_correlation_agrees_reverses_and_skips_missing_scores() -> None:
    acc = {"a": 0.9, "b": 0.7, "c": 0.5, "d": 0.3}
    same = rank_correlation({"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0}, acc)
    assert same["n"] == 4 and same["tau"] == pytest.approx(1.0) and same["weighted_tau"] == pytest.approx(1.0)
    rev = rank_correlation({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}, acc)
    assert rev["tau"] == pytest.approx(-1.0) and rev["weighted_tau"] == pytest.approx(-1.0)
    # one swap among the top two costs weighted tau more than the same swap at the bottom
    top = rank_correlation({"a": 3.0, "b": 4.0, "c": 2.0, "d": 1.0}, acc)
    bottom = rank_correlation({"a": 4.0, "b": 3.0, "c": 1.0, "d": 2.0}, acc)
    assert math.isclose(top["tau"], bottom["tau"]) and top["weighted_tau"] < bottom["weighted_tau"]
    partial = rank_correlation({"a": 3.0, "b": None, "c": 2.0, "d": 1.0}, acc)
    assert partial["n"] == 3 and partial["tau"] == pytest.approx(1.0)
    assert rank_correlation({"a": 1.0, "b": None, "c": 2.0, "d": None}, acc)["tau"] is None  # too few
    assert rank_correlation({"a": 1.0, "b": 1.0, "c": 1.0}, acc)["tau"] is None  # constant score
    # equal up to round-off (H-score saturated at n_classes - 1): no ranking by float noise
    assert rank_correlation({"a": 9.0, "b": 9.0 + 1e-12, "c": 9.0 - 1e-12, "d": 9.0}, acc)["tau"] is None


def test_correlations_cover_every_score_and_target() -> None:
    rows = {n: {"scores": {"logme": v, "leep": None}, "probe_accuracy": v, "finetune_accuracy": -v}
            for n, v in {"a": 1.0, "b": 2.0, "c": 3.0}.items()}
    out = correlations(rows)
    assert set(out) == set(SCORE_NAMES) and all(set(v) == set(TARGETS) for v in out.values())
    assert out["logme"]["probe_accuracy"]["tau"] == pytest.approx(1.0)
    assert out["logme"]["finetune_accuracy"]["tau"] == pytest.approx(-1.0)
    assert out["leep"]["probe_accuracy"] == {"n": 0, "tau": None, "weighted_tau": None}


def test_the_consensus_column_is_the_mean_rank_over_the_default_scores() -> None:
    rows = {n: {"scores": {"linear_probe": lp, "knn": kn, "logme": lm, "gbc": 5.0}, "probe_accuracy": acc,
                "finetune_accuracy": acc}
            for n, lp, kn, lm, acc in [("a", 0.9, 0.5, -1.0, 0.8), ("b", 0.7, 0.6, -0.5, 0.7), ("c", 0.5, 0.4, -2.0, 0.1)]}
    # ranks: probe 3, 2, 1; knn 2, 3, 1; logme 2, 3, 1 (gbc is not one of the default scores)
    assert consensus_column(rows) == pytest.approx({"a": 7 / 3, "b": 8 / 3, "c": 1.0})
    out = correlations(rows)["consensus"]["probe_accuracy"]
    assert out["n"] == 3 and out["tau"] == pytest.approx(1 / 3)
    del rows["c"]["scores"]["knn"]  # a run without kNN has no consensus
    assert consensus_column(rows) == {"a": None, "b": None, "c": None}
    assert correlations(rows)["consensus"]["probe_accuracy"]["tau"] is None


def test_summaries_average_defined_values_per_modality() -> None:
    assert mean_of([None, 1.0, 0.0, float("nan")]) == 0.5 and mean_of([None]) is None

    def dataset(modality: str, tau: float | None) -> dict[str, object]:
        cell = {"n": 4, "tau": tau, "weighted_tau": tau}
        return {"modality": modality, "correlations": {s: {t: cell for t in TARGETS} for s in SCORE_NAMES}}

    out = summarize([dataset("image", 1.0), dataset("image", 0.0), dataset("text", None)])
    assert out["image"]["logme/probe_accuracy"] == {"tau": 0.5, "weighted_tau": 0.5, "n_datasets": 2}
    assert out["text"]["leep/finetune_accuracy"]["tau"] is None
    assert out["all"]["nce/probe_accuracy"]["n_datasets"] == 2


def _run(seed: int, taus: dict[str, float], **config: object) -> dict[str, object]:
    datasets = [{"dataset": name, "modality": "image" if name.startswith("img") else "text",
                 "correlations": {s: {t: {"n": 5, "tau": tau, "weighted_tau": tau} for t in TARGETS} for s in SCORE_NAMES}}
                for name, tau in taus.items()]
    return {"config": {"seed": seed, "n_train": 20, "recompute": False, **config}, "datasets": datasets,
            "summary": summarize(datasets)}


def test_pooled_runs_weigh_every_dataset_and_seed_alike() -> None:
    out = pooled([_run(0, {"img-a": 1.0, "txt-b": 0.0}), _run(1, {"img-a": 0.5, "txt-b": 0.5})])
    assert out["seeds"] == [0, 1] and out["config"] == {"n_train": 20}
    assert out["summary"]["all"]["knn/probe_accuracy"] == {"tau": 0.5, "weighted_tau": 0.5, "n_datasets": 4}
    assert out["summary"]["image"]["gbc/finetune_accuracy"]["tau"] == pytest.approx(0.75)
    assert out["per_seed"]["0"]["all"]["logme/probe_accuracy"]["tau"] == pytest.approx(0.5)
    table = pooled_markdown(out)
    assert "| seed 0 | seed 1 | pooled image | pooled text | pooled all |" in table
    assert "| knn | probe | 0.50 / 0.50 | 0.50 / 0.50 | **0.75 / 0.75** | **0.25 / 0.25** | **0.50 / 0.50** |" in table


def test_pooling_refuses_runs_that_differ_in_more_than_the_seed() -> None:
    with pytest.raises(ValueError, match="runs differ in more than the seed: n_train"):
        pooled([_run(0, {"img": 1.0}), _run(1, {"img": 1.0}, n_train=40)])
    with pytest.raises(ValueError, match=r"a seed appears twice: \[3, 3\]"):
        pooled([_run(3, {"img": 1.0}), _run(3, {"img": 1.0})])
    with pytest.raises(ValueError, match="no run to pool"):
        pooled([])


def test_learning_rate_grid_parsing_and_best_choice() -> None:
    assert parse_grid("1e-4, 5e-4,2e-3") == [1e-4, 5e-4, 2e-3]
    assert parse_grid(None) == [] and parse_grid(" ") == []
    with pytest.raises(ValueError, match="'fast' is not a number"):
        parse_grid("1e-4,fast")
    with pytest.raises(ValueError, match="'-1' is not a positive number"):
        parse_grid("-1")
    assert best_over_grid({1e-3: 0.7, 1e-4: 0.8, 5e-4: 0.8}) == (1e-4, 0.8)  # a tie goes to the smaller rate
    with pytest.raises(ValueError, match="no learning rate"):
        best_over_grid({})


def test_scores_equal_up_to_round_off_tie_instead_of_ranking_by_it() -> None:
    saturated = np.array([0.9999999999999999, 1.0, 1.0000000000000022, 0.16, 1.0000000000000004])
    merged = merge_near_ties(saturated)
    assert len(set(merged[[0, 1, 2, 4]])) == 1 and merged[3] == 0.16
    assert np.array_equal(merge_near_ties(np.array([0.1, 0.2, 0.3])), [0.1, 0.2, 0.3])  # real gaps kept
    accuracies = {"a": 0.9, "b": 0.5, "c": 0.7, "d": 0.2, "e": 0.6}
    scores = dict(zip("abcde", saturated.tolist(), strict=True))
    flipped = dict(scores, a=1.0000000000000022, c=0.9999999999999999)  # the same scores, other round-off
    assert rank_correlation(scores, accuracies) == rank_correlation(flipped, accuracies)


def _saved_pixel_run(scores: dict[str, float]) -> dict[str, object]:
    return {"config": {"seed": 0, "n_train": 6, "n_test": 2, "image_size": 64, "max_length": 128},
            "datasets": [{"dataset": "fake", "modality": "image",
                          "candidates": {"pixels": {"scores": dict(scores), "probe_accuracy": 0.8,
                                                    "finetune_accuracy": 0.8, "rank_seconds": 1.5}}}]}


@pytest.fixture
def pixel_world(monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    """bench_transferability's data and candidates replaced by random 'images' and the pixel candidate."""
    import bench.bench_transferability as bt

    r = np.random.default_rng(0)
    X = r.integers(0, 255, size=(16, 4, 4)).astype(np.uint8)
    y = np.repeat(["a", "b"], 8)
    monkeypatch.setattr(bt, "load", lambda name, n_train, n_test, seed: ("image", X[:12], y[:12], X[12:], y[12:]))
    monkeypatch.setattr(bt, "image_candidates", lambda size: [bt.Candidate("pixels", trainable=False,
                                                                           features=bt.pixel_features)])
    return X[:12].reshape(12, -1) / 255.0


def test_rescore_adds_missing_scores_and_keeps_the_run(pixel_world: np.ndarray, tmp_path: Path) -> None:
    from bench.bench_transferability import rescore

    from transferkit.selection import SCORES

    y = np.repeat(["a", "b"], 8)[:12]
    logme = SCORES["logme"](pixel_world, y)
    out = rescore(_saved_pixel_run({"logme": logme, "leep": None}), tmp_path, lambda msg: None)
    row = out["datasets"][0]["candidates"]["pixels"]
    assert row["scores"]["knn"] == pytest.approx(SCORES["knn"](pixel_world, y))
    assert row["scores"]["logme"] == logme and row["rank_seconds"] == 1.5 and row["probe_accuracy"] == 0.8
    assert "gbc" in out["rescored"] and "logme" not in out["rescored"]
    assert set(out["datasets"][0]["correlations"]) == set(SCORE_NAMES) and "summary" in out


def test_rescore_refuses_a_run_whose_scores_do_not_reproduce(pixel_world: np.ndarray, tmp_path: Path) -> None:
    from bench.bench_transferability import rescore

    with pytest.raises(RuntimeError, match=r"fake / pixels: logme is .* now but 5 in the run"):
        rescore(_saved_pixel_run({"logme": 5.0}), tmp_path, lambda msg: None)
