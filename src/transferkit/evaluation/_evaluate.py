"""Evaluate transfer models against the no-transfer baseline on the same splits."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

from .._blas import one_blas_thread
from ..data._images import item_positions
from ..data._validation import check_folds, shown_modality
from ..errors import DataError, TransferkitError
from ._baselines import BASELINE_DESCRIPTIONS, make_baseline
from ._metrics import (
    classification_metrics,
    clip_gain_interval,
    corrected_resampled_ci,
    described_interval,
    mean_ci,
    paired_bootstrap_ci,
    signed_points,
)
from ._probabilistic import align_proba, probability_metrics

BASELINE = "no-transfer baseline"


@dataclass
class ModelResult:
    """Scores of one model over all splits."""

    name: str
    description: str
    folds: list[dict[str, Any]] = field(default_factory=list)
    pooled: dict[str, Any] = field(default_factory=dict)
    fit_seconds: list[float] = field(default_factory=list)
    predict_seconds: list[float] = field(default_factory=list)
    history: list[dict[str, float]] | None = None
    is_baseline: bool = False
    #: From pooled out-of-fold probabilities (models with ``predict_proba``): ``calibration``
    #: (reliability bins, ECE) and, for binary tasks, ``binary`` (ROC and PR curves, AUC, AP).
    probabilities: dict[str, Any] = field(default_factory=dict)

    def mean(self, metric: str) -> float:
        return float(np.mean([f[metric] for f in self.folds]))

    def std(self, metric: str) -> float:
        return float(np.std([f[metric] for f in self.folds], ddof=1)) if len(self.folds) > 1 else 0.0


@dataclass
class Gain:
    """Difference model - baseline in one metric, with a 95% interval."""

    metric: str
    mean: float
    low: float
    high: float
    method: str

    @property
    def verdict(self) -> str:
        if self.low > 0:
            return "positive"
        if self.high < 0:
            return "negative"
        return "inconclusive"


@dataclass
class EvaluationResult:
    """Everything an evaluation measured; :mod:`transferkit.evaluation.report` renders it."""

    modality: str
    classes: list[Any]
    scheme: str
    n_samples: int
    class_counts: dict[str, int]
    models: dict[str, ModelResult]
    gains: dict[str, dict[str, Gain]]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    #: Folds per repetition and repetitions of cross-validation (0 and 1 for a held-out test set).
    n_splits: int = 0
    repeats: int = 1
    #: Models fitted on the last split, by name (only with ``keep_models=True``; not serialised).
    fitted: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def baseline(self) -> ModelResult:
        return self.models[BASELINE]

    def transfer_models(self) -> list[ModelResult]:
        return [m for m in self.models.values() if not m.is_baseline]

    def best_model(self) -> ModelResult:
        """The transfer model of highest accuracy as :meth:`table` shows it (the mean over splits)."""
        return max(self.transfer_models(), key=lambda m: m.mean("accuracy"))

    def verdict(self, name: str | None = None) -> str:
        """One plain sentence on transfer vs the baseline (negative transfer said as such)."""
        name = name or self.best_model().name
        if name not in self.gains:
            raise DataError(f"no compared model is named {name!r}; the models are: {', '.join(map(repr, self.gains))}")
        g = self.gains[name]["accuracy"]
        pts = (f"{signed_points(g.mean)} accuracy points (95% CI {signed_points(g.low)} to {signed_points(g.high)}, "
               f"{g.method})")
        if g.verdict == "positive":
            return f"Transfer helps: {name} beats the no-transfer baseline by {pts}."
        if g.verdict == "negative":
            return (f"Negative transfer: {name} is worse than the no-transfer baseline, {pts}. "
                    "Prefer the baseline or another backbone.")
        return f"No clear difference: {name} vs the no-transfer baseline is {pts}; the interval includes zero."

    def table(self) -> list[dict[str, Any]]:
        """One row per model: accuracy, macro F1/precision/recall as **means over the splits** (over the
        folds of cross-validation; a held-out test set is one split, so its scores), the std of the accuracy
        over folds, and the gain over the baseline with its interval. The gain is the mean of the paired
        per-split differences, so it equals the difference of the shown means (as ``transferkit ensemble``
        shows them). Scores pooled over all out-of-fold predictions are in ``models[name].pooled``; the
        per-class tables, confusion matrices, curves and calibration use those."""
        rows = []
        for m in self.models.values():
            row = {"model": m.name, "accuracy": m.mean("accuracy"), "macro_f1": m.mean("macro_f1"),
                   "macro_precision": m.mean("macro_precision"), "macro_recall": m.mean("macro_recall"),
                   "accuracy_std": m.std("accuracy"), "fit_seconds": float(np.sum(m.fit_seconds)),
                   "predict_seconds": float(np.sum(m.predict_seconds))}
            if not m.is_baseline:
                g = self.gains[m.name]["accuracy"]
                row.update(gain=g.mean, gain_low=g.low, gain_high=g.high, verdict=g.verdict)
            if "calibration" in m.probabilities:
                row["ece"] = m.probabilities["calibration"]["ece"]
            if "binary" in m.probabilities:
                row.update(roc_auc=m.probabilities["binary"]["roc_auc"],
                           average_precision=m.probabilities["binary"]["average_precision"])
            rows.append(row)
        return rows

    def per_class_table(self) -> list[dict[str, Any]]:
        """One row per class: its support and each model's pooled precision, recall and F1
        (columns ``<model> precision`` etc.), to compare models class by class."""
        rows = []
        for i, label in enumerate(self.classes):
            row: dict[str, Any] = {"class": label, "support": self.baseline.pooled["per_class"][i]["support"]}
            for m in self.models.values():
                cell = m.pooled["per_class"][i]
                row.update({f"{m.name} {k}": cell[k] for k in ("precision", "recall", "f1")})
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        """Everything measured, plus ``table``: the rows of :meth:`table` (what the report and the console
        show: means over splits)."""
        fitted, self.fitted = self.fitted, {}
        try:
            return _plain({**asdict(self), "table": self.table()})
        finally:
            self.fitted = fitted


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _splits(y: np.ndarray, cv: int, seed: int, repeats: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds; with ``repeats > 1``, ``repeats`` differently shuffled rounds of them."""
    labels, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        raise DataError(f"class {_plain(labels[counts.argmin()])!r} has only {counts.min()} example; cross-validation "
                        "needs at least 2 per class")
    k = min(cv, int(counts.min()))
    if repeats > 1:
        splitter: Any = RepeatedStratifiedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
    else:
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def folds_note(y: np.ndarray, cv: int, folds: int) -> list[str]:
    """A note when stratified cross-validation runs fewer folds than asked (each fold needs an example of
    every class); none otherwise."""
    if folds >= cv:
        return []
    labels, counts = np.unique(y, return_counts=True)
    return [f"cv={cv} lowered to {folds} folds: the smallest class ({str(labels[counts.argmin()])!r}) has "
            f"{int(counts.min())} examples, and each fold needs one of every class"]


