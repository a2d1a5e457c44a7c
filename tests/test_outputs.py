"""The one rule for report folders: a file is replaced only when transferkit wrote it and nobody changed it."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from transferkit._outputs import MARKER, check_output_folder, check_replaceable_folder, write_output_folder
from transferkit.errors import DataError, ModelFolderError


def test_a_user_file_is_refused_and_kept(tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text("my precious report")
    with pytest.raises(DataError, match=r"already holds 'report.html', which transferkit did not write") as info:
        write_output_folder(tmp_path, {"report.html": "<html/>", "a.json": "{}"})
    assert str(tmp_path) in str(info.value)
    assert (tmp_path / "report.html").read_text() == "my precious report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"], "nothing written half-way"


def test_rerunning_into_its_own_folder_replaces_its_files(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "out"
    write_output_folder(out, {"report.html": "one", "a.json": "{}"})
    (out / "notes.txt").write_text("mine")  # a file of the user's beside the reports: kept, never checked
    written = write_output_folder(out, {"report.html": "two", "a.json": "[]", "b.png": b"\x89PNG"})
    assert (out / "report.html").read_text() == "two" and written["b.png"].read_bytes() == b"\x89PNG"
    assert stat.S_IMODE(written["a.json"].stat().st_mode) == 0o644
    assert (out / "notes.txt").read_text() == "mine"
    assert set(json.loads((out / MARKER).read_text())["files"]) == {"report.html", "a.json", "b.png"}
    check_output_folder(out, ["report.html", "a.json", "b.png", "new.json"])


def test_a_report_changed_by_hand_is_not_replaced(tmp_path: Path) -> None:
    write_output_folder(tmp_path, {"report.html": "generated"})
    (tmp_path / "report.html").write_text("generated, with my notes")
    with pytest.raises(DataError, match="changed since transferkit wrote it"):
        check_output_folder(tmp_path, ["report.html"])


def test_a_folder_or_a_file_where_a_report_goes_is_refused(tmp_path: Path) -> None:
    (tmp_path / "report.html").mkdir()
    with pytest.raises(DataError, match="'report.html', which transferkit did not write"):
        check_output_folder(tmp_path, ["report.html"])
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "file", ["report.html"])


def test_an_interrupted_replacement_can_be_rerun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed between two files, the folder holds one new and one old file: both still count as ours."""
    import transferkit._outputs as outputs

    write_output_folder(tmp_path, {"a.json": "old a", "b.json": "old b"})
    real = outputs.write_bytes_atomic

    def die_on_b(path: Path, content: bytes) -> Path:
        if path.name == "b.json":
            raise KeyboardInterrupt
        return real(path, content)

    monkeypatch.setattr(outputs, "write_bytes_atomic", die_on_b)
    with pytest.raises(KeyboardInterrupt):
        write_output_folder(tmp_path, {"a.json": "new a", "b.json": "new b"})
    monkeypatch.undo()
    assert (tmp_path / "a.json").read_text() == "new a" and (tmp_path / "b.json").read_text() == "old b"
    write_output_folder(tmp_path, {"a.json": "a", "b.json": "b"})
    assert (tmp_path / "b.json").read_text() == "b"


def test_a_whole_folder_is_replaceable_only_when_empty_or_marked(tmp_path: Path) -> None:
    def check(path: Path, overwrite: bool = True) -> None:
        check_replaceable_folder(path, overwrite=overwrite, marker="log.json", what="cleaned copy",
                                 error=ModelFolderError)

    check(tmp_path / "new", overwrite=False)  # nothing there: always fine
    (tmp_path / "empty").mkdir()
    check(tmp_path / "empty")
    with pytest.raises(ModelFolderError, match="already exists; choose another folder or pass overwrite=True$"):
        check(tmp_path / "empty", overwrite=False)
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "log.json").write_text("{}")
    (tmp_path / "ours" / "data.csv").write_text("a")
    check(tmp_path / "ours")
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "notes.txt").write_text("mine")
    with pytest.raises(ModelFolderError, match=r"holds other files, not a cleaned copy \(it has no log.json\)"):
        check(tmp_path / "theirs")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelFolderError, match="is not a folder"):
        check(tmp_path / "file")
    with pytest.raises(DataError):  # the default error type
        check_replaceable_folder(tmp_path / "file", overwrite=True, marker="log.json", what="cleaned copy")


def test_a_folder_under_a_file_is_refused_by_every_python_writer(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``save``, ``fix``, ``tune(out=)`` and ``write_tune_outputs`` under a file: one error naming the file
    (``mkdir`` raised ``FileExistsError``/``NotADirectoryError`` before), and nothing written."""
    import warnings

    import numpy as np

    from transferkit import TransferClassifier
    from transferkit.audit import audit, fix
    from transferkit.ensembles import TransferEnsemble
    from transferkit.tuning import TuningError, tune, write_tune_outputs

    monkeypatch.chdir(tmp_path)
    Path("afile").write_text("mine")
    Path("r.csv").write_text("text,label\na,x\nb,y\nc,x\nd,y\n")
    X = np.random.default_rng(0).random((40, 4))
    y = np.r_[[0] * 20, [1] * 20]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = TransferClassifier(backbone="identity", cache=False).fit(X, y)
        ensemble = TransferEnsemble(members=["identity:linear", "baseline"], cache=False).fit(X, y)
        searched = tune(X, y, backbone="identity", n_trials=2, cache=False)
        audited = audit("r.csv", text_column="text", label_column="label", backbone=None)
    cases = [(lambda: model.save("afile/sub"), ModelFolderError),
             (lambda: ensemble.save("afile/sub/deeper"), ModelFolderError),
             (lambda: fix(audited, "afile/sub"), DataError),
             (lambda: write_tune_outputs(searched, "afile/sub"), DataError),
             (lambda: tune(X, y, backbone="identity", n_trials=2, out="afile/sub"), TuningError),
             (lambda: tune(X, y, backbone="identity", n_trials=2, out="afile"), TuningError)]
    for call, error in cases:
        with pytest.raises(error, match=r"'afile' is a file, not a folder"):
            call()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "r.csv"]
    assert Path("afile").read_text() == "mine"
