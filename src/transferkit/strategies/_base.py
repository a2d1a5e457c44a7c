"""Strategy parameter objects and the context they are fitted in.

A strategy is a scikit-learn ``BaseEstimator`` only for its ``get_params``/``set_params`` (so
``strategy__lr`` is grid-searchable and ``clone`` copies it); it is not fitted itself. Its
:meth:`Strategy.fit_transfer` returns a fitted :class:`TransferModel`, which the estimator keeps.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from sklearn.base import BaseEstimator

from ..backbones import Backbone
from ..features import FeatureExtractor, shared_backbone


@dataclass
class FitContext:
    """What a strategy needs from the estimator: how to get the backbone, and run settings."""

    backbone: str
    pretrained: bool = True
    image_size: int | None = None
    weights: str | None = None
    max_length: int | None = None
    in_features: int | None = None
    batch_size: int = 64
    cache: Any = True
    device: str = "auto"
    verbose: int = 0
    random_state: int = 0
    n_classes: int = 2
    info: dict[str, Any] = field(default_factory=dict)

    def extractor(self) -> FeatureExtractor:
        return FeatureExtractor(
            backbone=self.backbone, pretrained=self.pretrained, image_size=self.image_size, weights=self.weights,
            max_length=self.max_length, batch_size=self.batch_size, cache=self.cache, device=self.device, progress=self.verbose > 0,
            random_state=self.random_state,
        )

    def trainable_backbone(self) -> Backbone:
        """A private, trainable copy of the backbone (the shared one stays frozen and untouched)."""
        bb = copy.deepcopy(self.shared_backbone())
        for p in bb.parameters():
            p.requires_grad_(True)
        if bb.source_head is not None:  # kept for LEEP, never trained
            for p in bb.source_head.parameters():
                p.requires_grad_(False)
        bb.reset_fingerprint()
        return bb

    def shared_backbone(self) -> Backbone:
        return shared_backbone(
            self.backbone, self.pretrained, self.image_size, self.weights, self.in_features, self.random_state,
            self.max_length,
        )


class TransferModel(Protocol):
    """A fitted transfer model: predicts class probabilities and saves itself without pickle."""

    kind: ClassVar[str]

    def predict_proba(self, X: Any) -> np.ndarray: ...

    def save(self, folder: Path) -> dict[str, Any]:
        """Write weight files into ``folder``; return JSON-ready config to store beside them."""
        ...

    def summary(self) -> dict[str, Any]: ...


class Strategy(BaseEstimator):
    """Base class of transfer strategies (parameter objects)."""

    #: Short name used by the CLI (``--strategy``) and in reports.
    cli_name: ClassVar[str] = ""

    def fit_transfer(
        self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> TransferModel:  # pragma: no cover - abstract
        raise NotImplementedError

    def load_model(self, folder: Path, config: dict[str, Any], ctx: FitContext) -> TransferModel:  # pragma: no cover
        raise NotImplementedError
