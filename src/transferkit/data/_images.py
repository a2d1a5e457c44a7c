"""Load one image (path, PIL image or array) as an RGB ``uint8`` array of shape ``(H, W, 3)``.

Every image that enters transferkit passes through :func:`load_image`, so backbones see one format
whatever the file held: grayscale, palette, alpha, 16-bit, CMYK or float data are all converted here,
and every failure is an :class:`~transferkit.errors.ImageLoadError` that names the file.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from transferkit.errors import ImageLoadError

__all__ = ["IMAGE_EXTENSIONS", "image_array_to_uint8", "is_image_path", "load_image", "load_images"]

#: File extensions (lower case, with the dot) that are treated as images.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
)

# Pillow modes that hold one 16-bit channel; they are scaled to 8 bits by the full 16-bit range.
_MODES_16BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})

#: How far float pixels may stray outside their scale (0..1 or 0..255), as a fraction of the scale's top,
#: and still be clipped into it: resizing and interpolation overshoot a little (a 0..1 image with a pixel
#: at 1.0001 is still 0..1). Further out, pixels of a float batch are refused (:func:`image_array_to_uint8`).
FLOAT_SCALE_TOLERANCE = 1e-3


def is_image_path(x: object) -> bool:
    """Tell whether ``x`` is a path (``str`` or path-like) whose extension is an image extension.

    Parameters
    ----------
    x : object
        Anything; only ``str`` and :class:`os.PathLike` objects can be image paths.

    Returns
    -------
    bool
        ``True`` when the suffix, lower-cased, is in :data:`IMAGE_EXTENSIONS`. The file is not opened.

    Examples
    --------
    >>> is_image_path("cats/001.JPG"), is_image_path("notes.txt"), is_image_path(3)
    (True, False, False)
    """
    if not isinstance(x, str | os.PathLike):
        return False
    path = os.fspath(x)
    return isinstance(path, str) and os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS


def load_image(item: Any, *, index: int | None = None) -> np.ndarray:
    """Load one image as a C-contiguous RGB ``uint8`` array of shape ``(H, W, 3)``.

    Parameters
    ----------
    item : str, os.PathLike, PIL.Image.Image or numpy.ndarray
        An image file, an image already opened with Pillow, or an array of shape ``(H, W)``,
        ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` (the fourth channel is alpha).
    index : int, optional
        Position of ``item`` in a collection; error messages name it.

    Returns
    -------
    numpy.ndarray
        ``uint8`` array of shape ``(H, W, 3)``.

    Raises
    ------
    ImageLoadError
        The file does not exist, is empty, is not an image, or is truncated or corrupt; or the array
        has the wrong number of dimensions or channels.

    Notes
    -----
    Grayscale is repeated over three channels. Alpha (RGBA, LA, palette transparency) is composited
    over a white background. 16-bit data is scaled by the full 16-bit range (``round(v / 257)``), not
    clipped. Integer arrays other than ``uint8``/``uint16`` are clipped to 0..255; boolean arrays map to 0
    and 255. Files are turned upright according to their EXIF orientation.

    The scale of float pixels is decided from the values of this one image: a maximum of at most
    ``1 + 1e-3`` (:data:`FLOAT_SCALE_TOLERANCE`) means 0..1, scaled by 255 (a pixel that overshoots to
    1.0001 is clipped to 255); a larger maximum means 0..255. Values outside the scale are clipped and NaN
    becomes 0. A dark 0..255 image whose pixels are all at most 1 is therefore read as 0..1: pass such
    images in one ``(N, H, W[, C])`` array, where :func:`image_array_to_uint8` decides the scale once for
    the whole array (and refuses values far outside it), or as ``uint8``.

    Examples
    --------
    >>> import numpy as np
    >>> load_image(np.zeros((4, 5), dtype=bool)).shape
    (4, 5, 3)
    """
    if isinstance(item, np.ndarray):
        return _array_to_rgb(item, _where("Image array", index))
    if isinstance(item, Image.Image):
        return _pil_to_rgb(item, _where("Image", index))
    if isinstance(item, str | os.PathLike):
        return _load_path(Path(os.fsdecode(item)), index)
    raise ImageLoadError(
        f"{_where('Image', index)} is a {type(item).__name__}, not a path, PIL image or numpy array; "
        "pass one of those."
    )


def load_images(items: Iterable[Any]) -> list[np.ndarray]:
    """Load several images with :func:`load_image`; errors name the position of the bad item.

    Parameters
    ----------
    items : iterable
        Paths, PIL images or arrays, in any mix, or one ``(N, H, W[, C])`` numeric array (its float
        pixels are scaled as one batch: :func:`image_array_to_uint8`).

    Returns
    -------
    list of numpy.ndarray
        One ``uint8`` ``(H, W, 3)`` array per item, in order.
    """
    if isinstance(items, np.ndarray) and items.dtype != object and items.ndim in (3, 4):
        items = image_array_to_uint8(items)
    return [load_image(item, index=i) for i, item in enumerate(items)]


def image_array_to_uint8(images: np.ndarray) -> np.ndarray:
    """The pixels of an ``(N, H, W[, C])`` image array as ``uint8``, the scale of float pixels decided once
    for the whole array.

    A float array whose maximum is at most ``1 + 1e-3`` (:data:`FLOAT_SCALE_TOLERANCE`) holds 0..1 pixels
    and is scaled by 255; any other float array holds 0..255 pixels. So a dark image in a 0..255 batch
    stays dark, and a 0..1 image with a pixel that overshoots to 1.0001 stays 0..1 (that pixel is clipped
    to 255). Pixels outside the chosen scale by at most the tolerance are clipped into it; further out,
    or NaN or infinite, they are an error. Arrays of other dtypes come back as they are: their scale does
    not depend on the values, and :func:`load_image` converts them item by item.

    Parameters
    ----------
    images : numpy.ndarray
        ``N`` images of shape ``(H, W)`` or ``(H, W, C)``.

    Returns
    -------
    numpy.ndarray
        ``uint8`` pixels of the same shape for a float array, else ``images`` itself.

    Raises
    ------
    ImageLoadError
        A float image holds NaN or infinite values, or values outside the array's scale; the message
        names the first such item.

    Examples
    --------
    >>> import numpy as np
    >>> dark, bright = np.full((1, 2, 2), 1.0), np.full((1, 2, 2), 200.0)
    >>> image_array_to_uint8(np.concatenate([dark, bright]))[:, 0, 0].tolist()  # one scale: 0..255
    [1, 200]
    """
    if not np.issubdtype(images.dtype, np.floating) or images.ndim < 2 or images.size == 0:
        return images
    flat = images.reshape(len(images), -1)
    lows, highs = flat.min(axis=1), flat.max(axis=1)  # NaN propagates into both
    bad = ~(np.isfinite(lows) & np.isfinite(highs))
    if bad.any():
        i = int(np.argmax(bad))
        raise ImageLoadError(
            f"{_where('Image array', i)} holds NaN or infinite pixels; replace them or drop that image."
        )
    top = 1.0 if float(highs.max()) <= 1.0 + FLOAT_SCALE_TOLERANCE else 255.0
    slack = FLOAT_SCALE_TOLERANCE * top
    outside = (lows < -slack) | (highs > top + slack)
    if outside.any():
        i = int(np.argmax(outside))
        scale = "0..1" if top == 1.0 else "0..255 (its maximum is above 1)"
        raise ImageLoadError(
            f"{_where('Image array', i)} has pixels from {float(lows[i]):.6g} to {float(highs[i]):.6g}, outside "
            f"the array's scale {scale}; pass unnormalised pixels in 0..1 or 0..255, or uint8."
        )
    out = np.empty(images.shape, dtype=np.uint8)
    for i, image in enumerate(images):  # image by image: no float64 copy of the whole array
        out[i] = _float_to_uint8(image, top)
    return out


# The items at hand as places in the data the user passed: their positions there (None: unknown), and the name of
# that data ("the test set"; None: the data itself). Set by item_positions, read by data_position.
_POSITIONS: contextvars.ContextVar[tuple[Sequence[int | None], str | None] | None] = contextvars.ContextVar(
    "item_positions", default=None)


@contextlib.contextmanager
def item_positions(positions: Sequence[int], *, of: str | None = None) -> Iterator[None]:
    """Within this block, ``index=i`` given to :func:`load_image` (and an item or row that the input checks of
    :mod:`transferkit.data._check` name) is taken as a position in a batch whose items sit at ``positions`` in
    the data, and messages name ``positions[i]``: batched callers then report the item's place in the user's
    data, not in the batch.

    Blocks nest: inside an outer block, ``positions`` are places among the outer block's items (a
    fine-tuning strategy extracting features of its training split names rows of the whole data set).
    ``of`` names other data than the one the user passed first (``"the test set"``): messages then say
    "item 2 of the test set", and the block is no part of an outer one (its positions are not mapped)."""
    outer = _POSITIONS.get()
    mapped: list[int | None] = [int(p) for p in positions]
    if outer is not None and of is None:
        places, of = outer
        mapped = [places[p] if p is not None and 0 <= p < len(places) else None for p in mapped]  # unknown: none
    token = _POSITIONS.set((mapped, of))
    try:
        yield
    finally:
        _POSITIONS.reset(token)


def data_position(index: int) -> tuple[int | None, str | None]:
    """Where the item at ``index`` of the items at hand sits in the data the user passed (see
    :func:`item_positions`): its position there (``index`` itself outside any block; None when unknown),
    and the name of that data (``"the test set"``; None: the data itself)."""
    frame = _POSITIONS.get()
    if frame is None:
        return index, None
    places, of = frame
    return (places[index] if 0 <= index < len(places) else None), of


def item_name(noun: str, index: int) -> str | None:
    """``noun`` numbered by the item's position in the user's data (:func:`data_position`): ``"item 7"``,
    ``"row 2 of the test set"``; None when that position is unknown."""
    position, of = data_position(index)
    if position is None:
        return None
    return f"{noun} {position}" if of is None else f"{noun} {position} of {of}"


def _where(what: str, index: int | None) -> str:
    name = None if index is None else item_name("item", index)
    return what if name is None else f"{what} ({name})"


def _load_path(path: Path, index: int | None) -> np.ndarray:
    where = _where(f"Image '{path}'", index)
    if not path.exists():
        hint = "" if path.suffix else " (an image model reads image files or pixel arrays, not texts)"
        raise ImageLoadError(f"{where} does not exist; check the path{hint}.")
    if path.is_dir():
        raise ImageLoadError(f"{where} is a folder, not an image file.")
    if path.stat().st_size == 0:
        raise ImageLoadError(f"{where} is empty (0 bytes); replace or remove the file.")
    try:
        with Image.open(path) as image:
            image.load()  # decodes now, so a truncated file fails here and not later
            upright = ImageOps.exif_transpose(image)
            return _pil_to_rgb(upright, where)
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError(
            f"{where} is not an image file Pillow can identify; remove it or convert it to PNG or JPEG."
        ) from None
    except PermissionError:
        raise ImageLoadError(f"{where} cannot be read (permission denied).") from None
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(f"{where} is too large to decode safely ({exc}).") from None
    except (OSError, SyntaxError, EOFError, ValueError) as exc:
        raise ImageLoadError(
            f"{where} is truncated or corrupt ({exc}); replace or remove the file."
        ) from None


def _pil_to_rgb(image: Image.Image, where: str) -> np.ndarray:
    mode = image.mode
    if mode == "RGB":
        return np.array(image, dtype=np.uint8)  # a writable copy: torch.from_numpy warns on a read-only view
    if mode == "RGBA":
        return _array_to_rgb(np.asarray(image), where)
    if mode in ("LA", "RGBa", "La", "PA") or (mode == "P" and "transparency" in image.info):
        return _array_to_rgb(np.asarray(image.convert("RGBA")), where)
    if mode in ("L", "P", "1", "CMYK", "YCbCr", "HSV"):
        if mode in ("L", "1"):
            return _array_to_rgb(np.asarray(image.convert("L")), where)
        return np.array(image.convert("RGB"), dtype=np.uint8)
    if mode in _MODES_16BIT:
        return _array_to_rgb(np.asarray(image).astype(np.uint16), where)
    if mode == "I":
        return _array_to_rgb(_int32_to_uint8(np.asarray(image)), where)
    if mode == "F":
        return _array_to_rgb(np.asarray(image, dtype=np.float32), where)
    try:
        return np.array(image.convert("RGB"), dtype=np.uint8)
    except ValueError:
        raise ImageLoadError(
            f"{where} has Pillow mode {mode!r}, which cannot be converted to RGB; save it as RGB."
        ) from None


def _int32_to_uint8(values: np.ndarray) -> np.ndarray:
    # Pillow's 32-bit "I" mode usually carries 16-bit data; its nominal range is unknown, so it is
    # taken from the values: 8-bit data stays, 16-bit data is scaled by 257, wider data by its maximum.
    values = np.clip(values.astype(np.int64), 0, None)
    top = int(values.max(initial=0))
    if top <= 255:
        return values.astype(np.uint8)
    if top <= 65535:
        return values.astype(np.uint16)
    return np.rint(values * (255.0 / top)).astype(np.uint8)


def _to_uint8(values: np.ndarray, where: str) -> np.ndarray:
    if values.dtype == np.uint8:
        return values
    if values.dtype == np.bool_:
        return values.astype(np.uint8) * np.uint8(255)
    if values.dtype == np.uint16:
        return np.rint(values / 257.0).astype(np.uint8)
    if np.issubdtype(values.dtype, np.floating):  # one image alone: its scale is decided from its own values
        values = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        unit = values.size and values.max() <= 1.0 + FLOAT_SCALE_TOLERANCE
        return _float_to_uint8(values, 1.0 if unit else 255.0)
    if np.issubdtype(values.dtype, np.integer):
        return np.clip(values, 0, 255).astype(np.uint8)
    raise ImageLoadError(
        f"{where} has dtype {values.dtype}, not a numeric type; pass uint8, uint16, float or bool pixels."
    )


def _float_to_uint8(values: np.ndarray, top: float) -> np.ndarray:
    """Finite float pixels on the scale 0..``top`` (1 or 255) as ``uint8``, clipped to that scale."""
    values = values.astype(np.float64, copy=False)
    if top == 1.0:
        values = values * 255.0
    return np.rint(np.clip(values, 0.0, 255.0)).astype(np.uint8)


def _array_to_rgb(array: np.ndarray, where: str) -> np.ndarray:
    if array.ndim == 3 and array.shape[-1] not in (1, 3, 4) and array.shape[0] in (1, 3, 4):
        raise ImageLoadError(
            f"{where} has shape {array.shape}, which looks channels-first; "
            "pass (H, W, C), e.g. array.transpose(1, 2, 0)."
        )
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 3, 4)):
        raise ImageLoadError(
            f"{where} has shape {array.shape}; expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)."
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageLoadError(f"{where} has shape {array.shape}, which holds no pixels.")
    pixels = _to_uint8(np.asarray(array), where)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.shape[-1] == 4:
        return _composite_over_white(pixels)
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return np.ascontiguousarray(pixels)


def _composite_over_white(rgba: np.ndarray) -> np.ndarray:
    # Transparent pixels become white, the usual background of product photos and scanned documents.
    weight = rgba[..., 3:].astype(np.float32) / 255.0
    blended = rgba[..., :3].astype(np.float32) * weight + 255.0 * (1.0 - weight)
    return np.ascontiguousarray(np.rint(blended).astype(np.uint8))
