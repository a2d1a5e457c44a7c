"""Multi-task learning by hard parameter sharing (Caruana, "Multitask learning", Machine Learning 1997): one
backbone shared by every task, and one linear head per task.

The heads are the row blocks of one linear layer: its ``sum(sizes)`` outputs are the tasks' logits side by
side (task ``t`` owns the columns of :func:`task_slices`), which is exactly a separate linear head per task.
Targets are one column of class indices per task, :data:`~transferkit.training.UNLABELED` where a row has no
label for that task, so tasks labelled on different rows train together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ._loop import LossFn, Metrics, classification_metrics, weighted_cross_entropy


def task_slices(sizes: Sequence[int]) -> list[slice]:
    """The logit columns of each task: task ``t`` owns ``sizes[t]`` columns after those of tasks ``0..t-1``."""
    ends = np.cumsum([0, *sizes])
    return [slice(int(a), int(b)) for a, b in zip(ends[:-1], ends[1:], strict=True)]


def _task_weights(sizes: Sequence[int], task_weights: Sequence[float] | None) -> list[float]:
    return [1.0] * len(sizes) if task_weights is None else [float(w) for w in task_weights]


def multitask_cross_entropy(sizes: Sequence[int], label_smoothing: float = 0.0,
                            task_weights: Sequence[float] | None = None) -> LossFn:
    """The training loss of a multi-task network: each task's cross-entropy over the rows labelled for it (the
    single-task :func:`~transferkit.training.weighted_cross_entropy` on the task's columns, per-row weighted),
    combined as ``sum_t w_t * loss_t / sum_t w_t`` with ``task_weights`` (default: all 1). A task without a
    labelled row in the batch adds 0 (as an unlabelled row does in single-task training), so the scale of the
    loss does not depend on which tasks a batch holds."""
    slices, tw = task_slices(sizes), _task_weights(sizes, task_weights)
    one_task = weighted_cross_entropy(label_smoothing)

    def loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        per_task = [w * one_task(logits[:, cols], targets[:, t], weights)
                    for t, (cols, w) in enumerate(zip(slices, tw, strict=True))]
        return torch.stack(per_task).sum() / sum(tw)

    return loss


def multitask_probabilities(logits: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Each task's softmax over its own columns of ``logits``, side by side (each block's rows sum to 1)."""
    out = np.empty(logits.shape, dtype=np.float64)
    for cols in task_slices(sizes):
        block = torch.from_numpy(np.ascontiguousarray(logits[:, cols])).double()
        out[:, cols] = torch.softmax(block, dim=1).numpy()
    return out


def multitask_metrics(sizes: Sequence[int], names: Sequence[str], task_weights: Sequence[float] | None = None) -> Metrics:
    """Validation metrics of a multi-task network: each task's :func:`~transferkit.training.classification_metrics`
    on the rows labelled for it, as ``val_accuracy[<task>]`` and ``val_f1[<task>]``; ``val_accuracy`` and
    ``val_f1`` (macro) their means over tasks; ``val_loss`` the tasks' losses combined as in training (see
    :func:`multitask_cross_entropy`; early stopping watches it)."""
    slices, tw = task_slices(sizes), _task_weights(sizes, task_weights)

    def metrics(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        loss, per, accs, f1s = 0.0, {}, [], []
        for t, (name, cols, w) in enumerate(zip(names, slices, tw, strict=True)):
            labelled = targets[:, t] >= 0
            if not bool(labelled.any()):
                continue
            m = classification_metrics(logits[labelled, cols], targets[labelled, t])
            loss += w * m["val_loss"]
            accs.append(m["val_accuracy"])
            f1s.append(m["val_f1"])
            per[f"val_accuracy[{name}]"], per[f"val_f1[{name}]"] = m["val_accuracy"], m["val_f1"]
        nan = float("nan")
        return {"val_loss": loss / sum(tw), "val_accuracy": float(np.mean(accs)) if accs else nan,
                "val_f1": float(np.mean(f1s)) if f1s else nan, **per}

    return metrics
