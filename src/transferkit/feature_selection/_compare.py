"""Compare feature-selection methods with using all features: accuracy by cross-validation and
prediction speed, timed in the same run."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array

from ..data import check_labels
from ..data._check import table_problem
from ..errors import DataError, error_cause
from ..evaluation import corrected_resampled_ci
from ..evaluation._evaluate import _plain, folds_note
from ..evaluation._metrics import GAIN_CLIPPED, clip_gain_interval, described_interval
from ..features._extractor import check_batch_size
from ._rankings import METHODS, check_method, check_non_negative
from ._selector import DEFAULT_FRACTIONS, CVFeatureSelector, candidate_sizes, check_folds, default_probe

ALL = "all features"


@dataclass
class SelectorComparison:
    """What :func:`compare_selectors` measured; ``table()`` has one row per method."""

    n_samples: int
    n_features: int
    classes: list[Any]
    scheme: str
    methods: list[str]
    #: Per model (``ALL`` and each method): one dict per outer fold with accuracy, k and predict seconds.
    folds: dict[str, list[dict[str, float]]]
    #: Per method: candidate sizes and the inner CV score of each, averaged over outer folds.
    inner_curves: dict[str, dict[str, list[float]]]
    timing_rows: int
    timing_repeats: int
    gains: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    #: Fewer folds than asked for, outside or inside (each fold needs an example of every class).
    notes: list[str] = field(default_factory=list)

    def table(self) -> list[dict[str, Any]]:
        """Per model: accuracy (mean and std over folds), features kept (median over folds), accuracy
        gain vs all features with its 95% interval, and prediction time relative to all features."""
        rows = []
        for name, folds in self.folds.items():
            acc = [f["accuracy"] for f in folds]
            ratio = float(np.median([f["predict_ratio"] for f in folds]))
            row: dict[str, Any] = {
                "method": name, "features kept": int(np.median([f["k"] for f in folds])),
                "kept range": f"{int(min(f['k'] for f in folds))}-{int(max(f['k'] for f in folds))}",
                "accuracy": float(np.mean(acc)), "accuracy_std": float(np.std(acc, ddof=1)) if len(acc) > 1 else 0.0,
                "predict_time_ratio": ratio, "predict_speedup": 1.0 / ratio if ratio > 0 else float("inf"),
                "fit_seconds": float(np.sum([f["fit_seconds"] for f in folds])),
            }
            if name in self.gains:
                g = self.gains[name]
                row.update(gain=g["mean"], gain_low=g["low"], gain_high=g["high"])
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        return _plain({**asdict(self), "table": self.table()})


def _time_predictions(models: dict[str, Any], X: np.ndarray, repeats: int) -> dict[str, float]:
    """Median seconds of ``predict`` per model; models take turns in each round, so a burst of load
    from other processes hits all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            t0 = time.perf_counter()
            model.predict(X)
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(t)) for name, t in times.items()}


