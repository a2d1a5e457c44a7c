"""Option types of the CLI: float options refuse ``nan`` and ``inf`` (click's FloatRange lets NaN through),
and the commands say when they run fewer cross-validation folds than asked."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from tests.helpers import run_cli

from transferkit.cli._types import FiniteFloatList, FiniteFloatRange


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_finite_float_range_refuses_nan_and_inf(text: str) -> None:
    with pytest.raises(click.BadParameter, match="is not a finite number"):
        FiniteFloatRange(0, 1).convert(text, None, None)
    with pytest.raises(click.BadParameter, match="is not a finite number"):
        FiniteFloatList(FiniteFloatRange(0, 1)).convert(f"0.5,{text}", None, None)


def test_finite_float_range_keeps_click_range_checks() -> None:
    assert FiniteFloatRange(0, 1, min_open=True).convert("0.25", None, None) == 0.25
    with pytest.raises(click.BadParameter, match="not in the range"):
        FiniteFloatRange(0, 1, min_open=True).convert("0", None, None)
    assert FiniteFloatList(FiniteFloatRange(0, 1)).convert(" 0.5, 1 ", None, None) == [0.5, 1.0]


@pytest.mark.parametrize("args", [
    ["fit", "-s", "linear", "--holdout", "nan"],
    ["fit", "-s", "finetune", "--l2-sp", "nan"],
    ["fit", "-s", "finetune", "--bss", "inf"],
    ["fit", "-s", "finetune", "--lr", "nan"],
    ["fit", "-s", "finetune", "--layer-decay", "nan"],
    ["fit", "-s", "lora", "--lora-alpha", "nan"],
    ["lr-find", "-s", "finetune", "--start-lr", "nan"],
    ["lr-find", "-s", "finetune", "--end-lr", "inf"],
    ["tune", "-n", "1", "--timeout", "nan"],
    ["select", "-m", "anova", "--fractions", "0.5,nan"],
    ["audit", "--threshold", "nan"],
])
def test_float_options_refuse_nan_and_inf_before_any_work(args: list[str], table: Path, tmp_path: Path) -> None:
    command, *rest = args
    out = tmp_path / "out"
    code, text = run_cli(command, table, "-b", "identity", *rest, "--out", out, "--no-progress")
    assert code == 2 and "is not a finite number" in text and "Traceback" not in text, text
    assert not out.exists()


def test_evaluate_notes_folds_lowered_to_the_smallest_class(table: Path, tmp_path: Path) -> None:
    out = tmp_path / "ev"
    code, text = run_cli("evaluate", table, "-b", "identity", "--cv", "50", "--out", out, "--no-progress")
    note = "cv=50 lowered to 20 folds: the smallest class ('a') has 20 examples"
    assert code == 0 and f"note: {note}" in text, text
    assert note in json.loads((out / "evaluation.json").read_text())["notes"][0]
    assert note in (out / "report.html").read_text().replace("&#x27;", "'")


def test_tune_notes_folds_lowered_and_a_bad_space_leaves_no_study(table: Path, tmp_path: Path) -> None:
    out = tmp_path / "tu"
    for space in ('{"logisticregression__C": {"low": -5, "high": -1}}', '{"logisticregression__class_weight": ["weird"]}'):
        code, text = run_cli("tune", table, "-b", "identity", "-n", "2", "--cv", "2", "--space", space, "--out", out,
                             "--no-progress")
        assert code == 2 and "Invalid value for '--space'" in text and "is not a valid value" in text, text
        assert not out.exists()
    code, text = run_cli("tune", table, "-b", "identity", "-n", "1", "--cv", "30", "--out", out, "--no-progress")
    note = "cv=30 lowered to 20 folds: the smallest class ('a') has 20 examples"
    assert code == 0 and f"note: {note}" in text, text
    best = json.loads((out / "best.json").read_text())
    assert best["cv_folds"] == 20 and note in best["notes"][0]


def test_select_names_the_table_column_of_a_negative_feature(table: Path, tmp_path: Path) -> None:
    code, text = run_cli("select", table, "-b", "identity", "--cv", "2", "-m", "chi2", "--no-cache",
                         "--out", tmp_path / "se", "--no-progress")
    assert code == 1 and "column 0 (f1) has the value" in text, text
