"""compare_selectors: accuracy and prediction time with and without selection, and its report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import polarity_texts

from transferkit.data import Dataset
from transferkit.errors import DataError
from transferkit.feature_selection import ALL, compare_on_data, compare_selectors, selection_report


def planted_binary(n_per_class: int = 20, n_features: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(["neg", "pos"], n_per_class)
    X = rng.normal(size=(len(y), n_features))
    X[:, [2, 9]] += 1.5 * (y == "pos")[:, None]
    return X, y


def test_selection_beats_all_features_on_planted_data_and_is_timed(tmp_path: Path) -> None:
    X, y = planted_binary()
    res = compare_selectors(X, y, methods=["anova", "chi2", "anova"], shift="minmax", cv=3, selector_cv=2,
                            candidates=(2, 6, 60), timing_rows=300, timing_repeats=3)
    assert res.methods == ["anova", "chi2"], "duplicates dropped, order kept"
    rows = {r["method"]: r for r in res.table()}
    assert set(rows) == {ALL, "anova", "chi2"}
    assert rows[ALL]["features kept"] == 60 and rows[ALL]["predict_time_ratio"] == 1.0 and "gain" not in rows[ALL]
    assert rows["anova"]["features kept"] < 60
    assert rows["anova"]["accuracy"] > rows[ALL]["accuracy"]
    g = res.gains["anova"]
    assert g["low"] <= g["mean"] <= g["high"] and "corrected resampled" in g["method"]
    assert all(f["predict_seconds"] > 0 and f["predict_ratio"] > 0 for fs in res.folds.values() for f in fs)
    assert res.inner_curves["anova"]["n_features"] == [2.0, 6.0, 60.0]
    json.dumps(res.to_dict())  # serialisable
    html = selection_report(res, title="sel").write(tmp_path / "r.html").read_text()
    assert "Accuracy and prediction speed" in html and html.count("data:image/png;base64,") == 2
    assert "minmax" in html


def test_fewer_folds_than_asked_are_noted_outside_and_inside(tmp_path: Path) -> None:
    """4 examples per class: 5 outer folds become 4, and each training part then holds 3 of a class, so 4
    inner folds become 3; the comparison, its JSON and its report say so."""
    X, y = planted_binary(4, n_features=12)
    res = compare_selectors(X, y, methods=["anova"], cv=5, selector_cv=4, candidates=(2, 12), timing_rows=10,
                            timing_repeats=1)
    assert res.notes == ["cv=5 lowered to 4 folds: the smallest class ('neg') has 4 examples, and each fold needs "
                         "one of every class",
                         "selector_cv=4 lowered to 3 folds inside 4 of 4 training parts: a class there has fewer "
                         "examples than that, and each fold needs one of every class"]
    assert res.to_dict()["notes"] == res.notes
    assert "cv=5 lowered to 4 folds" in selection_report(res, title="sel").render()
    assert compare_selectors(X, y, methods=["anova"], cv=2, selector_cv=2, candidates=(2, 12), timing_rows=10,
                             timing_repeats=1).notes == []


def test_bad_input_fails_before_any_fitting() -> None:
    X, y = planted_binary(5)
    with pytest.raises(DataError, match="column 0 has the value"):
        compare_selectors(X, y, methods=["anova", "chi2"])
    with pytest.raises(DataError, match="unknown feature-selection method 'pca'"):
        compare_selectors(X, y, methods=["pca"])
    with pytest.raises(DataError, match="no feature-selection method"):
        compare_selectors(X, y, methods=[])
    with pytest.raises(DataError, match="same length"):
        compare_selectors(X, y[:-1])
    with pytest.raises(DataError, match="^class 'pos' has only 1 example; comparing selectors cross-validates"):
        compare_selectors(X[:6], y[:6])
    with pytest.raises(DataError, match="^comparing selectors needs at least 2 classes; the labels hold only 'neg'$"):
        compare_selectors(X[:5], y[:5])
    lone = np.concatenate([y, ["solo"]]).astype(object)  # the other classes are large: only the lone one is named
    with pytest.raises(DataError, match="^class 'solo' has only 1 example; comparing selectors cross-validates"):
        compare_selectors(np.vstack([X, X[:1]]), lone, methods=["anova"])
    with pytest.raises(DataError, match="^cv must be an integer of at least 2 folds, got 1$"):
        compare_selectors(X, y, methods=["anova"], cv=1)  # scikit-learn's n_splits message before
    with pytest.raises(DataError, match="^selector_cv must be an integer of at least 2 folds, got 0$"):
        compare_selectors(X, y, methods=["anova"], selector_cv=0)


def test_compare_on_texts_through_a_backbone(tmp_path: Path) -> None:
    X, y = polarity_texts(10)
    data = Dataset(X=X, y=y, modality="text", source="polarity")
    res = compare_on_data(data, backbone="tiny-text", methods=["model"], cache=tmp_path, cv=2, selector_cv=2,
                          fractions=(0.25, 1.0), timing_rows=100, timing_repeats=2)
    assert res.n_features == 16 and res.info["backbone"] == "tiny-text"
    with pytest.raises(DataError, match="reads image data"):
        compare_on_data(data, backbone="tiny-cnn")
    with pytest.raises(DataError, match="unknown feature-selection method"):
        compare_on_data(data, backbone="tiny-text", methods=["rfe", "nope"])
