"""Data fixtures shared by the CLI tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """A feature table: columns f1..f4 (with negative values) and ``label`` (a/b, 20 rows each)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 4)), columns=["f1", "f2", "f3", "f4"])
    frame["label"] = np.repeat(["a", "b"], 20)
    frame.loc[frame["label"] == "b", "f1"] += 2
    path = tmp_path / "good.csv"
    frame.to_csv(path, index=False)
    return path
