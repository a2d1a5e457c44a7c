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
from ._journal import JOURNAL_SCHEME, JOURNAL_SUFFIXES, fail_dead_workers, journal_path, open_journal

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
        # journal:////abs, like sqlite:////abs: read as /abs by this version (journal_path) and by older ones
        return f"{JOURNAL_SCHEME}{path}" if path.suffix in JOURNAL_SUFFIXES else f"sqlite:///{path}"
    return text


def storage_file(url: str | None) -> Path | None:
    """The file of a file storage (SQLite or journal), None for a server database or memory. A journal URL
    names an absolute path (:func:`~transferkit.tuning._journal.journal_path`); a SQLite URL follows
    SQLAlchemy (``sqlite:///rel.db`` relative to the current folder, ``sqlite:////abs.db`` absolute)."""
    if url is None or sqlite_in_memory(url):
        return None
    if url.startswith(JOURNAL_SCHEME):
        return journal_path(url)
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):])
    return None


def sqlite_in_memory(url: str) -> bool:
    """Whether ``url`` names an in-memory SQLite database (``sqlite://``, ``sqlite:///:memory:``, a
    ``file::memory:`` or ``mode=memory`` URI): every connection to one gets its own, empty database."""
    if not url.startswith("sqlite"):
        return False
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception:  # not parseable: check_storage_url says why
        return False
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database
    return (database is None or database == ":memory:" or database.startswith("file::memory:")
            or parsed.query.get("mode") == "memory")


def display_url(url: str) -> str:
    """``url`` with any password hidden, for messages and reports."""
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)  # rendered only to hide a password: it would escape ':memory:' as '%3Amemory%3A'
        return url if parsed.password is None else parsed.render_as_string(hide_password=True)
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


def release_storage(storage: Any) -> None:
    """Close a database storage that :func:`open_storage` opened, once its run is over: a SQLite study's
    write-ahead log is first written back into the study file (``PRAGMA wal_checkpoint(TRUNCATE)``), so
    the file alone holds every trial and can be copied, then the engine's pooled connections are closed.
    The storage stays usable: a later read (``TuneResult.study``) opens a new connection. Journals and
    in-memory storages hold nothing open; they are left as they are.

    Best effort: every trial is committed before this runs, so a checkpoint that cannot finish (another
    process is reading the study) only leaves the log beside the file, where SQLite still reads it."""
    import optuna

    if not isinstance(storage, optuna.storages.RDBStorage):
        return
    try:
        storage.remove_session()
        database = storage.engine.url.database  # a connection to a removed study file would create it anew
        if storage.engine.dialect.name == "sqlite" and database and Path(database).is_file():
            with storage.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        storage.engine.dispose()
    except Exception:  # SQLAlchemy/driver errors of every kind: the search's result or error matters more
        pass


