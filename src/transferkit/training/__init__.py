"""The one training loop (on Accelerate), its callbacks, schedules and data loading."""

from ._callbacks import Callback, EarlyStopping, FrozenBatchNormEval
from ._checkpoint import CheckpointError, complete_checkpoints, verify_checkpoint
from ._data import Collate, EpochSampler, make_loader
from ._distill import distillation_loss, distillation_targets, soften
from ._loop import (
    UNLABELED,
    History,
    LossFn,
    LossTerm,
    Metrics,
    Step,
    TrainConfig,
    Trainer,
    classification_metrics,
    weighted_cross_entropy,
)
from ._multitask import (
    multitask_cross_entropy,
    multitask_metrics,
    multitask_probabilities,
    task_slices,
)
from ._schedule import warmup_cosine

__all__ = [
    "Callback",
    "CheckpointError",
    "Collate",
    "Metrics",
    "classification_metrics",
    "multitask_cross_entropy",
    "multitask_metrics",
    "multitask_probabilities",
    "task_slices",
    "EpochSampler",
    "complete_checkpoints",
    "distillation_loss",
    "distillation_targets",
    "soften",
    "verify_checkpoint",
    "EarlyStopping",
    "FrozenBatchNormEval",
    "History",
    "LossFn",
    "LossTerm",
    "Step",
    "UNLABELED",
    "TrainConfig",
    "Trainer",
    "make_loader",
    "warmup_cosine",
    "weighted_cross_entropy",
]
