"""Ties in a backbone ranking: the order of the backbone list breaks them, and the ranking says so (QA sweep 4,
defect 6: on tied consensus scores the verdict named one "best" backbone by list order without a word)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.helpers import blobs

from transferkit.selection import BackboneScores, RankingResult, rank_backbones, ranking_report

THIRD = 3.3333333333333335  # a consensus over three scores: 10 / 3, as one sum of ranks gives it
THIRD_LOW = 3.333333333333333  # the same mean from other ranks, one unit in the last place lower


def _result(values: dict[str, float | None], primary: str = "consensus") -> RankingResult:
    rows = [BackboneScores(name, {"knn": 0.5, "logme": 0.1, primary: v}, 0.1, {}, 4, not name.startswith("random:"))
            for name, v in values.items()]
    scores = (primary, "knn", "logme") if primary == "consensus" else (primary, "knn")
    return RankingResult(rows, scores, "image", 10, 2, consensus_of=("linear_probe", "knn", "logme"))


def test_a_tie_for_first_place_is_said_in_the_verdict_and_broken_by_the_list_order() -> None:
    result = _result({"efficientnet-lite0": THIRD, "efficientnet-lite2": THIRD, "open-nsfw": 2.0,
                      "random:efficientnet-lite0": 1.0})
    assert result.best is not None and result.best.backbone == "efficientnet-lite0"
    assert result.ties() == [["efficientnet-lite0", "efficientnet-lite2"]]
    assert result.verdict() == ("ranked by consensus, the mean rank over linear_probe, knn, logme (higher is better): "
                                "best is efficientnet-lite0, tied with efficientnet-lite2 (consensus 3.333): the order "
                                "of the backbone list decided")
    assert result.tie_verdicts() == [], "the tie for first place is in the verdict"
    swapped = _result({"efficientnet-lite2": THIRD, "efficientnet-lite0": THIRD, "open-nsfw": 2.0,
                       "random:efficientnet-lite0": 1.0})
    assert swapped.best is not None and swapped.best.backbone == "efficientnet-lite2"
    assert "tied with efficientnet-lite0 (consensus 3.333)" in swapped.verdict()
    assert [r.backbone for r in swapped.ranked()][2:] == [r.backbone for r in result.ranked()][2:]


def test_scores_equal_up_to_round_off_tie_and_keep_the_list_order() -> None:
    """3.333333333333333 and 3.3333333333333335 were ordered by their last bit, whatever the list said."""
    result = _result({"a": THIRD_LOW, "b": THIRD, "c": 1.5})
    assert [r.backbone for r in result.ranked()] == ["a", "b", "c"]
    assert [t["rank"] for t in result.table()] == [1, 2, 3] and result.table()[0]["backbone"] == "a"
    assert result.ties() == [["a", "b"]]
    assert "best is a, tied with b (consensus 3.333)" in result.verdict()
    assert _result({"a": 3.3, "b": THIRD, "c": 1.5}).ties() == [], "a real difference is not a tie"
    assert "tied" not in _result({"a": 3.3, "b": THIRD, "c": 1.5}).verdict()


def test_ties_below_first_place_are_listed_in_words_and_in_the_json() -> None:
    result = _result({"a": 4.0, "b": 2.5, "c": 2.5, "d": 2.5, "e": None, "f": None}, primary="logme")
    assert result.verdict() == "ranked by logme (higher is better): best is a"
    assert result.ties() == [["b", "c", "d"]], "backbones without the score are not tied: they are not ranked"
    assert result.tie_verdicts() == ["b, c and d tie on logme (2.5), ranks 2 to 4: the order of the backbone list "
                                     "decided."]
    data = json.loads(json.dumps(result.to_dict()))
    assert data["ties"] == [["b", "c", "d"]]
    assert [r["rank"] for r in data["ranking"]] == [1, 2, 3, 4, None, None]
    html = ranking_report(result).render()
    assert "b, c and d tie on logme (2.5), ranks 2 to 4" in html


def test_no_tie_no_tie_text() -> None:
    result = _result({"a": 3.0, "b": 2.0, "c": 1.0})
    assert result.ties() == [] and result.tie_verdicts() == [] and result.to_dict()["ties"] == []
    assert result.verdict().endswith("best is a")


def test_a_control_that_ties_up_to_round_off_ties_with_its_backbone() -> None:
    result = _result({"x": THIRD_LOW, "random:x": THIRD, "y": 1.0})
    assert result.control_verdicts() == ["x ties with its random-weight control on consensus (3.333 vs 3.333)."]


@pytest.mark.parametrize("order", [["identity", "random:identity"], ["random:identity", "identity"]])
def test_rank_backbones_names_a_consensus_tie_whatever_the_list_order(order: list[str]) -> None:
    """identity has no weights: its random-weight control gives the same features, so every score ties."""
    X, y = blobs(10)
    result = rank_backbones(X, y, order, cache=False)
    assert result.primary == "consensus"
    assert result.ties() == [order]
    assert result.best is not None and result.best.backbone == order[0]
    assert result.verdict().endswith(f"best is {order[0]}, tied with {order[1]} (consensus 1.5): the order of the "
                                     "backbone list decided")
    html = ranking_report(result).render()
    assert f"tied with {order[1]} (consensus 1.5)" in html
    assert np.isclose(result.rows[0].scores["consensus"], result.rows[1].scores["consensus"])
