"""Hyperparameter search of probe heads on features extracted once, with Optuna.

The backbone runs once over the data (or not at all when the feature cache already holds it); every
trial then fits only a head on the in-memory features, on the same stratified folds, reporting the
running mean score after each fold so a pruner can stop unpromising trials early.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold

from .._blas import one_blas_thread
from .._outputs import file_in_the_way
from ..data._validation import check_folds
from ..errors import DataError, error_cause
from ..evaluation._evaluate import folds_note
from ._errors import TuningError
from ._interrupt import Interrupt
from ._journal import recording_worker
from ._prefix import FoldPrefix
from ._space import HEADS, Space, check_space, default_space, grid_size, make_head, space_grid, space_to_dict
from ._storage import (
    check_study_matches,
    display_url,
    fail_stale,
    finished_trials,
    open_storage,
    release_storage,
    storage_file,
    storage_url,
)
from ._warm import WarmStarts, warm_startable

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "halving", "none")

#: Errors of one configuration (e.g. a degenerate head) fail that trial only; the search goes on.
TRIAL_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError)

#: User attribute of a failed trial: why it failed (``"ValueError: ..."``).
FAIL_REASON_ATTR = "transferkit_fail_reason"


@dataclass
class TuneResult:
    """What a search found, with the study it ran in.

    Attributes
    ----------
    study : optuna.Study
        Every trial of the study (also those of earlier, resumed runs).
    backbone_params : dict
        ``backbone``, ``image_size``, ``max_length``, ``cache``, ``random_state``: rebuild the feature step.
    head_name : str or None
        The head preset searched (None for a head given as an estimator).
    head : estimator
        The unfitted head template whose parameters were searched.
    space : dict
        The search space (parameter path -> dimension).
    extract_seconds : float
        Time spent getting the features (one extraction pass, or cache reads).
    search_seconds : float
        Time spent in this run's trials.
    """

    study: Any
    backbone_params: dict[str, Any]
    head_name: str | None
    head: BaseEstimator
    space: Space
    scoring: str
    cv: int
    storage: str
    n_samples: int
    n_features: int
    extract_seconds: float
    search_seconds: float
    trials_run: int
    fingerprint: str
    notes: list[str] = field(default_factory=list)

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.study.best_trial.params)

    @property
    def best_score(self) -> float:
        return float(self.study.best_value)

    def counts(self) -> dict[str, int]:
        """Trials of the study by state (complete, pruned, fail, running, waiting)."""
        out: dict[str, int] = {}
        for t in self.study.get_trials(deepcopy=False):
            out[t.state.name.lower()] = out.get(t.state.name.lower(), 0) + 1
        return out

    def best_head(self) -> BaseEstimator:
        """An unfitted copy of the head with the best parameters."""
        return clone(self.head).set_params(**self.best_params)

    def best_estimator(self) -> Any:
        """An unfitted :class:`~transferkit.TransferClassifier`: the backbone with a probe of the best head."""
        from ..estimators import TransferClassifier
        from ..strategies import LinearProbe

        return TransferClassifier(strategy=LinearProbe(head=self.best_head()), **self.backbone_params)

    def refit(self, X: Any, y: Any) -> Any:
        """Fit the best configuration on ``X``, ``y`` (features come from the cache when it is on)."""
        return self.best_estimator().fit(X, y)

    def to_dict(self) -> dict[str, Any]:
        """The best configuration as JSON-ready data (``best.json``): enough to refit it with
        :func:`load_best` when the head is a preset."""
        return {
            "format": "transferkit-tune", "format_version": 1,
            "study_name": self.study.study_name, "storage": self.storage,
            "backbone": self.backbone_params, "head": self.head_name, "best_params": self.best_params,
            "best_score": self.best_score, "scoring": self.scoring, "cv_folds": self.cv,
            "best_trial": self.study.best_trial.number, "trials": self.counts(), "trials_run": self.trials_run,
            "space": space_to_dict(self.space), "n_samples": self.n_samples, "n_features": self.n_features,
            "extract_seconds": self.extract_seconds, "search_seconds": self.search_seconds,
            "data_fingerprint": self.fingerprint, "notes": list(self.notes),
        }


def _sampler(name: Any, space: Space, seed: int) -> Any:
    import optuna

    if isinstance(name, optuna.samplers.BaseSampler):
        return name
    if name == "tpe":
        return _first_trial_seeded(optuna.samplers.TPESampler, seed)
    if name == "random":
        return _first_trial_seeded(optuna.samplers.RandomSampler, seed)
    if name == "grid":
        return optuna.samplers.GridSampler(space_grid(space), seed=seed)
    raise TuningError(f"unknown sampler {name!r}; choose one of: {', '.join(SAMPLERS)}")


def _first_trial_seeded(cls: Any, seed: int) -> Any:
    """A ``cls(seed=seed + n)`` sampler, ``n`` the number of the first trial it samples for.

    A single process gets ``seed + len(study.trials)``, as before; two workers that start together on one
    study get different first trials, hence different seeds, instead of proposing the same configurations.
    """
    import optuna

    class FirstTrialSeeded(optuna.samplers.BaseSampler):
        def __init__(self) -> None:
            self.inner: Any = None

        def _get(self, trial: Any) -> Any:
            if self.inner is None:
                self.inner = cls(seed=seed + trial.number)
            return self.inner

        def before_trial(self, study: Any, trial: Any) -> None:
            self._get(trial).before_trial(study, trial)

        def infer_relative_search_space(self, study: Any, trial: Any) -> Any:
            return self._get(trial).infer_relative_search_space(study, trial)

        def sample_relative(self, study: Any, trial: Any, search_space: Any) -> Any:
            return self._get(trial).sample_relative(study, trial, search_space)

        def sample_independent(self, study: Any, trial: Any, param_name: str, param_distribution: Any) -> Any:
            return self._get(trial).sample_independent(study, trial, param_name, param_distribution)

        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            self._get(trial).after_trial(study, trial, state, values)

        def reseed_rng(self) -> None:
            if self.inner is not None:
                self.inner.reseed_rng()

    return FirstTrialSeeded()


def _stop_at(target: int, ran: list[int]) -> Any:
    """A callback that records this worker's trials in ``ran`` and ends its search once the study holds
    ``target`` finished trials, by whichever workers (each worker's own count of trials to run would
    overshoot together).

    The study is read only once other workers' trials show up between this worker's trial numbers, so a
    single process pays nothing for it.
    """

    def stop(study: Any, trial: Any) -> None:
        ran.append(trial.number)
        others = trial.number - ran[0] + 1 > len(ran)
        if others and len(finished_trials(study)) >= target:
            study.stop()

    return stop


def _pruner(name: Any) -> Any:
    import optuna

    if isinstance(name, optuna.pruners.BasePruner):
        return name
    if name == "median":  # a trial below the median of earlier ones at the same fold stops there
        from ._pruning import TrialSnapshotPruner

        return TrialSnapshotPruner(optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0))
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if name in ("none", None):
        return optuna.pruners.NopPruner()
    raise TuningError(f"unknown pruner {name!r}; choose one of: {', '.join(PRUNERS)}")


def data_fingerprint(X: Any, y: np.ndarray, modality: str) -> str:
    """Content key of the data and labels: a study may only be resumed on the same data."""
    from ..features._hashing import config_key, item_keys

    return config_key(item_keys(X, modality), [str(v) for v in y])


def _splits(y: np.ndarray, cv: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    labels, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        smallest = labels[counts.argmin()]
        shown = smallest.item() if isinstance(smallest, np.generic) else smallest  # 'c', not np.str_('c')
        raise DataError(f"class {shown!r} has only {counts.min()} example; a search needs "
                        "at least 2 per class for cross-validation")
    k = min(cv, int(counts.min()))
    return list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def _recording_failures(objective: Any) -> Any:
    """``objective`` that records why a trial failed (the exception's message) on the trial, so the
    search can say so when no trial completes (Optuna itself only logs it)."""

    def run(trial: Any) -> float:
        try:
            return float(objective(trial))
        except TRIAL_ERRORS as exc:
            trial.set_user_attr(FAIL_REASON_ATTR, f"{type(exc).__name__}: {error_cause(exc)}")
            raise

    return run


def _study_exists(storage: Any, name: str) -> bool:
    try:
        storage.get_study_id_from_name(name)
    except KeyError:
        return False
    return True


def _discard_new_study(study: Any, storage: Any, file: Path | None, file_existed: bool,
                       made_folder: Path | None) -> None:
    """Remove a study this run created but in which no trial completed, so that a corrected re-run (another
    space, another scoring) is not refused as a mismatch; then the storage file and folder this run created,
    if they hold nothing else. A study with a complete, running or waiting trial (another worker's) stays."""
    import optuna
    from optuna.trial import TrialState

    try:
        if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)):
            return
        optuna.delete_study(study_name=study.study_name, storage=storage)
        if file is None or file_existed or storage.get_all_studies():
            return
    except Exception:  # the cleanup must never hide the error that led to it
        return
    try:
        if isinstance(storage, optuna.storages.RDBStorage):  # SQLite: close its connections before removing it
            storage.remove_session()
            storage.engine.dispose()
        for path in (file, *(file.with_name(file.name + end) for end in ("-wal", "-shm", "-journal"))):
            path.unlink(missing_ok=True)
        if made_folder is not None and made_folder.is_dir() and not any(made_folder.iterdir()):
            made_folder.rmdir()
    except OSError:  # left behind, empty: it holds no study, so a re-run can use it
        pass


