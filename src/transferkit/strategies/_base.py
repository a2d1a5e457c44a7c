"""Strategy parameter objects and the context they are fitted in.

A strategy is a scikit-learn ``BaseEstimator`` only for its ``get_params``/``set_params`` (so
``strategy__lr`` is grid-searchable and ``clone`` copies it); it is not fitted itself. Its
:meth:`Strategy.fit_transfer` returns a fitted :class:`TransferModel`, which the estimator keeps.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from sklearn.base import BaseEstimator

from ..backbones import Backbone
from ..errors import StrategyError
from ..features import FeatureExtractor, shared_backbone


@dataclass
class FitContext:
    """What a strategy needs from the estimator: how to get the backbone, and run settings."""

    backbone: str
    pretrained: bool = True
    image_size: int | None = None
    weights: str | None = None
    max_length: int | None = None
    in_features: int | None = None
    batch_size: int = 64
    cache: Any = True
    device: str = "auto"
    verbose: int = 0
    random_state: int = 0
    n_classes: int = 2
    #: The labels that the class indices a strategy sees stand for (the estimator's ``classes_``), if known.
    classes: np.ndarray | None = None
    #: The table columns' names, when the estimator was fitted on a DataFrame (its ``feature_names_in_``).
    feature_names: np.ndarray | None = None
    #: Multi-task fits (:class:`~transferkit.MultiTaskClassifier`): the number of classes of each task; then
    #: ``n_classes`` is their sum, the labels ``y`` have one column of class indices per task
    #: (:data:`~transferkit.training.UNLABELED` where a row has no label for it). None: one task.
    task_sizes: tuple[int, ...] | None = None
    task_names: tuple[str, ...] | None = None
    task_weights: tuple[float, ...] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def extractor(self) -> FeatureExtractor:
        return FeatureExtractor(
            backbone=self.backbone, pretrained=self.pretrained, image_size=self.image_size, weights=self.weights,
            max_length=self.max_length, batch_size=self.batch_size, cache=self.cache, device=self.device, progress=self.verbose > 0,
            random_state=self.random_state,
        )

    def trainable_backbone(self) -> Backbone:
        """A private, trainable copy of the backbone (the shared one stays frozen and untouched)."""
        bb = copy.deepcopy(self.shared_backbone())
        for p in bb.parameters():
            p.requires_grad_(True)
        if bb.source_head is not None:  # kept for LEEP, never trained
            for p in bb.source_head.parameters():
                p.requires_grad_(False)
        bb.reset_fingerprint()
        return bb

    def shared_backbone(self) -> Backbone:
        return shared_backbone(
            self.backbone, self.pretrained, self.image_size, self.weights, self.in_features, self.random_state,
            self.max_length,
        )


class TransferModel(Protocol):
    """A fitted transfer model: predicts class probabilities and saves itself without pickle."""

    kind: ClassVar[str]

    def predict_proba(self, X: Any) -> np.ndarray: ...

    def save(self, folder: Path) -> dict[str, Any]:
        """Write weight files into ``folder``; return JSON-ready config to store beside them."""
        ...

    def summary(self) -> dict[str, Any]: ...


class Strategy(BaseEstimator):
    """Base class of transfer strategies (parameter objects)."""

    #: Short name used by the CLI (``--strategy``) and in reports.
    cli_name: ClassVar[str] = ""
    #: Whether the strategy can fit several tasks at once, whatever its settings (which
    #: :meth:`check_multitask` then checks); a name alone is refused by it otherwise.
    fits_several_tasks: ClassVar[bool] = False

    def fit_transfer(
        self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> TransferModel:  # pragma: no cover - abstract
        raise NotImplementedError

    def load_model(self, folder: Path, config: dict[str, Any], ctx: FitContext) -> TransferModel:  # pragma: no cover
        raise NotImplementedError

    def check_multitask(self, ctx: FitContext) -> None:
        """Refuse, before any work, to fit several tasks at once (``ctx.task_sizes``) where this strategy or
        its settings cannot; strategies that can override it."""
        name = type(self).cli_name or type(self).__name__
        raise StrategyError(f"strategy {name!r} does not fit several tasks at once; use 'finetune', 'partial', "
                            "'gradual', 'lpft', 'lora' (one shared backbone trained for all tasks) or 'linear' "
                            "(one probe per task on the frozen features)")


# --- parameter checks --------------------------------------------------------------------------------------
# Strategies check their parameters in ``fit`` (the scikit-learn contract), each from one table of rules, so
# that every parameter gets the same treatment: bools are not numbers, NaN and infinities pass no range, an
# integer parameter refuses 1.5 instead of failing deep inside torch.


@dataclass(frozen=True)
class Number:
    """A numeric parameter: ``low``/``high`` bounds (None: unbounded), inclusive unless ``*_open``; ``integer``
    refuses fractions and floats; ``optional`` accepts None; ``text`` words the range when the generated
    wording would not do."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    optional: bool = False
    text: str = ""

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.optional
        numeric = (isinstance(value, int | np.integer) if self.integer
                   else isinstance(value, int | float | np.integer | np.floating))
        if isinstance(value, bool | np.bool_) or not numeric:
            return False
        x = float(value)
        if not math.isfinite(x):  # NaN would pass every "not below the bound" test
            return False
        if self.low is not None and (x < self.low or (self.low_open and x == self.low)):
            return False
        return self.high is None or not (x > self.high or (self.high_open and x == self.high))

    def describe(self) -> str:
        """The accepted values in words: "an integer >= 1", "a number in [0, 1)", "a finite number > 0"."""
        if self.text:
            what = self.text
        elif self.low is not None and self.high is not None:  # an interval says "finite" already
            what = (f"{'an integer' if self.integer else 'a number'} in {'(' if self.low_open else '['}"
                    f"{self.low:g}, {self.high:g}{')' if self.high_open else ']'}")
        else:
            bound = (f" {'>' if self.low_open else '>='} {self.low:g}" if self.low is not None else
                     f" {'<' if self.high_open else '<='} {self.high:g}" if self.high is not None else "")
            what = ("an integer" if self.integer else "a finite number") + bound
        return what + (" or None" if self.optional else "")


@dataclass(frozen=True)
class Flag:
    """A switch: True or False only (not 0/1, not "yes")."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool | np.bool_)

    def describe(self) -> str:
        return "True or False"


@dataclass(frozen=True)
class Choice:
    """One of a few fixed values."""

    values: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        return (value is None or isinstance(value, str)) and value in self.values

    def describe(self) -> str:
        shown = [repr(v) for v in self.values]
        return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


Rule = Number | Flag | Choice


def check_params(strategy: BaseEstimator, rules: Mapping[str, Rule]) -> None:
    """Raise a :class:`~transferkit.errors.StrategyError` naming the first parameter of ``strategy`` that
    its rule in ``rules`` refuses (``epochs must be an integer >= 1, got 1.5``)."""
    for name, rule in rules.items():
        value = getattr(strategy, name)
        if not rule.accepts(value):
            shown = value.item() if isinstance(value, np.generic) else value
            raise StrategyError(f"{name} must be {rule.describe()}, got {shown!r}")
