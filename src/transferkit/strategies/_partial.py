"""Freezing strategies: a fixed frozen prefix (PartialFreeze) and a schedule (GradualUnfreeze)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..backbones import TransferNet
from ..errors import StrategyError
from ._base import Number, Rule, check_params
from ._finetune import FullFineTune

#: What the parameters :class:`PartialFreeze` and :class:`GradualUnfreeze` add accept.
PARTIAL_PARAMS: dict[str, Rule] = {
    "n_frozen": Number(low=0, integer=True, optional=True),
    "n_trainable": Number(low=0, integer=True, optional=True),
}
GRADUAL_PARAMS: dict[str, Rule] = {"unfreeze_every": Number(low=1, integer=True)}


@dataclass(kw_only=True, repr=False, eq=False)
class PartialFreeze(FullFineTune):
    """Freeze the first ``n_frozen`` parameter groups of the backbone (input side), or all but the last
    ``n_trainable``, and train the rest with a new head, through the same loop as :class:`FullFineTune`.
    With neither, the top half of the groups trains (``n_trainable = max(1, n_groups // 2)``, the partial
    candidate of ``strategy="auto"``), so ``strategy="partial"`` works by name.

    Frozen normalisation layers stay in eval mode, so their running statistics are not updated.
    Other parameters are those of :class:`FullFineTune`.

    Parameters
    ----------
    n_frozen : int >= 0, optional
        Number of leading groups to freeze (see ``Backbone.parameter_groups``).
    n_trainable : int >= 0, optional
        Number of trailing groups to train. At most one of the two may be given; neither trains the top
        half of the groups.
    """

    cli_name = "partial"

    n_frozen: int | None = None
    n_trainable: int | None = None

    def _check(self) -> None:
        super()._check()
        self._check_counts()

    def _check_counts(self) -> None:
        check_params(self, PARTIAL_PARAMS)
        if self.n_frozen is not None and self.n_trainable is not None:
            raise StrategyError("PartialFreeze takes at most one of n_frozen and n_trainable (neither trains the "
                                "top half of the groups)")

    def frozen_count(self, n_groups: int, backbone_name: str) -> int:
        """How many leading groups to freeze, checked against the backbone's group count."""
        self._check_counts()
        if self.n_frozen is None and self.n_trainable is None:
            return n_groups - max(1, n_groups // 2)
        wanted = self.n_frozen if self.n_frozen is not None else self.n_trainable
        assert wanted is not None
        if wanted > n_groups:
            raise StrategyError(f"backbone {backbone_name!r} has {n_groups} parameter groups; cannot "
                                f"{'freeze' if self.n_frozen is not None else 'train'} {wanted}")
        return wanted if self.n_frozen is not None else n_groups - wanted

    def prepare(self, net: TransferNet, backbone_name: str) -> None:
        groups = net.backbone.parameter_groups()
        for group in groups[: self.frozen_count(len(groups), backbone_name)]:
            for p in group.params:
                p.requires_grad_(False)


@dataclass(kw_only=True, repr=False, eq=False)
class GradualUnfreeze(FullFineTune):
    """Gradual unfreezing (Howard & Ruder, ULMFiT, ACL 2018): train the head first, then unfreeze one
    more backbone group from the top every ``unfreeze_every`` epochs, with discriminative learning rates
    (``layer_decay``; ULMFiT uses 1/2.6).

    Freezing is a schedule of the parameter groups' learning rates (zero until a group's epoch) and of
    the optimiser state (a frozen group keeps no gradient, so AdamW neither steps it nor accumulates its
    moments), not a toggle of ``requires_grad``: every parameter is in the graph and the optimiser from
    the first step. A run resumed from a checkpoint therefore freezes exactly what the original run froze,
    and under DDP every process agrees on the set of parameters (unfreezing mid-run by toggling
    ``requires_grad`` breaks DDP's gradient buckets). Normalisation layers of groups still frozen stay in
    eval mode. Other parameters are those of :class:`FullFineTune`.

    Parameters
    ----------
    unfreeze_every : int >= 1, default=1
        Epochs between unfreezing one group and the next. The group ``k`` below the top trains from epoch
        ``(k + 1) * unfreeze_every``; groups whose epoch is never reached stay frozen.
    """

    cli_name = "gradual"

    layer_decay: float = 1 / 2.6
    unfreeze_every: int = 1

    def _check(self) -> None:
        super()._check()
        check_params(self, GRADUAL_PARAMS)

    def param_groups(self, net: TransferNet) -> list[dict[str, Any]]:
        groups = super().param_groups(net)
        for g in groups:
            g["unfreeze_epoch"] = 0 if g["depth"] < 0 else (g["depth"] + 1) * self.unfreeze_every
        return groups
