"""audit() on tiny data with planted problems: the exact items flagged, and clear errors on bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from tests.helpers import polarity_texts, stripe_images

from transferkit.audit import CHECKS, DEFAULT_DROP, audit
from transferkit.data import Dataset
from transferkit.errors import DataError, UnknownBackboneError


def _clusters(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    X = np.concatenate([r.normal(-2, 1, (30, 5)), r.normal(2, 1, (30, 5))])
    return X, np.repeat(["a", "b"], 30).astype(object)


def test_every_check_reports_even_when_nothing_is_wrong() -> None:
    X, y = _clusters()
    result = audit(X, y)
    assert list(result.findings) == list(CHECKS)
    assert result.backbone == "raw features" and result.modality == "table"
    assert all(len(f) == 0 for f in result.findings.values())
    assert not result["leakage"].ran and result["corrupt-files"].ran is False
    assert result.kept() == list(range(60))


def test_planted_label_flips_are_found_exactly() -> None:
    X, y = _clusters()
    y[5], y[40] = "b", "a"
    result = audit(X, y)
    assert result["label-errors"].indices == [5, 40]
    flag = next(f for f in result["label-errors"].flags if f.index == 5)
    assert flag.label == "b" and "'a'" in flag.reason and flag.score is not None and flag.score < 0.5
    assert result.kept() == list(range(60))  # label errors are not removed by default
    assert 5 not in result.kept(DEFAULT_DROP | {"label-errors"})


def test_table_duplicates_missing_cells_and_leakage() -> None:
    X, y = _clusters()
    X[7] = X[3]  # exact copy, same label
    X[9] = X[3] + 1e-6  # near copy
    X[50] = X[45]
    y[50] = "a"  # exact copy with the other label: a conflict (both copies)
    X[12, 2] = np.nan
    y[20] = None
    X_test = np.stack([X[33], X[34] + 1e-6, np.full(5, 40.0)])
    result = audit(X, y, test=(X_test, ["b", "b", "a"]))
    assert result["missing-values"].indices == [12]
    assert result["missing-labels"].indices == [20]
    assert result["exact-duplicates"].indices == [7, 50]
    assert result["exact-duplicates"].flags[0].related == (3,)
    assert result["label-conflicts"].indices == [45, 50]
    assert result["near-duplicates"].indices == [9]
    assert result["leakage"].indices == [33, 34]
    assert [f.related for f in result["leakage"].flags] == [(0,), (1,)]
    assert "exact copy of test item 0" in result["leakage"].flags[0].reason
    removed = result.removals()
    assert sorted(removed) == [7, 12, 20, 33, 34, 45, 50]
    assert [c for c, _ in removed[50]] == ["exact-duplicates", "label-conflicts"]
    assert 9 in result.kept() and 9 not in result.kept(DEFAULT_DROP | {"near-duplicates"})


def test_a_test_table_is_matched_by_column_name() -> None:
    """A test table with the same columns in another order leaks the rows it copies; one with another
    column is refused, naming it (matching by position or count would compare the wrong columns)."""
    X, y = _clusters()
    names = [f"f{i}" for i in range(5)]
    train = pd.DataFrame(X, columns=names).assign(label=y)
    shuffled = names[::-1]
    test = pd.DataFrame(np.stack([X[33], X[10] * 0 + 40.0]), columns=names)[shuffled].assign(label=["b", "a"])
    assert audit(train, test=test)["leakage"].indices == [33]
    mislabelled = test.set_axis([*names, "label"], axis=1)  # the reversed values under the original names
    assert audit(train, test=mislabelled)["leakage"].indices == []
    with pytest.raises(DataError, match=r"lacks the feature column\(s\) 'f4' and has the column\(s\) 'g4'"):
        audit(train, test=test.rename(columns={"f4": "g4"}))


def test_texts_missing_blank_and_whitespace_duplicates() -> None:
    X, y = polarity_texts(6)
    X, y = list(X), list(y)
    X[1] = "  " + X[0].replace(" ", "\t ") + "\n"  # same text after whitespace normalisation
    X[3] = ""
    X[4] = None
    y[5] = float("nan")
    X[8] = X[2]
    y[8] = "neg"  # X[2] is labelled pos
    result = audit(X, y)
    assert result["missing-values"].indices == [3, 4]
    assert "empty" in result["missing-values"].flags[0].reason
    assert "missing" in result["missing-values"].flags[1].reason
    assert result["missing-labels"].indices == [5]
    assert [(f.index, f.related) for f in result["exact-duplicates"].flags] == [(1, (0,)), (8, (2,))]
    assert result["label-conflicts"].indices == [2, 8]
    assert not result["near-duplicates"].ran and "backbone" in result["near-duplicates"].summary


def test_text_embedding_checks_run_with_a_backbone() -> None:
    X, y = polarity_texts(10)
    X = X.copy()
    X[3] = X[2] + " "  # exact copy after whitespace normalisation: near-duplicates skip it
    test = (np.asarray([X[0], "lovely lovely lovely lovely"], dtype=object), ["pos", "pos"])
    result = audit(X, y, backbone="tiny-text", test=test, cache=False)
    assert result.backbone == "tiny-text"
    assert result["near-duplicates"].ran and result["outliers"].ran and result["label-errors"].ran
    assert 3 not in result["near-duplicates"].indices and result["exact-duplicates"].indices[0] == 3
    assert 0 in result["leakage"].indices
    assert set(X[result["leakage"].indices]) >= {X[0]}


def _image_folder(root: Path) -> Path:
    X, y = stripe_images(5, size=16)
    for i, (img, label) in enumerate(zip(X, y, strict=True)):
        (root / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(root / label / f"{i:02d}.png")
    Image.fromarray(X[0]).save(root / "top" / "99_copy.png")  # same pixels as top/00.png
    (root / "left" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (root / "left" / "empty.png").write_bytes(b"")
    return root


def test_image_folder_corrupt_files_and_duplicate_pixels(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path / "imgs")
    result = audit(folder)
    names = [Path(result.origin.items[i]).name for i in range(result.n_samples)]
    corrupt = {names[i] for i in result["corrupt-files"].indices}
    assert corrupt == {"bad.png", "empty.png"}
    assert all(str(folder) in f.item for f in result["corrupt-files"].flags)
    assert "empty" in next(f.reason for f in result["corrupt-files"].flags if f.item.endswith("empty.png"))
    [dupe] = result["exact-duplicates"].flags
    assert names[dupe.index] == "99_copy.png" and names[dupe.related[0]] == "00.png"
    assert not result["label-errors"].ran  # images without a backbone: no embeddings


def test_image_leakage_between_folders(tmp_path: Path) -> None:
    train = _image_folder(tmp_path / "train")
    test = tmp_path / "test"
    (test / "top").mkdir(parents=True)
    Image.open(train / "top" / "02.png").save(test / "top" / "renamed.png")
    result = audit(train, test=test)
    leaked = [Path(f.item).name for f in result["leakage"].flags]
    assert leaked == ["02.png"]


def test_images_with_a_backbone_run_every_check(tmp_path: Path) -> None:
    X, y = stripe_images(8, size=32)
    result = audit(X, y, backbone="tiny-cnn", cache=False)
    assert all(result[c].ran for c in ("near-duplicates", "outliers", "label-errors"))
    assert not result["corrupt-files"].ran


def test_per_class_subsample_keeps_input_positions(tmp_path: Path) -> None:
    X, y = _clusters()
    y[44] = None
    result = audit(pd.DataFrame(X).assign(label=y), per_class=5, random_state=0)
    assert result.n_samples == 11 and len(result.positions) == 11
    assert 44 in result.positions and result["missing-labels"].indices == [44]
    assert set(result.kept()) == set(result.positions) - {44}


def test_csv_with_missing_label_names_the_row(tmp_path: Path) -> None:
    X, y = polarity_texts(6)
    frame = pd.DataFrame({"review": X, "stars": y})
    frame.loc[4, "stars"] = None
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    result = audit(path, text_column="review", label_column="stars")
    [flag] = result["missing-labels"].flags
    assert flag.index == 4 and flag.item.startswith("row 5: ") and flag.label is None


def test_integer_labels_with_a_gap_stay_integers(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"text": ["a b", "c d", "e f", "g h"], "label": [1, 0, None, 1]}).to_csv(path, index=False)
    result = audit(path)
    assert result["missing-labels"].indices == [2]
    assert result["class-imbalance"].details["counts"] == {"1": 2, "0": 1}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"label_column": "stars"}, "Label column 'stars' not found"),
        ({"text_column": "body"}, "Column 'body' not found"),
        ({"backbone": "tiny-cnn"}, "reads image data"),
        ({"threshold": 1.5}, "threshold"),
    ],
)
def test_bad_requests_fail_with_a_clear_message(tmp_path: Path, kwargs: dict, message: str) -> None:
    path = tmp_path / "r.csv"
    pd.DataFrame({"text": ["good", "bad"], "label": ["pos", "neg"], "note": ["x", "y"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=message):
        audit(path, **kwargs)


def test_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        audit(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="No usable item"):
        audit(["", " "], ["a", "b"])
    with pytest.raises(DataError, match="2 labels"):
        audit(["a", "b", "c"], ["x", "y"])
    with pytest.raises(UnknownBackboneError):
        audit(["a", "b"], ["x", "y"], backbone="no-such-backbone")
    with pytest.raises(DataError, match="test set holds image"):
        audit(["a b", "c d"], ["x", "y"], test=(stripe_images(2)[0], ["top"] * 4))


@pytest.mark.parametrize(("param", "reads"), [("image_size", "image"), ("max_length", "text")])
def test_a_setting_for_another_modality_is_refused(param: str, reads: str) -> None:
    """image_size on texts (or max_length on a table) would change nothing: an error, not silence."""
    X, y = _clusters()
    with pytest.raises(DataError, match=rf"^{param} 64 applies to {reads} data, but the data to audit holds table"):
        audit(X, y, backbone=None, **{param: 64})
    texts, labels = polarity_texts(4)
    assert audit(texts, labels, backbone=None, max_length=64).modality == "text"


def test_a_dataset_is_audited_as_it_is() -> None:
    X, y = polarity_texts(4)
    X = X.copy()
    X[1] = X[0]
    result = audit(Dataset(X=X, y=y, modality="text", source="mine"))
    assert result.source == "mine" and result["exact-duplicates"].indices == [1]
    assert result.to_dict()["findings"]["exact-duplicates"]["flags"][0]["related"] == [0]


def test_a_test_table_needs_no_label_column(tmp_path: Path) -> None:
    X, y = polarity_texts(5)
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    pd.DataFrame({"text": X, "label": y}).to_csv(train, index=False)
    pd.DataFrame({"text": [X[4], "unseen"]}).to_csv(test, index=False)
    assert audit(train, test=test)["leakage"].indices == [4]


def test_audit_defaults_are_the_registry_defaults_except_tables() -> None:
    """audit keeps its own copy (importing the registry loads torch): it must agree for images and
    texts; tables are audited on their raw columns."""
    from transferkit.audit import DEFAULT_BACKBONES as AUDIT_DEFAULTS
    from transferkit.backbones import DEFAULT_BACKBONES

    assert {m: AUDIT_DEFAULTS[m] for m in ("image", "text")} == {m: DEFAULT_BACKBONES[m] for m in ("image", "text")}
    assert AUDIT_DEFAULTS["table"] is None and DEFAULT_BACKBONES["table"] == "identity"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cv": -3}, "cv must be an integer of at least 2"),
        ({"cv": 0}, "cv must be an integer of at least 2"),
        ({"cv": 1}, "cv must be an integer of at least 2"),
        ({"cv": 2.5}, "cv must be an integer"),
        ({"cv": True}, "cv must be an integer"),
        ({"per_class": 0}, "per_class must be a positive integer"),
        ({"per_class": -1}, "per_class must be a positive integer"),
        ({"contamination": 0.7}, r"contamination must be None, 'auto' or a share in \(0, 0.5\]"),
        ({"contamination": 0.0}, "contamination must be"),
        ({"contamination": "most"}, "contamination must be"),
        ({"threshold": float("nan")}, "threshold"),
    ],
)
def test_settings_out_of_range_fail_before_the_data_is_read(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):  # the path does not exist: the setting is checked first
        audit(tmp_path / "not-read.csv", **kwargs)


def test_settings_in_range_are_used() -> None:
    X, y = _clusters()
    result = audit(X, y, cv=2, contamination=0.5, per_class=30)
    assert result["label-errors"].details["n_splits"] == 2
    assert len(result["outliers"]) == 30  # contamination=0.5 flags half of the 60 distinct items
    assert result.settings["cv"] == 2


def test_a_missing_test_path_is_named_as_the_test_set(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"^test '.*nonexist\.csv' does not exist"):
        audit(["a b", "c d"], ["x", "y"], test=tmp_path / "nonexist.csv")


def test_label_errors_skip_names_conflicting_copies_as_the_reason() -> None:
    """Two classes in the data, but every item is a copy in a label conflict: the probe has no class left."""
    X = np.ones((24, 2))
    y = np.repeat(["a", "b"], 12).astype(object)
    result = audit(X, y)
    assert result["class-imbalance"].details["counts"] == {"a": 12, "b": 12}
    finding = result["label-errors"]
    assert not finding.ran
    assert finding.summary == ("skipped: fewer than two classes among the usable items left after setting aside "
                               "the 24 copies with conflicting labels (label-conflicts)")
    assert audit(np.arange(6.0).reshape(3, 2), ["a"] * 3)["label-errors"].summary == "skipped: fewer than two classes"
