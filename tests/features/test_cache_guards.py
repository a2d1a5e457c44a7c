"""The feature cache never stores, and never serves, features that do not fit their items; batch sizes
below 1 are refused before any work (QA: batch_size=-1 cached 0-column features that broke every later run)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import polarity_texts, save_pngs, stripe_images

from transferkit import FeatureExtractor
from transferkit.errors import DataError, ImageLoadError
from transferkit.features import FeatureCache
from transferkit.features._extractor import extract_features, shared_backbone


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True, "8", None])
def test_batch_size_must_be_a_whole_number_of_at_least_one(batch_size: object, tmp_path: Path) -> None:
    X, _ = polarity_texts(3)
    with pytest.raises(DataError, match=r"batch_size must be a whole number of at least 1"):
        FeatureExtractor(backbone="tiny-text", cache=tmp_path, batch_size=batch_size).fit(X)  # type: ignore[arg-type]
    ext = FeatureExtractor(backbone="tiny-text", cache=tmp_path).fit(X)
    ext.batch_size = batch_size  # type: ignore[assignment]
    with pytest.raises(DataError, match="batch_size"):
        ext.transform(X)
    assert not (tmp_path / "features").exists() or not list((tmp_path / "features").glob("*/*.npz"))


def test_extract_features_refuses_a_batch_size_below_one() -> None:
    bb = shared_backbone("tiny-text", True, None, None, None, 0)
    with pytest.raises(DataError, match="batch_size"):
        extract_features(bb, ["a text"], batch_size=0)
    assert extract_features(bb, ["a text", "another"], batch_size=np.int64(1)).shape[0] == 2


@pytest.mark.parametrize("bad", [np.zeros((3, 0)), np.zeros((2, 4)), np.full((3, 4), np.nan), np.zeros(3)])
def test_put_refuses_features_that_do_not_fit_the_items(bad: np.ndarray, tmp_path: Path) -> None:
    FeatureCache.clear_memory()
    cache = FeatureCache(tmp_path, "ns")
    cache.put(["a", "b", "c"], bad)
    assert not list(tmp_path.glob("**/*.npz"))
    cached, misses = cache.get(["a", "b", "c"])
    assert cached is None and misses == [0, 1, 2]


@pytest.mark.parametrize("damage", ["zero-columns", "nan"])
def test_a_shard_with_unusable_features_is_recomputed(damage: str, tmp_path: Path) -> None:
    X, _ = polarity_texts(4)
    expected = FeatureExtractor(backbone="tiny-text", cache=tmp_path).fit(X).transform(X)
    (shard,) = list((tmp_path / "features").glob("*/*.npz"))
    with np.load(shard) as data:
        keys = data["keys"]
    feats = np.zeros((len(keys), 0), np.float32) if damage == "zero-columns" else np.full((len(keys), 8), np.nan,
                                                                                           np.float32)
    np.savez(shard, keys=keys, features=feats)
    FeatureCache.clear_memory()  # a new process
    again = FeatureExtractor(backbone="tiny-text", cache=tmp_path).fit(X).transform(X)
    np.testing.assert_allclose(again, expected, atol=1e-6)


def test_image_errors_name_the_position_in_the_data_not_in_the_batch(tmp_path: Path) -> None:
    X, _ = stripe_images(4)
    paths = save_pngs(X, tmp_path)
    data = Path(paths[6]).read_bytes()
    Path(paths[6]).write_bytes(data[: len(data) // 2])  # truncated
    ext = FeatureExtractor(backbone="tiny-cnn", cache=tmp_path / "c", batch_size=4).fit(paths[:2])
    ext.transform(paths[:3])  # cached: the next call computes only items 3.. (misses)
    with pytest.raises(ImageLoadError, match=r"6\.png' \(item 6\) is truncated or corrupt"):
        ext.transform(paths)
    with pytest.raises(ImageLoadError, match=r"\(item 6\)"):
        FeatureExtractor(backbone="tiny-cnn", cache=False, batch_size=4).fit(paths[:2]).transform(paths)
    assert os.path.exists(paths[6])
