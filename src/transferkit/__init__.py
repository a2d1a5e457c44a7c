"""transferkit: transfer learning end to end, for images, texts and feature tables.

Public names and subpackages are imported lazily, so ``import transferkit`` is fast and loads no
deep-learning library. ``transferkit.audit`` is the subpackage (``transferkit.audit.audit`` the function),
before and after ``import transferkit.audit``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "TransferClassifier": "transferkit.estimators",
    "MultiTaskClassifier": "transferkit.estimators",
    "fit_multitask_to_folder": "transferkit._multitask_workflow",
    "read_multitask_table": "transferkit._multitask_workflow",
    "load_model": "transferkit.estimators",
    "FeatureExtractor": "transferkit.features",
    "LinearProbe": "transferkit.strategies",
    "FullFineTune": "transferkit.strategies",
    "PartialFreeze": "transferkit.strategies",
    "GradualUnfreeze": "transferkit.strategies",
    "LPFT": "transferkit.strategies",
    "LoRA": "transferkit.strategies",
    "Distill": "transferkit.strategies",
    "AutoStrategy": "transferkit.strategies",
    "Augment": "transferkit.strategies",
    "lr_find": "transferkit.estimators",
    "create_backbone": "transferkit.backbones",
    "list_backbones": "transferkit.backbones",
    "evaluate": "transferkit.evaluation",
    "load_data": "transferkit.data",
    "load_dataset": "transferkit.datasets",
}

# Subpackages reachable as attributes after a bare ``import transferkit`` (``transferkit.audit.fix``). A
# name here is never also a key of _LAZY: the attribute is set to the module by any import of it, so a
# function under the same name would be replaced by the module after the first such import.
_SUBPACKAGES = ("adaptation", "audit", "backbones", "data", "datasets", "ensembles", "estimators", "evaluation",
                "feature_selection", "features", "selection", "strategies", "training", "tuning")

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'transferkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *_SUBPACKAGES})
