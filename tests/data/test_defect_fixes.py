"""List-valued labels, duplicated column names and image positions give one clean sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from transferkit.data import check_labels, load_data, load_image
from transferkit.data._images import item_positions
from transferkit.errors import DataError, ImageLoadError


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_list_valued_labels_in_a_table_file(suffix: str, tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["a", "b", "c", "d"] * 5, "label": [["x"], ["y"], ["x"], ["y"]] * 5})
    path = tmp_path / f"listlabel{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_json(path, orient="records", lines=True)
    with pytest.raises(DataError, match=r"Label column 'label' of .*listlabel.* holds lists, not labels "
                                        r"\(rows 1, 2, 3, 4, 5 and 15 more\)"):
        load_data(path)


def test_list_valued_labels_given_directly() -> None:
    with pytest.raises(DataError, match=r"The labels hold lists, not labels, at index 1"):
        check_labels(np.array(["x", ["y"], "x"], dtype=object))
    frame = pd.DataFrame({"text": ["a", "b"], "label": [("x",), ("y",)]})
    with pytest.raises(DataError, match=r"holds lists, not labels \(indices 0, 1\)"):
        load_data(frame)


def test_a_duplicated_column_is_one_clean_sentence(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("text,text,label\na,b,pos\nc,d,neg\n")
    with pytest.raises(DataError) as info:
        load_data(path)
    message = str(info.value)
    assert message == f"Table file '{path}' names the column(s) 'text' more than once; rename or drop the copies."
    assert message.count(str(path)) == 1


def test_item_positions_map_a_batch_index_to_the_data() -> None:
    bad = np.zeros((5,), dtype=np.uint8)
    with item_positions([10, 11, 12]), pytest.raises(ImageLoadError, match=r"\(item 12\)"):
        load_image(bad, index=2)
    with item_positions([10]), pytest.raises(ImageLoadError, match=r"^Image array has shape"):
        load_image(bad, index=3)  # out of range: no index rather than a wrong one
    with pytest.raises(ImageLoadError, match=r"\(item 2\)"):
        load_image(bad, index=2)
