"""Transfer strategies as parameter objects: ``TransferClassifier(strategy=LinearProbe())``."""

from ._augment import Augment, parse_augment
from ._auto import AutoModel, AutoStrategy, BaselineModel, parse_budget
from ._base import FitContext, Strategy, TransferModel
from ._distill import Distill
from ._finetune import FullFineTune, NetModel, default_epochs, describe_fit, describe_training
from ._lora import LoRA, LoraNetModel, default_lora_targets
from ._lpft import LPFT, probe_head_weights
from ._partial import GradualUnfreeze, PartialFreeze
from ._probe import LinearProbe, ProbeModel, default_head

#: CLI names -> strategy classes.
STRATEGIES: dict[str, type[Strategy]] = {
    cls.cli_name: cls for cls in (AutoStrategy, LinearProbe, FullFineTune, PartialFreeze, GradualUnfreeze, LPFT, LoRA,
                                  Distill)
}


def check_strategy_name(name: str) -> str:
    """``name`` if it names a strategy (``linear``, ``finetune``, ... :data:`STRATEGIES`); else
    :class:`~transferkit.errors.StrategyError` listing the names."""
    from ..errors import StrategyError

    if name not in STRATEGIES:
        raise StrategyError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}")
    return name


__all__ = [
    "STRATEGIES",
    "check_strategy_name",
    "Augment",
    "AutoModel",
    "AutoStrategy",
    "BaselineModel",
    "Distill",
    "parse_budget",
    "parse_augment",
    "FitContext",
    "FullFineTune",
    "GradualUnfreeze",
    "LPFT",
    "LinearProbe",
    "LoRA",
    "LoraNetModel",
    "NetModel",
    "PartialFreeze",
    "ProbeModel",
    "Strategy",
    "TransferModel",
    "default_epochs",
    "default_head",
    "default_lora_targets",
    "describe_fit",
    "describe_training",
    "probe_head_weights",
]
