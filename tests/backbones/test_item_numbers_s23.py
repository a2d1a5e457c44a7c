"""Fine-tuning names an unreadable image by its place in the data set (and its file), not in the batch.

The loaders read images batch by batch from a shuffled training split; before the fix every message said
"item 0".."item 3" (the place in a batch of 4), whichever image was bad.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from transferkit import TransferClassifier
from transferkit.data import load_data
from transferkit.data._images import item_positions, load_image
from transferkit.errors import ImageLoadError
from transferkit.strategies import LPFT, Augment, FullFineTune, GradualUnfreeze
from transferkit.training import Collate, make_loader

BAD = 9  # the tenth image of twelve


def _image_folder(root: Path, n: int = 12) -> list[Path]:
    """``n`` small PNGs in two class folders, named so that folder order is the order written."""
    from PIL import Image

    r = np.random.default_rng(0)
    paths = []
    for i in range(n):
        cls = root / ("a" if i < n // 2 else "b")
        cls.mkdir(parents=True, exist_ok=True)
        path = cls / f"{i:02d}.png"
        Image.fromarray(r.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _fit_error(X: object, y: object, strategy: object) -> str:
    clf = TransferClassifier(backbone="tiny-cnn", cache=False, strategy=strategy)  # type: ignore[arg-type]
    with pytest.raises(ImageLoadError) as info:
        clf.fit(X, y)
    return str(info.value)


@pytest.mark.parametrize("val_fraction", [0.0, 0.25])
@pytest.mark.parametrize("augment", [None, Augment(rotation=5.0)])
def test_fine_tuning_names_a_file_corrupted_after_loading_by_its_place_in_the_data(
    tmp_path: Path, val_fraction: float, augment: Augment | None
) -> None:
    paths = _image_folder(tmp_path)
    data = load_data(tmp_path)
    bad = [i for i, item in enumerate(data.X) if Path(str(item)).name == paths[BAD].name]
    assert bad == [BAD], "the folder loader's order is the order the test relies on"
    _truncate(paths[BAD])  # after the data is loaded: only the training loop reads it
    strategy = FullFineTune(epochs=1, batch_size=4, val_fraction=val_fraction, augment=augment)
    message = _fit_error(data.X, data.y, strategy)
    assert str(paths[BAD]) in message
    assert re.search(rf"\(item {BAD}\)", message), message
    assert "truncated or corrupt" in message


def test_fine_tuning_names_an_array_of_the_wrong_shape_by_its_place_in_the_data() -> None:
    r = np.random.default_rng(1)
    X = [r.integers(0, 255, (16, 16, 3), dtype=np.uint8) for _ in range(12)]
    X[BAD] = np.zeros((16, 16, 5), dtype=np.uint8)
    y = np.repeat(["a", "b"], 6)
    message = _fit_error(X, y, GradualUnfreeze(epochs=1, batch_size=4, val_fraction=0.25))
    assert message.startswith(f"Image array (item {BAD}) has shape (16, 16, 5)"), message


def test_lpft_names_the_bad_item_by_its_place_in_the_data_during_its_probe(tmp_path: Path) -> None:
    # LP-FT reads the training split once for its linear probe before fine-tuning: that read counts too
    paths = _image_folder(tmp_path)
    _truncate(paths[BAD])
    y = ["a"] * 6 + ["b"] * 6
    message = _fit_error([str(p) for p in paths], y, LPFT(epochs=1, batch_size=4, val_fraction=0.25))
    assert f"(item {BAD})" in message and str(paths[BAD]) in message, message


def test_collate_maps_batch_places_to_the_given_positions() -> None:
    X = [np.zeros((8, 8, 3), dtype=np.uint8), np.zeros((8, 8, 3), dtype=np.uint8), np.zeros((8, 8, 2), dtype=np.uint8)]

    def preprocess(items: list[object]) -> dict[str, torch.Tensor]:
        return {"x": torch.as_tensor(np.stack([load_image(a, index=i) for i, a in enumerate(items)]))}

    collate = Collate(X, np.zeros(3, dtype=np.int64), None, preprocess, positions=[40, 41, 42])
    with pytest.raises(ImageLoadError, match=r"^Image array \(item 42\)"):
        collate([2, 0])
    with pytest.raises(ImageLoadError, match=r"^Image array \(item 2\)"):  # default: places in X
        Collate(X, np.zeros(3, dtype=np.int64), None, preprocess)([1, 2])
    loader = make_loader(X, np.zeros(3, dtype=np.int64), preprocess=preprocess, batch_size=2, shuffle=True, seed=0,
                         positions=[7, 8, 9])
    with pytest.raises(ImageLoadError, match=r"\(item 9\)"):
        list(loader)
    with pytest.raises(ValueError, match="one per item"):
        Collate(X, np.zeros(3, dtype=np.int64), None, preprocess, positions=[1, 2])


def test_nested_item_positions_compose() -> None:
    bad = np.zeros((4, 4, 7), dtype=np.uint8)
    with item_positions([10, 20, 30]), item_positions([2, 0]):
        with pytest.raises(ImageLoadError, match=r"\(item 30\)"):
            load_image(bad, index=0)
        with pytest.raises(ImageLoadError, match=r"\(item 10\)"):
            load_image(bad, index=1)
    with item_positions([10]), item_positions([5]), pytest.raises(ImageLoadError, match=r"^Image array has shape"):
        load_image(bad, index=0)  # outside the outer block's items: no number rather than a wrong one