def _requeue_failed_grid_points(study: Any, grid: dict[str, list[Any]]) -> None:
    """Optuna's grid sampler counts a failed grid point as visited, so after an interrupted trial it
    would never come back. Once a trial has failed, queue every grid point that no finished, running or
    queued trial holds: the grid is still covered exactly once."""
    import itertools

    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        return
    taken = [t.params for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED,
                                                                          TrialState.WAITING, TrialState.RUNNING))]
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values, strict=True))
        if params not in taken:
            study.enqueue_trial(params)


#: Scorers suggested when a name matches none, and for a regression scorer.
CLASSIFICATION_SCORERS = "accuracy, balanced_accuracy, f1_macro, neg_log_loss"


def check_scoring(scoring: str) -> str:
    """``scoring`` if it names a scikit-learn scorer for classification; else :class:`TuningError`: an unknown
    name with the nearest names (those it begins first, then the closest spellings), a regression scorer
    (``r2``, ``neg_mean_squared_error``...: a search fits classifiers) with classification scorers."""
    import difflib

    from sklearn.metrics import get_scorer, get_scorer_names

    try:
        scorer = get_scorer(scoring)
    except ValueError as exc:
        names = sorted(get_scorer_names())
        text = str(scoring).lower()
        near = [n for n in names if n.startswith(text)] if text else []
        near += [n for n in difflib.get_close_matches(text, names, n=3) if n not in near]
        hint = f"did you mean {' or '.join(near[:3])}?" if near else f"e.g. {CLASSIFICATION_SCORERS}"
        raise TuningError(f"unknown scoring {scoring!r} ({hint}); sklearn.metrics.get_scorer_names() lists all "
                          f"{len(names)} scikit-learn scorers") from exc
    if _regression_scorer(scoring, scorer):
        raise TuningError(f"scoring {scoring!r} is a regression scorer; a classification search needs a "
                          f"classification scorer, e.g. {CLASSIFICATION_SCORERS}")
    return scoring


