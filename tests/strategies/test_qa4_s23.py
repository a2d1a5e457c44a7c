"""QA sweep 4 on fine-tuning options: MixUp/CutMix without a per-image transform, and parameters that were
accepted although they mean nothing (``flip="yes"``, ``target_modules=[]``, ``diverge=0``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.helpers import blobs, stripe_images

from transferkit import FullFineTune, LoRA, TransferClassifier, lr_find
from transferkit.errors import StrategyError
from transferkit.strategies import Augment, parse_augment

NO_IMAGE_STEP = dict(rotation=0, shift=0, zoom=0, flip=False)


# --- 4. MixUp/CutMix alone -------------------------------------------------------------------------------
def test_an_augmentation_without_a_per_image_step_is_the_identity() -> None:
    image = torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8)
    for augment in (Augment(**NO_IMAGE_STEP), Augment(**NO_IMAGE_STEP, mixup=0.2), parse_augment(
            "rotation=0,shift=0,zoom=0,flip=false,cutmix=1.0")):
        assert torch.equal(augment.transform()(image), image)
    grid = Augment(**NO_IMAGE_STEP).samples([image.permute(1, 2, 0).numpy()], n_variants=2)
    assert len(grid) == 3 and all(np.array_equal(grid[0], g) for g in grid[1:])


@pytest.mark.parametrize("mixing", [dict(mixup=0.2), dict(cutmix=1.0), dict(mixup=0.2, cutmix=1.0)])
def test_mixup_or_cutmix_alone_trains(mixing: dict[str, float]) -> None:
    """Augment(rotation=0, shift=0, zoom=0, flip=False, mixup=0.2) failed in torchvision's empty Compose."""
    X, y = stripe_images(6, size=16)
    augment = Augment(**NO_IMAGE_STEP, **mixing)  # type: ignore[arg-type]
    clf = TransferClassifier(backbone="tiny-cnn", cache=False,
                             strategy=FullFineTune(epochs=1, batch_size=4, augment=augment)).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.isfinite(proba).all()


def test_no_augmentation_step_at_all_trains_like_plain_images() -> None:
    X, y = stripe_images(6, size=16)
    kw = dict(epochs=1, batch_size=4)
    plain = TransferClassifier(backbone="tiny-cnn", cache=False, strategy=FullFineTune(**kw)).fit(X, y)
    off = TransferClassifier(backbone="tiny-cnn", cache=False,
                             strategy=FullFineTune(**kw, augment=Augment(**NO_IMAGE_STEP))).fit(X, y)
    np.testing.assert_allclose(off.predict_proba(X), plain.predict_proba(X), atol=1e-6)


# --- 12. parameters that meant nothing ------------------------------------------------------------------
@pytest.mark.parametrize("flip", ["yes", 1, 0, None, "false"])
def test_flip_must_be_true_or_false(flip: object) -> None:
    X, y = stripe_images(3, size=16)
    with pytest.raises(StrategyError, match=rf"^flip must be True or False, got {flip!r}$"):
        TransferClassifier(backbone="tiny-cnn", cache=False,
                           strategy=FullFineTune(epochs=1, augment=Augment(flip=flip))).fit(X, y)  # type: ignore[arg-type]


@pytest.mark.parametrize(("params", "match"), [
    (dict(rotation="15"), r"augment needs rotation >= 0 and shift, zoom in \[0, 1\); got rotation='15'"),
    (dict(zoom=None), r"augment needs rotation >= 0 .* zoom=None"),
    (dict(mixup="0.2"), r"mixup and cutmix must be finite numbers >= 0 \(got '0.2', 0.0\)"),
    (dict(policy=["randaugment"]), r"unknown augmentation policy \['randaugment'\]"),
])
def test_augment_parameters_of_the_wrong_type_are_named_not_a_type_error(params: dict[str, object], match: str) -> None:
    with pytest.raises(StrategyError, match=match):
        Augment(**params)._check()  # type: ignore[arg-type]


def test_flip_accepts_numpy_bools_and_the_cli_words() -> None:
    Augment(flip=np.bool_(False))._check()
    assert parse_augment("flip=no").flip is False and parse_augment("flip").flip is True


@pytest.mark.parametrize("targets", [[], ()])
def test_lora_refuses_an_empty_list_of_target_modules(targets: object) -> None:
    """It silently meant the default targets (results identical to target_modules=None)."""
    X, y = blobs(6)
    with pytest.raises(StrategyError, match=r"^target_modules must name at least one layer, or be left out for the "
                                            r"default targets; got (\[\]|\(\))$"):
        TransferClassifier(backbone="tiny-mlp", cache=False,
                           strategy=LoRA(epochs=1, target_modules=targets)).fit(X, y)  # type: ignore[arg-type]


@pytest.mark.parametrize("diverge", [0, 1, 0.5, -4.0, float("nan"), float("inf"), True, "4"])
def test_lr_find_refuses_a_divergence_factor_that_is_not_above_one(diverge: object) -> None:
    """diverge=0 stopped the sweep after a few points and still suggested a rate."""
    X, y = blobs(6)
    with pytest.raises(StrategyError, match=rf"^diverge must be a finite number > 1 .*, got {diverge!r}$"):
        lr_find(TransferClassifier(backbone="tiny-mlp", cache=False, strategy=FullFineTune()), X, y, num_steps=10,
                diverge=diverge)  # type: ignore[arg-type]


@pytest.mark.parametrize("num_steps", [5.5, 10.0, "10", 4])
def test_lr_find_needs_a_whole_number_of_steps(num_steps: object) -> None:
    X, y = blobs(6)
    with pytest.raises(StrategyError, match=rf"^num_steps must be an integer >= 5, got {num_steps!r}$"):
        lr_find(TransferClassifier(backbone="tiny-mlp", cache=False, strategy=FullFineTune()), X, y,
                num_steps=num_steps)  # type: ignore[arg-type]


def test_lr_find_still_runs_with_a_divergence_factor_above_one() -> None:
    X, y = blobs(6)
    result = lr_find(TransferClassifier(backbone="tiny-mlp", cache=False, strategy=FullFineTune(batch_size=4)), X, y,
                     num_steps=6, diverge=1.5)
    assert 1 <= len(result.lrs) <= 6
