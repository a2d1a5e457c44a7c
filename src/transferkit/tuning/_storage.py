"""Persistent Optuna studies: open a storage, resume a study, recover trials cut off mid-way.

A study lives in one of two kinds of storage:

* a database: a SQLite file (the default, ``OUT/study.db``), or any URL SQLAlchemy and Optuna accept, so
  workers on several machines can share one study;
* a journal file (Optuna's ``JournalStorage``; a path ending in ``.journal``): an append-only log of the
  study's operations, replayed in memory. Several processes on one machine (or on a shared file system)
  can run the same study. A write costs one small append where a database commit costs a SQLAlchemy
  round trip: a head search's trials take about a fifth less time.

A trial interrupted with Ctrl-C is marked failed at once. A trial whose process was killed outright
(``kill -9``, a crash) stays "running" in the storage; the next run marks it failed: in a database once
its heartbeat is older than :data:`GRACE_PERIOD_S`, in a journal once its worker process (recorded when
the trial starts) is gone from this machine. Failed trials never count as done.
"""

from __future__ import annotations

import json
import os
import socket
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ._errors import TuningError

#: Seconds between heartbeats of a running trial, and the age after which a silent trial is stale.
HEARTBEAT_S = 10
GRACE_PERIOD_S = 60

#: URL scheme of a journal file (``journal:///abs/path/study.journal``); bare paths with these suffixes
#: are journals too, any other bare path a SQLite file.
JOURNAL_SCHEME = "journal:///"
JOURNAL_SUFFIXES = (".journal", ".log")

#: User attribute of a trial naming the process that runs it (for stale-trial recovery in journals).
WORKER_ATTR = "transferkit_worker"


def storage_url(storage: str | Path | None, out: str | Path | None) -> str | None:
    """The storage URL to use: the one given (a bare path means a journal file if it ends in ``.journal``
    or ``.log``, else a SQLite file), else ``out/study.db``, else None (in memory: nothing persists)."""
    if storage is None:
        return None if out is None else f"sqlite:///{Path(out).resolve() / 'study.db'}"
    text = str(storage)
    if "://" not in text:
        path = Path(text).resolve()
        return f"{JOURNAL_SCHEME}{path}" if path.suffix in JOURNAL_SUFFIXES else f"sqlite:///{path}"
    return text


def display_url(url: str) -> str:
    """``url`` with any password hidden, for messages and reports."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: it is shown as given in the error that follows
        return url


def open_storage(url: str | None) -> Any:
    """An Optuna storage for ``url`` (in-memory for None); a URL that cannot be opened raises
    :class:`TuningError` naming it."""
    import optuna

    if url is None:
        return optuna.storages.InMemoryStorage()
    for scheme in ("sqlite:///", JOURNAL_SCHEME):
        if url.startswith(scheme):
            path = Path(url[len(scheme):])
            if not path.parent.is_dir():
                raise TuningError(f"cannot open study storage {display_url(url)!r}: folder {str(path.parent)!r} "
                                  "does not exist")
            if path.is_dir():
                raise TuningError(f"cannot open study storage {display_url(url)!r}: it is a folder, not a file")
    if url.startswith(JOURNAL_SCHEME):
        return _open_journal(url)
    engine_kwargs = {"creator": _sqlite_connector(url)} if url.startswith("sqlite:///") else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_S,
                                              grace_period=GRACE_PERIOD_S)
    except Exception as exc:  # SQLAlchemy/driver errors of every kind: the cause goes in the message
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TuningError(f"cannot open study storage {display_url(url)!r}: {cause}") from exc


def _open_journal(url: str) -> Any:
    """A journal-file storage; a log that cannot be replayed (not a journal, a damaged line) raises
    :class:`TuningError` naming the file (:func:`check_journal`)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    check_journal(Path(url[len(JOURNAL_SCHEME):]), display_url(url))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.JournalStorage(JournalFileBackend(url[len(JOURNAL_SCHEME):]))
    except Exception as exc:  # JSON, format and OS errors of the replay: the cause goes in the message
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TuningError(f"cannot open study storage {display_url(url)!r}: not a readable Optuna journal "
                          f"({cause})") from exc