def _regression_scorer(name: str, scorer: Any) -> bool:
    """Whether a scikit-learn scorer scores regression (its metric lives in ``sklearn.metrics._regression``;
    by its name where a scorer does not say)."""
    module = getattr(getattr(scorer, "_score_func", None), "__module__", None)
    if isinstance(module, str):
        return module.endswith("._regression")
    return name in ("r2", "explained_variance") or name.startswith(
        ("neg_mean_", "neg_median_", "neg_root_mean_", "neg_max_error", "d2_absolute", "d2_pinball", "d2_tweedie"))


def fold_scorer(scoring: str) -> Any:
    """``scorer(model, X, y) -> float`` for a scikit-learn scorer name. Accuracy, the default, is the share
    of ``model.predict(X)`` equal to ``y``, as :func:`sklearn.metrics.accuracy_score` computes it; its
    scorer object spends about 2 ms per call on label-type and metadata checks, a tenth of a fold's fit
    and score on 400 rows. Every other name is scikit-learn's scorer."""
    from sklearn.metrics import get_scorer

    if scoring == "accuracy":
        return lambda model, X, y: float(np.mean(np.asarray(model.predict(X)) == np.asarray(y)))
    return get_scorer(scoring)


def make_objective(head: BaseEstimator, space: Space, features: np.ndarray, y: np.ndarray,
                   splits: list[tuple[np.ndarray, np.ndarray]], scoring: str,
                   interrupt: Interrupt | None = None) -> Any:
    """The Optuna objective: mean CV score of ``head`` with the trial's parameters, reported per fold.

    The pipeline steps before the first searched one are fitted once per fold, and an L2 logistic
    regression on at most half as many rows as features is fitted in the span of its rows
    (:class:`~transferkit.tuning._prefix.FoldPrefix`); a logistic-regression head starts each fold's fit
    from the earlier solutions of that fold (:class:`~transferkit.tuning._warm.WarmStarts`). Each
    reaches the same optimum as a plain fit, in less time. With ``interrupt``, Ctrl-C stops a fold's fit at
    once and nothing else mid-way (:class:`~transferkit.tuning._interrupt.Interrupt`).
    """
    import optuna

    interrupt = interrupt or Interrupt()  # not entered: it never sees a signal, and checks nothing

    scorer = fold_scorer(scoring)
    warm = WarmStarts() if warm_startable(head) else None
    fixed = FoldPrefix(head, space)

    def objective(trial: Any) -> float:
        params = {key: dim.suggest(trial, key) for key, dim in space.items()}
        # Each report and pruning question is a database round trip: none after the last fold (the
        # trial completes then anyway), none at all without a pruner.
        prunable = not isinstance(trial.study.pruner, optuna.pruners.NopPruner)
        scores: list[float] = []
        configured = fixed.split(clone(head).set_params(**params))
        for step, (tr, te) in enumerate(splits):
            model = copy.deepcopy(configured)  # unfitted: a copy is a clone, without re-reading every parameter
            with interrupt.fitting():
                X_train, X_test = fixed.transform(step, features[tr], y[tr], features[te], model)
                fold = (step, X_train.shape[1])  # warm starts only from solutions of the same width
                if warm is not None:
                    warm.prime(model, fold, params)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(X_train, y[tr])
                if warm is not None:
                    warm.remember(model, fold, params)
                scores.append(float(scorer(model, X_test, y[te])))
            if prunable and step < len(splits) - 1:
                trial.report(float(np.mean(scores)), step)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after fold {step + 1}")
        return float(np.mean(scores))

    return objective


