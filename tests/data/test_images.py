"""Tests of transferkit.data._images: every image kind becomes RGB uint8, every failure names the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from transferkit.data import IMAGE_EXTENSIONS, is_image_path, load_image, load_images
from transferkit.errors import DataError, ImageLoadError


def _assert_rgb(image: np.ndarray, shape: tuple[int, int]) -> None:
    assert image.dtype == np.uint8
    assert image.shape == (*shape, 3)
    assert image.flags["C_CONTIGUOUS"]
    assert image.flags["WRITEABLE"], "torch.from_numpy warned on every batch of read-only RGB views"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# --- files of every mode ------------------------------------------------------------------------


def test_rgb_png_round_trips_exactly(tmp_path: Path, rng: np.random.Generator) -> None:
    pixels = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    _assert_rgb(out, (6, 5))
    np.testing.assert_array_equal(out, pixels)


def test_grayscale_is_repeated_over_three_channels(tmp_path: Path, rng: np.random.Generator) -> None:
    gray = rng.integers(0, 256, size=(4, 7), dtype=np.uint8)
    Image.fromarray(gray, mode="L").save(tmp_path / "g.png")
    out = load_image(str(tmp_path / "g.png"))
    _assert_rgb(out, (4, 7))
    for channel in range(3):
        np.testing.assert_array_equal(out[..., channel], gray)


def test_16bit_png_is_scaled_by_full_range_not_clipped(tmp_path: Path) -> None:
    values = np.array([[0, 257, 32896], [65535, 1000, 60000]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as image:
        assert image.mode == "I;16"  # the file really is 16-bit
    out = load_image(tmp_path / "deep.png")
    expected = np.rint(values / 257.0).astype(np.uint8)  # 65535 -> 255, 32896 -> 128, 1000 -> 4
    np.testing.assert_array_equal(out[..., 0], expected)
    assert out[1, 0, 0] == 255 and out[0, 2, 0] == 128


def test_32bit_integer_image_with_16bit_values_is_scaled(tmp_path: Path) -> None:
    values = np.array([[0, 65535], [257, 200]], dtype=np.int32)
    Image.fromarray(values, mode="I").save(tmp_path / "i32.tif")
    out = load_image(tmp_path / "i32.tif")
    np.testing.assert_array_equal(out[..., 1], [[0, 255], [1, 1]])


def test_float_tiff_in_unit_range_is_scaled(tmp_path: Path) -> None:
    values = np.array([[0.0, 0.5], [1.0, 0.25]], dtype=np.float32)
    Image.fromarray(values, mode="F").save(tmp_path / "f.tif")
    out = load_image(tmp_path / "f.tif")
    np.testing.assert_array_equal(out[..., 2], [[0, 128], [255, 64]])


def test_palette_png_with_transparency_is_composited_over_white(tmp_path: Path) -> None:
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((0, 0), 0)
    image.putpixel((1, 0), 1)
    image.info["transparency"] = 1  # palette entry 1 (blue) is fully transparent
    image.save(tmp_path / "p.png", transparency=1)
    out = load_image(tmp_path / "p.png")
    np.testing.assert_array_equal(out[0], [[255, 0, 0], [255, 255, 255]])


def test_palette_png_without_transparency_keeps_its_colors(tmp_path: Path) -> None:
    image = Image.new("P", (1, 1))
    image.putpalette([10, 200, 30] + [0] * 765)
    image.save(tmp_path / "p.png")
    np.testing.assert_array_equal(load_image(tmp_path / "p.png")[0, 0], [10, 200, 30])


def test_rgba_png_is_composited_over_white(tmp_path: Path) -> None:
    pixels = np.array([[[255, 0, 0, 255], [255, 0, 0, 128], [0, 0, 0, 0]]], dtype=np.uint8)
    Image.fromarray(pixels, mode="RGBA").save(tmp_path / "rgba.png")
    out = load_image(tmp_path / "rgba.png")
    _assert_rgb(out, (1, 3))
    np.testing.assert_array_equal(out[0], [[255, 0, 0], [255, 127, 127], [255, 255, 255]])


def test_la_png_is_composited_over_white(tmp_path: Path) -> None:
    pixels = np.array([[[0, 255], [0, 0]]], dtype=np.uint8)
    Image.fromarray(pixels, mode="LA").save(tmp_path / "la.png")
    np.testing.assert_array_equal(load_image(tmp_path / "la.png")[0], [[0, 0, 0], [255, 255, 255]])


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    Image.new("CMYK", (8, 8), (255, 0, 0, 0)).save(tmp_path / "cmyk.jpg", quality=100)  # pure cyan
    out = load_image(tmp_path / "cmyk.jpg")
    _assert_rgb(out, (8, 8))
    red, green, blue = out[4, 4].astype(int)
    assert red < 20 and green > 235 and blue > 235


def test_one_bit_image_maps_to_black_and_white(tmp_path: Path) -> None:
    image = Image.new("1", (2, 1))
    image.putpixel((1, 0), 1)
    image.save(tmp_path / "bw.png")
    np.testing.assert_array_equal(load_image(tmp_path / "bw.png")[0], [[0, 0, 0], [255, 255, 255]])


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = Image.new("RGB", (4, 2), (0, 128, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    image.save(tmp_path / "phone.jpg", exif=exif)
    assert load_image(tmp_path / "phone.jpg").shape == (4, 2, 3)


def test_pil_image_input(rng: np.random.Generator) -> None:
    pixels = rng.integers(0, 256, size=(3, 3, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    out = load_image(Image.fromarray(pixels, mode="RGBA"))
    np.testing.assert_array_equal(out, pixels[..., :3])


# --- arrays ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 4), (5, 4, 1), (5, 4, 3)])
def test_uint8_arrays_keep_their_values(shape: tuple[int, ...], rng: np.random.Generator) -> None:
    pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
    out = load_image(pixels)
    _assert_rgb(out, (5, 4))
    gray_or_rgb = pixels if pixels.ndim == 3 and pixels.shape[-1] == 3 else pixels.reshape(5, 4, 1)
    np.testing.assert_array_equal(out, np.broadcast_to(gray_or_rgb, (5, 4, 3)))


def test_non_contiguous_array_comes_back_contiguous(rng: np.random.Generator) -> None:
    pixels = rng.integers(0, 256, size=(4, 6, 3), dtype=np.uint8)
    view = pixels.transpose(1, 0, 2)
    out = load_image(view)
    assert out.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(out, view)


def test_rgba_array_is_composited() -> None:
    pixels = np.zeros((1, 1, 4), dtype=np.uint8)  # black, fully transparent
    np.testing.assert_array_equal(load_image(pixels)[0, 0], [255, 255, 255])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.array([[0.0, 0.5, 1.0]]), [[0, 128, 255]]),  # max <= 1: scaled by 255
        (np.array([[-3.0, 17.4, 300.0]]), [[0, 17, 255]]),  # max > 1: clipped to 0..255
        (np.array([[np.nan, 0.2, 1.0]], dtype=np.float32), [[0, 51, 255]]),
        (np.array([[False, True]]), [[0, 255]]),
        (np.array([[0, 257, 65535]], dtype=np.uint16), [[0, 1, 255]]),
        (np.array([[-5, 100, 999]], dtype=np.int64), [[0, 100, 255]]),
    ],
)
def test_array_dtypes_become_uint8(values: np.ndarray, expected: list[list[int]]) -> None:
    out = load_image(values)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 0], expected)


# --- errors name the file or item -----------------------------------------------------------------


def test_missing_file_names_path_and_index(tmp_path: Path) -> None:
    path = tmp_path / "nope.png"
    with pytest.raises(ImageLoadError, match="does not exist") as info:
        load_image(path, index=7)
    assert str(path) in str(info.value) and "item 7" in str(info.value)
    assert isinstance(info.value, DataError) and isinstance(info.value, ValueError)


def test_empty_file_is_reported_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "zero.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageLoadError, match=r"is empty \(0 bytes\)") as info:
        load_image(path)
    assert str(path) in str(info.value)


def test_text_file_renamed_jpg_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture\n" * 10)
    with pytest.raises(ImageLoadError, match="not an image") as info:
        load_image(path, index=2)
    assert str(path) in str(info.value) and "item 2" in str(info.value)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_truncated_file_is_detected(tmp_path: Path, rng: np.random.Generator, suffix: str) -> None:
    path = tmp_path / f"cut{suffix}"
    Image.fromarray(rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match="truncated or corrupt") as info:
        load_image(path)
    assert str(path) in str(info.value)


def test_folder_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="is a folder") as info:
        load_image(tmp_path)
    assert str(tmp_path) in str(info.value)


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4, 3), (5, 4, 2), (5, 4, 5)])
def test_array_of_wrong_shape_is_rejected(shape: tuple[int, ...]) -> None:
    with pytest.raises(ImageLoadError, match=r"item 3\) has shape") as info:
        load_image(np.zeros(shape, dtype=np.uint8), index=3)
    assert str(shape) in str(info.value)


def test_channels_first_array_gets_a_hint() -> None:
    with pytest.raises(ImageLoadError, match=r"channels-first.*transpose\(1, 2, 0\)"):
        load_image(np.zeros((3, 8, 8), dtype=np.uint8))


def test_unsupported_item_type_names_the_type() -> None:
    with pytest.raises(ImageLoadError, match=r"Image \(item 1\) is a int"):
        load_image(5, index=1)


def test_load_images_names_the_bad_position(tmp_path: Path) -> None:
    good = np.zeros((2, 2), dtype=np.uint8)
    bad = tmp_path / "missing.png"
    with pytest.raises(ImageLoadError, match=r"item 1\)") as info:
        load_images([good, bad])
    assert str(bad) in str(info.value)
    assert [a.shape for a in load_images([good, good])] == [(2, 2, 3), (2, 2, 3)]


# --- extensions ---------------------------------------------------------------------------------


def test_is_image_path() -> None:
    assert is_image_path("cats/001.JPG") and is_image_path(Path("a/b.webp"))
    assert not is_image_path("notes.txt") and not is_image_path("folder")
    assert not is_image_path(3) and not is_image_path(None) and not is_image_path(b"x.png")
    assert {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"} == IMAGE_EXTENSIONS
