"""Batches for the loop: indices into the raw items, preprocessed by the backbone at collate time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class _Indices(Dataset[int]):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


class Collate:
    """Turn a list of indices into ``(inputs, targets, weights)`` with the backbone's preprocessing."""

    def __init__(self, X: Any, y: np.ndarray, weights: np.ndarray | None, preprocess: Callable[[Sequence[Any]], Any]) -> None:
        self.X, self.y, self.weights, self.preprocess = X, y, weights, preprocess

    def __call__(self, idx: list[int]) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor | None]:
        ix = np.asarray(idx)
        items = self.X[ix] if isinstance(self.X, np.ndarray) else [self.X[i] for i in ix]
        w = torch.as_tensor(self.weights[ix], dtype=torch.float32) if self.weights is not None else None
        return self.preprocess(items), torch.as_tensor(self.y[ix], dtype=torch.long), w


def make_loader(
    X: Any,
    y: np.ndarray,
    *,
    preprocess: Callable[[Sequence[Any]], Any],
    batch_size: int,
    shuffle: bool,
    seed: int,
    weights: np.ndarray | None = None,
) -> DataLoader:
    """A seeded DataLoader over ``X``; shuffling order depends only on ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    return DataLoader(
        _Indices(len(y)), batch_size=batch_size, shuffle=shuffle, generator=gen,
        collate_fn=Collate(X, y, weights, preprocess), drop_last=False,
    )
