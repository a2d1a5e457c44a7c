"""``transferkit audit``: the findings table, report.html, --fix and one-line errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.helpers import polarity_texts, run_cli


@pytest.fixture
def dirty(tmp_path: Path) -> tuple[Path, Path]:
    """A training CSV with planted problems and a test CSV that shares one text with it."""
    X, y = polarity_texts(10)
    frame = pd.DataFrame({"review": X, "sentiment": y})
    frame.loc[2, "review"] = frame.loc[0, "review"] + "  "
    frame.loc[4, "sentiment"] = None
    frame.loc[7, "review"] = ""
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    test = tmp_path / "test.csv"
    pd.DataFrame({"review": [X[9], "an unseen review"], "sentiment": [y[9], "neg"]}).to_csv(test, index=False)
    return path, test


def _lines(out: str) -> dict[str, list[str]]:
    from transferkit.audit import CHECKS

    return {line.split()[0]: line.split() for line in out.splitlines() if line and line.split()[0] in CHECKS}


def test_audit_prints_findings_and_writes_a_report(dirty: tuple[Path, Path], tmp_path: Path) -> None:
    train, test = dirty
    code, out = run_cli("audit", train, "--test", test, "--text-column", "review", "--label-column", "sentiment",
                        "--backbone", "none", "--out", tmp_path / "rep")
    assert code == 0, out
    rows = _lines(out)
    assert rows["missing-values"][1] == "1" and rows["missing-labels"][1] == "1"
    assert rows["exact-duplicates"][1:3] == ["1", "removes"]
    assert rows["leakage"][1] == "1" and rows["near-duplicates"][1] == "-"
    assert rows["outliers"][2] == "keeps"
    assert (tmp_path / "rep" / "report.html").read_text().count("<h2>Data audit</h2>") == 1
    saved = json.loads((tmp_path / "rep" / "audit.json").read_text())
    assert saved["findings"]["leakage"]["flags"][0]["index"] == 9


def test_fix_writes_a_cleaned_copy_and_leaves_the_input_alone(dirty: tuple[Path, Path], tmp_path: Path) -> None:
    train, test = dirty
    before = hashlib.sha256(train.read_bytes()).hexdigest()
    args = ["audit", train, "--test", test, "--text-column", "review", "--label-column", "sentiment",
            "--backbone", "none", "--out", tmp_path / "rep", "--fix", tmp_path / "clean"]
    code, out = run_cli(*args)
    assert code == 0, out
    assert hashlib.sha256(train.read_bytes()).hexdigest() == before
    assert "16 items kept, 4 removed" in out
    cleaned = pd.read_csv(tmp_path / "clean" / "train.csv")
    assert len(cleaned) == 16 and cleaned["review"].notna().all()
    log = pd.read_csv(tmp_path / "clean" / "audit_log.csv")
    assert log["index"].tolist() == [2, 4, 7, 9]
    assert log["checks"].tolist() == ["exact-duplicates", "missing-labels", "missing-values", "leakage"]
    code, out = run_cli(*args)
    assert code == 1 and "already exists" in out and "--overwrite" in out
    assert run_cli(*args, "--overwrite")[0] == 0


def test_drop_and_keep_change_what_fix_removes(dirty: tuple[Path, Path], tmp_path: Path) -> None:
    train, _ = dirty
    code, out = run_cli("audit", train, "--text-column", "review", "--label-column", "sentiment", "--backbone",
                        "none", "--out", tmp_path / "rep", "--fix", tmp_path / "clean", "--keep", "exact-duplicates")
    assert code == 0, out
    assert len(pd.read_csv(tmp_path / "clean" / "train.csv")) == 18


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--label-column", "stars"], "Label column 'stars' not found"),
    ],
)
def test_bad_input_is_one_clear_line(dirty: tuple[Path, Path], tmp_path: Path, extra: list[str],
                                     message: str) -> None:
    train, _ = dirty
    args = ["--text-column", "review", "--label-column", "sentiment", "--out", tmp_path / "rep",
            *[str(tmp_path / "clean") if e == "OUT" else e for e in extra]]
    code, out = run_cli("audit", train, *args)
    assert code == 1 and message in out
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out


def test_unreadable_data_and_existing_fix_target(tmp_path: Path, dirty: tuple[Path, Path]) -> None:
    code, out = run_cli("audit", tmp_path / "missing.csv")
    assert code == 1 and "does not exist" in out
    (tmp_path / "taken").mkdir()
    code, out = run_cli("audit", dirty[0], "--text-column", "review", "--label-column", "sentiment",
                        "--fix", tmp_path / "taken", "--out", tmp_path / "rep")
    assert code == 1 and "already exists" in out and not (tmp_path / "rep").exists()


def test_image_folder_fix(image_folder: Path, tmp_path: Path) -> None:
    (image_folder / "top" / "zz_broken.png").write_bytes(b"not an image")
    code, out = run_cli("audit", image_folder, "--backbone", "none", "--out", tmp_path / "rep",
                        "--fix", tmp_path / "clean")
    assert code == 0, out
    assert _lines(out)["corrupt-files"][1] == "1"
    assert (image_folder / "top" / "zz_broken.png").exists()
    assert not (tmp_path / "clean" / "top" / "zz_broken.png").exists()
    assert len(list((tmp_path / "clean").rglob("*.png"))) == 16


def test_overwrite_replaces_only_an_earlier_cleaned_copy(tmp_path: Path, dirty: tuple[Path, Path]) -> None:
    base = ("audit", dirty[0], "--text-column", "review", "--label-column", "sentiment", "--backbone", "none")
    mine = tmp_path / "mydocs"
    (mine / "sub").mkdir(parents=True)
    (mine / "thesis.txt").write_text("important")
    (mine / "sub" / "data.bin").write_bytes(b"x")
    code, out = run_cli(*base, "--fix", mine, "--overwrite", "--out", tmp_path / "rep")
    assert code == 1 and "holds other files, not a cleaned copy" in out, out
    assert (mine / "thesis.txt").read_text() == "important" and (mine / "sub" / "data.bin").exists()
    assert not (tmp_path / "rep").exists()  # refused before the audit ran
    code, out = run_cli(*base, "--fix", tmp_path / "rep", "--overwrite", "--out", tmp_path / "rep")
    assert code == 1 and "is the report folder" in out and not (tmp_path / "rep").exists(), out
    (tmp_path / "empty").mkdir()
    assert run_cli(*base, "--fix", tmp_path / "empty", "--overwrite", "--out", tmp_path / "rep")[0] == 0
    assert (tmp_path / "empty" / "audit_log.json").is_file()


def test_a_test_table_without_a_column_is_named_as_the_test_set(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.normal(size=(12, 3)), columns=["f1", "f2", "f3"]).assign(label=["a", "b"] * 6)
    train.to_csv(tmp_path / "train.csv", index=False)
    train.drop(columns="f3").to_csv(tmp_path / "test.csv", index=False)
    code, out = run_cli("audit", tmp_path / "train.csv", "--test", tmp_path / "test.csv", "-b", "none",
                        "--out", tmp_path / "rep")
    assert code == 1, out
    assert "The test set (table file" in out and "test.csv') must have the feature columns of table file" in out, out
    assert "train.csv', but it lacks the feature column(s) 'f3'" in out, out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--drop", "outliers"], "--drop only applies to the cleaned copy (--fix); add --fix OUT"),
        (["--keep", "leakage", "--drop", "outliers"], "--drop and --keep only apply"),
        (["--overwrite"], "--overwrite only applies to the cleaned copy (--fix); add --fix OUT"),
        (["--fix", "OUT", "--drop", "typo"], "Invalid value for '--drop': cannot drop 'typo'"),
        (["--fix", "OUT", "--drop", "outliers,outlers"], "Invalid value for '--drop': cannot drop 'outlers'"),
        (["--fix", "OUT", "--keep", "typo"], "Invalid value for '--keep': cannot keep 'typo'"),
        (["--drop", "typo"], "Invalid value for '--drop': cannot drop 'typo'"),  # the typo is named first
        (["--fix", "OUT", "--drop", "outliers", "--keep", "leakage,outliers"], "outliers is in both --drop and --keep"),
        (["--fix", "OUT", "--per-class", "5"], "--fix cannot be combined with --per-class 5"),
    ],
)
def test_option_mistakes_are_usage_errors_before_the_data_is_read(tmp_path: Path, extra: list[str],
                                                                  message: str) -> None:
    args = [*[str(tmp_path / "clean") if e == "OUT" else e for e in extra], "--out", tmp_path / "rep"]
    code, out = run_cli("audit", tmp_path / "not-read.csv", *args)  # the data does not even exist
    assert code == 2 and message in out, out
    assert "Traceback" not in out and not (tmp_path / "rep").exists() and not (tmp_path / "clean").exists()


def test_keep_of_a_check_not_removed_by_default_is_a_note(dirty: tuple[Path, Path], tmp_path: Path) -> None:
    code, out = run_cli("audit", dirty[0], "--text-column", "review", "--label-column", "sentiment", "-b", "none",
                        "--out", tmp_path / "rep", "--fix", tmp_path / "clean", "--keep", "outliers,exact-duplicates")
    assert code == 0, out
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert notes == ["note: --keep outliers has no effect: --fix removes outliers items only when --drop names it."]
    assert len(pd.read_csv(tmp_path / "clean" / "train.csv")) == 18


def test_fix_of_a_subsample_of_a_packaged_dataset_is_refused(tmp_path: Path) -> None:
    """The CLI loads a packaged dataset already subsampled, so the API never sees per_class: the CLI must
    refuse --fix with --per-class itself."""
    code, out = run_cli("audit", "sentiment", "--per-class", "5", "--fix", tmp_path / "clean",
                        "--out", tmp_path / "rep")
    assert code == 2 and "--fix cannot be combined with --per-class" in out, out
    assert not (tmp_path / "clean").exists() and not (tmp_path / "rep").exists()


def test_a_missing_test_set_is_named_as_test(dirty: tuple[Path, Path], tmp_path: Path) -> None:
    code, out = run_cli("audit", dirty[0], "--test", tmp_path / "nonexist.csv", "--text-column", "review",
                        "--label-column", "sentiment", "--out", tmp_path / "rep")
    assert code == 1 and out.startswith("Error: --test: ") and "nonexist.csv' does not exist" in out, out
    assert len(out.strip().splitlines()) == 1


def _repeated_row(path: Path, extra: int = 0) -> Path:
    """One row 12 times labelled a and 12 times b (a label conflict), then ``extra`` distinct rows of a."""
    rows = pd.DataFrame({"f1": [1.0] * 24 + [3.0 + i for i in range(extra)],
                         "f2": [2.0] * 24 + [float(i * i) for i in range(extra)],
                         "label": ["a"] * 12 + ["b"] * 12 + ["a"] * extra})
    rows.to_csv(path, index=False)
    return path


def test_a_fix_that_would_empty_the_data_writes_nothing(tmp_path: Path) -> None:
    data = _repeated_row(tmp_path / "dup2.csv")
    code, out = run_cli("audit", data, "--fix", tmp_path / "clean", "--out", tmp_path / "rep")
    assert code == 1 and "would hold no item" in out and "label-conflicts 24" in out, out
    assert out.strip().endswith("remove fewer checks with --keep or fix the data."), out  # was "(--keep=, --keep)"
    assert len(out.strip().splitlines()) == 1
    assert not (tmp_path / "clean").exists() and not (tmp_path / "rep").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    code, out = run_cli("audit", data, "--out", tmp_path / "rep")  # without --fix: the audit itself runs
    assert code == 0, out
    assert "skipped: fewer than two classes among the usable items left after setting aside the 24 copies with " \
        "conflicting labels" in out, out


def test_a_fix_that_loses_a_class_warns(tmp_path: Path) -> None:
    data = _repeated_row(tmp_path / "dup3.csv", extra=3)
    code, out = run_cli("audit", data, "--fix", tmp_path / "clean", "--out", tmp_path / "rep")
    assert code == 0, out
    assert [line for line in out.splitlines() if line.startswith("warning:")] == [
        "warning: class 'b' has no item left in the cleaned copy (all 12 removed)"]
    assert pd.read_csv(tmp_path / "clean" / "dup3.csv")["label"].tolist() == ["a"] * 3
