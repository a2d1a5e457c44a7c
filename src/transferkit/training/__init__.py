"""The one training loop (on Accelerate), its callbacks, schedules and data loading."""

from ._callbacks import Callback, EarlyStopping, FrozenBatchNormEval
from ._checkpoint import CheckpointError, complete_checkpoints, verify_checkpoint
from ._data import Collate, EpochSampler, make_loader
from ._distill import distillation_loss, distillation_targets, soften
from ._loop import UNLABELED, History, LossFn, LossTerm, Step, TrainConfig, Trainer, weighted_cross_entropy
from ._schedule import warmup_cosine

__all__ = [
    "Callback",
    "CheckpointError",
    "Collate",
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
