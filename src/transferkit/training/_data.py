"""Batches for the loop: indices into the raw items, preprocessed by the backbone at collate time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler


class _Indices(Dataset[int]):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


class EpochSampler(Sampler[int]):
    """Indices in an order that depends only on ``(seed, epoch)``.

    The loop calls ``set_epoch`` (through Accelerate's loader, also when sharded over processes), so a
    run resumed at epoch ``k`` sees exactly the batches an uninterrupted run sees, without restoring any
    generator state.
    """

    def __init__(self, n: int, *, seed: int, shuffle: bool) -> None:
        self.n, self.seed, self.shuffle = n, seed, shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Any:
        if not self.shuffle:
            return iter(range(self.n))
        gen = torch.Generator().manual_seed(int(self.seed) * 1_000_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=gen).tolist())


class Collate:
    """Turn a list of indices into ``(inputs, targets, weights)`` with the backbone's preprocessing.

    ``positions[i]`` is where ``X[i]`` sits in the user's data (default: ``i``), so an unreadable image
    is named by its place in the data set, not by its place in the (shuffled) batch or in a split of it.
    """

    def __init__(
        self,
        X: Any,
        y: np.ndarray,
        weights: np.ndarray | None,
        preprocess: Callable[[Sequence[Any]], Any],
        batch_transform: BatchTransform | None = None,
        positions: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        self.X, self.y, self.weights, self.preprocess = X, y, weights, preprocess
        self.batch_transform = batch_transform
        self.positions = None if positions is None else np.asarray(positions, dtype=np.int64)
        if self.positions is not None and self.positions.shape != (len(y),):
            raise ValueError(f"positions has shape {self.positions.shape}, expected ({len(y)},): one per item")

    def __call__(self, idx: list[int]) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor | None]:
        from ..data._images import item_positions  # here: the data layer (pandas) loads only when batches do

        ix = np.asarray(idx)
        items = self.X[ix] if isinstance(self.X, np.ndarray) else [self.X[i] for i in ix]
        w = torch.as_tensor(self.weights[ix], dtype=torch.float32) if self.weights is not None else None
        where = ix if self.positions is None else self.positions[ix]
        with item_positions(where.tolist()):  # image errors name the item's place in the data, not in the batch
            inputs = self.preprocess(items)
        # class indices (one column per task for multi-task networks); rows of other numbers (distillation's
        # label + teacher targets) stay floating point
        integer = self.y.ndim == 1 or np.issubdtype(self.y.dtype, np.integer)
        targets = torch.as_tensor(self.y[ix], dtype=torch.long if integer else torch.float32)
        if self.batch_transform is not None:
            inputs, targets = self.batch_transform(inputs, targets)
        return inputs, targets, w


#: ``(inputs, targets) -> (inputs, targets)`` on a whole batch (MixUp/CutMix: targets become soft labels).
BatchTransform = Callable[[dict[str, torch.Tensor], torch.Tensor], tuple[dict[str, torch.Tensor], torch.Tensor]]


def make_loader(
    X: Any,
    y: np.ndarray,
    *,
    preprocess: Callable[[Sequence[Any]], Any],
    batch_size: int,
    shuffle: bool,
    seed: int,
    weights: np.ndarray | None = None,
    batch_transform: BatchTransform | None = None,
    positions: Sequence[int] | np.ndarray | None = None,
) -> DataLoader:
    """A DataLoader over ``X`` whose order depends only on ``seed`` and the epoch (see :class:`EpochSampler`).

    ``positions`` are the items' positions in the user's data when ``X`` is a split of it (default: 0, 1, ...);
    image errors name them.
    """
    return DataLoader(
        _Indices(len(y)), batch_size=batch_size, sampler=EpochSampler(len(y), seed=seed, shuffle=shuffle),
        collate_fn=Collate(X, y, weights, preprocess, batch_transform, positions), drop_last=False,
    )
