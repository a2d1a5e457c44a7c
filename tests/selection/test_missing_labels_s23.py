"""Transferability scores refuse missing labels as the data layer does (QA sweep 3, defect 5).

``None``, NaN, ``pd.NA`` and empty or blank strings are missing labels, not a class: every score says so
with the message of :func:`transferkit.data.check_labels` (and of ``rank_backbones``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from transferkit.data import check_labels
from transferkit.errors import DataError
from transferkit.selection import SCORES, leep, nce

FEATURES = np.random.default_rng(0).normal(size=(40, 6))


def _labels(missing: Any, at: tuple[int, ...] = (5, 25)) -> np.ndarray:
    y = np.repeat(["a", "b"], 20).astype(object)
    for i in at:
        y[i] = missing
    return y


def _check_labels_message(y: Any) -> str:
    with pytest.raises(DataError) as info:
        check_labels(y)
    return str(info.value)


@pytest.mark.parametrize("name", sorted(SCORES))
@pytest.mark.parametrize("missing", [None, np.nan, pd.NA, "", "  "])
def test_scores_refuse_missing_labels_with_the_data_layers_message(name: str, missing: Any) -> None:
    y = _labels(missing)
    with pytest.raises(DataError) as info:
        SCORES[name](FEATURES, y)
    assert str(info.value) == "The labels are missing at indices 5, 25; every sample needs a label."
    assert str(info.value) == _check_labels_message(y)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_a_single_none_label_is_named_not_taken_for_a_class_of_one(name: str) -> None:
    with pytest.raises(DataError, match=r"^The labels are missing at index 5; every sample needs a label\.$"):
        SCORES[name](FEATURES, list(_labels(None, at=(5,))))


def test_string_array_with_an_empty_label_is_refused() -> None:
    y = np.repeat(["a", "b"], 20)
    y[3] = ""
    with pytest.raises(DataError, match=r"labels are missing at index 3"):
        SCORES["logme"](FEATURES, y)


def test_numeric_nan_labels_get_the_same_message() -> None:
    y = np.repeat([0.0, 1.0], 20)
    y[[5, 25]] = np.nan
    with pytest.raises(DataError) as info:
        SCORES["logme"](FEATURES, y)
    assert str(info.value) == _check_labels_message(y)


def test_source_scores_refuse_missing_target_and_source_labels() -> None:
    probs = np.full((40, 3), 1 / 3)
    with pytest.raises(DataError, match=r"^The labels are missing at indices 5, 25;"):
        leep(probs, _labels(None))
    source = np.repeat(["p", "q"], 20).astype(object)
    source[7] = None
    with pytest.raises(DataError, match=r"^The source_labels are missing at index 7;"):
        nce(source, _labels("x", at=()))


def test_labels_that_are_not_missing_still_work() -> None:
    y = np.repeat(["a", "b"], 20)
    assert np.isfinite(SCORES["logme"](FEATURES, y))
    assert np.isfinite(SCORES["logme"](FEATURES, [(v, 1) for v in y]))  # tuples stay one label each
