"""Data fixtures shared by the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from tests.helpers import polarity_texts, stripe_images


@pytest.fixture
def reviews(tmp_path: Path) -> Path:
    """A CSV of short reviews in columns ``review`` and ``sentiment``."""
    X, y = polarity_texts(15)
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"review": X, "sentiment": y}).to_csv(path, index=False)
    return path


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """An image folder with class sub-folders ``top`` and ``left``."""
    X, y = stripe_images(8)
    for i, (img, label) in enumerate(zip(X, y, strict=True)):
        (tmp_path / "imgs" / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(tmp_path / "imgs" / label / f"{i}.png")
    return tmp_path / "imgs"
