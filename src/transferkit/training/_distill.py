"""Knowledge distillation (Hinton, Vinyals & Dean, "Distilling the knowledge in a neural network", 2015):
the student's loss mixes cross-entropy on the labels with the divergence from a teacher's softened
probabilities.

Training targets carry both: a row of ``2 * n_classes`` numbers, the label one-hot then the teacher's
probabilities at the temperature (:func:`distillation_targets`), so the loop's batches, shuffling, sharding
and checkpoints need nothing new; validation batches keep plain labels and plain cross-entropy.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._loop import LossFn, weighted_cross_entropy

#: Smallest probability read from a teacher before its logarithm (a teacher may say exactly 0).
_FLOOR = 1e-12


def soften(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities ``proba`` (rows summing to 1) at ``temperature``: ``softmax(log(p) / T)``, the
    softmax of the teacher's logits divided by ``T`` (logits are ``log p`` up to a per-row constant). ``T > 1``
    spreads the mass over the classes the teacher finds similar; ``T = 1`` returns ``proba``."""
    logits = np.log(np.clip(np.asarray(proba, dtype=np.float64), _FLOOR, None)) / float(temperature)
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=1, keepdims=True)


def distillation_targets(y: np.ndarray, teacher_proba: np.ndarray, temperature: float) -> np.ndarray:
    """Training targets for :func:`distillation_loss`: per row, the one-hot of the class index ``y`` then
    ``teacher_proba`` softened at ``temperature`` (float32, shape ``(n, 2 * n_classes)``)."""
    n, k = teacher_proba.shape
    hard = np.zeros((n, k), dtype=np.float32)
    hard[np.arange(n), np.asarray(y, dtype=np.int64)] = 1.0
    return np.hstack([hard, soften(teacher_proba, temperature).astype(np.float32)])


def distillation_loss(n_classes: int, *, alpha: float, temperature: float, label_smoothing: float = 0.0) -> LossFn:
    """``alpha * CE(student, label) + (1 - alpha) * T**2 * KL(teacher_T || student_T)`` per row, averaged
    with the sample weights.

    ``student_T`` is the softmax of the student's logits over ``T``; the ``T**2`` keeps the soft term's
    gradients on the scale of the hard term's as ``T`` grows (Hinton et al.). Targets of width ``2 * n_classes``
    are :func:`distillation_targets`; plain class indices (validation batches) get the cross-entropy alone.
    """
    plain = weighted_cross_entropy(label_smoothing)

    def loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        if targets.ndim != 2 or targets.shape[1] != 2 * n_classes:
            return plain(logits, targets, weights)
        hard, soft = targets[:, :n_classes], targets[:, n_classes:]
        per = alpha * nn.functional.cross_entropy(logits, hard, reduction="none", label_smoothing=label_smoothing)
        if alpha < 1:
            log_student = nn.functional.log_softmax(logits / temperature, dim=1)
            kl = (soft * (torch.log(soft.clamp(min=_FLOOR)) - log_student)).sum(dim=1)
            per = per + (1 - alpha) * temperature**2 * kl
        return per.mean() if weights is None else (per * weights).sum() / weights.sum().clamp(min=1e-12)

    return loss
