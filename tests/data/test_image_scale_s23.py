"""Float pixels: the 0..1 / 0..255 scale is decided once per array, not per image (QA sweep 3, defect 4).

In a float batch on the 0..255 scale a dark image (every pixel <= 1) must stay dark, and in a 0..1 batch
an image with one pixel overshooting to 1.0001 must stay bright; values far outside the scale, NaN and
infinity are an error naming the item. Lists of single float images keep the per-image rule, with the
same small tolerance above 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from transferkit import FeatureExtractor
from transferkit.backbones import create_backbone
from transferkit.data import load_image, load_images
from transferkit.data._images import FLOAT_SCALE_TOLERANCE, image_array_to_uint8
from transferkit.errors import DataError, ImageLoadError
from transferkit.evaluation import PixelFeatures
from transferkit.features import extract_features


def _uint8_batch_with_dark_image() -> np.ndarray:
    pixels = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3)).astype(np.uint8)
    pixels[1] = 1  # a very dark photo: every pixel at 1 of 255
    return pixels


def _unit_batch_with_overshoot() -> tuple[np.ndarray, np.ndarray]:
    """A 0..1 float batch whose image 2 has one pixel at 1.0001, and the same batch clipped to 0..1."""
    unit = np.random.default_rng(1).random((4, 16, 16, 3)).astype(np.float32)
    unit[2, 0, 0, 0] = 1.0001
    return unit, np.clip(unit, 0.0, 1.0)


# --- the batch rule ---------------------------------------------------------------------------------


def test_dark_image_in_a_0_255_float_batch_stays_dark() -> None:
    u8 = _uint8_batch_with_dark_image()
    out = image_array_to_uint8(u8.astype(np.float32))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, u8)


def test_overshoot_in_a_0_1_float_batch_is_clipped_not_a_change_of_scale() -> None:
    unit, clipped = _unit_batch_with_overshoot()
    out = image_array_to_uint8(unit)
    np.testing.assert_array_equal(out, np.rint(clipped.astype(np.float64) * 255).astype(np.uint8))
    assert out[2].mean() > 100  # read as 0..1, not as a nearly black 0..255 image


def test_all_dark_float_batch_is_read_as_0_1() -> None:  # the documented rule: max <= 1 means 0..1
    out = image_array_to_uint8(np.full((2, 3, 3), 0.5))
    np.testing.assert_array_equal(out, np.full((2, 3, 3), 128, np.uint8))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int64, np.bool_])
def test_non_float_arrays_come_back_unchanged(dtype: type) -> None:
    pixels = np.ones((2, 4, 4, 3), dtype=dtype)
    assert image_array_to_uint8(pixels) is pixels


def test_values_just_outside_the_scale_are_clipped() -> None:
    slack = 255 * FLOAT_SCALE_TOLERANCE
    batch = np.array([[[0.0, 100.0], [255.0 + 0.9 * slack, -0.9 * slack]]])
    np.testing.assert_array_equal(image_array_to_uint8(batch), [[[0, 100], [255, 0]]])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (300.0, r"Image array \(item 2\) has pixels from 0 to 300, outside the array's scale 0\.\.255"),
        (-5.0, r"Image array \(item 2\) has pixels from -5 to .*outside the array's scale 0\.\.255"),
        (np.nan, r"Image array \(item 2\) holds NaN or infinite pixels"),
        (np.inf, r"Image array \(item 2\) holds NaN or infinite pixels"),
    ],
)
def test_float_batch_far_outside_its_scale_is_an_error_naming_the_item(bad: float, message: str) -> None:
    batch = _uint8_batch_with_dark_image().astype(np.float64)
    batch[2] = np.clip(batch[2], 0, 200)
    batch[2, 0, 0, 0] = 0.0
    batch[2, 3, 3, 1] = bad
    with pytest.raises(ImageLoadError, match=message) as info:
        image_array_to_uint8(batch)
    assert isinstance(info.value, DataError) and "\n" not in str(info.value)


def test_negative_pixels_of_a_0_1_batch_are_an_error() -> None:
    unit, _ = _unit_batch_with_overshoot()
    unit[3, 1, 1, 1] = -0.5
    with pytest.raises(ImageLoadError, match=r"item 3\) .* outside the array's scale 0\.\.1"):
        image_array_to_uint8(unit)


def test_load_images_of_an_array_uses_the_batch_rule() -> None:
    u8 = _uint8_batch_with_dark_image()
    np.testing.assert_array_equal(np.stack(load_images(u8.astype(np.float32))), u8)


# --- single images (lists): per image, with the tolerance -------------------------------------------


def test_single_0_1_image_with_a_pixel_at_1_0001_stays_0_1() -> None:
    unit, clipped = _unit_batch_with_overshoot()
    np.testing.assert_array_equal(load_image(unit[2]), load_image(clipped[2]))


def test_single_image_above_the_tolerance_is_0_255() -> None:
    image = np.full((2, 2), 1.01)
    np.testing.assert_array_equal(load_image(image)[..., 0], np.ones((2, 2), np.uint8))


# --- every path from a float array to a model uses the batch rule ------------------------------------


@pytest.mark.parametrize("batch_size", [1, 64])
def test_feature_extractor_reads_a_float_batch_like_its_uint8_pixels(batch_size: int) -> None:
    u8 = _uint8_batch_with_dark_image()
    fe = FeatureExtractor(backbone="tiny-cnn", cache=False, batch_size=batch_size).fit(u8)
    np.testing.assert_array_equal(fe.transform(u8.astype(np.float32)), fe.transform(u8))
    np.testing.assert_array_equal(fe.transform(u8.astype(np.float32) / 255.0), fe.transform(u8))


def test_feature_cache_serves_float_and_uint8_alike(tmp_path: Path) -> None:
    u8 = _uint8_batch_with_dark_image()
    fresh = FeatureExtractor(backbone="tiny-cnn", cache=False, batch_size=1).fit(u8).transform(u8)
    fe = FeatureExtractor(backbone="tiny-cnn", cache=tmp_path, batch_size=1).fit(u8)
    np.testing.assert_array_equal(fe.transform(u8.astype(np.float32)), fresh)  # computed, then cached
    np.testing.assert_array_equal(fe.transform(u8), fresh)  # served from the cache: same pixels, same keys


def test_extract_features_decides_the_scale_for_the_whole_array() -> None:
    u8 = _uint8_batch_with_dark_image()
    backbone = create_backbone("tiny-cnn")
    as_float = extract_features(backbone, u8.astype(np.float32), batch_size=1)
    np.testing.assert_array_equal(as_float, extract_features(backbone, u8, batch_size=1))


def test_preprocessor_with_a_transform_decides_the_scale_for_the_array() -> None:
    u8 = _uint8_batch_with_dark_image()
    backbone = create_backbone("tiny-cnn")
    preprocessor = backbone.preprocessor
    preprocessor.transform = lambda img: img  # the per-item path that training-time augmentation takes
    as_float = preprocessor(u8.astype(np.float32))["pixel_values"]
    np.testing.assert_array_equal(as_float.numpy(), preprocessor(u8)["pixel_values"].numpy())


def test_feature_extractor_error_names_the_item() -> None:
    u8 = _uint8_batch_with_dark_image()
    bad = u8.astype(np.float32)
    bad[3, 0, 0, 0] = np.nan
    fe = FeatureExtractor(backbone="tiny-cnn", cache=False).fit(u8)
    with pytest.raises(DataError, match=r"\(item 3\) holds NaN"):
        fe.transform(bad)


def test_pixel_baseline_reads_a_float_batch_like_its_uint8_pixels() -> None:
    u8 = _uint8_batch_with_dark_image()
    pixels = PixelFeatures(size=8).fit(u8)
    np.testing.assert_array_equal(pixels.transform(u8.astype(np.float32)), pixels.transform(u8))
