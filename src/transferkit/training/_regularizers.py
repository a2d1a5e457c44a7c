"""Fine-tuning regularisers as loss terms for the one loop: L2-SP and batch spectral shrinkage."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._loop import Step


def l2_sp_penalty(params: Sequence[torch.Tensor], anchors: Sequence[torch.Tensor], alpha: float) -> torch.Tensor:
    """L2-SP (Li, Grandvalet & Davoine, "Explicit inductive bias for transfer learning with convolutional
    networks", ICML 2018): ``alpha / 2 * sum ||w - w0||^2`` pulls weights toward the pretrained ``w0``.

    >>> w = [torch.tensor([1.0, 2.0])]; round(float(l2_sp_penalty(w, [torch.zeros(2)], 0.5)), 4)
    1.25
    """
    if len(params) != len(anchors):
        raise ValueError(f"{len(params)} parameters but {len(anchors)} anchors")
    total = sum(((p - a) ** 2).sum() for p, a in zip(params, anchors, strict=True))
    return 0.5 * alpha * torch.as_tensor(total)


def bss_penalty(features: torch.Tensor, eta: float, k: int = 1) -> torch.Tensor:
    """Batch spectral shrinkage (Chen et al., "Catastrophic forgetting meets negative transfer", NeurIPS
    2019): ``eta * sum of the k smallest squared singular values`` of the batch feature matrix, which
    suppresses the spectral components that fine-tuning cannot transfer.

    >>> f = torch.diag(torch.tensor([3.0, 2.0, 0.5])); round(float(bss_penalty(f, 1.0, k=1)), 4)
    0.25
    """
    if features.ndim != 2:
        raise ValueError(f"features must be 2-D (batch, dim), got shape {tuple(features.shape)}")
    sv = torch.linalg.svdvals(features.float())
    k = max(0, min(k, sv.numel()))
    return eta * (sv[sv.numel() - k:] ** 2).sum()


class L2SPTerm:
    """Loss term: L2-SP toward the weights ``module`` has when the term is made (the pretrained ones).

    Only parameters that train at that moment are anchored; frozen ones cannot move anyway.
    """

    def __init__(self, module: nn.Module, alpha: float) -> None:
        self.alpha = alpha
        self.names = [n for n, p in module.named_parameters() if p.requires_grad]
        self.anchors = [p.detach().clone() for _, p in module.named_parameters() if p.requires_grad]
        self.module_name = "backbone"

    def __call__(self, step: Step) -> torch.Tensor:
        module = getattr(step.model, self.module_name)
        named = dict(module.named_parameters())
        params = [named[n] for n in self.names]
        anchors = [a.to(p.device) for a, p in zip(self.anchors, params, strict=True)]
        return l2_sp_penalty(params, anchors, self.alpha)


class BSSTerm:
    """Loss term: batch spectral shrinkage on the backbone features of each batch."""

    needs_features = True

    def __init__(self, eta: float, k: int = 1) -> None:
        self.eta, self.k = eta, k

    def __call__(self, step: Step) -> torch.Tensor:
        assert step.features is not None
        return bss_penalty(step.features, self.eta, self.k)
