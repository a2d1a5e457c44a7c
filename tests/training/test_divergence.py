"""A fine-tune that diverges stops with the cause, instead of a scikit-learn traceback about NaN or a saved
model whose every probability is NaN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.helpers import blobs, run_cli, stripe_images

from transferkit import FullFineTune, TransferClassifier
from transferkit.errors import StrategyError


def test_an_infinite_loss_stops_training_at_once() -> None:
    X, y = blobs(20)
    strategy = FullFineTune(epochs=3, val_fraction=0.0, bss=1e308)  # the regulariser alone overflows
    with pytest.raises(StrategyError, match=r"^training diverged: the loss became inf at epoch 1, batch 1; lower"):
        TransferClassifier(backbone="tiny-mlp", cache=False, strategy=strategy).fit(X, y)


def test_weights_blown_up_by_the_last_step_are_caught() -> None:
    X, y = stripe_images(8, size=16)
    clf = TransferClassifier(backbone="tiny-cnn", cache=False, image_size=32,
                             strategy=FullFineTune(epochs=2, val_fraction=0.0, lr=1e12, head_lr=1e12))
    with pytest.raises(StrategyError, match="training diverged"):
        clf.fit(X, y)
        clf.predict_proba(X)  # the loss may still read as a number: the outputs then do not


def test_the_cli_says_so_and_saves_nothing(tmp_path: Path) -> None:
    X, y = stripe_images(8, size=16)
    folder = tmp_path / "imgs"
    from PIL import Image

    for i, (image, label) in enumerate(zip(X, y, strict=True)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(image)).save(folder / str(label) / f"{i}.png")
    code, text = run_cli("fit", folder, "-b", "tiny-cnn", "--image-size", "32", "-s", "finetune", "--epochs", "2",
                         "--lr", "1e12", "-o", tmp_path / "m", "--no-progress")
    assert code == 1 and "training diverged" in text and "Traceback" not in text, text
    assert not (tmp_path / "m").exists()
