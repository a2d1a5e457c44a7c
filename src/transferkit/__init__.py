"""transferkit: transfer learning end to end, for images, texts and feature tables.

Public names are imported lazily, so ``import transferkit`` is fast and loads no deep-learning library.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "TransferClassifier": "transferkit.estimators",
    "load_model": "transferkit.estimators",
    "FeatureExtractor": "transferkit.features",
    "LinearProbe": "transferkit.strategies",
    "FullFineTune": "transferkit.strategies",
    "PartialFreeze": "transferkit.strategies",
    "GradualUnfreeze": "transferkit.strategies",
    "LPFT": "transferkit.strategies",
    "LoRA": "transferkit.strategies",
    "Augment": "transferkit.strategies",
    "lr_find": "transferkit.estimators",
    "create_backbone": "transferkit.backbones",
    "list_backbones": "transferkit.backbones",
    "evaluate": "transferkit.evaluation",
    "load_data": "transferkit.data",
    "load_dataset": "transferkit.datasets",
    "audit": "transferkit.audit",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'transferkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
