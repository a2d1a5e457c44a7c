"""Backbones for numeric feature tables: identity (features as they are) and a tiny random MLP."""

from __future__ import annotations

import torch
from torch import nn

from ._base import Backbone, Batch, ParameterGroup, groups_from_prefixes
from ._preprocess import TablePreprocessor
from ._spec import BackboneSpec


class IdentityBackbone(Backbone):
    """Passes numeric features through unchanged: transferkit's heads, evaluation and ensembles on
    features computed elsewhere."""

    def __init__(self, spec: BackboneSpec) -> None:
        super().__init__(spec, TablePreprocessor(spec.num_features))

    def forward_features(self, batch: Batch) -> torch.Tensor:
        return batch["features"]

    def parameter_groups(self) -> list[ParameterGroup]:
        return []


class TinyMLP(Backbone):
    """Two random linear layers over a feature row: the fast table stand-in for unit tests."""

    def __init__(self, spec: BackboneSpec, in_features: int, width: int = 16) -> None:
        super().__init__(spec, TablePreprocessor(in_features))
        self.inp = nn.Sequential(nn.Linear(in_features, width), nn.ReLU())
        self.out = nn.Sequential(nn.Linear(width, width), nn.Tanh())

    def forward_features(self, batch: Batch) -> torch.Tensor:
        return self.out(self.inp(batch["features"]))

    def parameter_groups(self) -> list[ParameterGroup]:
        return groups_from_prefixes(self, [("inp", ["inp"]), ("out", ["out"])])
