"""CLI QA round s25: the audit of a feature table with a non-numeric id column says what ``fit``,
``evaluate`` and ``select`` say, and a fit report's embedding checks under the auto strategy."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.helpers import polarity_texts
from tests.helpers import run_cli as run

from transferkit.audit import audit
from transferkit.data import Dataset, load_data
from transferkit.errors import DataError


def _table(path: Path, *, ids: bool) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(30, 3)), columns=["alcohol", "ash", "hue"])
    if ids:
        frame.insert(0, "sample_id", [f"w{i:03d}" for i in range(30)])
    frame["label"] = np.repeat(["red", "white"], 15)
    frame.to_csv(path, index=False)
    return path


def _loader_message(path: Path) -> str:
    with pytest.raises(DataError) as info:
        load_data(path)
    return str(info.value)


def test_an_id_column_gets_the_message_of_the_other_commands(tmp_path: Path) -> None:
    """The audit said only "Column 'text' not found ... Name the text column with --text-column": wrong
    advice for a numeric feature table whose trouble is its non-numeric id column."""
    path = _table(tmp_path / "train.csv", ids=True)
    expected = _loader_message(path)
    assert "column 'sample_id' is not numeric" in expected and "encode or drop it" in expected
    with pytest.raises(DataError) as info:
        audit(path)
    assert str(info.value) == expected


def test_an_id_column_in_the_test_table_is_named_too(tmp_path: Path) -> None:
    train, test = _table(tmp_path / "train.csv", ids=False), _table(tmp_path / "test.csv", ids=True)
    code, text = run("audit", train, "--test", test, "--no-progress", "-o", tmp_path / "out")
    assert code == 1 and "Traceback" not in text, text
    assert "column 'sample_id' is not numeric" in text and "test.csv" in text, text
    code, text = run("evaluate", test, "-b", "identity", "-s", "linear", "-o", tmp_path / "eval")
    assert code == 1 and "column 'sample_id' is not numeric" in text, text  # the same words as evaluate


def test_a_table_named_as_a_table_keeps_its_own_message(tmp_path: Path) -> None:
    """modality='table' knows it is no text table: it names the columns to encode, without the text advice."""
    path = _table(tmp_path / "train.csv", ids=True)
    with pytest.raises(DataError, match=r"^Columns 'sample_id' of the table file .* are not numeric"):
        audit(path, modality="table")


def test_an_auto_fit_report_runs_the_embedding_checks(tmp_path: Path) -> None:
    """An auto fit that chose the probe or the baseline was called a "fine-tuning run" and its report
    skipped the embedding checks; they run on the frozen backbone, which auto's probe candidate uses."""
    from transferkit import TransferClassifier
    from transferkit.strategies import AutoStrategy
    from transferkit.workflows import fit_to_folder

    X, y = polarity_texts(12)
    data = Dataset(X=X, y=y, modality="text", source="reviews")
    est = TransferClassifier(backbone="tiny-text", strategy=AutoStrategy(max_finetune=0), random_state=0)
    fit_to_folder(est, data, tmp_path / "model", holdout=0)
    html = (tmp_path / "model" / "report.html").read_text()
    assert re.search(r"Audited 24 items \(text\) from reviews; embeddings: tiny-text\.", html), html[:3000]
    assert "fine-tuning run" not in html
    assert "used the frozen tiny-text embeddings, the features the auto strategy" in html
    checks = {m.group(1): m.group(2) for m in re.finditer(r"<tr><td>([a-z-]+)</td><td>([^<]*)</td>", html)}
    assert checks["label-errors"] != "—" and checks["outliers"] != "—", checks  # they ran
