"""End-to-end tasks as plain functions: resolve data, fit to a model folder with a report, evaluate,
predict. The CLI is a thin layer over these; everything it does can be done from Python."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .data import Dataset, load_data
from .data._tables import TABLE_EXTENSIONS, column_order
from .errors import DataError, StrategyError
from .evaluation import EvaluationResult, Report, add_data_summary, add_evaluation, evaluate
from .evaluation._report import summary_section
from .strategies import STRATEGIES, Strategy, check_strategy_name, describe_fit


def resolve_data(
    spec: str | Path | Dataset,
    *,
    text_column: str = "text",
    label_column: str | None = "label",
    per_class: int | None = None,
    random_state: int = 0,
) -> Dataset:
    """A dataset from a path (folder or table file) or a packaged dataset name (``fashion-mnist:test``).

    ``per_class`` keeps at most that many examples of each class (reproducibly, by ``random_state``) of a
    packaged dataset or a labelled folder or file; data read without labels is returned whole.
    """
    if isinstance(spec, Dataset):
        return spec
    if not str(spec).strip():  # Path("") is the current folder: never what an empty value meant
        raise DataError("an empty data path names nothing: give a folder, a table file or a packaged dataset name")
    if Path(spec).exists():
        data = load_data(spec, text_column=text_column, label_column=label_column)
        if per_class is not None and data.y is not None:
            data = subsample(data, per_class, random_state)
        return data
    from .datasets import DATASETS, load_dataset

    base = str(spec).partition(":")[0].lower().replace("_", "-")
    if base not in DATASETS:
        if any(sep in str(spec) for sep in ("/", "\\", ".")):
            raise DataError(f"data {str(spec)!r} does not exist (no such file or folder)")
        load_dataset(str(spec))  # raises: unknown name, with a suggestion
    kwargs: dict[str, Any] = {"random_state": random_state}
    if per_class is not None:
        kwargs["n_per_class"] = per_class
    return load_dataset(str(spec), **kwargs)


def subsample(data: Dataset, per_class: int, random_state: int = 0) -> Dataset:
    """At most ``per_class`` examples of each class, chosen reproducibly."""
    assert data.y is not None
    rng = np.random.default_rng(random_state)
    keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(data.y == c))[:per_class] for c in data.classes]))
    return data.take(keep)


def check_compatible(data: Dataset, backbone: str) -> None:
    """The backbone reads the data's modality (registered names are checked without loading; a saved
    transferkit model folder is refused as such)."""
    from .backbones import backbone_modality, backbones_for

    modality = backbone_modality(backbone)
    if modality != data.modality:
        raise DataError(f"backbone {backbone!r} reads {modality} data, but {data.source or 'the data'} holds "
                        f"{data.modality} data; {data.modality} backbones: {backbones_for(data.modality)}")


def match_columns(data: Dataset, other: Dataset, what: str) -> Dataset:
    """``other`` (``what``: the test data, the target data, a second table) with the feature columns of the
    table ``data``, matched by name: the same names in another order are reordered; missing or extra
    columns are an error naming them. Tables without column names (arrays) are matched by count; other
    modalities pass unchanged."""
    if not data.modality == other.modality == "table":
        return other
    if data.feature_names and other.feature_names:
        order = column_order(data.feature_names, other.feature_names, what, data.source or "the training data",
                             other.source or "the data")
        if order != list(range(len(order))):
            other = dataclasses.replace(other, X=np.asarray(other.X)[:, order],
                                        feature_names=[str(n) for n in data.feature_names])
        return other
    check_same_columns(data, other, what)
    return other


def check_same_columns(data: Dataset, other: Dataset, what: str) -> None:
    """Two tables (training data and ``what``: the test data, new data) have the same number of feature
    columns; other modalities pass. :func:`match_columns` also matches the columns by name."""
    if data.modality == other.modality == "table" and np.shape(data.X)[1] != np.shape(other.X)[1]:
        raise DataError(f"{what} ({other.source or 'the data'}) has {np.shape(other.X)[1]} feature columns, but "
                        f"{data.source or 'the training data'} has {np.shape(data.X)[1]}")


def check_predictable(model: Any, data: Dataset, where: str) -> Dataset:
    """``data`` as the saved ``model`` (loaded from ``where``) reads it, checked before anything is
    predicted: the modality and, for tables, the feature columns. A model that knows its column names
    takes them by name (any order; other columns are ignored); one that does not checks the count."""
    reads = _model_modality(model)
    source = data.source or "the data"
    if reads is not None and reads != data.modality:
        raise DataError(f"the model in {where!r} reads {reads} data, but {source} holds {data.modality} data")
    if data.modality != "table":
        return data
    names = getattr(model, "feature_names_in_", None)
    if names is not None and data.feature_names:
        given = {str(n): i for i, n in enumerate(data.feature_names)}
        _check_has_columns(names, given, source, where)
        order = [given[str(n)] for n in names]
        return dataclasses.replace(data, X=np.asarray(data.X)[:, order], feature_names=[str(n) for n in names])
    width = getattr(model, "n_features_in_", None)
    if width is not None and np.shape(data.X)[1] != width:
        raise DataError(f"the model in {where!r} was fitted on {width} feature columns, but {source} has "
                        f"{np.shape(data.X)[1]}")
    return data


def _model_modality(model: Any) -> str | None:
    """The modality a saved model reads: an ensemble's own, else its backbone's."""
    from .backbones import backbone_modality

    return model._modality() if hasattr(model, "_modality") else backbone_modality(model.backbone)


def _check_has_columns(names: Any, given: Any, source: str, where: str) -> None:
    """``given`` (column names) holds every name the model in ``where`` was fitted on, else an error naming
    the missing ones."""
    from .data._tables import _shown

    missing = [str(n) for n in names if str(n) not in given]
    if missing:
        raise DataError(f"{source} lacks the feature column(s) {_shown(missing)} that the model in {where!r} was fitted on "
                        f"(it reads {', '.join(repr(str(n)) for n in names[:10])}{' ...' if len(names) > 10 else ''})")


def read_new_data(spec: str | Path, model: Any, where: str, *, text_column: str = "text",
                  label_column: str | None = "label") -> tuple[Dataset, np.ndarray | pd.DataFrame | None, pd.DataFrame | None]:
    """The data ``spec`` to predict with the saved ``model`` (loaded from ``where``), checked by
    :func:`check_predictable`; the labels to show beside the predictions (None when there are none); and
    a table file's columns that the model does not read (an id, a note; None when there are none), to
    carry into the predictions so that they join back to the input rows.

    Labels are optional: a folder without class sub-folders is read as new images, a table without the
    label column as unlabelled, and a table whose label column is partly empty is predicted whole, its
    labels returned as given (empty cells included) instead of becoming a feature. A table model that
    knows its column names reads only those: other columns (an id, a note) are ignored, not an error;
    so are a text table's columns besides its text and label columns.

    A multi-task model (``tasks_``) has a label column per task instead: those of its task columns that the
    table holds are never read as features, and come back as the labels, a DataFrame with one column per
    task (values as given, empty cells included); ``label_column`` is not used."""
    from .data._dataset import load_table_file
    from .data._tables import read_table, read_table_verbatim
    from .data._validation import missing_positions
    from .errors import NoClassFoldersError

    path = Path(spec)
    tasks = [str(t) for t in getattr(model, "tasks_", [])]  # a multi-task model: no single label column
    label_column = None if tasks else label_column
    if not (path.is_file() and path.suffix.lower() in TABLE_EXTENSIONS):
        try:
            return check_predictable(model, resolve_data(spec, text_column=text_column,
                                                         label_column=label_column), where), None, None
        except NoClassFoldersError:  # a flat folder of new images (hidden folders such as .ipynb_checkpoints aside)
            data = check_predictable(model, resolve_data(spec, text_column=text_column, label_column=None), where)
            return data, None, None
    frame = read_table(path)
    given, label_name = frame, label_column
    shown: np.ndarray | pd.DataFrame | None = None
    present = [c for c in frame.columns if str(c) in tasks]
    if present:  # labels to show, never features
        shown = pd.DataFrame({str(c): frame[c].convert_dtypes().to_numpy(dtype=object) for c in present})
        frame = frame.drop(columns=present)
    if label_column is not None and label_column in frame.columns:
        if missing_positions(frame[label_column].to_numpy()):
            shown = frame[label_column].convert_dtypes().to_numpy(dtype=object)  # 1.0 with blanks reads as 1
            frame, label_column = frame.drop(columns=label_column), None
    else:
        label_column = None
    names = getattr(model, "feature_names_in_", None)
    if names is not None and _model_modality(model) == "table" and text_column not in frame.columns:
        _check_has_columns(names, {str(c) for c in frame.columns}, f"table file '{path}'", where)
        by_name = {str(c): c for c in frame.columns}
        frame = frame[[*(by_name[str(n)] for n in names), *([label_column] if label_column is not None else [])]]
    data = check_predictable(model, load_table_file(path, frame, text_column=text_column, label_column=label_column,
                                                    image_column=None, modality=None, labels=None), where)
    read = {text_column} if data.modality == "text" else {str(c) for c in frame.columns}
    unread = [c for c in given.columns if str(c) not in read and c != label_name and c not in present]
    if not unread:
        return data, data.y if shown is None else shown, None
    copied = read_table_verbatim(path)  # carried as written: an id "007" must not come back as 7.0
    carried = copied.iloc[:, [given.columns.get_loc(c) for c in unread]].set_axis([str(c) for c in unread], axis=1)
    return data, data.y if shown is None else shown, carried.reset_index(drop=True)


def keep_column_names(model: Any, data: Dataset) -> None:
    """Give ``model``, fitted on the table ``data``, its column names: from then on, and in its saved
    folder, :func:`check_predictable` matches columns by name (any order, extra columns ignored)."""
    if data.modality == "table" and data.feature_names:
        model.feature_names_in_ = np.asarray(data.feature_names, dtype=object)


def make_strategy(name: str, *, strict: bool = True, **params: Any) -> Strategy:
    """A strategy from its CLI name (``linear``, ``finetune``, ``partial``) and its parameters.

    Parameters that are None are ignored. With ``strict`` (default) a parameter the strategy does not
    take is an error; without it, such parameters are dropped (one option set shared by several
    strategies)."""
    cls = STRATEGIES[check_strategy_name(name)]
    accepted = cls._get_param_names()
    given = {k: v for k, v in params.items() if v is not None}
    unused = sorted(set(given) - set(accepted))
    if unused and not strict:
        given = {k: v for k, v in given.items() if k in accepted}
    elif unused:
        raise StrategyError(f"strategy {name!r} does not take {', '.join(unused)}; "
                            f"it takes: {', '.join(accepted) or 'no options'}")
    return cls(**given)


@dataclass
class FitOutcome:
    estimator: Any
    folder: Path
    evaluation: EvaluationResult | None


def holdout_split(data: Dataset, fraction: float, random_state: int) -> tuple[Dataset, Dataset] | None:
    """Stratified train/held-out split; None when ``fraction`` is 0."""
    rows = holdout_rows(data, fraction, random_state)
    return None if rows is None else (data.take(rows[0]), data.take(rows[1]))


def holdout_rows(data: Dataset, fraction: float, random_state: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows of ``data`` in a stratified train/held-out split (each part in the data's order); None when
    ``fraction`` is 0."""
    if not (isinstance(fraction, int | float | np.number) and not isinstance(fraction, bool)
            and np.isfinite(fraction) and 0 <= fraction < 1):  # NaN passes a plain range test
        raise DataError(f"holdout must be a finite share of the data in [0, 1), got {fraction!r}")
    if fraction <= 0:
        return None
    from sklearn.model_selection import train_test_split

    assert data.y is not None
    labels = data.classes  # labels mixing strings and numbers: the data layer's message, not numpy's TypeError
    if len(labels) < 2:  # the label column is worth checking only for data read from a table
        hint = " (check --label-column)" if data.source.startswith(("table file", "DataFrame")) else ""
        raise DataError(f"only one class ({labels.tolist()[0]!r}) in the labels; a classifier needs at least "
                        f"two{hint}")
    labels, counts = np.unique(data.y, return_counts=True)
    if counts.min() < 2:
        single = [repr(c) for c in labels[counts < 2].tolist()]
        raise DataError(f"class{'es' if len(single) > 1 else ''} {', '.join(single[:5])}"
                        f"{f' and {len(single) - 5} more' if len(single) > 5 else ''} "
                        f"{'have' if len(single) > 1 else 'has'} only 1 example, so no stratified held-out split is "
                        "possible; add examples or use --holdout 0")
    idx = np.arange(len(data.y))
    n_test = max(int(round(fraction * len(idx))), len(counts))
    if len(idx) - n_test < len(counts):  # a stratified split trains on at least one example per class
        raise DataError(f"holdout {fraction:g} of {len(idx)} examples leaves {len(idx) - n_test} to train on, fewer "
                        f"than the {len(counts)} classes; lower --holdout (at most "
                        f"{(len(idx) - len(counts)) / len(idx):.2g} here) or use --holdout 0")
    tr, te = train_test_split(idx, test_size=n_test, stratify=data.y, random_state=random_state)
    return np.sort(tr), np.sort(te)


