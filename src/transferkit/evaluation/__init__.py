"""Evaluation against a no-transfer baseline, metrics, and HTML reports."""

from ._baselines import BASELINE_DESCRIPTIONS, PixelFeatures, make_baseline
from ._evaluate import BASELINE, EvaluationResult, Gain, ModelResult, evaluate
from ._metrics import classification_metrics, corrected_resampled_ci, mean_ci, paired_bootstrap_ci
from ._probabilistic import binary_curves, probability_metrics, reliability
from ._report import Report, add_data_summary, add_evaluation, evaluation_report

__all__ = [
    "BASELINE",
    "BASELINE_DESCRIPTIONS",
    "EvaluationResult",
    "Gain",
    "ModelResult",
    "PixelFeatures",
    "Report",
    "add_data_summary",
    "add_evaluation",
    "binary_curves",
    "classification_metrics",
    "corrected_resampled_ci",
    "evaluate",
    "evaluation_report",
    "make_baseline",
    "mean_ci",
    "paired_bootstrap_ci",
    "probability_metrics",
    "reliability",
]
