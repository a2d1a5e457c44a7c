"""One item where a sequence of items belongs (QA API report, defect 7): a DataError saying how to pass it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.helpers import stripe_images

from transferkit import TransferClassifier
from transferkit.data._check import check_input
from transferkit.errors import DataError


@pytest.mark.parametrize("item, match", [
    (Image.fromarray(np.zeros((8, 8), dtype=np.uint8)),
     r"^expected a sequence of images, got a single PIL image; pass \[image\]$"),
    (Path("cat.png"), r"^expected a sequence of items, got a single path \('cat.png'\); pass \[path\]$"),
    (3, r"^expected a sequence of items \(a list, an array or a pandas Series\), got a single int \(3\)$"),
], ids=["PIL", "Path", "int"])
def test_a_single_item_is_refused_with_how_to_pass_it(item: object, match: str) -> None:
    with pytest.raises(DataError, match=match):
        check_input(item, "image")


def test_predict_on_one_pil_image_says_to_pass_a_list_of_it() -> None:
    X, y = stripe_images(n_per_class=4)
    clf = TransferClassifier(backbone="tiny-cnn", image_size=32, cache=False).fit(X, y)
    image = Image.fromarray(X[0])
    with pytest.raises(DataError, match=r"got a single PIL image; pass \[image\]"):
        clf.predict(image)
    # the same prediction to float32 rounding: a one-row array and a list of one item reach the backbone's
    # convolutions by different paths (features ~1e-8 apart with numpy 2.4 / pillow 13), not bit for bit
    np.testing.assert_allclose(clf.predict_proba([image]), clf.predict_proba(X[:1]), rtol=1e-5, atol=1e-6)


def test_an_iterator_of_items_is_still_read() -> None:
    texts = check_input((t for t in ["one text", "another"]), "text")
    assert list(texts) == ["one text", "another"]
