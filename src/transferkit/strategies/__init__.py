"""Transfer strategies as parameter objects: ``TransferClassifier(strategy=LinearProbe())``."""

from ._base import FitContext, Strategy, TransferModel
from ._finetune import FullFineTune, NetModel, PartialFreeze
from ._probe import LinearProbe, ProbeModel, default_head

#: CLI names -> strategy classes.
STRATEGIES: dict[str, type[Strategy]] = {cls.cli_name: cls for cls in (LinearProbe, FullFineTune, PartialFreeze)}

__all__ = ["STRATEGIES", "FitContext", "FullFineTune", "LinearProbe", "NetModel", "PartialFreeze", "ProbeModel", "Strategy",
           "TransferModel", "default_head"]
