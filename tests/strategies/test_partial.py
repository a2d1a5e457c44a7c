"""Partial freezing, discriminative learning rates and frozen BatchNorm statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.helpers import stripe_images

from transferkit import FullFineTune, PartialFreeze, TransferClassifier, load_model
from transferkit.backbones import create_backbone
from transferkit.errors import StrategyError
from transferkit.workflows import check_strategy_name, make_strategy


def _fit(strategy, seed: int = 0) -> TransferClassifier:  # type: ignore[no-untyped-def]
    X, y = stripe_images(10, seed=seed)
    return TransferClassifier(backbone="tiny-cnn", strategy=strategy, random_state=seed).fit(X, y)


def _state(clf: TransferClassifier) -> dict[str, torch.Tensor]:
    return clf.model_.net.backbone.state_dict()


def test_frozen_groups_and_their_batchnorm_statistics_stay_pretrained() -> None:
    start = create_backbone("tiny-cnn").state_dict()
    clf = _fit(PartialFreeze(n_frozen=1, epochs=3, lr=1e-2, batch_size=8))
    after = _state(clf)
    # group 0 is the stem: its conv weights AND its BatchNorm running statistics are untouched
    for key in ("stem.0.weight", "stem.1.weight", "stem.1.running_mean", "stem.1.running_var"):
        assert torch.equal(after[key], start[key]), key
    # the trained groups moved, including the BatchNorm statistics of the unfrozen block
    assert not torch.equal(after["block.0.weight"], start["block.0.weight"])
    assert not torch.equal(after["block.1.running_mean"], start["block.1.running_mean"])


def test_n_trainable_counts_from_the_top() -> None:
    start = create_backbone("tiny-cnn").state_dict()
    after = _state(_fit(PartialFreeze(n_trainable=1, epochs=2, lr=1e-2, batch_size=8)))
    assert torch.equal(after["block.0.weight"], start["block.0.weight"])
    assert not torch.equal(after["top.0.weight"], start["top.0.weight"])


@pytest.mark.parametrize("spelling", ["partial", PartialFreeze(epochs=2, lr=1e-2, batch_size=8)])
def test_by_default_the_top_half_of_the_groups_trains(spelling: object) -> None:
    """``strategy="partial"`` by name could never fit ("needs exactly one of n_frozen and n_trainable");
    with neither count given, tiny-cnn's 3 groups (stem, block, top) train their top 1 (3 // 2)."""
    start = create_backbone("tiny-cnn").state_dict()
    strategy = spelling if isinstance(spelling, str) else PartialFreeze(epochs=2, lr=1e-2, batch_size=8)
    X, y = stripe_images(6)
    clf = TransferClassifier(backbone="tiny-cnn", strategy=strategy, random_state=0).fit(X, y)
    after = _state(clf)
    assert torch.equal(after["block.0.weight"], start["block.0.weight"])
    assert torch.equal(after["stem.0.weight"], start["stem.0.weight"])
    assert not torch.equal(after["top.0.weight"], start["top.0.weight"])
    assert PartialFreeze().frozen_count(17, "efficientnet-lite0") == 9  # 8 of 17 train
    assert PartialFreeze().frozen_count(1, "x") == 0


def test_layer_decay_gives_lower_rates_to_lower_groups() -> None:
    strategy = FullFineTune(lr=1e-3, head_lr=1e-2, layer_decay=0.5)
    net = create_backbone("tiny-cnn").with_head(2)
    rates = sorted({g["lr"] for g in strategy.param_groups(net)})
    assert rates == pytest.approx([2.5e-4, 5e-4, 1e-3, 1e-2])  # stem, block, top, head


def test_partial_freeze_saves_and_reloads_exactly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, y = stripe_images(6)
    clf = TransferClassifier(backbone="tiny-cnn", strategy=PartialFreeze(n_frozen=2, epochs=1)).fit(X, y)
    again = load_model(clf.save(tmp_path / "m"))
    assert isinstance(again.strategy_, PartialFreeze) and again.strategy_.n_frozen == 2
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_impossible_configurations_fail_before_training() -> None:
    X, y = stripe_images(4)
    for strategy, message in [
        (PartialFreeze(n_frozen=9), "has 3 parameter groups; cannot freeze 9"),
        (PartialFreeze(n_trainable=5), "cannot train 5"),
        (PartialFreeze(n_frozen=1, n_trainable=1), "at most one of n_frozen and n_trainable"),
        (FullFineTune(layer_decay=0.0), "layer_decay"),
    ]:
        with pytest.raises(StrategyError, match=message):
            TransferClassifier(backbone="tiny-cnn", strategy=strategy).fit(X, y)


def test_cli_options_reach_the_right_strategy_only() -> None:
    assert make_strategy("partial", n_frozen=2, epochs=3).get_params()["n_frozen"] == 2
    with pytest.raises(StrategyError, match="does not take n_frozen"):
        make_strategy("finetune", n_frozen=2)
    with pytest.raises(StrategyError, match="does not take epochs"):
        make_strategy("linear", epochs=3)
    with pytest.raises(StrategyError, match="unknown strategy 'adapterfusion'; choose one of: auto, linear"):
        make_strategy("adapterfusion")
    assert check_strategy_name("lpft") == "lpft"


def test_balanced_class_weights_lift_the_rare_class() -> None:
    X, y = stripe_images(24, seed=2)
    keep = np.r_[np.arange(24), np.arange(24, 28)]  # 24 "top" vs 4 "left": heavily imbalanced
    X, y = X[keep], y[keep]
    common = dict(epochs=3, lr=3e-3, head_lr=3e-3, batch_size=8, val_fraction=0.0)
    plain = TransferClassifier(backbone="tiny-cnn", strategy=FullFineTune(**common)).fit(X, y)
    balanced = TransferClassifier(backbone="tiny-cnn", strategy=FullFineTune(class_weight="balanced", **common)).fit(X, y)
    rare = list(plain.classes_).index("left")
    assert balanced.predict_proba(X[y == "left"])[:, rare].mean() > plain.predict_proba(X[y == "left"])[:, rare].mean()
    with pytest.raises(StrategyError, match="class_weight"):
        TransferClassifier(backbone="tiny-cnn", strategy=FullFineTune(class_weight="auto")).fit(X, y)