def example_items(data: Dataset, n: int = 16) -> tuple[list[Any], list[str]]:
    """Up to ``n`` items with their labels as strings, picked reproducibly, for a report's data section."""
    assert data.y is not None
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(data.y))[:n]
    return [data.X[i] for i in idx], [str(data.y[i]) for i in idx]


def add_auto_explanation(report: Report, info: dict[str, Any] | None) -> None:
    """Why the auto strategy chose what it chose: candidates on the validation split, and the reasons."""
    if not info:
        return
    report.heading("Auto strategy: what was chosen and why")
    report.paragraph(
        f"Chosen: {info['choice']}. Candidates were compared on a stratified validation part of the training "
        f"data ({info['n_samples']} examples, smallest class {info['min_per_class']}"
        + (f", budget {info['budget_seconds']:.0f} s" if info.get("budget_seconds") else ", no time budget")
        + ")."
    )
    if info["candidates"]:
        report.table([{"candidate": c["name"], "validation accuracy": f"{c['val_accuracy']:.3f}",
                       "cross-validated accuracy": f"{c['cv_accuracy']:.3f}" if "cv_accuracy" in c else "-",
                       "estimated accuracy": f"{c['estimate']:.3f}" if "estimate" in c else "-",
                       "fit seconds": f"{c['seconds']:.1f}"} for c in info["candidates"]])
    for reason in info["reasons"]:
        report.paragraph(f"- {reason}")
    if info.get("refit"):
        report.paragraph(f"- refit of the chosen fine-tuned model: {info['refit']}")


