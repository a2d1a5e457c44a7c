"""``transferkit select`` end to end (in-process with click's runner)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_cli

TEXT = ["--text-column", "review", "--label-column", "sentiment"]


def test_select_prints_the_table_and_writes_the_report(reviews: Path, tmp_path: Path) -> None:
    out = tmp_path / "sel"
    code, text = run_cli("select", reviews, "-b", "tiny-text", "--methods", "anova,chi2", "--shift", "minmax",
                         "--cv", "3", "--selector-cv", "2", "--fractions", "0.25,1", *TEXT,
                         "--cache-dir", tmp_path / "cache", "--out", out, "--no-progress")
    assert code == 0, text
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("method"))
    assert [line.split()[0] for line in lines[header + 1: header + 4]] == ["all", "anova", "chi2"]
    assert sorted(p.name for p in out.iterdir()) == [".transferkit-outputs.json", "report.html", "selection.json"]
    data = json.loads((out / "selection.json").read_text())
    assert data["methods"] == ["anova", "chi2"] and data["n_samples"] == 30 and data["n_features"] == 16
    assert data["info"]["backbone"] == "tiny-text" and data["info"]["shift"] == "minmax"
    anova = next(r for r in data["table"] if r["method"] == "anova")
    assert f"{anova['accuracy']:.3f}" in lines[header + 2]
    assert "reviews.csv" in (out / "report.html").read_text()


def test_select_bad_input_is_one_line_and_writes_nothing(reviews: Path, tmp_path: Path) -> None:
    out = tmp_path / "never"
    for args, expected, status in [
        (["--methods", "anova,lasso"], "Invalid value for '--methods' / '-m': unknown feature-selection method 'lasso'",
         2),  # a usage error, found while the options are parsed
        (["--methods", "chi2"], "chi2 needs non-negative features, but column 0 (tiny-text_0)", 1),
    ]:
        code, text = run_cli("select", reviews, "-b", "tiny-text", *args, *TEXT, "--no-cache", "--out", out,
                             "--no-progress")
        assert code == status, text
        assert expected in text and "Traceback" not in text, text
        assert status == 2 or len(text.strip().splitlines()) == 1, text
        assert not out.exists()


def test_select_bad_fractions_are_a_usage_error_before_any_work(reviews: Path, tmp_path: Path) -> None:
    out = tmp_path / "never"
    for fractions, expected in [("0.5,x", "'x' is not a valid float"), ("0,1", "0.0 is not in the range"),
                                ("0.5,nan", "'nan' is not a finite number"), (",", "holds no number")]:
        code, text = run_cli("select", reviews, "-b", "tiny-text", "--fractions", fractions, *TEXT, "--no-cache",
                             "--out", out, "--no-progress")
        assert code == 2 and expected in text and "Traceback" not in text, text
        assert not out.exists()
