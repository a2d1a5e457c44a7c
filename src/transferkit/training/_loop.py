"""The one training loop. Plain PyTorch, with Accelerate owning device, precision and distribution, so
the same code runs on one CPU, several GPUs or several nodes (``accelerate launch``).

Strategies, losses and callbacks extend it; nothing copies it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from ._callbacks import Callback
from ._schedule import warmup_cosine

#: ``loss(logits, targets, weights) -> scalar``; weights may be None; targets < 0 are unlabeled rows.
LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]

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
    """Settings of one training run (strategies fill it from their parameters)."""

    epochs: int = 10
    warmup_ratio: float = 0.1
    max_grad_norm: float | None = 1.0
    grad_accum: int = 1
    mixed_precision: str = "no"
    device: str = "auto"
    progress: bool = False


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


class Trainer:
    """Train ``model`` on batches ``(inputs, targets, weights)``.

    Parameters
    ----------
    config : TrainConfig
    loss : LossFn
        Task loss on the model's logits.
    terms : sequence of LossTerm
        Extra losses added to the task loss each step.
    callbacks : sequence of Callback
    """

    def __init__(
        self,
        config: TrainConfig,
        loss: LossFn,
        *,
        terms: Sequence[LossTerm] = (),
        callbacks: Sequence[Callback] = (),
    ) -> None:
        self.config = config
        self.loss = loss
        self.terms = list(terms)
        self.callbacks = list(callbacks)
        self.history = History()
        self.should_stop = False
        self.epoch = 0
        self._batch_index = 0
        self.needs_features = any(getattr(t, "needs_features", False) for t in self.terms)

    # --- setup -----------------------------------------------------------------------------------
    def _accelerator(self) -> Any:
        from accelerate import Accelerator

        cpu = self.config.device == "cpu" or (self.config.device == "auto" and not torch.cuda.is_available())
        return Accelerator(
            cpu=cpu, mixed_precision=self.config.mixed_precision, gradient_accumulation_steps=self.config.grad_accum
        )

    @property
    def unwrapped_model(self) -> nn.Module:
        return self.accelerator.unwrap_model(self.model)

    # --- the loop --------------------------------------------------------------------------------
    def fit(
        self,
        model: nn.Module,
        param_groups: list[dict[str, Any]],
        train_loader: DataLoader,
        val_loader: DataLoader | None = None,
    ) -> History:
        """Run the configured epochs (or until a callback stops it). Returns the history."""
        start = time.perf_counter()
        self.accelerator = self._accelerator()
        optimizer = torch.optim.AdamW(param_groups)
        steps_per_epoch = max(1, -(-len(train_loader) // self.config.grad_accum))
        total = steps_per_epoch * self.config.epochs
        warmup = int(round(self.config.warmup_ratio * total))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine(s, total, warmup))
        self.model, self.optimizer, self.train_loader, self.scheduler = self.accelerator.prepare(
            model, optimizer, train_loader, scheduler
        )
        self.val_loader = self.accelerator.prepare(val_loader) if val_loader is not None else None
        self.should_stop = False
        for cb in self.callbacks:
            cb.on_fit_start(self)
        for epoch in range(self.config.epochs):
            for cb in self.callbacks:
                cb.on_epoch_start(self, epoch)
            t0 = time.perf_counter()
            logs = {"epoch": float(epoch), "train_loss": self.train_epoch(epoch)}
            if self.val_loader is not None:
                logs.update(self.evaluate(self.val_loader))
            logs["seconds"] = time.perf_counter() - t0
            logs["lr"] = float(self.scheduler.get_last_lr()[0])
            self.history.epochs.append(logs)
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch, logs)
            if self.should_stop:
                self.history.stopped_early = epoch < self.config.epochs - 1
                break
        for cb in self.callbacks:
            cb.on_fit_end(self)
        self.history.seconds = time.perf_counter() - start
        return self.history

    def train_epoch(self, epoch: int) -> float:
        self.epoch = epoch
        self.model.train()
        for cb in self.callbacks:
            cb.on_train_mode(self)
        total, count = 0.0, 0
        batches = self.train_loader
        bar = None
        if self.config.progress and self.accelerator.is_main_process:
            from tqdm.auto import tqdm

            bar = batches = tqdm(batches, desc=f"epoch {epoch + 1}/{self.config.epochs}", leave=False)
        for i, batch in enumerate(batches):
            self._batch_index = i
            loss = self.train_step(batch)
            n = len(batch[1])
            total += loss * n
            count += n
            if bar is not None:
                bar.set_postfix(loss=f"{total / max(count, 1):.4f}")
        return total / max(count, 1)

    def train_step(self, batch: tuple[Any, ...]) -> float:
        inputs, targets, weights, *rest = batch
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
            if self.config.max_grad_norm and self.accelerator.sync_gradients:
                self.accelerator.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    @torch.no_grad()
    def eval_step(self, batch: tuple[Any, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        inputs, targets = batch[0], batch[1]
        logits = self.model(inputs)
        return self.accelerator.gather_for_metrics((logits, targets))

    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        """Validation loss and accuracy over all processes."""
        self.model.eval()
        logits, targets = [], []
        for batch in loader:
            lg, tg = self.eval_step(batch)
            logits.append(lg.float())
            targets.append(tg)
        lg, tg = torch.cat(logits), torch.cat(targets)
        loss = float(nn.functional.cross_entropy(lg, tg))
        return {"val_loss": loss, "val_accuracy": float((lg.argmax(1) == tg).float().mean())}
