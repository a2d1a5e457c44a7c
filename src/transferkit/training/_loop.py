"""The one training loop. Plain PyTorch, with Accelerate owning device, precision and distribution, so
the same code runs on one CPU, several GPUs or several nodes (``accelerate launch``).

Strategies, losses and callbacks extend it; nothing copies it.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from .._malloc import reuse_freed_memory
from ._callbacks import Callback
from ._schedule import warmup_cosine

#: ``loss(logits, targets, weights) -> scalar``; weights may be None; targets < 0 are unlabeled rows.
LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]

#: ``metrics(logits, targets) -> {"val_loss": ..., "val_accuracy": ..., ...}`` over a whole validation set.
Metrics = Callable[[torch.Tensor, torch.Tensor], dict[str, float]]

#: Target value of an unlabeled row (e.g. target-domain data in domain adaptation): no task loss.
UNLABELED = -100


@dataclass
class Step:
    """What an extra loss term sees in one training step.

    ``features`` is filled only when some term sets ``needs_features = True``; ``domain`` is the batch's
    optional fourth element (``sample_domain``: positive = source, negative = target).
    """

    model: nn.Module
    inputs: dict[str, torch.Tensor]
    targets: torch.Tensor
    logits: torch.Tensor
    features: torch.Tensor | None = None
    domain: torch.Tensor | None = None
    epoch: int = 0
    progress: float = 0.0  # fraction of all optimisation steps done, in [0, 1] (for DANN's schedule)


#: Extra loss terms: ``term(step) -> scalar`` added to the task loss (regularisers, domain alignment).
#: A term with attribute ``needs_features = True`` gets the backbone features of the batch.
LossTerm = Callable[[Step], torch.Tensor]


@dataclass
class TrainConfig:
    """Settings of one training run (strategies fill it from their parameters).

    ``checkpoint_dir`` gets a checkpoint after every epoch; with ``resume`` the run continues from the
    newest one there (refused when it was written under another ``run_key``: other data or settings).
    ``check_finite``: a loss or weights that stop being finite numbers end the run with an error (off for
    the learning-rate range test, which drives the rate into divergence on purpose and stops itself).
    """

    epochs: int = 10
    warmup_ratio: float = 0.1
    max_grad_norm: float | None = 1.0
    grad_accum: int = 1
    mixed_precision: str = "no"
    device: str = "auto"
    progress: bool = False
    checkpoint_dir: str | Path | None = None
    resume: bool = False
    run_key: str = ""
    check_finite: bool = True


@dataclass
class History:
    """Per-epoch logs of a run."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "best_epoch": self.best_epoch, "stopped_early": self.stopped_early,
                "seconds": self.seconds}


def weighted_cross_entropy(label_smoothing: float = 0.0) -> LossFn:
    """Cross-entropy averaged with per-sample weights (plain mean when weights is None)."""

    def loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        if targets.ndim == 2:  # soft labels (MixUp/CutMix): every row is labeled
            per = nn.functional.cross_entropy(logits, targets, reduction="none", label_smoothing=label_smoothing)
            return per.mean() if weights is None else (per * weights).sum() / weights.sum().clamp(min=1e-12)
        labeled = targets >= 0
        if not bool(labeled.any()):
            return logits.sum() * 0.0  # a batch of unlabeled rows only: no task loss, graph kept
        per = nn.functional.cross_entropy(
            logits[labeled], targets[labeled], reduction="none", label_smoothing=label_smoothing
        )
        if weights is None:
            return per.mean()
        w = weights[labeled]
        return (per * w).sum() / w.sum().clamp(min=1e-12)

    return loss


def _fused_ok(param_groups: list[dict[str, Any]]) -> bool:
    """Whether AdamW's fused kernel applies: floating-point parameters on CPU or CUDA."""
    params = [p for g in param_groups for p in g["params"]]
    return bool(params) and all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)


#: ``schedule(step, total_steps, warmup_steps) -> multiplier`` of each group's base learning rate.
Schedule = Callable[[int, int, int], float]


