"""Study storages: the default journal file, SQLite kept for studies that have one, stale trials of killed
processes in a journal, damaged journals."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from tests.helpers import InferenceCounter, blobs

from transferkit.tuning import TuningError, _journal, _storage, tune

ROOT = Path(__file__).resolve().parents[2]


def _dead_pid() -> int:
    """The PID of a child that has exited and been reaped: no process holds it now. The kernel hands PIDs out
    in increasing order and wraps only after pid_max (32768 or more), so another process taking this one
    within the test is vanishingly unlikely."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@contextlib.contextmanager
def _live_pid() -> Iterator[int]:
    """The PID of a child that is running for the whole block (killed and reaped after). Not the parent
    process: in a container where pytest is PID 1, ``os.getppid()`` is 0, which no process has."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize(("given", "scheme"), [("s.journal", "journal:///"), ("s.log", "journal:///"),
                                               ("s.db", "sqlite:///"), ("s", "sqlite:///")])
def test_a_bare_path_is_a_journal_by_its_suffix_else_sqlite(given: str, scheme: str, tmp_path: Path) -> None:
    url = _storage.storage_url(tmp_path / given, None)
    assert url == f"{scheme}{(tmp_path / given).resolve()}"
    assert _storage.storage_url(None, None) is None


def test_the_default_storage_is_sqlite_and_a_journal_is_chosen_by_its_path(tmp_path: Path) -> None:
    X, y = blobs(12)
    kw = dict(backbone="tiny-mlp", sampler="random", cv=2, cache=False)
    default = tune(X, y, n_trials=3, out=tmp_path / "a", **kw)
    assert default.storage.startswith("sqlite:///") and (tmp_path / "a" / "study.db").is_file()
    journal = tune(X, y, n_trials=3, out=tmp_path / "b", storage=tmp_path / "study.journal", **kw)
    assert journal.storage.startswith("journal:///") and not (tmp_path / "b" / "study.db").exists()
    assert isinstance(journal.study._storage, optuna.storages.JournalStorage)
    assert all(_journal.WORKER_ATTR in t.user_attrs for t in journal.study.trials)
    assert not any(_journal.WORKER_ATTR in t.user_attrs for t in default.study.trials)  # no extra SQL write
    resumed = tune(X, y, n_trials=5, storage=f"journal:///{tmp_path / 'study.journal'}", **kw)
    assert resumed.trials_run == 2


def test_stale_worker_judges_only_dead_processes_of_this_machine() -> None:
    host = _journal.worker_id()["host"]
    now = datetime.now()
    assert _journal.stale_worker({"host": host, "pid": _dead_pid()}, now)
    assert not _journal.stale_worker({"host": host, "pid": os.getpid()}, now)  # this process
    with _live_pid() as pid:
        assert not _journal.stale_worker({"host": host, "pid": pid}, now)  # another process, alive
    assert _journal.stale_worker({"host": host, "pid": pid}, now), "the same PID once that process is gone"
    assert not _journal.stale_worker({"host": host + "-elsewhere", "pid": _dead_pid()}, now)  # cannot check
    old = now - timedelta(seconds=_journal.STARTING_GRACE_S + 5)
    assert _journal.stale_worker(None, old)  # killed before it recorded its worker
    assert not _journal.stale_worker(None, now)  # may be starting right now


def test_a_trial_of_a_killed_process_is_failed_and_replaced_in_a_journal(tmp_path: Path) -> None:
    """A real ``kill -9`` of a search in another process, mid-trial; the next run fails that trial and runs
    the missing ones."""
    journal = tmp_path / "s.journal"
    script = textwrap.dedent(f"""
        import time, numpy as np
        from transferkit.tuning import _search, tune
        real = _search.make_objective
        def slow(*a, **k):
            objective = real(*a, **k)
            def run(trial):
                if trial.number == 2:
                    print("hanging", flush=True)
                    time.sleep(600)
                return objective(trial)
            return run
        _search.make_objective = slow
        rng = np.random.default_rng(0)
        X = rng.normal(size=(24, 3)); y = np.repeat(["a", "b"], 12); X[12:] += 2
        tune(X, y, backbone="tiny-mlp", n_trials=6, sampler="random", storage={str(journal)!r}, study_name="s",
             cv=2, cache=False)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "hanging"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    study = optuna.load_study(study_name="s", storage=_storage.open_storage(f"journal:///{journal}"))
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.RUNNING]
    assert study.trials[2].user_attrs[_journal.WORKER_ATTR]["pid"] == child.pid

    import numpy as np

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(24, 3)), np.repeat(["a", "b"], 12)
    X[12:] += 2
    result = tune(X, y, backbone="tiny-mlp", n_trials=6, sampler="random", storage=journal, study_name="s", cv=2,
                  cache=False)
    after = [t.state for t in result.study.trials]
    assert after[2] == TrialState.FAIL and TrialState.RUNNING not in after
    assert result.trials_run == 4 and after.count(TrialState.COMPLETE) + after.count(TrialState.PRUNED) == 6