def check_out_folder(out: Path) -> None:
    """Refuse, before any work, an ``out`` that is a file or lies under one (no folder can be made there)."""
    blocker = out if out.exists() and not out.is_dir() else file_in_the_way(out)
    if blocker is not None:
        raise TuningError(f"cannot use {str(out)!r} as the output folder: {str(blocker)!r} is a file, not a folder")


def tune(
    X: Any,
    y: Any,
    *,
    backbone: str = "minilm-l6",
    head: str | BaseEstimator = "logistic",
    space: dict[str, Any] | None = None,
    n_trials: int = 20,
    sampler: Any = "tpe",
    pruner: Any = "median",
    storage: str | Path | None = None,
    study_name: str | None = None,
    out: str | Path | None = None,
    cv: int = 5,
    scoring: str = "accuracy",
    image_size: int | None = None,
    max_length: int | None = None,
    batch_size: int = 64,
    cache: bool | str | Path = True,
    device: str = "auto",
    timeout: float | None = None,
    random_state: int = 0,
    verbose: int = 0,
) -> TuneResult:
    """Search the hyperparameters of a probe head on ``backbone`` features with Optuna.

    Features are extracted once (and cached); each trial fits only the head on stratified folds.
    The study persists in ``storage`` and resumes: ``n_trials`` is the number of finished (complete
    or pruned) trials the study should hold, so running the same call again after an interruption
    runs only the missing trials and never repeats finished ones. A run tries as many trials as are
    missing when it starts; a trial that fails (an error of its configuration) uses up its try in that
    run, as in Optuna, but is not finished, so the next run of the same call replaces it.

    Parameters
    ----------
    X, y : images, texts or a feature table, and their labels.
    backbone : str, default="minilm-l6"
    head : str or estimator, default="logistic"
        A preset (``logistic``, ``pca-logistic``, ``mlp``; see :data:`HEADS`) or any classifier with
        ``predict_proba``.
    space : dict, optional
        Parameter path of the head -> :class:`Float`, :class:`Int`, :class:`Categorical` or their JSON
        form (a list of choices, or ``{"low": .., "high": .., "log": true}``). Default: the preset's.
    n_trials : int, default=20
        Finished trials the study should hold, an integer >= 1 (the grid sampler stops when the grid is
        covered).
    sampler : {"tpe", "random", "grid"} or optuna sampler, default="tpe"
    pruner : {"median", "halving", "none"} or optuna pruner, default="median"
        Pruning uses the running mean score after each fold.
    storage : str or path, optional
        A journal file path (``study.journal``: Optuna's append-only ``JournalStorage``), a SQLite file
        path (any other suffix), or an Optuna storage URL (``sqlite:///study.db``, ``postgresql://...``,
        ``journal:///abs/path.journal``: a journal URL always names an absolute path). Default:
        ``out/study.db`` when ``out`` is given, else in memory (not resumable). An in-memory SQLite URL
        (``sqlite://``, ``sqlite:///:memory:``) is refused: leave ``storage`` None for an in-memory study. A journal makes each trial about a fifth cheaper (no SQL round trips)
        and can be shared by processes on one machine; a database URL by several machines.
    study_name : str, optional
        Default ``"<backbone>-<head>"``. The same name in the same storage resumes that study.
    out : path, optional
        Folder for the default SQLite storage (created if missing).
    cv : int, default=5
        Stratified folds (fewer when a class is smaller).
    scoring : str, default="accuracy"
        A scikit-learn scorer name (``balanced_accuracy``, ``f1_macro``, ``neg_log_loss``...).
    image_size, max_length, batch_size, cache, device : feature extraction settings, as in
        :class:`~transferkit.FeatureExtractor`.
    timeout : float, optional
        Stop starting new trials after this many seconds.
    random_state : int, default=0
        Seeds the folds and the sampler.
    verbose : int, default=0
        1 prints one line per trial and shows extraction progress.

    Returns
    -------
    TuneResult

    Examples
    --------
    >>> import numpy as np
    >>> from transferkit.tuning import tune
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(60, 4)), np.repeat(["a", "b"], 30)
    >>> X[y == "b"] += 1.5
    >>> result = tune(X, y, backbone="tiny-mlp", n_trials=4, sampler="random", cv=3, cache=False)
    >>> sorted(result.best_params), result.counts()["complete"] + result.counts().get("pruned", 0)
    (['logisticregression__C', 'logisticregression__class_weight'], 4)
    """
    import optuna

    from ..backbones import backbone_modality
    from ..estimators._classifier import check_targets
    from ..features import FeatureExtractor

    # --- every check before any work: names, space, scorer, storage, study ---------------------------
    from ..strategies._base import Number

    modality = backbone_modality(backbone)
    trials_rule = Number(low=1, integer=True)
    if not trials_rule.accepts(n_trials):  # 2.5 trials would silently run 3; True is not a count
        shown = n_trials.item() if isinstance(n_trials, np.generic) else n_trials
        raise TuningError(f"n_trials must be {trials_rule.describe()}, got {shown!r}")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                or not 0 < timeout < math.inf):  # NaN fails too
        raise TuningError(f"timeout must be a positive, finite number of seconds, got {timeout!r}")
    check_folds(cv, error=TuningError)
    head_name = head if isinstance(head, str) else None
    template = make_head(head) if isinstance(head, str) else head
    if not hasattr(template, "predict_proba"):
        raise TuningError(f"the head {type(template).__name__} has no predict_proba")
    if space is None:
        space = default_space(head_name) if head_name else _no_space(template)
    parsed = check_space(space, template)
    check_scoring(scoring)
    chosen_pruner = _pruner(pruner)
    _sampler(sampler, parsed, random_state)  # the name check
    y = check_targets(y, len(X))
    splits = _splits(y, cv, random_state)
    if out is not None:
        check_out_folder(Path(out))
    url = storage_url(storage, out)
    file = storage_file(url)  # a study file named inside OUT: OUT is created for it
    made_folder = None
    if out is not None and file is not None and file.resolve().parent == Path(out).resolve():
        made_folder = None if Path(out).exists() else Path(out)
        Path(out).mkdir(parents=True, exist_ok=True)
    file_existed = file is not None and file.exists()
    backing = open_storage(url)
    name = study_name or f"{backbone}-{head_name or type(template).__name__}"
    fingerprint = data_fingerprint(X, y, modality)
    expected = {"backbone": backbone, "image_size": image_size, "max_length": max_length,
                "head": head_name or repr(template), "space": space_to_dict(parsed), "scoring": scoring,
                "cv_folds": len(splits), "cv_seed": random_state, "data": fingerprint}
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose > 1 else optuna.logging.ERROR)
    new_study = not _study_exists(backing, name)
    study = None
    try:
        try:
            study = optuna.create_study(storage=backing, study_name=name, direction="maximize",
                                        load_if_exists=True, pruner=chosen_pruner)
        except Exception as exc:
            raise TuningError(f"cannot open study {name!r} in {display_url(url or 'memory')!r}: {exc}") from exc
        check_study_matches(study, expected, url)
        fail_stale(study, backing)

        # --- features: one extraction pass (or cache reads) ---------------------------------------
        t0 = time.perf_counter()
        extractor = FeatureExtractor(backbone=backbone, image_size=image_size, max_length=max_length,
                                     batch_size=batch_size, cache=cache, device=device, progress=verbose > 0,
                                     random_state=random_state)
        features = extractor.fit(X).transform(X)
        extract_seconds = time.perf_counter() - t0

        # --- trials still to run ------------------------------------------------------------------
        target = n_trials
        if sampler == "grid":
            target = min(n_trials, grid_size(space_grid(parsed)))
            _requeue_failed_grid_points(study, space_grid(parsed))
        remaining = max(0, target - len(finished_trials(study)))
        # Random and TPE draw afresh on resume (a new seed: random_state + the number of the first trial they
        # sample); the grid keeps its seed, as it numbers its points.
        study.sampler = _sampler(sampler, parsed, random_state)
        interrupt = Interrupt()
        objective = make_objective(template, parsed, features, y, splits, scoring, interrupt)
        ran: list[int] = []  # this process's trials (the study's count includes other workers')
        callbacks = [_stop_at(target, ran)]
        callbacks += [_print_trial] if verbose else []
        callbacks += [interrupt.after_trial]  # last: the trial is stored and counted
        t1 = time.perf_counter()
        if remaining:
            with one_blas_thread(), interrupt:
                study.optimize(recording_worker(_recording_failures(objective), backing), n_trials=remaining,
                               timeout=timeout, catch=TRIAL_ERRORS, callbacks=callbacks)
        search_seconds = time.perf_counter() - t1
    except BaseException:
        if new_study and study is not None:
            _discard_new_study(study, backing, file, file_existed, made_folder)
        release_storage(backing)
        raise
    finally:
        optuna.logging.set_verbosity(verbosity)
    try:
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if not complete:
            failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
            reason = (failed[-1].user_attrs.get(FAIL_REASON_ATTR) or "no reason recorded") if failed \
                else "every trial was pruned"
            kept = "" if new_study else f" (the study stays in {display_url(url or 'memory')!r})"
            if new_study:
                _discard_new_study(study, backing, file, file_existed, made_folder)
            if remaining and not ran and timeout is not None:  # Optuna checks the timeout before each trial
                raise TuningError(f"no trial of study {name!r} ran: timeout={timeout:g} (seconds) ended the "
                                  f"search before its first trial could start; allow more time{kept}")
            raise TuningError(f"no trial of study {name!r} completed; last failure: {reason}{kept}")
        return TuneResult(
            study=study, backbone_params={"backbone": backbone, "image_size": image_size, "max_length": max_length,
                                          "batch_size": batch_size, "cache": cache, "device": device,
                                          "random_state": random_state},
            head_name=head_name, head=template, space=parsed, scoring=scoring, cv=len(splits),
            storage=display_url(url) if url else "memory", n_samples=len(y), n_features=int(features.shape[1]),
            extract_seconds=extract_seconds, search_seconds=search_seconds, trials_run=len(ran),
            fingerprint=fingerprint, notes=folds_note(y, cv, len(splits)),
        )
    finally:  # the study file complete on its own (no trial left in study.db-wal), its connections closed
        release_storage(backing)


def _no_space(template: BaseEstimator) -> dict[str, Any]:
    raise TuningError(f"a custom head ({type(template).__name__}) needs an explicit search space; presets with "
                      f"default spaces: {', '.join(HEADS)}")


def _print_trial(study: Any, trial: Any) -> None:
    value = "" if trial.value is None else f"{trial.value:.4f}"
    params = ", ".join(f"{k.split('__')[-1]}={v:.4g}" if isinstance(v, float) else f"{k.split('__')[-1]}={v}"
                       for k, v in trial.params.items())
    print(f"  trial {trial.number:>3} {trial.state.name.lower():<8} {value:>7}  {params}", flush=True)
