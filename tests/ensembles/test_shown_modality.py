"""The modality an ensemble's members read when none is given: the one the data shows (``shown_modality``),
checked against the first member's backbone; a ``"baseline"`` member alone needs one the data shows."""

from __future__ import annotations

from typing import Any

import pytest
from tests.data.test_shown_modality import SHOWN

from transferkit.ensembles._members import EnsembleError
from transferkit.ensembles._modality import fit_modality, required_modality

IDS = [case[0] for case in SHOWN]


@pytest.mark.parametrize(("X", "shown"), [case[1:] for case in SHOWN], ids=IDS)
def test_a_baseline_member_reads_the_modality_the_data_shows(X: Any, shown: str | None) -> None:
    if shown is None:
        with pytest.raises(EnsembleError, match=r"member 'baseline' reads the data's modality, which cannot be told "
                                                r"from .*; pass modality='image', 'text' or 'table'"):
            fit_modality("baseline", None, X)
        with pytest.raises(EnsembleError, match=r"^why, which cannot be told from"):
            required_modality(X, why="why")
    else:
        assert fit_modality("baseline", None, X) == (shown, "the data")
        assert required_modality(X, why="why") == shown


@pytest.mark.parametrize(("X", "shown"), [case[1:] for case in SHOWN], ids=IDS)
def test_an_image_member_refuses_data_that_shows_another_modality(X: Any, shown: str | None) -> None:
    if shown in ("table", "text"):
        with pytest.raises(EnsembleError, match="tiny-cnn"):
            fit_modality("tiny-cnn", None, X)
    else:  # images, or nothing the data shows: the member reads it itself
        assert fit_modality("tiny-cnn", None, X) == ("image", "the first member, 'tiny-cnn',")
    assert fit_modality("tiny-cnn", "text", X) == ("text", "the data")  # a modality given is the data's
