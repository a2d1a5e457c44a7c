"""Multi-task fitting end to end: read a table with one label column per task, fit a
:class:`~transferkit.MultiTaskClassifier`, score each task on held-out rows against the no-transfer baseline,
and save the model folder with ``report.html`` and ``evaluation.json`` inside. ``transferkit multitask`` is a
thin layer over these functions."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .data import Dataset
from .errors import DataError
from .evaluation import BASELINE_DESCRIPTIONS, Gain, Report, classification_metrics, make_baseline
from .evaluation._metrics import format_gain, paired_bootstrap_ci, signed_points

#: How each task's gain over the baseline gets its interval (one held-out split).
GAIN_METHOD = "paired bootstrap over the task's held-out rows"


@dataclass
class TaskResult:
    """One task's scores on the held-out rows labelled for it: the multi-task model's and those of the
    no-transfer baseline fitted on the task's labelled training rows; ``gain`` is the accuracy difference
    model - baseline with its 95% interval (None when no held-out row has a label of the task)."""

    task: str
    n_train: int
    n_heldout: int
    accuracy: float
    macro_f1: float
    baseline_accuracy: float
    baseline_macro_f1: float
    gain: Gain | None
    #: Held-out labels of the task that no training row has: the model cannot predict them.
    unseen_classes: list[Any] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """``positive`` (transfer beats the baseline), ``negative``, ``inconclusive``, or ``unscored``."""
        return "unscored" if self.gain is None else self.gain.verdict

    @property
    def beats_baseline(self) -> bool:
        """Whether the model beats the baseline on this task beyond chance (the gain's interval is above 0)."""
        return self.verdict == "positive"

    def sentence(self) -> str:
        """The verdict in one plain sentence."""
        if self.gain is None:
            return f"Task {self.task!r}: no held-out row has its label, so it was not scored."
        g = self.gain
        pts = f"{signed_points(g.mean)} accuracy points (95% CI {signed_points(g.low)} to {signed_points(g.high)})"
        if g.verdict == "positive":
            return f"Task {self.task!r}: transfer helps; the multi-task model beats the no-transfer baseline by {pts}."
        if g.verdict == "negative":
            return (f"Task {self.task!r}: negative transfer; the multi-task model is worse than the no-transfer "
                    f"baseline, {pts}.")
        return f"Task {self.task!r}: no clear difference from the no-transfer baseline, {pts}."

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["gain"] = None if self.gain is None else asdict(self.gain)
        out["verdict"], out["beats_baseline"] = self.verdict, self.beats_baseline
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


@dataclass
class MultiTaskFitOutcome:
    """What :func:`fit_multitask_to_folder` did: the fitted estimator, the model folder, and each task's
    held-out result by name (None with ``holdout=0``)."""

    estimator: Any
    folder: Path
    results: dict[str, TaskResult] | None
    notes: list[str] = field(default_factory=list)


def check_tasks(tasks: Sequence[Any]) -> list[str]:
    """The task names as strings: two or more, none empty, none twice; else a :class:`DataError` naming
    the problem (one task is an ordinary classifier's job: ``transferkit fit``)."""
    names = [str(t) for t in tasks]
    empty = [n for n in names if not n.strip()]
    if empty:
        raise DataError("an empty name names no task column")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DataError(f"task {twice[0]!r} is named twice; name each task column once")
    if len(names) < 2:
        one = f" ({names[0]!r})" if names else ""
        hint = f" --label-column {names[0]}" if names else ""
        raise DataError(f"one task{one}: a multi-task model needs two or more task columns; for a single task fit "
                        f"an ordinary classifier (`transferkit fit DATA{hint}`, or TransferClassifier)")
    return names


def check_multitask_strategy(strategy: Any, backbone: str = "") -> None:
    """Refuse, before any work, a strategy (a :class:`~transferkit.strategies.Strategy`, a name, or None for
    MultiTaskClassifier's default) that cannot fit several tasks at once, with its own error."""
    from .estimators import MultiTaskClassifier
    from .strategies import STRATEGIES, FitContext

    if isinstance(strategy, str) and getattr(STRATEGIES.get(strategy), "fits_several_tasks", False):
        return  # a name alone: its settings (partial's --freeze) are checked once they are given
    built = MultiTaskClassifier(backbone=backbone, strategy=strategy)._strategy()  # names, None, clones: as fit reads them
    built.check_multitask(FitContext(backbone=backbone))


def read_multitask_table(path: str | Path, tasks: Sequence[Any], *, text_column: str = "text") -> tuple[Dataset, pd.DataFrame]:
    """A table file (CSV, TSV, JSON Lines, Parquet) with one label column per task, as the data and its labels.

    The task columns are never features: the rest of the table is a text table (its ``text_column``; other
    columns are ignored) or a feature table (every other column a numeric feature). A cell left empty means
    the row is not labelled for that task; a row must be labelled for one task at least.

    Returns
    -------
    data : Dataset
        Without labels.
    Y : pandas.DataFrame
        One column per task, in the order of ``tasks``, as read (missing labels kept).
    """
    from .data._dataset import load_table_file
    from .data._tables import _shown, read_table
    from .data._validation import format_positions

    path = Path(path)
    names = check_tasks(tasks)
    frame = read_table(path)
    by_name = {str(c): c for c in frame.columns}
    absent = [n for n in names if n not in by_name]
    if absent:
        raise DataError(f"table file '{path}' has no task column {_shown(absent)}; its columns: "
                        f"{', '.join(repr(str(c)) for c in frame.columns)}")
    if text_column in names:
        raise DataError(f"task {text_column!r} is also the text column of table file '{path}': a column cannot be both "
                        "the texts and a task's labels; name the text column with --text-column (text_column= in Python)")
    Y = pd.DataFrame({n: frame[by_name[n]].to_numpy(dtype=object) for n in names})
    unlabelled = np.flatnonzero(Y.isna().all(axis=1).to_numpy()).tolist()
    if unlabelled and len(Y):
        raise DataError(f"table file '{path}' has no label for any task in {format_positions(unlabelled, rows=True)}; "
                        "label those rows for one task at least, or drop them")
    features = frame.drop(columns=[by_name[n] for n in names])
    data = load_table_file(path, features, text_column=text_column, label_column=None, image_column=None,
                           modality=None, labels=None)  # no rows: its own message
    return data, Y


def multitask_holdout_rows(data: Dataset, first: str, labels: np.ndarray, fraction: float,
                           random_state: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Train and held-out rows of ``data`` (each in the data's order), stratified on ``labels``, the first
    task's (rows without its label as one more group); None when ``fraction`` is 0. The single-task split
    (:func:`transferkit.workflows.holdout_rows`) on those groups, its messages naming the task."""
    from .estimators._multitask import missing_labels
    from .workflows import holdout_rows

    groups = np.asarray(["(no label)" if gone else f"{v}" for v, gone in zip(labels, missing_labels(labels), strict=True)],
                        dtype=object)
    try:
        return holdout_rows(Dataset(X=np.zeros((len(groups), 1)), y=groups, modality="table", source=data.source),
                            fraction, random_state)
    except DataError as exc:
        if str(exc).startswith("holdout must be"):
            raise
        raise DataError(f"the held-out split is stratified on task {first!r} (rows without its label as one group): "
                        f"{exc}") from None


def _task_result(estimator: Any, t: int, name: str, data: Dataset, column: np.ndarray, rows: tuple[np.ndarray, np.ndarray],
                 proba: np.ndarray, random_state: int) -> TaskResult:
    """Task ``t``'s scores on the held-out rows labelled for it, against a no-transfer baseline fitted on its
    labelled training rows."""
    from ._blas import one_blas_thread
    from .estimators._multitask import missing_labels, plain_labels

    tr, te = rows
    fit_rows, test_rows = tr[~missing_labels(column[tr])], np.flatnonzero(~missing_labels(column[te]))
    classes = estimator.classes_[t]
    if not len(test_rows):
        nan = float("nan")
        return TaskResult(name, len(fit_rows), 0, nan, nan, nan, nan, None)
    truth = plain_labels(column[te][test_rows])
    predicted = classes[proba[test_rows].argmax(axis=1)]
    with one_blas_thread():  # a scikit-learn fit (see transferkit._blas)
        baseline = make_baseline(data.modality, random_state=random_state).fit(data.X[fit_rows], plain_labels(column[fit_rows]))
        base_predicted = baseline.predict(data.X[te][test_rows])
    labels = np.union1d(classes, truth).tolist()
    model, base = classification_metrics(truth, predicted, labels), classification_metrics(truth, base_predicted, labels)
    mean, low, high = paired_bootstrap_ci(np.asarray(predicted == truth), np.asarray(base_predicted == truth),
                                          seed=random_state)
    unseen = [v for v in np.unique(truth).tolist() if v not in set(classes.tolist())]
    return TaskResult(name, len(fit_rows), len(test_rows), model["accuracy"], model["macro_f1"], base["accuracy"],
                      base["macro_f1"], Gain("accuracy", mean, low, high, GAIN_METHOD), unseen)


def _add_data(report: Report, data: Dataset, names: list[str], columns: list[np.ndarray]) -> None:
    """Data summary: sizes and modality, then each task's labelled rows, missing labels and class counts."""
    from .estimators._multitask import missing_labels, plain_labels
    from .evaluation import _plots

    report.heading("Data")
    report.table([{"property": k, "value": v} for k, v in data.summary().items()
                  if v is not None and not isinstance(v, dict | list)])
    rows, counts = [], {}
    for name, col in zip(names, columns, strict=True):
        gone = missing_labels(col)
        values, n = np.unique(plain_labels(col[~gone]), return_counts=True)
        counts[name] = {str(v): int(c) for v, c in zip(values.tolist(), n.tolist(), strict=True)}
        rows.append({"task": name, "labelled rows": int((~gone).sum()), "missing labels": int(gone.sum()),
                     "classes": len(values), "examples per class": ", ".join(f"{k}: {v}" for k, v in counts[name].items())})
    report.table(rows)
    for name in names:
        report.figure(_plots.class_counts_png(counts[name]), f"Examples per class, task {name!r}")


def _add_results(report: Report, results: dict[str, TaskResult], modality: str, scheme: str, notes: list[str]) -> None:
    report.heading("Results per task against the no-transfer baseline")
    for r in results.values():
        report.paragraph(r.sentence(), r.verdict if r.gain is not None else None)
    report.paragraph(f"Evaluation: {scheme}. Each task is scored on the held-out rows labelled for it; its "
                     f"baseline ({BASELINE_DESCRIPTIONS.get(modality, modality)}) is fitted on the training rows "
                     f"labelled for it. Gain intervals: {GAIN_METHOD}.")
    for note in notes:
        report.paragraph(f"Note: {note}.")
    report.table([{"task": r.task, "training rows": r.n_train, "held-out rows": r.n_heldout, "accuracy": r.accuracy,
                   "macro F1": r.macro_f1, "baseline accuracy": r.baseline_accuracy,
                   "baseline macro F1": r.baseline_macro_f1,
                   "gain vs baseline": "—" if r.gain is None else format_gain(r.gain.mean, r.gain.low, r.gain.high),
                   "verdict": r.verdict} for r in results.values()])


def _summary(results: dict[str, TaskResult] | None) -> Report:
    """The report's first section, as a fit report's: each task's held-out accuracy against the baseline."""
    from .evaluation._report import VERDICT_WORDS

    section = Report("summary").heading("Summary")
    if results is None:
        return section.paragraph("No held-out data (holdout=0): the model saw every row; no test metrics.")
    return section.table([{
        "task": r.task, "accuracy": r.accuracy, "baseline accuracy": r.baseline_accuracy,
        "gain vs baseline (95% CI)": "—" if r.gain is None else format_gain(r.gain.mean, r.gain.low, r.gain.high),
        "verdict": VERDICT_WORDS.get(r.verdict, "not scored (no held-out label)")} for r in results.values()])


def _add_history(report: Report, history: list[dict[str, float]], names: list[str]) -> None:
    """The loss curves (with the mean validation accuracy over tasks), and each task's validation accuracy."""
    from .evaluation import _plots

    report.heading("Training curves").figure(_plots.history_png(history, "training"),
                                             "Loss per epoch; validation accuracy: the mean over tasks")
    per_task = [n for n in names if f"val_accuracy[{n}]" in history[0]]
    if per_task:
        report.table([{"epoch": int(h["epoch"]) + 1, "train loss": h["train_loss"], "validation loss": h["val_loss"],
                       **{f"val. accuracy {n}": h.get(f"val_accuracy[{n}]", float("nan")) for n in per_task}}
                      for h in history])


def fit_multitask_to_folder(estimator: Any, data: Dataset, Y: Any, out: str | Path, *, holdout: float = 0.2,
                            overwrite: bool = False, random_state: int = 0,
                            temporary_checkpoints: bool = False) -> MultiTaskFitOutcome:
    """Fit ``estimator`` (a :class:`~transferkit.MultiTaskClassifier`) on ``data`` (a :class:`Dataset` without
    labels) and ``Y`` (one column of labels per task, missing where a row is not labelled for it; two tasks
    or more), score each task on a held-out part against the no-transfer baseline, and save the model to the
    folder ``out`` with ``report.html`` and ``evaluation.json`` inside (``temporary_checkpoints`` as for
    :func:`~transferkit.workflows.fit_to_folder`).

    The held-out part is stratified on the first task (rows without its label as one group). With
    ``holdout=0`` the model sees all the data, and the report has no test metrics (nor evaluation.json).
    Everything is checked before any training: the folder ``out`` (replaced only with ``overwrite``), the
    tasks, the strategy and the labels.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile
    >>> from transferkit import MultiTaskClassifier
    >>> from transferkit.data import Dataset
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4))
    >>> Y = pd.DataFrame({"sign": np.where(X[:, 0] > 0, "pos", "neg"), "big": X[:, 1] > 0})
    >>> est = MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False)
    >>> outcome = fit_multitask_to_folder(est, Dataset(X=X, y=None, modality="table"), Y, tempfile.mkdtemp() + "/m")
    >>> sorted(outcome.results), (outcome.folder / "report.html").exists()
    (['big', 'sign'], True)
    """
    from .estimators import check_writable
    from .estimators._multitask import check_task_weights, encode_tasks, task_columns
    from .workflows import add_configuration, check_compatible, forget_checkpoint_folder, keep_column_names

    out = Path(out)
    check_writable(out, overwrite=overwrite)
    if not isinstance(data, Dataset):
        raise DataError(f"data must be a transferkit Dataset (see transferkit.data.load_data or "
                        f"read_multitask_table), got {type(data).__name__}")
    if not len(data):
        raise DataError(f"{data.source or 'the data'} has no rows")
    if data.y is not None:
        raise DataError("the data has labels of its own; a multi-task fit takes its labels from Y, one column per "
                        "task: load the data without labels (label_column=None)")
    names, columns, _ = task_columns(Y, len(data))
    names = check_tasks(names)
    check_task_weights(estimator.task_weights, names)
    check_multitask_strategy(estimator.strategy, estimator.backbone)
    check_compatible(data, estimator.backbone)
    encode_tasks(names, columns)  # each task's labels, before any work
    labels = pd.DataFrame({n: c for n, c in zip(names, columns, strict=True)})
    rows = multitask_holdout_rows(data, names[0], columns[0], holdout, random_state)
    fit_rows = np.arange(len(data)) if rows is None else rows[0]
    if rows is not None:
        try:
            encode_tasks(names, [c[fit_rows] for c in columns])
        except DataError as exc:
            raise DataError(f"the training part left by --holdout {holdout:g}: {exc}; lower --holdout or use "
                            "--holdout 0") from None
    estimator.fit(data.X[fit_rows], labels.iloc[fit_rows].reset_index(drop=True))
    report = Report(f"transferkit multitask: {estimator.backbone}")
    _add_data(report, data, names, columns)
    results, notes, extra = None, [], {}
    if rows is None:
        report.paragraph("No held-out data (holdout=0): no test metrics.")
    else:
        scheme = f"train ({len(rows[0])} rows) / held-out ({len(rows[1])} rows), stratified on task {names[0]!r}"
        probas = estimator.predict_proba(data.X[rows[1]])
        results = {n: _task_result(estimator, t, n, data, columns[t], rows, probas[t], random_state)
                   for t, n in enumerate(names)}
        notes = [f"held-out rows of task {r.task!r} have label(s) {', '.join(map(repr, r.unseen_classes))} that no "
                 "training row has; the model cannot predict them, so they count as errors"
                 for r in results.values() if r.unseen_classes]
        _add_results(report, results, data.modality, scheme, notes)
        extra["evaluation.json"] = json.dumps({
            "tasks": names, "modality": data.modality, "scheme": scheme, "n_train": len(rows[0]),
            "n_heldout": len(rows[1]), "baseline": BASELINE_DESCRIPTIONS.get(data.modality, ""),
            "results": {n: r.to_dict() for n, r in results.items()}, "notes": notes,
        }, indent=1, default=str).encode()
    keep_column_names(estimator, data)  # from here on (and in the folder) a table's columns are matched by name
    history = getattr(estimator.model_, "history", None)
    if history is not None and history.epochs:
        _add_history(report, history.epochs, names)
    if temporary_checkpoints:
        forget_checkpoint_folder(estimator)
    add_configuration(report, estimator, ({"setting": "tasks", "value": ", ".join(names)},))
    report.splice(0, _summary(results))  # the outcome first
    extra["report.html"] = report.render().encode("utf-8")
    folder = estimator.save(out, overwrite=overwrite, extra_files=extra)
    return MultiTaskFitOutcome(estimator, folder, results, notes)
