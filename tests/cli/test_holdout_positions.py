"""``transferkit fit --holdout`` names an unreadable image by its row of the data, not by its place in the
training part or in the held-out part (``fit_to_folder`` hands the parts' rows to ``evaluate``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import run_cli

from transferkit.data import load_data
from transferkit.workflows import holdout_rows

HOLDOUT = 0.25


@pytest.mark.parametrize("part", ["training", "held-out"])
def test_fit_with_a_holdout_names_a_bad_image_by_its_row_of_the_data(image_folder: Path, tmp_path: Path,
                                                                      part: str) -> None:
    data = load_data(image_folder)
    rows = holdout_rows(data, HOLDOUT, 0)  # the CLI's split: --seed 0
    assert rows is not None
    # an image whose place in its part is not its row of the data: without the fix, the message named the place
    place, row = next((i, int(r)) for i, r in enumerate(rows[0 if part == "training" else 1]) if i != r)
    bad = Path(str(data.X[row]))
    content = bad.read_bytes()
    bad.write_bytes(content[: len(content) // 2])
    # fine-tuning: the report's audit reads no image (a linear probe's would, naming rows of the data itself)
    code, out = run_cli("fit", image_folder, "-o", tmp_path / "model", "-b", "tiny-cnn", "-s", "finetune",
                        "--epochs", "1", "--batch-size", "4", "--no-cache", "--holdout", HOLDOUT)
    assert code != 0
    assert f"{bad.name}' (item {row}) is truncated or corrupt" in out, (place, out)
    assert "test set" not in out, out  # the held-out part is rows of the data, not a test set of its own
