"""QA sweep 4 on the search: journal URLs name absolute paths, in-memory SQLite URLs are refused in one
line, ``n_trials`` is a whole number, and a class in a message is shown as plain text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from transferkit.errors import DataError
from transferkit.tuning import TuningError, _storage, tune


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), np.repeat(["a", "b"], 15)
    X[y == "b"] += 1.5
    return X, y


KW = dict(backbone="identity", sampler="random", cv=3, cache=False)


# --- 3. journal:///abs/path is /abs/path ---------------------------------------------------------------
@pytest.mark.parametrize("slashes", ["///", "////"])
def test_a_journal_url_names_an_absolute_path_with_three_or_four_slashes(slashes: str) -> None:
    assert _storage.storage_file(f"journal:{slashes}abs/dir/study.journal") == Path("/abs/dir/study.journal")


def test_the_documented_three_slash_journal_url_writes_the_absolute_file(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``journal:///tmp/.../study.journal`` was read as ``tmp/.../study.journal`` under the current folder."""
    target = tmp_path / "abs" / "study.journal"
    target.parent.mkdir()
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    url = f"journal://{target}"  # the documented form: journal: + // + /abs/path
    assert url.startswith("journal:///") and not url.startswith("journal:////")
    X, y = _data()
    first = tune(X, y, n_trials=2, storage=url, study_name="s", **KW)
    assert first.trials_run == 2 and target.is_file() and target.stat().st_size > 0
    assert list(elsewhere.iterdir()) == [], "nothing is written under the current folder"
    # the four-slash spelling (what a bare path becomes) and the bare path name the same study: it resumes
    again = tune(X, y, n_trials=3, storage=f"journal:///{target}", study_name="s", **KW)
    assert again.trials_run == 1
    bare = tune(X, y, n_trials=4, storage=target, study_name="s", **KW)
    assert bare.trials_run == 1 and len(bare.study.trials) == 4


def test_a_three_slash_journal_url_is_never_read_relative_to_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``journal:///jr2/x.journal`` wrote ``./jr2/x.journal``; it names ``/jr2/x.journal``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jr2").mkdir()
    assert not Path("/jr2").exists()
    with pytest.raises(TuningError, match=r"^cannot open study storage 'journal:///jr2/x.journal': folder '/jr2' "
                                          r"does not exist$"):
        _storage.check_storage_url("journal:///jr2/x.journal")
    X, y = _data()
    with pytest.raises(TuningError, match="folder '/jr2' does not exist"):
        tune(X, y, n_trials=2, storage="journal:///jr2/x.journal", **KW)
    assert list((tmp_path / "jr2").iterdir()) == []


@pytest.mark.parametrize("url", ["journal:///", "journal:////"])
def test_a_journal_url_without_a_path_is_refused(url: str) -> None:
    with pytest.raises(TuningError, match="no file path is given"):
        _storage.check_storage_url(url)


# --- 5. in-memory SQLite ------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://", "sqlite+pysqlite:///:memory:",
                                 "sqlite:///file::memory:?uri=true"])
def test_an_in_memory_sqlite_url_is_refused_in_one_line_before_any_trial(url: str, capfd: pytest.CaptureFixture[str],
                                                                         tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    X, y = _data()
    with pytest.raises(TuningError) as info:
        tune(X, y, n_trials=3, storage=url, **KW)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"cannot open study storage {url!r}: ")
    assert "an in-memory SQLite database cannot hold a study across connections" in message
    assert "storage=None" in message and "study.db" in message
    assert "Traceback" not in capfd.readouterr().err, "no heartbeat thread ran"
    assert list(tmp_path.iterdir()) == [], "no file is made"
    assert _storage.storage_file(url) is None


def test_a_sqlite_file_url_is_still_a_file() -> None:
    assert not _storage.sqlite_in_memory("sqlite:///study.db")
    assert not _storage.sqlite_in_memory("sqlite:////abs/memory.db")
    assert not _storage.sqlite_in_memory("postgresql://user@host/db")
    assert _storage.storage_file("sqlite:///study.db") == Path("study.db")


# --- 12. n_trials and a class in a message ------------------------------------------------------------------
@pytest.mark.parametrize("n_trials", [2.5, 2.0, True, "3", 0, np.float64(3.0)])
def test_n_trials_must_be_a_whole_number_of_at_least_one(n_trials: object) -> None:
    X, y = _data()
    shown = n_trials.item() if isinstance(n_trials, np.generic) else n_trials
    with pytest.raises(TuningError, match=rf"^n_trials must be an integer >= 1, got {shown!r}$"):
        tune(X, y, n_trials=n_trials, **KW)  # type: ignore[arg-type]


def test_a_numpy_integer_is_a_whole_number_of_trials() -> None:
    X, y = _data()
    assert tune(X, y, n_trials=np.int64(2), **KW).trials_run == 2


def test_a_singleton_class_is_named_as_plain_text() -> None:
    X, y = _data()
    with pytest.raises(DataError, match=r"^class 'c' has only 1 example; ") as info:
        tune(X, np.r_[y[:-1], ["c"]], n_trials=2, **KW)
    assert "np.str_" not in str(info.value)
