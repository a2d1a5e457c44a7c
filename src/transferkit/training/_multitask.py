"""Multi-task learning by hard parameter sharing (Caruana, "Multitask learning", Machine Learning 1997): one
backbone shared by every task, and one linear head per task.

The heads are the row blocks of one linear layer: its ``sum(sizes)`` outputs are the tasks' logits side by
side (task ``t`` owns the columns of :func:`task_slices`), which is exactly a separate linear head per task.
Targets are one column of class indices per task, :data:`~transferkit.training.UNLABELED` where a row has no
label for that task, so tasks labelled on different rows train together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ._loop import LossFn

#: ``metrics(logits, targets) -> {"val_loss": ..., "val_accuracy": ..., ...}`` over a whole validation set.
Metrics = Callable[[torch.Tensor, torch.Tensor], dict[str, float]]


def task_slices(sizes: Sequence[int]) -> list[slice]:
    """The logit columns of each task: task ``t`` owns ``sizes[t]`` columns after those of tasks ``0..t-1``."""
    ends = np.cumsum([0, *sizes])
    return [slice(int(a), int(b)) for a, b in zip(ends[:-1], ends[1:], strict=True)]


def _task_weights(sizes: Sequence[int], task_weights: Sequence[float] | None) -> list[float]:
    return [1.0] * len(sizes) if task_weights is None else [float(w) for w in task_weights]


def task_losses(logits: torch.Tensor, targets: torch.Tensor, sizes: Sequence[int], weights: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> list[torch.Tensor | None]:
    """Each task's cross-entropy over the rows labelled for it (weighted mean with per-row ``weights``);
    None for a task with no labelled row among ``targets``."""
    out: list[torch.Tensor | None] = []
    for t, cols in enumerate(task_slices(sizes)):
        labelled = targets[:, t] >= 0
        if not bool(labelled.any()):
            out.append(None)
            continue
        per = nn.functional.cross_entropy(logits[labelled, cols], targets[labelled, t], reduction="none",
                                          label_smoothing=label_smoothing)
        if weights is None:
            out.append(per.mean())
        else:
            w = weights[labelled]
            out.append((per * w).sum() / w.sum().clamp(min=1e-12))
    return out


def combine(losses: Sequence[torch.Tensor | None], weights: Sequence[float], like: torch.Tensor) -> torch.Tensor:
    """``sum_t w_t * loss_t / sum_t w_t`` over all tasks; a task without labelled rows adds 0 (as an unlabelled
    row does in single-task training), so the scale of the loss does not depend on which tasks a batch holds."""
    total = like.sum() * 0.0  # keeps the graph when no task has a labelled row
    for loss, w in zip(losses, weights, strict=True):
        if loss is not None:
            total = total + w * loss
    return total / sum(weights)


def multitask_cross_entropy(sizes: Sequence[int], label_smoothing: float = 0.0,
                            task_weights: Sequence[float] | None = None) -> LossFn:
    """The training loss of a multi-task network: each task's (per-row weighted) cross-entropy over the rows
    labelled for it, combined by :func:`combine` with ``task_weights`` (default: all 1)."""
    sizes, tw = tuple(int(s) for s in sizes), _task_weights(sizes, task_weights)

    def loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        return combine(task_losses(logits, targets, sizes, weights, label_smoothing), tw, logits)

    return loss


def multitask_probabilities(logits: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Each task's softmax over its own columns of ``logits``, side by side (each block's rows sum to 1)."""
    out = np.empty(logits.shape, dtype=np.float64)
    for cols in task_slices(sizes):
        block = torch.from_numpy(np.ascontiguousarray(logits[:, cols])).double()
        out[:, cols] = torch.softmax(block, dim=1).numpy()
    return out


def multitask_metrics(sizes: Sequence[int], names: Sequence[str], task_weights: Sequence[float] | None = None) -> Metrics:
    """Validation metrics of a multi-task network: ``val_loss`` is the training loss's combination of the
    tasks' cross-entropies (early stopping watches it), ``val_accuracy`` and ``val_f1`` (macro) the means
    over tasks of each task's figure on the rows labelled for it, and ``val_accuracy[<task>]``,
    ``val_f1[<task>]`` each task's own."""
    from sklearn.metrics import f1_score

    sizes, tw = tuple(int(s) for s in sizes), _task_weights(sizes, task_weights)

    def metrics(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        losses = task_losses(logits, targets, sizes)
        out = {"val_loss": float(combine(losses, tw, logits))}
        per: dict[str, float] = {}
        accs, f1s = [], []
        for t, (name, cols) in enumerate(zip(names, task_slices(sizes), strict=True)):
            labelled = targets[:, t] >= 0
            if not bool(labelled.any()):
                continue
            truth = targets[labelled, t].cpu().numpy()
            pred = logits[labelled, cols].argmax(1).cpu().numpy()
            accs.append(float(np.mean(pred == truth)))
            f1s.append(float(f1_score(truth, pred, average="macro", zero_division=0)))
            per[f"val_accuracy[{name}]"], per[f"val_f1[{name}]"] = accs[-1], f1s[-1]
        out["val_accuracy"] = float(np.mean(accs)) if accs else float("nan")
        out["val_f1"] = float(np.mean(f1s)) if f1s else float("nan")
        return {**out, **per}

    return metrics
