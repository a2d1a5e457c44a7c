"""``evaluate`` names an unreadable image by its place in the data passed, not in a fold's subset.

With ``cv=3`` over these 12 images, item 7 sits at index 4 of the first fold's training part: before the fix
the message said "item 4" (or the index in a fold's test part), which points at the wrong image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from tests.helpers import images_with_a_bad_one, stripe_images

from transferkit import TransferClassifier, evaluate
from transferkit.errors import ImageLoadError
from transferkit.evaluation._evaluate import _splits
from transferkit.strategies import FullFineTune

BAD = 7


def _images(tmp_path: Path, kind: str) -> tuple[list[Any], np.ndarray]:
    return images_with_a_bad_one(tmp_path, BAD, kind)


def test_the_bad_item_lands_elsewhere_in_its_first_fold() -> None:
    _, y = stripe_images(6)
    train, test = _splits(y, 3, 0)[0]
    where = np.flatnonzero(train == BAD).tolist() + np.flatnonzero(test == BAD).tolist()
    assert where and where != [BAD], "the test would pass without the fix"


@pytest.mark.parametrize("kind", ["paths", "arrays"])
@pytest.mark.parametrize("cache", [False, True])
def test_cross_validation_names_the_bad_image_by_its_place_in_X(tmp_path: Path, kind: str, cache: bool) -> None:
    X, y = _images(tmp_path, kind)
    model = TransferClassifier(backbone="tiny-cnn", cache=tmp_path / "cache" if cache else False)
    with pytest.raises(ImageLoadError) as info:
        evaluate({"probe": model}, X, y, cv=3)
    message = str(info.value)
    assert f"(item {BAD})" in message, message
    assert message.startswith("'probe' failed to fit"), message
    if kind == "paths":
        assert f"{BAD}.png" in message and "truncated or corrupt" in message


@pytest.mark.parametrize("val_fraction", [0.0, 0.25])
def test_fine_tuning_in_a_fold_names_the_bad_image_by_its_place_in_X(tmp_path: Path, val_fraction: float) -> None:
    # three levels: the fold's training part, the strategy's own training/validation split, the batch
    X, y = _images(tmp_path, "paths")
    model = TransferClassifier(backbone="tiny-cnn", strategy=FullFineTune(epochs=1, batch_size=4,
                                                                          val_fraction=val_fraction))
    with pytest.raises(ImageLoadError, match=rf"{BAD}\.png' \(item {BAD}\) is truncated or corrupt"):
        evaluate({"finetune": model}, X, y, cv=3)


def test_the_no_transfer_baseline_names_the_bad_image_by_its_place_in_X(tmp_path: Path) -> None:
    X, y = _images(tmp_path, "paths")
    with pytest.raises(ImageLoadError, match=rf"{BAD}\.png' \(item {BAD}\) is truncated or corrupt"):
        evaluate({"dummy": DummyClassifier()}, X, y, cv=3)  # the dummy reads no image: the baseline does


def test_a_held_out_test_set_names_the_bad_image_by_its_place_in_the_test_set(tmp_path: Path) -> None:
    X, y = _images(tmp_path, "arrays")
    keep = [i for i in range(len(X)) if i != BAD]
    with pytest.raises(ImageLoadError, match=r"^Image array \(item 2 of the test set\) has shape \(28, 28, 5\)"):
        evaluate({"probe": TransferClassifier(backbone="tiny-cnn", cache=False)}, [X[i] for i in keep], y[keep],
                 test=(X[BAD - 2:], y[BAD - 2:]))