def add_fit_audit(report: Report, estimator: Any, data: Dataset) -> None:
    """The data audit's findings in a fit report. Embedding checks (near-duplicates, outliers, label
    errors) run on the estimator's frozen backbone when the fit computes those features anyway, so they
    come from the cache: the linear probe, and the auto strategy, whose probe candidate is fitted on them
    whatever it chooses in the end (the audit runs before the fit, so the report says the checks saw the
    frozen embeddings). A fine-tuning strategy trains the backbone: the report has the exact checks and
    says why the others were skipped."""
    from .audit import add_audit, audit
    from .strategies import AutoStrategy, LinearProbe

    auto = isinstance(estimator.strategy, AutoStrategy)
    frozen = auto or estimator.strategy is None or isinstance(estimator.strategy, LinearProbe)
    # the estimator's own weights: a --weights file or --random-init, not the hub's pretrained ones
    result = audit(data, backbone=estimator.backbone if frozen else None, pretrained=estimator.pretrained,
                   weights=estimator.weights, image_size=estimator.image_size,
                   max_length=estimator.max_length, cache=estimator.cache, random_state=estimator.random_state)
    add_audit(report, result)
    if auto:
        report.paragraph("The embedding checks (near-duplicates, outliers, label errors) used the frozen "
                         f"{estimator.backbone} embeddings, the features the auto strategy's linear-probe "
                         "candidate is fitted on; they ran before the fit, whatever auto chose.")
    elif not frozen:
        report.paragraph("Embedding checks (near-duplicates, outliers, label errors) were skipped for this "
                         f"fine-tuning run ({type(estimator.strategy).__name__} trains the backbone, so its "
                         "frozen embeddings are not computed); run `transferkit audit DATA -b BACKBONE` for them.")


