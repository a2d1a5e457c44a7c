"""The learning-rate range test (Smith, "Cyclical learning rates for training neural networks", WACV
2017; popularised by fastai): raise the learning rate exponentially over a few hundred steps, record the
loss, and suggest the rate where the loss falls fastest."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._callbacks import Callback

if TYPE_CHECKING:
    from ._loop import Trainer


def exponential_factor(step: int, num_steps: int, start: float, end: float) -> float:
    """Multiplier going from ``start`` (step 0) to ``end`` (step ``num_steps - 1``) geometrically.

    >>> round(exponential_factor(0, 3, 1e-4, 1e-2), 8), round(exponential_factor(1, 3, 1e-4, 1e-2), 8)
    (0.0001, 0.001)
    """
    frac = min(step, num_steps - 1) / max(1, num_steps - 1)
    return float(np.exp(np.log(start) + frac * (np.log(end) - np.log(start))))  # end / start may overflow


def smooth(values: np.ndarray, beta: float = 0.98) -> np.ndarray:
    """Bias-corrected exponential moving average (as fastai's recorder does)."""
    out = np.empty(len(values))
    avg = 0.0
    for i, v in enumerate(values):
        avg = beta * avg + (1 - beta) * v
        out[i] = avg / (1 - beta ** (i + 1))
    return out


def suggest_lr(lrs: np.ndarray, losses: np.ndarray) -> float | None:
    """The learning rate of steepest descent of the smoothed loss against ``log(lr)``, looked for
    before the loss minimum (after it the loss is diverging); None when the loss never falls (the sweep
    started too high: every rate in it is too large)."""
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    if len(lrs) < 4:
        raise ValueError(f"need at least 4 recorded steps to suggest a learning rate, got {len(lrs)}")
    sm = smooth(np.where(np.isfinite(losses), losses, np.inf))
    best = int(np.argmin(sm))
    if best < 2 or not sm[best] < sm[0]:  # no descent before the minimum
        return None
    grads = np.gradient(sm[: best + 1], np.log(lrs[: best + 1]))
    steepest = int(np.argmin(grads))
    return float(lrs[steepest]) if grads[steepest] < 0 else None


class LRRangeRecorder(Callback):
    """Records ``(lr, loss)`` every step and stops after ``num_steps`` or once the smoothed loss exceeds
    ``diverge`` times its best."""

    def __init__(self, num_steps: int, diverge: float, lr_at: Callable[[int], float]) -> None:
        self.num_steps, self.diverge, self.lr_at = num_steps, diverge, lr_at
        self.lrs: list[float] = []
        self.losses: list[float] = []

    def on_step_end(self, trainer: Trainer, loss: float) -> None:
        self.lrs.append(float(self.lr_at(len(self.lrs))))
        self.losses.append(loss)
        sm = smooth(np.asarray(self.losses))
        if len(self.lrs) >= self.num_steps or (len(sm) > 5 and (not np.isfinite(sm[-1]) or sm[-1] > self.diverge * sm.min())):
            trainer.should_stop = True


def range_test_schedule(num_steps: int, start: float, end: float) -> Callable[[int, int, int], float]:
    """A :class:`~transferkit.training.Trainer` schedule for the range test (ignores the run's length)."""

    def schedule(step: int, _total: int, _warmup: int) -> float:
        return exponential_factor(step, num_steps, start, end)

    return schedule


def range_test_summary(recorder: LRRangeRecorder, base_lr: float) -> dict[str, Any]:
    lrs, losses = np.asarray(recorder.lrs), np.asarray(recorder.losses)
    return {"lrs": lrs.tolist(), "losses": losses.tolist(), "smoothed": smooth(losses).tolist(),
            "suggested_lr": suggest_lr(lrs, losses), "base_lr": base_lr}
