"""LoRA, LP-FT and gradual unfreezing on the packaged pretrained backbones (small data, one or two epochs)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from transferkit import TransferClassifier, load_model
from transferkit.backbones import create_backbone
from transferkit.strategies import LPFT, GradualUnfreeze, LoRA, default_lora_targets

pytestmark = pytest.mark.integration

# Only a missing dataset skips; any other loader error fails the test.
_FASHION = Path(os.environ.get("TRANSFERKIT_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist")


def test_default_lora_targets_of_the_packaged_backbones() -> None:
    assert default_lora_targets(create_backbone("minilm-l6")) == ["query", "value"]
    assert default_lora_targets(create_backbone("efficientnet-lite0", image_size=64)) == ["conv_head", "conv_pw", "conv_pwl"]


def test_lora_on_minilm_saves_adapters_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from transferkit.datasets import load_chinese_sentiment

    data = load_chinese_sentiment(n_per_class=12, random_state=0)
    clf = TransferClassifier(backbone="minilm-l6", max_length=32, cache=False,
                             strategy=LoRA(rank=4, epochs=1, val_fraction=0.0, batch_size=8)).fit(data.X, data.y)
    info = clf.fit_info_["lora"]
    assert info["adapted_layers"] == 12  # query and value in 6 layers
    assert info["adapter_parameters"] < 0.01 * info["backbone_parameters"]
    folder = clf.save(tmp_path / "m")
    size = (folder / "adapters.safetensors").stat().st_size
    assert size < 2_000_000  # adapters + head, not the 90 MB backbone
    np.testing.assert_array_equal(load_model(folder).predict_proba(data.X[:8]), clf.predict_proba(data.X[:8]))


@pytest.mark.skipif(not _FASHION.is_dir(), reason="dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("strategy", [LPFT(epochs=1, batch_size=16), GradualUnfreeze(epochs=2, batch_size=16),
                                      LoRA(epochs=1, batch_size=16)])
def test_strategies_on_efficientnet(strategy, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from transferkit.datasets import load_fashion_mnist

    data = load_fashion_mnist(split="train", n_per_class=4, random_state=0)
    clf = TransferClassifier(backbone="efficientnet-lite0", image_size=64, cache=False, strategy=strategy).fit(data.X, data.y)
    again = load_model(clf.save(tmp_path / "m"))
    np.testing.assert_array_equal(again.predict_proba(data.X[:6]), clf.predict_proba(data.X[:6]))
