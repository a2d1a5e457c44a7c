"""Bad user input to the classifier and to saved model folders gives one clear error, not a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import blobs, polarity_texts

from transferkit import LinearProbe, LoRA, TransferClassifier, load_model
from transferkit.errors import DataError, ModelFolderError
from transferkit.estimators._classifier import check_targets


@pytest.mark.parametrize("batch_size", [-1, 0])
def test_a_batch_size_below_one_fails_before_any_work(batch_size: int, tmp_path: Path) -> None:
    """-1 stored 0-column features in the cache (breaking every later run); 0 gave a range() error."""
    X, y = polarity_texts(6)
    clf = TransferClassifier(backbone="tiny-text", strategy=LinearProbe(), batch_size=batch_size, cache=tmp_path)
    with pytest.raises(DataError, match=f"batch_size must be a whole number of at least 1, got {batch_size}"):
        clf.fit(X, y)
    assert not list(tmp_path.glob("**/*.npz")), "nothing cached"
    ok = TransferClassifier(backbone="tiny-text", strategy=LinearProbe(), cache=tmp_path).fit(X, y)
    assert ok.score(X, y) > 0.5


@pytest.mark.parametrize("y", [
    np.array([1.5, 2.5] * 10),
    np.array([0.25, 1.0] * 10),
    np.array([1.5, 2.5] * 10, dtype=np.float32),
    np.array([1.5, "a"] * 10, dtype=object)[::2].astype(float),
    np.array([1.5, 2.5] * 10, dtype=object),
])
def test_continuous_labels_are_a_data_error(y: np.ndarray) -> None:
    with pytest.raises(DataError, match=r"continuous \(non-integer\) numbers, not classes.*round or bin them") as info:
        check_targets(y, len(y))
    assert "1.5" in str(info.value) or "0.25" in str(info.value)


def test_continuous_labels_fail_cleanly_in_fit() -> None:
    X, _ = blobs(10)
    with pytest.raises(DataError, match=r"labels such as 1\.5, 2\.5 are continuous"):
        TransferClassifier(backbone="identity", cache=False).fit(X, np.array([1.5, 2.5] * 10))


def test_integer_valued_float_labels_still_are_classes() -> None:
    X, y = blobs(10)
    labels = np.where(y == y[0], 1.0, 2.0)
    clf = TransferClassifier(backbone="identity", cache=False).fit(X, labels)
    assert clf.classes_.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("classes", [["a"], ["a", "b", "c"], ["a", "a"]])
def test_edited_classes_in_a_model_folder_are_caught_at_load(classes: list[str], tmp_path: Path) -> None:
    X, y = polarity_texts(6)
    folder = TransferClassifier(backbone="tiny-text", cache=False).fit(X, y).save(tmp_path / "m")
    edited = tmp_path / "edited"
    shutil.copytree(folder, edited)
    cfg_path = edited / "transferkit.json"
    config = json.loads(cfg_path.read_text())
    config["classes"] = classes
    cfg_path.write_text(json.dumps(config))
    with pytest.raises(ModelFolderError, match=r"cannot be loaded: its transferkit.json lists .* edited or"):
        load_model(edited)
    assert load_model(folder).predict(X[:2]).shape == (2,)


@pytest.mark.parametrize("edit", ["swap", "rename"])
def test_a_reordered_or_renamed_class_list_is_caught_at_load(edit: str, tmp_path: Path) -> None:
    """Same count, no repeats: such a list loaded and predicted the wrong labels without a word."""
    X, y = polarity_texts(6)
    model = TransferClassifier(backbone="tiny-text", cache=False).fit(X, y)
    folder = model.save(tmp_path / "m")
    cfg_path = folder / "transferkit.json"
    config = json.loads(cfg_path.read_text())
    original = list(config["classes"])
    config["classes"] = original[::-1] if edit == "swap" else [f"{c}!" for c in original]
    cfg_path.write_text(json.dumps(config))
    with pytest.raises(ModelFolderError, match=r"its transferkit.json lists the classes \(.*\) but its labels.json, "
                                               r"which the checksums vouch for, lists \('neg', 'pos'\)"):
        load_model(folder)
    config["classes"] = original
    cfg_path.write_text(json.dumps(config))
    assert load_model(folder).predict(X).tolist() == model.predict(X).tolist()


@pytest.mark.parametrize("labels", [[1, "a"] * 6, np.array([1, "a"] * 6, dtype=object)])
def test_labels_that_mix_numbers_and_strings_are_refused(labels: object) -> None:
    """numpy turned [1, "a"] into the strings "1" and "a": predictions came back as "1", not 1."""
    X, _ = blobs(6)
    with pytest.raises(DataError, match=r"labels mix strings and other values \(e.g. 'a' and 1\)"):
        TransferClassifier(backbone="identity", cache=False).fit(X, labels)


def test_a_nan_label_among_strings_is_missing_not_the_class_nan() -> None:
    X, _ = blobs(3)
    with pytest.raises(DataError, match=r"^label 1 is missing \(NaN\)$"):
        TransferClassifier(backbone="identity", cache=False).fit(X, ["a", float("nan"), "b"] * 2)


def test_an_edited_strategy_whose_weights_no_longer_fit_is_named_at_load(tmp_path: Path) -> None:
    """A LoRA model whose rank was edited in transferkit.json: torch refuses the saved adapter weights
    (size mismatch); loading says the weights do not fit the folder's description, not a torch traceback."""
    X, y = blobs(10)
    folder = TransferClassifier(backbone="tiny-mlp", strategy=LoRA(rank=2, epochs=1), cache=False
                                ).fit(X, y).save(tmp_path / "m")
    cfg_path = folder / "transferkit.json"
    config = json.loads(cfg_path.read_text())
    assert config["strategy"]["params"]["rank"] == 2
    config["strategy"]["params"]["rank"] = 4
    cfg_path.write_text(json.dumps(config))
    with pytest.raises(ModelFolderError, match=r"cannot be loaded: its weights do not fit its description \(.*size "
                                               r"mismatch.*\); its transferkit.json was edited or the folder is damaged"):
        load_model(folder)
