"""Pretrained backbones behind one surface: a registry plus providers (timm, torchvision, transformers,
sentence-transformers, local folders, packaged offline weights)."""

from ._base import Backbone, Batch, ParameterGroup, TransferNet
from ._registry import (
    DEFAULT_BACKBONES,
    PREFIXES,
    backbone_modality,
    backbones_for,
    create_backbone,
    default_backbone,
    get_spec,
    is_registered,
    list_backbones,
    register_backbone,
)
from ._spec import BackboneSpec

__all__ = [
    "DEFAULT_BACKBONES",
    "PREFIXES",
    "Backbone",
    "BackboneSpec",
    "Batch",
    "backbone_modality",
    "backbones_for",
    "ParameterGroup",
    "TransferNet",
    "create_backbone",
    "default_backbone",
    "get_spec",
    "is_registered",
    "list_backbones",
    "register_backbone",
]