def check_journal(path: Path, name: str) -> None:
    """Refuse a file that is not an Optuna journal, and drop an incomplete last record.

    Optuna skips a last line without its newline (a process killed mid-append) when it replays the log,
    but its next append would then continue that line and make the log unreadable from there on. The
    incomplete record is cut off first (under the journal's own lock, with a warning). A file whose first
    line is not a complete journal record is refused untouched: a journal would be appended to it.
    """
    from optuna.storages.journal import JournalFileSymlinkLock

    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb") as f:
        first = f.readline()
    try:
        record = json.loads(first)
    except ValueError:
        record = None
    if not first.endswith(b"\n") or not isinstance(record, dict) or "op_code" not in record:
        raise TuningError(f"cannot open study storage {name!r}: not an Optuna journal (its first line is not a "
                          "complete journal record); name another file, or remove this one to start afresh")
    if _last_byte(path) == b"\n":
        return
    lock = JournalFileSymlinkLock(str(path))
    lock.acquire()
    try:
        end = _after_last_newline(path)
        dropped = path.stat().st_size - end
        if dropped:
            os.truncate(path, end)
            warnings.warn(f"{path}: dropped an incomplete last record ({dropped} bytes) that a process killed "
                          "while writing left behind", RuntimeWarning, stacklevel=3)
    finally:
        lock.release()


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1)


def _after_last_newline(path: Path, chunk: int = 1 << 16) -> int:
    """Offset just past the last newline of ``path`` (0 if it has none)."""
    with path.open("rb") as f:
        end = f.seek(0, os.SEEK_END)
        while end > 0:
            start = max(0, end - chunk)
            f.seek(start)
            at = f.read(end - start).rfind(b"\n")
            if at >= 0:
                return start + at + 1
            end = start
    return 0


def _sqlite_connector(url: str) -> Any:
    """Connections to a SQLite study in write-ahead-log mode with ``synchronous=NORMAL``: Optuna commits
    a few times per fold, and with the default rollback journal every commit waits for an fsync (about
    half of a head search's time on a busy disk). WAL keeps readers and one writer from blocking each
    other, and a crashed process still loses nothing that was committed (SQLite's WAL guarantees)."""
    import sqlite3

    path = url[len("sqlite:///"):]

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=60, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    return connect


def check_study_matches(study: Any, expected: dict[str, Any], url: str | None) -> None:
    """A resumed study must have been run on the same data, backbone, head, space and CV; otherwise
    its trials would not be comparable with new ones."""
    stored = study.user_attrs.get("transferkit")
    if stored is None:
        if study.trials:
            raise TuningError(f"study {study.study_name!r} in {display_url(url or 'memory')!r} was not made by "
                              "transferkit; choose another study name")
        study.set_user_attr("transferkit", expected)
        return
    for key, value in expected.items():
        if stored.get(key) != value:
            raise TuningError(
                f"study {study.study_name!r} in {display_url(url or 'memory')!r} was run with {key}="
                f"{stored.get(key)!r}, not {value!r}; resume it with the same settings or choose another study name")


def finished_trials(study: Any) -> list[Any]:
    """Trials that count as done: complete or pruned (failed and running ones do not)."""
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))


def fail_stale(study: Any, storage: Any) -> None:
    """Mark trials of killed processes as failed before new trials start: by their stale heartbeat in a
    database, by their worker process being gone in a journal (:func:`stale_worker`). ``storage`` is the
    study's storage, as :func:`open_storage` returned it."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.trial import TrialState

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a no-op for storages without heartbeats
    if not isinstance(storage, JournalStorage):
        return
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if stale_worker(trial.user_attrs.get(WORKER_ATTR), trial.datetime_start):
            study.tell(trial.number, state=TrialState.FAIL)


def worker_id() -> dict[str, Any]:
    """This process, as recorded on the trials it runs."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def stale_worker(worker: Any, started: datetime | None, now: float | None = None) -> bool:
    """Whether a running trial's process is known to be gone: it ran on this machine and its process no
    longer exists. A trial with no worker recorded (killed within milliseconds of starting) is stale once
    it is :data:`GRACE_PERIOD_S` old. Trials of other machines are never judged (their process cannot be
    checked from here), nor are this process's own."""
    if not isinstance(worker, dict):
        age = (now if now is not None else time.time()) - started.timestamp() if started is not None else 0.0
        return age > GRACE_PERIOD_S
    if worker.get("host") != socket.gethostname() or worker.get("pid") == os.getpid():
        return False
    return not _process_exists(int(worker.get("pid", -1)))


def _process_exists(pid: int) -> bool:
    if pid <= 0 or os.name != "posix":  # os.kill(pid, 0) would signal the process on Windows
        return pid > 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    return True


def recording_worker(objective: Callable[[Any], float], storage: Any) -> Callable[[Any], float]:
    """For a journal ``storage``, ``objective`` that first records this process on the trial, so a later
    run can tell that a trial left running by a killed process is stale (journals have no heartbeat);
    ``objective`` itself for other storages."""
    from optuna.storages import JournalStorage

    if not isinstance(storage, JournalStorage):
        return objective
    worker = worker_id()

    def run(trial: Any) -> float:
        trial.set_user_attr(WORKER_ATTR, worker)
        return objective(trial)

    return run
