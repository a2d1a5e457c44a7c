"""Feature selection on extracted features: chi2, ANOVA F, RFE and model importance as pipeline steps,
with the number of features kept chosen by cross-validation, and a comparison of their effect on
accuracy and prediction speed."""

from ._compare import ALL, SelectorComparison, compare_selectors
from ._rankings import METHODS, check_method, check_non_negative
from ._report import compare_on_data, selection_report
from ._selector import CVFeatureSelector, candidate_sizes

__all__ = [
    "ALL",
    "METHODS",
    "CVFeatureSelector",
    "SelectorComparison",
    "candidate_sizes",
    "check_method",
    "check_non_negative",
    "compare_on_data",
    "compare_selectors",
    "selection_report",
]
