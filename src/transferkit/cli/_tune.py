"""``transferkit tune``: hyperparameter search of a probe head on cached features. Thin: parse, call
:func:`transferkit.tuning.tune`, print, write best.json and report.html (and refit on request)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import click

from ._commands import _apply, _load, check_backbone_option, cli, data_options
from ._paths import ReportFolder, check_outside_inputs, unwritable
from ._selection import _cache, selection_options
from ._types import FiniteFloatRange, api_check


def _space(ctx: click.Context, param: click.Parameter, text: str | None) -> dict[str, Any] | None:
    """``--space`` as a dict, read while the options are parsed: not JSON, or not an object, is a usage error."""
    if text is None:
        return None
    try:
        space = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON ({exc.msg}): {text!r}", ctx=ctx, param=param) from exc
    if not isinstance(space, dict):
        raise click.BadParameter(f"must be a JSON object of parameter -> choices or range, got {text!r}", ctx=ctx,
                                 param=param)
    return space


def _check_space(space: dict[str, Any] | None, head: str) -> None:
    """Every key of ``--space`` a parameter of the head, every dimension valid (:func:`transferkit.tuning.
    check_space`): checked on a fresh head before any data is read."""
    if space is None:
        return
    from ..tuning import TuningError, check_space, make_head

    try:
        check_space(space, make_head(head))
    except TuningError as exc:
        raise click.BadParameter(str(exc), param_hint="'--space'") from exc


def _check_storage(storage: str) -> None:
    """``--storage`` as far as it can be checked without opening it
    (:func:`transferkit.tuning._storage.check_storage_url`): a file path given, the folder of a study file, a
    journal URL's absolute path, an existing SQLite file being an Optuna database (read-only), a database URL's
    dialect and driver."""
    from ..tuning import TuningError
    from ..tuning._storage import check_storage_url, display_url, storage_file, storage_url

    url = str(storage_url(storage, None))
    check_storage_url(url)
    file = storage_file(url)
    problem = unwritable(file) if file is not None and not file.exists() else None
    if problem:  # as for --out: refused now, not after the features are extracted
        raise TuningError(f"cannot open study storage {display_url(url)!r}: {problem}")


def _check_scoring(name: str) -> None:
    """``--scoring`` names a scikit-learn classification scorer (:func:`transferkit.tuning.check_scoring`, the check
    :func:`~transferkit.tuning.tune` makes)."""
    from ..tuning import check_scoring

    check_scoring(name)


def _check_refit_folder(folder: Path) -> None:
    """``--refit`` replaces an earlier model in OUT/model, never a folder of other files: refused before the
    search, in tune's own words (tune has no --overwrite; the API's message would name it)."""
    from ..errors import ModelFolderError

    if folder.is_dir() and not (folder / "transferkit.json").is_file() and any(folder.iterdir()):
        raise ModelFolderError(f"--refit saves the model to {str(folder)!r}, which holds other files (not a "
                               "transferkit model folder); move them or choose another --out")


def _echo_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Each distinct warning of the search (a journal's dropped incomplete record, a deprecated parameter of
    the head that every fold repeats) as one ``warning:`` line on stderr, without its source line."""
    seen: set[tuple[type[Warning], str]] = set()
    for w in caught:
        text = " ".join(str(w.message).split())
        if (w.category, text) not in seen:
            seen.add((w.category, text))
            click.echo(f"warning: {text}", err=True)


def _refit(best: Any, dataset: Any, folder: Path, result: Any) -> Path:
    """Refit the best configuration on all data. A head that stops at its iteration limit (an MLP) says so in
    one note line, not scikit-learn's warning with its source line."""
    from sklearn.exceptions import ConvergenceWarning

    from ..tuning import refit_to_folder

    names = dataset.feature_names if dataset.modality == "table" else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        saved = refit_to_folder(best, dataset.X, dataset.y, folder, best=result.to_dict(), overwrite=True,
                                feature_names=names)
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            click.echo(f"note: the refitted head did not converge ({str(w.message).rstrip('.')}); the model "
                       "is saved as fitted")
            break
    for w in caught:  # anything else is shown as it would have been
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return saved


@cli.command()
@click.argument("data")
@click.option("--backbone", "-b", required=True, callback=api_check(check_backbone_option),
              help="Backbone whose features the head is searched on.")
@click.option("--head", default="logistic", show_default=True,
              type=click.Choice(["logistic", "pca-logistic", "mlp"]), help="Head preset to search.")
@click.option("--space", default=None, callback=_space,
              help='Search space as JSON, e.g. \'{"logisticregression__C": {"low": 0.001, "high": 100, "log": true}, '
                   '"logisticregression__class_weight": [null, "balanced"]}\' (default: the head\'s own).')
