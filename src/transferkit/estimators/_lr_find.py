"""``lr_find``: the learning-rate range test for a fine-tuning estimator, through the one loop."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.base import clone

from ..errors import StrategyError
from ..strategies import FullFineTune
from ..strategies._base import Number
from ..training._lr_finder import LRRangeRecorder, exponential_factor, range_test_schedule, range_test_summary
from ._classifier import TransferClassifier, check_targets


@dataclass
class LRFindResult:
    """Learning rates tried (of the first backbone group), losses, and the suggested rate (None when the
    loss never fell: the sweep started too high)."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggested_lr: float | None
    base_lr: float

    def to_dict(self) -> dict[str, Any]:
        """The result as strict JSON-ready data: non-finite losses (a diverged step) become None."""
        def clean(values: list[float]) -> list[float | None]:
            return [v if math.isfinite(v) else None for v in values]

        return {"lrs": clean(self.lrs), "losses": clean(self.losses), "smoothed": clean(self.smoothed),
                "suggested_lr": self.suggested_lr, "base_lr": self.base_lr}

    def plot_png(self) -> bytes:
        from ..evaluation._plots import _figure, _png

        fig = _figure(6, 3.5)
        ax = fig.add_subplot(111)
        ax.plot(self.lrs, self.losses, alpha=0.3, label="loss")
        ax.plot(self.lrs, self.smoothed, label="smoothed")
        if self.suggested_lr is not None:
            ax.axvline(self.suggested_lr, color="C3", linestyle="--", label=f"suggested {self.suggested_lr:.2e}")
        ax.set_xscale("log")
        finite = [v for v in self.smoothed if v == v and abs(v) != float("inf")]
        if finite:  # keep the diverging tail from flattening the interesting part
            ax.set_ylim(min(finite) * 0.9, max(finite[: max(1, finite.index(min(finite)) + 1)]) * 1.3)
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.legend()
        return _png(fig)


def lr_find(
    estimator: TransferClassifier,
    X: Any,
    y: Any,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 1.0,
    num_steps: int = 100,
    diverge: float = 4.0,
) -> LRFindResult:
    """Run the learning-rate range test (Smith, WACV 2017) with ``estimator``'s backbone and fine-tuning
    strategy on ``X, y`` and suggest a learning rate (steepest descent of the smoothed loss).

    The backbone's rate sweeps ``start_lr`` to ``end_lr`` geometrically; the head and any discriminative
    rates keep their ratio to it. Training happens on a throwaway copy: ``estimator`` is not fitted.
    Set the suggestion as ``strategy.lr`` (e.g. ``estimator.set_params(strategy__lr=result.suggested_lr)``).

    ``start_lr`` and ``end_lr`` are rates with ``0 < start_lr < end_lr``; ``num_steps`` is an integer >= 5;
    the sweep stops early once the smoothed loss exceeds ``diverge`` (a finite number > 1) times its best.
    """
    if hasattr(estimator, "task_weights"):  # a MultiTaskClassifier (not imported: this module is imported by it)
        raise StrategyError("lr_find sweeps one task's loss; for a MultiTaskClassifier run it on one task's labels "
                            "with a TransferClassifier of the same backbone and strategy")
    strategy = estimator._strategy()  # a name as fit reads it (strategy="finetune"), None as the default it stands for
    if not isinstance(strategy, FullFineTune):
        raise StrategyError("lr_find needs a fine-tuning strategy (finetune, partial, gradual, lpft, lora); "
                            f"got {type(strategy).cli_name or type(strategy).__name__!r}"
                            + (" (the default)" if estimator.strategy is None else ""))
    rates = Number(low=0, low_open=True)
    if not (rates.accepts(start_lr) and rates.accepts(end_lr)) or not start_lr < end_lr:
        raise StrategyError(f"need 0 < start_lr < end_lr, got {start_lr}, {end_lr}")
    if not Number(low=5, integer=True).accepts(num_steps):
        raise StrategyError(f"num_steps must be an integer >= 5, got {num_steps!r}")
    if not Number(low=1, low_open=True).accepts(diverge):  # at <= 1 the sweep stops at its first uptick
        raise StrategyError(f"diverge must be a finite number > 1 (stop once the smoothed loss exceeds diverge "
                            f"times its best), got {diverge!r}")
    throwaway = clone(estimator)  # validating X records its width: not on the caller's (maybe fitted) estimator
    X = throwaway._validate_X(X, reset=True)
    y = check_targets(y, len(X))
    classes, y_enc = np.unique(y, return_inverse=True)
    strategy = clone(strategy).set_params(val_fraction=0.0, checkpoint_dir=None, resume=False)
    ctx = throwaway._context(len(classes))
    base = strategy.lr
    with torch.random.fork_rng(devices=[]):
        run = strategy.build(ctx, X, y_enc)
        # the schedule moves once per optimisation step: grad_accum mini-batches each
        steps_per_epoch = max(1, -(-len(run.train_loader) // strategy.grad_accum))
        run.trainer.config.epochs = math.ceil(num_steps / steps_per_epoch)
        run.trainer.config.check_finite = False  # the sweep drives the rate into divergence and stops itself
        run.trainer.schedule = range_test_schedule(num_steps, start_lr / base, end_lr / base)
        for g in run.param_groups:  # the whole sweep trains every group (no gradual unfreezing in the test)
            g["unfreeze_epoch"] = 0
        # the rate swept is the top backbone group's (depth 0): the one `lr` sets; deeper groups keep
        # their layer_decay ratio below it, the head its head_lr ratio above
        depths = [(g.get("depth", 0), i) for i, g in enumerate(run.param_groups) if g.get("depth", 0) >= 0]
        backbone_group = min(depths)[1] if depths else 0
        group_lr = run.param_groups[backbone_group]["lr"]
        recorder = LRRangeRecorder(num_steps, diverge,
                                   lr_at=lambda i: group_lr * exponential_factor(i, num_steps, start_lr / base, end_lr / base))
        run.trainer.callbacks = [cb for cb in run.trainer.callbacks if not hasattr(cb, "restore_best")] + [recorder]
        run.trainer.fit(run.net, run.param_groups, run.train_loader, None)
    return LRFindResult(**range_test_summary(recorder, base))