def check_storage_url(url: str) -> None:
    """What can be told about a storage URL without writing anything: a study file's path is given, its
    folder exists (and is a folder), the file is not a folder; an existing SQLite file is an Optuna study
    database (or empty), not a database of other tables; a journal URL has an absolute path; a database URL
    parses, names a SQLAlchemy dialect and its driver is installed; a SQLite URL names a file, not an in-memory
    database (:func:`sqlite_in_memory`). Raises :class:`TuningError` naming the
    URL (password hidden) and the cause. Whether a database server answers is only known when
    :func:`open_storage` connects."""
    shown = display_url(url)
    if url.startswith("journal:") and not url.startswith(JOURNAL_SCHEME):
        raise TuningError(f"cannot open study storage {shown!r}: a journal URL needs an absolute path "
                          "(journal:///abs/path.journal), or give a bare path ending in .journal")
    path = storage_file(url)
    if path is not None and (url.strip() == "sqlite:///" or path == Path("")):  # Path("") would read as "."
        example = "journal:///abs/path/study.journal" if url.startswith(JOURNAL_SCHEME) else "sqlite:///path/study.db"
        raise TuningError(f"cannot open study storage {shown!r}: no file path is given (e.g. {example})")
    if sqlite_in_memory(url):
        raise TuningError(f"cannot open study storage {shown!r}: an in-memory SQLite database cannot hold a study "
                          "across connections (each connection gets its own, empty database); name a file "
                          "(study.db, sqlite:///study.db), or, in Python, leave storage=None for an in-memory study "
                          "(not resumable)")
    if path is not None and not path.parent.is_dir():
        parent = str(path.parent)
        why = "is a file, not a folder" if path.parent.exists() else "does not exist"
        raise TuningError(f"cannot open study storage {shown!r}: folder {parent!r} {why}")
    if path is not None and path.is_dir():
        raise TuningError(f"cannot open study storage {shown!r}: it is a folder, not a file")
    if url.startswith(JOURNAL_SCHEME):
        return
    from sqlalchemy.engine import make_url

    try:
        dialect = make_url(url).get_dialect()
    except Exception as exc:  # ArgumentError (not a URL), NoSuchModuleError (unknown database)
        raise TuningError(f"cannot open study storage {shown!r}: {error_cause(exc)}") from exc
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        module = exc.name or dialect.driver
        raise TuningError(f"cannot open study storage {shown!r}: its database driver, the Python module "
                          f"{module!r}, is not installed; install it, or use another URL") from exc
    if path is not None and url.startswith("sqlite:///"):
        _check_sqlite_file(path, shown)


#: Tables of which one marks a SQLite file as an Optuna study database (``alembic_version``: its schema version).
OPTUNA_TABLES = ("studies", "alembic_version")


def _check_sqlite_file(path: Path, shown: str) -> None:
    """Refuse an existing, non-empty SQLite file that holds tables but not Optuna's (a database of the user's:
    Optuna would add its own tables to it), and a file that is not a SQLite database. The file is read in
    read-only mode: nothing is written, and a missing file is not created."""
    import sqlite3
    from urllib.parse import quote

    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=60)
        try:
            tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                     "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if "not a database" not in str(exc):  # locked, unreadable: opening it says why
            return
        raise TuningError(f"cannot open study storage {shown!r}: it is not a SQLite database; name "
                          "another file") from exc
    if tables and not set(OPTUNA_TABLES) & set(tables):
        some = ", ".join(tables[:4]) + (f" and {len(tables) - 4} more" if len(tables) > 4 else "")
        raise TuningError(f"cannot open study storage {shown!r}: it is a SQLite database of other "
                          f"tables ({some}), not an Optuna study database; name another file")


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


#: How a mismatch of a resumed study names each of its recorded settings (the API's argument or the CLI's
#: option where the name alone does not tell).
SETTING_NAMES = {
    "image_size": "image size", "max_length": "max length", "space": "search space", "cv_folds": "cv folds",
    "cv_seed": "fold seed (random_state, --seed)",
}


def _as_json(value: Any) -> str:
    import json

    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def check_study_matches(study: Any, expected: dict[str, Any], url: str | None) -> None:
    """A resumed study must have been run on the same data, backbone, head, space and CV; otherwise
    its trials would not be comparable with new ones. A mismatch names the setting plainly (``cv folds``, ``search
    space``) and shows both values as JSON; other data is said to be other data, not shown as a hash."""
    where = f"study {study.study_name!r} in {display_url(url or 'memory')!r}"
    stored = study.user_attrs.get("transferkit")
    if stored is None:
        if study.trials:
            raise TuningError(f"{where} was not made by transferkit; choose another study name")
        study.set_user_attr("transferkit", expected)
        return
    for key, value in expected.items():
        if stored.get(key) == value:
            continue
        if key == "data":
            raise TuningError(f"{where} was run on other data (its items or labels differ); resume it on the "
                              "same data or choose another study name")
        name = SETTING_NAMES.get(key, key)
        raise TuningError(f"{where} was run with {name} {_as_json(stored.get(key))}, not {_as_json(value)}; "
                          "resume it with the same settings or choose another study name")


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