def add_augmentation_grid(report: Report, augment: Any, items: list[Any], n_variants: int = 5) -> None:
    """A grid: each row an original training image followed by ``n_variants`` augmented versions."""
    from .evaluation import _plots

    images = augment.samples(items, n_variants=n_variants)
    captions = [("original" if i % (n_variants + 1) == 0 else "augmented") for i in range(len(images))]
    report.heading("Augmentation").paragraph(
        f"Training images are augmented on the fly ({augment!r}); validation, test and prediction see them "
        "unchanged. Each row: an original, then random augmented versions."
    ).figure(_plots.image_grid_png(images, captions, columns=n_variants + 1), "Augmented training samples")


def add_configuration(report: Report, estimator: Any, first: tuple[dict[str, str], ...] = ()) -> None:
    """The fit report's last section: how the fine-tune trained (:func:`~transferkit.strategies.describe_fit`)
    and a table of the estimator's parameters, after the ``first`` rows."""
    report.heading("Configuration")
    if (training := describe_fit(estimator)) is not None:
        report.paragraph(f"Fine-tuning: {training}.")
    report.table([*first, *({"setting": k, "value": repr(v)} for k, v in estimator.get_params(deep=False).items())])


def forget_checkpoint_folder(estimator: Any) -> None:
    """Set the fitted ``estimator``'s checkpoint folder to none, in its strategy and in the fitted copy that
    its folder saves (``strategy_``, auto's choice included): a folder that was this run's only, removed
    after it, which a refit of the loaded model would otherwise write anew wherever it runs, and then refuse
    to refit into a second time."""
    for strategy in (estimator.strategy, getattr(estimator, "strategy_", None)):
        if isinstance(strategy, Strategy) and "checkpoint_dir" in strategy.get_params(deep=False):
            strategy.set_params(checkpoint_dir=None)


