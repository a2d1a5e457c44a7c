"""``transferkit rank`` and ``transferkit distance`` end to end (in-process with click's runner)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.helpers import polarity_texts, run_cli

TEXT = ["--text-column", "review", "--label-column", "sentiment"]


run = run_cli




def _one_informative_column(path: Path) -> Path:
    """A labelled table whose class lives in column f0 (means +3 / -3), the other columns noise: the raw
    columns (identity) and a random MLP that mixes them (tiny-mlp) give really different features."""
    import numpy as np

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 32)), np.repeat(["pos", "neg"], 20)
    X[:, 0] += np.where(y == "pos", 3.0, -3.0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(32)])
    frame["sentiment"] = y
    frame.to_csv(path, index=False)
    return path


def test_rank_prints_a_ranked_table_and_writes_the_report(tmp_path: Path) -> None:
    table, out = _one_informative_column(tmp_path / "columns.csv"), tmp_path / "ranking"
    # given worst first; identity and its control have the same features (a tie), h_score_shrinkage puts them
    # above tiny-mlp and logme below it: the order shows the sort, its direction, the primary score and ties
    code, text = run("rank", table, "-b", "tiny-mlp, identity, random:identity", "--scores",
                     "h_score_shrinkage,logme", "--label-column", "sentiment", "--out", out, "--no-progress")
    assert code == 0, text
    header = next(line for line in text.splitlines() if "backbone" in line)
    assert header.split()[:5] == ["rank", "backbone", "h_score_shrinkage", "logme", "leep"]
    assert "ranked by h_score_shrinkage (higher is better): best is identity" in text
    assert "identity ties with its random-weight control on h_score_shrinkage" in text
    assert sorted(p.name for p in out.iterdir()) == [".transferkit-outputs.json", "ranking.json", "report.html"]
    data = json.loads((out / "ranking.json").read_text())
    assert data["primary"] == "h_score_shrinkage" and data["n_samples"] == 40 and data["modality"] == "table"
    ranking = data["ranking"]
    assert [r["backbone"] for r in ranking] == ["identity", "random:identity", "tiny-mlp"]  # a tie keeps the order
    assert [r["rank"] for r in ranking] == [1, 2, 3]
    shrinkage = [r["scores"]["h_score_shrinkage"] for r in ranking]
    assert shrinkage[0] == shrinkage[1] > shrinkage[2]
    assert ranking[0]["scores"]["logme"] < ranking[2]["scores"]["logme"], "logme alone would order them otherwise"
    rows = [line.split() for line in text.splitlines() if line.split()[:1] in (["1"], ["2"], ["3"])]
    assert [r[:2] for r in rows] == [["1", "identity"], ["2", "random:identity"], ["3", "tiny-mlp"]]
    for row, r in zip(rows, ranking, strict=True):
        assert row[2] == f"{r['scores']['h_score_shrinkage']:.4f}" and row[3] == f"{r['scores']['logme']:.4f}"
    html = (out / "report.html").read_text()
    assert "columns.csv" in html and html.count("<img") == 2


def test_rank_by_a_score_no_backbone_has_fails_and_writes_nothing(reviews: Path, tmp_path: Path) -> None:
    """LEEP needs a source classifier head, which tiny backbones lack: nothing can be ranked by it."""
    out = tmp_path / "ranking"
    code, text = run("rank", reviews, "-b", "tiny-text", "--scores", "leep", *TEXT, "--out", out, "--no-progress")
    assert code == 1 and "no backbone has a leep score (it needs a source classifier head)" in text, text
    assert "put another score first in --scores. Nothing was written." in text and "Traceback" not in text
    assert not out.exists()


def test_rank_an_image_folder_and_a_packaged_dataset(image_folder: Path, tmp_path: Path) -> None:
    code, text = run("rank", image_folder, "-b", "tiny-cnn", "--image-size", "32", "--out", tmp_path / "a",
                     "--no-progress", "--no-cache")
    assert code == 0, text
    assert json.loads((tmp_path / "a" / "ranking.json").read_text())["modality"] == "image"
    code, text = run("rank", "digits", "--per-class", "4", "-b", "tiny-cnn", "--scores", "linear_probe",
                     "--out", tmp_path / "b", "--no-progress")
    assert code == 0, text
    data = json.loads((tmp_path / "b" / "ranking.json").read_text())
    assert data["n_samples"] == 40 and data["n_classes"] == 10


def test_distance_prints_and_writes(reviews: Path, tmp_path: Path) -> None:
    X, _ = polarity_texts(10, seed=1)
    other = tmp_path / "other.csv"
    pd.DataFrame({"review": X}).to_csv(other, index=False)  # no label column: not needed for a distance
    out = tmp_path / "dist"
    code, text = run("distance", reviews, other, "-b", "tiny-text", "--metrics", "mmd_rbf,coral", *TEXT,
                     "--out", out)
    assert code == 0, text
    lines = text.splitlines()
    assert lines[0].startswith("mmd_rbf") and lines[1].startswith("coral")
    data = json.loads((out / "distance.json").read_text())
    assert list(data["distances"]) == ["mmd_rbf", "coral"] and data["modality"] == "text"
    assert data["first"]["samples"] == 30 and data["second"]["samples"] == 20
    assert f"{data['distances']['mmd_rbf']:.4f}" in lines[0]
    assert "tiny-text" in (out / "report.html").read_text()


def _bad(tmp_path: Path, args: list[object], *expected: str, status: int = 1) -> None:
    """An error (status 1: one line) or a usage error (status 2: usage, then the error) that writes nothing."""
    out = tmp_path / "never"
    code, text = run(*args, "--out", out)
    assert code == status, text
    assert "Traceback" not in text
    assert status == 2 or len(text.strip().splitlines()) == 1, text
    for e in expected:
        assert e in text, text
    assert not out.exists(), "nothing is written on error"


def test_rank_bad_input_is_one_line(reviews: Path, image_folder: Path, tmp_path: Path) -> None:
    _bad(tmp_path, ["rank", reviews, "-b", "tiny-text,tiny-cnn", *TEXT],
         "backbone 'tiny-cnn' reads image data, but the data holds text")
    _bad(tmp_path, ["rank", reviews, "-b", "tiny-text", "--scores", "logme,entropy", *TEXT],
         "'--scores'", "unknown score 'entropy'", "linear_probe", status=2)
    _bad(tmp_path, ["rank", reviews, "-b", "tiny-text,tiny-text", *TEXT], "listed twice", status=2)
    _bad(tmp_path, ["rank", reviews, "-b", " , ", *TEXT], "no backbone to rank", status=2)
    _bad(tmp_path, ["rank", reviews, "-b", "tiny-txt", *TEXT], "Unknown backbone 'tiny-txt'", "Did you mean",
         status=2)
    _bad(tmp_path, ["rank", reviews, "-b", "tiny-text"], "'label'")
    _bad(tmp_path, ["rank", tmp_path / "missing.csv", "-b", "tiny-text"], "missing.csv", "does not exist")
    X, _ = polarity_texts(5)
    pd.DataFrame({"review": X, "sentiment": ["pos"] * 9 + ["neg"]}).to_csv(tmp_path / "single.csv", index=False)
    _bad(tmp_path, ["rank", tmp_path / "single.csv", "-b", "tiny-text", *TEXT], "class 'neg' has a single example")


def test_distance_bad_input_is_one_line(reviews: Path, image_folder: Path, tmp_path: Path) -> None:
    _bad(tmp_path, ["distance", reviews, image_folder, "-b", "tiny-text", *TEXT],
         "the first dataset holds text and the second image")
    _bad(tmp_path, ["distance", reviews, reviews, "-b", "tiny-text", "--metrics", "kl", *TEXT],
         "'--metrics'", "unknown distance 'kl'", status=2)
    _bad(tmp_path, ["distance", image_folder, image_folder, "-b", "tiny-text"], "reads text data")
    _bad(tmp_path, ["distance", reviews, tmp_path / "nope.csv", "-b", "tiny-text", *TEXT], "nope.csv")


def test_commands_are_listed() -> None:
    code, text = run("--help")
    assert code == 0 and "rank" in text and "distance" in text


def test_names_are_checked_before_the_data_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import transferkit.workflows

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data was read before the names were checked")

    monkeypatch.setattr(transferkit.workflows, "resolve_data", never)
    _bad(tmp_path, ["rank", "fashion-mnist", "-b", "efficientnet-lite0", "--scores", "logme,entropy"],
         "unknown score 'entropy'", status=2)
    _bad(tmp_path, ["rank", "fashion-mnist", "-b", "efficientnet-lite0,efficientnet-lit2"], "'efficientnet-lit2'",
         status=2)
    _bad(tmp_path, ["distance", "fashion-mnist", "mnist", "-b", "efficientnet-lite0", "--metrics", "kl"],
         "unknown distance 'kl'", status=2)
    _bad(tmp_path, ["distance", "fashion-mnist", "mnist", "-b", "random:"], "names no backbone", status=2)


def test_rank_help_names_every_score() -> None:
    from transferkit.selection import SCORES
    from transferkit.selection._rank import SOURCE_SCORES

    code, text = run("rank", "--help")
    assert code == 0, text
    help_text = " ".join(text.split())  # click wraps the help over lines
    for name in [*SCORES, *SOURCE_SCORES]:
        assert f" {name}," in help_text or f" {name})" in help_text or f"({name}," in help_text, name


def test_rank_and_distance_never_replace_a_user_file(reviews: Path, tmp_path: Path) -> None:
    out = tmp_path / "ow"
    out.mkdir()
    (out / "ranking.json").write_text("notes")
    code, text = run("rank", reviews, "-b", "tiny-text", *TEXT, "--scores", "knn", "-o", out, "--no-progress")
    assert code == 2 and "'ranking.json', which transferkit did not write" in text, text
    assert (out / "ranking.json").read_text() == "notes" and sorted(p.name for p in out.iterdir()) == ["ranking.json"]
    (out / "distance.json").write_text("notes")
    code, text = run("distance", reviews, reviews, "-b", "tiny-text", *TEXT, "-o", out)
    assert code == 2 and "'distance.json', which transferkit did not write" in text, text


def test_distance_matches_table_columns_by_name(tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    first = pd.DataFrame(rng.normal(size=(30, 3)) * [1.0, 10.0, 0.1], columns=["f1", "f2", "f3"])
    first.to_csv(tmp_path / "a.csv", index=False)
    first[["f3", "f1", "f2"]].to_csv(tmp_path / "swapped.csv", index=False)
    first.rename(columns={"f1": "g1"}).to_csv(tmp_path / "renamed.csv", index=False)
    code, text = run("distance", tmp_path / "a.csv", tmp_path / "swapped.csv", "-b", "identity", "--metrics",
                     "mmd_rbf,coral", "--no-cache", "-o", tmp_path / "d")
    assert code == 0, text
    values = json.loads((tmp_path / "d" / "distance.json").read_text())["distances"]
    assert values["coral"] < 1e-9 and values["mmd_rbf"] < 1e-6, "the same table, its columns matched by name"
    code, text = run("distance", tmp_path / "a.csv", tmp_path / "renamed.csv", "-b", "identity", "--no-cache",
                     "-o", tmp_path / "r")
    assert code == 1 and "lacks the feature column(s) 'f1'" in text and "'g1'" in text, text
