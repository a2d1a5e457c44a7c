"""Deep domain adaptation as loss terms of the one training loop.

A term is called once per step as ``term(step) -> scalar``; it sets ``needs_features = True`` so the
loop hands it ``step.features`` (the backbone features of the batch) and reads ``step.domain``
(``sample_domain`` of the batch: positive = source, negative = target). A batch with fewer than two
rows of either domain contributes nothing (the alignment needs both).
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import StrategyError
from ..training import Step
from ._deep_losses import coral_loss, dann_lambda, gradient_reversal, mk_mmd

__all__ = ["CORALTerm", "DANNTerm", "DomainDiscriminator", "MMDTerm"]


def _split(step: Step) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Source and target features of the batch, or None when one domain has fewer than two rows."""
    if step.features is None or step.domain is None:
        raise StrategyError("a domain-alignment term needs the batch features and sample_domain; train with "
                            "DeepDA, whose loader adds the domain of every row")
    src, tgt = step.features[step.domain > 0], step.features[step.domain < 0]
    if len(src) < 2 or len(tgt) < 2:
        return None
    return src, tgt


def _zero(step: Step) -> torch.Tensor:
    return step.logits.sum() * 0.0  # keeps the graph (and the device) of the batch


class DomainDiscriminator(nn.Sequential):
    """The domain classifier of DANN: an MLP from features to one logit (target vs source).

    Two hidden layers with ReLU and dropout, as in Ganin et al. (JMLR 2016) for their larger benchmarks.
    """

    def __init__(self, in_features: int, hidden: int = 256, dropout: float = 0.5) -> None:
        super().__init__(
            nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )


class DANNTerm(nn.Module):
    """Domain-adversarial loss (Ganin et al., JMLR 2016): ``weight * BCE(D(GRL(f)), is_target)``.

    The discriminator ``D`` learns to tell target rows from source rows; the gradient reversal layer
    hands the features the negated gradient times ``lambda_p = dann_lambda(step.progress)``, so they
    learn to fool it. The term is a module: its discriminator's parameters must be given to the
    optimiser (:class:`~transferkit.adaptation.DeepDA` does).

    Parameters
    ----------
    in_features : int
        Width of the features.
    weight : float, default=1.0
        Weight of the domain loss in the total loss.
    hidden : int, default=256
        Width of the discriminator's hidden layers.
    gamma : float, default=10.0
        Steepness of the schedule; ``schedule=False`` uses ``lambda = 1`` throughout.
    """

    needs_features = True

    def __init__(self, in_features: int, *, weight: float = 1.0, hidden: int = 256, gamma: float = 10.0,
                 schedule: bool = True) -> None:
        super().__init__()
        self.discriminator = DomainDiscriminator(in_features, hidden)
        self.weight = weight
        self.gamma = gamma
        self.schedule = schedule
        self.last_lambda = 0.0

    def forward(self, step: Step) -> torch.Tensor:
        if step.features is None or step.domain is None:
            _split(step)  # raises the explanatory error
        assert step.features is not None and step.domain is not None
        is_target = (step.domain < 0).float()
        if bool(is_target.all()) or not bool(is_target.any()):
            return _zero(step)
        self.last_lambda = dann_lambda(step.progress, self.gamma) if self.schedule else 1.0
        logit = self.discriminator(gradient_reversal(step.features, self.last_lambda)).squeeze(1)
        return self.weight * nn.functional.binary_cross_entropy_with_logits(logit, is_target)


class MMDTerm:
    """DAN's multi-kernel MMD between the batch's source and target features (Long et al., ICML 2015).

    Parameters
    ----------
    weight : float, default=1.0
    n_kernels : int, default=5
        Gaussian kernels at widths ``median * multiplier**k`` around the batch's median distance.
    multiplier : float, default=2.0
    """

    needs_features = True

    def __init__(self, *, weight: float = 1.0, n_kernels: int = 5, multiplier: float = 2.0) -> None:
        self.weight = weight
        self.n_kernels = n_kernels
        self.multiplier = multiplier

    def __call__(self, step: Step) -> torch.Tensor:
        parts = _split(step)
        if parts is None:
            return _zero(step)
        return self.weight * mk_mmd(*parts, n_kernels=self.n_kernels, multiplier=self.multiplier)


class CORALTerm:
    """Deep CORAL (Sun & Saenko, ECCV 2016 workshops): covariance distance of source and target features.

    Parameters
    ----------
    weight : float, default=1.0
    """

    needs_features = True

    def __init__(self, *, weight: float = 1.0) -> None:
        self.weight = weight

    def __call__(self, step: Step) -> torch.Tensor:
        parts = _split(step)
        if parts is None:
            return _zero(step)
        return self.weight * coral_loss(*parts)
