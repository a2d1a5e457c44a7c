"""Raw items -> tensors, per modality. Each preprocessor is a small picklable callable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torchvision.transforms.v2 import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from ..errors import DataError
from ._base import Batch

_INTERPOLATION = {
    "bilinear": InterpolationMode.BILINEAR,
    "bicubic": InterpolationMode.BICUBIC,
    "nearest": InterpolationMode.NEAREST,
}


class ImagePreprocessor:
    """Load, convert to RGB, resize the whole image to ``input_size`` (no crop) and normalise.

    No centre crop: small labelled sets (scans, thumbnails, product shots) often have the object at
    the border, and cropping 12% of it away costs accuracy there; the pretrained networks are robust to
    the mild aspect change instead.

    An optional ``transform`` (a callable on a uint8 ``(3, H, W)`` tensor, e.g. a torchvision v2
    augmentation) runs before resizing; it is how training-time augmentation plugs in.
    """

    def __init__(
        self,
        input_size: tuple[int, int],
        mean: Sequence[float],
        std: Sequence[float],
        interpolation: str = "bilinear",
        transform: Any = None,
    ) -> None:
        self.input_size = tuple(input_size)
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
        self.interpolation = interpolation
        self.transform = transform

    def __call__(self, items: Sequence[Any]) -> Batch:
        from ..data import load_image

        pixels = _pixel_array(items)
        if pixels is not None and self.transform is None:
            x = _uniform_array_batch(pixels)  # fast path: one resize for the whole batch
        else:
            tensors = []
            for i, item in enumerate(items if pixels is None else pixels):
                img = torch.from_numpy(np.ascontiguousarray(load_image(item, index=i))).permute(2, 0, 1)
                if self.transform is not None:
                    img = self.transform(img)
                tensors.append(self._resize(img))
            if not tensors:
                raise DataError("no images to preprocess (empty batch)")
            x = torch.stack(tensors)
        if tuple(x.shape[-2:]) != self.input_size:
            x = self._resize(x)
        x = x.to(torch.float32).div_(255.0)
        return {"pixel_values": (x - self.mean) / self.std}

    def _resize(self, img: torch.Tensor) -> torch.Tensor:
        if tuple(img.shape[-2:]) == self.input_size:
            return img
        return TF.resize(img, list(self.input_size), interpolation=_INTERPOLATION[self.interpolation], antialias=True)


def _pixel_array(items: Sequence[Any]) -> np.ndarray | None:
    """``items`` as ``uint8`` pixels when it is one ``(N, H, W[, C])`` numeric array, else None. The scale
    of float pixels (0..1 or 0..255) is decided once for the array, so that every image in it is read
    alike (:func:`~transferkit.data._images.image_array_to_uint8`)."""
    from ..data._images import image_array_to_uint8

    if isinstance(items, np.ndarray) and items.dtype != object and items.ndim in (3, 4):
        return image_array_to_uint8(items)
    return None


def _uniform_array_batch(arr: np.ndarray) -> torch.Tensor:
    """(N,H,W) or (N,H,W,C) numeric array -> uint8 tensor (N,3,H,W)."""
    from ..data import load_image

    if arr.ndim == 3 or arr.shape[-1] not in (3,) or arr.dtype != np.uint8:
        arr = np.stack([load_image(a, index=i) for i, a in enumerate(arr)])
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2)


class TextPreprocessor:
    """Tokenise a batch of strings with dynamic padding to the longest text in the batch."""

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = int(max_length)

    def __call__(self, items: Sequence[Any]) -> Batch:
        texts = [str(t) for t in items]
        enc = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}


class TablePreprocessor:
    """Numeric rows -> float32 tensor; checks the width the backbone was built for."""

    def __init__(self, in_features: int | None) -> None:
        self.in_features = in_features

    def __call__(self, items: Sequence[Any]) -> Batch:
        x = np.asarray(items, dtype=np.float32)
        if x.ndim == 1:
            x = x.reshape(1, -1)
        if self.in_features is not None and x.shape[1] != self.in_features:
            raise DataError(f"expected {self.in_features} features per row, got {x.shape[1]}")
        return {"features": torch.from_numpy(np.ascontiguousarray(x))}
