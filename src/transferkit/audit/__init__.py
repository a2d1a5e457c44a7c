"""Data audit: find what is wrong with a labelled dataset before training on it, and write a cleaned copy.

:func:`audit` reports missing values and labels, corrupt files, exact and near duplicates, labels that
contradict each other, leakage into a test set, class imbalance, outliers and likely label errors; each
:class:`Finding` lists the offending items with a reason. :func:`fix` writes a cleaned copy (never edits
the input) with a log of what was removed and why; :func:`add_audit` adds the findings to a report.
"""

from ._audit import DEFAULT_BACKBONES, audit
from ._findings import CHECKS, DEFAULT_DROP, AuditResult, Finding, Flag
from ._fix import FixOutcome, fix
from ._report import add_audit, audit_report

__all__ = [
    "CHECKS",
    "DEFAULT_BACKBONES",
    "DEFAULT_DROP",
    "AuditResult",
    "Finding",
    "FixOutcome",
    "Flag",
    "add_audit",
    "audit",
    "audit_report",
    "fix",
]
