"""Labels mixing numbers and strings are refused with the data layer's one-line message, not a numpy
``TypeError``; a one-class image folder is not told to check a label column it does not have."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.helpers import run_cli

from transferkit.data import Dataset, load_data
from transferkit.errors import DataError
from transferkit.feature_selection import compare_selectors
from transferkit.workflows import holdout_split, subsample

MIX = "The labels mix strings and other values"


def _mixed_jsonl(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    path = folder / "mixed.jsonl"
    with path.open("w") as f:
        for i in range(20):
            a, b = rng.normal(size=2).round(3).tolist()
            f.write(json.dumps({"a": a, "b": b, "label": [1, "a"][i % 2]}) + "\n")
    return path


@pytest.mark.parametrize("extra", [[], ["--per-class", "2"]])
def test_fit_on_mixed_labels_is_one_line_and_writes_nothing(tmp_path: Path, extra: list[str]) -> None:
    out = tmp_path / "model"
    code, text = run_cli("fit", _mixed_jsonl(tmp_path), "-b", "identity", "-s", "linear", "-o", out, *extra)
    assert code == 1
    assert "Traceback" not in text and "TypeError" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and MIX in lines[0], text
    assert not out.exists()


def test_select_on_mixed_labels_is_one_line(tmp_path: Path) -> None:
    code, text = run_cli("select", _mixed_jsonl(tmp_path), "-b", "identity")
    assert code == 1 and "Traceback" not in text
    assert MIX in text and len([line for line in text.splitlines() if line.strip()]) == 1, text


def test_python_entry_points_name_the_mix() -> None:
    y = np.array([1, "a"] * 4, dtype=object)
    data = Dataset(X=np.zeros((8, 2)), y=y, modality="table")
    for call in (lambda: data.summary(), lambda: data.classes, lambda: subsample(data, 2),
                 lambda: holdout_split(data, 0.25, 0), lambda: compare_selectors(np.zeros((8, 2)), y)):
        with pytest.raises(DataError, match=MIX):
            call()


def test_one_class_folder_gets_no_label_column_hint(tmp_path: Path) -> None:
    (tmp_path / "img" / "cat").mkdir(parents=True)
    for i in range(4):
        Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(tmp_path / "img" / "cat" / f"{i}.png")

    with pytest.raises(DataError, match="only one class") as folder_error:
        holdout_split(load_data(tmp_path / "img"), 0.25, 0)
    assert "--label-column" not in str(folder_error.value)
    (tmp_path / "one.csv").write_text("a,label\n" + "".join(f"{i},x\n" for i in range(4)))
    with pytest.raises(DataError, match=r"check --label-column"):
        holdout_split(load_data(tmp_path / "one.csv"), 0.25, 0)