class Trainer:
    """Train ``model`` on batches ``(inputs, targets, weights[, sample_domain])``.

    Parameter groups may carry ``"unfreeze_epoch": k``: the group's learning rate is zero before epoch
    ``k`` and its gradients are dropped, so AdamW neither moves it nor updates its moments. Freezing is
    thus part of the learning-rate schedule and the optimiser state: every parameter stays in the graph
    and in the optimiser from the start (DDP-safe), and a resumed run freezes exactly what the original
    run froze at that epoch.

    Parameters
    ----------
    config : TrainConfig
    loss : LossFn
        Task loss on the model's logits.
    terms : sequence of LossTerm
        Extra losses added to the task loss each step.
    callbacks : sequence of Callback
    schedule : Schedule, default=warmup_cosine
        Multiplier of the base learning rates by optimisation step.
    metrics : callable, default=classification_metrics
        ``metrics(logits, targets) -> dict`` over the whole validation set, with ``"val_loss"`` at least
        (early stopping watches it); multi-task networks pass :func:`~transferkit.training.multitask_metrics`.
    """

    def __init__(
        self,
        config: TrainConfig,
        loss: LossFn,
        *,
        terms: Sequence[LossTerm] = (),
        callbacks: Sequence[Callback] = (),
        schedule: Schedule = warmup_cosine,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        self.loss = loss
        self.terms = list(terms)
        self.callbacks = list(callbacks)
        self.schedule = schedule
        self.metrics = classification_metrics if metrics is None else metrics
        self.history = History()
        self.should_stop = False
        self.epoch = 0
        self._batch_index = 0
        self.needs_features = any(getattr(t, "needs_features", False) for t in self.terms)
        self.resumed_from: Path | None = None
        self._channels_last = False

    # --- setup -----------------------------------------------------------------------------------
    def _accelerator(self) -> Any:
        from accelerate import Accelerator
        from accelerate.state import AcceleratorState

        # Accelerate keeps one process-wide state and refuses a second Accelerator with another mixed
        # precision ("restart your runtime"); each fit configures its own, so forget the last one's. The
        # process group (PartialState) of a distributed launch is kept.
        AcceleratorState._reset_state(reset_partial_state=False)
        return Accelerator(
            cpu=self._on_cpu(), mixed_precision=self.config.mixed_precision, gradient_accumulation_steps=self.config.grad_accum
        )

    def _on_cpu(self) -> bool:
        from ..features import resolve_device

        return resolve_device(self.config.device).type == "cpu"

    def _layout(self, inputs: Any) -> Any:
        """Image batches channels-last when the network trains that way (see :meth:`fit`)."""
        if not self._channels_last:
            return inputs
        if isinstance(inputs, dict):
            return {k: self._layout(v) for k, v in inputs.items()}
        if isinstance(inputs, torch.Tensor) and inputs.ndim == 4 and inputs.is_floating_point():
            return inputs.contiguous(memory_format=torch.channels_last)
        return inputs

    @property
    def unwrapped_model(self) -> nn.Module:
        return self.accelerator.unwrap_model(self.model)

    def _lr_lambdas(self, param_groups: list[dict[str, Any]], steps_per_epoch: int) -> list[Callable[[int], float]]:
        total = steps_per_epoch * self.config.epochs
        warmup = int(round(self.config.warmup_ratio * total))

        def factor(unfreeze_epoch: int) -> Callable[[int], float]:
            first = unfreeze_epoch * steps_per_epoch
            return lambda s: self.schedule(s, total, warmup) if s >= first else 0.0

        return [factor(int(g.get("unfreeze_epoch", 0))) for g in param_groups]

    def frozen_now(self) -> set[int]:
        """Ids of parameters not trained in the current epoch (``requires_grad`` off, or scheduled)."""
        frozen = {id(p) for p in self.unwrapped_model.parameters() if not p.requires_grad}
        for g in self.optimizer.param_groups:
            if int(g.get("unfreeze_epoch", 0)) > self.epoch:
                frozen.update(id(p) for p in g["params"])
        return frozen

    # --- the loop --------------------------------------------------------------------------------
    def fit(
        self,
        model: nn.Module,
        param_groups: list[dict[str, Any]],
        train_loader: DataLoader,
        val_loader: DataLoader | None = None,
    ) -> History:
        """Run the configured epochs (or until a callback stops it). Returns the history.

        On CPU a network with 2-D convolutions trains channels-last, oneDNN's fast layout (an EfficientNet-Lite0
        training step on default-layout input: 1.39x faster on 2 cores; batches from our image preprocessing
        already arrive channels-last, augmented ones may not); its weights are back in the default layout when
        ``fit`` returns. On CPU, freed activations stay in the process for the next step instead of being
        faulted in again (:func:`transferkit._malloc.reuse_freed_memory`, glibc; about 1.2x faster there).
        """
        on_cpu = self._on_cpu()
        self._channels_last = on_cpu and any(isinstance(m, nn.Conv2d) for m in model.modules())
        if self._channels_last:
            model.to(memory_format=torch.channels_last)  # in place: parameter objects (and groups) stay
        try:
            with reuse_freed_memory() if on_cpu else contextlib.nullcontext():
                return self._fit(model, param_groups, train_loader, val_loader)
        finally:
            if self._channels_last:
                model.to(memory_format=torch.contiguous_format)

    def _fit(
        self,
        model: nn.Module,
        param_groups: list[dict[str, Any]],
        train_loader: DataLoader,
        val_loader: DataLoader | None,
    ) -> History:
        from ._checkpoint import (
            CheckpointError,
            checkpoint_folder_problem,
            complete_checkpoints,
            load_checkpoint,
            save_checkpoint,
        )

        folder = Path(self.config.checkpoint_dir) if self.config.checkpoint_dir is not None else None
        problem = checkpoint_folder_problem(folder) if folder is not None else None
        if problem:  # before any work: the first checkpoint is written only after a whole epoch
            raise CheckpointError(f"checkpoint folder {str(folder)!r} {problem}")
        start = time.perf_counter()
        self.accelerator = self._accelerator()
        # the fused kernel (CPU and CUDA since torch 2.4) is what HF Trainer uses; the default single-tensor
        # loop made our AdamW step take a third of a MiniLM training step on CPU
        optimizer = torch.optim.AdamW(param_groups, fused=_fused_ok(param_groups))
        steps_per_epoch = max(1, -(-len(train_loader) // self.config.grad_accum))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, self._lr_lambdas(param_groups, steps_per_epoch))
        self.model, self.optimizer, self.train_loader, self.scheduler = self.accelerator.prepare(
            model, optimizer, train_loader, scheduler
        )
        self.val_loader = self.accelerator.prepare(val_loader) if val_loader is not None else None
        self.should_stop = False
        for cb in self.callbacks:
            cb.on_fit_start(self)
        first_epoch = 0
        if folder is not None:
            found = complete_checkpoints(folder)
            if found and not self.config.resume:
                raise CheckpointError(
                    f"checkpoint folder {str(folder)!r} already holds {found[-1].name}; resume from it "
                    "(resume=True) or remove it"
                )
            if found:
                meta = load_checkpoint(self, found[-1])
                self.history.epochs = meta["history"]["epochs"]
                self.history.stopped_early = bool(meta["history"].get("stopped_early", False))
                self.should_stop = bool(meta["should_stop"])
                first_epoch = int(meta["epoch"]) + 1
                self.resumed_from = found[-1]
        for epoch in range(first_epoch, self.config.epochs):
            if self.should_stop:
                break
            for cb in self.callbacks:
                cb.on_epoch_start(self, epoch)
            t0 = time.perf_counter()
            logs = {"epoch": float(epoch), "train_loss": self.train_epoch(epoch)}
            self._check_weights()
            if self.val_loader is not None:
                logs.update(self.evaluate(self.val_loader))
            logs["seconds"] = time.perf_counter() - t0
            logs["lr"] = float(max(self.scheduler.get_last_lr()))
            self.history.epochs.append(logs)
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch, logs)
            self._close_bar(logs)
            if self.should_stop:
                self.history.stopped_early = epoch < self.config.epochs - 1
            if folder is not None:
                save_checkpoint(self, folder, epoch)
        for cb in self.callbacks:
            cb.on_fit_end(self)
        self.history.seconds = time.perf_counter() - start
        return self.history

    def train_epoch(self, epoch: int) -> float:
        self.epoch = epoch
        if hasattr(self.train_loader, "set_epoch"):
            self.train_loader.set_epoch(epoch)
        self.model.train()
        for cb in self.callbacks:
            cb.on_train_mode(self)
        total, count = 0.0, 0
        batches = self.train_loader
        self._bar = None
        if self.config.progress and self.accelerator.is_main_process:
            from tqdm.auto import tqdm

            self._bar = batches = tqdm(batches, desc=f"epoch {epoch + 1}/{self.config.epochs}", leave=True)
        window: list[float] = []  # losses of the mini-batches of the current optimisation step
        for i, batch in enumerate(batches):
            self._batch_index = i
            loss = self.train_step(batch)
            n = len(batch[1])
            total += loss * n
            count += n
            window.append(loss)
            if self._bar is not None:
                self._bar.set_postfix(loss=f"{total / max(count, 1):.4f}")
            if self.accelerator.sync_gradients:  # an optimisation step was taken (every grad_accum batches)
                step_loss = sum(window) / len(window)
                window.clear()
                for cb in self.callbacks:
                    cb.on_step_end(self, step_loss)
            if self.should_stop:
                break
        return total / max(count, 1)

    def _close_bar(self, logs: dict[str, float]) -> None:
        bar = getattr(self, "_bar", None)
        if bar is None:
            return
        shown = {k: f"{v:.4f}" for k, v in logs.items() if k in ("train_loss", "val_loss", "val_accuracy", "val_f1")}
        bar.set_postfix(shown)
        bar.close()
        self._bar = None

    def train_step(self, batch: tuple[Any, ...]) -> float:
        inputs, targets, weights, *rest = batch
        inputs = self._layout(inputs)
        with self.accelerator.accumulate(self.model):
            features = None
            if self.needs_features:
                logits, features = self.model(inputs, with_features=True)
            else:
                logits = self.model(inputs)
            loss = self.loss(logits, targets, weights)
            if self.terms:
                total = max(1, self.config.epochs * len(self.train_loader))
                step = Step(self.unwrapped_model, inputs, targets, logits, features,
                            domain=rest[0] if rest else None, epoch=self.epoch,
                            progress=min(1.0, (self.epoch * len(self.train_loader) + self._batch_index) / total))
                for term in self.terms:
                    loss = loss + term(step)
            self.accelerator.backward(loss)
            if self.accelerator.sync_gradients:
                self._drop_scheduled_frozen_grads()
                if self.config.max_grad_norm:
                    self.accelerator.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
        value = float(loss.detach())  # the one read of the loss per step (a device sync on a GPU)
        self._check_finite(value)
        return value

    def _check_finite(self, loss: float) -> None:
        """A loss that is no longer a finite number means training has diverged (a learning rate or a
        regulariser weight far too large): stop with the cause, rather than go on and save a model whose
        every prediction is NaN."""
        if self.config.check_finite and not math.isfinite(loss):
            self._diverged(f"the loss became {loss} at epoch {self.epoch + 1}, batch {self._batch_index + 1}")

    def _check_weights(self) -> None:
        """After an epoch, the weights are finite numbers: a last step can blow them up with the loss it
        reported still finite (its successor would have shown it), and such a model predicts NaN."""
        if self.config.check_finite and not all(torch.isfinite(p).all() for p in self.unwrapped_model.parameters()):
            self._diverged(f"the weights are no longer finite numbers after epoch {self.epoch + 1}")

    def _diverged(self, what: str) -> None:
        from ..errors import StrategyError

        largest = max(float(g["lr"]) for g in self.optimizer.param_groups)
        raise StrategyError(f"training diverged: {what}; lower the learning rates (the largest is now "
                            f"{largest:.3g}) or the regularisers' weights")

    def _drop_scheduled_frozen_grads(self) -> None:
        """Groups not yet unfrozen keep no gradient: AdamW skips them (no step, no moment update, no
        decay), and they do not count in gradient clipping."""
        for g in self.optimizer.param_groups:
            if int(g.get("unfreeze_epoch", 0)) > self.epoch:
                for p in g["params"]:
                    p.grad = None

    @torch.no_grad()
    def eval_step(self, batch: tuple[Any, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        inputs, targets = self._layout(batch[0]), batch[1]
        logits = self.model(inputs)
        return self.accelerator.gather_for_metrics((logits, targets))

    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        """The validation metrics (see ``metrics``; by default loss, accuracy and macro-F1) over all processes."""
        self.model.eval()
        logits, targets = [], []
        for batch in loader:
            lg, tg = self.eval_step(batch)
            logits.append(lg.float())
            targets.append(tg)
        return self.metrics(torch.cat(logits), torch.cat(targets))


def classification_metrics(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """Validation loss (cross-entropy), accuracy and macro-F1 of class logits against class indices."""
    from sklearn.metrics import f1_score

    loss = float(nn.functional.cross_entropy(logits, targets))
    pred = logits.argmax(1)
    return {"val_loss": loss, "val_accuracy": float((pred == targets).float().mean()),
            "val_f1": float(f1_score(targets.cpu().numpy(), pred.cpu().numpy(), average="macro", zero_division=0))}
