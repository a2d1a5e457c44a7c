"""The auto strategy names an unreadable image by its place in the data passed to ``fit``, not by its place in
the training or validation part its candidates are fitted and scored on.

Over these 12 images the validation split (seed 0) holds items 5 and 10: item 7 is index 6 of the training
part and item 10 index 1 of the validation part, which is what the messages said before the fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.helpers import images_with_a_bad_one, save_pngs, stripe_images, truncate_file

from transferkit import TransferClassifier
from transferkit.errors import ImageLoadError
from transferkit.strategies import AutoStrategy
from transferkit.strategies._finetune import validation_split


def test_the_bad_items_land_elsewhere_in_their_split() -> None:
    _, y = stripe_images(6)
    train, val = validation_split(np.unique(y, return_inverse=True)[1], 0.2, 0)
    assert val is not None
    assert np.flatnonzero(train == 7).tolist() == [6] and np.flatnonzero(val == 10).tolist() == [1]


@pytest.mark.parametrize("kind", ["paths", "arrays"])
@pytest.mark.parametrize("bad", [7, 10])  # in the training part, in the validation part
@pytest.mark.parametrize("cache", [False, True])
def test_auto_names_the_bad_image_by_its_place_in_the_data(tmp_path: Path, bad: int, kind: str, cache: bool) -> None:
    X, y = images_with_a_bad_one(tmp_path, bad, kind)
    clf = TransferClassifier(backbone="tiny-cnn", cache=tmp_path / "cache" if cache else False,
                             strategy=AutoStrategy(max_finetune=0))
    with pytest.raises(ImageLoadError) as info:
        clf.fit(X, y)
    message = str(info.value)
    assert f"(item {bad})" in message, message
    if kind == "paths":
        assert f"{bad}.png" in message and "truncated or corrupt" in message


def test_auto_fine_tuning_candidates_name_the_bad_image_by_its_place_in_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the image turns bad after the probe and the baseline have read it: only the fine-tuning candidate reads it
    from transferkit.strategies import FullFineTune, _auto

    X, y = stripe_images(6)
    paths = save_pngs(X, tmp_path)

    def break_then_choose(self, ctx, Xtr, *args):  # type: ignore[no-untyped-def]
        truncate_file(paths[7])
        return [("full", FullFineTune(epochs=1, batch_size=4, val_fraction=0.0))]

    monkeypatch.setattr(_auto.AutoStrategy, "_finetune_candidates", break_then_choose)
    clf = TransferClassifier(backbone="tiny-cnn", cache=False, strategy=AutoStrategy())
    with pytest.raises(ImageLoadError, match=r"7\.png' \(item 7\) is truncated or corrupt"):
        clf.fit(paths, y)


def test_auto_step_timing_names_the_bad_image_by_its_place_in_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the time of one fine-tuning step is measured on the training part's first items
    from transferkit.strategies import _auto

    X, y = stripe_images(6)
    paths = save_pngs(X, tmp_path)
    real = _auto.AutoStrategy._finetune_candidates

    def break_then_plan(self, ctx, Xtr, counts, info, *args):  # type: ignore[no-untyped-def]
        info["candidates"][0]["val_accuracy"] = 0.5  # the probe leaves room for fine-tuning
        truncate_file(paths[7])
        return real(self, ctx, Xtr, counts, info, *args)

    monkeypatch.setattr(_auto.AutoStrategy, "_finetune_candidates", break_then_plan)
    clf = TransferClassifier(backbone="tiny-cnn", cache=False, strategy=AutoStrategy(min_per_class=2))
    with pytest.raises(ImageLoadError, match=r"7\.png' \(item 7\) is truncated or corrupt"):
        clf.fit(paths, y)
