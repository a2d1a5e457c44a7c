"""The maths of deep domain adaptation as pure, typed torch functions.

- :func:`gradient_reversal` and :func:`dann_lambda`: DANN's gradient reversal layer and its schedule;
- :func:`mk_mmd`: DAN's multi-kernel maximum mean discrepancy between two batches of features;
- :func:`coral_loss`: Deep CORAL's distance between the two batches' feature covariances.

The loss-term classes in :mod:`._deep_terms` are thin wrappers that pick the source and target rows of a
batch and call these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["coral_loss", "dann_lambda", "gradient_reversal", "mk_mmd", "multi_bandwidths"]


class _ReverseGradient(torch.autograd.Function):
    """Identity forward; the backward pass multiplies the incoming gradient by ``-coeff``."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, coeff: float) -> torch.Tensor:
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.coeff * grad, None


def gradient_reversal(x: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
    """The gradient reversal layer (Ganin & Lempitsky, ICML 2015; Ganin et al., JMLR 2016).

    Returns ``x`` unchanged; gradients flowing back through it are multiplied by ``-coeff``, so a
    feature extractor below it is trained to *increase* the loss of a domain discriminator above it.

    Examples
    --------
    >>> x = torch.ones(3, requires_grad=True)
    >>> gradient_reversal(x, 0.5).sum().backward()
    >>> x.grad.tolist()
    [-0.5, -0.5, -0.5]
    """
    out: torch.Tensor = _ReverseGradient.apply(x, float(coeff))
    return out


def dann_lambda(progress: float, gamma: float = 10.0) -> float:
    """DANN's adaptation schedule ``2 / (1 + exp(-gamma p)) - 1`` for training progress ``p`` in [0, 1].

    Ganin et al., "Domain-Adversarial Training of Neural Networks", JMLR 17, 2016 (section 5.2.2): the
    coefficient grows from 0 to about 1, which keeps the noisy discriminator signal of the first steps
    away from the features.

    Examples
    --------
    >>> dann_lambda(0.0), round(dann_lambda(1.0), 4)
    (0.0, 0.9999)
    """
    p = min(max(float(progress), 0.0), 1.0)
    return 2.0 / (1.0 + math.exp(-gamma * p)) - 1.0


def _pairwise_sq(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.cdist(a, b, p=2.0).pow(2)


def multi_bandwidths(pooled: torch.Tensor, n_kernels: int = 5, multiplier: float = 2.0) -> list[float]:
    """Gaussian kernel widths ``sigma * multiplier**k`` centred (in log scale) on the median heuristic.

    ``sigma`` is the median pairwise distance of the pooled rows (Gretton et al., JMLR 2012), computed
    without gradients; 1.0 if all rows coincide.
    """
    with torch.no_grad():
        d = torch.pdist(pooled.detach().float())
        d = d[d > 0]
        sigma = float(d.median()) if d.numel() else 1.0
    half = (n_kernels - 1) / 2.0
    return [sigma * multiplier ** (k - half) for k in range(n_kernels)]


def mk_mmd(
    source: torch.Tensor,
    target: torch.Tensor,
    *,
    bandwidths: Sequence[float] | None = None,
    n_kernels: int = 5,
    multiplier: float = 2.0,
) -> torch.Tensor:
    """Squared multi-kernel MMD between two batches of features (biased V-statistic).

    Long, Cao, Wang & Jordan, "Learning Transferable Features with Deep Adaptation Networks", ICML 2015:
    the kernel is an equal-weight sum of Gaussian kernels ``exp(-||a - b||^2 / (2 sigma_k^2))`` at
    several widths (by default 5, a factor 2 apart around the median distance), and the loss is
    ``mean k(s, s') + mean k(t, t') - 2 mean k(s, t)`` averaged over the kernels. The V-statistic is
    never negative and exactly 0 for identical batches.

    Parameters
    ----------
    source, target : Tensor of shape (n_source, d) and (n_target, d)
    bandwidths : sequence of float, optional
        Kernel widths ``sigma_k``; None uses :func:`multi_bandwidths` on the pooled rows.
    n_kernels, multiplier : int, float
        Number of widths and their ratio when ``bandwidths`` is None.

    Examples
    --------
    >>> x = torch.randn(20, 3, generator=torch.Generator().manual_seed(0))
    >>> float(mk_mmd(x, x)) == 0.0, float(mk_mmd(x, x + 3)) > 0.1
    (True, True)
    """
    if source.ndim != 2 or target.ndim != 2 or source.shape[1] != target.shape[1]:
        raise ValueError(f"mk_mmd needs two 2-D batches of the same width, got {tuple(source.shape)} and "
                         f"{tuple(target.shape)}")
    widths = list(bandwidths) if bandwidths is not None else multi_bandwidths(
        torch.cat([source, target]), n_kernels, multiplier)
    d_ss, d_tt, d_st = _pairwise_sq(source, source), _pairwise_sq(target, target), _pairwise_sq(source, target)
    total = source.new_zeros(())
    for sigma in widths:
        g = 1.0 / (2.0 * sigma**2)
        total = total + torch.exp(-g * d_ss).mean() + torch.exp(-g * d_tt).mean() - 2 * torch.exp(-g * d_st).mean()
    return (total / len(widths)).clamp(min=0.0)


def coral_loss(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Deep CORAL loss ``||C_s - C_t||_F^2 / (4 d^2)`` between the feature covariances of two batches.

    Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation", ECCV 2016 workshops,
    equation (1), with the unbiased covariances of equation (2). The same quantity as
    :func:`transferkit.selection.coral_distance`, differentiable.

    Examples
    --------
    >>> s = torch.tensor([[0.0], [2.0]])
    >>> float(coral_loss(s, 2 * s))  # variances 2 and 8: (8 - 2)^2 / 4
    9.0
    """
    if source.ndim != 2 or target.ndim != 2 or source.shape[1] != target.shape[1]:
        raise ValueError(f"coral_loss needs two 2-D batches of the same width, got {tuple(source.shape)} and "
                         f"{tuple(target.shape)}")
    d = source.shape[1]

    def cov(x: torch.Tensor) -> torch.Tensor:
        xc = x - x.mean(dim=0, keepdim=True)
        return xc.T @ xc / max(x.shape[0] - 1, 1)

    return (cov(source) - cov(target)).pow(2).sum() / (4.0 * d * d)
