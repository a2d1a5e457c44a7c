"""Journal-file studies: Optuna's ``JournalStorage`` on a file, and what it lacks next to a database.

An append-only log of the study's operations, replayed in memory: a trial's writes cost one appended
line each instead of a SQLAlchemy round trip. What a database gives and a journal does not, added here:

* stale trials: a journal has no heartbeat, so each trial records its worker (host and process id) when
  it starts, and a later run fails the running trials whose process is gone from this machine;
* damage: a process killed mid-append leaves an incomplete last line, which Optuna skips on replay and
  then glues its next append onto (the log becomes unreadable); it is cut off first. A file that is not
  a journal is refused untouched.
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

from ..errors import error_cause
from ._errors import TuningError

#: Seconds after which a running trial that recorded no worker (killed within milliseconds of starting)
#: is stale.
STARTING_GRACE_S = 60

#: URL scheme of a journal file (``journal:///abs/path/study.journal``); bare paths with these suffixes
#: are journals too, any other bare path a SQLite file.
JOURNAL_SCHEME = "journal:///"
JOURNAL_SUFFIXES = (".journal", ".log")


def journal_path(url: str) -> Path:
    """The file a ``journal:///`` URL names, always an absolute path (``Path("")`` when it names none).

    A journal URL is read as a ``file:`` URL: an empty host, then the absolute path, so
    ``journal:///abs/path.journal`` is ``/abs/path.journal``. ``journal:////abs/path.journal`` (SQLAlchemy's
    four-slash spelling of an absolute SQLite path, and the URL transferkit makes of a bare ``.journal``
    path) names the same file. There is no relative form: a relative journal is given as a bare path.
    ``journal:///C:/dir/study.journal`` is a Windows drive path.
    """
    rest = url[len(JOURNAL_SCHEME):].lstrip("/")
    if not rest:
        return Path("")
    drive = len(rest) >= 2 and rest[1] == ":" and rest[0].isalpha()
    return Path(rest) if drive else Path("/" + rest)


#: User attribute of a trial naming the process that runs it (for stale-trial recovery in journals).
WORKER_ATTR = "transferkit_worker"


def open_journal(url: str) -> Any:
    """A journal-file storage; a log that cannot be replayed (not a journal, a damaged line) raises
    :class:`TuningError` naming the file (:func:`check_journal`)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    path = str(journal_path(url))
    check_journal(Path(path), url)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.JournalStorage(JournalFileBackend(path))
    except Exception as exc:  # JSON, format and OS errors of the replay: the cause goes in the message
        bad = _first_bad_line(Path(path)) if isinstance(exc, ValueError) else None
        cause = f"its line {bad[0]} is not a journal record: {bad[1]}" if bad else error_cause(exc)
        if isinstance(exc, OSError) and not Path(path).exists():  # not a bad journal: none could be created
            raise TuningError(f"cannot open study storage {url!r}: cannot create the journal file ({cause})") from exc
        raise TuningError(f"cannot open study storage {url!r}: not a readable Optuna journal "
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


def _first_bad_line(path: Path) -> tuple[int, str] | None:
    """The number (from 1) of the first line of ``path`` that is not a JSON record, and why; None if every
    line is one. Optuna's replay error counts lines and columns within the bad line alone (``line 1
    column 1``), which points nowhere in the file. Read only when a replay has failed."""
    try:
        with path.open("rb") as f:
            for number, line in enumerate(f, start=1):
                if not line.endswith(b"\n"):  # an incomplete last record is skipped on replay
                    return None
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    return number, exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                if not isinstance(record, dict):
                    return number, f"a JSON {type(record).__name__}, not an object"
    except OSError:
        return None
    return None


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


def worker_id() -> dict[str, Any]:
    """This process, as recorded on the trials it runs."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def stale_worker(worker: Any, started: datetime | None) -> bool:
    """Whether a running trial's process is known to be gone: it ran on this machine and its process no
    longer exists. A trial with no worker recorded (killed within milliseconds of starting) is stale once
    it is :data:`STARTING_GRACE_S` old. Trials of other machines are never judged (their process cannot be
    checked from here), nor are this process's own."""
    if not isinstance(worker, dict):
        return started is not None and time.time() - started.timestamp() > STARTING_GRACE_S
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


def fail_dead_workers(study: Any, storage: Any) -> None:
    """In a journal ``storage``, mark the running trials of processes that are gone as failed
    (:func:`stale_worker`); nothing for other storages."""
    from optuna.storages import JournalStorage
    from optuna.trial import TrialState

    if not isinstance(storage, JournalStorage):
        return
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if stale_worker(trial.user_attrs.get(WORKER_ATTR), trial.datetime_start):
            study.tell(trial.number, state=TrialState.FAIL)
