"""``transferkit tune`` end to end (in-process with click's runner)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_cli

from transferkit.estimators import load_model

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
    assert code == 1 and "cannot open study storage 'sqlite:////no/such/dir/s.db'" in text
    assert len(text.strip().splitlines()) == 1
    code, text = run_cli("tune", reviews, "-b", "tiny-text", *TEXT, "--space", "{C: 1}", "--out", tmp_path / "o")
    assert code == 1 and "--space is not valid JSON" in text
    code, text = run_cli("tune", reviews, "-b", "tiny-txt", *TEXT, "--out", tmp_path / "o")
    assert code == 1 and "Unknown backbone 'tiny-txt'" in text