def fit_to_folder(estimator: Any, data: Dataset, out: str | Path, *, holdout: float = 0.2,
                  overwrite: bool = False, random_state: int = 0, title: str | None = None,
                  temporary_checkpoints: bool = False) -> FitOutcome:
    """Fit ``estimator`` on ``data``, score it on a stratified held-out part against the no-transfer
    baseline, and save it to the model folder ``out`` with ``report.html`` inside.

    With ``holdout=0`` the model sees all data and the report has no test metrics. With
    ``temporary_checkpoints`` (the caller removes the checkpoint folder after the run) the saved model names
    no checkpoint folder (:func:`forget_checkpoint_folder`).
    """
    from .estimators import check_writable

    out = Path(out)
    check_writable(out, overwrite=overwrite)
    if data.y is None:
        raise DataError("fitting needs labels; the data has none (check --label-column)")
    check_compatible(data, estimator.backbone)
    report = Report(title or f"transferkit fit: {estimator.backbone}")
    add_data_summary(report, data.summary(), {str(k): int(v) for k, v in zip(*np.unique(data.y, return_counts=True), strict=True)},
                     example_items(data) if data.modality != "table" else None)
    add_fit_audit(report, estimator, data)
    augment = getattr(estimator.strategy, "augment", None)
    if augment is not None and data.modality == "image":
        add_augmentation_grid(report, augment, example_items(data, 4)[0])
    rows = holdout_rows(data, holdout, random_state)
    result = None
    if rows is None:
        estimator.fit(data.X, data.y)
        hist = getattr(estimator.model_, "history", None)
        if hist is not None:
            from .evaluation import _plots

            report.heading("Training curves").figure(_plots.history_png(hist.epochs, "training"), "Loss per epoch")
        report.paragraph("No held-out data (holdout=0): no test metrics. Use `transferkit evaluate` to measure.")
    else:
        train, test = data.take(rows[0]), data.take(rows[1])
        name = f"{estimator.backbone} + {type(estimator.strategy).__name__ if estimator.strategy else 'LinearProbe'}"
        result = evaluate({name: estimator}, train.X, train.y, test=(test.X, test.y), modality=data.modality,
                          random_state=random_state, keep_models=True, rows=rows)  # errors name rows of data
        estimator = result.fitted[name]
        add_evaluation(report, result)
    keep_column_names(estimator, data)
    auto = getattr(estimator, "fit_info_", {}).get("auto")
    if result is not None:
        chose = [f"The auto strategy chose {auto['choice']} (section \"Auto strategy\" below says why)."] if auto else []
        report.splice(0, summary_section(result, chose))
    add_auto_explanation(report, auto)
    if temporary_checkpoints:
        forget_checkpoint_folder(estimator)
    add_configuration(report, estimator)
    extra = {"report.html": report.render().encode("utf-8")}
    if result is not None:
        extra["evaluation.json"] = json.dumps(result.to_dict(), indent=1, default=str).encode()
    folder = estimator.save(out, overwrite=overwrite, extra_files=extra)
    return FitOutcome(estimator, folder, result)


