"""``transferkit multitask`` and the workflow under it (fit a MultiTaskClassifier to a model folder with a report,
score each task against the no-transfer baseline), ``transferkit predict`` with a multi-task model, and every
bad input of them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.helpers import polarity_texts, run_cli

from transferkit import MultiTaskClassifier, load_model
from transferkit._multitask_workflow import (
    MultiTaskFitOutcome,
    fit_multitask_to_folder,
    multitask_holdout_rows,
    read_multitask_table,
)
from transferkit.data import Dataset
from transferkit.errors import DataError, ModelFolderError, StrategyError
from transferkit.workflows import predict_frame, read_new_data

run = run_cli


def task_frame(n: int = 60) -> pd.DataFrame:
    """Features f1..f4; task ``sign`` (pos/neg from f1), task ``big`` (0/1 from f2, blank on the first 11 rows)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4))
    frame = pd.DataFrame(X, columns=["f1", "f2", "f3", "f4"])
    frame["sign"] = np.where(X[:, 0] > 0, "pos", "neg")
    frame["big"] = (X[:, 1] > 0).astype(int).astype(object)
    frame.loc[:10, "big"] = None
    return frame


@pytest.fixture
def tasks_table(tmp_path: Path) -> Path:
    path = tmp_path / "tasks.csv"
    task_frame().to_csv(path, index=False)
    return path


@pytest.fixture
def tasks_texts(tmp_path: Path) -> Path:
    """Reviews (column ``review``) with an ``id``, task ``sentiment`` and task ``strong`` (blank on every 4th row)."""
    X, y = polarity_texts(15)
    strong = ["yes" if ("excellent" in t or "terrible" in t) else "no" for t in X]
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(len(X))], "review": X, "sentiment": y, "strong": strong})
    frame.loc[::4, "strong"] = None
    path = tmp_path / "texts.csv"
    frame.to_csv(path, index=False)
    return path


def _fit(data: Path, out: Path, *args: object) -> tuple[int, str]:
    return run("multitask", data, *args, "-o", out, "--no-progress")