def test_a_running_trial_of_a_live_process_is_left_alone(tmp_path: Path) -> None:
    X, y = blobs(10)
    journal = tmp_path / "s.journal"
    tune(X, y, backbone="tiny-mlp", n_trials=2, storage=journal, study_name="s", cv=2, cache=False)
    backing = _storage.open_storage(_storage.storage_url(journal, None))
    study = optuna.load_study(study_name="s", storage=backing)
    live = study.ask()  # another worker, still running (a live child process here)
    with _live_pid() as pid:
        live.set_user_attr(_journal.WORKER_ATTR, {"host": _journal.worker_id()["host"], "pid": pid})
        result = tune(X, y, backbone="tiny-mlp", n_trials=3, storage=journal, study_name="s", cv=2, cache=False)
    assert result.study.trials[live.number].state == TrialState.RUNNING and result.trials_run == 1


@pytest.mark.parametrize("content", [b'{"op_code": 0, "worker_id": "x"\n{"op_code": 1}\n', b"\x00\x01binary\n\x02\n",
                                     b"not json at all\n", b'{"op_code": 0', b"[1, 2]\n"])
def test_a_damaged_journal_is_one_clear_error_and_is_left_as_it_was(content: bytes, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    journal = tmp_path / "s.journal"
    journal.write_bytes(content)
    X, y = blobs(10)
    counter = InferenceCounter(monkeypatch)
    with pytest.raises(TuningError, match="cannot open study storage") as err:
        tune(X, y, backbone="tiny-mlp", storage=journal, n_trials=2, cv=2, cache=False)
    assert "\n" not in str(err.value) and str(journal) in str(err.value) and "journal" in str(err.value)
    assert counter.items == 0 and journal.read_bytes() == content  # nothing read past, nothing written


def test_a_folder_given_as_the_journal_is_a_clear_error(tmp_path: Path) -> None:
    X, y = blobs(10)
    (tmp_path / "d.journal").mkdir()
    with pytest.raises(TuningError, match="it is a folder, not a file"):
        tune(X, y, backbone="tiny-mlp", storage=tmp_path / "d.journal", n_trials=2, cv=2, cache=False)


def test_a_journal_cut_mid_line_by_a_crash_still_opens(tmp_path: Path) -> None:
    """A process killed while appending leaves a partial last line; Optuna ignores it and the study resumes."""
    X, y = blobs(10)
    journal = tmp_path / "s.journal"
    tune(X, y, backbone="tiny-mlp", n_trials=2, storage=journal, study_name="s", cv=2, cache=False)
    complete = journal.read_bytes()
    with journal.open("ab") as f:
        f.write(b'{"op_code": 4, "worker_id"')
    with pytest.warns(RuntimeWarning, match="dropped an incomplete last record"):
        result = tune(X, y, backbone="tiny-mlp", n_trials=3, storage=journal, study_name="s", cv=2, cache=False)
    assert result.trials_run == 1 and journal.read_bytes().startswith(complete)
    again = tune(X, y, backbone="tiny-mlp", n_trials=4, storage=journal, study_name="s", cv=2, cache=False)
    assert again.trials_run == 1 and len(again.study.trials) == 4  # the log reads back whole
    assert not Path(f"{journal}.lock").exists()


def test_a_study_file_named_inside_a_new_out_folder_creates_it(tmp_path: Path) -> None:
    X, y = blobs(10)
    for name in ("study.journal", "study.db"):
        out = tmp_path / f"new-{name}"
        result = tune(X, y, backbone="tiny-mlp", n_trials=2, cv=2, cache=False, out=out, storage=out / name)
        assert (out / name).is_file() and result.trials_run == 2
    with pytest.raises(TuningError, match="does not exist"):  # any other missing folder stays an error
        tune(X, y, backbone="tiny-mlp", n_trials=2, cv=2, cache=False, out=tmp_path / "o",
             storage=tmp_path / "elsewhere" / "s.journal")
    assert not (tmp_path / "o").exists() and not (tmp_path / "elsewhere").exists()


def test_check_storage_url_tells_what_it_can_without_opening(tmp_path: Path) -> None:
    from transferkit.tuning._storage import check_storage_url

    check_storage_url(f"sqlite:///{tmp_path / 'a.db'}")
    check_storage_url(f"journal:///{tmp_path / 'a.journal'}")
    assert not list(tmp_path.iterdir()), "nothing opened, nothing created"
    for url, why in [("foo://x/y", "Can't load plugin"), ("not a url://", "Could not parse"),
                     ("mysql://me:pw@host/db", "the Python module 'MySQLdb', is not installed"),
                     (f"sqlite:///{tmp_path}", "it is a folder, not a file"),
                     (f"sqlite:///{tmp_path / 'no' / 'a.db'}", "does not exist")]:
        with pytest.raises(TuningError, match=re.escape(why)) as err:
            check_storage_url(url)
        assert ":pw@" not in str(err.value)


def test_check_storage_url_says_what_is_wrong_with_a_path(tmp_path: Path) -> None:
    from transferkit.tuning._storage import check_storage_url

    (tmp_path / "notdb.txt").write_text("x")
    for url, why in [(f"sqlite:///{tmp_path / 'notdb.txt' / 'x.db'}", f"folder '{tmp_path / 'notdb.txt'}' is a file, "
                                                                      "not a folder"),
                     ("journal://relative.journal", "a journal URL needs an absolute path "
                                                    "(journal:///abs/path.journal), or give a bare path ending in "
                                                    ".journal"),
                     ("sqlite:///", "no file path is given"), ("journal:///", "no file path is given")]:
        with pytest.raises(TuningError, match=re.escape(why)) as err:
            check_storage_url(url)
        assert "Can't load plugin" not in str(err.value) and "it is a folder" not in str(err.value)


def _sqlite_tables(path: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    finally:
        conn.close()


def test_a_sqlite_database_of_other_tables_is_refused_untouched(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from transferkit.tuning._storage import check_storage_url

    mine = tmp_path / "mine.db"
    conn = sqlite3.connect(mine)
    for table in ("people", "places", "pets", "plans", "prices"):
        conn.execute(f"CREATE TABLE {table} (name TEXT)")
    conn.commit()
    conn.close()
    before = mine.read_bytes()
    X, y = blobs(10)
    counter = InferenceCounter(monkeypatch)
    for storage in (mine, f"sqlite:///{mine}"):
        with pytest.raises(TuningError, match=re.escape(f"{str(mine)}': it is a SQLite database of other tables "
                                                        "(people, pets, places, plans and 1 more), not an Optuna "
                                                        "study database; name another file")):
            tune(X, y, backbone="tiny-mlp", storage=storage, n_trials=2, cv=2, cache=False)
    assert mine.read_bytes() == before and _sqlite_tables(mine) == ["people", "pets", "places", "plans", "prices"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.db"] and counter.items == 0
    (tmp_path / "text.db").write_text("not a database\n")
    with pytest.raises(TuningError, match="is not a SQLite database"):
        check_storage_url(f"sqlite:///{tmp_path / 'text.db'}")
    (tmp_path / "empty.db").touch()
    check_storage_url(f"sqlite:///{tmp_path / 'empty.db'}")  # an empty file is a new database
    shared = tmp_path / "shared.db"  # an Optuna database (with a study or not) is accepted and resumed
    tune(X, y, backbone="tiny-mlp", storage=shared, n_trials=2, cv=2, cache=False, study_name="a")
    assert tune(X, y, backbone="tiny-mlp", storage=shared, n_trials=3, cv=2, cache=False,
                study_name="a").trials_run == 1


def test_a_garbage_line_in_a_journal_is_reported_by_its_line_in_the_file(tmp_path: Path) -> None:
    X, y = blobs(10)
    journal = tmp_path / "s.journal"
    tune(X, y, backbone="tiny-mlp", n_trials=2, storage=journal, study_name="s", cv=2, cache=False)
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join([*lines[:4], b"garbage\n", *lines[4:]]))
    with pytest.raises(TuningError, match=r"not a readable Optuna journal \(its line 5 is not a journal record: "
                                          r"Expecting value\)") as err:
        tune(X, y, backbone="tiny-mlp", n_trials=3, storage=journal, study_name="s", cv=2, cache=False)
    assert "line 1 column 1" not in str(err.value)