def evaluate_to_folder(models: dict[str, Any], data: Dataset, out: str | Path, *, test: Dataset | None = None,
                       cv: int = 5, repeats: int = 1, random_state: int = 0, title: str = "transferkit evaluation",
                       verbose: int = 0) -> EvaluationResult:
    """Evaluate ``models`` against the baseline and write ``report.html`` and ``evaluation.json`` to ``out``.

    An existing ``out`` is reused only where it holds no ``report.html``/``evaluation.json`` that transferkit did
    not write (checked before any work, see :func:`transferkit._outputs.check_output_folder`). A table ``test``
    is matched to ``data``'s feature columns by name, and its labels must be classes of ``data``."""
    from ._outputs import check_output_folder, write_output_folder

    check_output_folder(out, ("report.html", "evaluation.json"))
    if data.y is None or (test is not None and test.y is None):
        raise DataError("evaluation needs labels; the data has none (check --label-column)")
    for est in models.values():
        check_compatible(data, est.backbone)
    if test is not None and test.modality != data.modality:
        raise DataError(f"the test data holds {test.modality} data, the training data {data.modality} data")
    if test is not None:
        test = match_columns(data, test, "the test data")
    result = evaluate(models, data.X, data.y, cv=cv, repeats=repeats, test=None if test is None else (test.X, test.y),
                      modality=data.modality, random_state=random_state, verbose=verbose)
    report = Report(title)
    report.splice(0, summary_section(result))  # the outcome first
    add_data_summary(report, data.summary(), result.class_counts, example_items(data) if data.modality != "table" else None)
    add_evaluation(report, result)
    write_output_folder(out, {"report.html": report.render(),
                              "evaluation.json": json.dumps(result.to_dict(), indent=1, default=str)})
    return result


def predict_frame(model: Any, data: Dataset, labels: Any = None, unread: pd.DataFrame | None = None, *,
                  text_column: str = "text") -> pd.DataFrame:
    """Predictions with one probability column per class (``proba_<class>``), then a ``label`` column
    holding ``labels`` (default: the data's labels; none when both are None). Texts come first, in a column
    named ``text_column`` (the column they were read from). The columns of ``unread`` (the input's columns
    the model does not read, one row per item: an id) come before them, a name that an output column takes
    prefixed with ``input_``.

    A multi-task model (``tasks_``) gives ``prediction_<task>`` for each task, then ``proba_<task>_<class>``,
    then ``label_<task>`` for each column of ``labels`` (a DataFrame, one column per task; see
    :func:`read_new_data`)."""
    X = data.X
    if data.modality == "table" and data.feature_names and getattr(model, "feature_names_in_", None) is not None:
        X = pd.DataFrame(np.asarray(X), columns=data.feature_names)  # named, as the model was fitted
    proba = model.predict_proba(X)
    if hasattr(model, "tasks_"):
        frame = _multitask_frame(model, proba, labels)
    else:
        frame = pd.DataFrame({"prediction": model.classes_[proba.argmax(1)]})
        for j, c in enumerate(model.classes_):
            frame[f"proba_{c}"] = proba[:, j]
        labels = data.y if labels is None else labels
        if labels is not None:
            frame["label"] = labels
    if data.modality == "text":
        frame.insert(0, text_column, [str(t) for t in data.X])  # whole: a CSV's rows must join back to the input
    elif data.modality == "image" and data.X.dtype == object:
        frame.insert(0, "item", [str(p) for p in data.X])
    if unread is None:
        return frame
    taken, names = set(frame.columns), []
    for column in map(str, unread.columns):
        while column in taken:
            column = f"input_{column}"
        taken.add(column)
        names.append(column)
    return pd.concat([unread.set_axis(names, axis=1).reset_index(drop=True), frame], axis=1)


def _multitask_frame(model: Any, proba: list[np.ndarray], labels: pd.DataFrame | None) -> pd.DataFrame:
    """A multi-task model's predictions (``proba``: one array per task, see :func:`predict_frame`)."""
    tasks = [str(t) for t in model.tasks_]
    columns: dict[str, Any] = {f"prediction_{t}": c[p.argmax(1)] for t, c, p in zip(tasks, model.classes_, proba, strict=True)}
    for t, c, p in zip(tasks, model.classes_, proba, strict=True):
        columns.update({f"proba_{t}_{k}": p[:, j] for j, k in enumerate(c)})
    if labels is not None:
        columns.update({f"label_{t}": labels[t].to_numpy(dtype=object) for t in labels.columns})
    return pd.DataFrame(columns)
