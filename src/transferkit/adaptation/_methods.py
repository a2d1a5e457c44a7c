"""Adaptation methods by name: what ``DomainAdaptClassifier(method="coral")`` and the CLI build."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import DataError
from ._deep import DEEP_METHODS, DeepDA
from ._estimators import (
    CORALAdapter,
    DiscriminatorReweighter,
    KLIEPReweighter,
    KMMReweighter,
    SubspaceAlignmentAdapter,
    TCAAdapter,
)
from ._tradaboost import TrAdaBoostClassifier

__all__ = ["METHODS", "METHOD_DESCRIPTIONS", "SOURCE_ONLY", "default_candidates", "make_method"]

#: The no-adaptation baseline: a classifier trained on the source rows alone.
SOURCE_ONLY = "source-only"


def _deep(name: str) -> Callable[[int], Any]:
    return lambda d: DeepDA(method=name)


METHODS: dict[str, Callable[[int], Any]] = {
    SOURCE_ONLY: lambda d: None,
    "coral": lambda d: CORALAdapter(),
    # as many components as the data allows, up to 32: a fixed 32 failed on fewer target rows than that
    "sa": lambda d: SubspaceAlignmentAdapter(n_components=None),
    "tca": lambda d: TCAAdapter(n_components=None),
    "kmm": lambda d: KMMReweighter(),
    "kliep": lambda d: KLIEPReweighter(),
    "discriminator": lambda d: DiscriminatorReweighter(),
    "tradaboost": lambda d: TrAdaBoostClassifier(),
    # the deep methods under DeepDA's own names: DeepDA(method="deep-coral") is DomainAdaptClassifier's
    **{name: _deep(name) for name in DEEP_METHODS},
}

METHOD_DESCRIPTIONS = {
    SOURCE_ONLY: "no adaptation: logistic regression on the source features",
    "coral": "CORAL: source features recoloured with the target covariance (Sun et al., AAAI 2016)",
    "sa": "subspace alignment of the PCA bases (Fernando et al., ICCV 2013)",
    "tca": "transfer component analysis (Pan et al., IEEE TNN 2011)",
    "kmm": "kernel mean matching source weights (Huang et al., NIPS 2006)",
    "kliep": "KLIEP source weights (Sugiyama et al., NIPS 2007)",
    "discriminator": "domain-classifier density-ratio weights (Bickel et al., ICML 2007)",
    "tradaboost": "TrAdaBoost with the labelled target rows (Dai et al., ICML 2007)",
    "dann": "domain-adversarial training, gradient reversal (Ganin et al., JMLR 2016)",
    "mmd": "multi-kernel MMD on the bottleneck features (DAN, Long et al., ICML 2015)",
    "deep-coral": "Deep CORAL loss on the bottleneck features (Sun & Saenko, ECCV-W 2016)",
}

#: Methods that need a few labelled target rows.
NEEDS_TARGET_LABELS = frozenset({"tradaboost"})


def make_method(name: str, n_features: int) -> Any:
    """The component (adapter, reweighter, TrAdaBoost, DeepDA or None) that the method name stands for."""
    if name not in METHODS:
        raise DataError(f"unknown adaptation method {name!r}; choose from: {', '.join(METHODS)}, auto")
    return METHODS[name](n_features)


def default_candidates(has_target_labels: bool) -> list[str]:
    """Every method that applies: TrAdaBoost only when some target rows are labelled."""
    return [m for m in METHODS if has_target_labels or m not in NEEDS_TARGET_LABELS]
