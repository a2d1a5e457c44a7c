"""Mixed precision: bf16 autocast on CPU, fp16 only where a GPU is, and fits of different precisions in one process."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.helpers import blobs

from transferkit import TransferClassifier
from transferkit.errors import StrategyError
from transferkit.strategies import FullFineTune


def _fit(precision: str, device: str = "auto") -> TransferClassifier:
    X, y = blobs(40, n_features=8)
    strategy = FullFineTune(epochs=3, lr=1e-2, mixed_precision=precision)
    return TransferClassifier(backbone="tiny-mlp", cache=False, device=device, strategy=strategy).fit(X, y)


def _losses(clf: TransferClassifier) -> np.ndarray:
    return np.array([e["train_loss"] for e in clf.model_.history.epochs])


def test_bf16_autocasts_and_precisions_can_change_between_fits_in_one_process() -> None:
    full = _fit("no", device="cpu")
    half = _fit("bf16", device="cpu")  # Accelerate would refuse a second precision without the state reset
    again = _fit("no", device="cpu")
    np.testing.assert_array_equal(_losses(full), _losses(again))
    assert not np.array_equal(_losses(full), _losses(half))  # bf16 matmuls round differently...
    np.testing.assert_allclose(_losses(half), _losses(full), rtol=0.02)  # ... but learn the same
    assert _losses(half)[-1] < _losses(half)[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU refusal")
def test_fp16_without_a_gpu_is_refused_before_training() -> None:
    with pytest.raises(StrategyError, match="fp16.*needs a GPU.*bf16"):
        _fit("fp16")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fp16_on_a_gpu_trains_with_a_grad_scaler() -> None:
    half, full = _fit("fp16"), _fit("no")
    assert np.isfinite(_losses(half)).all() and _losses(half)[-1] < _losses(half)[0]
    np.testing.assert_allclose(_losses(half), _losses(full), rtol=0.05)