@click.option("--trials", "-n", type=click.IntRange(min=1), default=20, show_default=True,
              help="Finished trials the study should hold; re-running resumes up to this number.")
@click.option("--sampler", type=click.Choice(["tpe", "random", "grid"]), default="tpe", show_default=True)
@click.option("--pruner", type=click.Choice(["median", "halving", "none"]), default="median", show_default=True,
              help="Stop trials whose running mean over folds falls behind.")
@click.option("--storage", default=None, callback=api_check(_check_storage),
              help="A journal file (FILE.journal), a SQLite file (any other path) or an Optuna storage URL "
                   "(sqlite:///file.db, postgresql://...) [default: OUT/study.db]. A journal makes trials about a "
                   "fifth cheaper.")
@click.option("--study", "study_name", default=None, help="Study name [default: BACKBONE-HEAD]; the same name resumes.")
@click.option("--cv", type=click.IntRange(min=2), default=5, show_default=True, help="Cross-validation folds.")
@click.option("--scoring", default="accuracy", show_default=True, callback=api_check(_check_scoring),
              help="scikit-learn classification scorer name (sklearn.metrics.get_scorer_names()).")
@click.option("--timeout", type=FiniteFloatRange(min=0, min_open=True), default=None,
              help="Start no new trial after this many seconds.")
@click.option("--refit", is_flag=True, help="Fit the best configuration on all data and save it to OUT/model "
                                          "(a model folder there from an earlier run is replaced).")
@_apply(selection_options)
@_apply(data_options)
@click.option("--progress/--no-progress", default=True, show_default=True, help="One line per trial.")
@click.option("--out", "-o", required=True, type=ReportFolder("best.json", "report.html"),
              help="Folder for best.json, report.html and (by default) the study database.")
def tune(data: str, backbone: str, head: str, space: dict[str, Any] | None, trials: int, sampler: str, pruner: str,
         storage: str | None, study_name: str | None, cv: int, scoring: str, timeout: float | None, refit: bool,
         progress: bool, out: str, **kw: Any) -> None:
    """Search head hyperparameters for BACKBONE on DATA with Optuna; features are extracted once.

    DATA is a folder of images, a CSV/JSONL/Parquet file or a packaged dataset name. The study is
    stored (OUT/study.db unless --storage) and resumes: an interrupted search picks up where it stopped."""
    from ..estimators import check_writable
    from ..tuning import load_best, write_tune_outputs
    from ..tuning import tune as run_tune
    from ..tuning._storage import storage_file, storage_url
    from ..workflows import check_compatible

    check_outside_inputs(out, data)
    check_outside_inputs(storage_file(storage_url(storage, out)), data)  # a study file inside the data folder
    if refit:  # before the search: OUT/model may be an earlier refit, not a folder of other files
        _check_refit_folder(Path(out) / "model")
        check_writable(Path(out) / "model", overwrite=True)
    _check_space(space, head)
    dataset = _load(data, kw)
    check_compatible(dataset, backbone)
    with warnings.catch_warnings(record=True) as caught:
        try:
            result = run_tune(dataset.X, dataset.y, backbone=backbone, head=head, space=space, n_trials=trials,
                              sampler=sampler, pruner=pruner, storage=storage, study_name=study_name, out=out,
                              cv=cv, scoring=scoring, image_size=kw["image_size"], max_length=kw["max_length"],
                              cache=_cache(kw), timeout=timeout, random_state=kw["seed"], verbose=int(progress))
        finally:  # also when the search fails: the warnings may say why
            _echo_warnings(caught)
    counts = result.counts()
    for note in result.notes:
        click.echo(f"note: {note}")
    params = ", ".join(f"{k} = {v}" for k, v in result.best_params.items())
    click.echo(f"\nbest {scoring}: {result.best_score:.4f} (trial {result.study.best_trial.number}): {params}")
    click.echo(f"study {result.study.study_name!r} in {result.storage}: "
               + ", ".join(f"{v} {k}" for k, v in counts.items()) + f" (this run: {result.trials_run})")
    click.echo(f"features: {result.extract_seconds:.1f} s (one pass or cache); search: {result.search_seconds:.1f} s")
    paths = write_tune_outputs(result, out, title=f"transferkit tune: {dataset.source or data}",
                               summary={"data": dataset.source or data})
    click.echo(f"best configuration: {paths['best']}\nreport: {paths['report']}")
    if refit:
        folder = _refit(load_best(paths["best"]), dataset, Path(out) / "model", result)
        click.echo(f"model saved to {folder}")
