"""Contract tests over every registered backbone: a new backbone is tested the moment it registers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from transferkit.backbones import Backbone, create_backbone, list_backbones

TINY = [s.name for s in list_backbones() if s.provider == "builtin"]
PACKAGED = [s.name for s in list_backbones() if s.provider == "packaged"]


def _items(bb: Backbone, n: int = 3) -> object:
    r = np.random.default_rng(0)
    if bb.spec.modality == "image":
        return [r.integers(0, 255, size=(20 + 5 * i, 24, 3), dtype=np.uint8) for i in range(n)]
    if bb.spec.modality == "text":
        return ["a short text", "a somewhat longer text about hotels", "短文本"][:n]
    return r.normal(size=(n, 5))


def _build(name: str) -> Backbone:
    return create_backbone(name, in_features=5, image_size=64 if name.startswith("efficientnet") else None)


def _check_contract(bb: Backbone) -> None:
    spec = bb.spec
    assert spec.modality in ("image", "text", "table")
    assert spec.license and spec.weight_source
    batch = bb.preprocess(_items(bb))
    assert all(isinstance(v, torch.Tensor) for v in batch.values())
    with torch.no_grad():
        feats = bb.forward_features(batch)
    assert feats.shape == (3, bb.num_features)
    assert torch.isfinite(feats).all()
    groups = bb.parameter_groups()
    trainable = [p for p in bb.parameters() if p.requires_grad]
    grouped = [p for g in groups for p in g.params]
    assert len({id(p) for p in grouped}) == len(grouped), "a parameter is in two groups"
    assert {id(p) for p in grouped} == {id(p) for p in trainable}, "groups must cover every trainable parameter"
    if groups:
        # the input side comes first: the first group holds a parameter that the first layer uses
        first_names = {n for n, p in bb.named_parameters() if any(p is q for q in groups[0].params)}
        assert any(k in n for n in first_names for k in ("stem", "embed", "inp", "conv_stem", "bn1", "conv1"))
    net = bb.with_head(4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert net(batch).shape == (3, 4)
    assert net.parameter_groups()[-1].name == "head"
    fp = bb.fingerprint()
    assert fp == bb.fingerprint() and len(fp) == 32
    if trainable:
        with torch.no_grad():
            trainable[0].add_(1.0)
        bb.reset_fingerprint()
        assert bb.fingerprint() != fp
    if spec.has_source_head:
        with torch.no_grad():
            assert bb.source_logits(batch).shape[0] == 3


@pytest.mark.parametrize("name", TINY)
def test_tiny_backbone_contract(name: str) -> None:
    _check_contract(_build(name))


@pytest.mark.integration
@pytest.mark.parametrize("name", PACKAGED)
def test_packaged_backbone_contract(name: str) -> None:
    _check_contract(_build(name))


@pytest.mark.parametrize("name", TINY)
def test_random_init_is_seeded(name: str) -> None:
    a = create_backbone(name, in_features=5, random_state=1)
    b = create_backbone(name, in_features=5, random_state=1)
    c = create_backbone(name, in_features=5, random_state=2)
    assert a.fingerprint() == b.fingerprint()
    if any(True for _ in a.parameters()):
        assert a.fingerprint() != c.fingerprint()


def test_image_size_override_changes_spec_and_input() -> None:
    bb = create_backbone("tiny-cnn", image_size=48)
    assert bb.spec.input_size == (48, 48)
    assert bb.preprocess([np.zeros((10, 10), np.uint8)])["pixel_values"].shape == (1, 3, 48, 48)
