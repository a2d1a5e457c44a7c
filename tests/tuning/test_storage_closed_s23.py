"""``tune`` leaves its SQLite study complete in the study file when it returns or fails (QA sweep 3, defect 13).

The study runs in write-ahead-log mode; before the fix every trial was still in ``study.db-wal`` after
``tune`` returned, so a copy of ``study.db`` alone held no tables. Now the log is checkpointed into the
file and the storage's connections are closed, on success and on error.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import optuna
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from tests.helpers import blobs, interrupt_trial

from transferkit.tuning import TuningError, _storage, tune


def _trials_in_a_copy(db: Path, tmp_path: Path) -> list[tuple[int, str]]:
    """``(number, state)`` of every trial in a copy of the study file alone (no -wal, no -shm beside it)."""
    copy = tmp_path / "copy" / "study.db"
    copy.parent.mkdir(exist_ok=True)
    shutil.copyfile(db, copy)
    conn = sqlite3.connect(copy)
    try:
        return [(int(n), str(s)) for n, s in conn.execute("SELECT number, state FROM trials ORDER BY number")]
    finally:
        conn.close()


def _wal_is_empty(db: Path) -> bool:
    wal = db.with_name(db.name + "-wal")
    return not wal.exists() or wal.stat().st_size == 0


def test_the_study_file_alone_holds_every_trial_once_tune_returns(tmp_path: Path) -> None:
    X, y = blobs(15)
    out = tmp_path / "search"
    result = tune(X, y, backbone="tiny-mlp", n_trials=3, cv=3, cache=False, out=out)
    db = out / "study.db"
    assert _wal_is_empty(db)
    assert _trials_in_a_copy(db, tmp_path) == [(0, "COMPLETE"), (1, "COMPLETE"), (2, "COMPLETE")]
    assert len(result.study.trials) == 3 and result.best_params  # the result still reads its study


def test_a_resumed_study_in_a_given_sqlite_url_is_checkpointed_too(tmp_path: Path) -> None:
    X, y = blobs(15)
    db = tmp_path / "shared.db"
    tune(X, y, backbone="tiny-mlp", n_trials=2, cv=3, cache=False, storage=f"sqlite:///{db}", study_name="s")
    tune(X, y, backbone="tiny-mlp", n_trials=4, cv=3, cache=False, storage=f"sqlite:///{db}", study_name="s")
    assert _wal_is_empty(db)
    assert [s for _, s in _trials_in_a_copy(db, tmp_path)] == ["COMPLETE"] * 4


class _FailingHead(ClassifierMixin, BaseEstimator):
    """Every trial fails: ``fit`` raises."""

    def __init__(self, fail: bool = True) -> None:
        self.fail = fail

    def fit(self, X: np.ndarray, y: np.ndarray) -> _FailingHead:
        raise ValueError("boom")

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def test_failed_trials_of_a_study_that_stays_are_in_the_file_when_tune_raises(tmp_path: Path) -> None:
    X, y = blobs(10)
    db = tmp_path / "kept.db"
    optuna.create_study(storage=f"sqlite:///{db}", study_name="kept")  # there before: it stays
    with pytest.raises(TuningError, match="no trial of study 'kept' completed"):
        tune(X, y, backbone="tiny-mlp", head=_FailingHead(), space={"fail": [True]}, n_trials=2, cv=2,
             storage=db, study_name="kept", cache=False)
    assert _wal_is_empty(db)
    assert _trials_in_a_copy(db, tmp_path) == [(0, "FAIL"), (1, "FAIL")]


def test_an_interrupted_search_leaves_its_finished_trials_in_the_file(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    X, y = blobs(15)
    interrupt_trial(monkeypatch, 3)  # Ctrl-C in the third trial
    out = tmp_path / "search"
    with pytest.raises(KeyboardInterrupt):
        tune(X, y, backbone="tiny-mlp", n_trials=5, cv=3, cache=False, out=out)
    db = out / "study.db"
    assert _wal_is_empty(db)
    assert _trials_in_a_copy(db, tmp_path) == [(0, "COMPLETE"), (1, "COMPLETE"), (2, "FAIL")]


def test_release_leaves_a_removed_study_file_removed(tmp_path: Path) -> None:
    db = tmp_path / "gone.db"
    storage = _storage.open_storage(f"sqlite:///{db}")
    optuna.create_study(storage=storage, study_name="s")
    storage.remove_session()
    storage.engine.dispose()
    for path in (db, db.with_name("gone.db-wal"), db.with_name("gone.db-shm")):
        path.unlink(missing_ok=True)
    _storage.release_storage(storage)  # a new connection would create an empty study file again
    assert not db.exists()


def test_release_ignores_storages_without_a_database() -> None:
    _storage.release_storage(optuna.storages.InMemoryStorage())
    _storage.release_storage(None)
