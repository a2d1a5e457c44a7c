"""A search's outputs: ``best.json`` (refittable), ``report.html`` (optimisation history and parameter
importances, drawn with matplotlib from Optuna's importance evaluator), and refitting from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .._outputs import check_output_folder, write_output_folder
from ..errors import ModelFolderError
from ..evaluation import Report
from ..evaluation._plots import _figure, _png
from ._errors import TuningError
from ._search import TuneResult
from ._space import make_head


def history_png(trials: list[dict[str, Any]], scoring: str) -> bytes:
    """Score per trial (pruned trials at their last reported fold mean) and the best so far."""
    fig = _figure(6.5, 3.4)
    ax = fig.add_subplot()
    done = [t for t in trials if t["state"] == "COMPLETE"]
    pruned = [t for t in trials if t["state"] == "PRUNED" and t["value"] is not None]
    ax.scatter([t["number"] for t in done], [t["value"] for t in done], s=18, color="#3b75af", label="complete")
    if pruned:
        ax.scatter([t["number"] for t in pruned], [t["value"] for t in pruned], s=18, marker="x", color="#999999",
                   label="pruned (last fold mean)")
    if done:
        order = sorted(done, key=lambda t: t["number"])
        ax.step([t["number"] for t in order], np.maximum.accumulate([t["value"] for t in order]), where="post",
                color="#c62828", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"cross-validated {scoring}")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def importance_png(importances: dict[str, float]) -> bytes:
    names = list(importances)[::-1]
    fig = _figure(6.0, 0.45 * len(names) + 1.2)
    ax = fig.add_subplot()
    bars = ax.barh(range(len(names)), [importances[n] for n in names], color="#6a9f58")
    ax.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("importance (fANOVA, share of the score's variance)")
    ax.set_xlim(0, 1.1)
    return _png(fig)


def param_importances(study: Any, seed: int = 0) -> dict[str, float] | None:
    """fANOVA importances of the searched parameters over complete trials; None when too few trials
    (or too little variation) to estimate them."""
    import optuna

    try:
        return dict(optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed)))
    except (RuntimeError, ValueError, ZeroDivisionError):
        return None


def trial_rows(study: Any, cv: int | None = None) -> list[dict[str, Any]]:
    """One row per trial: number, state, value (a pruned trial's last reported fold mean) and folds scored,
    then its parameters. A complete trial scored all ``cv`` folds (the last fold is never reported, nor is any
    without a pruner); a pruned one the folds it reported."""
    from optuna.trial import TrialState

    rows = []
    for t in study.get_trials(deepcopy=False):
        value = t.value
        if value is None and t.intermediate_values:
            value = t.intermediate_values[max(t.intermediate_values)]
        folds = cv if cv is not None and t.state == TrialState.COMPLETE else len(t.intermediate_values)
        rows.append({"number": t.number, "state": t.state.name, "value": value, "folds": folds, **t.params})
    return rows


def tune_report(result: TuneResult, *, title: str | None = None, summary: dict[str, Any] | None = None) -> Report:
    rows = trial_rows(result.study, result.cv)
    counts = result.counts()
    bb = result.backbone_params
    report = Report(title or f"transferkit tune: {bb['backbone']}")
    report.paragraph(f"Best cross-validated {result.scoring}: {result.best_score:.4f} (trial "
                     f"{result.study.best_trial.number}) with "
                     + ", ".join(f"{k} = {v}" for k, v in result.best_params.items()) + ".", "positive")
    for note in result.notes:  # e.g. fewer folds than asked for, as best.json and the console say
        report.paragraph(f"Note: {note}.")
    report.heading("Search")
    report.table([{"setting": k, "value": v} for k, v in {
        **(summary or {}), "backbone": bb["backbone"], "head": result.head_name or type(result.head).__name__,
        "study": result.study.study_name, "storage": result.storage, "examples": result.n_samples,
        "feature width": result.n_features, "folds": result.cv, "scoring": result.scoring,
        "trials run now": result.trials_run, **{f"trials {k}": v for k, v in counts.items()},
        "feature seconds (one pass or cache)": result.extract_seconds, "search seconds (this run)": result.search_seconds,
    }.items()])
    report.table([{"parameter": k, **d.to_dict()} for k, d in result.space.items()])
    report.heading("Optimisation history")
    report.figure(history_png(rows, result.scoring), "Score per trial; pruned trials stopped after a fold below "
                  "the median of earlier trials")
    report.heading("Parameter importances")
    importances = param_importances(result.study, bb["random_state"])
    if importances:
        report.figure(importance_png(importances), "How much of the score's variation each parameter explains "
                      "(Optuna's fANOVA evaluator)")
    else:
        report.paragraph("Too few complete trials (or too little variation) to estimate importances.")
    report.heading("Best trials")
    best = sorted([r for r in rows if r["state"] == "COMPLETE"], key=lambda r: -r["value"])[:20]
    report.table(best)
    return report


def write_tune_outputs(result: TuneResult, out: str | Path, *, title: str | None = None,
                       summary: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``best.json`` and ``report.html`` into ``out`` (each atomically)."""
    out = Path(out)
    check_output_folder(out, ("best.json", "report.html"))  # before the report is drawn
    report = tune_report(result, title=title, summary=summary).render()
    best = json.dumps(result.to_dict(), indent=1, default=str)
    written = write_output_folder(out, {"best.json": best, "report.html": report})
    return {"best": written["best.json"], "report": written["report.html"]}


def load_best(path: str | Path) -> Any:
    """An unfitted :class:`~transferkit.TransferClassifier` rebuilt from a ``best.json`` (or the folder
    holding it), ready to fit on data."""
    from ..estimators import TransferClassifier
    from ..strategies import LinearProbe

    path = Path(path)
    if path.is_dir():
        path = path / "best.json"
    if not path.is_file():
        raise ModelFolderError(f"{str(path)!r} does not exist; run `transferkit tune ... --out` first")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelFolderError(f"{str(path)!r} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(config, dict) or config.get("format") != "transferkit-tune":
        raise ModelFolderError(f"{str(path)!r} is not a transferkit search result")
    if not config.get("head"):
        raise TuningError(f"{str(path)!r} records a custom head, which cannot be rebuilt from JSON; refit it with "
                          "TuneResult.refit in the session that searched it")
    params, settings = config.get("best_params"), config.get("backbone")
    if not isinstance(params, dict) or not isinstance(settings, dict):
        raise ModelFolderError(f"{str(path)!r} is damaged or was edited: its best_params and backbone must be "
                               "JSON objects")
    try:  # a hand-edited file: an unknown head, parameter or setting is named in one line
        head = make_head(config["head"]).set_params(**params)
        return TransferClassifier(strategy=LinearProbe(head=head), **settings)
    except (TypeError, ValueError) as exc:
        cause = str(exc).splitlines()[0].split(" for estimator ")[0]  # not scikit-learn's repr of the head
        raise ModelFolderError(f"{str(path)!r} cannot be rebuilt (damaged or edited): {cause}") from exc


def refit_to_folder(estimator: Any, X: Any, y: Any, folder: str | Path, *, best: dict[str, Any],
                    overwrite: bool = False, feature_names: Any = None) -> Path:
    """Fit ``estimator`` (a best configuration) on all of ``X``, ``y`` and save it as a model folder with
    ``best.json`` inside. ``feature_names``, a table's column names, are kept with the model, so that
    ``predict`` matches a table's columns by name (any order) instead of by position."""
    import numpy as np

    from ..estimators import check_writable

    folder = Path(folder)
    check_writable(folder, overwrite=overwrite)
    estimator.fit(X, y)
    if feature_names is not None:
        estimator.feature_names_in_ = np.asarray([str(n) for n in feature_names], dtype=object)
    return Path(estimator.save(folder, overwrite=overwrite,
                               extra_files={"best.json": json.dumps(best, indent=1, default=str).encode()}))