def _take(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of ``X`` by position (a DataFrame keeps its column names)."""
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    return X[idx] if isinstance(X, np.ndarray) else [X[i] for i in idx]


def _rows_of(positions: np.ndarray | None, of: str | None = None) -> contextlib.AbstractContextManager[None]:
    """A block in which errors about an item of a split (an unreadable image, an empty text, a NaN cell) name
    the item's row of the data passed (``positions``), not its place in the split; None: the split is the data
    itself. ``of`` names other data than ``X`` (``"the test set"``), which messages then name too."""
    return contextlib.nullcontext() if positions is None else item_positions(positions.tolist(), of=of)


def _check_rows(rows: Any, n_train: int, n_test: int) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` as two integer arrays, one row per item of the training data and of the test set."""
    if not isinstance(rows, tuple | list) or len(rows) != 2:
        raise DataError("rows must be a pair (rows of X, rows of the test set)")
    train, test = (np.asarray(r) for r in rows)
    for part, n, what in ((train, n_train, "X"), (test, n_test, "the test set")):
        if part.shape != (n,) or (n and part.dtype.kind not in "iu"):
            raise DataError(f"rows must hold one integer row per item of {what} ({n}), got {part.dtype} values of "
                            f"shape {part.shape}")
    return train, test


def _positional(X: Any) -> Any:
    """``X`` with rows addressed by position: a pandas Series (texts, image paths) as an array, since its
    index labels need not be 0..n-1 (a shuffled column); a DataFrame stays one (its names are the columns)."""
    return X.to_numpy() if hasattr(X, "iloc") and getattr(X, "ndim", 2) == 1 else X


def _check_models(models: Any) -> dict[str, BaseEstimator]:
    """``models`` as a dict of name -> estimator, or a DataError naming what is wrong."""
    if isinstance(models, BaseEstimator):
        return {_describe(models): models}
    if not isinstance(models, Mapping):
        raise DataError(f"models must be an estimator or a mapping of names to estimators (e.g. {{'probe': clf}}), "
                        f"got a {type(models).__name__}")
    models = dict(models)
    if not models:
        raise DataError("no model to evaluate")
    for name, est in models.items():
        if not (hasattr(est, "fit") and hasattr(est, "predict")):
            raise DataError(f"model {name!r} is {est!r}, not an estimator with fit and predict (a strategy name goes "
                            "in TransferClassifier(strategy=...))")
    if BASELINE in models:
        raise DataError(f"the name {BASELINE!r} is the baseline's, which evaluate adds itself: name your model "
                        "otherwise (your own baseline goes in baseline=)")
    return models


def _data_modality(models: Mapping[str, Any], X: Any) -> str:
    """The modality of the no-transfer baseline: the first a model declares, else the one ``X`` shows, else a
    table (scikit-learn then says what it refuses)."""
    for est in models.values():
        declared = getattr(est, "modality", None)
        if declared in ("image", "text", "table"):
            return str(declared)
    return shown_modality(X) or "table"


def _as_pixels(X: Any, Xt: Any) -> tuple[Any, Any]:
    """Float image arrays as ``uint8`` pixels, the 0..1 or 0..255 scale decided once for the training and the
    test images together when both are float arrays of one image shape (a held-out set of dark images is
    not read as 0..1 while the training images are 0..255); anything else as it is."""
    from ..data._images import image_array_to_uint8

    def is_float(a: Any) -> bool:
        return isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.ndim in (3, 4)

    if is_float(X) and is_float(Xt) and X.shape[1:] == Xt.shape[1:]:
        both = image_array_to_uint8(np.concatenate([X, Xt]))
        return both[: len(X)], both[len(X):]
    return (image_array_to_uint8(X) if is_float(X) else X), (image_array_to_uint8(Xt) if is_float(Xt) else Xt)


def _check_test(test: Any) -> tuple[Any, np.ndarray]:
    """The held-out ``(X, y)`` with one label per row, none missing, at least one row; before any fit."""
    from ..data._validation import format_positions, missing_positions

    if not isinstance(test, tuple | list) or len(test) != 2:
        raise DataError("test must be a pair (X_test, y_test)")
    Xt, yt = _positional(test[0]), np.asarray(test[1])
    if yt.ndim == 2 and yt.shape[1] == 1:
        yt = yt.ravel()
    if yt.ndim != 1:
        raise DataError(f"the test labels must be one column, got an array of shape {yt.shape}")
    if len(yt) != len(Xt):
        raise DataError(f"the test set has {len(Xt)} rows but {len(yt)} labels: they must have the same length")
    if not len(yt):
        raise DataError("the test set is empty")
    missing = missing_positions(yt)
    if missing:
        raise DataError(f"the test labels are missing at {format_positions(missing)}")
    return Xt, yt


def _macro_f1_from_indices(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    tp = np.bincount(y_true[y_true == y_pred], minlength=k).astype(float)
    fp = np.bincount(y_pred, minlength=k) - tp
    fn = np.bincount(y_true, minlength=k) - tp
    denom = 2 * tp + fp + fn
    return float(np.mean(np.divide(2 * tp, denom, out=np.zeros(k), where=denom > 0)))


def _bootstrap_f1_gain(y: np.ndarray, pa: np.ndarray, pb: np.ndarray, k: int, seed: int, n_boot: int = 1000) -> Gain:
    rng = np.random.default_rng(seed)
    base = _macro_f1_from_indices(y, pa, k) - _macro_f1_from_indices(y, pb, k)
    boots = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        boots.append(_macro_f1_from_indices(y[i], pa[i], k) - _macro_f1_from_indices(y[i], pb[i], k))
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return Gain("macro_f1", base, float(lo), float(hi), "paired bootstrap over test items")


def _fit_named(model: Any, X: Any, y: Any, name: str) -> None:
    """``model.fit(X, y)``; an error says which of the compared models failed, in the same error class, so
    callers catch it as before (a scikit-learn or user estimator's error also names its class: ``'svm'
    failed to fit: ValueError: ...``)."""
    try:
        model.fit(X, y)
    except Exception as exc:
        if f"{name!r}" in str(exc):
            raise
        cause = str(exc) if isinstance(exc, TransferkitError) else f"{type(exc).__name__}: {exc}"
        try:
            named = type(exc)(f"{name!r} failed to fit: {cause}")
        except Exception:  # an error class that takes more than a message
            exc.add_note(f"(while fitting {name!r})")
            raise
        raise named from exc


def _check_test_classes(y: np.ndarray, yt: Any) -> None:
    """Refuse test labels that are no training class: no model trained on ``y`` can predict them, so they
    would only be counted as errors (and listed as a class) without a word."""
    known = set(np.unique(y).tolist())
    extra = [v for v in dict.fromkeys(np.asarray(yt, dtype=object).tolist()) if v not in known]
    if extra:
        shown = ", ".join(repr(_plain(v)) for v in extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        classes = ", ".join(repr(_plain(c)) for c in sorted(known, key=str)[:10])
        raise DataError(f"the test set has labels that are no class of the training data: {shown}; a model trained "
                        f"on it predicts only {classes} (drop those test rows or add training examples of them)")


def evaluate(
    models: BaseEstimator | Mapping[str, BaseEstimator],
    X: Any,
    y: Any,
    *,
    cv: int = 5,
    repeats: int = 1,
    test: tuple[Any, Any] | None = None,
    baseline: BaseEstimator | None = None,
    modality: str | None = None,
    random_state: int = 0,
    verbose: int = 0,
    keep_models: bool = False,
    rows: tuple[Any, Any] | None = None,
) -> EvaluationResult:
    """Score transfer models and the no-transfer baseline on the same splits.

    Parameters
    ----------
    models : estimator or dict of name -> estimator
        Unfitted classifiers (cloned per split).
    X, y : training data (images, texts or a feature table) and labels.
    cv : int, default=5
        Stratified folds when ``test`` is None (reduced to the smallest class size when needed).
    repeats : int, default=1
        Repetitions of the stratified ``cv``-fold split, each shuffled with a different seed drawn
        from ``random_state`` (:class:`~sklearn.model_selection.RepeatedStratifiedKFold`). With more
        than one, the gains' intervals use the corrected resampled t-test
        (:func:`corrected_resampled_ci`) over all ``cv * repeats`` splits.
    test : (X_test, y_test), optional
        Use this held-out set instead of cross-validation (one split: ``repeats`` must be 1). A message
        about a bad item of it names it as such ("item 2 of the test set").
    baseline : estimator, optional
        Defaults to :func:`make_baseline` for the modality.
    modality : str, optional
        Defaults to the first model's backbone modality.
    keep_models : bool, default=False
        Keep the models fitted on the last split in ``result.fitted`` (for a single train/test split,
        the model whose test scores are reported).
    rows : (train_rows, test_rows), optional
        With ``test``: the rows of one data set that ``X`` and the test set were split from (as
        :func:`transferkit.workflows.fit_to_folder` holds a part out), so that a message about a bad item
        names its row of that data rather than its place in ``X`` or in the test set.

    Returns
    -------
    EvaluationResult
        Per-model fold and pooled metrics, and each model's gain over the baseline with a 95% CI
        (Student-t over folds; the corrected resampled t over folds x repeats; or a paired bootstrap
        over test items for a single split). Models with ``predict_proba`` also get calibration
        (reliability bins, ECE) and, for binary tasks, ROC and precision-recall curves from the pooled
        out-of-fold probabilities; their hard predictions are then the most probable class.
    """
    start = time.perf_counter()
    models = _check_models(models)
    if isinstance(repeats, bool) or not isinstance(repeats, int | np.integer) or repeats < 1:
        raise DataError(f"repeats must be a positive integer, got {repeats!r}")
    if test is None:
        check_folds(cv)
    if rows is not None and test is None:
        raise DataError("rows name where X and the test set sit in one data set: pass them with test=")
    if test is not None and repeats > 1:
        raise DataError(f"repeats={repeats} needs cross-validation; a held-out test set is a single split "
                        "(drop the test set or use repeats=1)")
    from ..estimators._classifier import check_targets

    X = _positional(X)
    y = check_targets(y, len(X))
    if test is not None:
        test = _check_test(test)
        _check_test_classes(y, test[1])
        if rows is not None:
            rows = _check_rows(rows, len(y), len(test[1]))
    modality = modality or _data_modality(models, X)
    if modality == "image":  # float pixels: one 0..1 or 0..255 scale for all the data, not one per split
        X, Xt = _as_pixels(X, None if test is None else test[0])
        test = None if test is None else (Xt, test[1])
    classes = list(np.unique(y))  # the test labels are training classes (checked)
    all_models = {**models, BASELINE: baseline if baseline is not None else make_baseline(modality, random_state=random_state)}
    notes: list[str] = []
    if test is None:
        folds = _splits(y, cv, random_state, repeats)
        splits = [(_take(X, tr), y[tr], _take(X, te), y[te]) for tr, te in folds]
        indices: list[tuple[np.ndarray | None, np.ndarray | None]] = list(folds)  # rows of X in each split
        test_set = None  # the test parts are rows of X
        n_splits = len(splits) // repeats
        notes += folds_note(y, cv, n_splits)  # say so rather than quietly run fewer folds
        scheme = f"{n_splits}-fold stratified cross-validation"
        if repeats > 1:
            scheme += f" repeated {repeats} times ({len(splits)} splits)"
    else:
        Xt, yt = test
        splits = [(X, y, Xt, yt)]
        # the training data and the test set as passed, or their rows of the data they were split from
        indices = [rows if rows is not None else (None, np.arange(len(yt)))]
        test_set = "the test set" if rows is None else None
        n_splits = 0
        scheme = f"train ({len(y)}) / held-out test ({len(yt)})"
    results = {name: ModelResult(name, BASELINE_DESCRIPTIONS.get(modality, "") if name == BASELINE else _describe(est),
                                 is_baseline=name == BASELINE) for name, est in all_models.items()}
    preds: dict[str, list[np.ndarray]] = {n: [] for n in all_models}
    probas: dict[str, list[np.ndarray] | None] = {n: [] for n in all_models}
    fitted: dict[str, Any] = {}
    truths: list[np.ndarray] = []
    for fold, ((Xtr, ytr, Xte, yte), (tr, te)) in enumerate(zip(splits, indices, strict=True)):
        truths.append(np.asarray(yte))
        for name, est in all_models.items():
            if verbose:
                print(f"  split {fold + 1}/{len(splits)}: {name}", flush=True)
            model = clone(est)
            with one_blas_thread():  # scikit-learn heads and baselines (see transferkit._blas); torch keeps its threads
                t0 = time.perf_counter()
                with _rows_of(tr):  # a bad image, text or cell is named by its row of X, not of the fold
                    _fit_named(model, Xtr, ytr, name)
                t1 = time.perf_counter()
                with _rows_of(te, test_set):
                    pred, proba = _predict(model, Xte, classes)
                t2 = time.perf_counter()
            r = results[name]
            r.fit_seconds.append(t1 - t0)
            r.predict_seconds.append(t2 - t1)
            r.folds.append(classification_metrics(yte, pred, classes))
            hist = getattr(getattr(model, "model_", None), "history", None)
            if hist is not None:
                r.history = hist.epochs
            preds[name].append(np.asarray(pred))
            pooled_proba = probas[name]
            if proba is None or pooled_proba is None:
                probas[name] = None
            else:
                pooled_proba.append(proba)
            if keep_models:
                fitted[name] = model
    y_all = np.concatenate(truths)
    for name, r in results.items():
        r.pooled = classification_metrics(y_all, np.concatenate(preds[name]), classes)
        pooled_proba = probas[name]
        if pooled_proba:
            r.probabilities = _plain(probability_metrics(y_all, np.concatenate(pooled_proba), classes))
    sizes = (float(np.mean([len(s[1]) for s in splits])), float(np.mean([len(s[3]) for s in splits])))
    gains = {name: _gains(results[name], results[BASELINE], y_all, np.concatenate(preds[name]),
                          np.concatenate(preds[BASELINE]), classes, random_state, repeats, sizes)
             for name in models}
    labels, counts = np.unique(np.asarray(y), return_counts=True)
    return EvaluationResult(
        modality=modality, classes=[_plain(c) for c in classes], scheme=scheme, n_samples=len(y),
        class_counts={str(lab): int(c) for lab, c in zip(labels, counts, strict=True)}, models=results, gains=gains,
        seconds=time.perf_counter() - start, fitted=fitted, n_splits=n_splits, repeats=repeats, notes=notes,
    )


def _predict(model: Any, X: Any, classes: list[Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """Hard predictions and, where the model has ``predict_proba``, probabilities in ``classes`` order
    (one pass: the prediction is the most probable class, as ``predict`` of most classifiers)."""
    model_classes = getattr(model, "classes_", None)
    if not hasattr(model, "predict_proba") or model_classes is None:
        return np.asarray(model.predict(X)), None
    try:
        raw = np.asarray(model.predict_proba(X), dtype=float)
    except (AttributeError, NotImplementedError):  # e.g. a wrapper around hard voting: labels only
        return np.asarray(model.predict(X)), None
    return np.asarray(model_classes)[raw.argmax(axis=1)], align_proba(raw, list(model_classes), classes)


def _gains(model: ModelResult, base: ModelResult, y: np.ndarray, pm: np.ndarray, pb: np.ndarray,
           classes: list[Any], seed: int, repeats: int = 1, sizes: tuple[float, float] = (0.0, 0.0)) -> dict[str, Gain]:
    if len(model.folds) >= 2:
        out = {}
        for metric in ("accuracy", "macro_f1"):
            d = [a[metric] - b[metric] for a, b in zip(model.folds, base.folds, strict=True)]
            if repeats > 1:
                m, lo, hi = corrected_resampled_ci(d, n_train=sizes[0], n_test=sizes[1])
                method = f"corrected resampled t over {len(d)} splits (Nadeau & Bengio 2003)"
            else:
                m, lo, hi = mean_ci(d)
                method = f"Student-t over {len(d)} folds"
            lo, hi, clipped = clip_gain_interval(lo, hi)  # few folds: a t interval can pass +-100 points
            out[metric] = Gain(metric, m, lo, hi, described_interval(method, clipped))
        return out
    m, lo, hi = paired_bootstrap_ci(pm == y, pb == y, seed=seed)
    index = {c: i for i, c in enumerate(classes)}
    yi, pmi, pbi = (np.array([index[v] for v in a]) for a in (y, pm, pb))
    return {"accuracy": Gain("accuracy", m, lo, hi, "paired bootstrap over test items"),
            "macro_f1": _bootstrap_f1_gain(yi, pmi, pbi, len(classes), seed)}


def _describe(est: BaseEstimator) -> str:
    backbone = getattr(est, "backbone", None)
    strategy = getattr(est, "strategy", None)
    name = type(strategy).__name__ if strategy is not None else "LinearProbe"
    return f"{backbone} + {name}" if backbone else type(est).__name__
