"""One snapshot of the study's trials per trial, for pruners that only read other trials.

Optuna's samplers read the study's trials once per trial (``Study.ask`` drops the cached list: "sync
storage once every trial"). Its median pruner does not: every ``should_prune`` call, after each fold,
reads all trials from the storage again, a database round trip of a few milliseconds with SQLite
(5-15% of a head search's trials on cached features, docs/BENCHMARKS.md). :class:`TrialSnapshotPruner`
hands the pruner the per-trial snapshot the sampler uses. The trial's own intermediate values still
come fresh (Optuna passes the trial in); only trials that other workers finish *during* this trial are
seen one trial later.

Imported lazily (it imports Optuna).
"""

from __future__ import annotations

from typing import Any

import optuna


class _SnapshotStudy:
    """A study whose ``get_trials`` answers from the per-trial snapshot; everything else is the study's."""

    def __init__(self, study: optuna.Study) -> None:
        self._study = study

    def get_trials(self, deepcopy: bool = True, states: Any = None) -> list[optuna.trial.FrozenTrial]:
        snapshot = getattr(self._study, "_get_trials", None)  # private Optuna API (>= 3.0): fall back if it goes
        if snapshot is None:
            return self._study.get_trials(deepcopy=deepcopy, states=states)
        return snapshot(deepcopy=deepcopy, states=states, use_cache=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)


class TrialSnapshotPruner(optuna.pruners.BasePruner):
    """Wrap a pruner that only reads other trials (``MedianPruner``, ``PercentilePruner``) so that it reads
    them from the per-trial snapshot instead of the storage.

    Parameters
    ----------
    pruner : optuna.pruners.BasePruner
        A pruner that neither writes to the storage nor reads the current trial from the study (the
        snapshot holds that trial as it was when it started).
    """

    def __init__(self, pruner: optuna.pruners.BasePruner) -> None:
        self.pruner = pruner

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return bool(self.pruner.prune(_SnapshotStudy(study), trial))  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"TrialSnapshotPruner({self.pruner!r})"
