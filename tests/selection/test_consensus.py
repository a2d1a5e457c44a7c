"""The consensus of several scores (mean rank, a Borda count) and the ranking it orders by default."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import polarity_texts, run_cli

from transferkit.errors import DataError
from transferkit.selection import consensus_ranks, rank_backbones
from transferkit.selection._consensus import merge_near_ties
from transferkit.selection._rank import DEFAULT_SCORES


def test_the_consensus_is_the_mean_rank_over_the_scores() -> None:
    scores = {"probe": [0.70, 0.80, 0.75, 0.60], "logme": [-0.5, -0.9, 0.1, -1.0], "knn": [0.5, 0.7, 0.6, 0.4]}
    ranks, used = consensus_ranks(scores)
    # probe ranks 2, 4, 3, 1; logme 3, 2, 4, 1; knn 2, 4, 3, 1 (1: lowest)
    np.testing.assert_allclose(ranks, [7 / 3, 10 / 3, 10 / 3, 1.0])
    assert used == ("probe", "logme", "knn")


def test_ties_share_the_average_rank_and_round_off_is_a_tie() -> None:
    # 0.7499999999999999 is what a 5-fold mean of accuracies gives for 0.75: the same score
    ranks, _ = consensus_ranks({"probe": [0.7499999999999999, 0.75, 0.5], "knn": [0.6, 0.6, 0.9]})
    np.testing.assert_allclose(ranks, [(2.5 + 1.5) / 2, (2.5 + 1.5) / 2, (1 + 3) / 2])
    np.testing.assert_array_equal(merge_near_ties(np.array([1.0, 1.0 + 1e-9, 2.0])), [1.0 + 5e-10, 1.0 + 5e-10, 2.0])
    np.testing.assert_array_equal(merge_near_ties(np.array([1.0, 1.1])), [1.0, 1.1])  # a real difference stays


def test_only_orders_count_not_scales() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=7), rng.normal(size=7)
    ranks, _ = consensus_ranks({"a": a, "b": b})
    rescaled, _ = consensus_ranks({"a": np.exp(3 * a) * 1e6, "b": b - 100.0})  # monotone maps of each score
    np.testing.assert_allclose(rescaled, ranks)
    assert consensus_ranks({"a": a, "b": a})[0].tolist() == consensus_ranks({"a": a})[0].tolist()


def test_first_by_every_score_is_n_and_last_by_every_score_is_1() -> None:
    ranks, _ = consensus_ranks({"x": [3.0, 1.0, 2.0], "y": [30.0, -5.0, 0.0]})
    assert ranks[0] == 3.0 and ranks[1] == 1.0


def test_a_score_some_candidate_lacks_is_left_out() -> None:
    ranks, used = consensus_ranks({"leep": [-1.0, None, -2.0], "probe": [0.5, 0.9, 0.7], "nan": [1.0, math.nan, 2.0],
                                   "inf": [1.0, 2.0, math.inf]})
    assert used == ("probe",)
    np.testing.assert_allclose(ranks, [1.0, 3.0, 2.0])
    ranks, used = consensus_ranks({"leep": [-1.0, None]})
    assert used == () and np.isnan(ranks).all()


@pytest.mark.parametrize(("scores", "message"), [
    ({}, "at least one score"),
    ({"probe": []}, "at least one candidate"),
    ({"probe": [0.5, 0.6], "knn": [0.1, 0.2, 0.3]}, "score 'knn' has 3 values, the first score 2"),
])
def test_bad_input_is_named(scores: dict[str, list[float]], message: str) -> None:
    with pytest.raises(DataError, match=message):
        consensus_ranks(scores)


# --- in a ranking -------------------------------------------------------------------------------------
def _one_informative_column(n_per_class: int = 20, n_columns: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """The class lives in column 0 (means +3 / -3), the rest is noise: the raw columns (identity) and a random
    MLP that mixes them (tiny-mlp) give really different features, on which the scores disagree."""
    X = np.random.default_rng(0).normal(size=(2 * n_per_class, n_columns))
    y = np.repeat(["a", "b"], n_per_class)
    X[:, 0] += np.where(y == "a", 3.0, -3.0)
    return X, y


def test_a_default_ranking_is_ordered_by_the_consensus_of_its_scores() -> None:
    X, y = _one_informative_column()
    result = rank_backbones(X, y, ["tiny-mlp", "identity"], cache=False)  # the worse one first
    assert result.scores == DEFAULT_SCORES and result.primary == "consensus"
    assert result.consensus_of == ("linear_probe", "knn", "logme")
    mlp, identity = result.rows
    # linear_probe and knn prefer the raw columns, logme the mixed ones: 2 of 3 scores rank identity first
    for name in ("linear_probe", "knn"):
        assert identity.scores[name] > mlp.scores[name], name
    assert mlp.scores["logme"] > identity.scores["logme"]
    expected, _ = consensus_ranks({s: [r.scores[s] for r in result.rows] for s in result.consensus_of})
    np.testing.assert_allclose(expected, [4 / 3, 5 / 3])
    assert [r.scores["consensus"] for r in result.rows] == pytest.approx(expected.tolist())
    assert [r.backbone for r in result.ranked()] == ["identity", "tiny-mlp"], "not the given order nor by logme"
    assert [r.scores["consensus"] for r in result.ranked()] == pytest.approx([5 / 3, 4 / 3])
    assert result.verdict() == ("ranked by consensus, the mean rank over linear_probe, knn, logme "
                                "(higher is better): best is identity")
    data = result.to_dict()
    assert data["primary"] == "consensus" and data["consensus_of"] == ["linear_probe", "knn", "logme"]
    json.dumps(data)


def test_the_consensus_leaves_out_a_source_score_some_backbone_lacks() -> None:
    X, y = polarity_texts(10)
    result = rank_backbones(X, y, ["tiny-text", "random:tiny-text"], scores=["consensus", "logme", "knn", "leep"],
                            cache=False)
    assert result.consensus_of == ("logme", "knn")  # no text backbone here keeps a source classifier
    assert all(r.scores["leep"] is None and r.scores["consensus"] is not None for r in result.rows)


def test_a_consensus_without_two_other_scores_is_refused_before_any_work() -> None:
    X, y = polarity_texts(10)
    for scores in (["consensus"], ["consensus", "logme"]):
        with pytest.raises(DataError, match="request at least two more"):
            rank_backbones(X, y, ["no-such-backbone"], scores=scores)  # the scores are checked first


def test_the_cli_ranks_by_the_consensus_by_default(tmp_path: Path) -> None:
    import pandas as pd

    from transferkit.cli._selection import rank

    default = next(p.default for p in rank.params if p.name == "scores")
    assert tuple(default.split(",")) == DEFAULT_SCORES
    X, y = polarity_texts(10)
    pd.DataFrame({"text": X, "label": y}).to_csv(tmp_path / "reviews.csv", index=False)
    code, text = run_cli("rank", tmp_path / "reviews.csv", "-b", "tiny-text,random:tiny-text", "--out", tmp_path / "r",
                         "--no-progress", "--no-cache")
    assert code == 0, text
    assert "ranked by consensus, the mean rank over linear_probe, knn, logme" in text
    assert json.loads((tmp_path / "r" / "ranking.json").read_text())["primary"] == "consensus"
    code, text = run_cli("rank", tmp_path / "reviews.csv", "-b", "tiny-text", "--scores", "consensus,knn",
                         "--out", tmp_path / "never", "--no-progress")
    assert code == 2 and "request at least two more" in text and "Traceback" not in text
    assert not (tmp_path / "never").exists()