def compare_selectors(
    X: Any,
    y: Any,
    *,
    methods: Sequence[str] = ("anova", "rfe", "model"),
    cv: int = 5,
    selector_cv: int = 3,
    candidates: Sequence[int] | None = None,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    shift: str | None = None,
    classifier: Any = None,
    timing_rows: int = 5000,
    timing_repeats: int = 7,
    random_state: int = 0,
    verbose: int = 0,
    feature_names: Sequence[str] | None = None,
) -> SelectorComparison:
    """Cross-validate a classifier on all features and after each selection method.

    Each outer fold fits the classifier on all features and, for every method, a pipeline
    ``CVFeatureSelector(method) -> classifier`` whose number of features is chosen by an inner
    cross-validation on the training part only (no selection leaks into the test fold). Prediction
    time is the median over ``timing_repeats`` rounds of predicting ``timing_rows`` test rows (the
    fold's test rows repeated), all models in turn in each round.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Features, e.g. from :class:`~transferkit.features.FeatureExtractor`.
    y : array of shape (n_samples,)
    methods : sequence of {"chi2", "anova", "rfe", "model"}
    cv : int, default=5
        Outer stratified folds (reduced to the smallest class size when needed).
    selector_cv, candidates, fractions, shift
        Passed to each :class:`CVFeatureSelector`.
    classifier : classifier, optional
        Default: standardised logistic regression (a linear probe).
    timing_rows, timing_repeats : int
        Size of the prediction batch that is timed, and rounds of timing.
    random_state : int, default=0
    feature_names : sequence of str, optional
        Column names for error messages (default: a DataFrame's columns).

    Returns
    -------
    SelectorComparison
        ``gains`` holds each method's accuracy gain over all features with a 95% interval from the
        corrected resampled t-test (Nadeau & Bengio 2003), since the folds share training rows.
    """
    start = time.perf_counter()
    check_folds(cv, "cv")
    check_folds(selector_cv, "selector_cv")
    check_batch_size(timing_rows, "timing_rows")  # 0 rounds gave a NaN ratio and an infinite speed-up
    check_batch_size(timing_repeats, "timing_repeats")
    methods = list(dict.fromkeys(check_method(m) for m in methods))
    if not methods:
        raise DataError("no feature-selection method given; choose from: " + ", ".join(METHODS))
    if feature_names is None and hasattr(X, "columns"):
        feature_names = [str(c) for c in X.columns]
    try:
        X = check_array(X, dtype=np.float64, input_name="X")
    except (ValueError, TypeError) as exc:  # the row and column, as CVFeatureSelector.fit names them
        raise DataError(table_problem(None, X, reset=True, dtype=np.float64)
                        or f"X cannot be read as a table: {error_cause(exc)}") from exc
    y = np.asarray(y)
    if len(y) != len(X):
        raise DataError(f"X has {len(X)} rows but y has {len(y)} labels; they must have the same length")
    candidate_sizes(X.shape[1], candidates, fractions)  # bad sizes fail before any fitting
    if "chi2" in methods and shift is None:
        check_non_negative(X, feature_names)
    check_labels(y, min_classes=1)  # strings mixed with numbers: a clear message, not np.unique's TypeError
    labels, counts = np.unique(y, return_counts=True)
    if len(labels) < 2:
        raise DataError(f"comparing selectors needs at least 2 classes; the labels hold only {labels.tolist()[0]!r}")
    if counts.min() < 2:  # each class must reach a training and a test fold
        small = [repr(lab) for lab, c in zip(labels.tolist(), counts, strict=True) if c < 2]
        which = f"class {small[0]} has" if len(small) == 1 else f"classes {', '.join(small)} have"
        raise DataError(f"{which} only 1 example; comparing selectors cross-validates, so every class needs at "
                        "least 2: add examples or drop it")
    folds_n = min(cv, int(counts.min()))
    base = classifier if classifier is not None else default_probe(random_state)
    models: dict[str, Any] = {ALL: base}
    for m in methods:
        selector = CVFeatureSelector(method=m, candidates=candidates, fractions=fractions, cv=selector_cv,
                                     shift=shift, random_state=random_state)
        models[m] = Pipeline([("select", selector), ("classify", base)])
    folds: dict[str, list[dict[str, float]]] = {name: [] for name in models}
    curves: dict[str, list[list[float]]] = {m: [] for m in methods}
    sizes: dict[str, list[int]] = {}
    n_train, n_test = [], []
    inner_splits: list[int] = []  # per outer fold: the folds that chose k in its training part
    splitter = StratifiedKFold(n_splits=folds_n, shuffle=True, random_state=random_state)
    for f, (tr, te) in enumerate(splitter.split(X, y)):
        n_train.append(len(tr))
        n_test.append(len(te))
        fitted, fit_s = {}, {}
        for name, model in models.items():
            if verbose:
                print(f"  fold {f + 1}/{folds_n}: {name}", flush=True)
            t0 = time.perf_counter()
            fitted[name] = clone(model).fit(X[tr], y[tr])
            fit_s[name] = time.perf_counter() - t0
        reps = -(-timing_rows // len(te))
        seconds = _time_predictions(fitted, np.tile(X[te], (reps, 1))[:timing_rows], timing_repeats)
        # every method's inner CV splits the same training part, so they run the same number of folds
        inner_splits.append(max(fitted[m].named_steps["select"].n_splits_ for m in methods))
        for name, model in fitted.items():
            k = model.named_steps["select"].k_ if name != ALL else X.shape[1]
            folds[name].append({"accuracy": float(np.mean(model.predict(X[te]) == y[te])), "k": int(k),
                                "predict_seconds": seconds[name], "predict_ratio": seconds[name] / seconds[ALL],
                                "fit_seconds": fit_s[name]})
            if name != ALL:
                res = model.named_steps["select"].cv_results_
                sizes[name] = res["n_features"]
                curves[name].append(res["mean_score"])
    gains, clipped = {}, []
    for m in methods:
        d = [a["accuracy"] - b["accuracy"] for a, b in zip(folds[m], folds[ALL], strict=True)]
        mean, low, high = corrected_resampled_ci(d, n_train=float(np.mean(n_train)), n_test=float(np.mean(n_test)))
        low, high, cut = clip_gain_interval(low, high)  # few folds: a t interval can pass +-100 points
        gains[m] = {"mean": mean, "low": low, "high": high,
                    "method": described_interval(f"corrected resampled t over {len(d)} folds (Nadeau & Bengio 2003)",
                                                 cut)}
        if cut:
            clipped.append(m)
    return SelectorComparison(
        n_samples=len(y), n_features=X.shape[1], classes=[_plain(c) for c in labels],
        scheme=f"{folds_n}-fold stratified cross-validation; {_inner_scheme(inner_splits)}", methods=methods,
        folds=folds,
        inner_curves={m: {"n_features": [float(s) for s in sizes[m]],
                          "mean_score": np.mean(curves[m], axis=0).tolist()} for m in methods},
        timing_rows=timing_rows, timing_repeats=timing_repeats, gains=gains,
        seconds=time.perf_counter() - start, info={"shift": shift},
        notes=folds_note(y, cv, folds_n) + _inner_folds_note(selector_cv, inner_splits) + _clipped_note(clipped),
    )


def _inner_scheme(used: list[int]) -> str:
    """How k was chosen, with the inner folds that ran (``used``: one count per outer fold's training part;
    0 where a single candidate size left nothing to choose)."""
    ran = [n for n in used if n > 0]
    if not ran:
        return "a single candidate number of features, so no inner CV"
    lo, hi = min(ran), max(ran)
    folds = f"{lo}-fold" if lo == hi else f"{lo}- to {hi}-fold"
    return f"k chosen by {folds} CV inside each training part"


def _inner_folds_note(selector_cv: int, used: list[int]) -> list[str]:
    """A note when the inner CV that chooses k ran fewer folds than ``selector_cv`` in some training part
    (``used``: one count per outer fold's training part)."""
    lowered = [n for n in used if 0 < n < selector_cv]
    if not lowered:
        return []
    return [f"selector_cv={selector_cv} lowered to {min(lowered)} folds inside {len(lowered)} of {len(used)} "
            "training parts: a class there has fewer examples than that, and each fold needs one of every class"]


def _clipped_note(methods: list[str]) -> list[str]:
    """A note naming the methods whose gain interval :func:`clip_gain_interval` cut."""
    if not methods:
        return []
    several = len(methods) > 1
    return [f"the gain interval{'s' if several else ''} of {', '.join(methods)} {'were' if several else 'was'} "
            f"{GAIN_CLIPPED}: with so few folds the t interval passed it"]
