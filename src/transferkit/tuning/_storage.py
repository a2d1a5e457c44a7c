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

import warnings
from pathlib import Path
from typing import Any

from ..errors import error_cause
from ._errors import TuningError
from ._journal import JOURNAL_SCHEME, JOURNAL_SUFFIXES, fail_dead_workers, open_journal

#: Seconds between heartbeats of a running trial, and the age after which a silent trial is stale.
HEARTBEAT_S = 10
GRACE_PERIOD_S = 60


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


def storage_file(url: str | None) -> Path | None:
    """The file of a file storage (SQLite or journal), None for a server database or memory."""
    for scheme in ("sqlite:///", JOURNAL_SCHEME):
        if url is not None and url.startswith(scheme):
            return Path(url[len(scheme):])
    return None


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
    check_storage_url(url)
    if url.startswith(JOURNAL_SCHEME):
        return open_journal(url)
    engine_kwargs = {"creator": _sqlite_connector(url)} if url.startswith("sqlite:///") else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_S,
                                              grace_period=GRACE_PERIOD_S)
    except Exception as exc:  # SQLAlchemy/driver errors of every kind: the cause goes in the message
        cause = error_cause(exc)
        raise TuningError(f"cannot open study storage {display_url(url)!r}: {cause}") from exc


def check_storage_url(url: str) -> None:
    """What can be told about a storage URL without opening it: a study file's folder exists and the file
    is not a folder; a database URL parses, names a SQLAlchemy dialect and its driver is installed.
    Raises :class:`TuningError` naming the URL (password hidden) and the cause. Whether a database server
    answers is only known when :func:`open_storage` connects."""
    path = storage_file(url)
    if path is not None and not path.parent.is_dir():
        raise TuningError(f"cannot open study storage {display_url(url)!r}: folder {str(path.parent)!r} "
                          "does not exist")
    if path is not None and path.is_dir():
        raise TuningError(f"cannot open study storage {display_url(url)!r}: it is a folder, not a file")
    if url.startswith(JOURNAL_SCHEME):
        return
    from sqlalchemy.engine import make_url

    try:
        dialect = make_url(url).get_dialect()
    except Exception as exc:  # ArgumentError (not a URL), NoSuchModuleError (unknown database)
        raise TuningError(f"cannot open study storage {display_url(url)!r}: {error_cause(exc)}") from exc
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        module = exc.name or dialect.driver
        raise TuningError(f"cannot open study storage {display_url(url)!r}: its database driver, the Python module "
                          f"{module!r}, is not installed; install it, or use another URL") from exc


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
    database, by their worker process being gone in a journal (``_journal.stale_worker``). ``storage`` is
    the study's storage, as :func:`open_storage` returned it."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a no-op for storages without heartbeats
    fail_dead_workers(study, storage)
