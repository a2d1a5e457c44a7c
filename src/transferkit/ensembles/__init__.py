"""Ensembles over transfer models via scikit-learn: soft voting and stacking across backbones,
strategies and the no-transfer baseline; bagging and boosting of heads on cached features."""

from ._compare import EnsembleComparison, compare_ensemble, ensemble_report
from ._ensemble import METHODS, TransferEnsemble, build_members
from ._members import BASELINE_SPEC, EnsembleError, NamedMember, member_estimator, split_spec

__all__ = [
    "BASELINE_SPEC",
    "METHODS",
    "EnsembleComparison",
    "EnsembleError",
    "NamedMember",
    "TransferEnsemble",
    "build_members",
    "compare_ensemble",
    "ensemble_report",
    "member_estimator",
    "split_spec",
]
