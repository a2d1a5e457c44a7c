"""Ctrl-C (a real SIGINT to this process) during a search: it stops the search, never inside Optuna's own
bookkeeping (which left a trial "running" behind an ``UnboundLocalError``), and a head that swallows it
(scikit-learn's MLPClassifier does) does not keep the search going."""

from __future__ import annotations

import os
import signal
import time
import warnings
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from sklearn.linear_model import LogisticRegression
from tests.helpers import blobs

from transferkit.tuning import tune
from transferkit.tuning._interrupt import Interrupt


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # the handler runs in the main thread at the next bytecode


def test_ctrl_c_while_optuna_stores_a_trial_stops_after_it_is_stored(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    real = optuna.storages.RDBStorage.set_trial_state_values
    calls = {"n": 0}

    def telling(self, trial_id, state, values=None):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2 and state == TrialState.COMPLETE:  # the second trial's result is being stored
            _ctrl_c()
        return real(self, trial_id, state, values)

    monkeypatch.setattr(optuna.storages.RDBStorage, "set_trial_state_values", telling)
    X, y = blobs(15)
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with pytest.raises(KeyboardInterrupt):
        tune(X, y, backbone="tiny-mlp", n_trials=6, storage=storage, study_name="s", cv=3, cache=False,
             pruner="none")
    monkeypatch.undo()
    study = optuna.load_study(study_name="s", storage=storage)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.COMPLETE]  # none left running
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


class _SwallowsCtrlC(LogisticRegression):
    """Like scikit-learn's MLPClassifier: Ctrl-C inside fit is caught, warned about, and fit returns."""

    fits = 0

    def fit(self, X, y, sample_weight=None):  # type: ignore[no-untyped-def]
        type(self).fits += 1
        super().fit(X, y, sample_weight=sample_weight)
        if type(self).fits == 5:  # in the second trial (3 folds each)
            try:
                _ctrl_c()
            except KeyboardInterrupt:
                warnings.warn("Training interrupted by user.", stacklevel=2)
        return self


def test_a_head_that_swallows_ctrl_c_still_stops_the_search(tmp_path: Path) -> None:
    X, y = blobs(15)
    _SwallowsCtrlC.fits = 0
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with warnings.catch_warnings(record=True) as seen, pytest.raises(KeyboardInterrupt):
        warnings.simplefilter("always")
        tune(X, y, backbone="tiny-mlp", head=_SwallowsCtrlC(), space={"C": {"low": 0.1, "high": 10.0}},
             n_trials=6, storage=storage, study_name="s", cv=3, cache=False, pruner="none")
    study = optuna.load_study(study_name="s", storage=storage)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL]  # the cut fit is not a result
    assert _SwallowsCtrlC.fits == 5
    assert not [w for w in seen if "interrupted by user" in str(w.message)]


def test_outside_a_fit_ctrl_c_waits_for_a_safe_point_and_a_second_one_does_not() -> None:
    with pytest.raises(KeyboardInterrupt), Interrupt() as interrupt:
        _ctrl_c()  # noted, not raised: this could be Optuna writing to its storage
        assert interrupt.pending
        with pytest.raises(KeyboardInterrupt), interrupt.fitting():  # the next fit does not start
            raise AssertionError("not reached")
        _ctrl_c()  # a second Ctrl-C: at once
        raise AssertionError("not reached")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt), Interrupt():
        _ctrl_c()  # noted after the last safe point: the block still ends in KeyboardInterrupt
