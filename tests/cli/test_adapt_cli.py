"""``transferkit adapt``: methods compared with source-only, auto, the report, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.helpers import run_cli as run

COLS = [f"f{i}" for i in range(4)]


def _write(path: Path, X: np.ndarray, y: np.ndarray | None) -> Path:
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    if y is not None:
        frame["label"] = y
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def domains(tmp_path: Path) -> dict[str, Path]:
    """Numeric tables: a labelled source, a shifted target (with labels, for evaluation), the same target
    without labels, and a few labelled target rows."""
    rng = np.random.default_rng(0)

    def draw(n: int, shift: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 2, n)
        X = rng.normal(size=(n, 4))
        X[:, 0] += 3 * y - 1.5
        return X * scale + shift, np.array(["neg", "pos"])[y]

    Xs, ys = draw(80, 0.0, 1.0)
    Xt, yt = draw(60, 1.5, 1.3)
    Xf, yf = draw(6, 1.5, 1.3)
    return {
        "source": _write(tmp_path / "source.csv", Xs, ys),
        "target": _write(tmp_path / "target.csv", Xt, yt),
        "unlabelled": _write(tmp_path / "unlabelled.csv", Xt, None),
        "few": _write(tmp_path / "few.csv", Xf, yf),
        "wide": _write(tmp_path / "wide.csv", np.hstack([Xt, Xt[:, :1]]), yt),
        "other_labels": _write(tmp_path / "other.csv", Xt, np.where(yt == "pos", "pos", "meh")),
    }


def test_adapt_compares_methods_with_source_only(domains: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = run("adapt", "--source", domains["source"], "--target", domains["target"], "-b", "identity",
                     "--method", "coral,kmm,auto", "--out", out)
    assert code == 0, text
    assert "target accuracy" in text and "auto choice:" in text
    for method in ("source-only", "coral", "kmm"):
        assert any(line.startswith(method) for line in text.splitlines()), text
    data = json.loads((out / "adapt.json").read_text())
    assert data["evaluated"] and data["auto_choice"] in data["selection_scores"]
    assert {g["method"] for g in data["guard"]} >= {"source-only", "coral", "kmm", "auto"}
    assert set(data["distances"]) == {"before adaptation", "coral", "kmm", *([data["auto_choice"]]
                                      if data["auto_choice"] != "source-only" else [])}
    html = (out / "report.html").read_text()
    assert "Domain distance before and after adaptation" in html and "t-SNE" in html and "data:image/png" in html


def test_adapt_without_target_labels_estimates(domains: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = run("adapt", "-s", domains["source"], "-t", domains["unlabelled"], "-b", "identity",
                     "--method", "coral,sa", "--no-tsne", "--out", out)
    assert code == 0, text
    assert "estimated" in text and "target accuracy" not in text
    data = json.loads((out / "adapt.json").read_text())
    assert not data["evaluated"] and all(g["basis"] == "dev" for g in data["guard"])
    # target labels present but --no-eval-labels: they are not even used for the report
    code, text = run("adapt", "-s", domains["source"], "-t", domains["target"], "-b", "identity",
                     "--method", "coral", "--no-eval-labels", "--no-tsne", "--out", tmp_path / "out2")
    assert code == 0 and "estimated" in text, text


def test_adapt_tradaboost_with_a_few_target_labels(domains: dict[str, Path], tmp_path: Path) -> None:
    code, text = run("adapt", "-s", domains["source"], "-t", domains["target"], "--target-labels", domains["few"],
                     "-b", "identity", "--method", "tradaboost", "--no-tsne", "--out", tmp_path / "out")
    assert code == 0, text
    assert any(line.startswith("tradaboost") for line in text.splitlines()), text
    data = json.loads((tmp_path / "out" / "adapt.json").read_text())
    assert data["summary"]["labelled target examples"] == 6
    code, text = run("adapt", "-s", domains["source"], "-t", domains["target"], "--target-labels", domains["few"],
                     "-b", "identity", "--method", "coral", "--no-tsne", "--out", tmp_path / "coral")
    assert code == 0 and "note: --target-labels trains only methods that learn from target labels" in text, text


def _bad(tmp_path: Path, args: list[object], *expected: str) -> None:
    out = tmp_path / "never"
    code, text = run(*args, "--out", out)
    assert code == 1, text
    assert "Traceback" not in text
    assert len(text.strip().splitlines()) == 1, text
    for e in expected:
        assert e in text, text
    assert not out.exists(), "nothing is written on error"


def test_adapt_bad_input_is_one_line(domains: dict[str, Path], tmp_path: Path) -> None:
    src = ["adapt", "-s", domains["source"], "-b", "identity"]
    _bad(tmp_path, [*src, "-t", domains["wide"]], "the target table", "has the column(s) 'f4' that are not in it")
    swapped = tmp_path / "swapped.csv"  # the same columns in another order: matched by name, not position
    pd.read_csv(domains["target"])[["f1", "f0", "f2", "f3", "label"]].to_csv(swapped, index=False)
    renamed = tmp_path / "renamed.csv"
    pd.read_csv(domains["target"]).rename(columns={"f0": "g0"}).to_csv(renamed, index=False)
    _bad(tmp_path, [*src, "-t", renamed], "lacks the feature column(s) 'f0'", "has the column(s) 'g0'")
    runs = {}
    for name, target in (("target", domains["target"]), ("swapped", swapped)):
        code, text = run(*src, "-t", target, "--method", "coral", "--no-tsne", "--out", tmp_path / name)
        assert code == 0, text
        runs[name] = json.loads((tmp_path / name / "adapt.json").read_text())
    assert runs["swapped"]["guard"] == runs["target"]["guard"]
    assert runs["swapped"]["distances"] == runs["target"]["distances"]
    _bad(tmp_path, [*src, "-t", domains["other_labels"]], "no source class: 'meh'")
    code, text = run(*src, "-t", domains["target"], "--method", "coral,nope", "--out", tmp_path / "typo")
    assert code == 2 and "unknown adaptation method 'nope'" in text and not (tmp_path / "typo").exists(), text  # usage error
    _bad(tmp_path, [*src, "-t", domains["target"], "--method", "tradaboost"], "--target-labels")
    texts = tmp_path / "texts.csv"
    pd.DataFrame({"text": ["good", "bad", "fine"], "label": ["pos", "neg", "pos"]}).to_csv(texts, index=False)
    _bad(tmp_path, [*src, "-t", texts], "table data but the target holds text")
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(COLS) + "\n")
    code, text = run(*src, "-t", empty, "--out", tmp_path / "never")
    assert code == 1 and "Traceback" not in text and not (tmp_path / "never").exists(), text


def test_auto_can_choose_by_the_published_dev(domains: dict[str, Path], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from transferkit.adaptation import _workflow

    chosen: list[tuple[str, str]] = []  # (the score auto chose by, its choice)
    real = _workflow.choose_method

    def spy(scores: Any, *, by: str = "dev", **kwargs: Any) -> str:
        choice = real(scores, by=by, **kwargs)
        chosen.append((by, choice))
        return choice

    monkeypatch.setattr(_workflow, "choose_method", spy)
    out = tmp_path / "out"
    code, text = run("adapt", "--source", domains["source"], "--target", domains["unlabelled"], "-b", "identity",
                     "--method", "coral,auto", "--selection", "dev-cv", "--no-tsne", "--out", out)
    assert code == 0, text
    data = json.loads((out / "adapt.json").read_text())
    scores = data["selection_scores"]
    assert {"dev", "dev-cv", "iwv", "entropy"} <= set(scores["coral"])
    assert scores["coral"]["dev"] != scores["coral"]["dev-cv"], "two estimates of one risk, not one twice"
    assert chosen == [("dev-cv", data["auto_choice"])], "auto chose once, by dev-cv, and reported that choice"
    assert data["summary"]["auto selection score"] == "dev-cv"
    assert f"auto choice: {data['auto_choice']}" in text
    # without target labels the table and the guard compare the methods by the same dev-cv score
    assert "dev-cv score (estimated, no target labels)" in text
    guard = {g["method"]: g for g in data["guard"]}
    assert {g["basis"] for g in guard.values()} == {"dev-cv"}
    assert all(guard[m]["value"] == pytest.approx(scores[m]["dev-cv"]) for m in guard)
