"""``shown_modality``: the modality the data shows, also a table given as a list of numeric rows; None for none."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

from transferkit.data._validation import shown_modality

#: Inputs that ``evaluate`` and the ensembles tell the modality of, with the modality they show.
SHOWN: list[tuple[str, Any, str | None]] = [
    ("numeric rows", [[1.0, 2.0], [3.0, 4.0]], "table"),
    ("numeric row tuples", ((1, 2), (3, 4)), "table"),
    ("ragged rows", [[1.0, 2.0], [3.0]], None),
    ("rows of text", [["a", "b"], ["c", "d"]], None),
    ("sparse matrix", scipy.sparse.csr_matrix(np.eye(3)), None),
    ("DataFrame with a text column", pd.DataFrame({"a": [1.0, 2.0], "t": ["x", "y"]}), None),
    ("numeric DataFrame", pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]}), "table"),
    ("texts", ["so good", "meh"], "text"),
    ("image array", np.zeros((2, 8, 8, 3), dtype=np.uint8), "image"),
    ("list of image arrays", [np.zeros((8, 8, 3)), np.zeros((6, 6))], "image"),
    ("empty list", [], None),
]


@pytest.mark.parametrize(("X", "shown"), [case[1:] for case in SHOWN], ids=[case[0] for case in SHOWN])
def test_the_modality_the_data_shows(X: Any, shown: str | None) -> None:
    assert shown_modality(X) == shown
