"""``transferkit tune`` end to end (in-process with click's runner)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.helpers import run_cli

from transferkit.estimators import load_model
from transferkit.tuning import TuningError, tune

TEXT = ["--text-column", "review", "--label-column", "sentiment"]


def test_tune_writes_best_json_and_report_resumes_and_refits(reviews: Path, tmp_path: Path) -> None:
    out = tmp_path / "search"
    code, text = run_cli("tune", reviews, "-b", "tiny-text", *TEXT, "--trials", "4", "--sampler", "random",
                         "--cv", "3", "--out", out, "--no-progress")
    assert code == 0, text
    assert "best accuracy:" in text and "(this run: 4)" in text
    assert {"best.json", "report.html", "study.db"} <= {p.name for p in out.iterdir()}
    best = json.loads((out / "best.json").read_text())
    assert best["backbone"]["backbone"] == "tiny-text" and best["head"] == "logistic"
    assert set(best["best_params"]) == {"logisticregression__C", "logisticregression__class_weight"}
    html = (out / "report.html").read_text()
    assert "Optimisation history" in html and "reviews.csv" in html

    code, text = run_cli("tune", reviews, "-b", "tiny-text", *TEXT, "--trials", "6", "--sampler", "random",
                         "--cv", "3", "--out", out, "--no-progress", "--refit")
    assert code == 0, text
    assert "(this run: 2)" in text and "model saved to" in text
    model = load_model(out / "model")
    assert json.loads((out / "model" / "best.json").read_text())["trials"]["complete"] >= 1
    assert set(model.predict(["great lovely good", "awful bad poor"])) <= {"pos", "neg"}


def test_tune_grid_with_an_explicit_space_and_a_shared_storage(reviews: Path, tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    space = '{"logisticregression__C": [0.1, 1, 10]}'
    code, text = run_cli("tune", reviews, "-b", "tiny-text", *TEXT, "--sampler", "grid", "--space", space,
                         "--trials", "50", "--storage", f"sqlite:///{db}", "--study", "grid-run", "--cv", "2",
                         "--pruner", "none", "--out", tmp_path / "o", "--no-progress")
    assert code == 0, text
    assert "3 complete" in text and db.is_file() and not (tmp_path / "o" / "study.db").exists()


def test_tune_errors_are_one_line(reviews: Path, tmp_path: Path) -> None:
    code, text = run_cli("tune", reviews, "-b", "tiny-text", *TEXT, "--storage", "sqlite:////no/such/dir/s.db",
                         "--out", tmp_path / "o", "--no-progress")
    assert code == 2 and "Invalid value for '--storage': cannot open study storage 'sqlite:////no/such/dir/s.db'" \
        in text and "Traceback" not in text, text
    for study in ("/proc/s.journal", "/proc/s.db"):  # a folder nothing can be created in (even by root): at once
        code, text = run_cli("tune", reviews, "-b", "tiny-text", *TEXT, "--storage", study, "--out", tmp_path / "o")
        assert code == 2 and "Invalid value for '--storage': cannot open study storage" in text \
            and "cannot write in '/proc'" in text and "not a readable" not in text, text
    with pytest.raises(TuningError, match="cannot create the journal file"):  # the API, which opens it to know
        frame = pd.read_csv(reviews)
        tune(frame["review"].to_numpy(dtype=object), frame["sentiment"].to_numpy(), backbone="tiny-text", n_trials=1,
             storage="/proc/s.journal", cache=False)
    code, text = run_cli("tune", reviews, "-b", "tiny-text", *TEXT, "--space", "{C: 1}", "--out", tmp_path / "o")
    assert code == 2 and "Invalid value for '--space': not valid JSON" in text, text
    code, text = run_cli("tune", reviews, "-b", "tiny-txt", *TEXT, "--out", tmp_path / "o")
    assert code == 2 and "Unknown backbone 'tiny-txt'" in text


def test_a_refitted_table_model_matches_columns_by_name(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b"], 20)
    table = pd.DataFrame(rng.normal(size=(40, 4)), columns=["f1", "f2", "f3", "f4"])
    table["f1"] += np.where(y == "a", 3.0, -3.0)  # the class lives in f1 only
    table["label"] = y
    table.to_csv(tmp_path / "t.csv", index=False)
    table[["f4", "f3", "f2", "f1", "label"]].to_csv(tmp_path / "reordered.csv", index=False)
    out = tmp_path / "search"
    code, text = run_cli("tune", tmp_path / "t.csv", "-b", "identity", "--trials", "2", "--cv", "2", "--out", out,
                         "--no-progress", "--refit")
    assert code == 0, text
    assert json.loads((out / "model" / "transferkit.json").read_text())["feature_names_in"] == ["f1", "f2", "f3", "f4"]
    preds = []
    for name in ("t.csv", "reordered.csv"):
        code, text = run_cli("predict", out / "model", tmp_path / name, "-o", tmp_path / f"p-{name}")
        assert code == 0, text
        preds.append(pd.read_csv(tmp_path / f"p-{name}"))
    pd.testing.assert_frame_equal(preds[0], preds[1])  # columns matched by name, not by position


def test_tune_refuses_before_the_search_what_it_must_not_write(reviews: Path, tmp_path: Path) -> None:
    (tmp_path / "search" / "model").mkdir(parents=True)
    (tmp_path / "search" / "model" / "notes.txt").write_text("mine")
    code, text = run_cli("tune", reviews, "-b", "tiny-text", *TEXT, "--trials", "2", "--cv", "2",
                         "--out", tmp_path / "search", "--refit")
    assert code == 1 and f"Error: --refit saves the model to '{tmp_path / 'search' / 'model'}', which holds other " \
        "files (not a transferkit model folder); move them or choose another --out" in text, text
    assert "overwrite" not in text  # tune has no --overwrite
    assert sorted(p.name for p in (tmp_path / "search").iterdir()) == ["model"]  # no search ran, nothing written
    data = tmp_path / "imgs"
    (data / "a").mkdir(parents=True)
    code, text = run_cli("tune", data, "-b", "tiny-cnn", "--storage", data / "a" / "study.journal",
                         "--out", tmp_path / "o")
    assert code == 1 and "lies inside the input folder" in text, text
    assert sorted(p.name for p in data.rglob("*")) == ["a"]


def _table(path: Path) -> Path:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b"], 30)
    table = pd.DataFrame(rng.normal(size=(60, 4)), columns=["f1", "f2", "f3", "f4"])
    table["f1"] += np.where(y == "a", 1.5, -1.5)
    table["label"] = y
    table.to_csv(path, index=False)
    return path


def test_tune_storage_and_scoring_mistakes_are_usage_errors(tmp_path: Path) -> None:
    import sqlite3

    data = _table(tmp_path / "tab.csv")
    mine = tmp_path / "mine.db"
    conn = sqlite3.connect(mine)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    code, text = run_cli("tune", data, "-b", "identity", "--storage", mine, "--out", tmp_path / "o")
    assert code == 2 and f"Invalid value for '--storage': cannot open study storage 'sqlite:///{mine}': it is a " \
        "SQLite database of other tables (people), not an Optuna study database" in text, text
    conn = sqlite3.connect(mine)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["people"]  # nothing added
    conn.close()
    code, text = run_cli("tune", data, "-b", "identity", "--storage", "journal://relative.journal",
                         "--out", tmp_path / "o")
    assert code == 2 and "a journal URL needs an absolute path" in text and "plugin" not in text, text
    code, text = run_cli("tune", data, "-b", "identity", "--scoring", "acc", "--out", tmp_path / "o")
    assert code == 2 and "did you mean accuracy" in text, text
    code, text = run_cli("tune", data, "-b", "identity", "--scoring", "neg_mean_squared_error", "--out", tmp_path / "o")
    assert code == 2 and "is a regression scorer" in text, text
    code, text = run_cli("tune", data, "-b", "identity", "--trials", "5", "--timeout", "0.000001",
                         "--out", tmp_path / "o", "--no-progress")
    assert code == 1 and "ended the search before its first trial" in text and "--timeout" in text, text
    assert "pruned" not in text and not (tmp_path / "o").exists()


def test_tune_shows_each_warning_once_as_one_line(tmp_path: Path) -> None:
    data = _table(tmp_path / "tab.csv")
    journal = tmp_path / "s.journal"
    args = ("tune", data, "-b", "identity", "--cv", "2", "--storage", journal, "--no-progress")
    code, text = run_cli(*args, "--trials", "2", "--out", tmp_path / "a")
    assert code == 0, text
    with journal.open("ab") as f:
        f.write(b'{"op_code": 4, "worker_id"')  # a record cut off by a killed process
    code, text = run_cli(*args, "--trials", "3", "--out", tmp_path / "a")
    assert code == 0 and "(this run: 1)" in text, text
    lines = [line for line in text.splitlines() if "dropped an incomplete last record" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: "), text
    assert "RuntimeWarning" not in text and "_journal.py" not in text

    space = '{"logisticregression__C": [0.5, 1, 2]}'
    code, text = run_cli("tune", data, "-b", "identity", "--cv", "3", "--trials", "3", "--space", space,
                         "--sampler", "grid", "--out", tmp_path / "b", "--no-progress")
    assert code == 0 and "warning:" not in text, text  # a search with no warning prints none


def test_a_warning_repeated_by_every_fold_is_shown_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """scikit-learn's FutureWarning for a deprecated parameter (logisticregression__penalty) comes from every
    fit; the CLI shows it once, on one line, without its source line."""
    import warnings

    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression.fit

    def noisy_fit(self: LogisticRegression, *args: object, **kwargs: object) -> LogisticRegression:
        warnings.warn("'penalty' was deprecated\nin version 1.8.", FutureWarning, stacklevel=2)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(LogisticRegression, "fit", noisy_fit)
    data = _table(tmp_path / "tab.csv")
    code, text = run_cli("tune", data, "-b", "identity", "--cv", "3", "--trials", "3", "--out", tmp_path / "o",
                         "--no-progress")
    assert code == 0, text
    assert text.count("'penalty' was deprecated") == 1 and "warning: 'penalty' was deprecated in version 1.8." in text
    assert "FutureWarning" not in text and "warnings.warn" not in text
