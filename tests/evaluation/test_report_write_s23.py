"""``Report.write`` to a folder is a one-line error naming it, not IsADirectoryError (QA sweep 3, defect 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from transferkit._atomic import write_bytes_atomic, write_text_atomic
from transferkit.errors import DataError, TransferkitError
from transferkit.evaluation._report import Report


def _report() -> Report:
    return Report("t").heading("h").paragraph("p")


def test_writing_a_report_to_an_existing_folder_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    with pytest.raises(DataError) as info:
        _report().write(folder)
    message = str(info.value)
    assert isinstance(info.value, TransferkitError) and "\n" not in message
    assert repr(str(folder)) in message and "is a folder" in message
    assert repr(str(folder / "report.html")) in message  # the remedy: a file in it
    assert list(folder.iterdir()) == []  # nothing written, no temporary file left


def test_writing_a_report_under_a_file_says_a_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    target = tmp_path / "notes.txt" / "report.html"
    with pytest.raises(DataError, match=r"a parent of it is a file, not a folder") as info:
        _report().write(target)
    assert repr(str(target)) in str(info.value)


def test_a_report_file_is_written_and_replaced(tmp_path: Path) -> None:
    target = tmp_path / "new" / "report.html"
    assert _report().write(target) == target
    assert target.read_text(encoding="utf-8").startswith("<!doctype html>")
    Report("second").write(target)
    assert "<title>second</title>" in target.read_text(encoding="utf-8")
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]


@pytest.mark.parametrize("write", [lambda p: write_text_atomic(p, "x"), lambda p: write_bytes_atomic(p, b"x")])
def test_atomic_writes_to_a_folder_are_a_data_error(write, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError, match=r"it is a folder, not a file") as info:
        write(tmp_path)
    assert repr(str(tmp_path)) in str(info.value)
    assert list(tmp_path.iterdir()) == []