# --- fit and predict end to end -----------------------------------------------------------------------------
def test_fine_tuning_a_feature_table_writes_a_model_folder_that_predicts_each_task(tasks_table: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    code, text = _fit(tasks_table, out, "--task", "sign", "--task", "big", "-b", "tiny-mlp", "-s", "finetune",
                      "--epochs", "2", "--task-weight", "big=2", "--min-val-size", "0",  # a validation split on 48 rows
                      "--monitor", "val_f1")  # the tasks' mean macro-F1
    assert code == 0, text
    assert "held-out" in text and "baseline" in text and f"model saved to {out}" in text
    assert "Task 'sign':" in text and "Task 'big':" in text
    assert {"transferkit.json", "report.html", "evaluation.json", "model.safetensors"} <= {p.name for p in out.iterdir()}
    report = (out / "report.html").read_text()
    assert report.index("<h2>Summary</h2>") < report.index("Results per task")  # the outcome first, as in fit's
    for section in ("Results per task", "missing labels", "Training curves", "val. accuracy big", "Configuration"):
        assert section in report
    told = "early stopping on 5 held-out rows (watching validation macro-F1): ran all 2 epochs"
    assert f"fine-tuning: {told}" in text and f"Fine-tuning: {told}" in report
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["tasks"] == ["sign", "big"] and set(evaluation["results"]) == {"sign", "big"}
    big = evaluation["results"]["big"]
    assert big["n_heldout"] < evaluation["n_heldout"] == 12  # only the held-out rows labelled for it
    assert isinstance(big["beats_baseline"], bool) and big["verdict"] in ("positive", "negative", "inconclusive")
    model = load_model(out)
    assert isinstance(model, MultiTaskClassifier) and model.tasks_.tolist() == ["sign", "big"]
    assert model.task_weights_ == (1.0, 2.0)

    # predict: the task columns are labels (blanks kept), never features; other columns first, by name
    frame = task_frame()
    new = frame[["big", "f4", "f3", "f2", "f1"]].assign(id=[f"r{i}" for i in range(len(frame))])
    new.to_csv(tmp_path / "new.csv", index=False)
    code, text = run("predict", out, tmp_path / "new.csv", "-o", tmp_path / "preds.csv")
    assert code == 0, text
    preds = pd.read_csv(tmp_path / "preds.csv")
    assert preds.columns.tolist() == ["id", "prediction_sign", "prediction_big", "proba_sign_neg", "proba_sign_pos",
                                      "proba_big_0", "proba_big_1", "label_big"]
    X = frame[["f1", "f2", "f3", "f4"]]
    assert preds["prediction_sign"].tolist() == model.predict(X)[:, 0].tolist()
    np.testing.assert_allclose(preds[["proba_big_0", "proba_big_1"]].to_numpy(), model.predict_proba(X)[1], atol=1e-6)
    assert preds["label_big"].isna().sum() == 11 and preds["label_big"].dropna().tolist() == frame["big"].dropna().tolist()
    assert preds["id"].tolist() == new["id"].tolist()


def test_checkpoints_and_resume_as_fit_has_them(tasks_table: Path, tmp_path: Path) -> None:
    from transferkit.training import complete_checkpoints

    args = ["--task", "sign", "--task", "big", "-b", "tiny-mlp", "-s", "finetune", "--epochs", "2"]
    code, text = _fit(tasks_table, tmp_path / "m1", *args, "--checkpoint-dir", tmp_path / "ck")
    assert code == 0, text
    (folder,) = (tmp_path / "ck").iterdir()  # the run's own folder (run-<key>), kept when given
    assert complete_checkpoints(folder)
    code, text = _fit(tasks_table, tmp_path / "m2", *args, "--checkpoint-dir", tmp_path / "ck")
    assert code == 1 and "already holds epoch-0002" in text and not (tmp_path / "m2").exists()
    code, text = _fit(tasks_table, tmp_path / "m2", *args, "--checkpoint-dir", tmp_path / "ck", "--resume")
    assert code == 0 and "resumed from checkpoint" in text, text
    first, resumed = (json.loads((tmp_path / m / "evaluation.json").read_text())["results"] for m in ("m1", "m2"))
    assert first == resumed
    # without --checkpoint-dir: OUT.checkpoints during the run, removed after it
    code, text = _fit(tasks_table, tmp_path / "m3", *args)
    assert code == 0 and not Path(f"{tmp_path / 'm3'}.checkpoints").exists(), text
    saved = {m: json.loads((tmp_path / m / "transferkit.json").read_text())["strategy"]["params"] for m in ("m1", "m3")}
    assert saved["m1"]["checkpoint_dir"] == str(tmp_path / "ck")  # a folder given is kept, and so named
    assert saved["m3"]["checkpoint_dir"] is None  # the removed default folder is not
    for bad, message in ((["-s", "linear", "--resume"], "--resume and --checkpoint-dir apply to fine-tuning strategies"),
                         (["--checkpoint-dir", tmp_path / "m4" / "ck"], "lies inside the model folder -o")):
        code, text = _fit(tasks_table, tmp_path / "m4", "--task", "sign", "--task", "big", "-b", "tiny-mlp", *bad)
        assert code == 2 and message in text, text
        assert not (tmp_path / "m4").exists()


def test_a_linear_probe_on_a_text_table_and_its_predictions(tasks_texts: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    code, text = _fit(tasks_texts, out, "--task", "sentiment", "--task", "strong", "--text-column", "review",
                      "-b", "tiny-text", "-s", "linear")
    assert code == 0, text
    assert "Training curves" not in (out / "report.html").read_text()  # a probe has no epochs
    code, text = run("predict", out, tasks_texts, "--text-column", "review", "-o", tmp_path / "preds.csv")
    assert code == 0, text
    preds = pd.read_csv(tmp_path / "preds.csv")
    # the texts keep the name of the column they were read from (--text-column review)
    assert preds.columns.tolist() == ["id", "review", "prediction_sentiment", "prediction_strong", "proba_sentiment_neg",
                                      "proba_sentiment_pos", "proba_strong_no", "proba_strong_yes", "label_sentiment",
                                      "label_strong"]
    given = pd.read_csv(tasks_texts)
    assert preds["label_strong"].isna().tolist() == given["strong"].isna().tolist()
    assert preds["prediction_sentiment"].tolist() == load_model(out).predict(given["review"].to_numpy(dtype=object))[:, 0].tolist()


def test_holdout_0_fits_on_all_rows_without_metrics(tasks_table: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    code, text = _fit(tasks_table, out, "--task", "big", "--task", "sign", "--holdout", "0")
    assert code == 0, text
    assert "strategy: linear" in text  # the default table backbone (identity) has nothing to fine-tune
    assert "No held-out data" in (out / "report.html").read_text() and not (out / "evaluation.json").exists()
    assert load_model(out).tasks_.tolist() == ["big", "sign"]
    code, text = _fit(tasks_table, out, "--task", "big", "--task", "sign", "--holdout", "0")
    assert code == 1 and "--overwrite" in text and "Traceback" not in text
    code, text = _fit(tasks_table, out, "--task", "big", "--task", "sign", "--holdout", "0", "--overwrite")
    assert code == 0, text


# --- bad input ----------------------------------------------------------------------------------------------
def _bad(tmp_path: Path, data: Path, args: list[object], *expected: str, code: int = 1) -> None:
    out = tmp_path / "never"
    got, text = _fit(data, out, *args)
    assert got == code, text
    assert "Traceback" not in text
    for e in expected:
        assert e in text, text
    assert not out.exists(), "no model folder"


def test_bad_tasks_are_named(tasks_table: Path, tasks_texts: Path, tmp_path: Path) -> None:
    _bad(tmp_path, tasks_table, ["--task", "sign", "--task", "nope"], "no task column 'nope'", "'f1', 'f2'")
    # wrong whatever the data: usage errors (exit 2), as --task-weight's were (these exited 1)
    _bad(tmp_path, tasks_table, ["--task", "sign", "--task", "sign"], "task 'sign' is named twice", code=2)
    _bad(tmp_path, tasks_table, ["--task", "sign"], "one task ('sign')", "transferkit fit DATA --label-column sign",
         code=2)
    _bad(tmp_path, tasks_texts, ["--task", "sentiment", "--task", "review", "--text-column", "review"],
         "task 'review' is also the text column")
    pd.DataFrame(columns=["f1", "sign", "big"]).to_csv(tmp_path / "empty.csv", index=False)
    _bad(tmp_path, tmp_path / "empty.csv", ["--task", "sign", "--task", "big"], "has no data rows")
    frame = task_frame()
    frame.loc[[2, 5], ["sign", "big"]] = None
    frame.to_csv(tmp_path / "unlabelled.csv", index=False)
    _bad(tmp_path, tmp_path / "unlabelled.csv", ["--task", "sign", "--task", "big"], "no label for any task in rows 3, 6")
    task_frame().assign(big=1).to_csv(tmp_path / "one_class.csv", index=False)
    _bad(tmp_path, tmp_path / "one_class.csv", ["--task", "sign", "--task", "big"], "task 'big'", "one class")


def test_strategies_and_options_that_cannot_fit_several_tasks_are_refused(tasks_table: Path, tmp_path: Path) -> None:
    tasks = ["--task", "sign", "--task", "big", "-b", "tiny-mlp"]
    for strategy in ("auto", "distill"):
        _bad(tmp_path, tasks_table, [*tasks, "-s", strategy], f"strategy {strategy!r} does not fit several tasks",
             code=2)
    _bad(tmp_path, tasks_table, [*tasks, "--balanced"], "--balanced", "drop --balanced", code=2)
    _bad(tmp_path, tasks_table, [*tasks, "--task-weight", "zz=2"], "--task-weight names 'zz'", "tasks: sign, big", code=2)
    _bad(tmp_path, tasks_table, [*tasks, "--task-weight", "sign"], "is not COL=WEIGHT", code=2)
    _bad(tmp_path, tasks_table, [*tasks, "--task-weight", "sign=0"], "must be a finite number > 0", code=2)
    _bad(tmp_path, tasks_table, [*tasks, "--task-weight", "sign=1", "--task-weight", "sign=2"], "weighted twice", code=2)
    # partial with its option trains (the name alone was checked without --freeze and always refused);
    # both counts are refused with partial's own message
    _bad(tmp_path, tasks_table, [*tasks, "-s", "partial", "--freeze", "1", "--train-top", "1", "--epochs", "1"],
         "at most one of --freeze and --train-top", code=2)
    # an option's error names only the strategies that fit several tasks (it named auto and distill too)
    _bad(tmp_path, tasks_table, [*tasks, "-s", "linear", "--epochs", "4"],
         "--epochs does not apply to strategy 'linear' (it applies to: finetune, gradual, lora, lpft, partial)", code=2)
    code, text = _fit(tasks_table, tmp_path / "partial", *tasks, "-s", "partial", "--freeze", "1", "--epochs", "1")
    assert code == 0 and "model saved to" in text, text
    code, text = _fit(tasks_table, tmp_path / "partial-default", *tasks, "-s", "partial", "--epochs", "1")
    assert code == 0 and "model saved to" in text, text  # neither count: the top half trains


# --- the Python workflow ------------------------------------------------------------------------------------
def test_the_workflow_from_python(tmp_path: Path) -> None:
    frame = task_frame()
    data = Dataset(X=frame[["f1", "f2", "f3", "f4"]].to_numpy(), y=None, modality="table")
    est = MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False)
    outcome = fit_multitask_to_folder(est, data, frame[["sign", "big"]], tmp_path / "m", holdout=0.25, random_state=1)
    assert isinstance(outcome, MultiTaskFitOutcome) and outcome.folder == tmp_path / "m"
    assert outcome.results is not None and list(outcome.results) == ["sign", "big"]
    sign = outcome.results["sign"]
    assert sign.n_heldout == 15 and 0 <= sign.accuracy <= 1 and sign.gain is not None
    assert sign.gain.mean == pytest.approx(sign.accuracy - sign.baseline_accuracy)
    assert sign.beats_baseline == (sign.gain.low > 0)
    assert (outcome.folder / "evaluation.json").exists() and load_model(outcome.folder).tasks_.tolist() == ["sign", "big"]
    assert fit_multitask_to_folder(est, data, frame[["sign", "big"]], tmp_path / "all", holdout=0).results is None


def test_the_workflow_refuses_bad_input_before_any_work(tmp_path: Path) -> None:
    frame = task_frame()
    X = frame[["f1", "f2", "f3", "f4"]].to_numpy()
    data, Y = Dataset(X=X, y=None, modality="table"), frame[["sign", "big"]]
    est = MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(ModelFolderError):
        fit_multitask_to_folder(MultiTaskClassifier(backbone="tiny-mlp", strategy="auto"), data, Y, tmp_path / "taken")
    with pytest.raises(StrategyError, match="'auto' does not fit several tasks"):
        fit_multitask_to_folder(MultiTaskClassifier(backbone="tiny-mlp", strategy="auto"), data, Y, tmp_path / "m")
    with pytest.raises(DataError, match="one task"):
        fit_multitask_to_folder(est, data, Y[["sign"]], tmp_path / "m")
    with pytest.raises(DataError, match="labels of its own"):
        fit_multitask_to_folder(est, Dataset(X=X, y=frame["sign"].to_numpy(), modality="table"), Y, tmp_path / "m")
    with pytest.raises(DataError, match="no rows"):
        fit_multitask_to_folder(est, Dataset(X=X[:0], y=None, modality="table"), Y.iloc[:0], tmp_path / "m")
    with pytest.raises(DataError, match="60 samples but 59 labels"):
        fit_multitask_to_folder(est, data, Y.iloc[:59], tmp_path / "m")
    with pytest.raises(StrategyError, match="task_weights names task 'zz'"):
        fit_multitask_to_folder(est.set_params(task_weights={"zz": 2.0}), data, Y, tmp_path / "m")
    assert not (tmp_path / "m").exists() and not hasattr(est, "model_")


def test_the_split_is_stratified_on_the_first_task_with_unlabelled_rows_as_a_group() -> None:
    labels = np.array(["a"] * 20 + ["b"] * 10 + [None] * 10, dtype=object)
    data = Dataset(X=np.zeros((40, 1)), y=None, modality="table")
    rows = multitask_holdout_rows(data, "t", labels, 0.5, 0)
    assert rows is not None
    held = labels[rows[1]]
    assert (held == "a").sum() == 10 and (held == "b").sum() == 5 and pd.isna(held).sum() == 5
    assert multitask_holdout_rows(data, "t", labels, 0, 0) is None
    with pytest.raises(DataError, match="stratified on task 't'.*'c' has only 1 example"):
        multitask_holdout_rows(data, "t", np.append(labels[:-1], "c"), 0.2, 0)


def test_task_columns_are_never_read_as_features_when_predicting(tmp_path: Path) -> None:
    frame = task_frame(40)
    X = frame[["f1", "f2", "f3", "f4"]].to_numpy()  # fitted on an array: the model knows no column names
    model = MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False).fit(X, frame[["sign", "big"]])
    frame.to_csv(tmp_path / "new.csv", index=False)
    data, labels, unread = read_new_data(tmp_path / "new.csv", model, "the model")
    assert data.X.shape == (40, 4) and unread is None
    assert isinstance(labels, pd.DataFrame) and labels.columns.tolist() == ["sign", "big"]
    out = predict_frame(model, data, labels, unread)
    assert out.columns.tolist()[:2] == ["prediction_sign", "prediction_big"]
    assert out["label_sign"].tolist() == frame["sign"].tolist() and out["label_big"].isna().sum() == 11


def test_read_multitask_table_returns_the_data_without_its_task_columns(tasks_table: Path) -> None:
    data, Y = read_multitask_table(tasks_table, ["big", "sign"])
    assert data.feature_names == ["f1", "f2", "f3", "f4"] and data.y is None
    assert Y.columns.tolist() == ["big", "sign"] and Y["big"].isna().sum() == 11


def test_a_held_out_label_that_no_training_row_has_is_counted_as_an_error_and_said(tmp_path: Path) -> None:
    frame = task_frame()
    frame["big"] = frame["big"].map({0: "no", 1: "yes"})  # blanks stay blank
    data = Dataset(X=frame[["f1", "f2", "f3", "f4"]].to_numpy(), y=None, modality="table")
    rows = multitask_holdout_rows(data, "sign", frame["sign"].to_numpy(dtype=object), 0.2, 0)
    assert rows is not None
    rare = int(rows[1][np.flatnonzero(frame["big"].notna().to_numpy()[rows[1]])[0]])  # a held-out row labelled for big
    frame.loc[rare, "big"] = "rare"
    est = MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False)
    outcome = fit_multitask_to_folder(est, data, frame[["sign", "big"]], tmp_path / "m")
    assert outcome.results is not None and outcome.results["big"].unseen_classes == ["rare"]
    assert "rare" not in est.classes_[1].tolist() and outcome.results["big"].accuracy < 1
    assert any("'rare'" in note for note in outcome.notes)
    assert "no training row has" in (tmp_path / "m" / "report.html").read_text()


def test_the_help_lists_no_distillation_option() -> None:
    """--teacher-cv was listed (and always refused: multitask refuses distill) while --teacher was hidden."""
    code, text = run_cli("multitask", "--help")
    assert code == 0 and "--task" in text
    for option in ("--teacher", "--teacher-cv", "--temperature", "--label-weight", "--budget", "--balanced"):
        assert f"{option} " not in text, option
