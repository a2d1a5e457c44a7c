"""The no-transfer baseline's modality in ``evaluate``: the one a model declares, else the one the data shows
(``shown_modality``), else a table."""

from __future__ import annotations

from typing import Any

import pytest
from tests.data.test_shown_modality import SHOWN

from transferkit.evaluation._evaluate import _data_modality


class _Declares:
    modality = "image"


@pytest.mark.parametrize(("X", "shown"), [case[1:] for case in SHOWN], ids=[case[0] for case in SHOWN])
def test_the_baseline_reads_the_modality_the_data_shows_else_a_table(X: Any, shown: str | None) -> None:
    assert _data_modality({"m": object()}, X) == (shown or "table")
    assert _data_modality({"m": object(), "n": _Declares()}, X) == "image"  # a model's own word comes first
