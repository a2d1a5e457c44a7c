"""Atomic text files: readable by others (0644, not mkstemp's 0600), never half-written."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from transferkit._atomic import write_text_atomic
from transferkit.evaluation import Report


def test_written_files_are_world_readable_and_complete(tmp_path: Path) -> None:
    path = write_text_atomic(tmp_path / "a.json", "{}")
    assert path.read_text() == "{}" and stat.S_IMODE(path.stat().st_mode) == 0o644
    report = Report("t").write(tmp_path / "report.html")
    assert stat.S_IMODE(report.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "report.html"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = write_text_atomic(tmp_path / "a.txt", "old")
    with pytest.raises(TypeError):
        write_text_atomic(path, 3)  # type: ignore[arg-type]
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
