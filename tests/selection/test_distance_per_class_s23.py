"""``distance --per-class`` / ``domain_distance(per_class=...)``: a cap on each class of both datasets.

Before the fix the cap applied to the labelled side only, in silence: two copies of one table, one
unlabelled, came out as two domains (proxy A-distance 0.53 instead of 0) because capping one side changed
its class mix. Now both sides need labels, and an unlabelled side is refused, named.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.helpers import run_cli

from transferkit.data import Dataset
from transferkit.errors import DataError
from transferkit.selection import domain_distance
from transferkit.selection._distance_report import per_class_samples, unlabelled_sides
from transferkit.workflows import subsample


def _imbalanced(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """50 rows of class a, 10 of class b (shifted in column w): a cap of 10 per class changes the mix."""
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(60, 4)), np.array(["a"] * 50 + ["b"] * 10)
    X[y == "b", 0] += 4.0
    return X, y


def _tables(tmp_path: Path) -> tuple[Path, Path, Path]:
    X, y = _imbalanced()
    frame = pd.DataFrame(X, columns=["w", "x", "y", "z"])
    labelled, other, unlabelled = tmp_path / "src.csv", tmp_path / "src_copy.csv", tmp_path / "tgt.csv"
    frame.assign(label=y).to_csv(labelled, index=False)
    frame.assign(label=y).to_csv(other, index=False)
    frame.to_csv(unlabelled, index=False)  # the same rows, no label column
    return labelled, other, unlabelled


def test_unlabelled_sides_names_the_sides_without_labels() -> None:
    X, y = _imbalanced()
    with_labels, without = Dataset(X=X, y=y, modality="table"), Dataset(X=X, y=None, modality="table")
    assert unlabelled_sides(with_labels, with_labels) == []
    assert unlabelled_sides(with_labels, without) == ["second"]
    assert unlabelled_sides(X, with_labels) == ["first"]  # a bare array carries no labels
    assert unlabelled_sides(without, X) == ["first", "second"]


def test_the_api_refuses_a_cap_with_an_unlabelled_side_naming_it() -> None:
    X, y = _imbalanced()
    labelled = Dataset(X=X, y=y, modality="table", source="source table")
    target = Dataset(X=X, y=None, modality="table", source="target table")
    with pytest.raises(DataError, match=r"the second dataset \(target table\) has no labels") as info:
        domain_distance(labelled, target, backbone="identity", per_class=10, cache=False)
    assert "\n" not in str(info.value) and "per_class=10" in str(info.value)
    with pytest.raises(DataError, match=r"the first dataset \(a ndarray, not a labelled Dataset\) has no labels"):
        domain_distance(X, labelled, backbone="identity", per_class=10, cache=False)
    with pytest.raises(DataError, match="per_class must be an integer >= 1"):
        per_class_samples(labelled, labelled, 0)
    # without a cap, labels stay unneeded, and one table against itself is one domain
    values = domain_distance(labelled, target, backbone="identity", metrics=["proxy_a"], cache=False)
    assert values["proxy_a"] == 0.0


def test_the_api_caps_both_labelled_datasets_with_the_cli_draw() -> None:
    X, y = _imbalanced()
    first = Dataset(X=X, y=y, modality="table")
    second = Dataset(X=X[::-1].copy(), y=y[::-1].copy(), modality="table")
    a, b = per_class_samples(first, second, 10, random_state=3)
    assert len(a) == len(b) == 20
    assert np.unique(a.y, return_counts=True)[1].tolist() == [10, 10]
    assert np.array_equal(a.X, subsample(first, 10, 3).X)  # the draw of --per-class on folders and tables
    capped = domain_distance(first, second, backbone="identity", metrics=["mmd_rbf", "coral"], per_class=10,
                             random_state=3, cache=False)
    by_hand = domain_distance(a, b, backbone="identity", metrics=["mmd_rbf", "coral"], random_state=3, cache=False)
    assert capped == by_hand


def test_cli_refuses_per_class_with_an_unlabelled_side_before_writing(tmp_path: Path) -> None:
    labelled, _, unlabelled = _tables(tmp_path)
    out = tmp_path / "never"
    code, text = run_cli("distance", labelled, unlabelled, "-b", "identity", "--no-cache", "--per-class", "10",
                         "-o", out)
    assert code == 2, text
    assert "--per-class 10 caps each class of both datasets, but SECOND" in text and str(unlabelled) in text, text
    assert "Traceback" not in text and not out.exists()
    code, text = run_cli("distance", unlabelled, labelled, "-b", "identity", "--no-cache", "--per-class", "10",
                         "-o", out)
    assert code == 2 and "but FIRST" in text and str(unlabelled) in text and "SECOND" not in text.split("but")[1]
    assert not out.exists()


def test_cli_without_per_class_still_compares_an_unlabelled_side_whole(tmp_path: Path) -> None:
    labelled, _, unlabelled = _tables(tmp_path)
    out = tmp_path / "d"
    code, text = run_cli("distance", labelled, unlabelled, "-b", "identity", "--no-cache", "--metrics", "proxy_a",
                         "-o", out)
    assert code == 0, text
    data = json.loads((out / "distance.json").read_text())
    assert data["per_class"] is None and data["first"]["samples"] == data["second"]["samples"] == 60
    assert data["distances"]["proxy_a"] == 0.0 and "per class" not in text
    assert "capped" not in (out / "report.html").read_text()


def test_cli_caps_two_labelled_datasets_and_says_so(tmp_path: Path) -> None:
    labelled, other, _ = _tables(tmp_path)
    out = tmp_path / "d"
    code, text = run_cli("distance", labelled, other, "-b", "identity", "--no-cache", "--metrics", "mmd_rbf",
                         "--per-class", "10", "-o", out)
    assert code == 0, text
    assert "per class: at most 10 examples of each class of each dataset (first 20, second 20 samples)" in text
    data = json.loads((out / "distance.json").read_text())
    assert data["per_class"] == 10 and data["first"]["samples"] == data["second"]["samples"] == 20
    html = (out / "report.html").read_text()
    assert "capped at 10 examples of each class" in html


def test_cli_help_says_per_class_needs_labels_on_both_sides() -> None:
    code, text = run_cli("distance", "--help")
    assert code == 0
    flat = " ".join(text.split())
    assert "--per-class N caps each class of BOTH datasets" in flat and "needs labels on both" in flat
