"""``transferkit ensemble`` end to end (in-process with click's runner)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from tests.helpers import check_predict_reads_columns_by_name, named_columns_table, run_cli

from transferkit import load_model

TEXT = ["--text-column", "review", "--label-column", "sentiment"]


def test_ensemble_prints_member_and_ensemble_scores_and_writes_the_report(reviews: Path, tmp_path: Path) -> None:
    out = tmp_path / "ens"
    code, text = run_cli("ensemble", reviews, "--members", "tiny-text:linear,baseline", "--method", "stacking",
                         "--cv", "3", *TEXT, "--out", out)
    assert code == 0, text
    lines = text.splitlines()
    assert any(line.startswith("tiny-text:linear") and "member" in line for line in lines)
    assert any(line.startswith("no-transfer baseline") and "member" in line for line in lines)
    assert any(line.startswith("ensemble (stacking)") and "ensemble" in line for line in lines)
    assert "against" in text and "for its best member" in text
    assert sorted(p.name for p in out.iterdir()) == [".transferkit-outputs.json", "ensemble.json", "report.html"]
    data = json.loads((out / "ensemble.json").read_text())
    assert data["method"] == "stacking" and len(data["table"]) == 3
    assert "Ensemble vs its members" in (out / "report.html").read_text()


def test_ensemble_on_an_image_folder_with_bagging(image_folder: Path, tmp_path: Path) -> None:
    code, text = run_cli("ensemble", image_folder, "--members", "tiny-cnn,baseline", "--method", "bagging",
                         "--n-estimators", "2", "--cv", "2", "--image-size", "16", "--out", tmp_path / "e")
    assert code == 0, text
    assert "tiny-cnn (bagging)" in text and "ensemble (bagging)" in text


def test_ensemble_member_errors_name_the_member(reviews: Path, tmp_path: Path) -> None:
    code, text = run_cli("ensemble", reviews, "--members", "tiny-cnn", *TEXT, "--out", tmp_path / "e")
    assert code == 1 and "ensemble member 'tiny-cnn' reads image data, but the data holds text" in text
    assert not (tmp_path / "e").exists()
    code, text = run_cli("ensemble", reviews, "--members", "tiny-text,tiny-cnn", *TEXT, "--out", tmp_path / "e")
    assert code == 2 and "ensemble member 'tiny-cnn' reads image data, but the first member, 'tiny-text', reads " \
        "text data" in text, text
    assert not (tmp_path / "e").exists()
    code, text = run_cli("ensemble", reviews, "--members", "tiny-txt:linear", *TEXT, "--out", tmp_path / "e")
    assert code == 2 and "Invalid value for '--members'" in text and "ensemble member 'tiny-txt:linear'" in text
    # one model under two spellings (linear is the default strategy) would be scored against itself
    code, text = run_cli("ensemble", reviews, "--members", "tiny-text,tiny-text:linear", *TEXT, "--out", tmp_path / "e")
    assert code == 2 and "ensemble members 'tiny-text' and 'tiny-text:linear' are the same model (tiny-text " \
        "with the linear strategy); list it once" in text, text
    assert not (tmp_path / "e").exists()
    code, text = run_cli("ensemble", reviews, "--members", "tiny-text", *TEXT, "--out", tmp_path / "e", "--overwrite")
    assert code == 2 and "--overwrite only applies to the saved model (--save)" in text, text
    assert not (tmp_path / "e").exists()


def test_a_member_that_fails_to_fit_is_named(tmp_path: Path) -> None:
    """A member failing inside the comparison's cross-validation gave its cause without its name."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=np.where(X[:, 0] > 0, "p", "n")).to_csv(
        tmp_path / "t.csv", index=False)
    code, text = run_cli("ensemble", tmp_path / "t.csv", "--members", "identity:finetune,baseline", "--method",
                         "voting", "--cv", "3", "--no-cache", "--no-progress", "--out", tmp_path / "e")
    assert code == 1 and "'identity:finetune' failed to fit: backbone 'identity' has no trainable parameters" in text, text


def test_ensemble_save_writes_a_model_folder_that_predict_reads(reviews: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    args = ["ensemble", reviews, "--members", "tiny-text:linear,baseline", "--method", "voting", "--cv", "3", *TEXT,
            "--out", tmp_path / "ens", "--save", model]
    code, text = run_cli(*args)
    assert code == 0, text
    assert f"ensemble fitted on all 30 examples and saved to {model}" in text
    code, text = run_cli("predict", model, reviews, *TEXT)
    assert code == 0, text
    assert "proba_pos" in text and "prediction" in text
    code, text = run_cli(*args)  # an existing folder is refused before any work
    assert code == 1 and "already exists" in text and "--overwrite" in text
    code, text = run_cli(*args, "--overwrite")
    assert code == 0, text
    code, text = run_cli(*args[:-4], "--out", tmp_path / "same", "--save", tmp_path / "same")
    assert code == 1 and "is or lies inside the --save folder" in text and not (tmp_path / "same").exists(), text


def test_a_saved_ensemble_reads_table_columns_by_name(tmp_path: Path) -> None:
    """Ensemble folders kept neither the column names nor the width: a table with its columns in another
    order was predicted silently wrong, and one with a column missing failed inside scikit-learn."""
    frame = named_columns_table(tmp_path / "train.csv")
    code, text = run_cli("ensemble", tmp_path / "train.csv", "--members", "identity:linear,baseline", "--method",
                         "voting", "--cv", "3", "--no-cache", "--out", tmp_path / "ens", "--save", tmp_path / "m")
    assert code == 0, text
    assert load_model(tmp_path / "m").n_features_in_ == 3
    check_predict_reads_columns_by_name(tmp_path / "m", frame, tmp_path)
