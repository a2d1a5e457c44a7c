"""Callbacks: the loop's extension points (early stopping, progress, anything a strategy needs)."""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._loop import Trainer


class Callback:
    """Hooks called by :class:`~transferkit.training.Trainer`; override the ones you need."""

    def on_fit_start(self, trainer: Trainer) -> None: ...

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None: ...

    def on_train_mode(self, trainer: Trainer) -> None:
        """Right after the model is put in training mode (each epoch): adjust module modes here."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None: ...

    def on_step_end(self, trainer: Trainer, loss: float) -> None:
        """After each optimisation step (``loss``: the mean loss of the step's mini-batches, several with
        gradient accumulation); may set ``trainer.should_stop``."""

    def on_fit_end(self, trainer: Trainer) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint must keep for a resumed run to behave as an uninterrupted one."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class FrozenBatchNormEval(Callback):
    """Keep normalisation layers whose parameters are all frozen in eval mode during training, so their
    running statistics stay the pretrained ones (a frozen layer that kept updating its statistics would
    drift away from the weights it was trained with). Frozen means ``requires_grad`` off or not yet
    unfrozen by the learning-rate schedule (gradual unfreezing). With ``all_layers`` every normalisation
    layer keeps its statistics (its affine parameters still train)."""

    def __init__(self, all_layers: bool = False) -> None:
        self.all_layers = all_layers

    def on_train_mode(self, trainer: Trainer) -> None:
        from torch import nn

        frozen = trainer.frozen_now()
        for module in trainer.unwrapped_model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                params = list(module.parameters())
                if self.all_layers or (params and all(id(p) in frozen for p in params)):
                    module.eval()


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; restore the best weights.

    Parameters
    ----------
    monitor : str, default="val_loss"
        Key of the epoch logs to watch (lower is better for ``*loss``, higher otherwise). When a score
        other than a loss ties with the best so far (accuracy on 100 rows moves in steps of 1%), the epoch
        with the lower ``val_loss`` counts as the better one.
    patience : int, default=3
        Epochs without improvement before stopping.
    restore_best : bool, default=True
        Load the weights of the best epoch when training ends.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 3, restore_best: bool = True) -> None:
        self.monitor = monitor
        self.patience = patience
        self.restore_best = restore_best

    def on_fit_start(self, trainer: Trainer) -> None:
        self.best_: tuple[float, float] = (math.inf, math.inf)
        self.best_epoch_ = -1
        self.best_state_: dict[str, Any] | None = None
        self.wait_ = 0

    def _score(self, logs: dict[str, float]) -> tuple[float, float] | None:
        """(the monitored value, lower is better; ``val_loss`` to break its ties, or 0 for a loss)."""
        value = logs.get(self.monitor)
        if value is None:
            return None
        if self.monitor.endswith("loss"):
            return value, 0.0
        return -value, logs.get("val_loss", 0.0)

    def _improves(self, score: tuple[float, float]) -> bool:
        (value, tie), (best, best_tie) = score, self.best_
        return value < best - 1e-6 or (abs(value - best) <= 1e-6 and tie < best_tie - 1e-6)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        score = self._score(logs)
        if score is None:
            return
        if self._improves(score):
            self.best_, self.best_epoch_, self.wait_ = score, epoch, 0
            if self.restore_best:
                self.best_state_ = copy.deepcopy(trainer.unwrapped_model.state_dict())
        else:
            self.wait_ += 1
            if self.wait_ >= self.patience:
                trainer.should_stop = True

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best_, "best_epoch": self.best_epoch_, "wait": self.wait_, "best_state": self.best_state_}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        best = state["best"]  # a number in checkpoints written before ties were broken on the loss
        self.best_ = (float(best[0]), float(best[1])) if isinstance(best, list | tuple) else (float(best), 0.0)
        self.best_epoch_, self.wait_ = state["best_epoch"], state["wait"]
        self.best_state_ = state["best_state"]

    def on_fit_end(self, trainer: Trainer) -> None:
        if self.restore_best and self.best_state_ is not None:
            trainer.unwrapped_model.load_state_dict(self.best_state_)
            trainer.history.best_epoch = self.best_epoch_
